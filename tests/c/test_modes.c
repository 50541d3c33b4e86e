/*
 * C ABI tests of the mode helpers and projections, against a real
 * macp-runtime at $MACP_TARGET (scripts/with-runtime.sh starts one), run
 * under valgrind by scripts/test.sh.
 *
 * Each mode is run to resolution through its C helpers; a session watcher
 * then replays the accepted envelopes into a projection (macp_projection_apply
 * on each event's raw bytes) whose tallies and JSON snapshot are checked.
 * Envelopes the runtime would never accept (a second vote) are built with
 * macp_envelope_encode. Every new function gets bad input.
 *
 * The last line is "N passed, N failed".
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

#include "harness.h"

static macp_session *join(macp_client *c, macp_session *s) {
    macp_session *out = NULL;
    OK(macp_session_open(c, macp_session_id(s), &out, NULL, &err));
    return out;
}

static macp_status commit(macp_session *s, const char *action, bool positive, macp_ack *ack, macp_error **err) {
    macp_commitment c = {0};
    c.action = action;
    c.authority_scope = "test";
    c.reason = "done";
    c.outcome_positive = positive;
    return macp_session_commit(s, &c, ack, NULL, err);
}

static void expect_state(macp_session *s, macp_session_state want) {
    macp_session_info *info = NULL;
    OK(macp_session_get_info(s, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(m && m->state == want);
    macp_session_info_free(info);
}

/* ------------------------------------------- projection fed by a watcher */

struct feed {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    macp_projection *projection;
    int applied;
    int apply_failures;
};

static void on_event(const macp_event *ev, void *user_data) {
    struct feed *f = user_data;
    if (ev->kind != MACP_EVENT_ENVELOPE) return;
    macp_error *err = NULL;
    macp_status st = macp_projection_apply(f->projection, ev->raw, ev->raw_len, &err);
    if (st != MACP_STATUS_OK) fprintf(stderr, "  apply: %s\n", macp_error_message(err));
    macp_error_free(err);
    pthread_mutex_lock(&f->mu);
    f->applied++;
    if (st != MACP_STATUS_OK) f->apply_failures++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* A projection of `s`'s mode holding the session's first `count` accepted
 * envelopes, replayed by a session watcher. Free with macp_projection_free. */
static macp_projection *project(macp_session *s, int count) {
    struct feed f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    OK(macp_projection_new(macp_session_mode(s), &f.projection, &err));
    macp_watcher *w = NULL;
    OK(macp_session_watch(s, 0, NULL, on_event, &f, &w, NULL, &err));
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&f.mu);
    while (f.applied < count)
        if (pthread_cond_timedwait(&f.cv, &f.mu, &deadline) == ETIMEDOUT) break;
    pthread_mutex_unlock(&f.mu);
    macp_watcher_close(w);
    CHECK(f.applied == count);
    CHECK(f.apply_failures == 0);
    pthread_mutex_destroy(&f.mu);
    pthread_cond_destroy(&f.cv);
    return f.projection;
}

/* Whether the projection's JSON snapshot contains each NULL-terminated
 * fragment (the snapshot is compact, with sorted keys). */
static int snapshot_has(macp_projection *p, const char *const *fragments) {
    macp_string *json = NULL;
    int ok = 1;
    OK(macp_projection_state_json(p, &json, &err));
    if (!json) return 0;
    const char *text = macp_string_ptr(json);
    for (const char *const *f = fragments; *f; f++) {
        if (!strstr(text, *f)) {
            fprintf(stderr, "  snapshot lacks %s:\n  %s\n", *f, text);
            ok = 0;
        }
    }
    macp_string_free(json);
    return ok;
}

/* ---------------------------------------------------------------- tests */

