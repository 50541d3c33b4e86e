//! `macp.mode.handoff.v1` (RFC-MACP-0010): HandoffOffer and HandoffContext by
//! the current owner, HandoffAccept or HandoffDecline by the offer's target,
//! then a Commitment by the initiator.
//!
//! A client never sends an implicit accept: `HandoffAccept.implicit = true`
//! is reserved for the accept the runtime itself records when an offer times
//! out (RFC-MACP-0010 §5.1), so [`Session::accept_handoff`] always sends
//! `implicit = false` and [`check_client_payload`] refuses an encoded one.

use macp_pb::handoff_pb;
use prost::Message;

use super::{required, HANDOFF};
use crate::client::Ack;
use crate::error::{Error, Result};
use crate::session::Session;

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

/// Handoff-mode messages on a [`Session`].
impl Session {
    /// Offer responsibility for `scope` to `target_participant` under a new
    /// `handoff_id` (both required). One offer may be outstanding at a time.
    pub async fn offer_handoff(
        &self,
        handoff_id: &str,
        target_participant: &str,
        scope: &str,
        reason: &str,
    ) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        required("target_participant", target_participant)?;
        let p = handoff_pb::HandoffOfferPayload {
            handoff_id: handoff_id.into(),
            target_participant: target_participant.into(),
            scope: scope.into(),
            reason: reason.into(),
        };
        self.send("HandoffOffer", &p).await
    }

    /// Attach context (`context` bytes of media type `content_type`) to an
    /// offer.
    pub async fn add_handoff_context(
        &self,
        handoff_id: &str,
        content_type: &str,
        context: &[u8],
    ) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        let p = handoff_pb::HandoffContextPayload {
            handoff_id: handoff_id.into(),
            content_type: content_type.into(),
            context: context.to_vec(),
        };
        self.send("HandoffContext", &p).await
    }

    /// Accept an offer. `accepted_by` names this participant, the offer's
    /// target (empty: the authenticated sender). Always an explicit accept
    /// (`implicit = false`).
    pub async fn accept_handoff(
        &self,
        handoff_id: &str,
        accepted_by: &str,
        reason: &str,
    ) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        let p = handoff_pb::HandoffAcceptPayload {
            handoff_id: handoff_id.into(),
            accepted_by: accepted_by.into(),
            reason: reason.into(),
            implicit: false,
        };
        self.send("HandoffAccept", &p).await
    }

    /// Decline an offer. `declined_by` names this participant, the offer's
    /// target (empty: the authenticated sender). The same target cannot be
    /// offered again in the session.
    pub async fn decline_handoff(
        &self,
        handoff_id: &str,
        declined_by: &str,
        reason: &str,
    ) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        let p = handoff_pb::HandoffDeclinePayload {
            handoff_id: handoff_id.into(),
            declined_by: declined_by.into(),
            reason: reason.into(),
        };
        self.send("HandoffDecline", &p).await
    }
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
