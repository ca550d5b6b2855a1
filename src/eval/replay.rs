//! Offline replay of the ranking shoppers get: a shop's event log is cut at a time (the
//! latest share of events held out), the models are fitted on what came before, and each
//! shopper's list is ranked by the same pipeline that serves it (`crate::serving::rank`,
//! with the strategy's rules and the shopper's ordered history up to the cut). The items
//! they engaged with after the cut, and had not touched before, are the relevant ones.
//!
//! The single models are measured on the same split and the same shoppers through
//! [`super::evaluate`], so a surface's figure and its models' figures sit side by side.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use super::{Report, Split};
use crate::data::{Dataset, Event, IdMap, ItemFeatures};
use crate::demo::DemoShop;
use crate::metrics::{catalogue_coverage, intra_list_diversity, novelty, RankingMetrics};
use crate::models::{CoPurchase, CoPurchaseConfig};
use crate::movielens::Rating;
use crate::recommender::{EngineError, Recommender};
use crate::registry::RegistryError;
use crate::serving::{self, Catalog, CatalogEntry, History, ModelSet, Shopper, ShopperEvent};
use crate::strategy::Strategy;
use crate::InteractionKind;

/// One logged event of a shop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoggedEvent {
    /// The shopper's index (`0..ShopLog::shoppers`).
    pub shopper: u32,
    /// The product's id in the catalogue.
    pub product_id: i64,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// A shop as the replay reads it: its catalogue, each item's features (aligned with the
/// catalogue; empty when there are none) and its event log.
#[derive(Debug, Clone)]
pub struct ShopLog {
    /// The catalogue.
    pub catalog: Catalog,
    /// Per item, its features (or none at all).
    pub features: Vec<ItemFeatures>,
    /// Shoppers (indices of `LoggedEvent::shopper`).
    pub shoppers: usize,
    /// Every product event, in any order.
    pub events: Vec<LoggedEvent>,
}

impl ShopLog {
    /// The generated demo shop: product ids are catalogue positions from 1, shoppers in
    /// the generator's order; searches (about no product) are left out.
    pub fn from_demo(shop: &DemoShop) -> Self {
        let catalog = Catalog::new(shop.products.iter().enumerate().map(|(i, p)| {
            let category = shop.product_category[i];
            CatalogEntry {
                product_id: i as i64 + 1,
                title: p.title.clone(),
                category_id: Some(category as i64),
                path: (!p.category.is_empty()).then(|| p.category.join(" > ")),
                price_minor: p.price_minor,
                in_stock: p.in_stock,
                consumable: shop.categories[category].consumable,
            }
        }));
        let features = shop.dataset().features;
        let product: HashMap<&str, i64> = shop
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.sku.as_str(), i as i64 + 1))
            .collect();
        let shopper: HashMap<&str, u32> = shop
            .shoppers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key.as_str(), i as u32))
            .collect();
        let events = shop
            .events
            .iter()
            .filter(|e| e.kind != InteractionKind::Search)
            .filter_map(|e| {
                Some(LoggedEvent {
                    shopper: *shopper.get(e.user.as_str())?,
                    product_id: *product.get(e.sku.as_str())?,
                    kind: e.kind,
                    value: e.value,
                    at_ms: e.at_ms,
                })
            })
            .collect();
        Self {
            catalog,
            features,
            shoppers: shop.shoppers.len(),
            events,
        }
    }

    /// MovieLens ratings as star-rating events (product id = movie id), with the movies'
    /// features when given (`u.item`). Movies have no categories, prices or stock.
    pub fn from_movielens(ratings: &[Rating], items: Vec<(u32, ItemFeatures)>) -> Self {
        let mut movies: Vec<u32> = ratings.iter().map(|r| r.item).collect();
        movies.extend(items.iter().map(|(id, _)| *id));
        movies.sort_unstable();
        movies.dedup();
        let mut by_movie: HashMap<u32, ItemFeatures> = items.into_iter().collect();
        let has_features = !by_movie.is_empty();
        let features: Vec<ItemFeatures> = if has_features {
            movies
                .iter()
                .map(|m| by_movie.remove(m).unwrap_or_default())
                .collect()
        } else {
            Vec::new()
        };
        let catalog = Catalog::new(movies.iter().enumerate().map(|(i, &m)| {
            CatalogEntry {
                product_id: i64::from(m),
                title: features
                    .get(i)
                    .map_or_else(|| format!("movie {m}"), |f| f.title.clone()),
                category_id: None,
                path: None,
                price_minor: None,
                in_stock: true,
                consumable: false,
            }
        }));
        let mut users: IdMap = IdMap::new();
        let events = ratings
            .iter()
            .map(|r| LoggedEvent {
                shopper: users.get_or_insert(&r.user.to_string()),
                product_id: i64::from(r.item),
                kind: InteractionKind::Rating,
                value: Some(r.stars),
                at_ms: r.time * 1000,
            })
            .collect();
        Self {
            catalog,
            features,
            shoppers: users.len(),
            events,
        }
    }
}

