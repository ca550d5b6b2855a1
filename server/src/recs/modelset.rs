//! One model version: the engine's model set (catalogue as the models index it, fitted
//! models, co-purchase table) with its holdout metrics and provenance. Trained from the
//! database, saved as one payload, swapped in whole.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::time::Instant;

use curio::eval::{evaluate, leave_last_out};
use curio::models::{CoPurchase, CoPurchaseConfig};
use curio::serving::{Catalog, CatalogEntry, ModelSet};
use curio::{Dataset, Event, IdMap, ItemFeatures};
use serde::{Deserialize, Serialize};

use crate::store::recs::{BasketKey, LogEvent, TrainingProduct};

/// The metric a new version must not fall below the serving one on.
pub const GATE_METRIC: &str = "ndcg@10";

/// A trained, servable model version: the engine's [`ModelSet`] (reached through
/// `Deref`) plus what the database keeps about it.
pub struct ModelVersion {
    /// The database's id of this version (`None` until saved).
    pub version: Option<i64>,
    /// What serving scores with.
    pub set: ModelSet,
    /// Holdout metrics: `<model>.ndcg@10`, `<model>.recall@10`, `<model>.fit_seconds`.
    pub metrics: BTreeMap<String, f64>,
    /// Events read.
    pub trained_events: i64,
    /// Unix milliseconds of the newest event read.
    pub trained_until: i64,
    /// Wall-clock seconds the training took.
    pub seconds: f64,
    /// Per model trained in epochs, each epoch's loss and validation NDCG@10 (kept in the
    /// version's row, not in the payload: a loaded set has none).
    pub curves: BTreeMap<String, Vec<crate::store::recs::EpochPoint>>,
    /// The parameters this version was trained with, when training tuned them (for the
    /// next training to start from; not in the payload).
    pub tuned: Option<toml::Table>,
}

impl Deref for ModelVersion {
    type Target = ModelSet;

    fn deref(&self) -> &ModelSet {
        &self.set
    }
}

/// The catalogue of the products training read.
fn catalog_of(products: &[TrainingProduct], consumable_attribute: &str) -> Catalog {
    Catalog::new(products.iter().map(|p| {
        let attributes: BTreeMap<String, String> =
            serde_json::from_str(&p.attributes).unwrap_or_default();
        CatalogEntry {
            product_id: p.product_id,
            title: p.title.clone(),
            category_id: p.category_id,
            path: p.path.clone(),
            price_minor: p.price_minor,
            in_stock: p.in_stock,
            consumable: attributes
                .get(consumable_attribute)
                .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        }
    }))
}

#[derive(Serialize, Deserialize)]
struct Payload {
    catalog: Catalog,
    models: Vec<(String, Vec<u8>)>,
    copurchase: Vec<u8>,
    metrics: BTreeMap<String, f64>,
    trained_events: i64,
    trained_until: i64,
    seconds: f64,
}

/// Validation shoppers a retrain's tuning scores, at most (a seeded sample).
const TUNE_USERS: usize = 2_000;

/// `params` with each retrain-tunable model among `names` tuned by `trials` trials on
/// the split nested in `split`'s training part; each model's validation NDCG@10 as
/// given and as tuned go to `metrics`. A model whose search fails keeps its parameters.
fn tune(
    split: &curio::eval::Split,
    names: &[String],
    params: &toml::Table,
    seed: u64,
    trials: usize,
    metrics: &mut BTreeMap<String, f64>,
) -> toml::Table {
    use curio::tune;
    let validation = tune::nested_split(&split.train, tune::Nested::LeaveLastOut, seed, TUNE_USERS);
    let mut params = params.clone();
    for name in names
        .iter()
        .filter(|n| tune::RETRAIN_TUNABLE.contains(&n.as_str()))
    {
        let started = Instant::now();
        match tune::tune(name, &params, &validation, trials, seed, 10, &mut |_, _| {}) {
            Ok(search) => {
                let (given, best) = (search.trials[0].ndcg, search.best().ndcg);
                tracing::info!(
                    model = %name,
                    trials,
                    given,
                    best,
                    trial = search.best,
                    seconds = started.elapsed().as_secs_f64(),
                    "tuned"
                );
                metrics.insert(format!("{name}.tune_given_ndcg@10"), given);
                metrics.insert(format!("{name}.tune_best_ndcg@10"), best);
                params.insert(
                    name.clone(),
                    toml::Value::Table(search.best().params.clone()),
                );
            }
            Err(error) => tracing::warn!(model = %name, %error, "tuning failed; kept as given"),
        }
    }
    params
}

/// What training reads.
pub struct TrainingData {
    /// Every product.
    pub products: Vec<TrainingProduct>,
    /// Every product event.
    pub events: Vec<LogEvent>,
    /// Per purchase event (in order), its basket.
    pub baskets: Vec<BasketKey>,
}

