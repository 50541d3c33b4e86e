/*
 * C ABI tests of the participant loop: bad input for every function (NULL,
 * invalid UTF-8, NULL/freed/foreign handles, NULL callbacks, calls in the
 * wrong order; out-pointers left NULL on failure), then participants
 * against a real runtime at $MACP_TARGET: a voter that answers Proposals on
 * the session handle it is given while a session runs to its end, handlers
 * per type and a fallback, stopping from inside a callback, and a closed
 * client ending the loop. Run under valgrind by scripts/test.sh.
 *
 * Each test prints its name and result; the last line is "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "harness.h"

static void ignore_message(const macp_session *s, const macp_envelope *e, void *ud) {
    (void)s;
    (void)e;
    (void)ud;
}

static void ignore_session(const macp_session *s, macp_session_state st, const macp_error *c, void *ud) {
    (void)s;
    (void)st;
    (void)c;
    (void)ud;
}

static macp_participant *participant_of(macp_client *c) {
    macp_participant *p = NULL;
    OK(macp_participant_new(c, NULL, NULL, &p, &err));
    CHECK(p != NULL);
    return p;
}

static void test_new_bad_input(void) {
    macp_client *c = connect_as("agent://c-part-bad");
    macp_participant *p;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_new(c, NULL, NULL, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(c, bad_utf8, NULL, &p, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(c, "", NULL, &p, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(c, "  ", NULL, &p, &err));
    macp_watch_options o = macp_watch_options_default();
    o.queue_capacity = 0;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(c, NULL, &o, &p, &err));
    o = macp_watch_options_default();
    o.backoff_base_ms = o.backoff_max_ms + 1;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(c, NULL, &o, &p, &err));
    macp_start_options *other = NULL;
    OK(macp_start_options_new(&other, &err));
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_clients(bad, other);
    for (int i = 0; i < BAD_HANDLE_KINDS; i++)
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, p, macp_participant_new(bad[i], "agent://x", NULL, &p, &err));
    macp_start_options_free(other);

    /* A client with no bearer token or expected sender has no identity. */
    macp_client_options *co = NULL;
    macp_client *anonymous = NULL;
    OK(macp_client_options_new(&co, &err));
    OK(macp_client_options_set_target(co, target, &err));
    OK(macp_client_options_set_allow_insecure(co, true, &err));
    OK(macp_client_new(co, &anonymous, NULL, &err));
    macp_client_options_free(co);
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, p, macp_participant_new(anonymous, NULL, NULL, &p, &err));
    OK(macp_participant_new(anonymous, "agent://named", NULL, &p, &err));
    macp_participant_free(p);
    macp_client_free(anonymous);
    macp_client_free(c);
}

