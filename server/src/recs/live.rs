//! A shopper's live state: their product events (loaded from the log once, then kept up
//! to date in memory as each event is recorded), onboarding interests, and what was
//! served to them lately (for attributing clicks to the variant that served them).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use curio::serving::{History, ShopperEvent};
use curio::InteractionKind;

use crate::store::recs::LogEvent;

/// Served items remembered for attribution.
const MAX_SERVED: usize = 400;

fn live_event(e: &LogEvent) -> ShopperEvent {
    ShopperEvent {
        product_id: e.product_id,
        kind: e.kind,
        value: e.value,
        at_ms: e.occurred_at,
    }
}

/// A served item: which list and variant put it in front of the shopper.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The product.
    pub product_id: i64,
    /// The surface.
    pub surface: Arc<str>,
    /// The variant.
    pub variant: Arc<str>,
    /// The request (one list).
    pub request_id: Arc<str>,
}

/// How much an engagement with a served item is worth to its variant, per list: the
/// strongest engagement counts, at most 1 per list.
pub fn reward_of(kind: InteractionKind, value: Option<f32>) -> Option<f64> {
    match kind {
        // Only a good rating is a reward; a bad one is not engagement to learn from.
        InteractionKind::Rating if value.is_none_or(|stars| stars < 3.5) => None,
        InteractionKind::Click => Some(0.4),
        InteractionKind::Like => Some(0.6),
        InteractionKind::AddToCart => Some(0.8),
        InteractionKind::Purchase => Some(1.0),
        InteractionKind::Rating => Some(0.6),
        _ => None,
    }
}

/// One shopper's live state.
#[derive(Debug, Clone, Default)]
pub struct LiveShopper {
    history: History,
    served: VecDeque<Served>,
    credited: HashMap<Arc<str>, f64>,
    /// Bumped on every change (cache keys use it).
    pub version: u64,
}

impl LiveShopper {
    /// The state from the shopper's logged events (oldest first) and interests.
    pub fn from_log(events: &[LogEvent], interests: Vec<i64>) -> Self {
        Self {
            history: History::new(events.iter().map(live_event), interests),
            ..Self::default()
        }
    }

    /// The shopper's ordered history, as serving reads it.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Whether nothing is known of the shopper: no events, no onboarding interests.
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// Adds an event (unless the state already holds it: see [`History::push`]).
    pub fn push(&mut self, event: ShopperEvent) {
        if self.history.push(event) {
            self.version += 1;
        }
    }

    /// Withdraws the shopper's like or dislike of a product.
    pub fn clear_opinion(&mut self, product_id: i64) {
        self.history.clear_opinion(product_id);
        self.version += 1;
    }

    /// Replaces the onboarding interests.
    pub fn set_interests(&mut self, categories: Vec<i64>) {
        self.history.set_interests(categories);
        self.version += 1;
    }

    /// Remembers the items of a served list.
    pub fn remember_served(&mut self, items: impl IntoIterator<Item = Served>) {
        for served in items {
            self.served.push_back(served);
        }
        while self.served.len() > MAX_SERVED {
            self.served.pop_front();
        }
    }

    /// The list that last served `product_id`: (surface, variant).
    pub fn attributed(&self, product_id: i64) -> Option<(&str, &str)> {
        self.served
            .iter()
            .rev()
            .find(|s| s.product_id == product_id)
            .map(|s| (&*s.surface, &*s.variant))
    }

    /// The reward an engagement with `product_id` earns the list that last served it:
    /// (surface, variant, reward to add), where the reward is what this engagement adds
    /// over the strongest one already credited to that list.
    pub fn credit(
        &mut self,
        product_id: i64,
        kind: InteractionKind,
        value: Option<f32>,
    ) -> Option<(String, String, f64)> {
        let reward = reward_of(kind, value)?;
        let served = self
            .served
            .iter()
            .rev()
            .find(|s| s.product_id == product_id)?
            .clone();
        let already = self
            .credited
            .entry(served.request_id.clone())
            .or_insert(0.0);
        let gain = (reward - *already).max(0.0);
        if gain <= 0.0 {
            return None;
        }
        *already = reward;
        if self.credited.len() > MAX_SERVED {
            // Lists that old no longer earn; forget them all but this one.
            let keep = served.request_id.clone();
            self.credited.retain(|k, _| *k == keep);
        }
        Some((served.surface.to_string(), served.variant.to_string(), gain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_counts_the_strongest_engagement_once_per_list() {
        let mut live = LiveShopper::default();
        live.remember_served([Served {
            product_id: 7,
            surface: "for_you".into(),
            variant: "blend".into(),
            request_id: "r1".into(),
        }]);
        let (surface, variant, gain) = live.credit(7, InteractionKind::Click, None).unwrap();
        assert_eq!((surface.as_str(), variant.as_str()), ("for_you", "blend"));
        assert!((gain - 0.4).abs() < 1e-9);
        // A second click earns nothing; a purchase earns the difference.
        assert!(live.credit(7, InteractionKind::Click, None).is_none());
        let (_, _, gain) = live
            .credit(7, InteractionKind::Purchase, Some(1.0))
            .unwrap();
        assert!((gain - 0.6).abs() < 1e-9);
        // A bad rating earns nothing, a good one does; views and items never served
        // earn nothing.
        live.remember_served([Served {
            product_id: 9,
            surface: "for_you".into(),
            variant: "blend".into(),
            request_id: "r2".into(),
        }]);
        assert!(live.credit(9, InteractionKind::Rating, Some(1.0)).is_none());
        let (_, _, gain) = live.credit(9, InteractionKind::Rating, Some(5.0)).unwrap();
        assert!((gain - 0.6).abs() < 1e-9);
        assert!(live.credit(7, InteractionKind::View, None).is_none());
        assert!(live.credit(8, InteractionKind::Click, None).is_none());
    }
}
