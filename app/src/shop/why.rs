//! "Why am I seeing this?": the shopper's own recommendation dashboard. Each model's
//! picks for them side by side, with scores and reasons; the taste their events show;
//! and their history, which they can prune or reset.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{remove_from_history, reset_history, why};
use super::components::*;
use super::model::*;
use super::state::RecsContext;

/// The dashboard page (`/why`).
#[component]
pub fn WhyPage() -> impl IntoView {
    let recs_ctx = expect_context::<RecsContext>();
    let data = Resource::new(move || recs_ctx.version.get(), |_| why());
    view! {
        <Title text="Why am I seeing this? — Curio"/>
        <h1>"Why am I seeing this?"</h1>
        <p class="muted">
            "Every model in the shop scores products from what you did here. This page shows "
            "what each one would pick for you now, the taste it sees, and the history it uses."
        </p>
        <Transition fallback=|| view! { <div class="skeleton skeleton-page"></div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) if view.taste.history.is_empty() => view! {
                        <section class="card empty-state" data-testid="why-empty">
                            <p>"We know nothing about you yet: like, rate or open a few products and come back."</p>
                            <a href="/" class="button">"Browse the shop"</a>
                        </section>
                    }.into_any(),
                    Ok(view) => view! { <WhyDetails view/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn WhyDetails(view: WhyView) -> impl IntoView {
    let taste = view.taste.clone();
    view! {
        <section class="card taste" aria-labelledby="taste-title" data-testid="taste">
            <h2 id="taste-title">"Your taste"</h2>
            <div class="taste-grid">
                <ShareBars title="Categories" shares=taste.categories.clone() testid="taste-categories"/>
                <ShareBars title="Brands" shares=taste.brands.clone() testid="taste-brands"/>
                <div>
                    <h3>"Price band"</h3>
                    {match taste.price_band.clone() {
                        Some((low, mid, high)) => view! {
                            <p data-testid="taste-price">
                                {format!("Mostly {} to {}, typically {}", low.display(), high.display(), mid.display())}
                            </p>
                        }.into_any(),
                        None => view! { <p class="muted">"No priced products yet."</p> }.into_any(),
                    }}
                </div>
            </div>
        </section>
        <section aria-labelledby="models-title">
            <h2 id="models-title">"What each model would recommend"</h2>
            <div class="model-columns" data-testid="model-columns">
                {view.models.into_iter().map(|column| view! { <ModelColumnView column/> }).collect_view()}
            </div>
        </section>
        <HistoryList history=taste.history/>
    }
}

/// Labelled horizontal bars of shares (0..1).
#[component]
fn ShareBars(
    title: &'static str,
    shares: Vec<(String, f32)>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div data-testid=testid>
            <h3>{title}</h3>
            {if shares.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="share-bars">
                        {shares.into_iter().map(|(name, share)| {
                            let percent = (share * 100.0).round().clamp(0.0, 100.0);
                            view! {
                                <li>
                                    <span class="share-name">{name.clone()}</span>
                                    <span class="bar" role="img" aria-label=format!("{name}: {percent}%")>
                                        <span class="fill" style:width=format!("{percent}%")></span>
                                    </span>
                                    <span class="muted">{format!("{percent}%")}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn ModelColumnView(column: ModelColumn) -> impl IntoView {
    let model = column.model.clone();
    let heading = format!("model-{model}");
    let labelled_by = heading.clone();
    view! {
        <section class="model-column card" aria-labelledby=labelled_by data-testid="model-column"
            data-model=column.model.clone()>
            <h3 id=heading>{column.label.clone()}</h3>
            <p class="muted small-print">
                {column.ndcg_at_10.map_or_else(
                    || "Not measured on the holdout".to_string(),
                    |n| format!("NDCG@10 on the holdout: {n:.3}"),
                )}
            </p>
            <ol class="model-picks">
                {column.items.into_iter().map(|item| view! {
                    <li>
                        <a href=product_href(&item.product.sku, &format!("why:{model}"))>
                            {item.product.title.clone()}
                        </a>
                        <span class="score muted">{format!(" {:.3}", item.score)}</span>
                        <p class="rec-reason">{item.reason}</p>
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn HistoryList(history: Vec<HistoryItem>) -> impl IntoView {
    let recs_ctx = expect_context::<RecsContext>();
    let message = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let refresh = move || recs_ctx.version.update(|v| *v += 1);
    let reset = move |_| {
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        optimistic(
            reset_history,
            move |()| refresh(),
            move |e| message.set(Some(format!("Your history was not reset: {e}"))),
        );
    };
    let max = history
        .iter()
        .map(|h| h.weight)
        .fold(f32::MIN_POSITIVE, f32::max);
    view! {
        <section class="card" aria-labelledby="history-title" data-testid="history">
            <h2 id="history-title">"Your history"</h2>
            <p class="muted">"Recent and stronger actions weigh more. Remove anything you do not want used."</p>
            <p class="form-error" role="alert">{move || message.get()}</p>
            <ul class="history-list">
                {history.into_iter().map(|item| {
                    let id = item.product.id;
                    let title = item.product.title.clone();
                    let percent = (item.weight / max * 100.0).round().clamp(1.0, 100.0);
                    let remove = {
                        let title = title.clone();
                        move |_| {
                            let title = title.clone();
                            optimistic(
                                move || remove_from_history(id),
                                move |()| refresh(),
                                move |e| message.set(Some(format!("{title} was not removed: {e}"))),
                            );
                        }
                    };
                    view! {
                        <li data-testid="history-item" data-product-id=id>
                            <a href=product_href(&item.product.sku, "why:history")>{title.clone()}</a>
                            <span class="muted">{format!(" — {}", item.action)}</span>
                            <span class="bar" role="img" aria-label=format!("weight {percent}%")>
                                <span class="fill" style:width=format!("{percent}%")></span>
                            </span>
                            <button class="small" on:click=remove data-testid="history-remove"
                                aria-label=format!("Remove {title} from your history")>
                                "Remove"
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <button class="danger" on:click=reset data-testid="history-reset">
                {move || if confirming.get() { "Click again to delete your whole history" } else { "Reset my history" }}
            </button>
        </section>
    }
}
