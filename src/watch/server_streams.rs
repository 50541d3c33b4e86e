//! The runtime-wide server streams: `WatchSessions`, `WatchSignals`,
//! `WatchPolicies`, `WatchModeRegistry`, `WatchRoots`.
//!
//! None of them can resume from a position, so after a reconnect the watcher
//! reports [`Event::Resumed`] and what was broadcast in between is lost, except
//! for session lifecycle: the runtime re-sends every registered session on
//! subscribe, and the watcher first lists the sessions it knew about and
//! reports each one whose state changed while it was away (`reconciled`).
//! Re-sent `Created` events for sessions it already reported in the same state
//! are not repeated.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use macp_pb::pb;
use pb::session_lifecycle_event::EventType;

use super::{
    backoff_or_close, new_emitter, ready_channel, report_live, stream_ended, wait_until_live,
    Emitter, Event, Ready, Watch, WatchOptions,
};
use crate::client::Client;
use crate::error::{Error, Result, Status};

/// Which runtime-wide stream a watcher follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Sessions,
    Signals,
    Policies,
    ModeRegistry,
    Roots,
}

pub(crate) async fn spawn_server_stream(
    client: Arc<Client>,
    kind: WatchKind,
    opts: WatchOptions,
) -> Result<Watch> {
    opts.validate()?;
    let caps = client.capabilities();
    let advertised = match kind {
        WatchKind::Sessions => caps.sessions.is_some_and(|c| c.watch_sessions),
        WatchKind::ModeRegistry => caps.mode_registry.is_some_and(|c| c.list_changed),
        WatchKind::Roots => caps.roots.is_some_and(|c| c.list_changed),
        WatchKind::Policies => caps.policy_registry.is_some_and(|c| c.list_changed),
        WatchKind::Signals => true,
    };
    if !advertised {
        return Err(Error::new(
            Status::Unsupported,
            format!("the runtime does not advertise the capability {kind:?} watches need"),
        ));
    }
    let (em, events, cancel) =
        new_emitter(&opts, client.shutdown_token().clone(), format!("{kind:?}"));
    let (ready, live) = ready_channel();
    crate::rt::spawn(run(client, kind, opts, em, ready))?;
    wait_until_live(live, cancel, events, None).await
}

async fn run(
    client: Arc<Client>,
    kind: WatchKind,
    opts: WatchOptions,
    em: Emitter,
    mut ready: Ready,
) {
    let mut attempt = 0u32;
    let mut opened_before = false;
    // Sessions watch: the state last reported per session.
    let mut known: HashMap<String, i32> = HashMap::new();
    loop {
        if opened_before && kind == WatchKind::Sessions {
            match reconcile(&client, &em, &mut known).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(cause) => {
                    if !backoff_or_close(&em, &opts, &mut attempt, cause).await {
                        return;
                    }
                    continue;
                }
            }
        }
        let mut stub = client.stub();
        let cause = match kind {
            WatchKind::Sessions => {
                let open = stub.watch_sessions(client.request(pb::WatchSessionsRequest {}));
                follow(
                    &em,
                    open,
                    &mut opened_before,
                    &mut attempt,
                    &mut ready,
                    |r: pb::WatchSessionsResponse| {
                        let event = r.event?;
                        if let Some(meta) = &event.session {
                            let repeat = event.event_type == EventType::Created as i32
                                && known.get(&meta.session_id) == Some(&meta.state);
                            known.insert(meta.session_id.clone(), meta.state);
                            if repeat {
                                return None;
                            }
                        }
                        Some(Event::Session {
                            event,
                            reconciled: false,
                        })
                    },
                )
                .await
            }
            WatchKind::Signals => {
                let open = stub.watch_signals(client.request(pb::WatchSignalsRequest {}));
                follow(
                    &em,
                    open,
                    &mut opened_before,
                    &mut attempt,
                    &mut ready,
                    |r: pb::WatchSignalsResponse| {
                        Some(Event::Signal {
                            envelope: r.envelope?,
                            sender_authenticated: r.sender_authenticated,
                        })
                    },
                )
                .await
            }
            WatchKind::Policies => {
                let open = stub.watch_policies(client.request(pb::WatchPoliciesRequest {}));
                follow(
                    &em,
                    open,
                    &mut opened_before,
                    &mut attempt,
                    &mut ready,
                    |r| Some(Event::Policies(r)),
                )
                .await
            }
            WatchKind::ModeRegistry => {
                let open =
                    stub.watch_mode_registry(client.request(pb::WatchModeRegistryRequest {}));
                follow(
                    &em,
                    open,
                    &mut opened_before,
                    &mut attempt,
                    &mut ready,
                    |r: pb::WatchModeRegistryResponse| r.change.map(Event::ModeRegistry),
                )
                .await
            }
            WatchKind::Roots => {
                let open = stub.watch_roots(client.request(pb::WatchRootsRequest {}));
                follow(
                    &em,
                    open,
                    &mut opened_before,
                    &mut attempt,
                    &mut ready,
                    |r: pb::WatchRootsResponse| r.change.map(Event::Roots),
                )
                .await
            }
        };
        let Some(cause) = cause else { return };
        if !backoff_or_close(&em, &opts, &mut attempt, cause).await {
            return;
        }
    }
}

