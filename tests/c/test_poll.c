/*
 * Event-queue tests against a real macp-runtime at $MACP_TARGET, run under
 * valgrind by scripts/test.sh: several watchers delivering into one
 * macp_event_queue read from a poll() loop (macp_event_queue_wait where
 * there are no descriptors), each watcher's events in order and once, the
 * descriptor readable exactly while events are pending, nothing of a closed
 * watcher after its close, CLOSED when the client goes, freeing the queue
 * before its watchers, sends whose outcomes come through the same queue,
 * and bad input.
 *
 * The last line is "N passed, N failed".
 */
#include <stdbool.h>
#ifndef _WIN32
#include <poll.h>
#endif

#include "harness.h"

/* Whether events may be pending within `timeout_ms`: poll() on the
 * queue's descriptor, or macp_event_queue_wait where there is none. */
static int wait_ready(macp_event_queue *q, int timeout_ms) {
#ifdef _WIN32
    bool ready = false;
    OK(macp_event_queue_wait(q, (uint32_t)timeout_ms, &ready, &err));
    return ready;
#else
    int fd = -1;
    OK(macp_event_queue_fd(q, &fd, &err));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1;
#endif
}

/* Take one event: its kind, sequence, status and tag. 0 when none. */
struct taken {
    macp_event_kind kind;
    uint64_t sequence, tag;
    macp_status status;
};

static int take(macp_event_queue *q, struct taken *t) {
    macp_queued_event *ev = NULL;
    OK(macp_event_queue_next(q, &ev, &err));
    if (!ev) return 0;
    const macp_event *e = NULL;
    OK(macp_queued_event_get(ev, &e, &t->tag, &err));
    CHECK(e != NULL);
    if (e) {
        t->kind = e->kind;
        t->sequence = e->sequence;
        t->status = e->status;
    }
    macp_queued_event_free(ev);
    return 1;
}

static void propose_range(macp_session *s, int from, int to) {
    for (int i = from; i < to; i++) {
        char pid[32];
        snprintf(pid, sizeof pid, "p%d", i);
        OK(macp_decision_propose(s, pid, "x", NULL, NULL, 0, NULL, NULL, &err));
    }
}

/* ---------------------------------------------------------------- tests */

enum { SESSIONS = 3, PROPOSALS = 40 };

static void test_several_watchers_one_loop(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *s[SESSIONS], *sa[SESSIONS];
    macp_watcher *w[SESSIONS];
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    macp_watch_options opts = macp_watch_options_default();
    opts.queue_capacity = 8; /* smaller than what each session delivers */
    for (int i = 0; i < SESSIONS; i++) {
        s[i] = start_decision(coord);
        OK(macp_session_open(alice, macp_session_id(s[i]), &sa[i], NULL, &err));
        OK(macp_session_watch_queued(s[i], 0, &opts, q, 100 + i, &w[i], NULL, &err));
    }
    for (int i = 0; i < SESSIONS; i++) propose_range(sa[i], 0, PROPOSALS);
    uint64_t last[SESSIONS] = {0};
    int out_of_order = 0, foreign = 0, other = 0, total = 0;
    const int want = SESSIONS * (PROPOSALS + 1);
    while (total < want) {
        if (!wait_ready(q, 60000)) break;
        struct taken t;
        while (take(q, &t)) {
            int i = (int)t.tag - 100;
            if (i < 0 || i >= SESSIONS) {
                foreign++;
                continue;
            }
            if (t.kind != MACP_EVENT_ENVELOPE) {
                other++;
                continue;
            }
            if (t.sequence != last[i] + 1) out_of_order++;
            last[i] = t.sequence;
            total++;
        }
    }
    CHECK(total == want);
    CHECK(out_of_order == 0 && foreign == 0 && other == 0);
    for (int i = 0; i < SESSIONS; i++) CHECK(last[i] == PROPOSALS + 1);
    /* Everything taken, nothing more coming: not readable, nothing next. */
    CHECK(!wait_ready(q, 0));
    struct taken t;
    CHECK(!take(q, &t));
    /* One more envelope makes it readable again. */
    propose_range(sa[0], PROPOSALS, PROPOSALS + 1);
    CHECK(wait_ready(q, 60000));
    CHECK(take(q, &t) && t.tag == 100 && t.sequence == PROPOSALS + 2);
    for (int i = 0; i < SESSIONS; i++) {
        macp_watcher_close(w[i]);
        macp_session_free(sa[i]);
        macp_session_free(s[i]);
    }
    macp_event_queue_free(q);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_wait_with_a_timeout(void) {
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    bool ready = true;
    OK(macp_event_queue_wait(q, 0, &ready, &err));
    CHECK(!ready); /* no watcher yet */
    macp_watcher *w = NULL;
    OK(macp_session_watch_queued(s, 0, NULL, q, 7, &w, NULL, &err));
    ready = false;
    OK(macp_event_queue_wait(q, 60000, &ready, &err)); /* SessionStart */
    CHECK(ready);
    struct taken t = {0};
    CHECK(take(q, &t) && t.tag == 7 && t.kind == MACP_EVENT_ENVELOPE && t.sequence == 1);
    macp_watcher_close(w);
    macp_event_queue_free(q);
    macp_session_free(s);
    macp_client_free(c);
}

/* Events pending for a watcher when it is closed are never taken. */
static void test_nothing_after_close(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *s = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(s), &sa, NULL, &err));
    propose_range(sa, 0, 5);
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    macp_watcher *w = NULL;
    OK(macp_session_watch_queued(s, 0, NULL, q, 1, &w, NULL, &err));
    CHECK(wait_ready(q, 60000));
    struct taken t;
    CHECK(take(q, &t) && t.sequence == 1);
    macp_watcher_close(w);
    int after = 0;
    while (take(q, &t)) after++;
    CHECK(after == 0);
    macp_event_queue_free(q);
    macp_session_free(sa);
    macp_session_free(s);
    macp_client_free(alice);
    macp_client_free(coord);
}

