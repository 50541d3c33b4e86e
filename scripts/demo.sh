#!/usr/bin/env bash
# Set up, build libmacp, and run the C examples against a fresh local
# macp-runtime: a Decision (examples/decision.c), then a Task driven by a
# watcher (examples/task.c).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building libmacp (release)"
cargo build --release --quiet
mkdir -p build
for example in decision task; do
  cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude "examples/$example.c" \
     -Ltarget/release -lmacp -pthread -Wl,-rpath,"$PWD/target/release" -o "build/$example"
done
scripts/with-runtime.sh sh -c 'build/decision && echo && build/task'
