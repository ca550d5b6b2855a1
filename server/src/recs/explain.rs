//! "Why am I seeing this?": the engine's picks of every loaded model for one shopper now
//! (`curio::serving::why`), with each model's holdout NDCG@10 in the serving version.

use std::sync::{Arc, PoisonError};

use curio::serving::why::{self, Taste};
use curio::serving::Shopper;

use super::RecService;
use crate::error::Error;

/// What one model would recommend.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPicks {
    /// The model's name.
    pub model: String,
    /// Its holdout NDCG@10 in the serving version, when measured.
    pub ndcg_at_10: Option<f64>,
    /// (product, score on the model's own scale, reason), best first.
    pub items: Vec<(i64, f32, String)>,
}

impl RecService {
    /// Each model's top `k` for `shopper` now (items they have seen or excluded left
    /// out), and their taste. Scoring runs on the blocking pool.
    pub async fn model_picks(
        self: &Arc<Self>,
        shopper: i64,
        k: usize,
    ) -> Result<(Vec<ModelPicks>, Taste), Error> {
        let slot = self.slot(shopper).await?;
        let set = self.current();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
            let interests = this.interest_paths(&slot.live);
            let who = Shopper {
                history: slot.live.history(),
                interests: &interests,
                now_ms: crate::clock::unix_millis(),
            };
            let (picks, taste) = why::model_picks(&set, &this.strategy.rules, &who, k);
            let picks = picks
                .into_iter()
                .map(|p| ModelPicks {
                    ndcg_at_10: set.metrics.get(&format!("{}.ndcg@10", p.model)).copied(),
                    model: p.model,
                    items: p.items,
                })
                .collect();
            (picks, taste)
        })
        .await
        .map_err(|e| Error::Command(format!("explaining recommendations failed: {e}")))
    }
}
