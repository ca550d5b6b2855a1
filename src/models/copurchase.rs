//! "Frequently bought together": items that share baskets more often than chance, ranked
//! by lift.
//!
//! For items `a` and `b` over `N` baskets, `lift(a, b) = N * n(a, b) / (n(a) * n(b))`: 1 is
//! what independent items would show, above 1 is real affinity. Lift on one or two shared
//! baskets is mostly noise, so a pair needs `min_support` shared baskets to count.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::recommender::{load, save};
use crate::EngineError;

/// Settings of [`CoPurchase`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoPurchaseConfig {
    /// Shared baskets a pair needs before its lift is trusted.
    pub min_support: u32,
    /// Partners kept per item, best lift first.
    pub max_partners: usize,
    /// Longer baskets keep only their first this many distinct items (a bulk buyer's
    /// basket would otherwise pair everything with everything).
    pub max_basket: usize,
}

impl Default for CoPurchaseConfig {
    fn default() -> Self {
        Self {
            min_support: 2,
            max_partners: 50,
            max_basket: 40,
        }
    }
}

/// One partner of an item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    /// The other item.
    pub item: u32,
    /// Its lift with the item.
    pub lift: f32,
    /// Baskets holding both.
    pub together: u32,
}

/// Co-purchase partners of every item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CoPurchase {
    config: CoPurchaseConfig,
    baskets: usize,
    partners: Vec<Vec<Partner>>,
}

impl CoPurchase {
    /// Counts `baskets` (item indices below `n_items`; repeats within a basket count
    /// once). Items out of range are an error naming the basket.
    pub fn fit(
        n_items: usize,
        baskets: &[Vec<u32>],
        config: CoPurchaseConfig,
    ) -> Result<Self, EngineError> {
        if config.min_support == 0 || config.max_partners == 0 || config.max_basket < 2 {
            return Err(EngineError::Data(format!(
                "co-purchase settings: min_support and max_partners must be at least 1 and \
                 max_basket at least 2, got {config:?}"
            )));
        }
        let mut single = vec![0u32; n_items];
        let mut pairs: HashMap<(u32, u32), u32> = HashMap::new();
        let mut counted = 0usize;
        for (b, basket) in baskets.iter().enumerate() {
            let mut items: Vec<u32> = Vec::with_capacity(basket.len().min(config.max_basket));
            for &item in basket {
                if item as usize >= n_items {
                    return Err(EngineError::Data(format!(
                        "basket {b}: item {item} is outside the catalogue of {n_items} items"
                    )));
                }
                if !items.contains(&item) {
                    items.push(item);
                    if items.len() == config.max_basket {
                        break;
                    }
                }
            }
            if items.is_empty() {
                continue;
            }
            counted += 1;
            for &i in &items {
                single[i as usize] += 1;
            }
            for (x, &a) in items.iter().enumerate() {
                for &b in &items[x + 1..] {
                    *pairs.entry((a.min(b), a.max(b))).or_default() += 1;
                }
            }
        }
        let n = counted as f32;
        let mut partners: Vec<Vec<Partner>> = vec![Vec::new(); n_items];
        for ((a, b), together) in pairs {
            if together < config.min_support {
                continue;
            }
            let lift =
                n * together as f32 / (single[a as usize] as f32 * single[b as usize] as f32);
            partners[a as usize].push(Partner {
                item: b,
                lift,
                together,
            });
            partners[b as usize].push(Partner {
                item: a,
                lift,
                together,
            });
        }
        for list in &mut partners {
            list.sort_unstable_by(|x, y| {
                y.lift
                    .total_cmp(&x.lift)
                    .then(y.together.cmp(&x.together))
                    .then(x.item.cmp(&y.item))
            });
            list.truncate(config.max_partners);
        }
        Ok(Self {
            config,
            baskets: counted,
            partners,
        })
    }

    /// Baskets counted.
    pub fn baskets(&self) -> usize {
        self.baskets
    }

