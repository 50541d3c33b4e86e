//! The C ABI.
//!
//! This layer only checks, converts and forwards; the logic lives in the
//! core. One file per C type (the type and the functions that make or use
//! it); value types sit in small files that import nothing else of this
//! layer. The conventions every `macp_*` function follows are written once,
//! at the top of `include/macp.h` (from `cbindgen.toml`), and in the README:
//! - errors: a returned `macp_status` and a trailing `macp_error **error`
//!   ([`guard`]);
//! - handles: every object C holds is a checked handle ([`handle`]);
//! - arguments and outputs: [`args`];
//! - one `Ownership:` sentence per function, saying what it borrows, what
//!   the caller owns afterwards and how to free it, and what every output
//!   holds on failure.
//!
//! Rust callers see `# Safety` sections on the `unsafe` functions; they are
//! left out of the C header, whose ownership sentences say the same for C.

pub mod ack;
pub(crate) mod args;
pub mod call;
pub mod client;
pub mod client_options;
pub mod commitment;
pub mod decision;
pub(crate) mod dispatch;
pub mod envelope;
pub mod error;
pub mod event;
pub(crate) mod guard;
pub(crate) mod handle;
pub mod handoff;
pub mod log;
pub mod metadata;
pub mod multi_round;
pub mod participant;
pub mod payload;
pub mod policy;
pub mod projection;
pub mod proposal;
pub mod queue;
pub mod quorum;
pub mod receipts;
pub mod registry;
pub mod send;
pub mod session;
pub mod session_list;
pub mod session_state;
pub mod start_options;
pub mod status;
pub mod strings;
pub mod task;
pub mod trace;
pub mod watcher;

pub use error::macp_error;

// The C names in one flat namespace, as the header has them (for Rust code
// that drives the C ABI, such as the integration tests).
pub use self::{
    ack::*, call::*, client::*, client_options::*, commitment::*, decision::*, envelope::*,
    error::*, event::*, handoff::*, log::*, metadata::*, multi_round::*, participant::*,
    payload::*, policy::*, projection::*, proposal::*, queue::*, quorum::*, receipts::*,
    registry::*, send::*, session::*, session_list::*, session_state::*, start_options::*,
    status::*, strings::*, task::*, trace::*, watcher::*,
};
