//! Client configuration and the retry policy.

use std::time::Duration;

use crate::error::{Error, Result};

/// How `Send` retries transient failures (transport errors, timeouts,
/// `RATE_LIMITED`, `INTERNAL_ERROR`). Every retry reuses the `message_id`, so
/// the runtime deduplicates a message that was in fact accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of any one delay.
    pub max_delay: Duration,
    /// Spread each delay uniformly over `[delay/2, delay]` so many clients do
    /// not retry in lock step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// The MACP SDK parity defaults: 3 retries, 100 ms base, 2 s cap; jitter on.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            jitter: true,
        }
    }
}

/// Largest accepted [`RetryPolicy::max_retries`] (`MACP_MAX_RETRIES` in C).
pub const MAX_RETRIES: u32 = 100;

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let d = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        if self.jitter && !d.is_zero() {
            let half = d / 2;
            half + d.mul_f64(fastrand::f64() * 0.5)
        } else {
            d
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_retries > MAX_RETRIES {
            return Err(Error::invalid_argument(format!(
                "max_retries must be at most {}",
                MAX_RETRIES
            )));
        }
        if self.base_delay > self.max_delay {
            return Err(Error::invalid_argument(
                "retry base delay must not exceed the max delay",
            ));
        }
        Ok(())
    }
}

/// The runtime's documented default payload limit (`MACP_MAX_PAYLOAD_BYTES`,
/// 1 MiB): the most payload bytes one envelope may carry.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 1_048_576;

/// What the runtime allows an encoded request beyond its payload limit (ids,
/// mode, sender, versions): its transport limit is the payload limit plus
/// this much.
pub const ENVELOPE_OVERHEAD_BYTES: usize = 64 * 1024;

/// Largest message the client encodes or decodes on the wire.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Largest accepted `max_payload_bytes`: a request at the limit must still
/// fit the client's own transport limit.
pub const MAX_PAYLOAD_LIMIT_BYTES: usize = MAX_MESSAGE_BYTES - ENVELOPE_OVERHEAD_BYTES;

/// A client certificate chain and its private key, both PEM, presented
/// when the server asks for one (mutual TLS).
///
/// Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_pem", &format!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl ClientIdentity {
    /// Check that `cert_pem` holds a PEM certificate and `key_pem` a PEM
    /// private key (parsing them fully is left to the TLS handshake).
    pub fn new(cert_pem: &[u8], key_pem: &[u8]) -> Result<ClientIdentity> {
        let has = |pem: &[u8], label: &str| {
            std::str::from_utf8(pem)
                .map(|s| s.contains(&format!("-----BEGIN {label}")))
                .unwrap_or(false)
        };
        if !has(cert_pem, "CERTIFICATE-----") {
            return Err(Error::invalid_argument(
                "client certificate is not PEM (no '-----BEGIN CERTIFICATE-----' block)",
            ));
        }
        let key_labels = [
            "PRIVATE KEY-----",
            "RSA PRIVATE KEY-----",
            "EC PRIVATE KEY-----",
        ];
        if !key_labels.iter().any(|l| has(key_pem, l)) {
            return Err(Error::invalid_argument(
                "client key is not a PEM private key (no '-----BEGIN ... PRIVATE KEY-----' block)",
            ));
        }
        Ok(ClientIdentity {
            cert_pem: cert_pem.to_vec(),
            key_pem: key_pem.to_vec(),
        })
    }
}

/// Check a bearer token: non-empty visible ASCII (it goes in a header).
pub(crate) fn validate_token(t: &str) -> Result<()> {
    if t.is_empty() || t.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid_argument(
            "bearer token must be non-empty visible ASCII",
        ));
    }
    Ok(())
}

