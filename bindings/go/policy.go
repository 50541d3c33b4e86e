package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
)

// Policy builds a governance policy document (RFC-MACP-0012) for one mode,
// checked locally as each rule is set (macp_policy_builder). Setters chain;
// the first refused value is kept and returned by Err and JSON, and later
// setters do nothing, as with bufio.Scanner:
//
//	doc, err := macp.NewPolicy(macp.ModeDecision, "policy.team.unanimous").
//		Voting("unanimous", 1).
//		ObjectionHandling(true, 1, "deny").
//		JSON()
//	if err == nil { err = client.RegisterPolicy(ctx, doc) }
//
// A Policy is safe for concurrent use; Close frees it (a finalizer does too).
type Policy struct {
	mu   sync.Mutex
	h    *C.macp_policy_builder
	err  error
	once sync.Once
}

// NewPolicy starts a policy policyID for mode (ModeDecision, ModeQuorum,
// ModeProposal, ModeTask or ModeHandoff) with the rule schema's defaults:
// commitment by the initiator only; for decision no voting requirement and
// schema version 3, for the others version 1. Another mode is refused
// (StatusInvalidArgument, from Err).
func NewPolicy(mode, policyID string) *Policy {
	p := &Policy{}
	p.err = func() (err error) {
		defer catchArg(&err)
		var cs cstrings
		defer cs.free()
		var e *C.macp_error
		return errorFrom(C.macp_policy_builder_new(cs.req("mode", mode), cs.req("policy_id", policyID), &p.h, &e), e)
	}()
	runtime.SetFinalizer(p, (*Policy).Close)
	return p
}

// set applies one setter unless an earlier one failed.
func (p *Policy) set(f func(cs *cstrings, e **C.macp_error) C.macp_status) *Policy {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p
	}
	p.err = func() (err error) {
		defer catchArg(&err)
		var cs cstrings
		defer cs.free()
		var e *C.macp_error
		return errorFrom(f(&cs, &e), e)
	}()
	return p
}

// Description sets the policy's description.
func (p *Policy) Description(d string) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_description(p.h, cs.s(d), e)
	})
}

// SchemaVersion sets the rule semantics the runtime evaluates under: 1 to
// 3 for decision (1 and 2 let an empty tally satisfy a vote), 1 otherwise.
func (p *Policy) SchemaVersion(v uint32) *Policy {
	return p.set(func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_schema_version(p.h, C.uint32_t(v), e)
	})
}

// CommitmentAuthority sets who may commit: "initiator_only",
// "any_participant" or "designated_role" (then name roles with
// DesignatedRole).
func (p *Policy) CommitmentAuthority(authority string) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_commitment_authority(p.h, cs.s(authority), e)
	})
}

// DesignatedRole adds a sender to commitment.designated_roles.
func (p *Policy) DesignatedRole(role string) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_add_designated_role(p.h, cs.s(role), e)
	})
}

// Voting sets decision voting: algorithm ("none", "majority",
// "supermajority", "unanimous", "weighted", "plurality") and its approval
// threshold in (0, 1].
func (p *Policy) Voting(algorithm string, threshold float64) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_voting(p.h, cs.s(algorithm), C.double(threshold), e)
	})
}

// VotingQuorum sets the ballots a decision needs: "count" (at least 0) or
// "percentage" (0 to 100) of the participants.
func (p *Policy) VotingQuorum(kind string, value float64) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_voting_quorum(p.h, cs.s(kind), C.double(value), e)
	})
}

// VotingWeight sets the weight (greater than 0) of participant's vote.
func (p *Policy) VotingWeight(participant string, weight float64) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_voting_weight(p.h, cs.s(participant), C.double(weight), e)
	})
}

