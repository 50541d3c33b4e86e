//! The async client core against a real `macp-runtime` (started per test),
//! plus a fault-injecting proxy for retry and timeout behaviour.

mod support;

use std::sync::Arc;
use std::time::Duration;

use macp::modes::DECISION;
use macp::{pb, Client, ClientConfig, RetryPolicy, Session, StartOptions, Status};
use support::proxy::{Fault, Proxy};
use support::Runtime;

fn config(target: &str, identity: &str) -> ClientConfig {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.to_string());
    c.call_timeout = Some(Duration::from_secs(10));
    c
}

async fn client(target: &str, identity: &str) -> Arc<Client> {
    Arc::new(
        Client::connect(config(target, identity))
            .await
            .expect("connect"),
    )
}

fn decision_opts(participants: &[&str]) -> StartOptions {
    StartOptions {
        intent: "choose a database".into(),
        participants: participants.iter().map(|s| s.to_string()).collect(),
        ttl_ms: 60_000,
        ..Default::default()
    }
}

/// A started Decision session with coordinator + alice + bob, opened by each.
async fn decision(rt: &Runtime) -> (Session, Session, Session) {
    let t = rt.target();
    let (coord, _) = Session::start(
        client(&t, "coordinator").await,
        DECISION,
        decision_opts(&["alice", "bob"]),
    )
    .await
    .expect("start");
    let alice = Session::open(client(&t, "alice").await, coord.id())
        .await
        .unwrap();
    let bob = Session::open(client(&t, "bob").await, coord.id())
        .await
        .unwrap();
    (coord, alice, bob)
}

fn commitment(action: &str) -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        action: action.into(),
        authority_scope: "team".into(),
        reason: "majority".into(),
        outcome_positive: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn initialize_negotiates_version_and_capabilities() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "alice").await;
    assert_eq!(c.protocol_version(), "1.0");
    let init = c.initialize_response();
    assert!(init.supported_modes.iter().any(|m| m == DECISION));
    assert!(c.capabilities().sessions.is_some_and(|s| s.stream));
    assert_eq!(init.runtime_info.as_ref().unwrap().name, "macp-runtime");
}

#[tokio::test]
async fn unsupported_protocol_version_is_reported() {
    let rt = Runtime::start();
    let mut cfg = config(&rt.target(), "alice");
    cfg.protocol_versions = vec!["9.9".into()];
    let e = Client::connect(cfg).await.unwrap_err();
    assert_eq!(e.status, Status::UnsupportedProtocolVersion, "{e}");
}

#[tokio::test]
async fn decision_runs_to_resolution() {
    let rt = Runtime::start();
    let (coord, alice, bob) = decision(&rt).await;
    assert_eq!(alice.mode(), DECISION);
    assert_eq!(alice.policy_version(), "policy.default");

    let a = alice
        .decision()
        .propose("p1", "postgres", "mature", b"{}")
        .await
        .unwrap();
    assert!(!a.duplicate);
    assert_eq!(a.attempts, 1);
    assert_eq!(a.session_id, coord.id());
    assert_eq!(a.session_state, pb::SessionState::Open as i32);
    bob.decision()
        .evaluate("p1", "APPROVE", 0.8, "fine")
        .await
        .unwrap();
    bob.decision()
        .object("p1", "ops cost", "low")
        .await
        .unwrap();
    alice.decision().vote("p1", "APPROVE", "yes").await.unwrap();
    bob.decision().vote("p1", "APPROVE", "ok").await.unwrap();
    let done = coord.commit(commitment("decision.selected")).await.unwrap();
    assert_eq!(done.session_state, pb::SessionState::Resolved as i32);

    let meta = bob.metadata().await.unwrap();
    assert_eq!(meta.state, pb::SessionState::Resolved as i32);
    assert_eq!(meta.initiator, "coordinator");
    assert_eq!(meta.participants, vec!["alice", "bob"]);
    assert_eq!(meta.mode, DECISION);
}

#[tokio::test]
async fn unknown_session_is_session_not_found() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "alice").await;
    let e = Session::open(c.clone(), &macp::client::new_id())
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::SessionNotFound, "{e}");
    assert_eq!(e.code, "SESSION_NOT_FOUND");
    assert!(e.grpc_code != 0);

    let env = c.envelope(DECISION, "Vote", &macp::client::new_id(), vec![], None);
    let e = c.send(env).await.unwrap_err();
    assert_eq!(e.status, Status::SessionNotFound, "{e}");
    assert!(!e.message_id.is_empty());
}