/* Freeing the client ends its watchers: each delivers CLOSED (CANCELLED)
 * into the queue, last. */
static void test_closed_when_the_client_goes(void) {
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    macp_watcher *w = NULL, *ws = NULL;
    OK(macp_session_watch_queued(s, 0, NULL, q, 1, &w, NULL, &err));
    OK(macp_client_watch_queued(c, MACP_WATCH_SESSIONS, NULL, q, 2, &ws, NULL, &err));
    int envelopes = 0, lifecycle = 0;
    struct taken t;
    while ((envelopes < 1 || lifecycle < 1) && wait_ready(q, 60000))
        while (take(q, &t)) {
            envelopes += t.tag == 1 && t.kind == MACP_EVENT_ENVELOPE;
            lifecycle += t.tag == 2 && t.kind == MACP_EVENT_SESSION;
        }
    CHECK(envelopes == 1 && lifecycle >= 1);
    macp_client_free(c);
    int closed[3] = {0}, after_closed = 0;
    while ((closed[1] < 1 || closed[2] < 1) && wait_ready(q, 60000))
        while (take(q, &t)) {
            if (t.tag < 1 || t.tag > 2) continue;
            if (closed[t.tag]) after_closed++;
            if (t.kind == MACP_EVENT_CLOSED) {
                closed[t.tag]++;
                CHECK(t.status == MACP_STATUS_CANCELLED);
            }
        }
    CHECK(closed[1] == 1 && closed[2] == 1 && after_closed == 0);
    CHECK(!take(q, &t));
    macp_watcher_close(w);
    macp_watcher_close(ws);
    macp_event_queue_free(q);
    macp_session_free(s);
}

/* A queue freed before its watchers: they deliver nowhere, and closing
 * them afterwards is fine. */
static void test_free_queue_before_its_watchers(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *s = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(s), &sa, NULL, &err));
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    macp_watcher *w = NULL;
    OK(macp_session_watch_queued(s, 0, NULL, q, 1, &w, NULL, &err));
    CHECK(wait_ready(q, 60000));
    macp_event_queue_free(q);
    propose_range(sa, 0, 5);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_event_queue_next(q, &(macp_queued_event *){NULL}, &err));
    macp_watcher_close(w);
    macp_session_free(sa);
    macp_session_free(s);
    macp_client_free(alice);
    macp_client_free(coord);
}

/* Ten sends in flight from one thread, their outcomes and the watcher's
 * envelopes taken from the same loop; then one refused send. */
