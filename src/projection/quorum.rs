//! Quorum mode: the approval request and each participant's first ballot,
//! with counts and whether the request's own approval bar is reached (or can
//! no longer be). Phases: `Pending`, `Voting` once the request is accepted,
//! `Committed`.
//!
//! `required_approvals` is the request's own; a governance policy bound to
//! the session may replace it with a threshold this projection cannot see.

use std::collections::BTreeMap;

use macp_pb::{pb, quorum_pb};
use serde_json::{json, Map, Value};

use super::{decode, set_phase, Anomaly, Ctx, Tally, DUPLICATE_BALLOT};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub request_id: String,
    pub action: String,
    pub summary: String,
    pub required_approvals: u32,
    /// The ApprovalRequest's sender.
    pub requested_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Approve,
    Reject,
    Abstain,
}

impl Choice {
    pub fn name(self) -> &'static str {
        match self {
            Choice::Approve => "approve",
            Choice::Reject => "reject",
            Choice::Abstain => "abstain",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ballot {
    pub choice: Choice,
    pub reason: String,
}

/// JSON: `phase`, `requests` (by id: `request_id`, `action`, `summary`,
/// `required_approvals`, `requested_by`), `ballots` (by request id, then
/// sender: `vote` approve/reject/abstain, `reason`) and `tallies` (by request
/// id: `approve`, `reject`, `abstain`, `required`, `reached`, and
/// `unreachable`, null until `SessionStart` told the participants).
#[derive(Clone, Debug, PartialEq)]
pub struct QuorumState {
    pub phase: &'static str,
    pub requests: BTreeMap<String, Request>,
    /// Request id → sender → that sender's first ballot.
    pub ballots: BTreeMap<String, BTreeMap<String, Ballot>>,
}

impl Default for QuorumState {
    fn default() -> Self {
        QuorumState {
            phase: "Pending",
            requests: BTreeMap::new(),
            ballots: BTreeMap::new(),
        }
    }
}

impl QuorumState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, ctx: &mut Ctx) -> Result<()> {
        let (request_id, reason, choice) = match env.message_type.as_str() {
            "ApprovalRequest" => {
                let p: quorum_pb::ApprovalRequestPayload = decode(env)?;
                self.requests
                    .entry(p.request_id.clone())
                    .or_insert(Request {
                        request_id: p.request_id,
                        action: p.action,
                        summary: p.summary,
                        required_approvals: p.required_approvals,
                        requested_by: env.sender.clone(),
                    });
                set_phase(&mut self.phase, "Voting");
                return Ok(());
            }
            "Approve" => {
                let p: quorum_pb::ApprovePayload = decode(env)?;
                (p.request_id, p.reason, Choice::Approve)
            }
            "Reject" => {
                let p: quorum_pb::RejectPayload = decode(env)?;
                (p.request_id, p.reason, Choice::Reject)
            }
            "Abstain" => {
                let p: quorum_pb::AbstainPayload = decode(env)?;
                (p.request_id, p.reason, Choice::Abstain)
            }
            _ => return Ok(()),
        };
        if !self.requests.contains_key(&request_id) {
            return Ok(());
        }
        let ballots = self.ballots.entry(request_id.clone()).or_default();
        if let Some(first) = ballots.get(&env.sender) {
            let detail = format!(
                "kept first ballot '{}'; discarded '{}'",
                first.choice.name(),
                choice.name()
            );
            ctx.anomalies
                .push(Anomaly::new(DUPLICATE_BALLOT, env, &request_id, detail));
            return Ok(());
        }
        ballots.insert(env.sender.clone(), Ballot { choice, reason });
        Ok(())
    }

    /// The session's request: `request_id`, or the only one when `None`.
    pub fn request(&self, request_id: Option<&str>) -> Option<&Request> {
        match request_id {
            Some(id) => self.requests.get(id),
            None => self.requests.values().next(),
        }
    }

    /// Ballot counts of `request_id` (zero when unknown).
    pub fn tally(&self, request_id: &str) -> Tally {
        let mut t = Tally::default();
        for b in self
            .ballots
            .get(request_id)
            .into_iter()
            .flat_map(|m| m.values())
        {
            match b.choice {
                Choice::Approve => t.approve += 1,
                Choice::Reject => t.reject += 1,
                Choice::Abstain => t.abstain += 1,
            }
        }
        t
    }

    /// Whether the approvals reach the request's `required_approvals`.
    pub fn reached(&self, request_id: &str) -> bool {
        self.requests
            .get(request_id)
            .is_some_and(|r| self.tally(request_id).approve >= r.required_approvals)
    }

