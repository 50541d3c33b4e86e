//! The participant loop: the common agent shape "join the sessions I am
//! invited to, react to each message, commit or answer", built on the
//! watchers.
//!
//! A [`Participant`] follows the runtime's session lifecycle stream
//! (`WatchSessions`). Each open or suspended session whose participants name
//! its identity is opened ([`Session::open`]) and followed with a session
//! stream from its first envelope, so an invitation that happened before the
//! participant started is not missed. What happens is reported, in order, as
//! [`Activity`]: a session joined, each accepted envelope, a session ended.
//! Reconnecting is the watchers' business: both streams resume by
//! themselves, and a session stream never delivers an envelope twice.
//!
//! A session has ended once its lifecycle reports a terminal state
//! (resolved, expired, cancelled) and, when it resolved, once the accepted
//! `Commitment` that resolved it was delivered, so a handler sees the
//! session's last message before hearing it ended. A session stream that
//! closes for good (the identity may no longer read the session, say) ends
//! the session too, with its cause.
//!
//! [`Routes`] maps message types to handlers for the layers that dispatch
//! [`Activity::Message`] (the C ABI's `macp_participant`, and Rust callers).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use macp_pb::pb;
use pb::session_lifecycle_event::EventType;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::error::{Error, Result, Status};
use crate::session::Session;
use crate::watch::{Event, WatchKind, WatchOptions};

/// The message type whose acceptance resolves a session of the standard
/// modes.
const COMMITMENT: &str = "Commitment";

/// Modes whose sessions resolve with an accepted `Commitment`. A session of
/// another (extension) mode ends as soon as its lifecycle says it resolved.
const COMMITMENT_MODES: &[&str] = &[
    crate::modes::DECISION,
    crate::modes::PROPOSAL,
    crate::modes::TASK,
    crate::modes::HANDOFF,
    crate::modes::QUORUM,
    crate::modes::MULTI_ROUND,
];

/// How a participant follows its streams.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParticipantOptions {
    /// Reconnecting and buffering of the lifecycle stream and of every
    /// session stream (the queue capacity also bounds [`Participant::activity`]).
    pub watch: WatchOptions,
    /// Also report the envelopes this identity sent (default false: an
    /// agent reacting to its own votes would answer itself).
    pub include_own: bool,
}

/// What a participant reports, in order.
#[derive(Clone, Debug)]
pub enum Activity {
    /// A session naming this identity was opened and is now followed.
    Joined(Session),
    /// An accepted envelope of a followed session, with its 1-based ordinal
    /// in the session's history.
    Message {
        session: Session,
        sequence: u64,
        envelope: pb::Envelope,
    },
    /// A followed session ended: `state` is its terminal `SessionState`
    /// (`Unspecified` when its stream closed first), `cause` why the stream
    /// closed, if it did. Nothing more is reported for it.
    Ended {
        session: Session,
        state: pb::SessionState,
        cause: Option<Error>,
    },
    /// A session naming this identity could not be opened or followed
    /// (`cause` says why); it is not retried.
    Refused { session_id: String, cause: Error },
    /// The participant has stopped: [`Participant::stop`] was called
    /// (`Cancelled`), its client closed, or its lifecycle stream ended for
    /// good. Nothing follows.
    Closed(Error),
}

/// A running participant loop.
pub struct Participant {
    /// Everything the participant reports, ending with [`Activity::Closed`].
    pub activity: mpsc::Receiver<Activity>,
    identity: String,
    cancel: CancellationToken,
}

impl Participant {
    /// Start following the sessions that name `identity` as a participant.
    /// `identity` is the sender the runtime knows this client by (its
    /// bearer identity, or the expected sender); `None` takes the client's
    /// expected sender, else its bearer token. Fails with `Unsupported` when
    /// the runtime does not advertise session lifecycle watches.
    pub async fn start(
        client: Arc<Client>,
        identity: Option<&str>,
        opts: ParticipantOptions,
    ) -> Result<Participant> {
        let identity = match identity {
            Some(i) => i.to_string(),
            None => default_identity(&client)?,
        };
        if identity.trim().is_empty() {
            return Err(Error::invalid_argument("the participant identity is empty"));
        }
        opts.watch.validate()?;
        let lifecycle = client
            .watch(WatchKind::Sessions, opts.watch.clone())
            .await?;
        let (tx, activity) = mpsc::channel(opts.watch.queue_capacity);
        let cancel = CancellationToken::new();
        let run = Run {
            client,
            identity: identity.clone(),
            opts,
            tx,
            followed: HashMap::new(),
            done: HashSet::new(),
        };
        crate::rt::spawn(run.run(lifecycle, cancel.clone()))?;
        Ok(Participant {
            activity,
            identity,
            cancel,
        })
    }

