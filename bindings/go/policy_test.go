package macp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	macp "github.com/libmacp/libmacp/bindings/go"
)

func policyID(tag string) string { return fmt.Sprintf("policy.go.%s.%d", tag, time.Now().UnixNano()) }

// Each mode's built policy is accepted by the runtime as built and binds a
// session.
func TestPolicyBuildersRegisterForEveryMode(t *testing.T) {
	c := dial(t, "go-policy-lead")
	policies := map[string]*macp.Policy{
		macp.ModeDecision: macp.NewPolicy(macp.ModeDecision, policyID("d")).
			Description("weighted").Voting("weighted", 0.6).VotingWeight("go-a", 2).VotingQuorum("count", 1).
			ObjectionHandling(true, 1, "finalize_decline").Evaluation(0.3, true).DecisionCommitment(true, false),
		macp.ModeQuorum:   macp.NewPolicy(macp.ModeQuorum, policyID("q")).QuorumThreshold("percentage", 50).Abstention(true, "ignored"),
		macp.ModeProposal: macp.NewPolicy(macp.ModeProposal, policyID("p")).ProposalRules("counterparty", 2, true),
		macp.ModeTask: macp.NewPolicy(macp.ModeTask, policyID("t")).TaskRules(true, true).
			CommitmentAuthority("designated_role").DesignatedRole("go-policy-lead"),
		macp.ModeHandoff: macp.NewPolicy(macp.ModeHandoff, policyID("h")).ImplicitAcceptTimeout(3 * time.Second),
	}
	for mode, p := range policies {
		doc, err := p.JSON()
		p.Close()
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var built struct {
			PolicyID string          `json:"policy_id"`
			Rules    json.RawMessage `json:"rules"`
		}
		if err := json.Unmarshal([]byte(doc), &built); err != nil {
			t.Fatal(err)
		}
		if err := c.RegisterPolicy(ctx(t), doc); err != nil {
			t.Fatalf("%s refused: %v", mode, err)
		}
		got, err := c.Policy(ctx(t), built.PolicyID)
		var stored struct {
			Rules map[string]any `json:"rules"`
		}
		var want map[string]any
		if err != nil || json.Unmarshal(got, &stored) != nil || json.Unmarshal(built.Rules, &want) != nil {
			t.Fatalf("%s: %s %v", mode, got, err)
		}
		if fmt.Sprint(stored.Rules) != fmt.Sprint(want) {
			t.Fatalf("%s stored %v, built %v", mode, stored.Rules, want)
		}
		s, _, err := c.StartSession(ctx(t), mode, macp.StartOptions{Intent: "policy", Participants: []string{"go-policy-lead", "go-a"}, PolicyVersion: built.PolicyID, TTL: time.Minute})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		info, err := s.Info(ctx(t))
		s.Close()
		if err != nil || info.PolicyVersion != built.PolicyID {
			t.Fatalf("%s bound %+v %v", mode, info, err)
		}
	}
}

// Under a unanimous policy one REJECT denies the commitment.
func TestUnanimousPolicyDecidesTheSession(t *testing.T) {
	lead, peer := dial(t, "go-u-lead"), dial(t, "go-u-peer")
	id := policyID("unanimous")
	doc, err := macp.NewPolicy(macp.ModeDecision, id).Voting("unanimous", 1).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := lead.RegisterPolicy(ctx(t), doc); err != nil {
		t.Fatal(err)
	}
	for _, peerVote := range []string{"REJECT", "APPROVE"} {
		s, _, err := lead.StartSession(ctx(t), macp.ModeDecision, macp.StartOptions{Participants: []string{"go-u-lead", "go-u-peer"}, PolicyVersion: id, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		must(t)(s.Decision().Propose(ctx(t), "p1", "ship", "", nil))
		must(t)(s.Decision().Vote(ctx(t), "p1", "APPROVE", ""))
		must(t)(open(t, peer, s.ID()).Decision().Vote(ctx(t), "p1", peerVote, ""))
		_, err = s.Commit(ctx(t), macp.Commitment{Action: "decision.selected", AuthorityScope: "test", Reason: "lead", OutcomePositive: true})
		if peerVote == "REJECT" && !errors.Is(err, macp.StatusPolicyDenied) {
			t.Fatalf("split vote: %v, want POLICY_DENIED", err)
		}
		if peerVote == "APPROVE" && err != nil {
			t.Fatalf("unanimous vote: %v", err)
		}
		s.Close()
	}
}

func TestPolicyBuilderRefusesBadInput(t *testing.T) {
	for name, p := range map[string]*macp.Policy{
		"unknown mode":          macp.NewPolicy("macp.mode.nope.v1", "p"),
		"empty id":              macp.NewPolicy(macp.ModeDecision, ""),
		"NUL byte":              macp.NewPolicy(macp.ModeDecision, "p\x00q"),
		"threshold above 1":     macp.NewPolicy(macp.ModeDecision, "p").Voting("majority", 1.5),
		"threshold NaN":         macp.NewPolicy(macp.ModeDecision, "p").Voting("majority", math.NaN()),
		"unknown algorithm":     macp.NewPolicy(macp.ModeDecision, "p").Voting("most", 0.5),
		"zero veto threshold":   macp.NewPolicy(macp.ModeDecision, "p").ObjectionHandling(true, 0, "deny"),
		"another mode's rule":   macp.NewPolicy(macp.ModeDecision, "p").QuorumThreshold("n_of_m", 1),
		"percentage above 100":  macp.NewPolicy(macp.ModeQuorum, "p").QuorumThreshold("percentage", 101),
		"zero approvals":        macp.NewPolicy(macp.ModeQuorum, "p").QuorumThreshold("n_of_m", 0),
		"schema version":        macp.NewPolicy(macp.ModeQuorum, "p").SchemaVersion(2),
		"negative timeout":      macp.NewPolicy(macp.ModeHandoff, "p").ImplicitAcceptTimeout(-time.Second),
		"role names nobody":     macp.NewPolicy(macp.ModeTask, "p").CommitmentAuthority("designated_role"),
		"weighted, no weights":  macp.NewPolicy(macp.ModeDecision, "p").Voting("weighted", 0.5),
		"supermajority at half": macp.NewPolicy(macp.ModeDecision, "p").Voting("supermajority", 0.5),
	} {
		_, err := p.JSON()
		var e *macp.Error
		if !errors.As(err, &e) || e.Status != macp.StatusInvalidArgument || e.Message == "" {
			t.Errorf("%s: %v, want INVALID_ARGUMENT with a message", name, err)
		}
		p.Close()
	}
	// The first refusal is kept; later setters change nothing.
	p := macp.NewPolicy(macp.ModeDecision, "p").Voting("majority", 2).Voting("unanimous", 1)
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "voting.threshold") {
		t.Fatalf("first error %v", err)
	}
	p.Close()
	p.Close()
	if _, err := p.JSON(); !errors.Is(err, macp.StatusInvalidHandle) && !errors.Is(err, macp.StatusInvalidArgument) {
		t.Fatalf("closed: %v", err)
	}
	ok := macp.NewPolicy(macp.ModeDecision, "p").Voting("unanimous", 1)
	ok.Close()
	if _, err := ok.JSON(); !errors.Is(err, macp.StatusInvalidHandle) {
		t.Fatalf("closed builder: %v", err)
	}
}
