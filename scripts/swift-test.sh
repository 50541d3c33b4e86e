#!/usr/bin/env bash
# Build and test the Swift package (bindings/swift) against this checkout's
# libmacp, then run the Swift example agent in a Decision with the Python
# SDK (macp-sdk-python, .venv) against one runtime.
#
#   scripts/swift-test.sh [SWIFT_TEST_ARGS...]     e.g. --filter WatchTests
#
# `swift` comes from PATH when present (macOS, a Linux with Swift);
# otherwise from a cached Debian stable root (scripts/debian-root.sh, Debian's
# swiftlang) with the checkout, SwiftPM's build directory and the runtime's
# directory bind-mounted at the same paths. The library is built here first
# (`cargo build --release`) and linked from target/release. SwiftPM's build
# directory is kept outside the checkout, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/swift-build (MACP_SWIFT_SCRATCH),
# so later runs are incremental. Failing to obtain Swift is an error.
#
# MACP_SWIFT_SANITIZE=thread adds `--sanitize=thread` to `swift test`.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

runtime_bin="${MACP_RUNTIME_BIN:-$(command -v macp-runtime || echo "${CARGO_HOME:-$HOME/.cargo}/bin/macp-runtime")}"
[ -x "$runtime_bin" ] || { echo "swift-test: macp-runtime not found; run scripts/setup.sh" >&2; exit 1; }
runtime_bin=$(cd "$(dirname "$runtime_bin")" && pwd)/$(basename "$runtime_bin")
scratch="${MACP_SWIFT_SCRATCH:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/swift-build}"
mkdir -p "$scratch"

echo "swift-test: cargo build --release" >&2
cargo build --quiet --release
lib="$here/target/release"
[ -f "$lib/libmacp.a" ] || { echo "swift-test: $lib/libmacp.a missing after the build" >&2; exit 1; }
# The build tree's soname link (libmacp.so.ABI), which cargo does not make
# and the test binaries load.
scripts/install.sh --build-tree >/dev/null

# The header and library of this checkout (an installed libmacp is found
# through pkg-config instead; see the README's Swift section).
flags=(--scratch-path "$scratch" -Xcc "-I$here/include"
       -Xlinker "-L$lib" -Xlinker -rpath -Xlinker "$lib")
test_flags=()
if [ -n "${MACP_SWIFT_SANITIZE:-}" ]; then test_flags+=("--sanitize=$MACP_SWIFT_SANITIZE"); fi

# swift_run CMD...: run CMD in bindings/swift with Swift on PATH, or in the
# Debian root.
if command -v swift >/dev/null 2>&1; then
  swift_run() { (cd "$here/bindings/swift" && MACP_RUNTIME_BIN="$runtime_bin" "$@"); }
else
  swift_run() {
    "$here/scripts/debian-root.sh" run stable -b "$here" -b "$scratch" -b "$(dirname "$runtime_bin")" \
      -w "$here/bindings/swift" -e MACP_RUNTIME_BIN="$runtime_bin" -e MACP_TARGET \
      -e TMPDIR=/tmp -- "$@"
  }
  # A failure to make the root (no mirror, no network) ends here, loudly.
  version=$(swift_run swift --version) \
    || { echo "swift-test: cannot obtain Swift (no swift on PATH, and the Debian root failed)" >&2; exit 1; }
  echo "swift-test: using the Debian root's $(head -n 1 <<<"$version")" >&2
fi

