package macp_test

import (
	"encoding/json"
	"fmt"

	macp "github.com/libmacp/libmacp/bindings/go"
)

// A decision policy needing every participant's approval, and a bad value
// refused before anything is sent.
func ExampleNewPolicy() {
	doc, err := macp.NewPolicy(macp.ModeDecision, "policy.team.unanimous").
		Description("everyone agrees").
		Voting("unanimous", 1).
		JSON()
	if err != nil {
		panic(err)
	}
	var p struct {
		Mode          string `json:"mode"`
		SchemaVersion int    `json:"schema_version"`
		Rules         struct {
			Voting struct {
				Algorithm string `json:"algorithm"`
			} `json:"voting"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		panic(err)
	}
	fmt.Println(p.Mode, p.SchemaVersion, p.Rules.Voting.Algorithm)
	// Pass doc to Client.RegisterPolicy.

	_, err = macp.NewPolicy(macp.ModeQuorum, "policy.bad").QuorumThreshold("percentage", 150).JSON()
	fmt.Println(err != nil)
	// Output:
	// macp.mode.decision.v1 3 unanimous
	// true
}
