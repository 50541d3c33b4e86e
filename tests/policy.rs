//! Policy builders against a real runtime: every mode's built policy is
//! accepted by `RegisterPolicy` and binds a session, and the rules it says
//! are the rules the runtime applies (a unanimous decision policy denies a
//! commitment one voter rejected; a quorum threshold replaces the request's
//! count). The C builder is driven here too, and with bad input in
//! tests/c/test_policy.c.

mod support;

use std::ffi::CString;
use std::sync::Arc;

use macp::ffi::*;
use macp::modes::{DECISION, HANDOFF, PROPOSAL, QUORUM, TASK};
use macp::policy::PolicyBuilder;
use macp::registry::policy_from_json;
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use serde_json::Value;
use support::{take_string, Runtime};

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.into());
    Arc::new(Client::connect(c).await.expect("connect"))
}

fn unique(tag: &str) -> String {
    format!(
        "policy.test.{tag}.{}",
        &macp::client::new_id().replace('-', "")[..12]
    )
}

async fn start(c: &Arc<Client>, mode: &str, policy: &str, participants: &[&str]) -> Session {
    let opts = StartOptions {
        intent: "policy test".into(),
        participants: participants.iter().map(|p| p.to_string()).collect(),
        policy_version: Some(policy.into()),
        ttl_ms: 60_000,
        ..Default::default()
    };
    Session::start(c.clone(), mode, opts).await.unwrap().0
}

fn commitment(action: &str, positive: bool) -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        action: action.into(),
        authority_scope: "test".into(),
        reason: "the lead decides".into(),
        outcome_positive: positive,
        ..Default::default()
    }
}

#[tokio::test]
async fn every_mode_registers_and_binds_a_session() {
    let rt = Runtime::start();
    let c = client(&rt.target(), "agent://lead").await;
    let mut built = Vec::new();

    let mut d = PolicyBuilder::new(DECISION, &unique("d")).unwrap();
    d.description("weighted, vetoes, evaluations first");
    d.voting("weighted", 0.6).unwrap();
    d.voting_weight("agent://a", 2.0).unwrap();
    d.voting_weight("agent://b", 1.0).unwrap();
    d.voting_quorum("count", 1.0).unwrap();
    d.objection_handling(true, 1, "finalize_decline").unwrap();
    d.evaluation(0.3, true).unwrap();
    d.decision_commitment(true, true).unwrap();
    built.push(d);

    let mut q = PolicyBuilder::new(QUORUM, &unique("q")).unwrap();
    q.quorum_threshold("percentage", 50).unwrap();
    q.abstention(true, "implicit_reject").unwrap();
    q.commitment_authority("any_participant").unwrap();
    built.push(q);

    let mut p = PolicyBuilder::new(PROPOSAL, &unique("p")).unwrap();
    p.acceptance_criterion("counterparty").unwrap();
    p.counter_proposal_max_rounds(3).unwrap();
    p.terminal_on_any_reject(true).unwrap();
    built.push(p);

    let mut t = PolicyBuilder::new(TASK, &unique("t")).unwrap();
    t.task_rules(true, true).unwrap();
    t.commitment_authority("designated_role").unwrap();
    t.designated_role("agent://lead").unwrap();
    built.push(t);

    let mut h = PolicyBuilder::new(HANDOFF, &unique("h")).unwrap();
    h.implicit_accept_timeout_ms(30_000).unwrap();
    built.push(h);

    for b in &built {
        c.register_policy(b.build().unwrap())
            .await
            .unwrap_or_else(|e| panic!("{} refused: {e}", b.mode()));
        let got = c.get_policy(b.policy_id()).await.unwrap();
        assert_eq!(got.mode, b.mode());
        let rules: Value = serde_json::from_str(&got.rules).unwrap();
        assert_eq!(rules, b.rules().unwrap(), "{}: stored as built", b.mode());
        // The JSON form (the C ABI's) is the same policy.
        let again = policy_from_json(&b.to_value().unwrap().to_string()).unwrap();
        assert_eq!(again, b.build().unwrap());

        let s = start(
            &c,
            b.mode(),
            b.policy_id(),
            &["agent://lead", "agent://a", "agent://b"],
        )
        .await;
        assert_eq!(s.metadata().await.unwrap().policy_version, b.policy_id());
    }
}

