//! The async client of `macp.v1.MACPRuntimeService`.
//!
//! A [`Client`] owns one HTTP/2 channel (multiplexed, cheap to share between
//! tasks and threads), the caller's bearer credential and the `Initialize`
//! result negotiated when it connected. Every unary call gets the
//! `authorization` header, the configured per-call deadline, and is cancelled
//! when the client is shut down.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use macp_pb::pb;
use prost::Message;
use tokio_util::sync::CancellationToken;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::config::{redact_target, ClientConfig, ENVELOPE_OVERHEAD_BYTES, MAX_MESSAGE_BYTES};
use crate::error::{Delivery, Error, Result, Status};
use crate::log::Level;
use crate::proto::macp_runtime_service_client::MacpRuntimeServiceClient;
use crate::trace::{TraceContext, TraceSlot};

/// Longest caller-chosen `message_id` libmacp accepts, in bytes.
pub const MAX_MESSAGE_ID_BYTES: usize = 128;

/// The runtime's acknowledgement of an accepted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub message_id: String,
    pub session_id: String,
    /// The runtime had already accepted this `message_id`; nothing was reprocessed.
    pub duplicate: bool,
    /// `macp.v1.SessionState` after the message (`pb::SessionState as i32`).
    pub session_state: i32,
    pub accepted_at_unix_ms: i64,
    /// Attempts `Send` made (1 when no retry was needed).
    pub attempts: u32,
}

/// A connected, initialized MACP client. Cheap to share behind an `Arc`.
pub struct Client {
    stub: MacpRuntimeServiceClient<Channel>,
    /// The stub's channel, for streams that set their own codec buffers
    /// ([`Client::grpc`]).
    channel: Channel,
    /// Replaceable while calls run ([`Client::set_bearer_token`]).
    auth: RwLock<Option<MetadataValue<Ascii>>>,
    /// The default trace context of every call.
    trace: TraceSlot,
    config: ClientConfig,
    init: pb::InitializeResponse,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.config.target)
            .field("protocol_version", &self.init.selected_protocol_version)
            .finish_non_exhaustive()
    }
}

/// A fresh UUID v4 in canonical lowercase form: a valid message or session id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Check a caller-chosen message id: non-empty, at most
/// [`MAX_MESSAGE_ID_BYTES`], and outside the runtime-reserved
/// `implicit-accept:` namespace.
pub fn validate_message_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_MESSAGE_ID_BYTES {
        return Err(Error::invalid_argument(format!(
            "message_id must be 1 to {MAX_MESSAGE_ID_BYTES} bytes"
        )));
    }
    if id.starts_with("implicit-accept:") {
        return Err(Error::invalid_argument(
            "message_id must not use the runtime-reserved 'implicit-accept:' prefix",
        ));
    }
    Ok(())
}

/// Check a session id against the acceptance rules (UUID v4/v7 lowercase, or
/// base64url of 22 to 128 characters), as `macp-core` defines them. Every
/// call that names a session checks it so before anything is sent.
pub fn validate_session_id(id: &str) -> Result<()> {
    macp_core::session::validate_session_id_for_acceptance(id).map_err(|_| {
        Error::new(
            Status::InvalidSessionId,
            format!(
                "session id {} is not a lowercase UUID v4/v7 or a 22-128 character base64url token",
                shorten_id(id)
            ),
        )
    })
}

/// The check of every call naming an existing session: an empty id is a
/// missing argument (`InvalidArgument`), any other must pass
/// [`validate_session_id`].
pub fn check_session_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid_argument("session_id is empty"));
    }
    validate_session_id(id)
}

/// Longest id (or other caller text) quoted whole in a message.
const QUOTED_ID_BYTES: usize = 64;

/// An id quoted for a message: whole when short, else its first
/// [`QUOTED_ID_BYTES`] bytes (at a character boundary) and its length.
pub fn shorten_id(id: &str) -> String {
    if id.len() <= QUOTED_ID_BYTES {
        return format!("'{id}'");
    }
    let mut end = QUOTED_ID_BYTES;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!("'{}...' ({} bytes)", &id[..end], id.len())
}

