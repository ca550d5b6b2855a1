//! The models, one file each. The registry (`crate::registry`) names, builds and loads
//! them.

pub mod als;
pub mod bpr;
pub mod content;
pub mod copurchase;
pub mod ease;
pub mod item_knn;
pub mod popularity;
pub mod session_knn;
pub mod user_knn;

pub use als::{Als, AlsConfig};
pub use bpr::{Bpr, BprConfig};
pub use content::{Content, ContentConfig};
pub use copurchase::{CoPurchase, CoPurchaseConfig, Partner};
pub use ease::{Ease, EaseConfig};
pub use item_knn::{ItemKnn, ItemKnnConfig};
pub use popularity::{Popularity, Trending, TrendingConfig};
pub use session_knn::{SessionKnn, SessionKnnConfig};
pub use user_knn::{UserKnn, UserKnnConfig};
