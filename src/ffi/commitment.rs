//! `macp_commitment`, the message that resolves a session, and commitment
//! hashes from C: compute, verify against wire bytes, and check the
//! `sha256:<64 lowercase hex>` format. Nothing here allocates: hashes and
//! reasons are written into caller memory.

use std::ffi::c_char;

use macp_pb::pb;

use super::args::{
    arg_bytes, arg_nonempty, arg_or_empty, arg_out, arg_str, clear_text, fill_fixed, write_text,
};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use crate::commitment::{self, CannotVerifyReason, HashVerification};
use crate::error::{Error, Result, Status};

/// Size of a buffer that holds a commitment hash (`"sha256:"`, 64 hex digits)
/// and its terminating NUL.
pub const MACP_COMMITMENT_HASH_BUFFER_LEN: usize = 72;

/// Size of `macp_commitment_verify_result.reason_message`; a longer reason is
/// cut at a UTF-8 character boundary.
pub const MACP_COMMITMENT_REASON_BUFFER_LEN: usize = 256;

/// Outcome of `macp_commitment_verify` (RFC-MACP-0013 §6). 0 is never
/// written, so zero-filled memory never reads as a match.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_commitment_verify_outcome {
    /// The hash label covers the payload and the claimed hash agrees.
    MACP_COMMITMENT_VERIFY_MATCH = 1,
    /// The label covers the payload but the claim differs from the computed
    /// hash, or the claim is not canonical (uppercase, bare hex, whitespace...).
    MACP_COMMITMENT_VERIFY_MISMATCH = 2,
    /// The payload is outside what the label covers (see the reason); nothing
    /// can be said about the claim.
    MACP_COMMITMENT_VERIFY_CANNOT_VERIFY = 3,
}

/// Why a payload cannot be verified.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_cannot_verify_reason {
    /// The outcome is not `MACP_COMMITMENT_VERIFY_CANNOT_VERIFY`.
    MACP_CANNOT_VERIFY_NONE = 0,
    /// A protobuf field outside the label's set (see `unknown_field_tag`).
    MACP_CANNOT_VERIFY_UNKNOWN_FIELD = 1,
    /// Not a decodable `CommitmentPayload` encoding.
    MACP_CANNOT_VERIFY_MALFORMED = 2,
    /// A reason this version of libmacp does not know by name.
    MACP_CANNOT_VERIFY_OTHER = 3,
}

/// The result of `macp_commitment_verify`, written by the library into
/// caller-owned memory (nothing to free).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_commitment_verify_result {
    pub outcome: macp_commitment_verify_outcome,
    /// `MACP_CANNOT_VERIFY_NONE` unless the outcome is cannot-verify.
    pub reason: macp_cannot_verify_reason,
    /// The offending field number, for `MACP_CANNOT_VERIFY_UNKNOWN_FIELD`; else 0.
    pub unknown_field_tag: u32,
    /// Whether that field sits inside `supersedes` rather than at the top level.
    pub unknown_field_in_supersedes: bool,
    /// The hash computed from the wire bytes (NUL-terminated) for a match or
    /// mismatch; `""` for cannot-verify.
    pub computed_hash: [c_char; MACP_COMMITMENT_HASH_BUFFER_LEN],
    /// A readable reason for cannot-verify (NUL-terminated, for people, not a
    /// stable format); `""` otherwise.
    pub reason_message: [c_char; MACP_COMMITMENT_REASON_BUFFER_LEN],
}

impl Default for macp_commitment_verify_result {
    fn default() -> Self {
        macp_commitment_verify_result {
            outcome: macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_CANNOT_VERIFY,
            reason: macp_cannot_verify_reason::MACP_CANNOT_VERIFY_NONE,
            unknown_field_tag: 0,
            unknown_field_in_supersedes: false,
            computed_hash: [0; MACP_COMMITMENT_HASH_BUFFER_LEN],
            reason_message: [0; MACP_COMMITMENT_REASON_BUFFER_LEN],
        }
    }
}

/// A Commitment, the message that resolves a session. String fields are
/// borrowed for the call; NULL means "not set".
#[repr(C)]
pub struct macp_commitment {
    /// Commitment id; NULL generates a UUID v4.
    pub commitment_id: *const c_char,
    /// The outcome, e.g. `"decision.selected"` (required).
    pub action: *const c_char,
    pub authority_scope: *const c_char,
    pub reason: *const c_char,
    /// Whether the outcome is positive (success) or a definitive negative one.
    pub outcome_positive: bool,
    /// Supersession: the session and `sha256:<hex>` commitment hash of an
    /// earlier commitment this one replaces. Both NULL for none.
    pub supersedes_session_id: *const c_char,
    pub supersedes_commitment_hash: *const c_char,
}

