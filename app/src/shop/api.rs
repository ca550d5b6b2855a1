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
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.home(&caller).await)
}

/// A search or category listing; a search with text is recorded as a `search` event.
#[server(endpoint = "shop/search", input = Json)]
pub async fn search(query: SearchQuery) -> Result<SearchResults, AppError> {
    let (shop, mut caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.search(&mut caller, query).await)
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
    let (shop, mut caller) = ssr::context().await?;
    let visit = Visit {
        from,
        model,
        request,
    };
    crate::account::ssr::respond(shop.product(&mut caller, sku, visit).await)
}

/// Like, dislike, withdraw either, or rate a product.
#[server(endpoint = "shop/feedback", input = Json)]
pub async fn give_feedback(
    product_id: i64,
    feedback: Feedback,
    surface: String,
) -> Result<OpinionState, AppError> {
    let (shop, mut caller) = ssr::context().await?;
    crate::account::ssr::respond(
        shop.feedback(&mut caller, product_id, feedback, surface)
            .await,
    )
}

/// The shopper's cart.
#[server(endpoint = "shop/cart", input = Json)]
pub async fn cart() -> Result<CartView, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.cart(&caller).await)
}

/// Sets how many of a product are in the cart (0 removes it); records `add_to_cart` or
/// `remove_from_cart` with the difference.
#[server(endpoint = "shop/cart/set", input = Json)]
pub async fn set_cart_quantity(
    product_id: i64,
    quantity: i32,
    surface: String,
) -> Result<CartView, AppError> {
    let (shop, mut caller) = ssr::context().await?;
    crate::account::ssr::respond(
        shop.set_cart(&mut caller, product_id, quantity, surface)
            .await,
    )
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
    let (shop, mut caller) = ssr::context().await?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b":_-.".contains(&b);
    if click.is_empty() || click.len() > 64 || !click.bytes().all(plain) {
        return crate::account::ssr::respond(Err(AppError::invalid(
            "click",
            "A button press needs a short id.",
        )));
    }
    // The last presses this session made: a retried request of one of them changes nothing.
    let session = crate::account::ssr::session().await?;
    let mut recent: Vec<String> = session
        .get(ssr::RECENT_ADDS_KEY)
        .await
        .map_err(ssr::session_error)?
        .unwrap_or_default();
    if recent.contains(&click) {
        return crate::account::ssr::respond(shop.cart(&caller).await);
    }
    let cart = shop
        .add_to_cart(&mut caller, product_id, quantity, surface)
        .await;
    if cart.is_ok() {
        recent.push(click);
        let excess = recent.len().saturating_sub(20);
        recent.drain(..excess);
        session
            .insert(ssr::RECENT_ADDS_KEY, recent)
            .await
            .map_err(ssr::session_error)?;
    }
    crate::account::ssr::respond(cart)
}

/// Places an order for the cart (logged-in shoppers only) and records the purchases.
#[server(endpoint = "shop/checkout", input = Json)]
pub async fn checkout() -> Result<OrderView, AppError> {
    let (shop, mut caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.checkout(&mut caller).await)
}

/// The shopper's orders, newest first.
#[server(endpoint = "shop/orders", input = Json)]
pub async fn orders() -> Result<Vec<OrderView>, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.orders(&caller).await)
}

/// Products the shopper likes, most recent first.
#[server(endpoint = "shop/liked", input = Json)]
pub async fn liked() -> Result<Vec<ProductCard>, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.liked(&caller).await)
}

/// Products the shopper viewed recently, most recent first.
#[server(endpoint = "shop/recent", input = Json)]
pub async fn recently_viewed() -> Result<Vec<ProductCard>, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.recent(&caller).await)
}

/// A recommendation row for the session's shopper, filled from their live state: an
/// event recorded by any call before this one is already reflected.
#[server(endpoint = "shop/recs", input = Json)]
pub async fn recommendations(query: RecsQuery) -> Result<RecRow, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.recommendations(&caller, query).await)
}

/// New-shopper onboarding: the categories (slugs) and products they picked. Products
/// count as liked; categories shape "for you" until the first events.
#[server(endpoint = "shop/onboard", input = Json)]
pub async fn onboard(categories: Vec<String>, products: Vec<i64>) -> Result<(), AppError> {
    let (shop, mut caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.onboard(&mut caller, categories, products).await)
}

/// "Why am I seeing this?": what every model would recommend to the session's shopper
/// now, with scores and reasons, and their taste profile.
#[server(endpoint = "shop/why", input = Json)]
pub async fn why() -> Result<WhyView, AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.why(&caller).await)
}

