package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
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
type Option func(*C.macp_client_options, *cstrings) (C.macp_status, *C.macp_error)

// WithBearerToken sends `Authorization: Bearer <token>` on every call (an
// opaque token or a JWT). Under a runtime's development authentication the
// token is the identity itself.
func WithBearerToken(token string) Option {
	return func(o *C.macp_client_options, cs *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_bearer_token(o, cs.s(token), &e), e
	}
}

// WithInsecure allows a plaintext (non-TLS) connection, for loopback or a
// trusted network only.
func WithInsecure() Option {
	return func(o *C.macp_client_options, _ *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_allow_insecure(o, true, &e), e
	}
}

// WithCA trusts the CA certificates in this PEM data instead of the system
// roots.
func WithCA(pem []byte) Option {
	return func(o *C.macp_client_options, _ *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		p, n := bytesArg(pem)
		return C.macp_client_options_set_ca_pem(o, p, n, &e), e
	}
}

// WithTLSDomain checks the runtime's certificate against this name instead
// of the target's host.
func WithTLSDomain(domain string) Option {
	return func(o *C.macp_client_options, cs *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_tls_domain(o, cs.s(domain), &e), e
	}
}

// WithConnectTimeout bounds connecting (and Initialize).
func WithConnectTimeout(d time.Duration) Option {
	return func(o *C.macp_client_options, _ *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_connect_timeout_ms(o, C.uint64_t(d.Milliseconds()), &e), e
	}
}

// WithCallTimeout bounds every call made on the client (0: none). A
// context's deadline bounds a call as well.
func WithCallTimeout(d time.Duration) Option {
	return func(o *C.macp_client_options, _ *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_call_timeout_ms(o, C.uint64_t(d.Milliseconds()), &e), e
	}
}

// WithRetry sets how transient failures of a send are retried (always with
// the same message id): at most maxRetries times, waiting base doubled per
// attempt up to max, with optional jitter.
func WithRetry(maxRetries uint32, base, max time.Duration, jitter bool) Option {
	return func(o *C.macp_client_options, _ *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_retry_policy(o, C.uint32_t(maxRetries),
			C.uint64_t(base.Milliseconds()), C.uint64_t(max.Milliseconds()), C.bool(jitter), &e), e
	}
}

// WithExpectedSender stamps envelopes with this sender; the runtime refuses
// them (UNAUTHENTICATED) if it is not the authenticated identity.
func WithExpectedSender(sender string) Option {
	return func(o *C.macp_client_options, cs *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_expected_sender(o, cs.s(sender), &e), e
	}
}

// WithClientInfo names this client to the runtime in Initialize.
func WithClientInfo(name, version string) Option {
	return func(o *C.macp_client_options, cs *cstrings) (C.macp_status, *C.macp_error) {
		var e *C.macp_error
		return C.macp_client_options_set_client_info(o, cs.s(name), cs.s(version), &e), e
	}
}

