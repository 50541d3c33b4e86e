//! Discovery, the extension-mode and policy registries, what-if replay, and
//! ambient signals: every unary RPC of `macp.v1.MACPRuntimeService` that is
//! not about one session's messages.
//!
//! Calls gated on a capability (`Capabilities` of the `Initialize` answer)
//! fail with [`Status::Unsupported`] before anything is sent when the runtime
//! did not advertise it, rather than with whatever transport error an
//! unimplemented RPC would produce.

use serde_json::{Map, Value};

use crate::client::{Ack, Client};
use crate::error::{Error, Result, Status};
use crate::payload;
use crate::pb;

impl Client {
    fn require(&self, advertised: bool, what: &str, capability: &str) -> Result<()> {
        if advertised {
            Ok(())
        } else {
            Err(Error::new(
                Status::Unsupported,
                format!("the runtime does not advertise {what} (capabilities.{capability})"),
            ))
        }
    }

    /// `GetManifest`: the manifest of the runtime (`agent_id` empty) or of an
    /// agent it knows.
    pub async fn get_manifest(&self, agent_id: &str) -> Result<pb::AgentManifest> {
        let caps = self.capabilities();
        self.require(
            caps.manifest.is_some_and(|c| c.get_manifest),
            "GetManifest",
            "manifest.get_manifest",
        )?;
        let req = pb::GetManifestRequest {
            agent_id: agent_id.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.get_manifest(r).await })
            .await?;
        resp.manifest.ok_or_else(|| {
            Error::new(
                Status::Rpc,
                "the runtime answered GetManifest without a manifest",
            )
        })
    }

    fn require_list_modes(&self, what: &str) -> Result<()> {
        let caps = self.capabilities();
        self.require(
            caps.mode_registry.is_some_and(|c| c.list_modes),
            what,
            "mode_registry.list_modes",
        )
    }

    /// `ListModes`: the standards-track modes.
    pub async fn list_modes(&self) -> Result<Vec<pb::ModeDescriptor>> {
        self.require_list_modes("ListModes")?;
        let resp = self
            .unary(pb::ListModesRequest {}, |mut s, r| async move {
                s.list_modes(r).await
            })
            .await?;
        Ok(resp.modes)
    }

    /// `ListExtModes`: the extension modes, built in and registered.
    pub async fn list_ext_modes(&self) -> Result<Vec<pb::ModeDescriptor>> {
        self.require_list_modes("ListExtModes")?;
        let resp = self
            .unary(pb::ListExtModesRequest {}, |mut s, r| async move {
                s.list_ext_modes(r).await
            })
            .await?;
        Ok(resp.modes)
    }

    /// `RegisterExtMode`: add an extension mode (not in `macp.mode.*`).
    pub async fn register_ext_mode(&self, descriptor: pb::ModeDescriptor) -> Result<()> {
        if descriptor.mode.is_empty() {
            return Err(Error::invalid_argument(
                "the mode descriptor's mode is empty",
            ));
        }
        let req = pb::RegisterExtModeRequest {
            mode_descriptor: Some(descriptor),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.register_ext_mode(r).await })
            .await?;
        refusal("RegisterExtMode", resp.ok, &resp.error)
    }

    /// `UnregisterExtMode`: remove a registered extension mode.
    pub async fn unregister_ext_mode(&self, mode: &str) -> Result<()> {
        if mode.is_empty() {
            return Err(Error::invalid_argument("mode is empty"));
        }
        let req = pb::UnregisterExtModeRequest {
            mode: mode.to_string(),
        };
        let resp = self
            .unary(
                req,
                |mut s, r| async move { s.unregister_ext_mode(r).await },
            )
            .await?;
        refusal("UnregisterExtMode", resp.ok, &resp.error)
    }

    /// `PromoteMode`: promote an extension mode to standards-track, renamed
    /// to `promoted_mode_name` unless it is empty. Returns the mode's
    /// identifier after promotion.
    pub async fn promote_mode(&self, mode: &str, promoted_mode_name: &str) -> Result<String> {
        if mode.is_empty() {
            return Err(Error::invalid_argument("mode is empty"));
        }
        let req = pb::PromoteModeRequest {
            mode: mode.to_string(),
            promoted_mode_name: promoted_mode_name.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.promote_mode(r).await })
            .await?;
        refusal("PromoteMode", resp.ok, &resp.error)?;
        Ok(if resp.mode.is_empty() {
            if promoted_mode_name.is_empty() {
                mode.to_string()
            } else {
                promoted_mode_name.to_string()
            }
        } else {
            resp.mode
        })
    }

    /// `ListRoots`: the runtime's resource roots.
    pub async fn list_roots(&self) -> Result<Vec<pb::Root>> {
        let caps = self.capabilities();
        self.require(
            caps.roots.is_some_and(|c| c.list_roots),
            "ListRoots",
            "roots.list_roots",
        )?;
        let resp = self
            .unary(pb::ListRootsRequest {}, |mut s, r| async move {
                s.list_roots(r).await
            })
            .await?;
        Ok(resp.roots)
    }

    /// `RegisterPolicy`.
    pub async fn register_policy(&self, policy: pb::PolicyDescriptor) -> Result<()> {
        let caps = self.capabilities();
        self.require(
            caps.policy_registry.is_some_and(|c| c.register_policy),
            "RegisterPolicy",
            "policy_registry.register_policy",
        )?;
        if policy.policy_id.is_empty() {
            return Err(Error::invalid_argument("the policy's policy_id is empty"));
        }
        let req = pb::RegisterPolicyRequest {
            policy_descriptor: Some(policy),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.register_policy(r).await })
            .await?;
        refusal("RegisterPolicy", resp.ok, &resp.error)
    }

    /// `UnregisterPolicy`.
    pub async fn unregister_policy(&self, policy_id: &str) -> Result<()> {
        let caps = self.capabilities();
        self.require(
            caps.policy_registry.is_some_and(|c| c.register_policy),
            "UnregisterPolicy",
            "policy_registry.register_policy",
        )?;
        if policy_id.is_empty() {
            return Err(Error::invalid_argument("policy_id is empty"));
        }
        let req = pb::UnregisterPolicyRequest {
            policy_id: policy_id.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.unregister_policy(r).await })
            .await?;
        refusal("UnregisterPolicy", resp.ok, &resp.error)
    }

    fn require_list_policies(&self, what: &str) -> Result<()> {
        let caps = self.capabilities();
        self.require(
            caps.policy_registry.is_some_and(|c| c.list_policies),
            what,
            "policy_registry.list_policies",
        )
    }

    /// `GetPolicy`.
    pub async fn get_policy(&self, policy_id: &str) -> Result<pb::PolicyDescriptor> {
        self.require_list_policies("GetPolicy")?;
        if policy_id.is_empty() {
            return Err(Error::invalid_argument("policy_id is empty"));
        }
        let req = pb::GetPolicyRequest {
            policy_id: policy_id.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.get_policy(r).await })
            .await?;
        resp.policy_descriptor.ok_or_else(|| {
            Error::new(
                Status::Rpc,
                "the runtime answered GetPolicy without a descriptor",
            )
        })
    }

    /// `ListPolicies`, all of them (`mode` empty) or those of one mode.
    pub async fn list_policies(&self, mode: &str) -> Result<Vec<pb::PolicyDescriptor>> {
        self.require_list_policies("ListPolicies")?;
        let req = pb::ListPoliciesRequest {
            mode: mode.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.list_policies(r).await })
            .await?;
        Ok(resp.descriptors)
    }

    /// `WhatIfReplay`: replay a session's history under a candidate policy.
    pub async fn what_if_replay(
        &self,
        session_id: &str,
        candidate: pb::PolicyDescriptor,
    ) -> Result<pb::WhatIfReplayResponse> {
        let caps = self.capabilities();
        self.require(
            caps.policy_registry.is_some_and(|c| c.what_if_replay),
            "WhatIfReplay",
            "policy_registry.what_if_replay",
        )?;
        crate::client::validate_session_id(session_id)?;
        let req = pb::WhatIfReplayRequest {
            session_id: session_id.to_string(),
            candidate: Some(candidate),
        };
        self.unary(req, |mut s, r| async move { s.what_if_replay(r).await })
            .await
            .map_err(|e| e.with_ids(session_id, ""))
    }

    /// Send an ambient `Signal` (no session, no mode; never in any session's
    /// history). `confidence` is 0.0 to 1.0.
    pub async fn send_signal(
        &self,
        signal_type: &str,
        data: &[u8],
        confidence: f64,
        correlation_session_id: &str,
    ) -> Result<Ack> {
        if signal_type.is_empty() {
            return Err(Error::invalid_argument("signal_type is empty"));
        }
        if !(0.0..=1.0).contains(&confidence) {
            return Err(Error::invalid_argument(format!(
                "confidence {confidence} is outside 0.0..=1.0"
            )));
        }
        if !correlation_session_id.is_empty() {
            crate::client::validate_session_id(correlation_session_id)?;
        }
        let payload = pb::SignalPayload {
            signal_type: signal_type.to_string(),
            data: data.to_vec(),
            confidence,
            correlation_session_id: correlation_session_id.to_string(),
        };
        let env = self.envelope(
            "",
            "Signal",
            "",
            prost::Message::encode_to_vec(&payload),
            None,
        );
        self.send(env).await
    }
}

