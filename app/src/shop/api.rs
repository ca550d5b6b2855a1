//! The shop's server functions, and (server side) the capability the server provides.
//!
//! Every function that records or changes something is a POST (Leptos's default); the
//! shopper is always the one of the request's session, never an argument.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::model::*;
use crate::error::AppError;

/// The front page: departments, popular and new products, the shopper's recent views.
#[server(endpoint = "shop/home", input = Json)]
pub async fn home() -> Result<HomeData, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.home(&session).await)
}

/// A search or category listing; a search with text is recorded as a `search` event.
#[server(endpoint = "shop/search", input = Json)]
pub async fn search(query: SearchQuery) -> Result<SearchResults, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.search(&session, query).await)
}

/// A product page. Records a `view`, and a `click` when `from` names the list it was
/// opened from (`model` and `request` name the recommendation behind it).
#[server(endpoint = "shop/product", input = Json)]
pub async fn product(
    sku: String,
    from: Option<String>,
    model: Option<String>,
    request: Option<String>,
) -> Result<ProductDetail, AppError> {
    let (shop, session) = ssr::context().await?;
    let visit = Visit {
        from,
        model,
        request,
    };
    crate::auth::ssr::respond(shop.product(&session, sku, visit).await)
}

/// Like, dislike, withdraw either, or rate a product.
#[server(endpoint = "shop/feedback", input = Json)]
pub async fn give_feedback(
    product_id: i64,
    feedback: Feedback,
    surface: String,
) -> Result<OpinionState, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.feedback(&session, product_id, feedback, surface).await)
}

/// The shopper's cart.
#[server(endpoint = "shop/cart", input = Json)]
pub async fn cart() -> Result<CartView, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.cart(&session).await)
}

/// Sets how many of a product are in the cart (0 removes it); records `add_to_cart` or
/// `remove_from_cart` with the difference.
#[server(endpoint = "shop/cart/set", input = Json)]
pub async fn set_cart_quantity(
    product_id: i64,
    quantity: i32,
    surface: String,
) -> Result<CartView, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.set_cart(&session, product_id, quantity, surface).await)
}

/// Adds `quantity` of a product to the cart, on top of what the cart holds on the server.
/// `click` names the button press: a press the server has seen already changes nothing,
/// so a retried request cannot add twice.
#[server(endpoint = "shop/cart/add", input = Json)]
pub async fn add_to_cart(
    product_id: i64,
    quantity: i32,
    surface: String,
    click: String,
) -> Result<CartView, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(
        shop.add_to_cart(&session, product_id, quantity, surface, click)
            .await,
    )
}

/// Places an order for the cart (logged-in shoppers only) and records the purchases.
#[server(endpoint = "shop/checkout", input = Json)]
pub async fn checkout() -> Result<OrderView, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.checkout(&session).await)
}

/// The shopper's orders, newest first.
#[server(endpoint = "shop/orders", input = Json)]
pub async fn orders() -> Result<Vec<OrderView>, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.orders(&session).await)
}

/// Products the shopper likes, most recent first.
#[server(endpoint = "shop/liked", input = Json)]
pub async fn liked() -> Result<Vec<ProductCard>, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.liked(&session).await)
}

/// Products the shopper viewed recently, most recent first.
#[server(endpoint = "shop/recent", input = Json)]
pub async fn recently_viewed() -> Result<Vec<ProductCard>, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.recent(&session).await)
}

/// A recommendation row for the session's shopper, filled from their live state: an
/// event recorded by any call before this one is already reflected.
#[server(endpoint = "shop/recs", input = Json)]
pub async fn recommendations(query: RecsQuery) -> Result<RecRow, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.recommendations(&session, query).await)
}

/// New-shopper onboarding: the categories (slugs) and products they picked. Products
/// count as liked; categories shape "for you" until the first events.
#[server(endpoint = "shop/onboard", input = Json)]
pub async fn onboard(categories: Vec<String>, products: Vec<i64>) -> Result<(), AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.onboard(&session, categories, products).await)
}

/// "Why am I seeing this?": what every model would recommend to the session's shopper
/// now, with scores and reasons, and their taste profile.
#[server(endpoint = "shop/why", input = Json)]
pub async fn why() -> Result<WhyView, AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.why(&session).await)
}

