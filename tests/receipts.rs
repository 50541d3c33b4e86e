//! Decision receipts against a real `macp-runtime`: fetched through the Rust
//! core and the C ABI, verified offline, tampered with; and every new C
//! function (commitment hashes, receipts, the strings that carry them) fed
//! bad input.

mod support;

use std::ffi::{c_char, CStr, CString};
use std::sync::Arc;
use std::time::Duration;

use macp::commitment;
use macp::ffi::*;
use macp::modes::DECISION;
use macp::receipts::{verify_receipt, AttestationOutcome, Integrity, Verdict};
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use macp_core::receipt::ReceiptSigner;
use serde_json::{json, Value};
use support::{take_string, verification, Runtime};

const KID: &str = "libmacp-test-1";
const RUNTIME_ID: &str = "libmacp-test";

/// Unpadded base64url (RFC 4648 §5), for the test's private JWK.
fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A fresh Ed25519 signing key: the signer (for its public JWK) and the
/// private OKP JWK the runtime loads (deployment docs: "a PKCS#8 PEM or a
/// private OKP JWK").
fn signing_key() -> (ReceiptSigner, String) {
    let mut seed = [0u8; 32];
    seed.iter_mut().for_each(|b| *b = fastrand::u8(..));
    let signer = ReceiptSigner::from_seed(&seed, KID).unwrap();
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "kid": KID, "d": base64url(&seed) });
    (signer, jwk.to_string())
}

/// A runtime that signs receipts with a new key.
fn signing_runtime() -> (Runtime, ReceiptSigner) {
    let (signer, jwk) = signing_key();
    let rt = Runtime::start_with(&[
        ("MACP_RECEIPT_SIGNING_KEY", &jwk),
        ("MACP_RUNTIME_ID", RUNTIME_ID),
    ]);
    (rt, signer)
}

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.to_string());
    c.call_timeout = Some(Duration::from_secs(10));
    Arc::new(Client::connect(c).await.expect("connect"))
}

/// The Commitment that resolves the test sessions.
fn commitment_payload() -> pb::CommitmentPayload {
    pb::CommitmentPayload {
        commitment_id: "c-receipt-1".into(),
        action: "decision.selected".into(),
        authority_scope: "team".into(),
        reason: "majority".into(),
        outcome_positive: true,
        ..Default::default()
    }
}

/// A Decision between coordinator, alice and bob: open, or run to RESOLVED.
/// Returns the coordinator's and alice's handles.
async fn decision(rt: &Runtime, resolve: bool) -> (Session, Session) {
    let t = rt.target();
    let opts = StartOptions {
        intent: "choose a database".into(),
        participants: vec!["alice".into(), "bob".into()],
        ttl_ms: 60_000,
        ..Default::default()
    };
    let (coord, _) = Session::start(client(&t, "coordinator").await, DECISION, opts)
        .await
        .expect("start");
    let alice = Session::open(client(&t, "alice").await, coord.id())
        .await
        .unwrap();
    if resolve {
        let bob = Session::open(client(&t, "bob").await, coord.id())
            .await
            .unwrap();
        alice
            .decision()
            .propose("p1", "postgres", "mature", b"{}")
            .await
            .unwrap();
        alice.decision().vote("p1", "APPROVE", "yes").await.unwrap();
        bob.decision().vote("p1", "APPROVE", "ok").await.unwrap();
        let done = coord.commit(commitment_payload()).await.unwrap();
        assert_eq!(done.session_state, pb::SessionState::Resolved as i32);
    }
    (coord, alice)
}