static void test_decision_projection(void) {
    macp_client *coord = connect_as("coord"), *alice = connect_as("alice"), *bob = connect_as("bob");
    const char *parts[] = {"alice", "bob", NULL};
    macp_session *sc = start_session(coord, MACP_MODE_DECISION, parts, NULL), *sa = join(alice, sc), *sb = join(bob, sc);
    OK(macp_decision_propose(sa, "p1", "postgres", "mature", NULL, 0, NULL, NULL, &err));
    OK(macp_decision_propose(sb, "p2", "sqlite", NULL, NULL, 0, NULL, NULL, &err));
    OK(macp_decision_evaluate(sb, "p1", "APPROVE", 0.75, "fine", NULL, NULL, &err));
    OK(macp_decision_object(sb, "p1", "cost", "low", NULL, NULL, &err));
    OK(macp_decision_vote(sa, "p1", "APPROVE", NULL, NULL, NULL, &err));
    OK(macp_decision_vote(sb, "p1", "REJECT", NULL, NULL, NULL, &err));
    OK(commit(sc, "decision.selected", true, NULL, &err));

    macp_projection *p = project(sb, 8);
    uint32_t a = 9, r = 9, x = 9;
    OK(macp_decision_tally(p, "p1", &a, &r, &x, &err));
    CHECK(a == 1 && r == 1 && x == 0);
    OK(macp_decision_tally(p, "p2", &a, &r, &x, &err));
    CHECK(a == 0 && r == 0 && x == 0);
    OK(macp_decision_tally(p, "unknown", &a, NULL, NULL, &err));
    CHECK(a == 0);
    const char *want[] = {"\"phase\":\"Committed\"", "\"votes\":{\"p1\":{\"alice\":{\"reason\":\"\",\"vote\":\"APPROVE\"}",
                          "\"severity\":\"low\"", "\"confidence\":0.75", "\"initiator\":\"coord\"",
                          "\"action\":\"decision.selected\"", "\"anomalies\":[]", "\"applied\":8", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);

    macp_session_free(sa);
    macp_session_free(sb);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(coord);
}