impl ModelVersion {
    /// An empty set: serves fallbacks only (no products yet).
    pub fn empty() -> Self {
        Self {
            version: None,
            set: ModelSet::default(),
            metrics: BTreeMap::new(),
            trained_events: 0,
            trained_until: 0,
            seconds: 0.0,
            curves: BTreeMap::new(),
            tuned: None,
        }
    }

    /// Names of the fitted models.
    pub fn model_names(&self) -> Vec<String> {
        self.models.keys().cloned().collect()
    }

    /// Fits `names` on `data`: each model on every shopper's history but their latest
    /// item, which is the holdout its metrics come from. The served models are the ones
    /// evaluated; a shopper's latest events reach them through the live history anyway.
    /// With `tune_trials`, each classical model among `names` first tries that many
    /// parameter sets (the first: those given) on the item before each shopper's latest,
    /// and fits with the best.
    pub fn train(
        data: &TrainingData,
        names: &[String],
        params: &toml::Table,
        seed: u64,
        consumable_attribute: &str,
        tune_trials: usize,
    ) -> Result<Self, String> {
        let started = Instant::now();
        let catalog = catalog_of(&data.products, consumable_attribute);
        let dataset = dataset(&catalog, &data.products, &data.events);
        let split = leave_last_out(&dataset);
        let mut models = BTreeMap::new();
        let mut metrics = BTreeMap::new();
        let mut curves = BTreeMap::new();
        let tuned =
            (tune_trials > 0).then(|| tune(&split, names, params, seed, tune_trials, &mut metrics));
        let params = tuned.as_ref().unwrap_or(params);
        for name in names {
            let fit_started = Instant::now();
            let mut model =
                curio::registry::build(name, params, seed).map_err(|e| e.to_string())?;
            let mut curve = Vec::new();
            model
                .fit_with_progress(&split.train, &mut |report| {
                    // JSON has no NaN: a diverged epoch is left out of the curve.
                    if report.loss.is_finite() {
                        curve.push(crate::store::recs::EpochPoint {
                            epoch: report.epoch,
                            loss: report.loss,
                            validation_ndcg: report.validation_ndcg.filter(|n| n.is_finite()),
                        })
                    }
                })
                .map_err(|e| format!("cannot fit {name}: {e}"))?;
            if !curve.is_empty() {
                curves.insert(name.clone(), curve);
            }
            let fit_seconds = fit_started.elapsed().as_secs_f64();
            let report = evaluate(model.as_ref(), &split, 10);
            tracing::info!(
                model = %name,
                ndcg = report.metrics.ndcg,
                fit_seconds,
                "model fitted"
            );
            metrics.insert(format!("{name}.{GATE_METRIC}"), report.metrics.ndcg);
            metrics.insert(format!("{name}.recall@10"), report.metrics.recall);
            metrics.insert(format!("{name}.coverage"), report.coverage);
            metrics.insert(format!("{name}.fit_seconds"), fit_seconds);
            models.insert(name.clone(), model);
        }
        metrics.insert(
            "holdout_users".into(),
            split.test.iter().filter(|t| !t.is_empty()).count() as f64,
        );
        let copurchase = CoPurchase::fit(
            catalog.len(),
            &baskets(&catalog, &data.events, &data.baskets),
            CoPurchaseConfig::default(),
        )
        .map_err(|e| e.to_string())?;
        metrics.insert("copurchase.baskets".into(), copurchase.baskets() as f64);
        Ok(Self {
            version: None,
            set: ModelSet {
                catalog,
                models,
                copurchase,
            },
            metrics,
            trained_events: data.events.len() as i64,
            trained_until: data.events.iter().map(|e| e.occurred_at).max().unwrap_or(0),
            seconds: started.elapsed().as_secs_f64(),
            curves,
            tuned,
        })
    }

