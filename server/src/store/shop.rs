//! The shopper's side of the store: identities (account or anonymous visitor), the event
//! log, opinions and ratings, the cart, checkout and orders. Every change that records an
//! event commits the event with the change in one transaction, before the caller answers.

use super::reading::{STARS_COUNT, STARS_SUM};
use super::{begin_write, subject_lock, Store};
use crate::error::Error;
use crate::store::db::Database;
use curio::InteractionKind;

/// Inserts one event inside the transaction `$tx`.
macro_rules! insert_event {
    ($tx:expr, $e:expr) => {
        sqlx::query(
            "insert into interaction (shopper_id, product_id, kind, value, query, occurred_at, \
             surface, model, request_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($e.shopper_id)
        .bind($e.product_id)
        .bind($e.kind.as_str())
        .bind($e.value)
        .bind($e.query.as_deref())
        .bind($e.at_ms)
        .bind($e.surface.as_deref())
        .bind($e.model.as_deref())
        .bind($e.request_id.as_deref())
        .execute(&mut *$tx)
        .await?
    };
}

/// Serialises a shopper's write transactions on PostgreSQL (SQLite's `begin immediate`
/// already serialises every writer): two checkouts or two ratings of one shopper cannot
/// both read the state from before the other.
macro_rules! lock_shopper {
    ($pool:expr, $tx:expr, $shopper:expr) => {
        if let Some(lock) = subject_lock($pool) {
            sqlx::query(lock)
                .bind(format!("shopper:{}", $shopper))
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// How a cart line changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartChange {
    /// To this quantity.
    Set(i32),
    /// By this many more.
    Add(i32),
}

/// A shopper's current opinion of a product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Opinion {
    /// Liked (true), disliked (false) or neither.
    pub liked: Option<bool>,
    /// Their stars, 1 to 5.
    pub stars: Option<i32>,
}

/// One line of a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CartLineRow {
    /// The product.
    pub product_id: i64,
    /// How many, 1 to 99.
    pub quantity: i32,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Who.
    pub shopper_id: i64,
    /// On what (`None` for a search without a product).
    pub product_id: Option<i64>,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars or quantity.
    pub value: Option<f32>,
    /// Search text.
    pub query: Option<String>,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// Page or row it came from.
    pub surface: Option<String>,
    /// Recommending model.
    pub model: Option<String>,
    /// Recommendation request.
    pub request_id: Option<String>,
}

impl NewEvent {
    /// An event on a product, now, from `surface`.
    pub fn on(shopper_id: i64, product_id: i64, kind: InteractionKind, surface: &str) -> Self {
        Self {
            shopper_id,
            product_id: Some(product_id),
            kind,
            value: None,
            query: None,
            at_ms: crate::clock::unix_millis(),
            surface: Some(surface.to_string()),
            model: None,
            request_id: None,
        }
    }

    /// The same event with a value.
    pub fn with_value(mut self, value: f32) -> Self {
        self.value = Some(value);
        self
    }
}

/// A product card's row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CardRow {
    /// Id.
    pub product_id: i64,
    /// SKU.
    pub sku: String,
    /// Title.
    pub title: String,
    /// Brand.
    pub brand: Option<String>,
    /// Price.
    pub price_minor: Option<i64>,
    /// Currency.
    pub currency: String,
    /// Image.
    pub image_url: Option<String>,
    /// Buyable.
    pub in_stock: bool,
    /// Published rating.
    pub source_rating: Option<f32>,
    /// Reviews behind it.
    pub source_rating_count: Option<i64>,
    /// Sum of in-shop stars.
    pub stars_sum: Option<i64>,
    /// Number of in-shop ratings.
    pub stars_count: Option<i64>,
}

impl CardRow {
    /// The combined average rating and count (published and in-shop), if any.
    pub fn rating(&self) -> Option<(f64, i64)> {
        let (sum, count) = super::reading::rating_totals(
            self.source_rating,
            self.source_rating_count,
            self.stars_sum,
            self.stars_count,
        );
        (count > 0).then(|| (sum / count as f64, count))
    }
}

