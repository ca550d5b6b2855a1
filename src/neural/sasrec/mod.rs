//! SASRec (Kang & McAuley 2018): causal self-attention over a shopper's last `max_len`
//! items, oldest first, trained as in gSASRec / eSASRec.
//!
//! - Input: the item embeddings (times √dims) plus learned positional embeddings, the
//!   sequence left-padded so its latest item always sits at the last position. Padding
//!   is never attended to and never predicts.
//! - `blocks` pre-LayerNorm transformer blocks: causal multi-head self-attention, then a
//!   point-wise feed-forward net (two linear layers, ReLU), each with dropout (training
//!   only) and a residual; a final LayerNorm. An item's score is the dot product of the
//!   last position's state with its embedding (the input table, shared).
//! - Training: every position predicts the next item, by a sampled softmax over the
//!   positive and `negatives` items shared by the batch, drawn uniformly or (a share
//!   `popularity_negatives` of them) by popularity, with the logQ correction for how
//!   likely each candidate was drawn; a negative equal to the row's positive is masked.
//! - Early stopping on a nested leave-last-out split: each user's last training item (of
//!   users with three or more) is the validation target, NDCG@10 after every epoch.
//!   Then (`refit`, the default) a network trained on every item for the best epoch's
//!   number of epochs is kept; otherwise the best epoch's weights, trained without the
//!   validation items.
//!
//! Serving copies the weights out of burn and runs the forward pass in plain Rust over
//! the history's real positions only (padding is masked, so it changes nothing); the top
//! block is computed for the last position alone, then one dot product per item.

use serde::{Deserialize, Serialize};

use super::{Backend, Progress};
use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::vector::{cosine_neighbours, dot, row};

mod net;
mod serving;
#[cfg(test)]
mod tests;
mod training;

use serving::Weights;

/// SASRec settings. Flat, so `--set sasrec.dims=128` works like every other model's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SasRecConfig {
    /// Embedding size (items, positions and every block).
    pub dims: usize,
    /// Transformer blocks.
    pub blocks: usize,
    /// Attention heads per block (must divide `dims`).
    pub heads: usize,
    /// Most recent items read of a history.
    pub max_len: usize,
    /// Dropout rate during training (embeddings, attention output, feed-forward).
    pub dropout: f32,
    /// Negatives per optimiser step, shared by the batch.
    pub negatives: usize,
    /// Share of the negatives drawn by training popularity (the rest uniformly).
    pub popularity_negatives: f64,
    /// Most epochs.
    pub epochs: usize,
    /// Sequences per optimiser step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Hold out each user's last training item for early stopping (users with three or
    /// more items); off: train on everything for `epochs` epochs.
    pub validation: bool,
    /// Epochs without a better validation NDCG@10 before stopping.
    pub patience: usize,
    /// After early stopping, train anew on every training item (the validation items
    /// too) for the best epoch's number of epochs, and keep that network: the items
    /// held out for validation are each user's latest, the most like what comes next.
    /// Doubles the training time.
    pub refit: bool,
    /// Validation users scored per epoch, at most.
    pub validation_users: usize,
    /// Seed of weights, sampling and dropout.
    pub seed: u64,
    /// Training device.
    pub backend: Backend,
    /// Directory for per-epoch checkpoints (improving epochs only).
    pub checkpoint_dir: Option<std::path::PathBuf>,
}

impl Default for SasRecConfig {
    fn default() -> Self {
        Self {
            dims: 64,
            blocks: 2,
            heads: 1,
            max_len: 50,
            dropout: 0.5,
            negatives: 4096,
            popularity_negatives: 0.5,
            epochs: 200,
            batch_size: 128,
            learning_rate: 2e-3,
            validation: true,
            patience: 10,
            refit: true,
            validation_users: 5000,
            seed: 42,
            backend: Backend::Flex,
            checkpoint_dir: None,
        }
    }
}

