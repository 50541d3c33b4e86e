//go:build !macp_shared

package macp

// By default the package links the static library, so a Go binary needs no
// libmacp at run time. cgo finds it through pkg-config (macp-static.pc,
// which names libmacp.a and the system libraries it needs): install libmacp
// (scripts/install.sh) or unpack a release archive and put its
// lib/pkgconfig on PKG_CONFIG_PATH. Inside this repository,
// `export PKG_CONFIG_PATH=$(scripts/install.sh --build-tree)` after
// `cargo build --release` points it at the build tree.

/*
#cgo pkg-config: macp-static
*/
import "C"