/// A shop's log cut at one time.
#[derive(Debug, Clone)]
pub struct TemporalSplit {
    /// The cut, Unix milliseconds: events before it train, events from it on are held out.
    pub cut_ms: i64,
    /// The training data (every shopper and item, events before the cut) and, per
    /// shopper, the relevant items: engaged with after the cut, never touched before it.
    /// Only shoppers with a history before the cut have any.
    pub split: Split,
    /// Per shopper, their ordered history before the cut.
    pub histories: Vec<History>,
    /// Purchases before the cut, per shopper and day (co-purchase baskets).
    pub baskets: Vec<Vec<u32>>,
}

/// Cuts `log` so that the latest `holdout` share of its events (0 < holdout < 1) comes
/// after the cut.
pub fn temporal_split(log: &ShopLog, holdout: f64) -> TemporalSplit {
    let mut events = log.events.clone();
    // Stable: events at the same time keep their log order.
    events.sort_by_key(|e| e.at_ms);
    let cut_at = ((events.len() as f64) * (1.0 - holdout)).floor() as usize;
    let cut_ms = events
        .get(cut_at.min(events.len().saturating_sub(1)))
        .map_or(0, |e| e.at_ms);
    let (before, after): (Vec<LoggedEvent>, Vec<LoggedEvent>) =
        events.into_iter().partition(|e| e.at_ms < cut_ms);

    let mut users = IdMap::new();
    for u in 0..log.shoppers {
        users.get_or_insert(&u.to_string());
    }
    let mut items = IdMap::new();
    for id in &log.catalog.product_ids {
        items.get_or_insert(&id.to_string());
    }
    let known = |e: &&LoggedEvent| log.catalog.item(e.product_id).is_some();
    let train_events: Vec<Event> = before
        .iter()
        .filter(known)
        .map(|e| Event {
            user: e.shopper.to_string(),
            item: e.product_id.to_string(),
            kind: e.kind,
            value: e.value,
            time: e.at_ms.div_euclid(1000),
        })
        .collect();
    let mut train = Dataset::from_events_with(users, items, &train_events);
    train.features = log.features.clone();

    let mut per_shopper: Vec<Vec<ShopperEvent>> = vec![Vec::new(); log.shoppers];
    let mut touched: Vec<HashSet<i64>> = vec![HashSet::new(); log.shoppers];
    let mut baskets: BTreeMap<(u32, i64), Vec<u32>> = BTreeMap::new();
    for e in before.iter().filter(known) {
        per_shopper[e.shopper as usize].push(ShopperEvent {
            product_id: e.product_id,
            kind: e.kind,
            value: e.value,
            at_ms: e.at_ms,
        });
        touched[e.shopper as usize].insert(e.product_id);
        if e.kind == InteractionKind::Purchase {
            if let Some(item) = log.catalog.item(e.product_id) {
                baskets
                    .entry((e.shopper, e.at_ms.div_euclid(86_400_000)))
                    .or_default()
                    .push(item);
            }
        }
    }
    // Relevant: a positive summed weight after the cut, on a product not touched before.
    let mut later: Vec<HashMap<u32, f32>> = vec![HashMap::new(); log.shoppers];
    for e in after.iter().filter(known) {
        if touched[e.shopper as usize].contains(&e.product_id) {
            continue;
        }
        if let Some(item) = log.catalog.item(e.product_id) {
            *later[e.shopper as usize].entry(item).or_default() += e.kind.default_weight(e.value);
        }
    }
    let test: Vec<Vec<u32>> = later
        .into_iter()
        .enumerate()
        .map(|(u, weights)| {
            if train.user_items(u as u32).0.is_empty() {
                return Vec::new();
            }
            let mut relevant: Vec<u32> = weights
                .into_iter()
                .filter(|&(_, w)| w > 0.0)
                .map(|(item, _)| item)
                .collect();
            relevant.sort_unstable();
            relevant
        })
        .collect();
    TemporalSplit {
        cut_ms,
        split: Split {
            train,
            test,
            candidates: None,
        },
        histories: per_shopper
            .into_iter()
            .map(|events| History::new(events, Vec::new()))
            .collect(),
        baskets: baskets.into_values().collect(),
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A model name or parameter is wrong.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A model could not be fitted.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The strategy has no such surface.
    #[error("no surface named {0:?} in the strategy")]
    UnknownSurface(String),
}

/// The model set serving would have at the cut: `models` (already fitted on
/// `split.split.train`) over the log's catalogue, with co-purchases from the baskets
/// before the cut.
pub fn model_set(
    log: &ShopLog,
    split: &TemporalSplit,
    models: Vec<Box<dyn Recommender>>,
) -> Result<ModelSet, ReplayError> {
    let copurchase = CoPurchase::fit(
        log.catalog.len(),
        &split.baskets,
        CoPurchaseConfig::default(),
    )?;
    Ok(ModelSet {
        catalog: log.catalog.clone(),
        models: models
            .into_iter()
            .map(|m| (m.name().to_string(), m))
            .collect(),
        copurchase,
    })
}

/// The lists `strategy`'s surface `name` gives each shopper with relevant items, per
/// variant whose models are all in `set` (following fallbacks when a list comes out
/// empty, as serving does), measured at `k`. One report per variant, named
/// `surface/variant`.
pub fn replay(
    set: &ModelSet,
    strategy: &Strategy,
    name: &str,
    split: &TemporalSplit,
    k: usize,
) -> Result<Vec<Report>, ReplayError> {
    let surface = strategy
        .surface
        .get(name)
        .ok_or_else(|| ReplayError::UnknownSurface(name.to_string()))?;
    let shoppers: Vec<u32> = (0..split.histories.len() as u32)
        .filter(|&u| !split.split.test[u as usize].is_empty())
        .collect();
    let ready: Vec<&crate::strategy::Variant> = surface
        .variants
        .iter()
        .filter(|v| set.has_all(&v.models))
        .collect();
    // A surface without models (trending, buy again) is one list.
    let variants: Vec<(String, Vec<String>)> = if surface.source.uses_models() {
        ready
            .iter()
            .map(|v| (v.name.clone(), v.models.clone()))
            .collect()
    } else {
        vec![(format!("{:?}", surface.source).to_lowercase(), Vec::new())]
    };
    let train = &split.split.train;
    Ok(variants
        .into_iter()
        .map(|(variant, models)| {
            let results: Vec<(RankingMetrics, Vec<u32>)> = shoppers
                .par_iter()
                .map(|&u| {
                    let shopper = Shopper {
                        history: &split.histories[u as usize],
                        interests: &[],
                        now_ms: split.cut_ms,
                    };
                    let items = served(set, strategy, name, &models, &shopper);
                    let ranked: Vec<u32> =
                        items.iter().filter_map(|p| set.catalog.item(*p)).collect();
                    let relevant: HashSet<u32> =
                        split.split.test[u as usize].iter().copied().collect();
                    (RankingMetrics::of(&ranked, &relevant, k), ranked)
                })
                .collect();
            let (per_user, lists): (Vec<RankingMetrics>, Vec<Vec<u32>>) =
                results.into_iter().unzip();
            Report {
                model: format!("{name}/{variant}"),
                k,
                users: shoppers.len(),
                metrics: RankingMetrics::mean(&per_user),
                coverage: catalogue_coverage(&lists, train.n_items()),
                novelty: novelty(&lists, &train.item_popularity(), train.n_users()),
                diversity: intra_list_diversity(&lists, &train.matrix.transpose_view().to_csr()),
            }
        })
        .collect())
}

/// The products surface `name` shows `shopper` with the variant's `models`: the
/// surface's own list, else its fallbacks' (each with its first ready variant).
fn served(
    set: &ModelSet,
    strategy: &Strategy,
    name: &str,
    models: &[String],
    shopper: &Shopper,
) -> Vec<i64> {
    let request = serving::SurfaceRequest {
        surface: name.to_string(),
        ..serving::SurfaceRequest::default()
    };
    let (mut current, mut models) = (name.to_string(), models.to_vec());
    // A fallback chain is checked to be free of loops; the bound is a second guard.
    for _ in 0..=strategy.surface.len() {
        let surface = &strategy.surface[&current];
        let ranked = serving::rank(set, &strategy.rules, surface, &models, shopper, &request);
        match (&surface.fallback, ranked.items.is_empty()) {
            (Some(next), true) => {
                current = next.clone();
                models = strategy.surface[&current]
                    .variants
                    .iter()
                    .find(|v| set.has_all(&v.models))
                    .map(|v| v.models.clone())
                    .unwrap_or_default();
            }
            _ => return ranked.items.iter().map(|i| i.product_id).collect(),
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{generate, DemoConfig};
    use crate::models::{ItemKnn, ItemKnnConfig, Popularity, Trending, TrendingConfig};

    fn small_shop() -> ShopLog {
        ShopLog::from_demo(&generate(&DemoConfig {
            products: 400,
            shoppers: 300,
            ..DemoConfig::default()
        }))
    }

    #[test]
    fn the_cut_holds_out_the_latest_events_and_only_new_items_are_relevant() {
        let log = small_shop();
        let split = temporal_split(&log, 0.2);
        let after = log
            .events
            .iter()
            .filter(|e| e.at_ms >= split.cut_ms)
            .count();
        let share = after as f64 / log.events.len() as f64;
        assert!((0.15..0.3).contains(&share), "{share}");
        for (u, relevant) in split.split.test.iter().enumerate() {
            let history = &split.histories[u];
            assert!(history.events().all(|e| e.at_ms < split.cut_ms));
            let seen = history.seen();
            for &item in relevant {
                assert!(!seen.contains(&log.catalog.product(item)));
            }
            if !relevant.is_empty() {
                assert!(!history.is_empty());
            }
        }
        assert!(split.split.test.iter().filter(|t| !t.is_empty()).count() > 30);
    }

    #[test]
    fn replaying_for_you_measures_the_served_lists_beside_the_models() {
        let log = small_shop();
        let split = temporal_split(&log, 0.2);
        let mut models: Vec<Box<dyn Recommender>> = vec![
            Box::new(Popularity::new()),
            Box::new(Trending::new(TrendingConfig::default())),
            Box::new(ItemKnn::new(ItemKnnConfig::default())),
        ];
        for m in &mut models {
            m.fit(&split.split.train).unwrap();
        }
        let single = super::super::evaluate(models[2].as_ref(), &split.split, 10);
        let set = model_set(&log, &split, models).unwrap();
        let strategy = Strategy::builtin();
        let reports = replay(&set, &strategy, "for_you", &split, 10).unwrap();
        // Only the item-kNN variant has its models here; blend and two-tower sit out.
        assert_eq!(reports.len(), 1);
        let served = &reports[0];
        assert_eq!(served.model, "for_you/item-knn");
        assert_eq!(served.users, single.users);
        assert!(served.metrics.ndcg > 0.0, "{served:?}");
        // The served list is item-kNN plus rules: far from popularity's, near the model.
        assert!(
            served.metrics.ndcg > 0.5 * single.metrics.ndcg,
            "{served:?} vs {single:?}"
        );
        assert!(matches!(
            replay(&set, &strategy, "nowhere", &split, 10),
            Err(ReplayError::UnknownSurface(_))
        ));
    }
}
