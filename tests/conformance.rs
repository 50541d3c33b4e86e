//! The MACP conformance transcripts (`$MACP_VECTORS_DIR/conformance/*.json`,
//! default `../shared/vectors`), run through the C ABI against a real
//! runtime: one fresh runtime per transcript, one client per identity.
//!
//! For each transcript the runner
//! 1. registers its inline `policy`, if any (`macp_client_register_policy`);
//! 2. starts the session as the `initiator` with the transcript's mode,
//!    participants, versions and TTL (`macp_session_start`);
//! 3. sends every message as its `sender`, with the payload given as the
//!    transcript's JSON and encoded by libmacp into `payload_type`:
//!    participants through `macp_session_send_json` on a session they opened;
//!    senders that cannot open the session (outsiders), messages with
//!    `envelope` overrides and timed messages (`accepted_at_ms`) as a whole
//!    envelope through `macp_client_send_envelope`, with the payload from
//!    `macp_payload_from_json`;
//! 4. checks each accept/reject and `expected_error_code`, then the final
//!    state (`macp_session_get_info`), and, from the accepted history read
//!    back with a session watcher (`macp_session_watch`), the resolution
//!    (`expected_resolution` fields, `expect_resolution_present`), the exact
//!    `expected_history` (with synthetic entries), and the projection's
//!    `expected_mode_state` (`macp_projection_*`).
//!
//! Timed transcripts: `accepted_at_ms` is an acceptance time on the
//! session's timeline. The reference runtime takes its acceptance clock from
//! real time and offers no way to supply it, so the runner sends each timed
//! message no earlier than that many milliseconds after the session was
//! started, which reproduces the timeline (deadlines fall between the same
//! messages) as long as each send takes less than the gap to the next
//! deadline.
//!
//! Every transcript is reported by name (`conformance <name>: ok`); the test
//! fails listing every transcript that failed and why. Keys starting with `_`
//! are ignored, as the schema requires.

mod support;

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use macp::ffi::*;
use macp::{pb, Status};
use prost::Message;
use serde_json::Value;
use support::{take_string, transcripts, vectors_dir, Runtime};

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn c(s: &str) -> CString {
    CString::new(s).expect("transcript strings carry no NUL")
}

/// A failed C call: its registry code (or SDK status name) and message.
#[derive(Debug)]
struct Failure {
    status: Status,
    code: String,
    message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?}): {}", self.code, self.status, self.message)
    }
}

/// Run a C call that takes a trailing `macp_error **`.
fn call(f: impl FnOnce(*mut *mut macp_error) -> Status) -> Result<(), Failure> {
    let mut err: *mut macp_error = std::ptr::null_mut();
    let status = f(&mut err);
    if status == Status::Ok {
        assert!(err.is_null(), "success left an error object");
        return Ok(());
    }
    assert!(!err.is_null(), "failure {status:?} without an error object");
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    let failure = Failure {
        status,
        code: text(macp_error_code(err)),
        message: text(macp_error_message(err)),
    };
    assert_eq!(macp_error_status(err), status);
    macp_error_free(err);
    Err(failure)
}

/// One identity: its client and, once opened, its handle on the session.
struct Party {
    client: *mut macp_client,
    session: Option<*mut macp_session>,
    /// `macp_session_open` failed (not a participant): send whole envelopes.
    outsider: bool,
}

impl Drop for Party {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            macp_session_free(s);
        }
        macp_client_free(self.client);
    }
}

fn connect(target: &str, identity: &str) -> Party {
    let mut opts = std::ptr::null_mut();
    call(|e| unsafe { macp_client_options_new(&mut opts, e) }).unwrap();
    let t = c(target);
    let id = c(identity);
    call(|e| unsafe { macp_client_options_set_target(opts, t.as_ptr(), e) }).unwrap();
    call(|e| unsafe { macp_client_options_set_bearer_token(opts, id.as_ptr(), e) }).unwrap();
    call(|e| macp_client_options_set_allow_insecure(opts, true, e)).unwrap();
    let mut client = std::ptr::null_mut();
    let r = call(|e| unsafe { macp_client_new(opts, &mut client, std::ptr::null(), e) });
    macp_client_options_free(opts);
    r.unwrap_or_else(|f| panic!("connecting as {identity}: {f}"));
    Party {
        client,
        session: None,
        outsider: false,
    }
}

