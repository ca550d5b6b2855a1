//! Session-based k-nearest neighbours, VMIS-kNN (Ludewig et al. 2021; the algorithm
//! bol.com's Serenade serves): the shopper's recent clicks, in order, are matched against
//! past sessions, and the items of the most similar sessions are recommended.
//!
//! - **Index** (fit): each user's sequence, its last `session_items` items, is one past
//!   session. Per item, the `sample` most recent sessions holding it are kept, and the
//!   item's idf over all sessions.
//! - **Similarity**: the last `query_items` items of the history, oldest first, weigh
//!   `p / n` by position (the newest weighs 1). A past session's similarity is the sum of
//!   the weights of the history items it holds; the `neighbours` most similar sessions
//!   are kept (ties: the more recent session).
//! - **Scores**: each neighbour adds `similarity x match x idf(item)` to every item it
//!   holds, where `match` is `1 - 0.1 r` (at least 0) and `r` counts how many newer
//!   history items the session missed before its most recent match: a session that
//!   shares the last click counts fully, one that shares a click ten steps back not at
//!   all.
//!
//! So the next list depends on what was clicked last, not only on how often; one request
//! touches at most `query_items x sample` session entries.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

/// Session-kNN settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionKnnConfig {
    /// Past sessions a request's list is built from.
    pub neighbours: usize,
    /// Most recent past sessions kept per item (the candidates for neighbours).
    pub sample: usize,
    /// Newest items of each user's sequence that form their past session.
    pub session_items: usize,
    /// Newest items of the shopper's history matched against past sessions.
    pub query_items: usize,
    /// Weigh each recommended item by its inverse session frequency.
    pub idf: bool,
}

impl Default for SessionKnnConfig {
    fn default() -> Self {
        Self {
            neighbours: 100,
            sample: 500,
            session_items: 50,
            query_items: 20,
            idf: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Index {
    /// Per past session, its items oldest first.
    sessions: Vec<Vec<u32>>,
    /// Per past session, its rank by recency (higher is newer).
    recency: Vec<u32>,
    /// Per item, its `sample` most recent sessions, newest first.
    by_item: Vec<Vec<u32>>,
    /// Per item, ln(sessions / sessions holding it); 0 for items in no session.
    idf: Vec<f32>,
}

/// The session-kNN recommender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionKnn {
    config: SessionKnnConfig,
    index: Option<Index>,
}

/// One neighbour: session, similarity, match weight.
type Neighbour = (u32, f32, f32);

impl SessionKnn {
    /// An unfitted model.
    pub fn new(config: SessionKnnConfig) -> Self {
        Self {
            config,
            index: None,
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("session-knn", bytes)
    }

    /// The newest `query_items` of the history with their position weights.
    fn query<'h>(&self, history: &'h [(u32, f32)]) -> &'h [(u32, f32)] {
        let n = history.len().min(self.config.query_items.max(1));
        &history[history.len() - n..]
    }

    /// The most similar past sessions to the history's newest items.
    fn neighbours(&self, index: &Index, history: &[(u32, f32)]) -> Vec<Neighbour> {
        let query = self.query(history);
        let n = query.len() as f32;
        let mut similarity: HashMap<u32, f32> = HashMap::new();
        for (position, &(item, _)) in query.iter().enumerate() {
            let weight = (position + 1) as f32 / n;
            for &session in index
                .by_item
                .get(item as usize)
                .map_or(&[][..], Vec::as_slice)
            {
                *similarity.entry(session).or_default() += weight;
            }
        }
        let mut ranked: Vec<(u32, f32)> = similarity.into_iter().collect();
        ranked.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(index.recency[b.0 as usize].cmp(&index.recency[a.0 as usize]))
        });
        ranked.truncate(self.config.neighbours);
        ranked
            .into_iter()
            .map(|(session, sim)| {
                let held = &index.sessions[session as usize];
                let missed = query
                    .iter()
                    .rev()
                    .position(|(item, _)| held.contains(item))
                    .unwrap_or(query.len());
                (session, sim, (1.0 - 0.1 * missed as f32).max(0.0))
            })
            .collect()
    }
}

