/*
 * C watcher tests against a real macp-runtime at $MACP_TARGET, run under
 * valgrind by scripts/test.sh: ordered delivery from library threads
 * (callbacks of one watcher never overlap), close while events flow, close
 * from inside the callback, the handle usable by the callback from the
 * first event, freeing the client with watchers open, a blocked callback
 * not stalling other watchers, threads not growing with the watcher count,
 * sending on the stream (with id buffers too short), and bad input (every
 * watch kind, and kinds that are none).
 *
 * The last line is "N passed, N failed".
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "harness.h"

#define MAX_EVENTS 4096

/* What a callback records, shared with the test thread. */
struct record {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t seq[MAX_EVENTS];
    char ids[MAX_EVENTS][MACP_ID_BUFFER_LEN];
    int envelopes;
    int closed_events;
    macp_status closed_status;
    int other;
    /* Set by the test; the callback must never run once it is true. */
    int after_close;
    int calls_after_close;
    /* Close from inside the callback after this many envelopes (0: never). */
    int close_at;
    macp_watcher *self;
    pthread_t callback_thread;
    int callback_thread_set;
    /* Callbacks of this watcher running now, and whether two ever were. */
    int inside;
    int overlapped;
    /* Set by the test: decode each Proposal's payload in the callback,
     * keeping the last one. */
    int decode_proposals;
    char proposal_json[512];
    int payload_json_failures;
};

