//! The floor: a bare tonic client of `macp.v1.MACPRuntimeService` with no SDK
//! around it (no handles, no retries, no validation, no C boundary). Run by
//! benches/run.sh against a local runtime at $MACP_TARGET; prints one JSON
//! object on stdout.
//!
//!   bare latency N          sequential sends: p50/p99 in microseconds
//!   bare latency_blocking N the same sends, each driven by `Runtime::block_on`
//!                           from a thread outside the runtime (what any
//!                           blocking API over an async client must do)
//!   bare throughput T N     one channel, T concurrent tasks each sending N
//!                           messages into sessions of its own: messages/second
//!   bare watch N            a passive StreamSession subscriber of one session
//!                           into which N messages are sent one by one: mean
//!                           time from the start of a send to the envelope's
//!                           arrival on the stream (the C watcher's shape)
//!
//! The latency and throughput modes send after their sessions are started
//! and also report the process's CPU time (user, sys) and context switches
//! (voluntary, involuntary) per send over the timed sends, from
//! getrusage(RUSAGE_SELF): all threads of the process.

use std::time::Instant;

use macp::pb;
use macp::proto::macp_runtime_service_client::MacpRuntimeServiceClient;
use prost::Message;
use tonic::transport::Channel;

type Stub = MacpRuntimeServiceClient<Channel>;

/// Messages sent into one session before moving to a fresh one, as in the
/// other benchmark programs (the runtime's cost per message grows with a
/// session's history).
const PER_SESSION: usize = 100;

/// Sequential sends before the timed ones, into sessions of their own.
const WARMUP: usize = 200;

fn usage() -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut r = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        r
    }
}

/// The JSON fields of the process's CPU time and context switches per send
/// since `before`, over n sends.
fn cpu_json(before: &libc::rusage, n: usize) -> String {
    let a = usage();
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    let n = n as f64;
    format!(
        "\"user_us_per_msg\": {:.3}, \"sys_us_per_msg\": {:.3}, \"vcsw_per_msg\": {:.4}, \"ivcsw_per_msg\": {:.4}",
        (us(a.ru_utime) - us(before.ru_utime)) / n,
        (us(a.ru_stime) - us(before.ru_stime)) / n,
        (a.ru_nvcsw - before.ru_nvcsw) as f64 / n,
        (a.ru_nivcsw - before.ru_nivcsw) as f64 / n,
    )
}

fn latency_json(mut lat: Vec<f64>, cpu: String) {
    let n = lat.len();
    lat.sort_by(f64::total_cmp);
    println!(
        "{{\"p50_us\": {:.1}, \"p99_us\": {:.1}, \"n\": {n}, {cpu}}}",
        lat[n / 2],
        lat[(n as f64 * 0.99) as usize]
    );
}

fn request<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", "Bearer bench".parse().unwrap());
    r
}

fn envelope(message_type: &str, session_id: &str, payload: Vec<u8>) -> pb::Envelope {
    pb::Envelope {
        macp_version: "1.0".into(),
        mode: "macp.mode.decision.v1".into(),
        message_type: message_type.into(),
        message_id: uuid::Uuid::new_v4().to_string(),
        session_id: session_id.into(),
        sender: String::new(),
        timestamp_unix_ms: 0,
        payload,
    }
}

/// A Decision `Proposal` envelope into session `sid`.
fn proposal_envelope(sid: &str, id: String) -> pb::Envelope {
    envelope("Proposal", sid, proposal(&id))
}

async fn send(stub: &mut Stub, env: pb::Envelope) {
    let ack = stub
        .send(request(pb::SendRequest {
            envelope: Some(env),
        }))
        .await
        .expect("send")
        .into_inner()
        .ack
        .expect("ack");
    assert!(ack.ok, "refused: {:?}", ack.error);
}

async fn start(stub: &mut Stub) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let p = pb::SessionStartPayload {
        participants: vec!["bench".into()],
        mode_version: "1.0.0".into(),
        configuration_version: "config.default".into(),
        ttl_ms: 3_600_000,
        ..Default::default()
    };
    send(stub, envelope("SessionStart", &id, p.encode_to_vec())).await;
    id
}

