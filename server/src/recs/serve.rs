//! Filling a surface: pick the variant, score from the live state, apply the rules
//! (exclusions, filters, dislike demotion, diversity), and give every item a reason.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, TryLockError};

use curio::rerank::{cap_per_category, mmr};
use curio::strategy::{Assignment, Source, Surface};
use curio::topk::top_k;
use curio::InteractionKind;
use rand::Rng;

use super::live::{LiveShopper, Served};
use super::modelset::ModelSet;
use super::{CachedList, RecService, Slot};
use crate::error::Error;

/// Candidates scored before the rules cut the list down to `k`.
const CANDIDATES: usize = 200;

/// A request for one surface.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecRequest {
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
pub struct RecItem {
    /// The product.
    pub product_id: i64,
    /// The variant's score (its scale is the model's).
    pub score: f32,
    /// One line on why.
    pub reason: String,
}

/// A filled surface.
#[derive(Debug, Clone, PartialEq)]
pub struct RecList {
    /// The surface asked for.
    pub requested: String,
    /// The surface that filled it (a fallback when the asked one had nothing).
    pub surface: String,
    /// The row's heading.
    pub title: String,
    /// The variant that filled it.
    pub variant: String,
    /// This list's id (clicks on it carry it).
    pub request_id: String,
    /// The model version that scored it.
    pub model_version: Option<i64>,
    /// Best first.
    pub items: Vec<RecItem>,
}

/// What the rules need about the shopper, taken once per request.
struct Context {
    history: Vec<(u32, f32)>,
    seen: HashSet<i64>,
    excluded: HashSet<i64>,
    /// Sorted.
    disliked: Vec<i64>,
    anchor: Option<(i64, InteractionKind)>,
    version: u64,
}

impl Context {
    /// Nothing known: for a list that comes whole from the cache.
    fn empty(version: u64) -> Self {
        Self {
            history: Vec::new(),
            seen: HashSet::new(),
            excluded: HashSet::new(),
            disliked: Vec::new(),
            anchor: None,
            version,
        }
    }
}

