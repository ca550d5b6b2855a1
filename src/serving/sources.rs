//! Where a surface's candidates come from, one function per source: the shopper's
//! history scored by the variant's models (personal), the neighbours of one product
//! (because you liked, similar), co-purchase partners (bought together, complete your
//! order), popularity (trending, onboarding), and the shopper's own past (recently
//! viewed, buy again). Each returns the list best first with a reason per item.

use std::collections::HashMap;

use crate::strategy::{Source, Surface};
use crate::topk::top_k;

use super::demote::demote_dislikes;
use super::diversity::{diversify, round_robin_by_department};
use super::fuse::fuse;
use super::reasons::{ago, anchored, because_of, popular_in};
use super::{Context, Filter, ModelSet, RankedItem, Shopper, SurfaceRequest};
use crate::strategy::Rules;

/// Candidates each model gives before the rules cut the list down to `k`.
pub const CANDIDATES: usize = 200;

fn item(set: &ModelSet, item: u32, score: f32, reason: String) -> RankedItem {
    RankedItem {
        product_id: set.catalog.product(item),
        score,
        reason,
    }
}

/// "For you": each model's top candidates over the weighted history (nothing seen,
/// nothing the filter refuses), fused, dislikes demoted, diversified; each item explained
/// by the first model that names a history item behind it, else by its category.
pub fn personal(
    set: &ModelSet,
    rules: &Rules,
    surface: &Surface,
    models: &[String],
    shopper: &Shopper,
    context: &Context,
    filter: &Filter,
) -> Vec<RankedItem> {
    if context.history.is_empty() {
        return Vec::new();
    }
    let mut scores = vec![0.0f32; set.catalog.len()];
    let lists: Vec<Vec<(u32, f32)>> = models
        .iter()
        .filter_map(|m| set.models.get(m))
        .map(|model| {
            scores.iter_mut().for_each(|s| *s = 0.0);
            model.score_history(&context.history, &mut scores);
            top_k(&scores, CANDIDATES, |item| {
                context.seen.contains(&set.catalog.product(item))
                    || !filter.allows(item)
                    || !scores[item as usize].is_finite()
            })
        })
        .collect();
    let mut fused = fuse(lists);
    demote_dislikes(set, rules, &context.disliked, &mut fused);
    let chosen = diversify(&set.catalog, &surface.diversity, &fused, surface.k);
    let picked: Vec<u32> = chosen.iter().map(|&(item, _)| item).collect();
    let reasons = personal_reasons(set, models, shopper, context, &picked);
    chosen
        .into_iter()
        .zip(reasons)
        .map(|((i, score), reason)| item(set, i, score, reason))
        .collect()
}

/// The reasons for personal items: for each, the history product that pushed it up most
/// (by the first model that names one), else the category it is popular in. Each model
/// explains the whole list at once.
fn personal_reasons(
    set: &ModelSet,
    models: &[String],
    shopper: &Shopper,
    context: &Context,
    items: &[u32],
) -> Vec<String> {
    let mut reasons: Vec<Option<String>> = vec![None; items.len()];
    for model in models.iter().filter_map(|m| set.models.get(m)) {
        let open: Vec<usize> = (0..items.len()).filter(|&i| reasons[i].is_none()).collect();
        if open.is_empty() {
            break;
        }
        let asked: Vec<u32> = open.iter().map(|&i| items[i]).collect();
        let explanations = model.explain_many(&context.history, &asked);
        for (&i, explanation) in open.iter().zip(explanations) {
            reasons[i] = because_of(&set.catalog, shopper.history, &explanation);
        }
    }
    reasons
        .into_iter()
        .zip(items)
        .map(|(reason, &item)| reason.unwrap_or_else(|| popular_in(&set.catalog, item)))
        .collect()
}

/// "Because you liked X" (the shopper's anchor) and "Similar items" (the product on
/// screen): the variant's models' similar items of that product, fused, filtered (a
/// personal list also leaves out what was seen), dislikes demoted, diversified. Returns
/// the title with `{item}` filled in, or `None` without a known anchor.
pub fn anchored_on(
    set: &ModelSet,
    rules: &Rules,
    surface: &Surface,
    models: &[String],
    context: &Context,
    filter: &Filter,
    request: &SurfaceRequest,
) -> Option<(String, Vec<RankedItem>)> {
    let on_screen = surface.source == Source::Similar;
    let (anchor, kind) = match on_screen {
        true => request.product.map(|p| (p, crate::InteractionKind::View))?,
        false => context.anchor?,
    };
    let anchor_item = set.catalog.item(anchor)?;
    let title = &set.catalog.titles[anchor_item as usize];
    let mut fused = fuse(
        models
            .iter()
            .filter_map(|m| set.models.get(m))
            .map(|m| m.similar_items(anchor_item, CANDIDATES))
            .collect(),
    );
    fused.retain(|&(item, _)| {
        filter.allows(item) && (on_screen || !context.seen.contains(&set.catalog.product(item)))
    });
    demote_dislikes(set, rules, &context.disliked, &mut fused);
    let reason = anchored(title, on_screen, kind);
    let items = diversify(&set.catalog, &surface.diversity, &fused, surface.k)
        .into_iter()
        .map(|(i, score)| item(set, i, score, reason.clone()))
        .collect();
    Some((surface.title.replace("{item}", title), items))
}