/// Removes a product from the shopper's history: its events and their like or dislike
/// are deleted, and recommendations stop using it at once.
#[server(endpoint = "shop/history/remove", input = Json)]
pub async fn remove_from_history(product_id: i64) -> Result<(), AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.remove_from_history(&caller, Some(product_id)).await)
}

/// Deletes the shopper's whole history (events, likes and dislikes, onboarding choices):
/// recommendations start afresh. Orders and public ratings stay.
#[server(endpoint = "shop/history/reset", input = Json)]
pub async fn reset_history() -> Result<(), AppError> {
    let (shop, caller) = ssr::context().await?;
    crate::account::ssr::respond(shop.remove_from_history(&caller, None).await)
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

    pub use crate::account::ssr::Caller;

    use super::Visit;
    use crate::error::AppError;
    use crate::shop::model::*;

    /// The shop operations the server implements, for the request's [`Caller`]: the
    /// account's shopper when logged in, else a visitor's, made at their first event.
    /// Calls that may record an event take the caller mutably.
    #[async_trait::async_trait]
    pub trait Shop: Send + Sync + 'static {
        /// The front page.
        async fn home(&self, caller: &Caller) -> Result<HomeData, AppError>;
        /// A listing.
        async fn search(
            &self,
            caller: &mut Caller,
            query: SearchQuery,
        ) -> Result<SearchResults, AppError>;
        /// A product page (records the visit).
        async fn product(
            &self,
            caller: &mut Caller,
            sku: String,
            visit: Visit,
        ) -> Result<ProductDetail, AppError>;
        /// Feedback on a product.
        async fn feedback(
            &self,
            caller: &mut Caller,
            product_id: i64,
            feedback: Feedback,
            surface: String,
        ) -> Result<OpinionState, AppError>;
        /// The cart.
        async fn cart(&self, caller: &Caller) -> Result<CartView, AppError>;
        /// Sets a cart quantity.
        async fn set_cart(
            &self,
            caller: &mut Caller,
            product_id: i64,
            quantity: i32,
            surface: String,
        ) -> Result<CartView, AppError>;
        /// Adds to a cart line (the server function makes it once per button press).
        async fn add_to_cart(
            &self,
            caller: &mut Caller,
            product_id: i64,
            quantity: i32,
            surface: String,
        ) -> Result<CartView, AppError>;
        /// Checks out.
        async fn checkout(&self, caller: &mut Caller) -> Result<OrderView, AppError>;
        /// Order history.
        async fn orders(&self, caller: &Caller) -> Result<Vec<OrderView>, AppError>;
        /// Liked products.
        async fn liked(&self, caller: &Caller) -> Result<Vec<ProductCard>, AppError>;
        /// Recently viewed products.
        async fn recent(&self, caller: &Caller) -> Result<Vec<ProductCard>, AppError>;
        /// A recommendation row.
        async fn recommendations(
            &self,
            caller: &Caller,
            query: RecsQuery,
        ) -> Result<RecRow, AppError>;
        /// Onboarding picks.
        async fn onboard(
            &self,
            caller: &mut Caller,
            categories: Vec<String>,
            products: Vec<i64>,
        ) -> Result<(), AppError>;
        /// Each model's picks and the taste profile.
        async fn why(&self, caller: &Caller) -> Result<WhyView, AppError>;
        /// Deletes one product (`Some`) or everything (`None`) from the history.
        async fn remove_from_history(
            &self,
            caller: &Caller,
            product_id: Option<i64>,
        ) -> Result<(), AppError>;
        /// The demo-data label, when the catalogue is generated.
        fn demo_label(&self) -> Option<String>;
    }

    /// The shared handle server functions find in their context.
    pub type SharedShop = Arc<dyn Shop>;

    /// Where a session keeps its last add-to-cart presses.
    pub const RECENT_ADDS_KEY: &str = "recent_adds";

    /// A session store failure, logged; the shopper sees a generic error.
    pub fn session_error(error: tower_sessions::session::Error) -> AppError {
        tracing::error!(%error, "session store");
        AppError::Internal
    }

    /// The shop capability and the request's caller, resolved once.
    pub async fn context() -> Result<(SharedShop, Caller), AppError> {
        let shop = crate::account::ssr::capability::<SharedShop>("shop")?;
        Ok((shop, crate::account::ssr::caller().await?))
    }
}

/// What the whole site shows about the catalogue: whether it is generated demo data.
#[server(endpoint = "shop/info", input = Json)]
pub async fn shop_info() -> Result<Option<String>, AppError> {
    let shop = crate::account::ssr::capability::<ssr::SharedShop>("shop")?;
    Ok(shop.demo_label())
}
