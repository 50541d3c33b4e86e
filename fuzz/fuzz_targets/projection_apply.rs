//! Envelope sequences through `macp_projection_apply` and the snapshot.
//! Input: a mode, NUL, then envelopes, each a 2-byte little-endian length
//! and that many bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::{call, cstring, split_nul, take_string};
use macp::ffi::*;
use macp::Status;

fuzz_target!(|data: &[u8]| {
    let Some((mode, mut rest)) = split_nul(data) else {
        return;
    };
    let mode = cstring(mode);
    let mut p = std::ptr::null_mut();
    if call(|e| unsafe { macp_projection_new(mode.as_ptr(), &mut p, e) }) != Status::Ok {
        return;
    }
    while rest.len() >= 2 {
        let n = (u16::from_le_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        let env = &rest[2..2 + n];
        rest = &rest[2 + n..];
        let st = call(|e| unsafe { macp_projection_apply(p, env.as_ptr(), env.len(), e) });
        assert!(st == Status::Ok || st == Status::InvalidArgument, "{st:?}");
    }
    let mut json: *mut macp_string = std::ptr::null_mut();
    let st = call(|e| unsafe { macp_projection_state_json(p, &mut json, e) });
    assert_eq!(st, Status::Ok);
    serde_json::from_str::<serde_json::Value>(&take_string(json)).expect("the snapshot is JSON");
    macp_projection_free(p);
});
