//! The cart and the orders a shopper has placed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::error::AppError;
use crate::shop::api::{cart, orders, set_cart_quantity, Checkout};
use crate::shop::components::*;
use crate::shop::model::*;
use crate::shop::recs::RecommendationRow;
use crate::shop::state::CartContext;

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
