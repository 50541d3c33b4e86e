//! Decision mode: proposals, evaluations, objections, and each participant's
//! first vote per proposal. Phases as the runtime's: `Proposal`, then
//! `Evaluation` after the first Proposal, `Voting` after the first Vote,
//! `Committed`.

use std::collections::BTreeMap;

use macp_pb::{decision_pb, pb};
use serde_json::{json, Map, Value};

use super::{decode, set_phase, Anomaly, Ctx, Tally, DUPLICATE_VOTE};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub proposal_id: String,
    pub option: String,
    pub rationale: String,
    pub sender: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub proposal_id: String,
    pub recommendation: String,
    pub confidence: f64,
    pub reason: String,
    pub sender: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Objection {
    pub proposal_id: String,
    pub reason: String,
    pub severity: String,
    pub sender: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vote {
    pub vote: String,
    pub reason: String,
}

/// JSON: `phase`, `proposals` (by id: `proposal_id`, `option`, `rationale`,
/// `sender`), `evaluations` and `objections` (lists in order), `votes` (by
/// proposal id, then sender: `vote`, `reason`) and `tallies` (by proposal id:
/// `approve`, `reject`, `abstain`).
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionState {
    pub phase: &'static str,
    pub proposals: BTreeMap<String, Proposal>,
    pub evaluations: Vec<Evaluation>,
    pub objections: Vec<Objection>,
    /// Proposal id → sender → that sender's first vote.
    pub votes: BTreeMap<String, BTreeMap<String, Vote>>,
}

impl Default for DecisionState {
    fn default() -> Self {
        DecisionState {
            phase: "Proposal",
            proposals: BTreeMap::new(),
            evaluations: Vec::new(),
            objections: Vec::new(),
            votes: BTreeMap::new(),
        }
    }
}

impl DecisionState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, ctx: &mut Ctx) -> Result<()> {
        let sender = &env.sender;
        match env.message_type.as_str() {
            "Proposal" => {
                let p: decision_pb::ProposalPayload = decode(env)?;
                self.proposals
                    .entry(p.proposal_id.clone())
                    .or_insert(Proposal {
                        proposal_id: p.proposal_id,
                        option: p.option,
                        rationale: p.rationale,
                        sender: sender.clone(),
                    });
                if self.phase == "Proposal" {
                    set_phase(&mut self.phase, "Evaluation");
                }
            }
            "Evaluation" => {
                let p: decision_pb::EvaluationPayload = decode(env)?;
                self.evaluations.push(Evaluation {
                    proposal_id: p.proposal_id,
                    recommendation: p.recommendation,
                    confidence: p.confidence,
                    reason: p.reason,
                    sender: sender.clone(),
                });
            }
            "Objection" => {
                let p: decision_pb::ObjectionPayload = decode(env)?;
                self.objections.push(Objection {
                    proposal_id: p.proposal_id,
                    reason: p.reason,
                    severity: p.severity,
                    sender: sender.clone(),
                });
            }
            "Vote" => {
                let p: decision_pb::VotePayload = decode(env)?;
                if !self.proposals.contains_key(&p.proposal_id) {
                    return Ok(());
                }
                let votes = self.votes.entry(p.proposal_id.clone()).or_default();
                if let Some(first) = votes.get(sender) {
                    let detail =
                        format!("kept first vote '{}'; discarded '{}'", first.vote, p.vote);
                    ctx.anomalies
                        .push(Anomaly::new(DUPLICATE_VOTE, env, &p.proposal_id, detail));
                    return Ok(());
                }
                votes.insert(
                    sender.clone(),
                    Vote {
                        vote: p.vote,
                        reason: p.reason,
                    },
                );
                set_phase(&mut self.phase, "Voting");
            }
            _ => {}
        }
        Ok(())
    }

    /// The counted votes on `proposal_id` (APPROVE, REJECT, ABSTAIN; other
    /// values are not counted). Zero for a proposal without votes or unknown
    /// to this projection.
    pub fn tally(&self, proposal_id: &str) -> Tally {
        let mut t = Tally::default();
        for v in self
            .votes
            .get(proposal_id)
            .into_iter()
            .flat_map(|m| m.values())
        {
            match v.vote.to_ascii_uppercase().as_str() {
                "APPROVE" => t.approve += 1,
                "REJECT" => t.reject += 1,
                "ABSTAIN" => t.abstain += 1,
                _ => {}
            }
        }
        t
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>) {
        let proposals: Map<_, _> = self
            .proposals
            .iter()
            .map(|(id, p)| {
                let v = json!({
                    "proposal_id": p.proposal_id,
                    "option": p.option,
                    "rationale": p.rationale,
                    "sender": p.sender,
                });
                (id.clone(), v)
            })
            .collect();
        let evaluations: Vec<_> = self
            .evaluations
            .iter()
            .map(|e| {
                json!({
                    "proposal_id": e.proposal_id,
                    "recommendation": e.recommendation,
                    "confidence": e.confidence,
                    "reason": e.reason,
                    "sender": e.sender,
                })
            })
            .collect();
        let objections: Vec<_> = self
            .objections
            .iter()
            .map(|o| {
                json!({
                    "proposal_id": o.proposal_id,
                    "reason": o.reason,
                    "severity": o.severity,
                    "sender": o.sender,
                })
            })
            .collect();
        let votes: Map<_, _> = self
            .votes
            .iter()
            .map(|(id, by_sender)| {
                let v: Map<_, _> = by_sender
                    .iter()
                    .map(|(s, v)| (s.clone(), json!({"vote": v.vote, "reason": v.reason})))
                    .collect();
                (id.clone(), Value::Object(v))
            })
            .collect();
        let tallies: Map<_, _> = self
            .proposals
            .keys()
            .map(|id| (id.clone(), self.tally(id).to_json()))
            .collect();
        m.insert("proposals".into(), Value::Object(proposals));
        m.insert("evaluations".into(), Value::Array(evaluations));
        m.insert("objections".into(), Value::Array(objections));
        m.insert("votes".into(), Value::Object(votes));
        m.insert("tallies".into(), Value::Object(tallies));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::{Projection, DUPLICATE_VOTE};
    use crate::modes::DECISION;
    use macp_pb::decision_pb::*;

    fn vote(pid: &str, v: &str) -> VotePayload {
        VotePayload {
            proposal_id: pid.into(),
            vote: v.into(),
            reason: String::new(),
        }
    }

    #[test]
    fn phases_votes_and_first_vote_wins() {
        let mut p = Projection::new(DECISION).unwrap();
        assert_eq!(p.phase(), "Proposal");
        let prop = ProposalPayload {
            proposal_id: "p1".into(),
            option: "deploy".into(),
            ..Default::default()
        };
        p.apply(&env(DECISION, "Proposal", "m1", "alice", &prop))
            .unwrap();
        assert_eq!(p.phase(), "Evaluation");
        let ev = EvaluationPayload {
            proposal_id: "p1".into(),
            recommendation: "APPROVE".into(),
            confidence: 0.5,
            reason: "ok".into(),
        };
        p.apply(&env(DECISION, "Evaluation", "m2", "bob", &ev))
            .unwrap();
        let ob = ObjectionPayload {
            proposal_id: "p1".into(),
            reason: "cost".into(),
            severity: "high".into(),
        };
        p.apply(&env(DECISION, "Objection", "m3", "bob", &ob))
            .unwrap();
        p.apply(&env(
            DECISION,
            "Vote",
            "m4",
            "alice",
            &vote("p1", "APPROVE"),
        ))
        .unwrap();
        assert_eq!(p.phase(), "Voting");
        p.apply(&env(DECISION, "Vote", "m5", "bob", &vote("p1", "REJECT")))
            .unwrap();
        p.apply(&env(
            DECISION,
            "Vote",
            "m6",
            "carol",
            &vote("p1", "ABSTAIN"),
        ))
        .unwrap();
        // A second, distinct vote by alice: kept first, anomaly recorded.
        p.apply(&env(DECISION, "Vote", "m7", "alice", &vote("p1", "REJECT")))
            .unwrap();
        // A vote on a proposal never seen: ignored silently.
        p.apply(&env(
            DECISION,
            "Vote",
            "m8",
            "alice",
            &vote("p9", "APPROVE"),
        ))
        .unwrap();
        // Redelivery of m7: nothing new.
        p.apply(&env(DECISION, "Vote", "m7", "alice", &vote("p1", "REJECT")))
            .unwrap();

        let d = p.decision().unwrap();
        let t = d.tally("p1");
        assert_eq!((t.approve, t.reject, t.abstain), (1, 1, 1));
        assert_eq!(d.tally("p9"), Default::default());
        assert_eq!(p.anomalies().len(), 1);
        let a = &p.anomalies()[0];
        assert_eq!(a.kind, DUPLICATE_VOTE);
        assert_eq!(
            (
                a.message_id.as_str(),
                a.sender.as_str(),
                a.subject_id.as_str()
            ),
            ("m7", "alice", "p1")
        );
        assert_eq!(a.mode, DECISION);
        assert_eq!(a.message_type, "Vote");
        assert!(a.detail.contains("APPROVE") && a.detail.contains("REJECT"));

        let j = p.to_json();
        assert_eq!(j["votes"]["p1"]["alice"]["vote"], "APPROVE");
        assert_eq!(j["tallies"]["p1"]["reject"], 1);
        assert_eq!(j["proposals"]["p1"]["option"], "deploy");
        assert_eq!(j["evaluations"][0]["confidence"], 0.5);
        assert_eq!(j["objections"][0]["severity"], "high");
        assert_eq!(j["anomalies"][0]["kind"], "duplicate_vote");
        assert_eq!(j["anomalies"][0]["subject_id"], "p1");
    }
}
