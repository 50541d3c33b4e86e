package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Root is a resource root offered to a session.
type Root struct {
	URI  string
	Name string
}

// StartOptions are the parameters of a new session. Zero values leave a
// parameter to its default (a generated UUID v4 session id, the mode's
// default versions, the default policy).
type StartOptions struct {
	SessionID            string
	Intent               string
	ModeVersion          string
	ConfigurationVersion string
	PolicyVersion        string
	ContextID            string
	Participants         []string
	TTL                  time.Duration
	MaxSuspend           time.Duration
	Extensions           map[string][]byte
	Roots                []Root
	// MessageID is the SessionStart envelope's message id ("": generated);
	// see WithMessageID.
	MessageID string
}

// Session is one participant's handle on one session. It is safe for
// concurrent use. Close releases the handle (the session itself goes on).
type Session struct {
	h      *C.macp_session
	client *Client
	id     string
	mode   string
	once   sync.Once
}

func (o *StartOptions) apply(so *C.macp_start_options, cs *cstrings) error {
	set := func(v string, f func(*C.macp_start_options, *C.char, **C.macp_error) C.macp_status) error {
		if v == "" {
			return nil
		}
		var e *C.macp_error
		return errorFrom(f(so, cs.s(v), &e), e)
	}
	steps := []error{
		set(o.SessionID, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_session_id(s, v, e)
		}),
		set(o.Intent, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_intent(s, v, e)
		}),
		set(o.ModeVersion, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_mode_version(s, v, e)
		}),
		set(o.ConfigurationVersion, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_configuration_version(s, v, e)
		}),
		set(o.PolicyVersion, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_policy_version(s, v, e)
		}),
		set(o.ContextID, func(s *C.macp_start_options, v *C.char, e **C.macp_error) C.macp_status {
			return C.macp_start_options_set_context_id(s, v, e)
		}),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	for _, p := range o.Participants {
		var e *C.macp_error
		if err := errorFrom(C.macp_start_options_add_participant(so, cs.req("participant", p), &e), e); err != nil {
			return err
		}
	}
	if o.TTL != 0 {
		var e *C.macp_error
		if err := errorFrom(C.macp_start_options_set_ttl_ms(so, C.int64_t(o.TTL.Milliseconds()), &e), e); err != nil {
			return err
		}
	}
	if o.MaxSuspend != 0 {
		var e *C.macp_error
		if err := errorFrom(C.macp_start_options_set_max_suspend_ms(so, C.int64_t(o.MaxSuspend.Milliseconds()), &e), e); err != nil {
			return err
		}
	}
	for k, v := range o.Extensions {
		var e *C.macp_error
		p, n := bytesArg(v)
		if err := errorFrom(C.macp_start_options_set_extension(so, cs.req("key", k), p, n, &e), e); err != nil {
			return err
		}
	}
	for _, r := range o.Roots {
		var e *C.macp_error
		if err := errorFrom(C.macp_start_options_add_root(so, cs.req("uri", r.URI), cs.opt(r.Name), &e), e); err != nil {
			return err
		}
	}
	return nil
}

func newSession(c *Client, h *C.macp_session) *Session {
	s := &Session{h: h, client: c, id: C.GoString(C.macp_session_id(h)), mode: C.GoString(C.macp_session_mode(h))}
	runtime.SetFinalizer(s, (*Session).Close)
	return s
}

// StartSession starts a session of mode (ModeDecision, ...) as its
// initiator and returns the handle and the SessionStart's Ack.
func (c *Client) StartSession(ctx context.Context, mode string, opts StartOptions) (*Session, Ack, error) {
	type started struct {
		h   *C.macp_session
		ack Ack
	}
	r, err := blocking(ctx, opts.MessageID, func(co *C.macp_call_options) (started, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var so *C.macp_start_options
		var e *C.macp_error
		if err := errorFrom(C.macp_start_options_new(&so, &e), e); err != nil {
			return started{}, err
		}
		defer C.macp_start_options_free(so)
		if err := opts.apply(so, &cs); err != nil {
			return started{}, err
		}
		var h *C.macp_session
		var ack C.macp_ack
		e = nil
		if err := errorFrom(C.macp_session_start(c.h, cs.req("mode", mode), so, &h, &ack, cs.call, &e), e); err != nil {
			return started{}, err
		}
		return started{h, ackFrom(&ack)}, nil
	})
	if err != nil {
		return nil, Ack{}, err
	}
	return newSession(c, r.h), r.ack, nil
}

// OpenSession joins an existing session as one of its participants or its
// initiator: it reads the session's metadata to learn its mode and
// versions. An identity that is neither may not read the session and gets
// StatusForbidden.
func (c *Client) OpenSession(ctx context.Context, sessionID string) (*Session, error) {
	h, err := blocking(ctx, "", func(co *C.macp_call_options) (*C.macp_session, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var h *C.macp_session
		var e *C.macp_error
		if err := errorFrom(C.macp_session_open(c.h, cs.req("session_id", sessionID), &h, cs.call, &e), e); err != nil {
			return nil, err
		}
		return h, nil
	})
	if err != nil {
		return nil, err
	}
	return newSession(c, h), nil
}

