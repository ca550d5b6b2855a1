//! The service's jobs: training and publishing a model version, the schedules that
//! retrain and poll for versions other nodes published, and the category names.

use super::*;

impl RecService {
    /// `curio train --publish`: trains the configured models on the database's whole log
    /// and publishes them as a model version, unless they score worse than the version
    /// serving now. Serving nodes pick the new version up within their polling interval.
    pub async fn publish(store: Store, config: RecsConfig) -> Result<Retrained, Error> {
        let models = config.models.clone();
        let service = Self::open(store, config.quieted()).await?;
        service.train_and_publish(models, "train", false).await
    }

    pub(super) fn spawn_jobs(self: &Arc<Self>) {
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
    pub(super) fn every<F, Fut>(self: &Arc<Self>, period: Option<Duration>, job: F)
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

    pub(super) async fn retrain_logged(&self, why: &str) {
        let models = self.config.models.clone();
        match self.train_and_publish(models, "serve", false).await {
            Ok(outcome) => tracing::info!(why, ?outcome, "retrained"),
            Err(error) => tracing::warn!(why, %error, "retraining failed"),
        }
    }

    pub(super) async fn refresh_categories(&self) -> Result<(), Error> {
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

    pub(super) async fn train_and_publish_inner(
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
        let params = self.params.load_full();
        let seed = self.config.seed;
        let attribute = self.strategy.rules.consumable_attribute.clone();
        // A first start serves as soon as it can: it trains with the parameters given.
        let trials = if force { 0 } else { self.config.tune_trials };
        // Below the priority of requests and of re-scoring after events: a retrain
        // under load takes what they leave.
        let (set, bytes) = refresh::train(move || {
            let set = ModelVersion::train(&data, &models, &params, seed, &attribute, trials)?;
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
                if let Some(tuned) = set.tuned.take() {
                    self.params.store(Arc::new(tuned));
                }
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
}
