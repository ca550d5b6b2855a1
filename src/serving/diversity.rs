//! Diversity on a ranked list: maximal marginal relevance (Carbonell and Goldstein 1998),
//! a cap per category, and a round robin over departments. Each takes a list already
//! ranked best first and returns at most `k` of its items, never inventing one.

use crate::strategy::Diversity;

use super::Catalog;

/// A surface's diversity rules on `ranked`: MMR over the top `5k` with same-leaf-category
/// as the similarity (when asked), then the per-category cap (when asked); at most `k`.
pub fn diversify(
    catalog: &Catalog,
    rules: &Diversity,
    ranked: &[(u32, f32)],
    k: usize,
) -> Vec<(u32, f32)> {
    let mut out = match rules.mmr {
        Some(lambda) => mmr(&ranked[..ranked.len().min(k * 5)], k * 2, lambda, |a, b| {
            same_category(catalog, a, b)
        }),
        None => ranked.to_vec(),
    };
    if let Some(cap) = rules.per_category {
        out = cap_per_category(&out, k, cap, |item| {
            catalog.categories[item as usize].map(|c| c as u32)
        });
    }
    out.truncate(k);
    out
}

/// 1 when both items have the same leaf category, else 0.
fn same_category(catalog: &Catalog, a: u32, b: u32) -> f32 {
    match (
        catalog.categories[a as usize],
        catalog.categories[b as usize],
    ) {
        (Some(x), Some(y)) if x == y => 1.0,
        _ => 0.0,
    }
}

/// One item from each department in turn (departments in the order of their best item),
/// so a short list shows the whole shop; at most `k`.
pub fn round_robin_by_department(
    catalog: &Catalog,
    ranked: &[(u32, f32)],
    k: usize,
) -> Vec<(u32, f32)> {
    let mut queues: Vec<(Option<&str>, Vec<(u32, f32)>)> = Vec::new();
    for &(item, score) in ranked {
        let d = catalog.department(item);
        match queues.iter_mut().find(|(name, _)| *name == d) {
            Some((_, queue)) => queue.push((item, score)),
            None => queues.push((d, vec![(item, score)])),
        }
    }
    let mut out = Vec::with_capacity(k);
    let mut round = 0;
    while out.len() < k && queues.iter().any(|(_, q)| q.len() > round) {
        for (_, queue) in &queues {
            if let Some(&entry) = queue.get(round) {
                if out.len() < k {
                    out.push(entry);
                }
            }
        }
        round += 1;
    }
    out
}

/// Maximal marginal relevance: picks items one at a time, each maximising
/// `lambda * relevance - (1 - lambda) * (largest similarity to an item already picked)`.
/// Relevance is the list's score scaled to [0, 1] (min-max), so `lambda` means the same
/// whatever the model's scale; `lambda = 1` keeps the order. Ties go to the earlier item.
pub fn mmr(
    ranked: &[(u32, f32)],
    k: usize,
    lambda: f32,
    similarity: impl Fn(u32, u32) -> f32,
) -> Vec<(u32, f32)> {
    let lambda = lambda.clamp(0.0, 1.0);
    let (lo, hi) = ranked
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.1), hi.max(r.1))
        });
    let span = hi - lo;
    let relevance = |s: f32| {
        if span > 0.0 && span.is_finite() {
            (s - lo) / span
        } else {
            1.0
        }
    };
    let mut left: Vec<(u32, f32)> = ranked.to_vec();
    // Per remaining item, its largest similarity to the picked ones.
    let mut closest = vec![f32::NEG_INFINITY; left.len()];
    let mut picked = Vec::with_capacity(k.min(left.len()));
    while picked.len() < k && !left.is_empty() {
        let mut best = (0usize, f32::NEG_INFINITY);
        for (i, &(_, score)) in left.iter().enumerate() {
            let penalty = if closest[i].is_finite() {
                closest[i]
            } else {
                0.0
            };
            let value = lambda * relevance(score) - (1.0 - lambda) * penalty;
            if value > best.1 {
                best = (i, value);
            }
        }
        let chosen = left.remove(best.0);
        closest.remove(best.0);
        for (i, &(item, _)) in left.iter().enumerate() {
            closest[i] = closest[i].max(similarity(chosen.0, item));
        }
        picked.push(chosen);
    }
    picked
}