impl SasRecConfig {
    /// Why these settings cannot train, if they cannot.
    fn check(&self) -> Result<(), EngineError> {
        let bad = |reason: String| Err(EngineError::Data(format!("sasrec: {reason}")));
        if self.dims == 0 || self.blocks == 0 || self.heads == 0 || self.max_len == 0 {
            return bad("dims, blocks, heads and max_len must be at least 1".into());
        }
        if self.dims % self.heads != 0 {
            return bad(format!(
                "heads ({}) must divide dims ({})",
                self.heads, self.dims
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), not {}", self.dropout));
        }
        if !(0.0..=1.0).contains(&self.popularity_negatives) {
            return bad(format!(
                "popularity_negatives must be in [0, 1], not {}",
                self.popularity_negatives
            ));
        }
        if self.negatives == 0 || self.batch_size == 0 {
            return bad("negatives and batch_size must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning_rate must be positive, not {}",
                self.learning_rate
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    config: SasRecConfig,
    weights: Weights,
    /// Each item's share of the training sequences: the scores of an empty history.
    popularity: Vec<f32>,
    best_epoch: usize,
    validation_ndcg: Option<f64>,
}

/// The SASRec recommender.
#[derive(Debug, Clone)]
pub struct SasRec {
    config: SasRecConfig,
    saved: Option<Saved>,
}

impl SasRec {
    /// An unfitted model.
    pub fn new(config: SasRecConfig) -> Self {
        Self {
            config,
            saved: None,
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        let saved: Saved = load("sasrec", bytes)?;
        saved.weights.check().map_err(|reason| EngineError::Load {
            model: "sasrec",
            reason,
        })?;
        Ok(Self {
            config: saved.config.clone(),
            saved: Some(saved),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SasRecConfig {
        &self.config
    }

    /// The epoch whose weights were kept and its validation NDCG@10.
    pub fn best_epoch(&self) -> Option<(usize, Option<f64>)> {
        self.saved
            .as_ref()
            .map(|s| (s.best_epoch, s.validation_ndcg))
    }

    /// The embedding of an item (length `dims`).
    pub fn item_vector(&self, item: u32) -> Option<&[f32]> {
        let saved = self.saved.as_ref()?;
        row(&saved.weights.items, saved.weights.dims, item)
    }

    /// Trains on `data`, reporting each epoch to `progress`.
    pub fn fit_with(&mut self, data: &Dataset, progress: Progress<'_>) -> Result<(), EngineError> {
        self.config.check()?;
        self.saved = Some(training::fit(&self.config, data, progress)?);
        Ok(())
    }
}

impl Recommender for SasRec {
    fn name(&self) -> &'static str {
        "sasrec"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.fit_with(data, &mut |_| {})
    }

    fn fit_with_progress(
        &mut self,
        data: &Dataset,
        progress: Progress<'_>,
    ) -> Result<(), EngineError> {
        self.fit_with(data, progress)
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let Some(saved) = &self.saved else { return };
        let items: Vec<u32> = history.iter().map(|&(i, _)| i).collect();
        match saved.weights.last_state(&items) {
            Some(state) => saved.weights.score_all(&state.hidden, scores),
            None => {
                for (score, &p) in scores.iter_mut().zip(&saved.popularity) {
                    *score = p;
                }
            }
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let Some(saved) = &self.saved else {
            return Vec::new();
        };
        cosine_neighbours(&saved.weights.items, saved.weights.dims, item, k)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        self.explain_many(history, &[item])
            .pop()
            .unwrap_or_default()
    }

    /// The history items the last block's attention (last position, mean over heads)
    /// rested on, each weighted by that attention times the cosine of its embedding with
    /// the item's: what the model looked at that resembles the item. One forward pass
    /// for all `items`.
    fn explain_many(&self, history: &[(u32, f32)], items: &[u32]) -> Vec<Explanation> {
        let Some(saved) = &self.saved else {
            return vec![Explanation::default(); items.len()];
        };
        let w = &saved.weights;
        let seq: Vec<u32> = history.iter().map(|&(i, _)| i).collect();
        let Some(state) = w.last_state(&seq) else {
            let note = Some("popular with shoppers".to_string());
            return vec![Explanation::from_contributions([], note); items.len()];
        };
        let norm = |v: &[f32]| dot(v, v).sqrt().max(f32::EPSILON);
        items
            .iter()
            .map(|&item| {
                let Some(target) = row(&w.items, w.dims, item) else {
                    return Explanation::default();
                };
                let contributions =
                    state
                        .items
                        .iter()
                        .zip(&state.attention)
                        .filter_map(|(&h, &attention)| {
                            let v = row(&w.items, w.dims, h)?;
                            Some((h, attention * dot(v, target) / (norm(v) * norm(target))))
                        });
                Explanation::from_contributions(contributions, None)
            })
            .collect()
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let saved = self
            .saved
            .as_ref()
            .ok_or(EngineError::NotFitted("sasrec"))?;
        save("sasrec", saved)
    }
}
