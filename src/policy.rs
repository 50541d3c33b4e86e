//! Policy builders: the governance policy documents (RFC-MACP-0012) that
//! `RegisterPolicy` accepts, built from typed settings per mode and checked
//! here against the rule schemas before anything is sent, so a bad value is
//! refused with a message naming the field instead of a round trip ending in
//! `INVALID_POLICY_DEFINITION`.
//!
//! A [`PolicyBuilder`] starts from the rules the schemas default to (for
//! decision: no voting requirement, initiator-only commitment) and each
//! setter changes one section. A setter of another mode's section fails;
//! values are range-checked by the setter, combinations by [`PolicyBuilder::build`].

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::modes::{DECISION, HANDOFF, PROPOSAL, QUORUM, TASK};
use crate::pb;

/// Who may send the Commitment (`rules.commitment.authority`, every mode).
pub const COMMITMENT_AUTHORITIES: &[&str] =
    &["initiator_only", "any_participant", "designated_role"];
/// Decision `voting.algorithm`.
pub const VOTING_ALGORITHMS: &[&str] = &[
    "none",
    "majority",
    "supermajority",
    "unanimous",
    "weighted",
    "plurality",
];
/// Decision `voting.quorum.type`.
pub const VOTING_QUORUM_TYPES: &[&str] = &["count", "percentage"];
/// Decision `objection_handling.critical_objection_action`.
pub const CRITICAL_OBJECTION_ACTIONS: &[&str] = &["deny", "finalize_decline", "hold"];
/// Quorum `threshold.type`.
pub const QUORUM_THRESHOLD_TYPES: &[&str] = &["n_of_m", "percentage"];
/// Quorum `abstention.interpretation`.
pub const ABSTENTION_INTERPRETATIONS: &[&str] = &["neutral", "implicit_reject", "ignored"];
/// Proposal `acceptance.criterion`.
pub const ACCEPTANCE_CRITERIA: &[&str] = &["all_parties", "counterparty", "initiator"];

/// Schema versions a decision policy may declare; the other modes' rule
/// schemas are at version 1.
pub const DECISION_SCHEMA_VERSIONS: std::ops::RangeInclusive<u32> = 1..=3;

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(Error::invalid_argument(format!(
            "{field} must be one of {}, not {value:?}",
            allowed.join(", ")
        )))
    }
}

fn finite(field: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::invalid_argument(format!(
            "{field} must be a finite number, not {v}"
        )))
    }
}

/// The rules of one mode, as the builder holds them.
#[derive(Clone, Debug, PartialEq)]
enum Rules {
    Decision(Decision),
    Quorum(Quorum),
    Proposal(Proposal),
    Task(Task),
    Handoff(Handoff),
}

