package macp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

func dial(t *testing.T, identity string) *macp.Client {
	t.Helper()
	c, err := macp.Dial(ctx(t), target, macp.WithInsecure(), macp.WithBearerToken(identity), macp.WithCallTimeout(20*time.Second))
	if err != nil {
		t.Fatalf("dial as %s: %v", identity, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func open(t *testing.T, c *macp.Client, id string) *macp.Session {
	t.Helper()
	s, err := c.OpenSession(ctx(t), id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// must(t)(call()) fails the test when an acknowledged call fails.
func must(t *testing.T) func(macp.Ack, error) {
	t.Helper()
	return func(_ macp.Ack, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startDecision starts a Decision session of c with one participant
// (closed when the test ends).
func startDecision(t *testing.T, c *macp.Client, participant string) *macp.Session {
	t.Helper()
	s, _, err := c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{participant}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// nothingSent fails the test when a participant of s sent a message.
func nothingSent(t *testing.T, s *macp.Session) {
	t.Helper()
	info, err := s.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range info.Activity {
		if a.MessageCount != 0 {
			t.Fatalf("%s sent %d messages", a.Participant, a.MessageCount)
		}
	}
}

// collect reads events from w until n envelopes arrived, feeding each to p
// (when not nil).
func collect(t *testing.T, w *macp.Watcher, n int, p *macp.Projection) []*macp.Envelope {
	t.Helper()
	var got []*macp.Envelope
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watcher closed after %d of %d envelopes", len(got), n)
			}
			if ev.Kind != macp.EventEnvelope {
				continue
			}
			if ev.Sequence != uint64(len(got)+1) {
				t.Fatalf("envelope %d arrived as sequence %d", len(got)+1, ev.Sequence)
			}
			if p != nil {
				if err := p.Apply(ev.Raw); err != nil {
					t.Fatal(err)
				}
			}
			got = append(got, ev.Envelope)
		case <-timeout:
			t.Fatalf("only %d of %d envelopes arrived", len(got), n)
		}
	}
	return got
}

// watchHistory reads the first n envelopes of s's history, applying each
// to a new projection of its mode (closed when the test ends).
func watchHistory(t *testing.T, s *macp.Session, n int) ([]*macp.Envelope, *macp.Projection) {
	t.Helper()
	p, err := macp.NewProjection(s.Mode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	w, err := s.Watch(ctx(t), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return collect(t, w, n, p), p
}

func TestDecisionEndToEnd(t *testing.T) {
	coord, alice, bob := dial(t, "go-coordinator"), dial(t, "go-alice"), dial(t, "go-bob")
	s, ack, err := coord.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{
		Intent:       "pick a database",
		Participants: []string{"go-alice", "go-bob"},
		TTL:          time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ack.State != macp.StateOpen || ack.SessionID != s.ID() || s.Mode() != macp.ModeDecision {
		t.Fatalf("start ack %+v for %s", ack, s.ID())
	}
	a, b := open(t, alice, s.ID()).Decision(), open(t, bob, s.ID()).Decision()
	must(t)(a.Propose(ctx(t), "p1", "postgres", "mature", []byte{1, 2}))
	must(t)(b.Evaluate(ctx(t), "p1", "APPROVE", 0.9, "fine"))
	must(t)(b.Object(ctx(t), "p1", "ops cost", "low"))
	must(t)(a.Vote(ctx(t), "p1", "APPROVE", "yes"))
	must(t)(b.Vote(ctx(t), "p1", "APPROVE", ""))
	done, err := s.Commit(ctx(t), macp.Commitment{Action: "decision.selected", AuthorityScope: "storage", Reason: "all approve", OutcomePositive: true})
	if err != nil || done.State != macp.StateResolved {
		t.Fatalf("commit: %+v %v", done, err)
	}

	info, err := bob.SessionInfo(ctx(t), s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if info.State != macp.StateResolved || info.Initiator != "go-coordinator" || len(info.Participants) != 2 {
		t.Fatalf("final state seen by bob: %+v", info)
	}

	envs, p := watchHistory(t, s, 7)
	types := make([]string, len(envs))
	for i, e := range envs {
		types[i] = e.MessageType
	}
	want := "SessionStart Proposal Evaluation Objection Vote Vote Commitment"
	if strings.Join(types, " ") != want {
		t.Fatalf("history %v, want %s", types, want)
	}
	approve, reject, abstain, err := p.DecisionTally("p1")
	if err != nil || approve != 2 || reject != 0 || abstain != 0 {
		t.Fatalf("tally %d/%d/%d %v", approve, reject, abstain, err)
	}
	state, err := p.StateJSON()
	if err != nil || !strings.Contains(state, `"Committed"`) {
		t.Fatalf("projection state %s %v", state, err)
	}
	vote, err := envs[4].PayloadJSON()
	if err != nil || !strings.Contains(string(vote), `"APPROVE"`) {
		t.Fatalf("vote payload %s %v", vote, err)
	}
}

func TestQuorumEndToEnd(t *testing.T) {
	coord, alice, bob := dial(t, "go-q-coord"), dial(t, "go-q-alice"), dial(t, "go-q-bob")
	s, _, err := coord.StartSession(ctx(t), macp.ModeQuorum, macp.StartOptions{Participants: []string{"go-q-alice", "go-q-bob"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t)(s.Quorum().RequestApproval(ctx(t), "r1", "deploy", "ship 1.2", nil, 2))
	must(t)(open(t, alice, s.ID()).Quorum().Approve(ctx(t), "r1", "lgtm"))
	must(t)(open(t, bob, s.ID()).Quorum().Approve(ctx(t), "r1", ""))
	_, err = open(t, bob, s.ID()).Quorum().Reject(ctx(t), "r1", "changed my mind")
	if !errors.Is(err, macp.StatusInvalidEnvelope) {
		t.Fatalf("a second ballot: %v", err)
	}
	must(t)(s.Commit(ctx(t), macp.Commitment{Action: "quorum.approved", AuthorityScope: "release", Reason: "2 of 2", OutcomePositive: true}))

	_, p := watchHistory(t, s, 5)
	tally, err := p.QuorumTally("r1")
	if err != nil || tally.Approve != 2 || tally.Required != 2 || !tally.Reached {
		t.Fatalf("tally %+v %v", tally, err)
	}
	info, err := open(t, alice, s.ID()).Info(ctx(t))
	if err != nil || info.State != macp.StateResolved {
		t.Fatalf("alice sees %+v %v", info, err)
	}
}

func TestWatcherDeliversInOrderAndClosesOnCancel(t *testing.T) {
	c := dial(t, "go-watcher")
	s := startDecision(t, c, "go-watcher")
	wctx, cancel := context.WithCancel(ctx(t))
	w, err := s.Watch(wctx, 0, &macp.WatchOptions{QueueCapacity: 8})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	const n = 50
	// The watcher may deliver the last envelope before its Propose call has
	// returned: the test waits for the sender before it ends (and cancels
	// the sender's context).
	sent := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if _, err := s.Decision().Propose(ctx(t), fmt.Sprintf("p%d", i), "x", "", nil); err != nil {
				sent <- fmt.Errorf("propose %d: %w", i, err)
				return
			}
		}
		sent <- nil
	}()
	envs := collect(t, w, n+1, nil)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for i, e := range envs[1:] {
		if e.MessageType != "Proposal" || e.SessionID != s.ID() {
			t.Fatalf("envelope %d: %+v", i+1, e)
		}
	}
	cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-w.Events():
			if !ok {
				w.Close() // closing again is harmless
				return
			}
		case <-timeout:
			t.Fatal("the channel was not closed after the context was cancelled")
		}
	}
}

func TestErrorsCarryRegistryCodes(t *testing.T) {
	coord, alice := dial(t, "go-e-coord"), dial(t, "go-e-alice")
	_, err := coord.OpenSession(ctx(t), "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60")
	var me *macp.Error
	if !errors.Is(err, macp.StatusSessionNotFound) || !errors.As(err, &me) || me.Code != "SESSION_NOT_FOUND" || me.Message == "" {
		t.Fatalf("unknown session: %#v", err)
	}
	if _, _, err := coord.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{SessionID: "s1"}); !errors.Is(err, macp.StatusInvalidSessionID) {
		t.Fatalf("bad session id: %v", err)
	}
	s, _, err := coord.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-e-alice"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	as := open(t, alice, s.ID())
	if _, err := as.Commit(ctx(t), macp.Commitment{Action: "decision.selected", OutcomePositive: true}); !errors.Is(err, macp.StatusForbidden) {
		t.Fatalf("non-initiator commit: %v", err)
	}
	if _, err := as.Send(ctx(t), "", nil, ""); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("empty message type: %v", err)
	}
	if _, err := as.SendJSON(ctx(t), "Vote", "", `{"proposal":"p1"}`, ""); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("unknown JSON field: %v", err)
	}
	s.Close()
	s.Close()
	if _, err := s.Info(ctx(t)); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("closed session: %v", err)
	}
	if macp.StatusRateLimited.String() != "RATE_LIMITED" || !macp.StatusTransport.Transient() || macp.StatusForbidden.Transient() {
		t.Fatal("status names and transience")
	}
}

// A Go string holding a NUL byte would reach C cut short; every call
// refuses it before anything is sent.
func TestStringsWithNULAreRefused(t *testing.T) {
	refused := func(what string, err error) {
		t.Helper()
		var me *macp.Error
		if !errors.Is(err, macp.StatusInvalidArgument) || !errors.As(err, &me) || !strings.Contains(me.Message, "NUL") {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if _, err := macp.Dial(ctx(t), target+"\x00junk", macp.WithInsecure()); err == nil {
		t.Fatal("a target with a NUL connected")
	} else {
		refused("Dial", err)
	}
	_, err := macp.Dial(ctx(t), target, macp.WithInsecure(), macp.WithBearerToken("go-nul\x00admin"))
	refused("WithBearerToken", err)

	c := dial(t, "go-nul")
	s, _, err := c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-nul", "go-nul-b\x00"}, TTL: time.Minute})
	refused("StartSession participants", err)
	s, _, err = c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-nul"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Decision().Propose(ctx(t), "p1\x00", "x", "", nil)
	refused("Propose", err)
	_, err = s.Decision().Vote(ctx(t), "p1", "APPROVE", "fine\x00but")
	refused("Vote reason", err)
	_, err = s.SendJSON(ctx(t), "Proposal", "", "{\"proposal_id\":\"p1\"}\x00", "")
	refused("SendJSON", err)
	_, err = c.Policy(ctx(t), "policy.default\x00")
	refused("Policy", err)
	_, err = s.Proposal().Propose(ctx(t), "p1", "", "", nil, []string{"ok", "no\x00"})
	refused("Propose tags", err)
	_, err = macp.VerifyReceipt("{}", "{\x00}")
	refused("VerifyReceipt keys", err)
	_, err = macp.NewProjection(macp.ModeDecision + "\x00")
	refused("NewProjection", err)
	_, err = macp.PayloadFromJSON("macp.v1.CommitmentPayload", "{}\x00")
	refused("PayloadFromJSON", err)
	_, err = macp.VerifyCommitment(nil, "sha256:\x00")
	refused("VerifyCommitment", err)
	if macp.IsCanonicalCommitmentHash("sha256:" + strings.Repeat("0", 64) + "\x00") {
		t.Fatal("a hash with a NUL is canonical")
	}
	// Nothing reached the session.
	nothingSent(t, s)
}

func TestContextCancellationAndDeadlines(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := macp.Dial(cancelled, target, macp.WithInsecure()); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial with a cancelled context: %v", err)
	}
	c := dial(t, "go-ctx")
	if _, _, err := c.StartSession(cancelled, macp.ModeDecision, macp.StartOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("start with a cancelled context: %v", err)
	}

	// A server that accepts connections and never answers: the call hangs
	// until the context's deadline, which must end it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	first := make(chan net.Conn, 1)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			select {
			case first <- conn:
			default:
			}
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	dctx, dcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer dcancel()
	start := time.Now()
	_, err = macp.Dial(dctx, l.Addr().String(), macp.WithInsecure(), macp.WithConnectTimeout(time.Minute))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial of a silent server: %v", err)
	}
	if waited := time.Since(start); waited > 20*time.Second {
		t.Fatalf("the deadline was not honoured: returned after %v", waited)
	}
	var me *macp.Error
	if !errors.As(err, &me) || me.Status != macp.StatusCancelled || me.Delivery != macp.DeliveryUnknown {
		t.Fatalf("a dial its context ended: want an *Error (CANCELLED, UNKNOWN) wrapping ctx.Err(), got %#v", err)
	}
	// The attempt itself stopped (it used to go on in the background for the
	// whole connect timeout): the client closed its connection.
	conn := <-first
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the cancelled dial kept its connection open")
			}
			break
		}
	}
}