/// # Safety
/// `c` is NULL or points to a valid `macp_commitment`.
pub(crate) unsafe fn commitment_from_c(c: *const macp_commitment) -> Result<pb::CommitmentPayload> {
    let c = c
        .as_ref()
        .ok_or_else(|| Error::invalid_argument("commitment is NULL"))?;
    let opt = |p, n| arg_or_empty(p, n).map(str::to_string);
    let sup_session = opt(c.supersedes_session_id, "supersedes_session_id")?;
    let sup_hash = opt(c.supersedes_commitment_hash, "supersedes_commitment_hash")?;
    let supersedes = match (sup_session.is_empty(), sup_hash.is_empty()) {
        (true, true) => None,
        _ => Some(pb::CommitmentRef {
            session_id: sup_session,
            commitment_hash: sup_hash,
        }),
    };
    Ok(pb::CommitmentPayload {
        commitment_id: opt(c.commitment_id, "commitment_id")?,
        action: arg_nonempty(c.action, "action")?.to_string(),
        authority_scope: opt(c.authority_scope, "authority_scope")?,
        reason: opt(c.reason, "reason")?,
        outcome_positive: c.outcome_positive,
        supersedes,
        ..Default::default()
    })
}

/// The `CommitmentPayload` a `macp_commitment` and three versions stand for,
/// exactly as given: NULL is the empty string (even for `commitment_id` and
/// `action`), and `supersedes` is set when either of its fields is not NULL
/// (so `""`/`""` is a present, empty reference).
///
/// # Safety
/// `c` is NULL or valid; the strings are NULL or NUL-terminated.
unsafe fn payload_from_c(
    c: *const macp_commitment,
    mode_version: *const c_char,
    policy_version: *const c_char,
    configuration_version: *const c_char,
) -> Result<pb::CommitmentPayload> {
    let c = c
        .as_ref()
        .ok_or_else(|| Error::invalid_argument("commitment is NULL"))?;
    let s = |p, n| arg_or_empty(p, n).map(str::to_string);
    let supersedes = if c.supersedes_session_id.is_null() && c.supersedes_commitment_hash.is_null()
    {
        None
    } else {
        Some(pb::CommitmentRef {
            session_id: s(c.supersedes_session_id, "supersedes_session_id")?,
            commitment_hash: s(c.supersedes_commitment_hash, "supersedes_commitment_hash")?,
        })
    };
    Ok(pb::CommitmentPayload {
        commitment_id: s(c.commitment_id, "commitment_id")?,
        action: s(c.action, "action")?,
        authority_scope: s(c.authority_scope, "authority_scope")?,
        reason: s(c.reason, "reason")?,
        mode_version: s(mode_version, "mode_version")?,
        policy_version: s(policy_version, "policy_version")?,
        configuration_version: s(configuration_version, "configuration_version")?,
        outcome_positive: c.outcome_positive,
        supersedes,
    })
}

/// Compute the commitment hash (RFC-MACP-0013) of `c` with the three version
/// fields, into `out` as a NUL-terminated `"sha256:<64 lowercase hex>"`.
/// `out_len` must be at least `MACP_COMMITMENT_HASH_BUFFER_LEN`.
///
/// The payload is hashed exactly as given, never validated or filled in: a
/// NULL string is `""` (a NULL `commitment_id` is not replaced by a new id as
/// `macp_session_commit` does), and `supersedes` is present when either of its
/// fields is not NULL. To name a commitment a session sent, pass its
/// `commitment_id` and the session's bound versions (`macp_session_info`).
///
/// Ownership: borrows its arguments; on success `out` holds the hash; on
/// failure it holds `""` when `out_len` is not 0.
///
/// # Safety
/// `c` is NULL or valid; strings are NULL or NUL-terminated; `out` is NULL or
/// points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_commitment_hash(
    c: *const macp_commitment,
    mode_version: *const c_char,
    policy_version: *const c_char,
    configuration_version: *const c_char,
    out: *mut c_char,
    out_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        clear_text(out, out_len, "out")?;
        let p = payload_from_c(c, mode_version, policy_version, configuration_version)?;
        write_text(out, out_len, &commitment::hash(&p), "out")
    })
}

