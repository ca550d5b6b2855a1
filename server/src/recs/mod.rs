//! The live recommendation service: the current model set behind an atomic swap, every
//! shopper's live state in memory, the strategy that says which models fill which
//! surface, the bandit that learns which variant serves better, and the background jobs
//! that retrain, publish and pick up model versions.
//!
//! Nothing here retrains on a request: an event updates the shopper's live state before
//! the call that recorded it answers, and the next list is scored from that state.

mod explain;
pub mod live;
pub mod modelset;
mod refresh;
mod serve;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use curio::bandit::Bandit;
use curio::strategy::{Assignment, Strategy};
use curio::InteractionKind;
use rand::SeedableRng;

pub use curio::serving::why::Taste;
pub use curio::serving::ShopperEvent;
pub use curio::serving::{RankedItem, SurfaceRequest};
pub use explain::ModelPicks;
pub use live::{LiveShopper, Served};
pub use modelset::{ModelVersion, TrainingData};
pub use serve::RecList;

use crate::error::Error;
use crate::store::recs::{NewModelVersion, StrategyStat};
use crate::store::Store;

/// The strategy used unless `--strategy` names another file.
pub const DEFAULT_STRATEGY: &str = curio::strategy::BUILTIN;

/// The model settings used unless `--model-params` names another file: the blender's
/// members leave EASE out (its dense item x item matrix is 140 MB on the default shop).
pub const DEFAULT_PARAMS: &str = r#"
[blend]
members = ["popularity", "item-knn", "user-knn", "als", "bpr", "content"]
"#;

/// The models a node serves unless told otherwise.
pub const DEFAULT_MODELS: &str =
    "popularity,trending,content,item-knn,user-knn,als,bpr,blend,neumf,two-tower";

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct RecsConfig {
    /// Models to train and serve.
    pub models: Vec<String>,
    /// Strategy TOML (the built-in one when `None`).
    pub strategy: Option<PathBuf>,
    /// Model hyper-parameters TOML, as `curio eval --params` (built-in when `None`).
    pub params: Option<PathBuf>,
    /// Retrain this often (`None`: never on a schedule).
    pub retrain_every: Option<Duration>,
    /// Retrain after this many new events (`None`: never on volume).
    pub retrain_after_events: Option<u64>,
    /// Train the full model set in the background after a quick first start.
    pub background: bool,
    /// Check the database for a newer published version this often.
    pub poll_every: Option<Duration>,
    /// Write the bandit's counts this often.
    pub flush_every: Duration,
    /// A new version may be this much worse (relative NDCG@10) and still go live:
    /// holdouts move as the log grows.
    pub tolerance: f64,
    /// Seed of every model's random draws (the same log gives the same models).
    pub seed: u64,
}

impl RecsConfig {
    /// Everything a serving node runs.
    pub fn serving(models: Vec<String>) -> Self {
        Self {
            models,
            strategy: None,
            params: None,
            retrain_every: Some(Duration::from_secs(3_600)),
            retrain_after_events: Some(5_000),
            background: true,
            poll_every: Some(Duration::from_secs(30)),
            flush_every: Duration::from_secs(5),
            tolerance: 0.02,
            seed: 42,
        }
    }

    /// No background work: tests drive training themselves.
    pub fn quiet(models: Vec<String>) -> Self {
        Self {
            retrain_every: None,
            retrain_after_events: None,
            background: false,
            poll_every: None,
            ..Self::serving(models)
        }
    }
}

/// What a retraining did.
#[derive(Debug, Clone, PartialEq)]
pub enum Retrained {
    /// The new version serves now.
    Swapped {
        /// Its id.
        version: i64,
    },
    /// The new version scored worse; the old one keeps serving.
    Rejected {
        /// Its id (kept with metrics, without payload).
        version: i64,
        /// Which model got worse, by how much.
        reason: String,
    },
    /// Another training was running.
    Busy,
}

/// Per surface, the bandit's evidence: totals read from the database plus this node's
/// deltas not yet written.
#[derive(Default)]
struct BanditBook {
    totals: HashMap<(String, String), (i64, f64)>,
    pending: HashMap<(String, String), (i64, f64)>,
    /// Live counts not yet written, per (surface, variant, minute).
    stats: HashMap<(String, String, i64), Counts>,
    /// Products this node has served in a list since it started (catalogue coverage).
    served: HashSet<i64>,
}