// A message sent with a chosen id can be re-sent with it: the runtime
// acknowledges the second send as a duplicate and applies it once; a
// refusal names its id and says it was not applied.
func TestMessageIDsAndDelivery(t *testing.T) {
	c := dial(t, "go-ids")
	s := startDecision(t, c, "go-ids-voter")
	voter := open(t, dial(t, "go-ids-voter"), s.ID())
	ack, err := voter.Decision().Propose(ctx(t), "p1", "ship", "", nil, macp.WithMessageID("go-prop-1"))
	if err != nil || ack.MessageID != "go-prop-1" || ack.Duplicate {
		t.Fatalf("propose with an id: %+v %v", ack, err)
	}
	ack, err = voter.Decision().Propose(ctx(t), "p1", "ship", "", nil, macp.WithMessageID("go-prop-1"))
	if err != nil || !ack.Duplicate {
		t.Fatalf("the re-send must be a duplicate: %+v %v", ack, err)
	}
	_, err = voter.Decision().Propose(ctx(t), "p1", "ship", "", nil, macp.WithMessageID("go-prop-2"))
	var me *macp.Error
	if !errors.As(err, &me) || me.MessageID != "go-prop-2" || me.Delivery != macp.DeliveryRefused {
		t.Fatalf("a refused proposal: %#v", err)
	}
	_, err = voter.Decision().Vote(ctx(t), "p1", "APPROVE", "", macp.WithMessageID("implicit-accept:x"))
	if !errors.As(err, &me) || me.Status != macp.StatusInvalidArgument || me.Delivery != macp.DeliveryNotSent {
		t.Fatalf("a reserved id: %#v", err)
	}
}

