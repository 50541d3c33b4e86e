#!/usr/bin/env bash
# Set up, build libmacp, and run the C Decision example (examples/decision.c)
# against a fresh local macp-runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building libmacp (release)"
cargo build --release --quiet
mkdir -p build
cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/decision.c \
   -Ltarget/release -lmacp -Wl,-rpath,"$PWD/target/release" -o build/decision
scripts/with-runtime.sh build/decision
