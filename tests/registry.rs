//! Discovery, the extension-mode and policy registries, what-if replay,
//! signals, progress and capability gating, against a real runtime.
//! The C entry points are exercised with bad input in
//! tests/c/test_registry.c; here the semantics are checked through the core
//! and the JSON the C ABI returns.

mod support;

use std::ffi::CString;
use std::sync::Arc;
use std::time::Duration;

use macp::ffi::*;
use macp::modes::DECISION;
use macp::registry::policy_from_json;
use macp::watch::{Event, WatchKind, WatchOptions};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use serde_json::{json, Value};
use support::proxy::Proxy;
use support::{take_string, Runtime};

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.into());
    Arc::new(Client::connect(c).await.expect("connect"))
}

fn unique(tag: &str) -> String {
    format!("{tag}{}", &macp::client::new_id().replace('-', "")[..12])
}

#[tokio::test]
async fn discovery_lists_modes_manifest_and_roots() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "agent://discoverer").await;

    let standard: Vec<String> = c
        .list_modes()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.mode)
        .collect();
    for m in [
        "macp.mode.decision.v1",
        "macp.mode.proposal.v1",
        "macp.mode.task.v1",
        "macp.mode.handoff.v1",
        "macp.mode.quorum.v1",
    ] {
        assert!(
            standard.contains(&m.to_string()),
            "{m} missing from {standard:?}"
        );
    }
    assert!(
        !standard.iter().any(|m| m.starts_with("ext.")),
        "{standard:?}"
    );
    let ext = c.list_ext_modes().await.unwrap();
    let multi = ext
        .iter()
        .find(|m| m.mode == "ext.multi_round.v1")
        .expect("ext.multi_round.v1 listed");
    assert!(
        multi.message_types.iter().any(|t| t == "Contribute"),
        "{multi:?}"
    );

    let manifest = c.get_manifest("").await.unwrap();
    assert!(
        manifest.supported_modes.iter().any(|m| m == DECISION),
        "{:?}",
        manifest.supported_modes
    );
    let roots = c.list_roots().await.unwrap();
    assert!(roots.iter().all(|r| !r.uri.is_empty()), "{roots:?}");
}

#[tokio::test]
async fn ext_modes_register_promote_and_unregister() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "agent://registrar").await;
    let name = format!("ext.{}.v1", unique("t"));
    let descriptor = pb::ModeDescriptor {
        mode: name.clone(),
        mode_version: "1.0.0".into(),
        title: "test mode".into(),
        message_types: vec!["Ping".into(), "Commitment".into()],
        terminal_message_types: vec!["Commitment".into()],
        ..Default::default()
    };
    c.register_ext_mode(descriptor.clone()).await.unwrap();
    let listed = c.list_ext_modes().await.unwrap();
    let got = listed
        .iter()
        .find(|m| m.mode == name)
        .expect("registered mode listed");
    assert_eq!(got.message_types, descriptor.message_types);

    let again = c.register_ext_mode(descriptor.clone()).await.unwrap_err();
    assert_ne!(again.status, Status::Ok);
    assert!(again.message.contains("RegisterExtMode refused"), "{again}");
    let reserved = c
        .register_ext_mode(pb::ModeDescriptor {
            mode: "macp.mode.mine.v1".into(),
            ..descriptor.clone()
        })
        .await
        .unwrap_err();
    assert!(reserved.message.contains("refused"), "{reserved}");

    c.unregister_ext_mode(&name).await.unwrap();
    assert!(!c
        .list_ext_modes()
        .await
        .unwrap()
        .iter()
        .any(|m| m.mode == name));
    assert!(c.unregister_ext_mode(&name).await.is_err());
    assert!(
        c.unregister_ext_mode("ext.multi_round.v1").await.is_err(),
        "built-in modes stay"
    );

    let promoted = format!("ext.{}.v1", unique("p"));
    c.register_ext_mode(pb::ModeDescriptor {
        mode: promoted.clone(),
        ..descriptor
    })
    .await
    .unwrap();
    let now = c.promote_mode(&promoted, "").await.unwrap();
    assert_eq!(now, promoted);
    assert!(c
        .list_modes()
        .await
        .unwrap()
        .iter()
        .any(|m| m.mode == promoted));
    let e = c.promote_mode("ext.no_such_mode.v1", "").await.unwrap_err();
    assert!(e.message.contains("PromoteMode refused"), "{e}");
}

