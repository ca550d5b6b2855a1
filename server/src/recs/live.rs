//! A shopper's live state: their product events (loaded from the log once, then kept up
//! to date in memory as each event is recorded), onboarding interests, and what was
//! served to them lately (for attributing clicks to the variant that served them).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use curio::strategy::Rules;
use curio::InteractionKind;

use super::modelset::Catalog;
use crate::store::recs::LogEvent;

/// Product events kept per shopper (the newest).
const MAX_EVENTS: usize = 1_000;
/// Served items remembered for attribution.
const MAX_SERVED: usize = 400;

/// One product event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveEvent {
    /// The product.
    pub product_id: i64,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

impl From<&LogEvent> for LiveEvent {
    fn from(e: &LogEvent) -> Self {
        Self {
            product_id: e.product_id,
            kind: e.kind,
            value: e.value,
            at_ms: e.occurred_at,
        }
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

/// What the shopper has turned down, as of one state: products disliked (their latest
/// like/dislike is a dislike, or their latest rating is 1-2 stars) and products hidden
/// ("not interested", not liked or put in the cart since). Both sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Refusals {
    /// Disliked products.
    pub disliked: Vec<i64>,
    /// Hidden products.
    pub hidden: Vec<i64>,
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
    events: VecDeque<LiveEvent>,
    interests: Vec<i64>,
    served: VecDeque<Served>,
    credited: HashMap<Arc<str>, f64>,
    /// Bumped on every change (cache keys use it).
    pub version: u64,
}

impl LiveShopper {
    /// The state from the shopper's logged events (oldest first) and interests.
    pub fn from_log(events: &[LogEvent], interests: Vec<i64>) -> Self {
        let skip = events.len().saturating_sub(MAX_EVENTS);
        Self {
            events: events[skip..].iter().map(LiveEvent::from).collect(),
            interests,
            ..Self::default()
        }
    }

    /// Whether nothing is known of the shopper: no events, no onboarding interests.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.interests.is_empty()
    }

    /// Adds an event, unless the same event (product, kind, value, time) is already there:
    /// a state loaded from the log after the event was written holds it.
    pub fn push(&mut self, event: LiveEvent) {
        if self
            .events
            .iter()
            .rev()
            .take_while(|e| e.at_ms >= event.at_ms)
            .any(|e| *e == event)
        {
            return;
        }
        self.events.push_back(event);
        if self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        self.version += 1;
    }

    /// Withdraws the shopper's like or dislike of a product (their opinion is gone; the
    /// log keeps the history).
    pub fn clear_opinion(&mut self, product_id: i64) {
        self.events.retain(|e| {
            !(e.product_id == product_id
                && matches!(e.kind, InteractionKind::Like | InteractionKind::Dislike))
        });
        self.version += 1;
    }

    /// Replaces the onboarding interests.
    pub fn set_interests(&mut self, categories: Vec<i64>) {
        self.interests = categories;
        self.version += 1;
    }

    /// Onboarding interests (category ids).
    pub fn interests(&self) -> &[i64] {
        &self.interests
    }

    /// Whether the shopper has no product event yet.
    pub fn is_new(&self) -> bool {
        self.events.is_empty()
    }

    /// The history the models score: per known product, the sum of its events' weights,
    /// each halved every `half_life_days` before the newest event and multiplied by
    /// `session_boost` when within `session_minutes` of it. Only positive sums: dislikes
    /// act through exclusions and demotion instead (a negative weight is not something
    /// every model can take).
    pub fn history(&self, catalog: &Catalog, rules: &Rules) -> Vec<(u32, f32)> {
        self.history_with(catalog, rules, &self.refusals())
    }

    /// [`history`](Self::history) with the refusals already known.
    pub fn history_with(
        &self,
        catalog: &Catalog,
        rules: &Rules,
        refusals: &Refusals,
    ) -> Vec<(u32, f32)> {
        let Some(newest) = self.events.iter().map(|e| e.at_ms).max() else {
            return Vec::new();
        };
        let half_life_ms = f64::from(rules.half_life_days) * 86_400_000.0;
        let session_ms = i64::from(rules.session_minutes) * 60_000;
        // A hidden product is no seed either, whatever else the shopper did with it.
        let hidden = &refusals.hidden;
        let mut sums: HashMap<u32, f32> = HashMap::new();
        for e in &self.events {
            if hidden.binary_search(&e.product_id).is_ok() {
                continue;
            }
            let Some(item) = catalog.item(e.product_id) else {
                continue;
            };
            let age = (newest - e.at_ms).max(0);
            let mut weight =
                e.kind.default_weight(e.value) * 0.5f64.powf(age as f64 / half_life_ms) as f32;
            if age <= session_ms {
                weight *= rules.session_boost;
            }
            *sums.entry(item).or_default() += weight;
        }
        let mut history: Vec<(u32, f32)> = sums.into_iter().filter(|(_, w)| *w > 0.0).collect();
        history.sort_unstable_by_key(|(item, _)| *item);
        history
    }

