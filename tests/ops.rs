//! Operating a client: bearer tokens replaced on a live client (against a
//! runtime with static tokens), W3C trace context read on the wire (through
//! the test proxy), and mutual TLS (a TLS proxy that requires a client
//! certificate, in front of the runtime, which cannot require one itself).

mod support;

use std::ffi::CString;
use std::sync::Arc;
use std::time::Duration;

use macp::ffi::*;
use macp::modes::DECISION;
use macp::watch::{Event, Watch, WatchOptions};
use macp::{Client, ClientConfig, ClientIdentity, Session, StartOptions, Status, TraceContext};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use support::proxy::Proxy;
use support::{Runtime, TempDir};

const PATIENCE: Duration = Duration::from_secs(60);

/// Static tokens: each opaque token authenticates as one identity, so a
/// replaced token is seen as a changed sender.
const TOKENS: &str = r#"[
  {"token": "tok-coordinator-5a1e", "sender": "coordinator", "can_start_sessions": true},
  {"token": "tok-alice-7f3a91", "sender": "alice", "can_start_sessions": true},
  {"token": "tok-bob-c0ffee", "sender": "bob", "can_start_sessions": true},
  {"token": "tok-mallory-0bad", "sender": "mallory", "can_start_sessions": true}
]"#;

fn config(target: &str, token: &str) -> ClientConfig {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(token.into());
    c.connect_timeout = Duration::from_secs(30);
    c
}

async fn connect(target: &str, token: &str) -> Arc<Client> {
    Arc::new(
        Client::connect(config(target, token))
            .await
            .expect("connect"),
    )
}

async fn next(w: &mut Watch) -> Event {
    tokio::time::timeout(PATIENCE, w.events.recv())
        .await
        .expect("no event in time")
        .expect("watcher ended without a Closed event")
}

/// The next accepted envelope's sender; panics on any other event.
async fn next_sender(w: &mut Watch) -> String {
    match next(w).await {
        Event::Envelope { envelope, .. } => envelope.sender,
        ev => panic!("expected an envelope, got {ev:?}"),
    }
}

async fn decision(target: &str, coordinator_token: &str) -> Session {
    let opts = StartOptions {
        participants: vec!["alice".into(), "bob".into()],
        ttl_ms: 600_000,
        ..Default::default()
    };
    Session::start(connect(target, coordinator_token).await, DECISION, opts)
        .await
        .expect("start")
        .0
}

#[tokio::test]
async fn a_replaced_token_authenticates_later_calls_and_reconnecting_watchers() {
    let dir = TempDir::new("ops-rotate");
    let mut rt = Runtime::start_with(&[
        ("MACP_AUTH_TOKENS_JSON", TOKENS),
        ("MACP_MEMORY_ONLY", "0"),
        ("MACP_DATA_DIR", dir.0.to_str().unwrap()),
    ]);
    let coord = decision(&rt.target(), "tok-coordinator-5a1e").await;
    let client = connect(&rt.target(), "tok-alice-7f3a91").await;
    let s = Session::open(client.clone(), coord.id()).await.unwrap();
    let mut w = s.watch(0, WatchOptions::default()).await.unwrap();
    assert_eq!(next_sender(&mut w).await, "coordinator"); // SessionStart

    s.decision().propose("p0", "x", "", b"").await.unwrap();
    assert_eq!(next_sender(&mut w).await, "alice");

    // A bad token is refused and the old one stays in use.
    let e = client.set_bearer_token(Some("two words")).unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument);
    s.decision().propose("p1", "x", "", b"").await.unwrap();
    assert_eq!(next_sender(&mut w).await, "alice");

    // Rotated: the same client, and the open watcher, go on; sends are bob's.
    client.set_bearer_token(Some("tok-bob-c0ffee")).unwrap();
    s.decision().propose("p2", "x", "", b"").await.unwrap();
    assert_eq!(next_sender(&mut w).await, "bob", "the stream kept flowing");
    assert_eq!(s.metadata().await.unwrap().session_id, coord.id());

    // Cleared: the runtime refuses calls without a credential.
    client.set_bearer_token(None).unwrap();
    let e = s.decision().propose("p3", "x", "", b"").await.unwrap_err();
    assert_eq!(e.status, Status::Unauthenticated, "{e}");

    // A watcher that reconnects after the rotation subscribes with the new
    // token: mallory is no participant, so the new subscription is refused.
    client.set_bearer_token(Some("tok-mallory-0bad")).unwrap();
    rt.restart();
    loop {
        match next(&mut w).await {
            Event::Reconnecting { .. } | Event::Resumed { .. } => {}
            Event::Closed(e) => {
                assert_eq!(e.status, Status::Forbidden, "{e}");
                break;
            }
            ev => panic!("unexpected {ev:?}"),
        }
    }
}