/// The rest of a product page's row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DetailRow {
    /// Id.
    pub product_id: i64,
    /// Description.
    pub description: Option<String>,
    /// Leaf category.
    pub category_id: Option<i64>,
    /// JSON object.
    pub attributes: String,
}

/// An order line's row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderLineRow {
    /// Order.
    pub shop_order_id: i64,
    /// Title as sold.
    pub title: String,
    /// SKU now.
    pub sku: String,
    /// How many.
    pub quantity: i32,
    /// Price of one.
    pub unit_price_minor: i64,
}

/// An order's row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderRow {
    /// Order number.
    pub shop_order_id: i64,
    /// Unix seconds.
    pub placed_at: i64,
    /// Total.
    pub total_minor: i64,
    /// Currency.
    pub currency: String,
}

/// Why a checkout was refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// Nothing to buy.
    #[error("Your cart is empty.")]
    EmptyCart,
    /// A line cannot be bought.
    #[error("{0} cannot be bought right now; remove it from your cart to check out.")]
    Unavailable(String),
    /// Lines in different currencies.
    #[error("Your cart mixes currencies; check out one currency at a time.")]
    MixedCurrencies,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<sqlx::Error> for CheckoutError {
    fn from(e: sqlx::Error) -> Self {
        Self::Other(e.into())
    }
}

const CARD_SELECT: &str = "select p.product_id, p.sku, p.title, p.brand, p.price_minor, \
     p.currency, p.image_url, p.in_stock, p.source_rating, p.source_rating_count, ";