    /// The set as one payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let models = self
            .models
            .iter()
            .map(|(name, model)| Ok((name.clone(), model.to_bytes().map_err(|e| e.to_string())?)))
            .collect::<Result<Vec<_>, String>>()?;
        let payload = Payload {
            catalog: self.catalog.clone(),
            models,
            copurchase: self.copurchase.to_bytes().map_err(|e| e.to_string())?,
            metrics: self.metrics.clone(),
            trained_events: self.trained_events,
            trained_until: self.trained_until,
            seconds: self.seconds,
        };
        rmp_serde::to_vec(&payload).map_err(|e| format!("cannot save the model set: {e}"))
    }

    /// Reads back [`ModelVersion::to_bytes`].
    pub fn from_bytes(bytes: &[u8], version: i64) -> Result<Self, String> {
        let payload: Payload = rmp_serde::from_slice(bytes)
            .map_err(|e| format!("model version {version} is unreadable: {e}"))?;
        let mut catalog = payload.catalog;
        catalog.reindex();
        let mut models = BTreeMap::new();
        for (name, bytes) in payload.models {
            let model = curio::registry::from_bytes(&name, &bytes)
                .map_err(|e| format!("model version {version}: {e}"))?;
            models.insert(name, model);
        }
        Ok(Self {
            version: Some(version),
            set: ModelSet {
                catalog,
                models,
                copurchase: CoPurchase::from_bytes(&payload.copurchase)
                    .map_err(|e| format!("model version {version}: {e}"))?,
            },
            metrics: payload.metrics,
            trained_events: payload.trained_events,
            trained_until: payload.trained_until,
            seconds: payload.seconds,
            curves: BTreeMap::new(),
            tuned: None,
        })
    }

    /// Whether `self` may replace `current`: for every model of `gated` both have, its
    /// holdout NDCG@10 is at least `1 - tolerance` of the current one's. Returns the
    /// first model that got worse, with both figures. The gated models are the ones that
    /// serve lists (the strategy's variants); a blend member is judged through the blend.
    pub fn not_worse_than(
        &self,
        current: &ModelVersion,
        tolerance: f64,
        gated: &[String],
    ) -> Result<(), String> {
        // A set that drops a serving model would take its variants away.
        if let Some(missing) = current
            .models
            .keys()
            .find(|m| gated.contains(m) && !self.models.contains_key(*m))
        {
            return Err(format!(
                "{missing}: serves now but is missing from the new set"
            ));
        }
        for name in self.models.keys().filter(|m| gated.contains(m)) {
            let key = format!("{name}.{GATE_METRIC}");
            if let (Some(&new), Some(&old)) = (self.metrics.get(&key), current.metrics.get(&key)) {
                if new < old * (1.0 - tolerance) {
                    return Err(format!(
                        "{name}: holdout NDCG@10 {new:.4} is below the serving {old:.4}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The event log as the engine's dataset over the catalogue's item order, with features.
fn dataset(catalog: &Catalog, products: &[TrainingProduct], events: &[LogEvent]) -> Dataset {
    let mut items = IdMap::new();
    for id in &catalog.product_ids {
        items.get_or_insert(&id.to_string());
    }
    let engine_events: Vec<Event> = events
        .iter()
        .filter(|e| catalog.item(e.product_id).is_some())
        .map(|e| Event {
            user: e.shopper_id.to_string(),
            item: e.product_id.to_string(),
            kind: e.kind,
            value: e.value,
            time: e.occurred_at.div_euclid(1000),
        })
        .collect();
    let mut data = Dataset::from_events_with(IdMap::new(), items, &engine_events);
    data.features = products
        .iter()
        .map(|p| ItemFeatures {
            title: p.title.clone(),
            description: p.description.clone().unwrap_or_default(),
            categories: p
                .path
                .as_deref()
                .map(|path| path.split(" > ").map(str::to_string).collect())
                .unwrap_or_default(),
            brand: p.brand.clone(),
            price_minor: p.price_minor,
            tags: tags(&p.attributes),
        })
        .collect();
    data
}

/// The attributes that hold unordered labels, comma-separated: the MovieLens importer's
/// `genres`, or any import's `tags`.
const TAG_ATTRIBUTES: [&str; 2] = ["genres", "tags"];

/// A product's tags, from its attributes (a JSON object; anything else has none).
fn tags(attributes: &str) -> Vec<String> {
    let attributes: BTreeMap<String, String> = serde_json::from_str(attributes).unwrap_or_default();
    TAG_ATTRIBUTES
        .iter()
        .filter_map(|name| attributes.get(*name))
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
        .collect()
}

/// Purchases grouped into baskets (an order, or a shopper's day), as item indices.
fn baskets(catalog: &Catalog, events: &[LogEvent], keys: &[BasketKey]) -> Vec<Vec<u32>> {
    let purchases = events
        .iter()
        .filter(|e| e.kind == curio::InteractionKind::Purchase);
    let mut grouped: HashMap<&BasketKey, Vec<u32>> = HashMap::new();
    for (event, key) in purchases.zip(keys) {
        if let Some(item) = catalog.item(event.product_id) {
            grouped.entry(key).or_default().push(item);
        }
    }
    // Single-item baskets count too: they are part of every item's base rate.
    let mut baskets: Vec<Vec<u32>> = grouped.into_values().collect();
    baskets.sort();
    baskets
}

#[cfg(test)]
mod tests {
    use super::tags;

    #[test]
    fn tags_come_from_the_genres_and_tags_attributes() {
        assert_eq!(
            tags(r#"{"genres":"Action,Adventure","year":"1995","tags":" cult , "}"#),
            vec!["Action", "Adventure", "cult"]
        );
        assert!(tags("{}").is_empty());
        assert!(tags("not json").is_empty());
    }
}