// ID is the session id.
func (s *Session) ID() string { return s.id }

// Mode is the session's mode.
func (s *Session) Mode() string { return s.mode }

// Close releases the handle; the session goes on. Safe to call twice.
func (s *Session) Close() error {
	s.once.Do(func() {
		runtime.SetFinalizer(s, nil)
		C.macp_session_free(s.h)
	})
	return nil
}

// Send sends a message with an already-encoded protobuf payload. An empty
// messageID generates one; a caller-chosen id makes a later re-send
// idempotent.
func (s *Session) Send(ctx context.Context, messageType string, payload []byte, messageID string) (Ack, error) {
	return sendCall(ctx, messageID, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		p, n := bytesArg(payload)
		return C.macp_session_send(s.h, cs.req("message_type", messageType), p, n, ack, cs.call, e)
	})
}

// SendJSON sends a message whose payload is JSON, encoded by libmacp into
// payloadType (a full protobuf name such as
// "macp.modes.decision.v1.VotePayload"), or, when payloadType is "", into
// the type the schema defines for messageType in the session's mode.
func (s *Session) SendJSON(ctx context.Context, messageType, payloadType, payloadJSON, messageID string) (Ack, error) {
	return sendCall(ctx, messageID, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_session_send_json(s.h, cs.req("message_type", messageType), cs.opt(payloadType), cs.s(payloadJSON), ack, cs.call, e)
	})
}

// Commitment resolves a session. Action, AuthorityScope and Reason are
// required: the runtime refuses (StatusInvalidEnvelope) a Commitment whose
// scope or reason is empty or whitespace, in every mode. An empty
// CommitmentID generates one; empty version fields take the session's.
type Commitment struct {
	CommitmentID    string
	Action          string
	AuthorityScope  string
	Reason          string
	OutcomePositive bool
	// Supersedes names an earlier commitment this one replaces (nil: none).
	Supersedes *CommitmentRef
}

// CommitmentRef names a commitment: its session and its commitment hash
// ("sha256:<64 hex>").
type CommitmentRef struct {
	SessionID      string
	CommitmentHash string
}

// toC converts c for a call; exact keeps empty strings as empty instead of
// leaving them unset (for hashing, where Action may be empty too).
func (c *Commitment) toC(cs *cstrings, exact bool) C.macp_commitment {
	str := cs.opt
	action := func(v string) *C.char { return cs.req("action", v) }
	if exact {
		str, action = cs.s, cs.s
	}
	cc := C.macp_commitment{
		commitment_id:    str(c.CommitmentID),
		action:           action(c.Action),
		authority_scope:  str(c.AuthorityScope),
		reason:           str(c.Reason),
		outcome_positive: C.bool(c.OutcomePositive),
	}
	if c.Supersedes != nil {
		cc.supersedes_session_id = cs.s(c.Supersedes.SessionID)
		cc.supersedes_commitment_hash = cs.s(c.Supersedes.CommitmentHash)
	}
	return cc
}

// Commit sends the Commitment that resolves the session; its version
// fields are the session's bound versions.
func (s *Session) Commit(ctx context.Context, c Commitment, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		cc := c.toC(cs, false)
		return C.macp_session_commit(s.h, &cc, ack, cs.call, e)
	})
}

// Info reads the session's metadata and state.
func (s *Session) Info(ctx context.Context) (*SessionInfo, error) {
	return infoCall(ctx, func(cs *cstrings, out **C.macp_session_info, e **C.macp_error) C.macp_status {
		return C.macp_session_get_info(s.h, out, cs.call, e)
	})
}

// Cancel cancels the session (its initiator only).
func (s *Session) Cancel(ctx context.Context, reason string) (Ack, error) {
	return ackCall(ctx, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_session_cancel(s.h, cs.opt(reason), ack, cs.call, e)
	})
}

// Suspend suspends the session: mode messages are refused until Resume.
func (s *Session) Suspend(ctx context.Context, reason string) (Ack, error) {
	return ackCall(ctx, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_session_suspend(s.h, cs.opt(reason), ack, cs.call, e)
	})
}

// Resume resumes a suspended session.
func (s *Session) Resume(ctx context.Context, reason string) (Ack, error) {
	return ackCall(ctx, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_session_resume(s.h, cs.opt(reason), ack, cs.call, e)
	})
}

// Progress reports progress on work in the session: progress out of total
// (0 when unknown).
func (s *Session) Progress(ctx context.Context, token string, progress, total float64, message, targetMessageID string, opts ...CallOption) (Ack, error) {
	return sendCall(ctx, messageID(opts), func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_session_progress(s.h, cs.opt(token), C.double(progress), C.double(total), cs.opt(message), cs.opt(targetMessageID), ack, cs.call, e)
	})
}