// Dial connects to the runtime at target ("host:port" or an http(s) URL)
// and runs Initialize. The context bounds the whole connection attempt.
func Dial(ctx context.Context, target string, opts ...Option) (*Client, error) {
	h, err := blocking(ctx, func() (*C.macp_client, error) {
		var cs cstrings
		defer cs.free()
		var o *C.macp_client_options
		var e *C.macp_error
		if err := errorFrom(C.macp_client_options_new(&o, &e), e); err != nil {
			return nil, err
		}
		defer C.macp_client_options_free(o)
		e = nil
		if err := errorFrom(C.macp_client_options_set_target(o, cs.s(target), &e), e); err != nil {
			return nil, err
		}
		for _, opt := range opts {
			if err := errorFrom(opt(o, &cs)); err != nil {
				return nil, err
			}
		}
		var c *C.macp_client
		e = nil
		if err := errorFrom(C.macp_client_new(o, &c, &e), e); err != nil {
			return nil, err
		}
		return c, nil
	}, func(c *C.macp_client) { C.macp_client_free(c) })
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

// GetSession reads a session's metadata and state.
func (c *Client) GetSession(ctx context.Context, sessionID string) (*SessionInfo, error) {
	return blocking(ctx, func() (*SessionInfo, error) {
		var cs cstrings
		defer cs.free()
		var info *C.macp_session_info
		var e *C.macp_error
		if err := errorFrom(C.macp_client_get_session(c.h, cs.s(sessionID), &info, &e), e); err != nil {
			return nil, err
		}
		defer C.macp_session_info_free(info)
		return sessionInfo(info), nil
	}, nil)
}

// CancelSession cancels a session (its initiator only).
func (c *Client) CancelSession(ctx context.Context, sessionID, reason string) (Ack, error) {
	return ackCall(ctx, func(cs *cstrings, ack *C.macp_ack, e **C.macp_error) C.macp_status {
		return C.macp_client_cancel_session(c.h, cs.s(sessionID), cs.opt(reason), ack, e)
	})
}

// ListSessions returns one page of the sessions the runtime holds (pageSize
// 0: the runtime's default) and the token of the next page ("" at the end).
func (c *Client) ListSessions(ctx context.Context, pageSize int32, pageToken string) ([]SessionInfo, string, error) {
	type page struct {
		s    []SessionInfo
		next string
	}
	p, err := blocking(ctx, func() (page, error) {
		var cs cstrings
		defer cs.free()
		var l *C.macp_session_list
		var e *C.macp_error
		if err := errorFrom(C.macp_client_list_sessions(c.h, C.int32_t(pageSize), cs.opt(pageToken), &l, &e), e); err != nil {
			return page{}, err
		}
		defer C.macp_session_list_free(l)
		return page{sessionList(l), C.GoString(l.next_page_token)}, nil
	}, nil)
	return p.s, p.next, err
}

// ListAllSessions follows the pages to the end.
func (c *Client) ListAllSessions(ctx context.Context) ([]SessionInfo, error) {
	return blocking(ctx, func() ([]SessionInfo, error) {
		var l *C.macp_session_list
		var e *C.macp_error
		if err := errorFrom(C.macp_client_list_all_sessions(c.h, &l, &e), e); err != nil {
			return nil, err
		}
		defer C.macp_session_list_free(l)
		return sessionList(l), nil
	}, nil)
}

func sessionList(l *C.macp_session_list) []SessionInfo {
	out := make([]SessionInfo, 0, int(l.len))
	if l.len > 0 {
		for _, s := range unsafe.Slice(l.sessions, int(l.len)) {
			out = append(out, *sessionInfo(&s))
		}
	}
	return out
}

// blocking runs f, a blocking libmacp call, honouring ctx: when ctx ends
// first the call returns ctx.Err() at once and f finishes in the background,
// its result handed to release (when not nil) so nothing leaks.
func blocking[T any](ctx context.Context, call func() (T, error), release func(T)) (T, error) {
	f := func() (v T, err error) {
		defer catchNUL(&err)
		return call()
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if ctx.Done() == nil {
		return f()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil && release != nil {
				release(r.v)
			}
		}()
		return zero, ctx.Err()
	}
}

// cstrings are C copies of Go strings, freed together.
type cstrings []*C.char

// nulArgument is raised by cstrings.s for a string holding a NUL byte,
// which C would read cut short, and turned into an error by catchNUL
// before any C call is made.
type nulArgument struct{ value string }

// catchNUL, deferred, turns a nulArgument panic into *err
// (StatusInvalidArgument); other panics go on.
func catchNUL(err *error) {
	if r := recover(); r != nil {
		n, ok := r.(nulArgument)
		if !ok {
			panic(r)
		}
		*err = invalid("string argument %q contains a NUL byte", n.value)
	}
}

// s copies v to C. Functions that call it defer catchNUL (blocking does so
// for every call it runs).
func (cs *cstrings) s(v string) *C.char {
	if strings.IndexByte(v, 0) >= 0 {
		panic(nulArgument{v})
	}
	p := C.CString(v)
	*cs = append(*cs, p)
	return p
}

// opt is NULL for "" (an argument left unset).
func (cs *cstrings) opt(v string) *C.char {
	if v == "" {
		return nil
	}
	return cs.s(v)
}

func (cs cstrings) free() {
	for _, p := range cs {
		C.free(unsafe.Pointer(p))
	}
}

// bytesArg passes b to C for the duration of a call (NULL, 0 when empty).
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// takeString copies a string libmacp returned and frees it.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.macp_string_free(p)
	return C.GoString(p)
}
