/*
 * Agents built on the participant loop (`macp_participant`): each one joins
 * the sessions that name it by itself and reacts to each message type with
 * a callback that answers on the session handle it is given.
 *
 * Two voters, alice and bob, vote on every Proposal. The coordinator starts
 * a Decision naming them and proposes; its own participant loop counts the
 * votes and, once both are in, commits from inside its Vote callback. Every
 * agent hears the session end, resolved, and the program exits 0 then.
 *
 *   participant [host:port]      (default: $MACP_TARGET, else 127.0.0.1:50051)
 *
 * agent.h says what the runtime must allow.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

#define VOTERS 2

/* Shared between the participants' callbacks (each on its participant's
 * own thread) and the main thread. */
struct agents {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    int votes;    /* Votes the coordinator has seen */
    int ended;    /* participants told their session ended */
    int resolved; /* of those, told it resolved */
};

/* An agent's own name and the shared state, as its callbacks' user_data. */
struct agent {
    const char *name;
    struct agents *all;
};

/* A voter's Proposal callback: approve it. `session` is borrowed from the
 * participant, so the vote goes out on it. */
static void on_proposal(const macp_session *session, const macp_envelope *env, void *user_data) {
    const struct agent *me = user_data;
    macp_string *json = NULL;
    macp_error *err = NULL;
    check(macp_envelope_payload_json(env, &json, &err), &err, "payload_json");
    char proposal[128];
    int found = string_field(macp_string_ptr(json), "proposal_id", proposal, sizeof proposal);
    printf("[%s] %s from %s: %s\n", me->name, env->message_type, env->sender, macp_string_ptr(json));
    macp_string_free(json);
    if (!found) return;
    check(macp_decision_vote(session, proposal, "APPROVE", "fine by me", NULL, NULL, &err), &err, "vote");
    printf("[%s] voted APPROVE on %s\n", me->name, proposal);
}

/* The coordinator's Vote callback: once every voter voted, commit. */
static void on_vote(const macp_session *session, const macp_envelope *env, void *user_data) {
    const struct agent *me = user_data;
    printf("[%s] Vote from %s\n", me->name, env->sender);
    pthread_mutex_lock(&me->all->mu);
    int votes = ++me->all->votes;
    pthread_mutex_unlock(&me->all->mu);
    if (votes < VOTERS) return;
    macp_error *err = NULL;
    check(macp_decision_commit(session, "decision.selected", "storage", "every voter approved", true, NULL, NULL, &err),
          &err, "commit");
    printf("[%s] committed: decision.selected\n", me->name);
}

/* Any other message type. */
static void on_other(const macp_session *session, const macp_envelope *env, void *user_data) {
    const struct agent *me = user_data;
    printf("[%s] %s from %s in %.8s...\n", me->name, env->message_type, env->sender, macp_session_id(session));
}

static void on_joined(const macp_session *session, macp_session_state state, const macp_error *cause,
                      void *user_data) {
    (void)state;
    (void)cause;
    const struct agent *me = user_data;
    printf("[%s] joined %s session %.8s...\n", me->name, macp_session_mode(session), macp_session_id(session));
}

static void on_ended(const macp_session *session, macp_session_state state, const macp_error *cause,
                     void *user_data) {
    const struct agent *me = user_data;
    printf("[%s] session %.8s... ended: %s%s%s\n", me->name, macp_session_id(session),
           macp_session_state_name(state), cause ? ", " : "", cause ? macp_error_message(cause) : "");
    pthread_mutex_lock(&me->all->mu);
    me->all->ended++;
    if (state == MACP_SESSION_STATE_RESOLVED) me->all->resolved++;
    pthread_cond_broadcast(&me->all->changed);
    pthread_mutex_unlock(&me->all->mu);
}

/* A participant loop for `client` as `me`: Proposals answered by voters,
 * Votes counted by the coordinator, everything else printed. */
static macp_participant *start_agent(macp_client *client, struct agent *me, int coordinator) {
    macp_participant *p = NULL;
    macp_error *err = NULL;
    check(macp_participant_new(client, NULL, NULL, &p, &err), &err, "macp_participant_new");
    if (coordinator)
        check(macp_participant_on(p, "Vote", on_vote, me, &err), &err, "on Vote");
    else
        check(macp_participant_on(p, "Proposal", on_proposal, me, &err), &err, "on Proposal");
    check(macp_participant_on_other(p, on_other, me, &err), &err, "on_other");
    check(macp_participant_on_joined(p, on_joined, me, &err), &err, "on_joined");
    check(macp_participant_on_ended(p, on_ended, me, &err), &err, "on_ended");
    check(macp_participant_start(p, NULL, &err), &err, "macp_participant_start");
    return p;
}

int main(int argc, char **argv) {
    const char *target = target_of(argc, argv);
    printf("libmacp %s, runtime at %s\n", macp_version(), target);
    struct agents all;
    memset(&all, 0, sizeof all);
    pthread_mutex_init(&all.mu, NULL);
    pthread_cond_init(&all.changed, NULL);

    const char *names[] = {"coordinator", "alice", "bob"};
    struct agent agents[3];
    macp_client *clients[3];
    macp_participant *loops[3];
    for (int i = 0; i < 3; i++) {
        agents[i].name = names[i];
        agents[i].all = &all;
        clients[i] = connect_as(target, names[i]);
        loops[i] = start_agent(clients[i], &agents[i], i == 0);
    }

    /* The coordinator starts the Decision and proposes; the loops do the rest. */
    macp_error *err = NULL;
    macp_start_options *start = NULL;
    check(macp_start_options_new(&start, &err), &err, "macp_start_options_new");
    check(macp_start_options_set_intent(start, "choose the primary database", &err), &err, "set_intent");
    for (int i = 0; i < 3; i++)
        check(macp_start_options_add_participant(start, names[i], &err), &err, "add_participant");
    check(macp_start_options_set_ttl_ms(start, 60000, &err), &err, "set_ttl_ms");
    macp_session *session = NULL;
    check(macp_session_start(clients[0], MACP_MODE_DECISION, start, &session, NULL, NULL, &err), &err,
          "macp_session_start");
    macp_start_options_free(start);
    printf("[coordinator] started session %s\n", macp_session_id(session));
    check(macp_decision_propose(session, "p1", "postgres", "mature, we know it", NULL, 0, NULL, NULL, &err), &err,
          "propose");
    printf("[coordinator] proposed p1: postgres\n");

    /* Wait until every agent heard the session end. */
    pthread_mutex_lock(&all.mu);
    while (all.ended < 3) pthread_cond_wait(&all.changed, &all.mu);
    int resolved = all.resolved;
    pthread_mutex_unlock(&all.mu);

    for (int i = 0; i < 3; i++) {
        macp_participant_free(loops[i]); /* stops it: no callback runs after this */
        macp_client_free(clients[i]);
    }
    macp_session_free(session);
    pthread_cond_destroy(&all.changed);
    pthread_mutex_destroy(&all.mu);
    printf("%d of 3 agents saw the session resolved\n", resolved);
    return resolved == 3 ? 0 : 1;
}
