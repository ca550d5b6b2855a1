//! The shop capability the UI's server functions call: who the shopper is (account or
//! anonymous visitor), listings through the search index, product pages, feedback, the
//! cart and checkout. Every event is in the database before the call answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use app::error::AppError;
use app::shop::api::ssr::Shop;
use app::shop::api::Visit;
use app::shop::model::*;
use async_trait::async_trait;
use curio::InteractionKind;
use tower_sessions::Session;

use crate::error::Error;
use crate::http::sessions::{SessionAuth, AUTH_KEY};
use crate::recs::{RecService, ShopperEvent, SurfaceRequest};
use crate::services::search::{CategoryNode, Filters, SearchIndex, Sort, PRICE_BANDS};
use crate::store::shop::{CardRow, CartChange, CheckoutError, NewEvent};
use crate::store::Store;

/// The session key holding an anonymous visitor's shopper id.
pub const VISITOR_KEY: &str = "visitor";

/// The session key holding the ids of the latest add-to-cart presses.
const RECENT_ADDS_KEY: &str = "recent_adds";

/// Products per listing page.
pub const PAGE_SIZE: usize = 24;

/// How old a card in the recommendation rows' cache may be.
const CARD_TTL: Duration = Duration::from_secs(2);

/// Cards held at most; the cache empties when full (a catalogue this size is rare).
const CARD_CACHE_MAX: usize = 50_000;

/// Product cards kept in memory for recommendation rows, which show the same few
/// hundred cards thousands of times a second. A card is at most [`CARD_TTL`] old; this
/// node's own checkouts and ratings drop the cards they change at once, so only another
/// node's changes show late, and stock is checked again when an item goes in the cart.
#[derive(Default)]
struct CardCache {
    cards: RwLock<HashMap<i64, (ProductCard, Instant)>>,
}

