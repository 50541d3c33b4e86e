/*
 * C tests of operating a client, against a real macp-runtime at
 * $MACP_TARGET (development authentication: the bearer token is the
 * identity), run under valgrind by scripts/test.sh: the log callback (what
 * it receives, that it never shows a token or payload bytes, that NULL
 * turns it off), a bearer token replaced on a live client, trace context
 * and client identity setters, and bad input to each.
 *
 * The last line is "N passed, N failed".
 */
#include <pthread.h>

#include "harness.h"

#define MAX_LINES 512

/* What the log callback saw: one "level target message k=v..." line per
 * record. Written from library threads, read by the test thread. */
struct log_lines {
    pthread_mutex_t mu;
    int count;
    int dropped;
    char line[MAX_LINES][512];
};

static struct log_lines lines = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {{0}}};

static void on_log(const macp_log_record *r, void *user_data) {
    struct log_lines *l = user_data;
    pthread_mutex_lock(&l->mu);
    if (l->count < MAX_LINES) {
        char *s = l->line[l->count++];
        int n = snprintf(s, 512, "%s %s %s", macp_log_level_name((int)r->level), r->target, r->message);
        for (size_t i = 0; i < r->field_count && n > 0 && n < 512; i++)
            n += snprintf(s + n, 512 - (size_t)n, " %s=%s", r->fields[i].key, r->fields[i].value);
    } else {
        l->dropped++;
    }
    pthread_mutex_unlock(&l->mu);
}

/* Lines seen so far that contain `needle`. */
static int lines_with(const char *needle) {
    int n = 0;
    pthread_mutex_lock(&lines.mu);
    for (int i = 0; i < lines.count; i++)
        if (strstr(lines.line[i], needle)) n++;
    pthread_mutex_unlock(&lines.mu);
    return n;
}

static int line_count(void) {
    pthread_mutex_lock(&lines.mu);
    int n = lines.count;
    pthread_mutex_unlock(&lines.mu);
    return n;
}

static const uint8_t marker[] = "PAYLOAD-MARKER-c0de";

static void test_log_callback_reports_without_secrets(void) {
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_set_log_callback(-1, on_log, &lines, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_set_log_callback(6, on_log, &lines, &err));
    OK(macp_set_log_callback(MACP_LOG_LEVEL_TRACE, on_log, &lines, &err));

    macp_client *coord = connect_as("coordinator");
    macp_session *s = start_decision(coord);
    macp_client *alice = connect_as("alice");
    macp_session *as = NULL;
    OK(macp_session_open(alice, macp_session_id(s), &as, NULL, &err));
    OK(macp_decision_propose(as, "p1", "x", "", marker, sizeof marker - 1, NULL, NULL, &err));
    /* A refused send: the same proposal again. */
    FAILS_ANY(macp_decision_propose(as, "p1", "x", "", marker, sizeof marker - 1, NULL, NULL, &err));

    CHECK(lines_with("info macp::client connected target=") >= 2);
    CHECK(lines_with("trace macp::client message accepted") >= 2);
    CHECK(lines_with("warn macp::client send refused") == 1);
    CHECK(lines_with("PAYLOAD-MARKER") == 0);
    CHECK(lines_with("Bearer") == 0);

    /* NULL turns it off: nothing more arrives. */
    OK(macp_set_log_callback(MACP_LOG_LEVEL_TRACE, NULL, NULL, &err));
    int before = line_count();
    OK(macp_decision_propose(as, "p2", "x", "", marker, sizeof marker - 1, NULL, NULL, &err));
    CHECK(line_count() == before);
    CHECK(strcmp(macp_log_level_name(MACP_LOG_LEVEL_WARN), "warn") == 0);
    CHECK(strcmp(macp_log_level_name(0), "off") == 0);
    CHECK(strcmp(macp_log_level_name(17), "unknown") == 0);

    macp_session_free(as);
    macp_session_free(s);
    macp_client_free(alice);
    macp_client_free(coord);
}

/* A token with the secret in it never shows in a record. */
static void test_tokens_never_show_in_records(void) {
    OK(macp_set_log_callback(MACP_LOG_LEVEL_TRACE, on_log, &lines, &err));
    macp_client *c = connect_as("tok-secret-4411");
    OK(macp_client_set_bearer_token(c, "tok-secret-5522", &err));
    CHECK(lines_with("bearer token replaced") >= 1);
    CHECK(lines_with("tok-secret") == 0);
    OK(macp_set_log_callback(MACP_LOG_LEVEL_OFF, on_log, &lines, &err));
    macp_client_free(c);
}

