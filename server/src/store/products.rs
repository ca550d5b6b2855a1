//! Writing catalogue records in bulk: the demo seed and every importer go through
//! [`CatalogWriter`], which holds one transaction for the whole load, so a failure leaves
//! the database as it was, and re-loading the same records changes nothing.

use std::collections::{BTreeMap, HashMap};

use curio::{InteractionKind, InteractionRecord, ProductRecord};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use super::{begin_write, Store, WriteTx};
use crate::error::Error;
use crate::store::db::Database;

/// Rows per multi-row insert of interactions (11 parameters each; SQLite allows 32,766).
const BATCH: usize = 500;

/// What one load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteCounts {
    /// Products inserted.
    pub products_created: u64,
    /// Products whose fields changed.
    pub products_updated: u64,
    /// Products already stored exactly as given.
    pub products_unchanged: u64,
    /// Interactions offered (the batch may drop duplicates of earlier loads).
    pub interactions: u64,
    /// Interactions not stored because their product is unknown.
    pub unknown_product: u64,
    /// Shoppers created for new source keys.
    pub shoppers_created: u64,
}

enum Tx {
    Sqlite(WriteTx<Sqlite>),
    Postgres(WriteTx<Postgres>),
}

/// Runs `$body` with `$tx` bound to the open transaction, whichever database it is on.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            Tx::Sqlite($conn) => $body,
            Tx::Postgres($conn) => $body,
        }
    };
}

/// A merged opinion: liked, stars, Unix seconds of the latest event.
type Opinion = (Option<bool>, Option<i32>, i64);

/// A pending interaction with its ids resolved.
struct PendingInteraction {
    shopper_id: i64,
    product_id: i64,
    kind: InteractionKind,
    value: Option<f32>,
    at_ms: i64,
}

/// A bulk load in one transaction. Call [`CatalogWriter::commit`] at the end; dropping the
/// writer without it rolls everything back.
pub struct CatalogWriter {
    tx: Tx,
    source: String,
    now: i64,
    categories: HashMap<String, i64>,
    products: HashMap<String, i64>,
    shoppers: HashMap<String, i64>,
    pending: Vec<PendingInteraction>,
    counts: WriteCounts,
}

impl Store {
    /// Opens a bulk load; `source` names where the records come from (`demo`, `movielens`...).
    pub async fn catalog_writer(&self, source: &str) -> Result<CatalogWriter, Error> {
        let tx = match self.database() {
            Database::Sqlite(pool) => Tx::Sqlite(begin_write(pool).await?),
            Database::Postgres(pool) => {
                let mut tx = begin_write(pool).await?;
                // One load at a time: two concurrent imports would race on the same SKUs.
                sqlx::query("select pg_advisory_xact_lock(hashtext('curio catalog load'))")
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        };
        Ok(CatalogWriter {
            tx,
            source: source.to_string(),
            now: crate::clock::unix_secs(),
            categories: HashMap::new(),
            products: HashMap::new(),
            shoppers: HashMap::new(),
            pending: Vec::with_capacity(BATCH),
            counts: WriteCounts::default(),
        })
    }
}

impl CatalogWriter {
    /// The id of the category at `path` (root first), creating it and its ancestors.
    /// `None` for an empty path.
    pub async fn category(&mut self, path: &[String]) -> Result<Option<i64>, Error> {
        let mut parent: Option<i64> = None;
        for depth in 1..=path.len() {
            let joined = path[..depth].join(" > ");
            if let Some(&id) = self.categories.get(&joined) {
                parent = Some(id);
                continue;
            }
            let name = &path[depth - 1];
            let mut slug = slugify(&joined);
            let id: i64 = on_tx!(&mut self.tx, tx => {
                // Two paths can share a slug ("Coffee & Tea", "Coffee Tea"): number the later.
                let mut n = 1;
                while sqlx::query_scalar::<_, i64>(
                    "select count(*) from category where slug = $1 and path <> $2",
                )
                .bind(&slug)
                .bind(&joined)
                .fetch_one(&mut **tx)
                .await?
                    > 0
                {
                    n += 1;
                    slug = format!("{}-{n}", slugify(&joined));
                }
                sqlx::query(
                    "insert into category (parent_id, name, path, slug) values ($1, $2, $3, $4) \
                     on conflict (path) do nothing",
                )
                .bind(parent)
                .bind(name)
                .bind(&joined)
                .bind(&slug)
                .execute(&mut **tx)
                .await?;
                sqlx::query_scalar("select category_id from category where path = $1")
                    .bind(&joined)
                    .fetch_one(&mut **tx)
                    .await?
            });
            self.categories.insert(joined, id);
            parent = Some(id);
        }
        Ok(parent)
    }

