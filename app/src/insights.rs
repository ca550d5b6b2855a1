//! The merchant's insights (`/admin/insights`), for accounts with the admin role: offline
//! metrics per model and version, training curves, catalogue coverage, each strategy's
//! live impressions and engagement over time, the bandit's traffic split, and the newest
//! events. The charts are SVG drawn on the server; the page lays them out.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Everything the insights page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsView {
    /// `hour`, `day` or `week`.
    pub window: String,
    /// The surface the live charts split by variant; `None`: all surfaces, by surface.
    pub surface: Option<String>,
    /// Every surface of the strategy.
    pub surfaces: Vec<String>,
    /// Live counts over the window, all strategies together.
    pub overall: LiveTotals,
    /// Live counts per surface and variant over the window, most served first.
    pub strategies: Vec<LiveTotals>,
    /// The charts, each in its section.
    pub charts: Vec<Chart>,
    /// Model versions, newest first.
    pub versions: Vec<VersionSummary>,
    /// The bandit's split per surface with more than one variant.
    pub split: Vec<SurfaceSplit>,
    /// Products in the catalogue.
    pub catalogue: i64,
    /// Distinct products this node served in a list since it started.
    pub served_products: i64,
}

/// Live counts of one strategy (or of all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveTotals {
    /// The surface (empty for all).
    pub surface: String,
    /// The variant (empty for all).
    pub variant: String,
    /// Lists served.
    pub impressions: i64,
    /// Clicks on their items.
    pub clicks: i64,
    /// Add-to-carts of their items.
    pub carts: i64,
    /// Purchases of their items.
    pub purchases: i64,
}

impl LiveTotals {
    /// `part` per list served, as a percentage ("-" without lists).
    pub fn rate(&self, part: i64) -> String {
        if self.impressions == 0 {
            "-".into()
        } else {
            format!("{:.1}%", 100.0 * part as f64 / self.impressions as f64)
        }
    }
}

/// One chart: an SVG document and what it shows, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// `live`, `offline`, `training`, `coverage` or `bandit`.
    pub section: String,
    /// A stable id (`live-ctr`...), for tests and anchors.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it shows, for screen readers and as a caption.
    pub caption: String,
    /// The SVG markup, drawn by the server from numbers only.
    pub svg: String,
}

/// One model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    /// Its id.
    pub id: i64,
    /// When it was trained, `YYYY-MM-DD HH:MM` UTC.
    pub created: String,
    /// `serve` (a node's background job) or `train` (`curio train --publish`).
    pub origin: String,
    /// `live` or `rejected`.
    pub status: String,
    /// Events it was trained on.
    pub events: i64,
    /// Training wall time.
    pub seconds: f64,
    /// Per model: holdout NDCG@10, recall@10 and catalogue coverage@10.
    pub models: Vec<ModelMetrics>,
}

/// A model's holdout metrics in one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// The model.
    pub model: String,
    /// NDCG@10.
    pub ndcg: Option<f64>,
    /// Recall@10.
    pub recall: Option<f64>,
    /// Share of the catalogue its top-10 lists cover.
    pub coverage: Option<f64>,
}

/// The bandit's split on one surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurfaceSplit {
    /// The surface.
    pub surface: String,
    /// Each variant's share of the next lists and its evidence.
    pub arms: Vec<ArmShare>,
}

/// One variant's share of traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmShare {
    /// The variant.
    pub variant: String,
    /// Share of the next lists (0-1).
    pub share: f64,
    /// Lists served, all nodes.
    pub impressions: u64,
    /// Reward earned.
    pub rewards: f64,
}

/// One event of the log, for the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// Its id.
    pub id: i64,
    /// `HH:MM:SS` UTC.
    pub at: String,
    /// The shopper's id (never their email).
    pub shopper: i64,
    /// `view`, `click`...
    pub kind: String,
    /// The product's title.
    pub product: Option<String>,
    /// The product's SKU.
    pub sku: Option<String>,
    /// The search text, stars or quantity, and the page it came from.
    pub detail: String,
}

/// The insights over `window` (`hour`, `day`, `week`), live charts split by `surface`'s
/// variants when given. Admins only: 401 without a login, 403 for any other account.
#[server(endpoint = "admin/insights", input = Json)]
pub async fn insights(window: String, surface: Option<String>) -> Result<InsightsView, AppError> {
    let (insights, caller) = ssr::context().await?;
    crate::account::ssr::respond(insights.insights(&caller, window, surface).await)
}