func TestGoroutinesShareOneClient(t *testing.T) {
	c := dial(t, "go-shared")
	s := startDecision(t, c, "go-shared")
	const workers, each = 32, 5
	var wg sync.WaitGroup
	ids := make(chan string, workers*each)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ack, err := s.Decision().Propose(ctx(t), fmt.Sprintf("p-%d-%d", g, i), "x", "", nil)
				if err != nil {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
				ids <- ack.MessageID
			}
			if _, err := c.SessionInfo(ctx(t), s.ID()); err != nil {
				t.Errorf("goroutine %d: %v", g, err)
			}
		}(g)
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("message id %s acknowledged twice", id)
		}
		seen[id] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d of %d sends acknowledged", len(seen), workers*each)
	}
}

func TestDiscoveryPoliciesAndJSONPayloads(t *testing.T) {
	c := dial(t, "go-registry")
	modes, err := c.ListModes(ctx(t))
	if err != nil || !strings.Contains(string(modes), macp.ModeDecision) {
		t.Fatalf("modes %s %v", modes, err)
	}
	id := fmt.Sprintf("policy.go.%d", time.Now().UnixNano())
	policy := fmt.Sprintf(`{"policy_id":%q,"mode":%q,"schema_version":3,"rules":{"voting":{"algorithm":"none"}}}`, id, macp.ModeDecision)
	if err := c.RegisterPolicy(ctx(t), policy); err != nil {
		t.Fatal(err)
	}
	got, err := c.Policy(ctx(t), id)
	var p struct {
		PolicyID string         `json:"policy_id"`
		Rules    map[string]any `json:"rules"`
	}
	if err != nil || json.Unmarshal(got, &p) != nil || p.PolicyID != id || p.Rules["voting"] == nil {
		t.Fatalf("policy %s %v", got, err)
	}
	bad := fmt.Sprintf(`{"policy_id":"%s.bad","mode":%q,"schema_version":3,"rules":{"voting":{"algorithm":"nope"}}}`, id, macp.ModeDecision)
	if err := c.RegisterPolicy(ctx(t), bad); !errors.Is(err, macp.StatusInvalidPolicyDefinition) {
		t.Fatalf("invalid policy: %v", err)
	}

	s, _, err := c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-registry"}, PolicyVersion: id, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t)(s.SendJSON(ctx(t), "Proposal", "", `{"proposal_id":"p1","option":"x"}`, ""))
	ack, err := s.SendJSON(ctx(t), "Vote", "macp.modes.decision.v1.VotePayload", `{"proposal_id":"p1","vote":"APPROVE"}`, "go-vote-1")
	if err != nil || ack.MessageID != "go-vote-1" {
		t.Fatalf("vote %+v %v", ack, err)
	}
	// The same id again is acknowledged as a duplicate, not applied twice.
	again, err := s.SendJSON(ctx(t), "Vote", "", `{"proposal_id":"p1","vote":"APPROVE"}`, "go-vote-1")
	if err == nil && !again.Duplicate {
		t.Fatalf("re-sent vote: %+v", again)
	}
	if err != nil && !errors.Is(err, macp.StatusDuplicateMessage) {
		t.Fatalf("re-sent vote: %v", err)
	}
	must(t)(s.Progress(ctx(t), "tok", 1, 2, "half", ""))
	must(t)(c.SendSignal(ctx(t), "load", []byte{1}, 0.5, s.ID()))
	wire, err := macp.PayloadFromJSON("macp.v1.CommitmentPayload", `{"commitment_id":"c1","action":"a","outcome_positive":true}`)
	if err != nil || len(wire) == 0 {
		t.Fatalf("encode %v", err)
	}
	back, err := macp.PayloadJSON("macp.v1.CommitmentPayload", wire)
	if err != nil || !strings.Contains(string(back), `"commitment_id":"c1"`) {
		t.Fatalf("decode %s %v", back, err)
	}
	if err := c.UnregisterPolicy(ctx(t), id); err != nil {
		t.Fatal(err)
	}
}

