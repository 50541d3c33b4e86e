package macp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// step is one accepted message as the session's history must show it: its
// type, sender and the payload fields it must carry (JSON, field names of
// the .proto; bytes as base64).
type step struct {
	messageType, sender, fields string
}

// contains reports where want is not contained in got: objects by want's
// keys, arrays element by element with equal length, everything else by
// equality.
func contains(path string, want, got any) []string {
	if w, ok := want.(map[string]any); ok {
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, want an object", path, got)}
		}
		var out []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, contains(path+"."+k, wv, gv)...)
		}
		return out
	}
	if w, ok := want.([]any); ok {
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %v, want %d entries", path, got, len(w))}
		}
		var out []string
		for i := range w {
			out = append(out, contains(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		return []string{fmt.Sprintf("%s: %s, want %s", path, gj, wj)}
	}
	return nil
}

func mustContain(t *testing.T, what, want string, got any) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	if problems := contains(what, w, got); len(problems) > 0 {
		t.Fatalf("%s", strings.Join(problems, "\n"))
	}
}

// checkHistory reads the session's accepted history from the start, checks
// it is SessionStart followed by exactly the steps (every field a helper
// was given landed in its payload field), and returns the Projection's
// state built from it.
func checkHistory(t *testing.T, s *macp.Session, steps []step) map[string]any {
	t.Helper()
	envs, p := watchHistory(t, s, len(steps)+1)
	for i, want := range steps {
		e := envs[i+1]
		what := fmt.Sprintf("history[%d] %s", i+1, e.MessageType)
		if e.MessageType != want.messageType || e.Sender != want.sender {
			t.Fatalf("%s from %s, want %s from %s", what, e.Sender, want.messageType, want.sender)
		}
		raw, err := e.PayloadJSON()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		mustContain(t, what, want.fields, got)
	}
	js, err := p.StateJSON()
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal([]byte(js), &state); err != nil {
		t.Fatal(err)
	}
	return state
}

