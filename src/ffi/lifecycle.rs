//! Session lifecycle control and listing: `SuspendSession`, `ResumeSession`,
//! `ListSessions`.

use std::ffi::c_char;

use super::client::{client_of, macp_client};
use super::session::{
    fill_ack, macp_ack, macp_session, macp_session_info, opt, session_of, SessionInfo,
};
use super::{arg_opt_str, arg_out, c_string, guard, guard_value, macp_error, Allocations};
use crate::error::{Error, Status};
use crate::pb;
use crate::rt::block_on;

/// Suspend the session (initiator or policy-delegated roles): mode messages
/// are refused while it is suspended and its remaining TTL is banked.
/// `reason` may be NULL; `ack` (may be NULL) reports the new state.
///
/// # Safety
/// `reason` is NULL or NUL-terminated; `ack` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_session_suspend(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = opt(reason, "reason")?;
        let s = session_of(session)?;
        fill_ack(ack, &block_on(s.session.suspend(reason))??);
        Ok(())
    })
}

/// Resume a suspended session; `reason` may be NULL.
///
/// # Safety
/// As `macp_session_suspend`.
#[no_mangle]
pub unsafe extern "C" fn macp_session_resume(
    session: *const macp_session,
    reason: *const c_char,
    ack: *mut macp_ack,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let reason = opt(reason, "reason")?;
        let s = session_of(session)?;
        fill_ack(ack, &block_on(s.session.resume(reason))??);
        Ok(())
    })
}

/// A list of sessions. Allocated by the library; everything it points to is
/// valid until `macp_session_list_free`.
#[repr(C)]
pub struct macp_session_list {
    pub sessions: *const macp_session_info,
    pub len: usize,
    /// Pass to the next `macp_client_list_sessions` call; `""` when the
    /// listing is complete.
    pub next_page_token: *const c_char,
}

/// A `macp_session_list` and the storage it borrows from; the list first.
#[repr(C)]
struct SessionList {
    list: macp_session_list,
    infos: Vec<macp_session_info>,
    /// Owns what each info points to (heap data, stable when moved).
    storage: Vec<SessionInfo>,
    token: std::ffi::CString,
}

static LISTS: Allocations = Allocations::new();

fn new_list(sessions: &[pb::SessionMetadata], token: &str) -> *mut macp_session_list {
    let storage: Vec<SessionInfo> = sessions.iter().map(|m| *SessionInfo::new(m)).collect();
    let infos: Vec<macp_session_info> = storage.iter().map(|s| s.info).collect();
    let token = c_string(token);
    let mut b = Box::new(SessionList {
        list: macp_session_list {
            sessions: std::ptr::null(),
            len: infos.len(),
            next_page_token: token.as_ptr(),
        },
        infos,
        storage,
        token,
    });
    b.list.sessions = if b.infos.is_empty() {
        std::ptr::null()
    } else {
        b.infos.as_ptr()
    };
    LISTS.track(b) as *mut macp_session_list
}

/// One page of the sessions the runtime holds (`ListSessions`): at most
/// `page_size` (0: the runtime's default; must not be negative) after
/// `page_token` (NULL or `""` for the first page). Free `*out` with
/// `macp_session_list_free`. Fails with `MACP_STATUS_UNSUPPORTED` when the
/// runtime does not advertise listing, and with the runtime's code for a
/// token it does not accept.
///
/// # Safety
/// `page_token` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_sessions(
    client: *const macp_client,
    page_size: i32,
    page_token: *const c_char,
    out: *mut *mut macp_session_list,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        if page_size < 0 {
            return Err(Error::invalid_argument("page_size must not be negative"));
        }
        let token = arg_opt_str(page_token, "page_token")?.unwrap_or("");
        let c = client_of(client)?;
        let page = block_on(c.list_sessions(page_size, token))??;
        *out = new_list(&page.sessions, &page.next_page_token);
        Ok(())
    })
}

/// Every session the runtime holds, all pages. Free `*out` with
/// `macp_session_list_free`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_all_sessions(
    client: *const macp_client,
    out: *mut *mut macp_session_list,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let c = client_of(client)?;
        let all = block_on(c.list_all_sessions())??;
        *out = new_list(&all, "");
        Ok(())
    })
}

/// Free a session list. NULL, already-freed and foreign pointers are ignored.
#[no_mangle]
pub extern "C" fn macp_session_list_free(list: *mut macp_session_list) {
    guard_value((), || drop(LISTS.untrack(list as *mut SessionList)))
}
