//! `ext.multi_round.v1`: each participant's latest contribution and whether
//! all declared participants agree. Phases: `Contributing`, `Converged` (every
//! participant's latest value is the same), `Committed`.

use std::collections::BTreeMap;

use macp_pb::pb;
use serde_json::{json, Map, Value};

use super::{set_phase, Ctx};
use crate::error::{Error, Result};
use crate::modes::multi_round::decode_contribute;

/// JSON: `phase`, `contributions` (sender → latest value), `rounds` (how
/// many contributions changed their sender's value) and `converged`.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiRoundState {
    pub phase: &'static str,
    /// Sender → latest value.
    pub contributions: BTreeMap<String, String>,
    pub rounds: u32,
}

impl Default for MultiRoundState {
    fn default() -> Self {
        MultiRoundState {
            phase: "Contributing",
            contributions: BTreeMap::new(),
            rounds: 0,
        }
    }
}

impl MultiRoundState {
    pub(crate) fn apply(&mut self, env: &pb::Envelope, ctx: &mut Ctx) -> Result<()> {
        if env.message_type != "Contribute" {
            return Ok(());
        }
        let value = decode_contribute(&env.payload)
            .ok_or_else(|| Error::invalid_argument("Contribute payload does not decode"))?;
        if self.contributions.get(&env.sender) != Some(&value) {
            self.rounds += 1;
        }
        self.contributions.insert(env.sender.clone(), value);
        let next = if self.converged(ctx.participants) {
            "Converged"
        } else {
            "Contributing"
        };
        set_phase(&mut self.phase, next);
        Ok(())
    }

    /// Whether every one of `participants` has contributed the same value.
    pub fn converged(&self, participants: &[String]) -> bool {
        let mut values = participants.iter().map(|p| self.contributions.get(p));
        match values.next() {
            Some(Some(first)) => values.all(|v| v == Some(first)),
            _ => false,
        }
    }

    pub(crate) fn write_json(&self, m: &mut Map<String, Value>, participants: &[String]) {
        m.insert("contributions".into(), json!(self.contributions));
        m.insert("rounds".into(), json!(self.rounds));
        m.insert("converged".into(), json!(self.converged(participants)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::Projection;
    use crate::modes::multi_round::encode_contribute;
    use crate::modes::MULTI_ROUND;
    use macp_pb::pb;

    #[test]
    fn latest_value_counts_and_convergence_needs_everyone() {
        let mut p = Projection::new(MULTI_ROUND).unwrap();
        let start = pb::SessionStartPayload {
            participants: vec!["a".into(), "b".into()],
            ttl_ms: 1,
            ..Default::default()
        };
        p.apply(&env(MULTI_ROUND, "SessionStart", "m0", "coord", &start))
            .unwrap();
        let mut contribute = |id: &str, who: &str, bytes: Vec<u8>| {
            let mut e = env(MULTI_ROUND, "Contribute", id, who, &start);
            e.payload = bytes;
            p.apply(&e)
        };
        contribute("m1", "a", encode_contribute("x")).unwrap();
        contribute("m2", "b", br#"{"value":"y"}"#.to_vec()).unwrap();
        contribute("m3", "b", encode_contribute("x")).unwrap();
        assert!(contribute("m4", "b", vec![]).is_err());
        assert_eq!(p.phase(), "Converged");
        let j = p.to_json();
        assert_eq!(j["contributions"]["b"], "x");
        assert_eq!(j["rounds"], 3);
        assert_eq!(j["converged"], true);
    }
}