static void test_a_replaced_token_is_the_identity_of_later_calls(void) {
    macp_client *coord = connect_as("coordinator");
    macp_session *s = start_decision(coord);
    macp_client *c = connect_as("alice");
    macp_session *as = NULL;
    OK(macp_session_open(c, macp_session_id(s), &as, NULL, &err));
    OK(macp_decision_propose(as, "p1", "x", "", NULL, 0, NULL, NULL, &err));
    /* mallory is no participant: the same handles now speak as mallory. */
    OK(macp_client_set_bearer_token(c, "mallory", &err));
    EXPECT(MACP_STATUS_FORBIDDEN, macp_decision_propose(as, "p2", "x", "", NULL, 0, NULL, NULL, &err));
    OK(macp_client_set_bearer_token(c, "bob", &err));
    OK(macp_decision_propose(as, "p3", "x", "", NULL, 0, NULL, NULL, &err));
    /* Cleared: no credential at all. */
    OK(macp_client_clear_bearer_token(c, &err));
    EXPECT(MACP_STATUS_UNAUTHENTICATED, macp_decision_propose(as, "p4", "x", "", NULL, 0, NULL, NULL, &err));

    /* Bad input leaves the credential alone. */
    OK(macp_client_set_bearer_token(c, "bob", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_bearer_token(c, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_bearer_token(c, "", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_bearer_token(c, "two words", &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_bearer_token(c, bad_utf8, &err));
    OK(macp_decision_propose(as, "p5", "x", "", NULL, 0, NULL, NULL, &err));

    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_clients(bad, s);
    for (int i = 0; i < BAD_HANDLE_KINDS; i++) {
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_set_bearer_token(bad[i], "bob", &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_clear_bearer_token(bad[i], &err));
    }
    macp_session_free(as);
    macp_session_free(s);
    macp_client_free(c);
    macp_client_free(coord);
}

static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static void test_trace_context_is_checked(void) {
    macp_client *c = connect_as("coordinator");
    macp_session *s = start_decision(c);
    OK(macp_client_set_trace_context(c, tp, "vendor=1", &err));
    OK(macp_session_set_trace_context(s, tp, NULL, &err));
    /* Calls go on carrying it. */
    macp_session_info *info = NULL;
    OK(macp_session_get_info(s, &info, NULL, &err));
    macp_session_info_free(info);
    static const char *const bad_tp[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      /* short */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",   /* uppercase */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* zero parent id */
    };
    for (size_t i = 0; i < sizeof bad_tp / sizeof *bad_tp; i++) {
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_trace_context(c, bad_tp[i], NULL, &err));
        EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_session_set_trace_context(s, bad_tp[i], NULL, &err));
    }
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_trace_context(c, bad_utf8, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_trace_context(c, tp, bad_utf8, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_set_trace_context(c, tp, "a=b\n", &err));
    OK(macp_client_set_trace_context(c, NULL, NULL, &err));
    OK(macp_session_set_trace_context(s, NULL, NULL, &err));

    const macp_client *bad[BAD_HANDLE_KINDS];
    bad_clients(bad, s);
    const macp_session *bad_s[BAD_HANDLE_KINDS];
    bad_sessions(bad_s, c, c);
    for (int i = 0; i < BAD_HANDLE_KINDS; i++) {
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_set_trace_context(bad[i], tp, NULL, &err));
        EXPECT(MACP_STATUS_INVALID_HANDLE, macp_session_set_trace_context(bad_s[i], tp, NULL, &err));
    }
    macp_session_free(s);
    macp_client_free(c);
}

static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
static const char key[] = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

static void test_client_identity_setter_checks_its_input(void) {
    macp_client_options *o = NULL;
    OK(macp_client_options_new(&o, &err));
    const uint8_t *c = (const uint8_t *)cert, *k = (const uint8_t *)key;
    OK(macp_client_options_set_client_identity(o, c, strlen(cert), k, strlen(key), &err));
    OK(macp_client_options_set_client_identity(o, NULL, 0, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, NULL, 4, k, strlen(key), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, c, strlen(cert), NULL, 4, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, k, strlen(key), k, strlen(key), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, c, strlen(cert), c, strlen(cert), &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, c, strlen(cert), NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_client_identity(o, (const uint8_t *)bad_utf8, 2, k, strlen(key), &err));
    /* A client certificate needs TLS: a plaintext target is refused at connect. */
    OK(macp_client_options_set_target(o, target, &err));
    OK(macp_client_options_set_allow_insecure(o, true, &err));
    OK(macp_client_options_set_client_identity(o, c, strlen(cert), k, strlen(key), &err));
    macp_client *client = NOT_A_HANDLE;
    EXPECT_OUT(MACP_STATUS_INVALID_ARGUMENT, client, macp_client_new(o, &client, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_client_identity(NULL, c, strlen(cert), k, strlen(key), &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_client_identity(NOT_A_HANDLE, c, strlen(cert), k, strlen(key), &err));
    /* NULL no longer removes a token; the explicit clear does. */
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_client_options_set_bearer_token(o, NULL, &err));
    OK(macp_client_options_clear_bearer_token(o, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_clear_bearer_token(NULL, &err));
    macp_client_options_free(o);
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_client_options_set_client_identity(o, c, strlen(cert), k, strlen(key), &err));
}

int main(void) {
    static const struct test tests[] = {
        {"log callback reports without secrets", test_log_callback_reports_without_secrets},
        {"tokens never show in records", test_tokens_never_show_in_records},
        {"a replaced token is the identity of later calls", test_a_replaced_token_is_the_identity_of_later_calls},
        {"trace context is checked", test_trace_context_is_checked},
        {"client identity setter checks its input", test_client_identity_setter_checks_its_input},
    };
    int rc = run_tests("ops", tests, sizeof tests / sizeof *tests);
    macp_set_log_callback(MACP_LOG_LEVEL_OFF, NULL, NULL, NULL);
    return rc;
}
