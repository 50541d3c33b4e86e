//! SuspendSession, ResumeSession and ListSessions against a real runtime,
//! through the core and through the C ABI.

mod support;

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use macp::ffi::*;
use macp::modes::DECISION;
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use support::{info_metadata, list_at, Runtime};

async fn client(target: &str, identity: &str) -> Arc<Client> {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.into());
    Arc::new(Client::connect(c).await.expect("connect"))
}

async fn start(c: &Arc<Client>) -> Session {
    let opts = StartOptions {
        participants: vec!["alice".into()],
        ttl_ms: 600_000,
        ..Default::default()
    };
    Session::start(c.clone(), DECISION, opts).await.unwrap().0
}

#[tokio::test]
async fn suspend_and_resume() {
    let rt = Runtime::start();
    let coord = client(&rt.target(), "coordinator").await;
    let s = start(&coord).await;
    let alice = Session::open(client(&rt.target(), "alice").await, s.id())
        .await
        .unwrap();

    let e = alice.suspend("not mine").await.unwrap_err();
    assert_eq!(e.status, Status::Forbidden, "{e}");
    let a = s.suspend("lunch").await.unwrap();
    assert_eq!(a.session_state, pb::SessionState::Suspended as i32);
    let e = alice
        .decision()
        .propose("p1", "x", "", b"")
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::SessionNotOpen, "{e}");
    let a = s.resume("back").await.unwrap();
    assert_eq!(a.session_state, pb::SessionState::Open as i32);
    alice.decision().propose("p1", "x", "", b"").await.unwrap();

    let unknown = macp::client::new_id();
    let e = coord.suspend_session(&unknown, "").await.unwrap_err();
    assert_eq!(e.status, Status::SessionNotFound, "{e}");
    assert_eq!(
        coord.resume_session("", "").await.unwrap_err().status,
        Status::InvalidArgument
    );
}

#[tokio::test]
async fn list_sessions_pages_through_everything() {
    let rt = Runtime::start();
    let coord = client(&rt.target(), "coordinator").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(start(&coord).await.id().to_string());
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = coord.list_sessions(2, &token).await.unwrap();
        assert!(page.sessions.len() <= 2);
        seen.extend(page.sessions.into_iter().map(|m| m.session_id));
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(pages >= 3, "{pages} pages for 5 sessions of 2 per page");
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    let mut all: Vec<_> = coord
        .list_all_sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.session_id)
        .collect();
    all.sort();
    assert_eq!(all, ids);

    let e = coord.list_sessions(1, "not a token").await.unwrap_err();
    assert!(
        matches!(e.status, Status::InvalidRequest | Status::Rpc),
        "{e}"
    );
    assert_eq!(
        coord.list_sessions(-1, "").await.unwrap_err().status,
        Status::InvalidArgument
    );
}

/// A C client for `coordinator` on `rt`, and a decision session it started
/// with `participant`; `ack` (when not NULL) receives the start's
/// acknowledgement.
///
/// # Safety
/// `ack` is NULL or writable.
unsafe fn c_session(
    rt: &Runtime,
    participant: &CStr,
    ack: *mut macp_ack,
) -> (*mut macp_client, *mut macp_session) {
    let target = CString::new(rt.target()).unwrap();
    let null_err = std::ptr::null_mut();
    let mut opts = std::ptr::null_mut();
    macp_client_options_new(&mut opts, null_err);
    macp_client_options_set_target(opts, target.as_ptr(), null_err);
    macp_client_options_set_allow_insecure(opts, true, null_err);
    macp_client_options_set_bearer_token(opts, c"coordinator".as_ptr(), null_err);
    let mut client = std::ptr::null_mut();
    assert_eq!(
        macp_client_new(opts, &mut client, std::ptr::null(), null_err),
        Status::Ok
    );
    macp_client_options_free(opts);
    let mut so = std::ptr::null_mut();
    macp_start_options_new(&mut so, null_err);
    macp_start_options_add_participant(so, participant.as_ptr(), null_err);
    macp_start_options_set_ttl_ms(so, 60_000, null_err);
    let mut session = std::ptr::null_mut();
    assert_eq!(
        macp_session_start(
            client,
            c"macp.mode.decision.v1".as_ptr(),
            so,
            &mut session,
            ack,
            std::ptr::null(),
            null_err
        ),
        Status::Ok
    );
    macp_start_options_free(so);
    (client, session)
}

