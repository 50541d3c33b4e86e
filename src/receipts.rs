//! Decision receipts (`macp-receipt/1`, RFC-MACP-0013 §13 and Appendix A):
//! fetching them from the runtime, and verifying them offline.
//!
//! A receipt is a JSON document carrying a resolved session's Commitment, its
//! commitment hash and zero or more attestations (the runtime signs with an
//! Ed25519 key as a detached JWS when it has one). Verification needs no
//! connection: integrity (does the Commitment have the recorded hash?) needs no
//! key at all, and authenticity comes from an attestation that a key the
//! caller trusts signed. The verifier is `macp-core`'s; this module only
//! parses inputs and reports its findings with the key id of each attestation.

use macp_core::receipt::{self, TrustedKeys};
use macp_pb::pb;
use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result, Status};

pub use macp_core::receipt::{AttestationOutcome, Integrity, Verdict};

/// Refuse with `Unsupported` unless the runtime's `Initialize` answer
/// advertises `decision_receipt.get_decision_receipt`.
fn require_receipts(caps: &pb::Capabilities) -> Result<()> {
    if caps
        .decision_receipt
        .as_ref()
        .is_some_and(|d| d.get_decision_receipt)
    {
        Ok(())
    } else {
        Err(Error::new(
            Status::Unsupported,
            "the runtime does not advertise decision receipts \
             (Initialize capability decision_receipt.get_decision_receipt)",
        ))
    }
}

impl Client {
    /// `GetDecisionReceipt`: the receipt of a resolved session, as the JSON
    /// text the runtime serves (the same bytes on every call).
    ///
    /// A session that is not resolved, or is of an extension mode, has none:
    /// `ReceiptUnavailable`. Without the runtime capability: `Unsupported`.
    pub async fn get_decision_receipt(&self, session_id: &str) -> Result<String> {
        crate::client::check_session_id(session_id)?;
        require_receipts(&self.capabilities())?;
        let req = pb::GetDecisionReceiptRequest {
            session_id: session_id.to_string(),
        };
        self.unary(
            req,
            |mut s, r| async move { s.get_decision_receipt(r).await },
        )
        .await
        .map(|r| r.receipt_json)
        .map_err(|e| e.with_ids(session_id, ""))
    }

    /// `GetReceiptKeys`: the JWKS (JSON text) of the public keys receipts are
    /// signed with, active key first, then retired ones; `{"keys":[]}` when the
    /// runtime has none. Without the runtime capability: `Unsupported`.
    pub async fn get_receipt_keys(&self) -> Result<String> {
        require_receipts(&self.capabilities())?;
        self.unary(pb::GetReceiptKeysRequest {}, |mut s, r| async move {
            s.get_receipt_keys(r).await
        })
        .await
        .map(|r| r.jwks_json)
    }
}

/// One attestation of a verified receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
    /// The attestation's `type` (`"jws"`, `"vendor"`, ...); empty when absent.
    pub kind: String,
    /// The key id a `jws` attestation's protected header names; empty when
    /// there is none or the header cannot be read.
    pub kid: String,
    pub outcome: AttestationOutcome,
}

/// What [`verify_receipt`] found, as `macp-core`'s verifier reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptVerification {
    /// Whether the Commitment has the recorded hash; `None` only when the
    /// receipt is refused (its `receipt_format` is not `macp-receipt/1`).
    pub integrity: Option<Integrity>,
    /// One per entry of the receipt's `attestations`, in order; empty unless
    /// integrity is `Match` (a failed integrity check ends verification).
    pub attestations: Vec<Attestation>,
    pub verdict: Verdict,
}

impl ReceiptVerification {
    /// Integrity holds and a trusted key signed the receipt.
    pub fn is_attested(&self) -> bool {
        self.verdict == Verdict::Attested
    }
}

