/*
 * The shared harness of the C ABI tests: checks, status expectations, a
 * client per identity, sessions to test with, the bad-input fixtures (a
 * string that is not UTF-8, handles never issued, freed, or of another
 * type), and a runner whose last line is "N passed, N failed".
 *
 * Every test file includes it once; its functions are static, and static
 * inline where a file may leave them unused. Tests run against a real
 * macp-runtime at $MACP_TARGET (scripts/with-runtime.sh starts one) and
 * under valgrind by scripts/test.sh.
 */
#ifndef MACP_TEST_HARNESS_H
#define MACP_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macp.h"

static int failures_in_test;
static const char *target;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            failures_in_test++;                                                          \
        }                                                                                \
    } while (0)

/* Check that `st` equals `want` and that `err` is a matching error object
 * (set, same status, non-empty message) or NULL on success; frees `err`. */
static void expect_status(const char *where, int line, macp_status st, macp_error *err, macp_status want) {
    if (st != want) {
        fprintf(stderr, "  %s:%d: got %s (%s), want %s\n", where, line, macp_status_name(st),
                err ? macp_error_message(err) : "no error object", macp_status_name(want));
        failures_in_test++;
    } else if (want != MACP_STATUS_OK) {
        if (err == NULL || macp_error_status(err) != want || strlen(macp_error_message(err)) == 0) {
            fprintf(stderr, "  %s:%d: error object missing or inconsistent\n", where, line);
            failures_in_test++;
        }
    } else if (err != NULL) {
        fprintf(stderr, "  %s:%d: error object set on success\n", where, line);
        failures_in_test++;
    }
    macp_error_free(err);
}

/* Run a call that passes `&err` as its error argument and expect `want`. */
#define EXPECT(want, call_with_err_arg)                                                  \
    do {                                                                                 \
        macp_error *err = NULL;                                                          \
        macp_status st_ = call_with_err_arg;                                             \
        expect_status(__FILE__, __LINE__, st_, err, want);                               \
    } while (0)
#define OK(call_with_err_arg) EXPECT(MACP_STATUS_OK, call_with_err_arg)

/* Run a call that passes `&err` and expect it to fail (any status but OK),
 * with an error object; frees it. */
#define FAILS_ANY(call_with_err_arg)                                                         \
    do {                                                                                 \
        macp_error *err = NULL;                                                          \
        macp_status st_ = call_with_err_arg;                                             \
        if (st_ == MACP_STATUS_OK || err == NULL || strlen(macp_error_message(err)) == 0) { \
            fprintf(stderr, "  %s:%d: expected a failure with an error, got %s\n",      \
                    __FILE__, __LINE__, macp_status_name(st_));                          \
            failures_in_test++;                                                          \
        }                                                                                \
        macp_error_free(err);                                                            \
    } while (0)

/* A client of the runtime at `target`, authenticated as `identity`. */
static macp_client *connect_as(const char *identity) {
    macp_client_options *o = NULL;
    macp_client *c = NULL;
    OK(macp_client_options_new(&o, &err));
    OK(macp_client_options_set_target(o, target, &err));
    OK(macp_client_options_set_allow_insecure(o, true, &err));
    OK(macp_client_options_set_bearer_token(o, identity, &err));
    OK(macp_client_options_set_call_timeout_ms(o, 10000, &err));
    /* Generous: under valgrind on a busy machine a first connect is slow. */
    OK(macp_client_options_set_connect_timeout_ms(o, 60000, &err));
    OK(macp_client_new(o, &c, NULL, &err));
    macp_client_options_free(o);
    return c;
}

/* Like EXPECT, for a call that writes a new handle or library string to
 * `out`: `out` is set to a sentinel first and must be NULL after the
 * (failing) call. */
#define EXPECT_OUT(want, out, call_with_err_arg)                                         \
    do {                                                                                 \
        (out) = NOT_A_HANDLE;                                                            \
        EXPECT(want, call_with_err_arg);                                                 \
        CHECK((out) == NULL);                                                            \
    } while (0)

/* Whether `s` is a live library string holding exactly `want`: its text
 * and its length agree. */
static inline int string_is(const macp_string *s, const char *want) {
    return s != NULL && strcmp(macp_string_ptr(s), want) == 0 && macp_string_len(s) == strlen(want);
}

