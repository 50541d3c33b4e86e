package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"runtime"
	"sync"
)

// Projection rebuilds one session's mode state (proposals, votes and
// tallies, task status, offers, ballots) locally from its accepted
// envelopes, typically the Raw bytes of a session watcher's events. It is
// safe for concurrent use. Close releases it.
type Projection struct {
	h    *C.macp_projection
	once sync.Once
}

// NewProjection makes an empty projection of mode.
func NewProjection(mode string) (_ *Projection, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	var h *C.macp_projection
	var e *C.macp_error
	if err := errorFrom(C.macp_projection_new(cs.req("mode", mode), &h, &e), e); err != nil {
		return nil, err
	}
	p := &Projection{h: h}
	runtime.SetFinalizer(p, (*Projection).Close)
	return p, nil
}

// Close releases the projection. Safe to call twice.
func (p *Projection) Close() error {
	p.once.Do(func() {
		runtime.SetFinalizer(p, nil)
		C.macp_projection_free(p.h)
	})
	return nil
}

// Apply feeds one accepted envelope (protobuf bytes). A redelivered
// envelope (same message id) is ignored.
func (p *Projection) Apply(envelope []byte) error {
	var e *C.macp_error
	d, n := bytesArg(envelope)
	return errorFrom(C.macp_projection_apply(p.h, d, n, &e), e)
}

// StateJSON is the whole state as JSON.
func (p *Projection) StateJSON() (string, error) {
	return callString(func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_projection_state_json(p.h, out, e)
	}, nil)
}

// DecisionTally counts the votes on a proposal of a Decision projection:
// each participant's first APPROVE, REJECT or ABSTAIN.
func (p *Projection) DecisionTally(proposalID string) (approve, reject, abstain uint32, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	var a, r, ab C.uint32_t
	var e *C.macp_error
	err = errorFrom(C.macp_decision_tally(p.h, cs.req("proposal_id", proposalID), &a, &r, &ab, &e), e)
	return uint32(a), uint32(r), uint32(ab), err
}

// QuorumTally is the ballot count of an approval request.
type QuorumTally struct {
	Approve, Reject, Abstain, Required uint32
	// Reached: the approvals reach Required.
	Reached bool
}

// QuorumTally counts the ballots on a request of a Quorum projection (""
// for the session's one request, as C's NULL).
func (p *Projection) QuorumTally(requestID string) (_ QuorumTally, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	var a, r, ab, req C.uint32_t
	var reached C.bool
	var e *C.macp_error
	err = errorFrom(C.macp_quorum_tally(p.h, cs.opt(requestID), &a, &r, &ab, &req, &reached, &e), e)
	return QuorumTally{uint32(a), uint32(r), uint32(ab), uint32(req), bool(reached)}, err
}
