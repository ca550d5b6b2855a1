//! Curio's recommendation engine.
//!
//! Pure Rust: it knows products, shoppers, interactions, models and metrics, and nothing
//! about HTTP, SQL or the UI (see DESIGN.md). This is the public skeleton the models and
//! the evaluation harness grow into.
#![deny(missing_docs)]

pub mod interaction;

pub use interaction::{InteractionKind, UnknownInteractionKind};
