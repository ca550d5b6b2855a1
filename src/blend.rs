//! The hybrid blender: one ranking from many models, with weights learned on held-out
//! data.
//!
//! Fitting holds out a seeded share of each user's items (`validation`), fits every member
//! on the rest (for each of `folds` seeded splits, pooled), and reads, for each user, a
//! candidate list: the union of every member's
//! top `candidates` unseen items. Each candidate is described by features:
//!
//! - per member, its score standardised over the user's unseen items (a z-score: members'
//!   raw scales differ by orders of magnitude) and its reciprocal log rank
//!   (`1 / log2(rank + 2)` inside the member's top list, 0 outside);
//! - context: popularity (log users), trend (time-decayed popularity), category match
//!   (share of the user's history in the item's categories) and price-band closeness.
//!
//! A linear scorer over those features is first trained with a listwise softmax loss (the
//! held-out items are the targets among the candidates) by full-batch Adam with a small
//! L2 penalty. The better of that and each member alone then starts a coordinate ascent
//! on validation NDCG@k itself (Metzler and Croft's listwise method), so the kept weights
//! are never worse on validation than the best member. Then every member is refitted on
//! all the data, and serving scores every item as the learned weights times its features.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::eval::stratified_split;
use crate::models::content::band_edges;
use crate::recommender::{history_of, load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

/// Blender settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlendConfig {
    /// Share of each user's items held out to learn the weights.
    pub validation: f64,
    /// Top items each member contributes to a user's candidate list.
    pub candidates: usize,
    /// Optimiser iterations (full batch).
    pub iterations: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Seed of the first validation split (the others follow it).
    pub seed: u64,
    /// Validation splits pooled to learn the weights (each fits every member once).
    pub folds: usize,
    /// Price bands for the price-closeness feature.
    pub price_bands: usize,
    /// The cut-off of the NDCG the weights are tuned for.
    pub k: usize,
    /// Rounds of coordinate ascent on validation NDCG@k after the softmax fit (0: none).
    pub rounds: usize,
}

impl Default for BlendConfig {
    fn default() -> Self {
        Self {
            validation: 0.2,
            candidates: 100,
            iterations: 300,
            learning_rate: 0.05,
            l2: 1e-4,
            seed: 42,
            folds: 3,
            price_bands: 5,
            k: 10,
            rounds: 5,
        }
    }
}

/// Names of the context features, in feature order after the members' pairs.
pub const CONTEXT_FEATURES: [&str; 4] = ["popularity", "trend", "category match", "price band"];

/// What the context features need to know about the items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Context {
    /// Per item, log(1 + users) over the largest such value.
    popularity: Vec<f32>,
    /// Per item, log(1 + time-decayed interactions) over the largest such value.
    trend: Vec<f32>,
    /// Per item, its category ids (every level of its path, or its genres).
    categories: Vec<Vec<u32>>,
    n_categories: usize,
    /// Per item, its price band, when it has a price.
    band: Vec<Option<u8>>,
    bands: usize,
}