fn decision_policy(id: &str, algorithm: &str) -> pb::PolicyDescriptor {
    policy_from_json(
        &json!({
            "policy_id": id,
            "mode": DECISION,
            "schema_version": 3,
            "description": "test policy",
            "rules": {"voting": {"algorithm": algorithm}, "commitment": {"authority": "initiator_only"}},
        })
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn policies_register_get_list_and_unregister() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "agent://governor").await;
    let id = format!("policy.test.{}", unique("p"));
    c.register_policy(decision_policy(&id, "none"))
        .await
        .unwrap();

    let got = c.get_policy(&id).await.unwrap();
    assert_eq!(got.mode, DECISION);
    assert_eq!(got.schema_version, 3);
    let rules: Value = serde_json::from_str(&got.rules).unwrap();
    assert_eq!(rules["voting"]["algorithm"], "none");

    let decision_ids: Vec<String> = c
        .list_policies(DECISION)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.policy_id)
        .collect();
    assert!(decision_ids.contains(&id), "{decision_ids:?}");
    let task_ids: Vec<String> = c
        .list_policies("macp.mode.task.v1")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.policy_id)
        .collect();
    assert!(
        !task_ids.contains(&id),
        "the mode filter applies: {task_ids:?}"
    );

    let dup = c
        .register_policy(decision_policy(&id, "none"))
        .await
        .unwrap_err();
    assert_eq!(
        dup.status,
        Status::Rpc,
        "a duplicate is a conflict, not a bad definition: {dup}"
    );
    let bad = c
        .register_policy(decision_policy(&format!("{id}.bad"), "no-such-algorithm"))
        .await
        .unwrap_err();
    assert_eq!(bad.status, Status::InvalidPolicyDefinition, "{bad}");

    // A session binds the registered policy.
    let opts = StartOptions {
        participants: vec!["agent://voter".into()],
        policy_version: Some(id.clone()),
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (s, _) = Session::start(c.clone(), DECISION, opts).await.unwrap();
    assert_eq!(s.metadata().await.unwrap().policy_version, id);

    c.unregister_policy(&id).await.unwrap();
    assert!(c.get_policy(&id).await.is_err());
    assert!(c.unregister_policy("policy.default").await.is_err());
    assert_eq!(
        c.get_policy("").await.unwrap_err().status,
        Status::InvalidArgument
    );
}

