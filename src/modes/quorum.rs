//! `macp.mode.quorum.v1` (RFC-MACP-0011): one ApprovalRequest by the
//! initiator, at most one ballot (Approve, Reject or Abstain) per eligible
//! participant, then a Commitment by the initiator.

use macp_pb::quorum_pb;

use super::required;
use crate::client::Ack;
use crate::error::{Error, Result};
use crate::session::Session;

/// The quorum-mode messages of a session: `session.quorum()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct Quorum<'a>(&'a Session);

impl Session {
    /// The quorum-mode helpers of this session.
    pub fn quorum(&self) -> Quorum<'_> {
        Quorum(self)
    }
}

impl Quorum<'_> {
    /// Open the session's approval request: `request_id` (required), the
    /// `action` to approve, a `summary`, opaque `details`, and the approvals needed
    /// (greater than zero, at most the number of eligible participants; a
    /// bound policy's threshold replaces it).
    pub async fn request_approval(
        &self,
        request_id: &str,
        action: &str,
        summary: &str,
        details: &[u8],
        required_approvals: u32,
    ) -> Result<Ack> {
        required("request_id", request_id)?;
        if required_approvals == 0 {
            return Err(Error::invalid_argument(
                "required_approvals must be greater than zero",
            ));
        }
        let p = quorum_pb::ApprovalRequestPayload {
            request_id: request_id.into(),
            action: action.into(),
            summary: summary.into(),
            details: details.to_vec(),
            required_approvals,
        };
        self.0.send("ApprovalRequest", &p).await
    }

    /// Cast an approval ballot. Each participant casts one ballot.
    pub async fn approve(&self, request_id: &str, reason: &str) -> Result<Ack> {
        required("request_id", request_id)?;
        let p = quorum_pb::ApprovePayload {
            request_id: request_id.into(),
            reason: reason.into(),
        };
        self.0.send("Approve", &p).await
    }

    /// Cast a rejection ballot.
    pub async fn reject(&self, request_id: &str, reason: &str) -> Result<Ack> {
        required("request_id", request_id)?;
        let p = quorum_pb::RejectPayload {
            request_id: request_id.into(),
            reason: reason.into(),
        };
        self.0.send("Reject", &p).await
    }

    /// Cast a neutral ballot: neither an approval nor a rejection.
    pub async fn abstain(&self, request_id: &str, reason: &str) -> Result<Ack> {
        required("request_id", request_id)?;
        let p = quorum_pb::AbstainPayload {
            request_id: request_id.into(),
            reason: reason.into(),
        };
        self.0.send("Abstain", &p).await
    }
}
