package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Client is a connection to a MACP runtime with one identity. It is safe
// for concurrent use by any number of goroutines. Close it when done.
type Client struct {
	h    *C.macp_client
	once sync.Once
}

// Option configures Dial.
type Option func(*config)

// config is what the options of one Dial set: the setters to apply to its
// macp_client_options, in order.
type config struct {
	set []optionSetter
}

// optionSetter applies one option to a macp_client_options.
type optionSetter func(o *C.macp_client_options, cs *cstrings, e **C.macp_error) C.macp_status

func option(f optionSetter) Option {
	return func(c *config) { c.set = append(c.set, f) }
}

// WithBearerToken sends `Authorization: Bearer <token>` on every call (an
// opaque token or a JWT). Under a runtime's development authentication the
// token is the identity itself. An empty token sends none. A live client's
// token is replaced with Client.SetBearerToken.
func WithBearerToken(token string) Option {
	return option(func(o *C.macp_client_options, cs *cstrings, e **C.macp_error) C.macp_status {
		if token == "" {
			return C.macp_client_options_clear_bearer_token(o, e)
		}
		return C.macp_client_options_set_bearer_token(o, cs.req("token", token), e)
	})
}

// WithInsecure allows a plaintext (non-TLS) connection, for loopback or a
// trusted network only.
func WithInsecure() Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_allow_insecure(o, true, e)
	})
}

// WithCA trusts the CA certificates in this PEM data instead of the system
// roots.
func WithCA(pem []byte) Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		p, n := bytesArg(pem)
		return C.macp_client_options_set_ca_pem(o, p, n, e)
	})
}

// WithTLSDomain checks the runtime's certificate against this name instead
// of the target's host ("": the target's host).
func WithTLSDomain(domain string) Option {
	return option(func(o *C.macp_client_options, cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_tls_domain(o, cs.opt(domain), e)
	})
}

// WithConnectTimeout bounds connecting (and Initialize).
func WithConnectTimeout(d time.Duration) Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_connect_timeout_ms(o, C.uint64_t(d.Milliseconds()), e)
	})
}

// WithCallTimeout bounds every call made on the client (0: none). A
// context's deadline bounds a call as well.
func WithCallTimeout(d time.Duration) Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_call_timeout_ms(o, C.uint64_t(d.Milliseconds()), e)
	})
}

// WithRetry sets how transient failures of a send are retried (always with
// the same message id): at most maxRetries times, waiting base doubled per
// attempt up to max, with optional jitter.
func WithRetry(maxRetries uint32, base, max time.Duration, jitter bool) Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_retry_policy(o, C.uint32_t(maxRetries),
			C.uint64_t(base.Milliseconds()), C.uint64_t(max.Milliseconds()), C.bool(jitter), e)
	})
}

// WithExpectedSender stamps envelopes with this sender; the runtime refuses
// them (UNAUTHENTICATED) if it is not the authenticated identity. An empty
// sender stamps none.
func WithExpectedSender(sender string) Option {
	return option(func(o *C.macp_client_options, cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_expected_sender(o, cs.opt(sender), e)
	})
}

// WithClientInfo names this client to the runtime in Initialize (name
// required, version may be "").
func WithClientInfo(name, version string) Option {
	return option(func(o *C.macp_client_options, cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_options_set_client_info(o, cs.req("name", name), cs.opt(version), e)
	})
}

