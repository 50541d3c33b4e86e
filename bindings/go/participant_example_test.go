package macp_test

import (
	"context"
	"fmt"
	"log"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// A voter on the participant loop approves every proposal of the sessions
// it is invited to; the coordinator commits once the vote is in.
func ExampleParticipant() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	coordinator, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("example-lead"))
	if err != nil {
		log.Fatal(err)
	}
	defer coordinator.Close()
	voter, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("example-voter"))
	if err != nil {
		log.Fatal(err)
	}
	defer voter.Close()

	voted := make(chan struct{})
	ended := make(chan macp.SessionState, 1)
	agent := macp.NewParticipant(voter, "", nil).
		On("Proposal", func(ctx context.Context, s *macp.Session, env macp.Envelope) error {
			_, err := s.Decision().Vote(ctx, "p1", "APPROVE", "looks right")
			close(voted)
			return err
		}).
		OnEnded(func(_ context.Context, _ *macp.Session, state macp.SessionState, _ error) { ended <- state })
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- agent.Run(runCtx) }()

	session, _, err := coordinator.StartSession(ctx, macp.ModeDecision, macp.StartOptions{
		Participants: []string{"example-lead", "example-voter"},
		TTL:          time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()
	if _, err := session.Decision().Propose(ctx, "p1", "postgres", "mature", nil); err != nil {
		log.Fatal(err)
	}
	<-voted
	if _, err := session.Commit(ctx, macp.Commitment{Action: "decision.selected", AuthorityScope: "storage", Reason: "approved", OutcomePositive: true}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("the voter saw the session end:", <-ended)
	stop()
	fmt.Println("Run returned:", <-done)
	// Output:
	// the voter saw the session end: RESOLVED
	// Run returned: context canceled
}
