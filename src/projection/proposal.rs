//! Proposal mode: every proposal and counter-proposal with its disposition
//! (`Live` or `Withdrawn`, as the runtime's mode state), each participant's
//! latest Accept, and Rejects. Phases: `Negotiating`, `TerminalRejected` while
//! a live proposal has a terminal rejection, `Committed`. (The runtime also
//! has a `Converged` phase, reached by a policy-defined acceptance criterion
//! the projection cannot see; read `accepts` instead.)

use std::collections::BTreeMap;

use macp_pb::{pb, proposal_pb};
use serde_json::{json, Map, Value};

use super::{decode, set_phase, Ctx};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub proposal_id: String,
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    /// The sender of the Proposal or CounterProposal.
    pub proposer: String,
    /// For a counter-proposal, the proposal it is meant to replace.
    pub supersedes_proposal_id: String,
    pub withdrawn: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub proposal_id: String,
    pub terminal: bool,
    pub reason: String,
    pub sender: String,
}

/// JSON: `phase`, `proposals` (by id: `proposal_id`, `title`, `summary`,
/// `tags`, `proposer`, `supersedes_proposal_id`, `disposition` `Live` or
/// `Withdrawn`, and `status` `open`, `rejected` or `withdrawn`), `accepts`
/// (sender → the proposal id of its latest Accept) and `rejections` (list).
#[derive(Clone, Debug, PartialEq)]
pub struct ProposalState {
    pub phase: &'static str,
    pub proposals: BTreeMap<String, Proposal>,
    /// Sender → proposal id of that sender's latest Accept.
    pub accepts: BTreeMap<String, String>,
    pub rejections: Vec<Rejection>,
}

impl Default for ProposalState {
    fn default() -> Self {
        ProposalState {
            phase: "Negotiating",
            proposals: BTreeMap::new(),
            accepts: BTreeMap::new(),
            rejections: Vec::new(),
        }
    }
}

