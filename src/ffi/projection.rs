//! `macp_projection`: a session's mode state kept locally, built from the
//! envelopes the runtime accepted (e.g. those a session watcher delivers as
//! `raw` protobuf bytes).
//!
//! Feed it only accepted history: nothing on an envelope says the runtime
//! accepted it. Redelivered envelopes (same `message_id`) are ignored. Where
//! the protocol lets a first message stand (a Decision vote, a Quorum ballot,
//! the Task assignee, a settled Handoff offer), a second, distinct one is not
//! applied but recorded in the snapshot's `anomalies` (kinds
//! `duplicate_vote`, `duplicate_ballot`, `duplicate_task_accept`,
//! `settled_handoff`). A projection may be used from several threads.

use std::ffi::c_char;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::args::{arg_bytes, arg_nonempty, arg_opt_str, arg_out};
use super::error::guard;
use super::error::macp_error;
use super::guard::guard_value;
use super::handle::{self, handle_type};
use super::strings::{macp_string, write_string};
use crate::error::{Error, Status};
use crate::projection::Projection;

/// A projection of one session of one mode. Created with
/// `macp_projection_new`, freed with `macp_projection_free`.
pub struct macp_projection {
    _private: [u8; 0],
}

handle_type!(macp_projection => Mutex<Projection>);

fn lock(p: &Mutex<Projection>) -> MutexGuard<'_, Projection> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Write `v` through `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        out.write(v);
    }
}

/// Create an empty projection for `mode` (one of the `MACP_MODE_*`
/// identifiers). Free `*out` with `macp_projection_free`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_projection_free`); on failure `*out` is NULL.
///
/// # Safety
/// `mode` is NULL or NUL-terminated; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_projection_new(
    mode: *const c_char,
    out: *mut *mut macp_projection,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let mode = arg_nonempty(mode, "mode")?;
        let p = Projection::new(mode)?;
        handle::write_new(out, Mutex::new(p));
        Ok(())
    })
}

/// Free a projection. NULL and already-freed projections are ignored.
///
/// Ownership: takes `projection` and frees it. NULL and already-freed handles
/// are ignored.
#[no_mangle]
pub extern "C" fn macp_projection_free(projection: *mut macp_projection) {
    guard_value((), || {
        drop(handle::free(projection));
    })
}

/// Apply one accepted envelope, protobuf-encoded (`len` bytes at
/// `envelope`, borrowed for the call). An envelope whose message id was
/// already applied is ignored (success). Fails with
/// `MACP_STATUS_INVALID_ARGUMENT`, changing nothing, when the bytes are not
/// an envelope, the envelope is of another mode than the projection's or of
/// another session than the envelopes applied before, or its payload does
/// not decode (the same message id may then be applied again).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `envelope` is NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn macp_projection_apply(
    projection: *const macp_projection,
    envelope: *const u8,
    len: usize,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let bytes = arg_bytes(envelope, len, "envelope")?;
        let p = handle::get(projection)?;
        lock(&p).apply_encoded(bytes)?;
        Ok(())
    })
}

/// A JSON snapshot of the projection. Every mode has `mode`, `session_id`,
/// `initiator`, `participants`, `phase`, `applied` (envelopes applied),
/// `commitment` (null until one is applied) and `anomalies` (each with
/// `kind`, `mode`, `message_type`, `message_id`, `sender`, `subject_id`,
/// `detail`), plus, by mode:
/// - Decision: `proposals`, `evaluations`, `objections`, `votes` (proposal id
///   → sender → `vote`, `reason`), `tallies` (proposal id → `approve`,
///   `reject`, `abstain`);
/// - Proposal: `proposals` (with `proposer`, `disposition` Live/Withdrawn and
///   `status` open/rejected/withdrawn), `accepts` (sender → proposal id),
///   `rejections`, `agreed_proposal`;
/// - Task: `tasks` (with `status`, `progress`, `assignee`), `active_assignee`,
///   `updates`, `rejections`, `reports`;
/// - Handoff: `offers` (with `disposition` Offered/Accepted/Declined,
///   `settled_by`, `implicit`, `contexts`);
/// - Quorum: `requests`, `ballots` (request id → sender → `vote`
///   approve/reject/abstain), `tallies` (request id → `approve`, `reject`,
///   `abstain`, `required`, `reached`, `unreachable`);
/// - Multi-round: `contributions` (sender → latest value), `rounds`,
///   `converged`.
///
/// `*out` is a new NUL-terminated UTF-8 string owned by the caller: free it
/// with `macp_string_free`.
///
/// Ownership: borrows its arguments; on success `*out` is owned by the caller
/// (free with `macp_string_free`); on failure `*out` is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_projection_state_json(
    projection: *const macp_projection,
    out: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        arg_out(out, "out")?;
        *out = std::ptr::null_mut();
        let p = handle::get(projection)?;
        let json = lock(&p).to_json().to_string();
        write_string(out, &json);
        Ok(())
    })
}

