//! Handoff mode: each offer with its disposition (`Offered`, `Accepted`,
//! `Declined`, as the runtime's mode state), who settled it, whether the
//! accept was the runtime's implicit (timeout) one, and the context attached.
//! Phases: `Pending`, `OfferPending`, `ContextSharing` (context on a pending
//! offer), `Accepted` or `Declined` (the latest offer's fate), `Committed`.

use std::collections::BTreeMap;

use macp_pb::{handoff_pb, pb};
use serde_json::{json, Map, Value};

use super::{decode, set_phase, Anomaly, Ctx, SETTLED_HANDOFF};
use crate::error::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Offered,
    Accepted,
    Declined,
}

impl Disposition {
    pub fn name(self) -> &'static str {
        match self {
            Disposition::Offered => "Offered",
            Disposition::Accepted => "Accepted",
            Disposition::Declined => "Declined",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub content_type: String,
    pub context: Vec<u8>,
    pub sender: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub handoff_id: String,
    pub target_participant: String,
    pub scope: String,
    pub reason: String,
    /// The HandoffOffer's sender.
    pub offered_by: String,
    pub disposition: Disposition,
    /// `accepted_by` or `declined_by` of the settling message (its sender
    /// when the payload left it empty).
    pub settled_by: String,
    /// Accepted by the runtime on the target's behalf after the policy's
    /// implicit-accept timeout.
    pub implicit: bool,
    pub contexts: Vec<Context>,
}

/// JSON: `phase` and `offers` (by id: `handoff_id`, `target_participant`,
/// `scope`, `reason`, `offered_by`, `disposition`, `settled_by`, `implicit`,
/// `contexts`: list of `content_type`, `size`, `sender`).
#[derive(Clone, Debug, PartialEq)]
pub struct HandoffState {
    pub phase: &'static str,
    pub offers: BTreeMap<String, Offer>,
}

impl Default for HandoffState {
    fn default() -> Self {
        HandoffState {
            phase: "Pending",
            offers: BTreeMap::new(),
        }
    }
}

impl HandoffState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, ctx: &mut Ctx) -> Result<()> {
        let sender = &env.sender;
        match env.message_type.as_str() {
            "HandoffOffer" => {
                let p: handoff_pb::HandoffOfferPayload = decode(env)?;
                self.offers.entry(p.handoff_id.clone()).or_insert(Offer {
                    handoff_id: p.handoff_id,
                    target_participant: p.target_participant,
                    scope: p.scope,
                    reason: p.reason,
                    offered_by: sender.clone(),
                    disposition: Disposition::Offered,
                    settled_by: String::new(),
                    implicit: false,
                    contexts: Vec::new(),
                });
                set_phase(&mut self.phase, "OfferPending");
            }
            "HandoffContext" => {
                let p: handoff_pb::HandoffContextPayload = decode(env)?;
                if let Some(offer) = self.offers.get_mut(&p.handoff_id) {
                    offer.contexts.push(Context {
                        content_type: p.content_type,
                        context: p.context,
                        sender: sender.clone(),
                    });
                    if offer.disposition == Disposition::Offered && self.phase == "OfferPending" {
                        set_phase(&mut self.phase, "ContextSharing");
                    }
                }
            }
            "HandoffAccept" => {
                let p: handoff_pb::HandoffAcceptPayload = decode(env)?;
                let by = if p.accepted_by.is_empty() {
                    sender.clone()
                } else {
                    p.accepted_by
                };
                self.settle(
                    env,
                    ctx,
                    &p.handoff_id,
                    Disposition::Accepted,
                    by,
                    p.implicit,
                );
            }
            "HandoffDecline" => {
                let p: handoff_pb::HandoffDeclinePayload = decode(env)?;
                let by = if p.declined_by.is_empty() {
                    sender.clone()
                } else {
                    p.declined_by
                };
                self.settle(env, ctx, &p.handoff_id, Disposition::Declined, by, false);
            }
            _ => {}
        }
        Ok(())
    }

    fn settle(
        &mut self,
        env: &pb::Envelope,
        ctx: &mut Ctx,
        handoff_id: &str,
        to: Disposition,
        by: String,
        implicit: bool,
    ) {
        let Some(offer) = self.offers.get_mut(handoff_id) else {
            return;
        };
        if offer.disposition != Disposition::Offered {
            let detail = format!(
                "handoff '{handoff_id}' already {}; discarded {} from '{}'",
                offer.disposition.name(),
                env.message_type,
                env.sender
            );
            ctx.anomalies
                .push(Anomaly::new(SETTLED_HANDOFF, env, handoff_id, detail));
            return;
        }
        offer.disposition = to;
        offer.settled_by = by;
        offer.implicit = implicit;
        set_phase(&mut self.phase, to.name());
    }

    /// The offer still waiting for an answer, if any.
    pub fn pending_offer(&self) -> Option<&Offer> {
        self.offers
            .values()
            .find(|o| o.disposition == Disposition::Offered)
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>) {
        let offers: Map<_, _> = self
            .offers
            .iter()
            .map(|(id, o)| {
                let contexts: Vec<_> = o
                    .contexts
                    .iter()
                    .map(|c| {
                        json!({
                            "content_type": c.content_type,
                            "size": c.context.len(),
                            "sender": c.sender,
                        })
                    })
                    .collect();
                let v = json!({
                    "handoff_id": o.handoff_id,
                    "target_participant": o.target_participant,
                    "scope": o.scope,
                    "reason": o.reason,
                    "offered_by": o.offered_by,
                    "disposition": o.disposition.name(),
                    "settled_by": o.settled_by,
                    "implicit": o.implicit,
                    "contexts": contexts,
                });
                (id.clone(), v)
            })
            .collect();
        m.insert("offers".into(), Value::Object(offers));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::{Projection, SETTLED_HANDOFF};
    use crate::modes::HANDOFF;
    use macp_pb::handoff_pb::*;

    fn offer(id: &str, target: &str) -> HandoffOfferPayload {
        HandoffOfferPayload {
            handoff_id: id.into(),
            target_participant: target.into(),
            scope: "support".into(),
            reason: String::new(),
        }
    }

    #[test]
    fn offers_settle_once() {
        let mut p = Projection::new(HANDOFF).unwrap();
        p.apply(&env(
            HANDOFF,
            "HandoffOffer",
            "m1",
            "owner",
            &offer("h1", "t1"),
        ))
        .unwrap();
        assert_eq!(p.phase(), "OfferPending");
        let ctx = HandoffContextPayload {
            handoff_id: "h1".into(),
            content_type: "text/plain".into(),
            context: b"notes".to_vec(),
        };
        p.apply(&env(HANDOFF, "HandoffContext", "m2", "owner", &ctx))
            .unwrap();
        assert_eq!(p.phase(), "ContextSharing");
        assert_eq!(
            p.handoff().unwrap().pending_offer().unwrap().handoff_id,
            "h1"
        );
        let decline = HandoffDeclinePayload {
            handoff_id: "h1".into(),
            declined_by: String::new(),
            reason: "busy".into(),
        };
        p.apply(&env(HANDOFF, "HandoffDecline", "m3", "t1", &decline))
            .unwrap();
        assert_eq!(p.phase(), "Declined");
        // A late accept of a declined offer is discarded and recorded.
        let accept = |id: &str| HandoffAcceptPayload {
            handoff_id: id.into(),
            ..Default::default()
        };
        p.apply(&env(HANDOFF, "HandoffAccept", "m4", "t1", &accept("h1")))
            .unwrap();
        assert_eq!(p.anomalies().len(), 1);
        assert_eq!(p.anomalies()[0].kind, SETTLED_HANDOFF);
        assert_eq!(p.anomalies()[0].subject_id, "h1");
        // An accept of an unknown offer is ignored silently.
        p.apply(&env(HANDOFF, "HandoffAccept", "m5", "t1", &accept("h9")))
            .unwrap();
        assert_eq!(p.anomalies().len(), 1);

        p.apply(&env(
            HANDOFF,
            "HandoffOffer",
            "m6",
            "owner",
            &offer("h2", "t2"),
        ))
        .unwrap();
        let implicit = HandoffAcceptPayload {
            handoff_id: "h2".into(),
            accepted_by: "t2".into(),
            reason: "implicit accept (timeout)".into(),
            implicit: true,
        };
        p.apply(&env(
            HANDOFF,
            "HandoffAccept",
            "implicit-accept:h2",
            "t2",
            &implicit,
        ))
        .unwrap();
        assert_eq!(p.phase(), "Accepted");
        assert!(p.handoff().unwrap().pending_offer().is_none());
        let j = p.to_json();
        assert_eq!(j["offers"]["h1"]["disposition"], "Declined");
        assert_eq!(j["offers"]["h1"]["settled_by"], "t1");
        assert_eq!(j["offers"]["h1"]["contexts"][0]["size"], 5);
        assert_eq!(j["offers"]["h2"]["disposition"], "Accepted");
        assert_eq!(j["offers"]["h2"]["implicit"], true);
        assert_eq!(j["offers"]["h2"]["offered_by"], "owner");
    }
}