/// The result of a registry RPC answering `{ok, error}`. The runtime puts a
/// registry code at the head of `error` when it has one
/// (`INVALID_POLICY_DEFINITION: ...`); other refusals (a duplicate id, an
/// unknown mode) carry none and become `Status::Rpc`.
fn refusal(what: &str, ok: bool, error: &str) -> Result<()> {
    if ok {
        return Ok(());
    }
    let head = error
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .next()
        .unwrap_or("");
    let message = if error.is_empty() {
        format!("{what} refused")
    } else {
        format!("{what} refused: {error}")
    };
    Err(match Status::from_registry_code(head) {
        Some(_) => Error::from_code(head, message),
        None => Error::new(Status::Rpc, message),
    })
}

/// A policy definition from JSON, in the form RFC-MACP-0012 writes it:
/// `{"policy_id", "mode", "description", "schema_version", "rules"}` with
/// `rules` a JSON object (or, as on the wire, a string holding one). Unknown
/// top-level keys are refused; `registered_at_unix_ms` is accepted and
/// ignored, since the runtime sets it.
pub fn policy_from_json(json: &str) -> Result<pb::PolicyDescriptor> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::invalid_argument(format!("policy is not JSON: {e}")))?;
    policy_from_value(&value)
}

/// As [`policy_from_json`], from a parsed value.
pub fn policy_from_value(value: &Value) -> Result<pb::PolicyDescriptor> {
    let obj = value
        .as_object()
        .ok_or_else(|| Error::invalid_argument("policy is not a JSON object"))?;
    let mut p = pb::PolicyDescriptor::default();
    for (k, v) in obj {
        let bad =
            |want: &str| Error::invalid_argument(format!("policy field '{k}' must be {want}"));
        match k.as_str() {
            "policy_id" => p.policy_id = v.as_str().ok_or_else(|| bad("a string"))?.to_string(),
            "mode" => p.mode = v.as_str().ok_or_else(|| bad("a string"))?.to_string(),
            "description" => p.description = v.as_str().ok_or_else(|| bad("a string"))?.to_string(),
            "schema_version" => {
                p.schema_version = v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad("an unsigned 32-bit integer"))?
            }
            "rules" => {
                p.rules = match v {
                    Value::String(s) => s.clone(),
                    Value::Object(_) => v.to_string(),
                    _ => return Err(bad("a JSON object or a string holding one")),
                }
            }
            "registered_at_unix_ms" => {}
            _ => {
                return Err(Error::invalid_argument(format!(
                    "unknown policy field '{k}' (expected policy_id, mode, description, schema_version, rules)"
                )))
            }
        }
    }
    if p.policy_id.is_empty() {
        return Err(Error::invalid_argument("policy has no policy_id"));
    }
    Ok(p)
}

