//! Bayesian personalised ranking (Rendle et al. 2009): matrix factorisation with item
//! biases, trained by stochastic gradient ascent on sampled (user, seen item, unseen item)
//! triples. Mini-batches: the gradients of a batch are computed in parallel from the same
//! parameters, then applied in sample order, so the result depends only on the seed.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::vector::dot;

/// BPR settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BprConfig {
    /// Latent dimensions.
    pub factors: usize,
    /// Step size.
    pub learning_rate: f32,
    /// L2 regularisation.
    pub regularization: f32,
    /// Passes; each draws as many triples as there are interactions.
    pub epochs: usize,
    /// Triples per mini-batch.
    pub batch_size: usize,
    /// Seed of the initial factors and of the sampling.
    pub seed: u64,
}

impl Default for BprConfig {
    fn default() -> Self {
        Self {
            factors: 64,
            learning_rate: 0.05,
            regularization: 0.01,
            epochs: 30,
            batch_size: 256,
            seed: 42,
        }
    }
}

/// The fitted model: user and item factors (row-major) and item biases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bpr {
    config: BprConfig,
    user_factors: Vec<f32>,
    item_factors: Vec<f32>,
    item_bias: Vec<f32>,
}

/// Batches at least this large compute their gradients on all cores; smaller ones are
/// cheaper on one (the work per triple is a few hundred flops).
const PARALLEL_BATCH: usize = 2048;

