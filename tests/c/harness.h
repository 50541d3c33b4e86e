/*
 * The shared harness of the C ABI tests: checks, status expectations, a
 * client per identity, and a runner whose last line is "N passed, N failed".
 *
 * Every test file includes it once; its functions are static. Tests run
 * against a real macp-runtime at $MACP_TARGET (scripts/with-runtime.sh
 * starts one) and under valgrind by scripts/test.sh.
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
    OK(macp_client_new(o, &c, &err));
    macp_client_options_free(o);
    return c;
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
