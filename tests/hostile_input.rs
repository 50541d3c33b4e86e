//! Hostile input to every C entry point that decodes bytes or text from
//! outside the process: JSON payloads both ways, envelopes applied to
//! projections, commitment wire bytes, and receipts. Valid inputs (every
//! payload and envelope of the conformance transcripts, a signed receipt)
//! are mutated by a seeded generator: bits flipped, bytes replaced, inserted,
//! deleted, duplicated, truncated, interesting values spliced in.
//!
//! Whatever the input, each call must return a status other than
//! `MACP_STATUS_PANIC` with its outputs in the documented state, and the
//! answers must agree with each other:
//! - a payload that decodes to JSON encodes back, and decoding that again
//!   gives the same JSON;
//! - JSON that encodes decodes back;
//! - a projection refusing an envelope changes nothing, and its snapshot is
//!   always JSON with an `applied` count that never falls;
//! - an envelope's payload decodes (`macp_envelope_payload_json`) exactly as
//!   `macp_payload_to_json` decodes it as the type `macp_payload_type`
//!   names, and fails when either of those does;
//! - wire bytes hash exactly when `macp_commitment_verify` does not answer
//!   cannot-verify, and then the computed hash matches;
//! - no change to a signed receipt outside its `attestations` verifies as
//!   attested.
//!
//! `MACP_HOSTILE_SEED` and `MACP_HOSTILE_ITERATIONS` (per target) change the
//! run; the seed is printed so a failure can be replayed.

mod support;

use std::ffi::{c_char, CStr, CString};

use macp::ffi::*;
use macp::{pb, Status};
use macp_core::receipt::{build, ReceiptInputs, ReceiptSigner};
use prost::Message;
use serde_json::Value;
use support::{take_string, transcripts, vectors_dir};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn iterations() -> usize {
    env_u64("MACP_HOSTILE_ITERATIONS", 10_000) as usize
}

fn rng(target: &str) -> fastrand::Rng {
    let seed = env_u64("MACP_HOSTILE_SEED", 0x6d61_6370);
    println!(
        "{target}: seed {seed} (MACP_HOSTILE_SEED), {} iterations",
        iterations()
    );
    fastrand::Rng::with_seed(seed)
}

const INTERESTING: &[&[u8]] = &[
    &[0x00],
    &[0xff],
    &[0x80],
    &[0x7f],
    &[0xff, 0xff, 0xff, 0xff, 0x0f],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    &[
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    ],
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"1e999",
    b"-0",
    b"\"NaN\"",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
];

/// One to four mutations of `seed`.
fn mutate(r: &mut fastrand::Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..r.usize(1..=4) {
        let len = v.len();
        match r.u8(0..8) {
            0 if len > 0 => {
                let i = r.usize(..len);
                v[i] ^= 1 << r.u8(0..8);
            }
            1 if len > 0 => {
                let i = r.usize(..len);
                v[i] = r.u8(..);
            }
            2 => {
                let i = r.usize(..=len);
                v.insert(i, r.u8(..));
            }
            3 if len > 0 => {
                let i = r.usize(..len);
                let n = r.usize(1..=(len - i).min(8));
                v.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = r.usize(..len);
                let n = r.usize(1..=(len - i).min(16));
                let chunk = v[i..i + n].to_vec();
                let at = r.usize(..=len);
                v.splice(at..at, chunk);
            }
            5 if len > 0 => v.truncate(r.usize(..len)),
            _ => {
                let s = INTERESTING[r.usize(..INTERESTING.len())];
                let i = r.usize(..=len);
                if r.bool() && i + s.len() <= len {
                    v[i..i + s.len()].copy_from_slice(s);
                } else {
                    v.splice(i..i, s.iter().copied());
                }
            }
        }
    }
    v
}

