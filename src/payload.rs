//! Payloads as JSON: encode a JSON object into the protobuf message named by
//! its fully-qualified type (`macp.v1.CommitmentPayload`,
//! `macp.modes.decision.v1.VotePayload`, ...) and decode the other way.
//!
//! The descriptors come from the pinned `macp-proto` schema, compiled into a
//! descriptor set at build time, so every type the official schema defines is
//! known and nothing is hand-written. The JSON form is protobuf's canonical
//! JSON mapping: field names as in the `.proto` file (or their lowerCamelCase
//! JSON names), 64-bit integers as numbers or strings, enums by name or
//! number. A `bytes` field takes base64 (the mapping's form), an array of
//! byte values (`[104, 105]`, `[]`), or a string that is not base64, taken as
//! its UTF-8 text; the MACP conformance transcripts use all three. Unknown
//! fields are refused, so a misspelt field fails loudly instead of being sent
//! as its default.

use std::sync::OnceLock;

use base64::Engine as _;
use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, Kind, MessageDescriptor, SerializeOptions,
};
use serde_json::Value;

use crate::error::{Error, Result};

static DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/macp_descriptors.bin"));

/// The descriptor pool of every message of the MACP schema.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTORS)
            .expect("the descriptor set built from macp-proto decodes")
    })
}

fn descriptor(type_name: &str) -> Result<prost_reflect::MessageDescriptor> {
    let name = type_name.strip_prefix('.').unwrap_or(type_name);
    if name.is_empty() {
        return Err(Error::invalid_argument("payload type name is empty"));
    }
    pool().get_message_by_name(name).ok_or_else(|| {
        Error::invalid_argument(format!(
            "unknown payload type '{type_name}' (expected a fully-qualified message name of the MACP schema, e.g. macp.v1.CommitmentPayload)"
        ))
    })
}

/// Whether `type_name` names a message of the MACP schema.
pub fn is_known_type(type_name: &str) -> bool {
    descriptor(type_name).is_ok()
}

/// The payload type of `message_type` in `mode`: the core types
/// (`Commitment`, `Signal`, `Progress`, `SessionStart`, whatever the mode)
/// and, for a mode `macp.mode.<name>.<v>` or `ext.<name>.<v>`, the
/// schema's `macp.modes.<name>.<v>.<message_type>Payload` when it exists.
pub fn type_for(mode: &str, message_type: &str) -> Result<String> {
    if matches!(
        message_type,
        "Commitment" | "Signal" | "Progress" | "SessionStart"
    ) {
        return Ok(format!("macp.v1.{message_type}Payload"));
    }
    let family = mode
        .strip_prefix("macp.mode.")
        .or_else(|| mode.strip_prefix("ext."));
    if let Some(family) = family.filter(|f| !f.is_empty()) {
        let candidate = format!("macp.modes.{family}.{message_type}Payload");
        if is_known_type(&candidate) {
            return Ok(candidate);
        }
    }
    Err(Error::invalid_argument(format!(
        "no payload type known for {message_type} in {mode}; name the type"
    )))
}

/// Encode the JSON object `json` as the protobuf message `type_name`.
pub fn encode_json(type_name: &str, json: &str) -> Result<Vec<u8>> {
    descriptor(type_name)?;
    let value: Value = serde_json::from_str(json).map_err(|e| {
        Error::invalid_argument(format!("payload is not valid JSON for {type_name}: {e}"))
    })?;
    encode_value(type_name, &value)
}

/// Encode a JSON value (already parsed) as the protobuf message `type_name`.
pub fn encode_value(type_name: &str, value: &Value) -> Result<Vec<u8>> {
    let desc = descriptor(type_name)?;
    let mut value = value.clone();
    normalize_bytes(&desc, &mut value)?;
    let msg = DynamicMessage::deserialize_with_options(desc, &value, &DeserializeOptions::new())
        .map_err(|e| {
            Error::invalid_argument(format!("payload is not a valid {type_name} in JSON: {e}"))
        })?;
    Ok(msg.encode_to_vec())
}

/// Rewrite the `bytes` fields of `value` (a JSON form of `desc`) into
/// base64, from a byte array or from text that is not base64 already.
fn normalize_bytes(desc: &MessageDescriptor, value: &mut Value) -> Result<()> {
    let Value::Object(obj) = value else {
        return Ok(());
    };
    for (key, v) in obj.iter_mut() {
        let Some(field) = desc
            .get_field_by_name(key)
            .or_else(|| desc.get_field_by_json_name(key))
        else {
            continue; // refused by the decoder, with its name
        };
        if field.is_map() {
            if let (Kind::Message(entry), Value::Object(m)) = (field.kind(), &mut *v) {
                let val = entry.map_entry_value_field();
                for item in m.values_mut() {
                    normalize_one(&val.kind(), key, item)?;
                }
            }
        } else if field.is_list() {
            if let Value::Array(items) = v {
                for item in items {
                    normalize_one(&field.kind(), key, item)?;
                }
            }
        } else {
            normalize_one(&field.kind(), key, v)?;
        }
    }
    Ok(())
}

fn normalize_one(kind: &Kind, key: &str, v: &mut Value) -> Result<()> {
    match kind {
        Kind::Bytes => bytes_to_base64(key, v),
        Kind::Message(m) => normalize_bytes(m, v),
        _ => Ok(()),
    }
}