func TestPayloadTypes(t *testing.T) {
	for _, c := range []struct{ mode, messageType, want string }{
		{macp.ModeDecision, "Vote", "macp.modes.decision.v1.VotePayload"},
		{macp.ModeProposal, "Reject", "macp.modes.proposal.v1.RejectPayload"},
		{macp.ModeQuorum, "Reject", "macp.modes.quorum.v1.RejectPayload"},
		{macp.ModeMultiRound, "Contribute", "macp.modes.multi_round.v1.ContributePayload"},
		{macp.ModeTask, "Commitment", "macp.v1.CommitmentPayload"},
		{"", "Signal", "macp.v1.SignalPayload"},
	} {
		got, err := macp.PayloadType(c.mode, c.messageType)
		if err != nil || got != c.want {
			t.Errorf("PayloadType(%q, %q) = %q, %v; want %q", c.mode, c.messageType, got, err, c.want)
		}
	}
	for _, c := range [][2]string{{macp.ModeDecision, "Dance"}, {"decision", "Vote"}, {macp.ModeDecision, ""}} {
		if got, err := macp.PayloadType(c[0], c[1]); !errors.Is(err, macp.StatusInvalidArgument) || got != "" {
			t.Errorf("PayloadType(%q, %q) = %q, %v; want StatusInvalidArgument", c[0], c[1], got, err)
		}
	}
	if _, err := macp.PayloadType(macp.ModeDecision, "Vote\x00"); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Errorf("a NUL in the message type: %v", err)
	}

	wire, err := macp.PayloadFromJSON("macp.modes.task.v1.TaskFailPayload", `{"task_id":"t1","reason":"disk"}`)
	if err != nil {
		t.Fatal(err)
	}
	e := macp.Envelope{Mode: macp.ModeTask, MessageType: "TaskFail", Payload: wire}
	got, err := e.PayloadJSON()
	if err != nil || !strings.Contains(string(got), `"task_id":"t1"`) || !strings.Contains(string(got), `"reason":"disk"`) {
		t.Fatalf("TaskFail payload %s %v", got, err)
	}
	e.Payload = []byte{0xff, 0xff, 0xff}
	if _, err := e.PayloadJSON(); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("a payload that does not decode: %v", err)
	}
}