impl Drop for Client {
    /// The channel's last clone is dropped on the runtime, so the connection
    /// closes now even when no call is driving it ([`crate::rt::release`]).
    fn drop(&mut self) {
        crate::rt::release(self.channel.clone());
    }
}

impl Client {
    /// Connect to the runtime and negotiate the protocol version with
    /// `Initialize`; both must finish within the connect timeout.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        config.validate()?;
        let (uri, tls) = config.endpoint_uri()?;
        let mut endpoint = Endpoint::from_shared(uri.clone())
            .map_err(|e| {
                Error::invalid_argument(format!(
                    "target '{}' is not a valid URI: {e}",
                    redact_target(&uri)
                ))
            })?
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20));
        if tls {
            let mut t = ClientTlsConfig::new();
            t = match &config.ca_pem {
                Some(pem) => t.ca_certificate(Certificate::from_pem(pem)),
                None => t.with_native_roots(),
            };
            if let Some(d) = &config.tls_domain {
                t = t.domain_name(d.clone());
            }
            if let Some(id) = &config.client_identity {
                t = t.identity(Identity::from_pem(&id.cert_pem, &id.key_pem));
            }
            endpoint = endpoint
                .tls_config(t)
                .map_err(|e| Error::new(Status::Transport, format!("TLS configuration: {e}")))?;
        }
        if config.client_identity.is_some() && !tls {
            return Err(Error::invalid_argument(
                "a client certificate needs a TLS target (https:// or host:port without allow_insecure)",
            ));
        }
        crate::log::init_from_env();
        let auth = config.bearer_token.as_deref().map(auth_value).transpose()?;
        let shown = redact_target(&uri);
        let mtls = config.client_identity.is_some();
        let timeout = config.connect_timeout;
        let connect = async {
            let connector = crate::transport::Connector::new(config.connect_timeout);
            let channel = endpoint
                .connect_with_connector(connector)
                .await
                .map_err(|e| {
                    Error::new(
                        Status::Transport,
                        connect_failure(&redact_target(&uri), &error_chain(&e), tls),
                    )
                })?;
            let stub = MacpRuntimeServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES);
            let mut client = Client {
                stub,
                channel,
                auth: RwLock::new(auth),
                trace: TraceSlot::default(),
                config,
                init: pb::InitializeResponse::default(),
                shutdown: CancellationToken::new(),
            };
            client.init = client.initialize().await?;
            Ok(client)
        };
        let result = match tokio::time::timeout(timeout, connect).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                Status::Timeout,
                format!("connecting to {shown} took longer than {timeout:?}"),
            )),
        };
        match &result {
            Ok(c) => crate::log!(Level::Info, "macp::client", "connected",
                "target" => shown, "protocol_version" => c.protocol_version(),
                "tls" => tls, "client_certificate" => mtls),
            Err(e) => crate::log!(Level::Error, "macp::client", "connect failed",
                "target" => shown, "status" => e.status.name(), "error" => e.message),
        }
        result
    }

    /// Replace the bearer credential of this live client (`None`: send
    /// none). Calls that start afterwards, and watchers when they next
    /// (re)open their stream, authenticate with it; calls in flight and
    /// open streams keep the credential they started with. The connection
    /// is kept. [`Client::config`] still shows the original settings.
    pub fn set_bearer_token(&self, token: Option<&str>) -> Result<()> {
        let value = match token {
            Some(t) => {
                crate::config::validate_token(t)?;
                Some(auth_value(t)?)
            }
            None => None,
        };
        *self.auth.write().unwrap_or_else(PoisonError::into_inner) = value;
        crate::log!(Level::Info, "macp::client", "bearer token replaced",
            "target" => redact_target(&self.config.target), "token_set" => token.is_some());
        Ok(())
    }

    /// The default W3C trace context of every call this client makes
    /// (`None`: none); a session's own context takes precedence.
    pub fn set_trace_context(&self, trace: Option<TraceContext>) {
        self.trace.set(trace);
    }

    /// The default trace context, if any.
    pub fn trace_context(&self) -> Option<TraceContext> {
        self.trace.get()
    }

    async fn initialize(&self) -> Result<pb::InitializeResponse> {
        let req = pb::InitializeRequest {
            supported_protocol_versions: self.config.protocol_versions.clone(),
            client_info: Some(pb::ClientInfo {
                name: self.config.client_name.clone(),
                version: self.config.client_version.clone(),
                ..Default::default()
            }),
            capabilities: Some(pb::Capabilities::default()),
        };
        // The causes of a transport failure, for the TLS hint below.
        let chain = std::sync::Mutex::new(String::new());
        let resp = self
            .unary(req, |mut s, r| {
                let chain = &chain;
                async move {
                    s.initialize(r).await.inspect_err(|st| {
                        *chain.lock().unwrap_or_else(PoisonError::into_inner) = error_chain(st);
                    })
                }
            })
            .await
            .map_err(|e| {
                let chain = chain.lock().unwrap_or_else(PoisonError::into_inner);
                tls_hint(e, &chain, &self.config)
            })?;
        if !self
            .config
            .protocol_versions
            .contains(&resp.selected_protocol_version)
        {
            return Err(Error::new(
                Status::UnsupportedProtocolVersion,
                format!(
                    "runtime selected protocol version '{}', not one of {:?}",
                    resp.selected_protocol_version, self.config.protocol_versions
                ),
            ));
        }
        Ok(resp)
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The negotiated protocol version, used as every envelope's `macp_version`.
    pub fn protocol_version(&self) -> &str {
        &self.init.selected_protocol_version
    }

    /// The full `Initialize` response (runtime info, capabilities, modes).
    pub fn initialize_response(&self) -> &pb::InitializeResponse {
        &self.init
    }

    /// The runtime's advertised capabilities.
    pub fn capabilities(&self) -> pb::Capabilities {
        self.init.capabilities.clone().unwrap_or_default()
    }

    /// Cancel every call in flight and refuse new ones with `Cancelled`.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// A token cancelled when the client shuts down.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// A clone of the generated stub (cheap: it shares the channel).
    pub(crate) fn stub(&self) -> MacpRuntimeServiceClient<Channel> {
        self.stub.clone()
    }

    /// For a call made with a codec of its own, as the generated stub makes
    /// it: a gRPC client on the stub's connection with the stub's message
    /// size limits, once the connection is ready, and `req` tagged with the
    /// service's `method`.
    pub(crate) async fn ready_grpc<T>(
        &self,
        method: &'static str,
        req: &mut tonic::Request<T>,
    ) -> std::result::Result<tonic::client::Grpc<Channel>, tonic::Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unknown(format!("Service was not ready: {e}")))?;
        req.extensions_mut()
            .insert(tonic::GrpcMethod::new("macp.v1.MACPRuntimeService", method));
        Ok(grpc)
    }

    /// A request carrying the client's credential and trace context.
    pub(crate) fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        if let Some(auth) = &*self.auth.read().unwrap_or_else(PoisonError::into_inner) {
            req.metadata_mut().insert("authorization", auth.clone());
        }
        crate::trace::apply(req.metadata_mut(), &self.trace);
        // The deadline is enforced locally in `unary` (so it reports
        // `Timeout`, not tonic's generic cancellation), not as `grpc-timeout`.
        req
    }

    /// Run one unary RPC with auth, deadline and cancellation.
    pub(crate) async fn unary<T, R, F, Fut>(&self, msg: T, call: F) -> Result<R>
    where
        F: FnOnce(MacpRuntimeServiceClient<Channel>, tonic::Request<T>) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<R>, tonic::Status>>,
    {
        self.unary_with(msg, |r| call(self.stub.clone(), r)).await
    }

    /// `Send` of a request that shares its envelope, as the stub would.
    async fn send_shared(
        &self,
        mut req: tonic::Request<SharedSendRequest>,
    ) -> std::result::Result<tonic::Response<pb::SendResponse>, tonic::Status> {
        let mut grpc = self.ready_grpc("Send", &mut req).await?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(
            "/macp.v1.MACPRuntimeService/Send",
        );
        grpc.unary(req, path, tonic_prost::ProstCodec::default())
            .await
    }

    /// [`Client::unary`] with a call that makes its own client.
    async fn unary_with<T, R, F, Fut>(&self, msg: T, call: F) -> Result<R>
    where
        F: FnOnce(tonic::Request<T>) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<R>, tonic::Status>>,
    {
        if self.shutdown.is_cancelled() {
            return Err(Error::new(Status::Cancelled, "the client was closed"));
        }
        // Boxed once, so the timeout and select wrappers move a pointer
        // rather than the RPC's multi-KiB state machine.
        let fut = Box::pin(call(self.request(msg)));
        crate::call::note_sent();
        let timed = async {
            match self.config.call_timeout {
                Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| Error {
                    delivery: Delivery::Unknown,
                    ..Error::new(
                        Status::Timeout,
                        format!("no answer from the runtime within {d:?}"),
                    )
                })?,
                None => fut.await,
            }
            .map(tonic::Response::into_inner)
            .map_err(|s| {
                let e = Error::from_grpc(&s);
                crate::log!(Level::Debug, "macp::client", "call failed",
                    "status" => e.status.name(), "code" => e.code,
                    "error" => e.message);
                e
            })
        };
        tokio::select! {
            r = timed => r,
            _ = self.shutdown.cancelled() => Err(Error {
                delivery: Delivery::Unknown,
                ..Error::new(Status::Cancelled, "the client was closed during the call")
            }),
        }
    }

    /// Build an envelope stamped with the negotiated version, a new UUID
    /// `message_id` (unless one is given), the current time and, when
    /// configured, the expected sender.
    pub fn envelope(
        &self,
        mode: &str,
        message_type: &str,
        session_id: &str,
        payload: Vec<u8>,
        message_id: Option<String>,
    ) -> pb::Envelope {
        let message_id = message_id
            .or_else(crate::call::take_requested_id)
            .unwrap_or_else(new_id);
        crate::call::note_envelope(session_id, &message_id);
        pb::Envelope {
            macp_version: self.init.selected_protocol_version.clone(),
            mode: mode.to_string(),
            message_type: message_type.to_string(),
            message_id,
            session_id: session_id.to_string(),
            sender: self.config.expected_sender.clone().unwrap_or_default(),
            timestamp_unix_ms: now_unix_ms(),
            payload,
        }
    }

    /// `Send` an envelope, retrying transient failures with capped exponential
    /// backoff and the same `message_id`. An already-accepted id comes back as
    /// success with `duplicate` set. A refusal becomes an [`Error`] carrying the
    /// runtime's code, message, details and the envelope's ids.
    pub async fn send(&self, envelope: pb::Envelope) -> Result<Ack> {
        validate_message_id(&envelope.message_id)?;
        if envelope.message_type.is_empty() {
            return Err(Error::invalid_argument("message_type is empty"));
        }
        if envelope.session_id.len() > macp_core::session::MAX_SESSION_ID_BYTES {
            // Any longer id is refused by the runtime; one of 16 KiB and more
            // would come back in an error header too large to accept.
            validate_session_id(&envelope.session_id)?;
        }
        self.check_size(&envelope)
            .map_err(|e| e.with_ids(&envelope.session_id, &envelope.message_id))?;
        let policy = &self.config.retry;
        let mut retries = 0u32;
        // The most uncertain fate of the attempts made so far: a refusal
        // after an attempt that may have been applied is no proof of either.
        let mut fate = Delivery::NotSent;
        // Shared by the attempts: a retry resends it without copying it.
        let envelope = Arc::new(envelope);
        loop {
            let req = SharedSendRequest(Some(envelope.clone()));
            let result = self
                .unary_with(req, |r| self.send_shared(r))
                .await
                .and_then(|resp| ack_result(resp.ack, retries > 0));
            match result {
                Ok(ack) => {
                    crate::log!(Level::Trace, "macp::client", "message accepted",
                        "session_id" => envelope.session_id, "message_id" => envelope.message_id,
                        "attempts" => retries + 1, "duplicate" => ack.duplicate);
                    return Ok(Ack {
                        message_id: if ack.message_id.is_empty() {
                            envelope.message_id.clone()
                        } else {
                            ack.message_id
                        },
                        session_id: if ack.session_id.is_empty() {
                            envelope.session_id.clone()
                        } else {
                            ack.session_id
                        },
                        duplicate: ack.duplicate,
                        session_state: ack.session_state,
                        accepted_at_unix_ms: ack.accepted_at_unix_ms,
                        attempts: retries + 1,
                    });
                }
                Err(e) if e.status.is_transient() && retries < policy.max_retries => {
                    fate = fate.max(e.delivery);
                    let delay = policy.delay(retries);
                    retries += 1;
                    crate::log!(Level::Warn, "macp::client", "retrying send",
                        "session_id" => envelope.session_id, "message_id" => envelope.message_id,
                        "attempt" => retries + 1, "backoff_ms" => delay.as_millis(),
                        "status" => e.status.name(), "error" => e.message);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.cancelled() => {
                            return Err(Error {
                                delivery: fate,
                                ..Error::new(Status::Cancelled, "the client was closed during a retry")
                            }
                            .with_ids(&envelope.session_id, &envelope.message_id));
                        }
                    }
                }
                Err(mut e) => {
                    e.delivery = e.delivery.max(fate);
                    if retries > 0 {
                        e.message = format!("{} (after {} attempts)", e.message, retries + 1);
                    }
                    crate::log!(Level::Warn, "macp::client", "send refused",
                        "session_id" => envelope.session_id, "message_id" => envelope.message_id,
                        "attempts" => retries + 1, "status" => e.status.name(), "code" => e.code,
                        "error" => e.message);
                    return Err(e.with_ids(&envelope.session_id, &envelope.message_id));
                }
            }
        }
    }

    /// Refuse an envelope the runtime would refuse for its size
    /// (`PayloadTooLarge`, naming the limit) before anything is sent: a
    /// payload over `max_payload_bytes`, or a request over the runtime's
    /// transport limit (that plus [`ENVELOPE_OVERHEAD_BYTES`]).
    fn check_size(&self, envelope: &pb::Envelope) -> Result<()> {
        let limit = self.config.max_payload_bytes;
        if envelope.payload.len() > limit {
            return Err(Error::new(
                Status::PayloadTooLarge,
                format!(
                    "the payload is {} bytes, over the runtime's payload limit of {limit} bytes \
                     (MACP_MAX_PAYLOAD_BYTES; the client's max_payload_bytes)",
                    envelope.payload.len()
                ),
            ));
        }
        let request = send_request_len(envelope);
        let transport = (limit + ENVELOPE_OVERHEAD_BYTES).min(MAX_MESSAGE_BYTES);
        if request > transport {
            return Err(Error::new(
                Status::PayloadTooLarge,
                format!(
                    "the encoded request is {request} bytes, over the runtime's transport limit \
                     of {transport} bytes (payload limit {limit} + {ENVELOPE_OVERHEAD_BYTES} for \
                     the envelope)"
                ),
            ));
        }
        Ok(())
    }

    /// `GetSession`: the session's metadata and state.
    pub async fn get_session(&self, session_id: &str) -> Result<pb::SessionMetadata> {
        check_session_id(session_id)?;
        let req = pb::GetSessionRequest {
            session_id: session_id.to_string(),
        };
        self.unary(req, |mut s, r| async move { s.get_session(r).await })
            .await?
            .metadata
            .ok_or_else(|| Error::new(Status::Rpc, "GetSession answered without metadata"))
    }

    /// `CancelSession` (initiator only). Cancelling a terminal session is not
    /// an error: the ack reports its current state.
    pub async fn cancel_session(&self, session_id: &str, reason: &str) -> Result<Ack> {
        let req = pb::CancelSessionRequest {
            session_id: nonempty_id(session_id)?,
            reason: reason.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.cancel_session(r).await })
            .await?;
        control_ack(resp.ack, session_id)
    }

    /// `SuspendSession` (initiator or policy-delegated roles): an open session
    /// stops taking mode messages and banks its remaining TTL.
    pub async fn suspend_session(&self, session_id: &str, reason: &str) -> Result<Ack> {
        let req = pb::SuspendSessionRequest {
            session_id: nonempty_id(session_id)?,
            reason: reason.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.suspend_session(r).await })
            .await?;
        control_ack(resp.ack, session_id)
    }

    /// `ResumeSession`: a suspended session opens again with its banked TTL.
    pub async fn resume_session(&self, session_id: &str, reason: &str) -> Result<Ack> {
        let req = pb::ResumeSessionRequest {
            session_id: nonempty_id(session_id)?,
            reason: reason.to_string(),
        };
        let resp = self
            .unary(req, |mut s, r| async move { s.resume_session(r).await })
            .await?;
        control_ack(resp.ack, session_id)
    }

    /// One page of `ListSessions` (`page_size` 0: the runtime's default;
    /// `page_token` "" for the first page). Pass the response's
    /// `next_page_token` back verbatim; an empty one means the listing is
    /// complete. Fails with `Unsupported` when the runtime does not advertise
    /// session listing.
    pub async fn list_sessions(
        &self,
        page_size: i32,
        page_token: &str,
    ) -> Result<pb::ListSessionsResponse> {
        if page_size < 0 {
            return Err(Error::invalid_argument("page_size must not be negative"));
        }
        if !self
            .capabilities()
            .sessions
            .is_some_and(|c| c.list_sessions)
        {
            return Err(Error::new(
                Status::Unsupported,
                "the runtime does not advertise ListSessions (capabilities.sessions.list_sessions)",
            ));
        }
        let req = pb::ListSessionsRequest {
            page_size,
            page_token: page_token.to_string(),
        };
        self.unary(req, |mut s, r| async move { s.list_sessions(r).await })
            .await
    }

    /// Every session the runtime holds, following `next_page_token` to the end.
    pub async fn list_all_sessions(&self) -> Result<Vec<pb::SessionMetadata>> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let page = self.list_sessions(1000, &token).await?;
            all.extend(page.sessions);
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            token = page.next_page_token;
        }
    }
}