/// Open one stream and forward what `map` makes of each message until it
/// ends (`Some(cause)`) or the watcher stops (`None`).
async fn follow<T, Fut, F>(
    em: &Emitter,
    open: Fut,
    opened_before: &mut bool,
    attempt: &mut u32,
    ready: &mut Ready,
    mut map: F,
) -> Option<Error>
where
    Fut: Future<Output = std::result::Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>>,
    F: FnMut(T) -> Option<Event>,
{
    let opened = tokio::select! {
        r = open => r,
        _ = em.stopped() => { em.close(Error::new(Status::Cancelled, "closed")).await; return None; }
    };
    let mut stream = match opened {
        Ok(r) => {
            report_live(ready, Ok(()));
            r.into_inner()
        }
        Err(s) => {
            let cause = Error::from_grpc(&s);
            // The first subscription failed: the watch call reports it.
            return report_live(ready, Err(cause.clone())).then_some(cause);
        }
    };
    if *opened_before && !em.emit(Event::Resumed { after_sequence: 0 }).await {
        return None;
    }
    *opened_before = true;
    loop {
        let msg = tokio::select! {
            biased;
            _ = em.stopped() => { em.close(Error::new(Status::Cancelled, "closed")).await; return None; }
            m = stream.message() => m,
        };
        match msg {
            Ok(Some(m)) => {
                *attempt = 0;
                if let Some(ev) = map(m) {
                    if !em.emit(ev).await {
                        return None;
                    }
                }
            }
            Ok(None) => return Some(stream_ended()),
            Err(s) => return Some(Error::from_grpc(&s)),
        }
    }
}

/// After a reconnect: list the sessions and report each known one whose
/// state changed meanwhile. `Ok(false)`: the consumer is gone.
async fn reconcile(
    client: &Client,
    em: &Emitter,
    known: &mut HashMap<String, i32>,
) -> Result<bool> {
    for meta in client.list_all_sessions().await? {
        let Some(before) = known.get(&meta.session_id).copied() else {
            continue; // new sessions arrive with the stream's initial sync
        };
        if before == meta.state {
            continue;
        }
        known.insert(meta.session_id.clone(), meta.state);
        let event = pb::SessionLifecycleEvent {
            event_type: transition(before, meta.state) as i32,
            session: Some(meta),
            observed_at_unix_ms: crate::client::now_unix_ms(),
        };
        if !em
            .emit(Event::Session {
                event,
                reconciled: true,
            })
            .await
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The lifecycle event a change of state from `before` to `after` amounts to.
fn transition(before: i32, after: i32) -> EventType {
    use pb::SessionState as S;
    match (S::try_from(before), S::try_from(after)) {
        (_, Ok(S::Resolved)) => EventType::Resolved,
        (_, Ok(S::Expired)) => EventType::Expired,
        (_, Ok(S::Cancelled)) => EventType::Cancelled,
        (_, Ok(S::Suspended)) => EventType::Suspended,
        (Ok(S::Suspended), Ok(S::Open)) => EventType::Resumed,
        _ => EventType::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::SessionState as S;

    #[test]
    fn transitions_name_the_new_state() {
        assert_eq!(
            transition(S::Open as i32, S::Resolved as i32),
            EventType::Resolved
        );
        assert_eq!(
            transition(S::Suspended as i32, S::Open as i32),
            EventType::Resumed
        );
        assert_eq!(
            transition(S::Open as i32, S::Cancelled as i32),
            EventType::Cancelled
        );
        assert_eq!(
            transition(S::Open as i32, S::Open as i32),
            EventType::Unspecified
        );
    }
}