impl RecService {
    /// Fills `request.surface` for `shopper` (`None`: a visitor with no events yet),
    /// following fallbacks until a surface has items.
    ///
    /// A list already scored for the shopper's current state comes from memory at once.
    /// One that must be scored (after an event, a swap, or for a new request) is scored on
    /// the blocking pool: its milliseconds never hold up the requests served from memory.
    pub async fn recommend(
        self: &Arc<Self>,
        shopper: Option<i64>,
        request: &RecRequest,
    ) -> Result<RecList, Error> {
        if !self.strategy.surface.contains_key(&request.surface) {
            return Err(Error::Command(format!(
                "no surface named {:?} (known: {})",
                request.surface,
                self.strategy
                    .surface
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let slot = match shopper {
            Some(id) => Some(self.slot(id).await?),
            None => None,
        };
        let set = self.current();
        let scoring = slot.as_ref().is_some_and(|slot| match slot.try_lock() {
            Ok(slot) => !self.list_ready(&set, &slot, request),
            Err(TryLockError::Poisoned(slot)) => {
                !self.list_ready(&set, &slot.into_inner(), request)
            }
            // The slot is being scored again after an event, at low priority: wait for it
            // on the blocking pool, never on an async worker that serves everyone.
            Err(TryLockError::WouldBlock) => true,
        });
        if scoring {
            let (this, request) = (self.clone(), request.clone());
            return tokio::task::spawn_blocking(move || {
                this.fill_with_fallbacks(&set, shopper, slot.as_ref(), &request)
            })
            .await
            .map_err(|e| Error::Command(format!("recommendation task failed: {e}")));
        }
        Ok(self.fill_with_fallbacks(&set, shopper, slot.as_ref(), request))
    }

    /// Whether `request`'s surface is answered from memory for this shopper: a
    /// non-personal surface, or a personal list already scored for their current state,
    /// variant and model version.
    fn list_ready(&self, set: &ModelSet, slot: &Slot, request: &RecRequest) -> bool {
        let surface = &self.strategy.surface[&request.surface];
        if surface.source != Source::Personal {
            return true;
        }
        let version = slot.live.version;
        let Some(variant) = slot
            .variants
            .get(&request.surface)
            .and_then(|(v, variant)| (*v == version).then_some(variant))
            .filter(|v| self.variant_ready(set, surface, v))
        else {
            // A shopper with no history falls back to a surface without scoring.
            return slot.live.is_empty();
        };
        let key = cache_key(&request.surface, variant, request);
        slot.cache
            .get(&key)
            .is_some_and(|list| list.live_version == version && list.set_version == set.version)
    }

    /// Scores again, for the shopper's new state, the personal lists last scored for
    /// state `before` (what they are looking at). Nothing is recorded as served: that
    /// happens when a list is asked for.
    pub(super) fn rescore_shown(&self, set: &ModelSet, shopper: i64, slot: &mut Slot, before: u64) {
        // One entry per cache key (surface, variant, request); a shopper keeps one
        // variant per surface between events, so a list is scored once.
        let shown: Vec<(String, RecRequest)> = slot
            .cache
            .values()
            .filter(|list| list.live_version == before)
            .map(|list| (list.surface.clone(), list.request.clone()))
            .collect();
        for (name, request) in shown {
            if let Some(surface) = self.strategy.surface.get(&name) {
                self.fill(
                    set,
                    Some(shopper),
                    Some(&mut *slot),
                    &name,
                    surface,
                    &request,
                    false,
                );
            }
        }
    }

    /// Draws, for the shopper's new state, the variants of the personal lists last
    /// scored for state `before`, before they are scored again on the low-priority pool:
    /// drawing reads the bandit's shared counts under a lock that every request takes,
    /// and a low-priority thread must never hold such a lock (the scheduler may leave it
    /// waiting for the cores while the requests queue behind the lock).
    pub(super) fn draw_shown_variants(
        &self,
        set: &ModelSet,
        shopper: i64,
        slot: &mut Slot,
        before: u64,
    ) {
        let shown: HashSet<String> = slot
            .cache
            .values()
            .filter(|list| list.live_version == before)
            .map(|list| list.surface.clone())
            .collect();
        for name in shown {
            let Some(surface) = self.strategy.surface.get(&name) else {
                continue;
            };
            if let (Some(variant), true) =
                self.variant_for(set, Some(shopper), Some(slot), &name, surface)
            {
                slot.variants.insert(name, (slot.live.version, variant));
            }
        }
    }

    /// The variant that serves surface `name` to this shopper now: the one drawn since
    /// their last event while its models are all loaded, else a new draw. The flag says
    /// whether it was drawn now (to be kept in the slot).
    fn variant_for(
        &self,
        set: &ModelSet,
        shopper: Option<i64>,
        slot: Option<&Slot>,
        name: &str,
        surface: &Surface,
    ) -> (Option<String>, bool) {
        let kept = slot
            .and_then(|s| s.variants.get(name).filter(|(v, _)| *v == s.live.version))
            .map(|(_, variant)| variant)
            .filter(|variant| self.variant_ready(set, surface, variant));
        match kept {
            Some(variant) => (Some(variant.clone()), false),
            None => (self.choose_variant(set, shopper, name, surface), true),
        }
    }

    fn fill_with_fallbacks(
        &self,
        set: &ModelSet,
        shopper: Option<i64>,
        slot: Option<&Arc<std::sync::Mutex<Slot>>>,
        request: &RecRequest,
    ) -> RecList {
        let mut name = request.surface.clone();
        loop {
            let surface = &self.strategy.surface[&name];
            let list = {
                let mut guard = slot
                    .as_ref()
                    .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner));
                self.fill(
                    set,
                    shopper,
                    guard.as_deref_mut(),
                    &name,
                    surface,
                    request,
                    true,
                )
            };
            match (&surface.fallback, list.items.is_empty()) {
                (Some(next), true) => name = next.clone(),
                _ => {
                    let mut list = list;
                    list.requested = request.surface.clone();
                    return list;
                }
            }
        }
    }

    fn fill(
        &self,
        set: &ModelSet,
        shopper: Option<i64>,
        mut slot: Option<&mut Slot>,
        name: &str,
        surface: &Surface,
        request: &RecRequest,
        record: bool,
    ) -> RecList {
        let rules = &self.strategy.rules;
        let empty = LiveShopper::default();
        let live = slot.as_ref().map_or(&empty, |s| &s.live);
        let version = live.version;
        let (variant, drawn) = self.variant_for(set, shopper, slot.as_deref(), name, surface);
        let request_id = format!("r{:016x}", rand::thread_rng().gen::<u64>());
        // The key a personal list is cached under (formatted once per fill). A personal
        // list already scored for this state, variant and model version is served as it
        // is: nothing about the shopper needs working out again.
        let key = match (surface.source, &variant) {
            (Source::Personal, Some(variant)) => Some(cache_key(name, variant, request)),
            _ => None,
        };
        let cached = match (&key, slot.as_ref()) {
            (Some(key), Some(slot)) => slot
                .cache
                .get(key)
                .filter(|list| list.live_version == version && list.set_version == set.version)
                .map(|list| list.items.clone()),
            _ => None,
        };
        let context = match cached {
            Some(_) => Context::empty(version),
            None => {
                let refusals = live.refusals();
                let mut context = Context {
                    history: live.history_with(&set.catalog, rules, &refusals),
                    seen: live.seen(),
                    excluded: live.excluded_with(&refusals),
                    anchor: live.anchor_with(&refusals),
                    disliked: refusals.disliked,
                    version,
                };
                // A new shopper who chose categories at onboarding: the best of those
                // categories stand in for a history.
                if context.history.is_empty() && !live.interests().is_empty() {
                    context.history = self.interest_history(set, live.interests());
                }
                context
            }
        };
        let mut list = RecList {
            requested: request.surface.clone(),
            surface: name.to_string(),
            title: surface.title.clone(),
            variant: variant
                .clone()
                .unwrap_or_else(|| format!("{:?}", surface.source).to_lowercase()),
            request_id: request_id.clone(),
            model_version: set.version,
            items: Vec::new(),
        };
        let allowed = |item: u32, context: &Context| -> bool {
            let catalog = &set.catalog;
            let product = catalog.product_ids[item as usize];
            !context.excluded.contains(&product)
                && (!rules.exclude_out_of_stock || catalog.in_stock[item as usize])
                && request.product != Some(product)
                && !request.cart.contains(&product)
                && request
                    .category
                    .as_deref()
                    .is_none_or(|path| catalog.in_category(item, path))
                && match (
                    catalog.prices[item as usize],
                    request.price_min,
                    request.price_max,
                ) {
                    (None, None, None) => true,
                    (None, _, _) => false,
                    (Some(p), low, high) => {
                        low.is_none_or(|l| p >= l) && high.is_none_or(|h| p <= h)
                    }
                }
        };

        let mut to_cache = None;
        let items: Vec<RecItem> = match surface.source {
            Source::Personal => {
                let Some(variant) = &variant else {
                    return list;
                };
                match cached {
                    Some(items) => items.as_ref().clone(),
                    None if context.history.is_empty() => return list,
                    None => {
                        let models = &self.variant_models(surface, variant);
                        let ranked = self.personal(set, models, &context, &allowed);
                        let chosen = self.diversify(set, surface, &ranked);
                        let picked: Vec<u32> = chosen.iter().map(|&(item, _)| item).collect();
                        let reasons = self.personal_reasons(set, models, live, &context, &picked);
                        let items: Vec<RecItem> = chosen
                            .into_iter()
                            .zip(reasons)
                            .map(|((item, score), reason)| RecItem {
                                product_id: set.catalog.product_ids[item as usize],
                                score,
                                reason,
                            })
                            .collect();
                        to_cache = key.map(|key| (key, Arc::new(items.clone())));
                        items
                    }
                }
            }
            Source::BecauseYouLiked | Source::Similar => {
                let Some(variant) = &variant else {
                    return list;
                };
                let anchor = match surface.source {
                    Source::Similar => request.product.map(|p| (p, InteractionKind::View)),
                    _ => context.anchor,
                };
                let Some((anchor, kind)) = anchor else {
                    return list;
                };
                let Some(anchor_item) = set.catalog.item(anchor) else {
                    return list;
                };
                let title = &set.catalog.titles[anchor_item as usize];
                list.title = surface.title.replace("{item}", title);
                let models = self.variant_models(surface, variant);
                let mut fused = fuse(
                    models
                        .iter()
                        .filter_map(|m| set.models.get(m))
                        .map(|m| m.similar_items(anchor_item, CANDIDATES)),
                );
                let personal = surface.source == Source::BecauseYouLiked;
                fused.retain(|&(item, _)| {
                    allowed(item, &context)
                        && !(personal
                            && context
                                .seen
                                .contains(&set.catalog.product_ids[item as usize]))
                });
                self.demote_dislikes(set, &context, &mut fused);
                let reason = match (surface.source, kind) {
                    (Source::Similar, _) => format!("Similar to {title}"),
                    (_, InteractionKind::Purchase) => format!("Because you bought {title}"),
                    (_, InteractionKind::AddToCart) => format!("Goes with {title} in your cart"),
                    (_, InteractionKind::Rating) => format!("Because you rated {title} highly"),
                    _ => format!("Because you liked {title}"),
                };
                self.diversify(set, surface, &fused)
                    .into_iter()
                    .map(|(item, score)| RecItem {
                        product_id: set.catalog.product_ids[item as usize],
                        score,
                        reason: reason.clone(),
                    })
                    .collect()
            }
            Source::BoughtTogether | Source::CompleteOrder => {
                let basket: Vec<u32> = match surface.source {
                    Source::BoughtTogether => request.product.into_iter().collect(),
                    _ => request.cart.clone(),
                }
                .into_iter()
                .filter_map(|p| set.catalog.item(p))
                .collect();
                if let (Source::BoughtTogether, Some(&item)) = (surface.source, basket.first()) {
                    list.title = surface
                        .title
                        .replace("{item}", &set.catalog.titles[item as usize]);
                }
                let completed = set.copurchase.complete(&basket, CANDIDATES);
                let ranked: Vec<(u32, f32)> = completed
                    .iter()
                    .filter(|(item, _, _)| allowed(*item, &context))
                    .map(|&(item, lift, _)| (item, lift))
                    .collect();
                let because: std::collections::HashMap<u32, u32> = completed
                    .iter()
                    .map(|&(item, _, with)| (item, with))
                    .collect();
                self.diversify(set, surface, &ranked)
                    .into_iter()
                    .map(|(item, lift)| RecItem {
                        product_id: set.catalog.product_ids[item as usize],
                        score: lift,
                        reason: format!(
                            "Often bought with {}",
                            set.catalog.titles[because[&item] as usize]
                        ),
                    })
                    .collect()
            }
            Source::Trending | Source::Onboarding => {
                let Some(trending) = set
                    .models
                    .get("trending")
                    .or_else(|| set.models.get("popularity"))
                else {
                    return list;
                };
                let mut scores = vec![0.0f32; set.catalog.len()];
                trending.score_history(&[], &mut scores);
                let ranked = top_k(&scores, CANDIDATES.max(set.catalog.len() / 10), |item| {
                    !allowed(item, &context) || scores[item as usize] <= 0.0
                });
                let ranked = if surface.source == Source::Onboarding {
                    // One from each department in turn: a picker shows the whole shop.
                    round_robin_by_department(set, &ranked, surface.k)
                } else {
                    self.diversify(set, surface, &ranked)
                };
                ranked
                    .into_iter()
                    .map(|(item, score)| RecItem {
                        product_id: set.catalog.product_ids[item as usize],
                        score,
                        reason: match &set.catalog.category_names[item as usize] {
                            Some(category) => format!("Popular in {category} this week"),
                            None => "Popular this week".to_string(),
                        },
                    })
                    .collect()
            }
            Source::RecentlyViewed => live
                .recently_viewed(surface.k)
                .into_iter()
                .filter(|(p, _)| request.product != Some(*p))
                .map(|(product_id, at_ms)| RecItem {
                    product_id,
                    score: 0.0,
                    reason: format!("You viewed this {}", ago(at_ms)),
                })
                .collect(),
            Source::BuyAgain => live
                .purchases()
                .into_iter()
                .filter(|(p, _, _)| {
                    set.catalog
                        .item(*p)
                        .is_some_and(|item| set.catalog.consumable[item as usize])
                        && !context.disliked.contains(p)
                })
                .take(surface.k)
                .map(|(product_id, times, at_ms)| RecItem {
                    product_id,
                    score: times as f32,
                    reason: if times > 1 {
                        format!("You bought this {times} times, last {}", ago(at_ms))
                    } else {
                        format!("You bought this {}", ago(at_ms))
                    },
                })
                .collect(),
        };
        list.items = items;
        list.items.truncate(surface.k);
        if let (Some(slot), Some(variant), true) = (slot.as_mut(), &variant, drawn) {
            slot.variants
                .insert(name.to_string(), (context.version, variant.clone()));
        }
        if let (Some(slot), Some((key, items))) = (slot.as_mut(), to_cache) {
            if slot.cache.len() >= 32 {
                slot.cache.clear();
            }
            slot.cache.insert(
                key,
                CachedList {
                    live_version: context.version,
                    set_version: set.version,
                    items,
                    surface: name.to_string(),
                    request: request.clone(),
                },
            );
        }
        if record && !list.items.is_empty() {
            if let Some(slot) = slot.as_mut() {
                let (surface, variant, request_id): (Arc<str>, Arc<str>, Arc<str>) = (
                    name.into(),
                    list.variant.as_str().into(),
                    request_id.as_str().into(),
                );
                slot.live.remember_served(list.items.iter().map(|i| Served {
                    product_id: i.product_id,
                    surface: surface.clone(),
                    variant: variant.clone(),
                    request_id: request_id.clone(),
                }));
            }
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            if surface.variants.len() > 1 {
                book.add(name, &list.variant, 1, 0.0);
            }
            // The live counts take only lists an engagement can be traced back to: those
            // shown to a known shopper (a visitor is one from their first event).
            if slot.is_some() {
                book.count(name, &list.variant, super::Counted::Impression);
            }
            book.served
                .extend(list.items.iter().map(|item| item.product_id));
        }
        list
    }

    /// The variant for this shopper: among those whose models are all loaded, by the
    /// surface's assignment rule.
    fn choose_variant(
        &self,
        set: &ModelSet,
        shopper: Option<i64>,
        name: &str,
        surface: &Surface,
    ) -> Option<String> {
        let ready: Vec<&str> = surface
            .variants
            .iter()
            .filter(|v| v.models.iter().all(|m| set.models.contains_key(m)))
            .map(|v| v.name.as_str())
            .collect();
        if ready.len() <= 1 {
            return ready.first().map(|v| v.to_string());
        }
        let index = match surface.assignment {
            Assignment::First => 0,
            Assignment::Ab => match shopper {
                Some(id) => curio::bandit::assign(name, &id.to_string(), ready.len()),
                None => 0,
            },
            Assignment::Bandit => {
                let book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
                book.bandit(name, &ready, surface.exploration)
                    .choose(&mut rand::thread_rng())
            }
        };
        ready.get(index).map(|v| v.to_string())
    }

    fn variant_ready(&self, set: &ModelSet, surface: &Surface, variant: &str) -> bool {
        surface
            .variants
            .iter()
            .any(|v| v.name == variant && v.models.iter().all(|m| set.models.contains_key(m)))
    }

    fn variant_models(&self, surface: &Surface, variant: &str) -> Vec<String> {
        surface
            .variants
            .iter()
            .find(|v| v.name == variant)
            .map(|v| v.models.clone())
            .unwrap_or_default()
    }

    /// Personal scores: each model's top candidates over the live history, fused, then
    /// the rules.
    fn personal(
        &self,
        set: &ModelSet,
        models: &[String],
        context: &Context,
        allowed: &dyn Fn(u32, &Context) -> bool,
    ) -> Vec<(u32, f32)> {
        let n = set.catalog.len();
        let mut scores = vec![0.0f32; n];
        let lists = models
            .iter()
            .filter_map(|m| set.models.get(m))
            .map(|model| {
                scores.iter_mut().for_each(|s| *s = 0.0);
                model.score_history(&context.history, &mut scores);
                top_k(&scores, CANDIDATES, |item| {
                    let product = set.catalog.product_ids[item as usize];
                    context.seen.contains(&product)
                        || !allowed(item, context)
                        || !scores[item as usize].is_finite()
                })
            });
        let lists: Vec<Vec<(u32, f32)>> = lists.collect();
        let mut fused = fuse(lists.into_iter());
        self.demote_dislikes(set, context, &mut fused);
        fused
    }

    /// Near-duplicates of disliked products lose relevance in proportion to their
    /// similarity (content similarity when the content model is loaded, else the first
    /// model that knows similar items), then the list is re-sorted.
    fn demote_dislikes(&self, set: &ModelSet, context: &Context, ranked: &mut [(u32, f32)]) {
        let rules = &self.strategy.rules;
        if context.disliked.is_empty() || rules.dislike_demotion == 0.0 || ranked.is_empty() {
            return;
        }
        let Some(similar) = set
            .models
            .get("content")
            .or_else(|| set.models.get("item-knn"))
        else {
            return;
        };
        let mut penalty: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
        for &product in &context.disliked {
            let Some(item) = set.catalog.item(product) else {
                continue;
            };
            for (other, sim) in similar.similar_items(item, 100) {
                if sim >= rules.near_duplicate {
                    let p = penalty.entry(other).or_default();
                    *p = p.max(sim.min(1.0));
                }
            }
        }
        if penalty.is_empty() {
            return;
        }
        let (lo, hi) = ranked
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r.1), hi.max(r.1))
            });
        let span = (hi - lo).max(f32::MIN_POSITIVE);
        for entry in ranked.iter_mut() {
            if let Some(&p) = penalty.get(&entry.0) {
                // Relevance in [0, 1], minus the demotion, back to the list's scale.
                let relevance = (entry.1 - lo) / span - rules.dislike_demotion * p;
                entry.1 = lo + relevance * span;
            }
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }

    fn diversify(
        &self,
        set: &ModelSet,
        surface: &Surface,
        ranked: &[(u32, f32)],
    ) -> Vec<(u32, f32)> {
        let k = surface.k;
        let mut out = match surface.diversity.mmr {
            Some(lambda) => mmr(&ranked[..ranked.len().min(k * 5)], k * 2, lambda, |a, b| {
                same_category(set, a, b)
            }),
            None => ranked.to_vec(),
        };
        if let Some(cap) = surface.diversity.per_category {
            out = cap_per_category(&out, k, cap, |item| {
                set.catalog.categories[item as usize].map(|c| c as u32)
            });
        }
        out.truncate(k);
        out
    }

    /// A pseudo-history from onboarding categories: the five most popular products of
    /// each.
    pub(super) fn interest_history(&self, set: &ModelSet, interests: &[i64]) -> Vec<(u32, f32)> {
        let Some(trending) = set
            .models
            .get("trending")
            .or_else(|| set.models.get("popularity"))
        else {
            return Vec::new();
        };
        let categories = self.categories.load();
        let mut scores = vec![0.0f32; set.catalog.len()];
        trending.score_history(&[], &mut scores);
        let mut history = Vec::new();
        for id in interests {
            let Some(path) = categories.get(id) else {
                continue;
            };
            for (item, _) in top_k(&scores, 5, |item| !set.catalog.in_category(item, path)) {
                history.push((item, 1.0));
            }
        }
        history.sort_unstable_by_key(|(item, _)| *item);
        history.dedup_by_key(|(item, _)| *item);
        history
    }

    /// The reasons for personal items: for each, the history product that pushed it up
    /// most (by the first model that names one), else the category it is popular in.
    /// Each model explains the whole list at once.
    fn personal_reasons(
        &self,
        set: &ModelSet,
        models: &[String],
        live: &LiveShopper,
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
                reasons[i] = super::explain::reason(set, live, &explanation);
            }
        }
        reasons
            .into_iter()
            .zip(items)
            .map(|(reason, &item)| reason.unwrap_or_else(|| super::explain::popular_in(set, item)))
            .collect()
    }
}