    /// Creates the product, or updates the stored one with the same SKU where it differs.
    pub async fn product(&mut self, record: &ProductRecord) -> Result<i64, Error> {
        self.flush().await?;
        let category_id = self.category(&record.category).await?;
        let attributes = serde_json::to_string(&record.attributes)
            .map_err(|e| Error::Command(format!("attributes of {}: {e}", record.sku)))?;
        let created_at = record.created_at.unwrap_or(self.now);
        let existing: Option<(i64,)> = on_tx!(&mut self.tx, tx => {
            sqlx::query_as("select product_id from product where sku = $1")
                .bind(&record.sku)
                .fetch_optional(&mut **tx)
                .await?
        });
        let product_id = match existing {
            None => {
                let id: i64 = on_tx!(&mut self.tx, tx => {
                    sqlx::query_scalar(
                        "insert into product (sku, title, description, category_id, brand, \
                         price_minor, currency, image_url, attributes, in_stock, source, \
                         source_rating, source_rating_count, created_at, updated_at) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                         returning product_id",
                    )
                    .bind(&record.sku)
                    .bind(&record.title)
                    .bind(&record.description)
                    .bind(category_id)
                    .bind(&record.brand)
                    .bind(record.price_minor)
                    .bind(&record.currency)
                    .bind(&record.image_url)
                    .bind(&attributes)
                    .bind(record.in_stock)
                    .bind(&self.source)
                    .bind(record.source_rating)
                    .bind(record.source_rating_count)
                    .bind(created_at)
                    .bind(self.now)
                    .fetch_one(&mut **tx)
                    .await?
                });
                self.counts.products_created += 1;
                id
            }
            Some((id,)) => {
                // `is distinct from` compares NULLs as values on both databases.
                let changed = on_tx!(&mut self.tx, tx => {
                    sqlx::query(
                        "update product set title = $2, description = $3, category_id = $4, \
                         brand = $5, price_minor = $6, currency = $7, image_url = $8, \
                         attributes = $9, in_stock = $10, source_rating = $11, \
                         source_rating_count = $12, updated_at = $13 \
                         where product_id = $1 and (title is distinct from $2 \
                         or description is distinct from $3 or category_id is distinct from $4 \
                         or brand is distinct from $5 or price_minor is distinct from $6 \
                         or currency is distinct from $7 or image_url is distinct from $8 \
                         or attributes is distinct from $9 or in_stock is distinct from $10 \
                         or source_rating is distinct from $11 \
                         or source_rating_count is distinct from $12)",
                    )
                    .bind(id)
                    .bind(&record.title)
                    .bind(&record.description)
                    .bind(category_id)
                    .bind(&record.brand)
                    .bind(record.price_minor)
                    .bind(&record.currency)
                    .bind(&record.image_url)
                    .bind(&attributes)
                    .bind(record.in_stock)
                    .bind(record.source_rating)
                    .bind(record.source_rating_count)
                    .bind(self.now)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
                });
                if changed > 0 {
                    self.counts.products_updated += 1;
                } else {
                    self.counts.products_unchanged += 1;
                }
                id
            }
        };
        self.products.insert(record.sku.clone(), product_id);
        Ok(product_id)
    }

    /// The shopper for a source's user key, created on first sight.
    async fn shopper(&mut self, key: &str) -> Result<i64, Error> {
        if let Some(&id) = self.shoppers.get(key) {
            return Ok(id);
        }
        let now = self.now;
        let (id, created) = on_tx!(&mut self.tx, tx => {
            let inserted = sqlx::query(
                "insert into shopper (external_key, created_at) values ($1, $2) \
                 on conflict (external_key) do nothing",
            )
            .bind(key)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            let id: i64 = sqlx::query_scalar("select shopper_id from shopper where external_key = $1")
                .bind(key)
                .fetch_one(&mut **tx)
                .await?;
            (id, inserted > 0)
        });
        if created {
            self.counts.shoppers_created += 1;
        }
        self.shoppers.insert(key.to_string(), id);
        Ok(id)
    }

    /// The stored product id of a SKU, if the catalogue has it.
    async fn product_id(&mut self, sku: &str) -> Result<Option<i64>, Error> {
        if let Some(&id) = self.products.get(sku) {
            return Ok(Some(id));
        }
        let id: Option<i64> = on_tx!(&mut self.tx, tx => {
            sqlx::query_scalar("select product_id from product where sku = $1")
                .bind(sku)
                .fetch_optional(&mut **tx)
                .await?
        });
        if let Some(id) = id {
            self.products.insert(sku.to_string(), id);
        }
        Ok(id)
    }

    /// Queues an event; returns `false` (and stores nothing) when its product is unknown.
    pub async fn interaction(&mut self, record: &InteractionRecord) -> Result<bool, Error> {
        let Some(product_id) = self.product_id(&record.sku).await? else {
            self.counts.unknown_product += 1;
            return Ok(false);
        };
        let shopper_id = self.shopper(&record.user).await?;
        self.pending.push(PendingInteraction {
            shopper_id,
            product_id,
            kind: record.kind,
            value: record.value,
            at_ms: record.at_ms,
        });
        self.counts.interactions += 1;
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(true)
    }

