//! The live recommendation service: the current model set behind an atomic swap, every
//! shopper's live state in memory, the strategy that says which models fill which
//! surface, the bandit that learns which variant serves better, and the background jobs
//! that retrain, publish and pick up model versions.
//!
//! Nothing here retrains on a request: an event updates the shopper's live state before
//! the call that recorded it answers, and the next list is scored from that state.
//!
//! Here: the configuration, the service and its start. `modelset` (a model version and
//! its training), `slots` (per-shopper state and caches), `live` (what a slot knows of
//! the shopper beyond their history), `serve` (a surface's list: variant, cache, then
//! `curio::serving::rank`), `explain` (each model's picks), `bandit` (the book of
//! impressions and rewards), `jobs` (retraining, publishing, polling) and `refresh`
//! (the low-priority thread pools).

mod bandit;
mod explain;
mod jobs;
pub mod live;
pub mod modelset;
mod refresh;
mod serve;
mod slots;

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

use bandit::{BanditBook, Counted};
use slots::{CachedList, Held, Slot};

use crate::error::Error;
use crate::store::recs::{NewModelVersion, StrategyStat};
use crate::store::Store;

/// The strategy used unless `--strategy` names another file.
pub const DEFAULT_STRATEGY: &str = curio::strategy::BUILTIN;

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
    /// Parameter sets each tunable model tries at every retrain but a first start's, on
    /// a validation split nested in the log (0: train with the parameters given). The
    /// best carry to the next retrain as its first trial.
    pub tune_trials: usize,
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
            tune_trials: 0,
        }
    }

    /// No background work: tests drive training themselves.
    pub fn quiet(models: Vec<String>) -> Self {
        Self::serving(models).quieted()
    }

    /// These settings without background work (`curio train --publish`).
    pub fn quieted(self) -> Self {
        Self {
            retrain_every: None,
            retrain_after_events: None,
            background: false,
            poll_every: None,
            ..self
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

/// The service.
pub struct RecService {
    store: Store,
    config: RecsConfig,
    strategy: Strategy,
    /// The model parameters the next training uses (a retrain that tuned and went live
    /// leaves its best here).
    params: ArcSwap<toml::Table>,
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
        let params: toml::Table = match &config.params {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Startup(format!(
                        "cannot read model parameters {}: {e}",
                        path.display()
                    ))
                })?;
                let file: toml::Table = toml::from_str(&text)
                    .map_err(|e| Error::Startup(format!("model parameters: {e}")))?;
                // A file's tables replace the defaults' (so a file without `[blend]`,
                // such as `curio eval --tune-out` writes, keeps the served members).
                let mut params = curio::registry::serve_default_params();
                params.extend(file);
                params
            }
            None => curio::registry::serve_default_params(),
        };

        let service = Arc::new(Self {
            store: store.clone(),
            config,
            strategy,
            params: ArcSwap::from_pointee(params),
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

    /// The model set serving now.
    pub fn current(&self) -> Arc<ModelVersion> {
        self.set.load_full()
    }

    /// The model parameters the next training uses.
    pub fn model_params(&self) -> Arc<toml::Table> {
        self.params.load_full()
    }

    /// The strategy in force.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }
}
