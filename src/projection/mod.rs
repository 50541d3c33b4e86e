//! Projections: a participant's local view of a session's mode state,
//! rebuilt from the session's accepted history.
//!
//! The runtime's `GetSession` returns metadata only, so a client that wants to
//! know the proposals, votes, tallies, task status or handoff dispositions of
//! a session folds the envelopes the runtime accepted (as a session stream
//! delivers them) into a [`Projection`].
//!
//! Rules every mode follows:
//! - Only accepted history may be applied. Nothing on an envelope says it was
//!   accepted, so a projection cannot check this: feeding it refused
//!   envelopes makes its state meaningless.
//! - An envelope whose `message_id` was already applied is ignored, so
//!   redelivery (a resubscribe replaying history) is harmless. An empty
//!   `message_id` is not an identity and is never deduplicated.
//! - Where the protocol lets the first of several messages stand (a
//!   participant's Decision vote on a proposal, a Quorum ballot, the Task
//!   assignee slot, a settled Handoff offer), the projection keeps the first
//!   and records a second, distinct one as an [`Anomaly`] instead of
//!   applying it. The anomaly kinds and fields are the ones MACP SDKs agree
//!   on (`projection_anomaly` in the parity contract).
//! - A message about an id the projection never saw (a vote on an unknown
//!   proposal, say) is ignored silently: a projection that started mid-session
//!   may legitimately have missed it.
//! - A payload that does not decode is an error and changes nothing, so the
//!   same envelope can be applied again later.
//! - Once a Commitment is applied the phase is `Committed` and stays so.

use std::collections::HashSet;

use macp_pb::pb;
use prost::Message;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::modes;

pub mod decision;
pub mod handoff;
pub mod multi_round;
pub mod proposal;
pub mod quorum;
pub mod task;

pub use decision::DecisionState;
pub use handoff::HandoffState;
pub use multi_round::MultiRoundState;
pub use proposal::ProposalState;
pub use quorum::QuorumState;
pub use task::TaskState;

/// Anomaly kind: a second Decision `Vote` by one participant on one proposal.
pub const DUPLICATE_VOTE: &str = "duplicate_vote";
/// Anomaly kind: a second Quorum ballot by one participant.
pub const DUPLICATE_BALLOT: &str = "duplicate_ballot";
/// Anomaly kind: a `TaskAccept` while the session's assignee slot is held.
pub const DUPLICATE_TASK_ACCEPT: &str = "duplicate_task_accept";
/// Anomaly kind: a `HandoffAccept` or `HandoffDecline` for an offer already
/// accepted or declined.
pub const SETTLED_HANDOFF: &str = "settled_handoff";

/// The phase every mode ends in once a Commitment is applied.
pub const COMMITTED: &str = "Committed";

/// A message a projection observed and discarded because an earlier one
/// stands. An observation, not a verdict: the runtime refuses such messages,
/// so seeing one means the feed was not (only) accepted history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// One of [`DUPLICATE_VOTE`], [`DUPLICATE_BALLOT`],
    /// [`DUPLICATE_TASK_ACCEPT`], [`SETTLED_HANDOFF`].
    pub kind: &'static str,
    pub mode: String,
    /// The discarded message's type, id and sender.
    pub message_type: String,
    pub message_id: String,
    pub sender: String,
    /// The proposal, request, task or handoff id the message was about.
    pub subject_id: String,
    /// What was kept and what was discarded, in words.
    pub detail: String,
}

impl Anomaly {
    pub(crate) fn new(
        kind: &'static str,
        env: &pb::Envelope,
        subject_id: &str,
        detail: String,
    ) -> Anomaly {
        Anomaly {
            kind,
            mode: env.mode.clone(),
            message_type: env.message_type.clone(),
            message_id: env.message_id.clone(),
            sender: env.sender.clone(),
            subject_id: subject_id.to_string(),
            detail,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "kind": self.kind,
            "mode": self.mode,
            "message_type": self.message_type,
            "message_id": self.message_id,
            "sender": self.sender,
            "subject_id": self.subject_id,
            "detail": self.detail,
        })
    }
}

/// Approve, reject and abstain counts of a Decision proposal or a Quorum
/// request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub approve: u32,
    pub reject: u32,
    pub abstain: u32,
}

impl Tally {
    fn to_json(self) -> Value {
        json!({"approve": self.approve, "reject": self.reject, "abstain": self.abstain})
    }
}