/// `receipt` with one byte of the value `find` (which must occur once)
/// changed.
fn tamper(receipt: &str, find: &str) -> String {
    assert_eq!(receipt.matches(find).count(), 1, "{find:?} in {receipt}");
    let at = receipt.find(find).unwrap() + find.len() - 1;
    let mut bytes = receipt.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn signed_receipt_verifies_offline_and_tampering_is_detected() {
    let (rt, signer) = signing_runtime();
    let (coord, alice) = decision(&rt, true).await;
    let caps = coord.client().capabilities().decision_receipt.unwrap();
    assert!(caps.get_decision_receipt && caps.signed);

    let receipt = coord
        .client()
        .get_decision_receipt(coord.id())
        .await
        .unwrap();
    let keys = alice.client().get_receipt_keys().await.unwrap();

    // The published key is the one the runtime was given, public half only.
    let jwks: Value = serde_json::from_str(&keys).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], KID);
    assert_eq!(jwks["keys"][0]["x"], signer.public_jwk()["x"]);
    assert!(jwks["keys"][0].get("d").is_none());

    // The receipt names the session and the commitment hash computed here
    // from what was sent (the session's bound versions filled in).
    let body: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(body["session_id"], coord.id());
    assert_eq!(body["issuer"], format!("runtime:{RUNTIME_ID}"));
    let sent = pb::CommitmentPayload {
        mode_version: coord.mode_version().into(),
        configuration_version: coord.configuration_version().into(),
        policy_version: coord.policy_version().into(),
        ..commitment_payload()
    };
    assert_eq!(body["commitment_hash"], commitment::hash(&sent));

    // Stable bytes, whoever asks.
    let again = alice
        .client()
        .get_decision_receipt(coord.id())
        .await
        .unwrap();
    assert_eq!(again, receipt);

    let v = verify_receipt(&receipt, &[&keys]).unwrap();
    assert_eq!(v.integrity, Some(Integrity::Match));
    assert_eq!(v.verdict, Verdict::Attested);
    assert_eq!(v.attestations.len(), 1);
    assert_eq!(v.attestations[0].kind, "jws");
    assert_eq!(v.attestations[0].kid, KID);
    assert_eq!(v.attestations[0].outcome, AttestationOutcome::Valid);

    // Trusting no key, or another key: integrity only.
    let v = verify_receipt(&receipt, &[]).unwrap();
    assert_eq!(v.verdict, Verdict::IntegrityOnly);
    assert_eq!(v.attestations[0].outcome, AttestationOutcome::UnknownKey);
    let (other, _) = signing_key();
    let other_jwks = json!({ "keys": [other.public_jwk()] }).to_string();
    let v = verify_receipt(&receipt, &[&other_jwks]).unwrap();
    assert_eq!(v.verdict, Verdict::IntegrityOnly, "same kid, other key");
    assert_eq!(v.attestations[0].outcome, AttestationOutcome::Invalid);

    // One byte of the signed body (the issuer): the signature fails.
    let forged = tamper(&receipt, &format!("runtime:{RUNTIME_ID}"));
    let v = verify_receipt(&forged, &[&keys]).unwrap();
    assert_eq!(v.integrity, Some(Integrity::Match));
    assert_eq!(v.verdict, Verdict::IntegrityOnly);
    assert_eq!(v.attestations[0].outcome, AttestationOutcome::Invalid);

    // One byte of the Commitment: integrity fails, attestations unchecked.
    let forged = tamper(&receipt, "\"majority");
    let v = verify_receipt(&forged, &[&keys]).unwrap();
    assert_eq!(v.integrity, Some(Integrity::Mismatch));
    assert_eq!(v.verdict, Verdict::Unverified);
    assert!(v.attestations.is_empty());
}

#[tokio::test]
async fn unsigned_runtime_gives_integrity_only_receipts() {
    let rt = Runtime::start();
    let (coord, _) = decision(&rt, true).await;
    let caps = coord.client().capabilities().decision_receipt.unwrap();
    assert!(caps.get_decision_receipt && !caps.signed);
    let receipt = coord
        .client()
        .get_decision_receipt(coord.id())
        .await
        .unwrap();
    let keys = coord.client().get_receipt_keys().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&keys).unwrap(),
        json!({ "keys": [] })
    );
    let v = verify_receipt(&receipt, &[&keys]).unwrap();
    assert_eq!(v.integrity, Some(Integrity::Match));
    assert_eq!(v.verdict, Verdict::IntegrityOnly);
    assert!(v.attestations.is_empty());
}

