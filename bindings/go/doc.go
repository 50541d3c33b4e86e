// Package macp is the Go binding of libmacp, the native client SDK for MACP
// (the Multi-Agent Coordination Protocol): agents connect to a MACP runtime,
// start and join sessions of the coordination modes (Decision, Proposal,
// Task, Handoff, Quorum, multi-round), send and watch messages, and verify
// commitments and decision receipts.
//
// # Building and linking
//
// The package is a thin cgo layer over libmacp's C ABI (include/macp.h).
// Build the library first, in the repository root:
//
//	cargo build --release
//
// By default the package links target/release/libmacp.a statically, so a Go
// binary needs no libmacp at run time. With the build tag macp_shared it
// links the shared library instead (libmacp.so or libmacp.dylib), recording
// target/release as the run-time search path:
//
//	go build -tags macp_shared ./...
//
// # Calls, contexts and errors
//
// Every call that talks to the runtime takes a context.Context first.
// When the context is cancelled or its deadline passes, the call returns
// ctx.Err() at once; the underlying request finishes in the background
// and whatever it produced is released. A failure from libmacp or the
// runtime is an *Error carrying a Status (a code of the MACP error registry,
// or an SDK status such as StatusTimeout) with the runtime's message and
// details. A Status is itself an error, so:
//
//	if errors.Is(err, macp.StatusSessionNotFound) { ... }
//	var me *macp.Error
//	if errors.As(err, &me) { log.Print(me.Code, me.Message) }
//
// A string argument holding a NUL byte, which C would read cut short, is
// refused with StatusInvalidArgument before anything is sent.
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
// Session.Watch and the Client.Watch* methods deliver a stream's events on
// a channel (Watcher.Events), closed when the context is cancelled, Close is
// called, or the stream ends for good. Events cross from libmacp's watcher
// thread through a runtime/cgo.Handle; no Go pointer is held by C. A slow
// reader holds the stream back; the library then resumes it without gaps.
package macp