/// The insights page's body as HTML, rendered on the server from [`insights`]: the page's
/// code stays out of the WASM bundle every shopper downloads. Admins only.
#[server(endpoint = "admin/insights/page", input = Json)]
pub async fn insights_page(window: String, surface: Option<String>) -> Result<String, AppError> {
    let (insights, caller) = ssr::context().await?;
    let result = insights
        .insights(&caller, window, surface)
        .await
        .map(render);
    crate::account::ssr::respond(result)
}

/// The insights' markup (server side).
#[cfg(feature = "ssr")]
pub fn render(view: InsightsView) -> String {
    Owner::new().with(|| view! { <Insights view/> }.to_html())
}

/// The newest events of the log. Admins only.
#[server(endpoint = "admin/events", input = Json)]
pub async fn recent_events() -> Result<Vec<EventLine>, AppError> {
    let (insights, caller) = ssr::context().await?;
    crate::account::ssr::respond(insights.recent_events(&caller).await)
}

/// The event stream's table as HTML, rendered on the server. Admins only.
#[server(endpoint = "admin/events/page", input = Json)]
pub async fn recent_events_page() -> Result<String, AppError> {
    let (insights, caller) = ssr::context().await?;
    let result = insights
        .recent_events(&caller)
        .await
        .map(|lines| Owner::new().with(|| view! { <EventsTable lines/> }.to_html()));
    crate::account::ssr::respond(result)
}

/// Server-side half: what the server provides as context.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    pub use crate::account::ssr::Caller;

    use super::{EventLine, InsightsView};
    use crate::error::AppError;

    /// The merchant's views. Every method checks the caller's account has the admin role.
    #[async_trait::async_trait]
    pub trait Insights: Send + Sync + 'static {
        /// The insights.
        async fn insights(
            &self,
            caller: &Caller,
            window: String,
            surface: Option<String>,
        ) -> Result<InsightsView, AppError>;
        /// The newest events.
        async fn recent_events(&self, caller: &Caller) -> Result<Vec<EventLine>, AppError>;
    }

    /// The shared handle server functions find in their context.
    pub type SharedInsights = Arc<dyn Insights>;

    /// Keeps the merchant's figures out of browser and proxy caches.
    fn no_store() {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.insert_header(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
        }
    }

    /// The capability and the request's caller; every admin answer is `no-store`.
    pub async fn context() -> Result<(SharedInsights, Caller), AppError> {
        let insights = crate::account::ssr::capability::<SharedInsights>("insights")?;
        no_store();
        Ok((insights, crate::account::ssr::caller().await?))
    }
}

/// Sets the page's HTTP status from a failed load (rendering on the server).
fn page_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            options.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// The windows the page offers.
const WINDOWS: [(&str, &str); 3] = [
    ("hour", "Last hour"),
    ("day", "Last day"),
    ("week", "Last week"),
];

