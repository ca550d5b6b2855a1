//! What the blender knows of a candidate: each member's standardised score and
//! reciprocal rank, and the context (popularity, trend, category match, price band).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::models::content::band_edges;
use crate::topk::top_k;

/// Names of the context features, in feature order after the members' pairs.
pub const CONTEXT_FEATURES: [&str; 4] = ["popularity", "trend", "category match", "price band"];

/// What the context features need to know about the items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Context {
    /// Per item, log(1 + users) over the largest such value.
    pub(super) popularity: Vec<f32>,
    /// Per item, log(1 + time-decayed interactions) over the largest such value.
    pub(super) trend: Vec<f32>,
    /// Per item, its category ids (every level of its path, or its genres).
    pub(super) categories: Vec<Vec<u32>>,
    pub(super) n_categories: usize,
    /// Per item, its price band, when it has a price.
    pub(super) band: Vec<Option<u8>>,
    pub(super) bands: usize,
}

impl Context {
    pub(super) fn build(data: &Dataset, bands: usize) -> Self {
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
    #[cfg(test)]
    pub(super) fn features(&self, history: &[(u32, f32)], out: &mut [[f32; 4]]) {
        self.each_item(history, out.len(), |item, features| out[item] = features);
    }

    /// Calls `f` with each of the first `n` items' context features for a history.
    pub(super) fn each_item(
        &self,
        history: &[(u32, f32)],
        n: usize,
        mut f: impl FnMut(usize, [f32; 4]),
    ) {
        let taste = self.taste(history);
        for item in 0..n {
            f(item, self.item(&taste, item));
        }
    }

    /// What the context features read of a history: its weight per category and its
    /// mean price band.
    pub(super) fn taste(&self, history: &[(u32, f32)]) -> Taste {
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
        Taste {
            categories: taste,
            total,
            mean_band: (band_weight > 0.0).then(|| band_sum / band_weight),
        }
    }

    /// One item's context features for a history's taste.
    pub(super) fn item(&self, taste: &Taste, item: usize) -> [f32; 4] {
        // An item added after fitting has no context yet: all zeros.
        if item >= self.popularity.len() {
            return [0.0; 4];
        }
        let span = self.bands.saturating_sub(1).max(1) as f32;
        let cats = &self.categories[item];
        let category = if cats.is_empty() || taste.total == 0.0 {
            0.0
        } else {
            cats.iter()
                .map(|&c| taste.categories[c as usize])
                .sum::<f32>()
                / (cats.len() as f32 * taste.total)
        };
        let price = match (taste.mean_band, self.band[item]) {
            (Some(mean), Some(b)) => 1.0 - (f32::from(b) - mean).abs() / span,
            _ => 0.0,
        };
        [self.popularity[item], self.trend[item], category, price]
    }
}

/// A history as the context features read it.
pub(super) struct Taste {
    categories: Vec<f32>,
    total: f32,
    mean_band: Option<f32>,
}

/// A user as the blender sees them: each member's scores, and the history for context.
pub(super) struct View<'a> {
    pub(super) history: &'a [(u32, f32)],
    /// Per member, a score for every item (borrowed: training reads them out of a scored
    /// block of users).
    pub(super) scores: Vec<&'a [f32]>,
    /// Items the user has (never candidates, left out of the standardisation).
    pub(super) seen: &'a [u32],
}

/// One member's scores of a history, summarised for the features.
pub(super) struct Summary {
    pub(super) mean: f64,
    pub(super) std: f64,
    /// Its top candidates, best first.
    pub(super) top: Vec<(u32, f32)>,
}

/// The members' scores of the last history a blender scored on this thread.
pub(super) struct Memo {
    pub(super) owner: u64,
    pub(super) history: Vec<(u32, f32)>,
    pub(super) n_items: usize,
    pub(super) scores: Vec<Vec<f32>>,
    pub(super) summaries: Vec<Summary>,
}