#[test]
fn tokens_are_replaced_and_refused_through_the_c_abi() {
    let rt = Runtime::start();
    let target = CString::new(rt.target()).unwrap();
    let null = std::ptr::null_mut();
    unsafe {
        let mut opts = std::ptr::null_mut();
        assert_eq!(macp_client_options_new(&mut opts, null), Status::Ok);
        macp_client_options_set_target(opts, target.as_ptr(), null);
        macp_client_options_set_allow_insecure(opts, true, null);
        // NULL (an unset getenv) no longer removes a token silently.
        let mut err = std::ptr::null_mut();
        assert_eq!(
            macp_client_options_set_bearer_token(opts, std::ptr::null(), &mut err),
            Status::InvalidArgument
        );
        let msg = std::ffi::CStr::from_ptr(macp_error_message(err)).to_string_lossy();
        assert!(msg.contains("token is NULL"), "{msg}");
        macp_error_free(err);
        assert_eq!(
            macp_client_options_set_bearer_token(opts, c"alice".as_ptr(), null),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_clear_bearer_token(opts, null),
            Status::Ok
        );
        assert_eq!(
            macp_client_options_clear_bearer_token(std::ptr::null_mut(), null),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_options_set_bearer_token(opts, c"alice".as_ptr(), null),
            Status::Ok
        );
        let mut client = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), null),
            Status::Ok
        );
        macp_client_options_free(opts);

        assert_eq!(
            macp_client_set_bearer_token(client, std::ptr::null(), null),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_set_bearer_token(client, c"bad token".as_ptr(), null),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_set_bearer_token(client, [0xffu8, 0].as_ptr().cast(), null),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_set_bearer_token(std::ptr::null(), c"bob".as_ptr(), null),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_set_bearer_token(client, c"bob".as_ptr(), null),
            Status::Ok
        );
        assert_eq!(macp_client_clear_bearer_token(client, null), Status::Ok);
        macp_client_free(client);
        assert_eq!(
            macp_client_set_bearer_token(client, c"bob".as_ptr(), null),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_clear_bearer_token(client, null),
            Status::InvalidHandle
        );
    }
}

const TP_CLIENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TP_SESSION: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";

/// The `traceparent` and `tracestate` of the last call of `method` the
/// proxy saw.
fn last_trace(proxy: &Proxy, method: &str) -> (Option<String>, Option<String>) {
    let calls = proxy.calls();
    let (_, md) = calls
        .iter()
        .rev()
        .find(|(m, _)| *m == method)
        .unwrap_or_else(|| panic!("no {method} call reached the proxy"));
    let get = |k: &str| md.get(k).map(|v| v.to_str().unwrap().to_string());
    (get("traceparent"), get("tracestate"))
}

#[tokio::test]
async fn trace_context_is_sent_as_metadata_per_client_and_per_session() {
    let rt = Runtime::start();
    let coord = decision(&rt.target(), "coordinator").await;
    let (proxy, addr) = Proxy::start(&rt.target()).await;
    let client = connect(&addr.to_string(), "alice").await;
    assert_eq!(
        last_trace(&proxy, "Initialize"),
        (None, None),
        "none set yet"
    );

    client.set_trace_context(Some(
        TraceContext::new(TP_CLIENT, Some("vendor=a1")).unwrap(),
    ));
    let s = Session::open(client.clone(), coord.id()).await.unwrap();
    assert_eq!(
        last_trace(&proxy, "GetSession"),
        (Some(TP_CLIENT.into()), Some("vendor=a1".into()))
    );
    s.decision().propose("p0", "x", "", b"").await.unwrap();
    assert_eq!(last_trace(&proxy, "Send").0.as_deref(), Some(TP_CLIENT));

    // A session's own context wins over the client's, for its calls only.
    s.set_trace_context(Some(TraceContext::new(TP_SESSION, None).unwrap()));
    s.decision().propose("p1", "x", "", b"").await.unwrap();
    assert_eq!(last_trace(&proxy, "Send"), (Some(TP_SESSION.into()), None));
    s.metadata().await.unwrap();
    assert_eq!(
        last_trace(&proxy, "GetSession").0.as_deref(),
        Some(TP_SESSION)
    );
    client.get_session(coord.id()).await.unwrap();
    assert_eq!(
        last_trace(&proxy, "GetSession").0.as_deref(),
        Some(TP_CLIENT)
    );

    s.set_trace_context(None);
    s.decision().propose("p2", "x", "", b"").await.unwrap();
    assert_eq!(last_trace(&proxy, "Send").0.as_deref(), Some(TP_CLIENT));
    client.set_trace_context(None);
    s.decision().propose("p3", "x", "", b"").await.unwrap();
    assert_eq!(last_trace(&proxy, "Send"), (None, None));
}

