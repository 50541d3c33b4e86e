//! A session seen from one participant: its id, mode and bound versions, and
//! the messages this participant sends into it.

use std::collections::HashMap;
use std::sync::Arc;

use macp_pb::pb;
use prost::Message;

use crate::client::{new_id, validate_message_id, validate_session_id, Ack, Client};
use crate::error::{Error, Result};
use crate::trace::{TraceContext, TraceSlot};

/// `policy_version` an empty value resolves to (RFC-MACP-0012 §5.1).
pub const DEFAULT_POLICY_VERSION: &str = "policy.default";

/// Parameters of `SessionStart`. Unset versions take the MACP defaults
/// (`mode_version` 1.0.0, `configuration_version` config.default, empty
/// `policy_version`, which the runtime resolves to policy.default).
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Session id to use; a new UUID v4 when `None`.
    pub session_id: Option<String>,
    pub intent: String,
    pub participants: Vec<String>,
    /// Time to live in milliseconds; must be positive.
    pub ttl_ms: i64,
    pub mode_version: Option<String>,
    pub configuration_version: Option<String>,
    pub policy_version: Option<String>,
    pub context_id: String,
    pub extensions: HashMap<String, Vec<u8>>,
    /// Cap on cumulative suspension; 0 lets the runtime choose.
    pub max_suspend_ms: i64,
    pub roots: Vec<pb::Root>,
}

/// One participant's handle on a session.
#[derive(Clone, Debug)]
pub struct Session {
    client: Arc<Client>,
    id: String,
    mode: String,
    mode_version: String,
    configuration_version: String,
    policy_version: String,
    /// This session's trace context, shared by its clones.
    trace: Arc<TraceSlot>,
}

impl Session {
    /// Start a new session of `mode` with this client as initiator.
    pub async fn start(
        client: Arc<Client>,
        mode: &str,
        opts: StartOptions,
    ) -> Result<(Session, Ack)> {
        if mode.is_empty() {
            return Err(Error::invalid_argument("mode is empty"));
        }
        if opts.ttl_ms <= 0 {
            return Err(Error::invalid_argument("ttl_ms must be greater than zero"));
        }
        if opts.max_suspend_ms < 0 {
            return Err(Error::invalid_argument(
                "max_suspend_ms must not be negative",
            ));
        }
        if let Some(p) = opts.participants.iter().find(|p| p.trim().is_empty()) {
            return Err(Error::invalid_argument(if p.is_empty() {
                "a participant is empty".to_string()
            } else {
                format!("participant {p:?} is only whitespace: a participant is a sender identity")
            }));
        }
        // Each participant once, in the order first given (the C ABI adds
        // them one by one without searching).
        let mut seen = std::collections::HashSet::with_capacity(opts.participants.len());
        let mut opts = opts;
        opts.participants.retain(|p| seen.insert(p.clone()));
        let id = opts.session_id.clone().unwrap_or_else(new_id);
        validate_session_id(&id)?;
        let mode_version = opts
            .mode_version
            .clone()
            .unwrap_or_else(|| macp_core::session::DEFAULT_MODE_VERSION.to_string());
        let configuration_version = opts
            .configuration_version
            .clone()
            .unwrap_or_else(|| macp_core::session::DEFAULT_CONFIGURATION_VERSION.to_string());
        let policy_version = opts.policy_version.clone().unwrap_or_default();
        let payload = pb::SessionStartPayload {
            intent: opts.intent,
            participants: opts.participants,
            mode_version: mode_version.clone(),
            configuration_version: configuration_version.clone(),
            policy_version: policy_version.clone(),
            ttl_ms: opts.ttl_ms,
            roots: opts.roots,
            context_id: opts.context_id,
            extensions: opts.extensions,
            max_suspend_ms: opts.max_suspend_ms,
        };
        let env = client.envelope(mode, "SessionStart", &id, payload.encode_to_vec(), None);
        let ack = client.send(env).await?;
        let session = Session {
            client,
            id,
            mode: mode.to_string(),
            mode_version,
            configuration_version,
            policy_version: resolve_policy(policy_version),
            trace: Arc::default(),
        };
        Ok((session, ack))
    }

    /// Join an existing session as a participant or its initiator: reads its
    /// metadata once to learn the mode and bound versions (`Forbidden` for
    /// an identity that is neither).
    pub async fn open(client: Arc<Client>, session_id: &str) -> Result<Session> {
        if session_id.is_empty() {
            return Err(Error::invalid_argument("session_id is empty"));
        }
        let meta = client.get_session(session_id).await?;
        Ok(Session {
            client,
            id: session_id.to_string(),
            mode: meta.mode,
            mode_version: meta.mode_version,
            configuration_version: meta.configuration_version,
            policy_version: resolve_policy(meta.policy_version),
            trace: Arc::default(),
        })
    }

