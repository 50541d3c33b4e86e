#!/usr/bin/env bash
# One Decision, three agents, three implementations: a C++ agent written only
# against macp.hpp (interop_agent), a C agent (interop_participant) and a
# macp-sdk-python agent (tests/interop/macp_interop.py), against the runtime
# at $MACP_TARGET (run under scripts/with-runtime.sh).
#
#   tests/cpp/interop.sh CPP_AGENT C_AGENT
set -euo pipefail

cpp_agent=$1
c_agent=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "interop: $python is missing; run scripts/setup.sh" >&2; exit 1; }
: "${MACP_TARGET:?run under scripts/with-runtime.sh}"

# A Python step whose JSON answer must say ok.
py() {
  local out
  out="$("$python" "$root/tests/interop/macp_interop.py" "$MACP_TARGET" "$sid" py-agent "$@")"
  "$python" -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(0 if r.get("ok") else 1)' "$out" \
    || { echo "interop: python step $* refused: $out" >&2; exit 1; }
  printf '%s\n' "$out"
}

sid="$("$cpp_agent" "$MACP_TARGET" start cpp-agent c-agent py-agent)"
echo "interop: C++ started Decision $sid"
"$cpp_agent" "$MACP_TARGET" propose "$sid"
py decision-evaluate p1 APPROVE 0.9 >/dev/null
"$c_agent" "$MACP_TARGET" "$sid"
py decision-vote p1 APPROVE >/dev/null
# SessionStart, Proposal, two Evaluations, three Votes, the Commitment.
"$cpp_agent" "$MACP_TARGET" finish "$sid" 8 >/dev/null
echo "interop: C++ committed; its projection holds all three votes"

# The Python SDK reads the same outcome.
read_out="$(py read)"
"$python" - "$read_out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["state"] == "RESOLVED", r
assert r["initiator"] == "cpp-agent", r
for who in ("cpp-agent", "c-agent", "py-agent"):
    assert r["messages"].get(who, 0) >= 1, (who, r)
PY
project_out="$(py project 8)"
"$python" - "$project_out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
votes = r["votes"]["p1"]
assert votes == {"cpp-agent": "APPROVE", "c-agent": "APPROVE", "py-agent": "APPROVE"}, r
assert r["proposals"] == {"p1": "cpp-agent"}, r
assert r["commitment"] == {"action": "decision.selected", "outcome_positive": True}, r
PY
echo "interop: the Python SDK agrees (RESOLVED, three votes, the commitment)"
