//! RFC-MACP-0013 reference vectors, through the Rust core and the C ABI.
//!
//! - `$MACP_VECTORS_DIR/conformance/cmt-hash/*.json` (all but
//!   `vector-schema.json`): a **compute** vector's payload must hash to its
//!   `hash` (from the payload struct and from its wire encoding) and verify as
//!   *match* against its own wire bytes; its `jcs_utf8_hex` and
//!   `preimage_utf8_hex` must be the JCS form of the payload and the labelled
//!   preimage; a `must_differ_from` vector's hash must differ. A **verify**
//!   vector's `wire_hex` and `claimed_hash` must give `expected_outcome`.
//! - `$MACP_VECTORS_DIR/parity/contract.json`: every `commitment_hash.accept`
//!   value is a canonical hash and every `reject` value is not.
//! - `$MACP_VECTORS_DIR/receipt/*.json` (all but `vector-schema.json`), when
//!   that folder exists: verifying `receipt` while trusting exactly
//!   `trusted_keys` gives `expected` (integrity, per-attestation outcomes,
//!   verdict).
//!
//! Each vector is reported by name; a failure names every vector that failed.

mod support;

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};

use macp::commitment::{self, HashVerification};
use macp::ffi::*;
use macp::receipts;
use macp::{pb, Status};
use prost::Message;
use serde_json::{json, Value};
use support::{json_files, vectors_dir};

const LABEL: &str = "macp-commitment-hash/1";

fn hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {s:?}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex: {e}")))
        .collect()
}

fn string(v: &Value, k: &str) -> Result<String, String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("{k} is missing or not a string"))
}

/// The payload of a compute vector (its Section 3 projection).
fn payload(p: &Value) -> Result<pb::CommitmentPayload, String> {
    let supersedes = match p.get("supersedes") {
        None => None,
        Some(s) => Some(pb::CommitmentRef {
            session_id: string(s, "session_id")?,
            commitment_hash: string(s, "commitment_hash")?,
        }),
    };
    Ok(pb::CommitmentPayload {
        commitment_id: string(p, "commitment_id")?,
        action: string(p, "action")?,
        authority_scope: string(p, "authority_scope")?,
        reason: string(p, "reason")?,
        mode_version: string(p, "mode_version")?,
        policy_version: string(p, "policy_version")?,
        configuration_version: string(p, "configuration_version")?,
        outcome_positive: p
            .get("outcome_positive")
            .and_then(Value::as_bool)
            .ok_or("outcome_positive is missing or not a boolean")?,
        supersedes,
    })
}

/// `Ok` when `got` and `want` print alike (`{:?}`), else a message naming `what`.
fn check(what: &str, got: impl std::fmt::Debug, want: impl std::fmt::Debug) -> Result<(), String> {
    let (g, w) = (format!("{got:?}"), format!("{want:?}"));
    if g == w {
        Ok(())
    } else {
        Err(format!("{what}: got {g}, expected {w}"))
    }
}

