/*
 * Several Decision sessions served from one poll() loop, without callbacks:
 * the coordinator's watchers deliver into one macp_event_queue, whose file
 * descriptor the loop polls (a real program adds its own descriptors next to
 * it), and each accepted envelope drives that session's next step: alice
 * proposes, alice and bob vote, the coordinator commits. The program ends
 * when every session is RESOLVED.
 *
 *   poll [host:port]      (default: $MACP_TARGET, else 127.0.0.1:50051)
 *
 * Windows has no pollable descriptor for the queue: there the loop waits
 * with macp_event_queue_wait instead (the rest is the same).
 * agent.h says what the runtime must allow.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

#define SESSIONS 3

struct served {
    macp_session *coordinator, *alice, *bob;
    macp_watcher *watcher;
    int resolved;
};

/* Wait until the queue may have events: poll() on its descriptor, or
 * macp_event_queue_wait where there is none. Returns 0 after a minute of
 * nothing. */
static int wait_for_events(macp_event_queue *q) {
    macp_error *err = NULL;
#ifdef _WIN32
    bool ready = false;
    check(macp_event_queue_wait(q, 60000, &ready, &err), &err, "macp_event_queue_wait");
    return ready;
#else
    int fd = -1;
    check(macp_event_queue_fd(q, &fd, &err), &err, "macp_event_queue_fd");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 60000) == 1;
#endif
}

/* The next step of session `s` after it accepted `ev`. */
static void react(struct served *s, int i, const macp_event *ev) {
    macp_error *err = NULL;
    macp_ack ack;
    const char *type = ev->envelope.message_type, *sender = ev->envelope.sender;
    printf("[loop] session %d: #%llu %s from %s\n", i, (unsigned long long)ev->sequence, type, sender);
    if (strcmp(type, "SessionStart") == 0) {
        check(macp_decision_propose(s->alice, "p1", "postgres", "we know it", NULL, 0, &ack, NULL, &err), &err,
              "propose");
    } else if (strcmp(type, "Proposal") == 0) {
        check(macp_decision_vote(s->alice, "p1", "APPROVE", "best fit", &ack, NULL, &err), &err, "vote (alice)");
    } else if (strcmp(type, "Vote") == 0 && strcmp(sender, "alice") == 0) {
        check(macp_decision_vote(s->bob, "p1", "APPROVE", "agreed", &ack, NULL, &err), &err, "vote (bob)");
    } else if (strcmp(type, "Vote") == 0) {
        check(macp_decision_commit(s->coordinator, "decision.selected", "storage", "approved by both voters", true,
                                   &ack, NULL, &err),
              &err, "commit");
        s->resolved = ack.session_state == MACP_SESSION_STATE_RESOLVED;
        printf("[loop] session %d: %s\n", i, macp_session_state_name(ack.session_state));
    }
}

int main(int argc, char **argv) {
    const char *target = target_of(argc, argv);
    printf("libmacp %s, runtime at %s\n", macp_version(), target);
    macp_client *coordinator = connect_as(target, "coordinator");
    macp_client *alice = connect_as(target, "alice");
    macp_client *bob = connect_as(target, "bob");
    macp_error *err = NULL;

    macp_event_queue *queue = NULL;
    check(macp_event_queue_new(&queue, &err), &err, "macp_event_queue_new");

    struct served served[SESSIONS];
    memset(served, 0, sizeof served);
    for (int i = 0; i < SESSIONS; i++) {
        macp_start_options *start = NULL;
        check(macp_start_options_new(&start, &err), &err, "macp_start_options_new");
        check(macp_start_options_add_participant(start, "alice", &err), &err, "add_participant");
        check(macp_start_options_add_participant(start, "bob", &err), &err, "add_participant");
        check(macp_start_options_set_ttl_ms(start, 60000, &err), &err, "set_ttl_ms");
        check(macp_session_start(coordinator, MACP_MODE_DECISION, start, &served[i].coordinator, NULL, NULL, &err), &err,
              "macp_session_start");
        macp_start_options_free(start);
        const char *id = macp_session_id(served[i].coordinator);
        check(macp_session_open(alice, id, &served[i].alice, NULL, &err), &err, "open (alice)");
        check(macp_session_open(bob, id, &served[i].bob, NULL, &err), &err, "open (bob)");
        /* Tag i: each event says which session it belongs to. */
        check(macp_session_watch_queued(served[i].coordinator, 0, NULL, queue, (uint64_t)i, &served[i].watcher,
                                        NULL,
                                        &err),
              &err, "macp_session_watch_queued");
        printf("[coordinator] session %d: %s\n", i, id);
    }

    int resolved = 0;
    while (resolved < SESSIONS && wait_for_events(queue)) {
        /* Take everything pending; the descriptor is readable again only
         * when more arrives. */
        macp_queued_event *qe = NULL;
        for (;;) {
            check(macp_event_queue_next(queue, &qe, &err), &err, "macp_event_queue_next");
            if (!qe) break;
            const macp_event *ev = NULL;
            uint64_t tag = 0;
            check(macp_queued_event_get(qe, &ev, &tag, &err), &err, "macp_queued_event_get");
            if (ev->kind == MACP_EVENT_ENVELOPE && tag < SESSIONS) {
                struct served *s = &served[tag];
                int was = s->resolved;
                react(s, (int)tag, ev);
                resolved += s->resolved && !was;
            } else if (ev->kind == MACP_EVENT_CLOSED) {
                fprintf(stderr, "watcher %llu closed: %s\n", (unsigned long long)tag, ev->message);
            }
            macp_queued_event_free(qe);
        }
    }
    printf("%d of %d sessions RESOLVED\n", resolved, SESSIONS);

    for (int i = 0; i < SESSIONS; i++) {
        macp_watcher_close(served[i].watcher);
        macp_session_free(served[i].alice);
        macp_session_free(served[i].bob);
        macp_session_free(served[i].coordinator);
    }
    macp_event_queue_free(queue);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(coordinator);
    return resolved == SESSIONS ? 0 : 1;
}
