//! Per-call options through the C ABI, against a real runtime behind the
//! fault-injecting proxy: a cancelled or timed-out send returns at once and
//! names its message id and whether it may have been applied; the same
//! message re-sent with that id is acknowledged as a duplicate, never
//! applied twice; a caller-chosen id reaches every kind of send.

mod support;

use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};

use macp::ffi::*;
use macp::Status;
use support::proxy::{Fault, Proxy};
use support::Runtime;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A failed call's status, message id and delivery (the error freed).
#[derive(Debug)]
struct Failure {
    status: Status,
    message_id: String,
    delivery: i32,
    message: String,
}

fn outcome(st: Status, err: *mut macp_error) -> Result<(), Failure> {
    if st == Status::Ok {
        assert!(err.is_null());
        return Ok(());
    }
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    let f = Failure {
        status: st,
        message_id: text(macp_error_message_id(err)),
        delivery: macp_error_delivery(err),
        message: text(macp_error_message(err)),
    };
    macp_error_free(err);
    Err(f)
}

fn connect(target: &str, identity: &str) -> *mut macp_client {
    let mut opts = null_mut();
    let mut err = null_mut();
    assert_eq!(
        unsafe { macp_client_options_new(&mut opts, &mut err) },
        Status::Ok
    );
    let (t, id) = (c(target), c(identity));
    unsafe {
        assert_eq!(
            macp_client_options_set_target(opts, t.as_ptr(), null_mut()),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_set_bearer_token(opts, id.as_ptr(), null_mut()),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_set_call_timeout_ms(opts, 30_000, null_mut()),
            Status::Ok
        );
    }
    assert_eq!(
        macp_client_options_set_allow_insecure(opts, true, null_mut()),
        Status::Ok
    );
    let mut client = null_mut();
    let st = unsafe { macp_client_new(opts, &mut client, null(), &mut err) };
    macp_client_options_free(opts);
    outcome(st, err).unwrap_or_else(|f| panic!("connect: {}", f.message));
    client
}

/// A decision session `coord` started with `alice` as a participant, as
/// `alice` sees it.
fn session(client: *mut macp_client, alice: *mut macp_client) -> *mut macp_session {
    let mut so = null_mut();
    assert_eq!(
        unsafe { macp_start_options_new(&mut so, null_mut()) },
        Status::Ok
    );
    let p = c("alice");
    unsafe {
        assert_eq!(
            macp_start_options_add_participant(so, p.as_ptr(), null_mut()),
            Status::Ok
        );
        assert_eq!(
            macp_start_options_set_ttl_ms(so, 60_000, null_mut()),
            Status::Ok
        );
    }
    let mode = c(macp::modes::DECISION);
    let (mut s, mut err) = (null_mut(), null_mut());
    let st = unsafe {
        macp_session_start(
            client,
            mode.as_ptr(),
            so,
            &mut s,
            null_mut(),
            null(),
            &mut err,
        )
    };
    macp_start_options_free(so);
    outcome(st, err).unwrap_or_else(|f| panic!("start: {}", f.message));
    let id = c(&unsafe { CStr::from_ptr(macp_session_id(s)) }.to_string_lossy());
    macp_session_free(s);
    let mut mine = null_mut();
    let st = unsafe { macp_session_open(alice, id.as_ptr(), &mut mine, null(), &mut err) };
    outcome(st, err).unwrap_or_else(|f| panic!("open: {}", f.message));
    mine
}

/// The accepted proposal's message id and whether it was a duplicate.
fn propose(
    s: *const macp_session,
    id: &str,
    call: &macp_call_options,
) -> Result<(String, bool), Failure> {
    let (pid, opt) = (c(id), c("deploy"));
    let mut ack = unsafe { std::mem::zeroed::<macp_ack>() };
    let mut err = null_mut();
    let st = unsafe {
        macp_decision_propose(
            s,
            pid.as_ptr(),
            opt.as_ptr(),
            null(),
            null(),
            0,
            &mut ack,
            call,
            &mut err,
        )
    };
    outcome(st, err).map(|()| (ack_id(&ack), ack.duplicate))
}

fn new_cancel() -> *mut macp_cancel {
    let mut t = null_mut();
    assert_eq!(unsafe { macp_cancel_new(&mut t, null_mut()) }, Status::Ok);
    t
}

