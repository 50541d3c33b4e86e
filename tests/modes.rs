//! Every mode run to resolution through the mode helpers against a real
//! `macp-runtime`, then replayed from the session stream into a projection
//! whose state is checked against what was sent.

mod support;

use std::sync::Arc;
use std::time::Duration;

use macp::modes::{self, multi_round};
use macp::projection::Projection;
use macp::watch::{Event, WatchOptions};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use support::Runtime;

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.to_string());
    c.call_timeout = Some(Duration::from_secs(10));
    Arc::new(Client::connect(c).await.expect("connect"))
}

/// A session of `mode` started by "coord" with `participants`, and a handle
/// on it for each participant.
async fn start(rt: &Runtime, mode: &str, participants: &[&str]) -> (Session, Vec<Session>) {
    let t = rt.target();
    let opts = StartOptions {
        intent: "test".into(),
        participants: participants.iter().map(|s| s.to_string()).collect(),
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (coord, _) = Session::start(client(&t, "coord").await, mode, opts)
        .await
        .expect("start");
    let mut others = Vec::new();
    for p in participants.iter().filter(|p| **p != "coord") {
        others.push(
            Session::open(client(&t, p).await, coord.id())
                .await
                .expect("open"),
        );
    }
    (coord, others)
}

fn commitment(action: &str, positive: bool) -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        action: action.into(),
        authority_scope: "test".into(),
        reason: "done".into(),
        outcome_positive: positive,
        ..Default::default()
    }
}

/// The session's accepted history, replayed from the stream, applied to a
/// new projection; `count` envelopes are expected (SessionStart included).
async fn project(s: &Session, count: usize) -> Projection {
    let mut w = s.watch(0, WatchOptions::default()).await.expect("watch");
    let mut p = Projection::new(s.mode()).unwrap();
    while p.applied() < count {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.events.recv())
            .await
            .expect("no envelope in time")
            .expect("watcher ended");
        match ev {
            Event::Envelope { envelope, .. } => {
                assert!(p.apply(&envelope).unwrap());
            }
            Event::Closed(e) => panic!("watcher closed: {e}"),
            _ => {}
        }
    }
    w.cancel();
    p
}

async fn state(s: &Session) -> i32 {
    s.metadata().await.unwrap().state
}