/// The `authorization` value of a bearer token.
fn auth_value(token: &str) -> Result<MetadataValue<Ascii>> {
    format!("Bearer {token}")
        .parse::<MetadataValue<Ascii>>()
        .map_err(|_| Error::invalid_argument("bearer token is not a valid header value"))
}

/// A hint for the usual causes of a TLS failure that shows only once the
/// first call is made: with TLS 1.3 the server checks the client certificate
/// after the handshake, so a missing or refused one surfaces as a transport
/// error of `Initialize`.
fn tls_hint(mut e: Error, chain: &str, config: &ClientConfig) -> Error {
    let tls = config.endpoint_uri().is_ok_and(|(_, tls)| tls);
    if !tls || e.status != Status::Transport {
        return e;
    }
    let alert: String = match chain.find("alert: ") {
        Some(at) => chain[at + 7..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect(),
        None => String::new(),
    };
    let required =
        "the server requires a client certificate: set one with the client identity option";
    let refused = "the server refused the client certificate: check that a CA it trusts signed \
                   it and that the key matches it";
    let hint = match alert.as_str() {
        "CertificateRequired" => required,
        "BadCertificate"
        | "UnknownCA"
        | "CertificateUnknown"
        | "DecryptError"
        | "AccessDenied"
        | "UnsupportedCertificate"
        | "CertificateExpired"
        | "CertificateRevoked" => refused,
        // The alert can lose the race with the connection's close (or a
        // write into it); the request then only sees that.
        "" => {
            let (because, hint) = if config.client_identity.is_some() {
                ("it may refuse the client certificate", refused)
            } else {
                ("it may require a client certificate", required)
            };
            e.message = format!(
                "{}: the server closed the TLS connection before answering ({because}; if so, {hint})",
                e.message
            );
            return e;
        }
        _ => return e,
    };
    e.message = format!("{}: the server sent TLS alert {alert} ({hint})", e.message);
    e
}

fn nonempty_id(session_id: &str) -> Result<String> {
    check_session_id(session_id)?;
    Ok(session_id.to_string())
}

/// The `Ack` of a session control-plane RPC (cancel, suspend, resume).
fn control_ack(ack: Option<pb::Ack>, session_id: &str) -> Result<Ack> {
    let ack = ack_result(ack, false).map_err(|e| e.with_ids(session_id, ""))?;
    Ok(Ack {
        message_id: ack.message_id,
        session_id: session_id.to_string(),
        duplicate: ack.duplicate,
        session_state: ack.session_state,
        accepted_at_unix_ms: ack.accepted_at_unix_ms,
        attempts: 1,
    })
}

/// An `Ack` as a result: `ok` (or, after a retry, `DUPLICATE_MESSAGE`, which
/// means an earlier attempt was accepted) is success.
fn ack_result(ack: Option<pb::Ack>, retried: bool) -> Result<pb::Ack> {
    let ack = ack.ok_or_else(|| Error::new(Status::Rpc, "the runtime answered without an Ack"))?;
    if ack.ok {
        return Ok(ack);
    }
    match &ack.error {
        Some(e) if retried && e.code == "DUPLICATE_MESSAGE" => Ok(pb::Ack {
            ok: true,
            duplicate: true,
            ..ack
        }),
        Some(e) => Err(Error::from_macp_error(e)),
        None => Err(Error::new(
            Status::Rpc,
            "the runtime refused the message without an error",
        )),
    }
}

/// An error and its causes, `: `-separated, each text once: transport
/// errors often repeat their cause in their own text ("tcp connect error:
/// tcp connect error: ...").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        let text = cause.to_string();
        if !text.is_empty() && !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        src = cause.source();
    }
    s
}

