//! What the recommendation service reads and writes: the catalogue and the event log as
//! training data, one shopper's history for their live state, model versions, the
//! bandit's counts and onboarding interests.

use std::collections::BTreeMap;

use super::{begin_write, Store};
use crate::error::Error;
use crate::store::db::Database;

/// A product as the models see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrainingProduct {
    /// Primary key.
    pub product_id: i64,
    /// Stock-keeping unit (the engine's item id).
    pub sku: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Category path ("Home > Kitchen > Coffee"), if any.
    pub path: Option<String>,
    /// Leaf category.
    pub category_id: Option<i64>,
    /// Brand.
    pub brand: Option<String>,
    /// Price in minor units.
    pub price_minor: Option<i64>,
    /// JSON object of attributes.
    pub attributes: String,
    /// Whether it can be bought now.
    pub in_stock: bool,
}

/// One product event of the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogEvent {
    /// Log order.
    pub interaction_id: i64,
    /// Who.
    pub shopper_id: i64,
    /// Which product.
    pub product_id: i64,
    /// What happened.
    pub kind: curio::InteractionKind,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub occurred_at: i64,
}

#[derive(sqlx::FromRow)]
struct LogRow {
    interaction_id: i64,
    shopper_id: i64,
    product_id: i64,
    kind: String,
    value: Option<f32>,
    occurred_at: i64,
    request_id: Option<String>,
}

/// A purchase's basket key: its order, or the shopper's day for imported purchases.
pub type BasketKey = (i64, String);

/// A model version row, without its payload.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct ModelVersionRow {
    /// Id, increasing.
    pub model_version_id: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Events read.
    pub trained_events: i64,
    /// Unix milliseconds of the newest event read.
    pub trained_until: i64,
    /// JSON array of model names.
    pub models: String,
    /// JSON object of metrics.
    pub metrics: String,
    /// `live` or `rejected`.
    pub status: String,
    /// `serve` or `train`.
    pub origin: String,
    /// Training wall time.
    pub seconds: f64,
    /// JSON object: per model, its epochs.
    pub curves: String,
}

/// A new model version.
#[derive(Debug, Clone)]
pub struct NewModelVersion {
    /// Events read.
    pub trained_events: i64,
    /// Unix milliseconds of the newest event read.
    pub trained_until: i64,
    /// Model names.
    pub models: Vec<String>,
    /// Metrics by name.
    pub metrics: BTreeMap<String, f64>,
    /// Whether it serves (else it was rejected and keeps no payload).
    pub live: bool,
    /// `serve` or `train`.
    pub origin: &'static str,
    /// Training wall time.
    pub seconds: f64,
    /// The models' bytes.
    pub payload: Option<Vec<u8>>,
    /// Per model, its training epochs.
    pub curves: BTreeMap<String, Vec<EpochPoint>>,
}

/// One training epoch, as the insights chart it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochPoint {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// NDCG@10 on the validation split, when there was one.
    pub validation_ndcg: Option<f64>,
}

/// Live counts of one surface and variant over one time bucket.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StrategyStat {
    /// The surface (`for_you`...).
    pub surface: String,
    /// The strategy variant.
    pub variant: String,
    /// Unix seconds of the bucket's start.
    pub bucket: i64,
    /// Lists served.
    pub impressions: i64,
    /// Clicks on their items.
    pub clicks: i64,
    /// Add-to-carts of their items.
    pub carts: i64,
    /// Purchases of their items.
    pub purchases: i64,
}

/// An event of the log, for the insights' stream.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecentEvent {
    /// Its id.
    pub interaction_id: i64,
    /// The shopper (an id, never their email).
    pub shopper_id: i64,
    /// `view`, `click`...
    pub kind: String,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub occurred_at: i64,
    /// The page or row it came from.
    pub surface: Option<String>,
    /// The product's title, if the event has a product.
    pub title: Option<String>,
    /// The product's SKU.
    pub sku: Option<String>,
    /// A search's text.
    pub query: Option<String>,
}