/* ------------------------------------------------------ sessions to test with */

/* A session of `mode` started by `initiator` with the NULL-terminated
 * `participants`: intent "test", a 10-minute TTL, context "ctx:test", one
 * extension ("ext.test") and one root, under `policy_version` unless it is
 * NULL. Checks the start was acknowledged OPEN at the first attempt. */
static inline macp_session *start_session(macp_client *initiator, const char *mode,
                                          const char *const *participants, const char *policy_version) {
    macp_start_options *so = NULL;
    macp_session *s = NULL;
    macp_ack ack;
    memset(&ack, 0, sizeof ack);
    OK(macp_start_options_new(&so, &err));
    OK(macp_start_options_set_intent(so, "test", &err));
    for (const char *const *p = participants; *p; p++) OK(macp_start_options_add_participant(so, *p, &err));
    OK(macp_start_options_set_ttl_ms(so, 600000, &err));
    OK(macp_start_options_set_context_id(so, "ctx:test", &err));
    OK(macp_start_options_set_extension(so, "ext.test", (const uint8_t *)"{}", 2, &err));
    OK(macp_start_options_add_root(so, "file:///tmp", "tmp", &err));
    if (policy_version) OK(macp_start_options_set_policy_version(so, policy_version, &err));
    OK(macp_session_start(initiator, mode, so, &s, &ack, NULL, &err));
    macp_start_options_free(so);
    CHECK(s != NULL);
    CHECK(ack.session_state == MACP_SESSION_STATE_OPEN);
    CHECK(ack.attempts == 1);
    return s;
}

/* A Decision session started by `initiator` with alice and bob. */
static inline macp_session *start_decision(macp_client *initiator) {
    static const char *const alice_and_bob[] = {"alice", "bob", NULL};
    return start_session(initiator, MACP_MODE_DECISION, alice_and_bob, NULL);
}

/* ------------------------------------------------------- bad-input fixtures */

/* A string that is not UTF-8. */
static const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};

/* A pointer the library never issued as a handle. */
#define NOT_A_HANDLE ((void *)0x1234)

/* Call options that send with message id `id`. */
#define CALL_ID(id) (&(macp_call_options){.cancel = NULL, .timeout_ms = 0, .message_id = (id)})

/* Handles that were live once and are freed now. */
static inline macp_client *freed_client(void) {
    macp_client *c = connect_as("freed");
    macp_client_free(c);
    return c;
}

static inline macp_client_options *freed_client_options(void) {
    macp_client_options *o = NULL;
    OK(macp_client_options_new(&o, &err));
    macp_client_options_free(o);
    return o;
}

static inline macp_session *freed_session(macp_client *initiator) {
    macp_session *s = start_decision(initiator);
    macp_session_free(s);
    return s;
}

/* The four kinds of bad handle every call must refuse: NULL, freed, never
 * issued, and `other`, a live handle of another type. */
#define BAD_HANDLE_KINDS 4

static inline void bad_clients(const macp_client *bad[BAD_HANDLE_KINDS], const void *other) {
    bad[0] = NULL;
    bad[1] = freed_client();
    bad[2] = NOT_A_HANDLE;
    bad[3] = other;
}

static inline void bad_sessions(const macp_session *bad[BAD_HANDLE_KINDS], macp_client *initiator,
                                const void *other) {
    bad[0] = NULL;
    bad[1] = freed_session(initiator);
    bad[2] = NOT_A_HANDLE;
    bad[3] = other;
}

struct test {
    const char *name;
    void (*fn)(void);
};

/* Run `tests`, printing "<suite> <name>: ok|FAILED" for each and the
 * summary line; the exit status of the process. */
static int run_tests(const char *suite, const struct test *tests, size_t count) {
    target = getenv("MACP_TARGET");
    if (!target) {
        fprintf(stderr, "MACP_TARGET is not set (run through scripts/with-runtime.sh)\n");
        return 2;
    }
    int passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        failures_in_test = 0;
        tests[i].fn();
        printf("%s %s: %s\n", suite, tests[i].name, failures_in_test ? "FAILED" : "ok");
        if (failures_in_test)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
