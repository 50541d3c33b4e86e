//! `ext.multi_round.v1`, the runtime's built-in iterative-convergence
//! extension: participants `Contribute` values (the latest per participant
//! counts) until all agree, then the initiator commits.
//!
//! A contribution is sent in its canonical protobuf encoding
//! (`ContributePayload`, field 1 `value`). When reading history, the legacy
//! JSON form `{"value": "..."}` is also understood, with the decode order the
//! mode's schema makes normative: JSON first, trusted only when the same bytes
//! are not also a byte-identical canonical protobuf encoding; protobuf
//! otherwise.

use macp_pb::multi_round_pb;
use prost::Message;

use crate::client::Ack;
use crate::error::{Error, Result};
use crate::session::Session;

/// The canonical (protobuf) encoding of a contribution of `value`.
pub fn encode_contribute(value: &str) -> Vec<u8> {
    multi_round_pb::ContributePayload {
        value: value.into(),
    }
    .encode_to_vec()
}

/// The value of a `Contribute` payload in either encoding; `None` when the
/// bytes are empty or decode as neither.
pub fn decode_contribute(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let proto = multi_round_pb::ContributePayload::decode(bytes).ok();
    let canonical_proto = proto
        .as_ref()
        .is_some_and(|p| p.encode_to_vec().as_slice() == bytes);
    if !canonical_proto {
        let json = serde_json::from_slice::<serde_json::Value>(bytes).ok();
        if let Some(serde_json::Value::String(v)) = json.as_ref().and_then(|j| j.get("value")) {
            return Some(v.clone());
        }
    }
    proto.map(|p| p.value)
}

/// The multi-round-mode messages of a session: `session.multi_round()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct MultiRound<'a>(&'a Session);

impl Session {
    /// The multi-round-mode helpers of this session.
    pub fn multi_round(&self) -> MultiRound<'_> {
        MultiRound(self)
    }
}

impl MultiRound<'_> {
    /// Contribute `value` (non-empty; compared for equality only). A
    /// participant may contribute again; its latest value counts.
    pub async fn contribute(&self, value: &str) -> Result<Ack> {
        if value.is_empty() {
            return Err(Error::invalid_argument(
                "value is empty (an empty contribution encodes to zero bytes, which the runtime refuses)",
            ));
        }
        self.0
            .send_raw("Contribute", encode_contribute(value), None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_json_is_read_and_proto_wins_ties() {
        assert_eq!(
            decode_contribute(br#"{"value":"deploy"}"#).as_deref(),
            Some("deploy")
        );
        assert_eq!(
            decode_contribute(&encode_contribute("deploy")).as_deref(),
            Some("deploy")
        );
        // 13 bytes: tag 0x0a, length 0x0d (JSON whitespace), then a JSON
        // object with a value key: the canonical proto reading wins.
        let v = r#"{"value":"x"}"#;
        assert_eq!(decode_contribute(&encode_contribute(v)).as_deref(), Some(v));
        assert_eq!(decode_contribute(b""), None);
        assert_eq!(decode_contribute(&[0xff, 0xff]), None);
    }
}