/// Accepted envelopes of a session, collected by a watcher callback.
#[derive(Default)]
struct History {
    envelopes: Mutex<Vec<pb::Envelope>>,
    changed: Condvar,
}

unsafe extern "C" fn on_event(event: *const macp_event, user_data: *mut c_void) {
    let history = &*(user_data as *const History);
    let ev = &*event;
    if ev.kind == macp_event_kind::MACP_EVENT_ENVELOPE && !ev.raw.is_null() {
        let bytes = std::slice::from_raw_parts(ev.raw, ev.raw_len);
        if let Ok(env) = pb::Envelope::decode(bytes) {
            history.envelopes.lock().unwrap().push(env);
            history.changed.notify_all();
        }
    }
}

/// The session's accepted history up to and including `last_message_id`.
fn read_history(
    session: *mut macp_session,
    last_message_id: &str,
) -> Result<Vec<pb::Envelope>, String> {
    let history = Box::new(History::default());
    let mut watcher = std::ptr::null_mut();
    let opts = macp_watch_options_default();
    call(|e| unsafe {
        macp_session_watch(
            session,
            0,
            &opts,
            Some(on_event),
            &*history as *const History as *mut c_void,
            &mut watcher,
            std::ptr::null(),
            e,
        )
    })
    .map_err(|f| format!("watching the session: {f}"))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = history.envelopes.lock().unwrap();
    while !got.iter().any(|e| e.message_id == last_message_id) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        got = history.changed.wait_timeout(got, left).unwrap().0;
    }
    let envelopes = got.clone();
    drop(got);
    macp_watcher_close(watcher);
    drop(history);
    if !envelopes.iter().any(|e| e.message_id == last_message_id) {
        return Err(format!(
            "the accepted history never showed message {last_message_id} ({} envelopes seen)",
            envelopes.len()
        ));
    }
    Ok(envelopes)
}

