//! A shopper's ordered history as serving reads it: their product events, oldest first
//! (the newest 1,000), and the categories they picked at onboarding. From it come the
//! weighted history the models score (time decay, session boost), what was seen, what is
//! refused (disliked, hidden) or excluded (bought), and the anchor of "because you liked".

use std::collections::{HashMap, HashSet, VecDeque};

use crate::strategy::Rules;
use crate::InteractionKind;

use super::Catalog;

/// Product events kept per shopper (the newest).
pub const MAX_EVENTS: usize = 1_000;

/// One product event of a shopper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShopperEvent {
    /// The product.
    pub product_id: i64,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub at_ms: i64,
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

/// One shopper's history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    events: VecDeque<ShopperEvent>,
    interests: Vec<i64>,
}

impl History {
    /// The history of `events` (oldest first; only the newest [`MAX_EVENTS`] are kept)
    /// and onboarding interests (category ids).
    pub fn new(events: impl IntoIterator<Item = ShopperEvent>, interests: Vec<i64>) -> Self {
        let mut events: VecDeque<ShopperEvent> = events.into_iter().collect();
        while events.len() > MAX_EVENTS {
            events.pop_front();
        }
        Self { events, interests }
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &ShopperEvent> + '_ {
        self.events.iter()
    }

    /// Whether nothing is known of the shopper: no events, no onboarding interests.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.interests.is_empty()
    }

    /// Adds an event, unless the same event (product, kind, value, time) is already there
    /// (a state loaded from the log after the event was written holds it). Says whether
    /// it was added.
    pub fn push(&mut self, event: ShopperEvent) -> bool {
        if self
            .events
            .iter()
            .rev()
            .take_while(|e| e.at_ms >= event.at_ms)
            .any(|e| *e == event)
        {
            return false;
        }
        self.events.push_back(event);
        if self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        true
    }

    /// Withdraws the shopper's like or dislike of a product (their opinion is gone; the
    /// log keeps the history).
    pub fn clear_opinion(&mut self, product_id: i64) {
        self.events.retain(|e| {
            !(e.product_id == product_id
                && matches!(e.kind, InteractionKind::Like | InteractionKind::Dislike))
        });
    }

    /// Replaces the onboarding interests.
    pub fn set_interests(&mut self, categories: Vec<i64>) {
        self.interests = categories;
    }

    /// Onboarding interests (category ids).
    pub fn interests(&self) -> &[i64] {
        &self.interests
    }

    /// Whether the shopper has no product event yet.
    pub fn is_new(&self) -> bool {
        self.events.is_empty()
    }

    /// The weighted history the models score: per known product, the sum of its events' weights,
    /// each halved every `half_life_days` before the newest event and multiplied by
    /// `session_boost` when within `session_minutes` of it. Only positive sums: dislikes
    /// act through exclusions and demotion instead (a negative weight is not something
    /// every model can take). Ordered by each product's latest event, oldest first, so
    /// sequence models read the order of the clicks.
    pub fn weighted(&self, catalog: &Catalog, rules: &Rules) -> Vec<(u32, f32)> {
        self.weighted_with(catalog, rules, &self.refusals())
    }

    /// [`weighted`](Self::weighted) with the refusals already known.
    pub fn weighted_with(
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
        // Per item: summed weight and the position of its latest event.
        let mut sums: HashMap<u32, (f32, usize)> = HashMap::new();
        for (position, e) in self.events.iter().enumerate() {
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
            let entry = sums.entry(item).or_default();
            entry.0 += weight;
            entry.1 = position;
        }
        let mut history: Vec<(u32, f32, usize)> = sums
            .into_iter()
            .filter(|(_, (w, _))| *w > 0.0)
            .map(|(item, (w, last))| (item, w, last))
            .collect();
        history.sort_unstable_by_key(|&(_, _, last)| last);
        history.into_iter().map(|(item, w, _)| (item, w)).collect()
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        product_id: i64,
        kind: InteractionKind,
        value: Option<f32>,
        at_ms: i64,
    ) -> ShopperEvent {
        ShopperEvent {
            product_id,
            kind,
            value,
            at_ms,
        }
    }

    #[test]
    fn dislikes_purchases_and_withdrawn_opinions() {
        let mut live = History::default();
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
        let mut live = History::default();
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
        let mut live = History::default();
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
        let mut live = History::default();
        live.push(view);
        live.push(view);
        live.push(event(1, InteractionKind::View, None, 11));
        assert_eq!(live.recently_viewed(5), vec![(1, 11)]);
        assert_eq!(live.events.len(), 2);
    }

    #[test]
    fn weights_decay_with_age_and_the_session_counts_more() {
        use super::super::catalog::tests::catalog;
        let catalog = catalog(&[(1, "A", 1), (2, "A", 1), (3, "B", 1), (4, "B", 1)]);
        let rules = Rules {
            half_life_days: 1.0,
            session_minutes: 30,
            session_boost: 2.0,
            ..Rules::default()
        };
        let day = 86_400_000;
        let mut history = History::default();
        history.push(event(1, InteractionKind::View, None, 0));
        history.push(event(2, InteractionKind::View, None, day));
        history.push(event(3, InteractionKind::Dislike, None, day));
        history.push(event(4, InteractionKind::View, None, day));
        history.push(event(4, InteractionKind::NotInterested, None, day));
        history.push(event(99, InteractionKind::Like, None, day));
        let weighted = history.weighted(&catalog, &rules);
        let view = InteractionKind::View.default_weight(None);
        // Item 0 is a day (one half-life) older than the newest event and outside the
        // session; item 1 is in the session. Dislikes, hidden and unknown products are
        // no seed.
        assert_eq!(weighted.len(), 2, "{weighted:?}");
        assert_eq!(weighted[0].0, 0);
        assert!((weighted[0].1 - view * 0.5).abs() < 1e-6, "{weighted:?}");
        assert_eq!(weighted[1].0, 1);
        assert!((weighted[1].1 - view * 2.0).abs() < 1e-6, "{weighted:?}");
    }
}