// startWith starts a session of mode as the first identity with all of
// them as participants, and opens it as each of the others.
func startWith(t *testing.T, mode string, ids ...string) []*macp.Session {
	t.Helper()
	lead := dial(t, ids[0])
	s, _, err := lead.StartSession(ctx(t), mode, macp.StartOptions{Participants: ids, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	out := []*macp.Session{s}
	for _, id := range ids[1:] {
		out = append(out, open(t, dial(t, id), s.ID()))
	}
	return out
}

func commit(t *testing.T, s *macp.Session, action string, positive bool) {
	t.Helper()
	ack, err := s.Commit(ctx(t), macp.Commitment{Action: action, AuthorityScope: "test", Reason: "done", OutcomePositive: positive})
	if err != nil || ack.State != macp.StateResolved {
		t.Fatalf("commit %s: %+v %v", action, ack, err)
	}
}

func TestProposalEndToEnd(t *testing.T) {
	ss := startWith(t, macp.ModeProposal, "go-p-buyer", "go-p-seller", "go-p-carol")
	buyer, seller, carol := ss[0].Proposal(), ss[1].Proposal(), ss[2].Proposal()
	must(t)(seller.Propose(ctx(t), "p1", "offer", "100 units", []byte("d"), []string{"bulk", "q4"}))
	must(t)(buyer.CounterPropose(ctx(t), "p2", "p1", "counter", "90 units", []byte("e")))
	must(t)(seller.Reject(ctx(t), "p2", false, "too low"))
	must(t)(seller.Propose(ctx(t), "p3", "alt", "", nil, nil))
	if _, err := buyer.Withdraw(ctx(t), "p3", ""); !errors.Is(err, macp.StatusForbidden) {
		t.Fatalf("withdrawing another's proposal: %v", err)
	}
	must(t)(seller.Withdraw(ctx(t), "p3", "never mind"))
	must(t)(seller.Accept(ctx(t), "p1", "mine"))
	must(t)(carol.Accept(ctx(t), "p1", "ok"))
	must(t)(buyer.Accept(ctx(t), "p1", "fine"))
	commit(t, ss[0], "proposal.accepted", true)

	state := checkHistory(t, ss[0], []step{
		{"Proposal", "go-p-seller", `{"proposal_id":"p1","title":"offer","summary":"100 units","details":"ZA==","tags":["bulk","q4"]}`},
		{"CounterProposal", "go-p-buyer", `{"proposal_id":"p2","supersedes_proposal_id":"p1","title":"counter","summary":"90 units","details":"ZQ=="}`},
		{"Reject", "go-p-seller", `{"proposal_id":"p2","terminal":false,"reason":"too low"}`},
		{"Proposal", "go-p-seller", `{"proposal_id":"p3","title":"alt","summary":"","details":"","tags":[]}`},
		{"Withdraw", "go-p-seller", `{"proposal_id":"p3","reason":"never mind"}`},
		{"Accept", "go-p-seller", `{"proposal_id":"p1","reason":"mine"}`},
		{"Accept", "go-p-carol", `{"proposal_id":"p1","reason":"ok"}`},
		{"Accept", "go-p-buyer", `{"proposal_id":"p1","reason":"fine"}`},
		{"Commitment", "go-p-buyer", `{"action":"proposal.accepted","outcome_positive":true}`},
	})
	mustContain(t, "state", `{"phase":"Committed","agreed_proposal":"p1",
		"proposals":{"p1":{"proposer":"go-p-seller","disposition":"Live"},
		             "p2":{"proposer":"go-p-buyer","supersedes_proposal_id":"p1"},
		             "p3":{"disposition":"Withdrawn"}},
		"rejections":[{"proposal_id":"p2","sender":"go-p-seller","terminal":false}],
		"anomalies":[]}`, state)
}

func TestTaskEndToEnd(t *testing.T) {
	ss := startWith(t, macp.ModeTask, "go-t-planner", "go-t-worker", "go-t-carol")
	planner, worker, carol := ss[0].Task(), ss[1].Task(), ss[2].Task()
	must(t)(planner.Request(ctx(t), "t1", "build", "compile it", "", []byte("src"), 4102444800000))
	must(t)(carol.Reject(ctx(t), "t1", "go-t-carol", "busy"))
	must(t)(worker.Accept(ctx(t), "t1", "go-t-worker", "on it"))
	if _, err := worker.Update(ctx(t), "t1", "working", 1.5, "", nil); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("progress 1.5: %v", err)
	}
	must(t)(worker.Update(ctx(t), "t1", "compiling", 0.5, "half", []byte("log")))
	must(t)(worker.Complete(ctx(t), "t1", "go-t-worker", []byte("bin"), "built"))
	commit(t, ss[0], "task.completed", true)

	state := checkHistory(t, ss[1], []step{
		{"TaskRequest", "go-t-planner", `{"task_id":"t1","title":"build","instructions":"compile it","requested_assignee":"","input":"c3Jj","deadline_unix_ms":4102444800000}`},
		{"TaskReject", "go-t-carol", `{"task_id":"t1","assignee":"go-t-carol","reason":"busy"}`},
		{"TaskAccept", "go-t-worker", `{"task_id":"t1","assignee":"go-t-worker","reason":"on it"}`},
		{"TaskUpdate", "go-t-worker", `{"task_id":"t1","status":"compiling","progress":0.5,"message":"half","partial_output":"bG9n"}`},
		{"TaskComplete", "go-t-worker", `{"task_id":"t1","assignee":"go-t-worker","output":"Ymlu","summary":"built"}`},
		{"Commitment", "go-t-planner", `{"action":"task.completed","outcome_positive":true}`},
	})
	mustContain(t, "state", `{"phase":"Committed","active_assignee":"go-t-worker",
		"tasks":{"t1":{"status":"completed","assignee":"go-t-worker","requester":"go-t-planner"}},
		"reports":[{"outcome":"completed","summary":"built"}],"anomalies":[]}`, state)
}

func TestTaskFailureEndToEnd(t *testing.T) {
	ss := startWith(t, macp.ModeTask, "go-tf-planner", "go-tf-worker")
	must(t)(ss[0].Task().Request(ctx(t), "t1", "build", "", "go-tf-worker", nil, 0))
	must(t)(ss[1].Task().Accept(ctx(t), "t1", "go-tf-worker", ""))
	must(t)(ss[1].Task().Fail(ctx(t), "t1", "go-tf-worker", "BUILD_FAILED", "compile error", true))
	commit(t, ss[0], "task.failed", false)
	state := checkHistory(t, ss[0], []step{
		{"TaskRequest", "go-tf-planner", `{"task_id":"t1","requested_assignee":"go-tf-worker"}`},
		{"TaskAccept", "go-tf-worker", `{"task_id":"t1","assignee":"go-tf-worker"}`},
		{"TaskFail", "go-tf-worker", `{"task_id":"t1","assignee":"go-tf-worker","error_code":"BUILD_FAILED","reason":"compile error","retryable":true}`},
		{"Commitment", "go-tf-planner", `{"action":"task.failed","outcome_positive":false}`},
	})
	mustContain(t, "state", `{"tasks":{"t1":{"status":"failed"}},"reports":[{"error_code":"BUILD_FAILED","retryable":true}]}`, state)
}

func TestHandoffEndToEnd(t *testing.T) {
	ss := startWith(t, macp.ModeHandoff, "go-h-owner", "go-h-t1", "go-h-t2")
	owner, t1, t2 := ss[0].Handoff(), ss[1].Handoff(), ss[2].Handoff()
	must(t)(owner.Offer(ctx(t), "h1", "go-h-t1", "support", "escalate"))
	must(t)(owner.Context(ctx(t), "h1", "text/plain", []byte("ticket 42")))
	must(t)(t1.Decline(ctx(t), "h1", "go-h-t1", "at capacity"))
	must(t)(owner.Offer(ctx(t), "h2", "go-h-t2", "support", ""))
	if _, err := t1.Accept(ctx(t), "h2", "", ""); err == nil {
		t.Fatal("an offer accepted by someone other than its target")
	}
	must(t)(t2.Accept(ctx(t), "h2", "go-h-t2", "ready"))
	commit(t, ss[0], "handoff.accepted", true)

	state := checkHistory(t, ss[2], []step{
		{"HandoffOffer", "go-h-owner", `{"handoff_id":"h1","target_participant":"go-h-t1","scope":"support","reason":"escalate"}`},
		{"HandoffContext", "go-h-owner", `{"handoff_id":"h1","content_type":"text/plain","context":"dGlja2V0IDQy"}`},
		{"HandoffDecline", "go-h-t1", `{"handoff_id":"h1","declined_by":"go-h-t1","reason":"at capacity"}`},
		{"HandoffOffer", "go-h-owner", `{"handoff_id":"h2","target_participant":"go-h-t2","scope":"support","reason":""}`},
		{"HandoffAccept", "go-h-t2", `{"handoff_id":"h2","accepted_by":"go-h-t2","reason":"ready","implicit":false}`},
		{"Commitment", "go-h-owner", `{"action":"handoff.accepted"}`},
	})
	mustContain(t, "state", `{"phase":"Committed","offers":{
		"h1":{"disposition":"Declined","settled_by":"go-h-t1","contexts":[{"content_type":"text/plain","size":9}]},
		"h2":{"disposition":"Accepted","settled_by":"go-h-t2","implicit":false}}}`, state)
}

func TestMultiRoundEndToEnd(t *testing.T) {
	ss := startWith(t, macp.ModeMultiRound, "go-m-coord", "go-m-alice", "go-m-bob")
	coord, alice, bob := ss[0].MultiRound(), ss[1].MultiRound(), ss[2].MultiRound()
	if _, err := alice.Contribute(ctx(t), ""); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("an empty contribution: %v", err)
	}
	must(t)(alice.Contribute(ctx(t), "option_a"))
	must(t)(bob.Contribute(ctx(t), "option_b"))
	must(t)(bob.Contribute(ctx(t), "option_a"))
	// Converged: every participant's latest value is the same.
	must(t)(coord.Contribute(ctx(t), "option_a"))
	commit(t, ss[0], "multi_round.converged", true)
	state := checkHistory(t, ss[0], []step{
		{"Contribute", "go-m-alice", `{"value":"option_a"}`},
		{"Contribute", "go-m-bob", `{"value":"option_b"}`},
		{"Contribute", "go-m-bob", `{"value":"option_a"}`},
		{"Contribute", "go-m-coord", `{"value":"option_a"}`},
		{"Commitment", "go-m-coord", `{"action":"multi_round.converged"}`},
	})
	mustContain(t, "state", `{"phase":"Committed","converged":true,"rounds":4,
		"contributions":{"go-m-coord":"option_a","go-m-alice":"option_a","go-m-bob":"option_a"}}`, state)
}
