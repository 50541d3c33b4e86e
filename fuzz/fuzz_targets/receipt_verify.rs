//! Receipt documents and key sets through `macp_receipt_verify`. Input:
//! receipt JSON, NUL, a JWK or JWKS document (no NUL: no keys).
#![no_main]
use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::{call, cstring, split_nul};
use macp::ffi::*;
use macp::Status;

fuzz_target!(|data: &[u8]| {
    let (receipt, keys) = split_nul(data).unwrap_or((data, &[]));
    let receipt = cstring(receipt);
    let keys = cstring(keys);
    let key_ptrs = [keys.as_ptr()];
    let n = if keys.as_bytes().is_empty() { 0 } else { 1 };
    let mut out = std::ptr::null_mut();
    let st = call(|e| unsafe {
        macp_receipt_verify(receipt.as_ptr(), key_ptrs.as_ptr(), n, &mut out, e)
    });
    if st == Status::Ok {
        let v = unsafe { &*macp_receipt_verification_result(out) };
        assert!(v.attestations_len == 0 || !v.attestations.is_null());
        if v.integrity != macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_MATCH {
            assert_ne!(
                v.verdict,
                macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED
            );
        }
        macp_receipt_verification_free(out);
    } else {
        assert_eq!(st, Status::InvalidArgument);
        assert!(out.is_null());
    }
});
