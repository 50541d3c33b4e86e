#!/usr/bin/env bash
# Set up and run every libmacp test: formatting and lints, Rust unit and
# integration tests (against real macp-runtime processes), the header drift
# check, the C ABI tests and the C examples under valgrind against a real
# runtime, the header compiled as C++, the Go package's tests (race
# detector; static and shared linking), the exported symbols and the
# installed library and release archive used from outside the tree, the C++
# API, macp.dll under Wine, the Swift package (a cached Debian root supplies
# Swift and the Windows toolchain where the machine lacks them), the C ABI
# tests under ThreadSanitizer (in the Debian unstable root when nightly has no
# rust-src), and, with a nightly toolchain, the fuzz targets and an
# AddressSanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."
export MACP_VECTORS_DIR="${MACP_VECTORS_DIR:-$PWD/../shared/vectors}"
# The interop tests fail (instead of skipping) without the Python SDK's .venv.
export MACP_REQUIRE_INTEROP=1

scripts/setup.sh

echo "== format and lints"
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings

echo "== Rust tests (unit, integration against macp-runtime, header drift)"
cargo test --quiet -- --skip conformance_transcripts

echo "== Conformance transcripts through the C ABI (\$MACP_VECTORS_DIR/conformance)"
cargo test --quiet --test conformance -- --nocapture

echo "== C ABI tests (gcc, static library, valgrind, real runtime)"
cargo build --quiet
mkdir -p build
for src in tests/c/test_*.c; do
  bin="build/$(basename "$src" .c)"
  cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -Iinclude "$src" \
     target/debug/libmacp.a -lpthread -ldl -lm -o "$bin"
  MACP_COMPACT_TERMINAL_LOGS=0 scripts/with-runtime.sh valgrind -q --error-exitcode=99 --leak-check=full \
     --show-leak-kinds=definite --errors-for-leak-kinds=definite "$bin"
done

echo "== C ABI tests again on the multi-threaded runtime (MACP_WORKER_THREADS=2)"
# By default blocking calls drive the runtime's I/O themselves (src/rt.rs);
# with MACP_WORKER_THREADS its workers do all of it. Same tests, no valgrind.
for src in tests/c/test_*.c; do
  MACP_WORKER_THREADS=2 MACP_COMPACT_TERMINAL_LOGS=0 scripts/with-runtime.sh "build/$(basename "$src" .c)"
done