    /// The identity whose sessions are followed.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Stop: the streams are closed and [`Activity::Closed`] (`Cancelled`)
    /// is the last activity reported.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// A token that stops this participant when cancelled, for an owner
    /// that hands [`Participant::activity`] to another thread.
    pub fn stop_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The identity a client's messages carry: its expected sender, else its
/// bearer token (the runtime's development identities are the token).
pub fn default_identity(client: &Client) -> Result<String> {
    let c = client.config();
    c.expected_sender
        .clone()
        .or_else(|| c.bearer_token.clone())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::invalid_argument(
                "no participant identity: give one, or configure the client's expected sender or bearer token",
            )
        })
}

struct Followed {
    session: Session,
    /// Stops the session's stream.
    cancel: CancellationToken,
    /// The terminal state the lifecycle reported, once it did.
    ended: Option<i32>,
    /// An accepted Commitment was delivered.
    committed: bool,
}

struct Run {
    client: Arc<Client>,
    identity: String,
    opts: ParticipantOptions,
    tx: mpsc::Sender<Activity>,
    followed: HashMap<String, Followed>,
    /// Open sessions refused, or whose stream closed for good: never
    /// joined again (forgotten once their lifecycle ends).
    done: HashSet<String>,
}

fn is_terminal(state: i32) -> bool {
    [
        pb::SessionState::Resolved as i32,
        pb::SessionState::Expired as i32,
        pb::SessionState::Cancelled as i32,
    ]
    .contains(&state)
}

