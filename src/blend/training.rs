//! Learning the blend's weights on validation candidates: a listwise softmax fit by Adam,
//! then coordinate ascent on validation NDCG@k itself.

use rayon::prelude::*;

use super::BlendConfig;

/// One user's training rows: candidate features and which candidates were held out.
pub(super) struct Group {
    pub(super) x: Vec<f32>,
    pub(super) positive: Vec<bool>,
    /// Held-out items in all (some may be outside the candidates): the ideal DCG's count.
    pub(super) relevant: usize,
}

/// Mean NDCG@k over the groups of the ranking `w` gives their candidates.
pub(super) fn mean_ndcg(groups: &[Group], w: &[f64], k: usize) -> f64 {
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
pub(super) fn coordinate_ascent(
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
pub(super) fn loss_and_gradient(groups: &[Group], w: &[f64], l2: f64) -> (f64, Vec<f64>) {
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
pub(super) fn train(groups: &[Group], dims: usize, config: &BlendConfig) -> (Vec<f64>, f64) {
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
