/*
 * A Task session driven by a watcher: a planner asks for a task, and a
 * worker that watches the session reacts to what its watcher delivers. When
 * the TaskRequest arrives it accepts the task, reports progress and
 * completes it; once the planner sees the TaskComplete, it commits.
 *
 * Every envelope is printed as the worker's watcher receives it, with its
 * payload decoded to JSON (`macp_envelope_payload_json`), and fed to a
 * projection whose state is printed at the end.
 *
 *   task [host:port]      (default: $MACP_TARGET, else 127.0.0.1:50051)
 *
 * agent.h says what the runtime must allow.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"

/* What the worker's watcher has seen, shared between its callback (on the
 * watcher's own thread) and the main thread. */
struct inbox {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    macp_projection *projection; /* fed every accepted envelope */
    char task_id[128];           /* from the TaskRequest, */
    int requested;               /* once it arrived */
    int completed;               /* a TaskComplete arrived */
    int committed;               /* the Commitment arrived */
};

/* The worker's watcher callback: print, project, and wake the main thread.
 * It returns quickly; the replies are sent from the main thread. */
static void on_event(const macp_event *ev, void *user_data) {
    struct inbox *in = user_data;
    if (ev->kind != MACP_EVENT_ENVELOPE) {
        printf("[worker watcher] %s\n", macp_event_kind_name(ev->kind));
        return;
    }
    const macp_envelope *e = &ev->envelope;
    macp_string *json = NULL; /* the payload as JSON, ours to free */
    macp_error *err = NULL;
    if (macp_envelope_payload_json(e, &json, &err) != MACP_STATUS_OK) {
        fprintf(stderr, "decoding %s: %s\n", e->message_type, macp_error_message(err));
        macp_error_free(err);
    }
    printf("[worker watcher] #%llu %-12s from %-8s %s\n", (unsigned long long)ev->sequence,
           e->message_type, e->sender, json ? macp_string_ptr(json) : "(not decoded)");
    if (macp_projection_apply(in->projection, ev->raw, ev->raw_len, &err) != MACP_STATUS_OK) {
        fprintf(stderr, "projecting %s: %s\n", e->message_id, macp_error_message(err));
        macp_error_free(err);
    }

    pthread_mutex_lock(&in->mu);
    if (strcmp(e->message_type, "TaskRequest") == 0 && json && !in->requested)
        in->requested = string_field(macp_string_ptr(json), "task_id", in->task_id, sizeof in->task_id);
    if (strcmp(e->message_type, "TaskComplete") == 0) in->completed = 1;
    if (strcmp(e->message_type, "Commitment") == 0) in->committed = 1;
    pthread_cond_broadcast(&in->changed);
    pthread_mutex_unlock(&in->mu);
    macp_string_free(json);
}

/* Wait until `*flag` (guarded by the inbox's mutex) is non-zero, for at
 * most 30 seconds. */
static void wait_for(struct inbox *in, const int *flag, const char *what) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&in->mu);
    while (!*flag)
        if (pthread_cond_timedwait(&in->changed, &in->mu, &deadline) != 0) break;
    int seen = *flag;
    pthread_mutex_unlock(&in->mu);
    if (!seen) {
        fprintf(stderr, "no %s within 30 s\n", what);
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *target = target_of(argc, argv);
    printf("libmacp %s, runtime at %s\n", macp_version(), target);
    macp_client *planner = connect_as(target, "planner");
    macp_client *worker = connect_as(target, "worker");
    macp_error *err = NULL;
    macp_ack ack;

    /* The planner starts a Task session with the worker. */
    macp_start_options *start = NULL;
    check(macp_start_options_new(&start, &err), &err, "macp_start_options_new");
    check(macp_start_options_set_intent(start, "summarize yesterday's logs", &err), &err, "set_intent");
    check(macp_start_options_add_participant(start, "worker", &err), &err, "add_participant");
    check(macp_start_options_set_ttl_ms(start, 60000, &err), &err, "set_ttl_ms");
    macp_session *s_planner = NULL;
    check(macp_session_start(planner, MACP_MODE_TASK, start, &s_planner, &ack, NULL, &err), &err, "macp_session_start");
    macp_start_options_free(start);
    printf("[planner] started %s session %s\n", MACP_MODE_TASK, macp_session_id(s_planner));

    /* The worker joins and watches the session from its first envelope. */
    struct inbox in;
    memset(&in, 0, sizeof in);
    pthread_mutex_init(&in.mu, NULL);
    pthread_cond_init(&in.changed, NULL);
    check(macp_projection_new(MACP_MODE_TASK, &in.projection, &err), &err, "macp_projection_new");
    macp_session *s_worker = NULL;
    check(macp_session_open(worker, macp_session_id(s_planner), &s_worker, NULL, &err), &err, "macp_session_open");
    macp_watcher *watcher = NULL;
    check(macp_session_watch(s_worker, 0, NULL, on_event, &in, &watcher, NULL, &err), &err, "macp_session_watch");

    /* The planner asks; the worker learns of it from its watcher only. */
    check(macp_task_request(s_planner, "logs-1", "Summarize the logs", "errors and warnings of yesterday", "worker",
                            NULL, 0, 0, &ack, NULL, &err),
          &err, "macp_task_request");
    wait_for(&in, &in.requested, "TaskRequest");
    char task_id[128];
    pthread_mutex_lock(&in.mu);
    snprintf(task_id, sizeof task_id, "%s", in.task_id);
    pthread_mutex_unlock(&in.mu);

    /* The worker takes the task, reports half-way progress, and completes
     * it with its output. */
    check(macp_task_accept(s_worker, task_id, "worker", "on it", &ack, NULL, &err), &err, "macp_task_accept");
    check(macp_task_update(s_worker, task_id, "in_progress", 0.5, "read 12 of 24 files", NULL, 0, &ack, NULL, &err), &err,
          "macp_task_update");
    const char output[] = "3 errors, 12 warnings";
    check(macp_task_complete(s_worker, task_id, "worker", (const uint8_t *)output, sizeof output - 1,
                             "done: 3 errors, 12 warnings", &ack, NULL, &err),
          &err, "macp_task_complete");

    /* The planner commits once the completion is in the session's history. */
    wait_for(&in, &in.completed, "TaskComplete");
    macp_commitment commitment = {0};
    commitment.action = "task.completed";
    commitment.authority_scope = "logs";
    commitment.reason = "the worker completed logs-1";
    commitment.outcome_positive = true;
    check(macp_session_commit(s_planner, &commitment, &ack, NULL, &err), &err, "macp_session_commit");
    printf("[planner] committed: session %s\n", macp_session_state_name(ack.session_state));
    wait_for(&in, &in.committed, "Commitment");
    int resolved = ack.session_state == MACP_SESSION_STATE_RESOLVED;

    /* Closing the watcher stops its callback; then the projection is ours. */
    macp_watcher_close(watcher);
    macp_string *state = NULL;
    check(macp_projection_state_json(in.projection, &state, &err), &err, "macp_projection_state_json");
    printf("[worker] projection: %s\n", macp_string_ptr(state));
    macp_string_free(state);

    macp_projection_free(in.projection);
    pthread_cond_destroy(&in.changed);
    pthread_mutex_destroy(&in.mu);
    macp_session_free(s_worker);
    macp_session_free(s_planner);
    macp_client_free(worker);
    macp_client_free(planner);
    return resolved ? 0 : 1;
}