fn c_buf_str(buf: &[c_char]) -> String {
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string()
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// The hash of `p` through `macp_commitment_hash`.
fn c_hash(p: &pb::CommitmentPayload) -> Result<String, String> {
    let f = |s: &str| cstr(s);
    let (id, action, scope, reason) = (
        f(&p.commitment_id),
        f(&p.action),
        f(&p.authority_scope),
        f(&p.reason),
    );
    let (mv, pv, cv) = (
        f(&p.mode_version),
        f(&p.policy_version),
        f(&p.configuration_version),
    );
    let sup = p
        .supersedes
        .as_ref()
        .map(|s| (f(&s.session_id), f(&s.commitment_hash)));
    let c = macp_commitment {
        commitment_id: id.as_ptr(),
        action: action.as_ptr(),
        authority_scope: scope.as_ptr(),
        reason: reason.as_ptr(),
        outcome_positive: p.outcome_positive,
        supersedes_session_id: sup.as_ref().map_or(std::ptr::null(), |s| s.0.as_ptr()),
        supersedes_commitment_hash: sup.as_ref().map_or(std::ptr::null(), |s| s.1.as_ptr()),
    };
    let mut out = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
    let st = unsafe {
        macp_commitment_hash(
            &c,
            mv.as_ptr(),
            pv.as_ptr(),
            cv.as_ptr(),
            out.as_mut_ptr(),
            out.len(),
            std::ptr::null_mut(),
        )
    };
    check("macp_commitment_hash status", st, Status::Ok)?;
    Ok(c_buf_str(&out))
}

/// `macp_commitment_hash_of_wire`: the hash, or the failing status.
fn c_hash_of_wire(wire: &[u8]) -> Result<String, Status> {
    let mut out = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
    let st = unsafe {
        macp_commitment_hash_of_wire(
            wire.as_ptr(),
            wire.len(),
            out.as_mut_ptr(),
            out.len(),
            std::ptr::null_mut(),
        )
    };
    if st == Status::Ok {
        Ok(c_buf_str(&out))
    } else {
        Err(st)
    }
}

/// `macp_commitment_verify` as the vector file spells outcomes, with the
/// computed hash ("" for cannot_verify).
fn c_verify(wire: &[u8], claimed: &str) -> Result<(&'static str, String), String> {
    let claimed = cstr(claimed);
    let mut r = macp_commitment_verify_result::default();
    let st = unsafe {
        macp_commitment_verify(
            wire.as_ptr(),
            wire.len(),
            claimed.as_ptr(),
            &mut r,
            std::ptr::null_mut(),
        )
    };
    check("macp_commitment_verify status", st, Status::Ok)?;
    use macp_commitment_verify_outcome::*;
    let name = match r.outcome {
        MACP_COMMITMENT_VERIFY_MATCH => "match",
        MACP_COMMITMENT_VERIFY_MISMATCH => "mismatch",
        MACP_COMMITMENT_VERIFY_CANNOT_VERIFY => {
            if r.reason == macp_cannot_verify_reason::MACP_CANNOT_VERIFY_NONE {
                return Err("C cannot_verify without a reason".into());
            }
            if c_buf_str(&r.reason_message).is_empty() {
                return Err("C cannot_verify without a reason message".into());
            }
            "cannot_verify"
        }
    };
    Ok((name, c_buf_str(&r.computed_hash)))
}

fn rust_outcome(v: &HashVerification) -> &'static str {
    match v {
        HashVerification::Match => "match",
        HashVerification::Mismatch { .. } => "mismatch",
        HashVerification::CannotVerify(_) => "cannot_verify",
    }
}

