//! Curio's recommendation engine.
//!
//! Pure Rust: it knows products, shoppers, interactions, models and metrics, and nothing
//! about HTTP, SQL or the UI (see DESIGN.md): records that importers and the demo
//! generator produce, the dataset and models, the registry that names them, the serving
//! pipeline that turns their scores into a shopper's lists, the strategy and bandit, and
//! offline evaluation.
#![deny(missing_docs)]

pub mod bandit;
pub mod blend;
pub mod data;
pub mod demo;
pub mod eval;
pub mod import;
pub mod interaction;
pub mod interaction_files;
pub mod metrics;
pub mod models;
pub mod movielens;
pub mod neural;
pub mod recommender;
pub mod records;
pub mod registry;
pub mod serving;
pub mod strategy;
pub mod topk;
pub mod tune;
pub mod vector;

pub use data::{Dataset, Event, IdMap, ItemFeatures};
pub use interaction::{InteractionKind, UnknownInteractionKind};
pub use recommender::{recommend, EngineError, Exclusions, Explanation, Recommender};
pub use records::{InteractionRecord, ProductRecord, Record};