#[tokio::test]
async fn proposal_negotiation_to_commitment() {
    let rt = Runtime::start();
    let (buyer, others) = start(&rt, modes::PROPOSAL, &["coord", "seller"]).await;
    let seller = &others[0];
    seller
        .proposal()
        .propose("p1", "offer", "100 units", b"{}", &["bulk".into()])
        .await
        .unwrap();
    buyer
        .proposal()
        .counter_propose("p2", "p1", "counter", "90 units", b"")
        .await
        .unwrap();
    // The counter's supersedes id is required locally, as the runtime does.
    let e = buyer
        .proposal()
        .counter_propose("p3", "", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    seller
        .proposal()
        .propose("p4", "alt", "", b"", &[])
        .await
        .unwrap();
    seller
        .proposal()
        .withdraw("p4", "never mind")
        .await
        .unwrap();
    // Only the author may withdraw.
    let e = buyer.proposal().withdraw("p1", "").await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
    seller
        .proposal()
        .reject("p2", false, "too low")
        .await
        .unwrap();
    seller.proposal().accept("p1", "mine").await.unwrap();
    buyer.proposal().accept("p1", "fine").await.unwrap();
    let done = buyer
        .commit(commitment("proposal.accepted", true))
        .await
        .unwrap();
    assert_eq!(done.session_state, pb::SessionState::Resolved as i32);

    let p = project(seller, 9).await;
    assert_eq!(p.phase(), "Committed");
    let s = p.proposal().unwrap();
    assert_eq!(s.agreed_proposal(), Some("p1"));
    assert!(s.proposals["p4"].withdrawn);
    assert_eq!(s.proposals["p2"].supersedes_proposal_id, "p1");
    assert_eq!(s.proposals["p2"].proposer, "coord");
    assert_eq!(s.proposals["p1"].tags, ["bulk"]);
    assert_eq!(s.rejections.len(), 1);
    assert!(!s.rejections[0].terminal);
    let j = p.to_json();
    assert_eq!(j["proposals"]["p4"]["disposition"], "Withdrawn");
    assert_eq!(j["commitment"]["action"], "proposal.accepted");
    assert!(p.anomalies().is_empty());
}

#[tokio::test]
async fn task_delegation_to_commitment() {
    let rt = Runtime::start();
    let (planner, others) = start(&rt, modes::TASK, &["coord", "worker", "carol"]).await;
    let (worker, carol) = (&others[0], &others[1]);
    planner
        .task()
        .request("t1", "build", "compile it", "", b"src", 0)
        .await
        .unwrap();
    // Only one TaskRequest per session.
    let e = planner
        .task()
        .request("t2", "again", "", "", b"", 0)
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
    carol.task().reject("t1", "carol", "busy").await.unwrap();
    worker.task().accept("t1", "", "on it").await.unwrap();
    let e = worker
        .task()
        .update("t1", "working", 1.5, "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    worker
        .task()
        .update("t1", "compiling", 0.5, "half", b"log")
        .await
        .unwrap();
    // Only the active assignee reports.
    assert!(carol.task().complete("t1", "", b"", "").await.is_err());
    worker
        .task()
        .complete("t1", "worker", b"binary", "built")
        .await
        .unwrap();
    planner
        .commit(commitment("task.completed", true))
        .await
        .unwrap();
    assert_eq!(state(&planner).await, pb::SessionState::Resolved as i32);

    let p = project(&planner, 7).await;
    let t = p.task().unwrap();
    assert_eq!(t.active_assignee(), Some("worker"));
    let task = &t.tasks["t1"];
    assert_eq!(task.status, "completed");
    assert_eq!(task.assignee.as_deref(), Some("worker"));
    assert_eq!(task.requester, "coord");
    assert_eq!(t.updates[0].progress, 0.5);
    assert_eq!(t.rejections[0].sender, "carol");
    assert!(t.reports[0].completed);
    assert_eq!(p.phase(), "Committed");
}

#[tokio::test]
async fn task_failure_is_a_negative_commitment() {
    let rt = Runtime::start();
    let (planner, others) = start(&rt, modes::TASK, &["coord", "worker"]).await;
    let worker = &others[0];
    planner
        .task()
        .request("t1", "build", "", "worker", b"", 4_102_444_800_000)
        .await
        .unwrap();
    worker.task().accept("t1", "worker", "").await.unwrap();
    worker
        .task()
        .fail("t1", "", "BUILD_FAILED", "compile error", true)
        .await
        .unwrap();
    planner
        .commit(commitment("task.failed", false))
        .await
        .unwrap();
    let p = project(worker, 5).await;
    let t = p.task().unwrap();
    assert_eq!(t.tasks["t1"].status, "failed");
    assert_eq!(t.tasks["t1"].deadline_unix_ms, 4_102_444_800_000);
    assert_eq!(t.reports[0].error_code, "BUILD_FAILED");
    assert!(t.reports[0].retryable);
    assert!(!p.commitment().unwrap().0.outcome_positive);
}

#[tokio::test]
async fn handoff_decline_then_accept() {
    let rt = Runtime::start();
    let (owner, others) = start(&rt, modes::HANDOFF, &["coord", "t1", "t2"]).await;
    let (t1, t2) = (&others[0], &others[1]);
    owner
        .handoff()
        .offer("h1", "t1", "support", "escalate")
        .await
        .unwrap();
    owner
        .handoff()
        .context("h1", "text/plain", b"ticket 42")
        .await
        .unwrap();
    t1.handoff().decline("h1", "", "at capacity").await.unwrap();
    // A declined target may not be offered again.
    let e = owner.handoff().offer("h2", "t1", "", "").await.unwrap_err();
    assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
    owner
        .handoff()
        .offer("h3", "t2", "support", "")
        .await
        .unwrap();
    // Only the target answers.
    assert!(t1.handoff().accept("h3", "", "").await.is_err());
    t2.handoff().accept("h3", "t2", "ready").await.unwrap();
    // Late context is allowed.
    owner.handoff().context("h3", "", b"").await.unwrap();
    owner
        .commit(commitment("handoff.accepted", true))
        .await
        .unwrap();

    let p = project(t2, 8).await;
    let h = p.handoff().unwrap();
    use macp::projection::handoff::Disposition;
    assert_eq!(h.offers["h1"].disposition, Disposition::Declined);
    assert_eq!(h.offers["h1"].settled_by, "t1");
    assert_eq!(h.offers["h1"].contexts[0].context, b"ticket 42");
    assert_eq!(h.offers["h3"].disposition, Disposition::Accepted);
    assert!(!h.offers["h3"].implicit);
    assert_eq!(h.offers["h3"].contexts.len(), 1);
    assert!(!h.offers.contains_key("h2"));
    assert_eq!(p.phase(), "Committed");
}

#[tokio::test]
async fn an_implicit_accept_is_never_sent() {
    let rt = Runtime::start();
    let (owner, others) = start(&rt, modes::HANDOFF, &["coord", "t1"]).await;
    owner.handoff().offer("h1", "t1", "", "").await.unwrap();
    let forged = macp_pb::handoff_pb::HandoffAcceptPayload {
        handoff_id: "h1".into(),
        accepted_by: "t1".into(),
        reason: String::new(),
        implicit: true,
    };
    let bytes = prost::Message::encode_to_vec(&forged);
    let e = modes::rules::check_client_payload(owner.mode(), "HandoffAccept", &bytes).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    // Sessions refuse it locally, raw sends included.
    let e = others[0]
        .send_raw("HandoffAccept", bytes.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
    // The runtime refuses it too, should a bare envelope carry it anyway.
    let env = others[0]
        .client()
        .envelope(modes::HANDOFF, "HandoffAccept", owner.id(), bytes, None);
    let e = others[0].client().send(env).await.unwrap_err();
    assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
    // The helper's accept is explicit and accepted.
    others[0].handoff().accept("h1", "", "").await.unwrap();
    let p = project(&owner, 3).await;
    assert_eq!(p.phase(), "Accepted");
}

#[tokio::test]
async fn quorum_approval_to_commitment() {
    let rt = Runtime::start();
    let (coord, others) = start(&rt, modes::QUORUM, &["alice", "bob", "carol"]).await;
    let (alice, bob, carol) = (&others[0], &others[1], &others[2]);
    let e = coord
        .quorum()
        .request_approval("r1", "deploy", "", b"", 0)
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    coord
        .quorum()
        .request_approval("r1", "deploy", "v2", b"{}", 2)
        .await
        .unwrap();
    alice.quorum().approve("r1", "lgtm").await.unwrap();
    // One ballot per participant.
    let e = alice.quorum().reject("r1", "changed").await.unwrap_err();
    assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
    carol.quorum().abstain("r1", "no opinion").await.unwrap();
    bob.quorum().approve("r1", "ship it").await.unwrap();
    coord
        .commit(commitment("quorum.approved", true))
        .await
        .unwrap();
    let p = project(bob, 6).await;
    let q = p.quorum().unwrap();
    let t = q.tally("r1");
    assert_eq!((t.approve, t.reject, t.abstain), (2, 0, 1));
    assert!(q.reached("r1"));
    assert_eq!(q.requests["r1"].required_approvals, 2);
    assert_eq!(p.to_json()["tallies"]["r1"]["unreachable"], false);
}

#[tokio::test]
async fn quorum_rejection_is_a_negative_commitment() {
    let rt = Runtime::start();
    let (coord, others) = start(&rt, modes::QUORUM, &["alice", "bob"]).await;
    coord
        .quorum()
        .request_approval("r1", "deploy", "", b"", 2)
        .await
        .unwrap();
    others[0].quorum().reject("r1", "not ready").await.unwrap();
    coord
        .commit(commitment("quorum.rejected", false))
        .await
        .unwrap();
    let p = project(&coord, 4).await;
    let q = p.quorum().unwrap();
    assert_eq!(q.tally("r1").reject, 1);
    assert!(q.unreachable("r1", p.participants()));
}

#[tokio::test]
async fn multi_round_converges() {
    let rt = Runtime::start();
    let (coord, others) = start(&rt, modes::MULTI_ROUND, &["alice", "bob"]).await;
    let (alice, bob) = (&others[0], &others[1]);
    let e = alice.multi_round().contribute("").await.unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    alice.multi_round().contribute("option_a").await.unwrap();
    bob.multi_round().contribute("option_b").await.unwrap();
    // A value that collides with JSON at its length still goes as protobuf
    // and is read back as the same value.
    let tricky = r#"{"value":"x"}"#;
    bob.multi_round().contribute(tricky).await.unwrap();
    bob.multi_round().contribute("option_a").await.unwrap();
    coord
        .commit(commitment("multi_round.converged", true))
        .await
        .unwrap();
    let mut w = coord.watch(0, WatchOptions::default()).await.unwrap();
    let mut values = Vec::new();
    while values.len() < 4 {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.events.recv())
            .await
            .expect("no envelope in time")
            .expect("watcher ended");
        if let Event::Envelope { envelope, .. } = ev {
            if envelope.message_type == "Contribute" {
                values.push(multi_round::decode_contribute(&envelope.payload).unwrap());
            }
        }
    }
    w.cancel();
    assert_eq!(values, ["option_a", "option_b", tricky, "option_a"]);
    let p = project(&coord, 6).await;
    let m = p.multi_round().unwrap();
    assert!(m.converged(p.participants()));
    assert_eq!(m.contributions["bob"], "option_a");
    assert_eq!(p.phase(), "Committed");
}
