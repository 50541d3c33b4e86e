import CMacp
import Foundation

/// The runtime's `Initialize` answer.
public struct InitializeResult: Sendable, Decodable {
    public let selectedProtocolVersion: String
    public let runtimeInfo: JSONValue?
    /// Which optional calls the runtime serves (`capabilities["policy_registry"]["what_if_replay"]`, ...).
    public let capabilities: JSONValue
    public let supportedModes: [String]
    public let instructions: String?

    enum CodingKeys: String, CodingKey {
        case selectedProtocolVersion = "selected_protocol_version"
        case runtimeInfo = "runtime_info"
        case capabilities
        case supportedModes = "supported_modes"
        case instructions
    }
}

/// A mode the runtime knows (`ModeDescriptor`).
public struct ModeDescriptor: Sendable, Codable, Equatable {
    public var mode: String
    public var modeVersion: String?
    public var title: String?
    public var description: String?
    public var determinismClass: String?
    public var participantModel: String?
    public var messageTypes: [String]?
    public var terminalMessageTypes: [String]?
    public var schemaUris: [String: String]?

    public init(mode: String, modeVersion: String? = nil, title: String? = nil, description: String? = nil,
                determinismClass: String? = nil, participantModel: String? = nil,
                messageTypes: [String]? = nil, terminalMessageTypes: [String]? = nil) {
        self.mode = mode
        self.modeVersion = modeVersion
        self.title = title
        self.description = description
        self.determinismClass = determinismClass
        self.participantModel = participantModel
        self.messageTypes = messageTypes
        self.terminalMessageTypes = terminalMessageTypes
    }

    enum CodingKeys: String, CodingKey {
        case mode, title, description
        case modeVersion = "mode_version"
        case determinismClass = "determinism_class"
        case participantModel = "participant_model"
        case messageTypes = "message_types"
        case terminalMessageTypes = "terminal_message_types"
        case schemaUris = "schema_uris"
    }
}

/// A resource boundary of the runtime or of a session.
public struct Root: Sendable, Codable, Equatable {
    public var uri: String
    public var name: String?
}

/// A governance policy (RFC-MACP-0012), as registered.
public struct Policy: Sendable, Codable, Equatable {
    public var policyId: String
    public var mode: String
    public var description: String
    public var schemaVersion: Int?
    public var rules: JSONValue
    /// Set on policies read back from the runtime.
    public var registeredAtUnixMs: Int64?

    public init(policyId: String, mode: String, description: String = "", schemaVersion: Int? = nil,
                rules: JSONValue) {
        self.policyId = policyId
        self.mode = mode
        self.description = description
        self.schemaVersion = schemaVersion
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case policyId = "policy_id"
        case mode, description, rules
        case schemaVersion = "schema_version"
        case registeredAtUnixMs = "registered_at_unix_ms"
    }

    func definitionJSON() throws -> String {
        var copy = self
        copy.registeredAtUnixMs = nil
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { return String(decoding: try e.encode(copy), as: UTF8.self) } catch {
            throw MacpError.invalidArgument("cannot encode the policy: \(error)")
        }
    }
}

extension Client {
    /// `GetManifest` of the runtime (`agentId` nil) or of an agent it knows.
    public func getManifest(agentId: String? = nil) async throws -> JSONValue {
        try JSONValue(parsing: try await text { cs, out, e in
            macp_client_get_manifest(self.handle, try cs.opt(agentId, "agent id"), out, currentCall(), e)
        })
    }

    /// `ListModes`: the standards-track modes.
    public func listModes() async throws -> [ModeDescriptor] {
        try decodeJSON([ModeDescriptor].self, try await text { _, out, e in macp_client_list_modes(self.handle, out, currentCall(), e) })
    }

    /// `ListExtModes`: the extension modes, built in and registered.
    public func listExtModes() async throws -> [ModeDescriptor] {
        try decodeJSON([ModeDescriptor].self, try await text { _, out, e in macp_client_list_ext_modes(self.handle, out, currentCall(), e) })
    }

    /// `RegisterExtMode`.
    public func registerExtMode(_ descriptor: ModeDescriptor) async throws {
        let json: String
        do { json = String(decoding: try JSONEncoder().encode(descriptor), as: UTF8.self) } catch {
            throw MacpError.invalidArgument("cannot encode the descriptor: \(error)")
        }
        try await status { cs, e in macp_client_register_ext_mode(self.handle, try cs.s(json, "descriptor"), currentCall(), e) }
    }

    /// `UnregisterExtMode`.
    public func unregisterExtMode(_ mode: String) async throws {
        try await status { cs, e in macp_client_unregister_ext_mode(self.handle, try cs.s(mode, "mode"), currentCall(), e) }
    }

