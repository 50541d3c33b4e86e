//! `macp_envelope`: an envelope as C reads it (borrowed from a watcher's
//! event), encoding one from its fields, and decoding its payload as JSON.

use std::ffi::c_char;

use prost::Message;

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out, write_buf};
use super::error::guard;
use super::error::macp_error;
use super::strings::{macp_string, write_string};
use crate::error::{Error, Status};
use crate::payload;
use crate::pb;

/// An envelope as the runtime delivered it. Borrowed: valid only during the
/// callback that received it.
#[repr(C)]
pub struct macp_envelope {
    pub macp_version: *const c_char,
    pub mode: *const c_char,
    pub message_type: *const c_char,
    pub message_id: *const c_char,
    pub session_id: *const c_char,
    pub sender: *const c_char,
    pub timestamp_unix_ms: i64,
    /// The protobuf-encoded payload (NULL when empty).
    pub payload: *const u8,
    pub payload_len: usize,
}

/// Encode an envelope (protobuf), e.g. to feed a projection envelopes
/// obtained elsewhere, or to build test input. `mode`, `message_type` and
/// `session_id` are required; `sender` may be NULL; `message_id` NULL
/// generates a UUID v4; `payload` is NULL or `payload_len` bytes of encoded
/// payload. `macp_version` is "1.0" and the timestamp is now.
///
/// `*out_len` (required) receives the encoded size. With `buf` NULL (and
/// `buf_len` 0) nothing else is written: a size query. Otherwise the envelope
/// is written to `buf`, or, when `buf_len` is smaller than the size,
/// `MACP_STATUS_INVALID_ARGUMENT` is returned and nothing is written.
///
/// Ownership: borrows its arguments; on success `*out_len` holds the size and
/// `buf` (when not NULL) the bytes; on failure `buf` is untouched and
/// `*out_len` holds the size needed when the buffer was too small, else 0.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `payload` is NULL or `payload_len`
/// readable bytes; `buf` is NULL or `buf_len` writable bytes; `out_len` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_envelope_encode(
    mode: *const c_char,
    message_type: *const c_char,
    session_id: *const c_char,
    sender: *const c_char,
    message_id: *const c_char,
    payload: *const u8,
    payload_len: usize,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_len, "out_len")?;
        *out_len = 0;
        let env = pb::Envelope {
            macp_version: "1.0".into(),
            mode: arg_nonempty(mode, "mode")?.into(),
            message_type: arg_nonempty(message_type, "message_type")?.into(),
            message_id: match arg_opt_str(message_id, "message_id")? {
                Some(id) => id.into(),
                None => crate::client::new_id(),
            },
            session_id: arg_nonempty(session_id, "session_id")?.into(),
            sender: arg_opt_str(sender, "sender")?.unwrap_or("").into(),
            timestamp_unix_ms: crate::client::now_unix_ms(),
            payload: arg_bytes(payload, payload_len, "payload")?.to_vec(),
        };
        write_buf(&env.encode_to_vec(), buf, buf_len, out_len)
    })
}

/// Decode the payload of `envelope` (for example the one a watcher's
/// callback received) to JSON, as `macp_payload_to_json` does for the type
/// `macp_payload_type` names for its mode and message type. `*out_json` is
/// owned by the caller and freed with `macp_string_free` (NULL on
/// failure). A message type without a known payload type, or a payload
/// that does not decode as it, is `MACP_STATUS_INVALID_ARGUMENT`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `envelope` is NULL or points to a `macp_envelope` whose strings are
/// NULL or NUL-terminated and whose `payload` is NULL or `payload_len`
/// readable bytes; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_envelope_payload_json(
    envelope: *const macp_envelope,
    out_json: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_json, "out_json")?;
        *out_json = std::ptr::null_mut();
        let e = envelope
            .as_ref()
            .ok_or_else(|| Error::invalid_argument("envelope is NULL"))?;
        let m = arg_opt_str(e.mode, "envelope.mode")?.unwrap_or("");
        let mt = arg_nonempty(e.message_type, "envelope.message_type")?;
        let bytes = arg_bytes(e.payload, e.payload_len, "envelope.payload")?;
        let t = payload::type_for(m, mt)?;
        write_string(out_json, &payload::decode_json(&t, bytes)?);
        Ok(())
    })
}
