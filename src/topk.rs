//! Top-k selection over a dense score vector: a scan against a rising bar (or a partial
//! selection, O(n) average) then a sort of the k winners. Ties go to the lower index, so
//! results are deterministic.

use std::cmp::Ordering;

/// Orders (index, score) pairs best first: higher score, then lower index. NaN ranks as
/// -inf (below every finite score).
fn better(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    key(b.1)
        .partial_cmp(&key(a.1))
        .unwrap_or(Ordering::Equal)
        .then(a.0.cmp(&b.0))
}

/// A bounded heap of the `k` best (index, score) pairs seen so far; its top is the
/// worst kept pair, so a candidate that does not beat it costs one comparison.
struct Best {
    k: usize,
    heap: std::collections::BinaryHeap<Kept>,
}

/// Heap entry ordered so the heap's top is the *worst* kept item.
#[derive(PartialEq)]
struct Kept(f32, u32);

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&(self.1, self.0), &(other.1, other.0))
    }
}

impl Best {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: std::collections::BinaryHeap::with_capacity(k + 1),
        }
    }

    /// Whether `(index, score)` would be kept now.
    fn admits(&self, index: u32, score: f32) -> bool {
        if self.heap.len() < self.k {
            return true;
        }
        // `better(&(index, score), worst) == Less`, spelled out: this runs once per item
        // of the catalogue, and nearly every item fails on the score alone.
        let Some(&Kept(worst_score, worst_index)) = self.heap.peek() else {
            return false;
        };
        let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
        let (score, worst_score) = (key(score), key(worst_score));
        score > worst_score || (score == worst_score && index < worst_index)
    }

    /// Keeps `(index, score)`; call only after [`admits`](Self::admits) said yes.
    fn keep(&mut self, index: u32, score: f32) {
        if self.heap.len() == self.k {
            self.heap.pop();
        }
        self.heap.push(Kept(score, index));
    }

    fn into_sorted(self) -> Vec<(u32, f32)> {
        let mut best: Vec<(u32, f32)> = self.heap.into_iter().map(|Kept(s, i)| (i, s)).collect();
        best.sort_unstable_by(better);
        best
    }
}

/// The `k` best items of `scores`, best first, skipping every index for which `skip`
/// answers true.
///
/// `skip` is asked only about items that would make the list at that point (give or
/// take the buffer below), so a costly rule (a set lookup, a category test) runs for a
/// few hundred items, not for the whole catalogue. For small `k` the scan keeps a buffer
/// of up to `2k` items; when it fills, it keeps its `k` best and the worst of those
/// becomes the bar a later item must clear: one comparison per item, sixteen at a time
/// (no catalogue-sized buffer). When `k` is a large share of the items, a partial
/// selection of them all is cheaper.
pub fn top_k(scores: &[f32], k: usize, mut skip: impl FnMut(u32) -> bool) -> Vec<(u32, f32)> {
    if k == 0 {
        return Vec::new();
    }
    if k.saturating_mul(4) >= scores.len() {
        let mut candidates: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as u32, s))
            .filter(|&(i, _)| !skip(i))
            .collect();
        if candidates.len() > k {
            candidates.select_nth_unstable_by(k - 1, better);
            candidates.truncate(k);
        }
        candidates.sort_unstable_by(better);
        return candidates;
    }
    const CHUNK: usize = 16;
    let cap = 2 * k;
    let mut kept: Vec<(u32, f32)> = Vec::with_capacity(cap);
    // Items come in index order, so a later item loses a tie with a kept one: past the
    // bar means strictly above its score (a NaN is never above anything).
    let mut bar: Option<f32> = None;
    for (c, chunk) in scores.chunks(CHUNK).enumerate() {
        if let Some(bar) = bar {
            if !chunk.iter().fold(false, |any, &s| any | (s > bar)) {
                continue;
            }
        }
        for (j, &score) in chunk.iter().enumerate() {
            if bar.is_some_and(|bar| score.is_nan() || score <= bar) {
                continue;
            }
            let index = (c * CHUNK + j) as u32;
            if skip(index) {
                continue;
            }
            kept.push((index, score));
            if kept.len() == cap {
                kept.select_nth_unstable_by(k - 1, better);
                kept.truncate(k);
                let worst = kept[k - 1].1;
                bar = Some(if worst.is_nan() {
                    f32::NEG_INFINITY
                } else {
                    worst
                });
            }
        }
    }
    if kept.len() > k {
        kept.select_nth_unstable_by(k - 1, better);
        kept.truncate(k);
    }
    kept.sort_unstable_by(better);
    kept
}

