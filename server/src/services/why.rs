//! The "Why these picks?" page as the shopper sees it: each model's picks as cards with
//! scores and reasons, and their taste (categories, brands, price band, weighted history)
//! in words and money.

use std::collections::HashMap;

use app::shop::model::*;
use curio::InteractionKind;

use crate::recs::{ModelPicks, Taste};

/// History items the dashboard shows (and whose cards it reads).
pub const HISTORY_SHOWN: usize = 60;

/// What a history item's strongest event says the shopper did.
fn action_label(kind: Option<InteractionKind>) -> &'static str {
    match kind {
        Some(InteractionKind::Purchase) => "bought",
        Some(InteractionKind::AddToCart) => "added to cart",
        Some(InteractionKind::Like) => "liked",
        Some(InteractionKind::Rating) => "rated",
        Some(InteractionKind::Click) => "clicked",
        Some(InteractionKind::Dislike) => "disliked",
        Some(InteractionKind::NotInterested) => "marked not interested",
        Some(_) => "viewed",
        None => "picked at onboarding",
    }
}

/// The page from the models' picks and the shopper's taste; `cards` holds every product
/// either names (a product without a card is left out).
pub fn view(picks: Vec<ModelPicks>, taste: Taste, cards: &HashMap<i64, ProductCard>) -> WhyView {
    let models = picks
        .into_iter()
        .map(|p| ModelColumn {
            label: curio::registry::label(&p.model).to_string(),
            items: p
                .items
                .into_iter()
                .filter_map(|(id, score, reason)| {
                    Some(ScoredCard {
                        product: cards.get(&id)?.clone(),
                        score,
                        reason,
                    })
                })
                .collect(),
            model: p.model,
            ndcg_at_10: p.ndcg_at_10,
        })
        .collect();
    let history: Vec<HistoryItem> = taste
        .products
        .iter()
        .take(HISTORY_SHOWN)
        .filter_map(|&(id, weight, kind)| {
            Some(HistoryItem {
                product: cards.get(&id)?.clone(),
                weight,
                action: action_label(kind).to_string(),
            })
        })
        .collect();
    let total: f32 = history.iter().map(|h| h.weight).sum();
    let mut brands: HashMap<String, f32> = HashMap::new();
    for item in &history {
        if let Some(brand) = &item.product.brand {
            *brands.entry(brand.clone()).or_default() += item.weight / total.max(f32::MIN_POSITIVE);
        }
    }
    let mut brands: Vec<(String, f32)> = brands.into_iter().collect();
    brands.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    brands.truncate(8);
    let currency = history
        .iter()
        .find_map(|h| h.product.price.as_ref().map(|p| p.currency.clone()));
    let price_band = taste
        .price_band
        .zip(currency)
        .map(|((low, mid, high), currency)| {
            let money = |minor| Money {
                minor,
                currency: currency.clone(),
            };
            (money(low), money(mid), money(high))
        });
    WhyView {
        models,
        taste: TasteView {
            categories: taste.categories.into_iter().take(8).collect(),
            brands,
            price_band,
            history,
        },
    }
}
