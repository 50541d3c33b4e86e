//! Discovery, the extension-mode and policy registries, and what-if replay
//! from C. Structured answers come back as JSON text (protobuf's JSON
//! mapping with the `.proto` field names and every field present), owned by
//! the caller and freed with `macp_string_free`; structured inputs (a mode
//! descriptor, a policy) are JSON too.

use std::ffi::c_char;

use serde_json::Value;

use super::args::{arg_nonempty, arg_opt_str, arg_out, arg_str};
use super::call::{block, macp_call_options, Kind};
use super::client::macp_client;
use super::error::guard;
use super::error::macp_error;
use super::handle;
use super::strings::{macp_string, write_string};
use crate::error::{Result, Status};
use crate::payload;
use crate::registry;

/// Check `out`, clear it, run `f` and hand its JSON to the caller.
unsafe fn json_out(
    out: *mut *mut macp_string,
    error: *mut *mut macp_error,
    f: impl FnOnce() -> Result<Value>,
) -> Status {
    guard(error, || {
        arg_out(out, "out_json")?;
        *out = std::ptr::null_mut();
        let v = f()?;
        write_string(out, &v.to_string());
        Ok(())
    })
}

/// The runtime's `Initialize` answer as JSON: `selected_protocol_version`,
/// `runtime_info`, `capabilities`, `supported_modes`, `instructions`. Read
/// `capabilities` to see which optional calls the runtime serves; a call it
/// did not advertise fails with `MACP_STATUS_UNSUPPORTED` before anything is
/// sent. `*out_json` is owned by the caller (`macp_string_free`), NULL on
/// failure. Makes no call.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_initialize_json(
    client: *const macp_client,
    out_json: *mut *mut macp_string,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let c = &handle::get(client)?.client;
        payload::message_value("macp.v1.InitializeResponse", c.initialize_response())
    })
}

/// `GetManifest`: the manifest of the runtime (`agent_id` NULL or empty) or
/// of an agent it knows, as an `AgentManifest` JSON object in `*out_json`
/// (caller frees with `macp_string_free`; NULL on failure). Needs
/// `capabilities.manifest.get_manifest`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `agent_id` is NULL or NUL-terminated; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_manifest(
    client: *const macp_client,
    agent_id: *const c_char,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let agent_id = arg_opt_str(agent_id, "agent_id")?.unwrap_or("");
        let c = &handle::get(client)?.client;
        let m = block(call, Kind::Other, c.get_manifest(agent_id))?;
        payload::message_value("macp.v1.AgentManifest", &m)
    })
}

/// `ListModes`: the standards-track modes, as a JSON array of
/// `ModeDescriptor` objects in `*out_json` (caller frees with
/// `macp_string_free`). Needs `capabilities.mode_registry.list_modes`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_modes(
    client: *const macp_client,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let c = &handle::get(client)?.client;
        let modes = block(call, Kind::Other, c.list_modes())?;
        registry::messages_value("macp.v1.ModeDescriptor", &modes)
    })
}

/// `ListExtModes`: the extension modes (built in and registered), as
/// `macp_client_list_modes` reports modes.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_ext_modes(
    client: *const macp_client,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let c = &handle::get(client)?.client;
        let modes = block(call, Kind::Other, c.list_ext_modes())?;
        registry::messages_value("macp.v1.ModeDescriptor", &modes)
    })
}

/// `RegisterExtMode`: register an extension mode described by
/// `descriptor_json`, a `ModeDescriptor` JSON object (`mode` required and
/// outside `macp.mode.*`; `mode_version`, `title`, `description`,
/// `determinism_class`, `participant_model`, `message_types`,
/// `terminal_message_types`, `schema_uris`). Unknown fields are refused with
/// `MACP_STATUS_INVALID_ARGUMENT`. A refusal by the runtime (a duplicate or
/// reserved name) is `MACP_STATUS_RPC` with its message, or the registry
/// status its message names.
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `descriptor_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_client_register_ext_mode(
    client: *const macp_client,
    descriptor_json: *const c_char,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let d = registry::mode_descriptor_from_json(arg_str(descriptor_json, "descriptor_json")?)?;
        let c = &handle::get(client)?.client;
        block(call, Kind::Other, c.register_ext_mode(d))
    })
}

/// `UnregisterExtMode`: remove a registered extension mode (built-in modes
/// cannot be removed).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `mode` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_client_unregister_ext_mode(
    client: *const macp_client,
    mode: *const c_char,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let mode = arg_nonempty(mode, "mode")?;
        let c = &handle::get(client)?.client;
        block(call, Kind::Other, c.unregister_ext_mode(mode))
    })
}

/// `PromoteMode`: promote an extension mode to standards-track, renamed to
/// `promoted_mode_name` unless it is NULL or empty. `*out_mode` (may be NULL
/// to ignore) receives the mode's identifier after promotion, owned by the
/// caller (`macp_string_free`).
///
/// Ownership: borrows its arguments; on success `*out_mode` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_mode` is NULL.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `out_mode` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_promote_mode(
    client: *const macp_client,
    mode: *const c_char,
    promoted_mode_name: *const c_char,
    out_mode: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        if !out_mode.is_null() {
            *out_mode = std::ptr::null_mut();
        }
        let mode = arg_nonempty(mode, "mode")?;
        let renamed = arg_opt_str(promoted_mode_name, "promoted_mode_name")?.unwrap_or("");
        let c = &handle::get(client)?.client;
        let now = block(call, Kind::Other, c.promote_mode(mode, renamed))?;
        if !out_mode.is_null() {
            write_string(out_mode, &now);
        }
        Ok(())
    })
}

