//! `macp.mode.task.v1` (RFC-MACP-0009): TaskRequest by the initiator,
//! TaskAccept or TaskReject by an eligible assignee, TaskUpdate, TaskComplete
//! or TaskFail by the active assignee, then a Commitment by the initiator.

use macp_pb::task_pb;

use super::required;
use crate::client::Ack;
use crate::error::{Error, Result};
use crate::session::Session;

/// The task-mode messages of a session: `session.task()`. Each helper
/// sends one message and waits for its acknowledgement; an empty required
/// argument is refused with `Status::InvalidArgument` before anything is sent.
#[derive(Clone, Copy)]
pub struct Task<'a>(&'a Session);

impl Session {
    /// The task-mode helpers of this session.
    pub fn task(&self) -> Task<'_> {
        Task(self)
    }
}

impl Task<'_> {
    /// Open the session's one task: `task_id` (required), a `title`,
    /// `instructions`, the `requested_assignee` (empty: any eligible
    /// participant may accept), opaque `input` and a requested deadline (Unix
    /// ms; 0 for none, never negative).
    pub async fn request(
        &self,
        task_id: &str,
        title: &str,
        instructions: &str,
        requested_assignee: &str,
        input: &[u8],
        deadline_unix_ms: i64,
    ) -> Result<Ack> {
        required("task_id", task_id)?;
        if deadline_unix_ms < 0 {
            return Err(Error::invalid_argument(
                "deadline_unix_ms must not be negative",
            ));
        }
        let p = task_pb::TaskRequestPayload {
            task_id: task_id.into(),
            title: title.into(),
            instructions: instructions.into(),
            requested_assignee: requested_assignee.into(),
            input: input.to_vec(),
            deadline_unix_ms,
        };
        self.0.send("TaskRequest", &p).await
    }

    /// Take the task. `assignee` names this participant (empty: the runtime
    /// takes the authenticated sender). The first accepted TaskAccept
    /// designates the session's one assignee.
    pub async fn accept(&self, task_id: &str, assignee: &str, reason: &str) -> Result<Ack> {
        required("task_id", task_id)?;
        let p = task_pb::TaskAcceptPayload {
            task_id: task_id.into(),
            assignee: assignee.into(),
            reason: reason.into(),
        };
        self.0.send("TaskAccept", &p).await
    }

    /// Decline the task. `assignee` names this participant (empty: the
    /// authenticated sender).
    pub async fn reject(&self, task_id: &str, assignee: &str, reason: &str) -> Result<Ack> {
        required("task_id", task_id)?;
        let p = task_pb::TaskRejectPayload {
            task_id: task_id.into(),
            assignee: assignee.into(),
            reason: reason.into(),
        };
        self.0.send("TaskReject", &p).await
    }

    /// Report progress (active assignee only): a free-form `status`,
    /// `progress` as a fraction in `[0, 1]`, a `message` and opaque
    /// `partial_output`.
    pub async fn update(
        &self,
        task_id: &str,
        status: &str,
        progress: f64,
        message: &str,
        partial_output: &[u8],
    ) -> Result<Ack> {
        required("task_id", task_id)?;
        if !(0.0..=1.0).contains(&progress) {
            return Err(Error::invalid_argument("progress must be within [0, 1]"));
        }
        let p = task_pb::TaskUpdatePayload {
            task_id: task_id.into(),
            status: status.into(),
            progress,
            message: message.into(),
            partial_output: partial_output.to_vec(),
        };
        self.0.send("TaskUpdate", &p).await
    }

    /// Report success (active assignee only; `assignee` empty or its
    /// identity) with opaque `output` and a `summary`. It does not resolve the
    /// session: the initiator commits.
    pub async fn complete(
        &self,
        task_id: &str,
        assignee: &str,
        output: &[u8],
        summary: &str,
    ) -> Result<Ack> {
        required("task_id", task_id)?;
        let p = task_pb::TaskCompletePayload {
            task_id: task_id.into(),
            assignee: assignee.into(),
            output: output.to_vec(),
            summary: summary.into(),
        };
        self.0.send("TaskComplete", &p).await
    }

    /// Report a bounded failure (active assignee only; `assignee` empty or
    /// its identity): a machine-readable `error_code`, a `reason`, and
    /// whether a retry may succeed.
    pub async fn fail(
        &self,
        task_id: &str,
        assignee: &str,
        error_code: &str,
        reason: &str,
        retryable: bool,
    ) -> Result<Ack> {
        required("task_id", task_id)?;
        let p = task_pb::TaskFailPayload {
            task_id: task_id.into(),
            assignee: assignee.into(),
            error_code: error_code.into(),
            reason: reason.into(),
            retryable,
        };
        self.0.send("TaskFail", &p).await
    }
}
