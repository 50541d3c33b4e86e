package macp

/*
#include <stdlib.h>
#include "macp.h"
*/
import "C"

import (
	"context"
	"strings"
	"unsafe"
)

// CommitmentHash is the RFC-MACP-0013 commitment hash ("sha256:<64 hex>")
// of a commitment sealed under the given versions. Empty strings are hashed
// as empty (nothing is generated); a non-nil Supersedes is hashed even when
// its fields are empty.
func CommitmentHash(c Commitment, modeVersion, policyVersion, configurationVersion string) (_ string, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	cc := c.toC(&cs, true)
	var buf [C.MACP_COMMITMENT_HASH_BUFFER_LEN]C.char
	var e *C.macp_error
	st := C.macp_commitment_hash(&cc, cs.s(modeVersion), cs.s(policyVersion), cs.s(configurationVersion), &buf[0], C.size_t(len(buf)), &e)
	if err := errorFrom(st, e); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// CommitmentHashOfWire is the commitment hash of a CommitmentPayload's
// protobuf wire bytes.
func CommitmentHashOfWire(wire []byte) (string, error) {
	var buf [C.MACP_COMMITMENT_HASH_BUFFER_LEN]C.char
	var e *C.macp_error
	p, n := bytesArg(wire)
	if err := errorFrom(C.macp_commitment_hash_of_wire(p, n, &buf[0], C.size_t(len(buf)), &e), e); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// IsCanonicalCommitmentHash reports whether h has the canonical form
// "sha256:" followed by 64 lowercase hex digits.
func IsCanonicalCommitmentHash(h string) bool {
	if strings.IndexByte(h, 0) >= 0 {
		return false
	}
	var cs cstrings
	defer cs.free()
	return bool(C.macp_commitment_hash_is_canonical(cs.s(h)))
}

// VerifyOutcome is one of the three outcomes of RFC-MACP-0013 Section 6.
type VerifyOutcome int

// The outcomes (macp_commitment_verify_outcome).
const (
	// VerifyMatch: the claimed hash is the payload's.
	VerifyMatch VerifyOutcome = C.MACP_COMMITMENT_VERIFY_MATCH
	// VerifyMismatch: the claim differs from the computed hash (or is not
	// canonical).
	VerifyMismatch VerifyOutcome = C.MACP_COMMITMENT_VERIFY_MISMATCH
	// VerifyCannotVerify: the payload is outside what the hash covers
	// (an unknown field, or not a CommitmentPayload); nothing can be said.
	VerifyCannotVerify VerifyOutcome = C.MACP_COMMITMENT_VERIFY_CANNOT_VERIFY
)

func (o VerifyOutcome) String() string {
	switch o {
	case VerifyMatch:
		return "match"
	case VerifyMismatch:
		return "mismatch"
	case VerifyCannotVerify:
		return "cannot_verify"
	}
	return "unknown"
}

// CannotVerifyReason says why a payload cannot be verified.
type CannotVerifyReason int

// The reasons (macp_cannot_verify_reason).
const (
	CannotVerifyNone         CannotVerifyReason = C.MACP_CANNOT_VERIFY_NONE
	CannotVerifyUnknownField CannotVerifyReason = C.MACP_CANNOT_VERIFY_UNKNOWN_FIELD
	CannotVerifyMalformed    CannotVerifyReason = C.MACP_CANNOT_VERIFY_MALFORMED
	CannotVerifyOther        CannotVerifyReason = C.MACP_CANNOT_VERIFY_OTHER
)

// Verification is the result of VerifyCommitment.
type Verification struct {
	Outcome VerifyOutcome
	// ComputedHash, for a match or a mismatch.
	ComputedHash string
	// Reason, UnknownFieldTag (and whether it sits inside supersedes) and a
	// readable Message, for cannot-verify.
	Reason                   CannotVerifyReason
	UnknownFieldTag          uint32
	UnknownFieldInSupersedes bool
	Message                  string
}

// VerifyCommitment checks a claimed hash against a CommitmentPayload's wire
// bytes.
func VerifyCommitment(wire []byte, claimedHash string) (_ Verification, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	var r C.macp_commitment_verify_result
	var e *C.macp_error
	p, n := bytesArg(wire)
	if err := errorFrom(C.macp_commitment_verify(p, n, cs.s(claimedHash), &r, &e), e); err != nil {
		return Verification{}, err
	}
	return Verification{
		Outcome:                  VerifyOutcome(r.outcome),
		ComputedHash:             C.GoString(&r.computed_hash[0]),
		Reason:                   CannotVerifyReason(r.reason),
		UnknownFieldTag:          uint32(r.unknown_field_tag),
		UnknownFieldInSupersedes: bool(r.unknown_field_in_supersedes),
		Message:                  C.GoString(&r.reason_message[0]),
	}, nil
}

// DecisionReceipt fetches the macp-receipt/1 document (JSON) of a resolved
// session.
func (c *Client) DecisionReceipt(ctx context.Context, sessionID string) (string, error) {
	return stringCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_get_decision_receipt(c.h, cs.req("session_id", sessionID), out, cs.call, e)
	})
}