    /// Whether the bar can no longer be reached with `participants` eligible:
    /// approvals plus the participants yet to cast a ballot fall short.
    pub fn unreachable(&self, request_id: &str, participants: &[String]) -> bool {
        let Some(r) = self.requests.get(request_id) else {
            return false;
        };
        let t = self.tally(request_id);
        let counted = (t.approve + t.reject + t.abstain) as usize;
        let remaining = participants.len().saturating_sub(counted);
        (t.approve as usize + remaining) < r.required_approvals as usize
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>, participants: &[String]) {
        let requests: Map<_, _> = self
            .requests
            .iter()
            .map(|(id, r)| {
                let v = json!({
                    "request_id": r.request_id,
                    "action": r.action,
                    "summary": r.summary,
                    "required_approvals": r.required_approvals,
                    "requested_by": r.requested_by,
                });
                (id.clone(), v)
            })
            .collect();
        let ballots: Map<_, _> = self
            .ballots
            .iter()
            .map(|(id, by_sender)| {
                let v: Map<_, _> = by_sender
                    .iter()
                    .map(|(s, b)| {
                        let v = json!({"vote": b.choice.name(), "reason": b.reason});
                        (s.clone(), v)
                    })
                    .collect();
                (id.clone(), Value::Object(v))
            })
            .collect();
        let tallies: Map<_, _> = self
            .requests
            .iter()
            .map(|(id, r)| {
                let mut t = self.tally(id).to_json();
                t["required"] = json!(r.required_approvals);
                t["reached"] = json!(self.reached(id));
                t["unreachable"] = if participants.is_empty() {
                    Value::Null
                } else {
                    json!(self.unreachable(id, participants))
                };
                (id.clone(), t)
            })
            .collect();
        m.insert("requests".into(), Value::Object(requests));
        m.insert("ballots".into(), Value::Object(ballots));
        m.insert("tallies".into(), Value::Object(tallies));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::{Projection, DUPLICATE_BALLOT};
    use crate::modes::QUORUM;
    use macp_pb::pb;
    use macp_pb::quorum_pb::*;

    #[test]
    fn ballots_counts_and_first_ballot_wins() {
        let mut p = Projection::new(QUORUM).unwrap();
        let start = pb::SessionStartPayload {
            participants: vec!["a".into(), "b".into(), "c".into()],
            ttl_ms: 1,
            ..Default::default()
        };
        p.apply(&env(QUORUM, "SessionStart", "m0", "coord", &start))
            .unwrap();
        assert_eq!(p.phase(), "Pending");
        let approve = ApprovePayload {
            request_id: "r1".into(),
            reason: "ok".into(),
        };
        // A ballot before the request is known: ignored.
        p.apply(&env(QUORUM, "Approve", "m1", "a", &approve))
            .unwrap();
        let req = ApprovalRequestPayload {
            request_id: "r1".into(),
            action: "deploy".into(),
            required_approvals: 2,
            ..Default::default()
        };
        p.apply(&env(QUORUM, "ApprovalRequest", "m2", "coord", &req))
            .unwrap();
        assert_eq!(p.phase(), "Voting");
        p.apply(&env(QUORUM, "Approve", "m3", "a", &approve))
            .unwrap();
        let q = p.quorum().unwrap();
        assert!(!q.reached("r1"));
        assert!(!q.unreachable("r1", p.participants()));
        let reject = RejectPayload {
            request_id: "r1".into(),
            reason: String::new(),
        };
        p.apply(&env(QUORUM, "Reject", "m4", "b", &reject)).unwrap();
        // One approval, one participant left, two needed: still reachable.
        assert!(!p.quorum().unwrap().unreachable("r1", p.participants()));
        // b changes its mind: discarded, recorded.
        p.apply(&env(QUORUM, "Approve", "m5", "b", &approve))
            .unwrap();
        assert_eq!(p.anomalies().len(), 1);
        assert_eq!(p.anomalies()[0].kind, DUPLICATE_BALLOT);
        assert!(p.anomalies()[0].detail.contains("reject"));
        let abstain = AbstainPayload {
            request_id: "r1".into(),
            reason: String::new(),
        };
        p.apply(&env(QUORUM, "Abstain", "m6", "c", &abstain))
            .unwrap();
        let q = p.quorum().unwrap();
        let t = q.tally("r1");
        assert_eq!((t.approve, t.reject, t.abstain), (1, 1, 1));
        assert!(q.unreachable("r1", p.participants()));
        assert_eq!(q.request(None).unwrap().request_id, "r1");
        let j = p.to_json();
        assert_eq!(j["ballots"]["r1"]["b"]["vote"], "reject");
        assert_eq!(j["tallies"]["r1"]["required"], 2);
        assert_eq!(j["tallies"]["r1"]["reached"], false);
        assert_eq!(j["tallies"]["r1"]["unreachable"], true);
        assert_eq!(j["requests"]["r1"]["requested_by"], "coord");
    }
}