/// The message of a failed connection, with a hint when a TLS handshake
/// met a plaintext runtime (its HTTP/2 bytes are no TLS record).
fn connect_failure(target: &str, chain: &str, tls: bool) -> String {
    let plaintext_peer = tls
        && ["InvalidContentType", "corrupt message", "CorruptMessage"]
            .iter()
            .any(|m| chain.contains(m));
    if plaintext_peer {
        format!(
            "cannot connect to {target}: {chain} (the runtime does not speak TLS here: \
             for a plaintext runtime use http://host:port, or host:port, with allow_insecure)"
        )
    } else {
        format!("cannot connect to {target}: {chain}")
    }
}

/// The encoded size of `SendRequest { envelope }`, without building it:
/// field 1's key, the envelope's length and the envelope.
fn send_request_len(envelope: &pb::Envelope) -> usize {
    prost::encoding::message::encoded_len(1, envelope)
}

/// `SendRequest { envelope }` encoded from a shared envelope, so that the
/// attempts of one send need no copy of it. Only ever encoded.
#[derive(Debug, Default, Clone)]
struct SharedSendRequest(Option<Arc<pb::Envelope>>);

impl Message for SharedSendRequest {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        if let Some(e) = &self.0 {
            prost::encoding::message::encode(1, &**e, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> std::result::Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.as_deref().map_or(0, send_request_len)
    }

