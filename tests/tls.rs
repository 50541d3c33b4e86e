//! TLS against a real runtime serving a certificate from a test CA: trusted
//! through a given CA PEM, refused under the system roots, and never spoken
//! in plaintext by accident.

mod support;

use std::ffi::CString;
use std::time::Duration;

use macp::ffi::*;
use macp::{Client, ClientConfig, Status};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use support::{Runtime, TempDir};

/// A CA and a server certificate for localhost and 127.0.0.1 signed by it:
/// (CA PEM, server certificate PEM, server key PEM).
fn test_pki() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn tls_runtime(dir: &TempDir) -> (Runtime, String) {
    let (ca, cert, key) = test_pki();
    let cert_path = dir.0.join("server.pem");
    let key_path = dir.0.join("server.key");
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let rt = Runtime::start_with(&[
        ("MACP_TLS_CERT_PATH", cert_path.to_str().unwrap()),
        ("MACP_TLS_KEY_PATH", key_path.to_str().unwrap()),
    ]);
    (rt, ca)
}

fn config(target: String) -> ClientConfig {
    let mut c = ClientConfig::new(target);
    c.bearer_token = Some("alice".into());
    c.connect_timeout = Duration::from_secs(5);
    c
}

#[tokio::test]
async fn tls_with_a_given_ca_connects_and_the_system_roots_refuse() {
    let dir = TempDir::new("tls");
    let (rt, ca) = tls_runtime(&dir);
    let target = format!("localhost:{}", rt.addr.port());

    // Scheme-less targets use TLS by default.
    let mut trusted = config(target.clone());
    trusted.ca_pem = Some(ca.clone().into_bytes());
    let c = Client::connect(trusted)
        .await
        .expect("TLS with the test CA");
    assert_eq!(c.protocol_version(), "1.0");

    let mut https = config(format!("https://127.0.0.1:{}", rt.addr.port()));
    https.ca_pem = Some(ca.into_bytes());
    https.tls_domain = Some("localhost".into());
    Client::connect(https)
        .await
        .expect("https:// with a TLS domain");

    // The test CA is not among the system roots.
    let e = Client::connect(config(target)).await.unwrap_err();
    assert_eq!(e.status, Status::Transport, "{e}");

    // Plaintext to a TLS port fails rather than talking in the clear.
    let mut plain = config(format!("http://127.0.0.1:{}", rt.addr.port()));
    plain.allow_insecure = true;
    let e = Client::connect(plain).await.unwrap_err();
    assert!(
        matches!(e.status, Status::Transport | Status::Timeout),
        "{e}"
    );
}

#[test]
fn tls_through_the_c_abi() {
    let dir = TempDir::new("tls-c");
    let (rt, ca) = tls_runtime(&dir);
    let target = CString::new(format!("localhost:{}", rt.addr.port())).unwrap();
    unsafe {
        let mut opts = std::ptr::null_mut();
        assert_eq!(
            macp_client_options_new(&mut opts, std::ptr::null_mut()),
            Status::Ok
        );
        macp_client_options_set_target(opts, target.as_ptr(), std::ptr::null_mut());
        macp_client_options_set_bearer_token(opts, c"alice".as_ptr(), std::ptr::null_mut());
        let mut client = std::ptr::null_mut();
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), std::ptr::null_mut()),
            Status::Transport
        );
        assert_eq!(
            macp_client_options_set_ca_pem(opts, ca.as_ptr(), ca.len(), std::ptr::null_mut()),
            Status::Ok
        );
        assert_eq!(
            macp_client_new(opts, &mut client, std::ptr::null(), std::ptr::null_mut()),
            Status::Ok
        );
        assert!(!client.is_null());
        macp_client_free(client);
        macp_client_options_free(opts);
    }
}
