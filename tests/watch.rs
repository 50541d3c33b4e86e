//! Watchers against a real runtime: order, no loss, no duplicates, resume
//! across a runtime restart, lag recovery, lifecycle and signal streams.

mod support;

use std::sync::Arc;
use std::time::Duration;

use macp::modes::DECISION;
use macp::watch::{Event, Watch, WatchKind, WatchOptions};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use support::{Runtime, TempDir};

/// Upper bound for any single wait, so a broken watcher fails the test
/// instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(60);

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.into());
    Arc::new(Client::connect(c).await.expect("connect"))
}

async fn decision(target: &str) -> (Session, Session) {
    let opts = StartOptions {
        participants: vec!["alice".into(), "bob".into()],
        ttl_ms: 600_000,
        ..Default::default()
    };
    let (coord, _) = Session::start(client(target, "coordinator").await, DECISION, opts)
        .await
        .unwrap();
    let alice = Session::open(client(target, "alice").await, coord.id())
        .await
        .unwrap();
    (coord, alice)
}

async fn next(w: &mut Watch) -> Event {
    tokio::time::timeout(PATIENCE, w.events.recv())
        .await
        .expect("no event in time")
        .expect("watcher ended without a Closed event")
}

/// Collect envelopes until `count` have arrived; returns them with every
/// other event seen on the way.
async fn envelopes(w: &mut Watch, count: usize) -> (Vec<(u64, pb::Envelope)>, Vec<Event>) {
    let mut got = Vec::new();
    let mut other = Vec::new();
    while got.len() < count {
        match next(w).await {
            Event::Envelope { sequence, envelope } => got.push((sequence, envelope)),
            Event::Closed(e) => panic!("watcher closed: {e}"),
            ev => other.push(ev),
        }
    }
    (got, other)
}

/// Sequences are 1, 2, 3, ... (starting after `after`) and message ids are
/// unique.
fn assert_contiguous(got: &[(u64, pb::Envelope)], after: u64) {
    for (i, (seq, _)) in got.iter().enumerate() {
        assert_eq!(
            *seq,
            after + 1 + i as u64,
            "sequence gap or repeat at index {i}"
        );
    }
    let mut ids: Vec<_> = got.iter().map(|(_, e)| e.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "an envelope was delivered twice");
}

async fn propose_many(s: &Session, from: usize, to: usize, data: &[u8]) -> Vec<String> {
    let mut ids = Vec::new();
    for i in from..to {
        ids.push(
            s.decision()
                .propose(&format!("p{i}"), "x", "", data)
                .await
                .unwrap()
                .message_id,
        );
    }
    ids
}

#[tokio::test]
async fn session_stream_replays_then_follows_live_in_order() {
    let rt = Runtime::start();
    let (coord, alice) = decision(&rt.target()).await;
    let early = propose_many(&alice, 0, 500, b"").await;
    // Several watchers on the same session at once, from different starts.
    let mut from_start = coord.watch(0, WatchOptions::default()).await.unwrap();
    let mut from_middle = alice.watch(251, WatchOptions::default()).await.unwrap();
    let mut third = alice.watch(0, WatchOptions::default()).await.unwrap();
    let late = propose_many(&alice, 500, 1500, b"").await;

    let (all, other) = envelopes(&mut from_start, 1501).await;
    assert!(other.is_empty(), "{other:?}");
    assert_contiguous(&all, 0);
    assert_eq!(all[0].1.message_type, "SessionStart");
    let ids: Vec<_> = all[1..].iter().map(|(_, e)| e.message_id.clone()).collect();
    assert_eq!(ids, [early, late].concat(), "order differs from send order");

    let (tail, _) = envelopes(&mut from_middle, 1501 - 251).await;
    assert_contiguous(&tail, 251);
    assert_eq!(tail[0].1.message_id, all[251].1.message_id);
    let (again, _) = envelopes(&mut third, 1501).await;
    assert_eq!(
        again.iter().map(|(_, e)| &e.message_id).collect::<Vec<_>>(),
        all.iter().map(|(_, e)| &e.message_id).collect::<Vec<_>>()
    );
    // Nothing more arrives that should not.
    assert!(from_start.events.try_recv().is_err());
}

