// A Go program outside the libmacp repository: it imports the package and
// links the installed libmacp through pkg-config, then runs a Decision to
// its commitment against $MACP_TARGET and prints the final state.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

func main() {
	if err := run(os.Getenv("MACP_TARGET")); err != nil {
		fmt.Fprintln(os.Stderr, "decision:", err)
		os.Exit(1)
	}
}

func run(target string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	coordinator, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("coordinator"))
	if err != nil {
		return err
	}
	defer coordinator.Close()
	alice, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("alice"))
	if err != nil {
		return err
	}
	defer alice.Close()

	session, _, err := coordinator.StartSession(ctx, macp.ModeDecision, macp.StartOptions{
		Intent: "choose a database", Participants: []string{"alice"}, TTL: time.Minute,
	})
	if err != nil {
		return err
	}
	defer session.Close()
	joined, err := alice.OpenSession(ctx, session.ID())
	if err != nil {
		return err
	}
	defer joined.Close()
	if _, err := joined.Decision().Propose(ctx, "p1", "postgres", "mature", nil); err != nil {
		return err
	}
	if _, err := joined.Decision().Vote(ctx, "p1", "APPROVE", "ship it"); err != nil {
		return err
	}
	ack, err := session.Commit(ctx, macp.Commitment{
		Action: "decision.selected", AuthorityScope: "storage", Reason: "approved", OutcomePositive: true,
	})
	if err != nil {
		return err
	}
	fmt.Printf("session %s: %s\n", session.ID(), ack.State)
	if ack.State != macp.StateResolved {
		return fmt.Errorf("session ended %s, not Resolved", ack.State)
	}
	return nil
}