/// Removes a product from the shopper's history: its events and their like or dislike
/// are deleted, and recommendations stop using it at once.
#[server(endpoint = "shop/history/remove", input = Json)]
pub async fn remove_from_history(product_id: i64) -> Result<(), AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.remove_from_history(&session, Some(product_id)).await)
}

/// Deletes the shopper's whole history (events, likes and dislikes, onboarding choices):
/// recommendations start afresh. Orders and public ratings stay.
#[server(endpoint = "shop/history/reset", input = Json)]
pub async fn reset_history() -> Result<(), AppError> {
    let (shop, session) = ssr::context().await?;
    crate::auth::ssr::respond(shop.remove_from_history(&session, None).await)
}

/// Where a product page was opened from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    /// The list or page (`search`, `home:popular`...).
    pub from: Option<String>,
    /// The model that recommended it.
    pub model: Option<String>,
    /// The recommendation request.
    pub request: Option<String>,
}

/// Server-side half of the shop: what `app` needs from the server, provided as context.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::sync::Arc;

    use tower_sessions::Session;

    use super::Visit;
    use crate::error::AppError;
    use crate::shop::model::*;

    /// The shop operations the server implements. The shopper is the session's: its
    /// account when logged in, else an anonymous shopper created at its first event.
    #[async_trait::async_trait]
    pub trait Shop: Send + Sync + 'static {
        /// The front page.
        async fn home(&self, session: &Session) -> Result<HomeData, AppError>;
        /// A listing.
        async fn search(
            &self,
            session: &Session,
            query: SearchQuery,
        ) -> Result<SearchResults, AppError>;
        /// A product page (records the visit).
        async fn product(
            &self,
            session: &Session,
            sku: String,
            visit: Visit,
        ) -> Result<ProductDetail, AppError>;
        /// Feedback on a product.
        async fn feedback(
            &self,
            session: &Session,
            product_id: i64,
            feedback: Feedback,
            surface: String,
        ) -> Result<OpinionState, AppError>;
        /// The cart.
        async fn cart(&self, session: &Session) -> Result<CartView, AppError>;
        /// Sets a cart quantity.
        async fn set_cart(
            &self,
            session: &Session,
            product_id: i64,
            quantity: i32,
            surface: String,
        ) -> Result<CartView, AppError>;
        /// Adds to a cart line, once per `click`.
        async fn add_to_cart(
            &self,
            session: &Session,
            product_id: i64,
            quantity: i32,
            surface: String,
            click: String,
        ) -> Result<CartView, AppError>;
        /// Checks out.
        async fn checkout(&self, session: &Session) -> Result<OrderView, AppError>;
        /// Order history.
        async fn orders(&self, session: &Session) -> Result<Vec<OrderView>, AppError>;
        /// Liked products.
        async fn liked(&self, session: &Session) -> Result<Vec<ProductCard>, AppError>;
        /// Recently viewed products.
        async fn recent(&self, session: &Session) -> Result<Vec<ProductCard>, AppError>;
        /// A recommendation row.
        async fn recommendations(
            &self,
            session: &Session,
            query: RecsQuery,
        ) -> Result<RecRow, AppError>;
        /// Onboarding picks.
        async fn onboard(
            &self,
            session: &Session,
            categories: Vec<String>,
            products: Vec<i64>,
        ) -> Result<(), AppError>;
        /// Each model's picks and the taste profile.
        async fn why(&self, session: &Session) -> Result<WhyView, AppError>;
        /// Deletes one product (`Some`) or everything (`None`) from the history.
        async fn remove_from_history(
            &self,
            session: &Session,
            product_id: Option<i64>,
        ) -> Result<(), AppError>;
        /// The demo-data label, when the catalogue is generated.
        fn demo_label(&self) -> Option<String>;
    }

    /// The shared handle server functions find in their context.
    pub type SharedShop = Arc<dyn Shop>;

    /// The shop capability and the request's session.
    pub async fn context() -> Result<(SharedShop, Session), AppError> {
        let shop = crate::auth::ssr::capability::<SharedShop>("shop")?;
        Ok((shop, crate::auth::ssr::session().await?))
    }
}

/// What the whole site shows about the catalogue: whether it is generated demo data.
#[server(endpoint = "shop/info", input = Json)]
pub async fn shop_info() -> Result<Option<String>, AppError> {
    let (shop, _session) = ssr::context().await?;
    Ok(shop.demo_label())
}