#[tokio::test]
async fn no_receipt_for_an_open_or_unknown_session() {
    let rt = Runtime::start();
    let (coord, _) = decision(&rt, false).await;
    let c = coord.client();
    let e = c.get_decision_receipt(coord.id()).await.unwrap_err();
    assert_eq!(e.status, Status::ReceiptUnavailable, "{e}");
    assert_eq!(e.code, "RECEIPT_UNAVAILABLE");
    assert_eq!(e.session_id, coord.id());
    let e = c
        .get_decision_receipt(&macp::client::new_id())
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::SessionNotFound, "{e}");
    let e = c.get_decision_receipt("").await.unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
}

// ---- the C ABI ----

fn no_err() -> *mut *mut macp_error {
    std::ptr::null_mut()
}

/// Status, code and message of a C error object, which is freed.
fn take_error(err: *mut macp_error) -> (Status, String, String) {
    assert!(!err.is_null(), "no error object");
    let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
    let out = (
        macp_error_status(err),
        s(macp_error_code(err)),
        s(macp_error_message(err)),
    );
    macp_error_free(err);
    out
}

/// A C client for `identity` on `rt`.
fn c_client(rt: &Runtime, identity: &str) -> *mut macp_client {
    let target = CString::new(rt.target()).unwrap();
    let identity = CString::new(identity).unwrap();
    unsafe {
        let mut opts = std::ptr::null_mut();
        assert_eq!(macp_client_options_new(&mut opts, no_err()), Status::Ok);
        macp_client_options_set_target(opts, target.as_ptr(), no_err());
        macp_client_options_set_bearer_token(opts, identity.as_ptr(), no_err());
        macp_client_options_set_allow_insecure(opts, true, no_err());
        let mut client = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), no_err()),
            Status::Ok
        );
        macp_client_options_free(opts);
        client
    }
}

#[test]
fn receipt_through_the_c_abi() {
    let (rt, _) = signing_runtime();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let (resolved, _) = tokio.block_on(decision(&rt, true));
    let (open, _) = tokio.block_on(decision(&rt, false));
    let client = c_client(&rt, "alice");
    let resolved_id = CString::new(resolved.id()).unwrap();
    let open_id = CString::new(open.id()).unwrap();
    unsafe {
        let mut receipt = std::ptr::null_mut();
        assert_eq!(
            macp_client_get_decision_receipt(
                client,
                resolved_id.as_ptr(),
                &mut receipt,
                std::ptr::null(),
                no_err()
            ),
            Status::Ok
        );
        assert!(!receipt.is_null());
        let mut keys = std::ptr::null_mut();
        assert_eq!(
            macp_client_get_receipt_keys(client, &mut keys, std::ptr::null(), no_err()),
            Status::Ok
        );
        assert!(!keys.is_null());
        let key_list = [macp_string_ptr(keys)];
        let mut v = std::ptr::null_mut();
        assert_eq!(
            macp_receipt_verify(
                macp_string_ptr(receipt),
                key_list.as_ptr(),
                1,
                &mut v,
                no_err()
            ),
            Status::Ok
        );
        let found = verification(v);
        assert_eq!(
            found.integrity,
            macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_MATCH
        );
        assert_eq!(
            found.verdict,
            macp_receipt_verdict::MACP_RECEIPT_VERDICT_ATTESTED
        );
        assert_eq!(found.attestations_len, 1);
        let a = &*found.attestations;
        assert_eq!(CStr::from_ptr(a.kid).to_str().unwrap(), KID);
        assert_eq!(CStr::from_ptr(a.kind).to_str().unwrap(), "jws");
        assert_eq!(a.outcome, macp_attestation_outcome::MACP_ATTESTATION_VALID);
        macp_receipt_verification_free(v);
        assert!(
            macp_receipt_verification_result(v).is_null(),
            "read after free"
        );
        macp_receipt_verification_free(v); // ignored

        // The same receipt through C and Rust, and trusting no key.
        let text = take_string(receipt);
        assert_eq!(
            text,
            tokio
                .block_on(resolved.client().get_decision_receipt(resolved.id()))
                .unwrap()
        );
        let text = CString::new(text).unwrap();
        assert_eq!(
            macp_receipt_verify(text.as_ptr(), std::ptr::null(), 0, &mut v, no_err()),
            Status::Ok
        );
        let found = verification(v);
        assert_eq!(
            found.verdict,
            macp_receipt_verdict::MACP_RECEIPT_VERDICT_INTEGRITY_ONLY
        );
        assert_eq!(found.attestations_len, 1);
        assert_eq!(
            (*found.attestations).outcome,
            macp_attestation_outcome::MACP_ATTESTATION_UNKNOWN_KEY
        );
        macp_receipt_verification_free(v);
        let key_text = CStr::from_ptr(macp_string_ptr(keys)).to_str().unwrap();
        assert_eq!(macp_string_len(keys), key_text.len());
        assert!(
            serde_json::from_str::<Value>(key_text).unwrap()["keys"].is_array(),
            "{key_text}"
        );
        macp_string_free(keys);
        assert_eq!(macp_string_len(keys), 0, "read after free");
        assert_eq!(CStr::from_ptr(macp_string_ptr(keys)).to_bytes(), b"");
        macp_string_free(keys); // ignored

        // An open session has no receipt.
        let mut receipt = std::ptr::dangling_mut::<macp_string>();
        let mut err = std::ptr::null_mut();
        assert_eq!(
            macp_client_get_decision_receipt(
                client,
                open_id.as_ptr(),
                &mut receipt,
                std::ptr::null(),
                &mut err
            ),
            Status::ReceiptUnavailable
        );
        assert!(receipt.is_null());
        let (status, code, _) = take_error(err);
        assert_eq!(status, Status::ReceiptUnavailable);
        assert_eq!(code, "RECEIPT_UNAVAILABLE");

        // A freed client is an invalid handle.
        macp_client_free(client);
        let mut keys = std::ptr::null_mut();
        assert_eq!(
            macp_client_get_receipt_keys(client, &mut keys, std::ptr::null(), no_err()),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_get_decision_receipt(
                client,
                resolved_id.as_ptr(),
                &mut keys,
                std::ptr::null(),
                no_err()
            ),
            Status::InvalidHandle
        );
    }
}