#[tokio::test]
async fn what_if_replay_reports_a_diverging_candidate() {
    let rt = Runtime::start_with(&[("MACP_COMPACT_TERMINAL_LOGS", "0")]);
    let lead = client(&rt.target(), "agent://lead").await;
    let id = format!("policy.test.{}", unique("w"));
    lead.register_policy(decision_policy(&id, "none"))
        .await
        .unwrap();
    let opts = StartOptions {
        participants: vec!["agent://lead".into(), "agent://voter".into()],
        policy_version: Some(id.clone()),
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (s, _) = Session::start(lead.clone(), DECISION, opts).await.unwrap();
    let voter = Session::open(client(&rt.target(), "agent://voter").await, s.id())
        .await
        .unwrap();
    s.decision()
        .propose("p1", "ship", "ready", b"")
        .await
        .unwrap();
    voter
        .decision()
        .vote("p1", "REJECT", "not ready")
        .await
        .unwrap();
    s.commit(pb::CommitmentPayload {
        action: "decision.selected".into(),
        authority_scope: "test".into(),
        reason: "lead decides".into(),
        outcome_positive: true,
        ..Default::default()
    })
    .await
    .unwrap();

    // Under its own policy the replay agrees; under a unanimous candidate
    // the REJECT vote denies the positive commitment.
    let same = lead
        .what_if_replay(s.id(), decision_policy(&id, "none"))
        .await
        .unwrap();
    assert_eq!(same.first_divergence, None);
    assert_eq!(same.recorded, same.candidate);
    let strict = lead
        .what_if_replay(s.id(), decision_policy("policy.candidate", "unanimous"))
        .await
        .unwrap();
    assert!(strict.first_divergence.is_some(), "{strict:?}");
    assert!(!strict.denials.is_empty(), "{strict:?}");
    assert_eq!(
        strict.recorded.as_ref().unwrap().state,
        pb::SessionState::Resolved as i32
    );
    assert_ne!(
        strict.candidate.as_ref().unwrap().state,
        pb::SessionState::Resolved as i32
    );

    // The same through the C ABI, as JSON (from a thread of the caller's:
    // blocking libmacp calls refuse to run on an async runtime's threads).
    let (target, sid) = (rt.target(), s.id().to_string());
    let v: Value = std::thread::spawn(move || {
        let handle = c_client(&target, "agent://lead");
        let sid = CString::new(sid).unwrap();
        let cand = CString::new(
            json!({"policy_id": "policy.candidate", "mode": DECISION, "schema_version": 3,
                   "rules": {"voting": {"algorithm": "unanimous"}}})
            .to_string(),
        )
        .unwrap();
        let mut out: *mut macp_string = std::ptr::null_mut();
        let st = unsafe {
            macp_client_what_if_replay(
                handle,
                sid.as_ptr(),
                cand.as_ptr(),
                &mut out,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
        macp_client_free(handle);
        assert_eq!(st, Status::Ok);
        serde_json::from_str(&take_string(out)).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(v["recorded"]["state"], "SESSION_STATE_RESOLVED");
    assert_eq!(v["recorded"]["resolution"]["action"], "decision.selected");
    assert_eq!(v["recorded_policy_id"], id);
    assert!(v["first_divergence"].is_u64(), "{v}");
    let details = &v["denials"][0]["details"];
    assert!(
        details.is_object(),
        "denial details inlined as JSON: {details}"
    );

    let unknown = macp::client::new_id();
    let e = lead
        .what_if_replay(&unknown, decision_policy(&id, "none"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.status, Status::SessionNotFound | Status::Forbidden),
        "{e}"
    );
}

fn c_client(target: &str, identity: &str) -> *mut macp_client {
    let mut opts = std::ptr::null_mut();
    let null = std::ptr::null_mut();
    let t = CString::new(target).unwrap();
    let id = CString::new(identity).unwrap();
    unsafe {
        assert_eq!(macp_client_options_new(&mut opts, null), Status::Ok);
        assert_eq!(
            macp_client_options_set_target(opts, t.as_ptr(), null),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_set_bearer_token(opts, id.as_ptr(), null),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_set_allow_insecure(opts, true, null),
            Status::Ok
        );
        let mut c = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut c, std::ptr::null(), null),
            Status::Ok
        );
        macp_client_options_free(opts);
        c
    }
}

#[tokio::test]
async fn json_answers_from_the_c_abi() {
    let rt = Runtime::start();
    let target = rt.target();
    let (modes, manifest, init, policies) = std::thread::spawn(move || {
        let c = c_client(&target, "agent://json");
        let null = std::ptr::null_mut();
        let mut out = std::ptr::null_mut();
        let mut get = |f: &dyn Fn(*mut *mut macp_string) -> Status| {
            assert_eq!(f(&mut out), Status::Ok);
            serde_json::from_str::<Value>(&take_string(out)).unwrap()
        };
        let modes = get(&|o| unsafe { macp_client_list_modes(c, o, std::ptr::null(), null) });
        let manifest = get(&|o| unsafe {
            macp_client_get_manifest(c, std::ptr::null(), o, std::ptr::null(), null)
        });
        let init = get(&|o| unsafe { macp_client_initialize_json(c, o, null) });
        let policies = get(&|o| unsafe {
            macp_client_list_policies(c, std::ptr::null(), o, std::ptr::null(), null)
        });
        macp_client_free(c);
        (modes, manifest, init, policies)
    })
    .join()
    .unwrap();
    let names: Vec<&str> = modes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mode"].as_str().unwrap())
        .collect();
    assert!(names.contains(&DECISION), "{names:?}");
    // Every field is present, defaults included.
    assert!(modes[0]["schema_uris"].is_object(), "{}", modes[0]);
    assert!(manifest["supported_modes"].is_array(), "{manifest}");
    assert_eq!(
        init["capabilities"]["policy_registry"]["what_if_replay"], true,
        "{init}"
    );
    let default = policies
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["policy_id"] == "policy.default")
        .expect("policy.default listed");
    assert!(
        default["rules"].is_object(),
        "rules come back as an object: {default}"
    );
}

#[tokio::test]
async fn signals_and_progress_are_sent() {
    let rt = Runtime::start();
    let observer = client(&rt.target(), "agent://observer").await;
    let mut signals = observer
        .watch(WatchKind::Signals, WatchOptions::default())
        .await
        .unwrap();
    let c = client(&rt.target(), "agent://telemetry").await;

    // The watch may open after the first signal is sent; send until one
    // arrives (each signal is distinct), bounded.
    let mut sent = Vec::new();
    let got = loop {
        let ack = c.send_signal("load", b"\x00\x01", 0.5, "").await.unwrap();
        sent.push(ack.message_id);
        match tokio::time::timeout(Duration::from_millis(500), signals.events.recv()).await {
            Ok(Some(Event::Signal { envelope, .. })) => break envelope,
            Ok(Some(Event::Resumed { .. })) | Err(_) if sent.len() < 20 => continue,
            other => panic!("no signal arrived: {other:?}"),
        }
    };
    assert!(sent.contains(&got.message_id));
    assert_eq!(got.message_type, "Signal");
    assert!(got.session_id.is_empty() && got.mode.is_empty());
    let p: pb::SignalPayload = prost::Message::decode(got.payload.as_slice()).unwrap();
    assert_eq!(
        (p.signal_type.as_str(), p.data.as_slice(), p.confidence),
        ("load", &b"\x00\x01"[..], 0.5)
    );

    for bad in [1.5, -0.1, f64::NAN] {
        let e = c.send_signal("load", b"", bad, "").await.unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument, "confidence {bad}");
    }
    assert_eq!(
        c.send_signal("", b"", 0.5, "").await.unwrap_err().status,
        Status::InvalidArgument
    );

    let opts = StartOptions {
        participants: vec!["agent://telemetry".into()],
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (s, _) = Session::start(c.clone(), DECISION, opts).await.unwrap();
    let a = s.progress("tok", 1.0, 4.0, "a quarter", "").await.unwrap();
    assert_eq!(a.session_state, pb::SessionState::Open as i32);
    for (p, t) in [(f64::NAN, 1.0), (1.0, f64::INFINITY), (-1.0, 1.0)] {
        assert_eq!(
            s.progress("tok", p, t, "", "").await.unwrap_err().status,
            Status::InvalidArgument
        );
    }
}

#[tokio::test]
async fn calls_the_runtime_did_not_advertise_fail_as_unsupported() {
    let rt = Runtime::start();
    let (proxy, addr) = Proxy::start(&rt.addr.to_string()).await;
    *proxy.capabilities.lock().unwrap() = Some(pb::Capabilities::default());
    let c = client(&addr.to_string(), "agent://limited").await;
    let id = macp::client::new_id();
    let results = [
        (
            "manifest.get_manifest",
            c.get_manifest("").await.map(|_| ()),
        ),
        ("mode_registry.list_modes", c.list_modes().await.map(|_| ())),
        (
            "mode_registry.list_modes",
            c.list_ext_modes().await.map(|_| ()),
        ),
        ("roots.list_roots", c.list_roots().await.map(|_| ())),
        (
            "policy_registry.register_policy",
            c.register_policy(decision_policy("policy.x", "none")).await,
        ),
        (
            "policy_registry.register_policy",
            c.unregister_policy("policy.x").await,
        ),
        (
            "policy_registry.list_policies",
            c.get_policy("policy.default").await.map(|_| ()),
        ),
        (
            "policy_registry.list_policies",
            c.list_policies("").await.map(|_| ()),
        ),
        (
            "policy_registry.what_if_replay",
            c.what_if_replay(&id, decision_policy("policy.x", "none"))
                .await
                .map(|_| ()),
        ),
        (
            "sessions.list_sessions",
            c.list_sessions(0, "").await.map(|_| ()),
        ),
    ];
    for (capability, r) in results {
        let e = r.expect_err(capability);
        assert_eq!(e.status, Status::Unsupported, "{capability}: {e}");
        assert!(e.message.contains(capability), "{capability}: {e}");
    }
    // Nothing was sent for them: the proxy forwards no such call.
    assert!(proxy.sends().is_empty());
}