static void test_sends_complete_into_the_queue(void) {
    enum { N = 10 };
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *s = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(s), &sa, NULL, &err));
    macp_event_queue *q = NULL;
    OK(macp_event_queue_new(&q, &err));
    macp_watcher *w = NULL;
    OK(macp_session_watch_queued(s, 0, NULL, q, 1, &w, NULL, &err));
    for (int i = 0; i < N; i++) {
        char pid[16], mid[16];
        snprintf(pid, sizeof pid, "q%d", i);
        snprintf(mid, sizeof mid, "send-%d", i);
        uint8_t payload[32];
        size_t n = strlen(pid), k = 0;
        payload[k++] = 0x0a; /* ProposalPayload.proposal_id */
        payload[k++] = (uint8_t)n;
        memcpy(payload + k, pid, n);
        k += n;
        payload[k++] = 0x12; /* .option */
        payload[k++] = 1;
        payload[k++] = 'x';
        OK(macp_session_send_queued(sa, "Proposal", payload, k, q, 100 + i, CALL_ID(mid), &err));
    }
    int done[N] = {0}, envelopes = 0, failed = 0, bad_ack = 0;
    int outcomes = 0;
    while ((outcomes < N || envelopes < N + 1) && wait_ready(q, 60000)) {
        struct taken t;
        while (take(q, &t)) envelopes += t.kind == MACP_EVENT_ENVELOPE;
        macp_send_result *r = NULL;
        for (;;) {
            OK(macp_event_queue_next_send(q, &r, &err));
            if (!r) break;
            macp_status st = MACP_STATUS_INTERNAL_ERROR;
            macp_ack ack;
            memset(&ack, 0, sizeof ack);
            uint64_t tag = 0;
            macp_error *failure = NULL;
            OK(macp_send_result_get(r, &st, &ack, &tag, &failure, &err));
            if (st != MACP_STATUS_OK || failure) failed++;
            macp_error_free(failure);
            if (tag >= 100 && tag < 100 + N) {
                done[tag - 100]++;
                char want[16];
                snprintf(want, sizeof want, "send-%d", (int)(tag - 100));
                if (strcmp(ack.message_id, want) != 0) bad_ack++;
            }
            outcomes++;
            macp_send_result_free(r);
        }
    }
    CHECK(outcomes == N && envelopes == N + 1 && failed == 0 && bad_ack == 0);
    for (int i = 0; i < N; i++) CHECK(done[i] == 1);
    /* A payload that is not a ProposalPayload: the outcome is a failure
     * with its error. */
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    OK(macp_session_send_queued(sa, "Proposal", junk, sizeof junk, q, 7, NULL, &err));
    macp_send_result *r = NULL;
    while (!r && wait_ready(q, 60000)) {
        struct taken t;
        while (take(q, &t)) {
        }
        OK(macp_event_queue_next_send(q, &r, &err));
    }
    CHECK(r != NULL);
    if (r) {
        macp_status st = MACP_STATUS_OK;
        uint64_t tag = 0;
        macp_error *failure = NULL;
        OK(macp_send_result_get(r, &st, NULL, &tag, &failure, &err));
        CHECK(st != MACP_STATUS_OK && tag == 7);
        CHECK(failure != NULL && macp_error_status(failure) == st && strlen(macp_error_message(failure)) > 0);
        macp_error_free(failure);
        macp_send_result_free(r);
    }
    macp_watcher_close(w);
    macp_event_queue_free(q);
    macp_session_free(sa);
    macp_session_free(s);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_bad_input(void) {
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    macp_event_queue *q = NULL, *freed = NULL;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_event_queue_new(NULL, &err));
    OK(macp_event_queue_new(&freed, &err));
    macp_event_queue_free(freed);
    OK(macp_event_queue_new(&q, &err));
    const macp_event_queue *bad_q[] = {NULL, freed, NOT_A_HANDLE, (const macp_event_queue *)s};
    macp_watcher *w = NULL;
    macp_queued_event *ev = NULL;
    int fd = 0;
    bool ready = true;
    for (size_t i = 0; i < sizeof bad_q / sizeof bad_q[0]; i++) {
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, w, macp_session_watch_queued(s, 0, NULL, bad_q[i], 1, &w, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, w,
                   macp_client_watch_queued(c, MACP_WATCH_SESSIONS, NULL, bad_q[i], 1, &w, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, ev, macp_event_queue_next(bad_q[i], &ev, &err));
        fd = 0;
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_event_queue_fd(bad_q[i], &fd, &err));
        CHECK(fd == -1);
        ready = true;
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_event_queue_wait(bad_q[i], 0, &ready, &err));
        CHECK(!ready);
    }
    const macp_session *bad_s[BAD_HANDLE_KINDS];
    bad_sessions(bad_s, c, q);
    for (size_t i = 0; i < BAD_HANDLE_KINDS; i++)
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, w, macp_session_watch_queued(bad_s[i], 0, NULL, q, 1, &w, NULL, &err));
    const macp_client *bad_c[BAD_HANDLE_KINDS];
    bad_clients(bad_c, q);
    for (size_t i = 0; i < BAD_HANDLE_KINDS; i++)
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, w,
                   macp_client_watch_queued(bad_c[i], MACP_WATCH_SESSIONS, NULL, q, 1, &w, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, w, macp_client_watch_queued(c, 0, NULL, q, 1, &w, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, w,
               macp_client_watch_queued(c, MACP_WATCH_ROOTS + 1, NULL, q, 1, &w, NULL, &err));
    macp_watch_options bad = macp_watch_options_default();
    bad.queue_capacity = 0;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, w, macp_session_watch_queued(s, 0, &bad, q, 1, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_watch_queued(s, 0, NULL, q, 1, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_watch_queued(c, MACP_WATCH_SESSIONS, NULL, q, 1, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_event_queue_next(q, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_event_queue_fd(q, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_event_queue_wait(q, 0, NULL, &err));
#ifdef _WIN32
    EXPECT(MACP_STATUS_UNSUPPORTED, macp_event_queue_fd(q, &fd, &err));
    CHECK(fd == -1);
#else
    OK(macp_event_queue_fd(q, &fd, &err));
    CHECK(fd >= 0);
#endif
    /* Bad queued-event handles. */
    const macp_event *e = (const macp_event *)NOT_A_HANDLE;
    uint64_t tag = 9;
    const macp_queued_event *bad_ev[] = {NULL, NOT_A_HANDLE, (const macp_queued_event *)q};
    for (size_t i = 0; i < sizeof bad_ev / sizeof bad_ev[0]; i++) {
        e = (const macp_event *)NOT_A_HANDLE;
        tag = 9;
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_queued_event_get(bad_ev[i], &e, &tag, &err));
        CHECK(e == NULL && tag == 0);
    }
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_queued_event_get(NOT_A_HANDLE, NULL, &tag, &err));
    /* Queued sends and their outcomes. */
    for (size_t i = 0; i < sizeof bad_q / sizeof bad_q[0]; i++) {
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_queued(s, "Proposal", NULL, 0, bad_q[i], 1, NULL, &err));
        macp_send_result *r = NOT_A_HANDLE;
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_event_queue_next_send(bad_q[i], &r, &err));
        CHECK(r == NULL);
    }
    const macp_session *bad_sess[BAD_HANDLE_KINDS];
    bad_sessions(bad_sess, c, q);
    for (size_t i = 0; i < BAD_HANDLE_KINDS; i++)
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_queued(bad_sess[i], "Proposal", NULL, 0, q, 1, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_queued(s, NULL, NULL, 0, q, 1, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_queued(s, bad_utf8, NULL, 0, q, 1, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_queued(s, "Proposal", NULL, 3, q, 1, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_queued(s, "Proposal", NULL, 0, q, 1, CALL_ID(bad_utf8), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_event_queue_next_send(q, NULL, &err));
    const macp_send_result *bad_r[] = {NULL, NOT_A_HANDLE, (const macp_send_result *)q};
    for (size_t i = 0; i < sizeof bad_r / sizeof bad_r[0]; i++) {
        macp_status st = MACP_STATUS_OK;
        macp_error *failure = NOT_A_HANDLE;
        tag = 9;
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_send_result_get(bad_r[i], &st, NULL, &tag, &failure, &err));
        CHECK(st == MACP_STATUS_INVALID_HANDLE && failure == NULL && tag == 0);
    }
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_send_result_get(NOT_A_HANDLE, NULL, NULL, NULL, NULL, &err));
    macp_send_result_free(NULL);
    macp_send_result_free(NOT_A_HANDLE);
    /* A queued watcher is a watcher: sending on a runtime-wide one is
     * refused as for a callback watcher. */
    OK(macp_client_watch_queued(c, MACP_WATCH_SESSIONS, NULL, q, 1, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_STATE, macp_watcher_send(w, "Proposal", NULL, 0, NULL, NULL, 0, &err));
    macp_watcher_close(w);
    macp_queued_event_free(NULL);
    macp_queued_event_free(NOT_A_HANDLE);
    macp_event_queue_free(NULL);
    macp_event_queue_free(NOT_A_HANDLE);
    macp_event_queue_free(freed); /* already freed: ignored */
    macp_event_queue_free(q);
    macp_session_free(s);
    macp_client_free(c);
}

int main(void) {
    const struct test tests[] = {
        {"several_watchers_one_loop", test_several_watchers_one_loop},
        {"wait_with_a_timeout", test_wait_with_a_timeout},
        {"nothing_after_close", test_nothing_after_close},
        {"closed_when_the_client_goes", test_closed_when_the_client_goes},
        {"free_queue_before_its_watchers", test_free_queue_before_its_watchers},
        {"sends_complete_into_the_queue", test_sends_complete_into_the_queue},
        {"bad_input", test_bad_input},
    };
    return run_tests("c-poll", tests, sizeof tests / sizeof tests[0]);
}
