//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and
//! Volinsky 2008): confidence c = 1 + alpha * weight on observed pairs, preference 1 on
//! observed and 0 on all other pairs. Each user's (item's) system is solved either by a
//! few conjugate-gradient steps warm-started from the previous factors (Takács et al.
//! 2011; the default: O(interactions x factors) per pass) or exactly by Cholesky
//! (`cg_steps = 0`: O(interactions x factors²)), users and items in parallel.
//!
//! `score_history` folds a new shopper in: it solves that shopper's least-squares problem
//! against the fixed item factors, so a shopper unseen at training time gets a user vector
//! from their events without retraining.

use faer::prelude::*;
use faer::Side;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sprs::CsMat;

use crate::data::{row_slices, Dataset};
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::vector::dot;

/// ALS settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlsConfig {
    /// Latent dimensions.
    pub factors: usize,
    /// L2 regularisation on every factor vector.
    pub regularization: f32,
    /// Confidence per unit of weight.
    pub alpha: f32,
    /// Alternations (one user pass and one item pass each).
    pub iterations: usize,
    /// Conjugate-gradient steps per solve; 0 solves each system exactly (Cholesky).
    pub cg_steps: usize,
    /// Seed of the initial factors.
    pub seed: u64,
}

impl Default for AlsConfig {
    fn default() -> Self {
        Self {
            // Chosen on a validation split nested in ML-100k's training data (README).
            factors: 16,
            regularization: 20.0,
            alpha: 1.0,
            iterations: 15,
            cg_steps: 3,
            seed: 42,
        }
    }
}

/// The fitted model: user and item factors, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Als {
    config: AlsConfig,
    user_factors: Vec<f32>,
    item_factors: Vec<f32>,
    /// YᵀY of the item factors, kept so a fold-in costs one small solve.
    item_gram: Vec<f32>,
}