#[derive(Clone, Debug, PartialEq)]
struct Decision {
    algorithm: String,
    threshold: f64,
    quorum: Option<(String, f64)>,
    weights: Vec<(String, f64)>,
    critical_severity_vetoes: bool,
    veto_threshold: u32,
    critical_objection_action: String,
    minimum_confidence: f64,
    required_before_voting: bool,
    require_vote_quorum: bool,
    allow_decline_over_approval: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Quorum {
    threshold_type: String,
    threshold_value: u32,
    counts_toward_quorum: bool,
    interpretation: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Proposal {
    criterion: String,
    max_rounds: u32,
    terminal_on_any_reject: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Task {
    allow_reassignment_on_reject: bool,
    require_output: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Handoff {
    implicit_accept_timeout_ms: u64,
}

/// A governance policy under construction, for one mode.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyBuilder {
    policy_id: String,
    mode: &'static str,
    description: String,
    schema_version: u32,
    authority: String,
    designated_roles: Vec<String>,
    rules: Rules,
}

impl PolicyBuilder {
    /// A policy `policy_id` for `mode`, one of the standards-track modes
    /// (`macp.mode.decision.v1`, `.quorum.v1`, `.proposal.v1`, `.task.v1`,
    /// `.handoff.v1`), with the schema's default rules. A decision policy
    /// declares schema version 3 (an empty tally fails closed), the others 1.
    pub fn new(mode: &str, policy_id: &str) -> Result<PolicyBuilder> {
        if policy_id.trim().is_empty() {
            return Err(Error::invalid_argument("policy_id is empty"));
        }
        let (mode, rules, schema_version) = match mode {
            DECISION => (
                DECISION,
                Rules::Decision(Decision {
                    algorithm: "none".into(),
                    threshold: 0.5,
                    quorum: None,
                    weights: Vec::new(),
                    critical_severity_vetoes: false,
                    veto_threshold: 1,
                    critical_objection_action: "deny".into(),
                    minimum_confidence: 0.0,
                    required_before_voting: false,
                    require_vote_quorum: false,
                    allow_decline_over_approval: false,
                }),
                3,
            ),
            QUORUM => (
                QUORUM,
                Rules::Quorum(Quorum {
                    threshold_type: "n_of_m".into(),
                    threshold_value: 1,
                    counts_toward_quorum: false,
                    interpretation: "neutral".into(),
                }),
                1,
            ),
            PROPOSAL => (
                PROPOSAL,
                Rules::Proposal(Proposal {
                    criterion: "all_parties".into(),
                    max_rounds: 0,
                    terminal_on_any_reject: false,
                }),
                1,
            ),
            TASK => (
                TASK,
                Rules::Task(Task {
                    allow_reassignment_on_reject: false,
                    require_output: false,
                }),
                1,
            ),
            HANDOFF => (
                HANDOFF,
                Rules::Handoff(Handoff {
                    implicit_accept_timeout_ms: 0,
                }),
                1,
            ),
            other => {
                return Err(Error::invalid_argument(format!(
                    "no policy rules are defined for mode {other:?} (expected one of {DECISION}, {QUORUM}, {PROPOSAL}, {TASK}, {HANDOFF})"
                )))
            }
        };
        Ok(PolicyBuilder {
            policy_id: policy_id.to_string(),
            mode,
            description: String::new(),
            schema_version,
            authority: "initiator_only".into(),
            designated_roles: Vec::new(),
            rules,
        })
    }

    pub fn policy_id(&self) -> &str {
        &self.policy_id
    }
    pub fn mode(&self) -> &str {
        self.mode
    }

    pub fn description(&mut self, description: &str) -> &mut Self {
        self.description = description.to_string();
        self
    }

    /// The RFC-MACP-0012 rule semantics to evaluate under: 1 to 3 for a
    /// decision policy (1 and 2 let an empty tally pass), 1 for the others.
    pub fn schema_version(&mut self, version: u32) -> Result<&mut Self> {
        let ok = match self.rules {
            Rules::Decision(_) => DECISION_SCHEMA_VERSIONS.contains(&version),
            _ => version == 1,
        };
        if !ok {
            return Err(Error::invalid_argument(match self.rules {
                Rules::Decision(_) => {
                    format!("schema_version must be 1 to 3 for a decision policy, not {version}")
                }
                _ => format!(
                    "schema_version must be 1 for a {} policy, not {version}",
                    self.mode
                ),
            }));
        }
        self.schema_version = version;
        Ok(self)
    }

    /// `commitment.authority`: `initiator_only`, `any_participant` or
    /// `designated_role` (then name the roles with [`Self::designated_role`]).
    pub fn commitment_authority(&mut self, authority: &str) -> Result<&mut Self> {
        self.authority = one_of("commitment.authority", authority, COMMITMENT_AUTHORITIES)?;
        Ok(self)
    }

    /// Add a sender to `commitment.designated_roles`.
    pub fn designated_role(&mut self, role: &str) -> Result<&mut Self> {
        if role.trim().is_empty() {
            return Err(Error::invalid_argument("a designated role is empty"));
        }
        if !self.designated_roles.iter().any(|r| r == role) {
            self.designated_roles.push(role.to_string());
        }
        Ok(self)
    }

    fn decision(&mut self, what: &str) -> Result<&mut Decision> {
        match &mut self.rules {
            Rules::Decision(d) => Ok(d),
            _ => Err(self_mode_error(what, DECISION, self.mode)),
        }
    }

    /// Decision `voting`: the algorithm and its approval threshold, a
    /// fraction in (0, 1] (`majority` needs at least 0.5, `supermajority`
    /// more than 0.5).
    pub fn voting(&mut self, algorithm: &str, threshold: f64) -> Result<&mut Self> {
        let d = self.decision("voting")?;
        let algorithm = one_of("voting.algorithm", algorithm, VOTING_ALGORITHMS)?;
        let threshold = finite("voting.threshold", threshold)?;
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::invalid_argument(format!(
                "voting.threshold must be greater than 0 and at most 1, not {threshold}"
            )));
        }
        d.algorithm = algorithm;
        d.threshold = threshold;
        Ok(self)
    }

    /// Decision `voting.quorum`: how many ballots must be cast (`count`) or
    /// which share of the participants (`percentage`, 0 to 100).
    pub fn voting_quorum(&mut self, kind: &str, value: f64) -> Result<&mut Self> {
        let d = self.decision("voting.quorum")?;
        let kind = one_of("voting.quorum.type", kind, VOTING_QUORUM_TYPES)?;
        let value = finite("voting.quorum.value", value)?;
        if value < 0.0 || (kind == "percentage" && value > 100.0) {
            return Err(Error::invalid_argument(format!(
                "voting.quorum.value must be at least 0{}, not {value}",
                if kind == "percentage" {
                    " and at most 100"
                } else {
                    ""
                }
            )));
        }
        d.quorum = Some((kind, value));
        Ok(self)
    }

    /// Decision `voting.weights`: the weight of one participant's vote
    /// (greater than 0; leave a participant out to give it none).
    pub fn voting_weight(&mut self, participant: &str, weight: f64) -> Result<&mut Self> {
        let d = self.decision("voting.weights")?;
        if participant.is_empty() {
            return Err(Error::invalid_argument(
                "voting.weights: participant is empty",
            ));
        }
        let weight = finite("voting.weights", weight)?;
        if weight <= 0.0 {
            return Err(Error::invalid_argument(format!(
                "voting.weights[{participant:?}] must be greater than 0, not {weight} (leave a participant out to give it no weight)"
            )));
        }
        match d.weights.iter_mut().find(|(p, _)| p == participant) {
            Some(w) => w.1 = weight,
            None => d.weights.push((participant.to_string(), weight)),
        }
        Ok(self)
    }

    /// Decision `objection_handling`: whether a critical objection vetoes,
    /// how many it takes (at least 1), and what a veto does (`deny`,
    /// `finalize_decline`, `hold`).
    pub fn objection_handling(
        &mut self,
        critical_severity_vetoes: bool,
        veto_threshold: u32,
        action: &str,
    ) -> Result<&mut Self> {
        let d = self.decision("objection_handling")?;
        if veto_threshold == 0 {
            return Err(Error::invalid_argument(
                "objection_handling.veto_threshold must be at least 1",
            ));
        }
        let action = one_of(
            "objection_handling.critical_objection_action",
            action,
            CRITICAL_OBJECTION_ACTIONS,
        )?;
        d.critical_severity_vetoes = critical_severity_vetoes;
        d.veto_threshold = veto_threshold;
        d.critical_objection_action = action;
        Ok(self)
    }

    /// Decision `evaluation`: the lowest evaluation confidence that counts
    /// (0 to 1) and whether evaluations must come before votes.
    pub fn evaluation(
        &mut self,
        minimum_confidence: f64,
        required_before_voting: bool,
    ) -> Result<&mut Self> {
        let d = self.decision("evaluation")?;
        let c = finite("evaluation.minimum_confidence", minimum_confidence)?;
        if !(0.0..=1.0).contains(&c) {
            return Err(Error::invalid_argument(format!(
                "evaluation.minimum_confidence must be 0 to 1, not {c}"
            )));
        }
        d.minimum_confidence = c;
        d.required_before_voting = required_before_voting;
        Ok(self)
    }

    /// Decision `commitment.require_vote_quorum` and
    /// `commitment.allow_decline_over_approval`.
    pub fn decision_commitment(
        &mut self,
        require_vote_quorum: bool,
        allow_decline_over_approval: bool,
    ) -> Result<&mut Self> {
        let d = self.decision("commitment.require_vote_quorum")?;
        d.require_vote_quorum = require_vote_quorum;
        d.allow_decline_over_approval = allow_decline_over_approval;
        Ok(self)
    }

    fn quorum(&mut self, what: &str) -> Result<&mut Quorum> {
        match &mut self.rules {
            Rules::Quorum(q) => Ok(q),
            _ => Err(self_mode_error(what, QUORUM, self.mode)),
        }
    }

    /// Quorum `threshold`: approvals needed, as a count (`n_of_m`, at least
    /// 1) or a whole percentage of the participants (`percentage`, 1 to 100).
    pub fn quorum_threshold(&mut self, kind: &str, value: u32) -> Result<&mut Self> {
        let q = self.quorum("threshold")?;
        let kind = one_of("threshold.type", kind, QUORUM_THRESHOLD_TYPES)?;
        if value == 0 || (kind == "percentage" && value > 100) {
            return Err(Error::invalid_argument(format!(
                "threshold.value must be {}, not {value}",
                if kind == "percentage" {
                    "1 to 100 for a percentage"
                } else {
                    "at least 1"
                }
            )));
        }
        q.threshold_type = kind;
        q.threshold_value = value;
        Ok(self)
    }

    /// Quorum `abstention`: whether an abstention counts toward the quorum,
    /// and how it is read (`neutral`, `implicit_reject`, `ignored`).
    pub fn abstention(
        &mut self,
        counts_toward_quorum: bool,
        interpretation: &str,
    ) -> Result<&mut Self> {
        let q = self.quorum("abstention")?;
        let interpretation = one_of(
            "abstention.interpretation",
            interpretation,
            ABSTENTION_INTERPRETATIONS,
        )?;
        q.counts_toward_quorum = counts_toward_quorum;
        q.interpretation = interpretation;
        Ok(self)
    }

    fn proposal(&mut self, what: &str) -> Result<&mut Proposal> {
        match &mut self.rules {
            Rules::Proposal(p) => Ok(p),
            _ => Err(self_mode_error(what, PROPOSAL, self.mode)),
        }
    }

    /// Proposal `acceptance.criterion`: `all_parties`, `counterparty` or
    /// `initiator`.
    pub fn acceptance_criterion(&mut self, criterion: &str) -> Result<&mut Self> {
        let p = self.proposal("acceptance")?;
        p.criterion = one_of("acceptance.criterion", criterion, ACCEPTANCE_CRITERIA)?;
        Ok(self)
    }

    /// Proposal `counter_proposal.max_rounds` (0: no limit).
    pub fn counter_proposal_max_rounds(&mut self, max_rounds: u32) -> Result<&mut Self> {
        self.proposal("counter_proposal")?.max_rounds = max_rounds;
        Ok(self)
    }

    /// Proposal `rejection.terminal_on_any_reject`.
    pub fn terminal_on_any_reject(&mut self, terminal: bool) -> Result<&mut Self> {
        self.proposal("rejection")?.terminal_on_any_reject = terminal;
        Ok(self)
    }

    /// Task `assignment.allow_reassignment_on_reject` and
    /// `completion.require_output`.
    pub fn task_rules(
        &mut self,
        allow_reassignment_on_reject: bool,
        require_output: bool,
    ) -> Result<&mut Self> {
        match &mut self.rules {
            Rules::Task(t) => {
                t.allow_reassignment_on_reject = allow_reassignment_on_reject;
                t.require_output = require_output;
                Ok(self)
            }
            _ => Err(self_mode_error("assignment", TASK, self.mode)),
        }
    }

    /// Handoff `acceptance.implicit_accept_timeout_ms` (0: no implicit
    /// acceptance).
    pub fn implicit_accept_timeout_ms(&mut self, ms: u64) -> Result<&mut Self> {
        if ms > i64::MAX as u64 {
            return Err(Error::invalid_argument(format!(
                "acceptance.implicit_accept_timeout_ms {ms} is out of range"
            )));
        }
        match &mut self.rules {
            Rules::Handoff(h) => {
                h.implicit_accept_timeout_ms = ms;
                Ok(self)
            }
            _ => Err(self_mode_error("acceptance", HANDOFF, self.mode)),
        }
    }

    /// The `rules` object, after the checks that involve more than one
    /// setting.
    pub fn rules(&self) -> Result<Value> {
        if self.authority == "designated_role" && self.designated_roles.is_empty() {
            return Err(Error::invalid_argument(
                "commitment.authority is designated_role but no designated role is named: no sender could commit",
            ));
        }
        let mut commitment = Map::new();
        commitment.insert("authority".into(), json!(self.authority));
        commitment.insert("designated_roles".into(), json!(self.designated_roles));
        let rules = match &self.rules {
            Rules::Decision(d) => {
                if d.algorithm == "majority" && d.threshold < 0.5 {
                    return Err(Error::invalid_argument(format!(
                        "voting.threshold must be at least 0.5 for majority, not {}",
                        d.threshold
                    )));
                }
                if d.algorithm == "supermajority" && d.threshold <= 0.5 {
                    return Err(Error::invalid_argument(format!(
                        "voting.threshold must be more than 0.5 for supermajority, not {} (set it, e.g. 0.67)",
                        d.threshold
                    )));
                }
                if d.algorithm == "weighted" && d.weights.is_empty() {
                    return Err(Error::invalid_argument(
                        "voting.algorithm weighted needs at least one voting weight",
                    ));
                }
                let mut voting = Map::new();
                voting.insert("algorithm".into(), json!(d.algorithm));
                voting.insert("threshold".into(), json!(d.threshold));
                if let Some((kind, value)) = &d.quorum {
                    voting.insert("quorum".into(), json!({"type": kind, "value": value}));
                }
                if !d.weights.is_empty() {
                    let w: Map<String, Value> = d
                        .weights
                        .iter()
                        .map(|(p, w)| (p.clone(), json!(w)))
                        .collect();
                    voting.insert("weights".into(), Value::Object(w));
                }
                commitment.insert("require_vote_quorum".into(), json!(d.require_vote_quorum));
                commitment.insert(
                    "allow_decline_over_approval".into(),
                    json!(d.allow_decline_over_approval),
                );
                json!({
                    "voting": voting,
                    "objection_handling": {
                        "critical_severity_vetoes": d.critical_severity_vetoes,
                        "veto_threshold": d.veto_threshold,
                        "critical_objection_action": d.critical_objection_action,
                    },
                    "evaluation": {
                        "minimum_confidence": d.minimum_confidence,
                        "required_before_voting": d.required_before_voting,
                    },
                    "commitment": commitment,
                })
            }
            Rules::Quorum(q) => json!({
                "threshold": {"type": q.threshold_type, "value": q.threshold_value},
                "abstention": {
                    "counts_toward_quorum": q.counts_toward_quorum,
                    "interpretation": q.interpretation,
                },
                "commitment": commitment,
            }),
            Rules::Proposal(p) => json!({
                "acceptance": {"criterion": p.criterion},
                "counter_proposal": {"max_rounds": p.max_rounds},
                "rejection": {"terminal_on_any_reject": p.terminal_on_any_reject},
                "commitment": commitment,
            }),
            Rules::Task(t) => json!({
                "assignment": {"allow_reassignment_on_reject": t.allow_reassignment_on_reject},
                "completion": {"require_output": t.require_output},
                "commitment": commitment,
            }),
            Rules::Handoff(h) => json!({
                "acceptance": {"implicit_accept_timeout_ms": h.implicit_accept_timeout_ms},
                "commitment": commitment,
            }),
        };
        Ok(rules)
    }

    /// The policy as `Client::register_policy` takes it.
    pub fn build(&self) -> Result<pb::PolicyDescriptor> {
        Ok(pb::PolicyDescriptor {
            policy_id: self.policy_id.clone(),
            mode: self.mode.to_string(),
            description: self.description.clone(),
            rules: self.rules()?.to_string(),
            schema_version: self.schema_version,
            ..Default::default()
        })
    }

    /// The policy as JSON in the form `registry::policy_from_json` (and the
    /// C ABI's `macp_client_register_policy`) takes: `rules` an object.
    pub fn to_value(&self) -> Result<Value> {
        Ok(json!({
            "policy_id": self.policy_id,
            "mode": self.mode,
            "description": self.description,
            "schema_version": self.schema_version,
            "rules": self.rules()?,
        }))
    }
}

fn self_mode_error(section: &str, wanted: &str, mode: &str) -> Error {
    Error::invalid_argument(format!(
        "{section} is a rule of {wanted} policies, not of {mode} ones"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn defaults_follow_the_schemas() {
        let d = PolicyBuilder::new(DECISION, "policy.d").unwrap();
        let v = d.to_value().unwrap();
        assert_eq!(v["schema_version"], 3);
        assert_eq!(v["rules"]["voting"]["algorithm"], "none");
        assert_eq!(v["rules"]["commitment"]["authority"], "initiator_only");
        assert!(v["rules"]["voting"].get("quorum").is_none());
        let q = PolicyBuilder::new(QUORUM, "policy.q").unwrap();
        assert_eq!(q.to_value().unwrap()["rules"]["threshold"]["value"], 1);
        assert_eq!(q.build().unwrap().schema_version, 1);
    }

    #[test]
    fn bad_values_are_refused_with_the_field_named() {
        let mut d = PolicyBuilder::new(DECISION, "policy.d").unwrap();
        for t in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            let e = d.voting("majority", t).unwrap_err();
            assert_eq!(e.status, Status::InvalidArgument);
            assert!(e.message.contains("voting.threshold"), "{e}");
        }
        let e = d.voting("most", 0.5).unwrap_err();
        assert!(e.message.contains("voting.algorithm"), "{e}");
        assert!(d.objection_handling(true, 0, "deny").is_err());
        assert!(d.objection_handling(true, 1, "shrug").is_err());
        assert!(d.evaluation(1.5, false).is_err());
        assert!(d.voting_weight("a", 0.0).is_err());
        assert!(d.voting_quorum("percentage", 101.0).is_err());
        assert!(d.schema_version(4).is_err());
        assert!(d.quorum_threshold("n_of_m", 2).is_err(), "a quorum rule");
        d.voting("supermajority", 0.5).unwrap();
        assert!(d.build().unwrap_err().message.contains("supermajority"));
        d.voting("weighted", 0.5).unwrap();
        assert!(d.build().unwrap_err().message.contains("weight"));
        d.voting_weight("a", 2.0).unwrap();
        d.build().unwrap();
        d.commitment_authority("designated_role").unwrap();
        assert!(d.build().unwrap_err().message.contains("designated"));
        d.designated_role("agent://lead").unwrap();
        d.build().unwrap();

        let mut q = PolicyBuilder::new(QUORUM, "policy.q").unwrap();
        assert!(q.quorum_threshold("n_of_m", 0).is_err());
        assert!(q.quorum_threshold("percentage", 101).is_err());
        assert!(q.quorum_threshold("weighted", 1).is_err());
        assert!(q.schema_version(2).is_err());
        assert!(q.voting("none", 0.5).is_err(), "a decision rule");

        assert!(PolicyBuilder::new("macp.mode.nope.v1", "p").is_err());
        assert!(PolicyBuilder::new(DECISION, " ").is_err());
    }
}
