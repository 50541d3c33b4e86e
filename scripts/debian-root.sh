#!/usr/bin/env bash
# Make once, cache and use Debian roots for toolchains a build machine may
# lack: Swift (Debian stable's swiftlang), a Windows cross toolchain
# (Debian unstable's rustc + rust-src, mingw-w64 and Wine) and, from the same
# rustc + rust-src and gcc's libtsan, a ThreadSanitizer build.
#
#   scripts/debian-root.sh path SUITE
#       print the root's directory, making it first if it is not cached
#   scripts/debian-root.sh run SUITE [-b HOST_DIR[:DIR_IN_ROOT]]... [-w DIR]
#                                    [-e NAME[=VALUE]]... -- COMMAND [ARGS...]
#       run COMMAND inside the root (chroot) with /proc mounted and each
#       HOST_DIR bind-mounted (at the same path when DIR_IN_ROOT is not
#       given), working directory DIR, and a clean environment plus each -e
#
# SUITE is one of:
#   stable    swiftlang 6.0.3, gcc, pkg-config, make: the Swift package's tests
#             and the release archive on another distribution
#   unstable  rustc, cargo, rust-src, mingw-w64, Wine, protoc: macp.dll
#             (scripts/windows.sh) and the ThreadSanitizer build of the C
#             ABI tests (scripts/sanitize.sh thread)
#
# Roots are cached in $MACP_DEBIAN_ROOTS (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/debian-roots), outside any checkout,
# one per suite and package list, and reused by every later run. A root is
# made in a temporary directory and moved into place only when complete, so a
# failed attempt is never reused. Packages come from the mirror the machine's
# apt sources name (override with MACP_DEBIAN_MIRROR).
#
# Mounts are made in a private mount namespace (unshare), so they end with
# the command on every exit path, even SIGKILL, and are never visible from
# outside it: deleting a cached root can never follow a bind mount into the
# checkout. Failing to make a root is an error, never a silent skip.
set -euo pipefail

die() { echo "debian-root: $*" >&2; exit 1; }

suite_packages() {
  case "$1" in
    stable) echo "swiftlang,libc6-dev,gcc,g++,make,pkg-config,ca-certificates" ;;
    unstable) echo "rustc,cargo,rust-src,gcc-mingw-w64-x86-64,g++-mingw-w64-x86-64,wine64,wine,ca-certificates,protobuf-compiler,zip" ;;
    *) die "unknown suite '$1' (stable or unstable)" ;;
  esac
}

mirror() {
  if [ -n "${MACP_DEBIAN_MIRROR:-}" ]; then echo "$MACP_DEBIAN_MIRROR"; return; fi
  local m=""
  # deb822 sources first, then one-line sources; the first Debian archive
  # (not the security archive) wins.
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
        | grep -v -e security -e nodesource -e google | head -n 1 || true)
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
          | grep -v security | head -n 1 || true)
  fi
  [ -n "$m" ] || die "no Debian mirror in the apt sources; set MACP_DEBIAN_MIRROR"
  echo "$m"
}

cache_dir() { echo "${MACP_DEBIAN_ROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/libmacp/debian-roots}"; }

root_dir() {
  local suite=$1 key
  key=$(printf '%s %s' "$suite" "$(suite_packages "$suite")" | sha256sum | cut -c1-12)
  echo "$(cache_dir)/$suite-$key"
}

make_root() {
  local suite=$1 dir tmp pkgs opts=()
  dir=$(root_dir "$suite")
  [ -f "$dir/.complete" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "making a Debian root needs root (chroot, mounts)"
  mkdir -p "$(cache_dir)"
  exec 9>"$(cache_dir)/$suite.lock"
  flock 9
  if [ -f "$dir/.complete" ]; then exec 9>&-; return 0; fi
  if ! command -v mmdebstrap >/dev/null; then
    echo "debian-root: installing mmdebstrap" >&2
    apt-get update -qq >&2 || die "apt-get update failed; cannot install mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null \
      || die "cannot install mmdebstrap"
  fi
  pkgs=$(suite_packages "$suite")
  # Unstable's Release file may be past its Valid-Until date on a mirror
  # snapshot; the archive's signature is still checked.
  [ "$suite" = unstable ] && opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
  tmp=$(mktemp -d "$(cache_dir)/.tmp-$suite-XXXXXX")
  echo "debian-root: making the Debian $suite root (packages: $pkgs); once per machine" >&2
  if ! mmdebstrap --quiet --variant=apt "${opts[@]}" --include="$pkgs" \
         "$suite" "$tmp" "$(mirror)" >&2; then
    rm -rf --one-file-system "$tmp"
    die "mmdebstrap could not make the Debian $suite root from $(mirror)"
  fi
  touch "$tmp/.complete"
  if [ -e "$dir" ]; then rm -rf --one-file-system "$dir"; fi
  mv "$tmp" "$dir"
  exec 9>&-
}

cmd_run() {
  local suite=$1; shift
  local binds=() workdir=/ envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
                                   HOME=/root LANG=C.UTF-8)
  while [ $# -gt 0 ]; do
    case "$1" in
      -b) binds+=("$2"); shift 2 ;;
      -w) workdir=$2; shift 2 ;;
      -e) if [[ "$2" == *=* ]]; then envs+=("$2"); else envs+=("$2=${!2:-}"); fi; shift 2 ;;
      --) shift; break ;;
      *) die "run: unexpected '$1' (options: -b, -w, -e, then -- COMMAND)" ;;
    esac
  done
  [ $# -gt 0 ] || die "run: no command"
  make_root "$suite"
  local dir; dir=$(root_dir "$suite")
  # The host's CA bundle (registries may sit behind a local CA) and resolver.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$dir/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  fi
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  local mounts="mount -t proc proc \"\$ROOT/proc\""
  local b src dst
  for b in "${binds[@]}"; do
    src=${b%%:*}; dst=${b#*:}; [ "$b" = "$src" ] && dst=$src
    [ -d "$src" ] || die "run: bind source $src is not a directory"
    src=$(cd "$src" && pwd)
    mounts+=" && mkdir -p \"\$ROOT$dst\" && mount --bind \"$src\" \"\$ROOT$dst\""
  done
  ROOT=$dir exec unshare --mount --propagation private -- bash -c \
    "set -e; $mounts; exec chroot \"\$ROOT\" env -i $(printf '%q ' "${envs[@]}") sh -c 'cd \"\$0\" && exec \"\$@\"' $(printf '%q ' "$workdir" "$@")"
}

[ $# -ge 2 ] || die "usage: $0 path SUITE | run SUITE [options] -- COMMAND"
case "$1" in
  path) suite_packages "$2" >/dev/null; make_root "$2"; root_dir "$2" ;;
  run) shift; cmd_run "$@" ;;
  *) die "unknown command '$1' (path or run)" ;;
esac
