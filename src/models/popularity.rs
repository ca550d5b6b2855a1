//! Popularity: every shopper gets the items most users interacted with. The baseline every
//! personal model has to beat, and the fallback for a shopper with no history.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

/// Scores each item by the share of users who interacted with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Popularity {
    users_per_item: Vec<u32>,
    n_users: usize,
}

impl Popularity {
    /// An unfitted model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("popularity", bytes)
    }

    fn score(&self, item: usize) -> f32 {
        self.users_per_item[item] as f32 / self.n_users.max(1) as f32
    }
}

impl Recommender for Popularity {
    fn name(&self) -> &'static str {
        "popularity"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.users_per_item = data.item_popularity();
        self.n_users = data.n_users();
        Ok(())
    }

    fn score_history(&self, _history: &[(u32, f32)], scores: &mut [f32]) {
        for (item, score) in scores.iter_mut().enumerate() {
            *score = if item < self.users_per_item.len() {
                self.score(item)
            } else {
                0.0
            };
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let scores: Vec<f32> = (0..self.users_per_item.len())
            .map(|i| self.score(i))
            .collect();
        top_k(&scores, k, |i| i == item)
    }

    fn explain(&self, _history: &[(u32, f32)], item: u32) -> Explanation {
        let users = self.users_per_item.get(item as usize).copied().unwrap_or(0);
        Explanation {
            because_of: Vec::new(),
            note: Some(format!("popular: {users} shoppers interacted with it")),
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        save("popularity", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommender::{recommend, Exclusions};

    #[test]
    fn ranks_by_users_and_skips_what_the_user_has() {
        // Item 2 has three users, item 0 two, item 1 one.
        let data = Dataset::from_dense(
            3,
            3,
            &[
                (0, 2, 1.0),
                (1, 2, 1.0),
                (2, 2, 1.0),
                (0, 0, 1.0),
                (1, 0, 1.0),
                (2, 1, 1.0),
            ],
        );
        let mut model = Popularity::new();
        model.fit(&data).unwrap();
        let for_user_2 = recommend(&model, &data, 2, 3, Exclusions::default());
        assert_eq!(for_user_2.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0]);
        let back = Popularity::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back, model);
        assert!(model.explain(&[], 2).note.unwrap().contains("3 shoppers"));
    }
}
