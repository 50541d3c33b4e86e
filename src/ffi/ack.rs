//! `macp_ack`: the runtime's acknowledgement of an accepted message.

use std::ffi::c_char;

use super::args::fill_fixed;
use super::session_state::macp_session_state;
use crate::client::Ack;

/// Size of the id fields of `macp_ack` and of a buffer that holds any id
/// libmacp accepts: at most 128 bytes, plus the terminating NUL.
pub const MACP_ID_BUFFER_LEN: usize = 129;

/// The runtime's acknowledgement of an accepted message: a value the library
/// writes into caller memory (nothing to free).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_ack {
    /// The runtime had already accepted this message id (e.g. a retry of a
    /// message whose first answer was lost); it was not applied twice.
    pub duplicate: bool,
    /// Session state after the message.
    pub session_state: macp_session_state,
    /// Send attempts made (1 unless transient failures were retried).
    pub attempts: u32,
    /// When the runtime accepted the message (Unix ms).
    pub accepted_at_unix_ms: i64,
    /// The message id used (NUL-terminated; ids are never longer than 128 bytes).
    pub message_id: [c_char; MACP_ID_BUFFER_LEN],
    /// The session id (NUL-terminated).
    pub session_id: [c_char; MACP_ID_BUFFER_LEN],
}

impl macp_ack {
    pub(crate) fn new(a: &Ack) -> macp_ack {
        let mut ack = macp_ack {
            duplicate: a.duplicate,
            session_state: a.session_state.into(),
            attempts: a.attempts,
            accepted_at_unix_ms: a.accepted_at_unix_ms,
            message_id: [0; MACP_ID_BUFFER_LEN],
            session_id: [0; MACP_ID_BUFFER_LEN],
        };
        fill_fixed(&mut ack.message_id, &a.message_id);
        fill_fixed(&mut ack.session_id, &a.session_id);
        ack
    }
}

/// Write `a` to `out` when `out` is not NULL.
pub(crate) fn fill_ack(out: *mut macp_ack, a: &Ack) {
    if out.is_null() {
        return;
    }
    // SAFETY: the caller passes NULL (checked) or a writable `macp_ack`.
    unsafe { out.write(macp_ack::new(a)) };
}
