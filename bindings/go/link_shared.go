//go:build macp_shared

package macp

// With `-tags macp_shared` the package links the shared library
// (libmacp.so.ABI, libmacp.ABI.dylib), found through pkg-config (macp.pc),
// like the static default. A binary then needs the library at run time:
// installed in a directory the loader searches, or found through an rpath
// (the build tree's macp.pc sets one; for another prefix use
// CGO_LDFLAGS="-Wl,-rpath,$(pkg-config --variable=libdir macp)") or
// LD_LIBRARY_PATH.

/*
#cgo pkg-config: macp
*/
import "C"