static void record_init(struct record *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void record_destroy(struct record *r) {
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void on_event(const macp_event *ev, void *user_data) {
    struct record *r = user_data;
    pthread_mutex_lock(&r->mu);
    if (r->inside++) r->overlapped = 1;
    pthread_mutex_unlock(&r->mu);
    /* Outside the lock for a moment: a second callback of the same watcher
     * running now would be seen. */
    sched_yield();
    pthread_mutex_lock(&r->mu);
    r->inside--;
    if (r->after_close) r->calls_after_close++;
    if (!r->callback_thread_set) {
        r->callback_thread = pthread_self();
        r->callback_thread_set = 1;
    }
    macp_watcher *close_self = NULL;
    if (ev->kind == MACP_EVENT_ENVELOPE && r->envelopes < MAX_EVENTS) {
        r->seq[r->envelopes] = ev->sequence;
        snprintf(r->ids[r->envelopes], MACP_ID_BUFFER_LEN, "%s", ev->envelope.message_id);
        if (r->decode_proposals && strcmp(ev->envelope.message_type, "Proposal") == 0) {
            macp_string *json = NULL;
            macp_error *err = NULL;
            if (macp_envelope_payload_json(&ev->envelope, &json, &err) == MACP_STATUS_OK) {
                snprintf(r->proposal_json, sizeof r->proposal_json, "%s", macp_string_ptr(json));
            } else {
                r->payload_json_failures++;
            }
            macp_string_free(json);
            macp_error_free(err);
        }
        r->envelopes++;
        if (r->close_at && r->envelopes == r->close_at) close_self = r->self;
    } else if (ev->kind == MACP_EVENT_CLOSED) {
        r->closed_events++;
        r->closed_status = ev->status;
    } else {
        r->other++;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (close_self) macp_watcher_close(close_self); /* must not deadlock */
}

/* Wait until `cond` holds (re-checked on every event), up to 60 s. */
#define WAIT_FOR(r, cond)                                                  \
    do {                                                                   \
        struct timespec dl_;                                               \
        clock_gettime(CLOCK_REALTIME, &dl_);                               \
        dl_.tv_sec += 60;                                                  \
        pthread_mutex_lock(&(r)->mu);                                      \
        while (!(cond)) {                                                  \
            if (pthread_cond_timedwait(&(r)->cv, &(r)->mu, &dl_) == ETIMEDOUT) break; \
        }                                                                  \
        CHECK(cond);                                                       \
        pthread_mutex_unlock(&(r)->mu);                                    \
    } while (0)

static void propose_range(macp_session *s, int from, int to) {
    for (int i = from; i < to; i++) {
        char pid[32];
        snprintf(pid, sizeof pid, "p%d", i);
        OK(macp_decision_propose(s, pid, "x", NULL, NULL, 0, NULL, NULL, &err));
    }
}

/* ---------------------------------------------------------------- tests */

static void test_ordered_delivery(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *sc = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    propose_range(sa, 0, 100);

    struct record a, b;
    record_init(&a);
    record_init(&b);
    macp_watcher *wa = NULL, *wb = NULL;
    macp_watch_options opts = macp_watch_options_default();
    opts.queue_capacity = 16;
    OK(macp_session_watch(sc, 0, &opts, on_event, &a, &wa, NULL, &err));
    OK(macp_session_watch(sa, 50, NULL, on_event, &b, &wb, NULL, &err));
    propose_range(sa, 100, 300);

    WAIT_FOR(&a, a.envelopes >= 301);
    WAIT_FOR(&b, b.envelopes >= 251);
    macp_watcher_close(wa);
    macp_watcher_close(wb);
    CHECK(a.envelopes == 301 && b.envelopes == 251);
    for (int i = 0; i < a.envelopes; i++) CHECK(a.seq[i] == (uint64_t)i + 1);
    for (int i = 0; i < b.envelopes; i++) {
        CHECK(b.seq[i] == (uint64_t)i + 51);
        CHECK(strcmp(b.ids[i], a.ids[i + 50]) == 0);
    }
    CHECK(!a.overlapped && !b.overlapped);
    CHECK(a.callback_thread_set && !pthread_equal(a.callback_thread, pthread_self()));
    CHECK(a.closed_events == 0); /* closed by the caller: no CLOSED event */
    record_destroy(&a);
    record_destroy(&b);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(coord);
}

struct sender {
    macp_session *s;
    int from, to;
};

static void *send_range(void *arg) {
    struct sender *x = arg;
    propose_range(x->s, x->from, x->to);
    return NULL;
}

static void test_close_while_events_flow(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *sc = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    struct record r;
    record_init(&r);
    macp_watcher *w = NULL;
    OK(macp_session_watch(sc, 0, NULL, on_event, &r, &w, NULL, &err));
    struct sender x = {sa, 0, 200};
    pthread_t t;
    pthread_create(&t, NULL, send_range, &x);
    WAIT_FOR(&r, r.envelopes >= 20);
    macp_watcher_close(w);
    pthread_mutex_lock(&r.mu);
    r.after_close = 1;
    pthread_mutex_unlock(&r.mu);
    pthread_join(t, NULL); /* events keep being accepted after the close */
    pthread_mutex_lock(&r.mu);
    CHECK(r.calls_after_close == 0);
    pthread_mutex_unlock(&r.mu);
    macp_watcher_close(w); /* second close: ignored */
    record_destroy(&r);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_close_from_inside_the_callback(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *sc = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    propose_range(sa, 0, 30);
    struct record r;
    record_init(&r);
    macp_watcher *w = NULL;
    pthread_mutex_lock(&r.mu); /* the callback waits until `self` is set */
    r.close_at = 5;
    OK(macp_session_watch(sc, 0, NULL, on_event, &r, &w, NULL, &err));
    r.self = w;
    pthread_mutex_unlock(&r.mu);
    WAIT_FOR(&r, r.envelopes >= 5);
    /* More events were available; none may follow the close. Closing the
     * already-closed handle from here must be harmless. */
    propose_range(sa, 30, 40);
    macp_watcher_close(w);
    pthread_mutex_lock(&r.mu);
    CHECK(r.envelopes == 5);
    pthread_mutex_unlock(&r.mu);
    record_destroy(&r);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_free_client_with_watchers_open(void) {
    macp_client *coord = connect_as("coordinator");
    macp_session *sc = start_decision(coord);
    struct record r1, r2;
    record_init(&r1);
    record_init(&r2);
    macp_watcher *w1 = NULL, *w2 = NULL;
    OK(macp_session_watch(sc, 0, NULL, on_event, &r1, &w1, NULL, &err));
    OK(macp_client_watch(coord, MACP_WATCH_SESSIONS, NULL, on_event, &r2, &w2, NULL, &err));
    WAIT_FOR(&r1, r1.envelopes >= 1);
    WAIT_FOR(&r2, r2.other >= 1); /* the initial sync */
    macp_client_free(coord);
    WAIT_FOR(&r1, r1.closed_events == 1);
    WAIT_FOR(&r2, r2.closed_events == 1);
    CHECK(r1.closed_status == MACP_STATUS_CANCELLED);
    macp_watcher_close(w1);
    macp_watcher_close(w2);
    record_destroy(&r1);
    record_destroy(&r2);
    macp_session_free(sc);
}

/* The callback gets its watcher's handle through user_data, written by the
 * watch call to `*out`; on its very first event it must find it there. The
 * first event (the replayed SessionStart) arrives as soon as the stream is
 * open; the callback sends on and closes its own watcher with the handle. */
struct self_use {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    macp_watcher *w; /* the watch call's `out` */
    int events, handle_missing;
};

static void on_first_event_use_self(const macp_event *ev, void *user_data) {
    (void)ev;
    struct self_use *u = user_data;
    macp_watcher *w = u->w;
    if (w == NULL) {
        u->handle_missing++;
    } else {
        /* A live handle: a send on it is queued or refused for its
         * content; only a missing one is INVALID_HANDLE. */
        macp_error *e = NULL;
        macp_status st = macp_watcher_send(w, "Proposal", NULL, 0, NULL, NULL, 0, &e);
        macp_error_free(e);
        if (st == MACP_STATUS_INVALID_HANDLE) u->handle_missing++;
        macp_watcher_close(w);
    }
    pthread_mutex_lock(&u->mu);
    u->events++;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static void test_handle_usable_from_the_first_event(void) {
    for (int i = 0; i < 50; i++) {
        macp_client *c = connect_as("coordinator");
        macp_session *s = start_decision(c);
        struct self_use u;
        memset(&u, 0, sizeof u);
        pthread_mutex_init(&u.mu, NULL);
        pthread_cond_init(&u.cv, NULL);
        OK(macp_session_watch(s, 0, NULL, on_first_event_use_self, &u, &u.w, NULL, &err));
        WAIT_FOR(&u, u.events >= 1);
        CHECK(u.handle_missing == 0);
        macp_watcher_close(u.w); /* closed by its callback already: ignored */
        pthread_mutex_destroy(&u.mu);
        pthread_cond_destroy(&u.cv);
        macp_session_free(s);
        macp_client_free(c);
    }
}

/* Watcher A's callback blocks on its first envelope until watcher B has
 * delivered three: B's events must flow while A's callback holds its
 * thread. */
struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int a_events, b_events;
    int a_released_by_b; /* A's callback saw B's three envelopes */
};

static void on_blocking_a(const macp_event *ev, void *user_data) {
    struct blocker *x = user_data;
    if (ev->kind != MACP_EVENT_ENVELOPE) return;
    pthread_mutex_lock(&x->mu);
    if (x->a_events++ == 0) {
        pthread_cond_broadcast(&x->cv); /* the test thread waits for this */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 30;
        while (x->b_events < 3)
            if (pthread_cond_timedwait(&x->cv, &x->mu, &dl) == ETIMEDOUT) break;
        x->a_released_by_b = x->b_events >= 3;
        pthread_cond_broadcast(&x->cv);
    }
    pthread_mutex_unlock(&x->mu);
}

static void on_counting_b(const macp_event *ev, void *user_data) {
    struct blocker *x = user_data;
    if (ev->kind != MACP_EVENT_ENVELOPE) return;
    pthread_mutex_lock(&x->mu);
    x->b_events++;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static void test_blocked_callback_does_not_stall_others(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *s1 = start_decision(coord), *s2 = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(s2), &sa, NULL, &err));
    propose_range(sa, 0, 2);
    struct blocker x;
    memset(&x, 0, sizeof x);
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    macp_watcher *a = NULL, *b = NULL;
    OK(macp_session_watch(s1, 0, NULL, on_blocking_a, &x, &a, NULL, &err));
    /* A's first envelope (SessionStart) reaches its callback, which blocks. */
    WAIT_FOR(&x, x.a_events >= 1);
    OK(macp_session_watch(s2, 0, NULL, on_counting_b, &x, &b, NULL, &err));
    WAIT_FOR(&x, x.b_events >= 3);
    WAIT_FOR(&x, x.a_released_by_b);
    macp_watcher_close(a);
    macp_watcher_close(b);
    pthread_mutex_destroy(&x.mu);
    pthread_cond_destroy(&x.cv);
    macp_session_free(sa);
    macp_session_free(s1);
    macp_session_free(s2);
    macp_client_free(alice);
    macp_client_free(coord);
}

#ifdef __linux__
static long threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = strtol(line + 8, NULL, 10);
    fclose(f);
    return n;
}
#endif

/* 100 watchers, each with its first event delivered, add at most the
 * callback pool's threads (16 by default), not one each. */
static void test_threads_do_not_grow_with_watchers(void) {
#ifdef __linux__
    enum { N = 100 };
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    /* One watcher first: the pool and the connection exist. */
    static struct record r[N];
    macp_watcher *w[N];
    record_init(&r[0]);
    OK(macp_session_watch(s, 0, NULL, on_event, &r[0], &w[0], NULL, &err));
    WAIT_FOR(&r[0], r[0].envelopes >= 1);
    long before = threads_now();
    for (int i = 1; i < N; i++) {
        record_init(&r[i]);
        OK(macp_session_watch(s, 0, NULL, on_event, &r[i], &w[i], NULL, &err));
    }
    for (int i = 1; i < N; i++) WAIT_FOR(&r[i], r[i].envelopes >= 1);
    long after = threads_now();
    if (!(before > 0 && after - before <= 16)) fprintf(stderr, "  threads: %ld before, %ld after\n", before, after);
    CHECK(before > 0 && after - before <= 16);
    for (int i = 0; i < N; i++) {
        macp_watcher_close(w[i]);
        record_destroy(&r[i]);
    }
    macp_session_free(s);
    macp_client_free(c);
#endif
}

static void test_send_on_the_stream(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *sc = start_decision(coord), *sa = NULL;
    OK(macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    struct record r;
    record_init(&r);
    r.decode_proposals = 1;
    macp_watcher *w = NULL;
    OK(macp_session_watch(sa, 0, NULL, on_event, &r, &w, NULL, &err));
    const uint8_t proposal[] = {0x0a, 2, 'q', '1', 0x12, 1, 'o'};
    /* An id buffer too short for the id: refused before anything is
     * queued, the buffer left "". */
    char short_buf[8];
    memset(short_buf, 'x', sizeof short_buf);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_watcher_send(w, "Proposal", proposal, sizeof proposal, NULL, short_buf, sizeof short_buf, &err));
    CHECK(short_buf[0] == 0);
    memset(short_buf, 'x', sizeof short_buf);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(w, "Proposal", proposal, sizeof proposal, "refused-1",
                                                           short_buf, strlen("refused-1"), &err));
    CHECK(short_buf[0] == 0);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_watcher_send(w, "Proposal", proposal, sizeof proposal, NULL, short_buf, 0, &err));
    /* A buffer the id just fits; then a generated id. */
    const uint8_t first[] = {0x0a, 2, 'q', '0', 0x12, 1, 'o'};
    char exact[sizeof "sent-1"];
    OK(macp_watcher_send(w, "Proposal", first, sizeof first, "sent-1", exact, sizeof exact, &err));
    CHECK(strcmp(exact, "sent-1") == 0);
    char used[MACP_ID_BUFFER_LEN];
    OK(macp_watcher_send(w, "Proposal", proposal, sizeof proposal, NULL, used, sizeof used, &err));
    CHECK(strlen(used) == 36);
    WAIT_FOR(&r, r.envelopes >= 3);
    pthread_mutex_lock(&r.mu);
    /* SessionStart, then the two sends: none of the refused ones. */
    CHECK(r.envelopes == 3);
    CHECK(strcmp(r.ids[1], "sent-1") == 0);
    CHECK(strcmp(r.ids[2], used) == 0);
    /* The delivered payload decodes by the envelope's mode and type. */
    CHECK(r.payload_json_failures == 0);
    CHECK(strstr(r.proposal_json, "\"proposal_id\":\"q1\"") != NULL);
    CHECK(strstr(r.proposal_json, "\"option\":\"o\"") != NULL);
    pthread_mutex_unlock(&r.mu);
    macp_watcher_close(w);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_watcher_send(w, "Proposal", NULL, 0, NULL, NULL, 0, &err));
    record_destroy(&r);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_bad_input(void) {
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    struct record r;
    record_init(&r);
    macp_watcher *w = NULL, *sessions = NULL;
    macp_watch_options bad = macp_watch_options_default();
    bad.queue_capacity = 0;
    macp_watch_options bad2 = macp_watch_options_default();
    bad2.backoff_base_ms = 10000;
    bad2.backoff_max_ms = 10;

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_watch(s, 0, NULL, NULL, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_watch(s, 0, NULL, on_event, &r, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_watch(s, 0, &bad, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_watch(s, 0, &bad2, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_watch(NOT_A_HANDLE, 0, NULL, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_watch((macp_session *)c, 0, NULL, on_event, &r, &w, NULL, &err));
    CHECK(w == NULL);
    /* Each kind of runtime-wide stream refuses bad client handles. */
    const macp_client *bad_c[BAD_HANDLE_KINDS];
    bad_clients(bad_c, s);
    for (int32_t kind = MACP_WATCH_SESSIONS; kind <= MACP_WATCH_ROOTS; kind++)
        for (size_t i = 0; i < BAD_HANDLE_KINDS; i++)
            EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, w, macp_client_watch(bad_c[i], kind, NULL, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_watch(c, MACP_WATCH_MODE_REGISTRY, NULL, NULL, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_watch(c, MACP_WATCH_ROOTS, &bad, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_watch(c, MACP_WATCH_SIGNALS, &bad2, on_event, &r, &w, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_watch(c, MACP_WATCH_ROOTS, NULL, on_event, &r, NULL, NULL, &err));
    /* A kind that is not a macp_watch_kind. */
    const int32_t bad_kinds[] = {0, -1, MACP_WATCH_ROOTS + 1, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++)
        EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, w, macp_client_watch(c, bad_kinds[i], NULL, on_event, &r, &w, NULL, &err));

    OK(macp_client_watch(c, MACP_WATCH_SESSIONS, NULL, on_event, &r, &sessions, NULL, &err));
    char id_out[MACP_ID_BUFFER_LEN] = "x";
    EXPECT(MACP_STATUS_INVALID_STATE,
           macp_watcher_send(sessions, "Proposal", NULL, 0, NULL, id_out, sizeof id_out, &err));
    CHECK(id_out[0] == 0);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_watcher_send(NULL, "Proposal", NULL, 0, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_watcher_send(NOT_A_HANDLE, "Proposal", NULL, 0, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE,
           macp_watcher_send((const macp_watcher *)s, "Proposal", NULL, 0, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(sessions, NULL, NULL, 0, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(sessions, bad_utf8, NULL, 0, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(sessions, "Proposal", NULL, 4, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(sessions, "Proposal", NULL, 0, bad_utf8, NULL, 0, &err));
    /* An output buffer of length 0 (one too short for the id: see
     * send_on_the_stream). */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_watcher_send(sessions, "Proposal", NULL, 0, NULL, id_out, 0, &err));
    macp_watcher_close(sessions);
    macp_watcher_close(NOT_A_HANDLE);
    macp_watcher_close(NULL);
    CHECK(strcmp(macp_event_kind_name(MACP_EVENT_GAP), "GAP") == 0);
    CHECK(strcmp(macp_event_kind_name(0), "UNKNOWN") == 0);
    macp_watch_options d = macp_watch_options_default();
    CHECK(d.reconnect && d.queue_capacity > 0 && d.backoff_base_ms <= d.backoff_max_ms);

    record_destroy(&r);
    macp_session_free(s);
    macp_client_free(c);
}

int main(void) {
    const struct test tests[] = {
        {"ordered_delivery", test_ordered_delivery},
        {"close_while_events_flow", test_close_while_events_flow},
        {"close_from_inside_the_callback", test_close_from_inside_the_callback},
        {"handle_usable_from_the_first_event", test_handle_usable_from_the_first_event},
        {"free_client_with_watchers_open", test_free_client_with_watchers_open},
        {"blocked_callback_does_not_stall_others", test_blocked_callback_does_not_stall_others},
        {"threads_do_not_grow_with_watchers", test_threads_do_not_grow_with_watchers},
        {"send_on_the_stream", test_send_on_the_stream},
        {"bad_input", test_bad_input},
    };
    return run_tests("c-watch", tests, sizeof tests / sizeof tests[0]);
}
