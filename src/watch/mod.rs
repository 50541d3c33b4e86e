//! Server streams as watchers: every `Watch*` stream and `StreamSession`,
//! delivered as an ordered sequence of [`Event`]s that survives what networks
//! do.
//!
//! A watcher is one task. It opens its stream, forwards what arrives, and when
//! the stream ends with a transient cause (`STREAM_LAGGED`, a transport error,
//! a runtime restart) it reports [`Event::Reconnecting`], waits with capped
//! exponential backoff and reopens: a session stream resumes after the last
//! sequence it delivered, skipping redelivered `message_id`s; a session
//! lifecycle watch reconciles through `ListSessions`. A permanent cause, or a
//! transient one when reconnecting is off or out of attempts, ends the watcher
//! with [`Event::Closed`]. Events go through a bounded queue: a consumer slower
//! than the runtime's broadcast makes the runtime report lag, which the
//! watcher recovers from by resuming, instead of buffering without bound.

use std::sync::Arc;
use std::time::Duration;

use macp_pb::pb;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::error::{Error, Status};
use crate::log::Level;

mod server_streams;
mod session_stream;

pub(crate) use server_streams::spawn_server_stream;
pub use server_streams::WatchKind;
pub(crate) use session_stream::spawn_session_stream;

/// One thing a watcher reports. Events of one watcher arrive in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `StreamSession`: an accepted envelope, with its 1-based ordinal in the
    /// session's accepted history. Each ordinal is delivered once, in order.
    Envelope {
        sequence: u64,
        envelope: pb::Envelope,
    },
    /// `StreamSession`: the runtime refused an envelope sent on this stream
    /// (the stream stays open). The error carries the envelope's `message_id`.
    StreamError(Error),
    /// `WatchSessions`: a lifecycle transition. `reconciled` marks events the
    /// watcher derived from `ListSessions` after reconnecting, for transitions
    /// that happened while it was disconnected.
    Session {
        event: pb::SessionLifecycleEvent,
        reconciled: bool,
    },
    /// `WatchSignals`: an ambient signal.
    Signal {
        envelope: pb::Envelope,
        sender_authenticated: bool,
    },
    /// `WatchPolicies`: the policy registry changed.
    Policies(pb::WatchPoliciesResponse),
    /// `WatchModeRegistry`: the mode registry changed.
    ModeRegistry(pb::RegistryChanged),
    /// `WatchRoots`: the roots changed.
    Roots(pb::RootsChanged),
    /// The stream broke; the watcher reconnects after `delay`.
    Reconnecting {
        cause: Error,
        attempt: u32,
        delay: Duration,
    },
    /// The stream is open again. For a session stream, delivery resumes after
    /// `after_sequence`; for other streams, events sent while disconnected are
    /// lost (a session lifecycle watch reconciles them, see `Session`).
    Resumed { after_sequence: u64 },
    /// Sequences `from..=to` of a session's history can no longer be
    /// delivered (the runtime compacted them: `HISTORY_UNAVAILABLE`); delivery
    /// goes on after `to`.
    Gap { from: u64, to: u64, cause: Error },
    /// The watcher has ended and reports nothing more.
    Closed(Error),
}

impl Event {
    pub fn is_terminal(&self) -> bool {
        matches!(self, Event::Closed(_))
    }
}

/// How a watcher reconnects and buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchOptions {
    /// Reconnect after transient failures (default true).
    pub reconnect: bool,
    /// Give up after this many consecutive failed reconnects; 0 = never.
    pub max_reconnect_attempts: u32,
    /// First reconnect delay, doubled per consecutive failure (default 100 ms).
    pub backoff_base: Duration,
    /// Longest reconnect delay (default 5 s).
    pub backoff_max: Duration,
    /// Events buffered between the stream and the consumer (default 256).
    pub queue_capacity: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            reconnect: true,
            max_reconnect_attempts: 0,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            queue_capacity: 256,
        }
    }
}

impl WatchOptions {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.queue_capacity == 0 || self.queue_capacity > 1 << 20 {
            return Err(Error::invalid_argument(
                "queue capacity must be 1 to 1048576",
            ));
        }
        if self.backoff_base > self.backoff_max {
            return Err(Error::invalid_argument(
                "backoff base must not exceed backoff max",
            ));
        }
        if self.backoff_max > Duration::from_secs(3600) {
            return Err(Error::invalid_argument(
                "backoff max must be at most one hour",
            ));
        }
        Ok(())
    }

    fn delay(&self, attempt: u32) -> Duration {
        crate::RetryPolicy {
            max_retries: 0,
            base_delay: self.backoff_base,
            max_delay: self.backoff_max,
            jitter: true,
        }
        .delay(attempt.saturating_sub(1))
    }
}

