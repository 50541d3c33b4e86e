//! Generates the tonic client of `macp.v1.MACPRuntimeService` from the pinned
//! `macp-proto` schema, plus the server trait used only by the test suite's
//! fault-injecting proxy (kept in its own directory so the library links no
//! server code). Message types are not generated here: `extern_path` points the
//! `macp.v1` package at the prost types `macp-pb` ships, so every message is
//! defined exactly once.

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
    Ok(())
}
