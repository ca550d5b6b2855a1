//! The shop's pages: home, listings (search and category), product, cart, orders, liked
//! and recently viewed. Buttons update the page at once and save in the background, with
//! retries; a failure rolls the button back and says so.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::params::ParamsMap;

use super::api::{
    add_to_cart, cart, give_feedback, home, liked, orders, product, recently_viewed, search,
    set_cart_quantity, Checkout,
};
use super::components::*;
use super::model::*;
use super::recs::RecommendationRow;
use super::state::{CartContext, RecsContext};
use crate::error::AppError;

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

/// Reads a listing query from the URL (`category` from the path on category pages).
pub fn query_from_url(params: &ParamsMap, category: Option<String>) -> SearchQuery {
    let (price_min, price_max) = params
        .get("price")
        .and_then(|p| {
            let (low, high) = p.split_once('-')?;
            Some((low.parse().ok(), high.parse().ok()))
        })
        .unwrap_or((None, None));
    SearchQuery {
        q: params.get("q").unwrap_or_default(),
        category: category
            .or_else(|| params.get("category"))
            .filter(|c| !c.is_empty()),
        brands: params.get_all("brand").unwrap_or_default(),
        price_min,
        price_max,
        min_rating: params.get("rating").and_then(|r| r.parse().ok()),
        sort: SortOrder::parse(&params.get("sort").unwrap_or_default()),
        page: params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
    }
}

