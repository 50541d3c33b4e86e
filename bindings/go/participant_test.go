package macp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// A voter on the participant loop answers the lead's proposal by itself;
// the session runs to its end and the voter hears it resolve.
func TestParticipantVotesAndHearsTheEnd(t *testing.T) {
	lead, voter := dial(t, "go-p-lead"), dial(t, "go-p-voter")
	voted := make(chan string, 1)
	ended := make(chan macp.SessionState, 1)
	var mu sync.Mutex
	var others []string
	p := macp.NewParticipant(voter, "", nil).
		On("Proposal", func(ctx context.Context, s *macp.Session, env macp.Envelope) error {
			if env.Sender != "go-p-lead" {
				return fmt.Errorf("proposal from %s", env.Sender)
			}
			_, err := s.Decision().Vote(ctx, "p1", "APPROVE", "fine")
			voted <- s.ID()
			return err
		}).
		OnOther(func(_ context.Context, _ *macp.Session, env macp.Envelope) error {
			mu.Lock()
			others = append(others, env.MessageType)
			mu.Unlock()
			return nil
		}).
		OnEnded(func(_ context.Context, _ *macp.Session, state macp.SessionState, cause error) {
			if cause != nil {
				t.Errorf("ended with %v", cause)
			}
			ended <- state
		})
	runCtx, stop := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()

	s, _, err := lead.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-p-lead", "go-p-voter"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t)(s.Decision().Propose(ctx(t), "p1", "ship", "", nil))
	select {
	case id := <-voted:
		if id != s.ID() {
			t.Fatalf("voted in %s, want %s", id, s.ID())
		}
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-ctx(t).Done():
		t.Fatal("no vote")
	}
	must(t)(s.Commit(ctx(t), macp.Commitment{Action: "decision.selected", AuthorityScope: "test", Reason: "voted", OutcomePositive: true}))
	select {
	case state := <-ended:
		if state != macp.StateResolved {
			t.Fatalf("ended %v", state)
		}
	case <-ctx(t).Done():
		t.Fatal("no end")
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(others, " ") != "SessionStart Commitment" {
		t.Fatalf("fallback got %v (never the own Vote)", others)
	}
}

// A handler's error stops Run, which returns it.
func TestParticipantStopsOnAHandlerError(t *testing.T) {
	lead, voter := dial(t, "go-p-lead2"), dial(t, "go-p-voter2")
	boom := errors.New("cannot handle this")
	p := macp.NewParticipant(voter, "go-p-voter2", nil).
		On("SessionStart", func(context.Context, *macp.Session, macp.Envelope) error { return boom })
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx(t)) }()
	s, _, err := lead.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-p-voter2"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Run returned %v", err)
		}
	case <-ctx(t).Done():
		t.Fatal("Run did not stop")
	}
}

func TestParticipantRefusesBadInput(t *testing.T) {
	c := dial(t, "go-p-bad")
	if err := macp.NewParticipant(c, "a\x00b", nil).Run(ctx(t)); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("NUL identity: %v", err)
	}
	if err := macp.NewParticipant(c, " ", nil).Run(ctx(t)); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("blank identity: %v", err)
	}
	p := macp.NewParticipant(c, "", nil).On("", func(context.Context, *macp.Session, macp.Envelope) error { return nil })
	if err := p.Run(ctx(t)); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("empty message type: %v", err)
	}
	done, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := macp.NewParticipant(c, "", nil).Run(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	anon, err := macp.Dial(ctx(t), target, macp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if err := macp.NewParticipant(anon, "", nil).Run(ctx(t)); !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("no identity: %v", err)
	}
}
