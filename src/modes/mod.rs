//! Payload builders and message types of the MACP modes.

pub mod decision;
pub mod handoff;
pub mod multi_round;
pub mod proposal;
pub mod quorum;
pub mod rules;
pub mod task;

/// Mode identifiers of the standards-track modes and the built-in extension.
pub const DECISION: &str = "macp.mode.decision.v1";
pub const PROPOSAL: &str = "macp.mode.proposal.v1";
pub const TASK: &str = "macp.mode.task.v1";
pub const HANDOFF: &str = "macp.mode.handoff.v1";
pub const QUORUM: &str = "macp.mode.quorum.v1";
pub const MULTI_ROUND: &str = "ext.multi_round.v1";

/// A required string argument of a mode helper.
pub(crate) fn required(name: &str, v: &str) -> crate::Result<()> {
    if v.is_empty() {
        Err(crate::Error::invalid_argument(format!("{name} is empty")))
    } else {
        Ok(())
    }
}