/// What a mode's `apply` may read and record besides its own state.
pub(crate) struct Ctx<'a> {
    /// The session's declared participants (empty until `SessionStart` is
    /// applied).
    pub participants: &'a [String],
    pub anomalies: &'a mut Vec<Anomaly>,
}

/// Decode an envelope's payload as `M`.
pub(crate) fn decode<M: Message + Default>(env: &pb::Envelope) -> Result<M> {
    M::decode(env.payload.as_slice()).map_err(|e| {
        Error::invalid_argument(format!("{} payload does not decode: {e}", env.message_type))
    })
}

/// Move `phase` forward to `next` unless the session is committed.
pub(crate) fn set_phase(phase: &mut &'static str, next: &'static str) {
    if *phase != COMMITTED {
        *phase = next;
    }
}

/// The mode-specific part of a projection.
#[derive(Clone, Debug)]
enum State {
    Decision(DecisionState),
    Proposal(ProposalState),
    Task(TaskState),
    Handoff(HandoffState),
    Quorum(QuorumState),
    MultiRound(MultiRoundState),
}

/// The local state of one session of one mode, built from its accepted
/// envelopes. Not synchronized: wrap it in a lock to share it.
#[derive(Clone, Debug)]
pub struct Projection {
    mode: &'static str,
    session_id: String,
    initiator: String,
    participants: Vec<String>,
    seen: HashSet<String>,
    applied: usize,
    commitment: Option<(pb::CommitmentPayload, String)>,
    anomalies: Vec<Anomaly>,
    state: State,
}

impl Projection {
    /// An empty projection of `mode` (one of the [`modes`] identifiers).
    pub fn new(mode: &str) -> Result<Projection> {
        let (mode, state) = match mode {
            modes::DECISION => (modes::DECISION, State::Decision(Default::default())),
            modes::PROPOSAL => (modes::PROPOSAL, State::Proposal(Default::default())),
            modes::TASK => (modes::TASK, State::Task(Default::default())),
            modes::HANDOFF => (modes::HANDOFF, State::Handoff(Default::default())),
            modes::QUORUM => (modes::QUORUM, State::Quorum(Default::default())),
            modes::MULTI_ROUND => (modes::MULTI_ROUND, State::MultiRound(Default::default())),
            other => {
                return Err(Error::invalid_argument(format!(
                    "no projection for mode '{other}'"
                )))
            }
        };
        Ok(Projection {
            mode,
            session_id: String::new(),
            initiator: String::new(),
            participants: Vec::new(),
            seen: HashSet::new(),
            applied: 0,
            commitment: None,
            anomalies: Vec::new(),
            state,
        })
    }

    /// Apply one envelope of the session's accepted history. Returns whether
    /// it was applied (`false`: its `message_id` was already applied). Fails,
    /// changing nothing, for an envelope of another mode or session, or a
    /// payload that does not decode.
    pub fn apply(&mut self, env: &pb::Envelope) -> Result<bool> {
        if env.mode != self.mode {
            return Err(Error::invalid_argument(format!(
                "envelope of mode '{}' applied to a {} projection",
                env.mode, self.mode
            )));
        }
        if env.session_id.is_empty() {
            return Err(Error::invalid_argument("envelope has no session id"));
        }
        if !self.session_id.is_empty() && env.session_id != self.session_id {
            return Err(Error::invalid_argument(format!(
                "envelope of session '{}' applied to the projection of session '{}'",
                env.session_id, self.session_id
            )));
        }
        if !env.message_id.is_empty() && self.seen.contains(&env.message_id) {
            return Ok(false);
        }
        match env.message_type.as_str() {
            "SessionStart" => {
                let p: pb::SessionStartPayload = decode(env)?;
                self.initiator = env.sender.clone();
                self.participants = p.participants;
            }
            "Commitment" => {
                let c: pb::CommitmentPayload = decode(env)?;
                if self.commitment.is_none() {
                    self.commitment = Some((c, env.sender.clone()));
                }
                self.set_committed();
            }
            _ => {
                let mut ctx = Ctx {
                    participants: &self.participants,
                    anomalies: &mut self.anomalies,
                };
                match &mut self.state {
                    State::Decision(s) => s.apply(env, &mut ctx)?,
                    State::Proposal(s) => s.apply(env, &mut ctx)?,
                    State::Task(s) => s.apply(env, &mut ctx)?,
                    State::Handoff(s) => s.apply(env, &mut ctx)?,
                    State::Quorum(s) => s.apply(env, &mut ctx)?,
                    State::MultiRound(s) => s.apply(env, &mut ctx)?,
                }
            }
        }
        if self.session_id.is_empty() {
            self.session_id = env.session_id.clone();
        }
        if !env.message_id.is_empty() {
            self.seen.insert(env.message_id.clone());
        }
        self.applied += 1;
        Ok(true)
    }