static void test_proposal_flow(void) {
    macp_client *buyer = connect_as("buyer"), *seller = connect_as("seller");
    const char *parts[] = {"buyer", "seller", NULL};
    macp_session *sb = start_session(buyer, MACP_MODE_PROPOSAL, parts, NULL), *ss = join(seller, sb);
    const char *tags[] = {"bulk", "q3"};
    macp_ack ack;
    OK(macp_proposal_propose(ss, "p1", "offer", "100 units", (const uint8_t *)"{}", 2, tags, 2, &ack, NULL, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_OPEN && strlen(ack.message_id) == 36);
    OK(macp_proposal_counter_propose(sb, "p2", "p1", "counter", NULL, NULL, 0, NULL, NULL, &err));
    OK(macp_proposal_propose(ss, "p3", NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, &err));
    /* Only the author withdraws. */
    EXPECT(MACP_STATUS_FORBIDDEN, macp_proposal_withdraw(sb, "p3", NULL, NULL, NULL, &err));
    OK(macp_proposal_withdraw(ss, "p3", "never mind", NULL, NULL, &err));
    /* A withdrawn proposal cannot be accepted. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE, macp_proposal_accept(sb, "p3", NULL, NULL, NULL, &err));
    OK(macp_proposal_reject(ss, "p2", false, "too low", NULL, NULL, &err));
    OK(macp_proposal_accept(ss, "p1", NULL, NULL, NULL, &err));
    OK(macp_proposal_accept(sb, "p1", "fine", NULL, NULL, &err));
    OK(commit(sb, "proposal.accepted", true, &ack, &err));
    CHECK(ack.session_state == MACP_SESSION_STATE_RESOLVED);
    expect_state(ss, MACP_SESSION_STATE_RESOLVED);

    macp_projection *p = project(ss, 9);
    const char *want[] = {"\"accepts\":{\"buyer\":\"p1\",\"seller\":\"p1\"}", "\"agreed_proposal\":\"p1\"",
                          "\"disposition\":\"Withdrawn\"", "\"supersedes_proposal_id\":\"p1\"",
                          "\"tags\":[\"bulk\",\"q3\"]", "\"phase\":\"Committed\"", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);
    macp_session_free(ss);
    macp_session_free(sb);
    macp_client_free(seller);
    macp_client_free(buyer);
}

static void test_task_flow(void) {
    macp_client *planner = connect_as("planner"), *worker = connect_as("worker"), *carol = connect_as("carol");
    const char *parts[] = {"planner", "worker", "carol", NULL};
    macp_session *sp = start_session(planner, MACP_MODE_TASK, parts, NULL), *sw = join(worker, sp), *sc = join(carol, sp);
    OK(macp_task_request(sp, "t1", "build", "compile it", NULL, (const uint8_t *)"src", 3, 0, NULL, NULL, &err));
    OK(macp_task_reject(sc, "t1", NULL, "busy", NULL, NULL, &err));
    OK(macp_task_accept(sw, "t1", "worker", "on it", NULL, NULL, &err));
    /* The slot is taken. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE, macp_task_accept(sp, "t1", NULL, NULL, NULL, NULL, &err));
    OK(macp_task_update(sw, "t1", "compiling", 0.5, "half", (const uint8_t *)"log", 3, NULL, NULL, &err));
    OK(macp_task_complete(sw, "t1", NULL, (const uint8_t *)"bin", 3, "built", NULL, NULL, &err));
    OK(commit(sp, "task.completed", true, NULL, &err));
    expect_state(sp, MACP_SESSION_STATE_RESOLVED);

    macp_projection *p = project(sp, 7);
    const char *want[] = {"\"active_assignee\":\"worker\"", "\"status\":\"completed\"", "\"progress\":1.0",
                          "\"outcome\":\"completed\"", "\"while_assigned\":false", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);

    /* A second session ends in failure. */
    macp_session *sp2 = start_session(planner, MACP_MODE_TASK, parts, NULL), *sw2 = join(worker, sp2);
    OK(macp_task_request(sp2, "t1", NULL, NULL, "worker", NULL, 0, 4102444800000, NULL, NULL, &err));
    OK(macp_task_accept(sw2, "t1", NULL, NULL, NULL, NULL, &err));
    OK(macp_task_fail(sw2, "t1", NULL, "BUILD_FAILED", "compile error", true, NULL, NULL, &err));
    OK(commit(sp2, "task.failed", false, NULL, &err));
    p = project(sw2, 5);
    const char *want2[] = {"\"status\":\"failed\"", "\"error_code\":\"BUILD_FAILED\"", "\"retryable\":true",
                           "\"deadline_unix_ms\":4102444800000", "\"outcome_positive\":false", NULL};
    CHECK(snapshot_has(p, want2));
    macp_projection_free(p);

    macp_session_free(sw2);
    macp_session_free(sp2);
    macp_session_free(sw);
    macp_session_free(sc);
    macp_session_free(sp);
    macp_client_free(carol);
    macp_client_free(worker);
    macp_client_free(planner);
}

static void test_handoff_flow(void) {
    macp_client *owner = connect_as("owner"), *t1 = connect_as("t1"), *t2 = connect_as("t2");
    const char *parts[] = {"owner", "t1", "t2", NULL};
    macp_session *so = start_session(owner, MACP_MODE_HANDOFF, parts, NULL), *s1 = join(t1, so), *s2 = join(t2, so);
    OK(macp_handoff_offer(so, "h1", "t1", "support", "escalate", NULL, NULL, &err));
    OK(macp_handoff_context(so, "h1", "text/plain", (const uint8_t *)"ticket 42", 9, NULL, NULL, &err));
    OK(macp_handoff_decline(s1, "h1", NULL, "at capacity", NULL, NULL, &err));
    /* A declined target is not offered again. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE, macp_handoff_offer(so, "h2", "t1", NULL, NULL, NULL, NULL, &err));
    OK(macp_handoff_offer(so, "h3", "t2", NULL, NULL, NULL, NULL, &err));
    /* Only the target answers. */
    EXPECT(MACP_STATUS_FORBIDDEN, macp_handoff_accept(s1, "h3", NULL, NULL, NULL, NULL, &err));
    OK(macp_handoff_accept(s2, "h3", "t2", "ready", NULL, NULL, &err));
    OK(commit(so, "handoff.accepted", true, NULL, &err));
    expect_state(so, MACP_SESSION_STATE_RESOLVED);

    macp_projection *p = project(s2, 7);
    const char *want[] = {"\"disposition\":\"Declined\"", "\"disposition\":\"Accepted\"", "\"implicit\":false",
                          "\"settled_by\":\"t1\"", "\"size\":9", "\"content_type\":\"text/plain\"", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);
    macp_session_free(s1);
    macp_session_free(s2);
    macp_session_free(so);
    macp_client_free(t1);
    macp_client_free(t2);
    macp_client_free(owner);
}

static void test_quorum_flow(void) {
    macp_client *coord = connect_as("coord"), *alice = connect_as("alice"), *bob = connect_as("bob"),
                *carol = connect_as("carol");
    const char *parts[] = {"alice", "bob", "carol", NULL};
    macp_session *sc = start_session(coord, MACP_MODE_QUORUM, parts, NULL), *sa = join(alice, sc), *sb = join(bob, sc),
                 *sk = join(carol, sc);
    OK(macp_quorum_request_approval(sc, "r1", "deploy", "v2", (const uint8_t *)"{}", 2, 2, NULL, NULL, &err));
    OK(macp_quorum_approve(sa, "r1", "lgtm", NULL, NULL, &err));
    /* One ballot each. */
    EXPECT(MACP_STATUS_INVALID_ENVELOPE, macp_quorum_reject(sa, "r1", NULL, NULL, NULL, &err));
    OK(macp_quorum_abstain(sk, "r1", NULL, NULL, NULL, &err));
    OK(macp_quorum_approve(sb, "r1", NULL, NULL, NULL, &err));
    OK(commit(sc, "quorum.approved", true, NULL, &err));
    expect_state(sa, MACP_SESSION_STATE_RESOLVED);

    macp_projection *p = project(sb, 6);
    uint32_t a = 9, r = 9, x = 9, req = 9;
    bool reached = false;
    OK(macp_quorum_tally(p, "r1", &a, &r, &x, &req, &reached, &err));
    CHECK(a == 2 && r == 0 && x == 1 && req == 2 && reached);
    a = 9;
    OK(macp_quorum_tally(p, NULL, &a, NULL, NULL, NULL, NULL, &err));
    CHECK(a == 2);
    OK(macp_quorum_tally(p, "r9", &a, &r, &x, &req, &reached, &err));
    CHECK(a == 0 && req == 0 && !reached);
    const char *want[] = {"\"ballots\":{\"r1\":{\"alice\":{\"reason\":\"lgtm\",\"vote\":\"approve\"}",
                          "\"vote\":\"abstain\"", "\"reached\":true", "\"unreachable\":false",
                          "\"requested_by\":\"coord\"", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);

    /* Rejections make the bar unreachable: a negative commitment. */
    macp_session *sc2 = start_session(coord, MACP_MODE_QUORUM, parts, NULL), *sa2 = join(alice, sc2), *sb2 = join(bob, sc2);
    OK(macp_quorum_request_approval(sc2, "r1", "deploy", NULL, NULL, 0, 2, NULL, NULL, &err));
    OK(macp_quorum_reject(sa2, "r1", "not ready", NULL, NULL, &err));
    OK(macp_quorum_reject(sb2, "r1", NULL, NULL, NULL, &err));
    OK(commit(sc2, "quorum.rejected", false, NULL, &err));
    p = project(sc2, 5);
    OK(macp_quorum_tally(p, NULL, &a, &r, &x, &req, &reached, &err));
    CHECK(a == 0 && r == 2 && !reached);
    const char *want2[] = {"\"unreachable\":true", NULL};
    CHECK(snapshot_has(p, want2));
    macp_projection_free(p);

    macp_session_free(sa2);
    macp_session_free(sb2);
    macp_session_free(sc2);
    macp_session_free(sa);
    macp_session_free(sb);
    macp_session_free(sk);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(carol);
    macp_client_free(coord);
}

static void test_multi_round_flow(void) {
    macp_client *coord = connect_as("coord"), *alice = connect_as("alice"), *bob = connect_as("bob");
    const char *parts[] = {"alice", "bob", NULL};
    macp_session *sc = start_session(coord, MACP_MODE_MULTI_ROUND, parts, NULL), *sa = join(alice, sc), *sb = join(bob, sc);
    OK(macp_multi_round_contribute(sa, "option_a", NULL, NULL, &err));
    OK(macp_multi_round_contribute(sb, "option_b", NULL, NULL, &err));
    OK(macp_multi_round_contribute(sb, "option_a", NULL, NULL, &err));
    OK(commit(sc, "multi_round.converged", true, NULL, &err));
    expect_state(sc, MACP_SESSION_STATE_RESOLVED);
    macp_projection *p = project(sa, 5);
    const char *want[] = {"\"contributions\":{\"alice\":\"option_a\",\"bob\":\"option_a\"}", "\"converged\":true",
                          "\"rounds\":3", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);
    macp_session_free(sa);
    macp_session_free(sb);
    macp_session_free(sc);
    macp_client_free(alice);
    macp_client_free(bob);
    macp_client_free(coord);
}

/* Apply an envelope built here; returns the status. */
static macp_status apply_built(macp_projection *p, const char *mode, const char *type, const char *id,
                               const char *sender, const uint8_t *payload, size_t len) {
    uint8_t buf[512];
    size_t n = 0;
    macp_status st = macp_envelope_encode(mode, type, "s1", sender, id, payload, len, buf, sizeof buf, &n, NULL);
    CHECK(st == MACP_STATUS_OK);
    return macp_projection_apply(p, buf, n, NULL);
}

static void test_projection_from_built_envelopes(void) {
    /* ProposalPayload{proposal_id: "p1", option: "x"} and VotePayloads. */
    static const uint8_t proposal[] = {0x0a, 2, 'p', '1', 0x12, 1, 'x'};
    static const uint8_t approve[] = {0x0a, 2, 'p', '1', 0x12, 7, 'A', 'P', 'P', 'R', 'O', 'V', 'E'};
    static const uint8_t reject[] = {0x0a, 2, 'p', '1', 0x12, 6, 'R', 'E', 'J', 'E', 'C', 'T'};
    macp_projection *p = NULL;
    OK(macp_projection_new(MACP_MODE_DECISION, &p, &err));
    CHECK(apply_built(p, MACP_MODE_DECISION, "Proposal", "m1", "alice", proposal, sizeof proposal) == MACP_STATUS_OK);
    CHECK(apply_built(p, MACP_MODE_DECISION, "Vote", "m2", "bob", approve, sizeof approve) == MACP_STATUS_OK);
    /* Redelivery: ignored. A second vote by bob: kept first, anomaly. */
    CHECK(apply_built(p, MACP_MODE_DECISION, "Vote", "m2", "bob", approve, sizeof approve) == MACP_STATUS_OK);
    CHECK(apply_built(p, MACP_MODE_DECISION, "Vote", "m3", "bob", reject, sizeof reject) == MACP_STATUS_OK);
    /* A garbled payload changes nothing; its id can be applied later. */
    CHECK(apply_built(p, MACP_MODE_DECISION, "Vote", "m4", "carol", proposal, 3) == MACP_STATUS_INVALID_ARGUMENT);
    CHECK(apply_built(p, MACP_MODE_DECISION, "Vote", "m4", "carol", reject, sizeof reject) == MACP_STATUS_OK);
    uint32_t a = 0, r = 0, x = 0;
    OK(macp_decision_tally(p, "p1", &a, &r, &x, &err));
    CHECK(a == 1 && r == 1 && x == 0);
    const char *want[] = {"\"applied\":4", "\"kind\":\"duplicate_vote\"", "\"message_id\":\"m3\"",
                          "\"subject_id\":\"p1\"", "\"sender\":\"bob\"", "\"message_type\":\"Vote\"",
                          "\"mode\":\"macp.mode.decision.v1\"", "\"detail\":\"kept first vote 'APPROVE'; discarded 'REJECT'\"",
                          "\"session_id\":\"s1\"", NULL};
    CHECK(snapshot_has(p, want));
    /* Another mode's envelope, or another session's, is refused. */
    CHECK(apply_built(p, MACP_MODE_QUORUM, "Approve", "m5", "bob", NULL, 0) == MACP_STATUS_INVALID_ARGUMENT);
    macp_projection_free(p);

    /* A size query, then a second encode of the same envelope. */
    size_t n = 0, n2 = 0;
    OK(macp_envelope_encode(MACP_MODE_QUORUM, "Approve", "s1", NULL, NULL, NULL, 0, NULL, 0, &n, &err));
    CHECK(n > 0);
    uint8_t *buf = malloc(n);
    OK(macp_envelope_encode(MACP_MODE_QUORUM, "Approve", "s1", NULL, NULL, NULL, 0, buf, n, &n2, &err));
    CHECK(n2 == n);
    free(buf);
}

/* Concurrent apply from several threads on one projection. */
struct applier {
    macp_projection *p;
    int index;
};

static void *apply_many(void *arg) {
    struct applier *a = arg;
    for (int i = 0; i < 50; i++) {
        char id[32];
        uint8_t payload[40], buf[256];
        snprintf(id, sizeof id, "t%d-%d", a->index, i);
        /* ContributePayload{value: id}. */
        size_t len = strlen(id);
        payload[0] = 0x0a;
        payload[1] = (uint8_t)len;
        memcpy(payload + 2, id, len);
        size_t n = 0;
        if (macp_envelope_encode(MACP_MODE_MULTI_ROUND, "Contribute", "s1", id, id, payload, len + 2, buf, sizeof buf,
                                 &n, NULL) == MACP_STATUS_OK)
            macp_projection_apply(a->p, buf, n, NULL);
    }
    return NULL;
}

static void test_projection_is_thread_safe(void) {
    macp_projection *p = NULL;
    OK(macp_projection_new(MACP_MODE_MULTI_ROUND, &p, &err));
    pthread_t t[4];
    struct applier a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct applier){p, i};
        pthread_create(&t[i], NULL, apply_many, &a[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    const char *want[] = {"\"applied\":200", "\"rounds\":200", NULL};
    CHECK(snapshot_has(p, want));
    macp_projection_free(p);
}

/* Bad input: NULL, invalid UTF-8, empty strings, wrong/closed handles and
 * out-of-range numbers give a status and a message, never a crash, and send
 * nothing. */
static void test_bad_input(void) {
    macp_client *client = connect_as("coord");
    const char *parts[] = {"alice", NULL};
    macp_session *s = start_session(client, MACP_MODE_QUORUM, parts, NULL);
    macp_session *closed = freed_session(client);
    macp_ack ack;
    const char *tags_null[] = {"a", NULL};
    const char *tags_empty[] = {"a", ""};
    const char *tags_bad[] = {bad_utf8};

    /* Proposal. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_propose(closed, "p", NULL, NULL, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_propose((macp_session *)client, "p", NULL, NULL, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, NULL, NULL, NULL, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "", NULL, NULL, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", bad_utf8, NULL, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, bad_utf8, NULL, 0, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 5, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 0, NULL, 2, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 0, tags_null, 2, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 0, tags_empty, 2, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 0, tags_bad, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_propose(s, "p", NULL, NULL, NULL, 0, tags_null, SIZE_MAX, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_counter_propose(NOT_A_HANDLE, "p2", "p", NULL, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_counter_propose(s, "p2", NULL, NULL, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_counter_propose(s, "p2", "", NULL, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_counter_propose(s, bad_utf8, "p", NULL, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_counter_propose(s, "p2", "p", NULL, bad_utf8, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_counter_propose(s, "p2", "p", NULL, NULL, NULL, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_accept(NULL, "p", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_accept(s, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_accept(s, "p", bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_reject(closed, "p", true, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_reject(s, "", true, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_reject(s, "p", false, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_proposal_withdraw(NOT_A_HANDLE, "p", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_withdraw(s, bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_proposal_withdraw(s, "p", bad_utf8, &ack, NULL, &err));

    /* Task. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_request(closed, "t", NULL, NULL, NULL, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, NULL, NULL, NULL, NULL, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", bad_utf8, NULL, NULL, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", NULL, bad_utf8, NULL, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", NULL, NULL, bad_utf8, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", NULL, NULL, NULL, NULL, 4, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", NULL, NULL, NULL, NULL, 0, -1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_request(s, "t", NULL, NULL, NULL, NULL, 0, INT64_MIN, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_accept(NOT_A_HANDLE, "t", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_accept(s, "", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_accept(s, "t", bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_accept(s, "t", NULL, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_reject(NULL, "t", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_reject(s, NULL, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_reject(s, "t", bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_update(closed, "t", NULL, 0.5, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, NULL, NULL, 0.5, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, 1.5, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, -0.1, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, NAN, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, INFINITY, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", bad_utf8, 0.5, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, 0.5, bad_utf8, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_update(s, "t", NULL, 0.5, NULL, NULL, 2, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_complete(NOT_A_HANDLE, "t", NULL, NULL, 0, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_complete(s, "", NULL, NULL, 0, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_complete(s, "t", bad_utf8, NULL, 0, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_complete(s, "t", NULL, NULL, 3, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_complete(s, "t", NULL, NULL, 0, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_task_fail(NULL, "t", NULL, NULL, NULL, false, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_fail(s, NULL, NULL, NULL, NULL, false, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_fail(s, "t", bad_utf8, NULL, NULL, false, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_fail(s, "t", NULL, bad_utf8, NULL, false, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_task_fail(s, "t", NULL, NULL, bad_utf8, true, &ack, NULL, &err));

    /* Handoff. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_handoff_offer(closed, "h", "a", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_offer(s, "", "a", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_offer(s, "h", NULL, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_offer(s, "h", bad_utf8, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_offer(s, "h", "a", bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_offer(s, "h", "a", NULL, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_handoff_context(NOT_A_HANDLE, "h", NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_context(s, NULL, NULL, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_context(s, "h", bad_utf8, NULL, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_context(s, "h", NULL, NULL, 7, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_handoff_accept(NULL, "h", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_accept(s, NULL, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_accept(s, "h", bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_accept(s, "h", NULL, bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_handoff_decline(closed, "h", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_decline(s, "", NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_decline(s, "h", bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_handoff_decline(s, "h", NULL, bad_utf8, &ack, NULL, &err));

    /* Quorum. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_request_approval(closed, "r", NULL, NULL, NULL, 0, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_request_approval(s, NULL, NULL, NULL, NULL, 0, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_request_approval(s, "r", bad_utf8, NULL, NULL, 0, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_request_approval(s, "r", NULL, bad_utf8, NULL, 0, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_request_approval(s, "r", NULL, NULL, NULL, 8, 1, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_request_approval(s, "r", NULL, NULL, NULL, 0, 0, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_approve(NOT_A_HANDLE, "r", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_approve(s, "", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_approve(s, "r", bad_utf8, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_reject(NULL, "r", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_reject(s, NULL, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_reject(s, bad_utf8, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_abstain(closed, "r", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_abstain(s, "", NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_abstain(s, "r", bad_utf8, &ack, NULL, &err));

    /* Multi-round. */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_multi_round_contribute(NOT_A_HANDLE, "v", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_multi_round_contribute(closed, "v", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_multi_round_contribute(s, NULL, &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_multi_round_contribute(s, "", &ack, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_multi_round_contribute(s, bad_utf8, &ack, NULL, &err));

    /* Projections. */
    macp_projection *p = NULL, *freed = NULL, *out = (macp_projection *)0x1;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_new(NULL, &out, &err));
    CHECK(out == NULL);
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_new("", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_new(bad_utf8, &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_new("ext.nope.v1", &out, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_new(MACP_MODE_QUORUM, NULL, &err));
    OK(macp_projection_new(MACP_MODE_QUORUM, &p, &err));
    OK(macp_projection_new(MACP_MODE_DECISION, &freed, &err));
    macp_projection_free(freed);
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_projection_apply(NULL, garbage, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_projection_apply(freed, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_projection_apply(NOT_A_HANDLE, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_projection_apply((macp_projection *)s, NULL, 0, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_apply(p, NULL, 4, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_apply(p, garbage, sizeof garbage, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_apply(p, garbage, SIZE_MAX, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_apply(p, NULL, 0, &err)); /* empty envelope: no session */
    macp_string *json = NULL;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_projection_state_json(p, NULL, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, json, macp_projection_state_json(freed, &json, &err));
    EXPECT_OUT(MACP_STATUS_INVALID_HANDLE, json, macp_projection_state_json((macp_projection *)client, &json, &err));
    uint32_t a = 0;
    bool reached = true;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_tally(p, "p1", &a, NULL, NULL, &err)); /* quorum projection */
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_tally(NOT_A_HANDLE, "p1", &a, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_decision_tally(freed, "p1", &a, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_tally(p, NULL, &a, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_decision_tally(p, bad_utf8, &a, NULL, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_tally(NULL, NULL, &a, NULL, NULL, NULL, &reached, &err));
    EXPECT(MACP_STATUS_INVALID_HANDLE, macp_quorum_tally(freed, NULL, &a, NULL, NULL, NULL, &reached, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_tally(p, bad_utf8, &a, NULL, NULL, NULL, &reached, &err));
    OK(macp_quorum_tally(p, NULL, NULL, NULL, NULL, NULL, &reached, &err));
    CHECK(!reached);
    macp_projection *dp = NULL;
    OK(macp_projection_new(MACP_MODE_DECISION, &dp, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_quorum_tally(dp, NULL, &a, NULL, NULL, NULL, NULL, &err));
    macp_projection_free(dp);
    macp_projection_free(NOT_A_HANDLE);
    macp_projection_free(NULL);
    macp_projection_free(p);
    macp_projection_free(p);
    macp_string_free(NULL);
    macp_string_free((macp_string *)bad_utf8); /* not the library's: ignored */

    /* Envelope encoding. */
    uint8_t buf[16];
    size_t n = 0;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode(NULL, "Vote", "s", NULL, NULL, NULL, 0, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "", "s", NULL, NULL, NULL, 0, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", NULL, NULL, NULL, NULL, 0, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", bad_utf8, NULL, NULL, 0, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", NULL, bad_utf8, NULL, 0, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", NULL, NULL, NULL, 3, NULL, 0, &n, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", NULL, NULL, NULL, 0, NULL, 0, NULL, &err));
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", NULL, NULL, NULL, 0, NULL, 5, &n, &err));
    n = 0;
    EXPECT(MACP_STATUS_INVALID_ARGUMENT, macp_envelope_encode("m", "Vote", "s", NULL, NULL, NULL, 0, buf, sizeof buf, &n, &err));
    CHECK(n > sizeof buf); /* the size needed is reported */

    /* The session is untouched by all of the above: only SessionStart. */
    macp_session_info *info = NULL;
    OK(macp_session_get_info(s, &info, NULL, &err));
    const macp_session_metadata *m = macp_session_info_metadata(info);
    CHECK(m && m->state == MACP_SESSION_STATE_OPEN);
    size_t total = 0;
    for (size_t i = 0; m && i < m->activity_len; i++) total += m->activity[i].message_count;
    CHECK(total <= 1);
    macp_session_info_free(info);

    macp_session_free(s);
    macp_client_free(client);
}

/* ---------------------------------------------------------------- main */

int main(void) {
    const struct test tests[] = {
        {"decision_projection", test_decision_projection},
        {"proposal_flow", test_proposal_flow},
        {"task_flow", test_task_flow},
        {"handoff_flow", test_handoff_flow},
        {"quorum_flow", test_quorum_flow},
        {"multi_round_flow", test_multi_round_flow},
        {"projection_from_built_envelopes", test_projection_from_built_envelopes},
        {"projection_is_thread_safe", test_projection_is_thread_safe},
        {"bad_input", test_bad_input},
    };
    return run_tests("c-modes", tests, sizeof tests / sizeof tests[0]);
}