impl Bpr {
    /// An unfitted model.
    pub fn new(config: BprConfig) -> Self {
        Self {
            config,
            user_factors: Vec::new(),
            item_factors: Vec::new(),
            item_bias: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("bpr", bytes)
    }

    fn item(&self, item: u32) -> &[f32] {
        crate::vector::row(&self.item_factors, self.config.factors, item).unwrap_or(&[])
    }

    fn score_vector(&self, user: &[f32], scores: &mut [f32]) {
        let f = self.config.factors;
        for ((score, item), bias) in scores
            .iter_mut()
            .zip(self.item_factors.chunks_exact(f))
            .zip(&self.item_bias)
        {
            *score = dot(user, item) + bias;
        }
    }

    /// Writes one triple's gradient into `out`: user, positive and negative vectors,
    /// then the bias term (`3 * factors + 1` floats).
    fn gradient_into(&self, (user, positive, negative): (u32, u32, u32), out: &mut [f32]) {
        let f = self.config.factors;
        let reg = self.config.regularization;
        let u = &self.user_factors[user as usize * f..(user as usize + 1) * f];
        let i = self.item(positive);
        let j = self.item(negative);
        let x = dot(u, i) - dot(u, j) + self.item_bias[positive as usize]
            - self.item_bias[negative as usize];
        // d/dx of ln σ(x) is σ(-x).
        let g = 1.0 / (1.0 + x.exp());
        let (d_user, rest) = out.split_at_mut(f);
        let (d_positive, rest) = rest.split_at_mut(f);
        let (d_negative, d_bias) = rest.split_at_mut(f);
        for k in 0..f {
            d_user[k] = g * (i[k] - j[k]) - reg * u[k];
            d_positive[k] = g * u[k] - reg * i[k];
            d_negative[k] = -g * u[k] - reg * j[k];
        }
        d_bias[0] = g;
    }

    fn apply(&mut self, (user, positive, negative): (u32, u32, u32), gradient: &[f32]) {
        let f = self.config.factors;
        let lr = self.config.learning_rate;
        let reg = self.config.regularization;
        let step = |target: &mut [f32], delta: &[f32]| {
            for (t, d) in target.iter_mut().zip(delta) {
                *t += lr * d;
            }
        };
        let (u, i, j) = (user as usize, positive as usize, negative as usize);
        step(&mut self.user_factors[u * f..(u + 1) * f], &gradient[..f]);
        step(
            &mut self.item_factors[i * f..(i + 1) * f],
            &gradient[f..2 * f],
        );
        step(
            &mut self.item_factors[j * f..(j + 1) * f],
            &gradient[2 * f..3 * f],
        );
        let g = gradient[3 * f];
        self.item_bias[i] += lr * (g - reg * self.item_bias[i]);
        self.item_bias[j] += lr * (-g - reg * self.item_bias[j]);
    }
}

impl Recommender for Bpr {
    fn name(&self) -> &'static str {
        "bpr"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let f = self.config.factors;
        let (n_users, n_items) = (data.n_users(), data.n_items());
        if f == 0 || self.config.batch_size == 0 {
            return Err(EngineError::Data(
                "BPR needs at least one factor and a batch size of at least one".into(),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let scale = 1.0 / (f as f32).sqrt();
        self.user_factors = (0..n_users * f)
            .map(|_| rng.gen_range(-0.1..0.1) * scale)
            .collect();
        self.item_factors = (0..n_items * f)
            .map(|_| rng.gen_range(-0.1..0.1) * scale)
            .collect();
        self.item_bias = vec![0.0; n_items];
        // Every interaction as (user, item); the users own rows are sorted for look-ups.
        let mut positives: Vec<(u32, u32)> = Vec::with_capacity(data.matrix.nnz());
        for user in 0..n_users as u32 {
            positives.extend(data.user_items(user).0.iter().map(|&i| (user, i as u32)));
        }
        if positives.is_empty() || n_items < 2 {
            return Ok(());
        }
        let stride = 3 * f + 1;
        let mut gradients = vec![0.0f32; self.config.batch_size * stride];
        let mut triples: Vec<(u32, u32, u32)> = Vec::with_capacity(self.config.batch_size);
        for _ in 0..self.config.epochs {
            positives.shuffle(&mut rng);
            for batch in positives.chunks(self.config.batch_size) {
                // Negatives: uniform over items the user has not interacted with (a few
                // tries; a user who has seen nearly everything keeps the last draw).
                triples.clear();
                for &(user, positive) in batch {
                    let seen = data.user_items(user).0;
                    let mut negative = rng.gen_range(0..n_items);
                    for _ in 0..10 {
                        if seen.binary_search(&negative).is_err() {
                            break;
                        }
                        negative = rng.gen_range(0..n_items);
                    }
                    triples.push((user, positive, negative as u32));
                }
                let used = &mut gradients[..triples.len() * stride];
                let model = &*self;
                if triples.len() >= PARALLEL_BATCH {
                    used.par_chunks_mut(stride)
                        .zip(&triples)
                        .for_each(|(out, &t)| model.gradient_into(t, out));
                } else {
                    for (out, &t) in used.chunks_mut(stride).zip(&triples) {
                        model.gradient_into(t, out);
                    }
                }
                for (gradient, &t) in gradients.chunks(stride).zip(&triples) {
                    self.apply(t, gradient);
                }
            }
        }
        Ok(())
    }

    /// A new shopper: the mean of their history's item factors, weighted.
    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let f = self.config.factors;
        let mut user = vec![0.0f32; f];
        let total: f32 = history.iter().map(|(_, w)| w).sum();
        for &(item, weight) in history {
            for (u, y) in user.iter_mut().zip(self.item(item)) {
                *u += weight * y / total.max(f32::EPSILON);
            }
        }
        self.score_vector(&user, scores);
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        match crate::vector::row(&self.user_factors, self.config.factors, user) {
            Some(vector) => self.score_vector(vector, scores),
            None => self.score_history(&crate::recommender::history_of(data, user), scores),
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        crate::vector::cosine_neighbours(&self.item_factors, self.config.factors, item, k)
    }

    /// How much each history item's direction agrees with the recommended item's.
    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let contributions = crate::vector::factor_contributions(
            &self.item_factors,
            self.config.factors,
            history,
            item,
        );
        Explanation::from_contributions(contributions, None)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.item_factors.is_empty() {
            return Err(EngineError::NotFitted("bpr"));
        }
        save("bpr", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..40u32 {
            let block = if u < 20 { 0 } else { 10 };
            for i in 0..10u32 {
                if (u + i) % 5 != 0 {
                    triples.push((u, block + i, 1.0));
                }
            }
        }
        Dataset::from_dense(40, 20, &triples)
    }

    #[test]
    fn ranks_the_users_own_block_first_and_is_reproducible() {
        let data = blocks();
        let config = BprConfig {
            factors: 8,
            epochs: 40,
            batch_size: 16,
            ..BprConfig::default()
        };
        let mut model = Bpr::new(config);
        model.fit(&data).unwrap();
        let mut right = 0;
        for user in 0..40u32 {
            let recs = crate::recommender::recommend(&model, &data, user, 2, Default::default());
            let own = if user < 20 { 0..10 } else { 10..20 };
            right += recs.iter().filter(|(i, _)| own.contains(i)).count();
        }
        assert!(
            right >= 76,
            "{right} of 80 held-out slots from the user's own block"
        );

        let mut again = Bpr::new(config);
        again.fit(&data).unwrap();
        assert_eq!(again, model, "same seed, same weights");
        let back = Bpr::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);
    }
}