#[tokio::test]
async fn envelopes_sent_on_the_stream_are_accepted_or_refused_in_band() {
    let rt = Runtime::start();
    let (_, alice) = decision(&rt.target()).await;
    let mut w = alice.watch(0, WatchOptions::default()).await.unwrap();
    let proposal = macp_pb::decision_pb::ProposalPayload {
        proposal_id: "s1".into(),
        option: "x".into(),
        ..Default::default()
    };
    let env = alice.client().envelope(
        DECISION,
        "Proposal",
        alice.id(),
        prost::Message::encode_to_vec(&proposal),
        Some("stream-1".into()),
    );
    w.send(env).unwrap();
    let vote = macp_pb::decision_pb::VotePayload {
        proposal_id: "missing".into(),
        vote: "APPROVE".into(),
        ..Default::default()
    };
    let bad = alice.client().envelope(
        DECISION,
        "Vote",
        alice.id(),
        prost::Message::encode_to_vec(&vote),
        Some("stream-2".into()),
    );
    w.send(bad).unwrap();
    let (got, _) = envelopes(&mut w, 2).await;
    assert_eq!(got[1].1.message_id, "stream-1");
    assert_eq!(got[1].1.sender, "alice");
    match next(&mut w).await {
        Event::StreamError(e) => {
            assert_eq!(e.message_id, "stream-2");
            assert_eq!(e.status, Status::InvalidEnvelope, "{e}");
        }
        ev => panic!("expected a stream error, got {ev:?}"),
    }
}

/// The stream's codec buffers start small (a few hundred bytes is a
/// session's usual envelope) and must grow for larger ones, both ways.
#[tokio::test]
async fn envelopes_larger_than_the_stream_buffers_pass_both_ways() {
    let rt = Runtime::start();
    let (_, alice) = decision(&rt.target()).await;
    let mut w = alice.watch(0, WatchOptions::default()).await.unwrap();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let received = alice
        .decision()
        .propose("unary", "x", "", &big)
        .await
        .unwrap()
        .message_id;
    let proposal = macp_pb::decision_pb::ProposalPayload {
        proposal_id: "streamed".into(),
        option: "x".into(),
        supporting_data: big.clone(),
        ..Default::default()
    };
    let sent = prost::Message::encode_to_vec(&proposal);
    let env = alice.client().envelope(
        DECISION,
        "Proposal",
        alice.id(),
        sent.clone(),
        Some("stream-big".into()),
    );
    w.send(env).unwrap();
    let (got, other) = envelopes(&mut w, 3).await;
    assert!(other.is_empty(), "{other:?}");
    assert_eq!(got[1].1.message_id, received);
    let first: macp_pb::decision_pb::ProposalPayload =
        prost::Message::decode(got[1].1.payload.as_slice()).unwrap();
    assert_eq!(first.supporting_data, big);
    assert_eq!(got[2].1.message_id, "stream-big");
    assert_eq!(got[2].1.payload, sent);
}

#[tokio::test]
async fn refused_subscriptions_close_the_watcher() {
    let rt = Runtime::start();
    let (coord, _) = decision(&rt.target()).await;
    let mallory = client(&rt.target(), "mallory").await;
    // A non-participant is refused.
    let mut w = mallory
        .watch_session(coord.id(), 0, WatchOptions::default())
        .await
        .unwrap();
    match next(&mut w).await {
        Event::Closed(e) => assert_eq!(e.status, Status::Forbidden, "{e}"),
        ev => panic!("expected Closed, got {ev:?}"),
    }
    assert!(w.events.recv().await.is_none(), "events after Closed");
    // So is a session that does not exist.
    let mut w = mallory
        .watch_session(&macp::client::new_id(), 0, WatchOptions::default())
        .await
        .unwrap();
    match next(&mut w).await {
        Event::Closed(e) => assert!(!e.status.is_transient(), "{e}"),
        ev => panic!("expected Closed, got {ev:?}"),
    }
}

