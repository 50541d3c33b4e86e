//! Per-call options: cancellation, a deadline for the whole call (retries
//! included), and the `message_id` of the envelope a send makes.
//!
//! [`run`] runs one call under its options. While it runs, the call's state
//! is task-local: [`crate::Client::envelope`] takes the caller's message id
//! from it and records the ids it used, and every RPC notes that a request
//! went out. So when the call fails, however it fails (refused, timed out,
//! cancelled while a retry waited), its error names the envelope's ids and
//! says whether the request may have been applied ([`Delivery`]).

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::{Delivery, Error, Result, Status};

/// How one call runs. The default: not cancellable, no deadline beyond the
/// client's per-attempt call timeout, a generated message id.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Cancelling it ends the call with `Status::Cancelled`.
    pub cancel: Option<CancellationToken>,
    /// A deadline for the whole call, retries included (`Status::Timeout`).
    pub timeout: Option<Duration>,
    /// The `message_id` of the envelope the call sends; generated when
    /// `None`. A call that sends no envelope ignores it.
    pub message_id: Option<String>,
    /// The W3C trace context of this call's requests, over the session's
    /// and the client's.
    pub trace: Option<crate::trace::TraceContext>,
}

#[derive(Default)]
struct State {
    /// The caller's id, taken by the first envelope built.
    requested: Option<String>,
    /// The ids of the envelope sent (session, message).
    used: Option<(String, String)>,
    /// A request was handed to the transport.
    sent: bool,
    /// The call's own trace context.
    trace: Option<crate::trace::TraceContext>,
}

tokio::task_local! {
    static CURRENT: RefCell<State>;
}

/// The message id for an envelope built now: the caller's (once), or none.
pub(crate) fn take_requested_id() -> Option<String> {
    CURRENT
        .try_with(|s| s.borrow_mut().requested.take())
        .ok()
        .flatten()
}

/// Note the ids of the envelope this call sends.
pub(crate) fn note_envelope(session_id: &str, message_id: &str) {
    let _ = CURRENT.try_with(|s| {
        s.borrow_mut().used = Some((session_id.to_string(), message_id.to_string()));
    });
}

/// The trace context of the call in progress, if it has its own.
pub(crate) fn current_trace() -> Option<crate::trace::TraceContext> {
    CURRENT
        .try_with(|s| s.borrow().trace.clone())
        .ok()
        .flatten()
}

/// Note that a request is being handed to the transport.
pub(crate) fn note_sent() {
    let _ = CURRENT.try_with(|s| s.borrow_mut().sent = true);
}

/// Run `fut` under `opts`. A cancelled or timed-out call stops at once (its
/// future is dropped, so no further retry is made) and fails with the ids of
/// its envelope, if it built one, and whether the request may have been
/// applied.
pub async fn run<T, F>(opts: &CallOptions, fut: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let requested = opts.message_id.clone();
    if let Some(id) = &requested {
        crate::client::validate_message_id(id)?;
    }
    let state = RefCell::new(State {
        requested: requested.clone(),
        trace: opts.trace.clone(),
        ..State::default()
    });
    CURRENT
        .scope(state, async {
            let cancelled = async {
                match &opts.cancel {
                    Some(t) => t.cancelled().await,
                    None => std::future::pending().await,
                }
            };
            let deadline = async {
                match opts.timeout {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let result = tokio::select! {
                biased;
                _ = cancelled => Err(Error::new(Status::Cancelled, "the call was cancelled")),
                _ = deadline => Err(Error::new(
                    Status::Timeout,
                    format!("the call did not finish within {:?}", opts.timeout.unwrap_or_default()),
                )),
                r = fut => r,
            };
            result.map_err(|e| finish_error(e, requested.as_deref()))
        })
        .await
}

/// Give a failure of the current call the ids of its envelope and, for a
/// failure the call did not get from the runtime, its delivery.
fn finish_error(e: Error, requested: Option<&str>) -> Error {
    let (used, sent) = CURRENT
        .try_with(|s| {
            let s = s.borrow();
            (s.used.clone(), s.sent)
        })
        .unwrap_or((None, false));
    let mut e = match (&used, requested) {
        (Some((sid, mid)), _) => e.with_ids(sid, mid),
        (None, Some(mid)) => e.with_ids("", mid),
        (None, None) => e,
    };
    // Only this module's own endings are decided here; other failures carry
    // the delivery their producer knew.
    if matches!(e.status, Status::Cancelled | Status::Timeout) && sent {
        e.delivery = e.delivery.max(Delivery::Unknown);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancelled_call_stops_and_says_what_it_sent() {
        let token = CancellationToken::new();
        let opts = CallOptions {
            cancel: Some(token.clone()),
            message_id: Some("m-1".into()),
            ..Default::default()
        };
        let call = run(&opts, async {
            let id = take_requested_id().unwrap();
            note_envelope("s-1", &id);
            note_sent();
            token.cancel();
            std::future::pending::<Result<()>>().await
        });
        let e = call.await.unwrap_err();
        assert_eq!(e.status, Status::Cancelled);
        assert_eq!(
            (e.session_id.as_str(), e.message_id.as_str()),
            ("s-1", "m-1")
        );
        assert_eq!(e.delivery, Delivery::Unknown);
    }

    #[tokio::test]
    async fn a_call_cancelled_before_sending_sent_nothing() {
        let token = CancellationToken::new();
        token.cancel();
        let opts = CallOptions {
            cancel: Some(token),
            message_id: Some("m-2".into()),
            ..Default::default()
        };
        let e = run(&opts, std::future::pending::<Result<()>>())
            .await
            .unwrap_err();
        assert_eq!(e.status, Status::Cancelled);
        assert_eq!(e.message_id, "m-2");
        assert_eq!(e.delivery, Delivery::NotSent);
    }

    #[tokio::test]
    async fn the_deadline_covers_the_whole_call() {
        let opts = CallOptions {
            timeout: Some(Duration::from_millis(5)),
            ..Default::default()
        };
        let e = run(&opts, std::future::pending::<Result<()>>())
            .await
            .unwrap_err();
        assert_eq!(e.status, Status::Timeout);
    }

    #[tokio::test]
    async fn the_requested_id_is_used_once_and_checked() {
        let opts = CallOptions {
            message_id: Some("m-3".into()),
            ..Default::default()
        };
        let ids = run(&opts, async {
            Ok((take_requested_id(), take_requested_id()))
        })
        .await
        .unwrap();
        assert_eq!(ids, (Some("m-3".to_string()), None));
        let bad = CallOptions {
            message_id: Some("implicit-accept:x".into()),
            ..Default::default()
        };
        let e = run(&bad, async { Ok(()) }).await.unwrap_err();
        assert_eq!(e.status, Status::InvalidArgument);
        assert_eq!(take_requested_id(), None, "outside a call there is none");
    }
}
