//! The shop capability the UI's server functions call: who the shopper is (account or
//! anonymous visitor), listings through the search index, product pages, feedback, the
//! cart and checkout. Every event is in the database before the call answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use app::error::AppError;
use app::shop::api::ssr::{Caller, Shop};
use app::shop::api::Visit;
use app::shop::model::*;
use async_trait::async_trait;
use curio::InteractionKind;

use crate::error::Error;
use crate::recs::{RecService, SurfaceRequest};
use crate::services::facets::facets;
use crate::services::search::{CategoryNode, Filters, SearchIndex, Sort};
use crate::store::shop::{CartChange, NewEvent, Opinion};
use crate::store::Store;

mod cards;
mod cart;
mod record;

pub use cards::card;
use cards::CardCache;
use record::{Change, Written};

/// Products per listing page.
pub const PAGE_SIZE: usize = 24;

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
        opinion: Opinion,
    ) -> Result<OpinionState, AppError> {
        Ok(OpinionState {
            opinion: opinion.liked,
            stars: opinion.stars.map(|s| s.clamp(1, 5) as u8),
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

/// `Unauthenticated` unless the caller is logged in.
fn require_account(caller: &Caller) -> Result<(), AppError> {
    match caller.account {
        Some(_) => Ok(()),
        None => Err(AppError::Unauthenticated),
    }
}

fn internal(error: Error) -> AppError {
    error.into()
}

#[async_trait]
impl Shop for ShopService {
    async fn home(&self, caller: &Caller) -> Result<HomeData, AppError> {
        let popular = self
            .search
            .search("", &Filters::default(), Sort::Relevance, 0, 12)
            .map_err(internal)?;
        let newest = self
            .search
            .search("", &Filters::default(), Sort::Newest, 0, 12)
            .map_err(internal)?;
        let recent_ids = match caller.shopper() {
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
        caller: &mut Caller,
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
            // Refining the same search (a facet, another order) is not a new search.
            let repeated = match caller.shopper() {
                Some(id) => self.store.last_search(id).await?.as_deref() == Some(query.q.as_str()),
                None => false,
            };
            if !repeated {
                let shopper = caller.shopper_for_event().await?;
                let event = NewEvent {
                    shopper_id: shopper,
                    product_id: None,
                    kind: InteractionKind::Search,
                    value: Some(outcome.total as f32),
                    query: Some(query.q.clone()),
                    at_ms: crate::clock::unix_millis(),
                    surface: Some("search".into()),
                    model: None,
                    request_id: None,
                };
                self.record(shopper, Change::Events(vec![event])).await?;
            }
        }

        let heading = match (&category, query.q.is_empty()) {
            (Some(c), true) => c.name.clone(),
            (Some(c), false) => format!("“{}” in {}", query.q, c.name),
            (None, false) => format!("Results for “{}”", query.q),
            (None, true) => "All products".to_string(),
        };
        let facets = facets(&outcome, &query);
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
            categories: facets.categories,
            brands: facets.brands,
            prices: facets.prices,
            ratings: facets.ratings,
            query,
        })
    }

    async fn product(
        &self,
        caller: &mut Caller,
        sku: String,
        visit: Visit,
    ) -> Result<ProductDetail, AppError> {
        let Some((card_row, detail)) = self.store.product_by_sku(&sku).await? else {
            return Err(AppError::NotFound("this product".into()));
        };
        let product_id = card_row.product_id;
        let shopper = caller.shopper_for_event().await?;
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
        // One re-scoring of the shown lists for the click and the view together.
        self.record(shopper, Change::Events(events)).await?;

        let opinion = self.store.opinion(shopper, product_id).await?;
        let in_cart = self
            .store
            .cart_lines(shopper)
            .await?
            .into_iter()
            .find(|line| line.product_id == product_id)
            .map_or(0, |line| line.quantity);
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
            my_stars: opinion.stars.map(|s| s.clamp(1, 5) as u8),
            my_opinion: opinion.liked,
            in_cart,
        })
    }

    async fn feedback(
        &self,
        caller: &mut Caller,
        product_id: i64,
        feedback: Feedback,
        surface: String,
    ) -> Result<OpinionState, AppError> {
        let surface = label(Some(surface)).unwrap_or_else(|| "product".into());
        if !self.product_id_exists(product_id).await? {
            return Err(AppError::NotFound("this product".into()));
        }
        let shopper = caller.shopper_for_event().await?;
        let event = |kind| NewEvent::on(shopper, product_id, kind, &surface);
        let change = match feedback {
            Feedback::Like => Change::Opinion {
                product_id,
                liked: Some(true),
                event: Some(event(InteractionKind::Like)),
            },
            Feedback::Dislike => Change::Opinion {
                product_id,
                liked: Some(false),
                event: Some(event(InteractionKind::Dislike)),
            },
            // Hides the product from this shopper's lists; no opinion is set, so the
            // product page shows no dislike and near-duplicates keep their place.
            Feedback::NotInterested => Change::Events(vec![event(InteractionKind::NotInterested)]),
            // Withdrawing is not a new signal: the opinion goes, the log keeps history.
            Feedback::ClearOpinion => Change::Opinion {
                product_id,
                liked: None,
                event: None,
            },
            Feedback::Rate(stars) => {
                if !(1..=5).contains(&stars) {
                    return Err(AppError::invalid("stars", "Choose 1 to 5 stars."));
                }
                Change::Rating {
                    stars,
                    event: event(InteractionKind::Rating).with_value(f32::from(stars)),
                }
            }
        };
        let opinion = match self.record(shopper, change).await? {
            // The opinion as just written: no second read.
            Written::Opinion(opinion) => opinion,
            _ => self.store.opinion(shopper, product_id).await?,
        };
        self.opinion_state(product_id, opinion).await
    }

    async fn cart(&self, caller: &Caller) -> Result<CartView, AppError> {
        Ok(self.cart_view(caller.shopper()).await?)
    }

    async fn set_cart(
        &self,
        caller: &mut Caller,
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
        self.change_cart(caller, product_id, CartChange::Set(quantity), surface)
            .await
    }

    async fn add_to_cart(
        &self,
        caller: &mut Caller,
        product_id: i64,
        quantity: i32,
        surface: String,
    ) -> Result<CartView, AppError> {
        if !(1..=99).contains(&quantity) {
            return Err(AppError::invalid(
                "quantity",
                "Choose a quantity from 1 to 99.",
            ));
        }
        let surface = label(Some(surface)).unwrap_or_else(|| "product".into());
        self.check_buyable(product_id).await?;
        self.change_cart(caller, product_id, CartChange::Add(quantity), surface)
            .await
    }

    async fn checkout(&self, caller: &mut Caller) -> Result<OrderView, AppError> {
        require_account(caller)?;
        let shopper = caller.shopper_for_event().await?;
        let Written::Order(order_id) = self.record(shopper, Change::Checkout).await? else {
            return Err(AppError::Internal);
        };
        tracing::info!(order_id, "order placed");
        self.orders(caller)
            .await?
            .into_iter()
            .find(|o| o.id == order_id)
            .ok_or(AppError::Internal)
    }

    async fn orders(&self, caller: &Caller) -> Result<Vec<OrderView>, AppError> {
        require_account(caller)?;
        let Some(shopper) = caller.shopper() else {
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

    async fn liked(&self, caller: &Caller) -> Result<Vec<ProductCard>, AppError> {
        let Some(shopper) = caller.shopper() else {
            return Ok(Vec::new());
        };
        let ids = self.store.liked_products(shopper, 100).await?;
        Ok(self.cards(&ids).await?)
    }

    async fn why(&self, caller: &Caller) -> Result<WhyView, AppError> {
        let Some(shopper) = caller.shopper() else {
            return Ok(WhyView {
                models: Vec::new(),
                taste: TasteView::default(),
            });
        };
        let (picks, taste) = self.recs.model_picks(shopper, 8).await?;
        let mut ids: Vec<i64> = picks
            .iter()
            .flat_map(|p| p.items.iter().map(|i| i.0))
            .chain(
                taste
                    .products
                    .iter()
                    .take(super::why::HISTORY_SHOWN)
                    .map(|p| p.0),
            )
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let cards: HashMap<i64, ProductCard> = self
            .cards(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(super::why::view(picks, taste, &cards))
    }

    async fn remove_from_history(
        &self,
        caller: &Caller,
        product_id: Option<i64>,
    ) -> Result<(), AppError> {
        let Some(shopper) = caller.shopper() else {
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

    async fn recommendations(&self, caller: &Caller, query: RecsQuery) -> Result<RecRow, AppError> {
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
        let shopper = caller.shopper();
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
        caller: &mut Caller,
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
        let shopper = caller.shopper_for_event().await?;
        self.recs.set_interests(shopper, ids).await?;
        for product_id in products {
            let event = NewEvent::on(shopper, product_id, InteractionKind::Like, "onboarding");
            let like = Change::Opinion {
                product_id,
                liked: Some(true),
                event: Some(event),
            };
            self.record(shopper, like).await?;
        }
        Ok(())
    }

    async fn recent(&self, caller: &Caller) -> Result<Vec<ProductCard>, AppError> {
        let Some(shopper) = caller.shopper() else {
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
}
