//! Reading the catalogue in bulk: for the search index at start, and for `curio export`,
//! page by page so that a large catalogue never sits in memory as rows.

use std::collections::BTreeMap;

use curio::{InteractionKind, InteractionRecord, ProductRecord};

use super::Store;
use crate::error::Error;
use crate::services::search::{CategoryNode, IndexedProduct};
use crate::store::db::Database;

#[derive(sqlx::FromRow)]
struct CategoryRow {
    category_id: i64,
    parent_id: Option<i64>,
    name: String,
    path: String,
    slug: String,
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    product_id: i64,
    title: String,
    description: Option<String>,
    brand: Option<String>,
    category_id: Option<i64>,
    price_minor: Option<i64>,
    created_at: i64,
    in_stock: bool,
    source_rating: Option<f32>,
    source_rating_count: Option<i64>,
    stars_sum: Option<i64>,
    stars_count: Option<i64>,
    popularity: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ExportProductRow {
    product_id: i64,
    sku: String,
    title: String,
    description: Option<String>,
    path: Option<String>,
    brand: Option<String>,
    price_minor: Option<i64>,
    currency: String,
    image_url: Option<String>,
    attributes: String,
    in_stock: bool,
    source_rating: Option<f32>,
    source_rating_count: Option<i64>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ExportInteractionRow {
    interaction_id: i64,
    shopper_id: i64,
    external_key: Option<String>,
    account_id: Option<i64>,
    sku: String,
    kind: String,
    value: Option<f32>,
    occurred_at: i64,
}

/// Star sums and counts from the rating histogram, as SQL over `product_rating r`.
pub(crate) const STARS_SUM: &str =
    "(r.stars_1 + 2 * r.stars_2 + 3 * r.stars_3 + 4 * r.stars_4 + 5 * r.stars_5)";
/// See [`STARS_SUM`].
pub(crate) const STARS_COUNT: &str = "(r.stars_1 + r.stars_2 + r.stars_3 + r.stars_4 + r.stars_5)";

/// Sum of stars and number of ratings of a product: the shop's own ratings plus the
/// source's published average, weighed by its review count (one when the count is absent).
/// Cards, the product page and the search index all read ratings through this.
pub fn rating_totals(
    source_rating: Option<f32>,
    source_count: Option<i64>,
    stars_sum: Option<i64>,
    stars_count: Option<i64>,
) -> (f64, i64) {
    let (mut sum, mut count) = (stars_sum.unwrap_or(0) as f64, stars_count.unwrap_or(0));
    if let Some(average) = source_rating {
        let n = source_count.unwrap_or(1).max(1);
        sum += f64::from(average) * n as f64;
        count += n;
    }
    (sum, count)
}

/// The key a shopper is exported under: its source key, or one made from its id.
pub fn shopper_key(
    shopper_id: i64,
    external_key: Option<String>,
    account_id: Option<i64>,
) -> String {
    match (external_key, account_id) {
        (Some(key), _) => key,
        (None, Some(account)) => format!("account-{account}"),
        (None, None) => format!("visitor-{shopper_id}"),
    }
}

impl Store {
    /// Every category.
    pub async fn categories(&self) -> Result<Vec<CategoryNode>, Error> {
        const SQL: &str = "select category_id, parent_id, name, path, slug from category";
        let rows: Vec<CategoryRow> = on_db!(self.database(), pool => {
            sqlx::query_as(SQL).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| CategoryNode {
                category_id: r.category_id,
                parent_id: r.parent_id,
                name: r.name,
                path: r.path,
                slug: r.slug,
            })
            .collect())
    }

    /// What the search index needs of the products with these ids (all when `None`).
    pub async fn indexed_products(
        &self,
        ids: Option<&[i64]>,
    ) -> Result<Vec<IndexedProduct>, Error> {
        let mut sql = format!(
            "select p.product_id, p.title, p.description, p.brand, p.category_id, p.price_minor, \
             p.created_at, p.in_stock, p.source_rating, p.source_rating_count, \
             {STARS_SUM} as stars_sum, {STARS_COUNT} as stars_count, \
             (select count(*) from interaction i where i.product_id = p.product_id) as popularity \
             from product p left join product_rating r on r.product_id = p.product_id"
        );
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            sql.push_str(&format!(" where p.product_id in ({})", list.join(",")));
        }
        let rows: Vec<IndexRow> = on_db!(self.database(), pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| {
                let (rating_sum, rating_count) = rating_totals(
                    r.source_rating,
                    r.source_rating_count,
                    r.stars_sum,
                    r.stars_count,
                );
                IndexedProduct {
                    product_id: r.product_id,
                    title: r.title,
                    description: r.description,
                    brand: r.brand,
                    category_id: r.category_id,
                    price_minor: r.price_minor,
                    rating_sum,
                    rating_count,
                    created_at: r.created_at,
                    in_stock: r.in_stock,
                    popularity: r.popularity.unwrap_or(0),
                }
            })
            .collect())
    }