impl CardCache {
    /// The cards of `ids` in that order (unknown ids left out): fresh ones from memory,
    /// the rest in one database query.
    async fn get(&self, store: &Store, ids: &[i64]) -> Result<Vec<ProductCard>, Error> {
        let now = Instant::now();
        let mut found: HashMap<i64, ProductCard> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cards = self.cards.read().unwrap_or_else(PoisonError::into_inner);
            for &id in ids {
                match cards.get(&id) {
                    Some((card, at)) if now.duration_since(*at) < CARD_TTL => {
                        found.insert(id, card.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if !missing.is_empty() {
            let fetched: Vec<ProductCard> =
                store.cards(&missing).await?.into_iter().map(card).collect();
            let mut cards = self.cards.write().unwrap_or_else(PoisonError::into_inner);
            if cards.len() + fetched.len() > CARD_CACHE_MAX {
                cards.clear();
            }
            for c in fetched {
                cards.insert(c.id, (c.clone(), now));
                found.insert(c.id, c);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Drops these products' cards (their stock or rating just changed here).
    fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut cards = self.cards.write().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            cards.remove(&id);
        }
    }
}

/// History items the dashboard shows (and whose cards it reads).
const HISTORY_SHOWN: usize = 60;

/// What a history item's strongest event says the shopper did.
fn action_label(kind: Option<InteractionKind>) -> &'static str {
    match kind {
        Some(InteractionKind::Purchase) => "bought",
        Some(InteractionKind::AddToCart) => "added to cart",
        Some(InteractionKind::Like) => "liked",
        Some(InteractionKind::Rating) => "rated",
        Some(InteractionKind::Click) => "clicked",
        Some(InteractionKind::Dislike) => "disliked",
        Some(InteractionKind::NotInterested) => "marked not interested",
        Some(_) => "viewed",
        None => "picked at onboarding",
    }
}

/// The shop, over the store and the search index.
pub struct ShopService {
    store: Store,
    search: Arc<SearchIndex>,
    recs: Arc<RecService>,
    demo_label: Option<String>,
    rec_cards: CardCache,
}

impl ShopService {
    /// The service; reads whether the catalogue is the generated demo.
    pub async fn new(
        store: Store,
        search: Arc<SearchIndex>,
        recs: Arc<RecService>,
    ) -> Result<Self, Error> {
        let demo_label = store.meta(crate::services::seed::DEMO_META_KEY).await?;
        Ok(Self {
            store,
            search,
            recs,
            demo_label,
            rec_cards: CardCache::default(),
        })
    }

    /// Hands a recorded (durable) product event to the recommendation service's live
    /// state. A failure there does not undo the event: it is logged, and the shopper's
    /// state reloads from the log on their next request.
    async fn observe(&self, event: &NewEvent) {
        let Some(product_id) = event.product_id else {
            return;
        };
        if let Err(error) = self
            .recs
            .observe(
                event.shopper_id,
                product_id,
                event.kind,
                event.value,
                event.at_ms,
            )
            .await
        {
            tracing::warn!(%error, "live recommendation state not updated");
        }
    }

    /// The session's shopper: the account's when logged in, else the visitor's, created
    /// when `create` (at the first event) and kept in the session.
    async fn shopper(&self, session: &Session, create: bool) -> Result<Option<i64>, Error> {
        if let Some(auth) = session.get::<SessionAuth>(AUTH_KEY).await? {
            return Ok(Some(self.store.account_shopper(auth.account_id).await?));
        }
        if let Some(id) = session.get::<i64>(VISITOR_KEY).await? {
            return Ok(Some(id));
        }
        if !create {
            return Ok(None);
        }
        let id = self.store.new_visitor().await?;
        session.insert(VISITOR_KEY, id).await?;
        Ok(Some(id))
    }

    async fn cards(&self, ids: &[i64]) -> Result<Vec<ProductCard>, Error> {
        Ok(self.store.cards(ids).await?.into_iter().map(card).collect())
    }

    /// `NotFound` for an unknown product, `Invalid` for one that cannot be bought now.
    async fn check_buyable(&self, product_id: i64) -> Result<(), AppError> {
        let Some(row) = self.store.cards(&[product_id]).await?.into_iter().next() else {
            return Err(AppError::NotFound("this product".into()));
        };
        if !row.in_stock || row.price_minor.is_none() {
            return Err(AppError::invalid(
                "quantity",
                format!("{} cannot be bought right now.", row.title),
            ));
        }
        Ok(())
    }

    /// What the product page shows of a shopper's opinion (like, stars) and the product's
    /// star histogram.
    async fn opinion_state(
        &self,
        product_id: i64,
        (liked, stars): (Option<bool>, Option<i32>),
    ) -> Result<OpinionState, AppError> {
        Ok(OpinionState {
            opinion: liked,
            stars: stars.map(|s| s.clamp(1, 5) as u8),
            histogram: self.store.histogram(product_id).await?,
        })
    }

    /// Whether the product exists, from the card cache when its card is there (at most
    /// [`CARD_TTL`] old: a product removed by an import on another node may still count
    /// for that long, and the write that follows then fails on its foreign key).
    async fn product_id_exists(&self, product_id: i64) -> Result<bool, Error> {
        Ok(!self
            .rec_cards
            .get(&self.store, &[product_id])
            .await?
            .is_empty())
    }

    async fn cart_view(&self, shopper: Option<i64>) -> Result<CartView, Error> {
        let Some(shopper) = shopper else {
            return Ok(CartView::default());
        };
        let lines = self.store.cart_lines(shopper).await?;
        let ids: Vec<i64> = lines.iter().map(|(id, _)| *id).collect();
        let cards = self.cards(&ids).await?;
        let mut view = CartView::default();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for (product, (_, quantity)) in cards.into_iter().zip(lines) {
            let line_total = product.price.as_ref().map(|p| Money {
                minor: p.minor * i64::from(quantity),
                currency: p.currency.clone(),
            });
            if let Some(t) = &line_total {
                *totals.entry(t.currency.clone()).or_default() += t.minor;
            }
            view.items += quantity;
            view.lines.push(CartLine {
                product,
                quantity,
                line_total,
            });
        }
        // One currency is the normal case; a mixed cart shows no single total.
        if totals.len() == 1 {
            view.total = totals
                .into_iter()
                .next()
                .map(|(currency, minor)| Money { minor, currency });
        }
        Ok(view)
    }

    /// Keeps the search index's rating of a product in step with the database.
    async fn refresh_rating(&self, product_id: i64) -> Result<(), Error> {
        if let Some(row) = self.store.cards(&[product_id]).await?.first() {
            let (average, count) = row.rating().unwrap_or((0.0, 0));
            self.search
                .set_rating(product_id, average * count as f64, count);
        }
        Ok(())
    }
}

/// A card from its row.
pub fn card(row: CardRow) -> ProductCard {
    let rating = row.rating().map(|(average, count)| RatingSummary {
        average: average as f32,
        count,
    });
    ProductCard {
        id: row.product_id,
        sku: row.sku,
        title: row.title,
        brand: row.brand,
        price: row.price_minor.map(|minor| Money {
            minor,
            currency: row.currency,
        }),
        image_url: row.image_url,
        rating,
        in_stock: row.in_stock,
    }
}

fn link(node: &CategoryNode) -> CategoryLink {
    CategoryLink {
        slug: node.slug.clone(),
        name: node.name.clone(),
    }
}

/// A short label from the client (surface, model, request): letters, digits and `:_-.`,
/// at most 64 characters, or nothing.
fn label(value: Option<String>) -> Option<String> {
    value.filter(|v| {
        !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b))
    })
}

fn price_band_label(low: i64, high: Option<i64>) -> String {
    let dollars = |minor: i64| format!("${}", minor / 100);
    match (low, high) {
        (0, Some(high)) => format!("Under {}", dollars(high)),
        (low, Some(high)) => format!("{} – {}", dollars(low), dollars(high)),
        (low, None) => format!("{} and up", dollars(low)),
    }
}

/// `Unauthenticated` unless the session is logged in.
async fn require_account(session: &Session) -> Result<(), AppError> {
    match session
        .get::<SessionAuth>(AUTH_KEY)
        .await
        .map_err(Error::from)?
    {
        Some(_) => Ok(()),
        None => Err(AppError::Unauthenticated),
    }
}

fn internal(error: Error) -> AppError {
    error.into()
}

#[async_trait]
impl Shop for ShopService {
    async fn home(&self, session: &Session) -> Result<HomeData, AppError> {
        let popular = self
            .search
            .search("", &Filters::default(), Sort::Relevance, 0, 12)
            .map_err(internal)?;
        let newest = self
            .search
            .search("", &Filters::default(), Sort::Newest, 0, 12)
            .map_err(internal)?;
        let recent_ids = match self.shopper(session, false).await? {
            Some(shopper) => self.store.recently_viewed(shopper, 8).await?,
            None => Vec::new(),
        };
        Ok(HomeData {
            departments: self.search.departments().iter().map(link).collect(),
            popular: self.cards(&popular.product_ids).await?,
            newest: self.cards(&newest.product_ids).await?,
            recent: self.cards(&recent_ids).await?,
            demo_label: self.demo_label.clone(),
        })
    }

    async fn search(
        &self,
        session: &Session,
        query: SearchQuery,
    ) -> Result<SearchResults, AppError> {
        let mut query = query;
        query.q = query
            .q
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string();
        query.brands.truncate(20);
        query.page = query.page.max(1);
        let category = match &query.category {
            Some(slug) => Some(
                self.search
                    .category_by_slug(slug)
                    .ok_or_else(|| AppError::NotFound("that category".into()))?,
            ),
            None => None,
        };
        let filters = Filters {
            category_id: category.as_ref().map(|c| c.category_id),
            brands: query.brands.clone(),
            price_min: query.price_min,
            price_max: query.price_max,
            min_rating: query.min_rating.map(f64::from),
        };
        let sort = match query.sort {
            SortOrder::Relevance => Sort::Relevance,
            SortOrder::PriceLow => Sort::PriceLow,
            SortOrder::PriceHigh => Sort::PriceHigh,
            SortOrder::Rating => Sort::Rating,
            SortOrder::Newest => Sort::Newest,
        };
        let offset = (query.page as usize - 1) * PAGE_SIZE;
        let outcome = self
            .search
            .search(&query.q, &filters, sort, offset, PAGE_SIZE)
            .map_err(internal)?;

        if !query.q.is_empty() && query.page == 1 {
            let shopper = self.shopper(session, true).await?;
            // Refining the same search (a facet, another order) is not a new search.
            let repeated = match shopper {
                Some(id) => self.store.last_search(id).await?.as_deref() == Some(query.q.as_str()),
                None => false,
            };
            if let Some(shopper) = shopper.filter(|_| !repeated) {
                let event = NewEvent {
                    shopper_id: shopper,
                    product_id: None,
                    kind: InteractionKind::Search,
                    value: Some(outcome.total as f32),
                    query: Some(query.q.clone()),
                    at_ms: crate::http::sessions::unix_millis(),
                    surface: Some("search".into()),
                    model: None,
                    request_id: None,
                };
                self.store.record_event(&event).await?;
            }
        }

        let heading = match (&category, query.q.is_empty()) {
            (Some(c), true) => c.name.clone(),
            (Some(c), false) => format!("“{}” in {}", query.q, c.name),
            (None, false) => format!("Results for “{}”", query.q),
            (None, true) => "All products".to_string(),
        };
        let categories = outcome
            .categories
            .iter()
            .map(|(node, count)| FacetValue {
                value: node.slug.clone(),
                label: node.name.clone(),
                count: *count,
                selected: false,
            })
            .collect();
        let mut brands: Vec<FacetValue> = outcome
            .brands
            .iter()
            .enumerate()
            .filter(|(i, (brand, _))| {
                *i < 12 || query.brands.iter().any(|b| b.eq_ignore_ascii_case(brand))
            })
            .map(|(_, (brand, count))| FacetValue {
                value: brand.clone(),
                label: brand.clone(),
                count: *count,
                selected: query.brands.iter().any(|b| b.eq_ignore_ascii_case(brand)),
            })
            .collect();
        brands.sort_by(|a, b| b.selected.cmp(&a.selected).then(b.count.cmp(&a.count)));
        let prices = PRICE_BANDS
            .iter()
            .zip(&outcome.price_bands)
            .filter(|(_, count)| **count > 0)
            .map(|(&(low, high), count)| FacetValue {
                value: format!("{low}-{}", high.map(|h| h.to_string()).unwrap_or_default()),
                label: price_band_label(low, high),
                count: *count,
                selected: query.price_min == Some(low) && query.price_max == high,
            })
            .collect();
        let ratings = outcome
            .ratings
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(stars, count)| FacetValue {
                value: stars.to_string(),
                label: format!("{stars}★ & up"),
                count: *count,
                selected: query.min_rating == Some(*stars),
            })
            .collect();
        let breadcrumbs = self
            .search
            .breadcrumbs(category.as_ref().map(|c| c.category_id))
            .iter()
            .map(link)
            .collect();
        Ok(SearchResults {
            heading,
            breadcrumbs,
            total: outcome.total as u64,
            pages: outcome.total.div_ceil(PAGE_SIZE) as u32,
            products: self.cards(&outcome.product_ids).await?,
            categories,
            brands,
            prices,
            ratings,
            query,
        })
    }

    async fn product(
        &self,
        session: &Session,
        sku: String,
        visit: Visit,
    ) -> Result<ProductDetail, AppError> {
        let Some((card_row, detail)) = self.store.product_by_sku(&sku).await? else {
            return Err(AppError::NotFound("this product".into()));
        };
        let product_id = card_row.product_id;
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        let mut events = Vec::with_capacity(2);
        if let Some(from) = label(visit.from) {
            let mut click = NewEvent::on(shopper, product_id, InteractionKind::Click, &from);
            click.model = label(visit.model);
            click.request_id = label(visit.request);
            events.push(click);
        }
        events.push(NewEvent::on(
            shopper,
            product_id,
            InteractionKind::View,
            "product",
        ));
        self.store.record_events(&events).await?;
        for _ in &events {
            self.search.bump_popularity(product_id);
        }
        // One re-scoring of the shown lists for the click and the view together.
        let live: Vec<ShopperEvent> = events
            .iter()
            .map(|e| ShopperEvent {
                product_id,
                kind: e.kind,
                value: e.value,
                at_ms: e.at_ms,
            })
            .collect();
        if let Err(error) = self.recs.observe_all(shopper, &live).await {
            tracing::warn!(%error, "live recommendation state not updated");
        }

        let (liked, stars) = self.store.opinion(shopper, product_id).await?;
        let in_cart = self
            .store
            .cart_lines(shopper)
            .await?
            .into_iter()
            .find(|(id, _)| *id == product_id)
            .map_or(0, |(_, q)| q);
        let histogram = self.store.histogram(product_id).await?;
        let source_rating = card_row.source_rating.map(|average| RatingSummary {
            average,
            count: card_row.source_rating_count.unwrap_or(0),
        });
        let attributes: BTreeMap<String, String> =
            serde_json::from_str(&detail.attributes).unwrap_or_default();
        Ok(ProductDetail {
            card: card(card_row),
            description: detail.description,
            breadcrumbs: self
                .search
                .breadcrumbs(detail.category_id)
                .iter()
                .map(link)
                .collect(),
            attributes: attributes.into_iter().collect(),
            histogram,
            source_rating,
            my_stars: stars.map(|s| s.clamp(1, 5) as u8),
            my_opinion: liked,
            in_cart,
        })
    }

    async fn feedback(
        &self,
        session: &Session,
        product_id: i64,
        feedback: Feedback,
        surface: String,
    ) -> Result<OpinionState, AppError> {
        let surface = label(Some(surface)).unwrap_or_else(|| "product".into());
        if !self.product_id_exists(product_id).await? {
            return Err(AppError::NotFound("this product".into()));
        }
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        match feedback {
            Feedback::Like | Feedback::Dislike => {
                let (liked, kind) = if feedback == Feedback::Like {
                    (true, InteractionKind::Like)
                } else {
                    (false, InteractionKind::Dislike)
                };
                let event = NewEvent::on(shopper, product_id, kind, &surface);
                let opinion = self
                    .store
                    .set_liked(shopper, product_id, Some(liked), Some(&event))
                    .await?;
                self.search.bump_popularity(product_id);
                self.observe(&event).await;
                // The opinion as just written: no second read.
                return self.opinion_state(product_id, opinion).await;
            }
            Feedback::NotInterested => {
                // Hides the product from this shopper's lists; no opinion is set, so the
                // product page shows no dislike and near-duplicates keep their place.
                let event = NewEvent::on(
                    shopper,
                    product_id,
                    InteractionKind::NotInterested,
                    &surface,
                );
                self.store.record_event(&event).await?;
                self.observe(&event).await;
            }
            Feedback::ClearOpinion => {
                // Withdrawing is not a new signal: the opinion goes, the log keeps history.
                self.store
                    .set_liked(shopper, product_id, None, None)
                    .await?;
                self.recs.forget_opinion(shopper, product_id).await?;
            }
            Feedback::Rate(stars) => {
                if !(1..=5).contains(&stars) {
                    return Err(AppError::invalid("stars", "Choose 1 to 5 stars."));
                }
                let event = NewEvent::on(shopper, product_id, InteractionKind::Rating, &surface)
                    .with_value(f32::from(stars));
                self.store.rate(shopper, product_id, stars, &event).await?;
                self.refresh_rating(product_id).await?;
                self.rec_cards.forget([product_id]);
                self.search.bump_popularity(product_id);
                self.observe(&event).await;
            }
        }
        let opinion = self.store.opinion(shopper, product_id).await?;
        self.opinion_state(product_id, opinion).await
    }

    async fn cart(&self, session: &Session) -> Result<CartView, AppError> {
        let shopper = self.shopper(session, false).await?;
        Ok(self.cart_view(shopper).await?)
    }

    async fn set_cart(
        &self,
        session: &Session,
        product_id: i64,
        quantity: i32,
        surface: String,
    ) -> Result<CartView, AppError> {
        if !(0..=99).contains(&quantity) {
            return Err(AppError::invalid(
                "quantity",
                "Choose a quantity from 0 to 99.",
            ));
        }
        let surface = label(Some(surface)).unwrap_or_else(|| "cart".into());
        if quantity > 0 {
            self.check_buyable(product_id).await?;
        } else if !self.product_id_exists(product_id).await? {
            return Err(AppError::NotFound("this product".into()));
        }
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        let recorded = self
            .store
            .set_cart_quantity(shopper, product_id, quantity, &surface)
            .await?;
        self.search.bump_popularity(product_id);
        if let Some(event) = recorded {
            self.observe(&event).await;
        }
        Ok(self.cart_view(Some(shopper)).await?)
    }

    async fn add_to_cart(
        &self,
        session: &Session,
        product_id: i64,
        quantity: i32,
        surface: String,
        click: String,
    ) -> Result<CartView, AppError> {
        if !(1..=99).contains(&quantity) {
            return Err(AppError::invalid(
                "quantity",
                "Choose a quantity from 1 to 99.",
            ));
        }
        let click = label(Some(click))
            .ok_or_else(|| AppError::invalid("click", "A button press needs a short id."))?;
        let surface = label(Some(surface)).unwrap_or_else(|| "product".into());
        self.check_buyable(product_id).await?;
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        // The last presses this session made: a retried request of one of them is a no-op.
        let mut recent: Vec<String> = session
            .get(RECENT_ADDS_KEY)
            .await
            .map_err(Error::from)?
            .unwrap_or_default();
        if !recent.contains(&click) {
            let recorded = self
                .store
                .change_cart(shopper, product_id, CartChange::Add(quantity), &surface)
                .await?;
            self.search.bump_popularity(product_id);
            if let Some(event) = recorded {
                self.observe(&event).await;
            }
            recent.push(click);
            let excess = recent.len().saturating_sub(20);
            recent.drain(..excess);
            session
                .insert(RECENT_ADDS_KEY, recent)
                .await
                .map_err(Error::from)?;
        }
        Ok(self.cart_view(Some(shopper)).await?)
    }

    async fn checkout(&self, session: &Session) -> Result<OrderView, AppError> {
        require_account(session).await?;
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        let (order_id, purchases) = match self.store.checkout(shopper).await {
            Ok(done) => done,
            Err(CheckoutError::Other(e)) => return Err(e.into()),
            Err(refused) => return Err(AppError::invalid("cart", refused.to_string())),
        };
        // Their stock just fell: recommendation rows read it again.
        self.rec_cards
            .forget(purchases.iter().filter_map(|e| e.product_id));
        for event in &purchases {
            self.observe(event).await;
        }
        tracing::info!(order_id, "order placed");
        self.orders(session)
            .await?
            .into_iter()
            .find(|o| o.id == order_id)
            .ok_or(AppError::Internal)
    }

    async fn orders(&self, session: &Session) -> Result<Vec<OrderView>, AppError> {
        require_account(session).await?;
        let Some(shopper) = self.shopper(session, false).await? else {
            return Ok(Vec::new());
        };
        let orders = self.store.orders(shopper, 50).await?;
        Ok(orders
            .into_iter()
            .map(|(order, lines)| OrderView {
                id: order.shop_order_id,
                placed_at: time::OffsetDateTime::from_unix_timestamp(order.placed_at)
                    .map(|t| {
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                            t.year(),
                            u8::from(t.month()),
                            t.day(),
                            t.hour(),
                            t.minute()
                        )
                    })
                    .unwrap_or_default(),
                lines: lines
                    .into_iter()
                    .map(|l| OrderLineView {
                        title: l.title,
                        sku: l.sku,
                        quantity: l.quantity,
                        unit_price: Money {
                            minor: l.unit_price_minor,
                            currency: order.currency.clone(),
                        },
                    })
                    .collect(),
                total: Money {
                    minor: order.total_minor,
                    currency: order.currency,
                },
            })
            .collect())
    }