/// The `k` items whose `dims`-long rows of `items` (row-major) have the largest dot
/// product with `user`, best first. Scores and selects in one pass with a small heap, so
/// a million-item catalogue needs no million-entry buffer.
pub fn top_k_dot(user: &[f32], items: &[f32], dims: usize, k: usize) -> Vec<(u32, f32)> {
    if k == 0 || dims == 0 {
        return Vec::new();
    }
    let mut best = Best::new(k);
    for (index, row) in items.chunks_exact(dims).enumerate() {
        let score = crate::vector::dot(user, row);
        if best.admits(index as u32, score) {
            best.keep(index as u32, score);
        }
    }
    best.into_sorted()
}

/// Whether `item` is in the sorted slice `sorted`.
pub fn contains_sorted(sorted: &[u32], item: u32) -> bool {
    sorted.binary_search(&item).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_best_in_order_with_stable_ties() {
        let scores = [0.1, 0.9, 0.5, 0.9, f32::NAN, 0.7];
        assert_eq!(
            top_k(&scores, 3, |_| false),
            vec![(1, 0.9), (3, 0.9), (5, 0.7)]
        );
        assert_eq!(top_k(&scores, 2, |i| i == 1), vec![(3, 0.9), (5, 0.7)]);
        assert_eq!(top_k(&scores, 0, |_| false), vec![]);
        let all = top_k(&scores, 10, |_| false);
        assert_eq!(all.len(), 6);
        assert_eq!(all[5].0, 4, "NaN ranks last");
    }

    #[test]
    fn fused_dot_top_k_matches_score_then_select() {
        let dims = 5;
        let items: Vec<f32> = (0..500 * dims)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0)
            .collect();
        let user = [0.3, -1.0, 0.5, 2.0, 0.1];
        let scores: Vec<f32> = items
            .chunks_exact(dims)
            .map(|r| crate::vector::dot(&user, r))
            .collect();
        assert_eq!(
            top_k_dot(&user, &items, dims, 10),
            top_k(&scores, 10, |_| false)
        );
    }

    #[test]
    fn heap_and_selection_agree_with_skips_ties_and_nan() {
        // Many ties, a few NaNs and infinities; k small enough for the heap path.
        let scores: Vec<f32> = (0..2000u32)
            .map(|i| match i % 97 {
                0 => f32::NAN,
                1 => f32::INFINITY,
                2 => f32::NEG_INFINITY,
                _ => ((i * 7919) % 50) as f32,
            })
            .collect();
        let skip = |i: u32| i % 5 == 0;
        let mut kept: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as u32, s))
            .filter(|&(i, _)| !skip(i))
            .collect();
        kept.sort_by(better);
        for k in [1, 7, 100, 499, 500, 1999, 5000] {
            let got = top_k(&scores, k, skip);
            let want = &kept[..k.min(kept.len())];
            assert_eq!(got.len(), want.len(), "k = {k}");
            for (g, w) in got.iter().zip(want) {
                assert_eq!(g.0, w.0, "k = {k}");
                assert!(g.1 == w.1 || (g.1.is_nan() && w.1.is_nan()), "k = {k}");
            }
        }
    }

    #[test]
    fn rising_falling_and_flat_scores_match_a_full_sort() {
        // Rising scores make every item beat the bar; flat ones tie everywhere.
        let n = 3000u32;
        let shapes: [Vec<f32>; 4] = [
            (0..n).map(|i| i as f32).collect(),
            (0..n).map(|i| -(i as f32)).collect(),
            vec![1.0; n as usize],
            (0..n)
                .map(|i| if i % 3 == 0 { f32::NAN } else { (i % 7) as f32 })
                .collect(),
        ];
        for scores in &shapes {
            let mut sorted: Vec<(u32, f32)> = scores
                .iter()
                .enumerate()
                .map(|(i, &s)| (i as u32, s))
                .filter(|&(i, _)| i % 11 != 3)
                .collect();
            sorted.sort_by(better);
            for k in [1, 2, 15, 16, 17, 100, 700] {
                let got = top_k(scores, k, |i| i % 11 == 3);
                let ids: Vec<u32> = got.iter().map(|g| g.0).collect();
                let want: Vec<u32> = sorted[..k].iter().map(|w| w.0).collect();
                assert_eq!(ids, want, "k = {k}, scores from {:?}", &scores[..3]);
            }
        }
    }

    #[test]
    fn matches_a_full_sort() {
        let scores: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f32 / 7.0)
            .collect();
        let mut sorted: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as u32, s))
            .collect();
        sorted.sort_by(better);
        assert_eq!(top_k(&scores, 25, |_| false), sorted[..25].to_vec());
    }
}