const NOT_UTF8: &[u8] = b"\xff\xfe\0";
fn not_utf8() -> *const c_char {
    NOT_UTF8.as_ptr() as *const c_char
}
fn bogus_client() -> *const macp_client {
    0x1234 as *const macp_client
}

#[test]
fn receipt_functions_refuse_bad_input() {
    unsafe {
        let mut out = std::ptr::dangling_mut::<macp_string>();
        let mut err = std::ptr::null_mut();
        // Handles: NULL and a pointer that was never a client.
        for h in [std::ptr::null(), bogus_client()] {
            assert_eq!(
                macp_client_get_decision_receipt(
                    h,
                    c"s".as_ptr(),
                    &mut out,
                    std::ptr::null(),
                    &mut err
                ),
                Status::InvalidHandle
            );
            assert!(out.is_null(), "the out-pointer is cleared on failure");
            let (status, _, message) = take_error(err);
            assert_eq!(status, Status::InvalidHandle);
            assert!(message.contains("macp_client"), "{message}");
            assert_eq!(
                macp_client_get_receipt_keys(h, &mut out, std::ptr::null(), no_err()),
                Status::InvalidHandle
            );
        }
        // Arguments are checked before the handle.
        for id in [std::ptr::null(), not_utf8(), c"".as_ptr()] {
            assert_eq!(
                macp_client_get_decision_receipt(
                    bogus_client(),
                    id,
                    &mut out,
                    std::ptr::null(),
                    &mut err
                ),
                Status::InvalidArgument
            );
            assert!(take_error(err).2.contains("session_id"));
        }
        assert_eq!(
            macp_client_get_decision_receipt(
                bogus_client(),
                c"s".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null(),
                no_err()
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_get_receipt_keys(
                bogus_client(),
                std::ptr::null_mut(),
                std::ptr::null(),
                no_err()
            ),
            Status::InvalidArgument
        );

        // macp_receipt_verify.
        let keys = c"{\"keys\":[]}";
        let list = [keys.as_ptr()];
        let null_key = [std::ptr::null::<c_char>()];
        let bad_key = [not_utf8()];
        let not_json_key = [c"[".as_ptr()];
        let second_bad = [keys.as_ptr(), c"{\"keys\":1}".as_ptr()];
        let mut v = std::ptr::dangling_mut::<macp_receipt_verification>();
        let cases: [(*const c_char, *const *const c_char, usize, &str); 9] = [
            (std::ptr::null(), list.as_ptr(), 1, "receipt_json is NULL"),
            (
                not_utf8(),
                list.as_ptr(),
                1,
                "receipt_json is not valid UTF-8",
            ),
            (c"{".as_ptr(), list.as_ptr(), 1, "receipt is not JSON"),
            (c"{}".as_ptr(), std::ptr::null(), 1, "jwks_json is NULL"),
            (c"{}".as_ptr(), null_key.as_ptr(), 1, "jwks_json[0] is NULL"),
            (
                c"{}".as_ptr(),
                bad_key.as_ptr(),
                1,
                "jwks_json[0] is not valid UTF-8",
            ),
            (
                c"{}".as_ptr(),
                not_json_key.as_ptr(),
                1,
                "key set 0 is not JSON",
            ),
            (
                c"{}".as_ptr(),
                second_bad.as_ptr(),
                2,
                "key set 1 is not a usable",
            ),
            (c"{}".as_ptr(), list.as_ptr(), usize::MAX, "out of range"),
        ];
        for (receipt, jwks, len, expected) in cases {
            assert_eq!(
                macp_receipt_verify(receipt, jwks, len, &mut v, &mut err),
                Status::InvalidArgument,
                "{expected}"
            );
            assert!(v.is_null());
            let (_, _, message) = take_error(err);
            assert!(message.contains(expected), "{message} vs {expected}");
        }
        assert_eq!(
            macp_receipt_verify(
                c"{}".as_ptr(),
                list.as_ptr(),
                1,
                std::ptr::null_mut(),
                no_err()
            ),
            Status::InvalidArgument
        );
        // A JSON value that is not a receipt is refused, not an error.
        assert_eq!(
            macp_receipt_verify(c"[]".as_ptr(), list.as_ptr(), 1, &mut v, no_err()),
            Status::Ok
        );
        let found = verification(v);
        assert_eq!(
            found.verdict,
            macp_receipt_verdict::MACP_RECEIPT_VERDICT_REFUSED
        );
        assert_eq!(
            found.integrity,
            macp_receipt_integrity::MACP_RECEIPT_INTEGRITY_NOT_CHECKED
        );
        assert_eq!(found.attestations_len, 0);

        // The view refuses NULL, foreign and wrong-type handles; a free of
        // another type's handle releases nothing.
        assert!(macp_receipt_verification_result(std::ptr::null()).is_null());
        assert!(macp_receipt_verification_result(0x1234 as *const _).is_null());
        let mut s = std::ptr::null_mut();
        assert_eq!(
            macp_payload_type(
                c"macp.mode.decision.v1".as_ptr(),
                c"Vote".as_ptr(),
                &mut s,
                no_err()
            ),
            Status::Ok
        );
        assert!(macp_receipt_verification_result(s as *const _).is_null());
        macp_receipt_verification_free(s as *mut _);
        assert_eq!(take_string(s), "macp.modes.decision.v1.VotePayload");
        assert_eq!(
            CStr::from_ptr(macp_string_ptr(v as *const _)).to_bytes(),
            b""
        );
        assert_eq!(macp_string_len(v as *const _), 0);
        macp_string_free(v as *mut _);
        assert_eq!(
            verification(v).verdict,
            macp_receipt_verdict::MACP_RECEIPT_VERDICT_REFUSED
        );
        macp_receipt_verification_free(v);
        assert!(
            macp_receipt_verification_result(v).is_null(),
            "read after free"
        );

        // Frees ignore NULL, foreign and already-freed pointers.
        macp_receipt_verification_free(std::ptr::null_mut());
        macp_receipt_verification_free(0x1234 as *mut _);
        macp_receipt_verification_free(v);
        macp_string_free(0x1234 as *mut _);
    }
}

/// `macp_string`: its views and its free refuse NULL, foreign, freed and
/// wrong-type handles, and a stale free never releases a newer string (whose
/// text the system allocator may well have put at the freed one's address).
#[test]
fn strings_refuse_bad_handles_and_stale_frees() {
    let payload_type = |message_type: &CStr| {
        let mut s = std::ptr::dangling_mut();
        let st = unsafe {
            macp_payload_type(
                c"macp.mode.decision.v1".as_ptr(),
                message_type.as_ptr(),
                &mut s,
                no_err(),
            )
        };
        assert_eq!(st, Status::Ok);
        assert!(!s.is_null());
        s
    };
    let read = |s: *const macp_string| {
        unsafe { CStr::from_ptr(macp_string_ptr(s)) }
            .to_str()
            .unwrap()
            .to_string()
    };
    for bad in [std::ptr::null(), 0x1234 as *const macp_string] {
        assert_eq!(read(bad), "");
        assert_eq!(macp_string_len(bad), 0);
        macp_string_free(bad as *mut _); // ignored
    }

    let a = payload_type(c"Vote");
    assert_eq!(read(a), "macp.modes.decision.v1.VotePayload");
    assert_eq!(
        macp_string_len(a),
        "macp.modes.decision.v1.VotePayload".len()
    );
    macp_string_free(a);
    assert_eq!(read(a), "", "read after free");
    assert_eq!(macp_string_len(a), 0);
    let b = payload_type(c"Proposal");
    assert_ne!(a, b, "a handle is never reused");
    macp_string_free(a); // stale: must not release `b`
    assert_eq!(read(b), "macp.modes.decision.v1.ProposalPayload");

    // Handles of other types are no strings, and the reverse.
    let mut err = std::ptr::null_mut();
    let mut none = std::ptr::dangling_mut();
    let st = unsafe {
        macp_payload_type(
            c"no.such.mode".as_ptr(),
            c"Vote".as_ptr(),
            &mut none,
            &mut err,
        )
    };
    assert_ne!(st, Status::Ok);
    assert!(none.is_null(), "the out-pointer is cleared on failure");
    assert_eq!(read(err as *const _), "");
    assert_eq!(macp_string_len(err as *const _), 0);
    macp_string_free(err as *mut _); // ignored: an error object
    assert_eq!(macp_error_status(err), st, "the error survives");
    macp_error_free(b as *mut _); // ignored: a string
    macp_error_free(err);
    assert_eq!(take_string(b), "macp.modes.decision.v1.ProposalPayload");
    assert_eq!(read(b), "");
    macp_string_free(b); // ignored
}

const HASH_001: &str = "sha256:9f58e9d114d11860d48aa2bcb8cda458b9618b1cc8560595a802b68c4af85d41";

fn c_commitment() -> macp_commitment {
    macp_commitment {
        commitment_id: c"c1".as_ptr(),
        action: c"decision.approved".as_ptr(),
        authority_scope: c"seam".as_ptr(),
        reason: c"sealed by seam".as_ptr(),
        outcome_positive: true,
        supersedes_session_id: std::ptr::null(),
        supersedes_commitment_hash: std::ptr::null(),
    }
}

#[test]
fn commitment_functions_refuse_bad_input() {
    use prost::Message;
    let mut buf = [0 as c_char; MACP_COMMITMENT_HASH_BUFFER_LEN];
    let mut err = std::ptr::null_mut();
    let v1 = c"1.0.0".as_ptr();
    let mv = c"macp.mode.decision.v1".as_ptr();
    let read = |b: &[c_char]| {
        unsafe { CStr::from_ptr(b.as_ptr()) }
            .to_str()
            .unwrap()
            .to_string()
    };
    unsafe {
        // The good case, for reference.
        let c = c_commitment();
        assert_eq!(
            macp_commitment_hash(&c, mv, v1, v1, buf.as_mut_ptr(), buf.len(), no_err()),
            Status::Ok
        );
        assert_eq!(read(&buf), HASH_001);

        // macp_commitment_hash.
        let mut bad_action = c_commitment();
        bad_action.action = not_utf8();
        let mut bad_sup = c_commitment();
        bad_sup.supersedes_commitment_hash = not_utf8();
        let cases: [(
            *const macp_commitment,
            *const c_char,
            *mut c_char,
            usize,
            &str,
        ); 6] = [
            (
                std::ptr::null(),
                mv,
                buf.as_mut_ptr(),
                buf.len(),
                "commitment is NULL",
            ),
            (
                &c,
                mv,
                std::ptr::null_mut(),
                buf.len(),
                "out (output) is NULL",
            ),
            (&c, mv, buf.as_mut_ptr(), buf.len() - 1, "out_len is 71"),
            (&c, mv, buf.as_mut_ptr(), 0, "out_len is 0"),
            (
                &bad_action,
                mv,
                buf.as_mut_ptr(),
                buf.len(),
                "action is not valid UTF-8",
            ),
            (
                &c,
                not_utf8(),
                buf.as_mut_ptr(),
                buf.len(),
                "mode_version is not valid UTF-8",
            ),
        ];
        for (c, mv, out, len, expected) in cases {
            assert_eq!(
                macp_commitment_hash(c, mv, v1, v1, out, len, &mut err),
                Status::InvalidArgument,
                "{expected}"
            );
            let (_, _, message) = take_error(err);
            assert!(message.contains(expected), "{message} vs {expected}");
        }
        assert_eq!(
            macp_commitment_hash(&bad_sup, mv, v1, v1, buf.as_mut_ptr(), buf.len(), no_err()),
            Status::InvalidArgument
        );
        // NULL strings are empty ones: all NULL is the all-empty payload.
        let empty = macp_commitment {
            commitment_id: std::ptr::null(),
            action: std::ptr::null(),
            authority_scope: std::ptr::null(),
            reason: std::ptr::null(),
            outcome_positive: false,
            supersedes_session_id: std::ptr::null(),
            supersedes_commitment_hash: std::ptr::null(),
        };
        let n = std::ptr::null();
        assert_eq!(
            macp_commitment_hash(&empty, n, n, n, buf.as_mut_ptr(), buf.len(), no_err()),
            Status::Ok
        );
        assert_eq!(
            read(&buf),
            commitment::hash(&pb::CommitmentPayload::default())
        );

        // macp_commitment_hash_of_wire.
        let wire = macp::commitment::supersedes("s0", HASH_001)
            .map(|r| pb::CommitmentPayload {
                supersedes: Some(r),
                ..Default::default()
            })
            .unwrap()
            .encode_to_vec();
        let mut unknown = wire.clone();
        unknown.extend_from_slice(&[0x9a, 0x06, 0x01, b'x']); // field 99
        let cases: [(*const u8, usize, *mut c_char, usize, &str); 5] = [
            (
                std::ptr::null(),
                3,
                buf.as_mut_ptr(),
                buf.len(),
                "wire is NULL but its length is 3",
            ),
            (
                wire.as_ptr(),
                usize::MAX,
                buf.as_mut_ptr(),
                buf.len(),
                "wire length is out of range",
            ),
            (
                wire.as_ptr(),
                wire.len(),
                std::ptr::null_mut(),
                buf.len(),
                "out (output) is NULL",
            ),
            (
                wire.as_ptr(),
                wire.len(),
                buf.as_mut_ptr(),
                10,
                "out_len is 10",
            ),
            (
                unknown.as_ptr(),
                unknown.len(),
                buf.as_mut_ptr(),
                buf.len(),
                "field 99",
            ),
        ];
        for (w, wlen, out, len, expected) in cases {
            assert_eq!(
                macp_commitment_hash_of_wire(w, wlen, out, len, &mut err),
                Status::InvalidArgument,
                "{expected}"
            );
            let (_, _, message) = take_error(err);
            assert!(message.contains(expected), "{message} vs {expected}");
        }
        assert_eq!(
            macp_commitment_hash_of_wire(
                std::ptr::null(),
                0,
                buf.as_mut_ptr(),
                buf.len(),
                no_err()
            ),
            Status::Ok,
            "NULL with length 0 is the empty encoding"
        );
        assert_eq!(
            read(&buf),
            commitment::hash(&pb::CommitmentPayload::default())
        );

        // macp_commitment_verify.
        let mut r = macp_commitment_verify_result::default();
        let claimed = CString::new(HASH_001).unwrap();
        let cases: [(*const u8, usize, *const c_char, bool, &str); 4] = [
            (std::ptr::null(), 1, claimed.as_ptr(), true, "wire is NULL"),
            (
                wire.as_ptr(),
                wire.len(),
                std::ptr::null(),
                true,
                "claimed is NULL",
            ),
            (
                wire.as_ptr(),
                wire.len(),
                not_utf8(),
                true,
                "claimed is not valid UTF-8",
            ),
            (
                wire.as_ptr(),
                wire.len(),
                claimed.as_ptr(),
                false,
                "out (output) is NULL",
            ),
        ];
        for (w, wlen, claim, with_out, expected) in cases {
            let out = if with_out {
                &mut r as *mut _
            } else {
                std::ptr::null_mut()
            };
            assert_eq!(
                macp_commitment_verify(w, wlen, claim, out, &mut err),
                Status::InvalidArgument,
                "{expected}"
            );
            let (_, _, message) = take_error(err);
            assert!(message.contains(expected), "{message} vs {expected}");
        }
        assert_eq!(
            macp_commitment_verify(
                unknown.as_ptr(),
                unknown.len(),
                claimed.as_ptr(),
                &mut r,
                no_err()
            ),
            Status::Ok
        );
        assert_eq!(
            r.outcome,
            macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_CANNOT_VERIFY
        );
        assert_eq!(
            r.reason,
            macp_cannot_verify_reason::MACP_CANNOT_VERIFY_UNKNOWN_FIELD
        );
        assert_eq!(
            (r.unknown_field_tag, r.unknown_field_in_supersedes),
            (99, false)
        );
        assert!(read(&r.reason_message).contains("field 99"));
        assert_eq!(read(&r.computed_hash), "");
        let mut nested = wire[..wire.len()].to_vec();
        nested[1] += 3; // supersedes grows by field 3 = "z"
        nested.extend_from_slice(&[0x1a, 0x01, b'z']);
        assert_eq!(
            macp_commitment_verify(
                nested.as_ptr(),
                nested.len(),
                claimed.as_ptr(),
                &mut r,
                no_err()
            ),
            Status::Ok
        );
        assert_eq!(
            (r.unknown_field_tag, r.unknown_field_in_supersedes),
            (3, true)
        );
        let truncated = [0x0a_u8];
        assert_eq!(
            macp_commitment_verify(truncated.as_ptr(), 1, claimed.as_ptr(), &mut r, no_err()),
            Status::Ok
        );
        assert_eq!(
            r.reason,
            macp_cannot_verify_reason::MACP_CANNOT_VERIFY_MALFORMED
        );
        assert_eq!(
            macp_commitment_verify(
                wire.as_ptr(),
                wire.len(),
                claimed.as_ptr(),
                &mut r,
                no_err()
            ),
            Status::Ok
        );
        assert_eq!(
            r.outcome,
            macp_commitment_verify_outcome::MACP_COMMITMENT_VERIFY_MISMATCH
        );
        assert_eq!(r.reason, macp_cannot_verify_reason::MACP_CANNOT_VERIFY_NONE);
        assert_eq!(
            read(&r.computed_hash),
            commitment::hash_of_wire(&wire).unwrap()
        );

        // macp_commitment_hash_is_canonical.
        assert!(macp_commitment_hash_is_canonical(claimed.as_ptr()));
        assert!(!macp_commitment_hash_is_canonical(std::ptr::null()));
        assert!(!macp_commitment_hash_is_canonical(not_utf8()));
        assert!(!macp_commitment_hash_is_canonical(c"sha256:".as_ptr()));
    }
}