impl Run {
    async fn run(mut self, mut lifecycle: crate::watch::Watch, cancel: CancellationToken) {
        // Session streams' events, tagged with their session id.
        let (merged_tx, mut merged) =
            mpsc::channel::<(String, Event)>(self.opts.watch.queue_capacity);
        let cause = loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Error::new(Status::Cancelled, "the participant was stopped"),
                ev = lifecycle.events.recv() => match ev {
                    Some(Event::Session { event, .. }) => {
                        if !self.lifecycle(event, &merged_tx).await {
                            return;
                        }
                    }
                    Some(Event::Closed(e)) => break e,
                    None => break Error::new(Status::Cancelled, "the lifecycle stream ended"),
                    Some(_) => {}
                },
                Some((id, ev)) = merged.recv() => {
                    if !self.session_event(&id, ev).await {
                        return;
                    }
                }
            }
        };
        lifecycle.cancel();
        for f in self.followed.values() {
            f.cancel.cancel();
        }
        let _ = self.tx.send(Activity::Closed(cause)).await;
    }

    async fn emit(&self, a: Activity) -> bool {
        self.tx.send(a).await.is_ok()
    }

    /// A lifecycle event; `false` once nobody listens.
    async fn lifecycle(
        &mut self,
        event: pb::SessionLifecycleEvent,
        merged: &mpsc::Sender<(String, Event)>,
    ) -> bool {
        let Some(meta) = event.session else {
            return true;
        };
        let id = meta.session_id.clone();
        let terminal = is_terminal(meta.state)
            || [
                EventType::Resolved as i32,
                EventType::Expired as i32,
                EventType::Cancelled as i32,
            ]
            .contains(&event.event_type);
        if let Some(f) = self.followed.get_mut(&id) {
            if terminal && f.ended.is_none() {
                let state = if is_terminal(meta.state) {
                    meta.state
                } else {
                    pb::SessionState::Resolved as i32
                };
                f.ended = Some(state);
                return self.maybe_finish(&id, None).await;
            }
            return true;
        }
        if terminal {
            // A terminal session is never joined, so it need not be
            // remembered: `done` stays as large as the sessions still open.
            self.done.remove(&id);
            return true;
        }
        if self.done.contains(&id) || !meta.participants.iter().any(|p| p == &self.identity) {
            return true;
        }
        let session = match Session::open(self.client.clone(), &id).await {
            Ok(s) => s,
            Err(cause) => return self.refuse(id, cause).await,
        };
        let watch = match session.watch(0, self.opts.watch.clone()).await {
            Ok(w) => w,
            Err(cause) => return self.refuse(id, cause).await,
        };
        let crate::watch::Watch { events, cancel, .. } = watch;
        // Spawned from background work: the I/O thread is running, so this
        // cannot fail.
        let _ = crate::rt::spawn(forward(id.clone(), events, merged.clone(), cancel.clone()));
        self.followed.insert(
            id,
            Followed {
                session: session.clone(),
                cancel,
                ended: None,
                committed: false,
            },
        );
        self.emit(Activity::Joined(session)).await
    }

    async fn refuse(&mut self, session_id: String, cause: Error) -> bool {
        self.done.insert(session_id.clone());
        self.emit(Activity::Refused { session_id, cause }).await
    }

    /// An event of a followed session's stream.
    async fn session_event(&mut self, id: &str, ev: Event) -> bool {
        let Some(f) = self.followed.get_mut(id) else {
            return true;
        };
        match ev {
            Event::Envelope { sequence, envelope } => {
                if envelope.message_type == COMMITMENT {
                    f.committed = true;
                }
                let session = f.session.clone();
                if (self.opts.include_own || envelope.sender != self.identity)
                    && !self
                        .emit(Activity::Message {
                            session,
                            sequence,
                            envelope,
                        })
                        .await
                {
                    return false;
                }
                self.maybe_finish(id, None).await
            }
            Event::Closed(cause) => self.maybe_finish(id, Some(cause)).await,
            _ => true,
        }
    }

    /// End session `id` when it is over: its stream closed with `closed`,
    /// or its lifecycle said so and, for a resolution, the Commitment was
    /// delivered.
    async fn maybe_finish(&mut self, id: &str, closed: Option<Error>) -> bool {
        let Some(f) = self.followed.get(id) else {
            return true;
        };
        let over = closed.is_some()
            || match f.ended {
                None => false,
                Some(s) if s == pb::SessionState::Resolved as i32 => {
                    f.committed || !COMMITMENT_MODES.contains(&f.session.mode())
                }
                Some(_) => true,
            };
        if !over {
            return true;
        }
        let Some(f) = self.followed.remove(id) else {
            return true;
        };
        f.cancel.cancel();
        if f.ended.is_none() {
            // Its stream closed while the session goes on: not again.
            self.done.insert(id.to_string());
        }
        let state = f
            .ended
            .and_then(|s| pb::SessionState::try_from(s).ok())
            .unwrap_or(pb::SessionState::Unspecified);
        self.emit(Activity::Ended {
            session: f.session,
            state,
            cause: closed,
        })
        .await
    }
}

/// Move one session stream's events into the participant's queue.
async fn forward(
    id: String,
    mut events: crate::watch::Events,
    merged: mpsc::Sender<(String, Event)>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.recv() => match ev {
                Some(ev) => {
                    let last = ev.is_terminal();
                    if merged.send((id.clone(), ev)).await.is_err() || last {
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

/// Handlers by message type, with a fallback for the others.
#[derive(Clone, Debug)]
pub struct Routes<H> {
    by_type: HashMap<String, H>,
    fallback: Option<H>,
}

impl<H> Default for Routes<H> {
    fn default() -> Self {
        Routes {
            by_type: HashMap::new(),
            fallback: None,
        }
    }
}

impl<H> Routes<H> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handle `message_type` with `handler` (replacing an earlier one).
    pub fn on(&mut self, message_type: &str, handler: H) -> Result<()> {
        if message_type.is_empty() {
            return Err(Error::invalid_argument("message_type is empty"));
        }
        self.by_type.insert(message_type.to_string(), handler);
        Ok(())
    }

    /// Handle every message type without a handler of its own.
    pub fn otherwise(&mut self, handler: H) {
        self.fallback = Some(handler);
    }

    /// The handler of `message_type`, else the fallback.
    pub fn route(&self, message_type: &str) -> Option<&H> {
        self.by_type.get(message_type).or(self.fallback.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_prefer_the_type_then_the_fallback() {
        let mut r = Routes::new();
        r.on("Vote", 1).unwrap();
        assert_eq!(r.route("Vote"), Some(&1));
        assert_eq!(r.route("Proposal"), None);
        r.otherwise(2);
        assert_eq!(r.route("Proposal"), Some(&2));
        assert!(r.on("", 3).is_err());
    }
}
