//! The product page: details, the shopper's opinion and stars, and its recommendation rows.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::error::AppError;
use crate::shop::api::{add_to_cart, give_feedback, product};
use crate::shop::components::*;
use crate::shop::model::*;
use crate::shop::recs::RecommendationRow;
use crate::shop::state::{CartContext, RecsContext};

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
        <RecommendationRow surface="next_for_you"/>
    }
}