fn ack_id(a: &macp_ack) -> String {
    unsafe { CStr::from_ptr(a.message_id.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

struct Fixture {
    _rt: Runtime,
    _tokio: tokio::runtime::Runtime,
    proxy: Proxy,
    clients: Vec<*mut macp_client>,
    session: *mut macp_session,
}

impl Fixture {
    fn new() -> Fixture {
        let rt = Runtime::start();
        let tokio = tokio::runtime::Runtime::new().unwrap();
        let (proxy, addr) = tokio.block_on(Proxy::start(&rt.target()));
        let target = format!("http://{addr}");
        let coord = connect(&target, "coord");
        let alice = connect(&target, "alice");
        let session = session(coord, alice);
        Fixture {
            _rt: rt,
            _tokio: tokio,
            proxy,
            clients: vec![coord, alice],
            session,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        macp_session_free(self.session);
        for &c in &self.clients {
            macp_client_free(c);
        }
    }
}

/// A Go context cancelled mid-call used to leave the C call running and the
/// message applied with no id to reconcile. Now the call ends when its
/// token is triggered, says the message may have been applied, and names
/// its id; re-sending with that id is acknowledged as a duplicate.
#[test]
fn a_cancelled_send_names_its_id_and_can_be_resent_idempotently() {
    let f = Fixture::new();
    f.proxy.push(Fault::ApplyThenHang);
    let token = new_cancel();
    let call = macp_call_options {
        cancel: token,
        ..macp_call_options_default()
    };
    let s = f.session as usize;
    let call_addr = &call as *const macp_call_options as usize;
    let pending = std::thread::spawn(move || {
        // SAFETY of the test: `call` outlives the join below.
        let call = unsafe { &*(call_addr as *const macp_call_options) };
        propose(s as *const macp_session, "p1", call).map(|a| a.0)
    });
    assert!(f.proxy.wait_applied(), "the runtime accepted the proposal");
    macp_cancel_trigger(token);
    assert!(macp_cancel_is_triggered(token));
    let e = pending.join().unwrap().expect_err("the call was cancelled");
    assert_eq!(e.status, Status::Cancelled, "{}", e.message);
    assert_eq!(e.delivery, macp_delivery::MACP_DELIVERY_UNKNOWN as i32);
    assert_eq!(e.message_id, f.proxy.sends()[1], "the id it sent");
    macp_cancel_free(token);

    let id = c(&e.message_id);
    let retry = macp_call_options {
        message_id: id.as_ptr(),
        ..macp_call_options_default()
    };
    let (id, duplicate) = propose(f.session, "p1", &retry).expect("the re-send");
    assert!(duplicate, "applied once, acknowledged twice");
    assert_eq!(id, e.message_id);
}

#[test]
fn a_token_triggered_before_the_call_sends_nothing() {
    let f = Fixture::new();
    let token = new_cancel();
    macp_cancel_trigger(token);
    let id = c("chosen-1");
    let call = macp_call_options {
        cancel: token,
        message_id: id.as_ptr(),
        ..macp_call_options_default()
    };
    let before = f.proxy.sends().len();
    let e = propose(f.session, "p1", &call).expect_err("cancelled");
    assert_eq!(e.status, Status::Cancelled);
    assert_eq!(e.delivery, macp_delivery::MACP_DELIVERY_NOT_SENT as i32);
    assert_eq!(e.message_id, "chosen-1");
    assert_eq!(f.proxy.sends().len(), before, "nothing reached the runtime");
    macp_cancel_free(token);
    // A freed token in the options is a bad handle, not a crash.
    let e = propose(f.session, "p1", &call).expect_err("freed token");
    assert_eq!(e.status, Status::InvalidHandle);
}

#[test]
fn the_call_deadline_ends_a_hung_send() {
    let f = Fixture::new();
    f.proxy.push(Fault::ApplyThenHang);
    let call = macp_call_options {
        timeout_ms: 300,
        ..macp_call_options_default()
    };
    let e = propose(f.session, "p1", &call).expect_err("timed out");
    assert!(f.proxy.wait_applied());
    assert_eq!(e.status, Status::Timeout, "{}", e.message);
    assert_eq!(e.delivery, macp_delivery::MACP_DELIVERY_UNKNOWN as i32);
    assert!(!e.message_id.is_empty());
}

#[test]
fn a_caller_chosen_id_reaches_every_send_and_a_refusal_says_so() {
    let f = Fixture::new();
    let id = c("vote-on-p1");
    let call = macp_call_options {
        message_id: id.as_ptr(),
        ..macp_call_options_default()
    };
    let (id, _) = propose(f.session, "p1", &call).expect("propose");
    assert_eq!(id, "vote-on-p1");
    assert_eq!(f.proxy.sends().last().unwrap(), "vote-on-p1");

    // The runtime refuses a second proposal p1 (new id): not applied.
    let e = propose(f.session, "p1", &macp_call_options_default()).expect_err("duplicate proposal");
    assert_eq!(
        e.delivery,
        macp_delivery::MACP_DELIVERY_REFUSED as i32,
        "{}",
        e.message
    );
    assert!(!e.message_id.is_empty());

    // A message id is refused where no envelope is sent, and checked.
    let mut info = null_mut();
    let mut err = null_mut();
    let st = unsafe { macp_session_get_info(f.session, &mut info, &call, &mut err) };
    let e = outcome(st, err).expect_err("no envelope");
    assert_eq!(e.status, Status::InvalidArgument);
    assert!(e.message.contains("message_id"), "{}", e.message);
    assert!(info.is_null());
    let bad = c("implicit-accept:x");
    let call = macp_call_options {
        message_id: bad.as_ptr(),
        ..macp_call_options_default()
    };
    let e = propose(f.session, "p2", &call).expect_err("reserved prefix");
    assert_eq!(e.status, Status::InvalidArgument);
    assert_eq!(e.delivery, macp_delivery::MACP_DELIVERY_NOT_SENT as i32);
}

/// Cancelling a connect stops it: a runtime that accepts TCP but never
/// answers would otherwise hold the caller for the whole connect timeout.
#[test]
fn a_connect_can_be_cancelled() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}", silent.local_addr().unwrap());
    let mut opts = null_mut();
    assert_eq!(
        unsafe { macp_client_options_new(&mut opts, null_mut()) },
        Status::Ok
    );
    let t = c(&target);
    unsafe {
        assert_eq!(
            macp_client_options_set_target(opts, t.as_ptr(), null_mut()),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_set_connect_timeout_ms(opts, 600_000, null_mut()),
            Status::Ok
        );
    }
    assert_eq!(
        macp_client_options_set_allow_insecure(opts, true, null_mut()),
        Status::Ok
    );
    let token = new_cancel();
    let (o, tk) = (opts as usize, token as usize);
    let connecting = std::thread::spawn(move || {
        let call = macp_call_options {
            cancel: tk as *const macp_cancel,
            ..macp_call_options_default()
        };
        let (mut client, mut err) = (null_mut(), null_mut());
        let st = unsafe {
            macp_client_new(
                o as *const macp_client_options,
                &mut client,
                &call,
                &mut err,
            )
        };
        (outcome(st, err).err().map(|f| f.status), client.is_null())
    });
    // The listener's backlog takes the connection; nothing ever answers it.
    let (_conn, _) = silent.accept().unwrap();
    macp_cancel_trigger(token);
    let (status, no_client) = connecting.join().unwrap();
    assert_eq!(status, Some(Status::Cancelled));
    assert!(no_client);
    macp_cancel_free(token);
    macp_client_options_free(opts);
}

/// A call's own trace context goes with its request, over the session's
/// and the client's; a malformed one is refused before anything is sent.
#[test]
fn a_call_carries_its_own_trace_context() {
    let f = Fixture::new();
    let tp = c("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let ts = c("vendor=call");
    let call = macp_call_options {
        traceparent: tp.as_ptr(),
        tracestate: ts.as_ptr(),
        ..macp_call_options_default()
    };
    propose(f.session, "p1", &call).expect("propose");
    let (method, md) = f.proxy.calls().last().cloned().unwrap();
    assert_eq!(method, "Send");
    assert_eq!(md.get("traceparent").unwrap(), tp.to_str().unwrap());
    assert_eq!(md.get("tracestate").unwrap(), "vendor=call");
    // Without one, the request carries none (no client or session default).
    propose(f.session, "p2", &macp_call_options_default()).expect("propose");
    assert!(f
        .proxy
        .calls()
        .last()
        .unwrap()
        .1
        .get("traceparent")
        .is_none());

    let bad = c("00-00000000000000000000000000000000-00f067aa0ba902b7-01");
    let call = macp_call_options {
        traceparent: bad.as_ptr(),
        ..macp_call_options_default()
    };
    let before = f.proxy.sends().len();
    let e = propose(f.session, "p3", &call).expect_err("an all-zero trace id");
    assert_eq!(e.status, Status::InvalidArgument, "{}", e.message);
    assert_eq!(f.proxy.sends().len(), before);
}
