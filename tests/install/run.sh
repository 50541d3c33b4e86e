#!/usr/bin/env bash
# libmacp as its users get it, from outside this tree:
#
#   1. the exported-symbol check (scripts/check-symbols.sh), and that it
#      fails when the list or the header disagrees with the library;
#   2. scripts/install.sh into a temporary prefix and into a DESTDIR, the
#      manifest, and --uninstall; the installed libmacp.a defines the listed
#      macp_ symbols and no other global one (check-symbols.sh --installed,
#      which must fail on the built libmacp.a);
#   3. examples/decision.c, copied out of the tree, built three ways against
#      the prefix (pkg-config shared, pkg-config --static, CMake
#      find_package with macp::macp and macp::macp_static), each run against
#      a fresh runtime to RESOLVED; the shared builds must load the library
#      by its SONAME from the prefix, the static ones no libmacp at all;
#      the pkg-config --static program is at most 10 MB; the static library
#      also links into one program with another Rust static library, whose
#      panics that program still catches;
#   4. a C++ program against the installed header;
#   5. a Go program outside the tree importing a copy of bindings/go, built
#      static and shared against the prefix through pkg-config, each running
#      a Decision;
#   6. the release archive (scripts/release.sh): checksum and contents, then
#      unpacked in a Debian stable root (scripts/debian-root.sh), a different
#      distribution than the build machine's, where decision.c built with
#      pkg-config runs a Decision against a runtime on the host's loopback.
#      Failing to make the root fails the test.
#
#   tests/install/run.sh          (after cargo build --release)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=$root/tests/install
target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac

fail() { echo "install test: $*" >&2; exit 1; }
step() { echo "-- $*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

version=$(sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then soname="libmacp.so.0.$minor"; else soname="libmacp.so.$major"; fi

# Runs a Decision program against a fresh runtime; it must say RESOLVED
# (C) or Resolved (Go) and exit 0.
run_decision() { # run_decision LABEL COMMAND...
  local label=$1 out; shift
  if ! out=$(scripts/with-runtime.sh "$@" 2>&1); then
    echo "$out" >&2; fail "$label: the Decision program failed"
  fi
  grep -qiE 'session .*: resolved' <<<"$out" || { echo "$out" >&2; fail "$label: no RESOLVED in its output"; }
  echo "$label: RESOLVED"
}

# The binary loads libmacp by its SONAME, resolved inside the prefix.
check_shared() { # check_shared LABEL BINARY LIBDIR
  local dyn libs
  dyn=$(readelf -d "$2")
  grep -q "(NEEDED).*\[$soname\]" <<<"$dyn" || { echo "$dyn" >&2; fail "$1: does not need $soname"; }
  if grep -q '(NEEDED).*\[libmacp\.so\]' <<<"$dyn"; then fail "$1: needs the unversioned libmacp.so"; fi
  libs=$(ldd "$2")
  grep -qF "$soname => $3/$soname " <<<"$libs" || { echo "$libs" >&2; fail "$1: $soname not loaded from $3"; }
}
check_static() { # check_static LABEL BINARY
  local libs
  libs=$(ldd "$2")
  if grep -q libmacp <<<"$libs"; then echo "$libs" >&2; fail "$1: loads libmacp at run time"; fi
}

step "exported symbols"
so_built=$target_dir/release/libmacp.so
[ -f "$so_built" ] || fail "$so_built is missing: cargo build --release first"
scripts/check-symbols.sh "$so_built"
# The check itself: each kind of disagreement must fail it.
sed 1d include/macp.symbols >"$tmp/short.symbols"
{ cat include/macp.symbols; echo macp_removed_function; } | LC_ALL=C sort >"$tmp/long.symbols"
{ cat include/macp.h; echo 'void macp_declared_only(void);'; } >"$tmp/macp.h"
for bad in "MACP_SYMBOLS_LIST=$tmp/short.symbols" "MACP_SYMBOLS_LIST=$tmp/long.symbols" \
           "MACP_SYMBOLS_HEADER=$tmp/macp.h"; do
  if env "$bad" scripts/check-symbols.sh "$so_built" >/dev/null 2>&1; then
    fail "check-symbols.sh passed with $bad"
  fi
done
echo "check-symbols.sh fails on a missing, an extra and an undeclared symbol"

step "install into a prefix, a DESTDIR, uninstall"
scripts/install.sh --no-build --prefix "$prefix"
manifest=$prefix/share/libmacp/install-manifest.txt
for f in "lib/libmacp.so.$version" "lib/$soname" lib/libmacp.so lib/libmacp.a include/macp.h \
         lib/pkgconfig/macp.pc lib/pkgconfig/macp-static.pc \
         lib/cmake/macp/macpConfig.cmake lib/cmake/macp/macpConfigVersion.cmake; do
  [ -e "$prefix/$f" ] || fail "install did not create $f"
  grep -qxF "$prefix/$f" "$manifest" || fail "the manifest does not list $f"
done
[ "$(readlink "$prefix/lib/libmacp.so")" = "$soname" ] || fail "libmacp.so does not point at $soname"
for f in "lib/libmacp.so.$version" lib/libmacp.a; do
  sections=$(readelf -S -W "$prefix/$f" 2>/dev/null)
  if grep -q '\.debug_info' <<<"$sections"; then fail "$f is installed with debug information"; fi
done
[ "$(readlink "$prefix/lib/$soname")" = "libmacp.so.$version" ] || fail "$soname does not point at the real file"
if [ -f include/macp.hpp ]; then [ -f "$prefix/include/macp.hpp" ] || fail "include/macp.hpp not installed"; fi
while IFS= read -r f; do [ -e "$f" ] || fail "the manifest lists $f, which does not exist"; done <"$manifest"
# The installed static library is one prelinked object defining the listed
# macp_ symbols and no other global one; the check fails on the built one.
scripts/check-symbols.sh --installed "$prefix/lib/libmacp.so"
mkdir -p "$tmp/built-a"
cp "$prefix/lib/libmacp.so.$version" "$tmp/built-a/libmacp.so"
cp "$target_dir/release/libmacp.a" "$tmp/built-a/libmacp.a"
if scripts/check-symbols.sh --installed "$tmp/built-a/libmacp.so" >/dev/null 2>&1; then
  fail "check-symbols.sh --installed passed with the built (not prelinked) libmacp.a"
fi
rm -rf "$tmp/built-a"
DESTDIR=$tmp/stage scripts/install.sh --no-build --prefix /opt/macp >/dev/null
[ -f "$tmp/stage/opt/macp/lib/libmacp.a" ] || fail "DESTDIR install did not stage lib/libmacp.a"
grep -q "^prefix=/opt/macp$" "$tmp/stage/opt/macp/lib/pkgconfig/macp.pc" || fail "DESTDIR leaked into macp.pc"
if grep -q "$tmp/stage" "$tmp/stage/opt/macp/share/libmacp/install-manifest.txt"; then
  fail "DESTDIR leaked into the manifest"
fi
DESTDIR=$tmp/stage scripts/install.sh --uninstall --prefix /opt/macp >/dev/null
left=$(find "$tmp/stage" -type f -o -type l)
[ -z "$left" ] || fail "uninstall left: $left"
echo "install, DESTDIR staging and uninstall: ok"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
unset PKG_CONFIG_LIBDIR
[ "$(pkg-config --modversion macp)" = "$version" ] || fail "pkg-config --modversion macp is not $version"
libdir=$(pkg-config --variable=libdir macp)
[ "$libdir" = "$prefix/lib" ] || fail "macp.pc libdir is $libdir, not $prefix/lib"

app=$tmp/app
mkdir -p "$app"
cp examples/decision.c examples/agent.h "$app/"
cd "$app"

step "C, pkg-config, shared"
# shellcheck disable=SC2046 # pkg-config's flags are meant to split
cc -std=c11 -Wall -Wextra -Werror decision.c $(pkg-config --cflags --libs macp) \
   -Wl,-rpath,"$libdir" -o decision-shared
check_shared "pkg-config shared" ./decision-shared "$libdir"
(cd "$root" && run_decision "pkg-config shared" "$app/decision-shared")

step "C, pkg-config --static"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror decision.c $(pkg-config --static --cflags --libs macp-static) \
   -o decision-static
check_static "pkg-config --static" ./decision-static
# A statically linked program stays small with the linker's default flags
# (scripts/install.sh prelinks libmacp.a; README, "Sizes and the release
# profile"): at most 10 MB (10^6 bytes).
static_size=$(stat -c %s decision-static)
[ "$static_size" -le 10000000 ] || fail "decision-static is $static_size bytes, more than 10 MB"
echo "pkg-config --static: decision-static is $static_size bytes"
(cd "$root" && run_decision "pkg-config --static" "$app/decision-static")

step "C, libmacp.a with another Rust static library"
# Both carry a Rust standard library and rust_eh_personality: the installed
# libmacp.a defines only macp_ symbols, so they link together (the archive
# as built does not), and the other library's panics are still caught.
CARGO_TARGET_DIR=$tmp/rustlib-target cargo build --quiet --release --manifest-path "$here/rustlib/Cargo.toml"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -Dmain=decision_main -c decision.c $(pkg-config --cflags macp-static) -o decision.o
cc -std=c11 -Wall -Wextra -Werror -c "$here/two_rust.c" -o two_rust.o
for order in "macp-first" "other-first"; do
  # shellcheck disable=SC2046
  if [ "$order" = macp-first ]; then
    cc two_rust.o decision.o $(pkg-config --static --libs macp-static) "$tmp/rustlib-target/release/libother.a" \
       -o "two-rust-$order"
  else
    cc two_rust.o decision.o "$tmp/rustlib-target/release/libother.a" $(pkg-config --static --libs macp-static) \
       -o "two-rust-$order"
  fi
  (cd "$root" && run_decision "with another Rust library ($order)" "$app/two-rust-$order")
done

step "C, CMake find_package(macp 0.$minor)"
cp "$here/cmake/CMakeLists.txt" "$app/"
cmake -S "$app" -B "$app/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 \
  || { cat "$tmp/cmake.log" >&2; fail "cmake configure failed"; }
cmake --build "$app/build" >>"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; fail "cmake build failed"; }
check_shared "CMake macp::macp" "$app/build/decision_shared" "$libdir"
check_static "CMake macp::macp_static" "$app/build/decision_static"
(cd "$root" && run_decision "CMake macp::macp" "$app/build/decision_shared")
(cd "$root" && run_decision "CMake macp::macp_static" "$app/build/decision_static")
# The version file refuses an ABI this library does not provide.
mkdir -p "$tmp/cmake-v"
printf 'cmake_minimum_required(VERSION 3.13)\nproject(v C)\nfind_package(macp 0.%s REQUIRED)\n' \
  "$((minor + 1))" >"$tmp/cmake-v/CMakeLists.txt"
if cmake -S "$tmp/cmake-v" -B "$tmp/cmake-v/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  fail "find_package(macp 0.$((minor + 1))) accepted libmacp $version"
fi

step "C++ against the installed header"
# shellcheck disable=SC2046
c++ -std=c++11 -Wall -Wextra -Werror -DMACP_EXPECTED_VERSION="\"$version\"" "$here/version.cpp" \
    $(pkg-config --cflags --libs macp) -Wl,-rpath,"$libdir" -o version-cpp
check_shared "C++" ./version-cpp "$libdir"
./version-cpp

step "Go outside the tree, through pkg-config"
gopkg=$tmp/gopkg goapp=$tmp/goapp
mkdir -p "$gopkg" "$goapp"
cp "$root"/bindings/go/go.mod "$gopkg/"
for f in "$root"/bindings/go/*.go; do
  case "$f" in *_test.go) ;; *) cp "$f" "$gopkg/" ;; esac
done
cp "$here/go/main.go" "$goapp/"
module=$(sed -n 's/^module //p' "$gopkg/go.mod")
cat >"$goapp/go.mod" <<EOF
module example.com/decision

go 1.19

require $module v0.0.0

replace $module => ../gopkg
EOF
(
  cd "$goapp"
  export GOFLAGS=-mod=mod GOPROXY=off GOWORK=off
  go build -o decision-go-static .
  CGO_LDFLAGS="-Wl,-rpath,$libdir" go build -tags macp_shared -o decision-go-shared .
)
check_static "Go (static)" "$goapp/decision-go-static"
check_shared "Go -tags macp_shared" "$goapp/decision-go-shared" "$libdir"
(cd "$root" && run_decision "Go (static)" "$goapp/decision-go-static")
(cd "$root" && run_decision "Go -tags macp_shared" "$goapp/decision-go-shared")

cd "$root"
step "release archive"
dist=$tmp/dist
scripts/release.sh --no-build "$dist"
archive=$(find "$dist" -name 'libmacp-*.tar.gz' -print -quit)
[ -n "$archive" ] || fail "release.sh made no archive"
name=$(basename "$archive" .tar.gz)
(cd "$dist" && sha256sum -c --quiet "$name.tar.gz.sha256") || fail "the archive does not match its .sha256"
listing=$(tar -tzf "$archive")
for f in LICENSE README.md include/macp.h lib/libmacp.a "lib/libmacp.so.$version" "lib/$soname" lib/libmacp.so \
         lib/pkgconfig/macp.pc lib/pkgconfig/macp-static.pc \
         lib/cmake/macp/macpConfig.cmake lib/cmake/macp/macpConfigVersion.cmake; do
  grep -qxF "$name/$f" <<<"$listing" || fail "the archive lacks $name/$f"
done
if grep -q install-manifest <<<"$listing"; then fail "the archive holds an install manifest"; fi
echo "archive $name.tar.gz: checksum and contents ok"

step "release archive on Debian stable (scripts/debian-root.sh)"
work=$tmp/stable
mkdir -p "$work"
cp "$archive" examples/decision.c examples/agent.h "$work/"
cat >"$work/build-and-run.sh" <<EOF
set -eu
. /etc/os-release
echo "inside: \$PRETTY_NAME, \$(ldd --version | head -n 1)"
tar -xzf $name.tar.gz
export PKG_CONFIG_PATH=\$PWD/$name/lib/pkgconfig
# The .pc files find the prefix from their own place (lib/pkgconfig/../..).
libdir=\$(cd "\$(pkg-config --variable=libdir macp)" && pwd)
cc -std=c11 -Wall -Wextra -Werror decision.c \$(pkg-config --cflags --libs macp) -Wl,-rpath,"\$libdir" -o decision-shared
cc -std=c11 -Wall -Wextra -Werror decision.c \$(pkg-config --static --cflags --libs macp-static) -o decision-static
ldd ./decision-shared >ldd.out
grep -F "$soname => \$PWD/$name/lib/$soname" ldd.out
./decision-shared
./decision-static
EOF
if ! scripts/debian-root.sh path stable >"$tmp/root.log" 2>&1; then
  cat "$tmp/root.log" >&2
  fail "cannot make the Debian stable root (scripts/debian-root.sh path stable failed, above)"
fi
if ! out=$(scripts/with-runtime.sh scripts/debian-root.sh run stable -b "$work:/build" -w /build -e MACP_TARGET \
             -- sh build-and-run.sh 2>&1); then
  echo "$out" >&2; fail "the archive's Decision on Debian stable failed"
fi
grep -m1 '^inside:' <<<"$out"
n=$(grep -ciE 'session .*: resolved' <<<"$out" || true)
[ "$n" = 2 ] || { echo "$out" >&2; fail "expected two RESOLVED Decisions on Debian stable, got $n"; }
echo "archive on Debian stable: shared and static builds RESOLVED"
echo "== install tests passed"