/// A policy descriptor as JSON, `rules` as an object when it holds one.
pub fn policy_to_value(p: &pb::PolicyDescriptor) -> Value {
    let rules = serde_json::from_str::<Value>(&p.rules)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::String(p.rules.clone()));
    let mut m = Map::new();
    m.insert("policy_id".into(), p.policy_id.clone().into());
    m.insert("mode".into(), p.mode.clone().into());
    m.insert("description".into(), p.description.clone().into());
    m.insert("schema_version".into(), p.schema_version.into());
    m.insert("rules".into(), rules);
    m.insert(
        "registered_at_unix_ms".into(),
        p.registered_at_unix_ms.into(),
    );
    Value::Object(m)
}

/// A `ModeDescriptor` from JSON (protobuf JSON mapping, `.proto` names).
pub fn mode_descriptor_from_json(json: &str) -> Result<pb::ModeDescriptor> {
    let bytes = payload::encode_json("macp.v1.ModeDescriptor", json)?;
    prost::Message::decode(bytes.as_slice())
        .map_err(|e| Error::invalid_argument(format!("mode descriptor: {e}")))
}

/// Generated messages of the schema as one JSON value each.
pub fn messages_value<M: prost::Message>(type_name: &str, items: &[M]) -> Result<Value> {
    items
        .iter()
        .map(|m| payload::message_value(type_name, m))
        .collect::<Result<Vec<_>>>()
        .map(Value::Array)
}

