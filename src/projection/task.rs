//! Task mode: the requested task(s) with status, progress and assignee, the
//! session's one assignee slot (the first accepted TaskAccept holds it), and
//! the updates, rejections and terminal reports. Phases: `Pending`,
//! `Requested`, `InProgress`, `Completed` or `Failed`, `Committed`.
//!
//! Task status values: `requested`, `accepted`, `in_progress`, `completed`,
//! `failed`, `rejected` (given back by the assignee under a reassignment
//! policy).

use std::collections::BTreeMap;

use macp_pb::{pb, task_pb};
use serde_json::{json, Map, Value};

use super::{decode, set_phase, Anomaly, Ctx, DUPLICATE_TASK_ACCEPT};
use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub task_id: String,
    pub title: String,
    pub instructions: String,
    pub requested_assignee: String,
    /// The TaskRequest's sender.
    pub requester: String,
    pub deadline_unix_ms: i64,
    pub status: &'static str,
    pub progress: f64,
    pub assignee: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub task_id: String,
    pub status: String,
    pub progress: f64,
    pub message: String,
    pub sender: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub task_id: String,
    pub assignee: String,
    pub reason: String,
    pub sender: String,
    /// Sent by the active assignee (giving the task back), not before
    /// assignment (declining it).
    pub while_assigned: bool,
}

/// A TaskComplete (`error_code` empty, `retryable` false) or TaskFail.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub task_id: String,
    pub assignee: String,
    pub completed: bool,
    pub summary: String,
    pub error_code: String,
    pub reason: String,
    pub retryable: bool,
    pub sender: String,
}

/// JSON: `phase`, `tasks` (by id: `task_id`, `title`, `instructions`,
/// `requested_assignee`, `requester`, `deadline_unix_ms`, `status`,
/// `progress`, `assignee` or null), `active_assignee` (the sender holding the
/// slot, or null), `updates`, `rejections` and `reports` (lists in order).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskState {
    pub phase: &'static str,
    pub tasks: BTreeMap<String, Task>,
    /// (sender, task id) of the assignee slot's holder.
    pub active: Option<(String, String)>,
    pub updates: Vec<Update>,
    pub rejections: Vec<Rejection>,
    pub reports: Vec<Report>,
}

impl Default for TaskState {
    fn default() -> Self {
        TaskState {
            phase: "Pending",
            tasks: BTreeMap::new(),
            active: None,
            updates: Vec::new(),
            rejections: Vec::new(),
            reports: Vec::new(),
        }
    }
}

/// The payload's assignee, or the sender when it is empty (as the runtime
/// reads it).
fn assignee_or(assignee: String, sender: &str) -> String {
    if assignee.is_empty() {
        sender.to_string()
    } else {
        assignee
    }
}

