//! Learning the blend's weights on validation candidates: a listwise softmax fit by Newton's method,
//! then coordinate ascent on validation NDCG@k itself.

use rayon::prelude::*;

use super::BlendConfig;

/// One user's training rows: candidate features and which candidates were held out.
pub(super) struct Group {
    /// Features column-major, `[dims][rows]`: a weight's step moves every row's score by
    /// one contiguous column, and the scores and gradient read whole columns.
    pub(super) x: Vec<f32>,
    pub(super) positive: Vec<bool>,
    /// The positive rows.
    hits: Vec<u32>,
    /// Held-out items in all (some may be outside the candidates): the ideal DCG's count.
    pub(super) relevant: usize,
}

impl Group {
    /// A group from row-major features `[rows][dims]`.
    pub(super) fn from_rows(
        rows: &[f32],
        dims: usize,
        positive: Vec<bool>,
        relevant: usize,
    ) -> Self {
        let n = positive.len();
        debug_assert_eq!(rows.len(), n * dims);
        let mut x = vec![0.0f32; rows.len()];
        for (r, row) in rows.chunks_exact(dims).enumerate() {
            for (d, &v) in row.iter().enumerate() {
                x[d * n + r] = v;
            }
        }
        let hits = (0..n as u32).filter(|&r| positive[r as usize]).collect();
        Self {
            x,
            positive,
            hits,
            relevant,
        }
    }

    fn column(&self, d: usize) -> &[f32] {
        let n = self.positive.len();
        &self.x[d * n..(d + 1) * n]
    }

    /// Every row's score under `w`, into `z`.
    fn scores(&self, w: &[f64], z: &mut Vec<f64>) {
        z.clear();
        z.resize(self.positive.len(), 0.0);
        for (d, &wd) in w.iter().enumerate() {
            if wd != 0.0 {
                for (z, &x) in z.iter_mut().zip(self.column(d)) {
                    *z += wd * f64::from(x);
                }
            }
        }
    }

    /// NDCG@k of the ranking by `z` (ties rank negatives first: a weight vector earns
    /// nothing from a tie).
    fn ndcg(&self, z: &[f64], k: usize, scratch: &mut Vec<f64>) -> f64 {
        self.ndcg_by(|r| z[r], k, scratch)
    }

    /// NDCG@k of the ranking by `score(row)`, ties as in [`ndcg`](Self::ndcg).
    fn ndcg_by(&self, score: impl Fn(usize) -> f64, k: usize, scratch: &mut Vec<f64>) -> f64 {
        let ideal: f64 = (0..self.relevant.min(k))
            .map(|r| 1.0 / (r as f64 + 2.0).log2())
            .sum();
        if ideal <= 0.0 || k == 0 {
            return 0.0;
        }
        // The positives' scores, best first; the i-th is ranked below the i positives
        // before it and below every negative scoring at least as much. Counting stops
        // once the rank is off the list: most positives are, after a few rows.
        scratch.clear();
        scratch.extend(self.hits.iter().map(|&r| score(r as usize)));
        scratch.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut dcg = 0.0;
        for (i, &s) in scratch.iter().enumerate().take(k) {
            let room = k - i;
            let mut above = 0;
            for (r, &positive) in self.positive.iter().enumerate() {
                if !positive && score(r).total_cmp(&s).is_ge() {
                    above += 1;
                    if above == room {
                        break;
                    }
                }
            }
            let rank = i + above;
            if rank >= k {
                break;
            }
            dcg += 1.0 / (rank as f64 + 2.0).log2();
        }
        dcg / ideal
    }
}

/// Mean NDCG@k over the groups of the ranking `w` gives their candidates.
pub(super) fn mean_ndcg(groups: &[Group], w: &[f64], k: usize) -> f64 {
    let total: f64 = groups
        .par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(z, scratch), g| {
                g.scores(w, z);
                g.ndcg(z, k, scratch)
            },
        )
        .sum();
    total / groups.len().max(1) as f64
}