// Arguments the C header calls required are refused in Go when empty, with
// C's message, before anything is sent; optional ones may be "".
func TestRequiredAndOptionalArguments(t *testing.T) {
	c := dial(t, "go-args")
	s := startDecision(t, c, "go-args")
	refused := func(what, message string, err error) {
		t.Helper()
		var me *macp.Error
		if !errors.Is(err, macp.StatusInvalidArgument) || !errors.As(err, &me) || me.Message != message {
			t.Fatalf("%s: %v, want StatusInvalidArgument %q", what, err, message)
		}
	}
	d := s.Decision()
	_, err := d.Propose(ctx(t), "", "x", "", nil)
	refused("Propose without id", "proposal_id is empty", err)
	_, err = d.Propose(ctx(t), "p1", "", "", nil)
	refused("Propose without option", "option is empty", err)
	_, err = d.Evaluate(ctx(t), "p1", "", 0.5, "")
	refused("Evaluate without recommendation", "recommendation is empty", err)
	_, err = d.Object(ctx(t), "p1", "too slow", "")
	refused("Object without severity", "severity is empty", err)
	_, err = d.Vote(ctx(t), "p1", "", "")
	refused("Vote without vote", "vote is empty", err)
	_, err = s.Commit(ctx(t), macp.Commitment{Reason: "no action", OutcomePositive: true})
	refused("Commit without action", "action is empty", err)
	_, err = s.Proposal().Propose(ctx(t), "p1", "", "", nil, []string{"a", ""})
	refused("Propose with an empty tag", "tags[1] is empty", err)
	_, err = s.Task().Accept(ctx(t), "", "", "")
	refused("Task accept without id", "task_id is empty", err)
	_, err = s.Handoff().Offer(ctx(t), "h1", "", "", "")
	refused("Offer without target", "target_participant is empty", err)
	_, err = s.Quorum().Approve(ctx(t), "", "")
	refused("Approve without request id", "request_id is empty", err)
	_, err = c.SessionInfo(ctx(t), "")
	refused("SessionInfo without id", "session_id is empty", err)
	_, err = c.Policy(ctx(t), "")
	refused("Policy without id", "policy_id is empty", err)
	_, err = macp.PayloadJSON("", nil)
	refused("PayloadJSON without type", "type_name is empty", err)
	_, err = macp.NewProjection("")
	refused("NewProjection without mode", "mode is empty", err)
	nothingSent(t, s)

	// The optional arguments left empty.
	must(t)(d.Propose(ctx(t), "p1", "x", "", nil))
	must(t)(d.Evaluate(ctx(t), "p1", "APPROVE", 1, ""))
	must(t)(d.Object(ctx(t), "p1", "", "low"))
	must(t)(d.Vote(ctx(t), "p1", "APPROVE", ""))
	must(t)(s.Commit(ctx(t), macp.Commitment{Action: "decision.selected", AuthorityScope: "test", Reason: "done", OutcomePositive: true}))
	envs, _ := watchHistory(t, s, 6)
	obj, err := envs[3].PayloadJSON()
	if err != nil || !strings.Contains(string(obj), `"severity":"low"`) || !strings.Contains(string(obj), `"reason":""`) {
		t.Fatalf("objection %s %v", obj, err)
	}

	ts := startWith(t, macp.ModeTask, "go-args-planner", "go-args-worker")
	must(t)(ts[0].Task().Request(ctx(t), "t1", "", "", "", nil, 0))
	must(t)(ts[1].Task().Accept(ctx(t), "t1", "", ""))
	must(t)(ts[1].Task().Update(ctx(t), "t1", "", 0.5, "", nil))
	must(t)(ts[1].Task().Complete(ctx(t), "t1", "", nil, ""))
	hs := startWith(t, macp.ModeHandoff, "go-args-owner", "go-args-target")
	must(t)(hs[0].Handoff().Offer(ctx(t), "h1", "go-args-target", "", ""))
	must(t)(hs[1].Handoff().Accept(ctx(t), "h1", "", ""))
	qs := startWith(t, macp.ModeQuorum, "go-args-q", "go-args-q2")
	must(t)(qs[0].Quorum().RequestApproval(ctx(t), "r1", "", "", nil, 1))
}

