//! The connection's socket: TCP, connected as tonic's own connector does,
//! but never written with `writev`.
//!
//! A write to a socket whose peer is gone raises `SIGPIPE`, whose default
//! action kills the process, unless the write says otherwise. The standard
//! library's `TcpStream::write` is a `send` with `MSG_NOSIGNAL` on Linux and
//! the sockets mio creates on macOS and the BSDs carry `SO_NOSIGPIPE`; but a
//! vectored write is a plain `writev`, which on Linux raises the signal. So
//! [`Socket`] does not offer vectored writes, and HTTP/2 (and TLS above it)
//! write it with `send` alone (they coalesce small frames into one buffer
//! first, so this costs no extra system calls for MACP's messages).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects as tonic's default connector, returning a [`Socket`].
#[derive(Clone)]
pub(crate) struct Connector(HttpConnector);

impl Connector {
    pub(crate) fn new(connect_timeout: Duration) -> Connector {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        Connector(http)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Socket;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Socket, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move { Ok(Socket(connecting.await?)) })
    }
}

/// A connected TCP stream written only with `send` (see the module).
pub(crate) struct Socket(TokioIo<tokio::net::TcpStream>);

impl Read for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl Write for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    // `is_write_vectored` stays false and `poll_write_vectored` writes the
    // first non-empty buffer with `poll_write`: the trait's defaults.
}
