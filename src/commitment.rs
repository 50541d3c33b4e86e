//! Commitment hashes (RFC-MACP-0013): the `sha256:<64 lowercase hex>` value
//! that names a resolving `CommitmentPayload`, and its verification.
//!
//! Computation and verification are `macp-core`'s (the runtime's own
//! implementation of the projection, JCS canonicalization and hashing); this
//! module gives them the SDK's error type and result shapes.
//!
//! Verification takes the payload's protobuf **wire bytes**, never a decoded
//! struct: a decoder silently drops fields it does not know, so a payload with
//! a field outside the hash label would otherwise "match" a hash that does not
//! cover it. That is why there are three outcomes: match, mismatch, and
//! cannot verify.

use std::fmt;

use macp_core::commitment_hash::{self as core, CannotVerify, VerifyOutcome};
use macp_pb::pb;

use crate::error::{Error, Result};

/// The commitment hash of `payload`, exactly as given (no field is filled in
/// or validated): `"sha256:"` followed by 64 lowercase hex digits.
///
/// To name a commitment a session sent, hash the payload with the values the
/// runtime saw: its `commitment_id` and the session's bound versions.
pub fn hash(payload: &pb::CommitmentPayload) -> String {
    core::commitment_hash(payload)
}

/// The commitment hash of a `CommitmentPayload`'s protobuf wire encoding, as
/// received. Fails with `InvalidArgument` when the bytes are not a payload the
/// hash label covers (a field outside it, or not a decodable payload); the
/// message names the reason.
pub fn hash_of_wire(wire: &[u8]) -> Result<String> {
    core::commitment_hash_of_wire(wire).map_err(|why| {
        Error::invalid_argument(format!("cannot hash the commitment payload: {why}"))
    })
}

/// Whether `s` is a canonical commitment hash: the literal prefix `sha256:`
/// and exactly 64 lowercase hex digits, nothing trimmed.
pub fn is_canonical_hash(s: &str) -> bool {
    core::is_canonical_commitment_hash(s)
}

/// The reference a superseding commitment carries to the one it replaces
/// (`CommitmentPayload.supersedes`). `session_id` must not be empty and
/// `commitment_hash` must be canonical.
pub fn supersedes(session_id: &str, commitment_hash: &str) -> Result<pb::CommitmentRef> {
    if session_id.is_empty() {
        return Err(Error::invalid_argument(
            "the superseded commitment's session id is empty",
        ));
    }
    if !is_canonical_hash(commitment_hash) {
        return Err(Error::invalid_argument(format!(
            "commitment hash {commitment_hash:?} is not 'sha256:' followed by 64 lowercase hex digits"
        )));
    }
    Ok(pb::CommitmentRef {
        session_id: session_id.to_string(),
        commitment_hash: commitment_hash.to_string(),
    })
}

/// Outcome of [`verify`] (RFC-MACP-0013 §5, §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashVerification {
    /// The hash label covers the payload and the claimed hash agrees.
    Match,
    /// The label covers the payload but the claim differs from `computed`, or
    /// the claim is not in canonical form (uppercase, bare hex, whitespace...).
    Mismatch { computed: String },
    /// The payload is outside what the label covers; nothing can be said about
    /// the claim.
    CannotVerify(CannotVerifyReason),
}

impl HashVerification {
    /// `true` only for [`HashVerification::Match`].
    pub fn is_match(&self) -> bool {
        matches!(self, HashVerification::Match)
    }
}

/// Why a payload cannot be verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CannotVerifyReason {
    /// A protobuf field number outside the label's set, at the top level or
    /// (`in_supersedes`) inside `supersedes`.
    UnknownField { tag: u32, in_supersedes: bool },
    /// The bytes are not a well-formed `CommitmentPayload` encoding. `detail`
    /// is for people, not a stable format.
    Malformed { detail: String },
    /// A reason this version of libmacp does not know by name.
    Other { detail: String },
}

impl From<CannotVerify> for CannotVerifyReason {
    fn from(c: CannotVerify) -> Self {
        match c {
            CannotVerify::UnknownField { tag, in_supersedes } => {
                CannotVerifyReason::UnknownField { tag, in_supersedes }
            }
            CannotVerify::Malformed { detail } => CannotVerifyReason::Malformed { detail },
            other => CannotVerifyReason::Other {
                detail: other.to_string(),
            },
        }
    }
}