fn compute_vector(v: &Value, all: &BTreeMap<String, Value>) -> Result<(), String> {
    let p = payload(&v["payload"])?;
    let want = string(v, "hash")?;
    check("commitment::hash", commitment::hash(&p), &want)?;
    check("macp_commitment_hash", c_hash(&p)?, &want)?;

    let jcs = hex(&string(v, "jcs_utf8_hex")?)?;
    let canonical = macp_core::receipt::jcs::canonicalize(&v["payload"])
        .map_err(|e| format!("payload is not JCS-representable: {e:?}"))?;
    check(
        "jcs_utf8_hex vs the JCS form of the payload",
        String::from_utf8_lossy(&canonical),
        String::from_utf8_lossy(&jcs),
    )?;
    let mut preimage = format!("{LABEL}:").into_bytes();
    preimage.extend_from_slice(&jcs);
    check(
        "preimage_utf8_hex",
        hex(&string(v, "preimage_utf8_hex")?)?,
        preimage,
    )?;

    let wire = p.encode_to_vec();
    check(
        "commitment::hash_of_wire",
        commitment::hash_of_wire(&wire).map_err(|e| e.to_string())?,
        &want,
    )?;
    check(
        "macp_commitment_hash_of_wire",
        c_hash_of_wire(&wire).map_err(|s| format!("status {s}"))?,
        &want,
    )?;
    check(
        "commitment::verify (own wire)",
        commitment::verify(&wire, &want),
        HashVerification::Match,
    )?;
    check(
        "macp_commitment_verify (own wire)",
        c_verify(&wire, &want)?,
        ("match", want.clone()),
    )?;

    if let Some(other) = v.get("must_differ_from").and_then(Value::as_str) {
        let theirs = all
            .get(other)
            .and_then(|o| o.get("hash"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("must_differ_from names {other}, which has no hash"))?;
        if theirs == want {
            return Err(format!("hash equals that of {other}"));
        }
    }
    Ok(())
}

fn verify_vector(v: &Value) -> Result<(), String> {
    let wire = hex(&string(v, "wire_hex")?)?;
    let claimed = string(v, "claimed_hash")?;
    let want = string(v, "expected_outcome")?;
    let rust = commitment::verify(&wire, &claimed);
    check("commitment::verify", rust_outcome(&rust), &want)?;
    let (c_outcome, c_computed) = c_verify(&wire, &claimed)?;
    check("macp_commitment_verify", c_outcome, &want)?;
    match &rust {
        HashVerification::Match => check("C computed hash", &c_computed, &claimed)?,
        HashVerification::Mismatch { computed } => {
            check("C computed hash", &c_computed, computed)?;
            check(
                "hash_of_wire of a mismatch",
                commitment::hash_of_wire(&wire).map_err(|e| e.to_string())?,
                computed,
            )?;
        }
        HashVerification::CannotVerify(_) => {
            check("C computed hash", &c_computed, "")?;
            check(
                "commitment::hash_of_wire status",
                commitment::hash_of_wire(&wire).map_err(|e| e.status),
                Err::<String, _>(Status::InvalidArgument),
            )?;
            check(
                "macp_commitment_hash_of_wire status",
                c_hash_of_wire(&wire),
                Err::<String, _>(Status::InvalidArgument),
            )?;
        }
    }
    Ok(())
}

fn run_cmt_hash_vector(name: &str, v: &Value, all: &BTreeMap<String, Value>) -> Result<(), String> {
    check("name", string(v, "name")?, name)?;
    check("label", string(v, "label")?, LABEL)?;
    match (v.get("payload"), v.get("wire_hex")) {
        (Some(_), None) => compute_vector(v, all),
        (None, Some(_)) => verify_vector(v),
        _ => Err("neither a compute nor a verify vector".into()),
    }
}

#[test]
fn cmt_hash_vectors() {
    let dir = vectors_dir().join("conformance/cmt-hash");
    let files = json_files(&dir, "vector-schema.json");
    assert!(!files.is_empty(), "no vectors in {dir:?}");
    let all: BTreeMap<String, Value> = files.iter().cloned().collect();
    let mut failures = Vec::new();
    for (name, v) in &files {
        match run_cmt_hash_vector(name, v, &all) {
            Ok(()) => println!("cmt-hash {name}: ok"),
            Err(e) => {
                println!("cmt-hash {name}: FAILED: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cmt-hash vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn parity_contract_hash_format() {
    let path = vectors_dir().join("parity/contract.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"));
    let contract: Value = serde_json::from_slice(&text).unwrap();
    let section = &contract["sections"]["commitment_hash"];
    let list = |k: &str| -> Vec<String> {
        section[k]
            .as_array()
            .unwrap_or_else(|| panic!("commitment_hash.{k} is not a list"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let (accept, reject) = (list("accept"), list("reject"));
    assert!(!accept.is_empty() && !reject.is_empty());
    let mut failures = Vec::new();
    for (values, want) in [(&accept, true), (&reject, false)] {
        for s in values {
            let rust = commitment::is_canonical_hash(s);
            let c = unsafe { macp_commitment_hash_is_canonical(cstr(s).as_ptr()) };
            let supersedes = commitment::supersedes("s0", s).is_ok();
            if rust != want || c != want || supersedes != want {
                failures.push(format!(
                    "{s:?}: expected {}, got rust={rust} c={c} supersedes={supersedes}",
                    if want { "accept" } else { "reject" }
                ));
            }
        }
    }
    println!(
        "parity commitment_hash: {} accepted, {} rejected",
        accept.len(),
        reject.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the C verifier found, in the vector file's spelling.
fn c_receipt_verify(receipt: &str, jwks: &str) -> Result<Value, String> {
    let (receipt, jwks) = (cstr(receipt), cstr(jwks));
    let keys = [jwks.as_ptr()];
    let mut out = std::ptr::null_mut();
    let st = unsafe {
        macp_receipt_verify(
            receipt.as_ptr(),
            keys.as_ptr(),
            keys.len(),
            &mut out,
            std::ptr::null_mut(),
        )
    };
    check("macp_receipt_verify status", st, Status::Ok)?;
    // SAFETY: `out` is live until the free below, after the last use of `v`.
    let v = unsafe { support::verification(out) };
    let integrity = match v.integrity {
        macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_NOT_CHECKED => Value::Null,
        macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_MATCH => json!("match"),
        macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_MISMATCH => json!("mismatch"),
        macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_CANNOT_VERIFY => json!("cannot_verify"),
    };
    let atts: &[macp_receipt_attestation] = if v.attestations_len == 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(v.attestations, v.attestations_len) }
    };
    let attestations: Vec<Value> = atts
        .iter()
        .map(|a| {
            json!(match a.outcome {
                macp_attestation_outcome::MACP_ATTESTATION_VALID => "valid",
                macp_attestation_outcome::MACP_ATTESTATION_INVALID => "invalid",
                macp_attestation_outcome::MACP_ATTESTATION_UNKNOWN_KEY => "unknown_key",
                macp_attestation_outcome::MACP_ATTESTATION_UNSUPPORTED => "unsupported",
            })
        })
        .collect();
    let verdict = match v.verdict {
        macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED => "attested",
        macp_receipt_verdict::MACP_RECEIPT_VERDICT_INTEGRITY_ONLY => "integrity_only",
        macp_receipt_verdict::MACP_RECEIPT_VERDICT_UNVERIFIED => "unverified",
        macp_receipt_verdict::MACP_RECEIPT_VERDICT_REFUSED => "refused",
    };
    macp_receipt_verification_free(out);
    Ok(json!({ "integrity": integrity, "attestations": attestations, "verdict": verdict }))
}

fn run_receipt_vector(name: &str, v: &Value) -> Result<(), String> {
    check("name", string(v, "name")?, name)?;
    let trusted = v["trusted_keys"]
        .as_object()
        .ok_or("trusted_keys is not an object")?;
    let keys: Vec<Value> = trusted
        .iter()
        .map(|(kid, x)| json!({ "kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x }))
        .collect();
    let jwks = json!({ "keys": keys }).to_string();
    let receipt = v.get("receipt").ok_or("no receipt")?.to_string();
    let expected = v.get("expected").ok_or("no expected")?;

    let r = receipts::verify_receipt(&receipt, &[&jwks]).map_err(|e| e.to_string())?;
    let rust = json!({
        "integrity": serde_json::to_value(r.integrity).unwrap(),
        "attestations": r.attestations.iter().map(|a| serde_json::to_value(a.outcome).unwrap()).collect::<Vec<_>>(),
        "verdict": r.verdict.as_str(),
    });
    check("verify_receipt", &rust, expected)?;
    check(
        "macp_receipt_verify",
        &c_receipt_verify(&receipt, &jwks)?,
        expected,
    )?;
    Ok(())
}

#[test]
fn receipt_vectors() {
    let dir = vectors_dir().join("receipt");
    if !dir.is_dir() {
        println!("receipt vectors: {dir:?} is absent; nothing to run");
        return;
    }
    let files = json_files(&dir, "vector-schema.json");
    assert!(!files.is_empty(), "no receipt vectors in {dir:?}");
    let mut failures = Vec::new();
    for (name, v) in &files {
        match run_receipt_vector(name, v) {
            Ok(()) => println!("receipt {name}: ok"),
            Err(e) => {
                println!("receipt {name}: FAILED: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} receipt vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
