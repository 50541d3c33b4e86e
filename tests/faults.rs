//! Faults and misuse at the edges: broken connections, oversized ids and
//! payloads, whitespace participants, against a real runtime.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use macp::modes::DECISION;
use macp::{Client, ClientConfig, Session, StartOptions, Status};
use support::Runtime;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

fn config(target: &str, identity: &str) -> ClientConfig {
    let mut c = ClientConfig::new(target);
    c.allow_insecure = true;
    c.bearer_token = Some(identity.to_string());
    c.call_timeout = Some(Duration::from_secs(10));
    c
}

/// A TCP forwarder in front of the runtime whose connections can be cut
/// at once, as a crash of the network path would.
struct Severable {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Severable {
    async fn start(upstream: SocketAddr) -> Severable {
        let listener = support::unique_listener();
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let addr = listener.local_addr().unwrap();
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let held = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                held.lock().unwrap().push(task);
            }
        });
        Severable { addr, conns }
    }

    /// Drop every connection open now (both sockets close).
    fn sever(&self) {
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

fn decision_opts(participants: &[&str]) -> StartOptions {
    StartOptions {
        intent: "faults".into(),
        participants: participants.iter().map(|s| s.to_string()).collect(),
        ttl_ms: 60_000,
        ..Default::default()
    }
}

/// After the connection breaks, the next calls on the same client used to
/// fail `CANCELLED` ("operation was canceled") and were not retried. Now
/// they are a transport failure, and a send retries it (same message id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_connection_is_retried_not_cancelled() {
    let rt = Runtime::start();
    let fwd = Severable::start(rt.addr).await;
    let mut cfg = config(&format!("http://{}", fwd.addr), "alice");
    cfg.retry.max_retries = 5;
    let client = Arc::new(Client::connect(cfg).await.expect("connect"));
    let (session, _) = Session::start(client.clone(), DECISION, decision_opts(&["alice"]))
        .await
        .expect("start");
    for round in 0..50 {
        fwd.sever();
        let r = session
            .decision()
            .propose(&format!("p{round}"), "x", "", b"")
            .await;
        match r {
            Ok(_) => {}
            Err(e) => panic!("round {round}: send after a broken connection failed: {e}"),
        }
        assert!(
            !matches!(session.metadata().await, Err(e) if e.status == Status::Cancelled),
            "round {round}: a read after the send was reported CANCELLED"
        );
    }
}

/// An id of 16 KiB used to be sent as it was; the runtime echoed it in an
/// error header too large for the client, which tore the shared connection
/// down. Now every call naming a session checks the id first.
#[tokio::test]
async fn oversized_session_id_is_refused_locally_and_the_client_goes_on() {
    let rt = Runtime::start();
    let client = Arc::new(
        Client::connect(config(&rt.target(), "alice"))
            .await
            .unwrap(),
    );
    let (session, _) = Session::start(client.clone(), DECISION, decision_opts(&["alice"]))
        .await
        .unwrap();
    let long = "a".repeat(16 * 1024);
    let e = Session::open(client.clone(), &long).await.unwrap_err();
    assert_eq!(e.status, Status::InvalidSessionId, "{e}");
    assert!(
        e.message.len() < 300,
        "the id is echoed whole: {} bytes",
        e.message.len()
    );
    for e in [
        client.get_session(&long).await.unwrap_err(),
        client.cancel_session(&long, "x").await.unwrap_err(),
        client.suspend_session(&long, "x").await.unwrap_err(),
        client.resume_session(&long, "x").await.unwrap_err(),
    ] {
        assert_eq!(e.status, Status::InvalidSessionId, "{e}");
    }
    let env = client.envelope(DECISION, "Proposal", &long, vec![], None);
    assert_eq!(
        client.send(env).await.unwrap_err().status,
        Status::InvalidSessionId
    );
    // The shared connection is intact.
    session.metadata().await.expect("the client still works");
}

/// Payloads over the runtime's limit fail `PAYLOAD_TOO_LARGE` naming the
/// limit, before anything is sent (they used to fail `RPC` or `TRANSPORT`).
#[tokio::test]
async fn oversized_payload_is_refused_locally_with_the_limit() {
    let rt = Runtime::start();
    let client = Arc::new(
        Client::connect(config(&rt.target(), "alice"))
            .await
            .unwrap(),
    );
    let (session, _) = Session::start(client.clone(), DECISION, decision_opts(&["alice"]))
        .await
        .unwrap();
    for size in [1_048_577usize, 3 << 20, 65 << 20] {
        let e = session
            .decision()
            .propose("p1", "x", "", &vec![1u8; size])
            .await
            .unwrap_err();
        assert_eq!(e.status, Status::PayloadTooLarge, "{size}: {e}");
        assert!(e.message.contains("1048576"), "{e}");
        assert_eq!(e.session_id, session.id());
        assert!(!e.message_id.is_empty());
    }
    // A payload at the limit still reaches the runtime (which judges it).
    let e = client
        .send(client.envelope(
            DECISION,
            "Proposal",
            session.id(),
            vec![0xff; 1 << 20],
            None,
        ))
        .await
        .unwrap_err();
    assert_ne!(e.status, Status::PayloadTooLarge, "{e}");
    // A client told the runtime's higher limit lets larger payloads through
    // to the runtime, whose own limit then answers.
    let mut cfg = config(&rt.target(), "alice");
    cfg.max_payload_bytes = 4 << 20;
    let big = Client::connect(cfg).await.unwrap();
    let e = big
        .send(big.envelope(DECISION, "Proposal", session.id(), vec![1u8; 2 << 20], None))
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::PayloadTooLarge, "{e}");
    assert!(
        !e.message.contains("max_payload_bytes"),
        "refused locally: {e}"
    );
}

#[tokio::test]
async fn whitespace_participant_is_refused_locally() {
    let rt = Runtime::start();
    let client = Arc::new(
        Client::connect(config(&rt.target(), "alice"))
            .await
            .unwrap(),
    );
    let e = Session::start(client.clone(), DECISION, decision_opts(&["alice", " \t"]))
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::InvalidArgument, "{e}");
    assert!(e.message.contains("whitespace"), "{e}");
    // Repeats are dropped, the first kept in order.
    let (s, _) = Session::start(client, DECISION, decision_opts(&["alice", "bob", "alice"]))
        .await
        .unwrap();
    let meta = s.metadata().await.unwrap();
    assert_eq!(
        meta.participants,
        vec!["alice".to_string(), "bob".to_string()]
    );
}

/// A TLS handshake against a plaintext runtime says what to do instead, and
/// an error never repeats a cause or shows the target's credentials.
#[tokio::test]
async fn connect_errors_are_readable() {
    let rt = Runtime::start();
    let mut cfg = ClientConfig::new(format!("https://user:pa55word@{}", rt.target()));
    cfg.connect_timeout = Duration::from_secs(5);
    let e = Client::connect(cfg).await.unwrap_err();
    assert!(e.message.contains("allow_insecure"), "{e}");
    assert!(!e.message.contains("pa55word"), "{e}");
    let mut cfg = config(&format!("127.0.0.1:{}", support::free_port()), "alice");
    cfg.connect_timeout = Duration::from_secs(5);
    let e = Client::connect(cfg).await.unwrap_err();
    assert_eq!(e.status, Status::Transport, "{e}");
    let parts: Vec<&str> = e.message.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "repeated cause in {e}");
    }
}
