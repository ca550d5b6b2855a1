//! The `curio` server: configuration, storage, accounts and sessions, and the HTTP app.
//! This is the composition root: it wires the `app` UI and the `curio` engine together.

pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod recs;
pub mod services;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::account::ssr::SharedAccounts;
use app::shop::api::ssr::SharedShop;
use app::{shell, App};
use axum::extract::FromRef;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use config::Config;
use error::Error;
use http::sessions::{SessionBackend, SessionPolicy};
use services::accounts::hashing::PasswordHasher;
use services::accounts::throttle::ThrottlePolicy;
use services::accounts::AccountService;
use services::search::SearchIndex;
use store::db::Database;
use store::Store;

/// Everything handlers and server functions share.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos's options (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The accounts capability handed to server functions.
    pub accounts: SharedAccounts,
    /// Session lifetimes.
    pub session_policy: SessionPolicy,
    /// Product search and the facts behind filters.
    pub search: Arc<SearchIndex>,
    /// The shop capability handed to server functions.
    pub shop: SharedShop,
    /// The merchant's insights, handed to server functions.
    pub insights: app::insights::ssr::SharedInsights,
    /// Resolves a request's session into its caller, once per server function.
    pub callers: app::account::ssr::SharedCallers,
}

/// The parts a running server is built from.
pub struct Services {
    /// The search index (also used by tests).
    pub search: Arc<SearchIndex>,
    /// The store (also used by tests).
    pub store: Store,
    /// The session store (also used by tests).
    pub sessions: SessionBackend,
    /// The recommendation service (also used by tests and benches).
    pub recs: Arc<recs::RecService>,
    /// The router, ready to serve.
    pub router: Router,
}

/// Leptos options. Under `cargo leptos watch`/`serve` they come from its `LEPTOS_*`
/// environment (reload port, environment name); the site root and address always come
/// from our own configuration, which reads `LEPTOS_SITE_ROOT` too.
fn leptos_options(config: &Config) -> Result<LeptosOptions, Error> {
    let mut options = if std::env::var_os("LEPTOS_OUTPUT_NAME").is_some() {
        get_configuration(None)
            .map_err(|e| Error::Startup(format!("bad LEPTOS_* environment: {e}")))?
            .leptos_options
    } else {
        LeptosOptions::builder().output_name("curio").build()
    };
    options.site_root = config.site_root.as_str().into();
    options.site_pkg_dir = "pkg".into();
    options.site_addr = config.addr;
    Ok(options)
}

/// Connects the database, runs migrations and builds the router.
pub async fn build(config: &Config) -> Result<Services, Error> {
    let db = Database::connect(config.database_url.as_deref(), &config.data_dir).await?;
    tracing::info!(database = db.kind(), "database ready");
    let store = Store::new(db);
    let session_store = SessionBackend::open(&store).await?;
    tokio::spawn(
        session_store
            .clone()
            .delete_expired_every(Duration::from_secs(600)),
    );

    if !config.no_demo_data {
        services::seed::seed_if_empty(&store, &curio::demo::DemoConfig::default()).await?;
    }
    let search = Arc::new(SearchIndex::new()?);
    let started = std::time::Instant::now();
    search.rebuild(
        store.categories().await?,
        store.indexed_products(None).await?,
    )?;
    tracing::info!(
        products = search.len(),
        secs = started.elapsed().as_secs_f64(),
        "search index built"
    );
    tokio::spawn(keep_index_current(
        store.clone(),
        search.clone(),
        store.catalog_version().await?,
    ));
    let session_policy = SessionPolicy {
        idle: Duration::from_secs(u64::from(config.session_idle_minutes) * 60),
        absolute: Duration::from_secs(u64::from(config.session_max_hours) * 3600),
        secure: config.cookies_secure(),
    };
    // Two concurrent hashes: each takes ~19 MiB and one core for tens of milliseconds.
    let hasher = PasswordHasher::new(2).await?;
    let recs = recs::RecService::start(store.clone(), config.recs()).await?;
    let accounts: SharedAccounts = Arc::new(
        AccountService::new(
            store.clone(),
            hasher,
            ThrottlePolicy::default(),
            session_policy,
        )
        .with_recs(recs.clone()),
    );
    let state = AppState {
        leptos_options: leptos_options(config)?,
        accounts,
        session_policy,
        search: search.clone(),
        shop: Arc::new(
            services::shop::ShopService::new(store.clone(), search.clone(), recs.clone()).await?,
        ),
        insights: Arc::new(services::insights::InsightsService::new(
            store.clone(),
            recs.clone(),
        )),
        callers: Arc::new(http::caller::SessionCallers::new(store.clone())),
    };
    let hygiene_settings = Hygiene {
        origin: http::hygiene::OriginPolicy {
            public_origin: config.public_origin.clone(),
        },
        trust_forwarded_for: config.trust_forwarded_for,
        max_body_bytes: config.max_body_bytes,
    };
    let router = router(state, session_store.clone(), hygiene_settings);
    Ok(Services {
        search,
        store,
        sessions: session_store,
        recs,
        router,
    })
}

