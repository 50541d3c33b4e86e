#!/usr/bin/env bash
# Benchmark libmacp against its alternatives on one local runtime, in one
# run: the C ABI (benches/capi_bench.c), a bare tonic client (the floor,
# benches/bare.rs) and macp-sdk-python (benches/python_bench.py). Prints
# ratios and writes benches/results.json. See benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "bench: building (release)"
cargo build --release --quiet
BARE_BIN=$(cargo bench --bench bare --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[ -x "$BARE_BIN" ] || { echo "bench: building benches/bare.rs failed" >&2; exit 1; }
export BARE_BIN
mkdir -p build
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -Iinclude benches/capi_bench.c \
   target/release/libmacp.a -lpthread -ldl -lm -o build/capi_bench
# The runtime allows 128 concurrent streams per connection by default; a
# client's watchers share one connection, so the 10,000-watcher run needs more
# (beyond the limit, further streams wait for one to end).
MACP_MESSAGE_LIMIT_PER_MINUTE=100000000 MACP_SESSION_START_LIMIT_PER_MINUTE=100000000 \
MACP_MAX_CONCURRENT_STREAMS=100000 \
  scripts/with-runtime.sh python3 benches/bench.py "$@"
