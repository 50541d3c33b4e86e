//! Payloads as JSON: encode and decode any message of the MACP schema by
//! its type name, and the payload type of a message type in a mode.

use std::ffi::c_char;

use super::args::{arg_bytes, arg_nonempty, arg_out, arg_str, write_buf};
use super::error::guard;
use super::error::macp_error;
use super::strings::{macp_string, write_string};
use crate::error::Status;
use crate::payload;

/// Encode the JSON object `json` as the protobuf message named `type_name`
/// (fully qualified: `macp.v1.CommitmentPayload`,
/// `macp.modes.decision.v1.VotePayload`, ... any message of the MACP
/// schema). The JSON is protobuf's JSON mapping: `.proto` field names (or
/// their lowerCamelCase forms), 64-bit integers as numbers or strings, enums
/// by name. A `bytes` field takes base64, an array of byte values, or text
/// that is not base64 (its UTF-8 bytes). An unknown type, an unknown field
/// or a value of the wrong type is `MACP_STATUS_INVALID_ARGUMENT` naming it.
///
/// Output follows the size-query convention of `macp_envelope_encode`:
/// `*out_len` (required) receives the encoded size; with `buf` NULL and
/// `buf_len` 0 nothing else is written; otherwise the bytes are written to
/// `buf`, which must hold them. An empty object may encode to 0 bytes.
///
/// Ownership: borrows its arguments; on success `*out_len` holds the size and
/// `buf` (when not NULL) the bytes; on failure `buf` is untouched and
/// `*out_len` holds the size needed when the buffer was too small, else 0.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `buf` is NULL or `buf_len` writable
/// bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_payload_from_json(
    type_name: *const c_char,
    json: *const c_char,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_len, "out_len")?;
        *out_len = 0;
        let t = arg_nonempty(type_name, "type_name")?;
        let bytes = payload::encode_json(t, arg_str(json, "json")?)?;
        write_buf(&bytes, buf, buf_len, out_len)
    })
}

/// Decode `data_len` bytes of the protobuf message `type_name` to a JSON
/// object in `*out_json` (`.proto` field names, every field present, 64-bit
/// integers as numbers, `bytes` as base64), owned by the caller and freed
/// with `macp_string_free` (NULL on failure). Bytes that are not a valid
/// message of that type are `MACP_STATUS_INVALID_ARGUMENT`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `type_name` is NULL or NUL-terminated; `data` is NULL or `data_len`
/// readable bytes; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_payload_to_json(
    type_name: *const c_char,
    data: *const u8,
    data_len: usize,
    out_json: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_json, "out_json")?;
        *out_json = std::ptr::null_mut();
        let t = arg_nonempty(type_name, "type_name")?;
        let bytes = arg_bytes(data, data_len, "data")?;
        write_string(out_json, &payload::decode_json(t, bytes)?);
        Ok(())
    })
}

/// The payload type the schema defines for `message_type` in `mode`, as
/// the fully-qualified name `macp_payload_to_json` and
/// `macp_payload_from_json` take: `Commitment`, `Signal`, `Progress` and
/// `SessionStart` are `macp.v1.<message_type>Payload` in every mode; in a
/// mode `macp.mode.<name>.<v>` or `ext.<name>.<v>` any other message type
/// is `macp.modes.<name>.<v>.<message_type>Payload` (`Vote` in
/// `macp.mode.decision.v1` is `macp.modes.decision.v1.VotePayload`). A
/// message type the schema has no payload for in that mode is
/// `MACP_STATUS_INVALID_ARGUMENT`.
///
/// `*out_type` is owned by the caller and freed with `macp_string_free`
/// (NULL on failure).
///
/// Ownership: borrows its arguments; on success `*out_type` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_type` is NULL.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `out_type` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_payload_type(
    mode: *const c_char,
    message_type: *const c_char,
    out_type: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_type, "out_type")?;
        *out_type = std::ptr::null_mut();
        let m = arg_str(mode, "mode")?;
        let mt = arg_nonempty(message_type, "message_type")?;
        write_string(out_type, &payload::type_for(m, mt)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_are_inferred_per_mode() {
        let t = |m: &str, mt: &str| payload::type_for(m, mt).unwrap();
        assert_eq!(
            t("macp.mode.decision.v1", "Vote"),
            "macp.modes.decision.v1.VotePayload"
        );
        assert_eq!(
            t("macp.mode.quorum.v1", "Reject"),
            "macp.modes.quorum.v1.RejectPayload"
        );
        assert_eq!(
            t("macp.mode.proposal.v1", "Reject"),
            "macp.modes.proposal.v1.RejectPayload"
        );
        assert_eq!(
            t("ext.multi_round.v1", "Contribute"),
            "macp.modes.multi_round.v1.ContributePayload"
        );
        assert_eq!(
            t("macp.mode.task.v1", "Commitment"),
            "macp.v1.CommitmentPayload"
        );
        assert_eq!(t("", "Signal"), "macp.v1.SignalPayload");
        assert!(payload::type_for("macp.mode.decision.v1", "Dance").is_err());
        assert!(payload::type_for("other", "Vote").is_err());
        assert!(payload::type_for("ext.", "Vote").is_err());
        assert!(payload::type_for("macp.mode.decision.v1", "").is_err());
    }
}