    /// Writes the queued events and the opinions (like, dislike, stars) they imply.
    async fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let surface = format!("import:{}", self.source);
        on_tx!(&mut self.tx, tx => {
            let mut insert = QueryBuilder::new(
                "insert into interaction (shopper_id, product_id, kind, value, occurred_at, \
                 surface, imported) ",
            );
            insert.push_values(&pending, |mut row, event| {
                row.push_bind(event.shopper_id)
                    .push_bind(event.product_id)
                    .push_bind(event.kind.as_str())
                    .push_bind(event.value)
                    .push_bind(event.at_ms)
                    .push_bind(&surface)
                    .push_bind(true);
            });
            insert.push(" on conflict do nothing");
            insert.build().execute(&mut **tx).await?;
            // One row per (shopper, product): the batch's events merged in order, as
            // if applied one by one (a later like/dislike or rating replaces an earlier).
            let mut opinions: BTreeMap<(i64, i64), Opinion> = BTreeMap::new();
            for event in &pending {
                let (liked, stars): (Option<bool>, Option<i32>) = match event.kind {
                    InteractionKind::Like => (Some(true), None),
                    InteractionKind::Dislike => (Some(false), None),
                    InteractionKind::Rating => match event.value {
                        Some(v) if (1.0..=5.0).contains(&v) => (None, Some(v.round() as i32)),
                        _ => continue,
                    },
                    _ => continue,
                };
                let at = event.at_ms / 1000;
                let entry = opinions
                    .entry((event.shopper_id, event.product_id))
                    .or_insert((None, None, at));
                if at >= entry.2 {
                    entry.0 = liked.or(entry.0);
                    entry.1 = stars.or(entry.1);
                    entry.2 = at;
                }
            }
            let rows: Vec<_> = opinions.into_iter().collect();
            for chunk in rows.chunks(BATCH) {
                // The latest event decides; an older one replayed later changes nothing.
                let mut upsert = QueryBuilder::new(
                    "insert into opinion (shopper_id, product_id, liked, stars, updated_at) ",
                );
                upsert.push_values(chunk, |mut row, ((shopper, product), (liked, stars, at))| {
                    row.push_bind(*shopper)
                        .push_bind(*product)
                        .push_bind(*liked)
                        .push_bind(*stars)
                        .push_bind(*at);
                });
                upsert.push(
                    " on conflict (shopper_id, product_id) do update set \
                     liked = coalesce(excluded.liked, opinion.liked), \
                     stars = coalesce(excluded.stars, opinion.stars), \
                     updated_at = excluded.updated_at \
                     where excluded.updated_at >= opinion.updated_at",
                );
                upsert.build().execute(&mut **tx).await?;
            }
        });
        self.pending = pending;
        self.pending.clear();
        Ok(())
    }

    /// Records a fact about the shop (`demo_seed`...) in the same transaction.
    pub async fn set_meta(&mut self, key: &str, value: &str) -> Result<(), Error> {
        on_tx!(&mut self.tx, tx => {
            sqlx::query(
                "insert into shop_meta (key, value) values ($1, $2) \
                 on conflict (key) do update set value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }

    /// The counts so far.
    pub fn counts(&self) -> &WriteCounts {
        &self.counts
    }

    /// Writes what is queued, rebuilds the rating histograms and commits.
    pub async fn commit(mut self) -> Result<WriteCounts, Error> {
        self.flush().await?;
        on_tx!(self.tx, tx => {
            let mut tx = tx;
            for sql in recount_ratings(None) {
                sqlx::query(&sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(self.counts)
    }
}

/// The statements that recompute star histograms from the shoppers' current ratings:
/// of every product, or of the products in `ids` (a comma-separated list of our own ids).
pub(super) fn recount_ratings(ids: Option<&str>) -> [String; 2] {
    let only = ids
        .map(|ids| format!(" and product_id in ({ids})"))
        .unwrap_or_default();
    let delete = match ids {
        Some(ids) => format!("delete from product_rating where product_id in ({ids})"),
        None => "delete from product_rating".to_string(),
    };
    [
        delete,
        format!(
            "insert into product_rating (product_id, stars_1, stars_2, stars_3, stars_4, \
             stars_5) select product_id, \
             sum(case when stars = 1 then 1 else 0 end), sum(case when stars = 2 then 1 else 0 end), \
             sum(case when stars = 3 then 1 else 0 end), sum(case when stars = 4 then 1 else 0 end), \
             sum(case when stars = 5 then 1 else 0 end) \
             from opinion where stars is not null{only} group by product_id"
        ),
    ]
}

/// A URL-safe slug of a category path: lower-case ASCII words joined by dashes.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    if slug.is_empty() {
        // Non-ASCII names still need a unique slug: hex of the bytes.
        slug = text.bytes().map(|b| format!("{b:02x}")).collect();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Electronics > Cameras"), "electronics-cameras");
        assert_eq!(slugify("Coffee & Tea"), "coffee-tea");
        assert_eq!(slugify("Музыка"), "d09cd183d0b7d18bd0bad0b0");
    }
}