thread_local! {
    pub(super) static LAST_SCORED: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn fresh_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Mean and standard deviation of a member's finite scores over the unseen items; `seen`
/// is sorted. The stretches between seen items are summed whole (no membership test per
/// item, nothing taken back out). Two passes: the mean, then the squared deviations from
/// it (so they cannot cancel, whatever the mean). Each pass sums in f32 lanes over short
/// runs carried in f64, and redoes a run in f64 if a lane overflowed.
pub(super) fn standardisation(scores: &[f32], seen: &[u32]) -> (f64, f64) {
    let total = |shift: f32| {
        unseen_stretches(scores, seen)
            .map(|stretch| deviation_sums(stretch, shift))
            .fold((0.0, 0.0, 0), |(a, b, c), (x, y, z)| (a + x, b + y, c + z))
    };
    let (sum, _, count) = total(0.0);
    let n = count.max(1) as f64;
    let mean = (sum / n) as f32;
    // Deviations from the f32 mean; their own mean (nearly 0) corrects its rounding.
    let (sum_d, sum_d2, _) = total(mean);
    let mean_d = sum_d / n;
    let std = (sum_d2 / n - mean_d * mean_d).max(0.0).sqrt();
    (f64::from(mean) + mean_d, std)
}

/// The stretches of `scores` between the sorted indices `seen`.
fn unseen_stretches<'a>(scores: &'a [f32], seen: &'a [u32]) -> impl Iterator<Item = &'a [f32]> {
    let mut start = 0usize;
    seen.iter()
        .map(|&i| (i as usize).min(scores.len()))
        .chain(std::iter::once(scores.len()))
        .map(move |end| {
            let stretch = &scores[start.min(end)..end];
            start = start.max(end + 1);
            stretch
        })
}

/// Σ (s - shift), Σ (s - shift)² and the count over the finite scores.
fn deviation_sums(scores: &[f32], shift: f32) -> (f64, f64, usize) {
    const LANES: usize = 16;
    const RUN: usize = 64 * LANES;
    let (mut sum, mut sum2, mut count) = (0.0f64, 0.0f64, 0usize);
    for run in scores.chunks(RUN) {
        let (mut s, mut s2, mut c) = ([0.0f32; LANES], [0.0f32; LANES], [0u32; LANES]);
        let chunks = run.chunks_exact(LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for k in 0..LANES {
                let finite = chunk[k].is_finite();
                let d = if finite { chunk[k] - shift } else { 0.0 };
                s[k] += d;
                s2[k] += d * d;
                c[k] += u32::from(finite);
            }
        }
        for &v in tail.iter().filter(|v| v.is_finite()) {
            let d = v - shift;
            s[0] += d;
            s2[0] += d * d;
            c[0] += 1;
        }
        let (run_sum, run_sum2): (f32, f32) = (s.iter().sum(), s2.iter().sum());
        if !(run_sum.is_finite() && run_sum2.is_finite()) {
            // A lane overflowed (scores near f32's range): this run in f64.
            for v in run.iter().filter(|v| v.is_finite()) {
                let d = f64::from(*v) - f64::from(shift);
                sum += d;
                sum2 += d * d;
            }
        } else {
            sum += s.iter().map(|&v| f64::from(v)).sum::<f64>();
            sum2 += s2.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
        count += c.iter().map(|&v| v as usize).sum::<usize>();
    }
    (sum, sum2, count)
}

/// The blender's candidates for one user (the union of every member's top `top` unseen
/// items, ascending) and their features, `[candidates][dims]`, row-major: what training
/// reads, without a row for every item of the catalogue.
pub(super) fn candidate_features(
    view: &View<'_>,
    context: &Context,
    top: usize,
) -> (Vec<u32>, Vec<f32>) {
    let members = view.scores.len();
    let dims = 2 * members + CONTEXT_FEATURES.len();
    let is_seen = |i: u32| view.seen.binary_search(&i).is_ok();
    let summaries: Vec<(f64, f64, Vec<(u32, f32)>)> = view
        .scores
        .iter()
        .map(|scores| {
            let (mean, std) = standardisation(scores, view.seen);
            let skip = |i: u32| is_seen(i) || !scores[i as usize].is_finite();
            (mean, std, top_k(scores, top, skip))
        })
        .collect();
    let mut candidates: Vec<u32> = summaries
        .iter()
        .flat_map(|(_, _, list)| list.iter().map(|&(i, _)| i))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut x = vec![0.0f32; candidates.len() * dims];
    for (m, (scores, (mean, std, list))) in view.scores.iter().zip(&summaries).enumerate() {
        for (row, &item) in x.chunks_exact_mut(dims).zip(&candidates) {
            let s = scores[item as usize];
            row[2 * m] = if *std > 1e-12 && s.is_finite() {
                ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32
            } else {
                0.0
            };
        }
        for (rank, &(item, _)) in list.iter().enumerate() {
            let at = candidates
                .binary_search(&item)
                .expect("a top item is a candidate");
            x[at * dims + 2 * m + 1] = 1.0 / (rank as f32 + 2.0).log2();
        }
    }
    let taste = context.taste(view.history);
    for (row, &item) in x.chunks_exact_mut(dims).zip(&candidates) {
        row[2 * members..].copy_from_slice(&context.item(&taste, item as usize));
    }
    (candidates, x)
}

/// The blender's features of every item for one user, `[items][dims]`, row-major: the
/// reference that training's and serving's features are checked against.
#[cfg(test)]
pub(super) fn features(
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
        let (mean, std) = standardisation(scores, view.seen);
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
