//! Test support: a real `macp-runtime` process on a free loopback port, and
//! the specification's vectors.
#![allow(dead_code)]

pub mod proxy;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A `macp-runtime` child process, killed when dropped.
pub struct Runtime {
    child: Child,
    pub addr: SocketAddr,
    env: Vec<(String, String)>,
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

/// A loopback listener on a port that no other caller in this process was
/// given (by this function or [`free_port`]).
///
/// The kernel may hand a port that was just released to the next bind of
/// any test running in parallel. A runtime started on it would then fail to
/// bind, while its readiness probe reached the other test's listener.
pub fn unique_listener() -> TcpListener {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("no free loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        if GIVEN
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(port)
        {
            return listener;
        }
    }
}

/// A free loopback port that no other caller in this process was given:
/// for a runtime to bind, or for nothing to listen on.
pub fn free_port() -> u16 {
    unique_listener()
        .local_addr()
        .expect("a bound address")
        .port()
}

impl Runtime {
    /// Start a memory-only, insecure runtime with raised rate limits.
    pub fn start() -> Runtime {
        Runtime::start_with(&[])
    }

    /// Start a runtime with extra (or overriding) environment settings.
    pub fn start_with(env: &[(&str, &str)]) -> Runtime {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for _ in 0..5 {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            if let Some(child) = spawn(addr, &env) {
                return Runtime { child, addr, env };
            }
        }
        panic!("macp-runtime did not start listening");
    }

    /// Start a runtime that persists sessions to files under `dir`, so they
    /// survive [`Runtime::restart`].
    pub fn start_persistent(dir: &Path) -> Runtime {
        Runtime::start_with(&[
            ("MACP_MEMORY_ONLY", "0"),
            ("MACP_DATA_DIR", dir.to_str().unwrap()),
        ])
    }

    /// Kill the process, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start the runtime again on the same address with the same settings.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(child) = spawn(self.addr, &self.env) {
                self.child = child;
                return;
            }
        }
        panic!("macp-runtime did not restart on {}", self.addr);
    }

    /// `host:port` of the runtime.
    pub fn target(&self) -> String {
        self.addr.to_string()
    }
}

/// Start a runtime on `addr`: `None` if it exits (e.g. the port is taken) or
/// does not serve HTTP/2 within 30 s.
fn spawn(addr: SocketAddr, env: &[(String, String)]) -> Option<Child> {
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
    // Diagnostics: `MACP_TEST_RUNTIME_LOG_DIR` keeps every runtime's log,
    // at info level, in a file named after its address and start time.
    if let Some(dir) = std::env::var_os("MACP_TEST_RUNTIME_LOG_DIR") {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default();
        let path = Path::new(&dir).join(format!("{}-{stamp}.log", addr.port()));
        if let Ok(log) = std::fs::File::create(&path) {
            cmd.env("RUST_LOG", "info").stderr(log);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if !env.iter().any(|(k, _)| k == "MACP_DATA_DIR") {
        // Keep any file a runtime writes out of the working tree.
        cmd.current_dir(std::env::temp_dir());
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot start {:?}: {e} (run scripts/setup.sh)",
            runtime_bin()
        )
    });
    let tls = env.iter().any(|(k, _)| k == "MACP_TLS_CERT_PATH");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        // Ready when the child is still running (a child that lost the port
        // exits) and serves: plaintext HTTP/2 answers a preface; a TLS
        // runtime only accepts the connection.
        let serving = if tls {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        } else {
            serves_http2(&addr)
        };
        if serving && matches!(child.try_wait(), Ok(None)) {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Whether an HTTP/2 server answers on `addr`: the client connection
/// preface and an empty SETTINGS frame get the server's own SETTINGS frame
/// back, which a port that merely accepts connections does not send.
fn serves_http2(addr: &SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]); // SETTINGS, empty
    let mut frame = [0u8; 9];
    s.write_all(&hello).is_ok()
        && s.read_exact(&mut frame).is_ok()
        && frame[3] == 0x4 // SETTINGS
        && frame[4] & 0x1 == 0 // not an ACK: the server's own
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh empty directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "libmacp-{tag}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The specification's vectors: `$MACP_VECTORS_DIR`, default
/// `../shared/vectors` beside the repository.
pub fn vectors_dir() -> PathBuf {
    std::env::var_os("MACP_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors")))
}

/// `(name, parsed JSON)` of every `*.json` file in `dir` but `skip` (its
/// schema), sorted by name; the name is the file's basename without
/// `.json`.
pub fn json_files(dir: &Path, skip: &str) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {dir:?} (set MACP_VECTORS_DIR): {e}"))
    {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if !file.ends_with(".json") || file == skip {
            continue;
        }
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let v = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{file}: not JSON: {e}"));
        out.push((file.trim_end_matches(".json").to_string(), v));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every conformance transcript (`<vectors>/conformance/*.json`), by name.
pub fn transcripts() -> Vec<(String, serde_json::Value)> {
    json_files(&vectors_dir().join("conformance"), "schema.json")
}

/// The text of a `macp_string` the library returned, copied out; the handle
/// is freed. Fails when the handle is NULL, its text is not UTF-8, or
/// `macp_string_len` disagrees with the text `macp_string_ptr` gives.
pub fn take_string(s: *mut macp::ffi::macp_string) -> String {
    assert!(!s.is_null(), "a NULL macp_string");
    let p = macp::ffi::macp_string_ptr(s);
    assert!(!p.is_null(), "macp_string_ptr gave NULL");
    // SAFETY: `macp_string_ptr` gives a NUL-terminated string that lives
    // until `macp_string_free(s)`, below.
    let text = unsafe { std::ffi::CStr::from_ptr(p) }
        .to_str()
        .expect("a macp_string is UTF-8")
        .to_owned();
    assert_eq!(
        macp::ffi::macp_string_len(s),
        text.len(),
        "macp_string_len disagrees with the text of {text:?}"
    );
    macp::ffi::macp_string_free(s);
    text
}

/// The metadata of a live `macp_session_info`, borrowed from it: valid
/// until `macp_session_info_free(info)`.
///
/// # Safety
/// The result must not be used after `info` is freed.
pub unsafe fn info_metadata<'a>(
    info: *const macp::ffi::macp_session_info,
) -> &'a macp::ffi::macp_session_metadata {
    let m = macp::ffi::macp_session_info_metadata(info);
    assert!(!m.is_null(), "a live macp_session_info has metadata");
    &*m
}

/// The metadata of session `index` of a live `macp_session_list`, borrowed
/// from it: valid until `macp_session_list_free(list)`.
///
/// # Safety
/// The result must not be used after `list` is freed.
pub unsafe fn list_at<'a>(
    list: *const macp::ffi::macp_session_list,
    index: usize,
) -> &'a macp::ffi::macp_session_metadata {
    let m = macp::ffi::macp_session_list_at(list, index);
    assert!(!m.is_null(), "no session {index} in the list");
    &*m
}

/// The result a live `macp_receipt_verification` holds, borrowed from it:
/// valid until `macp_receipt_verification_free(v)`.
///
/// # Safety
/// The result must not be used after `v` is freed.
pub unsafe fn verification<'a>(
    v: *const macp::ffi::macp_receipt_verification,
) -> &'a macp::ffi::macp_receipt_verify_result {
    let r = macp::ffi::macp_receipt_verification_result(v);
    assert!(
        !r.is_null(),
        "a live macp_receipt_verification has a result"
    );
    &*r
}