/// Everything a [`crate::Client`] needs to connect.
///
/// Its `Debug` output never shows the bearer token.
#[derive(Clone)]
pub struct ClientConfig {
    /// `host:port`, `https://host:port` or (with `allow_insecure`) `http://host:port`.
    pub target: String,
    /// Sent on every call as `authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// Permit plaintext HTTP/2. Off by default: a scheme-less target then uses TLS.
    pub allow_insecure: bool,
    /// PEM CA bundle to trust instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// TLS server name to verify, when it differs from the target's host.
    pub tls_domain: Option<String>,
    /// Client certificate and key for servers that require one (TLS only).
    pub client_identity: Option<ClientIdentity>,
    /// Time allowed to establish the connection (and the `Initialize` call).
    pub connect_timeout: Duration,
    /// Per-attempt deadline of every unary call; `None` for no deadline.
    pub call_timeout: Option<Duration>,
    /// The identity the caller expects to be authenticated as. When set, every
    /// envelope carries it as `sender`, so the runtime refuses the message
    /// (`UNAUTHENTICATED`) instead of attributing it to another identity.
    pub expected_sender: Option<String>,
    /// Retry policy of `Send`.
    pub retry: RetryPolicy,
    /// `ClientInfo.name` / `.version` sent in `Initialize`.
    pub client_name: String,
    pub client_version: String,
    /// Protocol versions offered in `Initialize`, most preferred first.
    pub protocol_versions: Vec<String>,
    /// The runtime's payload limit: a send whose payload is larger, or whose
    /// request exceeds it by more than [`ENVELOPE_OVERHEAD_BYTES`], fails
    /// with `PayloadTooLarge` before anything is sent. Set it to the
    /// runtime's `MACP_MAX_PAYLOAD_BYTES` when that is not the default
    /// (at most [`MAX_PAYLOAD_LIMIT_BYTES`]).
    pub max_payload_bytes: usize,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("target", &redact_target(&self.target))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_insecure", &self.allow_insecure)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())),
            )
            .field("tls_domain", &self.tls_domain)
            .field("client_identity", &self.client_identity)
            .field("connect_timeout", &self.connect_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("expected_sender", &self.expected_sender)
            .field("retry", &self.retry)
            .field("client_name", &self.client_name)
            .field("client_version", &self.client_version)
            .field("protocol_versions", &self.protocol_versions)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .finish()
    }
}

/// `target` with any credentials of its authority (`user:password@`)
/// replaced by `***@`, for messages.
pub fn redact_target(target: &str) -> String {
    let (scheme, rest) = match target.find("://") {
        Some(i) => target.split_at(i + 3),
        None => ("", target),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => target.to_string(),
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            target: String::new(),
            bearer_token: None,
            allow_insecure: false,
            ca_pem: None,
            tls_domain: None,
            client_identity: None,
            connect_timeout: Duration::from_secs(10),
            call_timeout: Some(Duration::from_secs(30)),
            expected_sender: None,
            retry: RetryPolicy::default(),
            client_name: "libmacp".to_string(),
            client_version: env!("CARGO_PKG_VERSION").to_string(),
            protocol_versions: vec![macp_core::MACP_VERSION.to_string()],
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
        }
    }
}

impl ClientConfig {
    pub fn new(target: impl Into<String>) -> Self {
        ClientConfig {
            target: target.into(),
            ..Default::default()
        }
    }

