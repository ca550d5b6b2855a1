//! "Why am I seeing this?": what every loaded model would recommend to one shopper now,
//! with its scores and reasons, and the taste the shopper's events show.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use curio::recommender::Explanation;
use curio::topk::top_k;
use curio::InteractionKind;

use super::live::LiveShopper;
use super::modelset::ModelSet;
use super::RecService;
use crate::error::Error;

/// What one model would recommend.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPicks {
    /// The model's name.
    pub model: String,
    /// Its holdout NDCG@10 in the serving version, when measured.
    pub ndcg_at_10: Option<f64>,
    /// (product, score on the model's own scale, reason), best first.
    pub items: Vec<(i64, f32, String)>,
}

/// The shopper's taste as their events show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Taste {
    /// Leaf categories by share of the history's weight, largest first.
    pub categories: Vec<(String, f32)>,
    /// Products in the history, by weight: (product, weight, strongest event kind).
    pub products: Vec<(i64, f32, Option<InteractionKind>)>,
    /// Prices (minor units) of the weighted history: (low quartile, median, high quartile).
    pub price_band: Option<(i64, i64, i64)>,
}

impl RecService {
    /// Each model's top `k` for `shopper` now (items they have seen or excluded left
    /// out), and their taste. Scoring runs on the blocking pool.
    pub async fn model_picks(
        self: &Arc<Self>,
        shopper: i64,
        k: usize,
    ) -> Result<(Vec<ModelPicks>, Taste), Error> {
        let slot = self.slot(shopper).await?;
        let set = self.current();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
            let live = &slot.live;
            let mut history = live.history(&set.catalog, &this.strategy.rules);
            if history.is_empty() && !live.interests().is_empty() {
                history = this.interest_history(&set, live.interests());
            }
            let (seen, excluded) = (live.seen(), live.excluded());
            let n = set.catalog.len();
            let picks = set
                .models
                .iter()
                .map(|(name, model)| {
                    let mut scores = vec![0.0f32; n];
                    model.score_history(&history, &mut scores);
                    let top = top_k(&scores, k, |item| {
                        let product = set.catalog.product_ids[item as usize];
                        seen.contains(&product)
                            || excluded.contains(&product)
                            || !set.catalog.in_stock[item as usize]
                            || !scores[item as usize].is_finite()
                    });
                    let items: Vec<u32> = top.iter().map(|&(item, _)| item).collect();
                    let explanations = model.explain_many(&history, &items);
                    ModelPicks {
                        model: name.clone(),
                        ndcg_at_10: set.metrics.get(&format!("{name}.ndcg@10")).copied(),
                        items: top
                            .iter()
                            .zip(explanations)
                            .map(|(&(item, score), explanation)| {
                                let reason = reason(&set, live, &explanation)
                                    .or(explanation.note)
                                    .unwrap_or_else(|| popular_in(&set, item));
                                (set.catalog.product_ids[item as usize], score, reason)
                            })
                            .collect(),
                    }
                })
                .collect();
            (picks, taste(&set, live, &history))
        })
        .await
        .map_err(|e| Error::Command(format!("explaining recommendations failed: {e}")))
    }
}

/// The reason a history item gives for an explained item: "Because you liked X".
pub(super) fn reason(
    set: &ModelSet,
    live: &LiveShopper,
    explanation: &Explanation,
) -> Option<String> {
    let &(because, _) = explanation.because_of.first()?;
    let product = *set.catalog.product_ids.get(because as usize)?;
    let title = &set.catalog.titles[because as usize];
    Some(match live.strongest(product) {
        Some(InteractionKind::Purchase) => format!("Because you bought {title}"),
        Some(InteractionKind::AddToCart) => format!("Goes with {title} in your cart"),
        Some(InteractionKind::Like) => format!("Because you liked {title}"),
        Some(InteractionKind::Rating) => format!("Because you rated {title}"),
        Some(_) => format!("Because you viewed {title}"),
        // A pseudo-history item from onboarding.
        None => match &set.catalog.category_names[because as usize] {
            Some(category) => format!("Picked for your interest in {category}"),
            None => format!("Similar to {title}"),
        },
    })
}

/// The fallback reason: the item's category.
pub(super) fn popular_in(set: &ModelSet, item: u32) -> String {
    match &set.catalog.category_names[item as usize] {
        Some(category) => format!("Popular in {category}"),
        None => "Picked for you".to_string(),
    }
}

fn taste(set: &ModelSet, live: &LiveShopper, history: &[(u32, f32)]) -> Taste {
    let total: f32 = history.iter().map(|&(_, w)| w).sum();
    if total <= 0.0 {
        return Taste::default();
    }
    let mut categories: HashMap<&str, f32> = HashMap::new();
    for &(item, weight) in history {
        if let Some(name) = &set.catalog.category_names[item as usize] {
            *categories.entry(name).or_default() += weight / total;
        }
    }
    let mut categories: Vec<(String, f32)> = categories
        .into_iter()
        .map(|(name, share)| (name.to_string(), share))
        .collect();
    categories.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut products: Vec<(i64, f32, Option<InteractionKind>)> = history
        .iter()
        .map(|&(item, weight)| {
            let product = set.catalog.product_ids[item as usize];
            (product, weight, live.strongest(product))
        })
        .collect();
    products.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    // Weighted quartiles of the prices of the history.
    let mut priced: Vec<(i64, f32)> = history
        .iter()
        .filter_map(|&(item, w)| set.catalog.prices[item as usize].map(|p| (p, w)))
        .collect();
    priced.sort_unstable_by_key(|&(p, _)| p);
    let weight: f32 = priced.iter().map(|&(_, w)| w).sum();
    let quantile = |q: f32| -> Option<i64> {
        let mut seen = 0.0;
        for &(price, w) in &priced {
            seen += w;
            if seen >= q * weight {
                return Some(price);
            }
        }
        priced.last().map(|&(p, _)| p)
    };
    let price_band = match (quantile(0.25), quantile(0.5), quantile(0.75)) {
        (Some(low), Some(mid), Some(high)) => Some((low, mid, high)),
        _ => None,
    };
    Taste {
        categories,
        products,
        price_band,
    }
}
