//! Decision receipts from C: fetch a receipt and the runtime's public keys
//! (strings freed with `macp_string_free`), and verify a receipt offline into
//! a `macp_receipt_verification` (freed with `macp_receipt_verification_free`).

use std::ffi::{c_char, CString};

use super::args::{arg_nonempty, arg_out, arg_str, arg_str_array, c_string};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::strings::{macp_string, write_string};
use crate::error::Status;
use crate::receipts::{self, AttestationOutcome, Integrity, ReceiptVerification, Verdict};

/// Integrity of a receipt (RFC-MACP-0013 Appendix A.4 step 2): does its
/// Commitment have the recorded commitment hash?
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_receipt_integrity {
    /// Not checked: the receipt was refused (`MACP_RECEIPT_VERDICT_REFUSED`).
    MACP_RECEIPT_INTEGRITY_NOT_CHECKED = 0,
    MACP_RECEIPT_INTEGRITY_MATCH = 1,
    MACP_RECEIPT_INTEGRITY_MISMATCH = 2,
    /// The Commitment (or its wire bytes) is outside what the hash covers.
    MACP_RECEIPT_INTEGRITY_CANNOT_VERIFY = 3,
}

/// Outcome of one attestation (Appendix A.4 step 3). 0 is never written.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_attestation_outcome {
    /// A trusted key's signature over the receipt checks out.
    MACP_ATTESTATION_VALID = 1,
    /// Malformed, or the signature does not match the receipt.
    MACP_ATTESTATION_INVALID = 2,
    /// Understood, but signed by no key the verifier was given.
    MACP_ATTESTATION_UNKNOWN_KEY = 3,
    /// A format or algorithm this verifier does not implement (or a vendor
    /// attestation, which never establishes authenticity).
    MACP_ATTESTATION_UNSUPPORTED = 4,
}

/// Overall verdict (Appendix A.4 step 4). 0 is never written, so zero-filled
/// memory never reads as attested.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum macp_receipt_verdict {
    /// Integrity holds and at least one attestation is valid.
    MACP_RECEIPT_VERDICT_ATTESTED = 1,
    /// Integrity holds, but no trusted key vouched for the receipt.
    MACP_RECEIPT_VERDICT_INTEGRITY_ONLY = 2,
    /// Integrity is mismatch or cannot-verify; attestations were not evaluated.
    MACP_RECEIPT_VERDICT_UNVERIFIED = 3,
    /// The receipt's `receipt_format` is not `macp-receipt/1`.
    MACP_RECEIPT_VERDICT_REFUSED = 4,
}

/// One attestation of a verified receipt. Borrowed from the
/// `macp_receipt_verification` it was read from, valid until that is freed.
#[repr(C)]
pub struct macp_receipt_attestation {
    /// The attestation's `type` (`"jws"`, `"vendor"`, ...); `""` when absent.
    pub kind: *const c_char,
    /// The key id a `jws` attestation names; `""` when none.
    pub kid: *const c_char,
    pub outcome: macp_attestation_outcome,
}

/// What `macp_receipt_verify` found, read from a `macp_receipt_verification`
/// with `macp_receipt_verification_result`. Borrowed: every pointer in it is
/// valid until that verification is freed.
#[repr(C)]
pub struct macp_receipt_verify_result {
    pub integrity: macp_receipt_integrity,
    pub verdict: macp_receipt_verdict,
    /// One per entry of the receipt's `attestations`, in order; none unless
    /// integrity is `MACP_RECEIPT_INTEGRITY_MATCH`.
    pub attestations: *const macp_receipt_attestation,
    pub attestations_len: usize,
}

/// The outcome of `macp_receipt_verify`, owned by the caller: read it with
/// `macp_receipt_verification_result`, free it with
/// `macp_receipt_verification_free`.
pub struct macp_receipt_verification {
    _private: [u8; 0],
}

/// A `macp_receipt_verify_result` and the heap storage its pointers borrow
/// from (which does not move when the struct does).
pub(crate) struct Verification {
    view: macp_receipt_verify_result,
    _attestations: Vec<macp_receipt_attestation>,
    _strings: Vec<CString>,
}

