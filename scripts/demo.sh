#!/usr/bin/env bash
# Set up, build libmacp, and run the C examples against a fresh local
# macp-runtime: a Decision (examples/decision.c), a Task driven by a
# watcher (examples/task.c), then a Decision run by participant loops
# (examples/participant.c).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "demo: building libmacp (release)"
cargo build --release --quiet
mkdir -p build
# The build tree's pkg-config file links target/release/libmacp.so with an
# rpath to it (scripts/install.sh --build-tree).
PKG_CONFIG_PATH="$(scripts/install.sh --build-tree)${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
for example in decision task participant; do
  # shellcheck disable=SC2046 # pkg-config's flags are meant to split
  cc -std=c11 -Wall -Wextra -Werror -O2 "examples/$example.c" $(pkg-config --cflags --libs macp) \
     -o "build/$example"
done
scripts/with-runtime.sh sh -c 'build/decision && echo && build/task && echo && build/participant'
