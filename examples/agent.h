/*
 * What every example program needs: exit on a failed call with its
 * registry code and message, and connect as one identity.
 *
 * The runtime must accept plaintext connections (MACP_ALLOW_INSECURE=1) and
 * authenticate `Authorization: Bearer <name>` as <name> (its development
 * mode, when no tokens are configured).
 */
#ifndef MACP_EXAMPLE_AGENT_H
#define MACP_EXAMPLE_AGENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macp.h"

/* Print the failure, free it, and exit. */
/* Exit with the error's code and message unless `st` is OK. `err` is the
 * address the call wrote its error to: it is read only here, after the
 * call, whatever order C evaluates the arguments in. */
static void check(macp_status st, macp_error **err, const char *what) {
    if (st == MACP_STATUS_OK) return;
    fprintf(stderr, "%s failed: %s (%s)\n", what, macp_error_code(*err), macp_error_message(*err));
    macp_error_free(*err);
    exit(1);
}

/* The runtime to use: the first argument, else $MACP_TARGET, else the
 * default local port. */
static const char *target_of(int argc, char **argv) {
    const char *target = argc > 1 ? argv[1] : getenv("MACP_TARGET");
    return target ? target : "127.0.0.1:50051";
}

/* A client authenticated as `identity`. */
static macp_client *connect_as(const char *target, const char *identity) {
    macp_client_options *opts = NULL;
    macp_client *client = NULL;
    macp_error *err = NULL;
    check(macp_client_options_new(&opts, &err), &err, "macp_client_options_new");
    check(macp_client_options_set_target(opts, target, &err), &err, "set_target");
    check(macp_client_options_set_allow_insecure(opts, true, &err), &err, "set_allow_insecure");
    check(macp_client_options_set_bearer_token(opts, identity, &err), &err, "set_bearer_token");
    check(macp_client_options_set_expected_sender(opts, identity, &err), &err, "set_expected_sender");
    check(macp_client_new(opts, &client, NULL, &err), &err, "macp_client_new");
    macp_client_options_free(opts);
    printf("[%s] connected, protocol %s\n", identity, macp_client_protocol_version(client));
    return client;
}

/* Copy the string field `name` of a flat JSON object, as libmacp writes it
 * (compact, `.proto` field names), into `out`; an agent with a JSON parser
 * would use that instead. Returns whether it was found. */
static inline int string_field(const char *json, const char *name, char *out, size_t out_len) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *start = strstr(json, key);
    if (!start) return 0;
    start += strlen(key);
    const char *end = strchr(start, '"');
    if (!end || (size_t)(end - start) >= out_len) return 0;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

#endif