/// A watcher's queue of events, in order.
///
/// The queue holds each event boxed: a bounded channel allocates its slots up
/// front in blocks of 32, so with the events themselves (about 200 bytes)
/// every idle watcher would hold several KiB of empty slots. Boxed, a slot is
/// one pointer.
pub struct Events(mpsc::Receiver<Box<Event>>);

impl Events {
    /// The next event; `None` once the watcher has ended and the queue is
    /// drained.
    pub async fn recv(&mut self) -> Option<Event> {
        self.0.recv().await.map(|ev| *ev)
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        self.0.try_recv().map(|ev| *ev)
    }

    /// Poll for the next event (registers `cx`'s waker when there is none).
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Event>> {
        self.0.poll_recv(cx).map(|ev| ev.map(|ev| *ev))
    }
}

/// Where envelopes sent on a session stream wait for its writer. Boxed for
/// the same reason as [`Events`]: the channel's first block of slots is
/// allocated when the watcher starts, whether or not it ever sends.
pub(crate) type Outbound = mpsc::Sender<Box<pb::Envelope>>;

/// A running watcher: its events, its cancellation, and (for session
/// streams) the way to send envelopes on the stream.
pub struct Watch {
    pub events: Events,
    pub(crate) cancel: CancellationToken,
    pub(crate) outbound: Option<Outbound>,
}

impl Watch {
    /// Stop the watcher: no event is produced after this returns (events
    /// already queued stay in `events`).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Queue an envelope on a session stream. Its acceptance arrives as an
    /// [`Event::Envelope`], a refusal as [`Event::StreamError`]; if the stream
    /// breaks first it is re-sent, with the same `message_id`, after resuming.
    pub fn send(&self, envelope: pb::Envelope) -> crate::Result<()> {
        let tx = self.outbound.as_ref().ok_or_else(|| {
            Error::new(
                Status::InvalidState,
                "only a session stream can send envelopes",
            )
        })?;
        queue_envelope(tx, envelope)
    }
}

/// Queue `envelope` for a session stream's writer.
pub(crate) fn queue_envelope(tx: &Outbound, envelope: pb::Envelope) -> crate::Result<()> {
    crate::client::validate_message_id(&envelope.message_id)?;
    crate::modes::rules::check_client_payload(
        &envelope.mode,
        &envelope.message_type,
        &envelope.payload,
    )?;
    tx.try_send(Box::new(envelope)).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => Error::new(
            Status::InvalidState,
            "the stream's send queue is full; retry later",
        ),
        mpsc::error::TrySendError::Closed(_) => {
            Error::new(Status::InvalidState, "the watcher has ended")
        }
    })
}

/// Whether a stream that ended with `e` is worth reopening.
pub(crate) fn is_transient(e: &Error) -> bool {
    e.status.is_transient() || e.status == Status::StreamLagged
}

/// The event sender side, with cancellation: `false` once the consumer or
/// the watcher's owner is gone.
pub(crate) struct Emitter {
    tx: mpsc::Sender<Box<Event>>,
    cancel: CancellationToken,
    shutdown: CancellationToken,
    /// `Closed` was delivered (or the watcher cancelled): nothing follows.
    closed: std::sync::atomic::AtomicBool,
    /// What the watcher follows, for log records (`session <id>`, `Sessions`).
    what: String,
}

impl Emitter {
    /// Queue `ev`; `false` once the watcher is over. When the client shuts
    /// down meanwhile (even while the queue is full), the final `Closed`
    /// is queued instead, so a consumer waiting for it always gets it.
    pub(crate) async fn emit(&self, ev: Event) -> bool {
        self.log(&ev);
        let shut_down = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => return false,
            _ = self.shutdown.cancelled() => true,
            r = self.tx.send(Box::new(ev)) => return r.is_ok(),
        };
        if shut_down {
            self.close(Error::new(Status::Cancelled, "the client was closed"))
                .await;
        }
        false
    }

    /// A log record for the events that tell how the stream is doing.
    fn log(&self, ev: &Event) {
        match ev {
            Event::Reconnecting {
                cause,
                attempt,
                delay,
            } => crate::log!(Level::Warn, "macp::watch", "stream broke; reconnecting",
                "stream" => self.what, "attempt" => attempt, "backoff_ms" => delay.as_millis(),
                "status" => cause.status.name(), "error" => cause.message),
            Event::Resumed { after_sequence } => crate::log!(Level::Info, "macp::watch",
                "stream resumed", "stream" => self.what, "after_sequence" => after_sequence),
            Event::Gap { from, to, cause } => crate::log!(Level::Warn, "macp::watch",
                "history gap: sequences can no longer be delivered", "stream" => self.what,
                "from" => from, "to" => to, "error" => cause.message),
            Event::StreamError(e) => crate::log!(Level::Warn, "macp::watch",
                "envelope refused on the stream", "stream" => self.what,
                "message_id" => e.message_id, "status" => e.status.name(), "error" => e.message),
            _ => {}
        }
    }

    /// Resolve when the watcher is cancelled or its client shut down.
    pub(crate) async fn stopped(&self) {
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = self.shutdown.cancelled() => {}
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.cancel.is_cancelled() || self.shutdown.is_cancelled()
    }

    /// Final event: the cause, or `Cancelled` when the client shut down.
    pub(crate) async fn close(&self, cause: Error) {
        if self.cancel.is_cancelled() || self.closed.swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let cause = if self.shutdown.is_cancelled() {
            Error::new(Status::Cancelled, "the client was closed")
        } else {
            cause
        };
        crate::log!(Level::Info, "macp::watch", "watcher ended", "stream" => self.what,
            "status" => cause.status.name(), "error" => cause.message);
        // Deliver even though the shutdown token fired: the consumer learns why.
        let _ = tokio::select! {
            _ = self.cancel.cancelled() => Ok(()),
            r = self.tx.send(Box::new(Event::Closed(cause))) => r,
        };
    }
}

