package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import "context"

// The mode helpers take their arguments as the C helpers do: a string the
// header calls required (an id, a vote, a severity, ...) is refused when
// empty with StatusInvalidArgument before anything is sent; any other
// string may be "", which leaves the field unset.

// Decision is the Decision-mode view of a session: proposals, evaluations,
// objections, votes and the commitment.
type Decision struct{ *Session }

// Decision returns the Decision-mode helpers of this session.
func (s *Session) Decision() Decision { return Decision{s} }

// Propose puts an option forward.
func (d Decision) Propose(ctx context.Context, proposalID, option, rationale string, supportingData []byte, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(supportingData)
		return C.macp_decision_propose(d.h, cs.req("proposal_id", proposalID), cs.req("option", option), cs.opt(rationale), p, n, ack, cs.call, e)
	})
}

// Evaluate records a recommendation ("APPROVE", "REVIEW", "BLOCK", ...)
// with a confidence from 0 to 1.
func (d Decision) Evaluate(ctx context.Context, proposalID, recommendation string, confidence float64, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_decision_evaluate(d.h, cs.req("proposal_id", proposalID), cs.req("recommendation", recommendation), C.double(confidence), cs.opt(reason), ack, cs.call, e)
	})
}

// Object raises an objection of a severity ("low", ..., "critical").
func (d Decision) Object(ctx context.Context, proposalID, reason, severity string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_decision_object(d.h, cs.req("proposal_id", proposalID), cs.opt(reason), cs.req("severity", severity), ack, cs.call, e)
	})
}

// Vote casts a vote ("APPROVE", "REJECT", "ABSTAIN").
func (d Decision) Vote(ctx context.Context, proposalID, vote, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_decision_vote(d.h, cs.req("proposal_id", proposalID), cs.req("vote", vote), cs.opt(reason), ack, cs.call, e)
	})
}

// Quorum is the Quorum-mode view of a session: an approval request and its
// ballots.
type Quorum struct{ *Session }

// Quorum returns the Quorum-mode helpers of this session.
func (s *Session) Quorum() Quorum { return Quorum{s} }

// RequestApproval asks for requiredApprovals approvals of action.
func (q Quorum) RequestApproval(ctx context.Context, requestID, action, summary string, details []byte, requiredApprovals uint32, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(details)
		return C.macp_quorum_request_approval(q.h, cs.req("request_id", requestID), cs.opt(action), cs.opt(summary), p, n, C.uint32_t(requiredApprovals), ack, cs.call, e)
	})
}

// Approve casts an approving ballot.
func (q Quorum) Approve(ctx context.Context, requestID, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_quorum_approve(q.h, cs.req("request_id", requestID), cs.opt(reason), ack, cs.call, e)
	})
}

// Reject casts a rejecting ballot.
func (q Quorum) Reject(ctx context.Context, requestID, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_quorum_reject(q.h, cs.req("request_id", requestID), cs.opt(reason), ack, cs.call, e)
	})
}

// Abstain casts an abstaining ballot.
func (q Quorum) Abstain(ctx context.Context, requestID, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_quorum_abstain(q.h, cs.req("request_id", requestID), cs.opt(reason), ack, cs.call, e)
	})
}

// Proposal is the Proposal-mode view of a session: proposals, counter
// proposals, acceptances, rejections and withdrawals.
type Proposal struct{ *Session }

// Proposal returns the Proposal-mode helpers of this session.
func (s *Session) Proposal() Proposal { return Proposal{s} }

// Propose puts a proposal forward; each tag must be non-empty.
func (p Proposal) Propose(ctx context.Context, proposalID, title, summary string, details []byte, tags []string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		d, n := bytesArg(details)
		return C.macp_proposal_propose(p.h, cs.req("proposal_id", proposalID), cs.opt(title), cs.opt(summary), d, n,
			cs.array("tags", tags, true), C.size_t(len(tags)), ack, cs.call, e)
	})
}

// CounterPropose answers a proposal with another.
func (p Proposal) CounterPropose(ctx context.Context, proposalID, supersedesProposalID, title, summary string, details []byte, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		d, n := bytesArg(details)
		return C.macp_proposal_counter_propose(p.h, cs.req("proposal_id", proposalID), cs.req("supersedes_proposal_id", supersedesProposalID), cs.opt(title), cs.opt(summary), d, n, ack, cs.call, e)
	})
}

// Accept accepts a proposal.
func (p Proposal) Accept(ctx context.Context, proposalID, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_proposal_accept(p.h, cs.req("proposal_id", proposalID), cs.opt(reason), ack, cs.call, e)
	})
}

