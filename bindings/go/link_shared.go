//go:build macp_shared

package macp

// With `-tags macp_shared` the package links the shared library
// (libmacp.so, libmacp.dylib) from target/release, and records that
// directory as the binary's run-time search path.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lmacp -Wl,-rpath,${SRCDIR}/../../target/release
*/
import "C"
