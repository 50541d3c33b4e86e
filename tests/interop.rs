//! Interoperability with a second, independent MACP client: the Python SDK
//! (`macp-sdk-python`, pinned in scripts/setup.sh and installed in `.venv`).
//!
//! In each test the Python SDK and libmacp take part in the same session
//! against one real runtime, in both directions (either side starts and
//! commits, the other proposes, votes or casts ballots). Steps are strictly
//! sequenced: a Python step (`tests/interop/macp_interop.py`) runs to exit
//! before libmacp's next step. At the end both sides read the session
//! (`GetSession`) and must see the same state, and both SDKs' projections,
//! each replayed from the runtime's session stream, must agree.
//!
//! Without `.venv` the tests are skipped with a message, unless
//! `MACP_REQUIRE_INTEROP` is set (scripts/test.sh sets it), which makes a
//! missing virtualenv a failure.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use macp::client::new_id;
use macp::modes::{DECISION, QUORUM};
use macp::projection::Projection;
use macp::watch::{Event, WatchOptions};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use serde_json::{json, Value};
use support::Runtime;

/// The virtualenv's Python, or `None` (after saying why) to skip.
fn python() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let py = root.join(".venv/bin/python");
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("MACP_REQUIRE_INTEROP").is_none(),
        "MACP_REQUIRE_INTEROP is set but {} is missing: run scripts/setup.sh",
        py.display()
    );
    eprintln!(
        "SKIPPED interop test: {} is missing (scripts/setup.sh creates it); \
         set MACP_REQUIRE_INTEROP=1 to fail instead",
        py.display()
    );
    None
}

/// A participant driven by the Python SDK.
struct Py {
    python: PathBuf,
    target: String,
    session_id: String,
}

impl Py {
    /// Run one step as `role` and return its JSON result, after the process
    /// has exited.
    async fn step(&self, role: &str, step: &str, args: &[&str]) -> Value {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/macp_interop.py");
        let mut cmd = Command::new(&self.python);
        cmd.arg(script)
            .args([&self.target, &self.session_id, role, step])
            .args(args);
        let what = format!("python {role} {step} {args:?}");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout.lines().last().unwrap_or("");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: bad output {line:?}: {e}"))
    }

    /// A step the runtime must accept.
    async fn ok(&self, role: &str, step: &str, args: &[&str]) -> Value {
        let v = self.step(role, step, args).await;
        assert_eq!(v["ok"], true, "python {role} {step} {args:?}: {v}");
        v
    }
}

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.to_string());
    c.call_timeout = Some(Duration::from_secs(10));
    Arc::new(Client::connect(c).await.expect("connect"))
}

async fn open(target: &str, identity: &str, session_id: &str) -> Session {
    Session::open(client(target, identity).await, session_id)
        .await
        .expect("open")
}

fn commitment(action: &str, positive: bool) -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        action: action.into(),
        authority_scope: "interop".into(),
        reason: "from libmacp".into(),
        outcome_positive: positive,
        ..Default::default()
    }
}

/// Both sides read the session (the Python SDK as `role`): the same state,
/// roster, versions and per-participant message counts.
async fn same_final_state(py: &Py, role: &str, s: &Session, state: &str) {
    let theirs = py.ok(role, "read", &[]).await;
    let meta = s.metadata().await.unwrap();
    let mut counts = serde_json::Map::new();
    for a in &meta.participant_activity {
        counts.insert(a.participant_id.clone(), json!(a.message_count));
    }
    let ours = json!({
        "ok": true,
        "session_id": meta.session_id,
        "mode": meta.mode,
        "state": macp::session::state_name(meta.state),
        "initiator": meta.initiator,
        "participants": meta.participants,
        "mode_version": meta.mode_version,
        "configuration_version": meta.configuration_version,
        "policy_version": meta.policy_version,
        "messages": counts,
    });
    assert_eq!(
        ours, theirs,
        "libmacp and the Python SDK read different sessions"
    );
    assert_eq!(ours["state"], state);
}

/// libmacp's projection of the session's first `count` accepted envelopes.
async fn libmacp_projection(s: &Session, count: usize) -> Projection {
    let mut w = s.watch(0, WatchOptions::default()).await.expect("watch");
    let mut p = Projection::new(s.mode()).unwrap();
    while p.applied() < count {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.events.recv())
            .await
            .expect("no envelope in time")
            .expect("watcher ended");
        match ev {
            Event::Envelope { envelope, .. } => {
                p.apply(&envelope).unwrap();
            }
            Event::Closed(e) => panic!("watcher closed: {e}"),
            _ => {}
        }
    }
    w.cancel();
    p
}