fn card_sql(filter: &str) -> String {
    format!(
        "{CARD_SELECT}{STARS_SUM} as stars_sum, {STARS_COUNT} as stars_count \
         from product p left join product_rating r on r.product_id = p.product_id {filter}"
    )
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Cards of these products, in the order given (unknown ids are left out).
    pub async fn cards(&self, ids: &[i64]) -> Result<Vec<CardRow>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are integers from our own index, formatted by us: no injection.
        let sql = card_sql(&format!("where p.product_id in ({})", id_list(ids)));
        let rows: Vec<CardRow> = on_db!(&self.reads, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        let mut by_id: std::collections::HashMap<i64, CardRow> =
            rows.into_iter().map(|r| (r.product_id, r)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// The card and page rows of the product with this SKU.
    pub async fn product_by_sku(&self, sku: &str) -> Result<Option<(CardRow, DetailRow)>, Error> {
        let card_query = card_sql("where p.sku = $1");
        let card: Option<CardRow> = on_db!(self.database(), pool => {
            sqlx::query_as(&card_query).bind(sku).fetch_optional(pool).await?
        });
        let Some(card) = card else { return Ok(None) };
        let detail: DetailRow = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select product_id, description, category_id, attributes from product \
                 where product_id = $1",
            )
            .bind(card.product_id)
            .fetch_one(pool)
            .await?
        });
        Ok(Some((card, detail)))
    }

    /// A product's in-shop star histogram (index 0 = one star).
    pub async fn histogram(&self, product_id: i64) -> Result<[i64; 5], Error> {
        let row: Option<(i64, i64, i64, i64, i64)> = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select stars_1, stars_2, stars_3, stars_4, stars_5 from product_rating \
                 where product_id = $1",
            )
            .bind(product_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map_or([0; 5], |(a, b, c, d, e)| [a, b, c, d, e]))
    }

    /// The shopper of an account, created on first use.
    pub async fn account_shopper(&self, account_id: i64) -> Result<i64, Error> {
        let ticket = match self.account_shoppers.get(&account_id) {
            Ok(shopper) => return Ok(shopper),
            Err(ticket) => ticket,
        };
        let shopper = self.account_shopper_uncached(account_id).await?;
        self.account_shoppers.fill(account_id, shopper, ticket);
        Ok(shopper)
    }

    async fn account_shopper_uncached(&self, account_id: i64) -> Result<i64, Error> {
        let now = crate::clock::unix_secs();
        Ok(on_db!(self.database(), pool => {
            // Reads first: most calls find the shopper, and a read takes no write lock.
            let existing: Option<i64> =
                sqlx::query_scalar("select shopper_id from shopper where account_id = $1")
                    .bind(account_id)
                    .fetch_optional(pool)
                    .await?;
            if let Some(id) = existing {
                return Ok(id);
            }
            sqlx::query(
                "insert into shopper (account_id, created_at) values ($1, $2) \
                 on conflict (account_id) do nothing",
            )
            .bind(account_id)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_scalar("select shopper_id from shopper where account_id = $1")
                .bind(account_id)
                .fetch_one(pool)
                .await?
        }))
    }

    /// A new anonymous shopper (a visitor's first event).
    pub async fn new_visitor(&self) -> Result<i64, Error> {
        let now = crate::clock::unix_secs();
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar("insert into shopper (created_at) values ($1) returning shopper_id")
                .bind(now)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Gives a visitor's events, opinions and cart to an account's shopper, then removes
    /// the visitor. Cart quantities add up; the later opinion wins.
    pub async fn adopt_visitor(&self, visitor: i64, account_id: i64) -> Result<(), Error> {
        let shopper = self.account_shopper(account_id).await?;
        if shopper == visitor {
            return Ok(());
        }
        let _shopper_cart = self.carts.invalidate_on_drop(shopper);
        let _visitor_cart = self.carts.invalidate_on_drop(visitor);
        self.adopt_visitor_into(visitor, shopper).await
    }

    async fn adopt_visitor_into(&self, visitor: i64, shopper: i64) -> Result<(), Error> {
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            lock_shopper!(pool, tx, shopper);
            // Only a visitor (no account, no source key) can be adopted.
            let is_visitor: Option<i64> = sqlx::query_scalar(
                "select shopper_id from shopper where shopper_id = $1 \
                 and account_id is null and external_key is null",
            )
            .bind(visitor)
            .fetch_optional(&mut *tx)
            .await?;
            if is_visitor.is_none() {
                return Ok(());
            }
            sqlx::query("update interaction set shopper_id = $1 where shopper_id = $2")
                .bind(shopper)
                .bind(visitor)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into cart_line (shopper_id, product_id, quantity, added_at) \
                 select $1, product_id, quantity, added_at from cart_line where shopper_id = $2 \
                 on conflict (shopper_id, product_id) do update set \
                 quantity = case when cart_line.quantity + excluded.quantity > 99 then 99 \
                 else cart_line.quantity + excluded.quantity end",
            )
            .bind(shopper)
            .bind(visitor)
            .execute(&mut *tx)
            .await?;
            let touched: Vec<i64> = sqlx::query_scalar(
                "select product_id from opinion where shopper_id = $1 and stars is not null",
            )
            .bind(visitor)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(
                "insert into opinion (shopper_id, product_id, liked, stars, updated_at) \
                 select $1, product_id, liked, stars, updated_at from opinion where shopper_id = $2 \
                 on conflict (shopper_id, product_id) do update set \
                 liked = case when excluded.updated_at >= opinion.updated_at \
                 then coalesce(excluded.liked, opinion.liked) else opinion.liked end, \
                 stars = case when excluded.updated_at >= opinion.updated_at \
                 then coalesce(excluded.stars, opinion.stars) else opinion.stars end, \
                 updated_at = case when excluded.updated_at > opinion.updated_at \
                 then excluded.updated_at else opinion.updated_at end",
            )
            .bind(shopper)
            .bind(visitor)
            .execute(&mut *tx)
            .await?;
            sqlx::query("delete from shopper where shopper_id = $1")
                .bind(visitor)
                .execute(&mut *tx)
                .await?;
            if !touched.is_empty() {
                // Two ratings of one product became one: recount those histograms.
                for sql in super::products::recount_ratings(Some(&id_list(&touched))) {
                    sqlx::query(&sql).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Appends several events in one transaction (a product visit: click then view).
    pub async fn record_events(&self, events: &[NewEvent]) -> Result<(), Error> {
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            for event in events {
                insert_event!(tx, event);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The text of the shopper's latest search, if any.
    pub async fn last_search(&self, shopper_id: i64) -> Result<Option<String>, Error> {
        let row: Option<Option<String>> = on_db!(self.database(), pool => {
            sqlx::query_scalar(
                "select query from interaction where shopper_id = $1 and kind = 'search' \
                 order by occurred_at desc, interaction_id desc limit 1",
            )
            .bind(shopper_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.flatten())
    }

    /// The shopper's like/dislike and stars for a product.
    pub async fn opinion(&self, shopper_id: i64, product_id: i64) -> Result<Opinion, Error> {
        let row: Option<Opinion> = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select liked, stars from opinion where shopper_id = $1 and product_id = $2",
            )
            .bind(shopper_id)
            .bind(product_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.unwrap_or_default())
    }

    /// Sets like (true), dislike (false) or neither, recording `event` with it; returns
    /// the shopper's opinion of the product as written (like, stars), as
    /// [`opinion`](Self::opinion) would read it.
    pub async fn set_liked(
        &self,
        shopper_id: i64,
        product_id: i64,
        liked: Option<bool>,
        event: Option<&NewEvent>,
    ) -> Result<Opinion, Error> {
        let now = crate::clock::unix_secs();
        let opinion: Opinion = on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            lock_shopper!(pool, tx, shopper_id);
            let opinion = sqlx::query_as(
                "insert into opinion (shopper_id, product_id, liked, updated_at) \
                 values ($1, $2, $3, $4) on conflict (shopper_id, product_id) do update set \
                 liked = excluded.liked, updated_at = excluded.updated_at \
                 returning liked, stars",
            )
            .bind(shopper_id)
            .bind(product_id)
            .bind(liked)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(event) = event {
                insert_event!(tx, event);
            }
            tx.commit().await?;
            opinion
        });
        Ok(opinion)
    }

    /// Sets the shopper's stars (1..=5), moves the histogram and records `event`; returns
    /// the new histogram.
    pub async fn rate(
        &self,
        shopper_id: i64,
        product_id: i64,
        stars: u8,
        event: &NewEvent,
    ) -> Result<[i64; 5], Error> {
        let stars = i32::from(stars.clamp(1, 5));
        let now = crate::clock::unix_secs();
        on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            lock_shopper!(pool, tx, shopper_id);
            let old: Option<Option<i32>> = sqlx::query_scalar(
                "select stars from opinion where shopper_id = $1 and product_id = $2",
            )
            .bind(shopper_id)
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query(
                "insert into opinion (shopper_id, product_id, stars, updated_at) \
                 values ($1, $2, $3, $4) on conflict (shopper_id, product_id) do update set \
                 stars = excluded.stars, updated_at = excluded.updated_at",
            )
            .bind(shopper_id)
            .bind(product_id)
            .bind(stars)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into product_rating (product_id) values ($1) \
                 on conflict (product_id) do nothing",
            )
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
            // Column names come from 1..=5 integers, never from input text.
            if let Some(Some(old)) = old {
                let old = old.clamp(1, 5);
                sqlx::query(&format!(
                    "update product_rating set stars_{old} = stars_{old} - 1 \
                     where product_id = $1 and stars_{old} > 0"
                ))
                .bind(product_id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(&format!(
                "update product_rating set stars_{stars} = stars_{stars} + 1 where product_id = $1"
            ))
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
            insert_event!(tx, event);
            tx.commit().await?;
        });
        self.histogram(product_id).await
    }

    /// The cart's lines, oldest first.
    pub async fn cart_lines(&self, shopper_id: i64) -> Result<Vec<CartLineRow>, Error> {
        Ok(on_db!(&self.reads, pool => {
            sqlx::query_as(
                "select product_id, quantity from cart_line where shopper_id = $1 \
                 order by added_at, product_id",
            )
            .bind(shopper_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The products in a shopper's cart, for a recommendation list to leave out: read
    /// within the last [`CART_CACHE_TTL`](super::CART_CACHE_TTL), or changed through this
    /// store since. Pages that show the cart read [`cart_lines`](Self::cart_lines).
    pub async fn cart_products_recent(&self, shopper_id: i64) -> Result<Vec<i64>, Error> {
        let ticket = match self.carts.get(&shopper_id) {
            Ok(products) => return Ok(products),
            Err(ticket) => ticket,
        };
        let products: Vec<i64> = self
            .cart_lines(shopper_id)
            .await?
            .into_iter()
            .map(|line| line.product_id)
            .collect();
        self.carts.fill(shopper_id, products.clone(), ticket);
        Ok(products)
    }

    /// Changes a cart line, setting or adding to its quantity (kept within 0..=99), and
    /// records the difference as an `add_to_cart` or `remove_from_cart` event, which it
    /// returns (none when the quantity did not change).
    pub async fn change_cart(
        &self,
        shopper_id: i64,
        product_id: i64,
        change: CartChange,
        surface: &str,
    ) -> Result<Option<NewEvent>, Error> {
        let _cart = self.carts.invalidate_on_drop(shopper_id);
        self.change_cart_line(shopper_id, product_id, change, surface)
            .await
    }

    async fn change_cart_line(
        &self,
        shopper_id: i64,
        product_id: i64,
        change: CartChange,
        surface: &str,
    ) -> Result<Option<NewEvent>, Error> {
        let now = crate::clock::unix_secs();
        let recorded = on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            lock_shopper!(pool, tx, shopper_id);
            let old: i32 = sqlx::query_scalar(
                "select quantity from cart_line where shopper_id = $1 and product_id = $2",
            )
            .bind(shopper_id)
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
            // Added to what the database holds now, not to what a page last saw.
            let quantity = match change {
                CartChange::Set(quantity) => quantity,
                CartChange::Add(more) => old.saturating_add(more),
            }
            .clamp(0, 99);
            if quantity == 0 {
                sqlx::query("delete from cart_line where shopper_id = $1 and product_id = $2")
                    .bind(shopper_id)
                    .bind(product_id)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query(
                    "insert into cart_line (shopper_id, product_id, quantity, added_at) \
                     values ($1, $2, $3, $4) on conflict (shopper_id, product_id) do update set \
                     quantity = excluded.quantity",
                )
                .bind(shopper_id)
                .bind(product_id)
                .bind(quantity)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if quantity != old {
                let kind = if quantity > old {
                    InteractionKind::AddToCart
                } else {
                    InteractionKind::RemoveFromCart
                };
                let event = NewEvent::on(shopper_id, product_id, kind, surface)
                    .with_value((quantity - old).abs() as f32);
                insert_event!(tx, event);
                tx.commit().await?;
                Some(event)
            } else {
                tx.commit().await?;
                None
            }
        });
        Ok(recorded)
    }

    /// Turns the cart into an order: order and lines at today's prices, a `purchase` event
    /// per line, the cart emptied, all in one transaction. Returns the order number and
    /// the purchase events written.
    pub async fn checkout(&self, shopper_id: i64) -> Result<(i64, Vec<NewEvent>), CheckoutError> {
        let _cart = self.carts.invalidate_on_drop(shopper_id);
        self.checkout_cart(shopper_id).await
    }

    async fn checkout_cart(&self, shopper_id: i64) -> Result<(i64, Vec<NewEvent>), CheckoutError> {
        let now_ms = crate::clock::unix_millis();
        let mut purchases = Vec::new();
        let order_id = on_db!(self.database(), pool => {
            let mut tx = begin_write(pool).await?;
            lock_shopper!(pool, tx, shopper_id);
            let lines: Vec<(i64, i32, String, Option<i64>, String, bool)> = sqlx::query_as(
                "select p.product_id, c.quantity, p.title, p.price_minor, p.currency, p.in_stock \
                 from cart_line c join product p on p.product_id = c.product_id \
                 where c.shopper_id = $1 order by c.added_at, p.product_id",
            )
            .bind(shopper_id)
            .fetch_all(&mut *tx)
            .await?;
            let Some(first) = lines.first() else {
                return Err(CheckoutError::EmptyCart);
            };
            let currency = first.4.clone();
            let mut total = 0i64;
            for (_, quantity, title, price, line_currency, in_stock) in &lines {
                let Some(price) = price.filter(|_| *in_stock) else {
                    return Err(CheckoutError::Unavailable(title.clone()));
                };
                if *line_currency != currency {
                    return Err(CheckoutError::MixedCurrencies);
                }
                total = price
                    .checked_mul(i64::from(*quantity))
                    .and_then(|line| total.checked_add(line))
                    .ok_or_else(|| CheckoutError::Unavailable(title.clone()))?;
            }
            let order_id: i64 = sqlx::query_scalar(
                "insert into shop_order (shopper_id, placed_at, total_minor, currency) \
                 values ($1, $2, $3, $4) returning shop_order_id",
            )
            .bind(shopper_id)
            .bind(now_ms / 1000)
            .bind(total)
            .bind(&currency)
            .fetch_one(&mut *tx)
            .await?;
            for (product_id, quantity, title, price, _, _) in &lines {
                sqlx::query(
                    "insert into order_line (shop_order_id, product_id, title, quantity, \
                     unit_price_minor) values ($1, $2, $3, $4, $5)",
                )
                .bind(order_id)
                .bind(product_id)
                .bind(title)
                .bind(quantity)
                .bind(price)
                .execute(&mut *tx)
                .await?;
                let mut event =
                    NewEvent::on(shopper_id, *product_id, InteractionKind::Purchase, "checkout")
                        .with_value(*quantity as f32);
                event.at_ms = now_ms;
                event.request_id = Some(format!("order-{order_id}"));
                insert_event!(tx, event);
                purchases.push(event);
            }
            sqlx::query("delete from cart_line where shopper_id = $1")
                .bind(shopper_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            order_id
        });
        Ok((order_id, purchases))
    }

    /// The shopper's orders, newest first, with their lines.
    pub async fn orders(
        &self,
        shopper_id: i64,
        limit: i64,
    ) -> Result<Vec<(OrderRow, Vec<OrderLineRow>)>, Error> {
        let orders: Vec<OrderRow> = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select shop_order_id, placed_at, total_minor, currency from shop_order \
                 where shopper_id = $1 order by placed_at desc, shop_order_id desc limit $2",
            )
            .bind(shopper_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = orders.iter().map(|o| o.shop_order_id).collect();
        let sql = format!(
            "select l.shop_order_id, l.title, p.sku, l.quantity, l.unit_price_minor \
             from order_line l join product p on p.product_id = l.product_id \
             where l.shop_order_id in ({}) order by l.shop_order_id, l.title",
            id_list(&ids)
        );
        let lines: Vec<OrderLineRow> = on_db!(self.database(), pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        Ok(orders
            .into_iter()
            .map(|order| {
                let own = lines
                    .iter()
                    .filter(|l| l.shop_order_id == order.shop_order_id)
                    .cloned()
                    .collect();
                (order, own)
            })
            .collect())
    }

    /// Products the shopper likes, most recent first.
    pub async fn liked_products(&self, shopper_id: i64, limit: i64) -> Result<Vec<i64>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_scalar(
                "select product_id from opinion where shopper_id = $1 and liked = $2 \
                 order by updated_at desc, product_id limit $3",
            )
            .bind(shopper_id)
            .bind(true)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Products the shopper viewed, most recent first.
    pub async fn recently_viewed(&self, shopper_id: i64, limit: i64) -> Result<Vec<i64>, Error> {
        let rows: Vec<(i64, i64)> = on_db!(self.database(), pool => {
            sqlx::query_as(
                "select product_id, max(occurred_at) as seen from interaction \
                 where shopper_id = $1 and kind = 'view' and product_id is not null \
                 group by product_id order by seen desc limit $2",
            )
            .bind(shopper_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }

    /// The events of a shopper as (kind, product id), oldest first (tests and tools).
    pub async fn shopper_events(
        &self,
        shopper_id: i64,
    ) -> Result<Vec<(String, Option<i64>)>, Error> {
        Ok(on_db!(self.database(), pool => {
            sqlx::query_as(
                "select kind, product_id from interaction where shopper_id = $1 \
                 order by occurred_at, interaction_id",
            )
            .bind(shopper_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