    /// Items known (the catalogue size at fitting).
    pub fn n_items(&self) -> usize {
        self.partners.len()
    }

    /// Up to `k` partners of `item`, best lift first; none for an unknown item.
    pub fn together(&self, item: u32, k: usize) -> &[Partner] {
        self.partners
            .get(item as usize)
            .map_or(&[][..], |list| &list[..list.len().min(k)])
    }

    /// Items that complete `basket`: each candidate's lifts with the basket's items summed,
    /// best first, without the basket's own items. The second field of each entry is the
    /// basket item that contributed most (for "often bought with X").
    pub fn complete(&self, basket: &[u32], k: usize) -> Vec<(u32, f32, u32)> {
        let mut sums: HashMap<u32, (f32, u32, f32)> = HashMap::new();
        for &item in basket {
            for partner in self.together(item, usize::MAX) {
                if basket.contains(&partner.item) {
                    continue;
                }
                let entry = sums.entry(partner.item).or_insert((0.0, item, 0.0));
                entry.0 += partner.lift;
                if partner.lift > entry.2 {
                    entry.1 = item;
                    entry.2 = partner.lift;
                }
            }
        }
        let mut ranked: Vec<(u32, f32, u32)> = sums
            .into_iter()
            .map(|(item, (sum, because, _))| (item, sum, because))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(k);
        ranked
    }

    /// The fitted partners as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        save("co-purchase", self)
    }

    /// Reads back [`CoPurchase::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("co-purchase", bytes)
    }

    /// The settings it was fitted with.
    pub fn config(&self) -> CoPurchaseConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baskets() -> Vec<Vec<u32>> {
        // 0 and 1 always go together; 2 is in every basket (popular, no affinity);
        // 3 shows up with 0 once only.
        vec![
            vec![0, 1, 2],
            vec![0, 1, 2],
            vec![0, 1, 2, 3],
            vec![2, 4],
            vec![2, 4],
            vec![2, 5],
        ]
    }

    #[test]
    fn lift_ranks_real_affinity_above_popularity() {
        let model = CoPurchase::fit(6, &baskets(), CoPurchaseConfig::default()).unwrap();
        let partners = model.together(0, 10);
        assert_eq!(partners[0].item, 1);
        // 6 baskets, 0 and 1 in 3 each, together 3 times: 6 * 3 / 9 = 2.
        assert!((partners[0].lift - 2.0).abs() < 1e-6);
        assert_eq!(partners[0].together, 3);
        // 2 is everywhere: lift exactly 1, ranked below.
        let with_two = partners.iter().find(|p| p.item == 2).unwrap();
        assert!((with_two.lift - 1.0).abs() < 1e-6);
        // One shared basket is below the support threshold.
        assert!(partners.iter().all(|p| p.item != 3));
    }

    #[test]
    fn completing_a_basket_skips_its_items_and_names_the_reason() {
        let model = CoPurchase::fit(6, &baskets(), CoPurchaseConfig::default()).unwrap();
        let completed = model.complete(&[0, 2], 5);
        assert_eq!(completed[0].0, 1);
        assert_eq!(completed[0].2, 0, "1 is there because of 0");
        assert!(completed
            .iter()
            .all(|(item, _, _)| *item != 0 && *item != 2));
    }

    #[test]
    fn bad_baskets_and_settings_are_errors() {
        let err = CoPurchase::fit(3, &[vec![0], vec![1, 7]], CoPurchaseConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("basket 1") && err.contains("item 7"), "{err}");
        let bad = CoPurchaseConfig {
            min_support: 0,
            ..CoPurchaseConfig::default()
        };
        assert!(CoPurchase::fit(3, &[], bad).is_err());
    }

    #[test]
    fn bytes_round_trip() {
        let model = CoPurchase::fit(6, &baskets(), CoPurchaseConfig::default()).unwrap();
        let back = CoPurchase::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(back.together(0, 10), model.together(0, 10));
        assert_eq!(back.baskets(), 6);
        assert!(model.together(99, 3).is_empty());
    }
}
