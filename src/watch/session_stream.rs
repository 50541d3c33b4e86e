//! `StreamSession`: a passive subscription to one session's accepted history
//! (replayed from `after_sequence`, then live) that can also carry envelopes.
//!
//! Resume rules (RFC-MACP-0006 §3.2): the watcher counts distinct accepted
//! envelopes, keyed by sender and `message_id`, so a redelivered envelope is
//! skipped and never advances the position; after a break it subscribes again
//! with `after_sequence` = the last ordinal it delivered. Envelopes sent on the
//! stream and not yet seen accepted or refused are re-sent, with the same
//! `message_id`, on the new stream (the runtime deduplicates them).

use std::collections::HashSet;
use std::sync::Arc;

use macp_pb::pb;
use pb::stream_session_response::Response;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;

use super::{
    backoff_or_close, new_emitter, ready_channel, report_live, stream_ended, wait_until_live,
    Emitter, Event, Outbound, Ready, Watch, WatchOptions,
};
use crate::client::Client;
use crate::error::{Error, Result, Status};

/// Capacity of the queue of envelopes waiting to be written to the stream.
const SEND_QUEUE: usize = 1024;

/// Initial size of the stream's encode and decode buffers (tonic's default is
/// 8 KiB each). Both are allocated when the stream opens and grow as a
/// message needs, so a smaller start costs nothing for the envelopes of a
/// session (a few hundred bytes) and saves an idle watcher most of 16 KiB.
const CODEC_BUFFER: usize = 1024;

/// Open `StreamSession` as the generated stub does, but with
/// [`CODEC_BUFFER`]-sized codec buffers.
async fn open_stream(
    client: &Client,
    frames: impl tokio_stream::Stream<Item = pb::StreamSessionRequest> + Send + 'static,
) -> std::result::Result<
    tonic::Response<tonic::codec::Streaming<pb::StreamSessionResponse>>,
    tonic::Status,
> {
    let mut req = client.request(frames);
    let mut grpc = client.ready_grpc("StreamSession", &mut req).await?;
    // 32 KiB: tonic's default yield threshold, unchanged.
    let codec = SmallBuffers(tonic::codec::BufferSettings::new(CODEC_BUFFER, 32 * 1024));
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/macp.v1.MACPRuntimeService/StreamSession",
    );
    grpc.streaming(req, path, codec).await
}

/// The prost codec of `StreamSession` with the given buffer settings.
struct SmallBuffers(tonic::codec::BufferSettings);

impl tonic::codec::Codec for SmallBuffers {
    type Encode = pb::StreamSessionRequest;
    type Decode = pb::StreamSessionResponse;
    type Encoder = tonic_prost::ProstEncoder<pb::StreamSessionRequest>;
    type Decoder = tonic_prost::ProstDecoder<pb::StreamSessionResponse>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(self.0)
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::new(self.0)
    }
}

pub(crate) async fn spawn_session_stream(
    client: Arc<Client>,
    session_id: &str,
    after_sequence: u64,
    opts: WatchOptions,
) -> Result<Watch> {
    opts.validate()?;
    crate::client::check_session_id(session_id)?;
    let (em, events, cancel) = new_emitter(
        &opts,
        client.shutdown_token().clone(),
        format!("session {session_id}"),
    );
    let (outbound, out_rx): (Outbound, _) = mpsc::channel(SEND_QUEUE);
    let state = State {
        session_id: session_id.to_string(),
        last: after_sequence,
        seen: HashSet::new(),
        unconfirmed: Vec::new(),
        sent: HashSet::new(),
        history_floor: None,
    };
    let (ready, live) = ready_channel();
    crate::rt::spawn(run(client, state, opts, em, out_rx, ready))?;
    wait_until_live(live, cancel, events, Some(outbound)).await
}

struct State {
    session_id: String,
    /// Ordinal of the last envelope delivered.
    last: u64,
    /// (sender, message_id) of every envelope delivered.
    seen: HashSet<(String, String)>,
    /// Envelopes sent on the stream, in order, not yet accepted or refused.
    unconfirmed: Vec<pb::Envelope>,
    /// `message_id`s of every envelope sent on this watcher.
    sent: HashSet<String>,
    /// `lowest_available_sequence` of the last `HISTORY_UNAVAILABLE`.
    history_floor: Option<u64>,
}

/// A request frame, boxed in the stream's queue: an unbounded channel, too,
/// allocates its first block of 32 slots when it is created (see
/// [`super::Events`]).
type Frame = Box<pb::StreamSessionRequest>;

fn subscribe_frame(session_id: &str, after: u64) -> Frame {
    Box::new(pb::StreamSessionRequest {
        envelope: None,
        subscribe_session_id: session_id.to_string(),
        after_sequence: after,
    })
}

fn envelope_frame(env: pb::Envelope) -> Frame {
    Box::new(pb::StreamSessionRequest {
        envelope: Some(env),
        ..Default::default()
    })
}

