// Package macp is the Go binding of libmacp, the native client SDK for MACP
// (the Multi-Agent Coordination Protocol): agents connect to a MACP runtime,
// start and join sessions of the coordination modes (Decision, Proposal,
// Task, Handoff, Quorum, multi-round), send and watch messages, and verify
// commitments and decision receipts.
//
// # Building and linking
//
// The package is a thin cgo layer over libmacp's C ABI (include/macp.h),
// found through pkg-config: install libmacp (scripts/install.sh) or unpack a
// release archive and put its lib/pkgconfig on PKG_CONFIG_PATH; inside the
// repository, after `cargo build --release`,
//
//	export PKG_CONFIG_PATH=$(scripts/install.sh --build-tree)
//
// points it at the build tree. By default the package links the static
// library (macp-static.pc), so a Go binary needs no libmacp at run time.
// With the build tag macp_shared it links the shared library (macp.pc)
// instead, which the binary then loads at run time:
//
//	go build -tags macp_shared ./...
//
// # Calls, contexts and errors
//
// Every call that talks to the runtime takes a context.Context first.
// When the context is cancelled or its deadline passes, the call itself is
// cancelled (libmacp's macp_cancel): it returns at once, makes no further
// retry, and its error is an *Error with StatusCancelled that wraps
// ctx.Err(), so errors.Is(err, context.Canceled) (or
// context.DeadlineExceeded) holds. A failure from libmacp or the runtime is
// an *Error carrying a Status (a code of the MACP error registry, or an SDK
// status such as StatusTimeout) with the runtime's message and details. A
// Status is itself an error, so:
//
//	if errors.Is(err, macp.StatusSessionNotFound) { ... }
//	var me *macp.Error
//	if errors.As(err, &me) { log.Print(me.Code, me.Message) }
//
// # Sends that fail
//
// A failed send's *Error names the message id it used (MessageID) and says
// whether the message may have been applied (Delivery): DeliveryNotSent
// and DeliveryRefused mean it was not; DeliveryUnknown (a timeout, a
// cancelled context, a broken connection) means it may have been. Every
// send takes WithMessageID (Send, SendJSON and StartOptions take the id
// directly), so the same message can be sent again with the same id; the
// runtime then acknowledges it as a duplicate instead of applying it twice:
//
//	ack, err := s.Decision().Vote(ctx, "p1", "APPROVE", "")
//	var me *macp.Error
//	if errors.As(err, &me) && me.Delivery == macp.DeliveryUnknown {
//		ack, err = s.Decision().Vote(ctx2, "p1", "APPROVE", "", macp.WithMessageID(me.MessageID))
//	}
//
// # Arguments
//
// Arguments follow the C header exactly. A string the header calls
// required (a session id, a proposal id, a vote, a severity, a mode, ...)
// is refused when empty with StatusInvalidArgument ("proposal_id is
// empty", as C says it) before anything is sent. Any other string may be
// "": an optional argument then reaches C as NULL, which the header reads
// as unset. A string holding a NUL byte, which C would read cut short, is
// refused the same way.
//
// # Names
//
// Go uses the C names' verb and noun, in Go case, with three rules:
//
//   - Go drops the "get" of C getters: macp_client_get_policy is
//     Client.Policy, macp_client_get_manifest Client.Manifest,
//     macp_client_get_decision_receipt Client.DecisionReceipt,
//     macp_client_get_receipt_keys Client.ReceiptKeys,
//     macp_session_get_info Session.Info, and macp_client_get_session
//     Client.SessionInfo (it returns a SessionInfo; a *Session is what
//     OpenSession returns).
//   - Every handle is released with Close: C frees each with its _free
//     function, which never blocks, except a watcher, whose
//     macp_watcher_close also stops its stream and waits for its callback;
//     Watcher.Close does the same.
//   - Constants are the header's (C.MACP_...), so they cannot drift, and
//     print as C names them: StateOpen is "OPEN", EventGap "GAP",
//     StatusForbidden "FORBIDDEN", SessionEventCreated "CREATED".
//
// Text the library returns (a macp_string in C) and views borrowed from a
// C handle (session metadata, lists, receipt verifications) are copied into
// Go values and the C object freed before the call returns: nothing the
// package returns points into C memory.
//
// # Ownership and goroutines
//
// Client, Session, Projection and Watcher are handles with a Close method;
// close each when done (a finalizer is only a safety net). All of them are
// safe for concurrent use by many goroutines. A Session's mode helpers
// (Session.Decision, Session.Quorum, ...) are views of the same handle.
//
// # Watchers
//
// Session.Watch and Client.WatchRuntime deliver a stream's events on
// a channel (Watcher.Events), closed when the context is cancelled, Close is
// called, or the stream ends for good. Events cross from libmacp's watcher
// thread through a runtime/cgo.Handle; no Go pointer is held by C. A slow
// reader holds the stream back; the library then resumes it without gaps.
//
// # Operations: logs, trace context, credentials, mutual TLS
//
// SetLogger sends the library's diagnostics (connects, retries, refused
// calls, watcher breaks and resumes) to a *slog.Logger; they never hold a
// bearer token, a client key or payload bytes. Client.SetBearerToken
// replaces an expiring token without reconnecting or restarting watchers.
// WithClientCertificate presents a client certificate for mutual TLS.
//
// Client.SetTraceContext and Session.SetTraceContext attach a W3C
// traceparent/tracestate to calls, as gRPC metadata.
// Session.SetTraceContextFrom takes it from a context: one made by
// WithTraceParent, or, through SetTraceExtractor, an OpenTelemetry span's,
// without this package depending on OpenTelemetry:
//
//	import "go.opentelemetry.io/otel/propagation"
//
//	macp.SetTraceExtractor(func(ctx context.Context) (string, string) {
//		carrier := propagation.MapCarrier{}
//		propagation.TraceContext{}.Inject(ctx, carrier)
//		return carrier.Get("traceparent"), carrier.Get("tracestate")
//	})
//	// Then, in a handler running under a span:
//	if err := session.SetTraceContextFrom(ctx); err != nil { ... }
package macp
