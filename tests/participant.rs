//! The participant loop against a real runtime: it joins the sessions that
//! name its identity (those open before it started too) and no others,
//! reports every accepted envelope but its own, in order, then the session's
//! end after the Commitment that resolved it; it keeps doing so across a
//! runtime restart; and a voter built on it with `Routes` takes part in a
//! decision by itself. The C ABI's `macp_participant` is tested in
//! tests/c/test_participant.c and by examples/participant.c.

mod support;

use std::sync::Arc;
use std::time::Duration;

use macp::modes::DECISION;
use macp::participant::{Activity, Participant, ParticipantOptions, Routes};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use support::{Runtime, TempDir};

/// Upper bound for any single wait, so a broken loop fails the test
/// instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(60);

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.into());
    Arc::new(Client::connect(c).await.expect("connect"))
}

/// A decision session led by `c` (agent://lead, who proposes and so takes
/// part too) with `participants`.
async fn start(c: &Arc<Client>, participants: &[&str]) -> Session {
    let opts = StartOptions {
        participants: std::iter::once(&"agent://lead")
            .chain(participants)
            .map(|p| p.to_string())
            .collect(),
        ttl_ms: 600_000,
        ..Default::default()
    };
    Session::start(c.clone(), DECISION, opts).await.unwrap().0
}

async fn next(p: &mut Participant) -> Activity {
    tokio::time::timeout(PATIENCE, p.activity.recv())
        .await
        .expect("no activity in time")
        .expect("the participant ended without Closed")
}

fn commitment() -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        action: "decision.selected".into(),
        authority_scope: "test".into(),
        reason: "the lead decides".into(),
        outcome_positive: true,
        ..Default::default()
    }
}

/// What a participant reported about one session, as
/// (kind, message type or state) pairs.
fn describe(a: &Activity) -> (String, String) {
    match a {
        Activity::Joined(s) => ("joined".into(), s.id().into()),
        Activity::Message {
            session, envelope, ..
        } => (session.id().into(), envelope.message_type.clone()),
        Activity::Ended { session, state, .. } => (session.id().into(), format!("ended {state:?}")),
        Activity::Refused { session_id, cause } => (session_id.clone(), format!("refused {cause}")),
        Activity::Closed(e) => ("closed".into(), e.to_string()),
    }
}

#[tokio::test]
async fn joins_invited_sessions_and_reports_them_to_their_end() {
    let rt = Runtime::start();
    let lead = client(&rt.target(), "agent://lead").await;
    let voter = client(&rt.target(), "agent://voter").await;
    // Invited before the participant starts: joined all the same.
    let early = start(&lead, &["agent://voter"]).await;

    let mut p = Participant::start(voter.clone(), None, ParticipantOptions::default())
        .await
        .unwrap();
    assert_eq!(p.identity(), "agent://voter");
    let Activity::Joined(s) = next(&mut p).await else {
        panic!("expected the early session to be joined first");
    };
    assert_eq!(s.id(), early.id());
    assert_eq!(
        describe(&next(&mut p).await),
        (early.id().into(), "SessionStart".into())
    );

    // Not invited: never joined; invited later: joined.
    let other = start(&lead, &["agent://someone-else"]).await;
    let later = start(&lead, &["agent://voter", "agent://second"]).await;
    let Activity::Joined(s) = next(&mut p).await else {
        panic!("expected a join");
    };
    assert_eq!(
        s.id(),
        later.id(),
        "joined {} (other is {})",
        s.id(),
        other.id()
    );
    assert_eq!(
        describe(&next(&mut p).await),
        (later.id().into(), "SessionStart".into())
    );

    // Messages in order; the participant's own vote is not reported back.
    later
        .decision()
        .propose("p1", "ship", "", b"")
        .await
        .unwrap();
    let a = next(&mut p).await;
    let Activity::Message {
        session, envelope, ..
    } = &a
    else {
        panic!("expected the proposal, got {a:?}");
    };
    assert_eq!(envelope.message_type, "Proposal");
    assert_eq!(envelope.sender, "agent://lead");
    session.decision().vote("p1", "APPROVE", "").await.unwrap();
    later.commit(commitment()).await.unwrap();
    assert_eq!(
        describe(&next(&mut p).await),
        (later.id().into(), "Commitment".into())
    );
    assert_eq!(
        describe(&next(&mut p).await),
        (later.id().into(), "ended Resolved".into())
    );

    // A cancelled session ends too, without a Commitment.
    early.cancel("no longer needed").await.unwrap();
    assert_eq!(
        describe(&next(&mut p).await),
        (early.id().into(), "ended Cancelled".into())
    );

    p.stop();
    match next(&mut p).await {
        Activity::Closed(e) => assert_eq!(e.status, Status::Cancelled),
        a => panic!("expected Closed, got {a:?}"),
    }
    assert!(p.activity.recv().await.is_none(), "activity after Closed");
}

