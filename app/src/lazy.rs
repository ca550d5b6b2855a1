//! Pages loaded on demand: with `cargo leptos build --split`, each page here is split out
//! of the main WASM file into its own chunk, fetched when the shopper first opens it (or
//! preloaded by the server when the page is the one being loaded). The home page, the
//! header and the product cards stay in the main file, so the first visit downloads only
//! what the home page needs. The WASM must be built with `--split`: an unsplit build has
//! no loader for these chunks (`make build` and `make watch` pass it).

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Declares a lazily loaded route for a page component that takes no props.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// Search results and category listings.
    Listing => crate::shop::pages::ListingPage
);
lazy_page!(
    /// A product page.
    Product => crate::shop::pages::ProductPage
);
lazy_page!(
    /// The cart and checkout.
    Cart => crate::shop::pages::CartPage
);
lazy_page!(
    /// Past orders.
    Orders => crate::shop::pages::OrdersPage
);
lazy_page!(
    /// Liked products.
    Liked => crate::shop::pages::LikedPage
);
lazy_page!(
    /// Recently viewed products.
    Recent => crate::shop::pages::RecentPage
);
lazy_page!(
    /// "Why am I seeing this?".
    Why => crate::shop::why::WhyPage
);
lazy_page!(
    /// The merchant's insights.
    Insights => crate::insights::InsightsPage
);
lazy_page!(
    /// Log in.
    Login => crate::account::pages::LoginPage
);
lazy_page!(
    /// Register.
    Register => crate::account::pages::RegisterPage
);
lazy_page!(
    /// The account page.
    Account => crate::account::pages::AccountPage
);
