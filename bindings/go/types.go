package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
	"time"
	"unsafe"
)

// SessionState is a session's state, as macp.v1.SessionState
// (macp_session_state).
type SessionState int32

// The session states (MACP_SESSION_STATE_*).
const (
	StateUnspecified SessionState = C.MACP_SESSION_STATE_UNSPECIFIED
	StateOpen        SessionState = C.MACP_SESSION_STATE_OPEN
	StateResolved    SessionState = C.MACP_SESSION_STATE_RESOLVED
	StateExpired     SessionState = C.MACP_SESSION_STATE_EXPIRED
	StateSuspended   SessionState = C.MACP_SESSION_STATE_SUSPENDED
	StateCancelled   SessionState = C.MACP_SESSION_STATE_CANCELLED
)

// String is the C name of the state ("OPEN", "RESOLVED", ...;
// "UNSPECIFIED" for any other value).
func (s SessionState) String() string {
	return C.GoString(C.macp_session_state_name(C.int32_t(s)))
}

// The standards-track modes and the built-in extension mode (MACP_MODE_*).
const (
	ModeDecision   = C.MACP_MODE_DECISION
	ModeProposal   = C.MACP_MODE_PROPOSAL
	ModeTask       = C.MACP_MODE_TASK
	ModeHandoff    = C.MACP_MODE_HANDOFF
	ModeQuorum     = C.MACP_MODE_QUORUM
	ModeMultiRound = C.MACP_MODE_MULTI_ROUND
)

// Ack is the runtime's acknowledgement of an accepted message.
type Ack struct {
	MessageID string
	SessionID string
	// Duplicate: the runtime had already accepted this message id (a retry
	// whose first answer was lost); it was not applied twice.
	Duplicate bool
	// State is the session's state after the message.
	State SessionState
	// Attempts is the number of sends made (1 unless retried).
	Attempts   uint32
	AcceptedAt time.Time
}

func ackFrom(a *C.macp_ack) Ack {
	return Ack{
		MessageID:  C.GoString(&a.message_id[0]),
		SessionID:  C.GoString(&a.session_id[0]),
		Duplicate:  bool(a.duplicate),
		State:      SessionState(a.session_state),
		Attempts:   uint32(a.attempts),
		AcceptedAt: time.UnixMilli(int64(a.accepted_at_unix_ms)),
	}
}

// ackCall runs a C call that fills a macp_ack, honouring ctx.
func ackCall(ctx context.Context, f func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status) (Ack, error) {
	return sendCall(ctx, "", f)
}

// sendCall runs a C call that sends an envelope with messageID ("":
// generated) and fills a macp_ack, honouring ctx.
func sendCall(ctx context.Context, messageID string, f func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status) (Ack, error) {
	return blocking(ctx, messageID, func(co *C.macp_call_options) (Ack, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var ack C.macp_ack
		var e *C.macp_error
		if err := errorFrom(f(&cs, &ack, &e), e); err != nil {
			return Ack{}, err
		}
		return ackFrom(&ack), nil
	})
}

// statusCall runs a C call that only returns a status, honouring ctx.
func statusCall(ctx context.Context, f func(cs *cstrings, e **C.macp_error) C.macp_status) error {
	_, err := blocking(ctx, "", func(co *C.macp_call_options) (struct{}, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var e *C.macp_error
		return struct{}{}, errorFrom(f(&cs, &e), e)
	})
	return err
}

// stringCall runs a C call that returns a library string, honouring ctx.
func stringCall(ctx context.Context, f stringFunc) (string, error) {
	return blocking(ctx, "", func(co *C.macp_call_options) (string, error) { return callString(f, co) })
}

// CallOption changes how one send runs.
type CallOption func(*callOptions)

type callOptions struct{ messageID string }

// WithMessageID sends the message with this id instead of a generated one
// (at most 128 bytes, not starting with "implicit-accept:"). After a failure
// whose Delivery is DeliveryUnknown, send the same message again with the
// same id: the runtime acknowledges an id it already accepted as a
// duplicate (Ack.Duplicate) instead of applying it twice.
func WithMessageID(id string) CallOption {
	return func(o *callOptions) { o.messageID = id }
}

// messageID is the id opts ask for ("" for a generated one).
func messageID(opts []CallOption) string {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o.messageID
}

// stringFunc is a C call that returns a library string (a macp_string).
type stringFunc func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status

// callString runs f on the calling goroutine and takes the string it
// returned. Callers defer catchArg (blocking does).
func callString(f stringFunc, co *C.macp_call_options) (string, error) {
	cs := cstrings{call: co}
	defer cs.free()
	var out *C.macp_string
	var e *C.macp_error
	if err := errorFrom(f(&cs, &out, &e), e); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// ParticipantActivity is one participant's activity in a session.
type ParticipantActivity struct {
	Participant   string
	LastMessageAt time.Time
	MessageCount  uint32
}

// SessionInfo is a session's metadata and state.
type SessionInfo struct {
	SessionID            string
	Mode                 string
	State                SessionState
	StartedAt            time.Time
	ExpiresAt            time.Time
	ModeVersion          string
	ConfigurationVersion string
	PolicyVersion        string
	Initiator            string
	ContextID            string
	Participants         []string
	ExtensionKeys        []string
	Activity             []ParticipantActivity
}

func goStrings(p **C.char, n C.size_t) []string {
	if n == 0 || p == nil {
		return nil
	}
	out := make([]string, 0, int(n))
	for _, s := range unsafe.Slice(p, int(n)) {
		out = append(out, C.GoString(s))
	}
	return out
}

// sessionInfo copies the metadata of a session, a view borrowed from a
// macp_session_info, a macp_session_list or an event.
func sessionInfo(i *C.macp_session_metadata) *SessionInfo {
	s := &SessionInfo{
		SessionID:            C.GoString(i.session_id),
		Mode:                 C.GoString(i.mode),
		State:                SessionState(i.state),
		StartedAt:            time.UnixMilli(int64(i.started_at_unix_ms)),
		ExpiresAt:            time.UnixMilli(int64(i.expires_at_unix_ms)),
		ModeVersion:          C.GoString(i.mode_version),
		ConfigurationVersion: C.GoString(i.configuration_version),
		PolicyVersion:        C.GoString(i.policy_version),
		Initiator:            C.GoString(i.initiator),
		ContextID:            C.GoString(i.context_id),
		Participants:         goStrings((**C.char)(unsafe.Pointer(i.participants)), i.participants_len),
		ExtensionKeys:        goStrings((**C.char)(unsafe.Pointer(i.extension_keys)), i.extension_keys_len),
	}
	if i.activity_len > 0 {
		for _, a := range unsafe.Slice(i.activity, int(i.activity_len)) {
			s.Activity = append(s.Activity, ParticipantActivity{
				Participant:   C.GoString(a.participant_id),
				LastMessageAt: time.UnixMilli(int64(a.last_message_at_unix_ms)),
				MessageCount:  uint32(a.message_count),
			})
		}
	}
	return s
}