// Reject rejects a proposal; terminal ends the negotiation.
func (p Proposal) Reject(ctx context.Context, proposalID string, terminal bool, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_proposal_reject(p.h, cs.req("proposal_id", proposalID), C.bool(terminal), cs.opt(reason), ack, cs.call, e)
	})
}

// Withdraw withdraws one's own proposal.
func (p Proposal) Withdraw(ctx context.Context, proposalID, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_proposal_withdraw(p.h, cs.req("proposal_id", proposalID), cs.opt(reason), ack, cs.call, e)
	})
}

// Task is the Task-mode view of a session: a request, its assignee's
// answer, updates and the outcome.
type Task struct{ *Session }

// Task returns the Task-mode helpers of this session.
func (s *Session) Task() Task { return Task{s} }

// Request asks for a task (deadlineUnixMs 0: none).
func (t Task) Request(ctx context.Context, taskID, title, instructions, requestedAssignee string, input []byte, deadlineUnixMs int64, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(input)
		return C.macp_task_request(t.h, cs.req("task_id", taskID), cs.opt(title), cs.opt(instructions), cs.opt(requestedAssignee), p, n, C.int64_t(deadlineUnixMs), ack, cs.call, e)
	})
}

// Accept takes the task on.
func (t Task) Accept(ctx context.Context, taskID, assignee, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_task_accept(t.h, cs.req("task_id", taskID), cs.opt(assignee), cs.opt(reason), ack, cs.call, e)
	})
}

// Reject declines the task.
func (t Task) Reject(ctx context.Context, taskID, assignee, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_task_reject(t.h, cs.req("task_id", taskID), cs.opt(assignee), cs.opt(reason), ack, cs.call, e)
	})
}

// Update reports the task's status and progress (0 to 1).
func (t Task) Update(ctx context.Context, taskID, status string, progress float64, message string, partialOutput []byte, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(partialOutput)
		return C.macp_task_update(t.h, cs.req("task_id", taskID), cs.opt(status), C.double(progress), cs.opt(message), p, n, ack, cs.call, e)
	})
}

// Complete reports the task done.
func (t Task) Complete(ctx context.Context, taskID, assignee string, output []byte, summary string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(output)
		return C.macp_task_complete(t.h, cs.req("task_id", taskID), cs.opt(assignee), p, n, cs.opt(summary), ack, cs.call, e)
	})
}

// Fail reports the task failed.
func (t Task) Fail(ctx context.Context, taskID, assignee, errorCode, reason string, retryable bool, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_task_fail(t.h, cs.req("task_id", taskID), cs.opt(assignee), cs.opt(errorCode), cs.opt(reason), C.bool(retryable), ack, cs.call, e)
	})
}

// Handoff is the Handoff-mode view of a session.
type Handoff struct{ *Session }

// Handoff returns the Handoff-mode helpers of this session.
func (s *Session) Handoff() Handoff { return Handoff{s} }

// Offer offers responsibility for scope to target.
func (h Handoff) Offer(ctx context.Context, handoffID, target, scope, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_handoff_offer(h.h, cs.req("handoff_id", handoffID), cs.req("target_participant", target), cs.opt(scope), cs.opt(reason), ack, cs.call, e)
	})
}

// Context sends context for an offer.
func (h Handoff) Context(ctx context.Context, handoffID, contentType string, data []byte, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(data)
		return C.macp_handoff_context(h.h, cs.req("handoff_id", handoffID), cs.opt(contentType), p, n, ack, cs.call, e)
	})
}

// Accept accepts an offer.
func (h Handoff) Accept(ctx context.Context, handoffID, acceptedBy, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_handoff_accept(h.h, cs.req("handoff_id", handoffID), cs.opt(acceptedBy), cs.opt(reason), ack, cs.call, e)
	})
}

// Decline declines an offer.
func (h Handoff) Decline(ctx context.Context, handoffID, declinedBy, reason string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_handoff_decline(h.h, cs.req("handoff_id", handoffID), cs.opt(declinedBy), cs.opt(reason), ack, cs.call, e)
	})
}

// MultiRound is the view of an ext.multi_round.v1 session.
type MultiRound struct{ *Session }

// MultiRound returns the multi-round helpers of this session.
func (s *Session) MultiRound() MultiRound { return MultiRound{s} }

// Contribute contributes a value to the current round.
func (m MultiRound) Contribute(ctx context.Context, value string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_multi_round_contribute(m.h, cs.req("value", value), ack, cs.call, e)
	})
}
