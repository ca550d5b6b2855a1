//! What every page shares: the site header, and the page for unknown paths.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::AuthContext;

/// The site header: brand, and either the shopper's name with a log-out button or links
/// to log in and register.
#[component]
pub fn Header() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <header class="site-header">
            <a href="/" class="brand">"Curio"</a>
            <crate::shop::pages::SearchBox/>
            <nav class="shop-nav" aria-label="Your shop">
                <a href="/liked">"Liked"</a>
                <a href="/recent">"Recently viewed"</a>
                <a href="/why">"Why these picks?"</a>
                <a href="/orders">"Orders"</a>
                <crate::shop::pages::CartLink/>
            </nav>
            <nav class="account-nav" aria-label="Account">
                <Transition fallback=|| view! { <span class="nav-placeholder"></span> }>
                    {move || Suspend::new(async move {
                        match auth.user.await {
                            Ok(Some(user)) => view! {
                                {user.is_admin.then(|| view! {
                                    <a href="/admin/insights" data-testid="insights-link">"Insights"</a>
                                })}
                                <a href="/account" class="current-user" data-testid="current-user">
                                    {user.display_name}
                                </a>
                                <ActionForm action=auth.log_out attr:class="inline-form">
                                    <button type="submit" class="link-button">"Log out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <a href="/login">"Log in"</a>
                                <a href="/register" class="button">"Register"</a>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}

/// Shown for any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found — Curio"/>
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Back to the shop"</a></p>
        </section>
    }
}