    /// The URI to dial and whether it uses TLS, after checking the target
    /// against `allow_insecure`.
    pub(crate) fn endpoint_uri(&self) -> Result<(String, bool)> {
        let t = self.target.trim();
        let shown = redact_target(t);
        if t.is_empty() {
            return Err(Error::invalid_argument("target is empty"));
        }
        if let Some(rest) = t.strip_prefix("https://") {
            Ok((format!("https://{rest}"), true))
        } else if let Some(rest) = t.strip_prefix("http://") {
            if !self.allow_insecure {
                return Err(Error::invalid_argument(format!(
                    "target '{shown}' is plaintext; allow insecure connections explicitly to use it"
                )));
            }
            Ok((format!("http://{rest}"), false))
        } else if t.contains("://") {
            Err(Error::invalid_argument(format!(
                "target '{shown}' has an unsupported scheme (use host:port, http:// or https://)"
            )))
        } else if self.allow_insecure {
            Ok((format!("http://{t}"), false))
        } else {
            Ok((format!("https://{t}"), true))
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.endpoint_uri()?;
        self.retry.validate()?;
        if self.max_payload_bytes == 0 || self.max_payload_bytes > MAX_PAYLOAD_LIMIT_BYTES {
            return Err(Error::invalid_argument(format!(
                "max_payload_bytes must be 1 to {MAX_PAYLOAD_LIMIT_BYTES}"
            )));
        }
        if self.protocol_versions.is_empty() {
            return Err(Error::invalid_argument("no protocol version to offer"));
        }
        if let Some(t) = &self.bearer_token {
            validate_token(t)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_less_target_is_tls_unless_insecure_allowed() {
        let mut c = ClientConfig::new("127.0.0.1:1");
        assert_eq!(
            c.endpoint_uri().unwrap(),
            ("https://127.0.0.1:1".into(), true)
        );
        c.allow_insecure = true;
        assert_eq!(
            c.endpoint_uri().unwrap(),
            ("http://127.0.0.1:1".into(), false)
        );
    }

    #[test]
    fn plaintext_needs_explicit_permission() {
        let mut c = ClientConfig::new("http://h:1");
        assert_eq!(
            c.endpoint_uri().unwrap_err().status,
            crate::Status::InvalidArgument
        );
        c.allow_insecure = true;
        assert!(c.endpoint_uri().is_ok());
        assert!(ClientConfig::new("ftp://h:1").endpoint_uri().is_err());
        assert!(ClientConfig::new(" ").endpoint_uri().is_err());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            jitter: false,
            ..Default::default()
        };
        let ms: Vec<u128> = (0..6).map(|i| p.delay(i).as_millis()).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1600, 2000]);
        assert_eq!(p.delay(u32::MAX).as_millis(), 2000);
    }

    #[test]
    fn jitter_stays_within_half_to_full_delay() {
        let p = RetryPolicy::default();
        for i in 0..200 {
            let d = p.delay(i % 5);
            let full = RetryPolicy {
                jitter: false,
                ..p.clone()
            }
            .delay(i % 5);
            assert!(d >= full / 2 && d <= full, "{d:?} vs {full:?}");
        }
    }

    #[test]
    fn debug_output_redacts_the_token_and_target_credentials() {
        let mut c = ClientConfig::new("https://alice:s3cret@h:1/x");
        c.bearer_token = Some("tok-very-secret".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-very-secret"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("https://***@h:1/x"));
        c.client_identity = Some(
            ClientIdentity::new(
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                b"-----BEGIN PRIVATE KEY-----\nkey-very-secret\n-----END PRIVATE KEY-----\n",
            )
            .unwrap(),
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("key-very-secret"), "{shown}");
    }

    #[test]
    fn client_identity_must_be_pem() {
        let cert = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let key = b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(ClientIdentity::new(cert, key).is_ok());
        let e = ClientIdentity::new(key, key).unwrap_err();
        assert!(e.message.contains("certificate"), "{}", e.message);
        let e = ClientIdentity::new(cert, cert).unwrap_err();
        assert!(e.message.contains("private key"), "{}", e.message);
        assert!(ClientIdentity::new(cert, &[0xff, 0xfe]).is_err());
    }

    #[test]
    fn target_credentials_are_never_echoed() {
        assert_eq!(redact_target("u:p@h:1"), "***@h:1");
        assert_eq!(redact_target("http://h:1/a@b"), "http://h:1/a@b");
        let e = ClientConfig::new("http://u:pw@h:1")
            .endpoint_uri()
            .unwrap_err();
        assert!(!e.message.contains("pw"), "{}", e.message);
        let e = ClientConfig::new("ftp://u:pw@h:1")
            .endpoint_uri()
            .unwrap_err();
        assert!(!e.message.contains("pw"), "{}", e.message);
    }

    #[test]
    fn payload_limit_must_fit_the_transport() {
        let mut c = ClientConfig::new("h:1");
        c.max_payload_bytes = 0;
        assert!(c.validate().is_err());
        c.max_payload_bytes = MAX_PAYLOAD_LIMIT_BYTES + 1;
        assert!(c.validate().is_err());
        c.max_payload_bytes = MAX_PAYLOAD_LIMIT_BYTES;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn bad_tokens_and_policies_are_refused() {
        let mut c = ClientConfig::new("h:1");
        c.bearer_token = Some("has space".into());
        assert!(c.validate().is_err());
        c.bearer_token = Some("alice".into());
        assert!(c.validate().is_ok());
        c.retry.base_delay = Duration::from_secs(5);
        assert!(c.validate().is_err());
    }
}