// The Go names of the C constants print as C names them.
func TestNamesMatchC(t *testing.T) {
	for _, c := range []struct {
		got  fmt.Stringer
		want string
	}{
		{macp.StateOpen, "OPEN"},
		{macp.StateResolved, "RESOLVED"},
		{macp.StateCancelled, "CANCELLED"},
		{macp.SessionState(99), "UNSPECIFIED"},
		{macp.EventEnvelope, "ENVELOPE"},
		{macp.EventStreamError, "STREAM_ERROR"},
		{macp.EventModeRegistry, "MODE_REGISTRY"},
		{macp.EventClosed, "CLOSED"},
		{macp.EventKind(0), "UNKNOWN"},
		{macp.SessionEventCreated, "CREATED"},
		{macp.SessionEventCancelled, "CANCELLED"},
		{macp.SessionEventType(42), "UNSPECIFIED"},
		{macp.StatusForbidden, "FORBIDDEN"},
		{macp.StatusInvalidHandle, "INVALID_HANDLE"},
	} {
		if c.got.String() != c.want {
			t.Errorf("%#v prints %q, want %q", c.got, c.got.String(), c.want)
		}
	}
}

// One runtime-wide watcher per kind; a kind C does not know is refused.
func TestWatchRuntime(t *testing.T) {
	c := dial(t, "go-watch-runtime")
	for _, kind := range []macp.WatchKind{0, -1, macp.WatchRoots + 1, math.MaxInt32, math.MinInt32} {
		if w, err := c.WatchRuntime(ctx(t), kind, nil); !errors.Is(err, macp.StatusInvalidArgument) || w != nil {
			t.Fatalf("watch kind %d: %v %v", kind, w, err)
		}
	}
	for _, kind := range []macp.WatchKind{macp.WatchSignals, macp.WatchPolicies, macp.WatchModeRegistry, macp.WatchRoots} {
		w, err := c.WatchRuntime(ctx(t), kind, nil)
		if kind == macp.WatchRoots && errors.Is(err, macp.StatusUnsupported) {
			continue // a runtime that does not advertise roots watches
		}
		if err != nil || w == nil {
			t.Fatalf("watch kind %d: %v", kind, err)
		}
		w.Close()
	}
	w, err := c.WatchRuntime(ctx(t), macp.WatchSessions, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := startDecision(t, c, "go-watch-runtime")
	must(t)(s.Cancel(ctx(t), "done"))
	var seen []macp.SessionEventType
	timeout := time.After(30 * time.Second)
	for len(seen) < 2 {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watcher closed after %v", seen)
			}
			if ev.Kind != macp.EventSession || ev.Session == nil || ev.Session.SessionID != s.ID() {
				continue
			}
			if ev.Session.Mode != macp.ModeDecision || ev.Session.Initiator != "go-watch-runtime" {
				t.Fatalf("session event %v with %+v", ev.SessionEvent, ev.Session)
			}
			seen = append(seen, ev.SessionEvent)
		case <-timeout:
			t.Fatalf("only %v arrived", seen)
		}
	}
	if seen[0] != macp.SessionEventCreated || seen[1] != macp.SessionEventCancelled {
		t.Fatalf("transitions %v, want [CREATED CANCELLED]", seen)
	}
}

