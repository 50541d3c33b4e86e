#!/usr/bin/env bash
# Fuzz every decoding C entry point of libmacp (needs a nightly toolchain and
# cargo-fuzz; scripts/setup.sh installs cargo-fuzz when nightly is present).
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Seeds fuzz/corpus/<target>/ from the specification's vectors
# ($MACP_VECTORS_DIR, default ../shared/vectors) and runs each target for
# SECONDS_PER_TARGET (default 20) under AddressSanitizer. A crash fails the
# script and leaves its input in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(payload_json payload_bytes envelope_payload_json commitment_wire receipt_verify projection_apply)
fi
vectors="${MACP_VECTORS_DIR:-$PWD/../../shared/vectors}"
# Built outside the checkout, so later runs on the machine are incremental.
export CARGO_TARGET_DIR="${MACP_FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/target-fuzz}"
[ -d "$vectors/conformance" ] || { echo "fuzz: no vectors in $vectors/conformance" >&2; exit 1; }
cargo +nightly run --quiet --bin seed -- "$vectors" corpus
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1 2>"corpus/$t.log" \
    || { tail -40 "corpus/$t.log" >&2; echo "fuzz: $t failed" >&2; exit 1; }
  grep -E '^stat::number_of_executed_units' "corpus/$t.log" || true
done
