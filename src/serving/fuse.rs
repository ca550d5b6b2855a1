//! Fusing the ranked lists of a variant's models into one: reciprocal-rank fusion.

use std::collections::HashMap;

/// The `k` of reciprocal-rank fusion (Cormack et al. 2009): a list's item at rank `r`
/// (from 1) adds `1 / (K + r)`.
const K: f32 = 60.0;

/// Reciprocal-rank fusion of ranked lists, best first (ties by item index); one list
/// passes through with its own scores.
pub fn fuse(lists: Vec<Vec<(u32, f32)>>) -> Vec<(u32, f32)> {
    if lists.len() == 1 {
        return lists.into_iter().next().unwrap_or_default();
    }
    let mut sums: HashMap<u32, f32> = HashMap::new();
    for list in &lists {
        for (rank, &(item, _)) in list.iter().enumerate() {
            *sums.entry(item).or_default() += 1.0 / (K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(u32, f32)> = sums.into_iter().collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_list_keeps_its_scores() {
        let list = vec![(3, 9.0), (1, 2.0)];
        assert_eq!(fuse(vec![list.clone()]), list);
        assert!(fuse(Vec::new()).is_empty());
    }

    #[test]
    fn items_high_in_both_lists_win_and_ties_go_to_the_lower_index() {
        let fused = fuse(vec![
            vec![(1, 0.9), (2, 0.8), (3, 0.1)],
            vec![(2, 5.0), (1, 4.0)],
        ]);
        let order: Vec<u32> = fused.iter().map(|&(i, _)| i).collect();
        // 1 and 2 each have ranks 1 and 2: a tie, broken by index; 3 is in one list.
        assert_eq!(order, [1, 2, 3]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-7);
    }
}
