#!/usr/bin/env bash
# Run the C ABI tests (tests/c/test_*.c) against libmacp built with a
# sanitizer, each against a fresh local runtime.
#
#   scripts/sanitize.sh address|thread [TEST...]
#
# Needs a nightly toolchain; with its rust-src component std is built
# instrumented too (-Zbuild-std). Each sanitizer has its own target dir,
# outside the checkout so that later runs on the machine are incremental
# (${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/target-asan, target-tsan; or
# $MACP_SANITIZE_TARGET_DIR). TSan reads tests/sanitizers/tsan.supp. The C
# side is compiled with clang (override with CC), whose sanitizer runtime
# matches the instrumentation rustc emits.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:?usage: scripts/sanitize.sh address|thread [TEST...]}"
shift
case "$kind" in
  address) cflag=-fsanitize=address ;;
  thread) cflag=-fsanitize=thread ;;
  *) echo "sanitize: unknown sanitizer '$kind'" >&2; exit 2 ;;
esac
short=${kind/address/asan}; short=${short/thread/tsan}
dir="${MACP_SANITIZE_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/target-$short}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
build_std=()
if [ -f "$(rustc +nightly --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  build_std=(-Zbuild-std)
elif [ "$kind" = thread ]; then
  # rustc refuses to link TSan-instrumented crates against an uninstrumented std.
  echo "sanitize: ThreadSanitizer needs nightly's rust-src (rustup component add rust-src --toolchain nightly)" >&2
  exit 1
else
  # Without rust-src, std itself is not instrumented: reports inside std
  # are missed, the rest of the library is checked.
  echo "sanitize: nightly has no rust-src; std is not instrumented" >&2
fi
RUSTFLAGS="-Zsanitizer=$kind" cargo +nightly build --quiet --lib "${build_std[@]}" \
  --target "$triple" --target-dir "$dir"
lib="$dir/$triple/debug/libmacp.a"
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then tests=(tests/c/test_*.c); fi
mkdir -p "$dir/c"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export TSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/tsan.supp:halt_on_error=1:exitcode=99"
for src in "${tests[@]}"; do
  bin="$dir/c/$(basename "$src" .c)"
  "${CC:-clang}" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g "$cflag" -Iinclude "$src" \
     "$lib" -lpthread -ldl -lm -o "$bin"
  start=$(date +%s)
  scripts/with-runtime.sh "$bin" >"$bin.out" 2>&1 \
    || { tail -60 "$bin.out" >&2; echo "sanitize ($kind): $src failed" >&2; exit 1; }
  echo "sanitize ($kind): $(basename "$src") ok ($(( $(date +%s) - start )) s)"
done