/// What happened to a strategy's lists in one minute.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    impressions: i64,
    clicks: i64,
    carts: i64,
    purchases: i64,
}

/// The engagements the insights count per list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    Impression,
    Click,
    Cart,
    Purchase,
}

impl Counted {
    fn of(kind: InteractionKind) -> Option<Self> {
        match kind {
            InteractionKind::Click => Some(Self::Click),
            InteractionKind::AddToCart => Some(Self::Cart),
            InteractionKind::Purchase => Some(Self::Purchase),
            _ => None,
        }
    }
}

impl BanditBook {
    fn bandit(&self, surface: &str, variants: &[&str], floor: f64) -> Bandit {
        let mut bandit = Bandit::new(variants, floor);
        for arm in &mut bandit.arms {
            let key = (surface.to_string(), arm.name.clone());
            for map in [&self.totals, &self.pending] {
                if let Some(&(impressions, rewards)) = map.get(&key) {
                    arm.impressions += impressions.max(0) as u64;
                    arm.rewards += rewards.max(0.0);
                }
            }
        }
        bandit
    }

    fn count(&mut self, surface: &str, variant: &str, what: Counted) {
        let minute = crate::clock::unix_secs() / 60 * 60;
        let counts = self
            .stats
            .entry((surface.to_string(), variant.to_string(), minute))
            .or_default();
        match what {
            Counted::Impression => counts.impressions += 1,
            Counted::Click => counts.clicks += 1,
            Counted::Cart => counts.carts += 1,
            Counted::Purchase => counts.purchases += 1,
        }
    }

    fn add(&mut self, surface: &str, variant: &str, impressions: i64, rewards: f64) {
        let entry = self
            .pending
            .entry((surface.to_string(), variant.to_string()))
            .or_default();
        entry.0 += impressions;
        entry.1 += rewards;
    }
}

/// A shopper's slot: live state plus the lists cached for it.
#[derive(Default)]
struct Slot {
    live: LiveShopper,
    /// Personal lists per cache key, valid for one (live version, model version).
    cache: HashMap<String, CachedList>,
    /// Per surface, the variant drawn for this shopper and the live version it was drawn
    /// at: a shopper keeps their variant until their next event, so reloading a page
    /// shows the same row.
    variants: HashMap<String, (u64, String)>,
}

/// A shopper's slot in the service's map, with when it was last asked for. The time is
/// kept beside the slot, not in it: touching a slot never waits for its lock (held while
/// the shopper's lists are scored again at low priority) with the whole map locked.
struct Held {
    slot: Arc<Mutex<Slot>>,
    touched: u64,
}

/// A personal list scored for one state of the shopper and one model version.
struct CachedList {
    live_version: u64,
    set_version: Option<i64>,
    items: Arc<Vec<RankedItem>>,
    /// The surface and request it answers (to score it again after an event).
    surface: String,
    request: SurfaceRequest,
}

/// Shoppers kept in memory; beyond this the least recently served are dropped (they
/// load again from the log on their next request).
const MAX_LIVE_SHOPPERS: usize = 200_000;

/// The service.
pub struct RecService {
    store: Store,
    config: RecsConfig,
    strategy: Strategy,
    params: toml::Table,
    set: ArcSwap<ModelVersion>,
    categories: ArcSwap<HashMap<i64, String>>,
    shoppers: Mutex<HashMap<i64, Held>>,
    clock: AtomicU64,
    bandit: Mutex<BanditBook>,
    new_events: AtomicU64,
    training: AtomicBool,
}

impl std::fmt::Debug for RecService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.current();
        f.debug_struct("RecService")
            .field("version", &set.version)
            .field("models", &set.model_names())
            .finish_non_exhaustive()
    }
}

