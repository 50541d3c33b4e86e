package macp

/*
#include "macp.h"
*/
import "C"

import (
	"context"
	"sync/atomic"
)

// WithClientCertificate presents this client certificate chain and key
// (both PEM) to a runtime, or a TLS terminator in front of it, that
// requires one (mutual TLS). A TLS target is then required. A server that
// refuses the certificate, or requires one when none is given, fails Dial
// with StatusTransport and a message naming the cause.
func WithClientCertificate(certPEM, keyPEM []byte) Option {
	return option(func(o *C.macp_client_options, _ *cstrings, e **C.macp_error) C.macp_status {
		cp, cn := bytesArg(certPEM)
		kp, kn := bytesArg(keyPEM)
		return C.macp_client_options_set_client_identity(o, cp, cn, kp, kn, e)
	})
}

// SetBearerToken replaces the client's credential without reconnecting:
// calls that start afterwards authenticate with token, and so do its
// watchers when they next reopen their stream; open streams go on. An
// empty token is refused (use ClearBearerToken to send none).
func (c *Client) SetBearerToken(token string) error {
	return statusCall(context.Background(), func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_set_bearer_token(c.h, cs.req("token", token), e)
	})
}

// ClearBearerToken stops sending a credential on calls that start
// afterwards.
func (c *Client) ClearBearerToken() error {
	return statusCall(context.Background(), func(_ *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_clear_bearer_token(c.h, e)
	})
}

// SetTraceContext sets the W3C trace context every call of this client
// carries (gRPC metadata traceparent and tracestate) unless a session has
// its own. traceparent is checked: version 00, lowercase hex, non-zero ids
// ("00-<32 hex>-<16 hex>-<2 hex>"); tracestate may be "". An empty
// traceparent removes the context.
func (c *Client) SetTraceContext(traceparent, tracestate string) error {
	return statusCall(context.Background(), func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_client_set_trace_context(c.h, cs.opt(traceparent), cs.opt(tracestate), e)
	})
}

// SetTraceContext sets the W3C trace context of this session's own calls,
// overriding the client's (checked as Client.SetTraceContext checks it).
// An empty traceparent removes it.
func (s *Session) SetTraceContext(traceparent, tracestate string) error {
	return statusCall(context.Background(), func(cs *cstrings, e **C.macp_error) C.macp_status {
		return C.macp_session_set_trace_context(s.h, cs.opt(traceparent), cs.opt(tracestate), e)
	})
}

// SetTraceContextFrom sets this session's trace context to the one ctx
// carries (see TraceContextFrom); none removes it. Call it with the
// context of the work the session's next calls belong to.
func (s *Session) SetTraceContextFrom(ctx context.Context) error {
	tp, ts := TraceContextFrom(ctx)
	return s.SetTraceContext(tp, ts)
}

type traceKey struct{}

type traceValue struct{ traceparent, tracestate string }

// WithTraceParent returns a context carrying a W3C trace context, for
// TraceContextFrom to find: every call made with that context sends it
// (over the session's and the client's trace context), and
// Session.SetTraceContextFrom can make it the session's. It is checked
// when it is applied.
func WithTraceParent(ctx context.Context, traceparent, tracestate string) context.Context {
	return context.WithValue(ctx, traceKey{}, traceValue{traceparent, tracestate})
}

// TraceExtractor finds the W3C trace context of ctx's current span:
// ("", "") when there is none. See SetTraceExtractor.
type TraceExtractor func(ctx context.Context) (traceparent, tracestate string)

var extractor atomic.Value // of TraceExtractor

// SetTraceExtractor installs f as the way TraceContextFrom reads a
// context that WithTraceParent did not make; nil removes it. It lets an
// OpenTelemetry span context reach libmacp without this package
// depending on OpenTelemetry:
//
//	macp.SetTraceExtractor(func(ctx context.Context) (string, string) {
//		carrier := propagation.MapCarrier{}
//		propagation.TraceContext{}.Inject(ctx, carrier)
//		return carrier.Get("traceparent"), carrier.Get("tracestate")
//	})
func SetTraceExtractor(f TraceExtractor) {
	extractor.Store(f)
}

// TraceContextFrom is the trace context ctx carries: one given with
// WithTraceParent, else what the installed TraceExtractor finds, else
// ("", "").
func TraceContextFrom(ctx context.Context) (traceparent, tracestate string) {
	if v, ok := ctx.Value(traceKey{}).(traceValue); ok {
		return v.traceparent, v.tracestate
	}
	if f, _ := extractor.Load().(TraceExtractor); f != nil {
		return f(ctx)
	}
	return "", ""
}