#[tokio::test]
async fn a_unanimous_policy_denies_a_commitment_one_voter_rejected() {
    let rt = Runtime::start();
    let lead = client(&rt.target(), "agent://lead").await;
    let a = client(&rt.target(), "agent://a").await;
    let b = client(&rt.target(), "agent://b").await;
    let id = unique("unanimous");
    let mut p = PolicyBuilder::new(DECISION, &id).unwrap();
    p.voting("unanimous", 1.0).unwrap();
    lead.register_policy(p.build().unwrap()).await.unwrap();

    let split = start(
        &lead,
        DECISION,
        &id,
        &["agent://lead", "agent://a", "agent://b"],
    )
    .await;
    split
        .decision()
        .propose("p1", "ship", "ready", b"")
        .await
        .unwrap();
    for (c, vote) in [(&a, "APPROVE"), (&b, "REJECT")] {
        Session::open(c.clone(), split.id())
            .await
            .unwrap()
            .decision()
            .vote("p1", vote, "")
            .await
            .unwrap();
    }
    let denied = split
        .commit(commitment("decision.selected", true))
        .await
        .unwrap_err();
    assert_eq!(denied.status, Status::PolicyDenied, "{denied}");

    let agreed = start(
        &lead,
        DECISION,
        &id,
        &["agent://lead", "agent://a", "agent://b"],
    )
    .await;
    agreed
        .decision()
        .propose("p1", "ship", "ready", b"")
        .await
        .unwrap();
    // Unanimous means every participant, the lead included.
    for c in [&lead, &a, &b] {
        Session::open(c.clone(), agreed.id())
            .await
            .unwrap()
            .decision()
            .vote("p1", "APPROVE", "")
            .await
            .unwrap();
    }
    agreed
        .commit(commitment("decision.selected", true))
        .await
        .unwrap();
    assert_eq!(
        agreed.metadata().await.unwrap().state,
        pb::SessionState::Resolved as i32
    );
    // Under the default policy the split vote would not have mattered.
    let lax = start(
        &lead,
        DECISION,
        "",
        &["agent://lead", "agent://a", "agent://b"],
    )
    .await;
    lax.decision().propose("p1", "ship", "", b"").await.unwrap();
    Session::open(b.clone(), lax.id())
        .await
        .unwrap()
        .decision()
        .vote("p1", "REJECT", "")
        .await
        .unwrap();
    lax.commit(commitment("decision.selected", true))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_quorum_threshold_replaces_the_requested_count() {
    let rt = Runtime::start();
    let lead = client(&rt.target(), "agent://lead").await;
    let id = unique("quorum");
    let mut p = PolicyBuilder::new(QUORUM, &id).unwrap();
    p.quorum_threshold("n_of_m", 2).unwrap();
    lead.register_policy(p.build().unwrap()).await.unwrap();
    let voters = ["agent://a", "agent://b", "agent://c"];
    let a = client(&rt.target(), voters[0]).await;
    let b = client(&rt.target(), voters[1]).await;

    // Each request asks for one approval; under the policy it takes two.
    let mut outcomes = Vec::new();
    for policy in ["", id.as_str()] {
        let s = start(&lead, QUORUM, policy, &voters).await;
        s.quorum()
            .request_approval("r1", "deploy", "", b"", 1)
            .await
            .unwrap();
        Session::open(a.clone(), s.id())
            .await
            .unwrap()
            .quorum()
            .approve("r1", "")
            .await
            .unwrap();
        outcomes.push((
            s.clone(),
            s.commit(commitment("quorum.approved", true)).await,
        ));
    }
    assert!(outcomes[0].1.is_ok(), "default policy: {:?}", outcomes[0].1);
    let early = outcomes[1].1.as_ref().unwrap_err();
    assert!(
        matches!(early.status, Status::PolicyDenied | Status::InvalidEnvelope),
        "{early}"
    );
    let s = &outcomes[1].0;
    Session::open(b.clone(), s.id())
        .await
        .unwrap()
        .quorum()
        .approve("r1", "")
        .await
        .unwrap();
    s.commit(commitment("quorum.approved", true)).await.unwrap();
}

/// The C builder's JSON registers through the C ABI, and bad input fails
/// with the status and message the header promises.
#[test]
fn the_c_builder_writes_what_register_policy_takes() {
    let rt = Runtime::start();
    let null = std::ptr::null_mut();
    let cs = |s: &str| CString::new(s).unwrap();
    let client = c_client(&rt.target(), "agent://lead");
    let id = cs(&unique("c"));
    unsafe {
        let mut b = std::ptr::null_mut();
        let mode = cs(DECISION);
        assert_eq!(
            macp_policy_builder_new(mode.as_ptr(), id.as_ptr(), &mut b, null),
            Status::Ok
        );
        let alg = cs("supermajority");
        assert_eq!(
            macp_policy_builder_set_voting(b, alg.as_ptr(), 0.67, null),
            Status::Ok
        );
        // Refused values change nothing.
        let mut err = std::ptr::null_mut();
        assert_eq!(
            macp_policy_builder_set_voting(b, alg.as_ptr(), 1.5, &mut err),
            Status::InvalidArgument
        );
        let msg = std::ffi::CStr::from_ptr(macp_error_message(err)).to_string_lossy();
        assert!(msg.contains("voting.threshold"), "{msg}");
        macp_error_free(err);
        let kind = cs("n_of_m");
        assert_eq!(
            macp_policy_builder_set_quorum_threshold(b, kind.as_ptr(), 2, null),
            Status::InvalidArgument,
            "a quorum rule on a decision policy"
        );
        let mut out = std::ptr::null_mut();
        assert_eq!(macp_policy_builder_to_json(b, &mut out, null), Status::Ok);
        let json = take_string(out);
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["rules"]["voting"]["threshold"], 0.67);
        let j = cs(&json);
        assert_eq!(
            macp_client_register_policy(client, j.as_ptr(), std::ptr::null(), null),
            Status::Ok
        );
        macp_policy_builder_free(b);
        assert_eq!(
            macp_policy_builder_to_json(b, &mut out, null),
            Status::InvalidHandle
        );
        assert!(out.is_null());
        macp_client_free(client);
    }
}

fn c_client(target: &str, identity: &str) -> *mut macp_client {
    let null = std::ptr::null_mut();
    let t = CString::new(target).unwrap();
    let id = CString::new(identity).unwrap();
    unsafe {
        let mut opts = std::ptr::null_mut();
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