/// The URL of a listing: `/c/<slug>?...` for a category without text, else `/search?...`.
pub fn listing_href(query: &SearchQuery) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !query.q.is_empty() {
        parts.push(format!("q={}", encode(&query.q)));
    }
    let base = match (&query.category, query.q.is_empty()) {
        (Some(slug), true) => format!("/c/{}", encode(slug)),
        (Some(slug), false) => {
            parts.push(format!("category={}", encode(slug)));
            "/search".to_string()
        }
        (None, _) => "/search".to_string(),
    };
    for brand in &query.brands {
        parts.push(format!("brand={}", encode(brand)));
    }
    if query.price_min.is_some() || query.price_max.is_some() {
        parts.push(format!(
            "price={}-{}",
            query.price_min.unwrap_or(0),
            query.price_max.map(|m| m.to_string()).unwrap_or_default()
        ));
    }
    if let Some(stars) = query.min_rating {
        parts.push(format!("rating={stars}"));
    }
    if query.sort != SortOrder::Relevance {
        parts.push(format!("sort={}", query.sort.as_str()));
    }
    if query.page > 1 {
        parts.push(format!("page={}", query.page));
    }
    if parts.is_empty() {
        base
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// A listing whose query comes from the URL: the search page and category pages.
#[component]
pub fn ListingPage() -> impl IntoView {
    let params = use_params_map();
    let url_query = use_query_map();
    let query = Memo::new(move |_| query_from_url(&url_query.get(), params.get().get("slug")));
    let results = Resource::new(move || query.get(), search);
    view! {
        <Transition fallback=|| view! { <GridSkeleton count=12/> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(results) => view! { <Listing results/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One group of facet links.
#[component]
fn FacetGroup(
    title: &'static str,
    values: Vec<FacetValue>,
    href: impl Fn(&FacetValue) -> String + 'static,
    testid: &'static str,
) -> impl IntoView {
    (!values.is_empty()).then(|| {
        view! {
            <section class="facet" data-testid=testid>
                <h3>{title}</h3>
                <ul>
                    {values.iter().map(|v| {
                        let class = if v.selected { "facet-value selected" } else { "facet-value" };
                        view! {
                            <li>
                                <a href=href(v) class=class aria-current=v.selected.then_some("true")>
                                    <span>{v.label.clone()}</span>
                                    <span class="facet-count">{v.count}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

#[component]
fn Listing(results: SearchResults) -> impl IntoView {
    let query = results.query.clone();
    let with = move |change: &dyn Fn(&mut SearchQuery)| {
        let mut q = query.clone();
        q.page = 1;
        change(&mut q);
        listing_href(&q)
    };
    let category_href = {
        let with = with.clone();
        move |v: &FacetValue| with(&|q| q.category = Some(v.value.clone()))
    };
    let brand_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                if v.selected {
                    q.brands.retain(|b| !b.eq_ignore_ascii_case(&v.value));
                } else {
                    q.brands.push(v.value.clone());
                }
            })
        }
    };
    let price_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                if v.selected {
                    q.price_min = None;
                    q.price_max = None;
                } else {
                    let (low, high) = v.value.split_once('-').unwrap_or((&v.value, ""));
                    q.price_min = low.parse().ok();
                    q.price_max = high.parse().ok();
                }
            })
        }
    };
    let rating_href = {
        let with = with.clone();
        move |v: &FacetValue| {
            with(&|q| {
                q.min_rating = if v.selected {
                    None
                } else {
                    v.value.parse().ok()
                }
            })
        }
    };
    let sorts = SortOrder::ALL
        .into_iter()
        .map(|sort| {
            let href = with(&|q| q.sort = sort);
            let current = results.query.sort == sort;
            view! {
                <a href=href class=if current { "sort selected" } else { "sort" }
                    aria-current=current.then_some("true")>{sort.label()}</a>
            }
        })
        .collect_view();
    let page = results.query.page;
    let prev = (page > 1).then(|| {
        let mut q = results.query.clone();
        q.page = page - 1;
        listing_href(&q)
    });
    let next = (page < results.pages).then(|| {
        let mut q = results.query.clone();
        q.page = page + 1;
        listing_href(&q)
    });
    let surface = if results.query.q.is_empty() {
        "category"
    } else {
        "search"
    };
    let total = results.total;
    let clear = (results.query.category.is_some()
        || !results.query.brands.is_empty()
        || results.query.price_min.is_some()
        || results.query.price_max.is_some()
        || results.query.min_rating.is_some())
    .then(|| {
        let href = listing_href(&SearchQuery {
            q: results.query.q.clone(),
            ..SearchQuery::default()
        });
        view! { <a href=href class="clear-filters">"Clear filters"</a> }
    });
    view! {
        <Title text=format!("{} — Curio", results.heading)/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <a href="/">"Home"</a>
            {results.breadcrumbs.iter().map(|c| view! {
                <span aria-hidden="true">" › "</span>
                <a href=format!("/c/{}", encode(&c.slug))>{c.name.clone()}</a>
            }).collect_view()}
        </nav>
        <div class="listing">
            <aside class="facets" aria-label="Filters">
                {clear}
                <FacetGroup title="Category" values=results.categories.clone() href=category_href testid="facet-category"/>
                <FacetGroup title="Price" values=results.prices.clone() href=price_href testid="facet-price"/>
                <FacetGroup title="Rating" values=results.ratings.clone() href=rating_href testid="facet-rating"/>
                <FacetGroup title="Brand" values=results.brands.clone() href=brand_href testid="facet-brand"/>
            </aside>
            <section class="results" aria-live="polite">
                <header class="results-header">
                    <h1>{results.heading.clone()}</h1>
                    <p class="muted" data-testid="result-count">
                        {format!("{total} {}", if total == 1 { "product" } else { "products" })}
                    </p>
                    <nav class="sorts" aria-label="Sort by">{sorts}</nav>
                </header>
                {if results.products.is_empty() {
                    view! {
                        <div class="empty-state">
                            <p>"Nothing matches. Try fewer words or fewer filters."</p>
                        </div>
                        <RecommendationRow surface="for_you"/>
                    }.into_any()
                } else {
                    view! { <ProductGrid cards=results.products.clone() surface=surface.into()/> }.into_any()
                }}
                <nav class="pager" aria-label="Pages">
                    {prev.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                    {(results.pages > 1).then(|| view! {
                        <span class="muted">{format!("Page {page} of {}", results.pages)}</span>
                    })}
                    {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
                </nav>
            </section>
        </div>
    }
}

/// A product page; the URL's `from`, `model` and `req` say where it was opened from.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let url_query = use_query_map();
    let detail = Resource::new(
        move || {
            let q = url_query.get();
            (
                params.get().get("sku").unwrap_or_default(),
                q.get("from"),
                q.get("model"),
                q.get("req"),
            )
        },
        |(sku, from, model, request)| product(sku, from, model, request),
    );
    view! {
        <Suspense fallback=|| view! { <div class="product-page skeleton-page" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <ProductView detail/> }.into_any(),
                    Err(AppError::NotFound(what)) => view! {
                        <section class="card">
                            <h1>"Not found"</h1>
                            <p>{format!("We could not find {what}. ")}<a href="/">"Back to the shop"</a></p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductView(detail: ProductDetail) -> impl IntoView {
    let id = detail.card.id;
    let opinion = RwSignal::new(detail.my_opinion);
    let stars = RwSignal::new(detail.my_stars);
    let histogram = RwSignal::new(detail.histogram);
    let in_cart = RwSignal::new(detail.in_cart);
    let quantity = RwSignal::new(1i32);
    let message = RwSignal::new(None::<String>);
    let cart_ctx = expect_context::<CartContext>();
    let recs_ctx = expect_context::<RecsContext>();

    // Sends feedback; on failure puts the buttons back as they were and says so. Only the
    // latest click's answer sets the buttons: an earlier answer arriving late is stale.
    let generation = StoredValue::new(0u64);
    let send = move |feedback: Feedback, before: (Option<bool>, Option<u8>, [i64; 5])| {
        let mine = generation.get_value() + 1;
        generation.set_value(mine);
        let latest = move || generation.get_value() == mine;
        optimistic(
            move || give_feedback(id, feedback, "product".into()),
            move |state| {
                if latest() {
                    recs_ctx.version.update(|v| *v += 1);
                    opinion.set(state.opinion);
                    stars.set(state.stars);
                    histogram.set(state.histogram);
                    message.set(None);
                }
            },
            move |e| {
                if latest() {
                    opinion.set(before.0);
                    stars.set(before.1);
                    histogram.set(before.2);
                }
                message.set(Some(format!("Your feedback was not saved: {e}")));
            },
        );
    };
    let snapshot = move || {
        (
            opinion.get_untracked(),
            stars.get_untracked(),
            histogram.get_untracked(),
        )
    };
    let toggle = move |like: bool| {
        let before = snapshot();
        let feedback = match (before.0, like) {
            (Some(true), true) | (Some(false), false) => Feedback::ClearOpinion,
            (_, true) => Feedback::Like,
            (_, false) => Feedback::Dislike,
        };
        opinion.set(match feedback {
            Feedback::Like => Some(true),
            Feedback::Dislike => Some(false),
            _ => None,
        });
        send(feedback, before);
    };
    let rate = move |n: u8| {
        let before = snapshot();
        histogram.update(|h| {
            if let Some(old) = before.1 {
                h[usize::from(old) - 1] = (h[usize::from(old) - 1] - 1).max(0);
            }
            h[usize::from(n) - 1] += 1;
        });
        stars.set(Some(n));
        send(Feedback::Rate(n), before);
    };
    let add_to_cart = move |_| {
        let before = in_cart.get_untracked();
        let more = quantity.get_untracked();
        in_cart.set((before + more).min(99));
        // One id per press: a retried request of this press cannot add twice.
        let click = click_id();
        optimistic(
            move || add_to_cart(id, more, "product".into(), click.clone()),
            move |view| {
                let now = view
                    .lines
                    .iter()
                    .find(|l| l.product.id == id)
                    .map_or(0, |l| l.quantity);
                in_cart.set(now);
                message.set(None);
                cart_ctx.version.update(|v| *v += 1);
            },
            move |e| {
                in_cart.set(before);
                message.set(Some(format!("Not added to your cart: {e}")));
            },
        );
    };

    let card = detail.card.clone();
    let price = card
        .price
        .as_ref()
        .map(|p| p.display())
        .unwrap_or_else(|| "Price on request".into());
    let buyable = card.in_stock && card.price.is_some();
    let image = card
        .image_url
        .clone()
        .unwrap_or_else(|| "/favicon.svg".into());
    let title = card.title.clone();
    view! {
        <Title text=format!("{} — Curio", card.title)/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <a href="/">"Home"</a>
            {detail.breadcrumbs.iter().map(|c| view! {
                <span aria-hidden="true">" › "</span>
                <a href=format!("/c/{}", encode(&c.slug))>{c.name.clone()}</a>
            }).collect_view()}
        </nav>
        <article class="product-page" data-testid="product-page" data-product-id=id>
            <img class="product-image" src=image alt=title.clone() width="400" height="300"/>
            <div class="product-info">
                <h1 data-testid="product-title">{title}</h1>
                <p class="product-brand">{card.brand.clone().map(|b| format!("by {b}"))}</p>
                <p class="product-price big">{price}</p>
                <RatingBadge rating=card.rating.clone()/>
                {(!card.in_stock).then(|| view! { <p class="stock-out">"Out of stock"</p> })}

                <div class="buy-box">
                    <label class="quantity">"Quantity"
                        <select on:change=move |ev| quantity.set(event_target_value(&ev).parse().unwrap_or(1))
                            aria-label="Quantity" disabled=!buyable>
                            {(1..=10).map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                        </select>
                    </label>
                    <button class="primary" on:click=add_to_cart disabled=!buyable data-testid="add-to-cart">
                        "Add to cart"
                    </button>
                    <span class="in-cart muted" data-testid="in-cart" aria-live="polite">
                        {move || (in_cart.get() > 0).then(|| format!("{} in your cart", in_cart.get()))}
                    </span>
                </div>

                <div class="feedback" role="group" aria-label="Your opinion">
                    <button class="toggle" on:click=move |_| toggle(true) data-testid="like"
                        aria-pressed=move || (opinion.get() == Some(true)).to_string()>
                        "♥ Like"
                    </button>
                    <button class="toggle" on:click=move |_| toggle(false) data-testid="dislike"
                        aria-pressed=move || (opinion.get() == Some(false)).to_string()>
                        "✕ Dislike"
                    </button>
                </div>
                <div class="star-input" role="group" aria-label="Your rating" data-testid="star-input">
                    <span class="muted">"Your rating: "</span>
                    {(1..=5u8).map(|n| view! {
                        <button class="star" on:click=move |_| rate(n)
                            aria-label=format!("Rate {n} star{}", if n == 1 { "" } else { "s" })
                            aria-pressed=move || (stars.get() == Some(n)).to_string()
                            class:lit=move || stars.get().is_some_and(|s| n <= s)
                            data-testid=format!("rate-{n}")>
                            "★"
                        </button>
                    }).collect_view()}
                </div>
                {move || message.get().map(|m| view! { <p class="form-error" role="alert" data-testid="feedback-error">{m}</p> })}

                {detail.description.clone().map(|d| view! { <p class="description">{d}</p> })}
                {(!detail.attributes.is_empty()).then(|| view! {
                    <dl class="facts attributes">
                        {detail.attributes.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{v.clone()}</dd> }).collect_view()}
                    </dl>
                })}
                <section class="histogram" aria-label="Ratings in this shop" data-testid="histogram">
                    <h2>"Ratings"</h2>
                    {detail.source_rating.clone().map(|r| view! {
                        <p class="muted">{format!("{:.1} out of 5 from {} reviews at the source", r.average, r.count)}</p>
                    })}
                    {(1..=5usize).rev().map(|n| view! {
                        <div class="histogram-row">
                            <span>{format!("{n}★")}</span>
                            <span class="bar"><span class="fill" style:width=move || {
                                let h = histogram.get();
                                let total: i64 = h.iter().sum();
                                format!("{}%", if total == 0 { 0 } else { h[n - 1] * 100 / total })
                            }></span></span>
                            <span class="muted" data-testid=format!("histogram-{n}")>{move || histogram.get()[n - 1]}</span>
                        </div>
                    }).collect_view()}
                </section>
            </div>
        </article>
        <RecommendationRow surface="bought_together" product=id/>
        <RecommendationRow surface="similar" product=id/>
    }
}

/// The cart: quantities, line totals, total, and checkout.
#[component]
pub fn CartPage() -> impl IntoView {
    let cart_ctx = expect_context::<CartContext>();
    let data = Resource::new(move || cart_ctx.version.get(), |_| cart());
    let checkout = ServerAction::<Checkout>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(order)) = checkout.value().get() {
            checkout.value().set(None);
            cart_ctx.version.update(|v| *v += 1);
            navigate(&format!("/orders?placed={}", order.id), Default::default());
        }
    });
    view! {
        <Title text="Your cart — Curio"/>
        <section class="card cart-page">
            <h1>"Your cart"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading your cart…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) if view.lines.is_empty() => view! {
                            <div class="empty-state" data-testid="cart-empty">
                                <p>"Your cart is empty."</p>
                                <a href="/" class="button">"Browse the shop"</a>
                            </div>
                        }.into_any(),
                        Ok(view) => view! {
                            <ul class="cart-lines">
                                {view.lines.into_iter().map(|line| view! { <CartLineView line/> }).collect_view()}
                            </ul>
                            <p class="cart-total" data-testid="cart-total">
                                "Total: " <strong>{view.total.map(|t| t.display()).unwrap_or_default()}</strong>
                                <span class="muted">{format!(" ({} items)", view.items)}</span>
                            </p>
                            <button class="primary" data-testid="checkout"
                                disabled=move || checkout.pending().get()
                                on:click=move |_| { checkout.dispatch(Checkout {}); }>
                                "Place order"
                            </button>
                            <p class="muted">"No payment is taken: this shop is a demonstration."</p>
                        }.into_any(),
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {move || checkout.value().get().and_then(|r| r.err()).map(|e| match e {
                AppError::Unauthenticated => view! {
                    <p class="form-error" role="alert" data-testid="checkout-error">
                        "Log in or create an account to place your order — your cart comes with you. "
                        <a href="/login?next=/cart">"Log in"</a> " · " <a href="/register?next=/cart">"Register"</a>
                    </p>
                }.into_any(),
                e => view! { <p class="form-error" role="alert" data-testid="checkout-error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
        <RecommendationRow surface="complete_order"/>
        <RecommendationRow surface="for_you"/>
    }
}

#[component]
fn CartLineView(line: CartLine) -> impl IntoView {
    let cart_ctx = expect_context::<CartContext>();
    let id = line.product.id;
    let quantity = RwSignal::new(line.quantity);
    let message = RwSignal::new(None::<String>);
    let set = move |target: i32| {
        let before = quantity.get_untracked();
        let target = target.clamp(0, 99);
        quantity.set(target);
        optimistic(
            move || set_cart_quantity(id, target, "cart".into()),
            move |_| cart_ctx.version.update(|v| *v += 1),
            move |e| {
                quantity.set(before);
                message.set(Some(format!("Not changed: {e}")));
            },
        );
    };
    let href = product_href(&line.product.sku, "cart");
    let image = line
        .product
        .image_url
        .clone()
        .unwrap_or_else(|| "/favicon.svg".into());
    view! {
        <li class="cart-line" data-testid="cart-line" data-sku=line.product.sku.clone()>
            <img src=image alt="" width="96" height="72"/>
            <a href=href class="cart-title">{line.product.title.clone()}</a>
            <span class="unit-price muted">{line.product.price.map(|p| p.display())}</span>
            <span class="stepper" role="group" aria-label="Quantity">
                <button on:click=move |_| set(quantity.get_untracked() - 1) aria-label="One fewer">"−"</button>
                <span class="qty" data-testid="line-quantity">{move || quantity.get()}</span>
                <button on:click=move |_| set(quantity.get_untracked() + 1) aria-label="One more">"+"</button>
            </span>
            <strong class="line-total">{line.line_total.map(|t| t.display())}</strong>
            <button class="link-button" on:click=move |_| set(0) data-testid="remove-line">"Remove"</button>
            {move || message.get().map(|m| view! { <span class="form-error" role="alert">{m}</span> })}
        </li>
    }
}

/// Order history; `?placed=N` thanks the shopper for order N.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| orders());
    let url_query = use_query_map();
    let placed = move || url_query.get().get("placed");
    view! {
        <Title text="Your orders — Curio"/>
        <section class="card">
            <h1>"Your orders"</h1>
            {move || placed().map(|n| view! {
                <p class="notice" role="status" data-testid="order-placed">{format!("Thank you! Order #{n} is placed.")}</p>
            })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty-state">"No orders yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="orders">
                                {list.into_iter().map(|order| view! {
                                    <li class="order" data-testid="order">
                                        <h2>{format!("Order #{}", order.id)}</h2>
                                        <p class="muted">{order.placed_at.clone()}</p>
                                        <ul>
                                            {order.lines.into_iter().map(|l| view! {
                                                <li>
                                                    <a href=product_href(&l.sku, "orders")>{l.title}</a>
                                                    {format!(" × {} at {}", l.quantity, l.unit_price.display())}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                        <p>"Total: " <strong>{order.total.display()}</strong></p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::Unauthenticated) => view! {
                            <p>"Log in to see your orders. " <a href="/login?next=/orders">"Log in"</a></p>
                        }.into_any(),
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        {move || placed().is_some().then(|| view! {
            <RecommendationRow surface="because_you_liked"/>
            <RecommendationRow surface="for_you"/>
        })}
    }
}

/// Products the shopper likes.
#[component]
pub fn LikedPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| liked());
    view! {
        <Title text="Liked — Curio"/>
        <h1>"Things you like"</h1>
        <Suspense fallback=|| view! { <GridSkeleton count=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(cards) if cards.is_empty() => view! {
                        <p class="empty-state">"Nothing yet. Press “Like” on a product you like."</p>
                    }.into_any(),
                    Ok(cards) => view! { <ProductGrid cards surface="liked".into()/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Products the shopper viewed.
#[component]
pub fn RecentPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| recently_viewed());
    view! {
        <Title text="Recently viewed — Curio"/>
        <h1>"Recently viewed"</h1>
        <Suspense fallback=|| view! { <GridSkeleton count=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(cards) if cards.is_empty() => view! { <p class="empty-state">"You have not viewed any product yet."</p> }.into_any(),
                    Ok(cards) => view! { <ProductGrid cards surface="recent".into()/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_urls_round_trip() {
        let query = SearchQuery {
            q: "red tent".into(),
            category: Some("outdoors-tents".into()),
            brands: vec!["Peak Line".into(), "Nord".into()],
            price_min: Some(2_500),
            price_max: None,
            min_rating: Some(4),
            sort: SortOrder::PriceLow,
            page: 2,
        };
        let href = listing_href(&query);
        assert!(
            href.starts_with("/search?q=red%20tent&category=outdoors-tents"),
            "{href}"
        );
        let (_, params) = href.split_once('?').unwrap();
        let mut map = ParamsMap::new();
        for pair in params.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            let v = v.replace("%20", " ");
            map.insert(k.to_string(), v);
        }
        assert_eq!(query_from_url(&map, None), query);
        let category_only = SearchQuery {
            category: Some("books".into()),
            page: 1,
            ..SearchQuery::default()
        };
        assert_eq!(listing_href(&category_only), "/c/books");
    }
}