/// Mean NDCG@k over the groups when the weights that scored `z` move by `step` along
/// weight `d`: one column added on the fly, no group scored afresh.
pub(super) fn mean_ndcg_moved(
    groups: &[Group],
    z: &[Vec<f64>],
    d: usize,
    step: f64,
    k: usize,
) -> f64 {
    let total: f64 = groups
        .par_iter()
        .zip(z)
        .map_init(Vec::new, |scratch, (g, z)| {
            let column = g.column(d);
            g.ndcg_by(|r| z[r] + step * f64::from(column[r]), k, scratch)
        })
        .sum();
    total / groups.len().max(1) as f64
}

/// Coordinate ascent on NDCG@k itself (Metzler and Croft 2007): from `start`, try steps
/// along each weight in turn and keep any that raises the metric, for a few rounds. Each
/// group's scores are kept for the current weights, so a trial step adds one column.
pub(super) fn coordinate_ascent(
    groups: &[Group],
    start: Vec<f64>,
    k: usize,
    rounds: usize,
) -> (Vec<f64>, f64) {
    let mut w = start;
    let mut z: Vec<Vec<f64>> = groups
        .par_iter()
        .map(|g| {
            let mut z = Vec::new();
            g.scores(&w, &mut z);
            z
        })
        .collect();
    let mut best = mean_ndcg(groups, &w, k);
    const STEPS: [f64; 8] = [0.05, -0.05, 0.2, -0.2, 0.5, -0.5, 1.0, -1.0];
    for _ in 0..rounds {
        let before = best;
        for d in 0..w.len() {
            let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
            for step in STEPS {
                let ndcg = mean_ndcg_moved(groups, &z, d, step * scale, k);
                if ndcg > best + 1e-9 {
                    best = ndcg;
                    w[d] += step * scale;
                    z.par_iter_mut().zip(groups).for_each(|(z, g)| {
                        for (z, &x) in z.iter_mut().zip(g.column(d)) {
                            *z += step * scale * f64::from(x);
                        }
                    });
                }
            }
        }
        if best <= before + 1e-6 {
            break;
        }
    }
    // Scored afresh: the kept scores may differ from the weights' in the last bits, and
    // a tie then could go the other way.
    let best = mean_ndcg(groups, &w, k);
    (w, best)
}

/// The listwise softmax loss over all groups plus the L2 penalty at `w`, with its
/// gradient and its Hessian (`[dims][dims]`, row-major).
pub(super) fn loss_and_derivatives(
    groups: &[Group],
    w: &[f64],
    l2: f64,
) -> (f64, Vec<f64>, Vec<f64>) {
    let dims = w.len();
    let h_len = dims * dims;
    let (loss, mut grad, mut hess) = groups
        .par_iter()
        .fold(
            || {
                (
                    0.0,
                    vec![0.0; dims],
                    vec![0.0; h_len],
                    Vec::new(),
                    Vec::new(),
                )
            },
            |(mut loss, mut grad, mut hess, mut z, mut px), g| {
                g.scores(w, &mut z);
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut total = 0.0;
                for v in z.iter_mut() {
                    *v = (*v - max).exp();
                    total += *v;
                }
                // z now holds each row's softmax share.
                z.iter_mut().for_each(|v| *v /= total);
                let n_pos = g.positive.iter().filter(|&&p| p).count() as f64;
                for (&p, &positive) in z.iter().zip(&g.positive) {
                    if positive {
                        loss -= p.max(1e-300).ln() / n_pos;
                    }
                }
                let rows = z.len();
                px.clear();
                px.resize(dims * rows, 0.0);
                // Σ p x for each feature: the gradient is it less the positives' mean.
                let mut mean = vec![0.0f64; dims];
                for d in 0..dims {
                    let column = g.column(d);
                    let px = &mut px[d * rows..(d + 1) * rows];
                    let (mut sum, mut target) = (0.0, 0.0);
                    for (((px, &p), &x), &positive) in
                        px.iter_mut().zip(&z).zip(column).zip(&g.positive)
                    {
                        *px = p * f64::from(x);
                        sum += *px;
                        if positive {
                            target += f64::from(x);
                        }
                    }
                    mean[d] = sum;
                    grad[d] += sum - target / n_pos;
                }
                // Xᵀ (diag p - p pᵀ) X, the upper triangle.
                for d in 0..dims {
                    let pxd = &px[d * rows..(d + 1) * rows];
                    for e in d..dims {
                        let dot: f64 = pxd
                            .iter()
                            .zip(g.column(e))
                            .map(|(&a, &x)| a * f64::from(x))
                            .sum();
                        hess[d * dims + e] += dot - mean[d] * mean[e];
                    }
                }
                (loss, grad, hess, z, px)
            },
        )
        .map(|(loss, grad, hess, _, _)| (loss, grad, hess))
        .reduce(
            || (0.0, vec![0.0; dims], vec![0.0; h_len]),
            |(la, mut ga, mut ha), (lb, gb, hb)| {
                ga.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
                ha.iter_mut().zip(&hb).for_each(|(a, b)| *a += b);
                (la + lb, ga, ha)
            },
        );
    let n = groups.len().max(1) as f64;
    grad.iter_mut()
        .zip(w)
        .for_each(|(g, &w)| *g = *g / n + 2.0 * l2 * w);
    for d in 0..dims {
        for e in d..dims {
            let v = hess[d * dims + e] / n + if d == e { 2.0 * l2 } else { 0.0 };
            hess[d * dims + e] = v;
            hess[e * dims + d] = v;
        }
    }
    let loss = loss / n + l2 * w.iter().map(|w| w * w).sum::<f64>();
    (loss, grad, hess)
}

