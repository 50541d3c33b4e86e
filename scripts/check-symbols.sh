#!/usr/bin/env bash
# Check the symbols libmacp exports against the committed list
# include/macp.symbols (one name per line, sorted) and against the functions
# include/macp.h declares.
#
#   scripts/check-symbols.sh [--installed] [LIBMACP_SO]
#   MACP_BLESS_SYMBOLS=1 scripts/check-symbols.sh    rewrite the list
#
# Without an argument it builds the library (cargo build --lib) and checks
# ${CARGO_TARGET_DIR:-target}/debug/libmacp.so. It fails when the library
# exports a symbol that does not start with macp_, when a listed symbol is
# missing from the library (a removed or renamed function breaks every
# program linked against it), when the library exports one the list lacks,
# when the header declares a function the library does not export or the
# library exports one the header does not declare, or when the static library
# next to it lacks one. --installed, for a library scripts/install.sh
# installed: the static library next to it, prelinked into one object, must
# also define no other global symbol (the built one defines the standard
# library's and the dependencies' too). MACP_SYMBOLS_LIST=FILE checks
# against another list.
# Blessing rewrites the list from the library, after the other checks pass.
set -euo pipefail

die() { echo "check-symbols: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
list=${MACP_SYMBOLS_LIST:-$root/include/macp.symbols}
header=${MACP_SYMBOLS_HEADER:-$root/include/macp.h}
[ "$(uname -s)" = Linux ] || die "runs on Linux (nm -D on an ELF library)"

installed=0
if [ "${1:-}" = --installed ]; then installed=1; shift; fi
if [ $# -ge 1 ]; then
  lib=$1
else
  (cd "$root" && cargo build --quiet --lib)
  target_dir=${CARGO_TARGET_DIR:-$root/target}
  case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
  lib=$target_dir/debug/libmacp.so
fi
[ -f "$lib" ] || die "$lib does not exist"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, whatever their kind (functions, data).
nm_out=$(nm -D --defined-only "$lib") || die "nm -D failed on $lib"
awk 'NF >= 3 { print $3 }' <<<"$nm_out" | sed 's/@.*//' | LC_ALL=C sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || die "$lib exports no symbols"

# Function declarations of the header, as the C preprocessor leaves them
# (comments and the C++ guards gone).
pp=$(cc -E -P -x c -I"$root/include" "$header") || die "cannot preprocess $header"
{ grep -oE '\bmacp_[A-Za-z0-9_]+\(' <<<"$pp" || true; } | tr -d '(' | LC_ALL=C sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || die "found no function declarations in $header"

fail=0
report() { # report FILE MESSAGE
  if [ -s "$1" ]; then
    echo "check-symbols: $2:" >&2
    sed 's/^/  /' "$1" >&2
    fail=1
  fi
}

grep -v '^macp_' "$tmp/exported" >"$tmp/foreign" || true
report "$tmp/foreign" "$lib exports symbols outside the macp_ prefix"
LC_ALL=C comm -23 "$tmp/declared" "$tmp/exported" >"$tmp/undefined"
report "$tmp/undefined" "$(basename "$header") declares functions $lib does not export"
LC_ALL=C comm -13 "$tmp/declared" "$tmp/exported" >"$tmp/undeclared"
report "$tmp/undeclared" "$lib exports symbols $(basename "$header") does not declare"

static=$(dirname "$lib")/libmacp.a
if [ -f "$static" ]; then
  # readelf, not nm: nm hands members that carry LLVM bitcode to the LTO
  # plugin, which cannot read a newer LLVM's and then lists nothing.
  static_out=$(readelf -s -W "$static") || die "readelf -s failed on $static"
  awk '$5 == "GLOBAL" && $7 != "UND" && ($4 == "FUNC" || $4 == "OBJECT") { sub(/@.*/, "", $8); print $8 }' \
    <<<"$static_out" | LC_ALL=C sort -u >"$tmp/static"
  LC_ALL=C comm -23 "$tmp/exported" "$tmp/static" >"$tmp/static_missing"
  report "$tmp/static_missing" "$static lacks symbols the shared library exports"
  if [ "$installed" = 1 ]; then
    # Any defined global or weak symbol, whatever its kind.
    awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" { sub(/@.*/, "", $8); print $8 }' \
      <<<"$static_out" | LC_ALL=C sort -u >"$tmp/static_all"
    LC_ALL=C comm -13 "$tmp/exported" "$tmp/static_all" >"$tmp/static_extra"
    report "$tmp/static_extra" "$static defines global symbols the shared library does not export"
  fi
elif [ "$installed" = 1 ]; then
  die "--installed: no libmacp.a next to $lib"
fi

if [ -n "${MACP_BLESS_SYMBOLS:-}" ]; then
  [ "$fail" = 0 ] || die "not blessing: fix the disagreements above first"
  cp "$tmp/exported" "$list"
  echo "check-symbols: wrote $(wc -l <"$list") symbols to $list"
  exit 0
fi

[ -f "$list" ] || die "$list does not exist; create it with MACP_BLESS_SYMBOLS=1 $0"
LC_ALL=C sort -c "$list" 2>/dev/null || die "$list is not sorted (LC_ALL=C sort) or has duplicates"
LC_ALL=C sort -u -c "$list" 2>/dev/null || die "$list has duplicate lines"
LC_ALL=C comm -23 "$list" "$tmp/exported" >"$tmp/missing"
report "$tmp/missing" "symbols in $(basename "$list") that $lib no longer exports"
LC_ALL=C comm -13 "$list" "$tmp/exported" >"$tmp/new"
report "$tmp/new" "symbols $lib exports that $(basename "$list") does not list"
if [ "$fail" != 0 ]; then
  echo "check-symbols: when the change is intended, rewrite the list with" \
       "MACP_BLESS_SYMBOLS=1 scripts/check-symbols.sh and commit it" >&2
  exit 1
fi
echo "check-symbols: $(wc -l <"$tmp/exported") macp_ symbols exported, listed and declared ($(basename "$lib"))"