/// At most `cap` items of any one category, in rank order; items whose category is
/// unknown (`None`) are never capped.
pub fn cap_per_category(
    ranked: &[(u32, f32)],
    k: usize,
    cap: usize,
    category_of: impl Fn(u32) -> Option<u32>,
) -> Vec<(u32, f32)> {
    let mut counts: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(k.min(ranked.len()));
    for &(item, score) in ranked {
        if out.len() == k {
            break;
        }
        if let Some(category) = category_of(item) {
            let count = counts.entry(category).or_default();
            if *count >= cap {
                continue;
            }
            *count += 1;
        }
        out.push((item, score));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items 0 and 1 are near-duplicates; 2 and 3 are unlike anything.
    fn similarity(a: u32, b: u32) -> f32 {
        if (a, b) == (0, 1) || (a, b) == (1, 0) {
            0.95
        } else {
            0.0
        }
    }

    const RANKED: [(u32, f32); 4] = [(0, 10.0), (1, 9.5), (2, 9.0), (3, 5.0)];

    #[test]
    fn mmr_at_lambda_one_keeps_the_order() {
        assert_eq!(mmr(&RANKED, 4, 1.0, similarity), RANKED.to_vec());
    }

    #[test]
    fn mmr_pushes_a_near_duplicate_down() {
        let items: Vec<u32> = mmr(&RANKED, 4, 0.5, similarity)
            .iter()
            .map(|r| r.0)
            .collect();
        // At 0.5, a 95% duplicate falls below even the weakest distinct item.
        assert_eq!(items, vec![0, 2, 3, 1]);
        let items: Vec<u32> = mmr(&RANKED, 4, 0.9, similarity)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            items,
            vec![0, 2, 1, 3],
            "at 0.9 only the stronger item passes it"
        );
        // Fewer asked, fewer given; an empty list stays empty.
        assert_eq!(mmr(&RANKED, 2, 0.5, similarity).len(), 2);
        assert!(mmr(&[], 3, 0.5, similarity).is_empty());
    }

    #[test]
    fn the_category_cap_fills_from_further_down() {
        let ranked: Vec<(u32, f32)> = (0..8).map(|i| (i, 10.0 - i as f32)).collect();
        // Items 0-5 are category 7, item 6 has none, item 7 is category 8.
        let category = |i: u32| match i {
            0..=5 => Some(7),
            6 => None,
            _ => Some(8),
        };
        let items: Vec<u32> = cap_per_category(&ranked, 5, 2, category)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(items, vec![0, 1, 6, 7]);
    }

    #[test]
    fn diversify_applies_the_surfaces_rules_and_cuts_to_k() {
        use super::super::catalog::tests::catalog;
        let catalog = catalog(&[
            (1, "A", 1),
            (2, "A", 1),
            (3, "A", 1),
            (4, "B", 1),
            (5, "C", 1),
        ]);
        let ranked: Vec<(u32, f32)> = (0..5).map(|i| (i, 5.0 - i as f32)).collect();
        let items = |rules: Diversity, k: usize| -> Vec<u32> {
            diversify(&catalog, &rules, &ranked, k)
                .iter()
                .map(|r| r.0)
                .collect()
        };
        assert_eq!(items(Diversity::default(), 3), [0, 1, 2]);
        let capped = Diversity {
            per_category: Some(1),
            ..Diversity::default()
        };
        assert_eq!(items(capped, 3), [0, 3, 4]);
        let spread = Diversity {
            mmr: Some(0.3),
            ..Diversity::default()
        };
        // Low lambda: a new category beats the next of the same one.
        assert_eq!(items(spread, 3), [0, 3, 4]);
    }

    #[test]
    fn the_round_robin_takes_one_per_department_per_round() {
        use super::super::catalog::tests::catalog;
        let catalog = catalog(&[
            (1, "Home > Kitchen", 1),
            (2, "Home > Garden", 1),
            (3, "Toys", 1),
            (4, "Toys > Games", 1),
            (5, "Books", 1),
        ]);
        let ranked: Vec<(u32, f32)> = (0..5).map(|i| (i, 5.0 - i as f32)).collect();
        let items: Vec<u32> = round_robin_by_department(&catalog, &ranked, 4)
            .iter()
            .map(|r| r.0)
            .collect();
        // Home, Toys, Books, then Home's second.
        assert_eq!(items, [0, 2, 4, 1]);
    }
}
