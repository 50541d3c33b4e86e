//! Payload bytes to JSON and back, through `macp_payload_to_json` and
//! `macp_payload_from_json`. Input: a type name, NUL, protobuf bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libmacp_fuzz::{cstring, from_json, split_nul, to_json};

fuzz_target!(|data: &[u8]| {
    let Some((type_name, bytes)) = split_nul(data) else {
        return;
    };
    let type_name = cstring(type_name);
    if let Ok(json) = to_json(&type_name, bytes) {
        // The JSON of any decodable message encodes again, to a message
        // with the same JSON.
        let again = from_json(&type_name, &cstring(json.as_bytes())).expect("decoded JSON encodes");
        assert_eq!(
            to_json(&type_name, &again).expect("re-encoded bytes decode"),
            json
        );
    }
});
