//! The models, one file each.

pub mod item_knn;
pub mod popularity;

pub use item_knn::{ItemKnn, ItemKnnConfig};
pub use popularity::Popularity;