impl Context {
    fn build(data: &Dataset, bands: usize) -> Self {
        let n = data.n_items();
        let log_max = |values: &[f32]| {
            let max = values.iter().copied().fold(0.0f32, f32::max);
            values
                .iter()
                .map(|&v| {
                    if max > 0.0 {
                        v.ln_1p() / max.ln_1p()
                    } else {
                        0.0
                    }
                })
                .collect::<Vec<f32>>()
        };
        let counts: Vec<f32> = data.item_popularity().iter().map(|&c| c as f32).collect();
        let popularity = log_max(&counts);
        // Trend: interactions weighted by recency, with a half-life of a tenth of the
        // data's time span.
        let (first, last) = data
            .times
            .iter()
            .filter(|&&t| t > 0)
            .fold((i64::MAX, i64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
        let mut decayed = vec![0.0f32; n];
        if first < last {
            let half_life = (last - first) as f64 / 10.0;
            for (k, &item) in data.matrix.indices().iter().enumerate() {
                let t = data.times.get(k).copied().unwrap_or(0);
                if t > 0 {
                    let age = (last - t) as f64;
                    decayed[item] += 0.5f64.powf(age / half_life) as f32;
                }
            }
        }
        let trend = log_max(&decayed);
        let mut ids: HashMap<String, u32> = HashMap::new();
        let categories: Vec<Vec<u32>> = (0..n)
            .map(|i| {
                let mut cats: Vec<u32> = data
                    .features
                    .get(i)
                    .map(|f| {
                        // Each level as its path, as the content model's terms name them:
                        // "Accessories" under Cameras is not "Accessories" under Audio.
                        // Tags (a film's genres) stand alone.
                        let mut path = String::new();
                        let mut keys: Vec<String> = f
                            .categories
                            .iter()
                            .map(|level| {
                                if !path.is_empty() {
                                    path.push('>');
                                }
                                path.push_str(&level.trim().to_lowercase());
                                path.clone()
                            })
                            .collect();
                        keys.extend(f.tag_keys());
                        keys.into_iter()
                            .map(|key| {
                                let next = ids.len() as u32;
                                *ids.entry(key).or_insert(next)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                cats.sort_unstable();
                cats.dedup();
                cats
            })
            .collect();
        let mut edges = band_edges(&data.features, bands);
        // Many equal prices repeat an edge; a repeated edge makes a band nobody is in.
        edges.dedup();
        let band = (0..n)
            .map(|i| {
                let price = data.features.get(i)?.price_minor?;
                Some(edges.iter().filter(|&&e| price >= e).count().min(255) as u8)
            })
            .collect();
        Self {
            popularity,
            trend,
            categories,
            n_categories: ids.len(),
            bands: edges.len() + 1,
            band,
        }
    }

    /// Writes the context features of every item for a history into `out`
    /// (`[items][CONTEXT_FEATURES.len()]`).
    fn features(&self, history: &[(u32, f32)], out: &mut [[f32; 4]]) {
        self.each_item(history, out.len(), |item, features| out[item] = features);
    }

    /// Calls `f` with each of the first `n` items' context features for a history.
    fn each_item(&self, history: &[(u32, f32)], n: usize, mut f: impl FnMut(usize, [f32; 4])) {
        let mut taste = vec![0.0f32; self.n_categories];
        let (mut band_sum, mut band_weight, mut total) = (0.0f32, 0.0f32, 0.0f32);
        for &(item, weight) in history {
            if !(weight.is_finite() && weight > 0.0) {
                continue;
            }
            total += weight;
            if let Some(cats) = self.categories.get(item as usize) {
                for &c in cats {
                    taste[c as usize] += weight;
                }
            }
            if let Some(Some(b)) = self.band.get(item as usize) {
                band_sum += weight * f32::from(*b);
                band_weight += weight;
            }
        }
        let mean_band = (band_weight > 0.0).then(|| band_sum / band_weight);
        let span = self.bands.saturating_sub(1).max(1) as f32;
        for item in 0..n {
            // An item added after fitting has no context yet: all zeros.
            if item >= self.popularity.len() {
                f(item, [0.0; 4]);
                continue;
            }
            let cats = &self.categories[item];
            let category = if cats.is_empty() || total == 0.0 {
                0.0
            } else {
                cats.iter().map(|&c| taste[c as usize]).sum::<f32>() / (cats.len() as f32 * total)
            };
            let price = match (mean_band, self.band[item]) {
                (Some(mean), Some(b)) => 1.0 - (f32::from(b) - mean).abs() / span,
                _ => 0.0,
            };
            f(
                item,
                [self.popularity[item], self.trend[item], category, price],
            );
        }
    }
}

/// A user as the blender sees them: each member's scores, and the history for context.
struct View<'a> {
    history: &'a [(u32, f32)],
    /// Per member, a score for every item.
    scores: Vec<Vec<f32>>,
    /// Items the user has (never candidates, left out of the standardisation).
    seen: &'a [u32],
}

/// One member's scores of a history, summarised for the features.
struct Summary {
    mean: f64,
    std: f64,
    /// Its top candidates, best first.
    top: Vec<(u32, f32)>,
}

/// The members' scores of the last history a blender scored on this thread.
struct Memo {
    owner: u64,
    history: Vec<(u32, f32)>,
    n_items: usize,
    scores: Vec<Vec<f32>>,
    summaries: Vec<Summary>,
}

thread_local! {
    static LAST_SCORED: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Mean and standard deviation of a member's finite scores over the unseen items.
fn standardisation(scores: &[f32], is_seen: &impl Fn(u32) -> bool) -> (f64, f64) {
    let (mut sum, mut sum2, mut count) = (0.0f64, 0.0f64, 0usize);
    for (i, &s) in scores.iter().enumerate() {
        if s.is_finite() && !is_seen(i as u32) {
            sum += f64::from(s);
            sum2 += f64::from(s) * f64::from(s);
            count += 1;
        }
    }
    let mean = sum / count.max(1) as f64;
    let std = (sum2 / count.max(1) as f64 - mean * mean).max(0.0).sqrt();
    (mean, std)
}

/// The blender's features of every item for one user, `[items][dims]`, row-major.
fn features(
    view: &View<'_>,
    context: &Context,
    top: usize,
    n_items: usize,
) -> (Vec<f32>, Vec<bool>) {
    let members = view.scores.len();
    let dims = 2 * members + CONTEXT_FEATURES.len();
    let mut x = vec![0.0f32; n_items * dims];
    // Candidates: the union of every member's top list.
    let mut candidate = vec![false; n_items];
    let is_seen = |i: u32| view.seen.binary_search(&i).is_ok();
    for (m, scores) in view.scores.iter().enumerate() {
        let (mean, std) = standardisation(scores, &is_seen);
        for (i, &s) in scores.iter().enumerate() {
            x[i * dims + 2 * m] = if std > 1e-12 && s.is_finite() {
                ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32
            } else {
                0.0
            };
        }
        let skip = |i: u32| is_seen(i) || !scores[i as usize].is_finite();
        for (rank, (item, _)) in top_k(scores, top, skip).into_iter().enumerate() {
            x[item as usize * dims + 2 * m + 1] = 1.0 / (rank as f32 + 2.0).log2();
            candidate[item as usize] = true;
        }
    }
    let mut ctx = vec![[0.0f32; 4]; n_items];
    context.features(view.history, &mut ctx);
    for (i, c) in ctx.iter().enumerate() {
        x[i * dims + 2 * members..(i + 1) * dims].copy_from_slice(c);
    }
    (x, candidate)
}

/// One user's training rows: candidate features and which candidates were held out.
struct Group {
    x: Vec<f32>,
    positive: Vec<bool>,
    /// Held-out items in all (some may be outside the candidates): the ideal DCG's count.
    relevant: usize,
}

/// Mean NDCG@k over the groups of the ranking `w` gives their candidates.
fn mean_ndcg(groups: &[Group], w: &[f64], k: usize) -> f64 {
    let dims = w.len();
    let total: f64 = groups
        .par_iter()
        .map(|g| {
            let mut scored: Vec<(f64, bool)> =
                g.x.chunks_exact(dims)
                    .zip(&g.positive)
                    .map(|(row, &p)| {
                        let z: f64 = row.iter().zip(w).map(|(&x, &w)| f64::from(x) * w).sum();
                        (z, p)
                    })
                    .collect();
            let cut = k.min(scored.len());
            if cut == 0 {
                return 0.0;
            }
            // Ties rank negatives first: a weight vector earns nothing from a tie.
            let order = |a: &(f64, bool), b: &(f64, bool)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            scored.select_nth_unstable_by(cut - 1, order);
            scored[..cut].sort_unstable_by(order);
            let dcg: f64 = scored[..cut]
                .iter()
                .enumerate()
                .filter(|(_, s)| s.1)
                .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
                .sum();
            let ideal: f64 = (0..g.relevant.min(k))
                .map(|r| 1.0 / (r as f64 + 2.0).log2())
                .sum();
            if ideal > 0.0 {
                dcg / ideal
            } else {
                0.0
            }
        })
        .sum();
    total / groups.len().max(1) as f64
}

/// Coordinate ascent on NDCG@k itself (Metzler and Croft 2007): from `start`, try steps
/// along each weight in turn and keep any that raises the metric, for a few rounds.
fn coordinate_ascent(
    groups: &[Group],
    start: Vec<f64>,
    k: usize,
    rounds: usize,
) -> (Vec<f64>, f64) {
    let mut w = start;
    let mut best = mean_ndcg(groups, &w, k);
    const STEPS: [f64; 8] = [0.05, -0.05, 0.2, -0.2, 0.5, -0.5, 1.0, -1.0];
    for _ in 0..rounds {
        let before = best;
        for d in 0..w.len() {
            let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
            for step in STEPS {
                let mut trial = w.clone();
                trial[d] += step * scale;
                let ndcg = mean_ndcg(groups, &trial, k);
                if ndcg > best + 1e-9 {
                    best = ndcg;
                    w = trial;
                }
            }
        }
        if best <= before + 1e-6 {
            break;
        }
    }
    (w, best)
}

/// Listwise softmax loss and its gradient over all groups, plus the L2 penalty.
fn loss_and_gradient(groups: &[Group], w: &[f64], l2: f64) -> (f64, Vec<f64>) {
    let dims = w.len();
    let (loss, mut grad) = groups
        .par_iter()
        .map(|g| {
            let rows = g.positive.len();
            let z: Vec<f64> = (0..rows)
                .map(|r| {
                    g.x[r * dims..(r + 1) * dims]
                        .iter()
                        .zip(w)
                        .map(|(&x, &w)| f64::from(x) * w)
                        .sum()
                })
                .collect();
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exp: Vec<f64> = z.iter().map(|&v| (v - max).exp()).collect();
            let total: f64 = exp.iter().sum();
            let n_pos = g.positive.iter().filter(|&&p| p).count() as f64;
            let mut loss = 0.0;
            let mut grad = vec![0.0f64; dims];
            for r in 0..rows {
                let p = exp[r] / total;
                let t = if g.positive[r] { 1.0 / n_pos } else { 0.0 };
                if g.positive[r] {
                    loss -= t * (p.max(1e-300)).ln();
                }
                let coef = p - t;
                if coef != 0.0 {
                    for (d, &x) in grad.iter_mut().zip(&g.x[r * dims..(r + 1) * dims]) {
                        *d += coef * f64::from(x);
                    }
                }
            }
            (loss, grad)
        })
        .reduce(
            || (0.0, vec![0.0; dims]),
            |(la, mut ga), (lb, gb)| {
                ga.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
                (la + lb, ga)
            },
        );
    let n = groups.len().max(1) as f64;
    grad.iter_mut()
        .zip(w)
        .for_each(|(g, &w)| *g = *g / n + 2.0 * l2 * w);
    (loss / n + l2 * w.iter().map(|w| w * w).sum::<f64>(), grad)
}

/// Full-batch Adam on the listwise loss; returns the weights and the final loss.
fn train(groups: &[Group], dims: usize, config: &BlendConfig) -> (Vec<f64>, f64) {
    let mut w = vec![0.0f64; dims];
    let (mut m, mut v) = (vec![0.0f64; dims], vec![0.0f64; dims]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut last = f64::NAN;
    for t in 1..=config.iterations.max(1) {
        let (loss, grad) = loss_and_gradient(groups, &w, config.l2);
        last = loss;
        for d in 0..dims {
            m[d] = b1 * m[d] + (1.0 - b1) * grad[d];
            v[d] = b2 * v[d] + (1.0 - b2) * grad[d] * grad[d];
            let m_hat = m[d] / (1.0 - b1.powi(t as i32));
            let v_hat = v[d] / (1.0 - b2.powi(t as i32));
            w[d] -= config.learning_rate * m_hat / (v_hat.sqrt() + eps);
        }
    }
    (w, last)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    config: BlendConfig,
    /// Each member's name and saved bytes.
    members: Vec<(String, Vec<u8>)>,
    weights: Vec<f32>,
    context: Context,
    validation_loss: f64,
    validation_ndcg: f64,
}

/// The hybrid blender over a set of member models.
pub struct Blend {
    /// This fitted state's identity (new on every construction and fit): the key of the
    /// per-thread memo of the last history scored.
    id: u64,
    config: BlendConfig,
    members: Vec<Box<dyn Recommender>>,
    weights: Vec<f32>,
    context: Context,
    validation_loss: Option<f64>,
    validation_ndcg: Option<f64>,
}

impl std::fmt::Debug for Blend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blend")
            .field("members", &self.member_names())
            .field("weights", &self.weights)
            .finish()
    }
}

impl Blend {
    /// An unfitted blender of `members` (unfitted too: fitting fits them).
    pub fn new(config: BlendConfig, members: Vec<Box<dyn Recommender>>) -> Self {
        Self {
            id: fresh_id(),
            config,
            members,
            weights: Vec::new(),
            context: Context::default(),
            validation_loss: None,
            validation_ndcg: None,
        }
    }

    /// Reads a blender saved by [`Recommender::to_bytes`]; `load_member` reads a member
    /// from its name and bytes.
    pub fn from_bytes(
        bytes: &[u8],
        load_member: impl Fn(&str, &[u8]) -> Result<Box<dyn Recommender>, EngineError>,
    ) -> Result<Self, EngineError> {
        let saved: Saved = load("blend", bytes)?;
        let members = saved
            .members
            .iter()
            .map(|(name, bytes)| load_member(name, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            id: fresh_id(),
            config: saved.config,
            members,
            weights: saved.weights,
            context: saved.context,
            validation_loss: Some(saved.validation_loss).filter(|v| !v.is_nan()),
            validation_ndcg: Some(saved.validation_ndcg).filter(|v| !v.is_nan()),
        })
    }

    /// The members' names, in feature order.
    pub fn member_names(&self) -> Vec<&'static str> {
        self.members.iter().map(|m| m.name()).collect()
    }

    /// The fitted members.
    pub fn members(&self) -> &[Box<dyn Recommender>] {
        &self.members
    }

    /// The learned weights with their feature names: per member `name z` and `name rank`,
    /// then the context features.
    pub fn weights(&self) -> Vec<(String, f32)> {
        let mut names = Vec::new();
        for m in &self.members {
            names.push(format!("{} z", m.name()));
            names.push(format!("{} rank", m.name()));
        }
        names.extend(CONTEXT_FEATURES.iter().map(|s| s.to_string()));
        names
            .into_iter()
            .zip(self.weights.iter().copied())
            .collect()
    }

    /// The listwise loss on the validation candidates when the weights were learned.
    pub fn validation_loss(&self) -> Option<f64> {
        self.validation_loss
    }

    /// The validation NDCG@k of the kept weights (over users with a held-out candidate).
    pub fn validation_ndcg(&self) -> Option<f64> {
        self.validation_ndcg
    }

    fn dims(&self) -> usize {
        2 * self.members.len() + CONTEXT_FEATURES.len()
    }

    /// Blends the members' scores in `view` into `scores`; gives back the members'
    /// summaries it made.
    fn blend(&self, view: &View<'_>, scores: &mut [f32]) -> Vec<Summary> {
        let n = scores.len();
        if self.weights.len() != self.dims() {
            scores.iter_mut().for_each(|s| *s = 0.0);
            return Vec::new();
        }
        // The same features as training reads (`features`), summed with their weights
        // as they are made: no `[items][dims]` matrix on the serving path.
        let members = view.scores.len();
        let w = &self.weights;
        let mut candidate = vec![false; n];
        scores.iter_mut().for_each(|s| *s = 0.0);
        let summaries = self.summaries(view);
        for (m, (member, summary)) in view.scores.iter().zip(&summaries).enumerate() {
            let (mean, std) = (summary.mean, summary.std);
            let (w_score, w_rank) = (w[2 * m], w[2 * m + 1]);
            if std > 1e-12 {
                for (score, &s) in scores.iter_mut().zip(member) {
                    if s.is_finite() {
                        *score += ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32 * w_score;
                    }
                }
            }
            for (rank, &(item, _)) in summary.top.iter().enumerate() {
                scores[item as usize] += w_rank / (rank as f32 + 2.0).log2();
                candidate[item as usize] = true;
            }
        }
        let w_context = &w[2 * members..];
        self.context.each_item(view.history, n, |item, c| {
            scores[item] += c.iter().zip(w_context).map(|(x, w)| x * w).sum::<f32>();
        });
        // The weights were learned on candidates only: an item no member put in its top
        // list ranks below every candidate (in its own blended order).
        let floor = scores
            .iter()
            .zip(&candidate)
            .filter(|(s, &c)| c && s.is_finite())
            .fold(f32::INFINITY, |m, (s, _)| m.min(*s));
        if floor.is_finite() {
            let below = scores
                .iter()
                .zip(&candidate)
                .filter(|(s, &c)| !c && s.is_finite())
                .fold(f32::NEG_INFINITY, |m, (s, _)| m.max(*s));
            if below.is_finite() && below >= floor {
                let shift = below - floor + 1.0;
                for (score, &c) in scores.iter_mut().zip(&candidate) {
                    if !c {
                        *score -= shift;
                    }
                }
            }
        }
        summaries
    }

    /// Each member's share of an item's blended score for a history: the weighted sum of
    /// that member's two features.
    pub fn contributions(&self, history: &[(u32, f32)], item: u32) -> Vec<(&'static str, f32)> {
        self.contributions_many(history, &[item])
            .pop()
            .unwrap_or_default()
    }

    /// [`Blend::contributions`] of several items, scoring the members once.
    pub fn contributions_many(
        &self,
        history: &[(u32, f32)],
        items: &[u32],
    ) -> Vec<Vec<(&'static str, f32)>> {
        let n = self.context.popularity.len();
        if self.weights.len() != self.dims() {
            return vec![Vec::new(); items.len()];
        }
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        seen.dedup();
        // The member features of the asked items only (as `features` computes them for
        // every item): the standardised score and the rank feature within the member's
        // top candidates. The members' scores of this history on this thread are reused.
        let memo = LAST_SCORED.with(|last| {
            let mut last = last.borrow_mut();
            match last.take() {
                Some(memo)
                    if memo.owner == self.id && memo.n_items == n && memo.history == history =>
                {
                    Some(memo)
                }
                other => {
                    *last = other;
                    None
                }
            }
        });
        let (members, summaries) = match memo {
            Some(memo) => (memo.scores, memo.summaries),
            None => {
                let view = View {
                    history,
                    scores: self.member_scores(|m, s| m.score_history(history, s), n),
                    seen: &seen,
                };
                let summaries = self.summaries(&view);
                (view.scores, summaries)
            }
        };
        let mut out: Vec<Vec<(&'static str, f32)>> = vec![Vec::new(); items.len()];
        for (m, ((model, scores), summary)) in self
            .members
            .iter()
            .zip(&members)
            .zip(&summaries)
            .enumerate()
        {
            let (mean, std, top) = (summary.mean, summary.std, &summary.top);
            for (&item, contributions) in items.iter().zip(out.iter_mut()) {
                let Some(&s) = scores.get(item as usize) else {
                    continue;
                };
                let z = if std > 1e-12 && s.is_finite() {
                    ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32
                } else {
                    0.0
                };
                let rank = top
                    .iter()
                    .position(|&(i, _)| i == item)
                    .map_or(0.0, |rank| 1.0 / (rank as f32 + 2.0).log2());
                contributions.push((
                    model.name(),
                    z * self.weights[2 * m] + rank * self.weights[2 * m + 1],
                ));
            }
        }
        out
    }

    /// The explanation of `item` given its contributions: the top member's own.
    fn explain_from(
        &self,
        history: &[(u32, f32)],
        item: u32,
        contributions: &[(&'static str, f32)],
    ) -> Explanation {
        let Some(&(name, share)) = contributions.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            return Explanation::default();
        };
        let member = self
            .members
            .iter()
            .find(|m| m.name() == name)
            .expect("a contribution names a member");
        let mut explanation = member.explain(history, item);
        let detail = format!("mostly {name} ({share:+.2} of the blended score)");
        explanation.note = Some(match explanation.note {
            Some(note) => format!("{note}; {detail}"),
            None => detail,
        });
        explanation
    }

    /// Per member: the standardisation and the top candidates of its scores in `view`.
    fn summaries(&self, view: &View<'_>) -> Vec<Summary> {
        let is_seen = |i: u32| view.seen.binary_search(&i).is_ok();
        view.scores
            .iter()
            .map(|member| {
                let (mean, std) = standardisation(member, &is_seen);
                let skip = |i: u32| is_seen(i) || !member[i as usize].is_finite();
                Summary {
                    mean,
                    std,
                    top: top_k(member, self.config.candidates, skip),
                }
            })
            .collect()
    }

    fn member_scores(
        &self,
        score: impl Fn(&dyn Recommender, &mut [f32]),
        n: usize,
    ) -> Vec<Vec<f32>> {
        self.members
            .iter()
            .map(|m| {
                let mut s = vec![0.0f32; n];
                score(m.as_ref(), &mut s);
                s
            })
            .collect()
    }

    fn fit_members(
        &mut self,
        data: &Dataset,
        progress: crate::neural::Progress<'_>,
    ) -> Result<(), EngineError> {
        // The members change: nothing memoised of the old ones may be read again.
        self.id = fresh_id();
        for member in &mut self.members {
            let name = member.name();
            member
                .fit_with_progress(data, &mut *progress)
                .map_err(|e| EngineError::Data(format!("blend member {name}: {e}")))?;
        }
        Ok(())
    }
}

impl Recommender for Blend {
    fn name(&self) -> &'static str {
        "blend"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.fit_with_progress(data, &mut |_| {})
    }

    fn fit_with_progress(
        &mut self,
        data: &Dataset,
        progress: crate::neural::Progress<'_>,
    ) -> Result<(), EngineError> {
        if self.members.is_empty() {
            return Err(EngineError::Data(
                "the blender needs at least one member model".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.config.validation) || self.config.validation == 0.0 {
            return Err(EngineError::Data(format!(
                "blend.validation must be between 0 and 1, got {}",
                self.config.validation
            )));
        }
        let n = data.n_items();
        let dims = self.dims();
        let mut groups: Vec<Group> = Vec::new();
        // Several seeded validation splits, pooled: weights tuned on one split's noise
        // would not carry over to the full data.
        for fold in 0..self.config.folds.max(1) {
            let seed = self.config.seed.wrapping_add(fold as u64);
            let split = stratified_split(data, 1.0 - self.config.validation, seed);
            self.fit_members(&split.train, progress)?;
            let context = Context::build(&split.train, self.config.price_bands);
            let users: Vec<u32> = (0..data.n_users() as u32)
                .filter(|&u| !split.test[u as usize].is_empty())
                .collect();
            let fold_groups: Vec<Group> = users
                .par_iter()
                .filter_map(|&user| {
                    let history = history_of(&split.train, user);
                    let seen: Vec<u32> = split
                        .train
                        .user_items(user)
                        .0
                        .iter()
                        .map(|&i| i as u32)
                        .collect();
                    let view = View {
                        history: &history,
                        scores: self.member_scores(|m, s| m.score_user(&split.train, user, s), n),
                        seen: &seen,
                    };
                    let (x, candidate) = features(&view, &context, self.config.candidates, n);
                    let mut held: Vec<u32> = split.test[user as usize].clone();
                    held.sort_unstable();
                    let mut rows = Vec::new();
                    let mut positive = Vec::new();
                    for item in (0..n).filter(|&i| candidate[i]) {
                        rows.extend_from_slice(&x[item * dims..(item + 1) * dims]);
                        positive.push(held.binary_search(&(item as u32)).is_ok());
                    }
                    positive.iter().any(|&p| p).then_some(Group {
                        x: rows,
                        positive,
                        relevant: held.len(),
                    })
                })
                .collect();
            groups.extend(fold_groups);
        }
        if groups.is_empty() {
            return Err(EngineError::Data(
                "the blender found no held-out item among any member's candidates: too little data to learn weights".into(),
            ));
        }
        // Starting points: the listwise softmax's weights, and each member alone (its
        // z-score), so the blend is never worse on validation than its best member. Then
        // coordinate ascent on the metric itself.
        let (softmax, loss) = train(&groups, dims, &self.config);
        let k = self.config.k.max(1);
        let mut starts = vec![softmax];
        for m in 0..self.members.len() {
            let mut w = vec![0.0f64; dims];
            w[2 * m] = 1.0;
            starts.push(w);
        }
        let start = starts
            .into_iter()
            .map(|w| (mean_ndcg(&groups, &w, k), w))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, w)| w)
            .expect("at least one start");
        let (weights, ndcg) = coordinate_ascent(&groups, start, k, self.config.rounds);
        self.weights = weights.iter().map(|&w| w as f32).collect();
        self.validation_loss = Some(loss);
        self.validation_ndcg = Some(ndcg);
        // The members serve from all the data; the context too.
        self.fit_members(data, progress)?;
        self.context = Context::build(data, self.config.price_bands);
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let n = scores.len();
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        seen.dedup();
        let view = View {
            history,
            scores: self.member_scores(|m, s| m.score_history(history, s), n),
            seen: &seen,
        };
        let summaries = self.blend(&view, scores);
        if summaries.len() != view.scores.len() {
            return;
        }
        // Explaining the list just scored (the usual next call) reads the members'
        // scores from here instead of scoring them all again.
        LAST_SCORED.with(|last| {
            *last.borrow_mut() = Some(Memo {
                owner: self.id,
                history: history.to_vec(),
                n_items: n,
                scores: view.scores,
                summaries,
            });
        });
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        let n = scores.len();
        let history = history_of(data, user);
        let seen: Vec<u32> = data.user_items(user).0.iter().map(|&i| i as u32).collect();
        let view = View {
            history: &history,
            scores: self.member_scores(|m, s| m.score_user(data, user, s), n),
            seen: &seen,
        };
        self.blend(&view, scores);
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        // Each member's neighbours, scaled to its best one, weighted by the member's
        // share of the positive weight.
        let share: Vec<f32> = (0..self.members.len())
            .map(|m| {
                self.weights.get(2 * m).copied().unwrap_or(0.0).max(0.0)
                    + self.weights.get(2 * m + 1).copied().unwrap_or(0.0).max(0.0)
            })
            .collect();
        let total: f32 = share.iter().sum();
        let mut combined: HashMap<u32, f32> = HashMap::new();
        for (member, &s) in self.members.iter().zip(&share) {
            if s <= 0.0 {
                continue;
            }
            let list = member.similar_items(item, 3 * k);
            let best = list.first().map_or(0.0, |x| x.1);
            if best <= 0.0 {
                continue;
            }
            for (other, sim) in list {
                *combined.entry(other).or_default() += s / total.max(f32::EPSILON) * sim / best;
            }
        }
        let mut out: Vec<(u32, f32)> = combined.into_iter().collect();
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let contributions = self.contributions(history, item);
        self.explain_from(history, item, &contributions)
    }

    fn explain_many(&self, history: &[(u32, f32)], items: &[u32]) -> Vec<Explanation> {
        self.contributions_many(history, items)
            .iter()
            .zip(items)
            .map(|(contributions, &item)| self.explain_from(history, item, contributions))
            .collect()
    }

    fn learned(&self) -> Vec<(String, f32)> {
        self.weights()
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let members = self
            .members
            .iter()
            .map(|m| Ok((m.name().to_string(), m.to_bytes()?)))
            .collect::<Result<Vec<_>, EngineError>>()?;
        save(
            "blend",
            &Saved {
                config: self.config.clone(),
                members,
                weights: self.weights.clone(),
                context: self.context.clone(),
                validation_loss: self.validation_loss.unwrap_or(f64::NAN),
                validation_ndcg: self.validation_ndcg.unwrap_or(f64::NAN),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ItemFeatures;

    /// Users like the items in their residue class (item % 3 == user % 3).
    fn planted() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..60u32 {
            for i in 0..45u32 {
                // Two thirds of each user's class, so some are left to recommend.
                if i % 3 == u % 3 && (i / 3 + u) % 3 != 0 {
                    triples.push((u, i, 1.0));
                }
            }
        }
        Dataset::from_dense(60, 45, &triples)
    }

    /// Knows the planted classes from the history.
    struct Oracle;
    /// Deterministic noise.
    struct Noise;

    impl Recommender for Oracle {
        fn name(&self) -> &'static str {
            "oracle"
        }
        fn fit(&mut self, _: &Dataset) -> Result<(), EngineError> {
            Ok(())
        }
        fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
            let class = history.first().map_or(0, |h| h.0 % 3);
            for (i, s) in scores.iter_mut().enumerate() {
                *s = if i as u32 % 3 == class { 5.0 } else { 1.0 };
            }
        }
        fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
            (0..45)
                .filter(|&i| i != item && i % 3 == item % 3)
                .map(|i| (i, 1.0))
                .take(k)
                .collect()
        }
        fn explain(&self, _: &[(u32, f32)], _: u32) -> Explanation {
            Explanation::default()
        }
        fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
            Ok(Vec::new())
        }
    }

    impl Recommender for Noise {
        fn name(&self) -> &'static str {
            "noise"
        }
        fn fit(&mut self, _: &Dataset) -> Result<(), EngineError> {
            Ok(())
        }
        fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
            let salt = history.iter().map(|h| h.0).sum::<u32>();
            for (i, s) in scores.iter_mut().enumerate() {
                *s = ((i as u32 * 2654435761u32) ^ salt.wrapping_mul(40503)) as f32
                    / u32::MAX as f32;
            }
        }
        fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
            (0..45)
                .filter(|&i| i != item)
                .map(|i| (i, 1.0 / (1.0 + i as f32)))
                .take(k)
                .collect()
        }
        fn explain(&self, _: &[(u32, f32)], _: u32) -> Explanation {
            Explanation::default()
        }
        fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
            Ok(Vec::new())
        }
    }

    fn fitted() -> Blend {
        let config = BlendConfig {
            candidates: 10,
            ..BlendConfig::default()
        };
        let mut blend = Blend::new(config, vec![Box::new(Noise), Box::new(Oracle)]);
        blend.fit(&planted()).expect("fits");
        blend
    }

    #[test]
    fn learns_to_trust_the_informative_member() {
        let blend = fitted();
        let w: HashMap<String, f32> = blend.weights().into_iter().collect();
        assert_eq!(w.len(), 2 * 2 + CONTEXT_FEATURES.len());
        let oracle = w["oracle z"] + w["oracle rank"];
        let noise = w["noise z"].abs() + w["noise rank"].abs();
        assert!(
            oracle > 4.0 * noise,
            "oracle {oracle}, noise {noise}: {w:?}"
        );
        // A user of class 1 has 10 of its 15 items: the other 5 lead the list.
        let data = planted();
        let top = crate::recommend(&blend, &data, 1, 10, Default::default());
        assert_eq!(top.len(), 10);
        assert!(top[..5].iter().all(|&(i, _)| i % 3 == 1), "{top:?}");
        assert!(top[5..].iter().all(|&(i, _)| i % 3 != 1), "{top:?}");
        let explanation = blend.explain(&crate::recommender::history_of(&data, 1), top[0].0);
        assert!(
            explanation
                .note
                .as_deref()
                .unwrap_or("")
                .contains("mostly oracle"),
            "{explanation:?}"
        );
        // Explaining a whole list at once says the same as one item at a time.
        let history = crate::recommender::history_of(&data, 1);
        let items: Vec<u32> = top.iter().map(|&(i, _)| i).collect();
        let one_by_one: Vec<Explanation> =
            items.iter().map(|&i| blend.explain(&history, i)).collect();
        assert_eq!(blend.explain_many(&history, &items), one_by_one);
    }

    #[test]
    fn bytes_round_trip_scores_identically() {
        let blend = fitted();
        let bytes = blend.to_bytes().unwrap();
        let back = Blend::from_bytes(
            &bytes,
            |name, _| -> Result<Box<dyn Recommender>, EngineError> {
                Ok(match name {
                    "oracle" => Box::new(Oracle),
                    "noise" => Box::new(Noise),
                    other => panic!("unexpected member {other}"),
                })
            },
        )
        .unwrap();
        let history = [(4u32, 1.0f32), (7, 1.0)];
        let (mut a, mut b) = (vec![0.0f32; 45], vec![0.0f32; 45]);
        blend.score_history(&history, &mut a);
        back.score_history(&history, &mut b);
        assert_eq!(a, b);
        assert_eq!(back.member_names(), vec!["noise", "oracle"]);
    }

    /// What training reads for a history over the 45 planted items: features and
    /// candidates.
    fn training_features(blend: &Blend, history: &[(u32, f32)]) -> (Vec<f32>, Vec<bool>) {
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        let view = View {
            history,
            scores: blend.member_scores(|m, s| m.score_history(history, s), 45),
            seen: &seen,
        };
        features(&view, &blend.context, blend.config.candidates, 45)
    }

    #[test]
    fn serving_scores_are_the_training_features_times_the_weights() {
        let blend = fitted();
        let history = [(4u32, 1.0f32), (7, 1.0), (10, 0.5)];
        let mut served = vec![0.0f32; 45];
        blend.score_history(&history, &mut served);
        let (x, candidate) = training_features(&blend, &history);
        let reference: Vec<f32> = x
            .chunks_exact(blend.dims())
            .map(|row| row.iter().zip(&blend.weights).map(|(x, w)| x * w).sum())
            .collect();
        let candidates: Vec<usize> = (0..45).filter(|&i| candidate[i]).collect();
        assert!(
            candidates.len() > 5 && candidates.len() < 45,
            "{candidates:?}"
        );
        for &i in &candidates {
            assert!(
                (served[i] - reference[i]).abs() <= 1e-5 * (1.0 + reference[i].abs()),
                "item {i}: served {} vs {}",
                served[i],
                reference[i]
            );
        }
        let lowest = candidates
            .iter()
            .map(|&i| served[i])
            .fold(f32::INFINITY, f32::min);
        assert!((0..45)
            .filter(|&i| !candidate[i])
            .all(|i| served[i] < lowest));
    }

    #[test]
    fn contributions_are_each_members_training_features_times_its_weights() {
        let blend = fitted();
        let history = [(4u32, 1.0f32), (7, 1.0), (10, 0.5)];
        let (x, _) = training_features(&blend, &history);
        let items: Vec<u32> = (0..47).collect();
        let got = blend.contributions_many(&history, &items);
        // Right after scoring the same history (the members' scores memoised on this
        // thread), and after scoring another one: the same answers.
        let mut scores = vec![0.0f32; 45];
        blend.score_history(&history, &mut scores);
        assert_eq!(blend.contributions_many(&history, &items), got);
        blend.score_history(&[(1, 1.0)], &mut scores);
        assert_eq!(blend.contributions_many(&history, &items), got);
        let other = fitted();
        other.score_history(&history, &mut scores);
        assert_eq!(blend.contributions_many(&history, &items), got);
        assert_eq!(got.len(), items.len());
        assert!(got[45].is_empty() && got[46].is_empty(), "unknown items");
        for (item, contributions) in got.iter().take(45).enumerate() {
            let row = &x[item * blend.dims()..(item + 1) * blend.dims()];
            assert_eq!(contributions.len(), blend.members.len());
            for (m, &(name, value)) in contributions.iter().enumerate() {
                assert_eq!(name, blend.members[m].name());
                let want =
                    row[2 * m] * blend.weights[2 * m] + row[2 * m + 1] * blend.weights[2 * m + 1];
                assert!(
                    (value - want).abs() <= 1e-6 * (1.0 + want.abs()),
                    "item {item}, {name}: {value} vs {want}"
                );
            }
        }
    }

    #[test]
    fn a_catalogue_grown_since_fitting_is_scored_without_a_panic() {
        let blend = fitted();
        let mut scores = vec![f32::NAN; 50];
        blend.score_history(&[(4, 1.0), (7, 1.0)], &mut scores);
        assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    }

    #[test]
    fn refuses_no_members_and_a_bad_share() {
        let data = planted();
        let err = Blend::new(BlendConfig::default(), Vec::new())
            .fit(&data)
            .unwrap_err();
        assert!(err.to_string().contains("at least one member"), "{err}");
        let config = BlendConfig {
            validation: 1.5,
            ..BlendConfig::default()
        };
        let err = Blend::new(config, vec![Box::new(Oracle)])
            .fit(&data)
            .unwrap_err();
        assert!(err.to_string().contains("blend.validation"), "{err}");
    }

    #[test]
    fn context_features_read_categories_and_price_bands() {
        let item = |cats: &[&str], price: i64| ItemFeatures {
            title: "x".into(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
            price_minor: Some(price),
            ..ItemFeatures::default()
        };
        let mut data =
            Dataset::from_dense(2, 4, &[(0, 0, 1.0), (1, 1, 1.0), (1, 2, 1.0), (1, 3, 1.0)]);
        data.features = vec![
            item(&["Cameras", "DSLR"], 100),
            item(&["Cameras", "Compact"], 200),
            item(&["Audio"], 300),
            item(&["Audio"], 400),
        ];
        let context = Context::build(&data, 4);
        let mut out = vec![[0.0f32; 4]; 4];
        context.features(&[(0, 1.0)], &mut out);
        // Item 0 shares both levels, item 1 one of two, items 2 and 3 none.
        assert_eq!(
            out.iter().map(|r| r[2]).collect::<Vec<_>>(),
            vec![1.0, 0.5, 0.0, 0.0]
        );
        // Price closeness falls with the band distance from the history's band.
        assert!(
            out[0][3] > out[1][3] && out[1][3] > out[2][3] && out[2][3] > out[3][3],
            "{out:?}"
        );
        // Popularity: item 0 has one user, like the others; all equal here.
        assert!(out.iter().all(|r| (r[0] - out[0][0]).abs() < 1e-6));
    }
}
