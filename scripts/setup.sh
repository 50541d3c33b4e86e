#!/usr/bin/env bash
# Install what libmacp needs to build, test and run its demo on a Debian
# machine, skipping whatever is already present:
#   protoc, C and C++ compilers, valgrind, python3, Go (Debian packages), a Rust
#   toolchain (must already exist: rustup), and the pinned reference runtime
#   macp-runtime from crates.io; and a virtualenv .venv with the pinned Python
#   SDK macp-sdk-python (the second client of the interop tests).
set -euo pipefail

MACP_RUNTIME_VERSION=0.13.0
MACP_SDK_PYTHON_VERSION=0.22.0

need_apt=()
command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v c++ >/dev/null || need_apt+=(g++)
command -v clang++ >/dev/null || need_apt+=(clang)
command -v make >/dev/null || need_apt+=(make)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v go >/dev/null || need_apt+=(golang-go)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: a Rust toolchain (cargo) is required: https://rustup.rs" >&2; exit 1; }

# The list is read whole before it is searched (pipefail and grep -q race).
installed="$(cargo install --list)"
if ! grep -qx "macp-runtime v$MACP_RUNTIME_VERSION:" <<<"$installed"; then
  echo "setup: installing macp-runtime $MACP_RUNTIME_VERSION (a few minutes, once)"
  # Pin the version, not the lock: the crate's lockfile names a dependency
  # version the registry no longer serves.
  cargo install --quiet macp-runtime --version "=$MACP_RUNTIME_VERSION" --bin macp-runtime
fi

# Fuzzing (fuzz/, run by scripts/test.sh) needs a nightly toolchain and
# cargo-fuzz; without nightly it is skipped, so cargo-fuzz is not installed.
if rustup run nightly cargo --version >/dev/null 2>&1 && ! grep -q '^cargo-fuzz ' <<<"$installed"; then
  echo "setup: installing cargo-fuzz (nightly toolchain present; once)"
  cargo install --quiet --locked cargo-fuzz
fi

venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('macp-sdk-python') != '$MACP_SDK_PYTHON_VERSION')" 2>/dev/null; then
  echo "setup: creating .venv with macp-sdk-python $MACP_SDK_PYTHON_VERSION"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "macp-sdk-python==$MACP_SDK_PYTHON_VERSION"
fi
echo "setup: ready"