#[test]
fn lifecycle_through_the_c_abi() {
    let rt = Runtime::start();
    let null_err = std::ptr::null_mut();
    unsafe {
        let mut ack: macp_ack = std::mem::zeroed();
        let (client, session) = c_session(&rt, c"alice", &mut ack);

        assert_eq!(
            macp_session_suspend(
                session,
                c"pause".as_ptr(),
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );
        assert_eq!(
            ack.session_state,
            macp_session_state::MACP_SESSION_STATE_SUSPENDED
        );
        assert_eq!(
            macp_session_resume(
                session,
                std::ptr::null(),
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );
        assert_eq!(
            ack.session_state,
            macp_session_state::MACP_SESSION_STATE_OPEN
        );

        let mut list = std::ptr::null_mut();
        assert_eq!(
            macp_client_list_all_sessions(client, &mut list, std::ptr::null(), null_err),
            Status::Ok
        );
        assert_eq!(macp_session_list_len(list), 1);
        let info = list_at(list, 0);
        assert_eq!(
            CStr::from_ptr(info.session_id),
            CStr::from_ptr(macp_session_id(session))
        );
        assert_eq!(info.state, macp_session_state::MACP_SESSION_STATE_OPEN);
        assert!(macp_session_list_at(list, 1).is_null(), "out of range");
        assert!(macp_session_list_at(list, usize::MAX).is_null());
        assert_eq!(
            CStr::from_ptr(macp_session_list_next_page_token(list)).to_bytes(),
            b""
        );
        macp_session_list_free(list);
        // A freed list reads as empty.
        assert_eq!(macp_session_list_len(list), 0);
        assert!(macp_session_list_at(list, 0).is_null());
        assert_eq!(
            CStr::from_ptr(macp_session_list_next_page_token(list)).to_bytes(),
            b""
        );
        macp_session_list_free(list); // ignored

        // One session's metadata, through the session and the client.
        let mut info = std::ptr::null_mut();
        assert_eq!(
            macp_session_get_info(session, &mut info, std::ptr::null(), null_err),
            Status::Ok
        );
        let m = info_metadata(info);
        assert_eq!(
            CStr::from_ptr(m.session_id),
            CStr::from_ptr(macp_session_id(session))
        );
        assert_eq!(CStr::from_ptr(m.mode).to_bytes(), b"macp.mode.decision.v1");
        assert_eq!(CStr::from_ptr(m.initiator).to_bytes(), b"coordinator");
        assert_eq!(m.state, macp_session_state::MACP_SESSION_STATE_OPEN);
        let participants = std::slice::from_raw_parts(m.participants, m.participants_len);
        assert_eq!(participants.len(), 1);
        assert_eq!(CStr::from_ptr(participants[0]).to_bytes(), b"alice");
        macp_session_info_free(info);
        assert!(
            macp_session_info_metadata(info).is_null(),
            "read after free"
        );
        macp_session_info_free(info); // ignored
        let mut by_client = std::ptr::null_mut();
        assert_eq!(
            macp_client_get_session(
                client,
                macp_session_id(session),
                &mut by_client,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );
        assert_eq!(
            CStr::from_ptr(info_metadata(by_client).session_id),
            CStr::from_ptr(macp_session_id(session))
        );
        macp_session_info_free(by_client);

        let mut page = std::ptr::null_mut();
        assert_eq!(
            macp_client_list_sessions(
                client,
                0,
                std::ptr::null(),
                &mut page,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );
        assert_eq!(macp_session_list_len(page), 1);
        assert_eq!(
            CStr::from_ptr(list_at(page, 0).session_id),
            CStr::from_ptr(macp_session_id(session))
        );
        macp_session_list_free(page);

        // Bad input.
        let bad = [0xffu8, 0];
        let bogus = 0x1234 as *const macp_session;
        assert_eq!(
            macp_session_suspend(
                bogus,
                std::ptr::null(),
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_session_resume(
                std::ptr::null(),
                std::ptr::null(),
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_session_suspend(
                session,
                bad.as_ptr() as *const _,
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(
                client,
                -1,
                std::ptr::null(),
                &mut page,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(
                client,
                1,
                bad.as_ptr() as *const _,
                &mut page,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(
                client,
                1,
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null(),
                null_err
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_all_sessions(bogus as *const _, &mut page, std::ptr::null(), null_err),
            Status::InvalidHandle
        );
        assert!(page.is_null());
        macp_session_list_free(0x1234 as *mut _);
        macp_session_list_free(std::ptr::null_mut());

        // The views refuse NULL, foreign and wrong-type handles, and the
        // frees ignore them (without releasing the object a wrong-type
        // handle names).
        let foreign_list = 0x1234 as *const macp_session_list;
        for l in [std::ptr::null(), foreign_list, session as *const _] {
            assert_eq!(macp_session_list_len(l), 0);
            assert!(macp_session_list_at(l, 0).is_null());
            assert_eq!(
                CStr::from_ptr(macp_session_list_next_page_token(l)).to_bytes(),
                b""
            );
        }
        let mut info = std::ptr::dangling_mut();
        assert_eq!(
            macp_session_get_info(bogus, &mut info, std::ptr::null(), null_err),
            Status::InvalidHandle
        );
        assert!(info.is_null(), "the out-pointer is cleared on failure");
        assert_eq!(
            macp_session_get_info(session, std::ptr::null_mut(), std::ptr::null(), null_err),
            Status::InvalidArgument
        );
        let mut info = std::ptr::dangling_mut();
        assert_eq!(
            macp_client_get_session(
                client,
                bad.as_ptr() as *const _,
                &mut info,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidArgument
        );
        assert!(info.is_null());
        assert_eq!(
            macp_session_get_info(session, &mut info, std::ptr::null(), null_err),
            Status::Ok
        );
        for i in [
            std::ptr::null(),
            0x1234 as *const macp_session_info,
            session as *const _,
        ] {
            assert!(macp_session_info_metadata(i).is_null());
        }
        let mut list = std::ptr::null_mut();
        assert_eq!(
            macp_client_list_all_sessions(client, &mut list, std::ptr::null(), null_err),
            Status::Ok
        );
        assert_eq!(macp_session_list_len(info as *const _), 0);
        assert!(macp_session_info_metadata(list as *const _).is_null());
        macp_session_info_free(0x1234 as *mut _);
        macp_session_info_free(std::ptr::null_mut());
        macp_session_info_free(list as *mut _);
        macp_session_list_free(info as *mut _);
        macp_session_info_free(session as *mut _);
        macp_session_list_free(session as *mut _);
        assert_eq!(macp_session_list_len(list), 1, "a wrong-type free kept it");
        assert_eq!(
            info_metadata(info).state,
            macp_session_state::MACP_SESSION_STATE_OPEN
        );
        assert!(!CStr::from_ptr(macp_session_id(session))
            .to_bytes()
            .is_empty());
        macp_session_list_free(list);
        macp_session_info_free(info);

        macp_session_free(session);
        assert!(CStr::from_ptr(macp_session_id(session))
            .to_bytes()
            .is_empty());
        assert_eq!(
            macp_session_suspend(
                session,
                std::ptr::null(),
                &mut ack,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidHandle,
            "a freed session"
        );
        macp_session_free(session); // ignored
        macp_client_free(client);
    }
}

/// What a session watcher's callback saw: the message ids of accepted
/// envelopes and of refusals (with their codes).
#[derive(Default)]
struct Seen {
    events: Mutex<Events>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Events {
    accepted: Vec<String>,
    /// (message id, code)
    refused: Vec<(String, String)>,
}

unsafe extern "C" fn on_event(event: *const macp_event, user_data: *mut c_void) {
    let seen = &*(user_data as *const Seen);
    let ev = &*event;
    let text = |p: *const c_char| {
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    let mut events = seen.events.lock().unwrap();
    match ev.kind {
        macp_event_kind::MACP_EVENT_ENVELOPE => events.accepted.push(text(ev.envelope.message_id)),
        macp_event_kind::MACP_EVENT_STREAM_ERROR => {
            events.refused.push((text(ev.message_id), text(ev.code)))
        }
        _ => return,
    }
    seen.changed.notify_all();
}

/// `macp_client_watch` refuses a kind that is not a `macp_watch_kind`, and
/// `macp_watcher_send` a `message_id_out` too short for the id, before
/// anything is queued: the refused message never shows in the accepted
/// history that follows.
#[test]
fn watchers_through_the_c_abi_refuse_bad_input() {
    let rt = Runtime::start();
    let null_err = std::ptr::null_mut();
    let seen = Box::new(Seen::default());
    let user_data = &*seen as *const Seen as *mut c_void;
    unsafe {
        // The coordinator proposes in its own session.
        let (client, session) = c_session(&rt, c"coordinator", std::ptr::null_mut());

        // Kinds.
        for kind in [0, 6, -1, i32::MAX] {
            let mut w = std::ptr::dangling_mut();
            let mut err = std::ptr::null_mut();
            assert_eq!(
                macp_client_watch(
                    client,
                    kind,
                    std::ptr::null(),
                    Some(on_event),
                    user_data,
                    &mut w,
                    std::ptr::null(),
                    &mut err
                ),
                Status::InvalidArgument,
                "kind {kind}"
            );
            assert!(w.is_null(), "the out-pointer is cleared on failure");
            let message = CStr::from_ptr(macp_error_message(err))
                .to_string_lossy()
                .into_owned();
            assert!(message.contains("macp_watch_kind"), "{message}");
            macp_error_free(err);
        }
        let mut sessions = std::ptr::null_mut();
        assert_eq!(
            macp_client_watch(
                client,
                macp_watch_kind::MACP_WATCH_SESSIONS as i32,
                std::ptr::null(),
                Some(on_event),
                user_data,
                &mut sessions,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );
        assert!(!sessions.is_null());
        let mut w = std::ptr::dangling_mut();
        assert_eq!(
            macp_client_watch(
                std::ptr::null(),
                macp_watch_kind::MACP_WATCH_SESSIONS as i32,
                std::ptr::null(),
                Some(on_event),
                user_data,
                &mut w,
                std::ptr::null(),
                null_err
            ),
            Status::InvalidHandle
        );
        assert!(w.is_null());

        // A session watcher to send on.
        let mut watcher = std::ptr::null_mut();
        assert_eq!(
            macp_session_watch(
                session,
                0,
                std::ptr::null(),
                Some(on_event),
                user_data,
                &mut watcher,
                std::ptr::null(),
                null_err
            ),
            Status::Ok
        );

        let proposal = |id: &str| {
            macp::payload::encode_value(
                "macp.modes.decision.v1.ProposalPayload",
                &serde_json::json!({"proposal_id": id, "option": "deploy"}),
            )
            .unwrap()
        };
        let p1 = proposal("p1");
        // A Proposal sent on `watcher`.
        let send = |payload: &[u8],
                    id: *const c_char,
                    out: *mut c_char,
                    out_len: usize,
                    err: *mut *mut macp_error| {
            macp_watcher_send(
                watcher,
                c"Proposal".as_ptr(),
                payload.as_ptr(),
                payload.len(),
                id,
                out,
                out_len,
                err,
            )
        };
        let id = macp::client::new_id();
        let id_c = CString::new(id.clone()).unwrap();
        let mut buf = [0x55 as c_char; MACP_ID_BUFFER_LEN];
        // A buffer of 0 bytes cannot even hold "": it is left untouched.
        for short in [0, 1, id.len()] {
            buf[0] = 0x55;
            let mut err = std::ptr::null_mut();
            assert_eq!(
                send(&p1, id_c.as_ptr(), buf.as_mut_ptr(), short, &mut err),
                Status::InvalidArgument,
                "message_id_out_len {short}"
            );
            let cleared = if short == 0 { 0x55 } else { 0 };
            assert_eq!(buf[0], cleared, "the buffer holds \"\" on failure");
            let message = CStr::from_ptr(macp_error_message(err))
                .to_string_lossy()
                .into_owned();
            assert!(message.contains("message_id_out_len"), "{message}");
            macp_error_free(err);
        }
        // Other bad input: message types, payloads, handles, a runtime-wide
        // watcher.
        let bad = [0xffu8, 0];
        for (w, mt, payload, len, want) in [
            (
                watcher as *const macp_watcher,
                bad.as_ptr() as *const _,
                p1.as_ptr(),
                p1.len(),
                Status::InvalidArgument,
            ),
            (
                watcher,
                std::ptr::null(),
                p1.as_ptr(),
                p1.len(),
                Status::InvalidArgument,
            ),
            (
                watcher,
                c"Proposal".as_ptr(),
                std::ptr::null(),
                3,
                Status::InvalidArgument,
            ),
            (
                std::ptr::null(),
                c"Proposal".as_ptr(),
                p1.as_ptr(),
                p1.len(),
                Status::InvalidHandle,
            ),
            (
                session as *const _,
                c"Proposal".as_ptr(),
                p1.as_ptr(),
                p1.len(),
                Status::InvalidHandle,
            ),
            (
                sessions,
                c"Proposal".as_ptr(),
                p1.as_ptr(),
                p1.len(),
                Status::InvalidState,
            ),
        ] {
            buf[0] = 0x55;
            assert_eq!(
                macp_watcher_send(
                    w,
                    mt,
                    payload,
                    len,
                    std::ptr::null(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    null_err
                ),
                want
            );
            assert_eq!(buf[0], 0, "the buffer holds \"\" on failure");
        }
        macp_watcher_close(sessions);
        assert_eq!(
            macp_watcher_send(
                sessions,
                c"Proposal".as_ptr(),
                p1.as_ptr(),
                p1.len(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
                null_err
            ),
            Status::InvalidHandle,
            "a closed watcher"
        );

        // The message whose id did not fit was never queued: the history
        // up to two later proposals (the stream keeps their order) does not
        // have it. The first is sent with a given id, the second with one
        // the library makes.
        let given = macp::client::new_id();
        let given_c = CString::new(given.clone()).unwrap();
        assert_eq!(
            send(&p1, given_c.as_ptr(), buf.as_mut_ptr(), buf.len(), null_err),
            Status::Ok
        );
        assert_eq!(CStr::from_ptr(buf.as_ptr()).to_str().unwrap(), given);
        let p2 = proposal("p2");
        let mut id2 = [0 as c_char; MACP_ID_BUFFER_LEN];
        assert_eq!(
            send(&p2, std::ptr::null(), id2.as_mut_ptr(), id2.len(), null_err),
            Status::Ok
        );
        let id2 = CStr::from_ptr(id2.as_ptr()).to_str().unwrap().to_string();
        assert!(!id2.is_empty() && id2 != id && id2 != given);
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut events = seen.events.lock().unwrap();
        while !events.accepted.contains(&id2) && events.refused.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the second proposal was never accepted: {:?}",
                *events
            );
            events = seen.changed.wait_timeout(events, left).unwrap().0;
        }
        assert!(events.refused.is_empty(), "refusals: {:?}", events.refused);
        assert_eq!(
            events.accepted.iter().filter(|m| **m == given).count(),
            1,
            "{:?}",
            events.accepted
        );
        assert!(
            !events.accepted.contains(&id),
            "the refused send was queued: {:?}",
            events.accepted
        );
        drop(events);

        macp_watcher_close(watcher);
        macp_watcher_close(watcher); // ignored
        macp_session_free(session);
        macp_client_free(client);
    }
    drop(seen);
}