#[tokio::test]
async fn non_participant_is_forbidden() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let mallory = client(&rt.target(), "mallory").await;
    let env = mallory.envelope(DECISION, "Proposal", coord.id(), vec![], None);
    let e = mallory.send(env).await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
    assert_eq!(e.session_id, coord.id());
    let e = Session::open(mallory, coord.id()).await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
}

#[tokio::test]
async fn only_the_initiator_commits_or_cancels() {
    let rt = Runtime::start();
    let (coord, alice, _) = decision(&rt).await;
    alice
        .decision()
        .propose("p1", "postgres", "", b"")
        .await
        .unwrap();
    let e = alice
        .commit(commitment("decision.selected"))
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
    let e = alice.cancel("no").await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
    let a = coord.cancel("changed plans").await.unwrap();
    assert_eq!(a.session_state, pb::SessionState::Cancelled as i32);
    assert_eq!(
        coord.metadata().await.unwrap().state,
        pb::SessionState::Cancelled as i32
    );
}

#[tokio::test]
async fn duplicate_message_id_is_acknowledged_as_duplicate() {
    let rt = Runtime::start();
    let (_, alice, _) = decision(&rt).await;
    let payload = macp_pb::decision_pb::ProposalPayload {
        proposal_id: "p1".into(),
        option: "x".into(),
        ..Default::default()
    };
    let bytes = prost::Message::encode_to_vec(&payload);
    let first = alice
        .send_raw("Proposal", bytes.clone(), Some("m-1".into()))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let again = alice
        .send_raw("Proposal", bytes, Some("m-1".into()))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message_id, "m-1");
}

#[tokio::test]
async fn messages_after_resolution_are_session_not_open() {
    let rt = Runtime::start();
    let (coord, alice, _) = decision(&rt).await;
    alice.decision().propose("p1", "x", "", b"").await.unwrap();
    coord.commit(commitment("decision.selected")).await.unwrap();
    let e = alice
        .decision()
        .vote("p1", "APPROVE", "")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::SessionNotOpen, "{e}");
}

#[tokio::test]
async fn invalid_session_ids_are_refused_locally_and_by_the_runtime() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "coordinator").await;
    let opts = StartOptions {
        session_id: Some("not-valid".into()),
        ..decision_opts(&["alice"])
    };
    let e = Session::start(c.clone(), DECISION, opts).await.unwrap_err();
    assert_eq!(e.status, Status::InvalidSessionId);

    let start = pb::SessionStartPayload {
        participants: vec!["alice".into()],
        mode_version: "1.0.0".into(),
        configuration_version: "config.default".into(),
        ttl_ms: 1000,
        ..Default::default()
    };
    let env = c.envelope(
        DECISION,
        "SessionStart",
        "not-valid",
        prost::Message::encode_to_vec(&start),
        None,
    );
    let e = c.send(env).await.unwrap_err();
    assert_eq!(e.status, Status::InvalidSessionId, "{e}");
    assert_eq!(e.code, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn oversized_payload_is_payload_too_large() {
    let rt = Runtime::start_with(&[("MACP_MAX_PAYLOAD_BYTES", "1024")]);
    let (_, alice, _) = decision(&rt).await;
    let e = alice
        .decision()
        .propose("p1", "x", "", &[7u8; 4096])
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::PayloadTooLarge, "{e}");
}

#[tokio::test]
async fn wrong_expected_sender_is_refused() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let mut cfg = config(&rt.target(), "alice");
    cfg.expected_sender = Some("bob".into());
    let spoof = Arc::new(Client::connect(cfg).await.unwrap());
    let e = Session::open(spoof, coord.id())
        .await
        .unwrap()
        .decision()
        .propose("p1", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Unauthenticated, "{e}");
}

