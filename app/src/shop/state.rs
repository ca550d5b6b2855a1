//! The shop's shared page state: counters that a change bumps so that everything showing
//! what changed fetches it again. Provided once by the app, read by any page or row.

use leptos::prelude::*;

/// Shared cart state: bumping `version` refetches everything that shows the cart.
#[derive(Clone, Copy)]
pub struct CartContext {
    /// Incremented after every cart change.
    pub version: RwSignal<u32>,
}

/// Shared recommendation state: bumping `version` refetches every row on the page.
#[derive(Clone, Copy)]
pub struct RecsContext {
    /// Incremented after feedback given from any row.
    pub version: RwSignal<u32>,
}