    /// `PromoteMode`: the mode's identifier after promotion.
    @discardableResult
    public func promoteMode(_ mode: String, promotedName: String? = nil) async throws -> String {
        try await text { cs, out, e in
            macp_client_promote_mode(self.handle, try cs.s(mode, "mode"), try cs.opt(promotedName, "promoted name"), out, currentCall(), e)
        }
    }

    /// `ListRoots`: the runtime's resource roots.
    public func listRoots() async throws -> [Root] {
        try decodeJSON([Root].self, try await text { _, out, e in macp_client_list_roots(self.handle, out, currentCall(), e) })
    }

    /// `RegisterPolicy`.
    public func registerPolicy(_ policy: Policy) async throws {
        let json = try policy.definitionJSON()
        try await status { cs, e in macp_client_register_policy(self.handle, try cs.s(json, "policy"), currentCall(), e) }
    }

    /// `UnregisterPolicy` (`policy.default` cannot be removed).
    public func unregisterPolicy(_ policyId: String) async throws {
        try await status { cs, e in macp_client_unregister_policy(self.handle, try cs.s(policyId, "policy id"), currentCall(), e) }
    }

    /// `GetPolicy`.
    public func getPolicy(_ policyId: String) async throws -> Policy {
        try decodeJSON(Policy.self, try await text { cs, out, e in
            macp_client_get_policy(self.handle, try cs.s(policyId, "policy id"), out, currentCall(), e)
        })
    }

    /// `ListPolicies`: every policy (`mode` nil) or those targeting `mode`.
    public func listPolicies(mode: String? = nil) async throws -> [Policy] {
        try decodeJSON([Policy].self, try await text { cs, out, e in
            macp_client_list_policies(self.handle, try cs.opt(mode, "mode"), out, currentCall(), e)
        })
    }

    /// `WhatIfReplay`: the session's history replayed under `candidate`
    /// (never registered). The answer's `recorded` and `candidate`
    /// outcomes, `first_divergence`, `denials` and `entries`.
    public func whatIfReplay(sessionId: String, candidate: Policy) async throws -> WhatIfReplay {
        let json = try candidate.definitionJSON()
        return try decodeJSON(WhatIfReplay.self, try await text { cs, out, e in
            macp_client_what_if_replay(self.handle, try cs.s(sessionId, "session id"), try cs.s(json, "policy"), out, currentCall(), e)
        })
    }
}

/// The answer of `WhatIfReplay`.
public struct WhatIfReplay: Sendable, Decodable {
    public let recorded: JSONValue
    public let candidate: JSONValue
    /// nil when the replays agree.
    public let firstDivergence: JSONValue?
    public let denials: JSONValue?
    public let entries: JSONValue?

    enum CodingKeys: String, CodingKey {
        case recorded, candidate, denials, entries
        case firstDivergence = "first_divergence"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        recorded = try c.decode(JSONValue.self, forKey: .recorded)
        candidate = try c.decode(JSONValue.self, forKey: .candidate)
        let fd = try c.decodeIfPresent(JSONValue.self, forKey: .firstDivergence)
        firstDivergence = fd == .null ? nil : fd
        denials = try c.decodeIfPresent(JSONValue.self, forKey: .denials)
        entries = try c.decodeIfPresent(JSONValue.self, forKey: .entries)
    }
}

/// Payloads as JSON (protobuf's JSON mapping of the MACP schema).
public enum Payload {
    /// The fully-qualified payload type of `messageType` in `mode`
    /// (`Vote` in Decision: `macp.modes.decision.v1.VotePayload`).
    public static func type(mode: String, messageType: String) throws -> String {
        let cs = CStrings()
        return try stringCall { macp_payload_type(try cs.s(mode, "mode"), try cs.s(messageType, "message type"), $0, $1) }
    }

    /// Decodes protobuf bytes of `typeName` to JSON.
    public static func json(typeName: String, data: Data) throws -> JSONValue {
        let cs = CStrings()
        let name = try cs.s(typeName, "type name")
        return try JSONValue(parsing: try stringCall { out, e in
            withBytes(data) { macp_payload_to_json(name, $0, $1, out, e) }
        })
    }

    /// Encodes a JSON object as the protobuf message `typeName`.
    public static func encode(typeName: String, json: String) throws -> Data {
        let cs = CStrings()
        let name = try cs.s(typeName, "type name")
        let text = try cs.s(json, "JSON")
        var size = 0
        try statusCall { macp_payload_from_json(name, text, nil, 0, &size, $0) }
        var out = Data(count: size)
        if size == 0 { return out }
        try out.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt8.self).baseAddress
            try statusCall { macp_payload_from_json(name, text, p, size, &size, $0) }
        }
        return out
    }
}