fn proposal(id: &str) -> Vec<u8> {
    macp_pb::decision_pb::ProposalPayload {
        proposal_id: id.into(),
        option: "x".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if args.first().map(String::as_str) == Some("latency_blocking") {
        let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
        return latency_blocking(&rt, n);
    }
    // On a worker, as a task of an async application would send.
    rt.block_on(async move { tokio::spawn(run(args)).await.expect("the benchmark task") });
}

/// Sequential sends, each a separate `block_on` from this (non-runtime)
/// thread, with the channel's I/O on the runtime's workers.
fn latency_blocking(rt: &tokio::runtime::Runtime, n: usize) {
    let target = std::env::var("MACP_TARGET").expect("MACP_TARGET");
    let mut stub = rt.block_on(async {
        let channel = Channel::from_shared(format!("http://{target}"))
            .unwrap()
            .tcp_nodelay(true)
            .connect()
            .await
            .expect("connect");
        MacpRuntimeServiceClient::new(channel)
    });
    let warm = rt.block_on(start_many(&mut stub, WARMUP.div_ceil(PER_SESSION)));
    for i in 0..WARMUP {
        let env = proposal_envelope(&warm[i / PER_SESSION], format!("w{i}"));
        rt.block_on(send(&mut stub, env));
    }
    let sessions = rt.block_on(start_many(&mut stub, n.div_ceil(PER_SESSION)));
    let mut lat = Vec::with_capacity(n);
    let r0 = usage();
    for i in 0..n {
        let env = proposal_envelope(&sessions[i / PER_SESSION], format!("p{i}"));
        let t0 = Instant::now();
        rt.block_on(send(&mut stub, env));
        lat.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    latency_json(lat, cpu_json(&r0, n));
}

/// `count` sessions started before timing, each to take PER_SESSION sends.
async fn start_many(stub: &mut Stub, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(start(stub).await);
    }
    ids
}

async fn run(args: Vec<String>) {
    let target = std::env::var("MACP_TARGET").expect("MACP_TARGET");
    let channel = Channel::from_shared(format!("http://{target}"))
        .unwrap()
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect");
    let mut stub = MacpRuntimeServiceClient::new(channel);
    let arg = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("latency") => {
            let n = arg(1, 2000);
            let warm = start_many(&mut stub, WARMUP.div_ceil(PER_SESSION)).await;
            for i in 0..WARMUP {
                let env = proposal_envelope(&warm[i / PER_SESSION], format!("w{i}"));
                send(&mut stub, env).await;
            }
            let sessions = start_many(&mut stub, n.div_ceil(PER_SESSION)).await;
            let mut lat = Vec::with_capacity(n);
            let r0 = usage();
            for i in 0..n {
                let env = proposal_envelope(&sessions[i / PER_SESSION], format!("p{i}"));
                let t0 = Instant::now();
                send(&mut stub, env).await;
                lat.push(t0.elapsed().as_secs_f64() * 1e6);
            }
            latency_json(lat, cpu_json(&r0, n));
        }
        Some("throughput") => {
            let (tasks, n) = (arg(1, 8), arg(2, 500));
            let mut sessions = Vec::new();
            for _ in 0..tasks {
                sessions.push(start_many(&mut stub, n / PER_SESSION + 1).await);
            }
            let r0 = usage();
            let t0 = Instant::now();
            let mut handles = Vec::new();
            for (t, own) in sessions.into_iter().enumerate() {
                let mut s = stub.clone();
                handles.push(tokio::spawn(async move {
                    for i in 0..n {
                        let env = proposal_envelope(&own[i / PER_SESSION], format!("t{t}-{i}"));
                        send(&mut s, env).await;
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            let secs = t0.elapsed().as_secs_f64();
            let cpu = cpu_json(&r0, tasks * n);
            println!(
                "{{\"msgs_per_sec\": {:.1}, \"threads\": {tasks}, \"n\": {}, {cpu}}}",
                (tasks * n) as f64 / secs,
                tasks * n
            );
        }
        Some("watch") => {
            let n = arg(1, 2000);
            let sid = start(&mut stub).await;
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            tx.send(pb::StreamSessionRequest {
                subscribe_session_id: sid.clone(),
                after_sequence: 1,
                ..Default::default()
            })
            .await
            .unwrap();
            let mut stream = stub
                .clone()
                .stream_session(request(tokio_stream::wrappers::ReceiverStream::new(rx)))
                .await
                .expect("subscribe")
                .into_inner();
            let mut total = 0.0;
            for i in 0..n {
                let env = proposal_envelope(&sid, format!("p{i}"));
                let id = env.message_id.clone();
                let t0 = Instant::now();
                send(&mut stub, env).await;
                loop {
                    let msg = stream.message().await.expect("stream").expect("open");
                    if let Some(pb::stream_session_response::Response::Envelope(e)) = msg.response {
                        if e.message_id == id {
                            break;
                        }
                    }
                }
                total += t0.elapsed().as_secs_f64() * 1e6;
            }
            drop(tx);
            println!(
                "{{\"send_to_stream_us\": {:.1}, \"n\": {n}}}",
                total / n as f64
            );
        }
        _ => {
            eprintln!("usage: MACP_TARGET=host:port bare (latency N | throughput T N | watch N)");
            std::process::exit(2);
        }
    }
}
