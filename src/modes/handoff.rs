//! `macp.mode.handoff.v1` (RFC-MACP-0010): HandoffOffer and HandoffContext by
//! the current owner, HandoffAccept or HandoffDecline by the offer's target,
//! then a Commitment by the initiator.
//!
//! A client never sends an implicit accept: `HandoffAccept.implicit = true`
//! is reserved for the accept the runtime itself records when an offer times
//! out (RFC-MACP-0010 §5.1), so [`Handoff::accept`] always sends
//! `implicit = false` and [`super::rules::check_client_payload`] refuses an
//! encoded one.

use macp_pb::handoff_pb;

use super::required;
use crate::client::Ack;
use crate::error::Result;
use crate::session::Session;

/// The handoff-mode messages of a session: `session.handoff()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct Handoff<'a>(&'a Session);

impl Session {
    /// The handoff-mode helpers of this session.
    pub fn handoff(&self) -> Handoff<'_> {
        Handoff(self)
    }
}

impl Handoff<'_> {
    /// Offer responsibility for `scope` to `target_participant` under a new
    /// `handoff_id` (both required). One offer may be outstanding at a time.
    pub async fn offer(
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
        self.0.send("HandoffOffer", &p).await
    }

    /// Attach context (`context` bytes of media type `content_type`) to an
    /// offer.
    pub async fn context(
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
        self.0.send("HandoffContext", &p).await
    }

    /// Accept an offer. `accepted_by` names this participant, the offer's
    /// target (empty: the authenticated sender). Always an explicit accept
    /// (`implicit = false`).
    pub async fn accept(&self, handoff_id: &str, accepted_by: &str, reason: &str) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        let p = handoff_pb::HandoffAcceptPayload {
            handoff_id: handoff_id.into(),
            accepted_by: accepted_by.into(),
            reason: reason.into(),
            implicit: false,
        };
        self.0.send("HandoffAccept", &p).await
    }

    /// Decline an offer. `declined_by` names this participant, the offer's
    /// target (empty: the authenticated sender). The same target cannot be
    /// offered again in the session.
    pub async fn decline(&self, handoff_id: &str, declined_by: &str, reason: &str) -> Result<Ack> {
        required("handoff_id", handoff_id)?;
        let p = handoff_pb::HandoffDeclinePayload {
            handoff_id: handoff_id.into(),
            declined_by: declined_by.into(),
            reason: reason.into(),
        };
        self.0.send("HandoffDecline", &p).await
    }
}