#[tokio::test]
async fn keeps_following_across_a_runtime_restart() {
    let dir = TempDir::new("participant-restart");
    let mut rt = Runtime::start_persistent(&dir.0);
    let lead = client(&rt.target(), "agent://lead").await;
    let voter = client(&rt.target(), "agent://voter").await;
    let opts = ParticipantOptions {
        watch: macp::watch::WatchOptions {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut p = Participant::start(voter, None, opts).await.unwrap();
    let s = start(&lead, &["agent://voter"]).await;
    assert!(matches!(next(&mut p).await, Activity::Joined(_)));
    assert_eq!(
        describe(&next(&mut p).await),
        (s.id().into(), "SessionStart".into())
    );

    rt.restart();
    // The same session goes on, and a new invitation is still noticed.
    // Sending works again once the client's channel has reconnected.
    loop {
        match s.decision().propose("p1", "ship", "", b"").await {
            Ok(_) => break,
            Err(e) if e.status == Status::Transport => continue,
            Err(e) => panic!("{e}"),
        }
    }
    let after = start(&lead, &["agent://voter"]).await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(describe(&next(&mut p).await));
    }
    assert!(
        seen.contains(&(s.id().into(), "Proposal".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("joined".into(), after.id().into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(after.id().into(), "SessionStart".into())),
        "{seen:?}"
    );
    // Nothing was reported twice.
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
}

type Handler = Box<dyn Fn(Session, pb::Envelope) -> tokio::task::JoinHandle<()> + Send + Sync>;

#[tokio::test]
async fn a_voter_built_on_routes_takes_part_by_itself() {
    let rt = Runtime::start();
    let lead = client(&rt.target(), "agent://lead").await;
    let voter = client(&rt.target(), "agent://voter").await;

    let mut routes: Routes<Handler> = Routes::new();
    routes
        .on(
            "Proposal",
            Box::new(|s: Session, env: pb::Envelope| {
                tokio::spawn(async move {
                    let p: macp_pb::decision_pb::ProposalPayload =
                        prost::Message::decode(env.payload.as_slice()).unwrap();
                    s.decision()
                        .vote(&p.proposal_id, "APPROVE", "looks right")
                        .await
                        .unwrap();
                })
            }),
        )
        .unwrap();
    let others = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = others.clone();
    routes.otherwise(Box::new(move |_s: Session, env: pb::Envelope| {
        seen.lock().unwrap().push(env.message_type);
        tokio::spawn(async {})
    }));

    let mut p = Participant::start(voter, None, ParticipantOptions::default())
        .await
        .unwrap();
    let s = start(&lead, &["agent://voter"]).await;
    let mut lead_watch = s.watch(0, Default::default()).await.unwrap();
    s.decision().propose("p1", "ship", "", b"").await.unwrap();
    let agent = tokio::spawn(async move {
        while let Some(a) = p.activity.recv().await {
            match a {
                Activity::Message {
                    session, envelope, ..
                } => {
                    if let Some(h) = routes.route(&envelope.message_type) {
                        h(session, envelope).await.unwrap();
                    }
                }
                Activity::Ended { state, .. } => return state,
                _ => {}
            }
        }
        pb::SessionState::Unspecified
    });
    // The lead waits for the agent's vote, then commits.
    loop {
        match tokio::time::timeout(PATIENCE, lead_watch.events.recv()).await {
            Ok(Some(macp::watch::Event::Envelope { envelope, .. }))
                if envelope.message_type == "Vote" =>
            {
                assert_eq!(envelope.sender, "agent://voter");
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no vote arrived: {other:?}"),
        }
    }
    s.commit(commitment()).await.unwrap();
    let state = tokio::time::timeout(PATIENCE, agent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state, pb::SessionState::Resolved);
    assert_eq!(
        *others.lock().unwrap(),
        vec!["SessionStart".to_string(), "Commitment".to_string()],
        "the fallback got the types without a handler"
    );
}

#[tokio::test]
async fn identity_is_required_and_checked() {
    let rt = Runtime::start();
    let mut c = ClientConfig::new(rt.target());
    c.allow_insecure = true;
    let anonymous = Arc::new(Client::connect(c).await.unwrap());
    let e = Participant::start(anonymous.clone(), None, ParticipantOptions::default())
        .await
        .err()
        .unwrap();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
    let e = Participant::start(anonymous, Some(" "), ParticipantOptions::default())
        .await
        .err()
        .unwrap();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
    let voter = client(&rt.target(), "agent://voter").await;
    let bad = ParticipantOptions {
        watch: macp::watch::WatchOptions {
            queue_capacity: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(Participant::start(voter, None, bad).await.is_err());
}