#[tokio::test]
async fn stream_resumes_without_gap_or_repeat_across_a_runtime_restart() {
    let dir = TempDir::new("restart");
    let mut rt = Runtime::start_persistent(&dir.0);
    let (coord, alice) = decision(&rt.target()).await;
    let opts = WatchOptions {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..Default::default()
    };
    let mut w = coord.watch(0, opts).await.unwrap();
    let before = propose_many(&alice, 0, 50, b"").await;
    let (first, _) = envelopes(&mut w, 51).await;
    assert_contiguous(&first, 0);

    rt.restart();
    // The watcher notices and reconnects; sending works again once the
    // client's channel has reconnected too.
    let mut after = Vec::new();
    for i in 50..100 {
        let ack = loop {
            match alice
                .decision()
                .propose(&format!("p{i}"), "x", "", b"")
                .await
            {
                Ok(a) => break a,
                Err(e) if e.status == Status::Transport => continue,
                Err(e) => panic!("{e}"),
            }
        };
        after.push(ack.message_id);
    }
    let (second, other) = envelopes(&mut w, 50).await;
    assert_contiguous(&second, 51);
    assert!(
        other
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })),
        "the restart was not reported: {other:?}"
    );
    assert!(
        other
            .iter()
            .any(|e| matches!(e, Event::Resumed { after_sequence: 51 })),
        "no resume after sequence 51: {other:?}"
    );
    let ids: Vec<_> = first[1..]
        .iter()
        .chain(second.iter())
        .map(|(_, e)| e.message_id.clone())
        .collect();
    assert_eq!(ids, [before, after].concat());
}

