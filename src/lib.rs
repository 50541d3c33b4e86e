//! libmacp: the native client SDK for MACP, the Multi-Agent Coordination
//! Protocol.
//!
//! An async Rust core ([`Client`], [`Session`], the mode helpers) speaks
//! `macp.v1.MACPRuntimeService` over gRPC; [`ffi`] exposes it to C (and through
//! C to Go and Swift) as opaque handles and blocking calls. The core knows
//! nothing of C; the FFI layer only checks, converts and forwards.

// `Error` is a flat struct (status, code, message, details, ids) of ~130 bytes.
// Errors are rare and every fallible call here is dominated by a network round
// trip, so boxing it would only add an allocation and indirection for readers.
#![allow(clippy::result_large_err)]

pub mod call;
pub mod client;
pub mod commitment;
pub mod config;
pub mod error;
#[allow(non_camel_case_types)]
pub mod ffi;
pub mod log;
pub mod modes;
pub mod participant;
pub mod payload;
pub mod policy;
pub mod projection;
pub mod receipts;
pub mod registry;
pub mod rt;
pub mod session;
pub mod trace;
mod transport;
pub mod watch;

/// Generated tonic client of `macp.v1.MACPRuntimeService` (messages come from `macp-pb`).
#[allow(clippy::all, rustdoc::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/client/macp.v1.rs"));
}

pub use call::CallOptions;
pub use client::{Ack, Client};
pub use config::{ClientConfig, ClientIdentity, RetryPolicy};
pub use error::{Delivery, Error, Result, Status};
pub use macp_pb::pb;
pub use session::{Session, StartOptions};
pub use trace::TraceContext;