    /// The W3C trace context of this session's calls (`None`: the client's
    /// default), shared by every clone of this session. It applies to calls
    /// that start afterwards.
    pub fn set_trace_context(&self, trace: Option<TraceContext>) {
        self.trace.set(trace);
    }

    /// This session's own trace context, if any.
    pub fn trace_context(&self) -> Option<TraceContext> {
        self.trace.get()
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn mode(&self) -> &str {
        &self.mode
    }
    pub fn mode_version(&self) -> &str {
        &self.mode_version
    }
    pub fn configuration_version(&self) -> &str {
        &self.configuration_version
    }
    /// The bound policy version (`policy.default` when started with none).
    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// Send a message of `message_type` with an already-encoded payload.
    /// `message_id` is generated when `None`.
    pub async fn send_raw(
        &self,
        message_type: &str,
        payload: Vec<u8>,
        message_id: Option<String>,
    ) -> Result<Ack> {
        if let Some(id) = &message_id {
            validate_message_id(id)?;
        }
        crate::modes::rules::check_client_payload(&self.mode, message_type, &payload)?;
        let env = self
            .client
            .envelope(&self.mode, message_type, &self.id, payload, message_id);
        crate::trace::scope(self.trace.get(), self.client.send(env)).await
    }

    /// Send a protobuf payload.
    pub async fn send<M: Message>(&self, message_type: &str, payload: &M) -> Result<Ack> {
        self.send_raw(message_type, payload.encode_to_vec(), None)
            .await
    }

    /// Send a `Commitment`. Empty version fields are filled with the session's
    /// bound versions and an empty `commitment_id` with a new UUID.
    pub async fn commit(&self, mut c: pb::CommitmentPayload) -> Result<Ack> {
        if c.action.is_empty() {
            return Err(Error::invalid_argument("commitment action is empty"));
        }
        if let Some(s) = &c.supersedes {
            if s.session_id.is_empty()
                || !macp_core::commitment_hash::is_canonical_commitment_hash(&s.commitment_hash)
            {
                return Err(Error::invalid_argument(
                    "supersedes needs a session id and a 'sha256:<64 lowercase hex>' commitment hash",
                ));
            }
        }
        if c.commitment_id.is_empty() {
            c.commitment_id = new_id();
        }
        fill(&mut c.mode_version, &self.mode_version);
        fill(&mut c.configuration_version, &self.configuration_version);
        fill(&mut c.policy_version, &self.policy_version);
        self.send("Commitment", &c).await
    }

    /// Report progress on work in this session (a `Progress` message, which
    /// changes no mode state): `progress` out of `total` (0 when unknown),
    /// an optional `message`, and the id of the message the work answers.
    pub async fn progress(
        &self,
        progress_token: &str,
        progress: f64,
        total: f64,
        message: &str,
        target_message_id: &str,
    ) -> Result<Ack> {
        if !progress.is_finite() || !total.is_finite() || progress < 0.0 || total < 0.0 {
            return Err(Error::invalid_argument(
                "progress and total must be finite and not negative",
            ));
        }
        let p = pb::ProgressPayload {
            progress_token: progress_token.to_string(),
            progress,
            total,
            message: message.to_string(),
            target_message_id: target_message_id.to_string(),
        };
        self.send("Progress", &p).await
    }

    /// Current metadata and state (`GetSession`).
    pub async fn metadata(&self) -> Result<pb::SessionMetadata> {
        crate::trace::scope(self.trace.get(), self.client.get_session(&self.id)).await
    }

    /// Suspend the session (initiator or policy-delegated roles).
    pub async fn suspend(&self, reason: &str) -> Result<Ack> {
        crate::trace::scope(
            self.trace.get(),
            self.client.suspend_session(&self.id, reason),
        )
        .await
    }

    /// Resume a suspended session.
    pub async fn resume(&self, reason: &str) -> Result<Ack> {
        crate::trace::scope(
            self.trace.get(),
            self.client.resume_session(&self.id, reason),
        )
        .await
    }

    /// Cancel the session (initiator only).
    pub async fn cancel(&self, reason: &str) -> Result<Ack> {
        crate::trace::scope(
            self.trace.get(),
            self.client.cancel_session(&self.id, reason),
        )
        .await
    }
}

fn resolve_policy(p: String) -> String {
    if p.is_empty() {
        DEFAULT_POLICY_VERSION.to_string()
    } else {
        p
    }
}

fn fill(field: &mut String, value: &str) {
    if field.is_empty() {
        *field = value.to_string();
    }
}

/// The `SessionState` of a raw value, for display.
pub fn state_name(state: i32) -> &'static str {
    match pb::SessionState::try_from(state) {
        Ok(pb::SessionState::Open) => "OPEN",
        Ok(pb::SessionState::Resolved) => "RESOLVED",
        Ok(pb::SessionState::Expired) => "EXPIRED",
        Ok(pb::SessionState::Suspended) => "SUSPENDED",
        Ok(pb::SessionState::Cancelled) => "CANCELLED",
        _ => "UNSPECIFIED",
    }
}