/// Both SDKs' projections of the session (the Python SDK's replayed as
/// `role`) agree: phase, proposals and votes or ballots, commitment.
async fn same_projection(py: &Py, role: &str, s: &Session, count: usize) -> Projection {
    let p = libmacp_projection(s, count).await;
    let theirs = py.ok(role, "project", &[&count.to_string()]).await;
    let j = p.to_json();
    assert_eq!(theirs["applied"], count);
    assert_eq!(theirs["phase"], j["phase"]);
    let c = p.commitment().map(|(c, _)| c).unwrap();
    assert_eq!(
        theirs["commitment"],
        json!({"action": c.action, "outcome_positive": c.outcome_positive})
    );
    if let Some(d) = p.decision() {
        let proposals: serde_json::Map<_, _> = d
            .proposals
            .iter()
            .map(|(id, p)| (id.clone(), json!(p.sender)))
            .collect();
        assert_eq!(theirs["proposals"], Value::Object(proposals));
        let votes: serde_json::Map<_, _> = d
            .votes
            .iter()
            .map(|(id, by)| {
                let m: serde_json::Map<_, _> =
                    by.iter().map(|(s, v)| (s.clone(), json!(v.vote))).collect();
                (id.clone(), Value::Object(m))
            })
            .collect();
        assert_eq!(theirs["votes"], Value::Object(votes));
    }
    if let Some(q) = p.quorum() {
        let ballots: serde_json::Map<_, _> = q
            .ballots
            .iter()
            .map(|(id, by)| {
                let m: serde_json::Map<_, _> = by
                    .iter()
                    .map(|(s, b)| (s.clone(), json!(b.choice.name())))
                    .collect();
                (id.clone(), Value::Object(m))
            })
            .collect();
        assert_eq!(theirs["ballots"], Value::Object(ballots));
        let required: serde_json::Map<_, _> = q
            .requests
            .iter()
            .map(|(id, r)| (id.clone(), json!(r.required_approvals)))
            .collect();
        assert_eq!(theirs["required"], Value::Object(required));
    }
    p
}

#[tokio::test]
async fn decision_started_and_committed_by_python() {
    let Some(python) = python() else { return };
    let rt = Runtime::start();
    let t = rt.target();
    let py = Py {
        python,
        target: t.clone(),
        session_id: new_id(),
    };
    py.ok(
        "coordinator",
        "decision-start",
        &["coordinator,alice,bob,carol"],
    )
    .await;
    let alice = open(&t, "alice", &py.session_id).await;
    let bob = open(&t, "bob", &py.session_id).await;
    assert_eq!(alice.mode(), DECISION);
    assert_eq!(alice.policy_version(), "policy.default");

    alice
        .decision()
        .propose("p1", "postgres", "mature", b"")
        .await
        .unwrap();
    py.ok("carol", "decision-propose", &["p2", "sqlite"]).await;
    bob.decision()
        .evaluate("p1", "APPROVE", 0.9, "fine")
        .await
        .unwrap();
    py.ok("carol", "decision-evaluate", &["p1", "REVIEW", "0.5"])
        .await;
    alice.decision().vote("p1", "APPROVE", "yes").await.unwrap();
    py.ok("carol", "decision-vote", &["p1", "APPROVE"]).await;
    // Both SDKs see a second vote refused with the same registry code.
    let again = py.step("carol", "decision-vote", &["p1", "REJECT"]).await;
    assert_eq!(again["ok"], false);
    let e = alice.decision().vote("p1", "REJECT", "").await.unwrap_err();
    assert_eq!(again["code"], e.code, "{again}");
    assert_eq!(e.status, Status::InvalidEnvelope);
    bob.decision().vote("p1", "REJECT", "cost").await.unwrap();
    py.ok(
        "coordinator",
        "decision-commit",
        &["decision.selected", "true"],
    )
    .await;
    // A resolved session refuses further messages, on both sides alike.
    let late = py.step("carol", "decision-vote", &["p2", "APPROVE"]).await;
    let e = bob.decision().vote("p2", "APPROVE", "").await.unwrap_err();
    assert_eq!(late["code"], e.code);
    assert_eq!(e.status, Status::SessionNotOpen);

    same_final_state(&py, "carol", &alice, "RESOLVED").await;
    // SessionStart, 2 proposals, 2 evaluations, 3 votes, the commitment.
    let p = same_projection(&py, "coordinator", &bob, 9).await;
    let t = p.decision().unwrap().tally("p1");
    assert_eq!((t.approve, t.reject, t.abstain), (2, 1, 0));
    assert_eq!(p.initiator(), "coordinator");
}