// Session lists: every page's sessions and tokens, and all of them at once.
func TestListSessions(t *testing.T) {
	c := dial(t, "go-lister")
	var ids []string
	for i := 0; i < 3; i++ {
		s, _, err := c.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-lister"}, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ids = append(ids, s.ID())
	}
	all, err := c.ListAllSessions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, i := range all {
		if i.Initiator == "go-lister" {
			if i.Mode != macp.ModeDecision || i.State != macp.StateOpen {
				t.Fatalf("listed %+v", i)
			}
			found[i.SessionID] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			t.Fatalf("session %s not in the %d listed", id, len(all))
		}
	}
	var paged []macp.SessionInfo
	token := ""
	for pages := 0; ; pages++ {
		page, next, err := c.ListSessions(ctx(t), 1, token)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 1 || pages > len(all)+10 {
			t.Fatalf("page %d holds %d sessions", pages, len(page))
		}
		paged = append(paged, page...)
		if next == "" {
			break
		}
		token = next
	}
	if len(paged) < len(all) {
		t.Fatalf("pages of one hold %d sessions, ListAllSessions %d", len(paged), len(all))
	}
}

// Closed handles are refused by every call that takes them.
func TestClosedHandles(t *testing.T) {
	c, err := macp.Dial(ctx(t), target, macp.WithInsecure(), macp.WithBearerToken("go-closed"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	if _, err := c.SessionInfo(ctx(t), "6f1c2a4e-8b3d-4c5e-9a7f-1b2c3d4e5f60"); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("SessionInfo on a closed client: %v", err)
	}
	if _, _, err := c.ListSessions(ctx(t), 0, ""); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("ListSessions on a closed client: %v", err)
	}
	if _, err := c.ListModes(ctx(t)); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("ListModes on a closed client: %v", err)
	}
	if _, err := c.WatchRuntime(ctx(t), macp.WatchSessions, nil); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("WatchRuntime on a closed client: %v", err)
	}
	p, err := macp.NewProjection(macp.ModeDecision)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.StateJSON(); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("StateJSON of a closed projection: %v", err)
	}
}
