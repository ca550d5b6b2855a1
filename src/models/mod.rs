//! The models, one file each.

pub mod als;
pub mod bpr;
pub mod content;
pub mod copurchase;
pub mod ease;
pub mod item_knn;
pub mod popularity;
pub mod user_knn;

pub use als::{Als, AlsConfig};
pub use bpr::{Bpr, BprConfig};
pub use content::{Content, ContentConfig};
pub use copurchase::{CoPurchase, CoPurchaseConfig, Partner};
pub use ease::{Ease, EaseConfig};
pub use item_knn::{ItemKnn, ItemKnnConfig};
pub use popularity::{Popularity, Trending, TrendingConfig};
pub use user_knn::{UserKnn, UserKnnConfig};

/// Reads back a model saved by [`crate::Recommender::to_bytes`], given its name
/// ([`crate::Recommender::name`]).
pub fn from_bytes(
    name: &str,
    bytes: &[u8],
) -> Result<Box<dyn crate::Recommender>, crate::EngineError> {
    Ok(match name {
        "popularity" => Box::new(Popularity::from_bytes(bytes)?),
        "trending" => Box::new(Trending::from_bytes(bytes)?),
        "content" => Box::new(Content::from_bytes(bytes)?),
        "item-knn" => Box::new(ItemKnn::from_bytes(bytes)?),
        "user-knn" => Box::new(UserKnn::from_bytes(bytes)?),
        "ease" => Box::new(Ease::from_bytes(bytes)?),
        "als" => Box::new(Als::from_bytes(bytes)?),
        "bpr" => Box::new(Bpr::from_bytes(bytes)?),
        "neumf" => Box::new(crate::neural::NeuMf::from_bytes(bytes)?),
        "two-tower" => Box::new(crate::neural::TwoTower::from_bytes(bytes)?),
        "blend" => Box::new(crate::blend::Blend::from_bytes(bytes, from_bytes)?),
        other => {
            return Err(crate::EngineError::Load {
                model: "model",
                reason: format!("unknown model name {other:?}"),
            })
        }
    })
}
