//! `macp_session_info` (one session's metadata) and `macp_session_list`
//! (a page of them): library-owned results read through borrowed
//! `macp_session_metadata` views.

use std::ffi::{c_char, CString};

use macp_pb::pb;

use super::args::c_string;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::metadata::{macp_session_metadata, Metadata};

/// One session's metadata, owned by the caller: from
/// `macp_session_get_info` or `macp_client_get_session`, read with
/// `macp_session_info_metadata`, freed with `macp_session_info_free`.
pub struct macp_session_info {
    _private: [u8; 0],
}

handle_type!(macp_session_info => Metadata);

/// A list of sessions owned by the caller: from `macp_client_list_sessions`
/// or `macp_client_list_all_sessions`, read with `macp_session_list_len`,
/// `macp_session_list_at` and `macp_session_list_next_page_token`, freed
/// with `macp_session_list_free`.
pub struct macp_session_list {
    _private: [u8; 0],
}

pub(crate) struct SessionList {
    items: Vec<Metadata>,
    next_page_token: CString,
}

handle_type!(macp_session_list => SessionList);

/// Write a new `macp_session_info` for `m` to `*out` (checked by the caller).
///
/// # Safety
/// `out` is writable.
pub(crate) unsafe fn write_info(out: *mut *mut macp_session_info, m: &pb::SessionMetadata) {
    handle::write_new(out, Metadata::new(m));
}

/// The metadata held by `info`.
///
/// Ownership: returns a view borrowed from `info`, valid until
/// `macp_session_info_free(info)`; NULL when `info` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_session_info_metadata(
    info: *const macp_session_info,
) -> *const macp_session_metadata {
    guard_value(std::ptr::null(), || {
        handle::get(info).map_or(std::ptr::null(), |m| &m.view as *const _)
    })
}

/// Free a session info.
///
/// Ownership: takes `info` and frees it, with every view borrowed from it.
/// NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_session_info_free(info: *mut macp_session_info) {
    guard_value((), || drop(handle::free(info)))
}

/// The number of sessions in `list`; 0 when `list` is not a live handle.
///
/// Ownership: borrows `list`.
#[no_mangle]
pub extern "C" fn macp_session_list_len(list: *const macp_session_list) -> usize {
    guard_value(0, || handle::get(list).map_or(0, |l| l.items.len()))
}

/// The metadata of session `index` (from 0) of `list`.
///
/// Ownership: returns a view borrowed from `list`, valid until
/// `macp_session_list_free(list)`; NULL when `list` is not a live handle or
/// `index` is out of range.
#[no_mangle]
pub extern "C" fn macp_session_list_at(
    list: *const macp_session_list,
    index: usize,
) -> *const macp_session_metadata {
    guard_value(std::ptr::null(), || match handle::get(list) {
        Ok(l) => l
            .items
            .get(index)
            .map_or(std::ptr::null(), |m| &m.view as *const _),
        Err(_) => std::ptr::null(),
    })
}

/// The token to pass to the next `macp_client_list_sessions` call; `""` when
/// the listing is complete.
///
/// Ownership: returns a string borrowed from `list`, valid until
/// `macp_session_list_free(list)`; `""` when `list` is not a live handle.
#[no_mangle]
pub extern "C" fn macp_session_list_next_page_token(
    list: *const macp_session_list,
) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        handle::get(list).map_or(c"".as_ptr(), |l| l.next_page_token.as_ptr())
    })
}

/// Free a session list.
///
/// Ownership: takes `list` and frees it, with every view borrowed from it.
/// NULL and already-freed handles are ignored.
#[no_mangle]
pub extern "C" fn macp_session_list_free(list: *mut macp_session_list) {
    guard_value((), || drop(handle::free(list)))
}

/// # Safety
/// `out` is writable.
pub(crate) unsafe fn write_list(
    out: *mut *mut macp_session_list,
    sessions: &[pb::SessionMetadata],
    token: &str,
) {
    handle::write_new(
        out,
        SessionList {
            items: sessions.iter().map(Metadata::new).collect(),
            next_page_token: c_string(token),
        },
    );
}
