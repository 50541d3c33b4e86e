//! Generates the tonic client of `macp.v1.MACPRuntimeService` from the pinned
//! `macp-proto` schema, plus the server trait used only by the test suite's
//! fault-injecting proxy (kept in its own directory so the library links no
//! server code). Message types are not generated here: `extern_path` points the
//! `macp.v1` package at the prost types `macp-pb` ships, so every message is
//! defined exactly once.
//!
//! It also writes a descriptor set of every `.proto` file the crate ships
//! (core and modes), which the library embeds to encode and decode payloads
//! given as JSON by their type name.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = std::env::var("DEP_MACP_PROTO_PROTO_DIR")
        .map_err(|_| "macp-proto did not export its proto directory (DEP_MACP_PROTO_PROTO_DIR)")?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    for (dir, client, server) in [("client", true, false), ("server", false, true)] {
        let out_dir = out.join(dir);
        std::fs::create_dir_all(&out_dir)?;
        tonic_prost_build::configure()
            .build_client(client)
            .build_server(server)
            .build_transport(client)
            .generate_default_stubs(server)
            .out_dir(&out_dir)
            .extern_path(".macp.v1", "::macp_pb::pb")
            .compile_protos(&["macp/v1/core.proto"], &[&proto_dir])?;
    }

    let mut protos = Vec::new();
    collect_protos(&PathBuf::from(&proto_dir), &mut protos)?;
    protos.sort();
    let protoc = std::env::var("PROTOC").unwrap_or_else(|_| "protoc".into());
    let status = std::process::Command::new(&protoc)
        .arg("--include_imports")
        .arg(format!(
            "--descriptor_set_out={}",
            out.join("macp_descriptors.bin").display()
        ))
        .arg(format!("-I{proto_dir}"))
        .args(&protos)
        .status()
        .map_err(|e| format!("running {protoc}: {e}"))?;
    if !status.success() {
        return Err(format!("{protoc} failed to build the descriptor set: {status}").into());
    }
    println!("cargo:rerun-if-env-changed=DEP_MACP_PROTO_PROTO_DIR");
    shared_library_name();
    Ok(())
}

/// Names the shared library by its ABI: while the version is 0.x every minor
/// release may break the ABI, so the ABI is `0.MINOR` (libmacp.so.0.1, the
/// same rule as Cargo's semver and cargo-c); from 1.0 it is the major
/// (libmacp.so.1). scripts/install.sh installs the real file
/// (libmacp.so.0.1.0) with the `libmacp.so.0.1` and `libmacp.so` links.
fn shared_library_name() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match os.as_str() {
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmacp.so.{abi}");
        }
        "macos" | "ios" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libmacp.{abi}.dylib");
        }
        _ => {}
    }
}

fn collect_protos(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
