//! Write the seed corpus of every fuzz target from the specification's
//! vectors: `seed VECTORS_DIR CORPUS_DIR` fills `CORPUS_DIR/<target>/`.
//!
//! Each conformance transcript gives its payloads (as JSON and encoded),
//! its accepted envelopes (one projection sequence per transcript) and its
//! commitments (wire bytes, and a signed receipt over each).

use std::path::{Path, PathBuf};

use macp_core::receipt::{build, ReceiptInputs, ReceiptSigner};
use macp_pb::pb;
use prost::Message;
use serde_json::Value;

fn write(dir: &Path, target: &str, n: usize, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("create the corpus directory");
    std::fs::write(d.join(format!("seed-{n:05}")), bytes).expect("write a seed");
}

fn with_nul(head: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = head.to_vec();
    v.push(0);
    v.extend_from_slice(tail);
    v
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [vectors, out] = args.as_slice() else {
        eprintln!("usage: seed VECTORS_DIR CORPUS_DIR");
        std::process::exit(2);
    };
    let conformance = vectors.join("conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&conformance)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", conformance.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let signer = ReceiptSigner::from_seed(&[7u8; 32], "seed-1").expect("a signer");
    let jwks = serde_json::json!({ "keys": [signer.public_jwk()] }).to_string();
    let mut n = 0;
    for (i, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).expect("read a transcript");
        let Ok(t) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mode = t["mode"].as_str().unwrap_or("").to_string();
        let session_id = format!("00000000-0000-4000-8000-{i:012}");
        let start = pb::SessionStartPayload {
            participants: t["participants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(String::from))
                .collect(),
            ttl_ms: 60_000,
            ..Default::default()
        };
        let envelope = |k: usize, message_type: &str, sender: &str, payload: Vec<u8>| {
            pb::Envelope {
                macp_version: "1.0".into(),
                mode: mode.clone(),
                message_type: message_type.into(),
                message_id: format!("m{k}"),
                session_id: session_id.clone(),
                sender: sender.into(),
                timestamp_unix_ms: 1_700_000_000_000 + k as i64,
                payload,
            }
            .encode_to_vec()
        };
        let mut sequence = with_nul(mode.as_bytes(), &[]);
        let push = |seq: &mut Vec<u8>, env: &[u8]| {
            if env.len() <= u16::MAX as usize {
                seq.extend_from_slice(&(env.len() as u16).to_le_bytes());
                seq.extend_from_slice(env);
            }
        };
        let initiator = t["initiator"].as_str().unwrap_or("");
        push(
            &mut sequence,
            &envelope(0, "SessionStart", initiator, start.encode_to_vec()),
        );
        for (k, m) in t["messages"].as_array().into_iter().flatten().enumerate() {
            let pt = m["payload_type"].as_str().unwrap_or("");
            let json = m["payload"].to_string();
            n += 1;
            write(
                out,
                "payload_json",
                n,
                &with_nul(pt.as_bytes(), json.as_bytes()),
            );
            let Ok(bytes) = macp::payload::encode_value(pt, &m["payload"]) else {
                continue;
            };
            write(out, "payload_bytes", n, &with_nul(pt.as_bytes(), &bytes));
            let mt = m["message_type"].as_str().unwrap_or("");
            let env = envelope(k + 1, mt, m["sender"].as_str().unwrap_or(""), bytes.clone());
            write(out, "envelope_payload_json", n, &env);
            if m["expect"] == "accept" {
                push(&mut sequence, &env);
            }
            if pt == "macp.v1.CommitmentPayload" {
                write(out, "commitment_wire", n, &bytes);
                let inputs = ReceiptInputs::new(
                    &session_id,
                    &mode,
                    &bytes,
                    "libmacp-fuzz",
                    "2026-01-01T00:00:00Z",
                );
                if let Ok(receipt) = build(&inputs, Some(&signer)) {
                    write(
                        out,
                        "receipt_verify",
                        n,
                        &with_nul(&receipt, jwks.as_bytes()),
                    );
                }
            }
        }
        n += 1;
        write(out, "projection_apply", n, &sequence);
    }
    assert!(n > 0, "no transcripts in {}", conformance.display());
    println!("{n} seeds written under {}", out.display());
}
