#!/usr/bin/env bash
# Build libmacp (release) and install it, or uninstall it.
#
#   scripts/install.sh [--prefix DIR] [--destdir DIR] [--no-build] [--no-strip]
#   scripts/install.sh --uninstall [--prefix DIR] [--destdir DIR]
#   scripts/install.sh --build-tree
#
# PREFIX (default /usr/local) and DESTDIR (default empty, a staging root
# prepended to every path, as for `make install`) may also be given in the
# environment. Installed:
#
#   lib/libmacp.so.X.Y.Z, lib/libmacp.so.ABI -> it, lib/libmacp.so -> that
#       (macOS: libmacp.X.Y.Z.dylib, libmacp.ABI.dylib, libmacp.dylib),
#       where ABI is 0.MINOR while the version is 0.x, then MAJOR (build.rs)
#   lib/libmacp.a
#   include/macp.h (and include/macp.hpp when the tree has it)
#   lib/pkgconfig/macp.pc, lib/pkgconfig/macp-static.pc
#   lib/cmake/macp/macpConfig.cmake, macpConfigVersion.cmake
#   share/libmacp/install-manifest.txt, every installed path (itself too);
#       --uninstall removes exactly the paths it lists
#
# The installed libraries are stripped as distributions strip them ($STRIP
# or strip): the shared library of everything its dynamic symbols do not
# need, the static one of debug information and LLVM bitcode (README);
# --no-strip installs them with their debug information. On Linux the
# static library is then prelinked ($LD, $OBJCOPY, $AR and $NM, or ld -r,
# objcopy, ar and nm) into one object that holds only the code the C ABI
# reaches and defines no global symbol but the macp_ ones: a program
# linked statically with the linker's default flags is 8.9 MB instead of
# 12.6 (README, "Sizes and the release profile"), and cannot clash with
# another Rust static library. macOS and the BSDs install the archive as
# built.
# --no-build installs what is already in ${CARGO_TARGET_DIR:-target}/release.
# --relocatable (for scripts/release.sh) writes .pc files that find the
# prefix from their own location and no manifest.
#
# --build-tree installs nothing: it writes macp.pc and macp-static.pc for the
# uninstalled build tree (the library in target/release, the header in
# include/; macp.pc also sets the rpath to target/release) into
# target/pkgconfig, adds the target/release/libmacp.so.ABI link a program
# linked with -lmacp loads at run time, and prints the directory, for
#   export PKG_CONFIG_PATH=$(scripts/install.sh --build-tree)
# It builds nothing either (run cargo build --release first).
set -euo pipefail

die() { echo "install: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
build=1 uninstall=0 relocatable=0 build_tree=0 strip=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --no-strip) strip=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --relocatable) relocatable=1; shift ;;
    --build-tree) build_tree=1; build=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$prefix" in /*) ;; *) die "PREFIX must be an absolute path, not '$prefix'" ;; esac
prefix=${prefix%/}
[ -n "$prefix" ] || die "PREFIX must not be /"
dest="$destdir$prefix"
manifest_rel=share/libmacp/install-manifest.txt
symbols=$root/include/macp.symbols

