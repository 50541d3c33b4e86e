//! Payloads given as JSON, raw envelopes, and the ambient messages (Signal,
//! Progress) from C.

use std::ffi::c_char;

use prost::Message;

use super::client::{client_of, macp_client};
use super::session::{fill_ack, macp_ack, macp_session, opt, session_of};
use super::strings::into_c_string;
use super::watch::macp_envelope;
use super::{arg_bytes, arg_nonempty, arg_opt_str, arg_out, arg_str, guard, macp_error, write_buf};
use crate::error::{Error, Status};
use crate::payload;
use crate::pb;
use crate::rt::block_on;

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
/// # Safety
/// `type_name` is NULL or NUL-terminated; `data` is NULL or `data_len`
/// readable bytes; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_payload_to_json(
    type_name: *const c_char,
    data: *const u8,
    data_len: usize,
    out_json: *mut *mut c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_json, "out_json")?;
        *out_json = std::ptr::null_mut();
        let t = arg_nonempty(type_name, "type_name")?;
        let bytes = arg_bytes(data, data_len, "data")?;
        *out_json = into_c_string(payload::decode_json(t, bytes)?);
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
/// # Safety
/// Strings are NULL or NUL-terminated; `out_type` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_payload_type(
    mode: *const c_char,
    message_type: *const c_char,
    out_type: *mut *mut c_char,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out_type, "out_type")?;
        *out_type = std::ptr::null_mut();
        let m = arg_str(mode, "mode")?;
        let mt = arg_nonempty(message_type, "message_type")?;
        *out_type = into_c_string(payload::type_for(m, mt)?);
        Ok(())
    })
}

/// Decode the payload of `envelope` (for example the one a watcher's
/// callback received) to JSON, as `macp_payload_to_json` does for the type
/// `macp_payload_type` names for its mode and message type. `*out_json` is
/// owned by the caller and freed with `macp_string_free` (NULL on
/// failure). A message type without a known payload type, or a payload
/// that does not decode as it, is `MACP_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `envelope` is NULL or points to a `macp_envelope` whose strings are
/// NULL or NUL-terminated and whose `payload` is NULL or `payload_len`
/// readable bytes; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_envelope_payload_json(
    envelope: *const macp_envelope,
    out_json: *mut *mut c_char,
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
        *out_json = into_c_string(payload::decode_json(&t, bytes)?);
        Ok(())
    })
}

/// Send a message whose payload is given as JSON: `payload_json` is encoded
/// as the protobuf message `payload_type` (see `macp_payload_from_json`),
/// or, with `payload_type` NULL, as the type the schema defines for
/// `message_type` in the session's mode (see `macp_payload_type`).
/// `message_id` and `ack` as in `macp_session_send`.
///
/// The payload is sent as given: nothing is filled in. A `Commitment` sent
/// this way carries only the fields in the JSON; `macp_session_commit`
/// fills in the session's mode, configuration and policy versions left empty.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_send_json(
    session: *const macp_session,
    message_type: *const c_char,
    payload_type: *const c_char,
    payload_json: *const c_char,
    message_id: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mt = arg_nonempty(message_type, "message_type")?;
        let pt = arg_opt_str(payload_type, "payload_type")?;
        let json = arg_str(payload_json, "payload_json")?;
        let id = arg_opt_str(message_id, "message_id")?.map(str::to_string);
        let s = session_of(session)?;
        let pt = match pt {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => payload::type_for(s.session.mode(), mt)?,
        };
        let bytes = payload::encode_json(&pt, json)?;
        let a = block_on(s.session.send_raw(mt, bytes, id))??;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Send an envelope exactly as encoded (`envelope`, `envelope_len` bytes of
/// a protobuf `Envelope`, e.g. from `macp_envelope_encode`): no field is
/// filled in or checked beyond a non-empty `message_type` and a valid
/// `message_id`, so any session, mode, version or timestamp can be sent,
/// including ones the runtime will refuse. Transient failures are retried
/// with the same `message_id`, as for every send. For tools, tests and
/// gateways; agents use the session functions.
///
/// # Safety
/// `envelope` is NULL or `envelope_len` readable bytes; `ack` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_send_envelope(
    client: *const macp_client,
    envelope: *const u8,
    envelope_len: usize,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let bytes = arg_bytes(envelope, envelope_len, "envelope")?;
        let env = pb::Envelope::decode(bytes).map_err(|e| {
            Error::invalid_argument(format!("envelope is not a protobuf Envelope: {e}"))
        })?;
        let c = client_of(client)?;
        let a = block_on(c.send(env))??;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Send an ambient `Signal` (no session; it never enters any session's
/// history; watchers of `macp_client_watch_signals` receive it):
/// `signal_type` (required), `data` (NULL with 0 for none), `confidence`
/// from 0.0 to 1.0, and an optional `correlation_session_id`.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `data` is NULL or `data_len`
/// readable bytes; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_send_signal(
    client: *const macp_client,
    signal_type: *const c_char,
    data: *const u8,
    data_len: usize,
    confidence: f64,
    correlation_session_id: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let st = arg_nonempty(signal_type, "signal_type")?;
        let d = arg_bytes(data, data_len, "data")?;
        let corr = opt(correlation_session_id, "correlation_session_id")?;
        let c = client_of(client)?;
        let a = block_on(c.send_signal(st, d, confidence, corr))??;
        fill_ack(ack, &a);
        Ok(())
    })
}

/// Report progress in the session (a `Progress` message; it changes no mode
/// state): `progress` out of `total` (0 when unknown; both finite and not
/// negative), an optional `progress_token` and `message`, and optionally the
/// id of the message the work answers (`target_message_id`).
///
/// # Safety
/// Strings are NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_progress(
    session: *const macp_session,
    progress_token: *const c_char,
    progress: f64,
    total: f64,
    message: *const c_char,
    target_message_id: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let token = opt(progress_token, "progress_token")?;
        let msg = opt(message, "message")?;
        let target = opt(target_message_id, "target_message_id")?;
        let s = session_of(session)?;
        let a = block_on(s.session.progress(token, progress, total, msg, target))??;
        fill_ack(ack, &a);
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