    fn clear(&mut self) {
        self.0 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared request encodes exactly as the generated one.
    #[test]
    fn a_shared_send_request_encodes_as_send_request() {
        let env = pb::Envelope {
            macp_version: "1.0".into(),
            message_type: "Proposal".into(),
            message_id: new_id(),
            session_id: new_id(),
            payload: vec![1, 2, 3],
            timestamp_unix_ms: 1_700_000_000_000,
            ..Default::default()
        };
        let built = pb::SendRequest {
            envelope: Some(env.clone()),
        };
        let shared = SharedSendRequest(Some(Arc::new(env)));
        assert_eq!(shared.encode_to_vec(), built.encode_to_vec());
        assert_eq!(shared.encoded_len(), built.encoded_len());
    }

    /// `check_size` measures the request without building it.
    #[test]
    fn the_request_size_is_measured_exactly() {
        for payload in [0usize, 1, 127, 128, 100_000] {
            let env = pb::Envelope {
                message_type: "Proposal".into(),
                message_id: new_id(),
                session_id: new_id(),
                payload: vec![7; payload],
                ..Default::default()
            };
            let built = pb::SendRequest {
                envelope: Some(env.clone()),
            };
            assert_eq!(send_request_len(&env), built.encoded_len());
        }
    }

    #[test]
    fn new_ids_are_valid_session_and_message_ids() {
        let id = new_id();
        validate_session_id(&id).unwrap();
        validate_message_id(&id).unwrap();
        assert_ne!(id, new_id());
    }

    #[test]
    fn message_id_rules() {
        assert!(validate_message_id("").is_err());
        assert!(validate_message_id(&"x".repeat(129)).is_err());
        assert!(validate_message_id(&"x".repeat(128)).is_ok());
        assert!(validate_message_id("implicit-accept:h1").is_err());
        assert!(validate_message_id("Implicit-Accept:h1").is_ok());
    }

    #[test]
    fn session_id_rules_come_from_macp_core() {
        assert!(validate_session_id("not-a-uuid").is_err());
        assert!(validate_session_id(&new_id().to_uppercase()).is_err());
        assert!(validate_session_id("abcdefghijklmnopqrstuv").is_ok());
        assert_eq!(
            validate_session_id("short").unwrap_err().status,
            Status::InvalidSessionId
        );
    }

    #[test]
    fn oversized_ids_are_refused_and_shortened() {
        let long = "a".repeat(16 * 1024);
        let e = validate_session_id(&long).unwrap_err();
        assert_eq!(e.status, Status::InvalidSessionId);
        assert!(e.message.len() < 300, "{}", e.message);
        assert!(e.message.contains("16384 bytes"), "{}", e.message);
        assert_eq!(shorten_id("abc"), "'abc'");
        // Cut at a character boundary.
        let wide = "é".repeat(100);
        assert!(shorten_id(&wide).starts_with(&format!("'{}", "é".repeat(32))));
    }

    #[test]
    fn error_chains_say_each_cause_once() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "tcp connect error",
            Some(Box::new(E(
                "tcp connect error",
                Some(Box::new(E("Connection refused (os error 111)", None))),
            ))),
        );
        assert_eq!(
            error_chain(&e),
            "tcp connect error: Connection refused (os error 111)"
        );
    }

    #[test]
    fn tls_against_plaintext_hints_at_allow_insecure() {
        let m = connect_failure(
            "https://h:1",
            "received corrupt message of type InvalidContentType",
            true,
        );
        assert!(m.contains("allow_insecure"), "{m}");
        assert!(
            !connect_failure("https://h:1", "Connection refused", true).contains("allow_insecure")
        );
    }

    #[test]
    fn duplicate_message_after_retry_is_success() {
        let refused = pb::Ack {
            ok: false,
            error: Some(pb::MacpError {
                code: "DUPLICATE_MESSAGE".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(ack_result(Some(refused.clone()), false).is_err());
        let ok = ack_result(Some(refused), true).unwrap();
        assert!(ok.duplicate);
    }
}