if [ "$uninstall" = 1 ]; then
  manifest="$dest/$manifest_rel"
  [ -f "$manifest" ] || die "no manifest at $manifest: nothing installed there"
  while IFS= read -r path; do
    [ -n "$path" ] || continue
    case "$path" in "$prefix"/*) ;; *) die "manifest entry outside $prefix: $path" ;; esac
    case "$path" in *..*) die "manifest entry with '..': $path" ;; esac
    if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then
      rm -f -- "$destdir$path"
      echo "removed $destdir$path"
    fi
  done <"$manifest"
  for d in lib/cmake/macp share/libmacp; do
    rmdir -- "$dest/$d" 2>/dev/null || true
  done
  exit 0
fi

version=$(sed -n 's/^version = "\([^"]*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" = 0 ]; then abi="0.$minor"; else abi=$major; fi

os=$(uname -s)
case "$os" in
  Linux|*BSD|DragonFly)
    shared_built=libmacp.so
    shared_real=libmacp.so.$version soname=libmacp.so.$abi shared_dev=libmacp.so
    libs_private="-lpthread -ldl -lm" cmake_libs_private="m" ;;
  Darwin)
    shared_built=libmacp.dylib
    shared_real=libmacp.$version.dylib soname=libmacp.$abi.dylib shared_dev=libmacp.dylib
    libs_private="-framework Security -framework CoreFoundation -framework SystemConfiguration -lm"
    cmake_libs_private="-framework Security;-framework CoreFoundation;-framework SystemConfiguration;m" ;;
  *) die "installing on $os is not supported (Linux, the BSDs and macOS are)" ;;
esac

target_dir=${CARGO_TARGET_DIR:-$root/target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
if [ "$build_tree" = 1 ]; then
  out="$target_dir/release"
  [ -f "$out/$shared_built" ] || die "$out/$shared_built is missing; build it with cargo build --release"
  mkdir -p "$target_dir/pkgconfig"
  ln -sfn "$shared_built" "$out/$soname"
  for pc in macp macp-static; do
    sed -e "s|@LIBDIR@|$out|g" -e "s|@INCLUDEDIR@|$root/include|g" -e "s|@RPATH@|-Wl,-rpath,\${libdir} |g" \
        -e "s|@PREFIX@|$root|g" -e "s|@VERSION@|$version|g" -e "s|@LIBS_PRIVATE@|$libs_private|g" \
        "$root/packaging/$pc.pc.in" >"$target_dir/pkgconfig/$pc.pc"
  done
  echo "$target_dir/pkgconfig"
  exit 0
fi
if [ "$build" = 1 ]; then
  echo "install: building libmacp $version (release)"
  (cd "$root" && cargo build --release --lib --quiet)
fi
out="$target_dir/release"
for f in "$shared_built" libmacp.a; do
  [ -f "$out/$f" ] || die "$out/$f is missing; build it with cargo build --release"
done

# The shared library must carry the name the links below point at (build.rs).
if [ "$os" = Darwin ]; then
  idname=$(otool -D "$out/$shared_built" | sed -n 2p)
  [ "$idname" = "@rpath/$soname" ] || die "$shared_built has install name '$idname', expected @rpath/$soname"
else
  dyn=$(readelf -d "$out/$shared_built")
  grep -q "(SONAME).*\[$soname\]" <<<"$dyn" \
    || die "$shared_built has no SONAME $soname (readelf -d: $(grep SONAME <<<"$dyn" || echo none))"
fi

if [ "$relocatable" = 1 ]; then pc_prefix='${pcfiledir}/../..'; else pc_prefix=$prefix; fi
sizeof_void_p=$(getconf LONG_BIT 2>/dev/null || echo 64)
sizeof_void_p=$((sizeof_void_p / 8))
subst() {
  sed -e "s|@PREFIX@|$pc_prefix|g" -e "s|@LIBDIR@|\${prefix}/lib|g" -e "s|@INCLUDEDIR@|\${prefix}/include|g" \
      -e "s|@RPATH@||g" -e "s|@VERSION@|$version|g" -e "s|@ABI@|$abi|g" \
      -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" \
      -e "s|@SHARED_REAL@|$shared_real|g" -e "s|@SONAME@|$soname|g" \
      -e "s|@LIBS_PRIVATE@|$libs_private|g" -e "s|@CMAKE_LIBS_PRIVATE@|$cmake_libs_private|g" \
      -e "s|@SIZEOF_VOID_P@|$sizeof_void_p|g" "$1"
}

installed=()
put() { # put MODE SOURCE RELATIVE_DEST
  install -D -m "$1" "$2" "$dest/$3"
  installed+=("$3")
}
link() { # link TARGET RELATIVE_DEST
  mkdir -p "$(dirname "$dest/$2")"
  ln -sfn "$1" "$dest/$2"
  installed+=("$2")
}
generate() { # generate TEMPLATE RELATIVE_DEST
  mkdir -p "$(dirname "$dest/$2")"
  subst "$root/packaging/$1" >"$dest/$2"
  chmod 644 "$dest/$2"
  installed+=("$2")
}

# prelink_static ARCHIVE rewrites the static library Cargo writes (the Rust
# code, the standard library and the dependencies' C objects, members a
# linker takes whole) as one relocatable object (ld -r) holding only the
# sections the C ABI's functions reach (--gc-sections, rooted at each
# symbol of include/macp.symbols): a program linked with default flags gets
# what -Wl,--gc-sections would leave it. Every other global symbol is made
# local, so the object defines nothing but the macp_ functions: no clash
# with another Rust static library's std or rust_eh_personality, or with the
# program's own symbols. Its section groups (COMDAT) are dissolved too: the
# linker would otherwise keep one library's copy of a group, such as
# DW.ref.rust_eh_personality, and the other library's code, whose local
# symbol then points into a discarded section, would crash on its first
# panic. The bitcode of the objects (.llvmbc), concatenated by ld -r, is
# no longer valid and is dropped. What the object needs from the system
# (libc, libpthread, libdl, libm and the unwinder) stays undefined.
prelink_static() {
  local a=$1 work sym roots=()
  while IFS= read -r sym; do [ -z "$sym" ] || roots+=(-u "$sym"); done <"$symbols"
  [ "${#roots[@]}" -gt 0 ] || die "$symbols lists no symbols"
  work=$(mktemp -d)
  "${LD:-ld}" -r --gc-sections "${roots[@]}" -o "$work/macp.o" "$a" \
    || { rm -rf "$work"; die "ld -r failed on libmacp.a"; }
  "${OBJCOPY:-objcopy}" --keep-global-symbols="$symbols" --remove-section=.group \
      --remove-section=.llvmbc --remove-section=.llvmcmd "$work/macp.o" \
    || { rm -rf "$work"; die "objcopy failed on the prelinked libmacp.a"; }
  rm -f "$a"
  "${AR:-ar}" rcsD "$a" "$work/macp.o" || { rm -rf "$work"; die "ar failed on libmacp.a"; }
  rm -rf "$work"
  # Each listed symbol defined, and nothing else exported: a name missing
  # from the library would otherwise stay an undefined root, and fail only
  # when a program calls it.
  local defined differ
  defined=$("${NM:-nm}" --defined-only --extern-only "$a") || die "nm failed on the prelinked libmacp.a"
  differ=$(LC_ALL=C comm -3 "$symbols" <(awk 'NF == 3 { print $3 }' <<<"$defined" | LC_ALL=C sort -u))
  [ -n "$differ" ] || return 0
  echo "$differ" >&2
  die "the prelinked libmacp.a does not define exactly the symbols of $symbols (above: the listed ones it lacks, and indented, those it has that are not listed)"
}

put 755 "$out/$shared_built" "lib/$shared_real"
link "$shared_real" "lib/$soname"
link "$soname" "lib/$shared_dev"
put 644 "$out/libmacp.a" lib/libmacp.a
if [ "$strip" = 1 ]; then
  # The static library's objects also carry LLVM bitcode (.llvmbc), which
  # no C link uses and which makes binutils' LTO plugin fail to read them.
  if [ "$os" = Darwin ]; then
    so_strip=(-x) a_strip=(-S)
  else
    so_strip=(--strip-unneeded) a_strip=(--strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd)
  fi
  "${STRIP:-strip}" "${so_strip[@]}" "$dest/lib/$shared_real" || die "strip failed on $shared_real"
  "${STRIP:-strip}" "${a_strip[@]}" "$dest/lib/libmacp.a" || die "strip failed on libmacp.a"
fi
if [ "$os" = Linux ]; then prelink_static "$dest/lib/libmacp.a"; fi
put 644 "$root/include/macp.h" include/macp.h
if [ -f "$root/include/macp.hpp" ]; then put 644 "$root/include/macp.hpp" include/macp.hpp; fi
generate macp.pc.in lib/pkgconfig/macp.pc
generate macp-static.pc.in lib/pkgconfig/macp-static.pc
generate macpConfig.cmake.in lib/cmake/macp/macpConfig.cmake
generate macpConfigVersion.cmake.in lib/cmake/macp/macpConfigVersion.cmake

if [ "$relocatable" = 0 ]; then
  installed+=("$manifest_rel")
  mkdir -p "$(dirname "$dest/$manifest_rel")"
  printf "$prefix/%s\n" "${installed[@]}" >"$dest/$manifest_rel"
fi
echo "install: libmacp $version installed into $dest (${#installed[@]} files)"
