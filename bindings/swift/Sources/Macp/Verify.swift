import CMacp
import Foundation

extension Commitment {
    /// The commitment hash (RFC-MACP-0013) of this payload with the three
    /// version fields, as `"sha256:<64 lowercase hex>"`. The payload is
    /// hashed exactly as given: a nil field is `""`, and a nil
    /// `commitmentId` is not replaced by a new id.
    public func hash(modeVersion: String, policyVersion: String, configurationVersion: String) throws -> String {
        let cs = CStrings()
        var buf = [CChar](repeating: 0, count: Int(MACP_COMMITMENT_HASH_BUFFER_LEN))
        let mv = try cs.s(modeVersion, "mode version"), pv = try cs.s(policyVersion, "policy version")
        let cv = try cs.s(configurationVersion, "configuration version")
        try withC(cs) { c in
            try statusCall { macp_commitment_hash(c, mv, pv, cv, &buf, buf.count, $0) }
        }
        return String(cString: buf)
    }

    /// The commitment hash of a `CommitmentPayload`'s wire encoding.
    public static func hash(wire: Data) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(MACP_COMMITMENT_HASH_BUFFER_LEN))
        try statusCall { e in withBytes(wire) { macp_commitment_hash_of_wire($0, $1, &buf, buf.count, e) } }
        return String(cString: buf)
    }

    /// Whether `hash` is canonical: `sha256:` and 64 lowercase hex digits.
    public static func isCanonicalHash(_ hash: String) -> Bool {
        if hash.utf8.contains(0) { return false }
        return macp_commitment_hash_is_canonical(hash)
    }

    /// Verifies `claimedHash` against the `CommitmentPayload` in `wire`.
    public static func verify(wire: Data, claimedHash: String) throws -> CommitmentVerification {
        let cs = CStrings()
        let claim = try cs.s(claimedHash, "claimed hash")
        var out = macp_commitment_verify_result()
        try statusCall { e in withBytes(wire) { macp_commitment_verify($0, $1, claim, &out, e) } }
        return CommitmentVerification(out)
    }
}

/// The outcome of `Commitment.verify`.
public struct CommitmentVerification: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case match
        case mismatch
        /// The payload is outside what the hash label covers.
        case cannotVerify(reason: String, unknownFieldTag: UInt32?, inSupersedes: Bool)
    }
    public let outcome: Outcome
    /// The hash computed from the wire bytes (`""` for cannot-verify).
    public let computedHash: String

    init(_ r: macp_commitment_verify_result) {
        computedHash = fixedString(r.computed_hash)
        switch r.outcome {
        case MACP_COMMITMENT_VERIFY_MATCH: outcome = .match
        case MACP_COMMITMENT_VERIFY_MISMATCH: outcome = .mismatch
        default:
            outcome = .cannotVerify(reason: fixedString(r.reason_message),
                                    unknownFieldTag: r.reason == MACP_CANNOT_VERIFY_UNKNOWN_FIELD ? r.unknown_field_tag : nil,
                                    inSupersedes: r.unknown_field_in_supersedes)
        }
    }
}

extension Client {
    /// The decision receipt of a resolved session (`GetDecisionReceipt`), as JSON text.
    public func getDecisionReceipt(sessionId: String) async throws -> String {
        try await text { cs, out, e in macp_client_get_decision_receipt(self.handle, try cs.s(sessionId, "session id"), out, currentCall(), e) }
    }

    /// The runtime's receipt verification keys (`GetReceiptKeys`), a JWKS JSON text.
    public func getReceiptKeys() async throws -> String {
        try await text { _, out, e in macp_client_get_receipt_keys(self.handle, out, currentCall(), e) }
    }
}

/// What `verifyReceipt` found.
public struct ReceiptVerification: Sendable, Equatable {
    public enum Integrity: Int32, Sendable { case notChecked = 0, match, mismatch, cannotVerify }
    public enum Verdict: Int32, Sendable { case attested = 1, integrityOnly, unverified, refused }
    public enum AttestationOutcome: Int32, Sendable { case valid = 1, invalid, unknownKey, unsupported }
    public struct Attestation: Sendable, Equatable {
        /// `"jws"`, `"vendor"`, ...
        public let kind: String
        public let kid: String
        public let outcome: AttestationOutcome
    }
    public let integrity: Integrity
    public let verdict: Verdict
    public let attestations: [Attestation]
}

/// Verifies a decision receipt offline (RFC-MACP-0013 Appendix A.4),
/// trusting exactly the Ed25519 keys of `trustedKeys` (JWKS or JWK JSON).
public func verifyReceipt(_ receiptJSON: String, trustedKeys: [String] = []) throws -> ReceiptVerification {
    let cs = CStrings()
    let receipt = try cs.s(receiptJSON, "receipt")
    let keys = try cs.array(trustedKeys, "key document")
    var v: OpaquePointer?
    try keys.withUnsafeBufferPointer { kp in
        try statusCall { macp_receipt_verify(receipt, keys.isEmpty ? nil : kp.baseAddress, keys.count, &v, $0) }
    }
    defer { macp_receipt_verification_free(v) }
    guard let r = macp_receipt_verification_result(v)?.pointee else {
        throw MacpError(status: .invalidHandle, message: "no receipt verification")
    }
    let atts = r.attestations.map { UnsafeBufferPointer(start: $0, count: r.attestations_len) }.map(Array.init) ?? []
    return ReceiptVerification(
        integrity: .init(rawValue: Int32(r.integrity.rawValue)) ?? .notChecked,
        verdict: .init(rawValue: Int32(r.verdict.rawValue)) ?? .unverified,
        attestations: atts.map {
            .init(kind: str($0.kind), kid: str($0.kid), outcome: .init(rawValue: Int32($0.outcome.rawValue)) ?? .invalid)
        }
    )
}
