//! "Why am I seeing this?": what every loaded model would recommend to one shopper now,
//! with its scores and reasons, and the taste the shopper's events show.

use std::collections::HashMap;

use crate::topk::top_k;
use crate::InteractionKind;

use super::reasons::{because_of, popular_in};
use super::{Context, ModelSet, Shopper};
use crate::strategy::Rules;

/// What one model would recommend.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPicks {
    /// The model's name.
    pub model: String,
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

/// Each loaded model's top `k` for `shopper` (what they have seen or must not be shown
/// left out, and anything out of stock), each item with its reason, and their taste.
pub fn model_picks(
    set: &ModelSet,
    rules: &Rules,
    shopper: &Shopper,
    k: usize,
) -> (Vec<ModelPicks>, Taste) {
    let context = Context::of(set, rules, shopper);
    let history = &context.history;
    let n = set.catalog.len();
    let picks = set
        .models
        .iter()
        .map(|(name, model)| {
            let mut scores = vec![0.0f32; n];
            model.score_history(history, &mut scores);
            let top = top_k(&scores, k, |item| {
                let product = set.catalog.product(item);
                context.seen.contains(&product)
                    || context.excluded.contains(&product)
                    || !set.catalog.in_stock[item as usize]
                    || !scores[item as usize].is_finite()
            });
            let items: Vec<u32> = top.iter().map(|&(item, _)| item).collect();
            let explanations = model.explain_many(history, &items);
            ModelPicks {
                model: name.clone(),
                items: top
                    .iter()
                    .zip(explanations)
                    .map(|(&(item, score), explanation)| {
                        let reason = because_of(&set.catalog, shopper.history, &explanation)
                            .or(explanation.note)
                            .unwrap_or_else(|| popular_in(&set.catalog, item));
                        (set.catalog.product(item), score, reason)
                    })
                    .collect(),
            }
        })
        .collect();
    (picks, taste(set, shopper, history))
}

/// The shopper's taste from their weighted history: category shares, products by
/// weight, and the weighted quartiles of their prices.
pub fn taste(set: &ModelSet, shopper: &Shopper, history: &[(u32, f32)]) -> Taste {
    let total: f32 = history.iter().map(|&(_, w)| w).sum();
    if total <= 0.0 {
        return Taste::default();
    }
    let catalog = &set.catalog;
    let mut categories: HashMap<&str, f32> = HashMap::new();
    for &(item, weight) in history {
        if let Some(name) = &catalog.category_names[item as usize] {
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
            let product = catalog.product(item);
            (product, weight, shopper.history.strongest(product))
        })
        .collect();
    products.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    // Weighted quartiles of the prices of the history.
    let mut priced: Vec<(i64, f32)> = history
        .iter()
        .filter_map(|&(item, w)| catalog.prices[item as usize].map(|p| (p, w)))
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