fn bytes_to_base64(key: &str, v: &mut Value) -> Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    match v {
        Value::Array(items) => {
            let bytes = items
                .iter()
                .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "bytes field '{key}': an array must hold byte values 0 to 255"
                    ))
                })?;
            *v = Value::String(b64.encode(bytes));
        }
        Value::String(s) if !is_base64(s) => *v = Value::String(b64.encode(s.as_bytes())),
        _ => {}
    }
    Ok(())
}

/// Whether `s` is base64 as the protobuf JSON mapping accepts it (standard
/// or URL-safe alphabet, padded or not).
fn is_base64(s: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .any(|e| e.decode(s).is_ok())
}

/// Decode protobuf bytes of the message `type_name` to a JSON value, with the
/// `.proto` field names and every field present (defaults included).
pub fn decode_value(type_name: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    let desc = descriptor(type_name)?;
    let msg = DynamicMessage::decode(desc, bytes)
        .map_err(|e| Error::invalid_argument(format!("bytes are not a valid {type_name}: {e}")))?;
    to_value(&msg)
}

/// Decode protobuf bytes of the message `type_name` to JSON text.
pub fn decode_json(type_name: &str, bytes: &[u8]) -> Result<String> {
    Ok(decode_value(type_name, bytes)?.to_string())
}

/// A generated message of the schema, named `type_name`, as a JSON value
/// (see [`decode_value`]).
pub fn message_value<M: Message>(type_name: &str, msg: &M) -> Result<serde_json::Value> {
    decode_value(type_name, &msg.encode_to_vec())
}

fn to_value(msg: &DynamicMessage) -> Result<serde_json::Value> {
    let opts = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    msg.serialize_with_options(serde_json::value::Serializer, &opts)
        .map_err(|e| Error::invalid_argument(format!("cannot render the message as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use macp_pb::pb;

    #[test]
    fn commitment_round_trips_through_json() {
        let json = r#"{"commitment_id":"c1","action":"a","authority_scope":"s","reason":"r",
            "mode_version":"1.0.0","policy_version":"p","configuration_version":"cfg","outcome_positive":true}"#;
        let bytes = encode_json("macp.v1.CommitmentPayload", json).unwrap();
        let c = pb::CommitmentPayload::decode(bytes.as_slice()).unwrap();
        assert_eq!(c.commitment_id, "c1");
        assert!(c.outcome_positive);
        let back = decode_value("macp.v1.CommitmentPayload", &bytes).unwrap();
        assert_eq!(back["configuration_version"], "cfg");
        assert_eq!(back["outcome_positive"], true);
    }

    #[test]
    fn doubles_round_trip_exactly() {
        // Values a fast float parser reads one ulp off.
        for x in [
            -1.2052915816996385e-305,
            2.225_073_858_507_201e-308,
            0.1 + 0.2,
        ] {
            let t = "macp.modes.decision.v1.EvaluationPayload";
            let bytes = encode_value(t, &serde_json::json!({ "confidence": x })).unwrap();
            let json = decode_json(t, &bytes).unwrap();
            let again = encode_json(t, &json).unwrap();
            assert_eq!(again, bytes, "{x:e} through {json}");
        }
    }

    #[test]
    fn mode_payloads_are_known() {
        let bytes = encode_json(
            "macp.modes.decision.v1.VotePayload",
            r#"{"proposal_id":"p1","vote":"APPROVE","reason":"ok"}"#,
        )
        .unwrap();
        let v = macp_pb::decision_pb::VotePayload::decode(bytes.as_slice()).unwrap();
        assert_eq!((v.proposal_id.as_str(), v.vote.as_str()), ("p1", "APPROVE"));
    }

    #[test]
    fn bytes_take_base64_byte_arrays_or_text() {
        use macp_pb::handoff_pb::HandoffContextPayload;
        let ctx = |json: &str| {
            let b = encode_json("macp.modes.handoff.v1.HandoffContextPayload", json).unwrap();
            HandoffContextPayload::decode(b.as_slice()).unwrap().context
        };
        assert_eq!(ctx(r#"{"context":"aGk="}"#), b"hi");
        assert_eq!(ctx(r#"{"context":[104,105]}"#), b"hi");
        assert_eq!(ctx(r#"{"context":"late context"}"#), b"late context");
        assert_eq!(ctx(r#"{"context":[]}"#), b"");
    }

    #[test]
    fn bad_input_is_refused() {
        let unknown = encode_json("macp.v1.NoSuchPayload", "{}").unwrap_err();
        assert!(
            unknown.message.contains("unknown payload type"),
            "{unknown}"
        );
        let typo = encode_json("macp.v1.CommitmentPayload", r#"{"comitment_id":"x"}"#).unwrap_err();
        assert!(typo.message.contains("comitment_id"), "{typo}");
        assert!(encode_json("macp.v1.CommitmentPayload", "{").is_err());
        assert!(encode_json("macp.v1.CommitmentPayload", "{} x").is_err());
        let e = encode_json(
            "macp.modes.decision.v1.ProposalPayload",
            r#"{"supporting_data":[256]}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("supporting_data"), "{e}");
        assert!(encode_json("", "{}").is_err());
        assert!(decode_value("macp.v1.CommitmentPayload", &[0xff, 0xff]).is_err());
    }
}