/// A `WhatIfReplayResponse` as JSON. `bytes` fields that hold JSON
/// (`details` of refusals and denials) are inlined as JSON; `resolution`,
/// a `CommitmentPayload`, is decoded to its fields (bytes that are not one
/// stay base64).
pub fn what_if_to_value(r: &pb::WhatIfReplayResponse) -> Result<Value> {
    let mut v = payload::message_value("macp.v1.WhatIfReplayResponse", r)?;
    for (half, outcome) in [("recorded", &r.recorded), ("candidate", &r.candidate)] {
        if let Some(o) = outcome {
            // The resolving Commitment's payload, decoded; bytes that are not
            // one (an extension mode's resolution) stay base64.
            let res = if o.resolution.is_empty() {
                Value::Null
            } else {
                match payload::decode_value("macp.v1.CommitmentPayload", &o.resolution) {
                    Ok(c) => c,
                    Err(_) => v[half]["resolution"].take(),
                }
            };
            v[half]["resolution"] = res;
        }
    }
    let inline = |b: &[u8]| -> Value {
        if b.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(b)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned()))
        }
    };
    for (i, d) in r.denials.iter().enumerate() {
        v["denials"][i]["details"] = inline(&d.details);
    }
    for (i, e) in r.entries.iter().enumerate() {
        for (half, o) in [("recorded", &e.recorded), ("candidate", &e.candidate)] {
            if let Some(o) = o {
                v["entries"][i][half]["details"] = inline(&o.details);
            }
        }
    }
    if r.first_divergence.is_none() {
        v["first_divergence"] = Value::Null;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_with_rules_as_object_or_string() {
        let p = policy_from_json(
            r#"{"policy_id":"p1","mode":"macp.mode.decision.v1","schema_version":3,
                "description":"d","rules":{"voting":{"algorithm":"none"}}}"#,
        )
        .unwrap();
        assert_eq!(p.policy_id, "p1");
        assert_eq!(p.schema_version, 3);
        let rules: Value = serde_json::from_str(&p.rules).unwrap();
        assert_eq!(rules["voting"]["algorithm"], "none");
        let again = policy_from_value(&policy_to_value(&p)).unwrap();
        assert_eq!(
            again,
            pb::PolicyDescriptor {
                registered_at_unix_ms: 0,
                ..p
            }
        );
        let s = policy_from_json(r#"{"policy_id":"p2","rules":"{}"}"#).unwrap();
        assert_eq!(s.rules, "{}");
    }

    #[test]
    fn bad_policies_are_refused() {
        for bad in [
            "[]",
            "{",
            r#"{"mode":"m"}"#,
            r#"{"policy_id":"p","schema_version":-1}"#,
            r#"{"policy_id":"p","schema_version":4294967296}"#,
            r#"{"policy_id":"p","rules":[1]}"#,
            r#"{"policy_id":"p","rule":{}}"#,
            r#"{"policy_id":7}"#,
        ] {
            let e = policy_from_json(bad).unwrap_err();
            assert_eq!(e.status, Status::InvalidArgument, "{bad}: {e}");
        }
    }

    #[test]
    fn refusals_keep_the_registry_code_at_their_head() {
        let e = refusal(
            "RegisterPolicy",
            false,
            "INVALID_POLICY_DEFINITION: bad rules",
        )
        .unwrap_err();
        assert_eq!(e.status, Status::InvalidPolicyDefinition);
        assert!(e.message.contains("bad rules"));
        let e = refusal("RegisterPolicy", false, "policy 'p' already exists").unwrap_err();
        assert_eq!(e.status, Status::Rpc);
        assert!(refusal("RegisterPolicy", true, "").is_ok());
    }
}