impl Store {
    /// Every product with what the models read.
    pub async fn training_products(&self) -> Result<Vec<TrainingProduct>, Error> {
        const SQL: &str = "select p.product_id, p.sku, p.title, p.description, c.path, \
             p.category_id, p.brand, p.price_minor, p.attributes, p.in_stock \
             from product p left join category c on c.category_id = p.category_id \
             order by p.product_id";
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(SQL).fetch_all(pool).await?
        }))
    }

    /// Every product event (searches left out) in log order, and for each purchase
    /// among them (in the same order) its basket.
    pub async fn training_events(&self) -> Result<(Vec<LogEvent>, Vec<BasketKey>), Error> {
        let mut events = Vec::new();
        let mut baskets = Vec::new();
        let mut after = 0i64;
        loop {
            const SQL: &str = "select interaction_id, shopper_id, product_id, kind, value, \
                 occurred_at, request_id from interaction \
                 where interaction_id > $1 and product_id is not null \
                 order by interaction_id limit 50000";
            let rows: Vec<LogRow> = on_db!(self.database(), pool => {
                sqlx::query_as(SQL).bind(after).fetch_all(pool).await?
            });
            let Some(last) = rows.last() else { break };
            after = last.interaction_id;
            for row in rows {
                let event = log_event(&row)?;
                if event.kind == curio::InteractionKind::Purchase {
                    let key = match &row.request_id {
                        Some(order) if order.starts_with("order-") => order.clone(),
                        _ => format!("day-{}", row.occurred_at.div_euclid(86_400_000)),
                    };
                    baskets.push((row.shopper_id, key));
                }
                events.push(event);
            }
        }
        Ok((events, baskets))
    }

    /// One shopper's product events, oldest first.
    /// Likes and dislikes count only while they are the shopper's current opinion (one
    /// withdrawn or reversed since is left out).
    pub async fn shopper_history(&self, shopper_id: i64) -> Result<Vec<LogEvent>, Error> {
        const SQL: &str = "select i.interaction_id, i.shopper_id, i.product_id, i.kind, \
             i.value, i.occurred_at, i.request_id from interaction i \
             where i.shopper_id = $1 and i.product_id is not null \
             and (i.kind not in ('like', 'dislike') or exists (select 1 from opinion o \
             where o.shopper_id = i.shopper_id and o.product_id = i.product_id \
             and o.liked = (i.kind = 'like'))) \
             order by i.occurred_at, i.interaction_id";
        let rows: Vec<LogRow> = on_db!(self.database(), pool => {
            sqlx::query_as(SQL).bind(shopper_id).fetch_all(pool).await?
        });
        rows.iter().map(log_event).collect()
    }

    /// Stores a model version; returns its id.
    pub async fn insert_model_version(&self, version: &NewModelVersion) -> Result<i64, Error> {
        let models = serde_json::to_string(&version.models).unwrap_or_else(|_| "[]".into());
        let metrics = serde_json::to_string(&version.metrics).unwrap_or_else(|_| "{}".into());
        let curves = serde_json::to_string(&version.curves).unwrap_or_else(|_| "{}".into());
        let now = crate::clock::unix_millis() / 1000;
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar(
                "insert into model_version (created_at, trained_events, trained_until, models, \
                 metrics, status, origin, seconds, payload, curves) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning model_version_id",
            )
            .bind(now)
            .bind(version.trained_events)
            .bind(version.trained_until)
            .bind(models)
            .bind(metrics)
            .bind(if version.live { "live" } else { "rejected" })
            .bind(version.origin)
            .bind(version.seconds)
            .bind(version.payload.as_deref())
            .bind(&curves)
            .fetch_one(pool)
            .await?
        }))
    }

    /// The newest live version's id, if any (cheap: for polling).
    pub async fn latest_live_version_id(&self) -> Result<Option<i64>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar(
                "select max(model_version_id) from model_version where status = 'live'",
            )
            .fetch_one(pool)
            .await?
        }))
    }

    /// The newest live version with its payload.
    pub async fn latest_live_version(&self) -> Result<Option<(ModelVersionRow, Vec<u8>)>, Error> {
        let Some(id) = self.latest_live_version_id().await? else {
            return Ok(None);
        };
        let row: Option<ModelVersionRow> = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select model_version_id, created_at, trained_events, trained_until, models, \
                 metrics, status, origin, seconds, curves from model_version where model_version_id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let payload: Option<Vec<u8>> = on_db!(self.database(), pool => {
            sqlx::query_scalar("select payload from model_version where model_version_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await?
        });
        Ok(row.zip(payload))
    }

    /// Every version, newest first, without payloads.
    pub async fn model_versions(&self, limit: i64) -> Result<Vec<ModelVersionRow>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(
                "select model_version_id, created_at, trained_events, trained_until, models, \
                 metrics, status, origin, seconds, curves from model_version \
                 order by model_version_id desc limit $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Drops the payloads of live versions older than the newest `keep` (their metrics
    /// stay for the record).
    pub async fn prune_model_payloads(&self, keep: i64) -> Result<(), Error> {
        on_db!(self.database(), pool => {
            sqlx::query(
                "update model_version set payload = null where status = 'live' and \
                 model_version_id not in (select model_version_id from model_version \
                 where status = 'live' order by model_version_id desc limit $1)",
            )
            .bind(keep)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Adds live counts per (surface, variant, minute), in one transaction.
    pub async fn add_strategy_stats(&self, deltas: &[StrategyStat]) -> Result<(), Error> {
        if deltas.is_empty() {
            return Ok(());
        }
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            for d in deltas {
                sqlx::query(
                    "insert into strategy_stat (surface, variant, minute, impressions, clicks, \
                     carts, purchases) values ($1, $2, $3, $4, $5, $6, $7) \
                     on conflict (surface, variant, minute) do update set \
                     impressions = strategy_stat.impressions + excluded.impressions, \
                     clicks = strategy_stat.clicks + excluded.clicks, \
                     carts = strategy_stat.carts + excluded.carts, \
                     purchases = strategy_stat.purchases + excluded.purchases",
                )
                .bind(&d.surface)
                .bind(&d.variant)
                .bind(d.bucket)
                .bind(d.impressions)
                .bind(d.clicks)
                .bind(d.carts)
                .bind(d.purchases)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Live counts since `since` (Unix seconds), summed into buckets of `bucket_secs`
    /// (a multiple of 60), oldest first.
    pub async fn strategy_stats(
        &self,
        since: i64,
        bucket_secs: i64,
    ) -> Result<Vec<StrategyStat>, Error> {
        let bucket_secs = bucket_secs.max(60);
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(
                "select surface, variant, (minute / $2) * $2 as bucket, \
                 cast(sum(impressions) as bigint) as impressions, \
                 cast(sum(clicks) as bigint) as clicks, cast(sum(carts) as bigint) as carts, \
                 cast(sum(purchases) as bigint) as purchases \
                 from strategy_stat where minute >= $1 \
                 group by surface, variant, (minute / $2) * $2 order by bucket, surface, variant",
            )
            .bind(since)
            .bind(bucket_secs)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The newest `limit` events of the log, newest first.
    pub async fn recent_events(&self, limit: i64) -> Result<Vec<RecentEvent>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(
                "select i.interaction_id, i.shopper_id, i.kind, i.value, i.occurred_at, \
                 i.surface, p.title, p.sku, i.query from interaction i \
                 left join product p on p.product_id = i.product_id \
                 order by i.interaction_id desc limit $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Every bandit arm's totals: (surface, variant, impressions, rewards).
    pub async fn bandit_arms(&self) -> Result<Vec<(String, String, i64, f64)>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as("select surface, variant, impressions, rewards from bandit_arm")
                .fetch_all(pool)
                .await?
        }))
    }

    /// Adds impressions and rewards to arms, in one transaction.
    pub async fn add_bandit_counts(
        &self,
        deltas: &[(String, String, i64, f64)],
    ) -> Result<(), Error> {
        if deltas.is_empty() {
            return Ok(());
        }
        let now = crate::clock::unix_millis() / 1000;
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            for (surface, variant, impressions, rewards) in deltas {
                sqlx::query(
                    "insert into bandit_arm (surface, variant, impressions, rewards, updated_at) \
                     values ($1, $2, $3, $4, $5) on conflict (surface, variant) do update set \
                     impressions = bandit_arm.impressions + excluded.impressions, \
                     rewards = bandit_arm.rewards + excluded.rewards, \
                     updated_at = excluded.updated_at",
                )
                .bind(surface)
                .bind(variant)
                .bind(impressions)
                .bind(rewards)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces the shopper's onboarding categories.
    pub async fn set_interests(&self, shopper_id: i64, categories: &[i64]) -> Result<(), Error> {
        let now = crate::clock::unix_millis() / 1000;
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            sqlx::query("delete from shopper_interest where shopper_id = $1")
                .bind(shopper_id)
                .execute(&mut *tx)
                .await?;
            for category in categories {
                sqlx::query(
                    "insert into shopper_interest (shopper_id, category_id, chosen_at) \
                     values ($1, $2, $3)",
                )
                .bind(shopper_id)
                .bind(category)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes from the shopper's history one product's events and their like or dislike
    /// of it, or (`None`) every event, like, dislike and onboarding choice. One
    /// transaction; orders, the cart and star ratings stay.
    pub async fn remove_history(
        &self,
        shopper_id: i64,
        product_id: Option<i64>,
    ) -> Result<u64, Error> {
        Ok(on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            let removed = match product_id {
                Some(product) => {
                    let removed = sqlx::query(
                        "delete from interaction where shopper_id = $1 and product_id = $2",
                    )
                    .bind(shopper_id)
                    .bind(product)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "update opinion set liked = null where shopper_id = $1 and product_id = $2",
                    )
                    .bind(shopper_id)
                    .bind(product)
                    .execute(&mut *tx)
                    .await?;
                    removed
                }
                None => {
                    let removed = sqlx::query("delete from interaction where shopper_id = $1")
                        .bind(shopper_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    sqlx::query("update opinion set liked = null where shopper_id = $1")
                        .bind(shopper_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("delete from shopper_interest where shopper_id = $1")
                        .bind(shopper_id)
                        .execute(&mut *tx)
                        .await?;
                    removed
                }
            };
            tx.commit().await?;
            removed
        }))
    }

    /// The shopper's onboarding categories.
    pub async fn interests(&self, shopper_id: i64) -> Result<Vec<i64>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar(
                "select category_id from shopper_interest where shopper_id = $1 \
                 order by category_id",
            )
            .bind(shopper_id)
            .fetch_all(pool)
            .await?
        }))
    }
}

fn log_event(row: &LogRow) -> Result<LogEvent, Error> {
    let kind: curio::InteractionKind = row.kind.parse().map_err(|_| {
        Error::Command(format!(
            "interaction {} has kind {:?}",
            row.interaction_id, row.kind
        ))
    })?;
    Ok(LogEvent {
        interaction_id: row.interaction_id,
        shopper_id: row.shopper_id,
        product_id: row.product_id,
        kind,
        value: row.value,
        occurred_at: row.occurred_at,
    })
}
