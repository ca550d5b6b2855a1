//! Recommendation rows: a titled row of cards, each with a one-line reason and instant
//! feedback buttons. A button changes the card at once, saves in the background (with
//! retries), and then every row on the page refetches, so "for you" reflects the like
//! without a page load. A failed save puts the card back and says so.

use leptos::prelude::*;

use super::api::{add_to_cart, give_feedback, onboard, recommendations};
use super::components::*;
use super::model::*;
use super::state::{CartContext, RecsContext};

/// Placeholder cards while a row loads, so the page does not jump when it arrives.
#[component]
pub fn RowSkeleton() -> impl IntoView {
    view! {
        <section class="product-row" aria-busy="true" aria-label="Loading recommendations">
            <div class="skeleton skeleton-title"></div>
            <div class="row-scroller">
                {(0..6).map(|_| view! { <div class="product-card skeleton"></div> }).collect_view()}
            </div>
        </section>
    }
}

/// One recommendation row for `surface` (the strategy's surface names: `for_you`,
/// `similar`, `complete_order`, ...). Nothing shows when the row is empty.
/// `departments`, when given, lets a shopper with no history pick what they like.
#[component]
pub fn RecommendationRow(
    #[prop(into)] surface: String,
    #[prop(optional)] product: Option<i64>,
    #[prop(optional)] departments: Vec<CategoryLink>,
) -> impl IntoView {
    let recs_ctx = expect_context::<RecsContext>();
    let cart_ctx = expect_context::<CartContext>();
    let query = RecsQuery {
        surface,
        product,
        category: None,
        price_min: None,
        price_max: None,
    };
    let row = Resource::new(
        move || (recs_ctx.version.get(), cart_ctx.version.get()),
        move |_| recommendations(query.clone()),
    );
    view! {
        <Transition fallback=|| view! { <RowSkeleton/> }>
            {move || {
                let departments = departments.clone();
                Suspend::new(async move {
                    match row.await {
                        Ok(row) if !row.items.is_empty() => {
                            view! { <RecRowView row departments/> }.into_any()
                        }
                        Ok(_) => ().into_any(),
                        // A row is an extra: when it fails the page still works, and says so
                        // quietly.
                        Err(e) => view! {
                            <p class="muted" role="status">
                                {format!("Recommendations are unavailable right now: {e}")}
                            </p>
                        }
                        .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn RecRowView(row: RecRow, departments: Vec<CategoryLink>) -> impl IntoView {
    let id = format!("recs-{}", row.requested);
    let (labelled_by, testid) = (id.clone(), id.clone());
    let message = RwSignal::new(None::<String>);
    let onboarding = row.surface == "onboarding_picks" && !departments.is_empty();
    let surface = row.surface.clone();
    let personal = row.surface == "for_you";
    view! {
        <section class="product-row rec-row" aria-labelledby=labelled_by data-testid=testid
            data-surface=row.surface.clone() data-variant=row.variant.clone()>
            <div class="row-header">
                <h2 id=id>{row.title.clone()}</h2>
                {personal.then(|| view! { <a href="/why" class="muted" data-testid="why-link">"Why these?"</a> })}
            </div>
            {onboarding.then(|| view! { <Onboarding departments/> })}
            <p class="form-error" role="alert" data-testid="rec-message">{move || message.get()}</p>
            <div class="row-scroller">
                {row
                    .items
                    .into_iter()
                    .map(|item| view! { <RecTile item surface=surface.clone() message/> })
                    .collect_view()}
            </div>
        </section>
    }
}

/// A new shopper's first choice: a few departments, and "for you" follows at once.
#[component]
fn Onboarding(departments: Vec<CategoryLink>) -> impl IntoView {
    let recs_ctx = expect_context::<RecsContext>();
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let submit = move |_| {
        let picked = chosen.get_untracked();
        if picked.is_empty() {
            error.set(Some("Pick at least one department.".into()));
            return;
        }
        saving.set(true);
        optimistic(
            move || onboard(picked.clone(), Vec::new()),
            move |()| {
                error.set(None);
                saving.set(false);
                recs_ctx.version.update(|v| *v += 1);
            },
            move |e| {
                error.set(Some(format!("Your choice was not saved: {e}")));
                saving.set(false);
            },
        );
    };
    view! {
        <div class="onboarding" data-testid="onboarding">
            <p>"New here? Pick a few departments you like and we will start from there."</p>
            <div class="chips" role="group" aria-label="Departments you like">
                {departments
                    .into_iter()
                    .map(|d| {
                        let slug = d.slug.clone();
                        let pressed = {
                            let slug = slug.clone();
                            move || chosen.with(|c| c.contains(&slug)).to_string()
                        };
                        let toggle = move |_| {
                            chosen.update(|c| match c.iter().position(|s| *s == slug) {
                                Some(i) => {
                                    c.remove(i);
                                }
                                None => c.push(slug.clone()),
                            })
                        };
                        view! {
                            <button class="chip" aria-pressed=pressed on:click=toggle
                                data-testid="onboarding-department" data-slug=d.slug.clone()>
                                {d.name}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <button class="primary" on:click=submit disabled=move || saving.get()
                data-testid="onboarding-submit">
                "Show my picks"
            </button>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

/// A recommended product: its card, why it is here, and the feedback buttons.
#[component]
fn RecTile(item: RecCard, surface: String, message: RwSignal<Option<String>>) -> impl IntoView {
    let recs_ctx = expect_context::<RecsContext>();
    let cart_ctx = expect_context::<CartContext>();
    let id = item.product.id;
    let title = item.product.title.clone();
    let buyable = item.product.in_stock && item.product.price.is_some();
    let liked = RwSignal::new(false);
    let dismissed = RwSignal::new(false);
    let added = RwSignal::new(false);
    let stars = RwSignal::new(None::<u8>);

    let send = {
        let (surface, title) = (surface.clone(), title.clone());
        move |feedback: Feedback| {
            let stars_before = stars.get_untracked();
            match feedback {
                Feedback::Like => liked.set(true),
                Feedback::Rate(n) => stars.set(Some(n)),
                _ => dismissed.set(true),
            }
            let (surface, title) = (surface.clone(), title.clone());
            optimistic(
                move || give_feedback(id, feedback, surface.clone()),
                move |_| {
                    message.set(None);
                    recs_ctx.version.update(|v| *v += 1);
                },
                move |e| {
                    liked.set(false);
                    dismissed.set(false);
                    stars.set(stars_before);
                    message.set(Some(format!("Your feedback on {title} was not saved: {e}")));
                },
            );
        }
    };
    let like = {
        let send = send.clone();
        move |_| send(Feedback::Like)
    };
    let dislike = {
        let send = send.clone();
        move |_| send(Feedback::Dislike)
    };
    let hide = {
        let send = send.clone();
        move |_| send(Feedback::NotInterested)
    };
    let star_buttons = (1..=5u8)
        .map(|n| {
            let send = send.clone();
            let label = format!("Rate {title} {n} out of 5");
            view! {
                <button class="star" on:click=move |_| send(Feedback::Rate(n))
                    data-testid=format!("rec-rate-{n}") aria-label=label
                    aria-pressed=move || (stars.get() == Some(n)).to_string()
                    class:lit=move || stars.get().is_some_and(|s| s >= n)>
                    "★"
                </button>
            }
        })
        .collect_view();
    let add = {
        let (surface, title) = (surface.clone(), title.clone());
        move |_| {
            added.set(true);
            let click = click_id();
            let (surface, title) = (surface.clone(), title.clone());
            optimistic(
                move || add_to_cart(id, 1, surface.clone(), click.clone()),
                move |_| {
                    message.set(None);
                    cart_ctx.version.update(|v| *v += 1);
                },
                move |e| {
                    added.set(false);
                    message.set(Some(format!("{title} was not added to your cart: {e}")));
                },
            );
        }
    };
    view! {
        <div class="rec-card" data-testid="rec-card" data-product-id=id
            data-category=item.category.clone().unwrap_or_default()
            class:dismissed=move || dismissed.get() aria-hidden=move || dismissed.get().to_string()>
            <button class="rec-hide" on:click=hide data-testid="rec-hide"
                aria-label=format!("Not interested in {title}: hide it")
                title="Not interested: hide it from my recommendations">
                "✕"
            </button>
            <ProductTile card=item.product surface=surface/>
            <p class="rec-reason" data-testid="rec-reason">{item.reason}</p>
            <div class="rec-stars" role="group" aria-label=format!("Your rating of {title}")>
                {star_buttons}
            </div>
            <div class="rec-actions" role="group" aria-label=format!("Your opinion of {title}")>
                <button class="icon" on:click=like data-testid="rec-like"
                    aria-label=format!("Like {title}") aria-pressed=move || liked.get().to_string()>
                    "Like"
                </button>
                <button class="icon" on:click=dislike data-testid="rec-dislike"
                    aria-label=format!("Dislike {title}")
                    title="Dislike: show me fewer products like this">
                    "Dislike"
                </button>
                <button class="small" on:click=add disabled=move || !buyable || added.get()
                    data-testid="rec-add" aria-label=format!("Add {title} to your cart")>
                    {move || if added.get() { "In cart" } else { "Add to cart" }}
                </button>
            </div>
        </div>
    }
}