// SAFETY: the raw pointers point into the struct's own immutable heap
// storage; nothing mutates it after construction.
unsafe impl Send for Verification {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Verification {}

handle_type!(macp_receipt_verification => Verification);

fn integrity(i: Option<Integrity>) -> macp_receipt_integrity {
    use macp_receipt_integrity::*;
    match i {
        None => MACP_RECEIPT_INTEGRITY_NOT_CHECKED,
        Some(Integrity::Match) => MACP_RECEIPT_INTEGRITY_MATCH,
        Some(Integrity::Mismatch) => MACP_RECEIPT_INTEGRITY_MISMATCH,
        // CannotVerify, or an outcome newer than this library: not a match.
        Some(_) => MACP_RECEIPT_INTEGRITY_CANNOT_VERIFY,
    }
}

fn outcome(o: AttestationOutcome) -> macp_attestation_outcome {
    use macp_attestation_outcome::*;
    match o {
        AttestationOutcome::Valid => MACP_ATTESTATION_VALID,
        AttestationOutcome::Invalid => MACP_ATTESTATION_INVALID,
        AttestationOutcome::UnknownKey => MACP_ATTESTATION_UNKNOWN_KEY,
        _ => MACP_ATTESTATION_UNSUPPORTED,
    }
}

fn verdict(v: Verdict) -> macp_receipt_verdict {
    use macp_receipt_verdict::*;
    match v {
        Verdict::Attested => MACP_RECEIPT_VERDICT_ATTESTED,
        Verdict::IntegrityOnly => MACP_RECEIPT_VERDICT_INTEGRITY_ONLY,
        Verdict::Refused => MACP_RECEIPT_VERDICT_REFUSED,
        _ => MACP_RECEIPT_VERDICT_UNVERIFIED,
    }
}

impl Verification {
    fn new(r: &ReceiptVerification) -> Verification {
        // CStrings own heap buffers, so their pointers survive moving the Vec.
        let mut strings = Vec::new();
        let mut s = |v: &str| {
            let c = c_string(v);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let attestations: Vec<_> = r
            .attestations
            .iter()
            .map(|a| macp_receipt_attestation {
                kind: s(&a.kind),
                kid: s(&a.kid),
                outcome: outcome(a.outcome),
            })
            .collect();
        let view = macp_receipt_verify_result {
            integrity: integrity(r.integrity),
            verdict: verdict(r.verdict),
            attestations: attestations.as_ptr(),
            attestations_len: attestations.len(),
        };
        Verification {
            view,
            _attestations: attestations,
            _strings: strings,
        }
    }
}

/// Fetch the decision receipt of a resolved session (`GetDecisionReceipt`):
/// `*receipt_json` receives the receipt's JSON text, owned by the caller and
/// freed with `macp_string_free` (NULL on failure). A session that is not
/// resolved, or of an extension mode, gives `MACP_STATUS_RECEIPT_UNAVAILABLE`;
/// a runtime that does not advertise receipts, `MACP_STATUS_UNSUPPORTED`.
///
/// Ownership: borrows its arguments; on success `*receipt_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*receipt_json` is NULL.
///
/// # Safety
/// `session_id` is NULL or NUL-terminated; `receipt_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_decision_receipt(
    client: *const macp_client,
    session_id: *const c_char,
    receipt_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(receipt_json, "receipt_json")?;
        *receipt_json = std::ptr::null_mut();
        let id = arg_nonempty(session_id, "session_id")?;
        let c = &handle::get(client)?.client;
        let json = block(call, Kind::Other, c.get_decision_receipt(id))?;
        write_string(receipt_json, &json);
        Ok(())
    })
}

/// Fetch the runtime's receipt verification keys (`GetReceiptKeys`): a JWKS
/// JSON text in `*jwks_json`, owned by the caller and freed with
/// `macp_string_free` (NULL on failure). Pass it to `macp_receipt_verify` to
/// trust these keys.
///
/// Ownership: borrows its arguments; on success `*jwks_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*jwks_json` is NULL.
///
/// # Safety
/// `jwks_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_receipt_keys(
    client: *const macp_client,
    jwks_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(jwks_json, "jwks_json")?;
        *jwks_json = std::ptr::null_mut();
        let c = &handle::get(client)?.client;
        let json = block(call, Kind::Other, c.get_receipt_keys())?;
        write_string(jwks_json, &json);
        Ok(())
    })
}

/// Verify a decision receipt offline (RFC-MACP-0013 Appendix A.4), trusting
/// exactly the Ed25519 keys in the `jwks_len` documents of `jwks_json` (each
/// a JWKS such as `macp_client_get_receipt_keys` returns, or a single JWK; NULL
/// with 0 trusts none, and then the best verdict is integrity-only). All
/// inputs are borrowed for the call.
///
/// `*out` receives a new result, freed with `macp_receipt_verification_free`
/// (NULL on failure). A tampered, unsigned or unknown receipt is a verdict,
/// with `MACP_STATUS_OK`; `MACP_STATUS_INVALID_ARGUMENT` means the receipt or
/// a key document is not JSON, or a key document is not a JWK or JWKS.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_receipt_verification_free`); on failure `*out` is NULL.
///
/// # Safety
/// `receipt_json` is NULL or NUL-terminated; `jwks_json` is NULL or points to
/// `jwks_len` pointers, each NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_receipt_verify(
    receipt_json: *const c_char,
    jwks_json: *const *const c_char,
    jwks_len: usize,
    out: *mut *mut macp_receipt_verification,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let receipt = arg_str(receipt_json, "receipt_json")?;
        let keys = arg_str_array(jwks_json, jwks_len, "jwks_json")?;
        let found = receipts::verify_receipt(receipt, &keys)?;
        handle::write_new(out, Verification::new(&found));
        Ok(())
    })
}

/// What a receipt verification found.
///
/// Ownership: returns a view borrowed from `v`, valid until
/// `macp_receipt_verification_free(v)`; NULL when `v` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_receipt_verification_result(
    v: *const macp_receipt_verification,
) -> *const macp_receipt_verify_result {
    guard_value(std::ptr::null(), || {
        handle::get(v).map_or(std::ptr::null(), |r| &r.view as *const _)
    })
}

/// Free a receipt verification.
///
/// Ownership: takes `v` and frees it, with every view borrowed from it.
/// NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_receipt_verification_free(v: *mut macp_receipt_verification) {
    guard_value((), || drop(handle::free(v)))
}
