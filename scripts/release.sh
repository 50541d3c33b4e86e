#!/usr/bin/env bash
# Build the prebuilt release archive of libmacp:
#
#   scripts/release.sh [--no-build] [OUT_DIR]      (default: target/dist)
#
# writes OUT_DIR/libmacp-<version>-<target>.tar.gz and its .sha256
# (`sha256sum -c` checks it from OUT_DIR). The archive holds one directory,
# libmacp-<version>-<target>/, with lib/ (the shared library and its links,
# the static library, pkgconfig/, cmake/macp/), include/, LICENSE and a short
# README; its pkg-config and CMake files find the library relative to
# themselves, so it can be unpacked anywhere. The script prints the newest
# glibc symbol version the shared library needs (objdump -T), which is the
# oldest glibc it runs on. The archive's contents are ordered, owned by root
# and dated from the last commit, so the same build gives the same bytes.
# --no-build packs what is already in ${CARGO_TARGET_DIR:-target}/release.
set -euo pipefail

die() { echo "release: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
build=1 out=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$out" ] || die "one output directory only"; out=$1; shift ;;
  esac
done
out=${out:-${CARGO_TARGET_DIR:-$root/target}/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^version = "\([^"]*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
host=$(rustc -vV | sed -n 's/^host: //p')
target=${CARGO_BUILD_TARGET:-$host}
[ "$target" = "$host" ] || die "cross builds are not supported here (target $target, host $host)"
name="libmacp-$version-$target"

if [ "$build" = 1 ]; then
  echo "release: building libmacp $version for $target"
  (cd "$root" && cargo build --release --lib --quiet)
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top="$stage/$name"
DESTDIR="$top" "$root/scripts/install.sh" --prefix /x --no-build --relocatable >/dev/null
mv "$top/x"/* "$top/" && rmdir "$top/x"
install -m 644 "$root/LICENSE" "$top/LICENSE"

so=$(find "$top/lib" -maxdepth 1 -type f -name 'libmacp.so.*' -print -quit)
[ -n "$so" ] || die "the staged tree has no libmacp.so.*"
soname=$(basename "$(find "$top/lib" -maxdepth 1 -type l -name 'libmacp.so.*' -print -quit)")
dynsyms=$(objdump -T "$so")
glibc=$({ grep -oE 'GLIBC_[0-9]+(\.[0-9]+)*' <<<"$dynsyms" || true; } | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[ -n "$glibc" ] || die "objdump -T shows no glibc symbol versions in $(basename "$so")"
abi=${soname#libmacp.so.}
sed -e "s|@VERSION@|$version|g" -e "s|@TARGET@|$target|g" -e "s|@SHARED_REAL@|$(basename "$so")|g" \
    -e "s|@SONAME@|$soname|g" -e "s|@GLIBC@|$glibc|g" -e "s|@ABI@|$abi|g" \
    "$root/packaging/README.archive.md" >"$top/README.md"
chmod 644 "$top/README.md"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
archive="$out/$name.tar.gz"
tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    -cf - "$name" | gzip -9n >"$archive"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")

echo "release: $archive ($(du -k "$archive" | cut -f1) KiB)"
echo "release: $archive.sha256"
echo "release: $(basename "$so") needs glibc >= $glibc (newest GLIBC_ symbol version, objdump -T)"
