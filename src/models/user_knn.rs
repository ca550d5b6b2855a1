//! User-based k-nearest neighbours: a shopper's history is compared (cosine with
//! shrinkage) with every training user's, and the `neighbours` most similar users' items
//! are summed, weighted by similarity. Works the same for a new, anonymous shopper.

use serde::{Deserialize, Serialize};
use sprs::CsMat;

use crate::data::{row_slices, Dataset};
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

/// User-kNN settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserKnnConfig {
    /// Neighbours whose items are summed.
    pub neighbours: usize,
    /// Added to the cosine denominator: damps similarities resting on few shared items.
    pub shrinkage: f32,
}

impl Default for UserKnnConfig {
    fn default() -> Self {
        Self {
            neighbours: 50,
            shrinkage: 10.0,
        }
    }
}

/// The fitted model: the training users' rows, the same by item, and the users' norms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserKnn {
    config: UserKnnConfig,
    by_user: Option<CsMat<f32>>,
    by_item: Option<CsMat<f32>>,
    norms: Vec<f32>,
}

impl UserKnn {
    /// An unfitted model.
    pub fn new(config: UserKnnConfig) -> Self {
        Self {
            config,
            by_user: None,
            by_item: None,
            norms: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("user-knn", bytes)
    }

    /// The most similar training users to a history, with their similarities.
    fn neighbours(&self, history: &[(u32, f32)]) -> Vec<(u32, f32)> {
        let Some(by_item) = &self.by_item else {
            return Vec::new();
        };
        let mut dots = vec![0.0f32; self.norms.len()];
        let mut norm = 0.0f32;
        for &(item, weight) in history {
            norm += weight * weight;
            let (users, weights) = row_slices(by_item, item as usize);
            for (&v, &w) in users.iter().zip(weights) {
                dots[v] += weight * w;
            }
        }
        let norm = norm.sqrt();
        let sims: Vec<f32> = dots
            .iter()
            .zip(&self.norms)
            .map(|(&dot, &n)| {
                if dot > 0.0 {
                    dot / (norm * n + self.config.shrinkage)
                } else {
                    0.0
                }
            })
            .collect();
        top_k(&sims, self.config.neighbours, |v| sims[v as usize] <= 0.0)
    }
}

impl Recommender for UserKnn {
    fn name(&self) -> &'static str {
        "user-knn"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.norms = (0..data.n_users() as u32)
            .map(|u| {
                data.user_items(u)
                    .1
                    .iter()
                    .map(|w| w * w)
                    .sum::<f32>()
                    .sqrt()
            })
            .collect();
        self.by_item = Some(data.matrix.transpose_view().to_csr());
        self.by_user = Some(data.matrix.clone());
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        scores.fill(0.0);
        let Some(by_user) = &self.by_user else { return };
        for (v, sim) in self.neighbours(history) {
            let (items, weights) = row_slices(by_user, v as usize);
            for (&i, &w) in items.iter().zip(weights) {
                if let Some(score) = scores.get_mut(i) {
                    *score += sim * w;
                }
            }
        }
    }

    /// A user of the training data is not their own neighbour.
    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        scores.fill(0.0);
        let Some(by_user) = &self.by_user else { return };
        let history = crate::recommender::history_of(data, user);
        let mut list = self.neighbours(&history);
        list.retain(|&(v, _)| v != user);
        for (v, sim) in list {
            let (items, weights) = row_slices(by_user, v as usize);
            for (&i, &w) in items.iter().zip(weights) {
                if let Some(score) = scores.get_mut(i) {
                    *score += sim * w;
                }
            }
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let n_items = self.by_item.as_ref().map_or(0, |m| m.rows());
        let mut scores = vec![0.0f32; n_items];
        self.score_history(&[(item, 1.0)], &mut scores);
        top_k(&scores, k, |j| j == item || scores[j as usize] <= 0.0)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let Some(by_user) = &self.by_user else {
            return Explanation::default();
        };
        let neighbours = self.neighbours(history);
        let agreeing = neighbours
            .iter()
            .filter(|(v, _)| {
                row_slices(by_user, *v as usize)
                    .0
                    .binary_search(&(item as usize))
                    .is_ok()
            })
            .count();
        Explanation {
            because_of: Vec::new(),
            note: Some(format!(
                "{agreeing} of the {} shoppers most like you chose it",
                neighbours.len()
            )),
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.by_user.is_none() {
            return Err(EngineError::NotFitted("user-knn"));
        }
        save("user-knn", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommender::{recommend, Exclusions};

    #[test]
    fn recommends_what_similar_users_have() {
        // Users 0-3 share items 0-2 and also have item 3; user 4 has only items 0-2.
        // User 5 is a stranger with items 4 and 5.
        let mut triples = Vec::new();
        for u in 0..4 {
            triples.extend([(u, 0, 1.0), (u, 1, 1.0), (u, 2, 1.0), (u, 3, 1.0)]);
        }
        triples.extend([
            (4, 0, 1.0),
            (4, 1, 1.0),
            (4, 2, 1.0),
            (5, 4, 1.0),
            (5, 5, 1.0),
        ]);
        let data = Dataset::from_dense(6, 6, &triples);
        let mut model = UserKnn::new(UserKnnConfig {
            neighbours: 3,
            shrinkage: 0.0,
        });
        model.fit(&data).unwrap();
        assert_eq!(
            recommend(&model, &data, 4, 1, Exclusions::default())[0].0,
            3
        );
        // The three users closest to a shopper with items 0 and 3 all chose item 3.
        let note = model.explain(&[(0, 1.0), (3, 1.0)], 3).note.unwrap();
        assert!(note.starts_with("3 of the 3"), "{note}");
        let back = UserKnn::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);
    }
}
