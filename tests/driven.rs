//! Who drives the runtime's I/O (`src/rt.rs`): blocking calls on their own
//! thread when nothing else needs it, the I/O thread while there is
//! background work, and application callbacks only ever on libmacp's
//! threads.
//!
//! One test, in steps, in a binary of its own: the first steps need a
//! process in which no background work has started yet.

mod support;

use std::ffi::{c_void, CStr, CString};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ptr::{null, null_mut};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use macp::ffi::*;
use macp::Status;
use prost::Message;
use support::Runtime;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn check(st: Status, err: *mut macp_error, what: &str) {
    if st != Status::Ok {
        let msg = unsafe { CStr::from_ptr(macp_error_message(err)) }.to_string_lossy();
        panic!("{what}: {st:?}: {msg}");
    }
}

fn client(target: &str) -> *mut macp_client {
    let (mut opts, mut err) = (null_mut(), null_mut());
    let (t, id) = (c(target), c("agent"));
    unsafe {
        check(macp_client_options_new(&mut opts, &mut err), err, "options");
        check(
            macp_client_options_set_target(opts, t.as_ptr(), &mut err),
            err,
            "target",
        );
        check(
            macp_client_options_set_bearer_token(opts, id.as_ptr(), &mut err),
            err,
            "token",
        );
        check(
            macp_client_options_set_allow_insecure(opts, true, &mut err),
            err,
            "insecure",
        );
        let mut cl = null_mut();
        let st = macp_client_new(opts, &mut cl, null(), &mut err);
        macp_client_options_free(opts);
        check(st, err, "connect");
        cl
    }
}

fn session(cl: *mut macp_client) -> *mut macp_session {
    let (mut so, mut s, mut err) = (null_mut(), null_mut(), null_mut());
    let (p, mode) = (c("agent"), c(macp::modes::DECISION));
    unsafe {
        check(
            macp_start_options_new(&mut so, &mut err),
            err,
            "start options",
        );
        check(
            macp_start_options_add_participant(so, p.as_ptr(), &mut err),
            err,
            "participant",
        );
        check(
            macp_start_options_set_ttl_ms(so, 600_000, &mut err),
            err,
            "ttl",
        );
        let st = macp_session_start(cl, mode.as_ptr(), so, &mut s, null_mut(), null(), &mut err);
        macp_start_options_free(so);
        check(st, err, "start");
    }
    s
}

fn propose(s: *const macp_session, id: &str) {
    let (pid, opt) = (c(id), c("x"));
    let mut err = null_mut();
    let st = unsafe {
        macp_decision_propose(
            s,
            pid.as_ptr(),
            opt.as_ptr(),
            null(),
            null(),
            0,
            null_mut(),
            null(),
            &mut err,
        )
    };
    check(st, err, "propose");
}

/// Names of this process's threads.
fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

/// A TCP forwarder for one connection; the receiver gets `()` when the
/// client's side of it reaches end of stream (the client closed it).
fn forwarder(upstream: &str) -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_string();
    let (closed, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut down, _) = listener.accept().unwrap();
        let mut up = TcpStream::connect(&upstream).unwrap();
        let (mut down2, mut up2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n @ 1..) = up2.read(&mut buf) {
                if down2.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        let mut buf = [0u8; 16384];
        while let Ok(n @ 1..) = down.read(&mut buf) {
            if up.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = up.shutdown(Shutdown::Both);
        let _ = closed.send(());
    });
    (addr, rx)
}

type Seen = (Mutex<Vec<(Status, String)>>, Condvar);

unsafe extern "C" fn sent(
    status: Status,
    _ack: *const macp_ack,
    _error: *const macp_error,
    user_data: *mut c_void,
) {
    let seen = unsafe { &*(user_data as *const Seen) };
    let name = std::thread::current().name().unwrap_or("").to_string();
    seen.0.lock().unwrap().push((status, name));
    seen.1.notify_all();
}

#[test]
fn blocking_calls_drive_their_own_io_and_callbacks_stay_on_library_threads() {
    let rt = Runtime::start();

    // 1. Blocking calls alone: no I/O thread, the caller does the I/O.
    let (via, closed) = forwarder(&rt.target());
    let cl = client(&via);
    let s = session(cl);
    for i in 0..20 {
        propose(s, &format!("p{i}"));
    }
    assert!(
        !threads().iter().any(|n| n == "macp-io"),
        "blocking calls started the I/O thread: {:?}",
        threads()
    );

    // 2. Freeing the client closes its connection at once, though no call
    //    drives the runtime afterwards.
    macp_session_free(s);
    macp_client_free(cl);
    closed
        .recv_timeout(Duration::from_secs(20))
        .expect("the freed client's connection was not closed");

    // 3. Asynchronous sends while other threads make blocking calls: their
    //    callbacks run on the I/O thread, never on a thread that is blocked in
    //    a call of its own (it could hold a lock the callback takes).
    const ASYNC: usize = 300;
    let cl = client(&rt.target());
    let s = session(cl);
    let seen: Arc<Seen> = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let shared = (cl as usize, s as usize);
    let blockers: Vec<_> = (0..2)
        .map(|t| {
            std::thread::Builder::new()
                .name(format!("blocker-{t}"))
                .spawn(move || {
                    let (cl, _) = shared;
                    let s = session(cl as *mut macp_client);
                    for i in 0..150 {
                        propose(s, &format!("b{t}-{i}"));
                    }
                    macp_session_free(s);
                })
                .unwrap()
        })
        .collect();
    let mt = c("Proposal");
    for i in 0..ASYNC {
        let payload = macp_pb::decision_pb::ProposalPayload {
            proposal_id: format!("a{i}"),
            option: "x".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let mut err = null_mut();
        let st = unsafe {
            macp_session_send_async(
                s,
                mt.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                Some(sent),
                Arc::as_ptr(&seen) as *mut c_void,
                null(),
                &mut err,
            )
        };
        check(st, err, "send_async");
    }
    for b in blockers {
        b.join().unwrap();
    }
    let (lock, cv) = &*seen;
    let (done, timeout) = cv
        .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(60), |v| {
            v.len() < ASYNC
        })
        .unwrap();
    assert!(!timeout.timed_out(), "{} of {ASYNC} callbacks", done.len());
    for (status, thread) in done.iter() {
        assert_eq!(*status, Status::Ok);
        assert_eq!(thread, "macp-io", "a send callback ran on another thread");
    }
    drop(done);
    macp_session_free(s);
    macp_client_free(cl);
}
