package macp

/*
#include <stdlib.h>
#include <stdint.h>
#include "macp.h"

extern void macpGoWatchEvent(macp_event *event, void *user_data);
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// EventKind says what an Event reports (macp_event_kind).
type EventKind int32

// The event kinds (MACP_EVENT_*).
const (
	EventEnvelope     EventKind = C.MACP_EVENT_ENVELOPE
	EventStreamError  EventKind = C.MACP_EVENT_STREAM_ERROR
	EventSession      EventKind = C.MACP_EVENT_SESSION
	EventSignal       EventKind = C.MACP_EVENT_SIGNAL
	EventPolicies     EventKind = C.MACP_EVENT_POLICIES
	EventModeRegistry EventKind = C.MACP_EVENT_MODE_REGISTRY
	EventRoots        EventKind = C.MACP_EVENT_ROOTS
	EventReconnecting EventKind = C.MACP_EVENT_RECONNECTING
	EventResumed      EventKind = C.MACP_EVENT_RESUMED
	EventGap          EventKind = C.MACP_EVENT_GAP
	EventClosed       EventKind = C.MACP_EVENT_CLOSED
)

// String is the C name of the kind ("ENVELOPE", "RECONNECTING", ...;
// "UNKNOWN" for any other value).
func (k EventKind) String() string { return C.GoString(C.macp_event_kind_name(C.int32_t(k))) }

// SessionEventType is a session lifecycle transition, as
// macp.v1.SessionLifecycleEvent.EventType (macp_session_event_type).
type SessionEventType int32

// The transitions (MACP_SESSION_EVENT_*).
const (
	SessionEventUnspecified SessionEventType = C.MACP_SESSION_EVENT_UNSPECIFIED
	SessionEventCreated     SessionEventType = C.MACP_SESSION_EVENT_CREATED
	SessionEventResolved    SessionEventType = C.MACP_SESSION_EVENT_RESOLVED
	SessionEventExpired     SessionEventType = C.MACP_SESSION_EVENT_EXPIRED
	SessionEventSuspended   SessionEventType = C.MACP_SESSION_EVENT_SUSPENDED
	SessionEventResumed     SessionEventType = C.MACP_SESSION_EVENT_RESUMED
	SessionEventCancelled   SessionEventType = C.MACP_SESSION_EVENT_CANCELLED
)

// String is the name of the transition as in C, without its
// MACP_SESSION_EVENT_ prefix ("CREATED", ...; "UNSPECIFIED" for any other
// value).
func (t SessionEventType) String() string {
	if t > 0 && int(t) < len(sessionEventNames) {
		return sessionEventNames[t]
	}
	return "UNSPECIFIED"
}

var sessionEventNames = [...]string{
	SessionEventCreated:   "CREATED",
	SessionEventResolved:  "RESOLVED",
	SessionEventExpired:   "EXPIRED",
	SessionEventSuspended: "SUSPENDED",
	SessionEventResumed:   "RESUMED",
	SessionEventCancelled: "CANCELLED",
}

// WatchKind names a runtime-wide stream for Client.WatchRuntime
// (macp_watch_kind).
type WatchKind int32

// The runtime-wide streams (MACP_WATCH_*).
const (
	// WatchSessions: session lifecycle transitions (EventSession), first
	// one SessionEventCreated per registered session; transitions missed
	// while disconnected are reported Reconciled.
	WatchSessions WatchKind = C.MACP_WATCH_SESSIONS
	// WatchSignals: ambient signals (EventSignal).
	WatchSignals WatchKind = C.MACP_WATCH_SIGNALS
	// WatchPolicies: policy registry changes (EventPolicies).
	WatchPolicies WatchKind = C.MACP_WATCH_POLICIES
	// WatchModeRegistry: mode registry changes (EventModeRegistry).
	WatchModeRegistry WatchKind = C.MACP_WATCH_MODE_REGISTRY
	// WatchRoots: root changes (EventRoots).
	WatchRoots WatchKind = C.MACP_WATCH_ROOTS
)

// Envelope is an envelope as the runtime delivered it.
type Envelope struct {
	MACPVersion string
	Mode        string
	MessageType string
	MessageID   string
	SessionID   string
	Sender      string
	Timestamp   time.Time
	// Payload is the protobuf-encoded payload; the method PayloadJSON
	// decodes it.
	Payload []byte
}

// Event is one event of a watcher. Fields that do not apply to Kind are
// zero.
type Event struct {
	Kind EventKind
	// EventEnvelope: the envelope's 1-based ordinal in the session's
	// history. EventResumed: delivery resumes after it. EventGap: the first
	// ordinal skipped, GapEnd the last.
	Sequence uint64
	GapEnd   uint64
	// EventEnvelope and EventSignal.
	Envelope *Envelope
	// EventSignal: whether the runtime authenticated the signal's sender
	// (RFC-MACP-0004). True only when the runtime runs with configured
	// authentication (JWT or static bearer tokens); a runtime in dev mode
	// (no tokens, "Bearer <name>" taken at its word) marks every signal
	// false. Do not let a signal with false influence operational decisions.
	SenderAuthenticated bool
	// EventSession: the transition and the session after it (nil when
	// already evicted).
	SessionEvent SessionEventType
	Session      *SessionInfo
	Reconciled   bool
	ObservedAt   time.Time
	// EventModeRegistry: which registry changed.
	Registry string
	// EventStreamError, EventReconnecting, EventGap, EventClosed: the cause.
	Err error
	// EventStreamError: the refused envelope's message id.
	MessageID string
	// EventReconnecting: attempt number and the wait before it.
	Attempt uint32
	Delay   time.Duration
	// The event's protobuf message (an Envelope for EventEnvelope and
	// EventSignal), for projections: Projection.Apply(ev.Raw).
	Raw []byte
}

// WatchOptions tune a watcher; the zero value means the defaults.
type WatchOptions struct {
	// NoReconnect stops the watcher at the first broken stream.
	NoReconnect bool
	// MaxReconnectAttempts: consecutive failed reconnects before giving up;
	// 0 = never.
	MaxReconnectAttempts uint32
	BackoffBase          time.Duration
	BackoffMax           time.Duration
	// QueueCapacity: events buffered before the runtime reports lag (1 to
	// 1048576; 0 for the default).
	QueueCapacity uint32
}

func (o *WatchOptions) toC() C.macp_watch_options {
	c := C.macp_watch_options_default()
	if o == nil {
		return c
	}
	c.reconnect = C.bool(!o.NoReconnect)
	c.max_reconnect_attempts = C.uint32_t(o.MaxReconnectAttempts)
	if o.BackoffBase > 0 {
		c.backoff_base_ms = C.uint64_t(o.BackoffBase.Milliseconds())
	}
	if o.BackoffMax > 0 {
		c.backoff_max_ms = C.uint64_t(o.BackoffMax.Milliseconds())
	}
	if o.QueueCapacity > 0 {
		c.queue_capacity = C.uint32_t(o.QueueCapacity)
	}
	return c
}

// Watcher delivers a stream's events on a channel. The channel is closed
// when the watcher ends: its context is cancelled, Close is called, or the
// stream ends for good (the last event is then EventClosed). Until an event
// is received, its callback holds one of libmacp's callback threads, which
// all watchers share ($MACP_WATCHER_THREADS, default 16): receive from every
// open Watcher, or close it.
type Watcher struct {
	h      *C.macp_watcher
	events chan Event
	done   chan struct{}
	handle cgo.Handle
	// ud is C memory holding the handle, passed to C as user_data.
	ud   unsafe.Pointer
	once sync.Once
}

// Events is the watcher's channel.
func (w *Watcher) Events() <-chan Event { return w.events }

// Close stops the watcher and closes its channel. Events not yet received
// are dropped. Safe to call more than once and from any goroutine.
func (w *Watcher) Close() error {
	w.once.Do(func() {
		close(w.done) // unblocks a callback waiting on the channel
		C.macp_watcher_close(w.h)
		// No callback runs after macp_watcher_close returned.
		close(w.events)
		w.handle.Delete()
		C.free(w.ud)
	})
	return nil
}

// watchStart starts a C watcher with the callback and user data it is
// given.
type watchStart func(opts *C.macp_watch_options, cb C.macp_event_callback, ud unsafe.Pointer, out **C.macp_watcher, call *C.macp_call_options, e **C.macp_error) C.macp_status

func startWatcher(ctx context.Context, opts *WatchOptions, start watchStart) (*Watcher, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &Watcher{events: make(chan Event), done: make(chan struct{})}
	w.handle = cgo.NewHandle(w)
	w.ud = C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(w.ud) = C.uintptr_t(w.handle)
	co := opts.toC()
	// The call returns once the runtime has accepted the subscription; ctx
	// cancels that wait.
	h, err := blocking(ctx, "", func(call *C.macp_call_options) (*C.macp_watcher, error) {
		var e *C.macp_error
		var h *C.macp_watcher // a local: C may not be handed a pointer into w
		st := start(&co, C.macp_event_callback(C.macpGoWatchEvent), w.ud, &h, call, &e)
		return h, errorFrom(st, e)
	})
	if err != nil {
		w.handle.Delete()
		C.free(w.ud)
		return nil, err
	}
	w.h = h
	go func() {
		select {
		case <-ctx.Done():
			w.Close()
		case <-w.done:
		}
	}()
	return w, nil
}

//export macpGoWatchEvent
func macpGoWatchEvent(ev *C.macp_event, ud unsafe.Pointer) {
	w, ok := cgo.Handle(*(*C.uintptr_t)(ud)).Value().(*Watcher)
	if !ok {
		return
	}
	e := eventFrom(ev)
	select {
	case w.events <- e:
	case <-w.done:
		return
	}
	if e.Kind == EventClosed {
		go w.Close()
	}
}

// envelopeFrom copies a borrowed C envelope.
func envelopeFrom(env *C.macp_envelope) *Envelope {
	e := &Envelope{
		MACPVersion: cstr(env.macp_version),
		Mode:        cstr(env.mode),
		MessageType: cstr(env.message_type),
		MessageID:   cstr(env.message_id),
		SessionID:   cstr(env.session_id),
		Sender:      cstr(env.sender),
		Timestamp:   time.UnixMilli(int64(env.timestamp_unix_ms)),
	}
	if env.payload != nil && env.payload_len > 0 {
		e.Payload = C.GoBytes(unsafe.Pointer(env.payload), C.int(env.payload_len))
	}
	return e
}

func cstr(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func eventFrom(ev *C.macp_event) Event {
	e := Event{
		Kind:                EventKind(ev.kind),
		Sequence:            uint64(ev.sequence),
		GapEnd:              uint64(ev.gap_end),
		SenderAuthenticated: bool(ev.sender_authenticated),
		SessionEvent:        SessionEventType(ev.session_event),
		Reconciled:          bool(ev.reconciled),
		Registry:            cstr(ev.registry),
		MessageID:           cstr(ev.message_id),
		Attempt:             uint32(ev.attempt),
		Delay:               time.Duration(ev.delay_ms) * time.Millisecond,
	}
	if ev.observed_at_unix_ms != 0 {
		e.ObservedAt = time.UnixMilli(int64(ev.observed_at_unix_ms))
	}
	if ev.raw != nil && ev.raw_len > 0 {
		e.Raw = C.GoBytes(unsafe.Pointer(ev.raw), C.int(ev.raw_len))
	}
	if e.Kind == EventEnvelope || e.Kind == EventSignal {
		e.Envelope = envelopeFrom(&ev.envelope)
	}
	if ev.session != nil {
		e.Session = sessionInfo(ev.session)
	}
	if ev.status != C.MACP_STATUS_OK {
		e.Err = &Error{Status: Status(ev.status), Code: cstr(ev.code), Message: cstr(ev.message), MessageID: e.MessageID}
	}
	return e
}

// Watch subscribes to the session's accepted envelopes after afterSequence
// (0: from the first), replayed then live, resuming across broken streams
// and runtime restarts without gaps or repeats. opts may be nil.
func (s *Session) Watch(ctx context.Context, afterSequence uint64, opts *WatchOptions) (*Watcher, error) {
	return startWatcher(ctx, opts, func(o *C.macp_watch_options, cb C.macp_event_callback, ud unsafe.Pointer, out **C.macp_watcher, call *C.macp_call_options, e **C.macp_error) C.macp_status {
		return C.macp_session_watch(s.h, C.uint64_t(afterSequence), o, cb, ud, out, call, e)
	})
}

// WatchRuntime follows a runtime-wide stream (WatchSessions, ...). It
// reconnects across broken streams per opts (nil: the defaults), reporting
// EventReconnecting and EventResumed; events published while disconnected
// may be missed, except session transitions, which are reconciled. A
// runtime that does not advertise the stream gives StatusUnsupported, a
// kind that is not a WatchKind StatusInvalidArgument.
func (c *Client) WatchRuntime(ctx context.Context, kind WatchKind, opts *WatchOptions) (*Watcher, error) {
	return startWatcher(ctx, opts, func(o *C.macp_watch_options, cb C.macp_event_callback, ud unsafe.Pointer, out **C.macp_watcher, call *C.macp_call_options, e **C.macp_error) C.macp_status {
		return C.macp_client_watch(c.h, C.int32_t(kind), o, cb, ud, out, call, e)
	})
}
