//! The ranking shoppers get: given a model set, a shopper's ordered history, a surface of
//! the strategy and the request's context (product on screen, cart, filters), the list
//! of products to show, best first, each with its reason. Pure functions, no I/O: the
//! server calls [`rank`] per request and `curio eval --surface` replays it offline.
//!
//! One step per file, composed in [`rank`]:
//! - [`history`]: the shopper's events, weighted (decay, session boost), refusals;
//! - [`filter`]: exclusions, stock, the product on screen and the cart, filters;
//! - [`sources`]: candidates per source (personal, because you liked, bought together...);
//! - [`fuse`]: one ranking from a variant's models;
//! - [`demote`]: near-duplicates of disliked products fall;
//! - [`diversity`]: MMR, per-category caps, departments in turn;
//! - [`reasons`]: one line per item on why;
//! - [`why`]: what every model would pick, and the shopper's taste (the "why" page).

use std::collections::{BTreeMap, HashSet};

use crate::models::CoPurchase;
use crate::strategy::{Rules, Source, Surface};
use crate::topk::top_k;
use crate::{InteractionKind, Recommender};

mod catalog;
pub mod demote;
pub mod diversity;
mod filter;
pub mod fuse;
mod history;
pub mod reasons;
pub mod sources;
pub mod why;

pub use catalog::{Catalog, CatalogEntry};
pub use filter::Filter;
pub use history::{History, Refusals, ShopperEvent, MAX_EVENTS};

/// What serving scores with: the catalogue as the models index it, the fitted models by
/// registry name, and the co-purchase table.
#[derive(Default)]
pub struct ModelSet {
    /// The catalogue.
    pub catalog: Catalog,
    /// Fitted models by name.
    pub models: BTreeMap<String, Box<dyn Recommender>>,
    /// "Frequently bought together".
    pub copurchase: CoPurchase,
}

impl ModelSet {
    /// The popularity that trending rows and onboarding read: trending when loaded, else
    /// plain popularity.
    pub fn popularity(&self) -> Option<&dyn Recommender> {
        self.models
            .get("trending")
            .or_else(|| self.models.get("popularity"))
            .map(|m| m.as_ref())
    }

    /// Whether every model of `names` is loaded.
    pub fn has_all(&self, names: &[String]) -> bool {
        names.iter().all(|m| self.models.contains_key(m))
    }
}

/// A request for one surface, with its context.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SurfaceRequest {
    /// The surface's name in the strategy.
    pub surface: String,
    /// The product on screen (product-page surfaces).
    pub product: Option<i64>,
    /// The cart's products ("complete your order").
    pub cart: Vec<i64>,
    /// Only products in this category (its path) or below it.
    pub category: Option<String>,
    /// Only products at or above this price (minor units).
    pub price_min: Option<i64>,
    /// Only products at or below this price (minor units).
    pub price_max: Option<i64>,
}

/// One recommended product.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedItem {
    /// The product.
    pub product_id: i64,
    /// Its score (the scale is the source's).
    pub score: f32,
    /// One line on why.
    pub reason: String,
}

/// A ranked surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The row's heading (`{item}` filled in).
    pub title: String,
    /// Best first, at most the surface's `k`.
    pub items: Vec<RankedItem>,
}

/// The shopper a list is for.
#[derive(Debug, Clone, Copy)]
pub struct Shopper<'a> {
    /// Their ordered history (empty for a visitor with no events).
    pub history: &'a History,
    /// The category paths of their onboarding interests.
    pub interests: &'a [String],
    /// Now, in Unix milliseconds ("viewed 3 days ago").
    pub now_ms: i64,
}

/// What the rules need about the shopper, worked out once per list.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The weighted history the models score (item, weight), ordered by each item's
    /// latest event, oldest first; the onboarding interests' best sellers when the
    /// shopper has no event yet.
    pub history: Vec<(u32, f32)>,
    /// Products with any event (not recommended back on personal surfaces).
    pub seen: HashSet<i64>,
    /// Products never to show: bought, disliked now, hidden.
    pub excluded: HashSet<i64>,
    /// Products disliked now, sorted (their near-duplicates are demoted).
    pub disliked: Vec<i64>,
    /// The product of "because you liked", with the event that made it the anchor.
    pub anchor: Option<(i64, InteractionKind)>,
}

impl Context {
    /// The context of `shopper` over `set`'s catalogue.
    pub fn of(set: &ModelSet, rules: &Rules, shopper: &Shopper) -> Self {
        let history = shopper.history;
        let refusals = history.refusals();
        let mut weighted = history.weighted_with(&set.catalog, rules, &refusals);
        // A new shopper who chose categories at onboarding: the best of those categories
        // stand in for a history.
        if weighted.is_empty() && !shopper.interests.is_empty() {
            weighted = interest_history(set, shopper.interests);
        }
        Self {
            history: weighted,
            seen: history.seen(),
            excluded: history.excluded_with(&refusals),
            anchor: history.anchor_with(&refusals),
            disliked: refusals.disliked,
        }
    }
}

/// A pseudo-history from onboarding categories (their paths): the five most popular
/// products of each.
pub fn interest_history(set: &ModelSet, paths: &[String]) -> Vec<(u32, f32)> {
    let Some(popularity) = set.popularity() else {
        return Vec::new();
    };
    let mut scores = vec![0.0f32; set.catalog.len()];
    popularity.score_history(&[], &mut scores);
    let mut history = Vec::new();
    for path in paths {
        for (item, _) in top_k(&scores, 5, |item| !set.catalog.in_category(item, path)) {
            history.push((item, 1.0));
        }
    }
    history.sort_unstable_by_key(|(item, _)| *item);
    history.dedup_by_key(|(item, _)| *item);
    history
}

/// Ranks `surface` for `shopper`: the source's candidates from the variant's `models`
/// (a source that needs models gives nothing without them), the rules, diversity and a
/// reason per item; at most `surface.k` items.
pub fn rank(
    set: &ModelSet,
    rules: &Rules,
    surface: &Surface,
    models: &[String],
    shopper: &Shopper,
    request: &SurfaceRequest,
) -> Ranked {
    let mut ranked = Ranked {
        title: surface.title.clone(),
        items: Vec::new(),
    };
    if surface.source.uses_models() && models.is_empty() {
        return ranked;
    }
    let context = Context::of(set, rules, shopper);
    let filter = Filter::new(&set.catalog, rules, request, &context.excluded);
    ranked.items = match surface.source {
        Source::Personal => {
            sources::personal(set, rules, surface, models, shopper, &context, &filter)
        }
        Source::BecauseYouLiked | Source::Similar => {
            match sources::anchored_on(set, rules, surface, models, &context, &filter, request) {
                Some((title, items)) => {
                    ranked.title = title;
                    items
                }
                None => Vec::new(),
            }
        }
        Source::BoughtTogether | Source::CompleteOrder => {
            let (title, items) = sources::basket(set, surface, &filter, request);
            ranked.title = title;
            items
        }
        Source::Trending | Source::Onboarding => sources::popular(set, surface, &filter),
        Source::RecentlyViewed => sources::recently_viewed(surface, shopper, request),
        Source::BuyAgain => sources::buy_again(set, surface, shopper, &context),
    };
    ranked.items.truncate(surface.k);
    ranked
}

#[cfg(test)]
pub(crate) mod tests;