#[test]
fn trace_context_through_the_c_abi_is_checked_and_sent() {
    let rt = Runtime::start();
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let (proxy, addr) = tokio.block_on(Proxy::start(&rt.target()));
    let target = CString::new(addr.to_string()).unwrap();
    let null = std::ptr::null_mut();
    let tp = CString::new(TP_CLIENT).unwrap();
    let tp_session = CString::new(TP_SESSION).unwrap();
    unsafe {
        let mut opts = std::ptr::null_mut();
        macp_client_options_new(&mut opts, null);
        macp_client_options_set_target(opts, target.as_ptr(), null);
        macp_client_options_set_allow_insecure(opts, true, null);
        macp_client_options_set_bearer_token(opts, c"coordinator".as_ptr(), null);
        let mut client = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), null),
            Status::Ok
        );
        macp_client_options_free(opts);

        for bad in [
            c"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            c"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            c"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            c"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            let mut err = std::ptr::null_mut();
            assert_eq!(
                macp_client_set_trace_context(client, bad.as_ptr(), std::ptr::null(), &mut err),
                Status::InvalidArgument
            );
            let msg = std::ffi::CStr::from_ptr(macp_error_message(err)).to_string_lossy();
            assert!(msg.contains("traceparent"), "{msg}");
            macp_error_free(err);
        }
        assert_eq!(
            macp_client_set_trace_context(client, tp.as_ptr(), c"a=\x01".as_ptr(), null),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_set_trace_context(std::ptr::null(), tp.as_ptr(), std::ptr::null(), null),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_set_trace_context(client, tp.as_ptr(), c"k=v".as_ptr(), null),
            Status::Ok
        );
        let mut so = std::ptr::null_mut();
        macp_start_options_new(&mut so, null);
        macp_start_options_add_participant(so, c"alice".as_ptr(), null);
        macp_start_options_set_ttl_ms(so, 60_000, null);
        let mut session = std::ptr::null_mut();
        let mode = CString::new(DECISION).unwrap();
        assert_eq!(
            macp_session_start(
                client,
                mode.as_ptr(),
                so,
                &mut session,
                std::ptr::null_mut(),
                std::ptr::null(),
                null
            ),
            Status::Ok
        );
        macp_start_options_free(so);
        assert_eq!(
            last_trace(&proxy, "Send"),
            (Some(TP_CLIENT.into()), Some("k=v".into()))
        );
        assert_eq!(
            macp_session_set_trace_context(session, tp_session.as_ptr(), std::ptr::null(), null),
            Status::Ok
        );
        let mut info = std::ptr::null_mut();
        assert_eq!(
            macp_session_get_info(session, &mut info, std::ptr::null(), null),
            Status::Ok
        );
        macp_session_info_free(info);
        assert_eq!(
            last_trace(&proxy, "GetSession"),
            (Some(TP_SESSION.into()), None)
        );
        assert_eq!(
            macp_session_set_trace_context(session, std::ptr::null(), std::ptr::null(), null),
            Status::Ok
        );
        assert_eq!(
            macp_session_set_trace_context(std::ptr::null(), tp.as_ptr(), std::ptr::null(), null),
            Status::InvalidHandle
        );
        macp_session_free(session);
        macp_client_free(client);
    }
}

/// A CA and a certificate for `names` signed by it: (CA PEM, cert PEM,
/// key PEM). With no names, a client certificate.
fn pki(names: &[&str]) -> (String, Issuer<'static, KeyPair>, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let cert = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), issuer, cert.pem(), key.serialize_pem())
}