    /// Apply a protobuf-encoded `Envelope` (as a session stream delivers it).
    pub fn apply_encoded(&mut self, envelope: &[u8]) -> Result<bool> {
        let env = pb::Envelope::decode(envelope)
            .map_err(|e| Error::invalid_argument(format!("envelope does not decode: {e}")))?;
        self.apply(&env)
    }

    fn set_committed(&mut self) {
        let phase = match &mut self.state {
            State::Decision(s) => &mut s.phase,
            State::Proposal(s) => &mut s.phase,
            State::Task(s) => &mut s.phase,
            State::Handoff(s) => &mut s.phase,
            State::Quorum(s) => &mut s.phase,
            State::MultiRound(s) => &mut s.phase,
        };
        *phase = COMMITTED;
    }

    pub fn mode(&self) -> &str {
        self.mode
    }
    /// The session id (empty until the first envelope is applied).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    /// The initiator and declared participants, once `SessionStart` is applied.
    pub fn initiator(&self) -> &str {
        &self.initiator
    }
    pub fn participants(&self) -> &[String] {
        &self.participants
    }
    /// Envelopes applied (redeliveries not counted).
    pub fn applied(&self) -> usize {
        self.applied
    }
    /// The mode's phase, e.g. Decision's `Proposal`, `Evaluation`, `Voting`;
    /// every mode's is [`COMMITTED`] after a Commitment.
    pub fn phase(&self) -> &'static str {
        match &self.state {
            State::Decision(s) => s.phase,
            State::Proposal(s) => s.phase,
            State::Task(s) => s.phase,
            State::Handoff(s) => s.phase,
            State::Quorum(s) => s.phase,
            State::MultiRound(s) => s.phase,
        }
    }
    /// The applied Commitment and its sender.
    pub fn commitment(&self) -> Option<(&pb::CommitmentPayload, &str)> {
        self.commitment.as_ref().map(|(c, s)| (c, s.as_str()))
    }
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }
    pub fn decision(&self) -> Option<&DecisionState> {
        match &self.state {
            State::Decision(s) => Some(s),
            _ => None,
        }
    }
    pub fn proposal(&self) -> Option<&ProposalState> {
        match &self.state {
            State::Proposal(s) => Some(s),
            _ => None,
        }
    }
    pub fn task(&self) -> Option<&TaskState> {
        match &self.state {
            State::Task(s) => Some(s),
            _ => None,
        }
    }
    pub fn handoff(&self) -> Option<&HandoffState> {
        match &self.state {
            State::Handoff(s) => Some(s),
            _ => None,
        }
    }
    pub fn quorum(&self) -> Option<&QuorumState> {
        match &self.state {
            State::Quorum(s) => Some(s),
            _ => None,
        }
    }
    pub fn multi_round(&self) -> Option<&MultiRoundState> {
        match &self.state {
            State::MultiRound(s) => Some(s),
            _ => None,
        }
    }

    /// The whole projection as JSON: `mode`, `session_id`, `initiator`,
    /// `participants`, `phase`, `applied`, `commitment` (null until one is
    /// applied), `anomalies`, and the mode's own fields (see each mode's
    /// state type). Field names follow the runtime's mode state where it has
    /// one (e.g. Decision `proposals`/`votes`, Proposal `disposition`, Handoff
    /// `offers`), so the spec's `expected_mode_state` can be compared directly.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("mode".into(), json!(self.mode));
        m.insert("session_id".into(), json!(self.session_id));
        m.insert("initiator".into(), json!(self.initiator));
        m.insert("participants".into(), json!(self.participants));
        m.insert("phase".into(), json!(self.phase()));
        m.insert("applied".into(), json!(self.applied));
        let commitment = self.commitment.as_ref().map(|(c, sender)| {
            json!({
                "commitment_id": c.commitment_id,
                "action": c.action,
                "authority_scope": c.authority_scope,
                "reason": c.reason,
                "outcome_positive": c.outcome_positive,
                "mode_version": c.mode_version,
                "configuration_version": c.configuration_version,
                "policy_version": c.policy_version,
                "sender": sender,
            })
        });
        m.insert("commitment".into(), commitment.unwrap_or(Value::Null));
        m.insert(
            "anomalies".into(),
            Value::Array(self.anomalies.iter().map(Anomaly::to_json).collect()),
        );
        match &self.state {
            State::Decision(s) => s.write_json(&mut m),
            State::Proposal(s) => s.write_json(&mut m),
            State::Task(s) => s.write_json(&mut m),
            State::Handoff(s) => s.write_json(&mut m),
            State::Quorum(s) => s.write_json(&mut m, &self.participants),
            State::MultiRound(s) => s.write_json(&mut m, &self.participants),
        }
        Value::Object(m)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An accepted envelope of `mode` in session "s1".
    pub(crate) fn env<M: Message>(
        mode: &str,
        message_type: &str,
        id: &str,
        sender: &str,
        payload: &M,
    ) -> pb::Envelope {
        pb::Envelope {
            macp_version: "1.0".into(),
            mode: mode.into(),
            message_type: message_type.into(),
            message_id: id.into(),
            session_id: "s1".into(),
            sender: sender.into(),
            timestamp_unix_ms: 0,
            payload: payload.encode_to_vec(),
        }
    }

    fn start(mode: &str, participants: &[&str]) -> pb::Envelope {
        let p = pb::SessionStartPayload {
            participants: participants.iter().map(|s| s.to_string()).collect(),
            ttl_ms: 1000,
            ..Default::default()
        };
        env(mode, "SessionStart", "m0", "coord", &p)
    }

    #[test]
    fn unknown_mode_is_refused() {
        assert!(Projection::new("ext.nope.v1").is_err());
        assert!(Projection::new("").is_err());
    }

    #[test]
    fn session_start_and_commitment_are_common_to_every_mode() {
        for mode in [
            modes::DECISION,
            modes::PROPOSAL,
            modes::TASK,
            modes::HANDOFF,
            modes::QUORUM,
            modes::MULTI_ROUND,
        ] {
            let mut p = Projection::new(mode).unwrap();
            assert!(p.apply(&start(mode, &["a", "b"])).unwrap());
            assert_eq!(p.initiator(), "coord");
            assert_eq!(p.participants(), ["a", "b"]);
            assert_eq!(p.session_id(), "s1");
            assert_ne!(p.phase(), COMMITTED);
            let c = pb::CommitmentPayload {
                commitment_id: "c1".into(),
                action: "x.done".into(),
                outcome_positive: true,
                ..Default::default()
            };
            assert!(p
                .apply(&env(mode, "Commitment", "m9", "coord", &c))
                .unwrap());
            assert_eq!(p.phase(), COMMITTED, "{mode}");
            assert_eq!(p.commitment().unwrap().0.action, "x.done");
            let j = p.to_json();
            assert_eq!(j["commitment"]["commitment_id"], "c1");
            assert_eq!(j["commitment"]["sender"], "coord");
            assert_eq!(j["phase"], COMMITTED);
            assert_eq!(j["applied"], 2);
        }
    }

    #[test]
    fn redelivery_is_ignored_and_bad_input_changes_nothing() {
        let mut p = Projection::new(modes::DECISION).unwrap();
        let s = start(modes::DECISION, &["a"]);
        assert!(p.apply(&s).unwrap());
        assert!(!p.apply(&s).unwrap());
        assert_eq!(p.applied(), 1);

        let mut other_mode = s.clone();
        other_mode.mode = modes::QUORUM.into();
        other_mode.message_id = "x1".into();
        assert!(p.apply(&other_mode).is_err());
        let mut other_session = s.clone();
        other_session.session_id = "s2".into();
        other_session.message_id = "x2".into();
        assert!(p.apply(&other_session).is_err());
        let mut garbage = s.clone();
        garbage.message_type = "Proposal".into();
        garbage.message_id = "x3".into();
        garbage.payload = vec![0xff, 0xff, 0xff];
        assert!(p.apply(&garbage).is_err());
        // The failed id was not consumed: a good payload under it applies.
        garbage.payload = macp_pb::decision_pb::ProposalPayload {
            proposal_id: "p1".into(),
            ..Default::default()
        }
        .encode_to_vec();
        assert!(p.apply(&garbage).unwrap());
        assert!(p.apply_encoded(&[0xff]).is_err());
        assert!(p.apply_encoded(&s.encode_to_vec()).is_ok());
        assert_eq!(p.applied(), 2);
    }

    #[test]
    fn empty_message_ids_are_never_deduplicated() {
        let mut p = Projection::new(modes::MULTI_ROUND).unwrap();
        let mut s = start(modes::MULTI_ROUND, &["a"]);
        s.message_id.clear();
        assert!(p.apply(&s).unwrap());
        assert!(p.apply(&s).unwrap());
        assert_eq!(p.applied(), 2);
    }
}
