//! Curio's recommendation engine.
//!
//! Pure Rust: it knows products, shoppers, interactions, models and metrics, and nothing
//! about HTTP, SQL or the UI (see DESIGN.md). This is the public skeleton the models and
//! the evaluation harness grow into.
#![deny(missing_docs)]

pub mod bandit;
pub mod blend;
pub mod catalog;
pub mod data;
pub mod demo;
pub mod eval;
pub mod import;
pub mod interaction;
pub mod metrics;
pub mod models;
pub mod movielens;
pub mod neural;
pub mod recommender;
pub mod registry;
pub mod serving;
pub mod strategy;
pub mod topk;
pub mod vector;

pub use catalog::{InteractionRecord, ProductRecord, Record};
pub use data::{Dataset, Event, IdMap, ItemFeatures};
pub use interaction::{InteractionKind, UnknownInteractionKind};
pub use recommender::{recommend, EngineError, Exclusions, Explanation, Recommender};