impl TaskState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, ctx: &mut Ctx) -> Result<()> {
        let sender = &env.sender;
        match env.message_type.as_str() {
            "TaskRequest" => {
                let p: task_pb::TaskRequestPayload = decode(env)?;
                self.tasks.entry(p.task_id.clone()).or_insert(Task {
                    task_id: p.task_id,
                    title: p.title,
                    instructions: p.instructions,
                    requested_assignee: p.requested_assignee,
                    requester: sender.clone(),
                    deadline_unix_ms: p.deadline_unix_ms,
                    status: "requested",
                    progress: 0.0,
                    assignee: None,
                });
                set_phase(&mut self.phase, "Requested");
            }
            "TaskAccept" => {
                let p: task_pb::TaskAcceptPayload = decode(env)?;
                let Some(task) = self.tasks.get_mut(&p.task_id) else {
                    return Ok(());
                };
                if let Some((holder, held)) = &self.active {
                    let detail = format!(
                        "assignee slot already held by '{holder}' for task '{held}'; discarded TaskAccept for task '{}' from '{sender}'",
                        p.task_id
                    );
                    ctx.anomalies.push(Anomaly::new(
                        DUPLICATE_TASK_ACCEPT,
                        env,
                        &p.task_id,
                        detail,
                    ));
                    return Ok(());
                }
                task.assignee = Some(assignee_or(p.assignee, sender));
                task.status = "accepted";
                self.active = Some((sender.clone(), p.task_id));
                set_phase(&mut self.phase, "InProgress");
            }
            "TaskReject" => {
                let p: task_pb::TaskRejectPayload = decode(env)?;
                let while_assigned = self.active.as_ref().is_some_and(|(s, _)| s == sender);
                if while_assigned {
                    if let Some((_, held)) = self.active.take() {
                        if let Some(t) = self.tasks.get_mut(&held) {
                            t.assignee = None;
                            t.status = "rejected";
                        }
                    }
                    set_phase(&mut self.phase, "Requested");
                }
                self.rejections.push(Rejection {
                    task_id: p.task_id,
                    assignee: assignee_or(p.assignee, sender),
                    reason: p.reason,
                    sender: sender.clone(),
                    while_assigned,
                });
            }
            "TaskUpdate" => {
                let p: task_pb::TaskUpdatePayload = decode(env)?;
                if let Some(t) = self.tasks.get_mut(&p.task_id) {
                    t.status = "in_progress";
                    t.progress = p.progress;
                }
                self.updates.push(Update {
                    task_id: p.task_id,
                    status: p.status,
                    progress: p.progress,
                    message: p.message,
                    sender: sender.clone(),
                });
            }
            "TaskComplete" => {
                let p: task_pb::TaskCompletePayload = decode(env)?;
                if let Some(t) = self.tasks.get_mut(&p.task_id) {
                    t.status = "completed";
                    t.progress = 1.0;
                    set_phase(&mut self.phase, "Completed");
                }
                self.reports.push(Report {
                    task_id: p.task_id,
                    assignee: assignee_or(p.assignee, sender),
                    completed: true,
                    summary: p.summary,
                    error_code: String::new(),
                    reason: String::new(),
                    retryable: false,
                    sender: sender.clone(),
                });
            }
            "TaskFail" => {
                let p: task_pb::TaskFailPayload = decode(env)?;
                if let Some(t) = self.tasks.get_mut(&p.task_id) {
                    t.status = "failed";
                    set_phase(&mut self.phase, "Failed");
                }
                self.reports.push(Report {
                    task_id: p.task_id,
                    assignee: assignee_or(p.assignee, sender),
                    completed: false,
                    summary: String::new(),
                    error_code: p.error_code,
                    reason: p.reason,
                    retryable: p.retryable,
                    sender: sender.clone(),
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The sender holding the session's assignee slot.
    pub fn active_assignee(&self) -> Option<&str> {
        self.active.as_ref().map(|(s, _)| s.as_str())
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>) {
        let tasks: Map<_, _> = self
            .tasks
            .iter()
            .map(|(id, t)| {
                let v = json!({
                    "task_id": t.task_id,
                    "title": t.title,
                    "instructions": t.instructions,
                    "requested_assignee": t.requested_assignee,
                    "requester": t.requester,
                    "deadline_unix_ms": t.deadline_unix_ms,
                    "status": t.status,
                    "progress": t.progress,
                    "assignee": t.assignee,
                });
                (id.clone(), v)
            })
            .collect();
        let updates: Vec<_> = self
            .updates
            .iter()
            .map(|u| {
                json!({
                    "task_id": u.task_id,
                    "status": u.status,
                    "progress": u.progress,
                    "message": u.message,
                    "sender": u.sender,
                })
            })
            .collect();
        let rejections: Vec<_> = self
            .rejections
            .iter()
            .map(|r| {
                json!({
                    "task_id": r.task_id,
                    "assignee": r.assignee,
                    "reason": r.reason,
                    "sender": r.sender,
                    "while_assigned": r.while_assigned,
                })
            })
            .collect();
        let reports: Vec<_> = self
            .reports
            .iter()
            .map(|r| {
                json!({
                    "task_id": r.task_id,
                    "assignee": r.assignee,
                    "outcome": if r.completed { "completed" } else { "failed" },
                    "summary": r.summary,
                    "error_code": r.error_code,
                    "reason": r.reason,
                    "retryable": r.retryable,
                    "sender": r.sender,
                })
            })
            .collect();
        m.insert("tasks".into(), Value::Object(tasks));
        m.insert("active_assignee".into(), json!(self.active_assignee()));
        m.insert("updates".into(), Value::Array(updates));
        m.insert("rejections".into(), Value::Array(rejections));
        m.insert("reports".into(), Value::Array(reports));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::{Projection, DUPLICATE_TASK_ACCEPT};
    use crate::modes::TASK;
    use macp_pb::task_pb::*;

    #[test]
    fn assignment_progress_and_competing_accept() {
        let mut p = Projection::new(TASK).unwrap();
        assert_eq!(p.phase(), "Pending");
        let req = TaskRequestPayload {
            task_id: "t1".into(),
            title: "build".into(),
            deadline_unix_ms: 5,
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskRequest", "m1", "planner", &req))
            .unwrap();
        assert_eq!(p.phase(), "Requested");
        let decline = TaskRejectPayload {
            task_id: "t1".into(),
            assignee: String::new(),
            reason: "busy".into(),
        };
        p.apply(&env(TASK, "TaskReject", "m2", "carol", &decline))
            .unwrap();
        let accept = |id: &str| TaskAcceptPayload {
            task_id: "t1".into(),
            assignee: id.into(),
            reason: String::new(),
        };
        p.apply(&env(TASK, "TaskAccept", "m3", "worker", &accept("")))
            .unwrap();
        assert_eq!(p.phase(), "InProgress");
        p.apply(&env(TASK, "TaskAccept", "m4", "bob", &accept("bob")))
            .unwrap();
        assert_eq!(p.anomalies().len(), 1);
        assert_eq!(p.anomalies()[0].kind, DUPLICATE_TASK_ACCEPT);
        assert_eq!(p.anomalies()[0].sender, "bob");
        assert_eq!(p.anomalies()[0].subject_id, "t1");

        let up = TaskUpdatePayload {
            task_id: "t1".into(),
            status: "halfway".into(),
            progress: 0.5,
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskUpdate", "m5", "worker", &up))
            .unwrap();
        let j = p.to_json();
        assert_eq!(j["tasks"]["t1"]["status"], "in_progress");
        assert_eq!(j["tasks"]["t1"]["progress"], 0.5);
        assert_eq!(j["tasks"]["t1"]["assignee"], "worker");
        assert_eq!(j["tasks"]["t1"]["requester"], "planner");
        assert_eq!(j["active_assignee"], "worker");
        assert_eq!(j["rejections"][0]["while_assigned"], false);
        assert_eq!(j["rejections"][0]["assignee"], "carol");

        let done = TaskCompletePayload {
            task_id: "t1".into(),
            summary: "ok".into(),
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskComplete", "m6", "worker", &done))
            .unwrap();
        assert_eq!(p.phase(), "Completed");
        let j = p.to_json();
        assert_eq!(j["tasks"]["t1"]["status"], "completed");
        assert_eq!(j["tasks"]["t1"]["progress"], 1.0);
        assert_eq!(j["reports"][0]["outcome"], "completed");
    }

    #[test]
    fn failure_and_reassignment() {
        let mut p = Projection::new(TASK).unwrap();
        let req = TaskRequestPayload {
            task_id: "t1".into(),
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskRequest", "m1", "planner", &req))
            .unwrap();
        let accept = TaskAcceptPayload {
            task_id: "t1".into(),
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskAccept", "m2", "worker", &accept))
            .unwrap();
        // The assignee gives the task back: the slot frees up.
        let give_back = TaskRejectPayload {
            task_id: "t1".into(),
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskReject", "m3", "worker", &give_back))
            .unwrap();
        assert_eq!(p.task().unwrap().active_assignee(), None);
        assert_eq!(p.phase(), "Requested");
        p.apply(&env(TASK, "TaskAccept", "m4", "bob", &accept))
            .unwrap();
        assert!(p.anomalies().is_empty());
        let fail = TaskFailPayload {
            task_id: "t1".into(),
            error_code: "E".into(),
            retryable: true,
            ..Default::default()
        };
        p.apply(&env(TASK, "TaskFail", "m5", "bob", &fail)).unwrap();
        assert_eq!(p.phase(), "Failed");
        let j = p.to_json();
        assert_eq!(j["tasks"]["t1"]["status"], "failed");
        assert_eq!(j["reports"][0]["retryable"], true);
        assert_eq!(j["reports"][0]["assignee"], "bob");
        assert_eq!(j["rejections"][0]["while_assigned"], true);
    }
}