impl Als {
    /// An unfitted model.
    pub fn new(config: AlsConfig) -> Self {
        Self {
            config,
            user_factors: Vec::new(),
            item_factors: Vec::new(),
            item_gram: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("als", bytes)
    }

    /// The user vector for a history, against the fitted item factors (fold-in).
    pub fn fold_in(&self, history: &[(u32, f32)]) -> Vec<f32> {
        let f = self.config.factors;
        let n_items = self.item_factors.len() / f.max(1);
        let (indices, weights): (Vec<usize>, Vec<f32>) = history
            .iter()
            .filter(|(i, _)| (*i as usize) < n_items)
            .map(|&(i, w)| (i as usize, w))
            .unzip();
        solve_one(
            &self.item_gram,
            &self.item_factors,
            &indices,
            &weights,
            &self.config,
        )
    }

    fn score_vector(&self, user: &[f32], scores: &mut [f32]) {
        let f = self.config.factors;
        for (score, item) in scores.iter_mut().zip(self.item_factors.chunks_exact(f)) {
            *score = dot(user, item);
        }
    }
}

/// YᵀY of row-major factors (f x f, row-major).
fn gram(factors: &[f32], f: usize) -> Vec<f32> {
    let mut gram = vec![0.0f32; f * f];
    for y in factors.chunks_exact(f) {
        for (r, &yr) in y.iter().enumerate() {
            for (g, &yc) in gram[r * f..(r + 1) * f].iter_mut().zip(y) {
                *g += yr * yc;
            }
        }
    }
    gram
}

/// Solves (YᵀY + Yᵀ(C - I)Y + λI) x = YᵀC p for one row with the given observed items.
fn solve_one(
    gram: &[f32],
    fixed: &[f32],
    items: &[usize],
    weights: &[f32],
    config: &AlsConfig,
) -> Vec<f32> {
    let f = config.factors;
    let mut a = gram.to_vec();
    let mut b = vec![0.0f32; f];
    for (&i, &w) in items.iter().zip(weights) {
        let y = &fixed[i * f..(i + 1) * f];
        let confidence = 1.0 + config.alpha * w;
        let extra = confidence - 1.0;
        for (r, &yr) in y.iter().enumerate() {
            let scaled = extra * yr;
            for (av, &yc) in a[r * f..(r + 1) * f].iter_mut().zip(y) {
                *av += scaled * yc;
            }
            b[r] += confidence * yr;
        }
    }
    if items.is_empty() {
        return vec![0.0; f];
    }
    let system = Mat::<f32>::from_fn(f, f, |r, c| {
        a[r * f + c] + if r == c { config.regularization } else { 0.0 }
    });
    let mut rhs = Mat::<f32>::from_fn(f, 1, |r, _| b[r]);
    let solved = match system.llt(Side::Lower) {
        Ok(llt) => {
            llt.solve_in_place(rhs.as_mut());
            (0..f).map(|r| rhs[(r, 0)]).collect()
        }
        // Only reachable with a zero regularisation and degenerate factors.
        Err(_) => vec![0.0; f],
    };
    // A fold-in runs on a serving thread: leave its vector state clean.
    crate::vector::clear_upper_vector_state();
    solved
}

/// A·v for one row's system: (YᵀY + λI) v + Σ (c - 1) (y·v) y over the row's items.
fn apply_system(
    gram: &[f32],
    fixed: &[f32],
    items: &[usize],
    weights: &[f32],
    config: &AlsConfig,
    v: &[f32],
    out: &mut [f32],
) {
    let f = config.factors;
    for (r, o) in out.iter_mut().enumerate() {
        *o = dot(&gram[r * f..(r + 1) * f], v) + config.regularization * v[r];
    }
    for (&i, &w) in items.iter().zip(weights) {
        let y = &fixed[i * f..(i + 1) * f];
        let scale = config.alpha * w * dot(y, v);
        for (o, &yk) in out.iter_mut().zip(y) {
            *o += scale * yk;
        }
    }
}

/// Improves `x` in place by a few conjugate-gradient steps on one row's system.
fn conjugate_gradient(
    gram: &[f32],
    fixed: &[f32],
    items: &[usize],
    weights: &[f32],
    config: &AlsConfig,
    x: &mut [f32],
) {
    let f = config.factors;
    let mut ap = vec![0.0f32; f];
    // r = b - A x, with b = Σ c y.
    apply_system(gram, fixed, items, weights, config, x, &mut ap);
    let mut r: Vec<f32> = ap.iter().map(|v| -v).collect();
    for (&i, &w) in items.iter().zip(weights) {
        let confidence = 1.0 + config.alpha * w;
        for (rk, &yk) in r.iter_mut().zip(&fixed[i * f..(i + 1) * f]) {
            *rk += confidence * yk;
        }
    }
    let mut p = r.clone();
    let mut rs_old = dot(&r, &r);
    for _ in 0..config.cg_steps {
        if rs_old < 1e-20 {
            break;
        }
        apply_system(gram, fixed, items, weights, config, &p, &mut ap);
        let step = rs_old / dot(&p, &ap);
        for k in 0..f {
            x[k] += step * p[k];
            r[k] -= step * ap[k];
        }
        let rs_new = dot(&r, &r);
        for k in 0..f {
            p[k] = r[k] + (rs_new / rs_old) * p[k];
        }
        rs_old = rs_new;
    }
}

/// New factors for every row of `matrix` (updated in place in `current`), given the other
/// side's `fixed` factors.
fn solve_side(matrix: &CsMat<f32>, fixed: &[f32], current: &mut [f32], config: &AlsConfig) {
    let f = config.factors;
    let gram = gram(fixed, f);
    current
        .par_chunks_mut(f)
        .enumerate()
        .for_each(|(row, target)| {
            let (items, weights) = row_slices(matrix, row);
            if config.cg_steps == 0 {
                target.copy_from_slice(&solve_one(&gram, fixed, items, weights, config));
            } else {
                conjugate_gradient(&gram, fixed, items, weights, config, target);
            }
        });
}

impl Recommender for Als {
    fn name(&self) -> &'static str {
        "als"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let f = self.config.factors;
        if f == 0 {
            return Err(EngineError::Data("ALS needs at least one factor".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let mut init =
            |n: usize| -> Vec<f32> { (0..n * f).map(|_| rng.gen_range(-0.01..0.01)).collect() };
        let mut users = init(data.n_users());
        let mut items = init(data.n_items());
        let by_item = data.matrix.transpose_view().to_csr();
        for _ in 0..self.config.iterations {
            solve_side(&data.matrix, &items, &mut users, &self.config);
            solve_side(&by_item, &users, &mut items, &self.config);
        }
        self.item_gram = gram(&items, f);
        self.user_factors = users;
        self.item_factors = items;
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let user = self.fold_in(history);
        self.score_vector(&user, scores);
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        match crate::vector::row(&self.user_factors, self.config.factors, user) {
            Some(vector) => self.score_vector(vector, scores),
            None => self.score_history(&crate::recommender::history_of(data, user), scores),
        }
    }

    fn score_users(&self, data: &Dataset, users: &[u32], scores: &mut [f32]) {
        let f = self.config.factors;
        let n = self.item_factors.len() / f.max(1);
        if users.is_empty() || f == 0 || scores.len() != users.len() * n {
            return users
                .iter()
                .zip(scores.chunks_exact_mut(scores.len() / users.len().max(1)))
                .for_each(|(&user, row)| self.score_user(data, user, row));
        }
        let mut block = Vec::with_capacity(users.len() * f);
        for &user in users {
            match crate::vector::row(&self.user_factors, f, user) {
                Some(vector) => block.extend_from_slice(vector),
                None => block.extend(self.fold_in(&crate::recommender::history_of(data, user))),
            }
        }
        // scores (users x n) = block (users x f) · itemsᵀ (f x n); the caller runs blocks
        // in parallel, so one block is one thread's.
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(scores, users.len(), n),
            faer::Accum::Replace,
            MatRef::from_row_major_slice(&block, users.len(), f),
            MatRef::from_row_major_slice(&self.item_factors, n, f).transpose(),
            1.0f32,
            Par::Seq,
        );
        crate::vector::clear_upper_vector_state();
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
            return Err(EngineError::NotFitted("als"));
        }
        save("als", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A planted rank-2 preference structure: users 0-9 like items 0-4, users 10-19 like
    /// items 5-9; each user has seen most of their block.
    fn blocks() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..20u32 {
            let block = if u < 10 { 0 } else { 5 };
            for i in 0..5u32 {
                if (u + i) % 5 != 0 {
                    triples.push((u, block + i, 1.0));
                }
            }
        }
        Dataset::from_dense(20, 10, &triples)
    }

    #[test]
    fn recovers_a_planted_low_rank_structure() {
        let data = blocks();
        let mut model = Als::new(AlsConfig {
            factors: 2,
            regularization: 0.5,
            iterations: 10,
            ..AlsConfig::default()
        });
        model.fit(&data).unwrap();
        for user in 0..20u32 {
            let mut scores = vec![0.0; 10];
            model.score_user(&data, user, &mut scores);
            let (own, other) = if user < 10 {
                (0..5, 5..10)
            } else {
                (5..10, 0..5)
            };
            let worst_own = own.map(|i| scores[i]).fold(f32::INFINITY, f32::min);
            let best_other = other.map(|i| scores[i]).fold(f32::NEG_INFINITY, f32::max);
            assert!(worst_own > best_other, "user {user}: {scores:?}");
        }
    }

    #[test]
    fn folds_in_a_new_shopper_and_round_trips() {
        let data = blocks();
        let mut model = Als::new(AlsConfig {
            factors: 2,
            regularization: 0.5,
            ..AlsConfig::default()
        });
        model.fit(&data).unwrap();
        let mut scores = vec![0.0; 10];
        // A shopper unseen in training who clicked two items of the second block.
        model.score_history(&[(6, 1.0), (7, 1.0)], &mut scores);
        let best = crate::topk::top_k(&scores, 3, |i| i == 6 || i == 7);
        assert!(best.iter().all(|(i, _)| (5..10).contains(i)), "{best:?}");

        let back = Als::from_bytes(&model.to_bytes().unwrap()).unwrap();
        let mut again = vec![0.0; 10];
        back.score_history(&[(6, 1.0), (7, 1.0)], &mut again);
        assert_eq!(
            scores.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
            again.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn scoring_a_block_of_users_matches_one_at_a_time() {
        let data = blocks();
        let mut model = Als::new(AlsConfig {
            factors: 9,
            ..AlsConfig::default()
        });
        model.fit(&data).unwrap();
        let n = data.n_items();
        let users: Vec<u32> = (0..data.n_users() as u32).collect();
        let mut block = vec![f32::NAN; users.len() * n];
        model.score_users(&data, &users, &mut block);
        for (&user, got) in users.iter().zip(block.chunks_exact(n)) {
            let mut want = vec![0.0; n];
            model.score_user(&data, user, &mut want);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "user {user}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn conjugate_gradient_approaches_the_exact_solution() {
        let data = blocks();
        let exact = AlsConfig {
            factors: 2,
            regularization: 0.5,
            cg_steps: 0,
            ..AlsConfig::default()
        };
        let cg = AlsConfig {
            cg_steps: 3,
            ..exact
        };
        let (mut a, mut b) = (Als::new(exact), Als::new(cg));
        a.fit(&data).unwrap();
        b.fit(&data).unwrap();
        let (mut sa, mut sb) = (vec![0.0; 10], vec![0.0; 10]);
        a.score_user(&data, 3, &mut sa);
        b.score_user(&data, 3, &mut sb);
        for (x, y) in sa.iter().zip(&sb) {
            assert!((x - y).abs() < 0.05, "{sa:?} vs {sb:?}");
        }
    }

    #[test]
    fn same_seed_same_factors() {
        let data = blocks();
        let fit = |seed| {
            let mut m = Als::new(AlsConfig {
                factors: 4,
                seed,
                ..AlsConfig::default()
            });
            m.fit(&data).unwrap();
            m
        };
        assert_eq!(fit(1), fit(1));
    }
}
