//! Building blocks of the shop's pages: product cards, grids and rows, star ratings, and
//! the retrying call that keeps optimistic buttons from losing an action.

use leptos::prelude::*;

use super::model::{ProductCard, RatingSummary};
use crate::error::AppError;

/// The URL of a product page, opened from `surface` (recorded as a click).
pub fn product_href(sku: &str, surface: &str) -> String {
    format!("/p/{}?from={}", encode(sku), encode(surface))
}

/// Percent-encodes a URL query or path value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Read-only stars: "★★★★☆ 4.2 (31)".
#[component]
pub fn RatingBadge(rating: Option<RatingSummary>) -> impl IntoView {
    match rating {
        Some(r) => {
            let full = r.average.round().clamp(0.0, 5.0) as usize;
            let stars = format!("{}{}", "★".repeat(full), "☆".repeat(5 - full));
            let label = format!("Rated {:.1} out of 5 by {} shoppers", r.average, r.count);
            view! {
                <span class="rating" aria-label=label.clone() title=label>
                    <span class="stars" aria-hidden="true">{stars}</span>
                    <span class="rating-value">{format!("{:.1}", r.average)}</span>
                    <span class="muted">{format!("({})", r.count)}</span>
                </span>
            }
            .into_any()
        }
        None => view! { <span class="rating muted">"Not yet rated"</span> }.into_any(),
    }
}

/// A product card: image, title, brand, price and rating, linking to the product page.
#[component]
pub fn ProductTile(card: ProductCard, surface: String) -> impl IntoView {
    let href = product_href(&card.sku, &surface);
    let price = card
        .price
        .as_ref()
        .map(|p| p.display())
        .unwrap_or_else(|| "Price on request".to_string());
    let image = card
        .image_url
        .clone()
        .unwrap_or_else(|| "/favicon.svg".to_string());
    view! {
        <article class="product-card" data-testid="product-card" data-sku=card.sku.clone()>
            <a href=href class="product-link">
                <img src=image alt="" loading="lazy" width="400" height="300"/>
                <h3 class="product-title">{card.title.clone()}</h3>
            </a>
            <p class="product-brand muted">{card.brand.clone().unwrap_or_default()}</p>
            <p class="product-price">{price}</p>
            <RatingBadge rating=card.rating.clone()/>
            {(!card.in_stock).then(|| view! { <p class="stock-out">"Out of stock"</p> })}
        </article>
    }
}

/// Cards in a responsive grid.
#[component]
pub fn ProductGrid(cards: Vec<ProductCard>, surface: String) -> impl IntoView {
    view! {
        <div class="product-grid">
            {cards
                .into_iter()
                .map(|card| view! { <ProductTile card surface=surface.clone()/> })
                .collect_view()}
        </div>
    }
}

/// A titled row of cards that scrolls sideways; nothing when empty.
#[component]
pub fn ProductRow(title: String, cards: Vec<ProductCard>, surface: String) -> impl IntoView {
    (!cards.is_empty()).then(|| {
        let id = format!("row-{}", surface.replace(':', "-"));
        let (labelled_by, testid) = (id.clone(), id.clone());
        view! {
            <section class="product-row" aria-labelledby=labelled_by data-testid=testid>
                <h2 id=id>{title}</h2>
                <div class="row-scroller">
                    {cards
                        .into_iter()
                        .map(|card| view! { <ProductTile card surface=surface.clone()/> })
                        .collect_view()}
                </div>
            </section>
        }
    })
}

/// An error message for a failed load.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    view! { <p class="form-error" role="alert">{error.to_string()}</p> }
}

/// Placeholder cards while a listing loads, so the layout does not jump.
#[component]
pub fn GridSkeleton(count: usize) -> impl IntoView {
    view! {
        <div class="product-grid" aria-busy="true">
            {(0..count).map(|_| view! { <div class="product-card skeleton"></div> }).collect_view()}
        </div>
    }
}

/// Calls `call` until it succeeds, retrying twice (after 0.4 s and 1.5 s) when the request
/// itself failed (network, server restart): a tap on a button is not lost to a hiccup.
/// Answers from the server (bad input, not logged in, an internal error) are not retried:
/// the server may have recorded the event already. The shop's actions set absolute states
/// (liked, 4 stars, quantity 2), so a retried request that did arrive changes no state.
pub async fn with_retry<T, F, Fut>(call: F) -> Result<T, AppError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let mut delays = [400u32, 1500].into_iter();
    loop {
        match call().await {
            Err(error @ AppError::Request(_)) => match delays.next() {
                Some(ms) => sleep_ms(ms).await,
                None => return Err(error),
            },
            other => return other,
        }
    }
}

/// An optimistic action: the page already shows its outcome when this is called. `call`
/// is sent in the background (with [`with_retry`]); then `done` runs with the answer, or
/// `undo` with the error, to put the page back and say so.
pub fn optimistic<T, F, Fut>(
    call: F,
    done: impl FnOnce(T) + 'static,
    undo: impl FnOnce(AppError) + 'static,
) where
    T: 'static,
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    leptos::task::spawn_local(async move {
        match with_retry(call).await {
            Ok(answer) => done(answer),
            Err(error) => undo(error),
        }
    });
}

/// A random id for one button press (letters and digits).
pub fn click_id() -> String {
    #[cfg(feature = "hydrate")]
    let (a, b) = (js_sys::Math::random(), js_sys::Math::random());
    #[cfg(not(feature = "hydrate"))]
    let (a, b) = (0.0_f64, 0.0_f64);
    format!(
        "c{:013x}{:013x}",
        (a * (1u64 << 52) as f64) as u64,
        (b * (1u64 << 52) as f64) as u64
    )
}

#[cfg(feature = "hydrate")]
async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

#[cfg(not(feature = "hydrate"))]
async fn sleep_ms(ms: u32) {
    let _ = ms;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_are_encoded() {
        assert_eq!(
            product_href("CUR-000001", "home:popular"),
            "/p/CUR-000001?from=home:popular"
        );
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