// ObjectionHandling sets whether a critical objection vetoes, how many
// vetoes it takes (at least 1), and what a veto does ("deny",
// "finalize_decline", "hold").
func (p *Policy) ObjectionHandling(criticalSeverityVetoes bool, vetoThreshold uint32, action string) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_objection_handling(p.h, C.bool(criticalSeverityVetoes), C.uint32_t(vetoThreshold), cs.s(action), e)
	})
}

// Evaluation sets the lowest evaluation confidence that counts (0 to 1)
// and whether evaluations must come before votes.
func (p *Policy) Evaluation(minimumConfidence float64, requiredBeforeVoting bool) *Policy {
	return p.set(func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_evaluation(p.h, C.double(minimumConfidence), C.bool(requiredBeforeVoting), e)
	})
}

// DecisionCommitment sets commitment.require_vote_quorum and
// commitment.allow_decline_over_approval of a decision policy.
func (p *Policy) DecisionCommitment(requireVoteQuorum, allowDeclineOverApproval bool) *Policy {
	return p.set(func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_decision_commitment(p.h, C.bool(requireVoteQuorum), C.bool(allowDeclineOverApproval), e)
	})
}

// QuorumThreshold sets the approvals a quorum needs: "n_of_m" (a count, at
// least 1) or "percentage" (1 to 100) of the participants.
func (p *Policy) QuorumThreshold(kind string, value uint32) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_quorum_threshold(p.h, cs.s(kind), C.uint32_t(value), e)
	})
}

// Abstention sets whether an abstention counts toward the quorum and how
// it is read ("neutral", "implicit_reject", "ignored").
func (p *Policy) Abstention(countsTowardQuorum bool, interpretation string) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_abstention(p.h, C.bool(countsTowardQuorum), cs.s(interpretation), e)
	})
}

// ProposalRules sets the acceptance criterion ("all_parties",
// "counterparty", "initiator"), the counter-proposal round limit (0: none)
// and whether any rejection ends the session.
func (p *Policy) ProposalRules(criterion string, maxCounterRounds uint32, terminalOnAnyReject bool) *Policy {
	return p.set(func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_proposal_rules(p.h, cs.s(criterion), C.uint32_t(maxCounterRounds), C.bool(terminalOnAnyReject), e)
	})
}

// TaskRules sets whether a rejected task may be reassigned and whether
// completion requires output.
func (p *Policy) TaskRules(allowReassignmentOnReject, requireOutput bool) *Policy {
	return p.set(func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_task_rules(p.h, C.bool(allowReassignmentOnReject), C.bool(requireOutput), e)
	})
}

// ImplicitAcceptTimeout sets how long a handoff offer waits before it is
// accepted implicitly (0: never), in whole milliseconds.
func (p *Policy) ImplicitAcceptTimeout(d time.Duration) *Policy {
	if d < 0 {
		p.mu.Lock()
		if p.err == nil {
			p.err = invalid("implicit accept timeout %v is negative", d)
		}
		p.mu.Unlock()
		return p
	}
	return p.set(func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_policy_builder_set_implicit_accept_timeout_ms(p.h, C.uint64_t(d/time.Millisecond), e)
	})
}

// Err is the first refused value, or nil.
func (p *Policy) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// JSON checks the policy as a whole (a designated-role authority names a
// role, weighted voting has weights, thresholds suit the algorithm) and
// returns it in the form Client.RegisterPolicy and Client.WhatIfReplay
// take.
func (p *Policy) JSON() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", p.err
	}
	var out *C.macp_string
	var e *C.macp_error
	if err := errorFrom(C.macp_policy_builder_to_json(p.h, &out, &e), e); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Close frees the builder. Safe to call twice.
func (p *Policy) Close() error {
	p.once.Do(func() {
		runtime.SetFinalizer(p, nil)
		p.mu.Lock()
		defer p.mu.Unlock()
		C.macp_policy_builder_free(p.h)
		if p.err == nil {
			p.err = &Error{Status: StatusInvalidHandle, Code: StatusInvalidHandle.String(), Message: "the policy was closed"}
		}
	})
	return nil
}
