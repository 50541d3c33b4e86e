/*
 * A Decision session driven from C: a coordinator and two agents, each a
 * client with its own identity, propose, evaluate, object, vote and commit
 * against a MACP runtime.
 *
 *   decision [host:port]      (default: $MACP_TARGET, else 127.0.0.1:50051)
 *
 * agent.h says what the runtime must allow.
 */
#include <stdio.h>

#include "agent.h"

static void step(const char *who, const char *what, const macp_ack *ack) {
    char tag[32];
    snprintf(tag, sizeof tag, "[%s]", who);
    printf("%-13s %-30s accepted: message %s, session %s\n", tag, what, ack->message_id,
           macp_session_state_name(ack->session_state));
}

int main(int argc, char **argv) {
    const char *target = target_of(argc, argv);
    printf("libmacp %s, runtime at %s\n", macp_version(), target);

    macp_client *coordinator = connect_as(target, "coordinator");
    macp_client *alice = connect_as(target, "alice");
    macp_client *bob = connect_as(target, "bob");
    macp_error *err = NULL;
    macp_ack ack;

    /* The coordinator starts a Decision with alice and bob. */
    macp_start_options *start = NULL;
    check(macp_start_options_new(&start, &err), &err, "macp_start_options_new");
    check(macp_start_options_set_intent(start, "choose the primary database", &err), &err, "set_intent");
    check(macp_start_options_add_participant(start, "alice", &err), &err, "add_participant");
    check(macp_start_options_add_participant(start, "bob", &err), &err, "add_participant");
    check(macp_start_options_set_ttl_ms(start, 60000, &err), &err, "set_ttl_ms");
    macp_session *s_coord = NULL;
    check(macp_session_start(coordinator, MACP_MODE_DECISION, start, &s_coord, &ack, NULL, &err), &err,
          "macp_session_start");
    macp_start_options_free(start);
    const char *session_id = macp_session_id(s_coord);
    printf("[coordinator] started %s session %s\n", MACP_MODE_DECISION, session_id);

    /* Each agent opens its own handle on the session. */
    macp_session *s_alice = NULL, *s_bob = NULL;
    check(macp_session_open(alice, session_id, &s_alice, NULL, &err), &err, "open (alice)");
    check(macp_session_open(bob, session_id, &s_bob, NULL, &err), &err, "open (bob)");

    check(macp_decision_propose(s_alice, "p1", "postgres", "mature, we know it", NULL, 0, &ack, NULL, &err), &err,
          "propose");
    step("alice", "Proposal p1: postgres", &ack);
    check(macp_decision_propose(s_bob, "p2", "sqlite", "no server to run", NULL, 0, &ack, NULL, &err), &err, "propose");
    step("bob", "Proposal p2: sqlite", &ack);
    check(macp_decision_evaluate(s_bob, "p1", "APPROVE", 0.8, "scales with us", &ack, NULL, &err), &err, "evaluate");
    step("bob", "Evaluation p1: APPROVE 0.8", &ack);
    check(macp_decision_object(s_alice, "p2", "no concurrent writers", "medium", &ack, NULL, &err), &err, "object");
    step("alice", "Objection p2: medium", &ack);
    check(macp_decision_vote(s_alice, "p1", "APPROVE", "best fit", &ack, NULL, &err), &err, "vote");
    step("alice", "Vote p1: APPROVE", &ack);
    check(macp_decision_vote(s_bob, "p1", "APPROVE", "agreed", &ack, NULL, &err), &err, "vote");
    step("bob", "Vote p1: APPROVE", &ack);

    check(macp_decision_commit(s_coord, "decision.selected", "storage", "p1 approved by all voters", true, &ack,
                               NULL,
                               &err),
          &err, "commit");
    step("coordinator", "Commitment: decision.selected", &ack);

    /* Every participant reads the same final state. `meta` is borrowed
     * from `info`: valid until macp_session_info_free(info). */
    macp_session_info *info = NULL;
    check(macp_session_get_info(s_bob, &info, NULL, &err), &err, "get_info");
    const macp_session_metadata *meta = macp_session_info_metadata(info);
    printf("session %s: %s, initiator %s, %zu participants\n", meta->session_id,
           macp_session_state_name(meta->state), meta->initiator, meta->participants_len);
    for (size_t i = 0; i < meta->activity_len; i++)
        printf("  %-12s %u messages\n", meta->activity[i].participant_id, meta->activity[i].message_count);
    int resolved = meta->state == MACP_SESSION_STATE_RESOLVED;
    macp_session_info_free(info);

    macp_session_free(s_alice);
    macp_session_free(s_bob);
    macp_session_free(s_coord);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(coordinator);
    return resolved ? 0 : 1;
}