    /// Products with any event (not recommended back on personal surfaces).
    pub fn seen(&self) -> HashSet<i64> {
        self.events.iter().map(|e| e.product_id).collect()
    }

    /// Products never to show: bought (see "buy again" instead), disliked now, or hidden
    /// ("not interested").
    pub fn excluded(&self) -> HashSet<i64> {
        self.excluded_with(&self.refusals())
    }

    /// [`excluded`](Self::excluded) with the refusals already known.
    pub fn excluded_with(&self, refusals: &Refusals) -> HashSet<i64> {
        let mut out: HashSet<i64> = refusals.disliked.iter().copied().collect();
        out.extend(&refusals.hidden);
        out.extend(
            self.events
                .iter()
                .filter(|e| e.kind == InteractionKind::Purchase)
                .map(|e| e.product_id),
        );
        out
    }

    /// Products the shopper marked "not interested" and has not liked or put in the cart
    /// since. Unlike [`disliked`](Self::disliked) ones, their near-duplicates are not
    /// pushed down: hiding one product says little about the rest.
    pub fn not_interested(&self) -> Vec<i64> {
        self.refusals().hidden
    }

    /// Products whose latest like/dislike is a dislike, or rated 1-2 stars last.
    pub fn disliked(&self) -> Vec<i64> {
        self.refusals().disliked
    }

    /// Disliked and hidden products, in one pass over the events: per product, the
    /// latest event that sets or clears each flag decides it.
    pub fn refusals(&self) -> Refusals {
        // Per product: (disliked, hidden), each `None` until an event speaks to it.
        let mut latest: HashMap<i64, (Option<bool>, Option<bool>)> = HashMap::new();
        for e in &self.events {
            let (disliked, hidden) = match e.kind {
                InteractionKind::Dislike => (Some(true), None),
                InteractionKind::Like => (Some(false), Some(false)),
                InteractionKind::Rating => (Some(e.value.is_some_and(|s| s < 2.5)), None),
                InteractionKind::NotInterested => (None, Some(true)),
                InteractionKind::AddToCart => (None, Some(false)),
                _ => continue,
            };
            let entry = latest.entry(e.product_id).or_default();
            entry.0 = disliked.or(entry.0);
            entry.1 = hidden.or(entry.1);
        }
        let mut out = Refusals::default();
        for (product, (disliked, hidden)) in latest {
            if disliked == Some(true) {
                out.disliked.push(product);
            }
            if hidden == Some(true) {
                out.hidden.push(product);
            }
        }
        out.disliked.sort_unstable();
        out.hidden.sort_unstable();
        out
    }

    /// The product the shopper showed the strongest recent liking for: the latest like,
    /// 4-5 star rating, purchase or add to cart, with that event's kind.
    pub fn anchor(&self) -> Option<(i64, InteractionKind)> {
        self.anchor_with(&self.refusals())
    }

    /// [`anchor`](Self::anchor) with the refusals already known.
    pub fn anchor_with(&self, refusals: &Refusals) -> Option<(i64, InteractionKind)> {
        self.events
            .iter()
            .rev()
            .find(|e| {
                refusals.disliked.binary_search(&e.product_id).is_err()
                    && refusals.hidden.binary_search(&e.product_id).is_err()
                    && match e.kind {
                        InteractionKind::Like
                        | InteractionKind::Purchase
                        | InteractionKind::AddToCart => true,
                        InteractionKind::Rating => e.value.is_some_and(|s| s >= 3.5),
                        _ => false,
                    }
            })
            .map(|e| (e.product_id, e.kind))
    }

    /// The strongest kind of event the shopper had with a product (for reasons).
    pub fn strongest(&self, product_id: i64) -> Option<InteractionKind> {
        self.events
            .iter()
            .filter(|e| e.product_id == product_id)
            .map(|e| e.kind)
            .max_by(|a, b| {
                a.default_weight(Some(5.0))
                    .total_cmp(&b.default_weight(Some(5.0)))
            })
    }