async fn run(
    client: Arc<Client>,
    mut st: State,
    opts: WatchOptions,
    em: Emitter,
    mut out_rx: mpsc::Receiver<Box<pb::Envelope>>,
    mut ready: Ready,
) {
    let mut attempt = 0u32;
    let mut opened_before = false;
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(subscribe_frame(&st.session_id, st.last));
        for env in &st.unconfirmed {
            let _ = tx.send(envelope_frame(env.clone()));
        }
        let opened = tokio::select! {
            r = open_stream(&client, UnboundedReceiverStream::new(rx).map(|f| *f)) => r,
            _ = em.stopped() => { em.close(Error::new(Status::Cancelled, "closed")).await; return; }
        };
        let cause = match opened {
            Err(s) => {
                let cause = Error::from_grpc(&s);
                // The first subscription failed: the watch call reports it.
                if !report_live(&mut ready, Err(cause.clone())) {
                    return;
                }
                cause
            }
            Ok(resp) => {
                report_live(&mut ready, Ok(()));
                if opened_before
                    && !em
                        .emit(Event::Resumed {
                            after_sequence: st.last,
                        })
                        .await
                {
                    return;
                }
                opened_before = true;
                let mut inbound = resp.into_inner();
                match pump(&em, &mut st, &tx, &mut inbound, &mut out_rx, &mut attempt).await {
                    Some(cause) => cause,
                    None => return,
                }
            }
        };
        if cause.status == Status::HistoryUnavailable {
            match resume_past_gap(&em, &mut st, &cause).await {
                Some(true) => continue,
                Some(false) => {}
                None => return,
            }
        }
        if !backoff_or_close(&em, &opts, &mut attempt, cause).await {
            return;
        }
    }
}

/// After `HISTORY_UNAVAILABLE`, report the lost ordinals and move the resume
/// point to the lowest available one. `Some(true)`: resubscribe now;
/// `Some(false)`: treat as an ordinary failure; `None`: consumer gone.
async fn resume_past_gap(em: &Emitter, st: &mut State, cause: &Error) -> Option<bool> {
    let Some(lowest) = serde_json::from_slice::<serde_json::Value>(&cause.details)
        .ok()
        .and_then(|v| v.get("lowest_available_sequence")?.as_u64())
    else {
        return Some(false);
    };
    // First resume just before the lowest available ordinal (it is still
    // there); if the runtime refuses that too, resume after it, as its
    // message instructs.
    let target = if st.history_floor == Some(lowest) {
        lowest
    } else {
        lowest.saturating_sub(1)
    };
    if target <= st.last && st.history_floor == Some(lowest) {
        return Some(false);
    }
    st.history_floor = Some(lowest);
    if target > st.last {
        let gap = Event::Gap {
            from: st.last + 1,
            to: target,
            cause: cause.clone(),
        };
        st.last = target;
        if !em.emit(gap).await {
            return None;
        }
    }
    Some(true)
}

/// Forward one open stream until it ends (`Some(cause)`) or the watcher stops
/// (`None`).
async fn pump(
    em: &Emitter,
    st: &mut State,
    tx: &mpsc::UnboundedSender<Frame>,
    inbound: &mut tonic::Streaming<pb::StreamSessionResponse>,
    out_rx: &mut mpsc::Receiver<Box<pb::Envelope>>,
    attempt: &mut u32,
) -> Option<Error> {
    let mut outbound_open = true;
    loop {
        tokio::select! {
            biased;
            _ = em.stopped() => {
                em.close(Error::new(Status::Cancelled, "closed")).await;
                return None;
            }
            msg = inbound.message() => {
                let resp = match msg {
                    Ok(Some(r)) => r,
                    Ok(None) => return Some(stream_ended()),
                    Err(s) => return Some(Error::from_grpc(&s)),
                };
                *attempt = 0;
                match resp.response {
                    Some(Response::Envelope(env)) => {
                        st.unconfirmed.retain(|u| u.message_id != env.message_id);
                        if !st.seen.insert((env.sender.clone(), env.message_id.clone())) {
                            continue; // redelivered: already delivered once
                        }
                        st.last += 1;
                        st.history_floor = None;
                        let ev = Event::Envelope { sequence: st.last, envelope: env };
                        if !em.emit(ev).await {
                            return None;
                        }
                    }
                    Some(Response::Error(e)) => {
                        let err = Error::from_macp_error(&e).with_ids(&st.session_id, "");
                        if !e.message_id.is_empty() && st.sent.contains(&e.message_id) {
                            st.unconfirmed.retain(|u| u.message_id != e.message_id);
                            if !em.emit(Event::StreamError(err)).await {
                                return None;
                            }
                        } else {
                            // Not about an envelope of ours: the subscription
                            // itself was refused (e.g. FORBIDDEN).
                            return Some(err);
                        }
                    }
                    None => {}
                }
            }
            env = out_rx.recv(), if outbound_open => match env {
                Some(env) => {
                    st.sent.insert(env.message_id.clone());
                    st.unconfirmed.push((*env).clone());
                    let _ = tx.send(envelope_frame(*env));
                }
                None => outbound_open = false,
            },
        }
    }
}