    /// Up to `limit` products with ids above `after`, in id order, as records.
    pub async fn export_products(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, ProductRecord)>, Error> {
        const SQL: &str = "select p.product_id, p.sku, p.title, p.description, c.path, p.brand, \
             p.price_minor, p.currency, p.image_url, p.attributes, p.in_stock, p.source_rating, \
             p.source_rating_count, p.created_at \
             from product p left join category c on c.category_id = p.category_id \
             where p.product_id > $1 order by p.product_id limit $2";
        let rows: Vec<ExportProductRow> = on_db!(self.database(), pool => {
            sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                let attributes: BTreeMap<String, String> = serde_json::from_str(&r.attributes)
                    .map_err(|e| {
                        Error::Command(format!("product {} has bad attributes: {e}", r.sku))
                    })?;
                Ok((
                    r.product_id,
                    ProductRecord {
                        sku: r.sku,
                        title: r.title,
                        description: r.description,
                        category: r
                            .path
                            .map(|p| p.split(" > ").map(str::to_string).collect())
                            .unwrap_or_default(),
                        brand: r.brand,
                        price_minor: r.price_minor,
                        currency: r.currency,
                        image_url: r.image_url,
                        attributes,
                        in_stock: r.in_stock,
                        created_at: Some(r.created_at),
                        source_rating: r.source_rating,
                        source_rating_count: r.source_rating_count,
                    },
                ))
            })
            .collect()
    }

    /// Up to `limit` product events with ids above `after`, in id order, as records.
    pub async fn export_interactions(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, InteractionRecord)>, Error> {
        const SQL: &str = "select i.interaction_id, i.shopper_id, s.external_key, s.account_id, \
             p.sku, i.kind, i.value, i.occurred_at \
             from interaction i join shopper s on s.shopper_id = i.shopper_id \
             join product p on p.product_id = i.product_id \
             where i.interaction_id > $1 order by i.interaction_id limit $2";
        let rows: Vec<ExportInteractionRow> = on_db!(self.database(), pool => {
            sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                let kind: InteractionKind = r.kind.parse().map_err(|_| {
                    Error::Command(format!(
                        "interaction {} has kind {:?}",
                        r.interaction_id, r.kind
                    ))
                })?;
                Ok((
                    r.interaction_id,
                    InteractionRecord {
                        user: shopper_key(r.shopper_id, r.external_key, r.account_id),
                        sku: r.sku,
                        kind,
                        value: r.value,
                        at_ms: r.occurred_at,
                    },
                ))
            })
            .collect()
    }

    /// Up to `limit` events of the log (every kind, searches included) with ids above
    /// `after`, in id order.
    pub async fn export_event_log(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>, Error> {
        const SQL: &str = "select i.interaction_id, i.shopper_id, s.external_key, s.account_id, \
             p.sku, i.kind, i.value, i.query, i.occurred_at, i.surface, i.model, i.request_id \
             from interaction i join shopper s on s.shopper_id = i.shopper_id \
             left join product p on p.product_id = i.product_id \
             where i.interaction_id > $1 order by i.interaction_id limit $2";
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(pool).await?
        }))
    }

    /// A fingerprint of the catalogue's text and structure: products, their latest update
    /// and categories. It changes when an import (from any process or node) changes them.
    pub async fn catalog_version(&self) -> Result<CatalogVersion, Error> {
        const SQL: &str = "select (select count(*) from product) as products, \
             (select coalesce(max(updated_at), 0) from product) as updated_at, \
             (select count(*) from category) as categories";
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(SQL).fetch_one(pool).await?
        }))
    }

    /// Whether the catalogue has no product.
    pub async fn catalog_is_empty(&self) -> Result<bool, Error> {
        let any: Option<i64> = on_db!(self.database(), pool => {
            sqlx::query_scalar("select product_id from product limit 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(any.is_none())
    }

    /// A value from `shop_meta`.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar("select value from shop_meta where key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// How many products, shoppers and interactions there are: a cheap summary for logs
    /// and tests.
    pub async fn catalog_counts(&self) -> Result<CatalogCounts, Error> {
        const SQL: &str = "select (select count(*) from product) as products, \
             (select count(*) from shopper) as shoppers, \
             (select count(*) from interaction) as interactions";
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(SQL).fetch_one(pool).await?
        }))
    }
}

/// A fingerprint of the catalogue (see [`Store::catalog_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogVersion {
    /// Products.
    pub products: i64,
    /// Unix seconds of the latest product update.
    pub updated_at: i64,
    /// Categories.
    pub categories: i64,
}

/// Row counts (see [`Store::catalog_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogCounts {
    /// Products.
    pub products: i64,
    /// Shoppers (accounts', visitors', imported and simulated).
    pub shoppers: i64,
    /// Interactions, searches included.
    pub interactions: i64,
}

/// One row of the event log as `curio export --events` writes it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct LoggedEvent {
    /// Id, in log order.
    pub interaction_id: i64,
    /// The shopper.
    #[serde(skip)]
    pub shopper_id: i64,
    /// The shopper's source key, if imported or simulated.
    #[serde(skip)]
    pub external_key: Option<String>,
    /// The shopper's account, if any.
    #[serde(skip)]
    pub account_id: Option<i64>,
    /// The product, absent for a search.
    pub sku: Option<String>,
    /// What happened.
    pub kind: String,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Search text.
    pub query: Option<String>,
    /// Unix milliseconds.
    pub occurred_at: i64,
    /// Page or row.
    pub surface: Option<String>,
    /// Recommending model.
    pub model: Option<String>,
    /// Recommendation request.
    pub request_id: Option<String>,
}
