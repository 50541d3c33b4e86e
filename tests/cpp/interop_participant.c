/*
 * The C agent of the interop test (interop.sh): identity "c-agent", it
 * evaluates and votes on proposal p1 of a Decision through macp.h.
 *
 *   interop_participant TARGET SESSION_ID
 */
#include <stdio.h>

#include "macp.h"

static int check(macp_status st, macp_error *err, const char *what) {
    if (st == MACP_STATUS_OK) return 0;
    fprintf(stderr, "interop_participant: %s: %s (%s)\n", what, macp_error_code(err), macp_error_message(err));
    macp_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: interop_participant TARGET SESSION_ID\n");
        return 2;
    }
    macp_error *err = NULL;
    macp_client_options *opts = NULL;
    macp_client *client = NULL;
    macp_session *s = NULL;
    int failed = check(macp_client_options_new(&opts, &err), err, "options") ||
                 check(macp_client_options_set_target(opts, argv[1], &err), err, "target") ||
                 check(macp_client_options_set_allow_insecure(opts, true, &err), err, "insecure") ||
                 check(macp_client_options_set_bearer_token(opts, "c-agent", &err), err, "token") ||
                 check(macp_client_new(opts, &client, NULL, &err), err, "connect") ||
                 check(macp_session_open(client, argv[2], &s, NULL, &err), err, "open") ||
                 check(macp_decision_evaluate(s, "p1", "APPROVE", 0.8, "from C", NULL, NULL, &err), err, "evaluate") ||
                 check(macp_decision_vote(s, "p1", "APPROVE", "from C", NULL, NULL, &err), err, "vote");
    macp_session_free(s);
    macp_client_free(client);
    macp_client_options_free(opts);
    return failed;
}
