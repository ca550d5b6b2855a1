//! Dislike demotion: near-duplicates of the products a shopper disliked lose relevance in
//! proportion to their similarity, so one dislike pushes down its twins without hiding a
//! whole category.

use std::collections::HashMap;

use crate::strategy::Rules;

use super::ModelSet;

/// Products more similar than this many are looked at per disliked product.
const NEIGHBOURS: usize = 100;

/// Lowers, in place, the scores of `ranked` items similar to a `disliked` product (by
/// content similarity when the content model is loaded, else item-kNN's), then sorts the
/// list again. An item whose similarity `s` to a disliked product is at least
/// `rules.near_duplicate` loses `rules.dislike_demotion * s` of the list's score range.
pub fn demote_dislikes(set: &ModelSet, rules: &Rules, disliked: &[i64], ranked: &mut [(u32, f32)]) {
    if disliked.is_empty() || rules.dislike_demotion == 0.0 || ranked.is_empty() {
        return;
    }
    let Some(similar) = set
        .models
        .get("content")
        .or_else(|| set.models.get("item-knn"))
    else {
        return;
    };
    let mut penalty: HashMap<u32, f32> = HashMap::new();
    for &product in disliked {
        let Some(item) = set.catalog.item(product) else {
            continue;
        };
        for (other, sim) in similar.similar_items(item, NEIGHBOURS) {
            if sim >= rules.near_duplicate {
                let p = penalty.entry(other).or_default();
                *p = p.max(sim.min(1.0));
            }
        }
    }
    if penalty.is_empty() {
        return;
    }
    let (lo, hi) = ranked
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.1), hi.max(r.1))
        });
    let span = (hi - lo).max(f32::MIN_POSITIVE);
    for entry in ranked.iter_mut() {
        if let Some(&p) = penalty.get(&entry.0) {
            // Relevance in [0, 1], minus the demotion, back to the list's scale.
            let relevance = (entry.1 - lo) / span - rules.dislike_demotion * p;
            entry.1 = lo + relevance * span;
        }
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::super::tests::{shop, DISLIKED_TWIN};
    use super::*;

    #[test]
    fn a_disliked_products_twin_falls_and_others_keep_their_place() {
        let set = shop();
        let rules = Rules::default();
        // Items 0..4, best first; item 1 is the twin of the disliked product.
        let mut ranked = vec![(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.1)];
        demote_dislikes(&set, &rules, &[DISLIKED_TWIN.0], &mut ranked);
        let order: Vec<u32> = ranked.iter().map(|&(i, _)| i).collect();
        assert_eq!(order[0], 0);
        assert!(
            order.iter().position(|&i| i == 1) > order.iter().position(|&i| i == 2),
            "{ranked:?}"
        );
        // Turned off, nothing moves.
        let off = Rules {
            dislike_demotion: 0.0,
            ..Rules::default()
        };
        let mut same = vec![(0, 1.0), (1, 0.9), (2, 0.8)];
        demote_dislikes(&set, &off, &[DISLIKED_TWIN.0], &mut same);
        assert_eq!(same, vec![(0, 1.0), (1, 0.9), (2, 0.8)]);
    }
}
