//! `macp.mode.decision.v1` (RFC-MACP-0007): Proposal, Evaluation, Objection,
//! Vote, then a Commitment by the initiator.

use macp_pb::decision_pb;

use super::required;
use crate::client::Ack;
use crate::error::{Error, Result};
use crate::session::Session;

/// The decision-mode messages of a session: `session.decision()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct Decision<'a>(&'a Session);

impl Session {
    /// The decision-mode helpers of this session.
    pub fn decision(&self) -> Decision<'_> {
        Decision(self)
    }
}

impl Decision<'_> {
    pub async fn propose(
        &self,
        proposal_id: &str,
        option: &str,
        rationale: &str,
        supporting_data: &[u8],
    ) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        required("option", option)?;
        let p = decision_pb::ProposalPayload {
            proposal_id: proposal_id.into(),
            option: option.into(),
            rationale: rationale.into(),
            supporting_data: supporting_data.to_vec(),
        };
        self.0.send("Proposal", &p).await
    }

    /// `recommendation` is e.g. APPROVE, REVIEW, BLOCK, REJECT; `confidence`
    /// must lie in `[0, 1]`.
    pub async fn evaluate(
        &self,
        proposal_id: &str,
        recommendation: &str,
        confidence: f64,
        reason: &str,
    ) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        required("recommendation", recommendation)?;
        if !(0.0..=1.0).contains(&confidence) {
            return Err(Error::invalid_argument("confidence must be within [0, 1]"));
        }
        let p = decision_pb::EvaluationPayload {
            proposal_id: proposal_id.into(),
            recommendation: recommendation.into(),
            confidence,
            reason: reason.into(),
        };
        self.0.send("Evaluation", &p).await
    }

    /// `severity` is lowercase: low, medium, high or critical.
    pub async fn object(&self, proposal_id: &str, reason: &str, severity: &str) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        required("severity", severity)?;
        let p = decision_pb::ObjectionPayload {
            proposal_id: proposal_id.into(),
            reason: reason.into(),
            severity: severity.into(),
        };
        self.0.send("Objection", &p).await
    }

    /// `vote` is e.g. APPROVE, REJECT, ABSTAIN.
    pub async fn vote(&self, proposal_id: &str, vote: &str, reason: &str) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        required("vote", vote)?;
        let p = decision_pb::VotePayload {
            proposal_id: proposal_id.into(),
            vote: vote.into(),
            reason: reason.into(),
        };
        self.0.send("Vote", &p).await
    }
}