fn client_cert(issuer: &Issuer<'static, KeyPair>) -> ClientIdentity {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["agent".to_string()])
        .unwrap()
        .signed_by(&key, issuer)
        .unwrap();
    ClientIdentity::new(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap()
}

/// A TLS endpoint for localhost that requires a client certificate signed
/// by its client CA, forwarding to a runtime: (runtime, proxy, its address,
/// server CA PEM, client CA issuer).
async fn mtls_endpoint() -> (Runtime, Proxy, String, String, Issuer<'static, KeyPair>) {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let rt = Runtime::start();
    let (server_ca, _, cert, key) = pki(&["localhost"]);
    let (client_ca, client_issuer, _, _) = pki(&[]);
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .client_ca_root(Certificate::from_pem(client_ca));
    let (proxy, addr) = Proxy::start_with(&rt.target(), Some(tls)).await;
    let target = format!("localhost:{}", addr.port());
    (rt, proxy, target, server_ca, client_issuer)
}

fn tls_config(target: &str, ca: &str) -> ClientConfig {
    let mut c = ClientConfig::new(target);
    c.bearer_token = Some("alice".into());
    c.ca_pem = Some(ca.as_bytes().to_vec());
    c.connect_timeout = Duration::from_secs(10);
    c
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate_connects_and_without_one_fails_clearly() {
    let (_rt, proxy, target, ca, issuer) = mtls_endpoint().await;

    let mut good = tls_config(&target, &ca);
    good.client_identity = Some(client_cert(&issuer));
    let c = Arc::new(
        Client::connect(good)
            .await
            .expect("mTLS with a good certificate"),
    );
    let opts = StartOptions {
        participants: vec!["bob".into()],
        ttl_ms: 60_000,
        ..Default::default()
    };
    Session::start(c, DECISION, opts)
        .await
        .expect("a call over mTLS");
    assert!(proxy.calls().iter().any(|(m, _)| *m == "Send"));

    let e = Client::connect(tls_config(&target, &ca)).await.unwrap_err();
    assert_eq!(e.status, Status::Transport, "{e}");
    assert!(e.message.contains("client certificate"), "{}", e.message);

    // A certificate from a CA the server does not trust.
    let (_, stranger, _, _) = pki(&[]);
    let mut wrong = tls_config(&target, &ca);
    wrong.client_identity = Some(client_cert(&stranger));
    let e = Client::connect(wrong).await.unwrap_err();
    assert_eq!(e.status, Status::Transport, "{e}");
    assert!(
        e.message.contains("refused the client certificate"),
        "{}",
        e.message
    );

    // A client certificate on a plaintext target is a mistake, said so.
    let mut plain = config("127.0.0.1:1", "alice");
    plain.client_identity = Some(client_cert(&issuer));
    let e = Client::connect(plain).await.unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
}

#[test]
fn client_identity_through_the_c_abi() {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let (_rt, _proxy, target, ca, issuer) = tokio.block_on(mtls_endpoint());
    let id = client_cert(&issuer);
    let target = CString::new(target).unwrap();
    let null = std::ptr::null_mut();
    unsafe {
        let mut opts = std::ptr::null_mut();
        macp_client_options_new(&mut opts, null);
        macp_client_options_set_target(opts, target.as_ptr(), null);
        macp_client_options_set_bearer_token(opts, c"alice".as_ptr(), null);
        macp_client_options_set_ca_pem(opts, ca.as_ptr(), ca.len(), null);
        let mut client = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), &mut err),
            Status::Transport
        );
        let msg = std::ffi::CStr::from_ptr(macp_error_message(err)).to_string_lossy();
        assert!(msg.contains("client certificate"), "{msg}");
        macp_error_free(err);

        let (c, k) = (&id.cert_pem, &id.key_pem);
        // Bad input: NULL with a length, a key where the cert goes, no key.
        assert_eq!(
            macp_client_options_set_client_identity(
                opts,
                std::ptr::null(),
                5,
                k.as_ptr(),
                k.len(),
                null
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_options_set_client_identity(
                opts,
                k.as_ptr(),
                k.len(),
                k.as_ptr(),
                k.len(),
                null
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_options_set_client_identity(
                opts,
                c.as_ptr(),
                c.len(),
                std::ptr::null(),
                0,
                null
            ),
            Status::InvalidArgument
        );
        assert_eq!(
            macp_client_options_set_client_identity(
                std::ptr::null_mut(),
                c.as_ptr(),
                c.len(),
                k.as_ptr(),
                k.len(),
                null
            ),
            Status::InvalidHandle
        );
        assert_eq!(
            macp_client_options_set_client_identity(
                opts,
                c.as_ptr(),
                c.len(),
                k.as_ptr(),
                k.len(),
                null
            ),
            Status::Ok
        );
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), null),
            Status::Ok
        );
        macp_client_free(client);
        // NULL/0 for both removes it again.
        assert_eq!(
            macp_client_options_set_client_identity(
                opts,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                null
            ),
            Status::Ok
        );
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), null),
            Status::Transport
        );
        macp_client_options_free(opts);
    }
}