impl Recommender for SessionKnn {
    fn name(&self) -> &'static str {
        "session-knn"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let keep = self.config.session_items.max(1);
        // Sessions in the order of their newest event; a user without items has none.
        let mut newest: Vec<(i64, u32, u32)> = Vec::new();
        let mut sessions = Vec::new();
        for user in 0..data.n_users() as u32 {
            let row = user as usize;
            let Some(last) = data
                .matrix
                .indptr()
                .outer_inds_sz(row)
                .max_by_key(|&k| (data.times[k], data.order[k]))
            else {
                continue;
            };
            let sequence = data.sequence(user);
            let from = sequence.len().saturating_sub(keep);
            newest.push((data.times[last], data.order[last], sessions.len() as u32));
            sessions.push(
                sequence[from..]
                    .iter()
                    .map(|&(i, _)| i)
                    .collect::<Vec<u32>>(),
            );
        }
        let mut recency = vec![0u32; sessions.len()];
        newest.sort_unstable();
        for (rank, &(_, _, session)) in newest.iter().enumerate() {
            recency[session as usize] = rank as u32;
        }
        let n_items = data.n_items();
        let mut by_item: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        // Newest session first, so each item's list is its most recent sessions.
        for &(_, _, session) in newest.iter().rev() {
            for &item in &sessions[session as usize] {
                by_item[item as usize].push(session);
            }
        }
        let total = sessions.len().max(1) as f32;
        let idf = by_item
            .iter()
            .map(|list| {
                if list.is_empty() {
                    0.0
                } else {
                    (total / list.len() as f32).ln()
                }
            })
            .collect();
        for list in &mut by_item {
            list.truncate(self.config.sample.max(1));
            list.shrink_to_fit();
        }
        self.index = Some(Index {
            sessions,
            recency,
            by_item,
            idf,
        });
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        scores.fill(0.0);
        let Some(index) = &self.index else { return };
        for (session, sim, matched) in self.neighbours(index, history) {
            for &item in &index.sessions[session as usize] {
                let idf = if self.config.idf {
                    index.idf[item as usize]
                } else {
                    1.0
                };
                if let Some(score) = scores.get_mut(item as usize) {
                    *score += sim * matched * idf;
                }
            }
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        let mut scores = vec![0.0f32; index.idf.len()];
        self.score_history(&[(item, 1.0)], &mut scores);
        top_k(&scores, k, |j| j == item || scores[j as usize] <= 0.0)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let Some(index) = &self.index else {
            return Explanation::default();
        };
        // Each neighbour holding the item credits the history items it shares, by
        // their position weight.
        let query = self.query(history);
        let n = query.len() as f32;
        let mut credit: HashMap<u32, f32> = HashMap::new();
        let mut sessions = 0usize;
        for (session, sim, matched) in self.neighbours(index, history) {
            let held = &index.sessions[session as usize];
            if !held.contains(&item) {
                continue;
            }
            sessions += 1;
            for (position, &(seed, _)) in query.iter().enumerate() {
                if held.contains(&seed) {
                    let weight = (position + 1) as f32 / n;
                    *credit.entry(seed).or_default() += weight * sim * matched;
                }
            }
        }
        let note = (sessions > 0).then(|| {
            format!(
                "in {sessions} recent shopping session{} like yours",
                if sessions == 1 { "" } else { "s" }
            )
        });
        Explanation::from_contributions(credit, note)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        save("session-knn", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Users' sequences, in time order (file order, no times).
    fn sequences(list: &[&[u32]], n_items: usize) -> Dataset {
        let mut rows = Vec::new();
        for (user, items) in list.iter().enumerate() {
            for &item in *items {
                rows.push((user as u32, item, 1.0, 0));
            }
        }
        let numbered = Dataset::from_dense(list.len(), n_items, &[]);
        Dataset::from_timed(numbered.users, numbered.items, &rows)
    }

    fn top(model: &SessionKnn, history: &[u32], n_items: usize) -> Vec<u32> {
        let history: Vec<(u32, f32)> = history.iter().map(|&i| (i, 1.0)).collect();
        let mut scores = vec![0.0; n_items];
        model.score_history(&history, &mut scores);
        top_k(&scores, 3, |i| {
            history.iter().any(|(h, _)| *h == i) || scores[i as usize] <= 0.0
        })
        .into_iter()
        .map(|(i, _)| i)
        .collect()
    }

    #[test]
    fn the_last_click_decides_the_next_list() {
        // Sessions that went 0 -> 1 -> 2 and sessions that went 3 -> 4 -> 5, and a few
        // that mixed both tastes.
        let data = sequences(
            &[
                &[0, 1, 2],
                &[0, 1, 2],
                &[3, 4, 5],
                &[3, 4, 5],
                &[1, 4],
                &[0, 2],
            ],
            6,
        );
        let mut model = SessionKnn::new(SessionKnnConfig::default());
        model.fit(&data).unwrap();
        // The same two clicks in the other order give the other taste first.
        assert_eq!(top(&model, &[0, 3], 6)[0], 5, "3 was clicked last");
        assert_eq!(top(&model, &[3, 0], 6)[0], 2, "0 was clicked last");
        // One more click changes the list.
        assert_eq!(top(&model, &[3, 0, 4], 6)[0], 5);
        let why = model.explain(&[(3, 1.0), (0, 1.0)], 4);
        assert_eq!(why.because_of[0].0, 3, "{why:?}");
        assert!(why.note.unwrap().contains("sessions like yours"));
    }

    #[test]
    fn the_newest_sessions_are_the_candidates() {
        // Item 0 was in four sessions: the two oldest led to 1, the two newest to 2.
        let data = sequences(&[&[0, 1], &[0, 1], &[0, 2], &[0, 2]], 3);
        let config = SessionKnnConfig {
            sample: 2,
            idf: false,
            ..SessionKnnConfig::default()
        };
        let mut model = SessionKnn::new(config);
        model.fit(&data).unwrap();
        assert_eq!(
            top(&model, &[0], 3),
            [2],
            "only the two newest sessions count"
        );
        let all = SessionKnnConfig {
            sample: 10,
            neighbours: 3,
            idf: false,
            ..config
        };
        let mut model = SessionKnn::new(all);
        model.fit(&data).unwrap();
        // Three neighbours among four equal ones: ties go to the newer sessions.
        let mut scores = vec![0.0; 3];
        model.score_history(&[(0, 1.0)], &mut scores);
        assert!(scores[2] > scores[1] && scores[1] > 0.0, "{scores:?}");
    }

    #[test]
    fn saves_loads_and_serves_the_unfitted_and_the_unknown() {
        let data = sequences(&[&[0, 1, 2], &[2, 1], &[4]], 5);
        let mut model = SessionKnn::new(SessionKnnConfig::default());
        let mut scores = vec![1.0; 5];
        model.score_history(&[(0, 1.0)], &mut scores);
        assert_eq!(scores, [0.0; 5], "unfitted: no opinion");
        model.fit(&data).unwrap();
        let loaded = SessionKnn::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(loaded, model);
        // An item in no session, and an index past the catalogue, score nothing.
        model.score_history(&[(3, 1.0), (99, 1.0)], &mut scores);
        assert_eq!(scores, [0.0; 5]);
        assert_eq!(model.similar_items(1, 5).len(), 2);
    }
}
