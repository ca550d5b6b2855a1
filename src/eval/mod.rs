//! Offline evaluation: split protocols and full-ranking metrics over every item a user has
//! not interacted with in training (no sampled negatives). [`replay`] measures the lists
//! the serving pipeline gives on a temporal split.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::metrics::{catalogue_coverage, intra_list_diversity, novelty, RankingMetrics};
use crate::recommender::{top_k_for, Exclusions, Recommender};
use crate::topk::top_k;

pub mod replay;

/// A train set and, per training user, the held-out items that count as relevant.
#[derive(Debug, Clone)]
pub struct Split {
    /// What models are fitted on (same id maps as the full data).
    pub train: Dataset,
    /// Per user index, the held-out items.
    pub test: Vec<Vec<u32>>,
    /// When set, only these items are ranked (sorted): the cold-start protocol ranks the
    /// held-out products among themselves.
    pub candidates: Option<Vec<u32>>,
}

/// Random stratified split per user (the Microsoft Recommenders protocol uses 0.75): each
/// user's items are shuffled with a seeded generator and the first `round(n * ratio)` (at
/// least one) go to training. The same seed gives the same split.
pub fn stratified_split(data: &Dataset, ratio: f64, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::with_capacity(data.matrix.nnz());
    let mut test = vec![Vec::new(); data.n_users()];
    for user in 0..data.n_users() as u32 {
        let mut events: Vec<(u32, f32, i64)> = data.user_events(user).collect();
        events.shuffle(&mut rng);
        let n = events.len();
        let n_train = ((n as f64 * ratio).round() as usize).clamp(1.min(n), n);
        for (k, (item, weight, time)) in events.into_iter().enumerate() {
            if k < n_train {
                train.push((user, item, weight, time));
            } else {
                test[user as usize].push(item);
            }
        }
    }
    split_from(data, &train, test)
}

/// Temporal leave-last-out: each user's latest item (ties: the later in the input) is
/// held out, everything before it trains. Users with one item only train.
pub fn leave_last_out(data: &Dataset) -> Split {
    let mut train = Vec::with_capacity(data.matrix.nnz());
    let mut test = vec![Vec::new(); data.n_users()];
    for user in 0..data.n_users() as u32 {
        let events: Vec<(u32, f32, i64)> = data.user_events(user).collect();
        let last = data.last_item(user).filter(|_| events.len() > 1);
        for (item, weight, time) in events {
            if Some(item) == last {
                test[user as usize].push(item);
            } else {
                train.push((user, item, weight, time));
            }
        }
    }
    split_from(data, &train, test)
}

/// The users of `split` with held-out items, at most `max` of them drawn with `seed`,
/// ascending: the validation users of tuning and of the blender.
pub fn sample_users(split: &Split, max: usize, seed: u64) -> Vec<u32> {
    let mut users: Vec<u32> = (0..split.test.len() as u32)
        .filter(|&u| !split.test[u as usize].is_empty())
        .collect();
    if users.len() > max {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut kept = users.partial_shuffle(&mut rng, max).0.to_vec();
        kept.sort_unstable();
        return kept;
    }
    users
}

/// A split given explicitly, e.g. made by another tool: `test_pairs` are (user, item)
/// indices in `train`'s id maps.
pub fn explicit_split(train: Dataset, test_pairs: &[(u32, u32)]) -> Split {
    let mut test = vec![Vec::new(); train.n_users()];
    for &(user, item) in test_pairs {
        if let Some(list) = test.get_mut(user as usize) {
            list.push(item);
        }
    }
    Split {
        train,
        test,
        candidates: None,
    }
}

/// Cold start: a seeded share of the items that have interactions is held out entirely
/// (every interaction with them leaves training; their features stay), and each user who
/// interacted with one is asked to rank the held-out items among themselves. A model that
/// needs interactions to know an item cannot tell them apart; one that reads features can.
pub fn cold_start_split(data: &Dataset, item_share: f64, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let popularity = data.item_popularity();
    let mut items: Vec<u32> = (0..data.n_items() as u32)
        .filter(|&i| popularity[i as usize] > 0)
        .collect();
    items.shuffle(&mut rng);
    let n_cold = ((items.len() as f64 * item_share).round() as usize).min(items.len());
    let mut cold: Vec<u32> = items[..n_cold].to_vec();
    cold.sort_unstable();
    let mut train = Vec::with_capacity(data.matrix.nnz());
    let mut test = vec![Vec::new(); data.n_users()];
    for user in 0..data.n_users() as u32 {
        for (item, weight, time) in data.user_events(user) {
            if cold.binary_search(&item).is_ok() {
                test[user as usize].push(item);
            } else {
                train.push((user, item, weight, time));
            }
        }
    }
    let mut split = split_from(data, &train, test);
    split.candidates = Some(cold);
    split
}

