package macp

/*
#include <stdint.h>
#include <stdlib.h>
#include "macp.h"

extern void macpGoParticipantMessage(macp_session *session, macp_envelope *envelope, void *user_data);
extern void macpGoParticipantJoined(macp_session *session, macp_session_state state, macp_error *cause, void *user_data);
extern void macpGoParticipantEnded(macp_session *session, macp_session_state state, macp_error *cause, void *user_data);
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Handler reacts to one accepted envelope of a session the participant
// joined; s is valid for the session's lifetime (do not Close it) and
// answers go out on it. A handler returning an error stops Run, which
// returns that error.
type Handler func(ctx context.Context, s *Session, env Envelope) error

// Participant is the participant loop (macp_participant): it joins every
// session that names its identity, those open before Run too, and
// dispatches each accepted envelope, except its own, to the handler of its
// message type (or OnOther's). Reconnecting is the watchers': both the
// lifecycle stream and each session stream resume by themselves.
//
//	p := macp.NewParticipant(client, "", nil)
//	p.On("Proposal", func(ctx context.Context, s *macp.Session, env macp.Envelope) error {
//		_, err := s.Decision().Vote(ctx, "p1", "APPROVE", "")
//		return err
//	})
//	err := p.Run(ctx) // until ctx ends or a handler fails
//
// Handlers run one at a time, in order, on the participant's own thread.
// Register them before Run.
type Participant struct {
	client   *Client
	identity string
	opts     *WatchOptions

	mu       sync.Mutex
	handlers map[string]Handler
	other    Handler
	joined   func(ctx context.Context, s *Session)
	ended    func(ctx context.Context, s *Session, state SessionState, cause error)
}

// NewParticipant makes a participant for client as identity ("" for the
// client's expected sender, else its bearer token). opts (nil for the
// defaults) applies to every stream it follows.
func NewParticipant(client *Client, identity string, opts *WatchOptions) *Participant {
	return &Participant{client: client, identity: identity, opts: opts, handlers: map[string]Handler{}}
}

// On handles envelopes of messageType (replacing an earlier handler).
func (p *Participant) On(messageType string, h Handler) *Participant {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[messageType] = h
	return p
}

// OnOther handles envelopes whose type has no handler of its own; without
// it they are skipped.
func (p *Participant) OnOther(h Handler) *Participant {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.other = h
	return p
}

// OnJoined is called when a session is joined, before its envelopes.
func (p *Participant) OnJoined(f func(ctx context.Context, s *Session)) *Participant {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.joined = f
	return p
}

// OnEnded is called when a joined session ended: state is its terminal
// state (after the Commitment that resolved it was handled), or
// StateUnspecified with cause when its stream closed for good.
func (p *Participant) OnEnded(f func(ctx context.Context, s *Session, state SessionState, cause error)) *Participant {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = f
	return p
}

// participantRun is one Run: what the C callbacks reach through user_data.
type participantRun struct {
	p        *Participant
	ctx      context.Context
	h        *C.macp_participant
	handlers map[string]Handler
	other    Handler
	joined   func(ctx context.Context, s *Session)
	ended    func(ctx context.Context, s *Session, state SessionState, cause error)
	mu       sync.Mutex
	sessions map[*C.macp_session]*Session
	err      error // the first handler error
}

// Run follows sessions until ctx ends (it returns ctx.Err()), a handler
// returns an error (it returns that), or the loop ends by itself (the
// client was closed: StatusCancelled). A Participant runs once at a time.
func (p *Participant) Run(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	r := &participantRun{p: p, ctx: ctx, handlers: map[string]Handler{}, other: p.other, joined: p.joined, ended: p.ended, sessions: map[*C.macp_session]*Session{}}
	for t, h := range p.handlers {
		r.handlers[t] = h
	}
	p.mu.Unlock()

	handle := cgo.NewHandle(r)
	defer handle.Delete()
	ud := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	defer C.free(ud)
	*(*C.uintptr_t)(ud) = C.uintptr_t(handle)

	if err := func() (err error) {
		defer catchArg(&err)
		var cs cstrings
		defer cs.free()
		co := p.opts.toC()
		var e *C.macp_error
		if err := errorFrom(C.macp_participant_new(p.client.h, cs.opt(p.identity), &co, &r.h, &e), e); err != nil {
			return err
		}
		msg := C.macp_participant_callback(C.macpGoParticipantMessage)
		joined := C.macp_participant_session_callback(C.macpGoParticipantJoined)
		ended := C.macp_participant_session_callback(C.macpGoParticipantEnded)
		for t := range r.handlers {
			e = nil
			if err := errorFrom(C.macp_participant_on(r.h, cs.req("message_type", t), msg, ud, &e), e); err != nil {
				return err
			}
		}
		steps := []func(e **C.macp_error) C.macp_status{
			func(e **C.macp_error) C.macp_status { return C.macp_participant_on_joined(r.h, joined, ud, e) },
			func(e **C.macp_error) C.macp_status { return C.macp_participant_on_ended(r.h, ended, ud, e) },
		}
		if r.other != nil {
			steps = append(steps, func(e **C.macp_error) C.macp_status { return C.macp_participant_on_other(r.h, msg, ud, e) })
		}
		steps = append(steps, func(e **C.macp_error) C.macp_status { return C.macp_participant_start(r.h, cs.call, e) })
		for _, step := range steps {
			e = nil
			if err := errorFrom(step(&e), e); err != nil {
				return err
			}
		}
		return nil
	}(); err != nil {
		C.macp_participant_free(r.h)
		return err
	}

	waited := make(chan error, 1)
	go func() {
		var e *C.macp_error
		waited <- errorFrom(C.macp_participant_wait(r.h, &e), e)
	}()
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-waited:
	}
	// No callback runs once this returned; the sessions' handles are freed.
	C.macp_participant_free(r.h)
	if herr := r.failed(); herr != nil {
		return herr
	}
	return err
}

func (r *participantRun) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *participantRun) session(h *C.macp_session) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sessions[h]; ok {
		return s
	}
	// Borrowed from the participant: Close does nothing.
	s := &Session{h: h, client: r.p.client, id: C.GoString(C.macp_session_id(h)), mode: C.GoString(C.macp_session_mode(h))}
	s.once.Do(func() {})
	r.sessions[h] = s
	return s
}

// fail records a handler's error and stops the loop (allowed from a
// callback: it is the last).
func (r *participantRun) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	C.macp_participant_stop(r.h, nil)
}

func runOf(ud unsafe.Pointer) *participantRun {
	r, _ := cgo.Handle(*(*C.uintptr_t)(ud)).Value().(*participantRun)
	return r
}

//export macpGoParticipantMessage
func macpGoParticipantMessage(session *C.macp_session, env *C.macp_envelope, ud unsafe.Pointer) {
	r := runOf(ud)
	if r == nil || r.failed() != nil {
		return
	}
	e := *envelopeFrom(env)
	h, ok := r.handlers[e.MessageType]
	if !ok {
		h = r.other
	}
	if h == nil {
		return
	}
	if err := h(r.ctx, r.session(session), e); err != nil {
		r.fail(err)
	}
}

//export macpGoParticipantJoined
func macpGoParticipantJoined(session *C.macp_session, state C.macp_session_state, cause *C.macp_error, ud unsafe.Pointer) {
	_, _ = state, cause // always OPEN and NULL
	r := runOf(ud)
	if r == nil {
		return
	}
	s := r.session(session)
	if r.joined != nil && r.failed() == nil {
		r.joined(r.ctx, s)
	}
}

//export macpGoParticipantEnded
func macpGoParticipantEnded(session *C.macp_session, state C.macp_session_state, cause *C.macp_error, ud unsafe.Pointer) {
	r := runOf(ud)
	if r == nil {
		return
	}
	s := r.session(session)
	// The handle is freed once this returns.
	r.mu.Lock()
	delete(r.sessions, session)
	r.mu.Unlock()
	if r.ended == nil || r.failed() != nil {
		return
	}
	var err error
	if cause != nil {
		err = &Error{Status: Status(C.macp_error_status(cause)), Code: C.GoString(C.macp_error_code(cause)), Message: C.GoString(C.macp_error_message(cause))}
	}
	r.ended(r.ctx, s, SessionState(state), err)
}