echo "== Examples (examples/*.c against a real runtime, valgrind)"
for src in examples/*.c; do
  bin="build/example_$(basename "$src" .c)"
  cc -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude "$src" \
     target/debug/libmacp.a -pthread -ldl -lm -o "$bin"
  scripts/with-runtime.sh valgrind -q --error-exitcode=99 --leak-check=full \
     --show-leak-kinds=definite --errors-for-leak-kinds=definite "$bin" >"$bin.out" \
    || { cat "$bin.out"; echo "example $src failed" >&2; exit 1; }
  echo "example $(basename "$src"): ok"
done
# A failing call is reported with its own error: against a port where
# nothing listens, the example exits 1 naming the transport failure (not a
# stale or missing error object).
if build/example_decision "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print("127.0.0.1:%d" % s.getsockname()[1])')" \
     >/dev/null 2>build/example_decision.err; then
  echo "example decision.c succeeded without a runtime" >&2; exit 1
fi
grep -q 'macp_client_new failed: TRANSPORT' build/example_decision.err \
  || { cat build/example_decision.err; echo "example decision.c misreported a failure" >&2; exit 1; }
echo "example decision.c: reports a failure with its own error"

echo "== The header from C++ (g++ -std=c++11 -Wpedantic -Werror, valgrind)"
c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude tests/c/header_cpp.cpp \
   target/debug/libmacp.a -lpthread -ldl -lm -o build/header_cpp
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
   --errors-for-leak-kinds=definite build/header_cpp

echo "== Go package tests (cgo, static library, race detector, real runtime)"
cargo build --quiet --release
# The Go package finds libmacp through pkg-config: use the build tree's.
PKG_CONFIG_PATH="$(scripts/install.sh --build-tree)${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
(cd bindings/go && go vet ./... && test -z "$(gofmt -l .)" && go test -race -count=1 ./...)

echo "== Go package linked against the shared library (-tags macp_shared)"
(cd bindings/go && go test -c -tags macp_shared -o ../../build/macp_go_shared.test . \
   && ../../build/macp_go_shared.test -test.count=1 -test.run 'Example|TestDecisionEndToEnd')
if [ "$(uname -s)" = Linux ]; then
  # ldd's output is read whole before it is searched: under pipefail,
  # `ldd | grep -q` fails whenever grep exits first and ldd gets SIGPIPE.
  shared_libs="$(ldd build/macp_go_shared.test)"
  grep -q 'libmacp\.so' <<<"$shared_libs" \
    || { echo "the -tags macp_shared test binary does not load libmacp.so" >&2; exit 1; }
  # The default build needs no libmacp at run time.
  (cd bindings/go && go test -c -o ../../build/macp_go_static.test .)
  static_libs="$(ldd build/macp_go_static.test)"
  if grep -q 'libmacp' <<<"$static_libs"; then
    echo "the default Go build loads libmacp at run time" >&2; exit 1
  fi
fi

# --- shipping: install, pkg-config, CMake, Go and the release archive ---
echo "== Exported symbols, install, and libmacp from outside the tree (tests/install/run.sh)"
tests/install/run.sh
# --- end shipping ---
# ---- C++ API (include/macp.hpp) -------------------------------------------
echo "== C++ API (g++ and clang++, C++17 and C++20, valgrind and ASan, one Decision of C++, C and Python)"
tests/cpp/run.sh
# ---- end of the C++ API section --------------------------------------------

# ---- Windows: macp.dll under Wine (scripts/windows.sh) ----
# The DLL is cross-built in a cached Debian unstable root; when that root
# cannot be made (e.g. the Debian mirror is unreachable) this fails, never
# passes silently.
echo "== Windows (macp.dll, release archive; C examples and C ABI tests under Wine, real runtime)"
scripts/windows.sh archive test \
  || { echo "the Windows build or its tests under Wine failed (see above)" >&2; exit 1; }
# ---- end Windows ----
# --- Swift package (bindings/swift) -------------------------------------
# swift from PATH, else Debian stable's swiftlang in a cached root; a failure
# to obtain Swift fails the run. The tests start their own runtimes; then the
# Swift example agent and the Python SDK share one Decision.
echo "== Swift package tests (swift test, example agent with the Python SDK)"
scripts/swift-test.sh
# --- end of the Swift package section ------------------------------------
# ---- Faults and misuse (fuzzing, sanitizers) --------------------------------
# The fuzz targets and the AddressSanitizer run need a nightly toolchain;
# without one they are reported as skipped.
if rustup run nightly cargo --version >/dev/null 2>&1; then
  echo "== Fuzz targets (fuzz/, ${MACP_FUZZ_SECONDS:-20} s each, seeded from the vectors)"
  fuzz/run.sh "${MACP_FUZZ_SECONDS:-20}"
  echo "== C ABI tests against an AddressSanitizer build (scripts/sanitize.sh)"
  scripts/sanitize.sh address
else
  echo "== SKIPPED: fuzz targets and the AddressSanitizer build need a nightly toolchain (rustup toolchain install nightly --component rust-src)"
fi
# The ThreadSanitizer run is never skipped: without nightly's rust-src it is
# built and run in the cached Debian unstable root (scripts/debian-root.sh),
# and when that root cannot be made it fails.
echo "== C ABI tests against a ThreadSanitizer build, std instrumented (scripts/sanitize.sh)"
scripts/sanitize.sh thread
# ---- end of faults and misuse -----------------------------------------------

echo "== all tests passed"