/// `ListRoots`: the runtime's resource roots, a JSON array of
/// `{"uri", "name"}` objects in `*out_json` (caller frees with
/// `macp_string_free`). Needs `capabilities.roots.list_roots`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_roots(
    client: *const macp_client,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let c = &handle::get(client)?.client;
        let roots = block(call, Kind::Other, c.list_roots())?;
        registry::messages_value("macp.v1.Root", &roots)
    })
}

/// `RegisterPolicy`: register the governance policy `policy_json`, written
/// as RFC-MACP-0012 writes a definition: `{"policy_id", "mode",
/// "description", "schema_version", "rules"}` with `rules` a JSON object (a
/// string holding one is accepted too). Unknown top-level fields are
/// refused with `MACP_STATUS_INVALID_ARGUMENT`. The runtime's refusal of
/// the definition is `MACP_STATUS_INVALID_POLICY_DEFINITION`; a duplicate
/// `policy_id` is `MACP_STATUS_RPC`. Needs
/// `capabilities.policy_registry.register_policy`.
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `policy_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_client_register_policy(
    client: *const macp_client,
    policy_json: *const c_char,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let p = registry::policy_from_json(arg_str(policy_json, "policy_json")?)?;
        let c = &handle::get(client)?.client;
        block(call, Kind::Other, c.register_policy(p))
    })
}

/// `UnregisterPolicy` (`policy.default` cannot be removed).
///
/// Ownership: borrows its arguments.
///
/// # Safety
/// `policy_id` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn macp_client_unregister_policy(
    client: *const macp_client,
    policy_id: *const c_char,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    guard(error, || {
        let id = arg_nonempty(policy_id, "policy_id")?;
        let c = &handle::get(client)?.client;
        block(call, Kind::Other, c.unregister_policy(id))
    })
}

/// `GetPolicy`: the policy as a JSON object in the form
/// `macp_client_register_policy` takes (`rules` an object), plus
/// `registered_at_unix_ms`. `*out_json` is owned by the caller
/// (`macp_string_free`). Needs `capabilities.policy_registry.list_policies`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `policy_id` is NULL or NUL-terminated; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_get_policy(
    client: *const macp_client,
    policy_id: *const c_char,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let id = arg_nonempty(policy_id, "policy_id")?;
        let c = &handle::get(client)?.client;
        let p = block(call, Kind::Other, c.get_policy(id))?;
        Ok(registry::policy_to_value(&p))
    })
}

/// `ListPolicies`: every registered policy (`mode` NULL or empty) or those
/// targeting `mode`, as a JSON array of objects like `macp_client_get_policy`
/// returns. `*out_json` is owned by the caller (`macp_string_free`).
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// `mode` is NULL or NUL-terminated; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_list_policies(
    client: *const macp_client,
    mode: *const c_char,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let mode = arg_opt_str(mode, "mode")?.unwrap_or("");
        let c = &handle::get(client)?.client;
        let ps = block(call, Kind::Other, c.list_policies(mode))?;
        Ok(Value::Array(
            ps.iter().map(registry::policy_to_value).collect(),
        ))
    })
}

/// `WhatIfReplay`: replay the session's accepted history under the
/// candidate policy `candidate_json` (the form `macp_client_register_policy`
/// takes; never registered) and report how the outcome would differ. The
/// `WhatIfReplayResponse` comes back as JSON in `*out_json` (caller frees
/// with `macp_string_free`): `recorded` and `candidate` outcomes (with
/// `resolution` decoded to the Commitment's fields, base64 when the bytes are
/// not a Commitment, or null), `first_divergence`
/// (null when the replays agree), `denials` and `entries` (with `details`
/// inlined as JSON, or null). Needs
/// `capabilities.policy_registry.what_if_replay`; a session whose history
/// was compacted fails with `MACP_STATUS_HISTORY_UNAVAILABLE`.
///
/// Ownership: borrows its arguments; on success `*out_json` is owned by the
/// caller (free with `macp_string_free`); on failure `*out_json` is NULL.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn macp_client_what_if_replay(
    client: *const macp_client,
    session_id: *const c_char,
    candidate_json: *const c_char,
    out_json: *mut *mut macp_string,
    call: *const macp_call_options,
    error: *mut *mut macp_error,
) -> Status {
    json_out(out_json, error, || {
        let sid = arg_str(session_id, "session_id")?;
        let candidate = registry::policy_from_json(arg_str(candidate_json, "candidate_json")?)?;
        let c = &handle::get(client)?.client;
        let r = block(call, Kind::Other, c.what_if_replay(sid, candidate))?;
        registry::what_if_to_value(&r)
    })
}