/// The reconnect policy shared by every watcher: after a stream ended with
/// `cause`, either wait and return `true` (reopen), or report `Closed` and
/// return `false`.
pub(crate) async fn backoff_or_close(
    em: &Emitter,
    opts: &WatchOptions,
    attempt: &mut u32,
    cause: Error,
) -> bool {
    if em.is_stopped() {
        em.close(cause).await;
        return false;
    }
    *attempt += 1;
    let exhausted = opts.max_reconnect_attempts != 0 && *attempt > opts.max_reconnect_attempts;
    if !opts.reconnect || !is_transient(&cause) || exhausted {
        em.close(cause).await;
        return false;
    }
    let delay = opts.delay(*attempt);
    if !em
        .emit(Event::Reconnecting {
            cause: cause.clone(),
            attempt: *attempt,
            delay,
        })
        .await
    {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = em.stopped() => { em.close(cause).await; false }
    }
}

pub(crate) fn new_emitter(
    opts: &WatchOptions,
    shutdown: CancellationToken,
    what: String,
) -> (Emitter, Events, CancellationToken) {
    let (tx, rx) = mpsc::channel(opts.queue_capacity);
    let cancel = CancellationToken::new();
    (
        Emitter {
            tx,
            cancel: cancel.clone(),
            shutdown,
            closed: std::sync::atomic::AtomicBool::new(false),
            what,
        },
        Events(rx),
        cancel,
    )
}

/// Where a watcher's task reports the outcome of its first subscription;
/// `None` once reported.
pub(crate) type Ready = Option<oneshot::Sender<crate::Result<()>>>;

pub(crate) fn ready_channel() -> (Ready, oneshot::Receiver<crate::Result<()>>) {
    let (tx, rx) = oneshot::channel();
    (Some(tx), rx)
}

/// Report the first subscription's outcome (once). `true` when the watcher
/// goes on: it was already live, or this outcome is success.
pub(crate) fn report_live(ready: &mut Ready, outcome: crate::Result<()>) -> bool {
    match ready.take() {
        Some(tx) => {
            let ok = outcome.is_ok();
            let _ = tx.send(outcome);
            ok
        }
        None => true,
    }
}

/// The watch call's half: wait until the runtime has accepted the first
/// subscription (its response headers arrived), so nothing published after
/// the call returns is missed. A first subscription that fails fails the
/// call; so does cancelling it, which also stops the watcher's task.
pub(crate) async fn wait_until_live(
    live: oneshot::Receiver<crate::Result<()>>,
    cancel: CancellationToken,
    events: Events,
    outbound: Option<Outbound>,
) -> crate::Result<Watch> {
    let stop_unless_live = cancel.clone().drop_guard();
    match live.await {
        Ok(Ok(())) => {
            stop_unless_live.disarm();
            Ok(Watch {
                events,
                cancel,
                outbound,
            })
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::new(
            Status::Cancelled,
            "the watcher stopped before its stream was open (the client was closed)",
        )),
    }
}

/// A stream that ended without a status (the server went away).
pub(crate) fn stream_ended() -> Error {
    Error::new(Status::Transport, "the runtime ended the stream")
}

