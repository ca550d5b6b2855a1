//! The bandit book: per surface and variant, impressions and rewards read from the
//! database plus this node's deltas, flushed back, and the traffic split it implies.

use super::*;

/// Per surface, the bandit's evidence: totals read from the database plus this node's
/// deltas not yet written.
#[derive(Default)]
pub(super) struct BanditBook {
    pub(super) totals: HashMap<(String, String), (i64, f64)>,
    pub(super) pending: HashMap<(String, String), (i64, f64)>,
    /// Live counts not yet written, per (surface, variant, minute).
    pub(super) stats: HashMap<(String, String, i64), Counts>,
    /// Products this node has served in a list since it started (catalogue coverage).
    pub(super) served: HashSet<i64>,
}

/// What happened to a strategy's lists in one minute.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) impressions: i64,
    pub(super) clicks: i64,
    pub(super) carts: i64,
    pub(super) purchases: i64,
}

/// The engagements the insights count per list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counted {
    Impression,
    Click,
    Cart,
    Purchase,
}

impl Counted {
    pub(super) fn of(kind: InteractionKind) -> Option<Self> {
        match kind {
            InteractionKind::Click => Some(Self::Click),
            InteractionKind::AddToCart => Some(Self::Cart),
            InteractionKind::Purchase => Some(Self::Purchase),
            _ => None,
        }
    }
}

impl BanditBook {
    pub(super) fn bandit(&self, surface: &str, variants: &[&str], floor: f64) -> Bandit {
        let mut bandit = Bandit::new(variants, floor);
        for arm in &mut bandit.arms {
            let key = (surface.to_string(), arm.name.clone());
            for map in [&self.totals, &self.pending] {
                if let Some(&(impressions, rewards)) = map.get(&key) {
                    arm.impressions += impressions.max(0) as u64;
                    arm.rewards += rewards.max(0.0);
                }
            }
        }
        bandit
    }

    pub(super) fn count(&mut self, surface: &str, variant: &str, what: Counted) {
        let minute = crate::clock::unix_secs() / 60 * 60;
        let counts = self
            .stats
            .entry((surface.to_string(), variant.to_string(), minute))
            .or_default();
        match what {
            Counted::Impression => counts.impressions += 1,
            Counted::Click => counts.clicks += 1,
            Counted::Cart => counts.carts += 1,
            Counted::Purchase => counts.purchases += 1,
        }
    }

    pub(super) fn add(&mut self, surface: &str, variant: &str, impressions: i64, rewards: f64) {
        let entry = self
            .pending
            .entry((surface.to_string(), variant.to_string()))
            .or_default();
        entry.0 += impressions;
        entry.1 += rewards;
    }
}

impl RecService {
    /// Writes this node's bandit deltas; on success, reloads the totals every node wrote.
    pub async fn flush_bandit(&self) -> Result<(), Error> {
        let (pending, stats) = {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            (
                std::mem::take(&mut book.pending),
                std::mem::take(&mut book.stats),
            )
        };
        if !stats.is_empty() {
            let deltas: Vec<StrategyStat> = stats
                .iter()
                .map(|((surface, variant, minute), c)| StrategyStat {
                    surface: surface.clone(),
                    variant: variant.clone(),
                    bucket: *minute,
                    impressions: c.impressions,
                    clicks: c.clicks,
                    carts: c.carts,
                    purchases: c.purchases,
                })
                .collect();
            if let Err(error) = self.store.add_strategy_stats(&deltas).await {
                let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
                for (key, c) in stats {
                    let entry = book.stats.entry(key).or_default();
                    entry.impressions += c.impressions;
                    entry.clicks += c.clicks;
                    entry.carts += c.carts;
                    entry.purchases += c.purchases;
                }
                for ((s, v), (i, r)) in pending {
                    book.add(&s, &v, i, r);
                }
                return Err(error);
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let deltas: Vec<(String, String, i64, f64)> = pending
            .iter()
            .map(|((s, v), (i, r))| (s.clone(), v.clone(), *i, *r))
            .collect();
        if let Err(error) = self.store.add_bandit_counts(&deltas).await {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            for ((s, v), (i, r)) in pending {
                book.add(&s, &v, i, r);
            }
            return Err(error);
        }
        let totals = self.store.bandit_arms().await?;
        self.bandit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .totals = totals
            .into_iter()
            .map(|(s, v, i, r)| ((s, v), (i, r)))
            .collect();
        Ok(())
    }

    /// Per surface with more than one variant, each variant's share of traffic now (the
    /// bandit's Thompson draws with the exploration floor, the A/B split, or all to the
    /// first), with its evidence: (surface, [(variant, share, impressions, rewards)]).
    pub fn traffic_split(&self) -> Vec<(String, Vec<(String, f64, u64, f64)>)> {
        // The evidence under the lock serving shares; the draws after it.
        let bandits: Vec<(&String, &curio::strategy::Surface, Bandit)> = {
            let book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            self.strategy
                .surface
                .iter()
                .filter(|(_, surface)| surface.variants.len() >= 2)
                .map(|(name, surface)| {
                    let names: Vec<&str> =
                        surface.variants.iter().map(|v| v.name.as_str()).collect();
                    (
                        name,
                        surface,
                        book.bandit(name, &names, surface.exploration),
                    )
                })
                .collect()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut out = Vec::new();
        for (name, surface, bandit) in bandits {
            let names = bandit.arms.len();
            let shares = match surface.assignment {
                Assignment::Bandit => bandit.traffic_split(4000, &mut rng),
                Assignment::Ab => vec![1.0 / names as f64; names],
                Assignment::First => (0..names).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
            };
            let arms = bandit
                .arms
                .into_iter()
                .zip(shares)
                .map(|(arm, share)| (arm.name, share, arm.impressions, arm.rewards))
                .collect();
            out.push((name.clone(), arms));
        }
        out
    }

    /// Each variant's evidence on a surface: (variant, impressions, rewards).
    pub fn bandit_counts(&self, surface: &str) -> Vec<(String, u64, f64)> {
        let Some(config) = self.strategy.surface.get(surface) else {
            return Vec::new();
        };
        let names: Vec<&str> = config.variants.iter().map(|v| v.name.as_str()).collect();
        let book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
        book.bandit(surface, &names, config.exploration)
            .arms
            .into_iter()
            .map(|a| (a.name, a.impressions, a.rewards))
            .collect()
    }
}