#[tokio::test]
async fn decision_started_and_committed_by_libmacp() {
    let Some(python) = python() else { return };
    let rt = Runtime::start();
    let t = rt.target();
    let opts = StartOptions {
        intent: "interop".into(),
        participants: vec!["alice".into(), "bob".into()],
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (coord, _) = Session::start(client(&t, "coordinator").await, DECISION, opts)
        .await
        .unwrap();
    let py = Py {
        python,
        target: t.clone(),
        session_id: coord.id().to_string(),
    };
    let bob = open(&t, "bob", coord.id()).await;

    py.ok("alice", "decision-propose", &["p1", "postgres"])
        .await;
    bob.decision()
        .evaluate("p1", "APPROVE", 0.8, "ok")
        .await
        .unwrap();
    bob.decision()
        .object("p1", "ops cost", "low")
        .await
        .unwrap();
    py.ok("alice", "decision-vote", &["p1", "APPROVE"]).await;
    bob.decision().vote("p1", "APPROVE", "").await.unwrap();
    // Python may not commit a session libmacp's coordinator started.
    let denied = py
        .step("alice", "decision-commit", &["decision.selected", "true"])
        .await;
    assert_eq!(denied["ok"], false);
    assert_eq!(denied["code"], "FORBIDDEN");
    let done = coord
        .commit(commitment("decision.selected", true))
        .await
        .unwrap();
    assert_eq!(done.session_state, pb::SessionState::Resolved as i32);

    same_final_state(&py, "alice", &coord, "RESOLVED").await;
    let p = same_projection(&py, "alice", &coord, 7).await;
    assert_eq!(p.decision().unwrap().tally("p1").approve, 2);
    assert_eq!(p.decision().unwrap().proposals["p1"].sender, "alice");
}

#[tokio::test]
async fn quorum_started_and_committed_by_python() {
    let Some(python) = python() else { return };
    let rt = Runtime::start();
    let t = rt.target();
    let py = Py {
        python,
        target: t.clone(),
        session_id: new_id(),
    };
    py.ok(
        "coordinator",
        "quorum-start",
        &["alice,bob,carol", "r1", "2"],
    )
    .await;
    let alice = open(&t, "alice", &py.session_id).await;
    let carol = open(&t, "carol", &py.session_id).await;
    assert_eq!(alice.mode(), QUORUM);

    alice.quorum().approve("r1", "lgtm").await.unwrap();
    py.ok("bob", "quorum-abstain", &["r1"]).await;
    // One ballot each, refused alike by both SDKs.
    let again = py.step("bob", "quorum-approve", &["r1"]).await;
    let e = alice.quorum().reject("r1", "").await.unwrap_err();
    assert_eq!(again["code"], e.code);
    assert_eq!(e.status, Status::InvalidEnvelope);
    carol.quorum().approve("r1", "ship it").await.unwrap();
    py.ok("coordinator", "quorum-commit", &["quorum.approved", "true"])
        .await;

    same_final_state(&py, "bob", &carol, "RESOLVED").await;
    let p = same_projection(&py, "coordinator", &alice, 6).await;
    let q = p.quorum().unwrap();
    assert!(q.reached("r1"));
    let t = q.tally("r1");
    assert_eq!((t.approve, t.reject, t.abstain), (2, 0, 1));
}

#[tokio::test]
async fn quorum_started_and_committed_by_libmacp() {
    let Some(python) = python() else { return };
    let rt = Runtime::start();
    let t = rt.target();
    let opts = StartOptions {
        intent: "interop".into(),
        participants: vec!["alice".into(), "bob".into(), "carol".into()],
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (coord, _) = Session::start(client(&t, "coordinator").await, QUORUM, opts)
        .await
        .unwrap();
    coord
        .quorum()
        .request_approval("r1", "deploy", "v2", b"", 3)
        .await
        .unwrap();
    let py = Py {
        python,
        target: t.clone(),
        session_id: coord.id().to_string(),
    };
    let carol = open(&t, "carol", coord.id()).await;

    py.ok("alice", "quorum-reject", &["r1"]).await;
    py.ok("bob", "quorum-approve", &["r1"]).await;
    carol.quorum().reject("r1", "not ready").await.unwrap();
    // 1 approval and no participant left: 3 approvals are out of reach.
    let p = libmacp_projection(&coord, 5).await;
    assert!(p.quorum().unwrap().unreachable("r1", p.participants()));
    coord
        .commit(commitment("quorum.rejected", false))
        .await
        .unwrap();

    same_final_state(&py, "bob", &coord, "RESOLVED").await;
    let p = same_projection(&py, "alice", &carol, 6).await;
    let t = p.quorum().unwrap().tally("r1");
    assert_eq!((t.approve, t.reject, t.abstain), (1, 2, 0));
    assert!(!p.commitment().unwrap().0.outcome_positive);
}
