//! A C host with the default SIGPIPE disposition survives its runtime being
//! killed under load, again and again.
//!
//! `tests/faults/sigpipe_host.c`, linked against the static library, sends
//! large signals from several threads. Each round waits until the runtime
//! has accepted more of them, then kills the runtime (`kill -9`, as a crash)
//! in the middle of that traffic and restarts it on the same port. Writes in
//! flight then fail with `EPIPE`; if any of them raised SIGPIPE, the host
//! dies of it. Whether a kill lands in the middle of a write is a matter of
//! timing, so the test also checks (on Linux) the cause directly: the
//! library never writes a socket with `write` or `writev` (which raise
//! SIGPIPE; it uses `send` with MSG_NOSIGNAL), and its own threads have
//! SIGPIPE blocked.
//!
//! Twice: with the sending threads doing the socket I/O themselves, inside
//! their blocking calls, and with an open watcher, whose background work
//! has the library's I/O thread (`macp-io`) do it.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use support::Runtime;

const KILLS: usize = 6;
const SIGPIPE: u32 = 13;

/// The blocked-signal mask (`SigBlk`) of every thread of `pid` named `name`.
#[cfg(target_os = "linux")]
fn blocked_masks(pid: u32, name: &str) -> Vec<u64> {
    let mut masks = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("read /proc") {
        let dir = task.expect("a task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        if let Some(hex) = status.lines().find_map(|l| l.strip_prefix("SigBlk:")) {
            masks.push(u64::from_str_radix(hex.trim(), 16).expect("a hex mask"));
        }
    }
    masks
}

/// The directory holding the `libmacp.a` this test was built with.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/sigpipe-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .to_path_buf()
}

/// The host program, built once for the tests of this file.
fn build_host() -> PathBuf {
    static HOST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HOST.get_or_init(build_host_once).clone()
}

fn build_host_once() -> PathBuf {
    // `cargo test` builds the library as an rlib only: bring the static
    // library in the same target directory up to date first.
    let profile_dir = library_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--quiet", "--lib", "--target-dir"])
        .arg(profile_dir.parent().expect("target dir"))
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let st = build.status().expect("run cargo build");
    assert!(st.success(), "cargo build --lib failed");
    let lib = profile_dir.join("libmacp.a");
    assert!(lib.exists(), "{} is missing", lib.display());
    let out = library_dir().join("sigpipe_host");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(root.join("tests/faults/sigpipe_host.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(st.success(), "compiling sigpipe_host.c failed");
    out
}

struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Host {
    fn line(&mut self) -> Option<String> {
        let mut s = String::new();
        match self.stdout.read_line(&mut s) {
            Ok(n) if n > 0 => Some(s.trim().to_string()),
            _ => None,
        }
    }

    /// Signals accepted so far, once at least `want` (the host gives up
    /// waiting after 60 s), or `None` when the host is gone.
    fn accepted(&mut self, want: u64) -> Option<u64> {
        let stdin = self.stdin.as_mut()?;
        writeln!(stdin, "{want}").ok()?;
        stdin.flush().ok()?;
        self.line()?.parse().ok()
    }

    /// Fail with how the host died.
    fn died(&mut self, context: &str) -> ! {
        let st = self.child.wait().expect("wait for the host");
        panic!(
            "{context}: the host exited ({st:?}, killed by signal {:?}; SIGPIPE is {SIGPIPE})",
            st.signal()
        );
    }
}

#[test]
fn c_host_survives_runtime_killed_under_load() {
    survives_kills(false);
}

#[test]
fn c_host_survives_runtime_killed_under_load_while_watching() {
    survives_kills(true);
}

fn survives_kills(watch: bool) {
    let host_bin = build_host();
    let mut rt = Runtime::start();
    let mut child = Command::new(&host_bin)
        .arg(rt.target())
        .args(["16", &(512 * 1024).to_string()])
        .args(watch.then_some("watch"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the host");
    let stdin = child.stdin.take();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut host = Host {
        child,
        stdin,
        stdout,
    };
    match host.line() {
        Some(l) if l == "ready" => {}
        _ => host.died("before it was ready"),
    }
    #[cfg(target_os = "linux")]
    {
        // The I/O thread exists once there is background work.
        let io = blocked_masks(host.child.id(), "macp-io");
        assert_eq!(!io.is_empty(), watch, "macp-io threads: {}", io.len());
        for name in ["macp-io", "macp-blocking"] {
            for m in blocked_masks(host.child.id(), name) {
                assert!(
                    m & (1 << (SIGPIPE - 1)) != 0,
                    "a {name} thread does not block SIGPIPE (SigBlk {m:016x})"
                );
            }
        }
    }
    for round in 0..KILLS {
        // Traffic flows again: the runtime accepts new signals.
        let Some(start) = host.accepted(0) else {
            host.died(&format!("round {round}"))
        };
        match host.accepted(start + 4) {
            Some(n) if n >= start + 4 => {}
            Some(n) => panic!("round {round}: {} signals accepted in 60 s", n - start),
            None => host.died(&format!("round {round}")),
        }
        rt.restart(); // kill -9, then start again on the same port
    }
    if host.accepted(0).is_none() {
        host.died("after the last kill");
    }
    drop(host.stdin.take());
    let last = host.line();
    let st = host.child.wait().expect("wait for the host");
    assert!(st.success(), "the host ended with {st:?}");
    // The cause, whatever the timing of the kills: no write of the library
    // could have raised SIGPIPE.
    #[cfg(target_os = "linux")]
    assert_eq!(last.as_deref(), Some("socket writes 0"));
    #[cfg(not(target_os = "linux"))]
    let _ = last;
}
