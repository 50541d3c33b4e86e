#!/usr/bin/env bash
# Cross-build libmacp for Windows (x86_64-pc-windows-gnu) and prove it under
# Wine, inside the Debian unstable root of scripts/debian-root.sh (rustc with
# rust-src, mingw-w64, Wine, protoc, zip); the host needs none of them.
#
#   scripts/windows.sh build     build/windows/: macp.dll, libmacp.dll.a
#                                (MinGW import library), macp.def (exports,
#                                for MSVC's lib.exe)
#   scripts/windows.sh archive   build, then build/windows/
#                                libmacp-<version>-x86_64-pc-windows-gnu.zip
#                                and its .sha256
#   scripts/windows.sh test      build, then examples/*.c and
#                                tests/c/test_*.c built with mingw-w64
#                                against the DLL and run under Wine, each
#                                against its own macp-runtime on the host's
#                                loopback (scripts/with-runtime.sh);
#                                examples/decision.c must print RESOLVED
#
# Several commands may be given (`archive test`); the DLL is built once.
#
# The root has no Windows standard library, so std is built from rust-src
# (-Zbuild-std, enabled on the root's stable rustc by RUSTC_BOOTSTRAP=1).
# Cargo's home (registry cache) and the cross target directory live outside
# the checkout, in $MACP_WINDOWS_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/windows), with the Wine prefix, so
# later builds on the same machine are incremental. Every mount is made by
# scripts/debian-root.sh run, in a private mount namespace that ends with the
# command on every exit path. When the root cannot be made, this fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

triple=x86_64-pc-windows-gnu
cache="${MACP_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/windows}"
out="$repo/build/windows"
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd)

die() { echo "windows: $*" >&2; exit 1; }

# Run a command in the unstable root with the checkout and the cache mounted
# at their own paths. Wine runs quiet and headless: no debug channels, no
# display driver, no Mono or Gecko installer at prefix creation.
in_root() {
  scripts/debian-root.sh run unstable -b "$repo" -b "$cache" -w "$repo" \
    -e CARGO_HOME="$cache/cargo-home" \
    -e CARGO_TARGET_DIR="$cache/target" \
    -e RUSTC_BOOTSTRAP=1 \
    -e CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    -e CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
    -e AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
    -e WINEPREFIX="$cache/wine" \
    -e WINEDEBUG=-all \
    -e WINEDLLOVERRIDES="mscoree,mshtml=;winex11.drv,winewayland.drv=" \
    -e WINESERVER=/usr/lib/x86_64-linux-gnu/wine/wineserver \
    "$@"
}

# One build or Wine session at a time per cache: the target directory and
# the Wine prefix (whose wineserver belongs to the mount namespace that
# started it) are shared by every checkout on the machine.
# The internal `wine` command runs under the lock its caller holds.
if [ -z "${MACP_WINDOWS_LOCKED:-}" ]; then
  exec 8>"$cache/lock"
  if ! flock -n 8; then
    echo "windows: waiting for another Windows build or test using $cache"
    flock 8
  fi
  export MACP_WINDOWS_LOCKED=1
fi

# Time stamp of the build's files: the last commit's (else now).
epoch() { git log -1 --format=%ct 2>/dev/null || date +%s; }

version() {
  awk -F'"' '/^\[package\]/ { p = 1 } p && /^version *=/ { print $2; exit }' Cargo.toml
}

built=""
cmd_build() {
  [ -z "$built" ] || return 0
  built=1
  echo "== Windows: cargo build --release --target $triple (-Zbuild-std, in the Debian unstable root)"
  in_root -- sh -ec '
    cargo build --release --locked --lib -Zbuild-std=std,panic_unwind --target "$0"
    rel="$CARGO_TARGET_DIR/$0/release"
    cp "$rel/macp.dll" "$rel/libmacp.dll.a" "$1/"
    # The symbol table is a third of the file and of no use to callers;
    # the PE time stamp strip writes is the last commit'"'"'s.
    SOURCE_DATE_EPOCH=$2 x86_64-w64-mingw32-strip "$1/macp.dll"
    # Exports as a module-definition file, for lib.exe /def (MSVC).
    { echo "LIBRARY macp.dll"; echo "EXPORTS"
      x86_64-w64-mingw32-objdump -p "$1/macp.dll" \
        | awk "/^\[Ordinal\/Name Pointer\] Table/ { t = 1; next } t && /^\t\[/ { print \"    \" \$NF; n++; next } n { exit }"
    } >"$1/macp.def"
  ' "$triple" "$out" "$(epoch)"
  # The DLL exports exactly the functions the header declares.
  local declared exported
  declared=$(grep -v -E '^[[:space:]]*(//|/\*|\*)' include/macp.h | grep -o -E '\bmacp_[a-z0-9_]+\(' | tr -d '(' | LC_ALL=C sort -u)
  exported=$(sed -n 's/^    //p' "$out/macp.def" | LC_ALL=C sort -u)
  [ -n "$exported" ] || die "macp.dll exports no function"
  if [ "$declared" != "$exported" ]; then
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    die "macp.dll's exports differ from include/macp.h's functions (< header only, > DLL only)"
  fi
  echo "macp.dll: $(stat -c %s "$out/macp.dll") bytes, exports the header's $(wc -l <<<"$exported") functions"
}