/// The counted votes on a Decision proposal: each participant's first
/// APPROVE, REJECT or ABSTAIN. A proposal without votes, or not seen by this
/// projection, counts zero. Each output may be NULL. Fails with
/// `MACP_STATUS_INVALID_ARGUMENT` for a projection of another mode.
///
/// Ownership: borrows its arguments; on success each non-NULL output holds its
/// count; on failure they are untouched.
///
/// # Safety
/// `proposal_id` is NULL or NUL-terminated; outputs are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_decision_tally(
    projection: *const macp_projection,
    proposal_id: *const c_char,
    approve: *mut u32,
    reject: *mut u32,
    abstain: *mut u32,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let pid = arg_nonempty(proposal_id, "proposal_id")?;
        let p = handle::get(projection)?;
        let p = lock(&p);
        let d = p
            .decision()
            .ok_or_else(|| wrong_mode(p.mode(), crate::modes::DECISION))?;
        let t = d.tally(pid);
        put(approve, t.approve);
        put(reject, t.reject);
        put(abstain, t.abstain);
        Ok(())
    })
}

/// The ballots on a Quorum request (`request_id`, or NULL for the session's
/// one request, as Go's `""`): approvals, rejections, abstentions, the request's
/// `required_approvals`, and whether the approvals reach it. All zero/false
/// before the request is seen. Each output may be NULL. Fails with
/// `MACP_STATUS_INVALID_ARGUMENT` for a projection of another mode.
///
/// Ownership: borrows its arguments; on success each non-NULL output holds its
/// count; on failure they are untouched.
///
/// # Safety
/// `request_id` is NULL or NUL-terminated; outputs are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_quorum_tally(
    projection: *const macp_projection,
    request_id: *const c_char,
    approve: *mut u32,
    reject: *mut u32,
    abstain: *mut u32,
    required: *mut u32,
    reached: *mut bool,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let rid = arg_opt_str(request_id, "request_id")?;
        let p = handle::get(projection)?;
        let p = lock(&p);
        let q = p
            .quorum()
            .ok_or_else(|| wrong_mode(p.mode(), crate::modes::QUORUM))?;
        let (t, req, ok) = match q.request(rid) {
            Some(r) => (
                q.tally(&r.request_id),
                r.required_approvals,
                q.reached(&r.request_id),
            ),
            None => (Default::default(), 0, false),
        };
        put(approve, t.approve);
        put(reject, t.reject);
        put(abstain, t.abstain);
        put(required, req);
        put(reached, ok);
        Ok(())
    })
}

