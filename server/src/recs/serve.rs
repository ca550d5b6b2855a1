//! Filling a surface for a shopper: pick the variant, serve a personal list already
//! scored for their state from the slot's cache, else rank it with the engine's
//! pipeline (`curio::serving::rank`), cache it, and record what was served.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, TryLockError};

use curio::serving::{self, RankedItem, Shopper, SurfaceRequest};
use curio::strategy::{Assignment, Source, Surface};
use rand::Rng;

use super::live::{LiveShopper, Served};
use super::modelset::ModelVersion;
use super::{CachedList, RecService, Slot};
use crate::error::Error;

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
    pub items: Vec<RankedItem>,
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
        request: &SurfaceRequest,
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
    fn list_ready(&self, set: &ModelVersion, slot: &Slot, request: &SurfaceRequest) -> bool {
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
    pub(super) fn rescore_shown(
        &self,
        set: &ModelVersion,
        shopper: i64,
        slot: &mut Slot,
        before: u64,
    ) {
        // One entry per cache key (surface, variant, request); a shopper keeps one
        // variant per surface between events, so a list is scored once.
        let shown: Vec<(String, SurfaceRequest)> = slot
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
        set: &ModelVersion,
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
        set: &ModelVersion,
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
        set: &ModelVersion,
        shopper: Option<i64>,
        slot: Option<&Arc<std::sync::Mutex<Slot>>>,
        request: &SurfaceRequest,
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

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &self,
        set: &ModelVersion,
        shopper: Option<i64>,
        mut slot: Option<&mut Slot>,
        name: &str,
        surface: &Surface,
        request: &SurfaceRequest,
        record: bool,
    ) -> RecList {
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
        let mut to_cache = None;
        let (title, items) = match cached {
            Some(items) => (surface.title.clone(), items.as_ref().clone()),
            None => {
                let models = variant
                    .as_deref()
                    .map(|v| variant_models(surface, v))
                    .unwrap_or_default();
                let interests = self.interest_paths(live);
                let who = Shopper {
                    history: live.history(),
                    interests: &interests,
                    now_ms: crate::clock::unix_millis(),
                };
                let ranked =
                    serving::rank(set, &self.strategy.rules, surface, &models, &who, request);
                if surface.source == Source::Personal {
                    to_cache = key.map(|key| (key, Arc::new(ranked.items.clone())));
                }
                (ranked.title, ranked.items)
            }
        };
        let list = RecList {
            requested: request.surface.clone(),
            surface: name.to_string(),
            title,
            variant: variant
                .clone()
                .unwrap_or_else(|| format!("{:?}", surface.source).to_lowercase()),
            request_id: request_id.clone(),
            model_version: set.version,
            items,
        };
        if let (Some(slot), Some(variant), true) = (slot.as_mut(), &variant, drawn) {
            slot.variants
                .insert(name.to_string(), (version, variant.clone()));
        }
        if let (Some(slot), Some((key, items))) = (slot.as_mut(), to_cache) {
            if slot.cache.len() >= 32 {
                slot.cache.clear();
            }
            slot.cache.insert(
                key,
                CachedList {
                    live_version: version,
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

    /// The category paths of the shopper's onboarding interests.
    pub(super) fn interest_paths(&self, live: &LiveShopper) -> Vec<String> {
        let interests = live.history().interests();
        if interests.is_empty() {
            return Vec::new();
        }
        let categories = self.categories.load();
        interests
            .iter()
            .filter_map(|id| categories.get(id).cloned())
            .collect()
    }

    /// The variant for this shopper: among those whose models are all loaded, by the
    /// surface's assignment rule.
    fn choose_variant(
        &self,
        set: &ModelVersion,
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

    fn variant_ready(&self, set: &ModelVersion, surface: &Surface, variant: &str) -> bool {
        surface
            .variants
            .iter()
            .any(|v| v.name == variant && v.models.iter().all(|m| set.models.contains_key(m)))
    }
}

/// The key of a personal list in the shopper's cache.
fn cache_key(surface: &str, variant: &str, request: &SurfaceRequest) -> String {
    format!("{surface}|{variant}|{request:?}")
}

/// The models of a surface's variant.
fn variant_models(surface: &Surface, variant: &str) -> Vec<String> {
    surface
        .variants
        .iter()
        .find(|v| v.name == variant)
        .map(|v| v.models.clone())
        .unwrap_or_default()
}