impl ProposalState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, _ctx: &mut Ctx) -> Result<()> {
        let sender = &env.sender;
        match env.message_type.as_str() {
            "Proposal" => {
                let p: proposal_pb::ProposalPayload = decode(env)?;
                self.proposals
                    .entry(p.proposal_id.clone())
                    .or_insert(Proposal {
                        proposal_id: p.proposal_id,
                        title: p.title,
                        summary: p.summary,
                        tags: p.tags,
                        proposer: sender.clone(),
                        supersedes_proposal_id: String::new(),
                        withdrawn: false,
                    });
            }
            "CounterProposal" => {
                let p: proposal_pb::CounterProposalPayload = decode(env)?;
                self.proposals
                    .entry(p.proposal_id.clone())
                    .or_insert(Proposal {
                        proposal_id: p.proposal_id,
                        title: p.title,
                        summary: p.summary,
                        tags: Vec::new(),
                        proposer: sender.clone(),
                        supersedes_proposal_id: p.supersedes_proposal_id,
                        withdrawn: false,
                    });
            }
            "Accept" => {
                let p: proposal_pb::AcceptPayload = decode(env)?;
                self.accepts.insert(sender.clone(), p.proposal_id);
            }
            "Reject" => {
                let p: proposal_pb::RejectPayload = decode(env)?;
                self.rejections.push(Rejection {
                    proposal_id: p.proposal_id,
                    terminal: p.terminal,
                    reason: p.reason,
                    sender: sender.clone(),
                });
            }
            "Withdraw" => {
                let p: proposal_pb::WithdrawPayload = decode(env)?;
                if let Some(rec) = self.proposals.get_mut(&p.proposal_id) {
                    rec.withdrawn = true;
                    // Accepts naming it are dropped; its terminal rejection no
                    // longer counts (see `terminally_rejected`).
                    self.accepts.retain(|_, id| *id != p.proposal_id);
                }
            }
            _ => return Ok(()),
        }
        let next = if self.proposals.keys().any(|id| self.terminally_rejected(id)) {
            "TerminalRejected"
        } else {
            "Negotiating"
        };
        set_phase(&mut self.phase, next);
        Ok(())
    }

    /// Whether `proposal_id` is live and has a terminal rejection.
    pub fn terminally_rejected(&self, proposal_id: &str) -> bool {
        self.proposals
            .get(proposal_id)
            .is_some_and(|p| !p.withdrawn)
            && self
                .rejections
                .iter()
                .any(|r| r.terminal && r.proposal_id == proposal_id)
    }

    /// The proposal every accepting participant's latest Accept names, if
    /// they agree on one.
    pub fn agreed_proposal(&self) -> Option<&str> {
        let mut ids = self.accepts.values();
        let first = ids.next()?;
        ids.all(|id| id == first).then_some(first.as_str())
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>) {
        let proposals: Map<_, _> = self
            .proposals
            .iter()
            .map(|(id, p)| {
                let status = if p.withdrawn {
                    "withdrawn"
                } else if self.terminally_rejected(id) {
                    "rejected"
                } else {
                    "open"
                };
                let v = json!({
                    "proposal_id": p.proposal_id,
                    "title": p.title,
                    "summary": p.summary,
                    "tags": p.tags,
                    "proposer": p.proposer,
                    "supersedes_proposal_id": p.supersedes_proposal_id,
                    "disposition": if p.withdrawn { "Withdrawn" } else { "Live" },
                    "status": status,
                });
                (id.clone(), v)
            })
            .collect();
        let rejections: Vec<_> = self
            .rejections
            .iter()
            .map(|r| {
                json!({
                    "proposal_id": r.proposal_id,
                    "terminal": r.terminal,
                    "reason": r.reason,
                    "sender": r.sender,
                })
            })
            .collect();
        m.insert("proposals".into(), Value::Object(proposals));
        m.insert("accepts".into(), json!(self.accepts));
        m.insert("rejections".into(), Value::Array(rejections));
        m.insert("agreed_proposal".into(), json!(self.agreed_proposal()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::Projection;
    use crate::modes::PROPOSAL;
    use macp_pb::proposal_pb::*;

    #[test]
    fn dispositions_accepts_and_terminal_rejection() {
        let mut p = Projection::new(PROPOSAL).unwrap();
        let prop = ProposalPayload {
            proposal_id: "p1".into(),
            title: "offer".into(),
            tags: vec!["a".into()],
            ..Default::default()
        };
        p.apply(&env(PROPOSAL, "Proposal", "m1", "seller", &prop))
            .unwrap();
        let counter = CounterProposalPayload {
            proposal_id: "p2".into(),
            supersedes_proposal_id: "p1".into(),
            title: "counter".into(),
            ..Default::default()
        };
        p.apply(&env(PROPOSAL, "CounterProposal", "m2", "buyer", &counter))
            .unwrap();
        let accept = |id: &str| AcceptPayload {
            proposal_id: id.into(),
            reason: String::new(),
        };
        p.apply(&env(PROPOSAL, "Accept", "m3", "seller", &accept("p2")))
            .unwrap();
        p.apply(&env(PROPOSAL, "Accept", "m4", "buyer", &accept("p1")))
            .unwrap();
        // A later Accept from the same sender replaces the earlier one.
        p.apply(&env(PROPOSAL, "Accept", "m5", "buyer", &accept("p2")))
            .unwrap();
        let s = p.proposal().unwrap();
        assert_eq!(s.agreed_proposal(), Some("p2"));
        assert_eq!(p.phase(), "Negotiating");

        let reject = RejectPayload {
            proposal_id: "p2".into(),
            terminal: true,
            reason: "no".into(),
        };
        p.apply(&env(PROPOSAL, "Reject", "m6", "seller", &reject))
            .unwrap();
        assert_eq!(p.phase(), "TerminalRejected");
        assert_eq!(p.to_json()["proposals"]["p2"]["status"], "rejected");

        // Withdrawing p2 drops the accepts naming it and clears its terminal
        // rejection.
        let withdraw = WithdrawPayload {
            proposal_id: "p2".into(),
            reason: String::new(),
        };
        p.apply(&env(PROPOSAL, "Withdraw", "m7", "buyer", &withdraw))
            .unwrap();
        assert_eq!(p.phase(), "Negotiating");
        let j = p.to_json();
        assert_eq!(j["proposals"]["p2"]["disposition"], "Withdrawn");
        assert_eq!(j["proposals"]["p2"]["status"], "withdrawn");
        assert_eq!(j["proposals"]["p2"]["supersedes_proposal_id"], "p1");
        assert_eq!(j["proposals"]["p1"]["disposition"], "Live");
        assert_eq!(j["proposals"]["p1"]["proposer"], "seller");
        assert_eq!(j["proposals"]["p1"]["tags"][0], "a");
        assert_eq!(j["accepts"], serde_json::json!({}));
        assert_eq!(j["rejections"][0]["terminal"], true);
    }
}