fn wrong_mode(is: &str, wanted: &str) -> Error {
    Error::invalid_argument(format!("the projection is of mode {is}, not {wanted}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::envelope::macp_envelope_encode;
    use crate::ffi::error::{macp_error_free, macp_error_message};
    use crate::ffi::strings::{macp_string_free, macp_string_ptr};
    use crate::modes::{DECISION, QUORUM};
    use macp_pb::decision_pb;
    use prost::Message;
    use std::ffi::CStr;

    fn encode(mode: &str, message_type: &str, id: &str, sender: &str, payload: &[u8]) -> Vec<u8> {
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let (mode, mt, sid, snd, mid) = (c(mode), c(message_type), c("s1"), c(sender), c(id));
        // Encode into `buf` (NULL: a size query); returns the status and size.
        let encode_into = |buf: Option<&mut [u8]>| {
            let (ptr, cap) = buf.map_or((std::ptr::null_mut(), 0), |b| (b.as_mut_ptr(), b.len()));
            let mut len = 0usize;
            let st = unsafe {
                macp_envelope_encode(
                    mode.as_ptr(),
                    mt.as_ptr(),
                    sid.as_ptr(),
                    snd.as_ptr(),
                    mid.as_ptr(),
                    payload.as_ptr(),
                    payload.len(),
                    ptr,
                    cap,
                    &mut len,
                    std::ptr::null_mut(),
                )
            };
            (st, len)
        };
        let (st, len) = encode_into(None);
        assert_eq!(st, Status::Ok);
        let mut small = vec![0u8; len - 1];
        assert_eq!(
            encode_into(Some(&mut small)),
            (Status::InvalidArgument, len)
        );
        let mut buf = vec![0u8; len];
        assert_eq!(encode_into(Some(&mut buf)), (Status::Ok, len));
        buf
    }

    #[test]
    fn projection_through_the_c_functions() {
        let mut p: *mut macp_projection = std::ptr::null_mut();
        let st = unsafe {
            macp_projection_new(
                c"macp.mode.decision.v1".as_ptr(),
                &mut p,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, Status::Ok);
        let prop = decision_pb::ProposalPayload {
            proposal_id: "p1".into(),
            option: "x".into(),
            ..Default::default()
        }
        .encode_to_vec();
        let vote = |v: &str| {
            decision_pb::VotePayload {
                proposal_id: "p1".into(),
                vote: v.into(),
                reason: String::new(),
            }
            .encode_to_vec()
        };
        for (id, who, mt, payload) in [
            ("m1", "alice", "Proposal", prop),
            ("m2", "alice", "Vote", vote("APPROVE")),
            ("m3", "bob", "Vote", vote("REJECT")),
            ("m3", "bob", "Vote", vote("REJECT")),
            ("m4", "bob", "Vote", vote("APPROVE")),
        ] {
            let e = encode(DECISION, mt, id, who, &payload);
            let st = unsafe { macp_projection_apply(p, e.as_ptr(), e.len(), std::ptr::null_mut()) };
            assert_eq!(st, Status::Ok);
        }
        let (mut a, mut r, mut x) = (9u32, 9u32, 9u32);
        let st = unsafe {
            macp_decision_tally(
                p,
                c"p1".as_ptr(),
                &mut a,
                &mut r,
                &mut x,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, Status::Ok);
        assert_eq!((a, r, x), (1, 1, 0));

        let mut s: *mut macp_string = std::ptr::null_mut();
        let st = unsafe { macp_projection_state_json(p, &mut s, std::ptr::null_mut()) };
        assert_eq!(st, Status::Ok);
        let j: serde_json::Value = serde_json::from_str(
            unsafe { CStr::from_ptr(macp_string_ptr(s)) }
                .to_str()
                .unwrap(),
        )
        .unwrap();
        macp_string_free(s);
        assert_eq!(j["applied"], 4);
        assert_eq!(j["anomalies"][0]["message_id"], "m4");

        // Wrong mode for the tally, wrong mode of envelope, garbage.
        let mut err: *mut macp_error = std::ptr::null_mut();
        let st = unsafe {
            macp_quorum_tally(
                p,
                std::ptr::null(),
                &mut a,
                &mut r,
                &mut x,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut err,
            )
        };
        assert_eq!(st, Status::InvalidArgument);
        let msg = unsafe { CStr::from_ptr(macp_error_message(err)) };
        assert!(msg.to_str().unwrap().contains(QUORUM));
        macp_error_free(err);
        let e = encode(QUORUM, "Approve", "m9", "a", &[]);
        let st = unsafe { macp_projection_apply(p, e.as_ptr(), e.len(), std::ptr::null_mut()) };
        assert_eq!(st, Status::InvalidArgument);
        let st = unsafe { macp_projection_apply(p, [0xffu8].as_ptr(), 1, std::ptr::null_mut()) };
        assert_eq!(st, Status::InvalidArgument);

        macp_projection_free(p);
        macp_projection_free(p);
        let st = unsafe { macp_projection_apply(p, std::ptr::null(), 0, std::ptr::null_mut()) };
        assert_eq!(st, Status::InvalidHandle);
    }
}
