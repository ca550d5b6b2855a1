//! Serving in plain Rust: the weights copied out of burn, item embeddings precomputed,
//! a user's profile matched against every item and scored with one dot product each.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;
use crate::vector::dot;

/// The trained tables, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Weights {
    pub(super) dims: usize,
    pub(super) tokens: Vec<f32>,
    pub(super) item_ids: Vec<f32>,
    pub(super) user_ids: Vec<f32>,
    pub(super) history: Vec<f32>,
    pub(super) item_w: Vec<f32>,
    pub(super) item_b: Vec<f32>,
    pub(super) user_w: Vec<f32>,
    pub(super) user_b: Vec<f32>,
    pub(super) prior_w: Vec<f32>,
    pub(super) prior_b: f32,
    /// Weights of the token matches, `[2, matches]` row-major (see [`MATCHES`]): for
    /// items served without (row 0) and with (row 1) their id.
    pub(super) wide: Vec<f32>,
}

pub(super) fn add_row(out: &mut [f32], table: &[f32], row: u32, weight: f32) {
    let d = out.len();
    if let Some(r) = table.get(row as usize * d..(row as usize + 1) * d) {
        for (o, v) in out.iter_mut().zip(r) {
            *o += weight * v;
        }
    }
}

pub(super) fn map_normalise(x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; b.len()];
    super::super::dense(x, w, b, &mut out);
    let norm = dot(&out, &out).sqrt() + 1e-6;
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

impl Weights {
    /// An item's embedding and prior.
    pub(super) fn item(
        &self,
        vocabulary: &Vocabulary,
        item: u32,
        id_weight: f32,
    ) -> (Vec<f32>, f32) {
        let mut x = vec![0.0f32; self.dims];
        for &(token, share) in &vocabulary.items[item as usize] {
            add_row(&mut x, &self.tokens, token, share);
        }
        add_row(&mut x, &self.item_ids, item, id_weight);
        let prior = dot(&x, &self.prior_w) + self.prior_b;
        (map_normalise(&x, &self.item_w, &self.item_b), prior)
    }

    pub(super) fn user(&self, input: &UserInput) -> Vec<f32> {
        let mut y = vec![0.0f32; self.dims];
        if let Some(id) = input.id {
            add_row(&mut y, &self.user_ids, id, 1.0);
        }
        for &(item, w) in &input.history {
            add_row(&mut y, &self.history, item, w);
        }
        for &(token, w) in &input.profile {
            add_row(&mut y, &self.tokens, token, w);
        }
        map_normalise(&y, &self.user_w, &self.user_b)
    }

    /// Every item's serving embedding and prior: id embeddings only for items seen in
    /// training.
    pub(super) fn item_matrix(
        &self,
        vocabulary: &Vocabulary,
        warm: &[bool],
    ) -> (Vec<f32>, Vec<f32>) {
        let mut vectors = Vec::with_capacity(warm.len() * self.dims);
        let mut priors = Vec::with_capacity(warm.len());
        for (i, &warm) in warm.iter().enumerate() {
            let (v, p) = self.item(vocabulary, i as u32, if warm { 1.0 } else { 0.0 });
            vectors.extend_from_slice(&v);
            priors.push(p);
        }
        (vectors, priors)
    }
}

/// `[users, candidates, matches]` dot products of each user's content profile with each
/// candidate's content bag, per field and whole (see [`MATCHES`]; row-major).
pub(super) fn token_matches(
    vocabulary: &Vocabulary,
    users: &[UserInput],
    candidates: &[(u32, f32)],
) -> Vec<f32> {
    let m = MATCHES.len();
    let c = candidates.len();
    let mut out = vec![0.0f32; users.len() * c * m];
    out.par_chunks_mut((c * m).max(1))
        .zip(users.par_iter())
        .for_each_init(
            || Profile::new(vocabulary),
            |profile, (row, user)| {
                profile.load(user);
                for (slot, &(item, _)) in row.chunks_exact_mut(m).zip(candidates) {
                    profile.matches(vocabulary, item, slot);
                }
                profile.clear(user);
            },
        );
    out
}

/// A user's wide-term profiles as dense vectors over the vocabulary.
pub(super) struct Profile {
    pub(super) per_field: Vec<f32>,
    pub(super) whole: Vec<f32>,
}

impl Profile {
    pub(super) fn new(vocabulary: &Vocabulary) -> Self {
        Self {
            per_field: vec![0.0; vocabulary.tokens.len()],
            whole: vec![0.0; vocabulary.tokens.len()],
        }
    }

    pub(super) fn load(&mut self, user: &UserInput) {
        for &(t, w) in &user.wide_profile {
            self.per_field[t as usize] = w;
        }
        for &(t, w) in &user.whole_profile {
            self.whole[t as usize] = w;
        }
    }

    /// Back to zeros (cheaper than refilling: only the user's tokens are touched).
    pub(super) fn clear(&mut self, user: &UserInput) {
        for &(t, _) in &user.wide_profile {
            self.per_field[t as usize] = 0.0;
        }
        for &(t, _) in &user.whole_profile {
            self.whole[t as usize] = 0.0;
        }
    }

    /// Adds `item`'s matches to `slot` (length [`MATCHES`]).
    pub(super) fn matches(&self, vocabulary: &Vocabulary, item: u32, slot: &mut [f32]) {
        for &(t, w) in &vocabulary.wide[item as usize] {
            slot[vocabulary.fields[t as usize] as usize] += self.per_field[t as usize] * w;
        }
        slot[FIELDS.len()] += vocabulary.whole[item as usize]
            .iter()
            .map(|&(t, w)| self.whole[t as usize] * w)
            .sum::<f32>();
    }
}

/// Adds the weighted matches of the user's profiles with every item to its score:
/// `weights` is `[2, matches]` (items without, with their id), times `scale`.
pub(super) fn add_matches(
    vocabulary: &Vocabulary,
    user: &UserInput,
    weights: &[f32],
    scale: f32,
    warm: &[bool],
    scores: &mut [f32],
) {
    let m = MATCHES.len();
    if (user.wide_profile.is_empty() && user.whole_profile.is_empty()) || weights.len() != 2 * m {
        return;
    }
    let mut profile = Profile::new(vocabulary);
    profile.load(user);
    let mut slot = [0.0f32; MATCHES.len()];
    for (item, (score, &warm)) in scores.iter_mut().zip(warm).enumerate() {
        slot.fill(0.0);
        profile.matches(vocabulary, item as u32, &mut slot);
        let row = &weights[usize::from(warm) * m..(usize::from(warm) + 1) * m];
        *score += scale * slot.iter().zip(row).map(|(s, w)| s * w).sum::<f32>();
    }
}

/// Scaled cosine plus prior for every item: the logits the softmax was trained on.
pub(super) fn score_all(
    user: &[f32],
    vectors: &[f32],
    priors: &[f32],
    inv_t: f32,
    scores: &mut [f32],
) {
    for ((score, item), prior) in scores
        .iter_mut()
        .zip(vectors.chunks_exact(user.len()))
        .zip(priors)
    {
        *score = dot(user, item) * inv_t + prior;
    }
}
