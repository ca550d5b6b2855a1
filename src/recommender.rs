//! The one interface every model implements, and the top-k step shared by all of them.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::topk::{contains_sorted, top_k};

/// A failure of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A model was asked to do something before `fit`.
    #[error("the {0} model is not fitted yet")]
    NotFitted(&'static str),
    /// Saved bytes could not be read back.
    #[error("cannot load the {model} model: {reason}")]
    Load {
        /// Which model.
        model: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A model could not be saved.
    #[error("cannot save the {model} model: {reason}")]
    Save {
        /// Which model.
        model: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Input data is unusable; the message says where.
    #[error("{0}")]
    Data(String),
}

/// Why a model scored an item: the history items that pushed it up, or a note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// History items and their share of the score, largest first.
    pub because_of: Vec<(u32, f32)>,
    /// A reason that is not about the history ("liked by 412 shoppers").
    pub note: Option<String>,
}

impl Explanation {
    /// An explanation from per-history-item contributions: the positive ones, largest
    /// first (ties by item index).
    pub fn from_contributions(
        contributions: impl IntoIterator<Item = (u32, f32)>,
        note: Option<String>,
    ) -> Self {
        let mut because_of: Vec<(u32, f32)> = contributions
            .into_iter()
            .filter(|&(_, c)| c > 0.0)
            .collect();
        because_of.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Self { because_of, note }
    }
}

/// A recommendation model.
///
/// Items and users are dense indices of the [`Dataset`] the model was fitted on. A
/// *history* is a list of `(item, weight)` pairs, each item once, in the order of the
/// shopper's latest event with it, oldest first: a known user's sequence, or an
/// anonymous shopper's first clicks, so every model can serve a shopper it has never
/// seen. Sequence models read the order; the others read the items and weights.
pub trait Recommender: Send + Sync {
    /// Short stable name (`popularity`, `item-knn`, ...).
    fn name(&self) -> &'static str;

    /// Learns from `data`.
    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError>;

    /// Learns from `data`, reporting each training epoch to `progress`. Models trained in
    /// epochs (the neural ones) report; the others just fit.
    fn fit_with_progress(
        &mut self,
        data: &Dataset,
        progress: crate::neural::Progress<'_>,
    ) -> Result<(), EngineError> {
        let _ = progress;
        self.fit(data)
    }

    /// Writes a score for every item into `scores` (length = number of items), for a
    /// shopper with this history.
    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]);

    /// Scores for a user of the fitted dataset: by default, the scores of their history.
    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        self.score_history(&history_of(data, user), scores);
    }

    /// Scores for several users of the fitted dataset, `[users][items]` row-major into
    /// `scores`: by default one [`Recommender::score_user`] each. A factor model
    /// overrides it to multiply a block of user vectors by its item factors in one pass
    /// over them, instead of one pass per user.
    fn score_users(&self, data: &Dataset, users: &[u32], scores: &mut [f32]) {
        let n = scores.len() / users.len().max(1);
        for (&user, row) in users.iter().zip(scores.chunks_exact_mut(n.max(1))) {
            self.score_user(data, user, row);
        }
    }

    /// The `k` items most similar to `item`, best first, without `item` itself.
    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)>;

    /// Why `item` scores for this history.
    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation;

    /// Why each of `items` scores for this history: [`Recommender::explain`] for each,
    /// which a model may do at once (the blender scores its members once, not per item).
    fn explain_many(&self, history: &[(u32, f32)], items: &[u32]) -> Vec<Explanation> {
        items
            .iter()
            .map(|&item| self.explain(history, item))
            .collect()
    }

    /// The fitted model as bytes; each model's `from_bytes` reads them back exactly.
    fn to_bytes(&self) -> Result<Vec<u8>, EngineError>;

    /// Learned settings worth showing a person (the blender's weights), by name; empty
    /// for most models.
    fn learned(&self) -> Vec<(String, f32)> {
        Vec::new()
    }

    /// Seconds the last fit spent in each of its stages, in order, for models whose fit
    /// has stages worth telling apart (the blender's); empty for most models.
    fn fit_stages(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// A user's history: their items in time order, oldest first ([`Dataset::sequence`]).
pub fn history_of(data: &Dataset, user: u32) -> Vec<(u32, f32)> {
    data.sequence(user)
}

/// What to leave out of a user's recommendations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exclusions {
    /// Leave out items the user already interacted with (the usual case).
    pub seen: bool,
    /// Leave out items the user bought or disliked (on unless explicitly asked).
    pub bought_or_disliked: bool,
}

impl Default for Exclusions {
    fn default() -> Self {
        Self {
            seen: true,
            bought_or_disliked: true,
        }
    }
}

/// How many users to score at once ([`Recommender::score_users`]) with `models` score
/// vectors of `n_items` each held per user: up to 128, within about 64 MB of scores, so
/// a million-item catalogue scores a few users at a time. A factor model packs its item
/// matrix once per block: small blocks spend more on packing than on products.
pub fn user_block(n_items: usize, models: usize) -> usize {
    const FLOATS: usize = 1 << 24;
    (FLOATS / n_items.saturating_mul(models).max(1)).clamp(1, 128)
}

/// The top `k` items for `user`, best first, without what `exclusions` rules out.
pub fn recommend(
    model: &dyn Recommender,
    data: &Dataset,
    user: u32,
    k: usize,
    exclusions: Exclusions,
) -> Vec<(u32, f32)> {
    let mut scores = vec![0.0f32; data.n_items()];
    model.score_user(data, user, &mut scores);
    top_k_for(data, user, &scores, k, exclusions)
}

/// The top `k` items of `user`'s `scores`, best first, without what `exclusions` rules
/// out.
pub fn top_k_for(
    data: &Dataset,
    user: u32,
    scores: &[f32],
    k: usize,
    exclusions: Exclusions,
) -> Vec<(u32, f32)> {
    let (seen, _) = data.user_items(user);
    let excluded: &[u32] = data.excluded.get(user as usize).map_or(&[], Vec::as_slice);
    top_k(scores, k, |item| {
        (exclusions.seen && seen.binary_search(&(item as usize)).is_ok())
            || (exclusions.bought_or_disliked && contains_sorted(excluded, item))
    })
}

/// Serialises a model's state (MessagePack: f32 values round-trip exactly).
pub(crate) fn save<T: Serialize>(model: &'static str, state: &T) -> Result<Vec<u8>, EngineError> {
    rmp_serde::to_vec(state).map_err(|e| EngineError::Save {
        model,
        reason: e.to_string(),
    })
}

/// Reads back what [`save`] wrote.
pub(crate) fn load<T: serde::de::DeserializeOwned>(
    model: &'static str,
    bytes: &[u8],
) -> Result<T, EngineError> {
    rmp_serde::from_slice(bytes).map_err(|e| EngineError::Load {
        model,
        reason: e.to_string(),
    })
}
