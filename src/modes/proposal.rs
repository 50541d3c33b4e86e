//! `macp.mode.proposal.v1` (RFC-MACP-0008): Proposal, CounterProposal,
//! Accept, Reject and Withdraw, then a Commitment by the initiator.

use macp_pb::proposal_pb;

use super::required;
use crate::client::Ack;
use crate::error::Result;
use crate::session::Session;

/// The proposal-mode messages of a session: `session.proposal()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct Proposal<'a>(&'a Session);

impl Session {
    /// The proposal-mode helpers of this session.
    pub fn proposal(&self) -> Proposal<'_> {
        Proposal(self)
    }
}

impl Proposal<'_> {
    /// Submit an offer under `proposal_id` (required, unique in the session)
    /// with a `title`, a `summary`, opaque `details` and free-form `tags`.
    pub async fn propose(
        &self,
        proposal_id: &str,
        title: &str,
        summary: &str,
        details: &[u8],
        tags: &[String],
    ) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        if tags.iter().any(String::is_empty) {
            return Err(crate::Error::invalid_argument("a tag is empty"));
        }
        let p = proposal_pb::ProposalPayload {
            proposal_id: proposal_id.into(),
            title: title.into(),
            summary: summary.into(),
            details: details.to_vec(),
            tags: tags.to_vec(),
        };
        self.0.send("Proposal", &p).await
    }

    /// Submit a counteroffer `proposal_id` meant to replace
    /// `supersedes_proposal_id` (both required). The superseded proposal
    /// stays live: participants may accept either.
    pub async fn counter_propose(
        &self,
        proposal_id: &str,
        supersedes_proposal_id: &str,
        title: &str,
        summary: &str,
        details: &[u8],
    ) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        required("supersedes_proposal_id", supersedes_proposal_id)?;
        let p = proposal_pb::CounterProposalPayload {
            proposal_id: proposal_id.into(),
            supersedes_proposal_id: supersedes_proposal_id.into(),
            title: title.into(),
            summary: summary.into(),
            details: details.to_vec(),
        };
        self.0.send("CounterProposal", &p).await
    }

    /// Accept a live proposal. A later Accept from the same participant
    /// replaces its earlier one.
    pub async fn accept(&self, proposal_id: &str, reason: &str) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        let p = proposal_pb::AcceptPayload {
            proposal_id: proposal_id.into(),
            reason: reason.into(),
        };
        self.0.send("Accept", &p).await
    }

    /// Reject a proposal; a `terminal` rejection makes the session eligible
    /// for a negative Commitment.
    pub async fn reject(&self, proposal_id: &str, terminal: bool, reason: &str) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        let p = proposal_pb::RejectPayload {
            proposal_id: proposal_id.into(),
            terminal,
            reason: reason.into(),
        };
        self.0.send("Reject", &p).await
    }

    /// Withdraw a proposal this participant authored.
    pub async fn withdraw(&self, proposal_id: &str, reason: &str) -> Result<Ack> {
        required("proposal_id", proposal_id)?;
        let p = proposal_pb::WithdrawPayload {
            proposal_id: proposal_id.into(),
            reason: reason.into(),
        };
        self.0.send("Withdraw", &p).await
    }
}
