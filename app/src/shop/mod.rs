//! The shop: catalogue listings, search, product pages, feedback, cart and orders.

pub mod api;
pub mod components;
pub mod model;
pub mod pages;
pub mod recs;
pub mod state;
pub mod why;