impl fmt::Display for CannotVerifyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CannotVerifyReason::UnknownField {
                tag,
                in_supersedes: false,
            } => write!(
                f,
                "field {tag} of CommitmentPayload is outside macp-commitment-hash/1"
            ),
            CannotVerifyReason::UnknownField {
                tag,
                in_supersedes: true,
            } => write!(
                f,
                "field {tag} of CommitmentPayload.supersedes is outside macp-commitment-hash/1"
            ),
            CannotVerifyReason::Malformed { detail } => {
                write!(f, "not a decodable CommitmentPayload: {detail}")
            }
            CannotVerifyReason::Other { detail } => f.write_str(detail),
        }
    }
}

/// Verify `claimed` against the `CommitmentPayload` encoded in `wire`. The
/// claim is compared as given, `sha256:` prefix included; a claim in any other
/// spelling is a mismatch.
pub fn verify(wire: &[u8], claimed: &str) -> HashVerification {
    match core::verify_commitment_hash(wire, claimed) {
        VerifyOutcome::Match => HashVerification::Match,
        VerifyOutcome::Mismatch { computed } => HashVerification::Mismatch { computed },
        VerifyOutcome::CannotVerify(why) => HashVerification::CannotVerify(why.into()),
        // An outcome added after this libmacp was written is not a match.
        other => HashVerification::CannotVerify(CannotVerifyReason::Other {
            detail: format!("{other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn payload() -> pb::CommitmentPayload {
        pb::CommitmentPayload {
            commitment_id: "c1".into(),
            action: "decision.approved".into(),
            authority_scope: "seam".into(),
            reason: "sealed by seam".into(),
            mode_version: "macp.mode.decision.v1".into(),
            policy_version: "1.0.0".into(),
            configuration_version: "1.0.0".into(),
            outcome_positive: true,
            supersedes: None,
        }
    }
    const HASH_001: &str =
        "sha256:9f58e9d114d11860d48aa2bcb8cda458b9618b1cc8560595a802b68c4af85d41";

    #[test]
    fn struct_and_wire_paths_agree() {
        let p = payload();
        assert_eq!(hash(&p), HASH_001);
        assert_eq!(hash(&p).len(), "sha256:".len() + 64);
        assert_eq!(hash_of_wire(&p.encode_to_vec()).unwrap(), HASH_001);
        assert!(verify(&p.encode_to_vec(), HASH_001).is_match());
    }

    #[test]
    fn three_outcomes() {
        let wire = payload().encode_to_vec();
        let upper = HASH_001.to_uppercase().replacen("SHA256", "sha256", 1);
        assert_eq!(
            verify(&wire, &upper),
            HashVerification::Mismatch {
                computed: HASH_001.into()
            }
        );
        let mut extended = wire.clone();
        extended.extend_from_slice(&[0x9a, 0x06, 0x01, b'x']); // field 99, "x"
        assert_eq!(
            verify(&extended, HASH_001),
            HashVerification::CannotVerify(CannotVerifyReason::UnknownField {
                tag: 99,
                in_supersedes: false
            })
        );
        let e = hash_of_wire(&extended).unwrap_err();
        assert_eq!(e.status, crate::Status::InvalidArgument);
        assert!(e.message.contains("field 99"), "{e}");
        let HashVerification::CannotVerify(why) = verify(&[0x0a], HASH_001) else {
            panic!("a truncated key is not verifiable");
        };
        assert!(matches!(why, CannotVerifyReason::Malformed { .. }));
        assert!(why.to_string().starts_with("not a decodable"));
    }

    #[test]
    fn supersedes_checks_its_inputs() {
        let r = supersedes("s0", HASH_001).unwrap();
        assert_eq!(r.session_id, "s0");
        assert_eq!(r.commitment_hash, HASH_001);
        assert!(supersedes("", HASH_001).is_err());
        assert!(supersedes("s0", &HASH_001[7..]).is_err());
        assert!(supersedes("s0", &format!("{HASH_001} ")).is_err());
        let mut p = payload();
        p.supersedes = Some(r);
        assert_ne!(hash(&p), HASH_001);
    }
}