/// Verify a receipt offline (RFC-MACP-0013 Appendix A.4) against the Ed25519
/// keys in `jwks_json`: each entry a JWKS (`{"keys":[...]}`, as
/// `GetReceiptKeys` returns) or a single JWK. Only keys passed here are
/// trusted; with none, the best verdict is `IntegrityOnly`.
///
/// Fails with `InvalidArgument` when the receipt or a key document is not
/// JSON, or a key document is not a JWK/JWKS. Everything else, a tampered or
/// unknown receipt included, is a verdict, not an error.
pub fn verify_receipt(receipt_json: &str, jwks_json: &[&str]) -> Result<ReceiptVerification> {
    let receipt: Value = serde_json::from_str(receipt_json)
        .map_err(|e| Error::invalid_argument(format!("the receipt is not JSON: {e}")))?;
    let mut trusted = TrustedKeys::new();
    for (i, doc) in jwks_json.iter().enumerate() {
        let doc: Value = serde_json::from_str(doc)
            .map_err(|e| Error::invalid_argument(format!("key set {i} is not JSON: {e}")))?;
        receipt::add_jwks(&doc, &mut trusted).map_err(|e| {
            Error::invalid_argument(format!("key set {i} is not a usable JWK or JWKS: {e}"))
        })?;
    }
    let found = receipt::verify(&receipt, &trusted);
    // The verifier reports one outcome per entry of `attestations`, in order
    // (or none at all); the entries give the type and kid that go with them.
    let entries = receipt
        .get("attestations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let attestations = found
        .attestations
        .iter()
        .enumerate()
        .map(|(i, outcome)| {
            let entry = entries.get(i);
            Attestation {
                kind: entry
                    .and_then(|a| a.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kid: entry.and_then(jws_kid).unwrap_or_default(),
                outcome: *outcome,
            }
        })
        .collect();
    Ok(ReceiptVerification {
        integrity: found.integrity,
        attestations,
        verdict: found.verdict,
    })
}

/// The `kid` of a `jws` attestation's protected header (the first segment of
/// the compact JWS, base64url JSON). Only read to say which key an outcome is
/// about; the signature check is `macp-core`'s.
fn jws_kid(att: &Value) -> Option<String> {
    if att.get("type").and_then(Value::as_str) != Some("jws") {
        return None;
    }
    let header = att.get("jws")?.as_str()?.split('.').next()?;
    let header: Value = serde_json::from_slice(&base64url_decode(header)?).ok()?;
    header.get("kid")?.as_str().map(str::to_string)
}

/// Decode unpadded base64url (RFC 4648 §5); `None` on any other character.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_is_required() {
        let mut caps = pb::Capabilities::default();
        assert_eq!(
            require_receipts(&caps).unwrap_err().status,
            Status::Unsupported
        );
        caps.decision_receipt = Some(pb::DecisionReceiptCapability {
            get_decision_receipt: false,
            signed: true,
        });
        assert!(require_receipts(&caps).is_err());
        caps.decision_receipt = Some(pb::DecisionReceiptCapability {
            get_decision_receipt: true,
            signed: false,
        });
        assert!(require_receipts(&caps).is_ok());
    }

    #[test]
    fn base64url_round_trips_known_values() {
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("Zg").unwrap(), b"f");
        assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert!(base64url_decode("Zm9v=").is_none());
        assert!(base64url_decode("a+b").is_none());
    }

    /// A signed receipt built with `macp-core`, for the verifier's plumbing.
    fn signed(kid: &str) -> (String, String) {
        use prost::Message;
        let signer = receipt::ReceiptSigner::from_seed(&[7; 32], kid).unwrap();
        let wire = pb::CommitmentPayload {
            commitment_id: "c1".into(),
            action: "decision.selected".into(),
            outcome_positive: true,
            ..Default::default()
        }
        .encode_to_vec();
        let inputs = receipt::ReceiptInputs::new(
            "s1",
            "macp.mode.decision.v1",
            &wire,
            "runtime:test",
            "2026-01-01T00:00:00Z",
        );
        let r = receipt::build(&inputs, Some(&signer)).unwrap();
        let jwks = serde_json::json!({ "keys": [signer.public_jwk()] }).to_string();
        (String::from_utf8(r).unwrap(), jwks)
    }

    #[test]
    fn verifies_a_signed_receipt_and_names_its_key() {
        let (r, jwks) = signed("k1");
        let v = verify_receipt(&r, &[&jwks]).unwrap();
        assert_eq!(v.integrity, Some(Integrity::Match));
        assert_eq!(v.verdict, Verdict::Attested);
        assert!(v.is_attested());
        assert_eq!(
            v.attestations,
            vec![Attestation {
                kind: "jws".into(),
                kid: "k1".into(),
                outcome: AttestationOutcome::Valid
            }]
        );
        let untrusted = verify_receipt(&r, &[]).unwrap();
        assert_eq!(untrusted.verdict, Verdict::IntegrityOnly);
        assert_eq!(
            untrusted.attestations[0].outcome,
            AttestationOutcome::UnknownKey
        );
        assert_eq!(untrusted.attestations[0].kid, "k1");
    }

    #[test]
    fn tampering_and_bad_inputs() {
        let (r, jwks) = signed("k1");
        let issuer = r.replace("runtime:test", "runtime:tesT");
        let v = verify_receipt(&issuer, &[&jwks]).unwrap();
        assert_eq!(v.verdict, Verdict::IntegrityOnly);
        assert_eq!(v.attestations[0].outcome, AttestationOutcome::Invalid);
        let commitment = r.replace("decision.selected", "decision.selectee");
        let v = verify_receipt(&commitment, &[&jwks]).unwrap();
        assert_eq!(v.integrity, Some(Integrity::Mismatch));
        assert_eq!(v.verdict, Verdict::Unverified);
        assert!(v.attestations.is_empty());
        let v = verify_receipt("{}", &[]).unwrap();
        assert_eq!((v.integrity, v.verdict), (None, Verdict::Refused));
        for (receipt, keys) in [("not json", "{}"), (r.as_str(), "[1"), (&r, "{\"keys\":1}")] {
            let e = verify_receipt(receipt, &[keys]).unwrap_err();
            assert_eq!(e.status, Status::InvalidArgument, "{e}");
        }
    }
}
