// A Swift agent taking part in a Decision: it joins a session, follows its
// accepted history through a watcher, evaluates and votes APPROVE on each
// proposal it has not voted on yet, and, once the session is resolved,
// prints the commitment and the tallies its local projection counted.
//
//   macp-decision-agent --target HOST:PORT --session ID --identity NAME
//                       [--token TOKEN] [--votes N]
//
// The bearer token defaults to the identity (the runtime's development
// authentication); a plaintext target is allowed for loopback addresses
// only. With --votes N the agent leaves after its Nth vote.
import Foundation
import Macp

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: macp-decision-agent --target HOST:PORT --session ID --identity NAME [--token TOKEN] [--votes N]\n".utf8))
    exit(2)
}

var args: [String: String] = [:]
var it = CommandLine.arguments.dropFirst().makeIterator()
while let flag = it.next() {
    guard flag.hasPrefix("--"), let value = it.next() else { usage() }
    args[String(flag.dropFirst(2))] = value
}
guard let target = args["target"], let sessionId = args["session"], let identity = args["identity"] else { usage() }
let maxVotes = args["votes"].flatMap(Int.init)

let loopback = target.hasPrefix("127.") || target.hasPrefix("localhost:") || target.hasPrefix("[::1]")
var options = ClientOptions(target: target, bearerToken: args["token"] ?? identity, allowInsecure: loopback)
options.expectedSender = identity
options.clientName = "macp-decision-agent"

do {
    let client = try await Client(options)
    let session = try await client.openSession(sessionId)
    let projection = try Projection(mode: session.mode)
    var voted: Set<String> = []
    // A session resolved already is only replayed: there is nothing to vote on.
    let open = try await session.info().state == .open
    print("\(identity): joined \(session.mode) session \(session.id)")

    events: for try await event in try await session.watch() {
        guard case .envelope(let envelope, _) = event else { continue }
        try projection.apply(envelope.raw)
        switch envelope.messageType {
        case "Proposal" where open:
            let state = try projection.state(as: DecisionState.self)
            for (id, proposal) in state.proposals.sorted(by: { $0.key < $1.key })
            where state.votes[id]?[identity] == nil && !voted.contains(id) {
                try await session.decision.evaluate(proposalId: id, recommendation: "APPROVE", confidence: 0.9,
                                                    reason: "\(proposal.option) looks right")
                try await session.decision.vote(proposalId: id, vote: "APPROVE", reason: "approved by \(identity)")
                voted.insert(id)
                print("\(identity): voted APPROVE on \(id)")
                if let maxVotes, voted.count >= maxVotes { break events }
            }
        case "Commitment":
            let state = try projection.state(as: DecisionState.self)
            if let c = state.base.commitment {
                print("\(identity): resolved: \(c.action) by \(c.sender) (\(c.outcomePositive ? "positive" : "negative"))")
            }
            for id in state.proposals.keys.sorted() {
                let t = try projection.decisionTally(proposalId: id)
                print("\(identity): tally \(id): approve \(t.approve) reject \(t.reject) abstain \(t.abstain)")
            }
            break events
        default:
            continue
        }
    }
} catch let error as MacpError {
    FileHandle.standardError.write(Data("\(identity): \(error)\n".utf8))
    exit(1)
}
