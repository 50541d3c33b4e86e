//! JSON to payload bytes and back, through `macp_payload_from_json` and
//! `macp_payload_to_json`. Input: a type name, NUL, JSON text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::{cstring, from_json, split_nul, to_json};

fuzz_target!(|data: &[u8]| {
    let Some((type_name, json)) = split_nul(data) else {
        return;
    };
    let (type_name, json) = (cstring(type_name), cstring(json));
    if let Ok(bytes) = from_json(&type_name, &json) {
        // What was encoded decodes, and its JSON encodes to the same bytes.
        let back = to_json(&type_name, &bytes).expect("encoded bytes decode");
        let again = from_json(&type_name, &cstring(back.as_bytes())).expect("decoded JSON encodes");
        assert_eq!(to_json(&type_name, &again).expect("decodes"), back);
    }
});