/// The insights page (`/admin/insights?window=day&surface=for_you`).
#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let window = Memo::new(move |_| {
        query
            .read()
            .get("window")
            .filter(|w| WINDOWS.iter().any(|(id, _)| id == w))
            .unwrap_or_else(|| "hour".to_string())
    });
    let surface = Memo::new(move |_| query.read().get("surface").filter(|s| !s.is_empty()));
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || (window.get(), surface.get(), refresh.get()),
        |(window, surface, _)| insights_page(window, surface),
    );
    view! {
        <Title text="Insights — Curio"/>
        <Transition fallback=|| view! { <div class="skeleton skeleton-page"></div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(html) => view! {
                        <div class="insights">
                            <div class="insights-head">
                                <h1>"Insights"</h1>
                                <button type="button" class="button secondary" on:click=move |_| refresh.update(|v| *v += 1)>
                                    "Refresh"
                                </button>
                            </div>
                            <div class="insights" inner_html=html></div>
                            <EventStream/>
                        </div>
                    }.into_any(),
                    Err(error) => {
                        page_status(&error);
                        view! { <Refused error/> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// 401 / 403 / failure page.
#[component]
fn Refused(error: AppError) -> impl IntoView {
    let heading = match error {
        AppError::Unauthenticated => "Log in to see the insights",
        AppError::Forbidden => "403: admins only",
        _ => "The insights could not load",
    };
    let login = matches!(error, AppError::Unauthenticated | AppError::Forbidden);
    view! {
        <section class="card error-page" data-testid="insights-refused">
            <h1>{heading}</h1>
            <p>{error.to_string()}</p>
            {login.then(|| view! {
                <p><a href="/login">"Log in with an admin account"</a>" or "<a href="/">"go back to the shop"</a>"."</p>
            })}
        </section>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Insights(view: InsightsView) -> impl IntoView {
    let InsightsView {
        window,
        surface,
        surfaces,
        overall,
        strategies,
        charts,
        versions,
        split,
        catalogue,
        served_products,
    } = view;
    let href = {
        let window = window.clone();
        let surface = surface.clone();
        move |w: Option<&str>, s: Option<Option<&str>>| {
            let w = w.unwrap_or(&window).to_string();
            let s = s.unwrap_or(surface.as_deref());
            match s {
                Some(s) => format!("/admin/insights?window={w}&surface={s}"),
                None => format!("/admin/insights?window={w}"),
            }
        }
    };
    let no_curves = !charts.iter().any(|c| c.section == "training");
    let section = move |name: &str| {
        charts
            .iter()
            .filter(|c| c.section == name)
            .cloned()
            .map(|chart| view! { <ChartFigure chart/> })
            .collect_view()
    };
    let by = if surface.is_some() {
        "variant"
    } else {
        "surface"
    };
    view! {
            <nav class="chips" aria-label="Time window">
                {WINDOWS.iter().map(|(id, label)| {
                    let current = *id == window;
                    view! {
                        <a class="chip" href=href(Some(id), None) aria-current=current.then_some("page")>{*label}</a>
                    }
                }).collect_view()}
            </nav>
            <section class="card" aria-labelledby="live-title" data-testid="live">
                <h2 id="live-title">"Live results"</h2>
                <div class="kpis">
                    <Kpi label="Lists served" value=overall.impressions.to_string() testid="kpi-impressions"/>
                    <Kpi label="Clicks" value=overall.clicks.to_string() testid="kpi-clicks"/>
                    <Kpi label="Click-through" value=overall.rate(overall.clicks) testid="kpi-ctr"/>
                    <Kpi label="Add to cart" value=overall.rate(overall.carts) testid="kpi-cart"/>
                    <Kpi label="Purchase" value=overall.rate(overall.purchases) testid="kpi-purchase"/>
                </div>
                <nav class="chips" aria-label="Split the charts by">
                    <a class="chip" href=href(None, Some(None)) aria-current=surface.is_none().then_some("page")>"All surfaces"</a>
                    {surfaces.iter().map(|s| {
                        let current = surface.as_deref() == Some(s.as_str());
                        view! {
                            <a class="chip" href=href(None, Some(Some(s))) aria-current=current.then_some("page")>{s.clone()}</a>
                        }
                    }).collect_view()}
                </nav>
                <p class="muted">{format!("Rates are per list served; lines are one per {by}.")}</p>
                <div class="chart-grid">{section("live")}</div>
                <table class="data-table" data-testid="strategy-table">
                    <caption>"Per strategy over the window"</caption>
                    <thead><tr>
                        <th scope="col">"Surface"</th><th scope="col">"Variant"</th>
                        <th scope="col">"Lists"</th><th scope="col">"Clicks"</th>
                        <th scope="col">"CTR"</th><th scope="col">"Cart"</th><th scope="col">"Purchase"</th>
                    </tr></thead>
                    <tbody>
                        {strategies.into_iter().map(|t| view! {
                            <tr>
                                <td>{t.surface.clone()}</td><td>{t.variant.clone()}</td>
                                <td>{t.impressions}</td><td>{t.clicks}</td>
                                <td>{t.rate(t.clicks)}</td><td>{t.rate(t.carts)}</td><td>{t.rate(t.purchases)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section class="card" aria-labelledby="bandit-title" data-testid="bandit">
                <h2 id="bandit-title">"Traffic split now"</h2>
                <div class="chart-grid">{section("bandit")}</div>
                <table class="data-table">
                    <caption>"Each variant's share of the next lists, and its evidence (all nodes)"</caption>
                    <thead><tr>
                        <th scope="col">"Surface"</th><th scope="col">"Variant"</th><th scope="col">"Share"</th>
                        <th scope="col">"Lists"</th><th scope="col">"Reward per list"</th>
                    </tr></thead>
                    <tbody>
                        {split.into_iter().flat_map(|s| {
                            let surface = s.surface.clone();
                            s.arms.into_iter().map(move |a| {
                                let per_list = if a.impressions == 0 { "-".to_string() } else { format!("{:.3}", a.rewards / a.impressions as f64) };
                                view! {
                                    <tr>
                                        <td>{surface.clone()}</td><td>{a.variant}</td>
                                        <td>{format!("{:.0}%", 100.0 * a.share)}</td>
                                        <td>{a.impressions}</td><td>{per_list}</td>
                                    </tr>
                                }
                            })
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section class="card" aria-labelledby="offline-title" data-testid="offline">
                <h2 id="offline-title">"Offline metrics"</h2>
                <p class="muted">"Holdout: each shopper's latest item, hidden from training."</p>
                <div class="chart-grid">{section("offline")}</div>
                <VersionsTable versions/>
            </section>
            <section class="card" aria-labelledby="training-title" data-testid="training">
                <h2 id="training-title">"Training curves"</h2>
                {no_curves.then(|| view! {
                    <p class="muted">"The serving versions hold no model trained in epochs (NeuMF, two-tower) yet."</p>
                })}
                <div class="chart-grid">{section("training")}</div>
            </section>
            <section class="card" aria-labelledby="coverage-title" data-testid="coverage">
                <h2 id="coverage-title">"Catalogue coverage"</h2>
                <p data-testid="live-coverage">
                    {format!(
                        "Lists from this server have shown {served_products} of {catalogue} products ({:.1}%) since it started.",
                        if catalogue > 0 { 100.0 * served_products as f64 / catalogue as f64 } else { 0.0 }
                    )}
                </p>
                <div class="chart-grid">{section("coverage")}</div>
            </section>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn Kpi(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="kpi">
            <span class="kpi-value" data-testid=testid>{value}</span>
            <span class="kpi-label">{label}</span>
        </div>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn ChartFigure(chart: Chart) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=format!("chart-{}", chart.id)>
            <figcaption>{chart.title}</figcaption>
            <div class="chart-svg" role="img" aria-label=chart.caption inner_html=chart.svg></div>
        </figure>
    }
}

#[cfg(feature = "ssr")]
#[component]
fn VersionsTable(versions: Vec<VersionSummary>) -> impl IntoView {
    if versions.is_empty() {
        return view! { <p class="muted">"No model version yet."</p> }.into_any();
    }
    let models: Vec<String> = versions
        .iter()
        .flat_map(|v| v.models.iter().map(|m| m.model.clone()))
        .fold(Vec::new(), |mut all, m| {
            if !all.contains(&m) {
                all.push(m);
            }
            all
        });
    let header = models.clone();
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="versions-table">
                <caption>"NDCG@10 per model and version"</caption>
                <thead><tr>
                    <th scope="col">"Version"</th><th scope="col">"Trained"</th>
                    <th scope="col">"Status"</th><th scope="col">"Events"</th><th scope="col">"Seconds"</th>
                    {header.into_iter().map(|m| view! { <th scope="col">{m}</th> }).collect_view()}
                </tr></thead>
                <tbody>
                    {versions.into_iter().map(|v| {
                        let cells = models.iter().map(|m| {
                            let ndcg = v.models.iter().find(|x| &x.model == m).and_then(|x| x.ndcg);
                            view! { <td>{ndcg.map(|n| format!("{n:.4}")).unwrap_or_else(|| "-".into())}</td> }
                        }).collect_view();
                        view! {
                            <tr>
                                <td>{v.id}</td><td>{v.created}</td>
                                <td>{format!("{} ({})", v.status, v.origin)}</td>
                                <td>{v.events}</td><td>{format!("{:.1}", v.seconds)}</td>
                                {cells}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The newest events, refreshed every 5 seconds while the page is open.
#[component]
fn EventStream() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let events = Resource::new(move || tick.get(), |_| recent_events_page());
    // Effects run only in the browser: poll there, never on the server.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(5),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <section class="card" aria-labelledby="events-title" data-testid="events">
            <h2 id="events-title">"Recent events"</h2>
            <p class="muted">"The newest 30, refreshed every 5 seconds. Shoppers are shown by id only."</p>
            <div aria-live="polite">
            <Transition fallback=|| view! { <div class="skeleton skeleton-table"></div> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(html) => view! { <div inner_html=html></div> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            </div>
        </section>
    }
}

/// The event stream's table (server side).
#[cfg(feature = "ssr")]
#[component]
fn EventsTable(lines: Vec<EventLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="muted">"No events yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="data-table">
                <thead><tr>
                    <th scope="col">"Time (UTC)"</th><th scope="col">"Shopper"</th>
                    <th scope="col">"Event"</th><th scope="col">"Product"</th><th scope="col">"Detail"</th>
                </tr></thead>
                <tbody>
                    {lines.into_iter().map(|e| {
                        let kind = e.kind.clone();
                        view! {
                            <tr data-kind=kind>
                                <td>{e.at}</td><td>{format!("#{}", e.shopper)}</td><td>{e.kind}</td>
                                <td>{match (e.product, e.sku) {
                                    (Some(title), Some(sku)) => view! { <a href=format!("/p/{}", crate::shop::components::encode(&sku))>{title}</a> }.into_any(),
                                    (Some(title), None) => title.into_any(),
                                    _ => "".into_any(),
                                }}</td>
                                <td>{e.detail}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