/// Compute the commitment hash of a `CommitmentPayload`'s protobuf wire
/// encoding (`wire`, `wire_len` bytes, borrowed; NULL with 0 is the empty
/// encoding) into `out` as a NUL-terminated string. `out_len` must be at least
/// `MACP_COMMITMENT_HASH_BUFFER_LEN`. Bytes the hash label does not cover (an
/// unknown field, a malformed encoding) give `MACP_STATUS_INVALID_ARGUMENT`
/// with the reason in the error message.
///
/// Ownership: borrows its arguments; on success `out` holds the hash; on
/// failure it holds `""` when `out_len` is not 0.
///
/// # Safety
/// `wire` is NULL or points to `wire_len` readable bytes; `out` is NULL or
/// points to `out_len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_commitment_hash_of_wire(
    wire: *const u8,
    wire_len: usize,
    out: *mut c_char,
    out_len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        clear_text(out, out_len, "out")?;
        let bytes = arg_bytes(wire, wire_len, "wire")?;
        write_text(out, out_len, &commitment::hash_of_wire(bytes)?, "out")
    })
}

/// Verify the hash `claimed` (borrowed) against the `CommitmentPayload`
/// encoded in `wire` (`wire_len` bytes, borrowed). The outcome, computed hash
/// and reason are written to `*out` (caller-owned). Match, mismatch and
/// cannot-verify are all `MACP_STATUS_OK`; a status other than OK means the
/// arguments were bad and `*out` is untouched.
///
/// The claim is compared as given, `sha256:` prefix included; any other
/// spelling is a mismatch.
///
/// Ownership: borrows its arguments; on success `*out` (caller memory) holds
/// the result; on failure `*out` is untouched.
///
/// # Safety
/// `wire` is NULL or points to `wire_len` readable bytes; `claimed` is NULL or
/// NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_commitment_verify(
    wire: *const u8,
    wire_len: usize,
    claimed: *const c_char,
    out: *mut macp_commitment_verify_result,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        let bytes = arg_bytes(wire, wire_len, "wire")?;
        let claimed = arg_str(claimed, "claimed")?;
        let mut r = macp_commitment_verify_result::default();
        use macp_cannot_verify_reason::*;
        use macp_commitment_verify_outcome::*;
        match commitment::verify(bytes, claimed) {
            HashVerification::Match => {
                r.outcome = MACP_COMMITMENT_VERIFY_MATCH;
                fill_fixed(&mut r.computed_hash, claimed);
            }
            HashVerification::Mismatch { computed } => {
                r.outcome = MACP_COMMITMENT_VERIFY_MISMATCH;
                fill_fixed(&mut r.computed_hash, &computed);
            }
            HashVerification::CannotVerify(why) => {
                r.outcome = MACP_COMMITMENT_VERIFY_CANNOT_VERIFY;
                r.reason = match why {
                    CannotVerifyReason::UnknownField { tag, in_supersedes } => {
                        r.unknown_field_tag = tag;
                        r.unknown_field_in_supersedes = in_supersedes;
                        MACP_CANNOT_VERIFY_UNKNOWN_FIELD
                    }
                    CannotVerifyReason::Malformed { .. } => MACP_CANNOT_VERIFY_MALFORMED,
                    CannotVerifyReason::Other { .. } => MACP_CANNOT_VERIFY_OTHER,
                };
                fill_fixed(&mut r.reason_message, &why.to_string());
            }
        }
        out.write(r);
        Ok(())
    })
}

/// Whether `hash` (borrowed) is a canonical commitment hash: `sha256:` and
/// exactly 64 lowercase hex digits, nothing trimmed. False for NULL or a
/// string that is not UTF-8.
///
/// Ownership: borrows `hash`.
///
/// # Safety
/// `hash` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_commitment_hash_is_canonical(hash: *const c_char) -> bool {
    guard_value(false, || {
        arg_str(hash, "hash").is_ok_and(commitment::is_canonical_hash)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn hash_writes_into_the_buffer_or_refuses_a_short_one() {
        let c = macp_commitment {
            commitment_id: c"c1".as_ptr(),
            action: c"decision.approved".as_ptr(),
            authority_scope: c"seam".as_ptr(),
            reason: c"sealed by seam".as_ptr(),
            outcome_positive: true,
            supersedes_session_id: std::ptr::null(),
            supersedes_commitment_hash: std::ptr::null(),
        };
        let mut out = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
        let st = unsafe {
            macp_commitment_hash(
                &c,
                c"macp.mode.decision.v1".as_ptr(),
                c"1.0.0".as_ptr(),
                c"1.0.0".as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, Status::Ok);
        let h = unsafe { CStr::from_ptr(out.as_ptr()) };
        assert_eq!(
            h.to_str().unwrap(),
            "sha256:9f58e9d114d11860d48aa2bcb8cda458b9618b1cc8560595a802b68c4af85d41"
        );
        let mut short = [7 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN - 1];
        let st = unsafe {
            macp_commitment_hash(
                &c,
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                short.as_mut_ptr(),
                short.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, Status::InvalidArgument);
        assert_eq!(short[0], 0, "a refused buffer is left an empty string");
    }
}
