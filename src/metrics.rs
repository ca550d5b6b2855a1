//! Ranking metrics at k, as the Microsoft Recommenders benchmark defines them: binary
//! relevance (every held-out item is relevant), full ranking, averaged over the users who
//! have at least one relevant item.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// Accuracy metrics of one ranked list, or their mean over users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// Hits in the top k, over k.
    pub precision: f64,
    /// Hits in the top k, over the number of relevant items.
    pub recall: f64,
    /// Discounted cumulative gain (gain 1, discount log2(rank + 1)) over its ideal.
    pub ndcg: f64,
    /// Sum over hits of precision at that rank, over the number of relevant items.
    pub map: f64,
    /// 1 when the top k holds any relevant item.
    pub hit_rate: f64,
    /// 1 / rank of the first relevant item in the top k (0 when none).
    pub mrr: f64,
}

impl RankingMetrics {
    /// The metrics of `ranked` (best first; only the first `k` count) against `relevant`.
    pub fn of(ranked: &[u32], relevant: &HashSet<u32>, k: usize) -> Self {
        if relevant.is_empty() || k == 0 {
            return Self::default();
        }
        let mut hits = 0usize;
        let mut dcg = 0.0;
        let mut precision_sum = 0.0;
        let mut first_hit = None;
        for (rank0, item) in ranked.iter().take(k).enumerate() {
            if relevant.contains(item) {
                hits += 1;
                dcg += 1.0 / ((rank0 + 2) as f64).log2();
                precision_sum += hits as f64 / (rank0 + 1) as f64;
                first_hit.get_or_insert(rank0 + 1);
            }
        }
        let ideal: f64 = (0..relevant.len().min(k))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        let n_relevant = relevant.len() as f64;
        Self {
            precision: hits as f64 / k as f64,
            recall: hits as f64 / n_relevant,
            ndcg: dcg / ideal,
            map: precision_sum / n_relevant,
            hit_rate: if hits > 0 { 1.0 } else { 0.0 },
            mrr: first_hit.map_or(0.0, |r| 1.0 / r as f64),
        }
    }

    /// The mean of per-user metrics.
    pub fn mean(all: &[Self]) -> Self {
        if all.is_empty() {
            return Self::default();
        }
        let n = all.len() as f64;
        let sum = |f: fn(&Self) -> f64| all.iter().map(f).sum::<f64>() / n;
        Self {
            precision: sum(|m| m.precision),
            recall: sum(|m| m.recall),
            ndcg: sum(|m| m.ndcg),
            map: sum(|m| m.map),
            hit_rate: sum(|m| m.hit_rate),
            mrr: sum(|m| m.mrr),
        }
    }
}

/// Share of the catalogue that appears in at least one list.
pub fn catalogue_coverage(lists: &[Vec<u32>], n_items: usize) -> f64 {
    if n_items == 0 {
        return 0.0;
    }
    let distinct: HashSet<u32> = lists.iter().flatten().copied().collect();
    distinct.len() as f64 / n_items as f64
}

/// Mean self-information, -log2(share of users who interacted with the item), of the
/// recommended items: higher means less obvious recommendations.
pub fn novelty(lists: &[Vec<u32>], popularity: &[u32], n_users: usize) -> f64 {
    let mut total = 0.0;
    let mut count = 0usize;
    for &item in lists.iter().flatten() {
        let users = popularity.get(item as usize).copied().unwrap_or(0).max(1) as f64;
        total += -(users / n_users.max(1) as f64).log2();
        count += 1;
    }
    if count == 0 {
        0.0
    } else {
        total / count as f64
    }
}

