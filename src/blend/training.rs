//! Learning the blend's weights on validation candidates: a listwise softmax fit by Adam,
//! then coordinate ascent on validation NDCG@k itself.

use rayon::prelude::*;

use super::BlendConfig;

/// One user's training rows: candidate features and which candidates were held out.
pub(super) struct Group {
    /// Features column-major, `[dims][rows]`: a weight's step moves every row's score by
    /// one contiguous column, and the scores and gradient read whole columns.
    pub(super) x: Vec<f32>,
    pub(super) positive: Vec<bool>,
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
        Self {
            x,
            positive,
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
        let ideal: f64 = (0..self.relevant.min(k))
            .map(|r| 1.0 / (r as f64 + 2.0).log2())
            .sum();
        if ideal <= 0.0 || k == 0 {
            return 0.0;
        }
        // The positives' scores, best first; the i-th is ranked below the i positives
        // before it and below every negative scoring at least as much.
        scratch.clear();
        scratch.extend(
            z.iter()
                .zip(&self.positive)
                .filter(|(_, &p)| p)
                .map(|(&s, _)| s),
        );
        scratch.sort_unstable_by(|a, b| b.total_cmp(a));
        let mut dcg = 0.0;
        for (i, &s) in scratch.iter().enumerate().take(k) {
            let above = z
                .iter()
                .zip(&self.positive)
                .filter(|(v, &p)| !p && v.total_cmp(&s).is_ge())
                .count();
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
    let n = groups.len().max(1) as f64;
    let ndcg_with = |z: &[Vec<f64>], d: usize, step: f64| -> f64 {
        groups
            .par_iter()
            .zip(z)
            .map_init(
                || (Vec::new(), Vec::new()),
                |(moved, scratch): &mut (Vec<f64>, Vec<f64>), (g, z)| {
                    moved.clear();
                    moved.extend(
                        z.iter()
                            .zip(g.column(d))
                            .map(|(&z, &x)| z + step * f64::from(x)),
                    );
                    g.ndcg(moved, k, scratch)
                },
            )
            .sum::<f64>()
            / n
    };
    let mut best = mean_ndcg(groups, &w, k);
    const STEPS: [f64; 8] = [0.05, -0.05, 0.2, -0.2, 0.5, -0.5, 1.0, -1.0];
    for _ in 0..rounds {
        let before = best;
        for d in 0..w.len() {
            let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
            for step in STEPS {
                let ndcg = ndcg_with(&z, d, step * scale);
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

/// Listwise softmax loss and its gradient over all groups, plus the L2 penalty.
pub(super) fn loss_and_gradient(groups: &[Group], w: &[f64], l2: f64) -> (f64, Vec<f64>) {
    let dims = w.len();
    let (loss, mut grad) = groups
        .par_iter()
        .map(|g| {
            let mut z = Vec::new();
            g.scores(w, &mut z);
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exp: Vec<f64> = z.iter().map(|&v| (v - max).exp()).collect();
            let total: f64 = exp.iter().sum();
            let n_pos = g.positive.iter().filter(|&&p| p).count() as f64;
            let mut loss = 0.0;
            // Each row's weight in the gradient: its softmax share less its target.
            let coef: Vec<f64> = exp
                .iter()
                .zip(&g.positive)
                .map(|(&e, &positive)| {
                    let p = e / total;
                    if positive {
                        loss -= (p.max(1e-300)).ln() / n_pos;
                        p - 1.0 / n_pos
                    } else {
                        p
                    }
                })
                .collect();
            let grad: Vec<f64> = (0..dims)
                .map(|d| {
                    coef.iter()
                        .zip(g.column(d))
                        .map(|(&c, &x)| c * f64::from(x))
                        .sum()
                })
                .collect();
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

/// Iterations between the softmax fit's convergence checks.
const CHECK_EVERY: usize = 10;
/// The softmax fit stops once its loss fell by less than this share over the last
/// `CHECK_EVERY` iterations: it only gives coordinate ascent its start.
const CONVERGED: f64 = 1e-5;

/// Full-batch Adam on the listwise loss, for at most `config.iterations` iterations or
/// until the loss has converged; returns the weights and the final loss.
pub(super) fn train(groups: &[Group], dims: usize, config: &BlendConfig) -> (Vec<f64>, f64) {
    let mut w = vec![0.0f64; dims];
    let (mut m, mut v) = (vec![0.0f64; dims], vec![0.0f64; dims]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut last = f64::NAN;
    let mut checked = f64::NAN;
    for t in 1..=config.iterations.max(1) {
        let (loss, grad) = loss_and_gradient(groups, &w, config.l2);
        last = loss;
        if t % CHECK_EVERY == 0 {
            if checked - loss < CONVERGED * loss.abs() {
                break;
            }
            checked = loss;
        }
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