#[tokio::test]
async fn mode_message_in_the_wrong_phase_is_invalid_envelope() {
    let rt = Runtime::start();
    let (_, alice, bob) = decision(&rt).await;
    alice.decision().propose("p1", "x", "", b"").await.unwrap();
    alice.decision().vote("p1", "APPROVE", "").await.unwrap();
    let e = bob
        .decision()
        .propose("p2", "y", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
}

fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        jitter: true,
    }
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_same_message_id() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let mut cfg = config(&addr.to_string(), "alice");
    cfg.retry = fast_retry(3);
    let alice = Session::open(Arc::new(Client::connect(cfg).await.unwrap()), coord.id())
        .await
        .unwrap();

    proxy.push(Fault::Reject(tonic::Status::unavailable(
        "connection reset",
    )));
    let mut internal = tonic::Status::internal("storage hiccup");
    internal
        .metadata_mut()
        .insert("macp-error-code", "INTERNAL_ERROR".parse().unwrap());
    proxy.push(Fault::Reject(internal));
    let ack = alice.decision().propose("p1", "x", "", b"").await.unwrap();
    assert_eq!(ack.attempts, 3);
    assert!(!ack.duplicate);
    let sends = proxy.sends();
    assert_eq!(sends.len(), 3);
    assert!(sends.iter().all(|id| *id == ack.message_id), "{sends:?}");
}

#[tokio::test]
async fn a_lost_answer_is_retried_and_reported_as_duplicate() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let mut cfg = config(&addr.to_string(), "alice");
    cfg.retry = fast_retry(2);
    let alice = Session::open(Arc::new(Client::connect(cfg).await.unwrap()), coord.id())
        .await
        .unwrap();
    proxy.push(Fault::LoseAnswer(tonic::Status::unavailable("answer lost")));
    let ack = alice.decision().propose("p1", "x", "", b"").await.unwrap();
    assert!(ack.duplicate, "the retry must hit the runtime's dedup");
    assert_eq!(ack.attempts, 2);
    // The proposal exists exactly once: a second propose of p1 is refused.
    let meta = coord.metadata().await.unwrap();
    let alice_activity = meta
        .participant_activity
        .iter()
        .find(|a| a.participant_id == "alice")
        .unwrap();
    assert_eq!(alice_activity.message_count, 1);
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let mut cfg = config(&addr.to_string(), "mallory");
    cfg.retry = fast_retry(3);
    let mallory = Client::connect(cfg).await.unwrap();
    let env = mallory.envelope(DECISION, "Proposal", coord.id(), vec![], None);
    let e = mallory.send(env).await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden);
    assert_eq!(proxy.sends().len(), 1);
}

#[tokio::test]
async fn retries_give_up_after_the_policy_allows() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let mut cfg = config(&addr.to_string(), "alice");
    cfg.retry = fast_retry(2);
    let alice = Session::open(Arc::new(Client::connect(cfg).await.unwrap()), coord.id())
        .await
        .unwrap();
    for _ in 0..3 {
        let mut s = tonic::Status::resource_exhausted("slow down");
        s.metadata_mut()
            .insert("macp-error-code", "RATE_LIMITED".parse().unwrap());
        proxy.push(Fault::Reject(s));
    }
    let e = alice
        .decision()
        .propose("p1", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::RateLimited);
    assert!(e.message.contains("after 3 attempts"), "{}", e.message);
    let sends = proxy.sends();
    assert_eq!(sends.len(), 3);
    assert!(sends.iter().all(|id| *id == e.message_id));
}

#[tokio::test]
async fn slow_calls_time_out() {
    let rt = Runtime::start();
    let (coord, _, _) = decision(&rt).await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let mut cfg = config(&addr.to_string(), "alice");
    cfg.retry = fast_retry(0);
    cfg.call_timeout = Some(Duration::from_millis(200));
    let alice = Session::open(Arc::new(Client::connect(cfg).await.unwrap()), coord.id())
        .await
        .unwrap();
    proxy.push(Fault::Delay(Duration::from_secs(3)));
    let e = alice
        .decision()
        .propose("p1", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Timeout, "{e}");
}

#[tokio::test]
async fn connect_failures_are_transport_or_timeout() {
    // Nothing listens on a port released and given to no one else.
    let port = support::free_port();
    let e = Client::connect(config(&format!("127.0.0.1:{port}"), "a"))
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Transport, "{e}");

    // A listener that never speaks HTTP/2.
    let silent = support::unique_listener();
    let mut cfg = config(&silent.local_addr().unwrap().to_string(), "a");
    cfg.connect_timeout = Duration::from_millis(300);
    let e = Client::connect(cfg).await.unwrap_err();
    assert_eq!(e.status, Status::Timeout, "{e}");
}

#[tokio::test]
async fn shutdown_cancels_calls() {
    let rt = Runtime::start();
    let (coord, alice, _) = decision(&rt).await;
    alice.client().shutdown();
    let e = alice
        .decision()
        .propose("p1", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Cancelled);
    coord.metadata().await.unwrap();
}
