//! Bayesian personalised ranking (Rendle et al. 2009): matrix factorisation with item
//! biases, trained by stochastic gradient ascent on sampled (user, seen item, unseen item)
//! triples. Parallel and deterministic: users are split into shards trained side by side,
//! each on its own copy of the item parameters, whose changes are summed after every epoch
//! (parameter mixing), so the result depends on the seed and the shard count only.

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
    /// Parallel shards (contiguous user ranges trained side by side, their item updates
    /// summed after each epoch); 0 = one per thread. Same seed and shard count, same
    /// weights.
    pub shards: usize,
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
            shards: 0,
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
}

/// One stochastic gradient step on the triple (user, positive, negative), in place.
fn sgd_step(
    config: &BprConfig,
    user: &mut [f32],
    items: &mut [f32],
    bias: &mut [f32],
    positive: usize,
    negative: usize,
) {
    let f = config.factors;
    let (lr, reg) = (config.learning_rate, config.regularization);
    let x = {
        let i = &items[positive * f..(positive + 1) * f];
        let j = &items[negative * f..(negative + 1) * f];
        dot(user, i) - dot(user, j) + bias[positive] - bias[negative]
    };
    // d/dx of ln σ(x) is σ(-x).
    let g = 1.0 / (1.0 + x.exp());
    for k in 0..f {
        let (u, i, j) = (user[k], items[positive * f + k], items[negative * f + k]);
        user[k] += lr * (g * (i - j) - reg * u);
        items[positive * f + k] += lr * (g * u - reg * i);
        items[negative * f + k] += lr * (-g * u - reg * j);
    }
    bias[positive] += lr * (g - reg * bias[positive]);
    bias[negative] += lr * (-g - reg * bias[negative]);
}

impl Recommender for Bpr {
    fn name(&self) -> &'static str {
        "bpr"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let f = self.config.factors;
        let (n_users, n_items) = (data.n_users(), data.n_items());
        if f == 0 {
            return Err(EngineError::Data("BPR needs at least one factor".into()));
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
        // Shards: contiguous user ranges of about equal interaction counts. Each shard
        // owns its users' factors; the item factors are copied per shard for an epoch and
        // the shards' changes are summed at its end (parameter mixing). Every shard has
        // its own seeded generator, so the result depends on the seed and the shard count
        // only, never on thread timing.
        let shards = if self.config.shards == 0 {
            rayon::current_num_threads()
        } else {
            self.config.shards
        }
        .clamp(1, n_users.max(1));
        let nnz = data.matrix.nnz();
        let mut bounds = vec![0usize];
        let mut seen_so_far = 0usize;
        for user in 0..n_users {
            seen_so_far += data.user_items(user as u32).0.len();
            if seen_so_far * shards >= nnz * bounds.len() && bounds.len() < shards {
                bounds.push(user + 1);
            }
        }
        bounds.push(n_users);
        bounds.dedup();
        if nnz == 0 || n_items < 2 {
            return Ok(());
        }
        let mut shard_positives: Vec<Vec<(u32, u32)>> = bounds
            .windows(2)
            .map(|w| {
                (w[0] as u32..w[1] as u32)
                    .flat_map(|u| data.user_items(u).0.iter().map(move |&i| (u, i as u32)))
                    .collect()
            })
            .collect();
        let config = self.config;
        for epoch in 0..config.epochs {
            let items_before = self.item_factors.clone();
            let bias_before = self.item_bias.clone();
            // Disjoint mutable user ranges, one per shard.
            let mut user_chunks: Vec<&mut [f32]> = Vec::new();
            let mut rest: &mut [f32] = &mut self.user_factors;
            for w in bounds.windows(2) {
                let (head, tail) = rest.split_at_mut((w[1] - w[0]) * f);
                user_chunks.push(head);
                rest = tail;
            }
            let results: Vec<(Vec<f32>, Vec<f32>)> = shard_positives
                .par_iter_mut()
                .zip(user_chunks.into_par_iter())
                .enumerate()
                .map(|(shard, (positives, users))| {
                    let first_user = bounds[shard];
                    let mut rng = ChaCha8Rng::seed_from_u64(
                        config.seed
                            ^ ((epoch as u64) << 32)
                            ^ (shard as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    );
                    positives.shuffle(&mut rng);
                    let mut items = items_before.clone();
                    let mut bias = bias_before.clone();
                    for &(user, positive) in positives.iter() {
                        let seen = data.user_items(user).0;
                        let mut negative = rng.gen_range(0..n_items);
                        for _ in 0..10 {
                            if seen.binary_search(&negative).is_err() {
                                break;
                            }
                            negative = rng.gen_range(0..n_items);
                        }
                        let u = (user as usize - first_user) * f;
                        sgd_step(
                            &config,
                            &mut users[u..u + f],
                            &mut items,
                            &mut bias,
                            positive as usize,
                            negative,
                        );
                    }
                    (items, bias)
                })
                .collect();
            // Sum every shard's change to the shared item parameters.
            for (items, bias) in results {
                for ((target, new), old) in
                    self.item_factors.iter_mut().zip(&items).zip(&items_before)
                {
                    *target += new - old;
                }
                for ((target, new), old) in self.item_bias.iter_mut().zip(&bias).zip(&bias_before) {
                    *target += new - old;
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
            shards: 2,
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
