//! Projections against the MACP conformance transcripts
//! (`$MACP_VECTORS_DIR/conformance/*.json`).
//!
//! For each transcript, the messages the runtime accepts (`expect ==
//! "accept"`), preceded by the transcript's SessionStart and, where
//! `expected_history` lists them, with the runtime's synthetic entries (the
//! implicit HandoffAccept) at their place, are encoded as envelopes (the
//! payloads from their JSON by `macp::payload`) and applied to a projection
//! of the transcript's mode. Then:
//!
//! - Where the transcript has `expected_mode_state`, every field it names is
//!   compared with the projection's JSON snapshot: objects by the keys the
//!   expectation lists (extra keys in the projection are allowed), lists
//!   element by element with equal length, scalars by value. The fields the
//!   transcripts name, all compared: Decision `phase`,
//!   `proposals.<id>.{proposal_id, sender}`,
//!   `objections[].{proposal_id, severity, sender}`,
//!   `votes.<proposal>.<sender>.vote`; Proposal `phase`, `accepts`,
//!   `proposals.<id>.{proposal_id, proposer, disposition}`; Handoff
//!   `offers.<id>.disposition`. (The runtime's own mode-state fields that the
//!   transcripts do not name, e.g. Proposal's `Converged` phase, are not
//!   checked.)
//! - For every transcript: each accepted payload decodes, the phase is
//!   `Committed` exactly when the transcript resolves, and the Decision and
//!   Quorum tallies equal the accepted Vote and ballot counts.

mod support;

use std::collections::BTreeMap;

