#!/usr/bin/env bash
# Run a command against a fresh local macp-runtime, then stop the runtime.
#
#   scripts/with-runtime.sh COMMAND [ARGS...]
#
# The runtime listens on a free 127.0.0.1 port, in memory, without TLS, in
# development authentication (`Bearer <name>` authenticates as <name>), with
# rate limits raised. COMMAND sees its address as $MACP_TARGET. Extra runtime
# settings can be passed as MACP_* variables in the environment.
set -euo pipefail

RUNTIME_BIN="${MACP_RUNTIME_BIN:-$(command -v macp-runtime || echo "${CARGO_HOME:-$HOME/.cargo}/bin/macp-runtime")}"
[ -x "$RUNTIME_BIN" ] || { echo "macp-runtime not found; run scripts/setup.sh" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

log=$(mktemp)
pid=""
stop() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$log"
}
trap stop EXIT

for _ in 1 2 3 4 5; do
  port=$(free_port)
  MACP_BIND_ADDR="127.0.0.1:$port" MACP_ALLOW_INSECURE=1 MACP_MEMORY_ONLY=1 \
  MACP_MESSAGE_LIMIT_PER_MINUTE="${MACP_MESSAGE_LIMIT_PER_MINUTE:-1000000}" \
  MACP_SESSION_START_LIMIT_PER_MINUTE="${MACP_SESSION_START_LIMIT_PER_MINUTE:-1000000}" \
  RUST_LOG="${RUST_LOG:-error}" "$RUNTIME_BIN" >"$log" 2>&1 &
  pid=$!
  # Wait until it accepts connections (or exits, e.g. port taken).
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then pid=""; break; fi
    # Ready when the port accepts connections while our runtime still runs
    # (one that lost the port to another process exits).
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
      export MACP_TARGET="127.0.0.1:$port"
      "$@"
      exit $?
    fi
    sleep 0.1
  done
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
done
echo "macp-runtime did not start:" >&2
cat "$log" >&2
exit 1
