//! Curio's user interface: the HTML shell, the router and the pages.
//!
//! Built twice: natively with `ssr` (server rendering and server functions, linked into
//! the `curio` binary) and to WASM with `hydrate` (the browser side).

#![recursion_limit = "256"]

pub mod account;
pub mod error;
pub mod insights;
mod layout;
mod lazy;
pub mod shop;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, ParamSegment, SsrMode, StaticSegment,
};

use account::{LogIn, LogOut, Register, User};
use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The account actions and the signed-in user, shared by the header and the pages.
#[derive(Clone, Copy)]
pub struct AuthContext {
    /// Log-in form action.
    pub log_in: ServerAction<LogIn>,
    /// Log-out button action.
    pub log_out: ServerAction<LogOut>,
    /// Registration form action.
    pub register: ServerAction<Register>,
    /// The signed-in user, refetched after every account action.
    pub user: Resource<Result<Option<User>, AppError>>,
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    let register = ServerAction::<Register>::new();
    let user = Resource::new(
        move || {
            (
                log_in.version().get(),
                log_out.version().get(),
                register.version().get(),
            )
        },
        |_| account::current_user(),
    );
    // Logging in adopts the visitor's cart: refetch it after every account action.
    let cart_version = RwSignal::new(0u32);
    Effect::new(move |previous: Option<()>| {
        log_in.version().track();
        log_out.version().track();
        register.version().track();
        // Not on the first run (hydration): only after an account action.
        if previous.is_some() {
            cart_version.update(|v| *v += 1);
        }
    });
    provide_context(shop::state::CartContext {
        version: cart_version,
    });
    provide_context(shop::state::RecsContext {
        version: RwSignal::new(0),
    });
    let demo = Resource::new(|| (), |_| shop::api::shop_info());
    provide_context(AuthContext {
        log_in,
        log_out,
        register,
        user,
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/curio.css"/>
        <Title text="Curio"/>
        <Router>
            <layout::Header/>
            <main class="page">
                <Routes fallback=|| view! { <layout::NotFound/> }>
                    <Route path=StaticSegment("") view=shop::pages::ShopHome/>
                    // Every page but the home page is its own WASM chunk (see `lazy`).
                    <Route path=StaticSegment("search") view={Lazy::<lazy::Listing>::new()}/>
                    <Route path=(StaticSegment("c"), ParamSegment("slug")) view={Lazy::<lazy::Listing>::new()}/>
                    <Route path=(StaticSegment("p"), ParamSegment("sku")) view={Lazy::<lazy::Product>::new()}/>
                    <Route path=StaticSegment("cart") view={Lazy::<lazy::Cart>::new()}/>
                    <Route path=StaticSegment("orders") view={Lazy::<lazy::Orders>::new()}/>
                    <Route path=StaticSegment("liked") view={Lazy::<lazy::Liked>::new()}/>
                    <Route path=StaticSegment("recent") view={Lazy::<lazy::Recent>::new()}/>
                    <Route path=StaticSegment("why") view={Lazy::<lazy::Why>::new()}/>
                    // Rendered whole before answering, so a refusal is a real 401 / 403.
                    <Route path=(StaticSegment("admin"), StaticSegment("insights")) view={Lazy::<lazy::Insights>::new()} ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view={Lazy::<lazy::Login>::new()}/>
                    <Route path=StaticSegment("register") view={Lazy::<lazy::Register>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<lazy::Account>::new()}/>
                </Routes>
            </main>
            <footer class="site-footer">
                "Curio — a shop that learns what you like."
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        demo.await.ok().flatten().map(|_| view! {
                            <span class="demo-note">" Catalogue: generated demo data."</span>
                        })
                    })}
                </Transition>
            </footer>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
fn mark_hydrated() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        // Setting an attribute on <body> cannot fail in a browser; ignore the Result.
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// The WASM entry point: hydrates the server-rendered page. Hydration is asynchronous (a
/// lazily loaded page waits for its WASM chunk), so `<body data-hydrated="true">`, which
/// end-to-end tests and the page-speed test wait for, is set only once it has finished.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let app = leptos::mount::hydrate_from_async(body, App).await;
        mark_hydrated();
        // The app lives as long as the page.
        app.forget();
    });
}
