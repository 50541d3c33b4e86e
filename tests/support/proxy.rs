//! A fault-injecting gRPC proxy in front of a real runtime: it forwards
//! `Initialize`, `Send` and `GetSession` upstream, and fails or delays chosen
//! `Send` calls, before or after forwarding them. It can also replace the
//! capabilities the runtime advertises. Everything else answers
//! `UNIMPLEMENTED`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use macp_pb::pb;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

mod server {
    include!(concat!(env!("OUT_DIR"), "/server/macp.v1.rs"));
}
use macp::proto::macp_runtime_service_client::MacpRuntimeServiceClient;
use server::macp_runtime_service_server::{MacpRuntimeService, MacpRuntimeServiceServer};

/// What the proxy does to the next `Send`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status without forwarding.
    Reject(Status),
    /// Forward (the runtime accepts or refuses), then answer this status instead.
    LoseAnswer(Status),
    /// Wait this long, then forward.
    Delay(Duration),
    /// Forward (the runtime applies it), report the answer on `applied`, and
    /// never answer the caller.
    ApplyThenHang,
}

#[derive(Clone)]
pub struct Proxy {
    upstream: MacpRuntimeServiceClient<Channel>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    /// `message_id` of every `Send` the proxy received, in order.
    pub sends: Arc<Mutex<Vec<String>>>,
    /// When set, `Initialize` answers advertise these capabilities instead.
    pub capabilities: Arc<Mutex<Option<pb::Capabilities>>>,
    /// Each upstream answer to a `Send` held by `ApplyThenHang`.
    pub applied: Arc<Mutex<std::sync::mpsc::Sender<bool>>>,
    applied_rx: Arc<Mutex<std::sync::mpsc::Receiver<bool>>>,
    /// The method name and metadata of every call the proxy received, in order.
    pub calls: Arc<Mutex<Vec<(&'static str, tonic::metadata::MetadataMap)>>>,
}

fn forward<T>(req: Request<T>) -> Request<T> {
    let auth = req.metadata().get("authorization").cloned();
    let mut out = Request::new(req.into_inner());
    if let Some(a) = auth {
        out.metadata_mut().insert("authorization", a);
    }
    out
}

impl Proxy {
    /// Start a proxy in front of `upstream` (`host:port`) on a free port.
    pub async fn start(upstream: &str) -> (Proxy, SocketAddr) {
        Proxy::start_with(upstream, None).await
    }

    /// Start a proxy that serves TLS with `tls` (for example one requiring a
    /// client certificate) and forwards in plaintext to `upstream`.
    pub async fn start_with(
        upstream: &str,
        tls: Option<tonic::transport::ServerTlsConfig>,
    ) -> (Proxy, SocketAddr) {
        let channel = Channel::from_shared(format!("http://{upstream}"))
            .unwrap()
            .connect()
            .await
            .expect("proxy cannot reach the runtime");
        let (tx, rx) = std::sync::mpsc::channel();
        let proxy = Proxy {
            upstream: MacpRuntimeServiceClient::new(channel),
            faults: Arc::default(),
            sends: Arc::default(),
            capabilities: Arc::default(),
            applied: Arc::new(Mutex::new(tx)),
            applied_rx: Arc::new(Mutex::new(rx)),
            calls: Arc::default(),
        };
        let listener = super::unique_listener();
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let addr = listener.local_addr().unwrap();
        let svc = MacpRuntimeServiceServer::new(proxy.clone());
        let mut server = Server::builder();
        if let Some(tls) = tls {
            server = server.tls_config(tls).expect("proxy TLS configuration");
        }
        tokio::spawn(async move {
            let _ = server
                .add_service(svc)
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
        });
        (proxy, addr)
    }

    pub fn push(&self, f: Fault) {
        self.faults.lock().unwrap().push_back(f);
    }

    pub fn sends(&self) -> Vec<String> {
        self.sends.lock().unwrap().clone()
    }

    /// Wait until an `ApplyThenHang` send was applied upstream; whether the
    /// runtime accepted it.
    pub fn wait_applied(&self) -> bool {
        self.applied_rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30))
            .expect("no send was held")
    }

    /// The method name and metadata of every call received so far.
    pub fn calls(&self) -> Vec<(&'static str, tonic::metadata::MetadataMap)> {
        self.calls.lock().unwrap().clone()
    }

    fn saw<T>(&self, method: &'static str, req: &Request<T>) {
        self.calls
            .lock()
            .unwrap()
            .push((method, req.metadata().clone()));
    }
}

#[tonic::async_trait]
impl MacpRuntimeService for Proxy {
    async fn initialize(
        &self,
        req: Request<pb::InitializeRequest>,
    ) -> Result<Response<pb::InitializeResponse>, Status> {
        self.saw("Initialize", &req);
        let mut resp = self.upstream.clone().initialize(forward(req)).await?;
        if let Some(c) = self.capabilities.lock().unwrap().clone() {
            resp.get_mut().capabilities = Some(c);
        }
        Ok(resp)
    }

    async fn get_session(
        &self,
        req: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::GetSessionResponse>, Status> {
        self.saw("GetSession", &req);
        self.upstream.clone().get_session(forward(req)).await
    }

    async fn send(
        &self,
        req: Request<pb::SendRequest>,
    ) -> Result<Response<pb::SendResponse>, Status> {
        self.saw("Send", &req);
        let id = req
            .get_ref()
            .envelope
            .as_ref()
            .map(|e| e.message_id.clone())
            .unwrap_or_default();
        self.sends.lock().unwrap().push(id);
        let fault = self.faults.lock().unwrap().pop_front();
        match fault {
            Some(Fault::Reject(s)) => Err(s),
            Some(Fault::LoseAnswer(s)) => {
                let _ = self.upstream.clone().send(forward(req)).await;
                Err(s)
            }
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                self.upstream.clone().send(forward(req)).await
            }
            Some(Fault::ApplyThenHang) => {
                let r = self.upstream.clone().send(forward(req)).await;
                let accepted = r.is_ok_and(|a| a.get_ref().ack.as_ref().is_some_and(|a| a.ok));
                let _ = self.applied.lock().unwrap().send(accepted);
                std::future::pending().await
            }
            None => self.upstream.clone().send(forward(req)).await,
        }
    }
}