fn split_from(data: &Dataset, train: &[(u32, u32, f32, i64)], test: Vec<Vec<u32>>) -> Split {
    // Each user's training events keep their order (sequence models read it).
    let mut train = train.to_vec();
    data.sort_in_time_order(&mut train);
    let mut train = Dataset::from_timed(data.users.clone(), data.items.clone(), &train);
    train.excluded = data.excluded.clone();
    train.features = data.features.clone();
    Split {
        train,
        test,
        candidates: None,
    }
}

/// Results of one model on one split.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The model's name.
    pub model: String,
    /// The cut-off.
    pub k: usize,
    /// Users with at least one held-out item (the ones averaged over).
    pub users: usize,
    /// Mean accuracy metrics.
    pub metrics: RankingMetrics,
    /// Share of the catalogue recommended to anyone.
    pub coverage: f64,
    /// Mean self-information of recommended items, in bits.
    pub novelty: f64,
    /// Mean pairwise dissimilarity within each list (1 - cosine of the items' user vectors).
    pub diversity: f64,
}

/// Evaluates a model fitted on `split.train`: for each user with held-out items, the top
/// `k` over all items not seen in training, against those items.
pub fn evaluate(model: &dyn Recommender, split: &Split, k: usize) -> Report {
    let users: Vec<u32> = (0..split.train.n_users() as u32)
        .filter(|&u| !split.test[u as usize].is_empty())
        .collect();
    // Held-out items are relevant even if the shop data marks them bought: only training
    // interactions are masked.
    let exclusions = Exclusions {
        seen: true,
        bought_or_disliked: false,
    };
    let allowed: Option<(Vec<bool>, Vec<u32>, Vec<u32>)> = split.candidates.as_ref().map(|items| {
        let n = split.train.n_items();
        let mut allowed = vec![false; n];
        for &item in items {
            if let Some(slot) = allowed.get_mut(item as usize) {
                *slot = true;
            }
        }
        let mut item_at: Vec<u32> = (0..n as u32).collect();
        item_at.shuffle(&mut ChaCha8Rng::seed_from_u64(0xC01D));
        let mut position = vec![0u32; n];
        for (p, &item) in item_at.iter().enumerate() {
            position[item as usize] = p as u32;
        }
        (allowed, position, item_at)
    });
    // Users in blocks: a factor model scores a block in one pass over its items.
    let n = split.train.n_items();
    let results: Vec<(RankingMetrics, Vec<u32>)> = users
        .par_chunks(crate::recommender::user_block(n, 1))
        .flat_map_iter(|users| {
            let mut block = vec![0.0f32; users.len() * n];
            model.score_users(&split.train, users, &mut block);
            users
                .iter()
                .zip(block.chunks_exact(n.max(1)))
                .map(|(&user, scores)| {
                    let ranked: Vec<u32> = match &allowed {
                        None => top_k_for(&split.train, user, scores, k, exclusions)
                            .into_iter()
                            .map(|(item, _)| item)
                            .collect(),
                        Some((allowed, position, item_at)) => {
                            // Ties are broken by a seeded random order, not by index: an
                            // id map numbers items in order of first appearance, which
                            // favours popular ones and would reward a model for saying
                            // nothing.
                            let mut shuffled = vec![f32::NEG_INFINITY; scores.len()];
                            for (item, &score) in scores.iter().enumerate() {
                                shuffled[position[item] as usize] = score;
                            }
                            top_k(&shuffled, k, |p| !allowed[item_at[p as usize] as usize])
                                .into_iter()
                                .map(|(p, _)| item_at[p as usize])
                                .collect()
                        }
                    };
                    let relevant: HashSet<u32> =
                        split.test[user as usize].iter().copied().collect();
                    (RankingMetrics::of(&ranked, &relevant, k), ranked)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let (per_user, lists): (Vec<RankingMetrics>, Vec<Vec<u32>>) = results.into_iter().unzip();
    Report {
        model: model.name().to_string(),
        k,
        users: users.len(),
        metrics: RankingMetrics::mean(&per_user),
        coverage: catalogue_coverage(&lists, split.train.n_items()),
        novelty: novelty(
            &lists,
            &split.train.item_popularity(),
            split.train.n_users(),
        ),
        diversity: intra_list_diversity(&lists, &split.train.matrix.transpose_view().to_csr()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keep_each_users_order() {
        // No times: input order is time order, and it is not the items' id order.
        let events: Vec<(u32, u32, f32, i64)> =
            [2, 0, 4, 1, 3].iter().map(|&i| (0, i, 1.0, 0)).collect();
        let data = Dataset::from_timed(ids(1), ids(5), &events);
        let order = |d: &Dataset| d.sequence(0).iter().map(|&(i, _)| i).collect::<Vec<_>>();
        assert_eq!(order(&data), [2, 0, 4, 1, 3]);
        let split = leave_last_out(&data);
        assert_eq!(split.test[0], [3]);
        assert_eq!(order(&split.train), [2, 0, 4, 1]);
        // A random split keeps the training items in their order too.
        let split = stratified_split(&data, 0.6, 7);
        let train = order(&split.train);
        let mut in_input_order = train.clone();
        in_input_order.sort_by_key(|i| [2, 0, 4, 1, 3].iter().position(|j| j == i));
        assert_eq!(train, in_input_order);
        assert_eq!(train.len(), 3);
    }

    #[test]
    fn leave_last_out_holds_out_the_latest() {
        let data = Dataset::from_timed(
            ids(2),
            ids(4),
            &[
                (0, 0, 1.0, 10),
                (0, 1, 1.0, 30),
                (0, 2, 1.0, 20),
                (1, 3, 1.0, 5),
            ],
        );
        let split = leave_last_out(&data);
        assert_eq!(
            split.test,
            vec![vec![1], vec![]],
            "user 1 has one item: it trains"
        );
        assert_eq!(split.train.user_items(0).0, &[0, 2]);
        assert_eq!(split.train.user_items(1).0, &[3]);
    }

    #[test]
    fn cold_start_holds_items_out_entirely() {
        let triples: Vec<(u32, u32, f32)> = (0..6)
            .flat_map(|u| (0..10).map(move |i| (u, i, 1.0)))
            .collect();
        let data = Dataset::from_dense(6, 10, &triples);
        let split = cold_start_split(&data, 0.3, 5);
        let cold = split.candidates.clone().unwrap();
        assert_eq!(cold.len(), 3);
        assert_eq!(
            split.train.n_items(),
            10,
            "held-out items stay in the id map"
        );
        let popularity = split.train.item_popularity();
        for &item in &cold {
            assert_eq!(popularity[item as usize], 0, "no training interaction");
        }
        for user in 0..6 {
            assert_eq!(split.test[user], cold, "every user touched every item here");
        }
        assert_eq!(cold_start_split(&data, 0.3, 5).candidates, Some(cold));
    }

    fn ids(n: usize) -> crate::data::IdMap {
        let mut map = crate::data::IdMap::new();
        for i in 0..n {
            map.get_or_insert(&i.to_string());
        }
        map
    }

    #[test]
    fn split_is_per_user_seeded_and_complete() {
        let triples: Vec<(u32, u32, f32)> = (0..5)
            .flat_map(|u| (0..8).map(move |i| (u, i, 1.0)))
            .collect();
        let data = Dataset::from_dense(5, 8, &triples);
        let a = stratified_split(&data, 0.75, 7);
        let b = stratified_split(&data, 0.75, 7);
        let c = stratified_split(&data, 0.75, 8);
        assert_eq!(a.test, b.test, "same seed, same split");
        assert_ne!(a.test, c.test, "another seed, another split");
        for user in 0..5u32 {
            assert_eq!(a.train.user_items(user).0.len(), 6);
            assert_eq!(a.test[user as usize].len(), 2);
            for item in &a.test[user as usize] {
                assert!(
                    !a.train.user_items(user).0.contains(&(*item as usize)),
                    "no leak"
                );
            }
        }
    }
}
