//! Rules on what a client may send, checked before anything goes out. No
//! mode's helpers are needed to apply them, so the session layer calls them
//! without depending on any mode.

use macp_pb::handoff_pb;
use prost::Message;

use super::HANDOFF;
use crate::error::{Error, Result};

/// Refuse, before sending, a client message the protocol reserves for the
/// runtime: a Handoff-mode `HandoffAccept` whose payload has `implicit` set.
/// Other messages pass unchecked (the runtime judges them).
pub fn check_client_payload(mode: &str, message_type: &str, payload: &[u8]) -> Result<()> {
    if mode != HANDOFF || message_type != "HandoffAccept" {
        return Ok(());
    }
    let p = handoff_pb::HandoffAcceptPayload::decode(payload)
        .map_err(|e| Error::invalid_argument(format!("HandoffAccept payload: {e}")))?;
    if p.implicit {
        return Err(Error::invalid_argument(
            "a client must not send HandoffAccept with implicit = true (reserved for the runtime's timeout accept)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn implicit_accept_is_refused_locally() {
        let implicit = handoff_pb::HandoffAcceptPayload {
            handoff_id: "h1".into(),
            accepted_by: "bob".into(),
            implicit: true,
            ..Default::default()
        }
        .encode_to_vec();
        let e = check_client_payload(HANDOFF, "HandoffAccept", &implicit).unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        let explicit = handoff_pb::HandoffAcceptPayload {
            handoff_id: "h1".into(),
            ..Default::default()
        }
        .encode_to_vec();
        check_client_payload(HANDOFF, "HandoffAccept", &explicit).unwrap();
        // Same bytes in another mode or message type are not this rule's.
        check_client_payload(super::super::DECISION, "HandoffAccept", &implicit).unwrap();
        check_client_payload(HANDOFF, "HandoffDecline", &implicit).unwrap();
        assert!(check_client_payload(HANDOFF, "HandoffAccept", &[0xff]).is_err());
    }
}
