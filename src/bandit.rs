//! Online choice between strategy variants: Thompson sampling over Beta posteriors of each
//! variant's reward rate, with a floor of exploration, and deterministic assignment for
//! A/B comparisons.
//!
//! A variant's reward is in [0, 1] per impression (a served list): 1 for a purchase, less
//! for an add-to-cart or a click, as the caller weighs them. The posterior of its rate is
//! Beta(1 + rewards, 1 + impressions - rewards). Each choice draws one rate per variant
//! and serves the highest draw, so traffic moves toward the better variant as evidence
//! grows, while `floor` keeps a minimum share of traffic for every variant (the world may
//! change; a variant that was unlucky early gets its chance again).

use rand::Rng;
use rand_distr::{Beta, Distribution};
use serde::{Deserialize, Serialize};

/// Impressions and rewards of one variant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmStats {
    /// The variant's name (a strategy or model mix).
    pub name: String,
    /// Lists served.
    pub impressions: u64,
    /// Sum of rewards (each in [0, 1]).
    pub rewards: f64,
}

impl ArmStats {
    /// Mean reward per impression (0 before any; at most 1, even when more rewards than
    /// impressions were recorded).
    pub fn rate(&self) -> f64 {
        if self.impressions == 0 {
            0.0
        } else {
            (self.rewards / self.impressions as f64).min(1.0)
        }
    }
}

/// A Thompson-sampling bandit over named variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandit {
    /// The variants, in a fixed order.
    pub arms: Vec<ArmStats>,
    /// Total share of traffic spread evenly over all variants whatever the evidence
    /// (0.1: each of two variants gets at least 5%).
    pub floor: f64,
}

impl Bandit {
    /// A bandit over `names` with no evidence yet.
    pub fn new(names: &[&str], floor: f64) -> Self {
        Self {
            arms: names
                .iter()
                .map(|n| ArmStats {
                    name: n.to_string(),
                    ..ArmStats::default()
                })
                .collect(),
            floor: floor.clamp(0.0, 1.0),
        }
    }

    /// The variant to serve next.
    pub fn choose(&self, rng: &mut impl Rng) -> usize {
        let n = self.arms.len();
        if n <= 1 {
            return 0;
        }
        if rng.gen::<f64>() < self.floor {
            return rng.gen_range(0..n);
        }
        let mut best = (0, f64::NEG_INFINITY);
        for (i, arm) in self.arms.iter().enumerate() {
            let rewards = arm.rewards.clamp(0.0, arm.impressions as f64);
            let a = 1.0 + rewards;
            let b = 1.0 + arm.impressions as f64 - rewards;
            // Both parameters are at least 1, so the distribution always exists.
            let draw = Beta::new(a, b).map_or(0.5, |beta| beta.sample(rng));
            if draw > best.1 {
                best = (i, draw);
            }
        }
        best.0
    }

    /// Counts one served list for `arm`.
    pub fn record_impression(&mut self, arm: usize) {
        if let Some(a) = self.arms.get_mut(arm) {
            a.impressions += 1;
        }
    }

    /// Adds a reward (clamped to [0, 1]; a NaN is ignored) to `arm`.
    pub fn record_reward(&mut self, arm: usize, reward: f64) {
        if let Some(a) = self.arms.get_mut(arm) {
            if !reward.is_nan() {
                a.rewards += reward.clamp(0.0, 1.0);
            }
        }
    }

    /// The share of traffic each variant gets now, estimated from `draws` choices.
    pub fn traffic_split(&self, draws: usize, rng: &mut impl Rng) -> Vec<f64> {
        let mut counts = vec![0usize; self.arms.len()];
        for _ in 0..draws {
            if let Some(c) = counts.get_mut(self.choose(rng)) {
                *c += 1;
            }
        }
        counts
            .into_iter()
            .map(|c| c as f64 / draws.max(1) as f64)
            .collect()
    }
}

/// A fixed variant for a shopper in an experiment (an A/B comparison): the same shopper
/// always gets the same one, and shoppers spread evenly over `variants`. FNV-1a over the
/// experiment and the shopper's key, finished with splitmix64's mixer and mapped by the
/// high bits (FNV's low bits follow the input's low bits, which would tie one
/// experiment's split to another's); stable across processes and versions.
pub fn assign(experiment: &str, shopper: &str, variants: usize) -> usize {
    if variants == 0 {
        return 0;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in experiment.bytes().chain([0u8]).chain(shopper.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    ((u128::from(hash) * variants as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn traffic_moves_to_the_better_variant_but_keeps_the_floor() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut bandit = Bandit::new(&["a", "b"], 0.1);
        let rates = [0.05, 0.15];
        for _ in 0..3000 {
            let arm = bandit.choose(&mut rng);
            bandit.record_impression(arm);
            if rng.gen::<f64>() < rates[arm] {
                bandit.record_reward(arm, 1.0);
            }
        }
        let split = bandit.traffic_split(4000, &mut rng);
        assert!(split[1] > 0.85, "{split:?} {bandit:?}");
        assert!(split[0] >= 0.03, "the floor keeps exploring: {split:?}");
        assert!((bandit.arms[1].rate() - 0.15).abs() < 0.03, "{bandit:?}");
    }

    #[test]
    fn without_evidence_traffic_is_even() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let split = Bandit::new(&["a", "b", "c"], 0.0).traffic_split(6000, &mut rng);
        for share in split {
            assert!((share - 1.0 / 3.0).abs() < 0.03, "{share}");
        }
    }

    #[test]
    fn rewards_are_clamped() {
        let mut bandit = Bandit::new(&["a"], 0.0);
        bandit.record_impression(0);
        bandit.record_reward(0, 7.0);
        bandit.record_reward(5, 1.0);
        bandit.record_reward(0, f64::NAN);
        assert_eq!(bandit.arms[0].rewards, 1.0);
        assert_eq!(bandit.arms[0].rate(), 1.0);
        bandit.record_reward(0, 1.0);
        assert_eq!(
            bandit.arms[0].rate(),
            1.0,
            "two rewards for one list still rate 1"
        );
    }

    #[test]
    fn assignment_is_stable_and_even() {
        assert_eq!(
            assign("home", "shopper-7", 2),
            assign("home", "shopper-7", 2)
        );
        let mut counts = [0usize; 2];
        for i in 0..10_000 {
            counts[assign("home", &format!("shopper-{i}"), 2)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (4_700..=5_300).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(assign("home", "x", 0), 0);
        // Two experiments split the same shoppers independently: about half agree.
        let agree = (0..10_000)
            .filter(|i| {
                let key = format!("shopper-{i}");
                assign("home", &key, 2) == assign("checkout", &key, 2)
            })
            .count();
        assert!((4_700..=5_300).contains(&agree), "{agree} of 10,000 agree");
    }
}