    async fn liked(&self, session: &Session) -> Result<Vec<ProductCard>, AppError> {
        let Some(shopper) = self.shopper(session, false).await? else {
            return Ok(Vec::new());
        };
        let ids = self.store.liked_products(shopper, 100).await?;
        Ok(self.cards(&ids).await?)
    }

    async fn why(&self, session: &Session) -> Result<WhyView, AppError> {
        let Some(shopper) = self.shopper(session, false).await? else {
            return Ok(WhyView {
                models: Vec::new(),
                taste: TasteView::default(),
            });
        };
        let (picks, taste) = self.recs.model_picks(shopper, 8).await?;
        let mut ids: Vec<i64> = picks
            .iter()
            .flat_map(|p| p.items.iter().map(|i| i.0))
            .chain(taste.products.iter().take(HISTORY_SHOWN).map(|p| p.0))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let cards: HashMap<i64, ProductCard> = self
            .cards(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let models = picks
            .into_iter()
            .map(|p| ModelColumn {
                label: curio::registry::label(&p.model).to_string(),
                items: p
                    .items
                    .into_iter()
                    .filter_map(|(id, score, reason)| {
                        Some(ScoredCard {
                            product: cards.get(&id)?.clone(),
                            score,
                            reason,
                        })
                    })
                    .collect(),
                model: p.model,
                ndcg_at_10: p.ndcg_at_10,
            })
            .collect();
        let history: Vec<HistoryItem> = taste
            .products
            .iter()
            .take(HISTORY_SHOWN)
            .filter_map(|&(id, weight, kind)| {
                Some(HistoryItem {
                    product: cards.get(&id)?.clone(),
                    weight,
                    action: action_label(kind).to_string(),
                })
            })
            .collect();
        let total: f32 = history.iter().map(|h| h.weight).sum();
        let mut brands: HashMap<String, f32> = HashMap::new();
        for item in &history {
            if let Some(brand) = &item.product.brand {
                *brands.entry(brand.clone()).or_default() +=
                    item.weight / total.max(f32::MIN_POSITIVE);
            }
        }
        let mut brands: Vec<(String, f32)> = brands.into_iter().collect();
        brands.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        brands.truncate(8);
        let currency = history
            .iter()
            .find_map(|h| h.product.price.as_ref().map(|p| p.currency.clone()));
        let price_band = taste
            .price_band
            .zip(currency)
            .map(|((low, mid, high), currency)| {
                let money = |minor| Money {
                    minor,
                    currency: currency.clone(),
                };
                (money(low), money(mid), money(high))
            });
        Ok(WhyView {
            models,
            taste: TasteView {
                categories: taste.categories.into_iter().take(8).collect(),
                brands,
                price_band,
                history,
            },
        })
    }

    async fn remove_from_history(
        &self,
        session: &Session,
        product_id: Option<i64>,
    ) -> Result<(), AppError> {
        let Some(shopper) = self.shopper(session, false).await? else {
            return Ok(());
        };
        let removed = self.store.remove_history(shopper, product_id).await?;
        // The live state reloads from what is left of the log on the next request.
        self.recs.forget(shopper);
        tracing::info!(
            shopper,
            ?product_id,
            removed,
            "history removed by the shopper"
        );
        Ok(())
    }

    fn demo_label(&self) -> Option<String> {
        self.demo_label.clone()
    }

    async fn recommendations(
        &self,
        session: &Session,
        query: RecsQuery,
    ) -> Result<RecRow, AppError> {
        let surface = label(Some(query.surface))
            .ok_or_else(|| AppError::invalid("surface", "Name a recommendation surface."))?;
        if !self.recs.strategy().surface.contains_key(&surface) {
            return Err(AppError::NotFound(format!(
                "the recommendation row {surface:?}"
            )));
        }
        let category = match &query.category {
            Some(slug) => Some(
                self.search
                    .category_by_slug(slug)
                    .ok_or_else(|| AppError::NotFound("that category".into()))?
                    .path,
            ),
            None => None,
        };
        let shopper = self.shopper(session, false).await?;
        let cart = match shopper {
            Some(id) => self.store.cart_products_recent(id).await?,
            None => Vec::new(),
        };
        let request = SurfaceRequest {
            surface,
            product: query.product,
            cart,
            category,
            price_min: query.price_min,
            price_max: query.price_max,
        };
        let list = self.recs.recommend(shopper, &request).await?;
        let ids: Vec<i64> = list.items.iter().map(|i| i.product_id).collect();
        let mut cards: BTreeMap<i64, ProductCard> = self
            .rec_cards
            .get(&self.store, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let set = self.recs.current();
        let items = list
            .items
            .into_iter()
            .filter_map(|item| {
                // Stock can change after training: the card says what is true now.
                let card = cards.remove(&item.product_id).filter(|c| c.in_stock)?;
                let category = set
                    .catalog
                    .item(item.product_id)
                    .and_then(|i| set.catalog.paths[i as usize].clone());
                Some(RecCard {
                    product: card,
                    reason: item.reason,
                    category,
                })
            })
            .collect();
        Ok(RecRow {
            requested: list.requested,
            surface: list.surface,
            title: list.title,
            variant: list.variant,
            request_id: list.request_id,
            items,
        })
    }

    async fn onboard(
        &self,
        session: &Session,
        categories: Vec<String>,
        products: Vec<i64>,
    ) -> Result<(), AppError> {
        if categories.len() > 20 || products.len() > 50 {
            return Err(AppError::invalid(
                "categories",
                "Pick at most 20 categories and 50 products.",
            ));
        }
        let mut ids = Vec::with_capacity(categories.len());
        for slug in &categories {
            let node = self
                .search
                .category_by_slug(slug)
                .ok_or_else(|| AppError::NotFound(format!("the category {slug:?}")))?;
            ids.push(node.category_id);
        }
        ids.sort_unstable();
        ids.dedup();
        for &product_id in &products {
            if !self.product_id_exists(product_id).await? {
                return Err(AppError::NotFound("one of the picked products".into()));
            }
        }
        let shopper = self
            .shopper(session, true)
            .await?
            .ok_or(AppError::Internal)?;
        self.recs.set_interests(shopper, ids).await?;
        for product_id in products {
            let event = NewEvent::on(shopper, product_id, InteractionKind::Like, "onboarding");
            self.store
                .set_liked(shopper, product_id, Some(true), Some(&event))
                .await?;
            self.observe(&event).await;
        }
        Ok(())
    }

    async fn recent(&self, session: &Session) -> Result<Vec<ProductCard>, AppError> {
        let Some(shopper) = self.shopper(session, false).await? else {
            return Ok(Vec::new());
        };
        let ids = self.store.recently_viewed(shopper, 48).await?;
        Ok(self.cards(&ids).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_labels_are_short_and_plain() {
        assert_eq!(
            label(Some("home:popular".into())).as_deref(),
            Some("home:popular")
        );
        assert_eq!(label(Some("x<script>".into())), None);
        assert_eq!(label(Some("a".repeat(65))), None);
        assert_eq!(label(Some(String::new())), None);
    }

    #[test]
    fn price_bands_read_naturally() {
        assert_eq!(price_band_label(0, Some(2_500)), "Under $25");
        assert_eq!(price_band_label(2_500, Some(5_000)), "$25 – $50");
        assert_eq!(price_band_label(100_000, None), "$1000 and up");
    }
}