/// Rebuilds the search index when the catalogue changes under it (a `curio import` run
/// by another process, another node's import on PostgreSQL): checks every 30 seconds.
/// Changes made through this server (ratings, popularity) reach the index directly.
async fn keep_index_current(
    store: Store,
    search: Arc<SearchIndex>,
    mut version: store::reading::CatalogVersion,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs(30));
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match refresh_index(&store, &search, &mut version).await {
            Ok(true) => {
                tracing::info!(
                    products = search.len(),
                    "catalogue changed: search index rebuilt"
                )
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot refresh the search index"),
        }
    }
}

/// Rebuilds `search` if the catalogue's version differs from `version` (then updated);
/// returns whether it did.
pub async fn refresh_index(
    store: &Store,
    search: &SearchIndex,
    version: &mut store::reading::CatalogVersion,
) -> Result<bool, Error> {
    let current = store.catalog_version().await?;
    if current == *version {
        return Ok(false);
    }
    search.rebuild(
        store.categories().await?,
        store.indexed_products(None).await?,
    )?;
    *version = current;
    Ok(true)
}

/// Request-hygiene settings for [`router`].
#[derive(Debug, Clone)]
pub struct Hygiene {
    /// Where state-changing requests may come from.
    pub origin: http::hygiene::OriginPolicy,
    /// Whether the client address comes from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
}

/// The HTTP app: Leptos pages and server functions, static files, and the layers around
/// them (outermost last).
pub fn router(state: AppState, session_store: SessionBackend, hygiene: Hygiene) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let accounts = state.accounts.clone();
        let shop = state.shop.clone();
        let insights = state.insights.clone();
        let callers = state.callers.clone();
        move || {
            provide_context(accounts.clone());
            provide_context(shop.clone());
            provide_context(insights.clone());
            provide_context(callers.clone());
        }
    };
    let options = state.leptos_options.clone();
    let policy = state.session_policy;
    Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .route(
            "/art/{category}/{file}",
            axum::routing::get(http::art::product_art),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .with_state(state)
        .layer(axum::middleware::from_fn(error::server_fn_error_status))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            http::sessions::enforce_policy,
        ))
        .layer(http::sessions::layer(session_store, policy))
        .layer(axum::middleware::from_fn_with_state(
            hygiene.trust_forwarded_for,
            http::hygiene::client_ip,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(hygiene.origin),
            http::hygiene::reject_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            http::hygiene::BodyLimit(hygiene.max_body_bytes),
            http::hygiene::limit_body,
        ))
        .layer(axum::middleware::from_fn(http::hygiene::security_headers))
        // Brotli or gzip, as the browser asks: the WASM bundle shrinks to about 40%.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: &Config) -> Result<(), Error> {
    let services = build(config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| Error::Startup(format!("cannot listen on {}: {e}", config.addr)))?;
    tracing::info!("Curio is serving http://{}", config.addr);
    axum::serve(
        listener,
        services
            .router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| Error::Startup(format!("server stopped: {e}")))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