    /// Viewed products, newest view first, each once.
    pub fn recently_viewed(&self, limit: usize) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for e in self.events.iter().rev() {
            if matches!(e.kind, InteractionKind::View | InteractionKind::Click)
                && !out.iter().any(|(p, _)| *p == e.product_id)
            {
                out.push((e.product_id, e.at_ms));
                if out.len() == limit {
                    break;
                }
            }
        }
        out
    }

    /// Bought products: (product, times bought, latest purchase in Unix milliseconds),
    /// most recently bought first.
    pub fn purchases(&self) -> Vec<(i64, u32, i64)> {
        let mut by_product: HashMap<i64, (u32, i64)> = HashMap::new();
        for e in self
            .events
            .iter()
            .filter(|e| e.kind == InteractionKind::Purchase)
        {
            let entry = by_product.entry(e.product_id).or_insert((0, e.at_ms));
            entry.0 += 1;
            entry.1 = entry.1.max(e.at_ms);
        }
        let mut out: Vec<(i64, u32, i64)> = by_product
            .into_iter()
            .map(|(p, (n, at))| (p, n, at))
            .collect();
        out.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        out
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

    fn event(product_id: i64, kind: InteractionKind, value: Option<f32>, at_ms: i64) -> LiveEvent {
        LiveEvent {
            product_id,
            kind,
            value,
            at_ms,
        }
    }

    #[test]
    fn dislikes_purchases_and_withdrawn_opinions() {
        let mut live = LiveShopper::default();
        live.push(event(1, InteractionKind::Like, None, 1));
        live.push(event(2, InteractionKind::Dislike, None, 2));
        live.push(event(3, InteractionKind::Purchase, Some(1.0), 3));
        live.push(event(4, InteractionKind::Rating, Some(1.0), 4));
        assert_eq!(live.disliked(), vec![2, 4]);
        let excluded = live.excluded();
        assert!(excluded.contains(&2) && excluded.contains(&3) && excluded.contains(&4));
        assert!(!excluded.contains(&1));
        assert_eq!(live.anchor(), Some((3, InteractionKind::Purchase)));
        live.clear_opinion(2);
        assert!(live.disliked() == vec![4]);
        live.push(event(2, InteractionKind::Like, None, 5));
        assert_eq!(live.anchor(), Some((2, InteractionKind::Like)));
    }

    #[test]
    fn not_interested_hides_one_product_until_a_later_like() {
        let mut live = LiveShopper::default();
        live.push(event(5, InteractionKind::Click, None, 1));
        live.push(event(5, InteractionKind::NotInterested, None, 2));
        live.push(event(6, InteractionKind::NotInterested, None, 3));
        assert_eq!(live.not_interested(), vec![5, 6]);
        assert!(live.excluded().contains(&5) && live.excluded().contains(&6));
        assert!(
            live.disliked().is_empty(),
            "not a dislike: no near-duplicate demotion"
        );
        live.push(event(6, InteractionKind::Like, None, 4));
        assert_eq!(live.not_interested(), vec![5]);
        assert!(!live.excluded().contains(&6));
        // Added to the cart, then hidden: no longer the anchor of "because you ...".
        live.push(event(7, InteractionKind::AddToCart, Some(1.0), 5));
        assert_eq!(live.anchor(), Some((7, InteractionKind::AddToCart)));
        live.push(event(7, InteractionKind::NotInterested, None, 6));
        assert_eq!(live.anchor(), Some((6, InteractionKind::Like)));
    }

    #[test]
    fn refusals_take_each_products_latest_word_on_each_flag() {
        use InteractionKind::*;
        let mut live = LiveShopper::default();
        for (t, (product, kind, value)) in [
            (1, Dislike, None),
            (1, AddToCart, None), // a cart add lifts a hide, not a dislike
            (2, NotInterested, None),
            (2, Dislike, None), // hidden and disliked
            (3, NotInterested, None),
            (3, Rating, Some(5.0)), // a rating lifts no hide
            (4, Rating, Some(1.0)),
            (5, Dislike, None),
            (5, Like, None), // a like lifts both
            (6, NotInterested, None),
            (6, Like, None),
        ]
        .into_iter()
        .enumerate()
        {
            live.push(event(product, kind, value, t as i64));
        }
        let refusals = live.refusals();
        assert_eq!(refusals.disliked, vec![1, 2, 4]);
        assert_eq!(refusals.hidden, vec![2, 3]);
        assert_eq!(live.disliked(), refusals.disliked);
        assert_eq!(live.not_interested(), refusals.hidden);
        let excluded = live.excluded_with(&refusals);
        assert_eq!(excluded, live.excluded());
        assert!([1, 2, 3, 4].iter().all(|p| excluded.contains(p)));
        assert!(!excluded.contains(&5) && !excluded.contains(&6));
        assert_eq!(live.anchor_with(&refusals), Some((6, Like)));
    }

    #[test]
    fn an_event_already_loaded_from_the_log_is_not_counted_twice() {
        let view = event(1, InteractionKind::View, None, 10);
        let mut live = LiveShopper::default();
        live.push(view);
        live.push(view);
        live.push(event(1, InteractionKind::View, None, 11));
        assert_eq!(live.recently_viewed(5), vec![(1, 11)]);
        assert_eq!(live.events.len(), 2);
    }

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
