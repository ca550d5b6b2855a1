//! Popularity and trending: every shopper gets the items most users interacted with (or,
//! for trending, interacted with lately). The baseline every personal model has to beat,
//! and the fallback for a shopper with no history.

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

/// Trending settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendingConfig {
    /// An interaction this many days older than the newest one counts half as much.
    pub half_life_days: f64,
}

impl Default for TrendingConfig {
    fn default() -> Self {
        Self {
            half_life_days: 7.0,
        }
    }
}

/// Popularity with time decay: each interaction counts `weight * 0.5^(age / half-life)`,
/// its age measured from the newest interaction in the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trending {
    config: TrendingConfig,
    scores: Vec<f32>,
}

impl Trending {
    /// An unfitted model.
    pub fn new(config: TrendingConfig) -> Self {
        Self {
            config,
            scores: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("trending", bytes)
    }
}

impl Recommender for Trending {
    fn name(&self) -> &'static str {
        "trending"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        if self.config.half_life_days.is_nan() || self.config.half_life_days <= 0.0 {
            return Err(EngineError::Data(format!(
                "trending: half_life_days must be positive, got {}",
                self.config.half_life_days
            )));
        }
        let newest = data.times.iter().copied().max().unwrap_or(0);
        let half_life_secs = self.config.half_life_days * 86_400.0;
        let mut scores = vec![0.0f64; data.n_items()];
        for user in 0..data.n_users() as u32 {
            for (item, weight, time) in data.user_events(user) {
                let age = (newest - time).max(0) as f64;
                scores[item as usize] += weight as f64 * 0.5f64.powf(age / half_life_secs);
            }
        }
        let top = scores
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        self.scores = scores.into_iter().map(|s| (s / top) as f32).collect();
        Ok(())
    }

    fn score_history(&self, _history: &[(u32, f32)], scores: &mut [f32]) {
        for (score, trend) in scores
            .iter_mut()
            .zip(self.scores.iter().chain(std::iter::repeat(&0.0)))
        {
            *score = *trend;
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        top_k(&self.scores, k, |i| i == item)
    }

    fn explain(&self, _history: &[(u32, f32)], item: u32) -> Explanation {
        let share = self.scores.get(item as usize).copied().unwrap_or(0.0);
        Explanation {
            because_of: Vec::new(),
            note: Some(format!(
                "trending: {:.0}% of the top item's recent interest (half-life {} days)",
                share * 100.0,
                self.config.half_life_days
            )),
        }
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.scores.is_empty() {
            return Err(EngineError::NotFitted("trending"));
        }
        save("trending", self)
    }
}

#[cfg(test)]
mod trending_tests {
    use super::*;
    use crate::data::IdMap;

    #[test]
    fn recent_interest_beats_old_fame() {
        let day = 86_400;
        let mut users = IdMap::new();
        for u in 0..4 {
            users.get_or_insert(&u.to_string());
        }
        let mut items = IdMap::new();
        for i in 0..2 {
            items.get_or_insert(&i.to_string());
        }
        // Item 0: three users, 60 days ago. Item 1: one user, today.
        let now = 100 * day;
        let events = [
            (0, 0, 1.0, now - 60 * day),
            (1, 0, 1.0, now - 60 * day),
            (2, 0, 1.0, now - 60 * day),
            (3, 1, 1.0, now),
        ];
        let data = Dataset::from_timed(users, items, &events);
        let mut trending = Trending::new(TrendingConfig {
            half_life_days: 7.0,
        });
        trending.fit(&data).unwrap();
        assert_eq!(
            trending.similar_items(99, 1)[0].0,
            1,
            "{:?}",
            trending.scores
        );
        let mut slow = Trending::new(TrendingConfig {
            half_life_days: 3650.0,
        });
        slow.fit(&data).unwrap();
        assert_eq!(
            slow.similar_items(99, 1)[0].0,
            0,
            "a long half-life is plain popularity"
        );
        assert!(Trending::new(TrendingConfig {
            half_life_days: 0.0
        })
        .fit(&data)
        .is_err());
        assert_eq!(
            Trending::from_bytes(&trending.to_bytes().unwrap()).unwrap(),
            trending
        );
    }
}