// Dial connects to the runtime at target ("host:port" or an http(s) URL)
// and runs Initialize. The context bounds the whole connection attempt.
func Dial(ctx context.Context, target string, opts ...Option) (*Client, error) {
	h, err := blocking(ctx, "", func(co *C.macp_call_options) (*C.macp_client, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var o *C.macp_client_options
		var e *C.macp_error
		if err := errorFrom(C.macp_client_options_new(&o, &e), e); err != nil {
			return nil, err
		}
		defer C.macp_client_options_free(o)
		var cfg config
		for _, opt := range opts {
			opt(&cfg)
		}
		t := cs.req("target", target)
		e = nil
		if err := errorFrom(C.macp_client_options_set_target(o, t, &e), e); err != nil {
			return nil, err
		}
		for _, set := range cfg.set {
			e = nil
			if err := errorFrom(set(o, &cs, &e), e); err != nil {
				return nil, err
			}
		}
		var c *C.macp_client
		e = nil
		if err := errorFrom(C.macp_client_new(o, &c, cs.call, &e), e); err != nil {
			return nil, err
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	c := &Client{h: h}
	// A safety net only: Close is the way to release a client.
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close releases the client. Calls still running on it end with
// StatusCancelled, and its sessions fail from then on. Safe to call more
// than once.
func (c *Client) Close() error {
	c.once.Do(func() {
		runtime.SetFinalizer(c, nil)
		C.macp_client_free(c.h)
	})
	return nil
}

// ProtocolVersion is the MACP version negotiated in Initialize ("1.0").
func (c *Client) ProtocolVersion() string {
	return C.GoString(C.macp_client_protocol_version(c.h))
}

// SessionInfo reads a session's metadata and state (GetSession; see the
// package doc for why Go drops "Get").
func (c *Client) SessionInfo(ctx context.Context, sessionID string) (*SessionInfo, error) {
	return infoCall(ctx, func(cs *cstrings, out **C.macp_session_info, e **C.macp_error) C.macp_status {
		return C.macp_client_get_session(c.h, cs.req("session_id", sessionID), out, cs.call, e)
	})
}

// CancelSession cancels a session (its initiator only).
func (c *Client) CancelSession(ctx context.Context, sessionID, reason string) (Ack, error) {
	return ackCall(ctx, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_client_cancel_session(c.h, cs.req("session_id", sessionID), cs.opt(reason), ack, cs.call, e)
	})
}

// ListSessions returns one page of the sessions the runtime holds (pageSize
// 0: the runtime's default) and the token of the next page ("" at the end).
func (c *Client) ListSessions(ctx context.Context, pageSize int32, pageToken string) ([]SessionInfo, string, error) {
	return listCall(ctx, func(cs *cstrings, out **C.macp_session_list, e **C.macp_error) C.macp_status {
		return C.macp_client_list_sessions(c.h, C.int32_t(pageSize), cs.opt(pageToken), out, cs.call, e)
	})
}

// ListAllSessions follows the pages to the end.
func (c *Client) ListAllSessions(ctx context.Context) ([]SessionInfo, error) {
	s, _, err := listCall(ctx, func(cs *cstrings, out **C.macp_session_list, e **C.macp_error) C.macp_status {
		return C.macp_client_list_all_sessions(c.h, out, cs.call, e)
	})
	return s, err
}

// listCall runs a C call that returns a macp_session_list, honouring ctx,
// and copies the sessions and the next page's token.
func listCall(ctx context.Context, f func(cs *cstrings, out **C.macp_session_list, e **C.macp_error) C.macp_status) ([]SessionInfo, string, error) {
	type page struct {
		s    []SessionInfo
		next string
	}
	p, err := blocking(ctx, "", func(co *C.macp_call_options) (page, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var l *C.macp_session_list
		var e *C.macp_error
		if err := errorFrom(f(&cs, &l, &e), e); err != nil {
			return page{}, err
		}
		defer C.macp_session_list_free(l)
		n := C.macp_session_list_len(l)
		out := make([]SessionInfo, 0, int(n))
		for i := C.size_t(0); i < n; i++ {
			out = append(out, *sessionInfo(C.macp_session_list_at(l, i)))
		}
		return page{out, C.GoString(C.macp_session_list_next_page_token(l))}, nil
	})
	return p.s, p.next, err
}

// infoCall runs a C call that returns a macp_session_info, honouring ctx,
// and copies its metadata.
func infoCall(ctx context.Context, f func(cs *cstrings, out **C.macp_session_info, e **C.macp_error) C.macp_status) (*SessionInfo, error) {
	return blocking(ctx, "", func(co *C.macp_call_options) (*SessionInfo, error) {
		cs := cstrings{call: co}
		defer cs.free()
		var info *C.macp_session_info
		var e *C.macp_error
		if err := errorFrom(f(&cs, &info, &e), e); err != nil {
			return nil, err
		}
		defer C.macp_session_info_free(info)
		return sessionInfo(C.macp_session_info_metadata(info)), nil
	})
}

// blocking runs call, a blocking libmacp call, under ctx and with the
// message id of the envelope it sends ("": generated). The trace context
// ctx carries (TraceContextFrom) goes with the call's requests. When ctx
// can end,
// call gets options (co) whose cancellation token ctx's end triggers: the C
// call then returns at once with StatusCancelled, and the error returned
// wraps both ctx.Err() and that *Error (its MessageID and Delivery say
// what may have been sent). co is nil when there is nothing to pass.
func blocking[T any](ctx context.Context, messageID string, call func(co *C.macp_call_options) (T, error)) (v T, err error) {
	defer catchArg(&err)
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	traceparent, tracestate := TraceContextFrom(ctx)
	if ctx.Done() == nil && messageID == "" && traceparent == "" {
		return call(nil)
	}
	co := (*C.macp_call_options)(C.malloc(C.size_t(unsafe.Sizeof(C.macp_call_options{}))))
	defer C.free(unsafe.Pointer(co))
	*co = C.macp_call_options_default()
	var ids cstrings
	defer ids.free()
	if messageID != "" {
		co.message_id = ids.s(messageID)
	}
	if traceparent != "" {
		co.traceparent = ids.s(traceparent)
		if tracestate != "" {
			co.tracestate = ids.s(tracestate)
		}
	}
	if ctx.Done() != nil {
		var tok *C.macp_cancel
		var e *C.macp_error
		if err := errorFrom(C.macp_cancel_new(&tok, &e), e); err != nil {
			var zero T
			return zero, err
		}
		defer C.macp_cancel_free(tok)
		co.cancel = tok
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ctx.Done():
				C.macp_cancel_trigger(tok)
			case <-done:
			}
		}()
	}
	v, err = call(co)
	if err != nil && ctx.Err() != nil {
		err = contextError(ctx.Err(), err)
	}
	return v, err
}

// cstrings are C copies of Go strings, freed together, for one C call
// made with the options call (nil: the defaults).
type cstrings struct {
	ptrs []*C.char
	call *C.macp_call_options
}

// badArgument is raised by cstrings.s for a string holding a NUL byte,
// which C would read cut short, and by cstrings.req for an empty required
// argument, and turned into an error by catchArg before the C call that
// would take it is made.
type badArgument struct{ message string }

// catchArg, deferred, turns a badArgument panic into *err
// (StatusInvalidArgument); other panics go on.
func catchArg(err *error) {
	if r := recover(); r != nil {
		b, ok := r.(badArgument)
		if !ok {
			panic(r)
		}
		*err = invalid("%s", b.message)
	}
}

// s copies v to C, for an argument C requires but accepts empty.
// Functions that call it defer catchArg (blocking does so for every call
// it runs).
func (cs *cstrings) s(v string) *C.char {
	if strings.IndexByte(v, 0) >= 0 {
		panic(badArgument{fmt.Sprintf("string argument %q contains a NUL byte", v)})
	}
	p := C.CString(v)
	cs.ptrs = append(cs.ptrs, p)
	return p
}

// req copies v, an argument C requires non-empty (named as in the C
// header); "" is refused in Go, as C would refuse it.
func (cs *cstrings) req(name, v string) *C.char {
	if v == "" {
		panic(badArgument{name + " is empty"})
	}
	return cs.s(v)
}

// opt is NULL for "" (an optional argument left unset, which C reads as
// NULL or "").
func (cs *cstrings) opt(v string) *C.char {
	if v == "" {
		return nil
	}
	return cs.s(v)
}

func (cs cstrings) free() {
	for _, p := range cs.ptrs {
		C.free(unsafe.Pointer(p))
	}
}

// array copies vs to a C array of C strings, freed with the cstrings (NULL
// when vs is empty). With nonEmpty, an empty element is refused as req
// refuses it (named name[i]).
func (cs *cstrings) array(name string, vs []string, nonEmpty bool) **C.char {
	if len(vs) == 0 {
		return nil
	}
	// The array of pointers lives in C memory: Go memory passed to C must
	// not hold Go pointers, and these point to C strings.
	arr := (**C.char)(C.malloc(C.size_t(len(vs)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	cs.ptrs = append(cs.ptrs, (*C.char)(unsafe.Pointer(arr)))
	slots := unsafe.Slice(arr, len(vs))
	for i, v := range vs {
		if nonEmpty {
			slots[i] = cs.req(fmt.Sprintf("%s[%d]", name, i), v)
		} else {
			slots[i] = cs.s(v)
		}
	}
	return arr
}

// bytesArg passes b to C for the duration of a call (NULL, 0 when empty).
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// takeString copies a string libmacp returned and frees it.
func takeString(p *C.macp_string) string {
	if p == nil {
		return ""
	}
	defer C.macp_string_free(p)
	return C.GoStringN(C.macp_string_ptr(p), C.int(C.macp_string_len(p)))
}