// ReceiptKeys fetches the runtime's receipt verification keys (a JWK Set,
// JSON).
func (c *Client) ReceiptKeys(ctx context.Context) (string, error) {
	return stringCall(ctx, func(cs *cstrings, out **C.macp_string, e **C.macp_error) C.macp_status {
		return C.macp_client_get_receipt_keys(c.h, out, cs.call, e)
	})
}

// Integrity of a receipt: does its Commitment have the recorded hash?
type Integrity int

// The integrity outcomes (macp_receipt_integrity).
const (
	IntegrityNotChecked   Integrity = C.MACP_RECEIPT_INTEGRITY_NOT_CHECKED
	IntegrityMatch        Integrity = C.MACP_RECEIPT_INTEGRITY_MATCH
	IntegrityMismatch     Integrity = C.MACP_RECEIPT_INTEGRITY_MISMATCH
	IntegrityCannotVerify Integrity = C.MACP_RECEIPT_INTEGRITY_CANNOT_VERIFY
)

// String is the name the receipt vectors use ("match", ...; "" when not
// checked).
func (i Integrity) String() string {
	return [...]string{"", "match", "mismatch", "cannot_verify"}[i&3]
}

// Verdict is a receipt's overall verdict.
type Verdict int

// The verdicts (macp_receipt_verdict).
const (
	// VerdictAttested: integrity holds and a trusted key vouched for it.
	VerdictAttested Verdict = C.MACP_RECEIPT_VERDICT_ATTESTED
	// VerdictIntegrityOnly: integrity holds, but no trusted key vouched.
	VerdictIntegrityOnly Verdict = C.MACP_RECEIPT_VERDICT_INTEGRITY_ONLY
	// VerdictUnverified: integrity failed; attestations were not evaluated.
	VerdictUnverified Verdict = C.MACP_RECEIPT_VERDICT_UNVERIFIED
	// VerdictRefused: not a macp-receipt/1 document.
	VerdictRefused Verdict = C.MACP_RECEIPT_VERDICT_REFUSED
)

// String is the name the receipt vectors use ("attested", ...).
func (v Verdict) String() string {
	switch v {
	case VerdictAttested:
		return "attested"
	case VerdictIntegrityOnly:
		return "integrity_only"
	case VerdictUnverified:
		return "unverified"
	case VerdictRefused:
		return "refused"
	}
	return "unknown"
}

// AttestationOutcome is the outcome of one attestation.
type AttestationOutcome int

// The attestation outcomes (macp_attestation_outcome).
const (
	AttestationValid       AttestationOutcome = C.MACP_ATTESTATION_VALID
	AttestationInvalid     AttestationOutcome = C.MACP_ATTESTATION_INVALID
	AttestationUnknownKey  AttestationOutcome = C.MACP_ATTESTATION_UNKNOWN_KEY
	AttestationUnsupported AttestationOutcome = C.MACP_ATTESTATION_UNSUPPORTED
)

// String is the name the receipt vectors use ("valid", ...).
func (o AttestationOutcome) String() string {
	switch o {
	case AttestationValid:
		return "valid"
	case AttestationInvalid:
		return "invalid"
	case AttestationUnknownKey:
		return "unknown_key"
	case AttestationUnsupported:
		return "unsupported"
	}
	return "unknown"
}

// Attestation is one attestation of a verified receipt.
type Attestation struct {
	Kind    string
	KeyID   string
	Outcome AttestationOutcome
}

// ReceiptVerification is what VerifyReceipt found.
type ReceiptVerification struct {
	Integrity    Integrity
	Verdict      Verdict
	Attestations []Attestation
}

// VerifyReceipt verifies a receipt offline, trusting exactly the keys in
// trustedKeys (JWK Sets such as ReceiptKeys returns, or single JWKs). A
// tampered or unsigned receipt is a verdict, not an error; an error means
// the receipt or a key document is not JSON of the right shape.
func VerifyReceipt(receiptJSON string, trustedKeys ...string) (_ *ReceiptVerification, err error) {
	defer catchArg(&err)
	var cs cstrings
	defer cs.free()
	var v *C.macp_receipt_verification
	var e *C.macp_error
	keys := cs.array("jwks_json", trustedKeys, false)
	if err := errorFrom(C.macp_receipt_verify(cs.s(receiptJSON), keys, C.size_t(len(trustedKeys)), &v, &e), e); err != nil {
		return nil, err
	}
	defer C.macp_receipt_verification_free(v)
	r := C.macp_receipt_verification_result(v)
	out := &ReceiptVerification{Integrity: Integrity(r.integrity), Verdict: Verdict(r.verdict)}
	if r.attestations_len > 0 {
		for _, a := range unsafe.Slice(r.attestations, int(r.attestations_len)) {
			out.Attestations = append(out.Attestations, Attestation{cstr(a.kind), cstr(a.kid), AttestationOutcome(a.outcome)})
		}
	}
	return out, nil
}