/// A C string of arbitrary bytes (a NUL would end it early: made 0x01).
fn c_bytes(b: &[u8]) -> CString {
    CString::new(
        b.iter()
            .map(|&c| if c == 0 { 1 } else { c })
            .collect::<Vec<u8>>(),
    )
    .unwrap()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Run a call with an error out-argument; on failure the status must not be
/// a caught panic and the error must carry a message.
fn call(what: &str, f: impl FnOnce(*mut *mut macp_error) -> Status) -> Status {
    let mut err: *mut macp_error = std::ptr::null_mut();
    let st = f(&mut err);
    assert_ne!(st, Status::Panic, "{what}: a panic was caught");
    if st == Status::Ok {
        assert!(err.is_null(), "{what}: an error on success");
    } else {
        assert!(!err.is_null(), "{what}: {st:?} without an error");
        let msg = unsafe { CStr::from_ptr(macp_error_message(err)) };
        assert!(
            !msg.to_bytes().is_empty(),
            "{what}: {st:?} with an empty message"
        );
        assert_eq!(macp_error_status(err), st);
        macp_error_free(err);
    }
    st
}

fn to_json(type_name: &CStr, bytes: &[u8]) -> Result<String, Status> {
    let mut out: *mut macp_string = std::ptr::dangling_mut();
    let st = call("macp_payload_to_json", |e| unsafe {
        macp_payload_to_json(type_name.as_ptr(), bytes.as_ptr(), bytes.len(), &mut out, e)
    });
    if st == Status::Ok {
        Ok(take_string(out))
    } else {
        assert!(out.is_null(), "out not cleared on failure");
        Err(st)
    }
}

fn from_json(type_name: &CStr, json: &CStr) -> Result<Vec<u8>, Status> {
    let mut need = usize::MAX;
    let st = call("macp_payload_from_json (size)", |e| unsafe {
        macp_payload_from_json(
            type_name.as_ptr(),
            json.as_ptr(),
            std::ptr::null_mut(),
            0,
            &mut need,
            e,
        )
    });
    if st != Status::Ok {
        return Err(st);
    }
    let mut buf = vec![0u8; need];
    let mut written = 0;
    let st = call("macp_payload_from_json", |e| unsafe {
        macp_payload_from_json(
            type_name.as_ptr(),
            json.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut written,
            e,
        )
    });
    assert_eq!(
        st,
        Status::Ok,
        "the size query succeeded, the encoding must too"
    );
    assert_eq!(written, need);
    Ok(buf)
}

/// Every (payload type, JSON payload) of the transcripts, and every
/// transcript as its mode and accepted envelopes.
struct Corpus {
    payloads: Vec<(String, Value)>,
    sessions: Vec<(String, Vec<Vec<u8>>)>,
}

fn corpus() -> Corpus {
    let mut payloads = Vec::new();
    let mut sessions = Vec::new();
    for (n, (_, t)) in transcripts().iter().enumerate() {
        let mode = t["mode"].as_str().unwrap_or("").to_string();
        let session_id = format!("00000000-0000-4000-8000-{n:012}");
        let start = pb::SessionStartPayload {
            participants: t["participants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(String::from))
                .collect(),
            mode_version: t["mode_version"].as_str().unwrap_or("").into(),
            configuration_version: t["configuration_version"].as_str().unwrap_or("").into(),
            ttl_ms: 60_000,
            ..Default::default()
        };
        let envelope = |i: usize, message_type: &str, sender: &str, payload: Vec<u8>| {
            pb::Envelope {
                macp_version: "1.0".into(),
                mode: mode.clone(),
                message_type: message_type.into(),
                message_id: format!("m{i}"),
                session_id: session_id.clone(),
                sender: sender.into(),
                timestamp_unix_ms: 1_700_000_000_000 + i as i64,
                payload,
            }
            .encode_to_vec()
        };
        let initiator = t["initiator"].as_str().unwrap_or("");
        let mut envs = vec![envelope(
            0,
            "SessionStart",
            initiator,
            start.encode_to_vec(),
        )];
        for (i, m) in t["messages"].as_array().into_iter().flatten().enumerate() {
            let pt = m["payload_type"].as_str().unwrap_or("").to_string();
            payloads.push((pt.clone(), m["payload"].clone()));
            if m["expect"] == "accept" {
                if let Ok(bytes) = macp::payload::encode_value(&pt, &m["payload"]) {
                    let mt = m["message_type"].as_str().unwrap_or("");
                    envs.push(envelope(
                        i + 1,
                        mt,
                        m["sender"].as_str().unwrap_or(""),
                        bytes,
                    ));
                }
            }
        }
        if !mode.is_empty() {
            sessions.push((mode, envs));
        }
    }
    assert!(
        !payloads.is_empty(),
        "no transcript payloads in {}",
        vectors_dir().join("conformance").display()
    );
    Corpus { payloads, sessions }
}

/// Mutated protobuf encodings of every transcript payload, and random bytes
/// as every message type of the schema.
#[test]
fn payload_bytes_to_json() {
    let corpus = corpus();
    let mut r = rng("payload_bytes_to_json");
    let mut seeds: Vec<(CString, Vec<u8>)> = corpus
        .payloads
        .iter()
        .filter_map(|(t, p)| Some((c(t), macp::payload::encode_value(t, p).ok()?)))
        .collect();
    for m in macp::payload::pool().all_messages() {
        seeds.push((c(m.full_name()), Vec::new()));
    }
    let (mut decoded, mut refused) = (0, 0);
    for _ in 0..iterations() {
        let (type_name, seed) = &seeds[r.usize(..seeds.len())];
        let bytes = mutate(&mut r, seed);
        match to_json(type_name, &bytes) {
            Ok(json) => {
                decoded += 1;
                let v: Value = serde_json::from_str(&json).expect("the answer is JSON");
                assert!(v.is_object(), "{json}");
                // It encodes back, and that decodes to the same JSON.
                let again = from_json(type_name, &c(&json)).unwrap_or_else(|st| {
                    panic!("{type_name:?}: decoded {json} does not encode back: {st:?}")
                });
                assert_eq!(
                    to_json(type_name, &again).as_deref(),
                    Ok(json.as_str()),
                    "{type_name:?}"
                );
            }
            Err(st) => {
                refused += 1;
                assert_eq!(st, Status::InvalidArgument);
            }
        }
    }
    println!("payload_bytes_to_json: {decoded} decoded, {refused} refused");
    assert!(decoded > 0 && refused > 0, "the mutations should give both");
}

/// Mutated JSON text of every transcript payload.
#[test]
fn payload_json_to_bytes() {
    let corpus = corpus();
    let mut r = rng("payload_json_to_bytes");
    let (mut encoded, mut refused) = (0, 0);
    for _ in 0..iterations() {
        let (type_name, payload) = &corpus.payloads[r.usize(..corpus.payloads.len())];
        let text = mutate(&mut r, payload.to_string().as_bytes());
        let type_name = c(type_name);
        match from_json(&type_name, &c_bytes(&text)) {
            Ok(bytes) => {
                encoded += 1;
                let json = to_json(&type_name, &bytes).expect("what libmacp encoded decodes");
                assert_eq!(
                    from_json(&type_name, &c(&json)),
                    Ok(bytes),
                    "{type_name:?}: {json}"
                );
            }
            Err(st) => {
                refused += 1;
                assert_eq!(st, Status::InvalidArgument);
            }
        }
    }
    println!("payload_json_to_bytes: {encoded} encoded, {refused} refused");
    assert!(encoded > 0 && refused > 0, "the mutations should give both");
}

fn snapshot(p: *const macp_projection) -> Value {
    let mut out = std::ptr::null_mut();
    assert_eq!(
        call("macp_projection_state_json", |e| unsafe {
            macp_projection_state_json(p, &mut out, e)
        }),
        Status::Ok
    );
    serde_json::from_str(&take_string(out)).expect("the snapshot is JSON")
}

/// Each transcript's envelopes applied in order to a projection of its mode,
/// with mutated envelopes among them.
#[test]
fn projection_envelopes() {
    let corpus = corpus();
    let mut r = rng("projection_envelopes");
    let rounds = (iterations() / 10).max(corpus.sessions.len());
    let (mut applied, mut refused, mut payloads) = (0, 0, 0);
    for round in 0..rounds {
        let (mode, envs) = &corpus.sessions[round % corpus.sessions.len()];
        let m = c(mode);
        let mut p = std::ptr::null_mut();
        assert_eq!(
            call("macp_projection_new", |e| unsafe {
                macp_projection_new(m.as_ptr(), &mut p, e)
            }),
            Status::Ok
        );
        let mut count = 0;
        for env in envs {
            for _ in 0..r.usize(0..4) {
                let k = r.usize(..envs.len());
                let bad = mutate(&mut r, &envs[k]);
                if envelope_payload_agrees(&bad) {
                    payloads += 1;
                }
                let before = snapshot(p);
                let st = call("macp_projection_apply", |e| unsafe {
                    macp_projection_apply(p, bad.as_ptr(), bad.len(), e)
                });
                let after = snapshot(p);
                if st == Status::Ok {
                    applied += 1;
                    let n = after["applied"].as_u64().unwrap();
                    assert!(n >= count, "applied fell from {count} to {n}");
                    count = n;
                } else {
                    refused += 1;
                    assert_eq!(st, Status::InvalidArgument);
                    assert_eq!(before, after, "a refused envelope changed the projection");
                }
            }
            let _ = call("macp_projection_apply", |e| unsafe {
                macp_projection_apply(p, env.as_ptr(), env.len(), e)
            });
            let n = snapshot(p)["applied"].as_u64().unwrap();
            assert!(n >= count, "applied fell from {count} to {n}");
            count = n;
        }
        macp_projection_free(p);
    }
    println!(
        "projection_envelopes: {applied} mutated envelopes applied, {refused} refused, \
         {payloads} payloads decoded"
    );
    assert!(refused > 0, "the mutations should be refused sometimes");
    assert!(
        payloads > 0,
        "some mutated envelopes should keep a payload that decodes"
    );
}

/// Decode the payload of the envelope `bytes` (when it is one) with
/// `macp_envelope_payload_json`, and check that it agrees with naming the
/// type (`macp_payload_type`) and decoding as it (`macp_payload_to_json`).
/// Returns whether a payload was decoded.
fn envelope_payload_agrees(bytes: &[u8]) -> bool {
    let Ok(env) = pb::Envelope::decode(bytes) else {
        return false;
    };
    let (Ok(mode), Ok(mt)) = (
        CString::new(env.mode.as_str()),
        CString::new(env.message_type.as_str()),
    ) else {
        return false; // a NUL: not a string C can hold
    };
    let view = macp_envelope {
        macp_version: std::ptr::null(),
        mode: mode.as_ptr(),
        message_type: mt.as_ptr(),
        message_id: std::ptr::null(),
        session_id: std::ptr::null(),
        sender: std::ptr::null(),
        timestamp_unix_ms: env.timestamp_unix_ms,
        payload: env.payload.as_ptr(),
        payload_len: env.payload.len(),
    };
    let mut out = std::ptr::null_mut();
    let st = call("macp_envelope_payload_json", |e| unsafe {
        macp_envelope_payload_json(&view, &mut out, e)
    });
    let direct = if st == Status::Ok {
        Ok(take_string(out))
    } else {
        assert!(out.is_null(), "out_json set on failure");
        Err(st)
    };
    let mut t = std::ptr::null_mut();
    let named = call("macp_payload_type", |e| unsafe {
        macp_payload_type(mode.as_ptr(), mt.as_ptr(), &mut t, e)
    });
    let expected = if named == Status::Ok {
        to_json(&c(&take_string(t)), &env.payload)
    } else {
        Err(named)
    };
    assert_eq!(direct, expected, "{} in {}", env.message_type, env.mode);
    if let Err(st) = direct {
        assert_eq!(st, Status::InvalidArgument);
    }
    direct.is_ok()
}

fn hash_str(buf: &[c_char]) -> String {
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string()
}

/// `macp_commitment_verify`, which must succeed whatever the bytes.
fn verify_commitment(wire: &[u8], claim: &str) -> macp_commitment_verify_result {
    let claim = c(claim);
    let mut v = std::mem::MaybeUninit::<macp_commitment_verify_result>::uninit();
    let st = call("macp_commitment_verify", |e| unsafe {
        macp_commitment_verify(wire.as_ptr(), wire.len(), claim.as_ptr(), v.as_mut_ptr(), e)
    });
    assert_eq!(st, Status::Ok);
    unsafe { v.assume_init() }
}

/// Mutated commitment encodings: hashing and verification agree.
#[test]
fn commitment_wire() {
    let corpus = corpus();
    let mut r = rng("commitment_wire");
    let seeds: Vec<Vec<u8>> = corpus
        .payloads
        .iter()
        .filter(|(t, _)| t == "macp.v1.CommitmentPayload")
        .filter_map(|(t, p)| macp::payload::encode_value(t, p).ok())
        .collect();
    assert!(!seeds.is_empty(), "no Commitment in the transcripts");
    let (mut hashed, mut cannot) = (0, 0);
    for _ in 0..iterations() {
        let k = r.usize(..seeds.len());
        let wire = mutate(&mut r, &seeds[k]);
        let mut out = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
        let st = call("macp_commitment_hash_of_wire", |e| unsafe {
            macp_commitment_hash_of_wire(wire.as_ptr(), wire.len(), out.as_mut_ptr(), out.len(), e)
        });
        let v = verify_commitment(
            &wire,
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        );
        if st == Status::Ok {
            hashed += 1;
            let hash = hash_str(&out);
            let ch = c(&hash);
            assert!(
                unsafe { macp_commitment_hash_is_canonical(ch.as_ptr()) },
                "{hash}"
            );
            assert_eq!(
                v.outcome,
                macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_MISMATCH
            );
            assert_eq!(hash_str(&v.computed_hash), hash);
            let again = verify_commitment(&wire, &hash);
            assert_eq!(
                again.outcome,
                macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_MATCH
            );
        } else {
            cannot += 1;
            assert_eq!(st, Status::InvalidArgument);
            assert_eq!(
                v.outcome,
                macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_CANNOT_VERIFY
            );
            assert_ne!(v.reason, macp_cannot_verify_reason::MACP_CANNOT_VERIFY_NONE);
        }
    }
    println!("commitment_wire: {hashed} hashed, {cannot} cannot be verified");
    assert!(hashed > 0 && cannot > 0, "the mutations should give both");
}

/// Mutated text of a receipt signed offline with a fresh key.
#[test]
fn receipt_documents() {
    let corpus = corpus();
    let mut r = rng("receipt_documents");
    let (_, commitment) = corpus
        .payloads
        .iter()
        .find(|(t, _)| t == "macp.v1.CommitmentPayload")
        .expect("a Commitment in the transcripts");
    let wire = macp::payload::encode_value("macp.v1.CommitmentPayload", commitment).unwrap();
    let signer = ReceiptSigner::from_seed(&[7u8; 32], "hostile-1").unwrap();
    let inputs = ReceiptInputs::new(
        "00000000-0000-4000-8000-000000000001",
        "macp.mode.decision.v1",
        &wire,
        "libmacp-test",
        "2026-01-01T00:00:00Z",
    );
    let receipt = build(&inputs, Some(&signer)).unwrap();
    let original: Value = serde_json::from_slice(&receipt).unwrap();
    let jwks = c(&serde_json::json!({ "keys": [signer.public_jwk()] }).to_string());
    let keys = [jwks.as_ptr()];

    let verify = |text: &CStr| -> Option<macp_receipt_verdict> {
        let mut out = std::ptr::null_mut();
        let st = call("macp_receipt_verify", |e| unsafe {
            macp_receipt_verify(text.as_ptr(), keys.as_ptr(), 1, &mut out, e)
        });
        if st != Status::Ok {
            assert_eq!(st, Status::InvalidArgument);
            assert!(out.is_null());
            return None;
        }
        let v = macp_receipt_verification_result(out);
        assert!(!v.is_null(), "a verification without a result");
        let v = unsafe { &*v };
        let verdict = v.verdict;
        let n = v.attestations_len;
        assert!(n == 0 || !v.attestations.is_null());
        if v.integrity != macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_MATCH {
            assert_eq!(n, 0, "attestations evaluated without integrity");
            assert_ne!(verdict, macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED);
        }
        macp_receipt_verification_free(out);
        Some(verdict)
    };
    assert_eq!(
        verify(&c_bytes(&receipt)),
        Some(macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED)
    );

    let (mut verified, mut attested, mut refused) = (0, 0, 0);
    for _ in 0..iterations() {
        let text = mutate(&mut r, &receipt);
        match verify(&c_bytes(&text)) {
            None => refused += 1,
            Some(verdict) => {
                verified += 1;
                if verdict == macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED {
                    attested += 1;
                    // Only the attestations (or nothing) may differ.
                    let mut got: Value =
                        serde_json::from_slice(&text).expect("attested text is JSON");
                    let mut want = original.clone();
                    got.as_object_mut().map(|o| o.remove("attestations"));
                    want.as_object_mut().map(|o| o.remove("attestations"));
                    assert_eq!(got, want, "a changed receipt verified as attested");
                }
            }
        }
    }
    println!(
        "receipt_documents: {verified} verified ({attested} still attested), {refused} refused"
    );
    assert!(
        verified > attested && refused > 0,
        "the mutations should give every answer"
    );
}
