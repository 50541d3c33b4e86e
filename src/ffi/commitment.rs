//! Commitment hashes from C: compute, verify against wire bytes, and check the
//! `sha256:<64 lowercase hex>` format. Nothing here allocates: hashes and
//! reasons are written into caller-owned buffers.

use std::ffi::c_char;

use macp_pb::pb;

use super::session::{macp_commitment, opt};
use super::{arg_bytes, arg_out, arg_str, guard, guard_value, macp_error};
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

/// Copy `s` and a NUL into a fixed array, cut at a character boundary.
fn fill<const N: usize>(dst: &mut [c_char; N], s: &str) {
    let mut n = s.len().min(N - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = *b as c_char;
    }
    dst[n] = 0;
}

/// Write `s` and a NUL to the caller's `out` buffer of `out_len` bytes.
///
/// # Safety
/// `out` is NULL or points to `out_len` writable bytes.
unsafe fn write_out(out: *mut c_char, out_len: usize, s: &str) -> Result<()> {
    if out_len < s.len() + 1 {
        return Err(Error::invalid_argument(format!(
            "out_len is {out_len}; the result needs {} bytes (MACP_COMMITMENT_HASH_BUFFER_LEN)",
            s.len() + 1
        )));
    }
    std::ptr::copy_nonoverlapping(s.as_ptr(), out as *mut u8, s.len());
    *out.add(s.len()) = 0;
    Ok(())
}

/// Check the output buffer and make it an empty string until there is a result.
///
/// # Safety
/// As [`write_out`].
unsafe fn clear_out(out: *mut c_char, out_len: usize) -> Result<()> {
    arg_out(out, "out")?;
    if out_len > 0 {
        *out = 0;
    }
    Ok(())
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
    let s = |p, n| opt(p, n).map(str::to_string);
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
        clear_out(out, out_len)?;
        let p = payload_from_c(c, mode_version, policy_version, configuration_version)?;
        write_out(out, out_len, &commitment::hash(&p))
    })
}

/// Compute the commitment hash of a `CommitmentPayload`'s protobuf wire
/// encoding (`wire`, `wire_len` bytes, borrowed; NULL with 0 is the empty
/// encoding) into `out` as a NUL-terminated string. `out_len` must be at least
/// `MACP_COMMITMENT_HASH_BUFFER_LEN`. Bytes the hash label does not cover (an
/// unknown field, a malformed encoding) give `MACP_STATUS_INVALID_ARGUMENT`
/// with the reason in the error message.
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
        clear_out(out, out_len)?;
        let bytes = arg_bytes(wire, wire_len, "wire")?;
        write_out(out, out_len, &commitment::hash_of_wire(bytes)?)
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
                fill(&mut r.computed_hash, claimed);
            }
            HashVerification::Mismatch { computed } => {
                r.outcome = MACP_COMMITMENT_VERIFY_MISMATCH;
                fill(&mut r.computed_hash, &computed);
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
                fill(&mut r.reason_message, &why.to_string());
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
    fn fill_cuts_at_a_character_boundary() {
        let mut buf = [1 as c_char; 4];
        fill(&mut buf, "aé€");
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(s.to_str().unwrap(), "aé");
    }

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
