//! SuspendSession, ResumeSession and ListSessions against a real runtime,
//! through the core and through the C ABI.

mod support;

use std::ffi::CString;
use std::sync::Arc;

use macp::ffi::lifecycle::*;
use macp::modes::DECISION;
use macp::{pb, Client, ClientConfig, Session, StartOptions, Status};
use support::Runtime;

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
    let e = alice.propose("p1", "x", "", b"").await.unwrap_err();
    assert_eq!(e.status, Status::SessionNotOpen, "{e}");
    let a = s.resume("back").await.unwrap();
    assert_eq!(a.session_state, pb::SessionState::Open as i32);
    alice.propose("p1", "x", "", b"").await.unwrap();

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

#[test]
fn lifecycle_through_the_c_abi() {
    use macp::ffi::client::*;
    use macp::ffi::session::*;
    let rt = Runtime::start();
    let target = CString::new(rt.target()).unwrap();
    let null_err = std::ptr::null_mut();
    unsafe {
        let mut opts = std::ptr::null_mut();
        macp_client_options_new(&mut opts, null_err);
        macp_client_options_set_target(opts, target.as_ptr(), null_err);
        macp_client_options_set_allow_insecure(opts, true, null_err);
        macp_client_options_set_bearer_token(opts, c"coordinator".as_ptr(), null_err);
        let mut client = std::ptr::null_mut();
        assert_eq!(macp_client_new(opts, &mut client, null_err), Status::Ok);
        macp_client_options_free(opts);
        let mut so = std::ptr::null_mut();
        macp_start_options_new(&mut so, null_err);
        macp_start_options_add_participant(so, c"alice".as_ptr(), null_err);
        macp_start_options_set_ttl_ms(so, 60_000, null_err);
        let mut session = std::ptr::null_mut();
        let mut ack: macp_ack = std::mem::zeroed();
        assert_eq!(
            macp_session_start(
                client,
                c"macp.mode.decision.v1".as_ptr(),
                so,
                &mut session,
                &mut ack,
                null_err
            ),
            Status::Ok
        );
        macp_start_options_free(so);

        assert_eq!(
            macp_session_suspend(session, c"pause".as_ptr(), &mut ack, null_err),
            Status::Ok
        );
        assert_eq!(
            ack.session_state,
            macp_session_state::MACP_SESSION_STATE_SUSPENDED
        );
        assert_eq!(
            macp_session_resume(session, std::ptr::null(), &mut ack, null_err),
            Status::Ok
        );
        assert_eq!(
            ack.session_state,
            macp_session_state::MACP_SESSION_STATE_OPEN
        );

        let mut list = std::ptr::null_mut();
        assert_eq!(
            macp_client_list_all_sessions(client, &mut list, null_err),
            Status::Ok
        );
        let l = &*list;
        assert_eq!(l.len, 1);
        let info = &*l.sessions;
        assert_eq!(
            std::ffi::CStr::from_ptr(info.session_id),
            std::ffi::CStr::from_ptr(macp_session_id(session))
        );
        assert_eq!(std::ffi::CStr::from_ptr(l.next_page_token).to_bytes(), b"");
        macp_session_list_free(list);
        macp_session_list_free(list); // ignored

        let mut page = std::ptr::null_mut();
        assert_eq!(
            macp_client_list_sessions(client, 0, std::ptr::null(), &mut page, null_err),
            Status::Ok
        );
        assert_eq!((*page).len, 1);
        macp_session_list_free(page);

        // Bad input.
        let bad = [0xffu8, 0];
        let bogus = 0x1234 as *const macp_session;
        assert_eq!(
            macp_session_suspend(bogus, std::ptr::null(), &mut ack, null_err),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_session_resume(std::ptr::null(), std::ptr::null(), &mut ack, null_err),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_session_suspend(session, bad.as_ptr() as *const _, &mut ack, null_err),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(client, -1, std::ptr::null(), &mut page, null_err),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(client, 1, bad.as_ptr() as *const _, &mut page, null_err),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_sessions(client, 1, std::ptr::null(), std::ptr::null_mut(), null_err),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_list_all_sessions(bogus as *const _, &mut page, null_err),
            Status::InvalidHandle
        );
        assert!(page.is_null());
        macp_session_list_free(0x1234 as *mut _);
        macp_session_list_free(std::ptr::null_mut());

        macp_session_close(session);
        macp_client_free(client);
    }
}