impl RecService {
    /// Loads the newest published model version, or trains the quick models when there
    /// is none (the first start), and starts the background jobs `config` asks for.
    pub async fn start(store: Store, config: RecsConfig) -> Result<Arc<Self>, Error> {
        let service = Self::open(store.clone(), config).await?;
        let started = Instant::now();
        if service.current().version.is_none() && !store.catalog_is_empty().await? {
            let quick = curio::registry::quick_among(&service.config.models);
            let outcome = service.train_and_publish(quick, "serve", true).await?;
            tracing::info!(
                ?outcome,
                secs = started.elapsed().as_secs_f64(),
                "first start: quick models trained"
            );
        }
        let background = service.config.background;
        let missing = service
            .config
            .models
            .iter()
            .any(|m| !service.set.load().models.contains_key(m));
        if background && missing && !store.catalog_is_empty().await? {
            let s = service.clone();
            tokio::spawn(async move {
                let models = s.config.models.clone();
                match s.train_and_publish(models, "serve", false).await {
                    Ok(outcome) => tracing::info!(?outcome, "full model set trained"),
                    Err(error) => tracing::warn!(%error, "full training failed"),
                }
            });
        }
        service.spawn_jobs();
        Ok(service)
    }

    /// The service over the newest published version (or nothing yet), with no
    /// training and no background jobs: what `curio train --publish` works from.
    pub async fn open(store: Store, config: RecsConfig) -> Result<Arc<Self>, Error> {
        let strategy_text = match &config.strategy {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                Error::Startup(format!("cannot read the strategy {}: {e}", path.display()))
            })?,
            None => DEFAULT_STRATEGY.to_string(),
        };
        let known: Vec<&str> = curio::registry::names().collect();
        let strategy =
            Strategy::parse(&strategy_text, &known).map_err(|e| Error::Startup(e.to_string()))?;
        for name in &config.models {
            if !known.contains(&name.as_str()) {
                return Err(Error::Startup(format!(
                    "unknown model {name:?} in the served models (known: {})",
                    known.join(", ")
                )));
            }
        }
        let params_text = match &config.params {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                Error::Startup(format!(
                    "cannot read model parameters {}: {e}",
                    path.display()
                ))
            })?,
            None => DEFAULT_PARAMS.to_string(),
        };
        let params: toml::Table = toml::from_str(&params_text)
            .map_err(|e| Error::Startup(format!("model parameters: {e}")))?;

        let service = Arc::new(Self {
            store: store.clone(),
            config,
            strategy,
            params,
            set: ArcSwap::from_pointee(ModelVersion::empty()),
            categories: ArcSwap::from_pointee(HashMap::new()),
            shoppers: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            bandit: Mutex::new(BanditBook::default()),
            new_events: AtomicU64::new(0),
            training: AtomicBool::new(false),
        });
        service.refresh_categories().await?;
        service
            .bandit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .totals = store
            .bandit_arms()
            .await?
            .into_iter()
            .map(|(s, v, i, r)| ((s, v), (i, r)))
            .collect();

        let started = Instant::now();
        if let Some((row, payload)) = store.latest_live_version().await? {
            let id = row.model_version_id;
            let loaded =
                tokio::task::spawn_blocking(move || ModelVersion::from_bytes(&payload, id))
                    .await
                    .map_err(|e| Error::Startup(format!("loading models: {e}")))?;
            match loaded {
                Ok(set) => {
                    tracing::info!(
                        version = id,
                        models = ?set.model_names(),
                        secs = started.elapsed().as_secs_f64(),
                        "model version loaded"
                    );
                    service.set.store(Arc::new(set));
                }
                // Saved by a build whose model format this one no longer reads (an
                // upgrade): serve as on a first start, which trains and publishes anew.
                Err(error) => tracing::warn!(
                    version = id,
                    %error,
                    "the newest model version cannot be read by this build; training anew"
                ),
            }
        }
        Ok(service)
    }

    /// `curio train --publish`: trains the configured models on the database's whole log
    /// and publishes them as a model version, unless they score worse than the version
    /// serving now. Serving nodes pick the new version up within their polling interval.
    pub async fn publish(store: Store, models: Vec<String>) -> Result<Retrained, Error> {
        let service = Self::open(store, RecsConfig::quiet(models.clone())).await?;
        service.train_and_publish(models, "train", false).await
    }

    fn spawn_jobs(self: &Arc<Self>) {
        self.every(Some(self.config.flush_every), |service| async move {
            if let Err(error) = service.flush_bandit().await {
                tracing::warn!(%error, "cannot write the bandit's counts");
            }
        });
        self.every(self.config.retrain_every, |service| async move {
            service.retrain_logged("schedule").await;
        });
        self.every(self.config.poll_every, |service| async move {
            if let Err(error) = service.pick_up_newer().await {
                tracing::warn!(%error, "cannot check for a newer model version");
            }
        });
    }

    /// Runs `job` every `period` (first after one period) for as long as the service
    /// lives; nothing when `period` is `None`.
    fn every<F, Fut>(self: &Arc<Self>, period: Option<Duration>, job: F)
    where
        F: Fn(Arc<Self>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let Some(period) = period else { return };
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(service) = weak.upgrade() else { break };
                job(service).await;
            }
        });
    }

    async fn retrain_logged(&self, why: &str) {
        let models = self.config.models.clone();
        match self.train_and_publish(models, "serve", false).await {
            Ok(outcome) => tracing::info!(why, ?outcome, "retrained"),
            Err(error) => tracing::warn!(why, %error, "retraining failed"),
        }
    }

    async fn refresh_categories(&self) -> Result<(), Error> {
        let map = self
            .store
            .categories()
            .await?
            .into_iter()
            .map(|c| (c.category_id, c.path))
            .collect();
        self.categories.store(Arc::new(map));
        Ok(())
    }

    /// The model set serving now.
    pub fn current(&self) -> Arc<ModelVersion> {
        self.set.load_full()
    }

    /// The strategy in force.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// Trains `models` on the whole log in a blocking task, compares the result with the
    /// serving set on the holdout NDCG@10 of each model that serves a strategy variant
    /// (within `tolerance`), stores the version (live or
    /// rejected) and swaps it in when live. `force` skips the comparison (first start).
    pub async fn train_and_publish(
        &self,
        models: Vec<String>,
        origin: &'static str,
        force: bool,
    ) -> Result<Retrained, Error> {
        if self.training.swap(true, Ordering::SeqCst) {
            return Ok(Retrained::Busy);
        }
        let result = self.train_and_publish_inner(models, origin, force).await;
        self.training.store(false, Ordering::SeqCst);
        result
    }

    async fn train_and_publish_inner(
        &self,
        models: Vec<String>,
        origin: &'static str,
        force: bool,
    ) -> Result<Retrained, Error> {
        self.new_events.store(0, Ordering::SeqCst);
        let products = self.store.training_products().await?;
        let (events, baskets) = self.store.training_events().await?;
        let data = TrainingData {
            products,
            events,
            baskets,
        };
        let params = self.params.clone();
        let seed = self.config.seed;
        let attribute = self.strategy.rules.consumable_attribute.clone();
        // Below the priority of requests and of re-scoring after events: a retrain
        // under load takes what they leave.
        let (set, bytes) = refresh::train(move || {
            let set = ModelVersion::train(&data, &models, &params, seed, &attribute)?;
            let bytes = set.to_bytes()?;
            Ok::<_, String>((set, bytes))
        })
        .await?
        .map_err(Error::Command)?;

        let current = self.current();
        let verdict = if force || current.models.is_empty() {
            Ok(())
        } else {
            set.not_worse_than(&current, self.config.tolerance, &self.strategy.models())
        };
        let mut version = NewModelVersion {
            trained_events: set.trained_events,
            trained_until: set.trained_until,
            models: set.model_names(),
            metrics: set.metrics.clone(),
            live: verdict.is_ok(),
            origin,
            seconds: set.seconds,
            payload: None,
            curves: set.curves.clone(),
        };
        if verdict.is_ok() {
            version.payload = Some(bytes);
        }
        let id = self.store.insert_model_version(&version).await?;
        match verdict {
            Ok(()) => {
                let mut set = set;
                set.version = Some(id);
                self.set.store(Arc::new(set));
                self.refresh_categories().await?;
                self.store.prune_model_payloads(3).await?;
                Ok(Retrained::Swapped { version: id })
            }
            Err(reason) => {
                tracing::warn!(version = id, %reason, "new model version rejected");
                Ok(Retrained::Rejected {
                    version: id,
                    reason,
                })
            }
        }
    }

    /// Swaps in a newer live version another process published (`curio train
    /// --publish`, another node). Returns whether it did.
    pub async fn pick_up_newer(&self) -> Result<bool, Error> {
        let serving = self.current().version;
        let newest = self.store.latest_live_version_id().await?;
        if newest.is_none() || newest <= serving {
            return Ok(false);
        }
        let Some((row, payload)) = self.store.latest_live_version().await? else {
            return Ok(false);
        };
        let id = row.model_version_id;
        let set = tokio::task::spawn_blocking(move || ModelVersion::from_bytes(&payload, id))
            .await
            .map_err(|e| Error::Command(format!("loading models: {e}")))?
            .map_err(Error::Command)?;
        let set = Arc::new(set);
        let previous = self.set.rcu(|current| {
            if current.version >= Some(id) {
                current.clone()
            } else {
                set.clone()
            }
        });
        if previous.version >= Some(id) {
            return Ok(false);
        }
        self.refresh_categories().await?;
        tracing::info!(version = id, "picked up a newer model version");
        Ok(true)
    }

    /// The shopper's slot, loading their history from the log on first use.
    async fn slot(&self, shopper: i64) -> Result<Arc<Mutex<Slot>>, Error> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        if let Some(held) = self
            .shoppers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&shopper)
        {
            held.touched = tick;
            return Ok(held.slot.clone());
        }
        let events = self.store.shopper_history(shopper).await?;
        let interests = self.store.interests(shopper).await?;
        let slot = Arc::new(Mutex::new(Slot {
            live: LiveShopper::from_log(&events, interests),
            cache: HashMap::new(),
            variants: HashMap::new(),
        }));
        let mut shoppers = self.shoppers.lock().unwrap_or_else(PoisonError::into_inner);
        if shoppers.len() >= MAX_LIVE_SHOPPERS {
            evict(&mut shoppers);
        }
        // Another request may have loaded it meanwhile: theirs may hold newer events.
        Ok(shoppers
            .entry(shopper)
            .or_insert(Held {
                slot,
                touched: tick,
            })
            .slot
            .clone())
    }

    /// Records in the shopper's live state an event already durable in the log, and
    /// credits the variant that served the product. Called before the event's request
    /// answers, so the next recommendation reflects it.
    pub async fn observe(
        self: &Arc<Self>,
        shopper: i64,
        product_id: i64,
        kind: InteractionKind,
        value: Option<f32>,
        at_ms: i64,
    ) -> Result<(), Error> {
        let event = ShopperEvent {
            product_id,
            kind,
            value,
            at_ms,
        };
        self.observe_all(shopper, &[event]).await
    }

    /// [`observe`](Self::observe) for the events of one request (a product page's click
    /// and view): the lists on the shopper's screen are scored again once, not per event.
    pub async fn observe_all(
        self: &Arc<Self>,
        shopper: i64,
        events: &[ShopperEvent],
    ) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        let slot = self.slot(shopper).await?;
        let (this, set, owned) = (self.clone(), self.current(), events.to_vec());
        let (engagements, shown) = with_slot(&slot, move |slot| {
            let before = slot.live.version;
            let mut engagements = Vec::new();
            for event in owned {
                // A state just loaded from the log may hold this event already: `push`
                // skips an identical one.
                slot.live.push(event.clone());
                let counted = Counted::of(event.kind).and_then(|what| {
                    slot.live
                        .attributed(event.product_id)
                        .map(|(surface, variant)| (surface.to_string(), variant.to_string(), what))
                });
                let credit = slot.live.credit(event.product_id, event.kind, event.value);
                engagements.push((credit, counted));
            }
            let changed = slot.live.version != before;
            let shown = changed && slot.cache.values().any(|list| list.live_version == before);
            if shown {
                this.draw_shown_variants(&set, shopper, slot, before);
            }
            (engagements, shown.then_some(before))
        })
        .await?;
        // The personal lists the shopper is looking at are scored again now, so the
        // event's own request pays for it and their next list comes from memory.
        if let Some(before) = shown {
            let (this, set, slot) = (self.clone(), self.current(), slot.clone());
            refresh::run(move || {
                let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                this.rescore_shown(&set, shopper, &mut slot, before);
            })
            .await?;
        }
        if engagements.iter().any(|(c, n)| c.is_some() || n.is_some()) {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            for (credit, counted) in engagements {
                if let Some((surface, variant, reward)) = credit {
                    book.add(&surface, &variant, 0, reward);
                }
                if let Some((surface, variant, what)) = counted {
                    book.count(&surface, &variant, what);
                }
            }
        }
        let count = self
            .new_events
            .fetch_add(events.len() as u64, Ordering::SeqCst)
            + events.len() as u64;
        if let Some(limit) = self.config.retrain_after_events {
            if count >= limit && !self.training.load(Ordering::SeqCst) {
                self.new_events.store(0, Ordering::SeqCst);
                let service = self.clone();
                tokio::spawn(async move { service.retrain_logged("events").await });
            }
        }
        Ok(())
    }

    /// Drops a shopper's live state; it reloads from the log on their next request (after
    /// their history moved, as when a visitor logs in).
    pub fn forget(&self, shopper: i64) {
        self.shoppers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&shopper);
    }

    /// The shopper withdrew their like or dislike of a product.
    pub async fn forget_opinion(&self, shopper: i64, product_id: i64) -> Result<(), Error> {
        let slot = self.slot(shopper).await?;
        with_slot(&slot, move |slot| slot.live.clear_opinion(product_id)).await
    }

    /// Onboarding: the shopper's chosen categories (durable) shape their lists at once.
    pub async fn set_interests(&self, shopper: i64, categories: Vec<i64>) -> Result<(), Error> {
        self.store.set_interests(shopper, &categories).await?;
        let slot = self.slot(shopper).await?;
        with_slot(&slot, move |slot| slot.live.set_interests(categories)).await
    }

    /// Writes this node's bandit deltas; on success, reloads the totals every node wrote.
    pub async fn flush_bandit(&self) -> Result<(), Error> {
        let (pending, stats) = {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            (
                std::mem::take(&mut book.pending),
                std::mem::take(&mut book.stats),
            )
        };
        if !stats.is_empty() {
            let deltas: Vec<StrategyStat> = stats
                .iter()
                .map(|((surface, variant, minute), c)| StrategyStat {
                    surface: surface.clone(),
                    variant: variant.clone(),
                    bucket: *minute,
                    impressions: c.impressions,
                    clicks: c.clicks,
                    carts: c.carts,
                    purchases: c.purchases,
                })
                .collect();
            if let Err(error) = self.store.add_strategy_stats(&deltas).await {
                let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
                for (key, c) in stats {
                    let entry = book.stats.entry(key).or_default();
                    entry.impressions += c.impressions;
                    entry.clicks += c.clicks;
                    entry.carts += c.carts;
                    entry.purchases += c.purchases;
                }
                for ((s, v), (i, r)) in pending {
                    book.add(&s, &v, i, r);
                }
                return Err(error);
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let deltas: Vec<(String, String, i64, f64)> = pending
            .iter()
            .map(|((s, v), (i, r))| (s.clone(), v.clone(), *i, *r))
            .collect();
        if let Err(error) = self.store.add_bandit_counts(&deltas).await {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            for ((s, v), (i, r)) in pending {
                book.add(&s, &v, i, r);
            }
            return Err(error);
        }
        let totals = self.store.bandit_arms().await?;
        self.bandit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .totals = totals
            .into_iter()
            .map(|(s, v, i, r)| ((s, v), (i, r)))
            .collect();
        Ok(())
    }

    /// Per surface with more than one variant, each variant's share of traffic now (the
    /// bandit's Thompson draws with the exploration floor, the A/B split, or all to the
    /// first), with its evidence: (surface, [(variant, share, impressions, rewards)]).
    pub fn traffic_split(&self) -> Vec<(String, Vec<(String, f64, u64, f64)>)> {
        // The evidence under the lock serving shares; the draws after it.
        let bandits: Vec<(&String, &curio::strategy::Surface, Bandit)> = {
            let book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            self.strategy
                .surface
                .iter()
                .filter(|(_, surface)| surface.variants.len() >= 2)
                .map(|(name, surface)| {
                    let names: Vec<&str> =
                        surface.variants.iter().map(|v| v.name.as_str()).collect();
                    (
                        name,
                        surface,
                        book.bandit(name, &names, surface.exploration),
                    )
                })
                .collect()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut out = Vec::new();
        for (name, surface, bandit) in bandits {
            let names = bandit.arms.len();
            let shares = match surface.assignment {
                Assignment::Bandit => bandit.traffic_split(4000, &mut rng),
                Assignment::Ab => vec![1.0 / names as f64; names],
                Assignment::First => (0..names).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
            };
            let arms = bandit
                .arms
                .into_iter()
                .zip(shares)
                .map(|(arm, share)| (arm.name, share, arm.impressions, arm.rewards))
                .collect();
            out.push((name.clone(), arms));
        }
        out
    }

    /// How many distinct products this node has served in a list since it started.
    pub fn served_products(&self) -> usize {
        self.bandit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .served
            .len()
    }

    /// Each variant's evidence on a surface: (variant, impressions, rewards).
    pub fn bandit_counts(&self, surface: &str) -> Vec<(String, u64, f64)> {
        let Some(config) = self.strategy.surface.get(surface) else {
            return Vec::new();
        };
        let names: Vec<&str> = config.variants.iter().map(|v| v.name.as_str()).collect();
        let book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
        book.bandit(surface, &names, config.exploration)
            .arms
            .into_iter()
            .map(|a| (a.name, a.impressions, a.rewards))
            .collect()
    }
}

/// Runs `f` on a shopper's slot: at once when the slot is free, else on the blocking
/// pool. The slot is held while the shopper's lists are scored again at low priority (a
/// millisecond, or many under load), and an async worker that waited for it would hold
/// up every request queued on that worker.
async fn with_slot<R: Send + 'static>(
    slot: &Arc<Mutex<Slot>>,
    f: impl FnOnce(&mut Slot) -> R + Send + 'static,
) -> Result<R, Error> {
    match slot.try_lock() {
        Ok(mut guard) => return Ok(f(&mut guard)),
        Err(TryLockError::Poisoned(guard)) => return Ok(f(&mut guard.into_inner())),
        Err(TryLockError::WouldBlock) => {}
    }
    let slot = slot.clone();
    tokio::task::spawn_blocking(move || f(&mut slot.lock().unwrap_or_else(PoisonError::into_inner)))
        .await
        .map_err(|e| Error::Command(format!("the live-state task failed: {e}")))
}

/// Drops the least recently used tenth of the slots.
fn evict(shoppers: &mut HashMap<i64, Held>) {
    let mut touched: Vec<(u64, i64)> = shoppers
        .iter()
        .map(|(id, held)| (held.touched, *id))
        .collect();
    touched.sort_unstable();
    for (_, id) in touched.iter().take(shoppers.len() / 10 + 1) {
        shoppers.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::{with_slot, Slot};

    /// A slot held by another thread (its lists being scored again) is waited for off
    /// the async worker: the other tasks on that worker keep running meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn a_held_slot_is_waited_for_off_the_async_worker() {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let release = Arc::new(AtomicBool::new(false));
        let (locked, is_locked) = std::sync::mpsc::channel();
        let holder = {
            let (slot, release) = (slot.clone(), release.clone());
            std::thread::spawn(move || {
                let _guard = slot.lock().unwrap();
                locked.send(()).unwrap();
                // Let go when the async task says so, or after a while regardless (so a
                // blocked worker fails the test instead of hanging it).
                let started = Instant::now();
                while !release.load(Ordering::SeqCst) {
                    if started.elapsed() > Duration::from_secs(5) {
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                true
            })
        };
        is_locked.recv().unwrap();
        // The only worker of this runtime runs this task only if `with_slot` does not
        // block it on the lock.
        let releaser = tokio::spawn({
            let release = release.clone();
            async move { release.store(true, Ordering::SeqCst) }
        });
        let version = with_slot(&slot, |slot| slot.live.version)
            .await
            .expect("the slot was reached");
        releaser.await.unwrap();
        assert!(
            holder.join().unwrap(),
            "the async worker was blocked on the slot's lock"
        );
        assert_eq!(version, 0);
    }
}
