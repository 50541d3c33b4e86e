//! A delivered envelope's payload to JSON, through
//! `macp_envelope_payload_json`. Input: a protobuf `Envelope`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::{call, cstring, take_string};
use macp::ffi::*;
use macp::Status;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = macp_pb::pb::Envelope::decode(data) else {
        return;
    };
    let s = |v: &str| cstring(v.as_bytes());
    let (version, mode, message_type, message_id, session_id, sender) = (
        s(&env.macp_version),
        s(&env.mode),
        s(&env.message_type),
        s(&env.message_id),
        s(&env.session_id),
        s(&env.sender),
    );
    let c = macp_envelope {
        macp_version: version.as_ptr(),
        mode: mode.as_ptr(),
        message_type: message_type.as_ptr(),
        message_id: message_id.as_ptr(),
        session_id: session_id.as_ptr(),
        sender: sender.as_ptr(),
        timestamp_unix_ms: env.timestamp_unix_ms,
        payload: if env.payload.is_empty() {
            std::ptr::null()
        } else {
            env.payload.as_ptr()
        },
        payload_len: env.payload.len(),
    };
    let mut out: *mut macp_string = std::ptr::dangling_mut();
    let st = call(|e| unsafe { macp_envelope_payload_json(&c, &mut out, e) });
    if st == Status::Ok {
        let json = take_string(out);
        serde_json::from_str::<serde_json::Value>(&json).expect("the payload JSON is JSON");
    } else {
        assert!(out.is_null(), "the output is not NULL after a failure");
    }
});
