//! Commitment wire bytes through `macp_commitment_hash_of_wire` and
//! `macp_commitment_verify`, which must agree. Input: wire bytes.
#![no_main]
use std::ffi::{c_char, CStr};

use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::call;
use macp::ffi::*;
use macp::Status;

fn verify(wire: &[u8], claim: &CStr) -> macp_commitment_verify_result {
    let mut v = macp_commitment_verify_result::default();
    let st = call(|e| unsafe {
        macp_commitment_verify(wire.as_ptr(), wire.len(), claim.as_ptr(), &mut v, e)
    });
    assert_eq!(st, Status::Ok, "verification refused its arguments");
    v
}

fuzz_target!(|wire: &[u8]| {
    let mut buf = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
    let st = call(|e| unsafe {
        macp_commitment_hash_of_wire(wire.as_ptr(), wire.len(), buf.as_mut_ptr(), buf.len(), e)
    });
    let wrong = c"sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let v = verify(wire, wrong);
    if st == Status::Ok {
        let hash = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert!(unsafe { macp_commitment_hash_is_canonical(hash.as_ptr()) });
        let m = verify(wire, hash);
        assert_eq!(
            m.outcome,
            macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_MATCH
        );
        if hash != wrong {
            assert_eq!(
                v.outcome,
                macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_MISMATCH
            );
        }
    } else {
        assert_eq!(st, Status::InvalidArgument);
        assert_eq!(
            v.outcome,
            macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_CANNOT_VERIFY
        );
    }
});
