/*
 * C ABI tests: compiled against include/macp.h and the built library, run
 * against a real macp-runtime at $MACP_TARGET (scripts/with-runtime.sh starts
 * one) and under valgrind by scripts/test.sh.
 *
 * Each test prints its name and result; the last line is "N passed, N failed".
 */
#include <math.h>
#include <pthread.h>

#include "harness.h"

/* ---------------------------------------------------------------- tests */

static void test_decision_flow(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice"), *bob = connect_as("bob");
    CHECK(strcmp(macp_client_protocol_version(coord), "1.0") == 0);
    macp_session *sc = start_decision(coord);
    const char *id = macp_session_id(sc);
    CHECK(strlen(id) == 36);
    CHECK(strcmp(macp_session_mode(sc), MACP_MODE_DECISION) == 0);

    macp_session *sa = NULL, *sb = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_open(alice, id, &sa, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_session_open(bob, id, &sb, NULL, &err));

    macp_ack ack;
    memset(&ack, 0xAB, sizeof ack);
    const uint8_t data[] = {1, 2, 3};
    EXPECT(MACP_STATUS_OK, macp_decision_propose(sa, "p1", "postgres", "mature", data, sizeof data, &ack, NULL, &err));
    CHECK(strlen(ack.message_id) == 36);
    CHECK(strcmp(ack.session_id, id) == 0);
    CHECK(!ack.duplicate);
    CHECK(ack.accepted_at_unix_ms > 0);
    EXPECT(MACP_STATUS_OK, macp_decision_evaluate(sb, "p1", "APPROVE", 0.9, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_decision_object(sb, "p1", NULL, "low", NULL, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_decision_vote(sa, "p1", "APPROVE", "yes", &ack, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_decision_vote(sb, "p1", "APPROVE", NULL, &ack, NULL, &err));

    /* Only the initiator commits. */
    EXPECT(MACP_STATUS_FORBIDDEN, macp_decision_commit(sa, "decision.selected", NULL, NULL, true, NULL, NULL, &err));
    macp_commitment c = {0};
    c.commitment_id = "c-1";
    c.action = "decision.selected";
    c.authority_scope = "storage";
    c.reason = "all approve";
    c.outcome_positive = true;
    EXPECT(MACP_STATUS_OK, macp_session_commit(sc, &c, &ack, NULL, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_RESOLVED);

    /* Every participant reads the same final state. */
    macp_session_info *info = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_get_info(sb, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(info != NULL && m != NULL);
    if (m) {
        CHECK(m->state == MACP_SESSION_STATE_RESOLVED);
        CHECK(strcmp(m->session_id, id) == 0);
        CHECK(strcmp(m->initiator, "coordinator") == 0);
        CHECK(strcmp(m->mode, MACP_MODE_DECISION) == 0);
        CHECK(strcmp(m->mode_version, "1.0.0") == 0);
        CHECK(strcmp(m->context_id, "ctx:test") == 0);
        CHECK(m->participants_len == 2);
        CHECK(m->participants_len == 2 && strcmp(m->participants[0], "alice") == 0);
        CHECK(m->extension_keys_len == 1 && strcmp(m->extension_keys[0], "ext.test") == 0);
        CHECK(m->expires_at_unix_ms > m->started_at_unix_ms);
        size_t total = 0;
        for (size_t i = 0; i < m->activity_len; i++) total += m->activity[i].message_count;
        CHECK(total == 6); /* proposal, evaluation, objection, 2 votes, commitment */
    }
    /* The same metadata on every read while the handle lives. */
    CHECK(macp_session_info_metadata(info) == m);
    macp_session_info_free(info);
    CHECK(macp_session_info_metadata(info) == NULL); /* freed: no view */
    macp_session_info_free(info); /* double free is ignored */

    macp_session_info *via_client = NULL;
    EXPECT(MACP_STATUS_OK, macp_client_get_session(coord, id, &via_client, NULL, &err));
    const macp_session_metadata *vm = macp_session_info_metadata(via_client);
    CHECK(vm && vm->state == MACP_SESSION_STATE_RESOLVED);
    macp_session_info_free(via_client);

    /* The coordinator's listing holds the session, resolved. */
    macp_session_list *list = NULL;
    EXPECT(MACP_STATUS_OK, macp_client_list_all_sessions(coord, &list, NULL, &err));
    size_t listed = macp_session_list_len(list), found = 0;
    CHECK(listed >= 1);
    for (size_t i = 0; i < listed; i++) {
        const macp_session_metadata *lm = macp_session_list_at(list, i);
        CHECK(lm != NULL);
        if (lm && strcmp(lm->session_id, id) == 0) {
            found++;
            CHECK(lm->state == MACP_SESSION_STATE_RESOLVED);
            CHECK(strcmp(lm->initiator, "coordinator") == 0);
        }
    }
    CHECK(found == 1);
    CHECK(macp_session_list_at(list, listed) == NULL);
    CHECK(strcmp(macp_session_list_next_page_token(list), "") == 0); /* all pages */
    macp_session_list_free(list);

    /* A resolved session takes no more messages. */
    EXPECT(MACP_STATUS_SESSION_NOT_OPEN, macp_decision_vote(sa, "p1", "REJECT", NULL, NULL, NULL, &err));

    macp_session_free(sa);
    macp_session_free(sb);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(coord);
}

static void test_runtime_errors(void) {
    macp_client *coord = connect_as("coordinator"), *mallory = connect_as("mallory");
    macp_session *sc = start_decision(coord), *sm = NULL;
    char id[MACP_ID_BUFFER_LEN];
    EXPECT(MACP_STATUS_OK, macp_new_id(id, sizeof id, &err));

    /* Unknown session: code, message and gRPC status are reported. */
    macp_error *err = NULL;
    macp_status st = macp_session_open(coord, id, &sm, NULL, &err);
    CHECK(st == MACP_STATUS_SESSION_NOT_FOUND);
    CHECK(sm == NULL);
    CHECK(strcmp(macp_error_code(err), "SESSION_NOT_FOUND") == 0);
    CHECK(strlen(macp_error_message(err)) > 0);
    CHECK(macp_error_grpc_code(err) == 5 /* NOT_FOUND */);
    macp_error_free(err);

    /* A non-participant may neither read nor write the session. */
    EXPECT(MACP_STATUS_FORBIDDEN, macp_session_open(mallory, macp_session_id(sc), &sm, NULL, &err));
    EXPECT(MACP_STATUS_FORBIDDEN, macp_client_cancel_session(mallory, macp_session_id(sc), "x", NULL, NULL, &err));

    /* Same session id twice. */
    macp_start_options *so = NULL;
    macp_session *dup = NULL;
    EXPECT(MACP_STATUS_OK, macp_start_options_new(&so, &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_add_participant(so, "alice", &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_set_ttl_ms(so, 1000, &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_set_session_id(so, macp_session_id(sc), &err));
    EXPECT(MACP_STATUS_SESSION_ALREADY_EXISTS, macp_session_start(coord, MACP_MODE_DECISION, so, &dup, NULL, NULL, &err));
    CHECK(dup == NULL);
    /* No TTL set: refused before sending. */
    macp_start_options_free(so);
    EXPECT(MACP_STATUS_OK, macp_start_options_new(&so, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_start(coord, MACP_MODE_DECISION, so, &dup, NULL, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_set_ttl_ms(so, 1000, &err));
    EXPECT(MACP_STATUS_MODE_NOT_SUPPORTED, macp_session_start(coord, "ext.nope.v1", so, &dup, NULL, NULL, &err));
    macp_start_options_free(so);

    /* A failed send reports the message id it used; re-sending that id with
     * the generic send is deduplicated. */
    macp_client *alice = connect_as("alice");
    macp_session *sa = NULL;
    macp_ack ack;
    EXPECT(MACP_STATUS_OK, macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    /* ProposalPayload{proposal_id: "px", option: "o"}, encoded by hand. */
    const uint8_t proposal[] = {0x0a, 2, 'p', 'x', 0x12, 1, 'o'};
    EXPECT(MACP_STATUS_OK, macp_session_send(sa, "Proposal", proposal, sizeof proposal, &ack, CALL_ID("fixed-id-1"), &err));
    CHECK(strcmp(ack.message_id, "fixed-id-1") == 0 && !ack.duplicate);
    EXPECT(MACP_STATUS_OK, macp_session_send(sa, "Proposal", proposal, sizeof proposal, &ack, CALL_ID("fixed-id-1"), &err));
    CHECK(ack.duplicate);
    err = NULL;
    st = macp_decision_vote(sa, "no-such-proposal", "APPROVE", NULL, NULL, NULL, &err);
    CHECK(st == MACP_STATUS_INVALID_ENVELOPE);
    CHECK(strlen(macp_error_message_id(err)) == 36);
    CHECK(strcmp(macp_error_session_id(err), macp_session_id(sc)) == 0);
    macp_error_free(err);

    /* Cancel by the initiator. */
    EXPECT(MACP_STATUS_OK, macp_session_cancel(sc, "done", &ack, NULL, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_CANCELLED);

    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(mallory);
    macp_client_free(coord);
}

static void test_connect_errors(void) {
    macp_client_options *o = NULL;
    macp_client *c = (macp_client *)0x1;
    EXPECT(MACP_STATUS_OK, macp_client_options_new(&o, &err));
    /* Plaintext needs explicit permission. */
    EXPECT(MACP_STATUS_OK, macp_client_options_set_target(o, "http://127.0.0.1:1", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_new(o, &c, NULL, &err));
    CHECK(c == NULL);
    /* Nothing listens on port 1. */
    EXPECT(MACP_STATUS_OK, macp_client_options_set_allow_insecure(o, true, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_connect_timeout_ms(o, 2000, &err));
    EXPECT(MACP_STATUS_TRANSPORT, macp_client_new(o, &c, NULL, &err));
    /* No target at all. */
    macp_client_options_free(o);
    EXPECT(MACP_STATUS_OK, macp_client_options_new(&o, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_new(o, &c, NULL, &err));
    macp_client_options_free(o);
}

struct worker {
    macp_session *session;
    int index;
    int ok;
};

static void *propose_many(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < 10; i++) {
        char pid[32];
        snprintf(pid, sizeof pid, "t%d-%d", w->index, i);
        macp_ack ack;
        if (macp_decision_propose(w->session, pid, "opt", NULL, NULL, 0, &ack, NULL, NULL) == MACP_STATUS_OK &&
            !ack.duplicate)
            w->ok++;
    }
    return NULL;
}

static void test_threads_share_a_client(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice");
    macp_session *sc = start_decision(coord), *sa = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){sa, i, 0};
        pthread_create(&t[i], NULL, propose_many, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += w[i].ok;
    }
    CHECK(total == 40);
    macp_session_info *info = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_get_info(sc, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(m != NULL);
    for (size_t i = 0; m && i < m->activity_len; i++)
        if (strcmp(m->activity[i].participant_id, "alice") == 0) CHECK(m->activity[i].message_count == 40);
    macp_session_info_free(info);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(coord);
}

struct completions {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok, duplicates;
    macp_status last_error;
    char last_code[64];
    char ids[300][MACP_ID_BUFFER_LEN];
};

static void on_sent(macp_status status, const macp_ack *ack, const macp_error *error, void *user_data) {
    struct completions *c = user_data;
    pthread_mutex_lock(&c->mu);
    if (status == MACP_STATUS_OK && ack && !error) {
        if (c->ok < 300) snprintf(c->ids[c->ok], MACP_ID_BUFFER_LEN, "%s", ack->message_id);
        c->ok++;
        c->duplicates += ack->duplicate;
    } else if (status != MACP_STATUS_OK && !ack && error) {
        c->last_error = macp_error_status(error);
        snprintf(c->last_code, sizeof c->last_code, "%s", macp_error_code(error));
    }
    c->done++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void wait_done(struct completions *c, int n) {
    pthread_mutex_lock(&c->mu);
    while (c->done < n) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void test_async_sends(void) {
    macp_client *coord = connect_as("coordinator"), *alice = connect_as("alice"), *mallory = connect_as("mallory");
    macp_session *sc = start_decision(coord), *sa = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_open(alice, macp_session_id(sc), &sa, NULL, &err));
    struct completions c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    /* Many sends in flight from one thread. */
    for (int i = 0; i < 200; i++) {
        uint8_t p[32];
        int n = snprintf((char *)p + 2, sizeof p - 5, "a%d", i);
        p[0] = 0x0a;
        p[1] = (uint8_t)n;
        p[2 + n] = 0x12;
        p[3 + n] = 1;
        p[4 + n] = 'o';
        EXPECT(MACP_STATUS_OK, macp_session_send_async(sa, "Proposal", p, (size_t)n + 5, on_sent, &c, NULL, &err));
    }
    wait_done(&c, 200);
    CHECK(c.ok == 200 && c.duplicates == 0);
    for (int i = 1; i < 200; i++) CHECK(strcmp(c.ids[i], c.ids[0]) != 0);
    macp_session_info *info = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_get_info(sc, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(m != NULL);
    for (size_t i = 0; m && i < m->activity_len; i++)
        if (strcmp(m->activity[i].participant_id, "alice") == 0) CHECK(m->activity[i].message_count == 200);
    macp_session_info_free(info);

    /* A refusal is reported through the callback, with its code. */
    EXPECT(MACP_STATUS_OK, macp_session_send_async(sa, "Vote", NULL, 0, on_sent, &c, NULL, &err));
    wait_done(&c, 201);
    CHECK(c.last_error == MACP_STATUS_INVALID_ENVELOPE);
    CHECK(strcmp(c.last_code, "INVALID_ENVELOPE") == 0);

    /* Bad input fails at once and never calls back. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_async(sa, "Proposal", NULL, 0, NULL, &c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_async(sa, NULL, NULL, 0, on_sent, &c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_async(sa, bad_utf8, NULL, 0, on_sent, &c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send_async(sa, "Proposal", NULL, 3, on_sent, &c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_session_send_async(sa, "Proposal", NULL, 0, on_sent, &c, CALL_ID("implicit-accept:x"), &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send_async(NULL, "Proposal", NULL, 0, on_sent, &c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE,
           macp_session_send_async((macp_session *)alice, "Proposal", NULL, 0, on_sent, &c, NULL, &err));
    /* The synchronous calls above cannot have raced a callback in. */
    pthread_mutex_lock(&c.mu);
    CHECK(c.done == 201);
    pthread_mutex_unlock(&c.mu);

    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    macp_session_free(sa);
    macp_session_free(sc);
    macp_client_free(mallory);
    macp_client_free(alice);
    macp_client_free(coord);
}

static void test_freed_client_cancels_sessions(void) {
    macp_client *coord = connect_as("coordinator");
    macp_session *sc = start_decision(coord);
    macp_client_free(coord);
    EXPECT(MACP_STATUS_CANCELLED, macp_session_cancel(sc, NULL, NULL, NULL, &err));
    macp_session_info *info = NULL;
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_get_session(coord, "x", &info, NULL, &err));
    CHECK(info == NULL);
    macp_session_free(sc);
    macp_session_free(sc);
}

/* Bad input: NULL, invalid UTF-8, empty strings, wrong/closed handles and
 * out-of-range numbers give a status and a message, never a crash. */
static void test_bad_input(void) {
    macp_client *client = connect_as("coordinator");
    macp_session *session = start_decision(client);
    macp_client_options *opts = NULL;
    macp_start_options *so = NULL;
    EXPECT(MACP_STATUS_OK, macp_client_options_new(&opts, &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_new(&so, &err));
    macp_client_options *freed_opts = freed_client_options();
    macp_session *closed = freed_session(client);
    macp_ack ack;
    macp_session_info *info = NULL;
    macp_session *out_s = NULL;
    macp_client *out_c = NULL;

    /* Status helpers and static strings. */
    CHECK(strcmp(macp_status_name(MACP_STATUS_TIMEOUT), "TIMEOUT") == 0);
    CHECK(strcmp(macp_status_name(99999), "UNKNOWN") == 0);
    CHECK(strcmp(macp_session_state_name(-1), "UNSPECIFIED") == 0);
    CHECK(macp_status_is_transient(MACP_STATUS_RATE_LIMITED));
    CHECK(!macp_status_is_transient(-5));
    CHECK(strlen(macp_version()) > 0);
    char small[8];
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_new_id(small, sizeof small, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_new_id(NULL, 64, &err));

    /* Error objects: invalid handles read as harmless values. */
    CHECK(macp_error_status(NULL) == MACP_STATUS_INVALID_HANDLE);
    CHECK(macp_error_status(NOT_A_HANDLE) == MACP_STATUS_INVALID_HANDLE);
    CHECK(strlen(macp_error_message(NOT_A_HANDLE)) > 0);
    CHECK(macp_error_code(NULL) != NULL && macp_error_session_id(NULL) != NULL && macp_error_message_id(NULL) != NULL);
    CHECK(macp_error_grpc_code(NOT_A_HANDLE) == 0);
    const uint8_t *d = (const uint8_t *)1;
    size_t dl = 7;
    macp_error_details(NOT_A_HANDLE, &d, &dl);
    CHECK(d == NULL && dl == 0);
    macp_error_details(NULL, NULL, NULL);
    macp_error_free(NOT_A_HANDLE);
    macp_error_free(NULL);
    /* A NULL error argument is allowed. */
    CHECK(macp_client_options_set_target(NULL, "x", NULL) == MACP_STATUS_INVALID_HANDLE);

    /* Client options. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_new(NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_target(NULL, "h:1", &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_target(freed_opts, "h:1", &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_target((macp_client_options *)client, "h:1", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_target(opts, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_target(opts, "", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_target(opts, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_bearer_token(opts, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_bearer_token(opts, "two words", &err));
    /* NULL (an unset getenv()) is refused; removing a token is explicit. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_bearer_token(opts, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_clear_bearer_token(opts, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_allow_insecure(NOT_A_HANDLE, true, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_ca_pem(opts, NULL, 10, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_ca_pem(opts, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_ca_pem(NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_tls_domain(opts, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_tls_domain(NOT_A_HANDLE, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_connect_timeout_ms(opts, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_connect_timeout_ms(opts, UINT64_MAX, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_connect_timeout_ms(NULL, 10, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_call_timeout_ms(opts, UINT64_MAX, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_call_timeout_ms(opts, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_call_timeout_ms(NOT_A_HANDLE, 10, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_expected_sender(opts, "", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_expected_sender(opts, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_expected_sender(NULL, "a", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_retry_policy(opts, 1000, 1, 2, true, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_retry_policy(opts, 3, 500, 100, true, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_retry_policy(opts, 3, 1, UINT64_MAX, true, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_retry_policy(opts, 0, 0, 0, false, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_retry_policy(NOT_A_HANDLE, 1, 1, 1, false, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_max_payload_bytes(opts, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT,
           macp_client_options_set_max_payload_bytes(opts, MACP_MAX_PAYLOAD_LIMIT_BYTES + 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_max_payload_bytes(opts, UINT64_MAX, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_max_payload_bytes(opts, MACP_MAX_PAYLOAD_LIMIT_BYTES, &err));
    EXPECT(MACP_STATUS_OK, macp_client_options_set_max_payload_bytes(opts, 1048576, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_max_payload_bytes(NOT_A_HANDLE, 1048576, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_max_payload_bytes(NULL, 1048576, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_info(opts, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_info(opts, "n", bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_client_info(NULL, "n", NULL, &err));
    macp_client_options_free(NOT_A_HANDLE);
    macp_client_options_free(NULL);

    /* Client. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_new(NULL, &out_c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_new(freed_opts, &out_c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_new(opts, NULL, NULL, &err));
    CHECK(strcmp(macp_client_protocol_version(NOT_A_HANDLE), "") == 0);
    CHECK(strcmp(macp_client_protocol_version(NULL), "") == 0);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_get_session(NOT_A_HANDLE, "x", &info, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_get_session((macp_client *)session, "x", &info, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_session(client, NULL, &info, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_session(client, bad_utf8, &info, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_session(client, "x", NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_cancel_session(NULL, "x", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_cancel_session(client, "", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_cancel_session(client, "x", bad_utf8, &ack, NULL, &err));
    macp_client_free(NOT_A_HANDLE);
    macp_client_free(NULL);
    macp_session_info_free(NOT_A_HANDLE);
    macp_session_info_free(NULL);

    /* Start options. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_new(NULL, &err));
    EXPECT(MACP_STATUS_INVALID_SESSION_ID, macp_start_options_set_session_id(so, "not-a-valid-id", &err));
    EXPECT(MACP_STATUS_INVALID_SESSION_ID, macp_start_options_set_session_id(so, "short", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_session_id(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_OK, macp_start_options_set_session_id(so, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_session_id(NOT_A_HANDLE, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_intent(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_intent(NULL, "i", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_mode_version(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_mode_version((macp_start_options *)opts, "1", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_configuration_version(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_configuration_version(NOT_A_HANDLE, "c", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_policy_version(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_policy_version(NULL, "p", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_context_id(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_context_id(NOT_A_HANDLE, "c", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_add_participant(so, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_add_participant(so, "", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_add_participant(so, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_add_participant(NULL, "a", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_ttl_ms(so, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_ttl_ms(so, -5, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_ttl_ms(NOT_A_HANDLE, 5, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_max_suspend_ms(so, -1, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_max_suspend_ms(NULL, 1, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_extension(so, NULL, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_set_extension(so, "k", NULL, 3, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_set_extension(NOT_A_HANDLE, "k", NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_add_root(so, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_start_options_add_root(so, "u", bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_start_options_add_root(NULL, "u", NULL, &err));
    macp_start_options_free(NOT_A_HANDLE);
    macp_start_options_free(NULL);

    /* Sessions. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_start(NOT_A_HANDLE, MACP_MODE_DECISION, so, &out_s, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_start(client, MACP_MODE_DECISION, NOT_A_HANDLE, &out_s, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_start(client, NULL, so, &out_s, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_start(client, bad_utf8, so, &out_s, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_start(client, MACP_MODE_DECISION, so, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_open(NULL, "x", &out_s, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_open(client, NULL, &out_s, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_open(client, bad_utf8, &out_s, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_open(client, "x", NULL, NULL, &err));
    CHECK(strcmp(macp_session_id(closed), "") == 0);
    CHECK(strcmp(macp_session_mode(NOT_A_HANDLE), "") == 0);
    CHECK(strcmp(macp_session_id(NULL), "") == 0);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send(closed, "Proposal", NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_send((macp_session *)client, "Proposal", NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, bad_utf8, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, "Proposal", NULL, 5, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, "Proposal", NULL, 0, &ack, CALL_ID(""), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, "Proposal", NULL, 0, &ack, CALL_ID(bad_utf8), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, "Proposal", NULL, 0, &ack, CALL_ID("implicit-accept:x"), &err));
    char long_id[200];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_send(session, "Proposal", NULL, 0, &ack, CALL_ID(long_id), &err));
    macp_commitment c = {0};
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_commit(session, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_commit(session, &c, &ack, NULL, &err)); /* no action */
    c.action = bad_utf8;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_commit(session, &c, &ack, NULL, &err));
    c.action = "decision.selected";
    c.supersedes_session_id = "x";
    c.supersedes_commitment_hash = "sha256:nothex";
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_commit(session, &c, &ack, NULL, &err));
    c.supersedes_session_id = NULL;
    c.supersedes_commitment_hash = NULL;
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_commit(closed, &c, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_get_info(NOT_A_HANDLE, &info, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_get_info(session, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_cancel(closed, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, bad_utf8, &ack, NULL, &err));
    macp_session_free(NOT_A_HANDLE);
    macp_session_free(NULL);

    /* Decision helpers. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_propose(closed, "p", "o", NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_propose(session, NULL, "o", NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_propose(session, "p", "", NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_propose(session, "p", "o", bad_utf8, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_propose(session, "p", "o", NULL, NULL, 9, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_evaluate(NOT_A_HANDLE, "p", "APPROVE", 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_evaluate(session, "p", NULL, 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_evaluate(session, "p", "APPROVE", 1.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_evaluate(session, "p", "APPROVE", -0.1, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_evaluate(session, "p", "APPROVE", NAN, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_evaluate(session, bad_utf8, "APPROVE", 0.5, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_object(NULL, "p", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_object(session, "", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_object(session, "p", NULL, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_object(session, "p", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_vote(closed, "p", "APPROVE", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_vote(session, "p", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_vote(session, "p", "APPROVE", bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_commit(NOT_A_HANDLE, "a", NULL, NULL, true, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_commit(session, NULL, NULL, NULL, true, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_commit(session, "a", bad_utf8, NULL, true, &ack, NULL, &err));

    /* The session is untouched by all of the above. */
    EXPECT(MACP_STATUS_OK, macp_session_get_info(session, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(m && m->state == MACP_SESSION_STATE_OPEN);
    macp_session_info_free(info);

    macp_start_options_free(so);
    macp_client_options_free(opts);
    macp_session_free(session);
    macp_client_free(client);
}

/* Library strings: read through their handle, "" and 0 once freed or for
 * any handle that is not a live string; a stale free releases nothing. */
static void test_strings(void) {
    macp_client *client = connect_as("coordinator");
    macp_session *session = start_decision(client);
    macp_string *a = NULL, *b = NULL;

    EXPECT(MACP_STATUS_OK, macp_payload_type(MACP_MODE_DECISION, "Vote", &a, &err));
    CHECK(string_is(a, "macp.modes.decision.v1.VotePayload"));
    const char *view = macp_string_ptr(a);
    CHECK(view == macp_string_ptr(a)); /* one borrowed text while it lives */
    macp_string_free(a);
    CHECK(strcmp(macp_string_ptr(a), "") == 0 && macp_string_len(a) == 0); /* read after free */

    /* Stale free: with the system allocator, b may reuse a's memory; the
     * second free of a must not release b. */
    EXPECT(MACP_STATUS_OK, macp_payload_type(MACP_MODE_DECISION, "Proposal", &b, &err));
    CHECK(b != NULL && b != a); /* handles are never reused */
    macp_string_free(a);
    CHECK(string_is(b, "macp.modes.decision.v1.ProposalPayload"));

    /* Not a live string: NULL, never issued, another type's handle. */
    CHECK(strcmp(macp_string_ptr(NULL), "") == 0 && macp_string_len(NULL) == 0);
    CHECK(strcmp(macp_string_ptr(NOT_A_HANDLE), "") == 0 && macp_string_len(NOT_A_HANDLE) == 0);
    CHECK(strcmp(macp_string_ptr((const macp_string *)session), "") == 0);
    CHECK(macp_string_len((const macp_string *)session) == 0);
    CHECK(strcmp(macp_string_ptr((const macp_string *)bad_utf8), "") == 0);
    /* Frees of what is not a live string are ignored, and free nothing
     * else: the session and b live on. */
    macp_string_free(NULL);
    macp_string_free(NOT_A_HANDLE);
    macp_string_free((macp_string *)bad_utf8); /* not the library's */
    macp_string_free((macp_string *)session);
    CHECK(strlen(macp_session_id(session)) == 36);
    macp_session_free((macp_session *)b);
    CHECK(string_is(b, "macp.modes.decision.v1.ProposalPayload"));
    macp_string_free(b);
    CHECK(strcmp(macp_string_ptr(b), "") == 0 && macp_string_len(b) == 0);
    macp_string_free(b); /* double free is ignored */

    macp_session_free(session);
    macp_client_free(client);
}

/* Session infos and lists: views only from live handles of their own type;
 * listing refuses bad arguments and leaves `*out` NULL. */
static void test_session_info_and_list_bad_input(void) {
    macp_client *client = connect_as("coordinator");
    macp_session *s1 = start_decision(client), *s2 = start_decision(client);
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_clients(bad, s1);
    macp_session_info *info = NULL, *freed_info = NULL;
    macp_session_list *list = NULL, *freed_list = NULL, *page = NULL;
    macp_string *str = NULL;
    EXPECT(MACP_STATUS_OK, macp_session_get_info(s1, &info, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_session_get_info(s1, &freed_info, NULL, &err));
    macp_session_info_free(freed_info);
    EXPECT(MACP_STATUS_OK, macp_client_list_sessions(client, 1, NULL, &list, NULL, &err));
    EXPECT(MACP_STATUS_OK, macp_client_list_all_sessions(client, &freed_list, NULL, &err));
    macp_session_list_free(freed_list);
    EXPECT(MACP_STATUS_OK, macp_payload_type(MACP_MODE_DECISION, "Vote", &str, &err));

    /* Session info. */
    CHECK(macp_session_info_metadata(info) != NULL);
    CHECK(macp_session_info_metadata(NULL) == NULL);
    CHECK(macp_session_info_metadata(NOT_A_HANDLE) == NULL);
    CHECK(macp_session_info_metadata(freed_info) == NULL);
    CHECK(macp_session_info_metadata((const macp_session_info *)s1) == NULL);
    CHECK(macp_session_info_metadata((const macp_session_info *)list) == NULL);
    CHECK(macp_session_info_metadata((const macp_session_info *)str) == NULL);
    macp_session_info *no_info = NULL;
    EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, no_info, macp_session_get_info(NULL, &no_info, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, no_info, macp_client_get_session(bad[1], macp_session_id(s1), &no_info, NULL, &err));

    /* Session list: one page of one session, then the next page. */
    CHECK(macp_session_list_len(list) == 1);
    const macp_session_metadata *first = macp_session_list_at(list, 0);
    CHECK(first != NULL);
    CHECK(macp_session_list_at(list, 1) == NULL);
    CHECK(macp_session_list_at(list, SIZE_MAX) == NULL);
    const char *token = macp_session_list_next_page_token(list);
    CHECK(strlen(token) > 0); /* two sessions or more: not the last page */
    EXPECT(MACP_STATUS_OK, macp_client_list_sessions(client, 1, token, &page, NULL, &err));
    CHECK(macp_session_list_len(page) == 1);
    const macp_session_metadata *second = macp_session_list_at(page, 0);
    CHECK(first && second && strcmp(first->session_id, second->session_id) != 0);
    macp_session_list_free(page);
    /* Not a live list: NULL, never issued, freed, another type's handle. */
    const macp_session_list *bad_lists[] = {NULL, NOT_A_HANDLE, freed_list, (const macp_session_list *)info,
                                            (const macp_session_list *)s1, (const macp_session_list *)str};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        CHECK(macp_session_list_len(bad_lists[i]) == 0);
        CHECK(macp_session_list_at(bad_lists[i], 0) == NULL);
        CHECK(strcmp(macp_session_list_next_page_token(bad_lists[i]), "") == 0);
    }
    /* Listing: a negative page size, a token that is not UTF-8 or not the
     * runtime's, no out pointer, bad client handles. */
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, page, macp_client_list_sessions(client, -1, NULL, &page, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, page, macp_client_list_sessions(client, 1, bad_utf8, &page, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_sessions(client, 1, NULL, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_list_all_sessions(client, NULL, NULL, &err));
    page = NOT_A_HANDLE;
    FAILS_ANY(macp_client_list_sessions(client, 1, "not a token", &page, NULL, &err));
    CHECK(page == NULL);
    for (size_t i = 0; i < BAD_HANDLE_KINDS; i++) {
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, page, macp_client_list_sessions(bad[i], 0, NULL, &page, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, page, macp_client_list_all_sessions(bad[i], &page, NULL, &err));
    }

    /* Frees of the wrong type free nothing; each free ignores NULL, never
     * issued, freed and foreign handles. */
    macp_session_list_free((macp_session_list *)info);
    macp_session_info_free((macp_session_info *)list);
    CHECK(macp_session_info_metadata(info) != NULL);
    CHECK(macp_session_list_len(list) == 1);
    macp_session_info_free(NULL);
    macp_session_info_free(NOT_A_HANDLE);
    macp_session_info_free(freed_info);
    macp_session_list_free(NULL);
    macp_session_list_free(NOT_A_HANDLE);
    macp_session_list_free(freed_list);

    macp_string_free(str);
    macp_session_list_free(list);
    macp_session_info_free(info);
    macp_session_free(s2);
    macp_session_free(s1);
    macp_client_free(client);
}

/* Receipts: the verification is a handle read through
 * macp_receipt_verification_result; fetching refuses bad handles. */
static void test_receipts_bad_input(void) {
    macp_client *client = connect_as("coordinator");
    macp_session *session = start_decision(client);
    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_clients(bad, session);
    const char *keys[] = {"{\"keys\":[]}"};
    const char *null_key[] = {NULL};
    const char *bad_key[] = {bad_utf8};
    const char *not_json_key[] = {"["};
    macp_receipt_verification *v = NULL, *freed = NULL;
    macp_string *text = NULL;

    /* A JSON value that is not a receipt is a verdict, not an error. */
    EXPECT(MACP_STATUS_OK, macp_receipt_verify("[]", keys, 1, &v, &err));
    const macp_receipt_verify_result *r = macp_receipt_verification_result(v);
    CHECK(r != NULL);
    if (r) {
        CHECK(r->verdict == MACP_RECEIPT_VERDICT_REFUSED);
        CHECK(r->integrity == MACP_RECEIPT_INTEGRITY_NOT_CHECKED);
        CHECK(r->attestations_len == 0);
    }
    CHECK(macp_receipt_verification_result(v) == r);
    EXPECT(MACP_STATUS_OK, macp_receipt_verify("{}", NULL, 0, &freed, &err));
    macp_receipt_verification_free(freed);
    EXPECT(MACP_STATUS_OK, macp_payload_type(MACP_MODE_DECISION, "Vote", &text, &err));

    /* Not a live verification. */
    CHECK(macp_receipt_verification_result(NULL) == NULL);
    CHECK(macp_receipt_verification_result(NOT_A_HANDLE) == NULL);
    CHECK(macp_receipt_verification_result(freed) == NULL);
    CHECK(macp_receipt_verification_result((const macp_receipt_verification *)text) == NULL);
    CHECK(macp_receipt_verification_result((const macp_receipt_verification *)session) == NULL);

    /* Bad receipts and keys: `*out` stays NULL. */
    macp_receipt_verification *out = NULL;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify(NULL, keys, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify(bad_utf8, keys, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{", keys, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{}", NULL, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{}", null_key, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{}", bad_key, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{}", not_json_key, 1, &out, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, out, macp_receipt_verify("{}", keys, SIZE_MAX, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_receipt_verify("{}", keys, 1, NULL, &err));

    /* Fetching: bad client handles, bad session ids, no out pointer. */
    macp_string *json = NULL;
    for (size_t i = 0; i < BAD_HANDLE_KINDS; i++) {
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, json,
                   macp_client_get_decision_receipt(bad[i], macp_session_id(session), &json, NULL, &err));
        EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, json, macp_client_get_receipt_keys(bad[i], &json, NULL, &err));
    }
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_client_get_decision_receipt(client, NULL, &json, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, json, macp_client_get_decision_receipt(client, bad_utf8, &json, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_decision_receipt(client, macp_session_id(session), NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_get_receipt_keys(client, NULL, NULL, &err));

    /* A wrong-type free frees nothing; frees ignore what is not live. */
    macp_receipt_verification_free((macp_receipt_verification *)text);
    CHECK(string_is(text, "macp.modes.decision.v1.VotePayload"));
    macp_string_free((macp_string *)v);
    CHECK(macp_receipt_verification_result(v) == r);
    macp_receipt_verification_free(NULL);
    macp_receipt_verification_free(NOT_A_HANDLE);
    macp_receipt_verification_free(freed);

    macp_string_free(text);
    macp_receipt_verification_free(v);
    CHECK(macp_receipt_verification_result(v) == NULL);
    macp_receipt_verification_free(v);
    macp_session_free(session);
    macp_client_free(client);
}

/* ---------------------------------------------------------------- main */

/* Call options and cancellation tokens: bad input is refused, a triggered
 * token ends the call before anything is sent, and every failure says
 * whether its request may have taken effect. */
static void test_call_options(void) {
    macp_client *client = connect_as("calls");
    macp_session *session = start_decision(client);
    macp_ack ack;
    macp_error *err = NULL;

    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_cancel_new(NULL, &err));
    macp_cancel *cancel = NULL;
    OK(macp_cancel_new(&cancel, &err));
    CHECK(!macp_cancel_is_triggered(cancel));
    macp_call_options call = macp_call_options_default();
    CHECK(call.cancel == NULL && call.timeout_ms == 0 && call.message_id == NULL);
    call.cancel = cancel;
    OK(macp_session_progress(session, NULL, 1, 2, "half", NULL, &ack, &call, &err));

    /* Triggered first: the call ends at once and nothing was sent. */
    macp_cancel_trigger(cancel);
    macp_cancel_trigger(cancel); /* twice is harmless */
    CHECK(macp_cancel_is_triggered(cancel));
    call.message_id = "cancelled-1";
    CHECK(macp_session_progress(session, NULL, 1, 2, "half", NULL, &ack, &call, &err) == MACP_STATUS_CANCELLED);
    CHECK(macp_error_delivery(err) == MACP_DELIVERY_NOT_SENT);
    CHECK(strcmp(macp_error_message_id(err), "cancelled-1") == 0);
    macp_error_free(err);
    err = NULL;

    /* Bad options. */
    macp_call_options bad = macp_call_options_default();
    bad.cancel = NOT_A_HANDLE;
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_get_info(session, &(macp_session_info *){NULL}, &bad, &err));
    bad.cancel = (const macp_cancel *)client;
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_cancel(session, NULL, &ack, &bad, &err));
    bad = macp_call_options_default();
    bad.message_id = bad_utf8;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_vote(session, "p1", "APPROVE", NULL, &ack, &bad, &err));
    bad.message_id = "an-id";
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, NULL, &ack, &bad, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_send_envelope(client, NULL, 0, &ack, &bad, &err));
    bad = macp_call_options_default();
    bad.traceparent = bad_utf8;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, NULL, &ack, &bad, &err));
    bad.traceparent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, NULL, &ack, &bad, &err));
    bad.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    bad.tracestate = bad_utf8;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, NULL, &ack, &bad, &err));
    bad = macp_call_options_default();
    bad.timeout_ms = UINT64_MAX;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_cancel(session, NULL, &ack, &bad, &err));

    /* A refusal says the runtime did not apply it; a local one that nothing
     * was sent. */
    CHECK(macp_decision_vote(session, "no-such-proposal", "APPROVE", NULL, &ack, NULL, &err) != MACP_STATUS_OK);
    CHECK(macp_error_delivery(err) == MACP_DELIVERY_REFUSED);
    CHECK(strlen(macp_error_message_id(err)) > 0);
    macp_error_free(err);
    err = NULL;
    CHECK(macp_decision_vote(session, "", "APPROVE", NULL, &ack, NULL, &err) == MACP_STATUS_INVALID_ARGUMENT);
    CHECK(macp_error_delivery(err) == MACP_DELIVERY_NOT_SENT);
    macp_error_free(err);
    err = NULL;

    /* Bad handles are ignored or reported, never dereferenced. */
    CHECK(macp_error_delivery(NULL) == MACP_DELIVERY_UNKNOWN);
    CHECK(macp_error_delivery(NOT_A_HANDLE) == MACP_DELIVERY_UNKNOWN);
    macp_cancel_trigger(NULL);
    macp_cancel_trigger(NOT_A_HANDLE);
    CHECK(!macp_cancel_is_triggered(NULL));
    CHECK(!macp_cancel_is_triggered((const macp_cancel *)client));
    macp_cancel_free(cancel);
    macp_cancel_free(cancel);
    macp_cancel_free(NULL);
    CHECK(!macp_cancel_is_triggered(cancel));
    call.message_id = NULL;
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_progress(session, NULL, 1, 2, NULL, NULL, &ack, &call, &err));

    macp_session_free(session);
    macp_client_free(client);
}

int main(void) {
    const struct test tests[] = {
        {"decision_flow", test_decision_flow},
        {"runtime_errors", test_runtime_errors},
        {"connect_errors", test_connect_errors},
        {"threads_share_a_client", test_threads_share_a_client},
        {"async_sends", test_async_sends},
        {"freed_client_cancels_sessions", test_freed_client_cancels_sessions},
        {"bad_input", test_bad_input},
        {"strings", test_strings},
        {"session_info_and_list_bad_input", test_session_info_and_list_bad_input},
        {"receipts_bad_input", test_receipts_bad_input},
        {"call_options", test_call_options},
    };
    return run_tests("c-abi", tests, sizeof tests / sizeof tests[0]);
}