use macp::pb;
use macp::projection::Projection;
use prost::Message;
use serde_json::Value;
use support::{transcripts, vectors_dir};

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}
fn i(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(0)
}
fn t(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}
fn strings(v: &Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The protobuf encoding of a transcript payload (its JSON form), by
/// libmacp's JSON encoder.
fn encode(payload_type: &str, p: &Value) -> Vec<u8> {
    macp::payload::encode_value(payload_type, p)
        .unwrap_or_else(|e| panic!("encoding a {payload_type}: {e}"))
}

/// One accepted envelope of the transcript's session.
fn envelope(
    fx: &Value,
    n: usize,
    sender: &str,
    message_type: &str,
    payload: Vec<u8>,
) -> pb::Envelope {
    pb::Envelope {
        macp_version: "1.0".into(),
        mode: s(fx, "mode"),
        message_type: message_type.into(),
        message_id: format!("m{n}"),
        session_id: "conformance-session".into(),
        sender: sender.into(),
        timestamp_unix_ms: 0,
        payload,
    }
}

/// The transcript's accepted history, SessionStart first.
fn accepted_history(fx: &Value) -> Vec<pb::Envelope> {
    let start = pb::SessionStartPayload {
        participants: strings(fx, "participants"),
        mode_version: s(fx, "mode_version"),
        configuration_version: s(fx, "configuration_version"),
        policy_version: s(fx, "policy_version"),
        ttl_ms: i(fx, "ttl_ms"),
        ..Default::default()
    };
    let mut out = vec![envelope(
        fx,
        0,
        &s(fx, "initiator"),
        "SessionStart",
        start.encode_to_vec(),
    )];
    let accepted: Vec<&Value> = fx["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["expect"] == "accept")
        .collect();
    let push = |out: &mut Vec<pb::Envelope>, m: &Value| {
        let n = out.len();
        let payload = encode(m["payload_type"].as_str().unwrap(), &m["payload"]);
        out.push(envelope(
            fx,
            n,
            &s(m, "sender"),
            &s(m, "message_type"),
            payload,
        ));
    };
    match fx.get("expected_history").and_then(Value::as_array) {
        None => accepted.iter().for_each(|m| push(&mut out, m)),
        Some(history) => {
            let mut next = accepted.iter();
            for h in history {
                if t(h, "synthetic") {
                    let mt = s(h, "message_type");
                    let pt = macp::payload::type_for(&s(fx, "mode"), &mt)
                        .unwrap_or_else(|e| panic!("synthetic {mt}: {e}"));
                    let payload = encode(&pt, &h["payload"]);
                    let mut e = envelope(fx, out.len(), &s(h, "sender"), &mt, payload);
                    if mt == "HandoffAccept" {
                        e.message_id =
                            format!("implicit-accept:{}", s(&h["payload"], "handoff_id"));
                    }
                    out.push(e);
                } else {
                    let m = next
                        .next()
                        .expect("history longer than the accepted messages");
                    assert_eq!(m["message_type"], h["message_type"]);
                    push(&mut out, m);
                }
            }
            assert!(
                next.next().is_none(),
                "accepted messages missing from history"
            );
        }
    }
    out
}

/// Where `actual` differs from what `expected` names (see the file comment).
fn differences(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => differences(&format!("{path}.{k}"), ev, av, out),
                    None => out.push(format!("{path}.{k}: missing, expected {ev}")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (n, (ev, av)) in e.iter().zip(a).enumerate() {
                differences(&format!("{path}[{n}]"), ev, av, out);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn project(fx: &Value) -> (Projection, Vec<pb::Envelope>) {
    let mut p = Projection::new(fx["mode"].as_str().unwrap()).unwrap();
    let history = accepted_history(fx);
    for e in &history {
        assert!(p.apply(e).unwrap(), "{} not applied", e.message_id);
    }
    (p, history)
}

#[test]
fn projections_match_expected_mode_state() {
    let mut compared = Vec::new();
    let mut failures = Vec::new();
    for (name, fx) in transcripts() {
        let Some(expected) = fx.get("expected_mode_state") else {
            continue;
        };
        let (p, _) = project(&fx);
        let mut diffs = Vec::new();
        differences("", expected, &p.to_json(), &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
        assert!(p.anomalies().is_empty(), "{name}: {:?}", p.anomalies());
        compared.push(name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Decision, Proposal and Handoff transcripts carry expected mode state.
    assert!(
        compared.len() >= 19,
        "only {} transcripts compared: {compared:?}",
        compared.len()
    );
    for prefix in ["decision_", "proposal_", "handoff_"] {
        assert!(
            compared.iter().any(|n| n.starts_with(prefix)),
            "no {prefix} transcript compared"
        );
    }
}

#[test]
fn every_transcript_projects_consistently() {
    let all = transcripts();
    assert!(all.len() >= 30, "only {} transcripts", all.len());
    for (name, fx) in all {
        let (p, history) = project(&fx);
        let resolved = fx["expected_final_state"] == "Resolved";
        assert_eq!(
            p.phase() == "Committed",
            resolved,
            "{name}: phase {}",
            p.phase()
        );
        assert_eq!(p.applied(), history.len(), "{name}");

        // Tallies against a plain count of the accepted ballots.
        let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
        for m in fx["messages"].as_array().unwrap() {
            if m["expect"] != "accept" {
                continue;
            }
            let (subject, value) = match m["message_type"].as_str().unwrap() {
                "Vote" => (s(&m["payload"], "proposal_id"), s(&m["payload"], "vote")),
                mt @ ("Approve" | "Reject" | "Abstain") if p.quorum().is_some() => {
                    (s(&m["payload"], "request_id"), mt.to_ascii_uppercase())
                }
                _ => continue,
            };
            *counts.entry((subject, value)).or_default() += 1;
        }
        let count = |id: &str, v: &str| {
            counts
                .get(&(id.to_string(), v.to_string()))
                .copied()
                .unwrap_or(0)
        };
        if let Some(d) = p.decision() {
            for id in d.proposals.keys() {
                let tally = d.tally(id);
                assert_eq!(tally.approve, count(id, "APPROVE"), "{name} {id}");
                assert_eq!(tally.reject, count(id, "REJECT"), "{name} {id}");
                assert_eq!(tally.abstain, count(id, "ABSTAIN"), "{name} {id}");
            }
        }
        if let Some(q) = p.quorum() {
            for (id, r) in &q.requests {
                let tally = q.tally(id);
                assert_eq!(tally.approve, count(id, "APPROVE"), "{name} {id}");
                assert_eq!(tally.reject, count(id, "REJECT"), "{name} {id}");
                assert_eq!(tally.abstain, count(id, "ABSTAIN"), "{name} {id}");
                assert_eq!(
                    q.reached(id),
                    tally.approve >= r.required_approvals,
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn quorum_and_task_transcripts_end_where_they_say() {
    let all: BTreeMap<_, _> = transcripts().into_iter().collect();
    let (p, _) = project(&all["quorum_happy_path"]);
    let q = p.quorum().unwrap();
    assert!(q.reached("r1"));
    assert_eq!(q.tally("r1").approve, 2);
    let (p, _) = project(&all["quorum_negative_outcome"]);
    let q = p.quorum().unwrap();
    assert!(!q.reached("r1"));
    assert!(q.unreachable("r1", p.participants()));
    let (p, _) = project(&all["task_happy_path"]);
    let t = p.task().unwrap();
    assert_eq!(t.tasks["t1"].status, "completed");
    assert_eq!(t.active_assignee(), Some("agent://worker"));
    let (p, _) = project(&all["task_negative_outcome"]);
    assert_eq!(p.task().unwrap().tasks["t1"].status, "failed");
    let (p, _) = project(&all["multi_round_happy_path"]);
    let m = p.multi_round().unwrap();
    assert!(m.converged(p.participants()));
    let (p, _) = project(&all["handoff_implicit_accept"]);
    assert!(p.handoff().unwrap().offers["h1"].implicit);
}

#[test]
fn contribute_encoding_matches_the_parity_contract() {
    let path = vectors_dir().join("parity/contract.json");
    let contract: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let section = &contract["sections"]["contribute_payload"];
    assert_eq!(section["canonical_encoding"], "protobuf");
    let vectors = section["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 8);
    let hex = |h: &str| -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|n| u8::from_str_radix(&h[n..n + 2], 16).unwrap())
            .collect()
    };
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let value = v["value"].as_str().unwrap();
        let proto = hex(v["protobuf_hex"].as_str().unwrap());
        assert_eq!(
            macp::modes::multi_round::decode_contribute(&proto).as_deref(),
            Some(value),
            "{name}: protobuf decode"
        );
        if v["decode_only"] != true {
            assert_eq!(
                macp::modes::multi_round::encode_contribute(value),
                proto,
                "{name}: encode"
            );
        }
        if let Some(json) = v["legacy_json_hex"].as_str() {
            assert_eq!(
                macp::modes::multi_round::decode_contribute(&hex(json)).as_deref(),
                Some(value),
                "{name}: legacy JSON decode"
            );
        }
    }
    let first = &section["first_byte"];
    assert_eq!(first["protobuf"], "0x0a");
    assert_eq!(macp::modes::multi_round::encode_contribute("x")[0], 0x0a);
}

#[test]
fn anomaly_kinds_and_fields_match_the_parity_contract() {
    let path = vectors_dir().join("parity/contract.json");
    let contract: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let section = &contract["sections"]["projection_anomaly"];
    let kinds: Vec<&str> = section["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    use macp::projection::*;
    assert_eq!(
        kinds,
        [
            DUPLICATE_VOTE,
            DUPLICATE_BALLOT,
            DUPLICATE_TASK_ACCEPT,
            SETTLED_HANDOFF
        ]
    );
    // A duplicate vote, and the snapshot's fields for it.
    let fx = transcripts()
        .into_iter()
        .find(|(n, _)| n == "decision_happy_path")
        .unwrap()
        .1;
    let (mut p, history) = project(&fx);
    let mut again = history
        .iter()
        .find(|e| e.message_type == "Vote")
        .unwrap()
        .clone();
    again.message_id = "second-vote".into();
    assert!(p.apply(&again).unwrap());
    let j = p.to_json();
    let a = j["anomalies"][0].as_object().unwrap();
    let mut fields: Vec<&str> = section["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let mut got: Vec<&str> = a.keys().map(String::as_str).collect();
    fields.sort();
    got.sort();
    assert_eq!(got, fields);
    assert_eq!(a["kind"], "duplicate_vote");
    assert_eq!(a["message_id"], "second-vote");
    assert_eq!(a["subject_id"], "p1");
}
