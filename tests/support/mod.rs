//! Test support: a real `macp-runtime` process on a free loopback port.
#![allow(dead_code)]

pub mod proxy;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `macp-runtime` child process, killed when dropped.
pub struct Runtime {
    child: Child,
    pub addr: SocketAddr,
}

/// The runtime binary: `$MACP_RUNTIME_BIN`, else `macp-runtime` from
/// `$CARGO_HOME/bin` or `PATH`.
pub fn runtime_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("MACP_RUNTIME_BIN") {
        return PathBuf::from(p);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        let p = home.join("bin/macp-runtime");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("macp-runtime")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

impl Runtime {
    /// Start a memory-only, insecure runtime with raised rate limits.
    pub fn start() -> Runtime {
        Runtime::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Runtime {
        for _ in 0..5 {
            let port = free_port();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut cmd = Command::new(runtime_bin());
            cmd.env("MACP_BIND_ADDR", addr.to_string())
                .env("MACP_ALLOW_INSECURE", "1")
                .env("MACP_MEMORY_ONLY", "1")
                .env("MACP_MESSAGE_LIMIT_PER_MINUTE", "1000000")
                .env("MACP_SESSION_START_LIMIT_PER_MINUTE", "1000000")
                .env("RUST_LOG", "error")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (k, v) in env {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "cannot start {:?}: {e} (run scripts/setup.sh)",
                    runtime_bin()
                )
            });
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: port taken, try another
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Runtime { child, addr };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("macp-runtime did not start listening");
    }

    /// `host:port` of the runtime.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