/// The key of a personal list in the shopper's cache.
fn cache_key(surface: &str, variant: &str, request: &RecRequest) -> String {
    format!("{surface}|{variant}|{request:?}")
}

/// Reciprocal-rank fusion (k = 60) of ranked lists; one list passes through with its own
/// scores.
fn fuse(lists: impl Iterator<Item = Vec<(u32, f32)>>) -> Vec<(u32, f32)> {
    let lists: Vec<Vec<(u32, f32)>> = lists.collect();
    if lists.len() == 1 {
        return lists.into_iter().next().unwrap_or_default();
    }
    let mut sums: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
    for list in &lists {
        for (rank, &(item, _)) in list.iter().enumerate() {
            *sums.entry(item).or_default() += 1.0 / (60.0 + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(u32, f32)> = sums.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

fn same_category(set: &ModelSet, a: u32, b: u32) -> f32 {
    match (
        set.catalog.categories[a as usize],
        set.catalog.categories[b as usize],
    ) {
        (Some(x), Some(y)) if x == y => 1.0,
        _ => 0.0,
    }
}

fn round_robin_by_department(set: &ModelSet, ranked: &[(u32, f32)], k: usize) -> Vec<(u32, f32)> {
    let department = |item: u32| {
        set.catalog.paths[item as usize]
            .as_deref()
            .map(|p| p.split(" > ").next().unwrap_or(p).to_string())
    };
    let mut queues: Vec<(Option<String>, Vec<(u32, f32)>)> = Vec::new();
    for &(item, score) in ranked {
        let d = department(item);
        match queues.iter_mut().find(|(name, _)| *name == d) {
            Some((_, queue)) => queue.push((item, score)),
            None => queues.push((d, vec![(item, score)])),
        }
    }
    let mut out = Vec::with_capacity(k);
    let mut round = 0;
    while out.len() < k && queues.iter().any(|(_, q)| q.len() > round) {
        for (_, queue) in &queues {
            if let Some(&entry) = queue.get(round) {
                if out.len() < k {
                    out.push(entry);
                }
            }
        }
        round += 1;
    }
    out
}

/// "today", "yesterday", "3 days ago", "on 2026-10-02".
fn ago(at_ms: i64) -> String {
    let now = crate::sessions::unix_millis();
    let days = (now - at_ms).max(0) / 86_400_000;
    match days {
        0 => "today".into(),
        1 => "yesterday".into(),
        2..=30 => format!("{days} days ago"),
        _ => match time::OffsetDateTime::from_unix_timestamp(at_ms / 1000) {
            Ok(t) => format!(
                "on {:04}-{:02}-{:02}",
                t.year(),
                u8::from(t.month()),
                t.day()
            ),
            Err(_) => "a while ago".into(),
        },
    }
}