impl Client {
    /// Follow a runtime-wide stream (`WatchSessions`, `WatchSignals`, ...),
    /// returning once the runtime has accepted the subscription: whatever is
    /// published after that is delivered. Fails with `Unsupported` when the
    /// runtime did not advertise it, and with the cause when the first
    /// subscription fails (reconnecting applies once it was live).
    pub async fn watch(
        self: &Arc<Self>,
        kind: WatchKind,
        opts: WatchOptions,
    ) -> crate::Result<Watch> {
        spawn_server_stream(self.clone(), kind, opts).await
    }

    /// Subscribe to a session by id (see [`crate::Session::watch`]); useful
    /// for observers that hold no [`crate::Session`].
    pub async fn watch_session(
        self: &Arc<Self>,
        session_id: &str,
        after_sequence: u64,
        opts: WatchOptions,
    ) -> crate::Result<Watch> {
        spawn_session_stream(self.clone(), session_id, after_sequence, opts).await
    }
}

impl crate::Session {
    /// Subscribe to this session's accepted envelopes after `after_sequence`
    /// (0: from the first), replayed then live, resuming across breaks; the
    /// returned watch can also send envelopes on the stream. Returns once the
    /// runtime has accepted the stream; a refused subscription (`Forbidden`,
    /// an unknown session) arrives as the stream's first answer and ends the
    /// watch with [`Event::Closed`].
    pub async fn watch(&self, after_sequence: u64, opts: WatchOptions) -> crate::Result<Watch> {
        self.client()
            .watch_session(self.id(), after_sequence, opts)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_and_transport_are_transient_refusals_are_not() {
        assert!(is_transient(&Error::new(Status::StreamLagged, "")));
        assert!(is_transient(&Error::new(Status::Transport, "")));
        assert!(!is_transient(&Error::new(Status::Forbidden, "")));
        assert!(!is_transient(&Error::new(Status::SessionNotFound, "")));
    }

    #[test]
    fn options_are_checked() {
        assert!(WatchOptions::default().validate().is_ok());
        let o = WatchOptions {
            queue_capacity: 0,
            ..Default::default()
        };
        assert!(o.validate().is_err());
        let o = WatchOptions {
            backoff_base: Duration::from_secs(10),
            ..Default::default()
        };
        assert!(o.validate().is_err());
    }

    #[tokio::test]
    async fn reconnect_off_closes_with_the_cause() {
        let opts = WatchOptions {
            reconnect: false,
            ..Default::default()
        };
        let (em, mut rx, _c) = new_emitter(&opts, CancellationToken::new(), String::new());
        let mut attempt = 0;
        let go =
            backoff_or_close(&em, &opts, &mut attempt, Error::new(Status::Transport, "x")).await;
        assert!(!go);
        assert!(matches!(rx.recv().await, Some(Event::Closed(e)) if e.status == Status::Transport));
    }

    /// Bug: freeing the client while the queue was full ended the watcher
    /// without `Closed`, and a consumer waiting for it hung.
    #[tokio::test]
    async fn shutdown_with_a_full_queue_still_delivers_closed() {
        let opts = WatchOptions {
            queue_capacity: 1,
            ..Default::default()
        };
        let shutdown = CancellationToken::new();
        let (em, mut rx, _c) = new_emitter(&opts, shutdown.clone(), String::new());
        assert!(em.emit(Event::Resumed { after_sequence: 0 }).await);
        let blocked =
            tokio::spawn(async move { em.emit(Event::Resumed { after_sequence: 1 }).await });
        tokio::task::yield_now().await;
        shutdown.cancel();
        // A slow consumer: the queued event, then the final Closed.
        assert!(matches!(
            rx.recv().await,
            Some(Event::Resumed { after_sequence: 0 })
        ));
        assert!(matches!(rx.recv().await, Some(Event::Closed(e)) if e.status == Status::Cancelled));
        assert!(!blocked.await.unwrap());
        assert!(rx.recv().await.is_none(), "nothing after Closed");
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let opts = WatchOptions {
            max_reconnect_attempts: 2,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(2),
            ..Default::default()
        };
        let (em, mut rx, _c) = new_emitter(&opts, CancellationToken::new(), String::new());
        let mut attempt = 0;
        let lagged = || Error::new(Status::StreamLagged, "lag");
        assert!(backoff_or_close(&em, &opts, &mut attempt, lagged()).await);
        assert!(backoff_or_close(&em, &opts, &mut attempt, lagged()).await);
        assert!(!backoff_or_close(&em, &opts, &mut attempt, lagged()).await);
        let mut kinds = vec![];
        while let Ok(ev) = rx.try_recv() {
            kinds.push(ev);
        }
        assert!(matches!(kinds[0], Event::Reconnecting { attempt: 1, .. }));
        assert!(matches!(kinds[1], Event::Reconnecting { attempt: 2, .. }));
        assert!(matches!(kinds[2], Event::Closed(_)));
    }
}