static void test_calls_bad_input(void) {
    macp_client *c = connect_as("agent://c-part-calls");
    macp_participant *freed = participant_of(c);
    macp_participant_free(freed);
    macp_start_options *other = NULL;
    OK(macp_start_options_new(&other, &err));
    macp_participant *bad[] = {NULL, freed, NOT_A_HANDLE, (macp_participant *)other};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_on(bad[i], "Vote", ignore_message, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_on_other(bad[i], ignore_message, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_on_joined(bad[i], ignore_session, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_on_ended(bad[i], ignore_session, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_start(bad[i], NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_wait(bad[i], &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_participant_stop(bad[i], &err));
        macp_participant_free(bad[i]); /* ignored */
    }
    macp_start_options_free(other);

    macp_participant *p = participant_of(c);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on(p, NULL, ignore_message, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on(p, "", ignore_message, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on(p, bad_utf8, ignore_message, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on(p, "Vote", NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on_other(p, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on_joined(p, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_participant_on_ended(p, NULL, NULL, &err));
    /* Not started: nothing to wait for. */
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_wait(p, &err));
    OK(macp_participant_start(p, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_start(p, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_on(p, "Vote", ignore_message, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_on_other(p, ignore_message, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_on_ended(p, ignore_session, NULL, &err));
    OK(macp_participant_stop(p, &err));
    OK(macp_participant_stop(p, &err)); /* again: nothing */
    OK(macp_participant_wait(p, &err)); /* stopped: OK */
    EXPECT(MACP_STATUS_INVALID_STATE, macp_participant_start(p, NULL, &err));
    macp_participant_free(p);

    /* Stopping one never started is allowed, and waiting then returns. */
    p = participant_of(c);
    OK(macp_participant_stop(p, &err));
    OK(macp_participant_wait(p, &err));
    macp_participant_free(p);
    macp_client_free(c);
}

/* What a voter's callbacks saw, shared with the main thread. */
struct seen {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    const char *session_id; /* the session under test */
    int joined, proposals, others, ended, vote_failures;
    macp_session_state state;
    const macp_session *handle; /* the borrowed handle the callbacks got */
    int handle_changed;
    char other_types[256];
};

static void note_handle(struct seen *s, const macp_session *h) {
    if (s->handle && s->handle != h) s->handle_changed = 1;
    s->handle = h;
}

static void on_proposal(const macp_session *session, const macp_envelope *env, void *ud) {
    struct seen *s = ud;
    macp_error *err = NULL;
    macp_status st = macp_decision_vote(session, "p1", "APPROVE", "", NULL, NULL, &err);
    macp_error_free(err);
    pthread_mutex_lock(&s->mu);
    if (strcmp(env->session_id, s->session_id) == 0 && strcmp(macp_session_id(session), env->session_id) == 0)
        s->proposals++;
    if (st != MACP_STATUS_OK) s->vote_failures++;
    note_handle(s, session);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mu);
}

static void on_other(const macp_session *session, const macp_envelope *env, void *ud) {
    struct seen *s = ud;
    pthread_mutex_lock(&s->mu);
    s->others++;
    strncat(s->other_types, env->message_type, sizeof s->other_types - strlen(s->other_types) - 2);
    strcat(s->other_types, ",");
    note_handle(s, session);
    pthread_mutex_unlock(&s->mu);
}

static void on_joined(const macp_session *session, macp_session_state st, const macp_error *cause, void *ud) {
    struct seen *s = ud;
    pthread_mutex_lock(&s->mu);
    if (st == MACP_SESSION_STATE_OPEN && cause == NULL && strcmp(macp_session_id(session), s->session_id) == 0)
        s->joined++;
    note_handle(s, session);
    pthread_mutex_unlock(&s->mu);
}

static void on_ended(const macp_session *session, macp_session_state st, const macp_error *cause, void *ud) {
    struct seen *s = ud;
    (void)cause;
    pthread_mutex_lock(&s->mu);
    s->ended++;
    s->state = st;
    note_handle(s, session);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mu);
}

/* A voter on the loop votes on the lead's proposal; the lead commits once
 * the vote is in; the voter hears the session resolve. */
static void test_voter_runs_a_session_to_its_end(void) {
    macp_client *lead = connect_as("agent://c-part-lead");
    macp_client *voter = connect_as("agent://c-part-voter");
    struct seen s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.changed, NULL);

    static const char *const both[] = {"agent://c-part-lead", "agent://c-part-voter", NULL};
    macp_session *session = start_session(lead, MACP_MODE_DECISION, both, NULL);
    s.session_id = macp_session_id(session);

    /* Started after the invitation: the session is joined all the same. */
    macp_participant *p = participant_of(voter);
    OK(macp_participant_on(p, "Proposal", on_proposal, &s, &err));
    OK(macp_participant_on_other(p, on_other, &s, &err));
    OK(macp_participant_on_joined(p, on_joined, &s, &err));
    OK(macp_participant_on_ended(p, on_ended, &s, &err));
    OK(macp_participant_start(p, NULL, &err));

    OK(macp_decision_propose(session, "p1", "ship", "", NULL, 0, NULL, NULL, &err));
    pthread_mutex_lock(&s.mu);
    while (s.proposals < 1) pthread_cond_wait(&s.changed, &s.mu);
    pthread_mutex_unlock(&s.mu);
    /* The vote was sent from the callback, before it returned. */
    OK(macp_decision_commit(session, "decision.selected", "test", "the voter approved", true, NULL, NULL, &err));
    pthread_mutex_lock(&s.mu);
    while (s.ended < 1) pthread_cond_wait(&s.changed, &s.mu);
    CHECK(s.joined == 1);
    CHECK(s.proposals == 1);
    CHECK(s.vote_failures == 0);
    CHECK(s.state == MACP_SESSION_STATE_RESOLVED);
    CHECK(!s.handle_changed);
    /* The fallback got the types without a handler; never the own Vote. */
    if (strcmp(s.other_types, "SessionStart,Commitment,") != 0) fprintf(stderr, "  others: %s\n", s.other_types);
    CHECK(strcmp(s.other_types, "SessionStart,Commitment,") == 0);
    const macp_session *h = s.handle;
    pthread_mutex_unlock(&s.mu);
    /* Once stopped, the handle the callbacks had is freed. */
    OK(macp_participant_stop(p, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_vote(h, "p1", "APPROVE", "", NULL, NULL, &err));

    macp_participant_free(p);
    macp_session_free(session);
    macp_client_free(voter);
    macp_client_free(lead);
    pthread_cond_destroy(&s.changed);
    pthread_mutex_destroy(&s.mu);
}

/* Stop from inside a callback: it is the last callback, and wait returns. */
struct stopper {
    macp_participant *p;
    int calls;
    macp_status stop_status;
};

static void stop_from_callback(const macp_session *session, const macp_envelope *env, void *ud) {
    (void)session;
    (void)env;
    struct stopper *st = ud;
    st->calls++;
    macp_error *err = NULL;
    st->stop_status = macp_participant_stop(st->p, &err);
    macp_error_free(err);
}

static void test_stop_from_a_callback(void) {
    macp_client *lead = connect_as("agent://c-part-lead2");
    macp_client *voter = connect_as("agent://c-part-voter2");
    struct stopper st = {NULL, 0, MACP_STATUS_INTERNAL_ERROR};
    st.p = participant_of(voter);
    OK(macp_participant_on_other(st.p, stop_from_callback, &st, &err));
    OK(macp_participant_start(st.p, NULL, &err));
    static const char *const both[] = {"agent://c-part-lead2", "agent://c-part-voter2", NULL};
    macp_session *session = start_session(lead, MACP_MODE_DECISION, both, NULL);
    OK(macp_decision_propose(session, "p1", "ship", "", NULL, 0, NULL, NULL, &err));
    /* Returns once the SessionStart callback stopped it. */
    OK(macp_participant_wait(st.p, &err));
    CHECK(st.calls == 1);
    CHECK(st.stop_status == MACP_STATUS_OK);
    macp_participant_free(st.p);
    macp_session_free(session);
    macp_client_free(voter);
    macp_client_free(lead);
}

/* Freeing the client ends the loop: wait reports it as CANCELLED. */
static void test_a_closed_client_ends_the_loop(void) {
    macp_client *c = connect_as("agent://c-part-closing");
    macp_participant *p = participant_of(c);
    OK(macp_participant_on_ended(p, ignore_session, NULL, &err));
    OK(macp_participant_start(p, NULL, &err));
    macp_client_free(c);
    EXPECT(MACP_STATUS_CANCELLED, macp_participant_wait(p, &err));
    macp_participant_free(p);
}

int main(void) {
    const struct test tests[] = {
        {"new_bad_input", test_new_bad_input},
        {"calls_bad_input", test_calls_bad_input},
        {"voter_runs_a_session_to_its_end", test_voter_runs_a_session_to_its_end},
        {"stop_from_a_callback", test_stop_from_a_callback},
        {"a_closed_client_ends_the_loop", test_a_closed_client_ends_the_loop},
    };
    return run_tests("c-participant", tests, sizeof tests / sizeof tests[0]);
}