/// Mean over lists of the mean pairwise dissimilarity (1 - cosine) of the listed items,
/// where items are compared by their user vectors (`by_item`: item x user, CSR). 0 for
/// lists of identical taste, 1 for lists of items no user shares.
pub fn intra_list_diversity(lists: &[Vec<u32>], by_item: &sprs::CsMat<f32>) -> f64 {
    let norm = |i: u32| -> f64 {
        let (_, w) = crate::data::row_slices(by_item, i as usize);
        w.iter()
            .map(|x| (*x as f64) * (*x as f64))
            .sum::<f64>()
            .sqrt()
    };
    let cosine = |a: u32, b: u32| -> f64 {
        let (ia, wa) = crate::data::row_slices(by_item, a as usize);
        let (ib, wb) = crate::data::row_slices(by_item, b as usize);
        let (mut x, mut y, mut dot) = (0, 0, 0.0f64);
        while x < ia.len() && y < ib.len() {
            match ia[x].cmp(&ib[y]) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    dot += wa[x] as f64 * wb[y] as f64;
                    x += 1;
                    y += 1;
                }
            }
        }
        let denominator = norm(a) * norm(b);
        if denominator > 0.0 {
            dot / denominator
        } else {
            0.0
        }
    };
    let mut total = 0.0;
    let mut counted = 0usize;
    for list in lists.iter().filter(|l| l.len() >= 2) {
        let mut sum = 0.0;
        let mut pairs = 0usize;
        for (n, &a) in list.iter().enumerate() {
            for &b in &list[n + 1..] {
                sum += 1.0 - cosine(a, b);
                pairs += 1;
            }
        }
        total += sum / pairs as f64;
        counted += 1;
    }
    if counted == 0 {
        0.0
    } else {
        total / counted as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[u32]) -> HashSet<u32> {
        items.iter().copied().collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Three users, k = 3, every value worked out by hand.
    #[test]
    fn three_users_by_hand() {
        // User A: ranked [1, 2, 3], relevant {1, 3}: hits at ranks 1 and 3.
        let a = RankingMetrics::of(&[1, 2, 3], &set(&[1, 3]), 3);
        assert!(close(a.precision, 2.0 / 3.0));
        assert!(close(a.recall, 1.0));
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        assert!(close(a.ndcg, dcg / idcg));
        assert!(close(a.map, (1.0 + 2.0 / 3.0) / 2.0));
        assert!(close(a.hit_rate, 1.0));
        assert!(close(a.mrr, 1.0));

        // User B: ranked [4, 5, 6], relevant {6, 7, 8, 9}: one hit at rank 3.
        let b = RankingMetrics::of(&[4, 5, 6], &set(&[6, 7, 8, 9]), 3);
        assert!(close(b.precision, 1.0 / 3.0));
        assert!(close(b.recall, 0.25));
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(b.ndcg, 0.5 / idcg));
        assert!(close(b.map, (1.0 / 3.0) / 4.0));
        assert!(close(b.mrr, 1.0 / 3.0));

        // User C: no hit.
        let c = RankingMetrics::of(&[1, 2, 3], &set(&[9]), 3);
        assert_eq!(c, RankingMetrics::default());

        let mean = RankingMetrics::mean(&[a, b, c]);
        assert!(close(mean.precision, (2.0 / 3.0 + 1.0 / 3.0) / 3.0));
        assert!(close(mean.hit_rate, 2.0 / 3.0));
        assert!(close(mean.recall, 1.25 / 3.0));
    }

    #[test]
    fn only_the_first_k_count() {
        let m = RankingMetrics::of(&[1, 2, 3, 4], &set(&[4]), 3);
        assert_eq!(m.hit_rate, 0.0);
    }

    #[test]
    fn diversity_of_lists() {
        // Items 0 and 1 have the same users; item 2 shares none with them.
        let by_item = crate::data::Dataset::from_dense(
            3,
            3,
            &[
                (0, 0, 1.0),
                (1, 0, 1.0),
                (0, 1, 1.0),
                (1, 1, 1.0),
                (2, 2, 1.0),
            ],
        )
        .matrix
        .transpose_view()
        .to_csr();
        assert!(close(intra_list_diversity(&[vec![0, 1]], &by_item), 0.0));
        assert!(close(intra_list_diversity(&[vec![0, 2]], &by_item), 1.0));
        assert!(close(
            intra_list_diversity(&[vec![0, 1, 2]], &by_item),
            2.0 / 3.0
        ));
    }

    #[test]
    fn coverage_and_novelty() {
        let lists = vec![vec![0, 1], vec![1, 2]];
        assert!(close(catalogue_coverage(&lists, 6), 0.5));
        // Item 0 seen by all 4 users (0 bits), item 1 by 1 user (2 bits), item 2 by 2 (1 bit).
        let popularity = [4, 1, 2];
        assert!(close(
            novelty(&lists, &popularity, 4),
            (0.0 + 2.0 + 2.0 + 1.0) / 4.0
        ));
    }
}