#[tokio::test]
async fn a_consumer_slower_than_the_runtime_recovers_by_resuming() {
    let rt = Runtime::start();
    let (coord, alice) = decision(&rt.target()).await;
    let opts = WatchOptions {
        queue_capacity: 1,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        ..Default::default()
    };
    let mut w = coord.watch(0, opts).await.unwrap();
    // Nothing is read while 800 envelopes of 8 KiB are accepted: far more
    // than the runtime's per-session broadcast buffer plus transport windows.
    let big = vec![7u8; 8192];
    let ids = propose_many(&alice, 0, 800, &big).await;
    let (got, other) = envelopes(&mut w, 801).await;
    assert_contiguous(&got, 0);
    assert_eq!(
        got[1..]
            .iter()
            .map(|(_, e)| e.message_id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(
        other.iter().any(|e| matches!(e, Event::Reconnecting { cause, .. } if cause.status == Status::StreamLagged)),
        "the runtime never reported lag: {other:?}"
    );
}

#[tokio::test]
async fn session_lifecycle_and_signals_are_watched() {
    let rt = Runtime::start();
    let watcher = client(&rt.target(), "observer").await;
    let mut sessions = watcher
        .watch(WatchKind::Sessions, WatchOptions::default())
        .await
        .unwrap();
    let mut signals = watcher
        .watch(WatchKind::Signals, WatchOptions::default())
        .await
        .unwrap();
    let (coord, alice) = decision(&rt.target()).await;
    alice.decision().propose("p1", "x", "", b"").await.unwrap();
    coord
        .commit(pb::CommitmentPayload {
            action: "decision.selected".into(),
            authority_scope: "test".into(),
            reason: "done".into(),
            outcome_positive: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match next(&mut sessions).await {
            Event::Session { event, reconciled } => {
                assert!(!reconciled);
                let meta = event.session.unwrap();
                if meta.session_id == coord.id() {
                    seen.push(event.event_type);
                }
            }
            ev => panic!("unexpected {ev:?}"),
        }
    }
    use pb::session_lifecycle_event::EventType;
    assert_eq!(
        seen,
        vec![EventType::Created as i32, EventType::Resolved as i32]
    );

    let payload = pb::SignalPayload {
        signal_type: "heartbeat".into(),
        data: b"{}".to_vec(),
        confidence: 0.5,
        ..Default::default()
    };
    let env = alice.client().envelope(
        "",
        "Signal",
        "",
        prost::Message::encode_to_vec(&payload),
        None,
    );
    let id = env.message_id.clone();
    alice.client().send(env).await.unwrap();
    match next(&mut signals).await {
        Event::Signal {
            envelope,
            sender_authenticated,
        } => {
            assert_eq!(envelope.message_id, id);
            assert_eq!(envelope.sender, "alice");
            assert!(
                !sender_authenticated,
                "dev-mode identities are self-asserted"
            );
        }
        ev => panic!("unexpected {ev:?}"),
    }
}

#[tokio::test]
async fn shutting_down_the_client_closes_its_watchers() {
    let rt = Runtime::start();
    let (coord, _) = decision(&rt.target()).await;
    let mut w = coord.watch(0, WatchOptions::default()).await.unwrap();
    let (_, _) = envelopes(&mut w, 1).await;
    coord.client().shutdown();
    loop {
        match next(&mut w).await {
            Event::Closed(e) => {
                assert_eq!(e.status, Status::Cancelled);
                break;
            }
            Event::Envelope { .. } => {}
            ev => panic!("unexpected {ev:?}"),
        }
    }
    assert!(w.events.recv().await.is_none(), "events after Closed");
}

#[tokio::test]
async fn reconnect_can_be_turned_off() {
    let mut rt = Runtime::start();
    let (coord, _) = decision(&rt.target()).await;
    let opts = WatchOptions {
        reconnect: false,
        ..Default::default()
    };
    let mut w = coord.watch(0, opts).await.unwrap();
    let (_, _) = envelopes(&mut w, 1).await;
    rt.kill();
    match next(&mut w).await {
        Event::Closed(e) => assert!(e.status.is_transient(), "{e}"),
        ev => panic!("unexpected {ev:?}"),
    }
}

#[tokio::test]
async fn a_lifecycle_watch_reconciles_transitions_missed_while_disconnected() {
    let dir = TempDir::new("reconcile");
    let mut rt = Runtime::start_persistent(&dir.0);
    let coord = client(&rt.target(), "coordinator").await;
    // A fixed, long reconnect delay: the transition below happens while the
    // watcher is known to be waiting to reconnect.
    let opts = WatchOptions {
        backoff_base: Duration::from_secs(4),
        backoff_max: Duration::from_secs(4),
        ..Default::default()
    };
    let mut w = coord.watch(WatchKind::Sessions, opts).await.unwrap();
    let start = StartOptions {
        participants: vec!["alice".into()],
        ttl_ms: 600_000,
        ..Default::default()
    };
    let (watched, _) = Session::start(coord.clone(), DECISION, start)
        .await
        .unwrap();
    loop {
        if let Event::Session { event, .. } = next(&mut w).await {
            if event.session.is_some_and(|m| m.session_id == watched.id()) {
                break;
            }
        }
    }
    rt.kill();
    match next(&mut w).await {
        Event::Reconnecting { .. } => {}
        ev => panic!("unexpected {ev:?}"),
    }
    rt.restart();
    let cancelled = loop {
        match watched.cancel("while the watcher was away").await {
            Ok(a) => break a,
            Err(e) if e.status == Status::Transport => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(cancelled.session_state, pb::SessionState::Cancelled as i32);
    loop {
        match next(&mut w).await {
            Event::Session { event, reconciled } => {
                let meta = event.session.clone().unwrap();
                if meta.session_id != watched.id() {
                    continue;
                }
                assert!(
                    reconciled,
                    "the missed transition was not reconciled: {event:?}"
                );
                assert_eq!(
                    event.event_type,
                    pb::session_lifecycle_event::EventType::Cancelled as i32
                );
                assert_eq!(meta.state, pb::SessionState::Cancelled as i32);
                break;
            }
            Event::Reconnecting { .. } | Event::Resumed { .. } => {}
            ev => panic!("unexpected {ev:?}"),
        }
    }
    // The re-sent initial sync does not repeat the session: everything up to
    // a session created now (live events follow the sync) skips it.
    let (later, _) = Session::start(
        coord.clone(),
        DECISION,
        StartOptions {
            participants: vec!["alice".into()],
            ttl_ms: 600_000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    loop {
        match next(&mut w).await {
            Event::Session { event, .. } => {
                let id = event.session.map(|m| m.session_id).unwrap_or_default();
                assert_ne!(id, watched.id(), "the session was reported again");
                if id == later.id() {
                    break;
                }
            }
            Event::Resumed { .. } => {}
            ev => panic!("unexpected {ev:?}"),
        }
    }
}

#[tokio::test]
async fn compacted_history_is_reported_as_a_gap_and_skipped() {
    // Ended sessions are compacted to a checkpoint (the runtime's default).
    let dir = TempDir::new("compact");
    let rt = Runtime::start_persistent(&dir.0);
    let (coord, alice) = decision(&rt.target()).await;
    propose_many(&alice, 0, 5, b"").await;
    coord
        .commit(pb::CommitmentPayload {
            action: "decision.selected".into(),
            authority_scope: "test".into(),
            reason: "done".into(),
            outcome_positive: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut w = coord.watch(0, WatchOptions::default()).await.unwrap();
    let mut gaps = Vec::new();
    let mut delivered = Vec::new();
    loop {
        match next(&mut w).await {
            Event::Gap { from, to, cause } => {
                assert_eq!(cause.status, Status::HistoryUnavailable, "{cause}");
                gaps.push((from, to));
                if to >= 7 {
                    break;
                }
            }
            Event::Envelope { sequence, .. } => {
                delivered.push(sequence);
                if sequence >= 7 {
                    break;
                }
            }
            Event::Reconnecting { .. } | Event::Resumed { .. } => {}
            ev => panic!("unexpected {ev:?}"),
        }
    }
    assert!(!gaps.is_empty(), "compaction was not reported");
    // Gaps and deliveries tile the ordinals 1..=7 in order, without overlap.
    let mut covered = Vec::new();
    for (from, to) in &gaps {
        covered.extend(*from..=*to);
    }
    covered.extend(&delivered);
    covered.sort();
    assert_eq!(
        covered,
        (1..=7).collect::<Vec<u64>>(),
        "gaps {gaps:?}, delivered {delivered:?}"
    );
}

/// Watches used to return before the runtime had subscribed them: a signal
/// sent at once after `WatchSignals` returned was lost 24 times in 100. A
/// watch now returns once the runtime has accepted the subscription.
#[tokio::test]
async fn a_watch_is_live_when_it_returns() {
    let rt = Runtime::start();
    let watcher = client(&rt.target(), "observer").await;
    let sender = client(&rt.target(), "alice").await;
    for i in 0..100 {
        let mut w = watcher
            .watch(WatchKind::Signals, WatchOptions::default())
            .await
            .unwrap();
        let kind = format!("probe.{i}");
        sender.send_signal(&kind, b"", 0.5, "").await.unwrap();
        // A lost signal never arrives; the bound only keeps the test finite.
        let ev = tokio::time::timeout(Duration::from_secs(10), w.events.recv())
            .await
            .unwrap_or_else(|_| panic!("signal {i} sent after the watch returned was lost"))
            .expect("watcher ended");
        match ev {
            Event::Signal { envelope, .. } => {
                let p =
                    <pb::SignalPayload as prost::Message>::decode(&envelope.payload[..]).unwrap();
                assert_eq!(p.signal_type, kind);
            }
            other => panic!("expected the signal, got {other:?}"),
        }
        w.cancel();
    }
}

/// A first subscription that cannot be made fails the watch call with its
/// cause (reconnecting applies once a watcher was live), instead of handing
/// back a watcher that never was.
#[tokio::test]
async fn a_watch_that_cannot_subscribe_fails() {
    let mut rt = Runtime::start();
    let watcher = client(&rt.target(), "observer").await;
    rt.kill();
    let e = watcher
        .watch(WatchKind::Signals, WatchOptions::default())
        .await
        .err()
        .expect("no runtime to subscribe with");
    assert_eq!(e.status, Status::Transport, "{e}");
    let e = watcher
        .watch_session(&macp::client::new_id(), 0, WatchOptions::default())
        .await
        .err()
        .expect("no runtime to subscribe with");
    assert_eq!(e.status, Status::Transport, "{e}");
}

/// The runtime killed (`kill -9`) under concurrent load and restarted on
/// the same port with the same file-backed store: every acknowledged
/// message is in the history, once; every failed send names its message
/// id; a watcher opened before the kill delivers the history without gap or
/// repeat, as a fresh read of it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_killed_under_load_loses_nothing_acknowledged() {
    let dir = TempDir::new("kill-under-load");
    let mut rt = Runtime::start_persistent(&dir.0);
    let (coord, alice) = decision(&rt.target()).await;
    let opts = WatchOptions {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..Default::default()
    };
    let mut w = coord.watch(0, opts).await.unwrap();
    let (tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
    let mut senders = Vec::new();
    for t in 0..4 {
        let (alice, tx) = (alice.clone(), tx.clone());
        senders.push(tokio::spawn(async move {
            let (mut acked, mut failed) = (Vec::new(), Vec::new());
            for i in 0..60 {
                match alice
                    .decision()
                    .propose(&format!("t{t}-{i}"), "x", "", b"")
                    .await
                {
                    Ok(ack) => {
                        let _ = tx.send(());
                        acked.push(ack.message_id);
                    }
                    Err(e) => failed.push(e),
                }
            }
            (acked, failed)
        }));
    }
    drop(tx);
    // Kill it while the load flows: after 40 acknowledgements.
    for _ in 0..40 {
        acks.recv()
            .await
            .expect("the senders stopped before the kill");
    }
    rt.restart();
    let (mut acked, mut failed) = (Vec::new(), Vec::new());
    for s in senders {
        let (a, f) = s.await.unwrap();
        acked.extend(a);
        failed.extend(f);
    }
    for e in &failed {
        assert!(
            !e.message_id.is_empty(),
            "a failed send without its id: {e}"
        );
    }
    assert!(acked.len() > 40, "no send succeeded after the restart");

    let want: std::collections::HashSet<String> = acked.iter().cloned().collect();
    let mut seen = Vec::new();
    let mut got = std::collections::HashSet::new();
    let mut reconnected = false;
    while !want.is_subset(&got) {
        match next(&mut w).await {
            Event::Envelope { sequence, envelope } => {
                got.insert(envelope.message_id.clone());
                seen.push((sequence, envelope));
            }
            Event::Closed(e) => panic!("watcher closed: {e}"),
            Event::Reconnecting { .. } => reconnected = true,
            _ => {}
        }
    }
    assert!(reconnected, "the watcher never saw the kill");
    assert_contiguous(&seen, 0);
    let mut fresh = coord.watch(0, WatchOptions::default()).await.unwrap();
    let (history, _) = envelopes(&mut fresh, seen.len()).await;
    let ids = |v: &[(u64, pb::Envelope)]| {
        v.iter()
            .map(|(_, e)| e.message_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&history),
        ids(&seen),
        "the live watcher and the history agree"
    );
}
