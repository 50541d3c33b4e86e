//! Payload builders and message types of the MACP modes.

pub mod decision;

/// Mode identifiers of the standards-track modes and the built-in extension.
pub const DECISION: &str = "macp.mode.decision.v1";
pub const PROPOSAL: &str = "macp.mode.proposal.v1";
pub const TASK: &str = "macp.mode.task.v1";
pub const HANDOFF: &str = "macp.mode.handoff.v1";
pub const QUORUM: &str = "macp.mode.quorum.v1";
pub const MULTI_ROUND: &str = "ext.multi_round.v1";
