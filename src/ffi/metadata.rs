//! `macp_session_metadata`: a session's metadata and state, as C reads it.
//! Always borrowed: from a `macp_session_info`, a `macp_session_list` or a
//! watcher's event, which say how long it lives.

use std::ffi::{c_char, CString};

use macp_pb::pb;

use super::args::c_string;
use super::session_state::macp_session_state;

/// One participant's activity in a session.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_participant_activity {
    pub participant_id: *const c_char,
    pub last_message_at_unix_ms: i64,
    pub message_count: u32,
}

/// Metadata and state of a session. Borrowed: every pointer in it lives as
/// long as the handle or event it was read from.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct macp_session_metadata {
    pub session_id: *const c_char,
    pub mode: *const c_char,
    pub state: macp_session_state,
    pub started_at_unix_ms: i64,
    pub expires_at_unix_ms: i64,
    pub mode_version: *const c_char,
    pub configuration_version: *const c_char,
    pub policy_version: *const c_char,
    /// The identity that started the session.
    pub initiator: *const c_char,
    pub context_id: *const c_char,
    pub participants: *const *const c_char,
    pub participants_len: usize,
    /// Keys of the extensions set at session start.
    pub extension_keys: *const *const c_char,
    pub extension_keys_len: usize,
    pub activity: *const macp_participant_activity,
    pub activity_len: usize,
}

/// A `macp_session_metadata` and the storage its pointers borrow from. The
/// storage is heap data that does not move when a `Metadata` does.
pub(crate) struct Metadata {
    pub(crate) view: macp_session_metadata,
    _strings: Vec<CString>,
    _lists: [Vec<*const c_char>; 2],
    _activity: Vec<macp_participant_activity>,
}

// SAFETY: the raw pointers point into the struct's own immutable heap
// storage; nothing mutates it after construction.
unsafe impl Send for Metadata {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Metadata {}

impl Metadata {
    pub(crate) fn new(m: &pb::SessionMetadata) -> Metadata {
        // CStrings own heap buffers, so their pointers survive moving the Vec.
        let mut strings = Vec::new();
        let mut s = |v: &str| {
            let c = c_string(v);
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let scalars = [
            s(&m.session_id),
            s(&m.mode),
            s(&m.mode_version),
            s(&m.configuration_version),
            s(&m.policy_version),
            s(&m.initiator),
            s(&m.context_id),
        ];
        let participants: Vec<_> = m.participants.iter().map(|p| s(p)).collect();
        let extension_keys: Vec<_> = m.extension_keys.iter().map(|k| s(k)).collect();
        let activity: Vec<_> = m
            .participant_activity
            .iter()
            .map(|a| macp_participant_activity {
                participant_id: s(&a.participant_id),
                last_message_at_unix_ms: a.last_message_at_unix_ms,
                message_count: a.message_count,
            })
            .collect();
        let view = macp_session_metadata {
            session_id: scalars[0],
            mode: scalars[1],
            state: m.state.into(),
            started_at_unix_ms: m.started_at_unix_ms,
            expires_at_unix_ms: m.expires_at_unix_ms,
            mode_version: scalars[2],
            configuration_version: scalars[3],
            policy_version: scalars[4],
            initiator: scalars[5],
            context_id: scalars[6],
            participants: participants.as_ptr(),
            participants_len: participants.len(),
            extension_keys: extension_keys.as_ptr(),
            extension_keys_len: extension_keys.len(),
            activity: activity.as_ptr(),
            activity_len: activity.len(),
        };
        Metadata {
            view,
            _strings: strings,
            _lists: [participants, extension_keys],
            _activity: activity,
        }
    }
}
