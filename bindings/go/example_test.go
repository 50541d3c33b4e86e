package macp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// A coordinator and an agent run a Decision to its commitment.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	coordinator, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("example-coordinator"))
	if err != nil {
		log.Fatal(err)
	}
	defer coordinator.Close()
	agent, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("example-agent"))
	if err != nil {
		log.Fatal(err)
	}
	defer agent.Close()

	session, _, err := coordinator.StartSession(ctx, macp.ModeDecision, macp.StartOptions{
		Intent:       "choose a database",
		Participants: []string{"example-agent"},
		TTL:          time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	joined, err := agent.OpenSession(ctx, session.ID())
	if err != nil {
		log.Fatal(err)
	}
	defer joined.Close()
	if _, err := joined.Decision().Propose(ctx, "p1", "postgres", "mature and boring", nil); err != nil {
		log.Fatal(err)
	}
	if _, err := joined.Decision().Vote(ctx, "p1", "APPROVE", "ship it"); err != nil {
		log.Fatal(err)
	}
	ack, err := session.Commit(ctx, macp.Commitment{
		Action:          "decision.selected",
		AuthorityScope:  "storage",
		Reason:          "approved",
		OutcomePositive: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ack.State)
	// Output: RESOLVED
}

// Errors carry the MACP registry code; match them with errors.Is.
func ExampleError() {
	ctx := context.Background()
	c, err := macp.Dial(ctx, target, macp.WithInsecure(), macp.WithBearerToken("example-observer"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.OpenSession(ctx, "0b7e9d3c-2f4a-4b6e-8c1d-5a9f7e3b2c10")
	var me *macp.Error
	if errors.As(err, &me) {
		fmt.Println(me.Code, errors.Is(err, macp.StatusSessionNotFound))
	}
	// Output: SESSION_NOT_FOUND true
}

// An envelope's payload is protobuf; PayloadType names its message type
// from the envelope's mode and message type, and Envelope.PayloadJSON
// decodes it with that name.
func ExamplePayloadType() {
	name, err := macp.PayloadType(macp.ModeDecision, "Vote")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)

	wire, err := macp.PayloadFromJSON(name, `{"proposal_id":"p1","vote":"APPROVE"}`)
	if err != nil {
		log.Fatal(err)
	}
	e := macp.Envelope{Mode: macp.ModeDecision, MessageType: "Vote", Payload: wire}
	vote, err := e.PayloadJSON()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(vote))
	// Output:
	// macp.modes.decision.v1.VotePayload
	// {"proposal_id":"p1","reason":"","vote":"APPROVE"}
}
