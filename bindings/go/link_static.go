//go:build !macp_shared

package macp

// By default the package links the static library, so a Go binary needs no
// libmacp at run time. Build it first with `cargo build --release` in the
// repository root.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo linux LDFLAGS: ${SRCDIR}/../../target/release/libmacp.a -lm -ldl -lpthread
#cgo darwin LDFLAGS: ${SRCDIR}/../../target/release/libmacp.a -lm -framework Security -framework CoreFoundation -framework SystemConfiguration
*/
import "C"
