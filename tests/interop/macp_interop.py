"""One step of a MACP session taken by the Python SDK (macp-sdk-python), for
the interop test in tests/interop.rs, which interleaves such steps with
libmacp's in the same sessions against one runtime.

Usage:
    macp_interop.py TARGET SESSION_ID ROLE STEP [ARGS...]

TARGET is the runtime's host:port (plaintext, development authentication:
the bearer token ROLE is the identity). Each step prints one JSON object on
stdout and exits 0: {"ok": true, ...} when the runtime accepted it, or
{"ok": false, "code": "<MACP registry code>", "message": "..."} when the
runtime refused it. Anything else (a bug, a broken connection) exits 1.

Steps:
    decision-start PARTICIPANTS          start a Decision (comma-separated roster)
    decision-propose PROPOSAL_ID OPTION
    decision-evaluate PROPOSAL_ID RECOMMENDATION CONFIDENCE
    decision-vote PROPOSAL_ID VOTE
    decision-commit ACTION POSITIVE      POSITIVE is true or false
    quorum-start PARTICIPANTS REQUEST_ID REQUIRED
                                         start a Quorum and request approval
    quorum-approve REQUEST_ID | quorum-reject REQUEST_ID | quorum-abstain REQUEST_ID
    quorum-commit ACTION POSITIVE
    read                                 the session's metadata (GetSession)
    project COUNT                        replay COUNT accepted envelopes of the
                                         session into the SDK's projection
"""

from __future__ import annotations

import json
import sys

from macp_sdk import (
    AuthConfig,
    DecisionSession,
    MacpAckError,
    MacpClient,
    QuorumSession,
)
from macp_sdk.projections import DecisionProjection
from macp_sdk.quorum import QuorumProjection

TTL_MS = 60_000


def session_state_name(value: int) -> str:
    return {1: "OPEN", 2: "RESOLVED", 3: "EXPIRED", 4: "SUSPENDED", 5: "CANCELLED"}.get(
        value, "UNSPECIFIED"
    )


def roster(arg: str) -> list[str]:
    return [p for p in arg.split(",") if p]


def flag(arg: str) -> bool:
    if arg not in ("true", "false"):
        raise SystemExit(f"expected true or false, got {arg!r}")
    return arg == "true"


def read(client: MacpClient, session_id: str) -> dict:
    m = client.get_session(session_id).metadata
    return {
        "session_id": m.session_id,
        "mode": m.mode,
        "state": session_state_name(m.state),
        "initiator": m.initiator,
        "participants": list(m.participants),
        "mode_version": m.mode_version,
        "configuration_version": m.configuration_version,
        "policy_version": m.policy_version,
        "messages": {a.participant_id: a.message_count for a in m.participant_activity},
    }


def project(client: MacpClient, session_id: str, count: int) -> dict:
    mode = client.get_session(session_id).metadata.mode
    projection = {
        "macp.mode.decision.v1": DecisionProjection,
        "macp.mode.quorum.v1": QuorumProjection,
    }[mode]()
    stream = client.open_stream()
    try:
        stream.send_subscribe(session_id, after_sequence=0)
        for _ in range(count):
            envelope = stream.read(timeout=30)
            if envelope is None:
                raise SystemExit("the stream ended early")
            projection.apply_envelope(envelope)
    finally:
        stream.close()
    out: dict = {"phase": projection.phase, "applied": len(projection.transcript)}
    if isinstance(projection, DecisionProjection):
        out["proposals"] = {pid: p.sender for pid, p in projection.proposals.items()}
        out["votes"] = {
            pid: {sender: v.vote for sender, v in by_sender.items()}
            for pid, by_sender in projection.votes.items()
        }
    else:
        out["ballots"] = {
            rid: {sender: b.vote for sender, b in by_sender.items()}
            for rid, by_sender in projection.ballots.items()
        }
        out["required"] = {rid: r.required_approvals for rid, r in projection.requests.items()}
    if projection.commitment is not None:
        out["commitment"] = {
            "action": projection.commitment.action,
            "outcome_positive": projection.commitment.outcome_positive,
        }
    return out


def step(client: MacpClient, session_id: str, name: str, args: list[str]) -> dict:
    if name == "read":
        return read(client, session_id)
    if name == "project":
        return project(client, session_id, int(args[0]))
    if name.startswith("decision-"):
        s = DecisionSession(client, session_id=session_id)
        if name == "decision-start":
            s.start(intent="interop", participants=roster(args[0]), ttl_ms=TTL_MS)
        elif name == "decision-propose":
            s.propose(args[0], args[1], rationale="from python")
        elif name == "decision-evaluate":
            s.evaluate(args[0], args[1], confidence=float(args[2]), reason="from python")
        elif name == "decision-vote":
            s.vote(args[0], args[1], reason="from python")
        elif name == "decision-commit":
            s.commit(
                action=args[0],
                authority_scope="interop",
                reason="from python",
                outcome_positive=flag(args[1]),
            )
        else:
            raise SystemExit(f"unknown step {name}")
        return {}
    if name.startswith("quorum-"):
        s = QuorumSession(client, session_id=session_id)
        if name == "quorum-start":
            s.start(intent="interop", participants=roster(args[0]), ttl_ms=TTL_MS)
            s.request_approval(args[1], "deploy", summary="from python", required_approvals=int(args[2]))
        elif name == "quorum-approve":
            s.approve(args[0], reason="from python")
        elif name == "quorum-reject":
            s.reject(args[0], reason="from python")
        elif name == "quorum-abstain":
            s.abstain(args[0], reason="from python")
        elif name == "quorum-commit":
            s.commit(
                action=args[0],
                authority_scope="interop",
                reason="from python",
                outcome_positive=flag(args[1]),
            )
        else:
            raise SystemExit(f"unknown step {name}")
        return {}
    raise SystemExit(f"unknown step {name}")


def main(argv: list[str]) -> int:
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    target, session_id, role, name, args = argv[1], argv[2], argv[3], argv[4], argv[5:]
    client = MacpClient(
        target=target,
        allow_insecure=True,
        auth=AuthConfig.for_dev_agent(role),
        default_timeout=10,
    )
    try:
        client.initialize()
        try:
            result = {"ok": True, **step(client, session_id, name, args)}
        except MacpAckError as e:
            result = {"ok": False, "code": e.failure.code, "message": e.failure.message}
    finally:
        client.close()
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