cmd_archive() {
  cmd_build
  local v name stage
  v=$(version)
  name="libmacp-$v-$triple"
  stage="$out/stage/$name"
  rm -rf "$out/stage" "$out/$name.zip" "$out/$name.zip.sha256"
  mkdir -p "$stage/bin" "$stage/lib" "$stage/include"
  cp "$out/macp.dll" "$stage/bin/"
  cp "$out/libmacp.dll.a" "$out/macp.def" "$stage/lib/"
  cp include/macp.h "$stage/include/"
  # CRLF line ends, for Notepad and friends.
  sed -e "s/@VERSION@/$v/g" -e "s/\$/\r/" packaging/windows/README.txt >"$stage/README.txt"
  # Reproducible: fixed times and order, no extra attributes.
  find "$stage" -exec touch -h -d "@$(epoch)" {} +
  in_root -- sh -ec 'cd "$0" && find "$1" -type f | LC_ALL=C sort | TZ=UTC zip -q -X -D -@ "$2"' \
    "$out/stage" "$name" "$out/$name.zip"
  (cd "$out" && sha256sum "$name.zip" >"$name.zip.sha256")
  rm -rf "$out/stage"
  echo "$out/$name.zip: $(stat -c %s "$out/$name.zip") bytes"
  cat "$out/$name.zip.sha256"
}

cmd_test() {
  cmd_build
  echo "== Windows: C examples and C ABI tests built with mingw-w64 against macp.dll, run under Wine"
  # Test programs link winpthreads statically, so they need no MinGW DLL.
  in_root -- sh -ec '
    cc="x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -g -Iinclude"
    libs="-L$0 -lmacp -Wl,-Bstatic -lpthread -Wl,-Bdynamic"
    for src in examples/*.c; do
      $cc -Wpedantic "$src" $libs -o "$0/example_$(basename "$src" .c).exe"
    done
    for src in tests/c/test_*.c; do
      $cc -D_POSIX_C_SOURCE=200809L "$src" $libs -o "$0/$(basename "$src" .c).exe"
    done
    for f in "$0"/*.dll "$0"/*.exe; do
      echo "$(basename "$f") imports: $(x86_64-w64-mingw32-objdump -p "$f" | awk "/DLL Name:/ { printf \"%s \", \$3 }")"
    done
  ' "$out"
  # The Wine prefix is made once, marked complete only when wineboot is done.
  if [ ! -f "$cache/wine/.complete" ]; then
    echo "windows: making the Wine prefix in $cache/wine (once per machine)"
    rm -rf "$cache/wine"
    in_root -- sh -ec 'wineboot --init >"$WINEPREFIX.log" 2>&1 || { cat "$WINEPREFIX.log" >&2; exit 1; }
                       "$WINESERVER" -w; touch "$WINEPREFIX/.complete"'
  fi
  # Each program against its own runtime on the host's loopback.
  local src exe o rc
  for src in examples/*.c; do
    exe="example_$(basename "$src" .c).exe"
    rc=0
    scripts/with-runtime.sh "$0" wine "$exe" >"$out/${exe%.exe}.out" 2>&1 || rc=$?
    o=$(tr -d '\r' <"$out/${exe%.exe}.out")
    [ "$rc" -eq 0 ] || { echo "$o"; die "$exe failed under Wine (exit $rc)"; }
    if [ "$exe" = example_decision.exe ]; then
      grep -w RESOLVED <<<"$o" | tail -n 1 || { echo "$o"; die "$exe did not print RESOLVED"; }
    fi
    echo "example $exe under Wine: ok"
  done
  for src in tests/c/test_*.c; do
    exe="$(basename "$src" .c).exe"
    rc=0
    scripts/with-runtime.sh "$0" wine "$exe" >"$out/${exe%.exe}.out" 2>&1 || rc=$?
    tr -d '\r' <"$out/${exe%.exe}.out"
    [ "$rc" -eq 0 ] || die "$exe failed under Wine (exit $rc)"
  done
}

# Internal: run build/windows/PROGRAM under Wine in the root, against
# $MACP_TARGET (set by scripts/with-runtime.sh), and wait for the wineserver
# to exit so nothing outlives the root's mount namespace.
cmd_wine() {
  [ -n "${MACP_TARGET:-}" ] || die "wine: MACP_TARGET is not set"
  in_root -e MACP_TARGET -- sh -c '
    # The server started here, its diagnostics kept apart from the program'"'"'s.
    "$WINESERVER" 2>"$0/${1%.exe}.wineserver.log"
    timeout 600 wine "$0/$1"; rc=$?
    [ "$rc" -ne 124 ] || { echo "windows: $1 timed out" >&2; "$WINESERVER" -k; }
    "$WINESERVER" -w
    exit $rc
  ' "$out" "$1"
}

usage="usage: $0 build|archive|test..."
[ $# -gt 0 ] || die "$usage"
if [ "$1" = wine ]; then
  [ $# -eq 2 ] || die "usage: $0 wine PROGRAM.exe"
  cmd_wine "$2"
  exit
fi
for c in "$@"; do
  case "$c" in build | archive | test) ;; *) die "$usage" ;; esac
done
for c in "$@"; do "cmd_$c"; done
