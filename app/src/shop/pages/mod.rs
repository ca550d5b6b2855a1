//! The shop's pages: home, listings (search and category), product, cart, orders, liked
//! and recently viewed. Buttons update the page at once and save in the background, with
//! retries; a failure rolls the button back and says so.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::api::{cart, home};
use super::components::*;
use super::recs::RecommendationRow;
use super::state::CartContext;

mod cart;
mod listing;
mod lists;
mod product;

pub use cart::{CartPage, OrdersPage};
pub use listing::{listing_href, query_from_url, ListingPage};
pub use lists::{LikedPage, RecentPage};
pub use product::ProductPage;

/// The search box in the header; a client-side navigation once hydrated.
#[component]
pub fn SearchBox() -> impl IntoView {
    let query = use_query_map();
    view! {
        <Form action="/search" attr:class="search-form" attr:role="search">
            <input
                type="search"
                name="q"
                placeholder="Search products"
                aria-label="Search products"
                data-testid="search-input"
                prop:value=move || query.get().get("q").unwrap_or_default()
            />
            <button type="submit">"Search"</button>
        </Form>
    }
}

/// The cart link with its item count.
#[component]
pub fn CartLink() -> impl IntoView {
    let cart_ctx = expect_context::<CartContext>();
    let count = Resource::new(move || cart_ctx.version.get(), |_| cart());
    view! {
        <a href="/cart" class="cart-link" data-testid="cart-link">
            "Cart"
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let items = count.await.map(|c| c.items).unwrap_or(0);
                    (items > 0).then(|| view! {
                        <span class="cart-count" data-testid="cart-count"
                            aria-label=format!("{items} items")>{items}</span>
                    })
                })}
            </Transition>
        </a>
    }
}

/// The front page.
#[component]
pub fn ShopHome() -> impl IntoView {
    let data = Resource::new(|| (), |_| home());
    view! {
        <Title text="Curio — a shop that learns what you like"/>
        <Suspense fallback=|| view! { <GridSkeleton count=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(home) => view! {
                        <section class="hero">
                            <h1>"Find things you will like"</h1>
                            <p>"Curio learns from every view, like, rating and purchase."</p>
                            {home.demo_label.clone().map(|label| {
                                let detail = label
                                    .strip_prefix("generated demo data: ")
                                    .unwrap_or(&label)
                                    .to_string();
                                view! {
                                    <p class="demo-badge" data-testid="demo-label">
                                        <strong>"Generated demo data"</strong>
                                        " — the products, brands and shoppers are invented ("
                                        {detail} ")."
                                    </p>
                                }
                            })}
                        </section>
                        <nav class="departments" aria-label="Departments">
                            {home.departments.clone().into_iter().map(|d| view! {
                                <a href=format!("/c/{}", encode(&d.slug)) class="department">{d.name}</a>
                            }).collect_view()}
                        </nav>
                        <RecommendationRow surface="for_you" departments=home.departments.clone()/>
                        <RecommendationRow surface="next_for_you"/>
                        <RecommendationRow surface="because_you_liked"/>
                        <ProductRow title="Recently viewed".into() cards=home.recent surface="home:recent".into()/>
                        <RecommendationRow surface="buy_again"/>
                        <RecommendationRow surface="trending"/>
                        <ProductRow title="New arrivals".into() cards=home.newest surface="home:new".into()/>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