/// `expected` is contained in `actual`: objects by the keys `expected`
/// names (keys starting with `_` ignored), arrays element by element with
/// equal length, numbers numerically, other scalars by value.
fn contains(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e.iter().filter(|(k, _)| !k.starts_with('_')) {
                match a.get(k) {
                    Some(av) => contains(ev, av, &format!("{path}.{k}"), out),
                    None if ev.is_null() => {}
                    None => out.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("{path}: {} entries, expected {}", a.len(), e.len()));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                contains(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        // 64-bit integers may be rendered as strings by the JSON mapping.
        (Value::Number(e), Value::String(a)) if a.parse::<f64>().ok() == e.as_f64() => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: {a}, expected {e}")),
    }
}

fn payload_json(type_name: &str, bytes: &[u8]) -> Result<Value, String> {
    let t = c(type_name);
    let mut out = std::ptr::null_mut();
    call(|e| unsafe { macp_payload_to_json(t.as_ptr(), bytes.as_ptr(), bytes.len(), &mut out, e) })
        .map_err(|f| format!("decoding a {type_name}: {f}"))?;
    serde_json::from_str(&take_string(out)).map_err(|e| e.to_string())
}

/// The payload type of an accepted envelope, for decoding history entries:
/// the library's rule (`macp_payload_type`).
fn history_payload_type(mode: &str, message_type: &str) -> Result<String, String> {
    let (m, mt) = (c(mode), c(message_type));
    let mut out = std::ptr::null_mut();
    call(|e| unsafe { macp_payload_type(m.as_ptr(), mt.as_ptr(), &mut out, e) })
        .map_err(|f| format!("the payload type of {message_type} in {mode}: {f}"))?;
    Ok(take_string(out))
}

fn state_name(s: macp_session_state) -> &'static str {
    match s {
        macp_session_state::MACP_SESSION_STATE_OPEN => "Open",
        macp_session_state::MACP_SESSION_STATE_RESOLVED => "Resolved",
        macp_session_state::MACP_SESSION_STATE_EXPIRED => "Expired",
        macp_session_state::MACP_SESSION_STATE_SUSPENDED => "Suspended",
        macp_session_state::MACP_SESSION_STATE_CANCELLED => "Cancelled",
        _ => "Unspecified",
    }
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Run one transcript; `Err` lists what did not match.
fn run(name: &str, t: &Value) -> Result<(), Vec<String>> {
    // Ended sessions keep their full history, for replay.
    let rt = Runtime::start_with(&[("MACP_COMPACT_TERMINAL_LOGS", "0")]);
    let target = rt.target();
    let mut problems = Vec::new();
    let mode = str_of(t, "mode");
    let initiator = str_of(t, "initiator");
    let mut parties: BTreeMap<String, Party> = BTreeMap::new();
    parties.insert(initiator.to_string(), connect(&target, initiator));

    // 1. The inline policy.
    if let Some(policy) = t.get("policy") {
        let mut policy = policy.clone();
        if let Some(o) = policy.as_object_mut() {
            o.retain(|k, _| !k.starts_with('_'));
        }
        let p = c(&policy.to_string());
        let client = parties[initiator].client;
        call(|e| unsafe { macp_client_register_policy(client, p.as_ptr(), std::ptr::null(), e) })
            .map_err(|f| vec![format!("registering the transcript's policy: {f}")])?;
    }

    // 2. The session.
    let mut so = std::ptr::null_mut();
    call(|e| unsafe { macp_start_options_new(&mut so, e) }).unwrap();
    let set = |f: unsafe extern "C" fn(
        *mut macp_start_options,
        *const c_char,
        *mut *mut macp_error,
    ) -> Status,
               v: &str| {
        let v = c(v);
        call(|e| unsafe { f(so, v.as_ptr(), e) }).unwrap();
    };
    set(
        macp_start_options_set_intent,
        &format!("conformance: {name}"),
    );
    set(
        macp_start_options_set_mode_version,
        str_of(t, "mode_version"),
    );
    set(
        macp_start_options_set_configuration_version,
        str_of(t, "configuration_version"),
    );
    if let Some(pv) = t.get("policy_version").and_then(Value::as_str) {
        set(macp_start_options_set_policy_version, pv);
    }
    for p in t["participants"].as_array().into_iter().flatten() {
        set(macp_start_options_add_participant, p.as_str().unwrap_or(""));
    }
    let ttl = t["ttl_ms"].as_i64().unwrap_or(60_000);
    call(|e| macp_start_options_set_ttl_ms(so, ttl, e)).unwrap();
    let m = c(mode);
    let mut session = std::ptr::null_mut();
    let mut ack = unsafe { std::mem::zeroed::<macp_ack>() };
    let started = call(|e| unsafe {
        macp_session_start(
            parties[initiator].client,
            m.as_ptr(),
            so,
            &mut session,
            &mut ack,
            std::ptr::null(),
            e,
        )
    });
    macp_start_options_free(so);
    started.map_err(|f| vec![format!("starting the session: {f}")])?;
    let timeline = Instant::now();
    let session_id = unsafe { CStr::from_ptr(ack.session_id.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    parties.get_mut(initiator).unwrap().session = Some(session);
    let mut last_accepted = unsafe { CStr::from_ptr(ack.message_id.as_ptr()) }
        .to_string_lossy()
        .into_owned();

    // 3. The messages.
    let timed = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m.get("accepted_at_ms").is_some());
    for (i, msg) in t["messages"].as_array().unwrap().iter().enumerate() {
        let sender = str_of(msg, "sender");
        let message_type = str_of(msg, "message_type");
        let payload_type = str_of(msg, "payload_type");
        let payload = msg["payload"].to_string();
        let step = format!("message {i} ({message_type} from {sender})");
        if !parties.contains_key(sender) {
            parties.insert(sender.to_string(), connect(&target, sender));
        }
        let party = parties.get_mut(sender).unwrap();
        if party.session.is_none() && !party.outsider {
            let sid = c(&session_id);
            let mut h = std::ptr::null_mut();
            match call(|e| unsafe {
                macp_session_open(party.client, sid.as_ptr(), &mut h, std::ptr::null(), e)
            }) {
                Ok(()) => party.session = Some(h),
                Err(_) => party.outsider = true,
            }
        }
        if let Some(at) = msg.get("accepted_at_ms").and_then(Value::as_u64) {
            let due = timeline + Duration::from_millis(at);
            // The transcript's timeline, not a wait for an event: see the
            // module comment.
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let overrides = msg.get("envelope");
        let mut ack = unsafe { std::mem::zeroed::<macp_ack>() };
        let message_id = macp::client::new_id();
        let result = if overrides.is_none() && !timed && !party.outsider {
            let (mt, pt, pj, id) = (
                c(message_type),
                c(payload_type),
                c(&payload),
                c(&message_id),
            );
            let s = party.session.unwrap();
            let opts = macp_call_options {
                message_id: id.as_ptr(),
                ..macp_call_options_default()
            };
            call(|e| unsafe {
                macp_session_send_json(s, mt.as_ptr(), pt.as_ptr(), pj.as_ptr(), &mut ack, &opts, e)
            })
        } else {
            let o = overrides.cloned().unwrap_or(Value::Null);
            let (pt, pj) = (c(payload_type), c(&payload));
            let mut len = 0usize;
            call(|e| unsafe {
                macp_payload_from_json(
                    pt.as_ptr(),
                    pj.as_ptr(),
                    std::ptr::null_mut(),
                    0,
                    &mut len,
                    e,
                )
            })
            .and_then(|()| {
                let mut bytes = vec![0u8; len];
                call(|e| unsafe {
                    macp_payload_from_json(
                        pt.as_ptr(),
                        pj.as_ptr(),
                        bytes.as_mut_ptr(),
                        len,
                        &mut len,
                        e,
                    )
                })?;
                let env = pb::Envelope {
                    macp_version: o
                        .get("macp_version")
                        .and_then(Value::as_str)
                        .unwrap_or("1.0")
                        .into(),
                    mode: o.get("mode").and_then(Value::as_str).unwrap_or(mode).into(),
                    message_type: message_type.into(),
                    message_id: message_id.clone(),
                    session_id: o
                        .get("session_id")
                        .and_then(Value::as_str)
                        .unwrap_or(&session_id)
                        .into(),
                    sender: sender.into(),
                    timestamp_unix_ms: o
                        .get("timestamp_unix_ms")
                        .and_then(Value::as_i64)
                        .unwrap_or(if timed { 0 } else { now_unix_ms() }),
                    payload: bytes,
                }
                .encode_to_vec();
                call(|e| unsafe {
                    macp_client_send_envelope(
                        party.client,
                        env.as_ptr(),
                        env.len(),
                        &mut ack,
                        std::ptr::null(),
                        e,
                    )
                })
            })
        };
        match (str_of(msg, "expect"), result) {
            ("accept", Ok(())) => {
                let id = unsafe { CStr::from_ptr(ack.message_id.as_ptr()) }
                    .to_string_lossy()
                    .into_owned();
                if id != message_id {
                    problems.push(format!(
                        "{step}: acknowledged as {id}, sent as {message_id}"
                    ));
                }
                if o_session(msg).is_none() {
                    last_accepted = message_id;
                }
            }
            ("accept", Err(f)) => problems.push(format!("{step}: rejected, expected accept: {f}")),
            ("reject", Ok(())) => problems.push(format!("{step}: accepted, expected reject")),
            ("reject", Err(f)) => {
                if let Some(code) = msg.get("expected_error_code").and_then(Value::as_str) {
                    if f.code != code {
                        problems.push(format!("{step}: rejected with {f}, expected {code}"));
                    }
                }
            }
            (other, _) => problems.push(format!("{step}: unknown expectation {other:?}")),
        }
    }

    // 4. Final state, resolution, history, mode state.
    let mut info = std::ptr::null_mut();
    match call(|e| unsafe { macp_session_get_info(session, &mut info, std::ptr::null(), e) }) {
        Ok(()) => {
            let state = state_name(unsafe { support::info_metadata(info) }.state);
            macp_session_info_free(info);
            let want = str_of(t, "expected_final_state");
            if state != want {
                problems.push(format!("final state {state}, expected {want}"));
            }
        }
        Err(f) => problems.push(format!("reading the final state: {f}")),
    }
    let history = match read_history(session, &last_accepted) {
        Ok(h) => h,
        Err(e) => {
            problems.push(e);
            return Err(problems);
        }
    };
    // Entries after the SessionStart, decoded.
    let mut entries = Vec::new();
    for env in history.iter().skip(1) {
        let decoded = history_payload_type(&env.mode, &env.message_type)
            .and_then(|pt| payload_json(&pt, &env.payload));
        match decoded {
            Ok(p) => entries.push((env, p)),
            Err(e) => problems.push(format!("history entry {}: {e}", env.message_id)),
        }
    }
    let commitment = entries
        .iter()
        .rev()
        .find(|(e, _)| e.message_type == "Commitment");
    let resolved = str_of(t, "expected_final_state") == "Resolved";
    if let Some(present) = t.get("expect_resolution_present").and_then(Value::as_bool) {
        let has = resolved && commitment.is_some();
        if has != present {
            problems.push(format!("resolution present: {has}, expected {present}"));
        }
    }
    if let Some(want) = t.get("expected_resolution") {
        match commitment {
            Some((_, got)) => contains(want, got, "resolution", &mut problems),
            None => problems.push("no resolving Commitment in the accepted history".into()),
        }
    }
    if let Some(want) = t.get("expected_history").and_then(Value::as_array) {
        if want.len() != entries.len() {
            problems.push(format!(
                "history has {} entries after SessionStart, expected {}: {:?}",
                entries.len(),
                want.len(),
                entries
                    .iter()
                    .map(|(e, _)| e.message_type.as_str())
                    .collect::<Vec<_>>()
            ));
        }
        for (i, (w, (env, p))) in want.iter().zip(&entries).enumerate() {
            if str_of(w, "message_type") != env.message_type || str_of(w, "sender") != env.sender {
                problems.push(format!(
                    "history[{i}]: {} from {}, expected {} from {}",
                    env.message_type,
                    env.sender,
                    str_of(w, "message_type"),
                    str_of(w, "sender")
                ));
            }
            if let Some(wp) = w.get("payload") {
                contains(wp, p, &format!("history[{i}].payload"), &mut problems);
            }
        }
    }
    if let Some(want) = t.get("expected_mode_state") {
        match mode_state(mode, &history) {
            Ok(got) => contains(want, &got, "mode_state", &mut problems),
            Err(e) => problems.push(e),
        }
    }
    if t.get("verify_replay_equivalence").and_then(Value::as_bool) == Some(true) {
        if let Err(e) = replay_equivalence(parties[initiator].client, &session_id, t) {
            problems.push(e);
        }
    }
    drop(parties);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Replaying the accepted history under the session's own policy (the
/// transcript's inline one, or the registered `policy_version`) must agree
/// with the recorded run on every entry and on the outcome (`WhatIfReplay`).
fn replay_equivalence(client: *mut macp_client, session_id: &str, t: &Value) -> Result<(), String> {
    let policy = match t.get("policy") {
        Some(p) => {
            let mut p = p.clone();
            if let Some(o) = p.as_object_mut() {
                o.retain(|k, _| !k.starts_with('_'));
            }
            p.to_string()
        }
        None => {
            let id = c(t
                .get("policy_version")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or("policy.default"));
            let mut out = std::ptr::null_mut();
            call(|e| unsafe {
                macp_client_get_policy(client, id.as_ptr(), &mut out, std::ptr::null(), e)
            })
            .map_err(|f| format!("reading the session's policy: {f}"))?;
            take_string(out)
        }
    };
    let (sid, cand) = (c(session_id), c(&policy));
    let mut out = std::ptr::null_mut();
    call(|e| unsafe {
        macp_client_what_if_replay(
            client,
            sid.as_ptr(),
            cand.as_ptr(),
            &mut out,
            std::ptr::null(),
            e,
        )
    })
    .map_err(|f| format!("replaying the session: {f}"))?;
    let r: Value = serde_json::from_str(&take_string(out)).map_err(|e| e.to_string())?;
    if !r["first_divergence"].is_null() {
        return Err(format!(
            "replay diverges at history entry {}",
            r["first_divergence"]
        ));
    }
    if r["recorded"] != r["candidate"] {
        return Err(format!(
            "replay outcome {} differs from the recorded {}",
            r["candidate"], r["recorded"]
        ));
    }
    Ok(())
}

/// The session id a message overrides, if any.
fn o_session(msg: &Value) -> Option<&str> {
    msg.get("envelope")?.get("session_id")?.as_str()
}

/// The projection's snapshot after applying the accepted history.
fn mode_state(mode: &str, history: &[pb::Envelope]) -> Result<Value, String> {
    let m = c(mode);
    let mut p = std::ptr::null_mut();
    call(|e| unsafe { macp_projection_new(m.as_ptr(), &mut p, e) })
        .map_err(|f| format!("projection: {f}"))?;
    let mut result = Ok(());
    for env in history {
        let bytes = env.encode_to_vec();
        if let Err(f) =
            call(|e| unsafe { macp_projection_apply(p, bytes.as_ptr(), bytes.len(), e) })
        {
            result = Err(format!("projection refused {}: {f}", env.message_id));
            break;
        }
    }
    let mut out = std::ptr::null_mut();
    let snap = result.and_then(|()| {
        call(|e| unsafe { macp_projection_state_json(p, &mut out, e) })
            .map_err(|f| format!("projection state: {f}"))
    });
    macp_projection_free(p);
    snap?;
    serde_json::from_str(&take_string(out)).map_err(|e| e.to_string())
}

/// Run every transcript (or `MACP_CONFORMANCE_ONLY`), reporting each by
/// name; `edit` may change a transcript before it runs.
fn run_all(tag: &str, edit: impl Fn(&mut Value)) {
    let all = transcripts();
    assert!(
        !all.is_empty(),
        "no transcripts in {}",
        vectors_dir().join("conformance").display()
    );
    let only = std::env::var("MACP_CONFORMANCE_ONLY").ok();
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, t) in all {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut t = t;
        edit(&mut t);
        ran += 1;
        match run(&name, &t) {
            Ok(()) => println!("{tag} {name}: ok"),
            Err(problems) => {
                println!("{tag} {name}: FAILED");
                for p in &problems {
                    println!("    {p}");
                }
                failed.push(format!("{name}: {}", problems.join("; ")));
            }
        }
    }
    assert!(ran > 0, "no transcript matched MACP_CONFORMANCE_ONLY");
    assert!(
        failed.is_empty(),
        "{} of {ran} transcripts failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Every transcript as written.
#[test]
fn conformance_transcripts() {
    run_all("conformance", |_| {});
}

/// Every transcript again with `verify_replay_equivalence` set, which none of
/// the published ones sets today: replaying each session under its own
/// policy must reproduce it.
#[test]
fn conformance_transcripts_replay_equivalently() {
    run_all("conformance (replay)", |t| {
        t["verify_replay_equivalence"] = Value::Bool(true);
    });
}

/// The runner itself can fail: a transcript written here (independent of the
/// vectors directory) passes as written, and the same transcript with each
/// kind of expectation made wrong is reported with every disagreement named.
#[test]
fn runner_reports_every_disagreement() {
    let transcript = serde_json::json!({
        "mode": "macp.mode.decision.v1",
        "initiator": "agent://lead",
        "participants": ["agent://lead", "agent://a"],
        "mode_version": "1.0.0",
        "configuration_version": "cfg-1",
        "ttl_ms": 60000,
        "messages": [
            {"sender": "agent://lead", "message_type": "Proposal",
             "payload_type": "macp.modes.decision.v1.ProposalPayload",
             "payload": {"proposal_id": "p1", "option": "deploy"}, "expect": "accept"},
            {"sender": "agent://outsider", "message_type": "Vote",
             "payload_type": "macp.modes.decision.v1.VotePayload",
             "payload": {"proposal_id": "p1", "vote": "APPROVE"},
             "expect": "reject", "expected_error_code": "FORBIDDEN"},
            {"sender": "agent://a", "message_type": "Vote",
             "payload_type": "macp.modes.decision.v1.VotePayload",
             "payload": {"proposal_id": "p1", "vote": "APPROVE"}, "expect": "accept"},
            {"sender": "agent://lead", "message_type": "Commitment",
             "payload_type": "macp.v1.CommitmentPayload",
             "payload": {"commitment_id": "c1", "action": "decision.selected",
                         "authority_scope": "test", "reason": "done",
                         "mode_version": "1.0.0", "policy_version": "policy.default",
                         "configuration_version": "cfg-1", "outcome_positive": true},
             "expect": "accept"}
        ],
        "expected_final_state": "Resolved",
        "expect_resolution_present": true,
        "expected_resolution": {"action": "decision.selected", "outcome_positive": true},
        "expected_history": [
            {"message_type": "Proposal", "sender": "agent://lead"},
            {"message_type": "Vote", "sender": "agent://a"},
            {"message_type": "Commitment", "sender": "agent://lead"}
        ],
        "expected_mode_state": {"votes": {"p1": {"agent://a": {"vote": "APPROVE"}}}}
    });
    if let Err(problems) = run("runner_self_check", &transcript) {
        panic!("the transcript as written: {problems:?}");
    }

    let mut wrong = transcript.clone();
    wrong["messages"][0]["expect"] = "reject".into();
    wrong["messages"][1]["expected_error_code"] = "SESSION_NOT_FOUND".into();
    wrong["expected_resolution"]["outcome_positive"] = false.into();
    wrong["expected_history"][1]["sender"] = "agent://b".into();
    wrong["expected_mode_state"]["votes"]["p1"]["agent://a"]["vote"] = "REJECT".into();
    let problems = run("runner_self_check_wrong", &wrong)
        .expect_err("a transcript that disagrees with the runtime must fail");
    let expected = [
        "message 0 (Proposal from agent://lead): accepted, expected reject",
        "message 1 (Vote from agent://outsider): rejected with FORBIDDEN",
        "resolution.outcome_positive: true, expected false",
        "history[1]: Vote from agent://a, expected Vote from agent://b",
        "mode_state.votes.p1.agent://a.vote: \"APPROVE\", expected \"REJECT\"",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "no problem starting {e:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");

    // A final state that differs: the session is left open.
    let mut open = transcript.clone();
    open["messages"].as_array_mut().unwrap().pop();
    let problems = run("runner_self_check_open", &open).expect_err("still open");
    assert!(
        problems
            .iter()
            .any(|p| p == "final state Open, expected Resolved"),
        "{problems:#?}"
    );
}