/// "Frequently bought together" (the product on screen) and "Complete your order" (the
/// cart): co-purchase partners by lift, filtered and diversified, each with the basket
/// product it goes with. Returns the title (with `{item}` filled in) and the items.
pub fn basket(
    set: &ModelSet,
    surface: &Surface,
    filter: &Filter,
    request: &SurfaceRequest,
) -> (String, Vec<RankedItem>) {
    let basket: Vec<u32> = match surface.source {
        Source::BoughtTogether => request.product.into_iter().collect(),
        _ => request.cart.clone(),
    }
    .into_iter()
    .filter_map(|p| set.catalog.item(p))
    .collect();
    let title = match (surface.source, basket.first()) {
        (Source::BoughtTogether, Some(&item)) => surface
            .title
            .replace("{item}", &set.catalog.titles[item as usize]),
        _ => surface.title.clone(),
    };
    let completed = set.copurchase.complete(&basket, CANDIDATES);
    let ranked: Vec<(u32, f32)> = completed
        .iter()
        .filter(|(item, _, _)| filter.allows(*item))
        .map(|&(item, lift, _)| (item, lift))
        .collect();
    let because: HashMap<u32, u32> = completed
        .iter()
        .map(|&(item, _, with)| (item, with))
        .collect();
    let items = diversify(&set.catalog, &surface.diversity, &ranked, surface.k)
        .into_iter()
        .map(|(i, lift)| {
            let reason = format!(
                "Often bought with {}",
                set.catalog.titles[because[&i] as usize]
            );
            item(set, i, lift, reason)
        })
        .collect();
    (title, items)
}

/// "Trending now" and the onboarding picks: time-decayed popularity (plain popularity
/// when no trending model is loaded), filtered; trending is diversified by the surface's
/// rules, onboarding takes one department at a time.
pub fn popular(set: &ModelSet, surface: &Surface, filter: &Filter) -> Vec<RankedItem> {
    let Some(trending) = set.popularity() else {
        return Vec::new();
    };
    let mut scores = vec![0.0f32; set.catalog.len()];
    trending.score_history(&[], &mut scores);
    let ranked = top_k(&scores, CANDIDATES.max(set.catalog.len() / 10), |item| {
        !filter.allows(item) || scores[item as usize] <= 0.0
    });
    let ranked = match surface.source {
        Source::Onboarding => round_robin_by_department(&set.catalog, &ranked, surface.k),
        _ => diversify(&set.catalog, &surface.diversity, &ranked, surface.k),
    };
    ranked
        .into_iter()
        .map(|(i, score)| {
            let reason = match &set.catalog.category_names[i as usize] {
                Some(category) => format!("Popular in {category} this week"),
                None => "Popular this week".to_string(),
            };
            item(set, i, score, reason)
        })
        .collect()
}

/// "Recently viewed": the shopper's views, newest first, without the product on screen.
pub fn recently_viewed(
    surface: &Surface,
    shopper: &Shopper,
    request: &SurfaceRequest,
) -> Vec<RankedItem> {
    shopper
        .history
        .recently_viewed(surface.k)
        .into_iter()
        .filter(|(p, _)| request.product != Some(*p))
        .map(|(product_id, at_ms)| RankedItem {
            product_id,
            score: 0.0,
            reason: format!("You viewed this {}", ago(at_ms, shopper.now_ms)),
        })
        .collect()
}

/// "Buy it again": consumables the shopper bought and does not dislike now, the most
/// recently bought first.
pub fn buy_again(
    set: &ModelSet,
    surface: &Surface,
    shopper: &Shopper,
    context: &Context,
) -> Vec<RankedItem> {
    shopper
        .history
        .purchases()
        .into_iter()
        .filter(|(p, _, _)| {
            set.catalog
                .item(*p)
                .is_some_and(|item| set.catalog.consumable[item as usize])
                && !context.disliked.contains(p)
        })
        .take(surface.k)
        .map(|(product_id, times, at_ms)| RankedItem {
            product_id,
            score: times as f32,
            reason: if times > 1 {
                format!(
                    "You bought this {times} times, last {}",
                    ago(at_ms, shopper.now_ms)
                )
            } else {
                format!("You bought this {}", ago(at_ms, shopper.now_ms))
            },
        })
        .collect()
}
