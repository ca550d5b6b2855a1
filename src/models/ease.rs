//! EASE (Steck 2019): a closed-form item x item linear model. B = -P / diag(P) with
//! P = (XᵀX + λI)⁻¹ and a zero diagonal. Exact and strong, but it needs a dense
//! items x items matrix, so it refuses catalogues above `max_items`.

use faer::linalg::solvers::DenseSolveCore;
use faer::prelude::*;
use faer::Side;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};

/// EASE settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EaseConfig {
    /// L2 regularisation λ added to the Gram matrix's diagonal.
    pub lambda: f32,
    /// Largest catalogue accepted: the model holds items² floats (20,000 items: 1.6 GB).
    pub max_items: usize,
}

impl Default for EaseConfig {
    fn default() -> Self {
        Self {
            lambda: 250.0,
            max_items: 20_000,
        }
    }
}

/// The fitted model: the items x items weight matrix, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    config: EaseConfig,
    n_items: usize,
    weights: Vec<f32>,
}

impl Ease {
    /// An unfitted model.
    pub fn new(config: EaseConfig) -> Self {
        Self {
            config,
            n_items: 0,
            weights: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("ease", bytes)
    }

    fn row(&self, item: u32) -> &[f32] {
        let start = item as usize * self.n_items;
        self.weights.get(start..start + self.n_items).unwrap_or(&[])
    }
}

impl Recommender for Ease {
    fn name(&self) -> &'static str {
        "ease"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let n = data.n_items();
        if n > self.config.max_items {
            return Err(EngineError::Data(format!(
                "EASE needs a dense {n} x {n} matrix ({:.1} GB) and is limited to {} items: \
                 use item-knn or als for this catalogue, or raise max_items",
                (n * n * 8) as f64 / 1e9,
                self.config.max_items
            )));
        }
        // Gram matrix G = XᵀX + λI, accumulated in f64 from each user's row.
        let mut gram = Mat::<f64>::zeros(n, n);
        for user in 0..data.n_users() as u32 {
            let (items, weights) = data.user_items(user);
            for (a, &i) in items.iter().enumerate() {
                for (b, &j) in items.iter().enumerate() {
                    gram[(i, j)] += (weights[a] * weights[b]) as f64;
                }
            }
        }
        for i in 0..n {
            gram[(i, i)] += self.config.lambda as f64;
        }
        let precision = gram
            .llt(Side::Lower)
            .map_err(|e| {
                EngineError::Data(format!(
                    "EASE: the Gram matrix is not positive definite ({e:?}); raise lambda"
                ))
            })?
            .inverse();
        crate::vector::clear_upper_vector_state();
        let mut weights = vec![0.0f32; n * n];
        weights
            .par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(i, row)| {
                for (j, w) in row.iter_mut().enumerate() {
                    if i != j {
                        *w = (-precision[(i, j)] / precision[(j, j)]) as f32;
                    }
                }
            });
        self.n_items = n;
        self.weights = weights;
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        scores.fill(0.0);
        for &(item, weight) in history {
            for (score, w) in scores.iter_mut().zip(self.row(item)) {
                *score += weight * w;
            }
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        crate::topk::top_k(self.row(item), k, |j| j == item)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let contributions = history
            .iter()
            .filter_map(|&(h, w)| self.row(h).get(item as usize).map(|b| (h, w * b)));
        Explanation::from_contributions(contributions, None)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.weights.is_empty() {
            return Err(EngineError::NotFitted("ease"));
        }
        save("ease", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommender::{recommend, Exclusions};

    #[test]
    fn learns_the_planted_pair_and_refuses_big_catalogues() {
        let mut triples = Vec::new();
        for u in 0..6 {
            triples.push((u, 0, 1.0));
            triples.push((u, 1, 1.0));
        }
        triples.extend([
            (6, 2, 1.0),
            (7, 3, 1.0),
            (8, 2, 1.0),
            (8, 3, 1.0),
            (9, 0, 1.0),
        ]);
        let data = Dataset::from_dense(10, 4, &triples);
        let mut model = Ease::new(EaseConfig {
            lambda: 1.0,
            max_items: 10,
        });
        model.fit(&data).unwrap();
        assert_eq!(
            recommend(&model, &data, 9, 1, Exclusions::default())[0].0,
            1
        );
        assert_eq!(model.similar_items(1, 1)[0].0, 0);
        let back = Ease::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);

        let mut small = Ease::new(EaseConfig {
            lambda: 1.0,
            max_items: 3,
        });
        let err = small.fit(&data).unwrap_err().to_string();
        assert!(err.contains("limited to 3 items"), "{err}");
    }
}