/// The Newton step `-H⁻¹ g`. A Hessian that is not positive definite (no L2 penalty and a
/// feature that is zero on every row, such as price band on data without prices) gets a
/// small ridge; if even that fails, the step is the steepest descent `-g`.
fn newton_step(hess: &[f64], grad: &[f64]) -> Vec<f64> {
    use faer::prelude::Solve;
    let dims = grad.len();
    let scale = (0..dims)
        .map(|d| hess[d * dims + d].abs())
        .fold(0.0, f64::max);
    let mut step = None;
    for ridge in [0.0, 1e-9 * scale.max(1e-12)] {
        let h = faer::Mat::<f64>::from_fn(dims, dims, |r, c| {
            hess[r * dims + c] + if r == c { ridge } else { 0.0 }
        });
        if let Ok(llt) = h.llt(faer::Side::Lower) {
            let mut rhs = faer::Mat::<f64>::from_fn(dims, 1, |r, _| -grad[r]);
            llt.solve_in_place(rhs.as_mut());
            step = Some((0..dims).map(|r| rhs[(r, 0)]).collect());
            break;
        }
    }
    crate::vector::clear_upper_vector_state();
    step.unwrap_or_else(|| grad.iter().map(|g| -g).collect())
}

/// The softmax fit stops once half the Newton decrement (the loss the next step is
/// expected to save) is below this share of the loss.
const CONVERGED: f64 = 1e-14;

/// Newton's method with a backtracking line search on the listwise loss (convex; with an
/// L2 penalty, strictly so), for at most `config.iterations` steps or until converged;
/// returns the weights and the final loss.
pub(super) fn train(groups: &[Group], dims: usize, config: &BlendConfig) -> (Vec<f64>, f64) {
    let mut w = vec![0.0f64; dims];
    let (mut loss, mut grad, mut hess) = loss_and_derivatives(groups, &w, config.l2);
    for _ in 0..config.iterations.max(1) {
        let step = newton_step(&hess, &grad);
        // -gᵀΔ: the Newton decrement, squared.
        let decrement: f64 = -grad.iter().zip(&step).map(|(g, s)| g * s).sum::<f64>();
        if !(decrement.is_finite() && decrement / 2.0 > CONVERGED * loss.abs().max(1e-12)) {
            break;
        }
        // Armijo: halve the step until the loss falls by a share of what it promised.
        let mut t = 1.0;
        let mut moved = None;
        for _ in 0..30 {
            let trial: Vec<f64> = w.iter().zip(&step).map(|(w, s)| w + t * s).collect();
            // The full step is almost always taken: its derivatives serve the next step.
            let at = loss_and_derivatives(groups, &trial, config.l2);
            if at.0 <= loss - 1e-4 * t * decrement {
                moved = Some((trial, at));
                break;
            }
            t /= 2.0;
        }
        let Some((next, at)) = moved else {
            break;
        };
        w = next;
        (loss, grad, hess) = at;
    }
    (w, loss)
}
