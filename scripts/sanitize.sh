#!/usr/bin/env bash
# Run the C ABI tests (tests/c/test_*.c) against libmacp built with a
# sanitizer, each against a fresh local runtime (scripts/with-runtime.sh).
#
#   scripts/sanitize.sh address|thread [TEST...]
#
# With a nightly toolchain that has its rust-src component, std is built
# instrumented too (-Zbuild-std) and the C side is compiled with clang
# (override with CC), whose sanitizer runtime matches the instrumentation
# rustc emits. AddressSanitizer also runs on a nightly without rust-src, std
# then uninstrumented.
#
# ThreadSanitizer needs an instrumented std (rustc refuses to link
# TSan-instrumented crates against an uninstrumented one). Without nightly's
# rust-src, or when the machine's C compiler has too old a TSan runtime for
# nightly's LLVM, it runs inside the Debian unstable root of
# scripts/debian-root.sh (shared with scripts/windows.sh): the root's rustc
# builds the library and std from its rust-src (-Zsanitizer and
# -Zbuild-std, enabled on that stable rustc by RUSTC_BOOTSTRAP=1), the
# root's gcc compiles each test with its libtsan (both come with rustc's
# dependencies, so the root's package list is the Windows build's), and each
# test runs in the root against a runtime on the host's loopback. When the
# root cannot be made, this fails.
#
# Before the tests, a ThreadSanitizer run checks that libmacp, std and tokio
# are instrumented and that tests/sanitizers/race.c, a deliberate race, is
# reported and fails.
#
# Each sanitizer has its own target dir, outside the checkout so that later
# runs on the machine are incremental
# (${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/target-asan, target-tsan; or
# $MACP_SANITIZE_TARGET_DIR); the root's build also keeps its cargo home
# (registry cache) there. TSan reads tests/sanitizers/tsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
kind="${1:?usage: scripts/sanitize.sh address|thread [TEST...]}"
shift
case "$kind" in
  address) cflag=-fsanitize=address ;;
  thread) cflag=-fsanitize=thread ;;
  *) echo "sanitize: unknown sanitizer '$kind'" >&2; exit 2 ;;
esac
short=${kind/address/asan}; short=${short/thread/tsan}
dir="${MACP_SANITIZE_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/target-$short}"
mkdir -p "$dir/c"
dir=$(cd "$dir" && pwd)
# One run at a time per target dir: every checkout on the machine shares it
# (its test binaries and their output included).
exec 8>"$dir/lock"
if ! flock -n 8; then
  echo "sanitize ($kind): waiting for another run using $dir"
  flock 8
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then tests=(tests/c/test_*.c); fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export TSAN_OPTIONS="suppressions=$repo/tests/sanitizers/tsan.supp:halt_on_error=1:exitcode=99"
cc_flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g "$cflag" -Iinclude)
libs=(-lpthread -ldl -lm)

bins=()
for src in "${tests[@]}"; do bins+=("$dir/c/$(basename "$src" .c)"); done
runner=() # what each test binary runs under, against $MACP_TARGET

rustflags="-Zsanitizer=$kind"
# Legacy (C++-like) symbol names, which every sanitizer runtime's
# symbolizer demangles, so that tsan.supp can name Rust paths; v0 names
# stay mangled in gcc's libtsan reports and match no suppression.
[ "$kind" = thread ] && rustflags+=" -Zunstable-options -Csymbol-mangling-version=legacy"
# Whether the machine's C compiler has a TSan runtime for what nightly's
# LLVM emits (older ones, e.g. clang 14, lack __tsan_memcpy).
host_tsan_links() {
  printf '%s\n' 'void *__tsan_memcpy(void *, const void *, unsigned long);' \
    'int main(void) { char a[1], b[1] = {0}; __tsan_memcpy(a, b, 1); return a[0]; }' \
    | "${CC:-clang}" -x c -fsanitize=thread - -o "$dir/c/probe" >/dev/null 2>&1
}
build_std=()
sysroot=$(rustup run nightly rustc --print sysroot 2>/dev/null || true)
if [ -n "$sysroot" ] && [ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ] \
   && { [ "$kind" = address ] || host_tsan_links; }; then
  build_std=(-Zbuild-std)
elif [ "$kind" = thread ]; then
  echo "sanitize (thread): no nightly rust-src with a matching TSan runtime here; building and testing in the Debian unstable root"
  root=(scripts/debian-root.sh run unstable -b "$repo" -b "$dir" -w "$repo"
        -e CARGO_HOME="$dir/cargo-home" -e RUSTC_BOOTSTRAP=1 -e TSAN_OPTIONS)
  "${root[@]}" -e RUSTFLAGS="$rustflags" -- \
    cargo build --quiet --locked --lib -Zbuild-std --target "$triple" --target-dir "$dir/debian" \
    || { echo "sanitize (thread): the build in the Debian unstable root failed" >&2; exit 1; }
  lib="$dir/debian/$triple/debug/libmacp.a"
  cc=("${root[@]}" -- gcc)
  runner=("${root[@]}" -e MACP_TARGET --)
else
  # Without rust-src, std itself is not instrumented: reports inside std
  # are missed, the rest of the library is checked.
  echo "sanitize: nightly has no rust-src; std is not instrumented" >&2
fi
if [ ${#runner[@]} -eq 0 ]; then
  RUSTFLAGS="$rustflags" cargo +nightly build --quiet --lib "${build_std[@]}" \
    --target "$triple" --target-dir "$dir"
  lib="$dir/$triple/debug/libmacp.a"
  cc=("${CC:-clang}")
fi
for i in "${!tests[@]}"; do
  "${cc[@]}" "${cc_flags[@]}" "${tests[$i]}" "$lib" "${libs[@]}" -o "${bins[$i]}"
done

if [ "$kind" = thread ]; then
  # A pass means something only if what the tests run is instrumented
  # (libmacp's objects, std's and tokio's: each calls __tsan_func_entry)
  # and if a report fails the run: tests/sanitizers/race.c must fail.
  undef=$(nm -A -u "$lib" 2>/dev/null | awk -F: '$NF ~ / U __tsan_func_entry$/ { print $2 }')
  for crate in macp std tokio; do
    grep -q -E "^$crate[.-]" <<<"$undef" \
      || { echo "sanitize (thread): $crate in $lib is not instrumented" >&2; exit 1; }
  done
  "${cc[@]}" "${cc_flags[@]}" tests/sanitizers/race.c -lpthread -o "$dir/c/race"
  rc=0
  MACP_TARGET= "${runner[@]}" "$dir/c/race" >"$dir/c/race.out" 2>&1 || rc=$?
  if [ "$rc" -ne 99 ] || ! grep -q 'WARNING: ThreadSanitizer: data race' "$dir/c/race.out"; then
    cat "$dir/c/race.out" >&2
    echo "sanitize (thread): tests/sanitizers/race.c was not reported as a race (exit $rc)" >&2
    exit 1
  fi
  echo "sanitize (thread): libmacp, std and tokio instrumented; a deliberate race fails the run"
fi

for bin in "${bins[@]}"; do
  start=$(date +%s)
  scripts/with-runtime.sh "${runner[@]}" "$bin" >"$bin.out" 2>&1 \
    || { tail -60 "$bin.out" >&2; echo "sanitize ($kind): $(basename "$bin") failed" >&2; exit 1; }
  echo "sanitize ($kind): $(basename "$bin") ok ($(( $(date +%s) - start )) s)"
done