echo "== swift build" >&2
swift_run swift build "${flags[@]}"
echo "== swift test ${test_flags[*]} $*" >&2
swift_run swift test "${flags[@]}" "${test_flags[@]}" "$@"
if [ $# -gt 0 ] || [ -n "${MACP_SWIFT_SANITIZE:-}" ]; then exit 0; fi

echo "== Swift example agent with the Python SDK in one Decision" >&2
py="$here/.venv/bin/python"
[ -x "$py" ] || { echo "swift-test: $py missing; run scripts/setup.sh" >&2; exit 1; }
agent="$scratch/debug/macp-decision-agent"
MACP_RUNTIME_BIN="$runtime_bin" PY="$py" AGENT="$agent" SWIFT_RUN="$(declare -f swift_run)" \
  here="$here" scratch="$scratch" runtime_bin="$runtime_bin" \
  "$here/scripts/with-runtime.sh" bash -c '
set -euo pipefail
eval "$SWIFT_RUN"
step() { "$PY" "$here/tests/interop/macp_interop.py" "$MACP_TARGET" "$sid" "$@"; }
expect() { grep -q -- "$1" <<<"$2" || { echo "interop: expected $1 in: $2" >&2; exit 1; }; }
sid=$("$PY" -c "import uuid; print(uuid.uuid4())")
out=$(step coordinator decision-start coordinator,swift-agent,py-voter); expect "\"ok\": true" "$out"
out=$(step coordinator decision-propose p1 deploy); expect "\"ok\": true" "$out"
# The Swift agent joins, reads the proposal from the history, evaluates
# and votes on it, and exits after its one vote.
out=$(swift_run "$AGENT" --target "$MACP_TARGET" --session "$sid" --identity swift-agent --votes 1)
echo "$out"
expect "voted APPROVE on p1" "$out"
out=$(step py-voter decision-vote p1 APPROVE); expect "\"ok\": true" "$out"
out=$(step coordinator decision-commit decision.selected true); expect "\"ok\": true" "$out"
# Python reads what the Swift agent sent, through its own projection.
out=$(step coordinator project 6); echo "$out"
expect "\"swift-agent\": \"APPROVE\"" "$out"
# The Swift agent replays the whole session and reports the Python commitment.
out=$(swift_run "$AGENT" --target "$MACP_TARGET" --session "$sid" --identity swift-agent)
echo "$out"
expect "resolved: decision.selected by coordinator (positive)" "$out"
expect "tally p1: approve 2 reject 0 abstain 0" "$out"
'

echo "== A Swift program outside the tree, libmacp found through pkg-config" >&2
# libmacp installed (scripts/install.sh) into a prefix of its own, and a
# package that depends on bindings/swift by path and passes no search paths
# of its own: CMacp finds everything via the installed macp.pc. (SwiftPM
# keeps only -L/-l of a .pc's Libs, so the program finds the prefix's
# library at run time through LD_LIBRARY_PATH, as it would find one in a
# system directory through the loader's cache.) Kept beside SwiftPM's build
# directory (not in a fresh temporary one) so later runs rebuild only what
# changed; files are rewritten only when their content changes.
out_dir="$scratch-outside"
prefix="$out_dir/prefix"
out_scratch="$out_dir/build"
mkdir -p "$out_dir/app/Sources/app" "$out_scratch"
put() { local t; t=$(mktemp); cat >"$t"; if cmp -s "$t" "$1"; then rm -f "$t"; else mv "$t" "$1"; fi; }
scripts/install.sh --no-build --prefix "$prefix" >/dev/null
put "$out_dir/app/Package.swift" <<SWIFT
// swift-tools-version:5.9
import PackageDescription
let package = Package(
    name: "app",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "$here/bindings/swift")],
    targets: [.executableTarget(name: "app", dependencies: [.product(name: "Macp", package: "swift")])]
)
SWIFT
put "$out_dir/app/Sources/app/main.swift" <<'SWIFT'
import Foundation
import Macp

let target = ProcessInfo.processInfo.environment["MACP_TARGET"]!
let client = try await Client(ClientOptions(target: target, bearerToken: "outside", allowInsecure: true))
let (session, _) = try await client.startSession(mode: Mode.decision, StartOptions(participants: ["outside"]))
try await session.decision.propose(proposalId: "p1", option: "ship")
try await session.decision.vote(proposalId: "p1", vote: "APPROVE")
let ack = try await session.decision.commit(action: "decision.selected", authorityScope: "app", reason: "alone")
print("outside the tree: session \(session.id) \(ack.state)")
SWIFT
if command -v swift >/dev/null 2>&1; then
  outside_run() {
    (cd "$out_dir/app" && PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LD_LIBRARY_PATH="$prefix/lib" \
       DYLD_LIBRARY_PATH="$prefix/lib" "$@")
  }
else
  outside_run() {
    "$here/scripts/debian-root.sh" run stable -b "$here" -b "$out_dir" \
      -w "$out_dir/app" -e PKG_CONFIG_PATH="$prefix/lib/pkgconfig" -e LD_LIBRARY_PATH="$prefix/lib" \
      -e MACP_TARGET -- "$@"
  }
fi
outside_run swift build --scratch-path "$out_scratch"
export -f outside_run
export out_dir out_scratch prefix here
out=$(scripts/with-runtime.sh bash -c 'outside_run "$out_scratch/debug/app"')
echo "$out"
grep -q "outside the tree: session .* RESOLVED" <<<"$out" \
  || { echo "swift-test: the program outside the tree did not resolve its session" >&2; exit 1; }
echo "swift-test: ok" >&2
