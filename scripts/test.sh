#!/usr/bin/env bash
# Set up and run every libmacp test: formatting and lints, Rust unit and
# integration tests (against real macp-runtime processes), the header drift
# check, the C ABI tests and the C examples under valgrind against a real
# runtime, the header compiled as C++, and the Go package's tests (race
# detector; static and shared linking). The Swift package's tests run too
# when a Swift toolchain is on PATH.
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

echo "== The header from C++ (g++ -std=c++11 -Wpedantic -Werror, valgrind)"
c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude tests/c/header_cpp.cpp \
   target/debug/libmacp.a -lpthread -ldl -lm -o build/header_cpp
valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
   --errors-for-leak-kinds=definite build/header_cpp

echo "== Go package tests (cgo, static library, race detector, real runtime)"
cargo build --quiet --release
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

if command -v swift >/dev/null 2>&1 && [ -f bindings/swift/Package.swift ]; then
  echo "== Swift package tests"
  scripts/with-runtime.sh bash -c 'cd bindings/swift && swift test'
fi
# ---- Faults and misuse (fuzzing, sanitizers) --------------------------------
# Needs a nightly toolchain; without one these runs are reported as skipped.
if rustup run nightly cargo --version >/dev/null 2>&1; then
  echo "== Fuzz targets (fuzz/, ${MACP_FUZZ_SECONDS:-20} s each, seeded from the vectors)"
  fuzz/run.sh "${MACP_FUZZ_SECONDS:-20}"
  echo "== C ABI tests against an AddressSanitizer build (scripts/sanitize.sh)"
  scripts/sanitize.sh address
else
  echo "== SKIPPED: fuzz targets and sanitizer builds need a nightly toolchain (rustup toolchain install nightly --component rust-src)"
fi
# ---- end of faults and misuse -----------------------------------------------

echo "== all tests passed"
