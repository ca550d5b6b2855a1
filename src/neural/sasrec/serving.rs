//! Serving in plain Rust: the weights copied out of burn and the forward pass over a
//! history's real positions (padding is masked in training, so leaving it out changes
//! nothing), the top block for the last position only, then one dot product per item.

use serde::{Deserialize, Serialize};

use crate::neural::dense;
use crate::vector::dot;

/// LayerNorm's epsilon (burn's default, which training uses).
pub(super) const EPSILON: f32 = 1e-5;

/// One transformer block's weights; linear maps are `[inputs, outputs]`, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct BlockWeights {
    pub(super) norm1: (Vec<f32>, Vec<f32>),
    pub(super) query: (Vec<f32>, Vec<f32>),
    pub(super) key: (Vec<f32>, Vec<f32>),
    pub(super) value: (Vec<f32>, Vec<f32>),
    pub(super) output: (Vec<f32>, Vec<f32>),
    pub(super) norm2: (Vec<f32>, Vec<f32>),
    pub(super) ff1: (Vec<f32>, Vec<f32>),
    pub(super) ff2: (Vec<f32>, Vec<f32>),
}

/// The trained network, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Weights {
    pub(super) dims: usize,
    pub(super) heads: usize,
    /// Item embeddings `[items, dims]` (without the padding row).
    pub(super) items: Vec<f32>,
    /// Positional embeddings `[max_len, dims]`; the latest item sits at the last row.
    pub(super) positions: Vec<f32>,
    pub(super) blocks: Vec<BlockWeights>,
    /// The final LayerNorm's scale and shift.
    pub(super) norm: (Vec<f32>, Vec<f32>),
}

/// What the forward pass says of one history.
pub(super) struct State {
    /// The last position's output (after the final LayerNorm).
    pub(super) hidden: Vec<f32>,
    /// The items read, oldest first (the last `max_len` known ones).
    pub(super) items: Vec<u32>,
    /// The last block's attention of the last position on each of `items` (mean over
    /// heads; sums to 1).
    pub(super) attention: Vec<f32>,
}

/// Normalises each `dims`-wide row of `x` in place: zero mean, unit variance, then scale
/// and shift.
pub(super) fn layer_norm(x: &[f32], (gamma, beta): &(Vec<f32>, Vec<f32>)) -> Vec<f32> {
    let d = gamma.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(d) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + EPSILON).sqrt();
        out.extend(
            row.iter()
                .zip(gamma.iter().zip(beta))
                .map(|(v, (g, b))| (v - mean) * inv * g + b),
        );
    }
    out
}

/// `x W + b` for every row of `x`.
fn linear(x: &[f32], inputs: usize, (w, b): &(Vec<f32>, Vec<f32>)) -> Vec<f32> {
    let outputs = b.len();
    let mut out = vec![0.0f32; x.len() / inputs * outputs];
    for (row, o) in x.chunks_exact(inputs).zip(out.chunks_exact_mut(outputs)) {
        dense(row, w, b, o);
    }
    out
}

impl Weights {
    pub(super) fn n_items(&self) -> usize {
        self.items.len() / self.dims.max(1)
    }

    pub(super) fn max_len(&self) -> usize {
        self.positions.len() / self.dims.max(1)
    }

    /// Whether the shapes fit together (saved bytes may come from anywhere).
    pub(super) fn check(&self) -> Result<(), String> {
        let d = self.dims;
        let pair = |p: &(Vec<f32>, Vec<f32>), w: usize, b: usize| p.0.len() == w && p.1.len() == b;
        let ok = d > 0
            && self.heads > 0
            && d % self.heads == 0
            && self.items.len() % d == 0
            && !self.positions.is_empty()
            && self.positions.len() % d == 0
            && pair(&self.norm, d, d)
            && self.blocks.iter().all(|b| {
                pair(&b.norm1, d, d)
                    && pair(&b.norm2, d, d)
                    && [&b.query, &b.key, &b.value, &b.output, &b.ff1, &b.ff2]
                        .iter()
                        .all(|p| pair(p, d * d, d))
            });
        if ok {
            Ok(())
        } else {
            Err("the weights' shapes do not fit together".into())
        }
    }

    /// The forward pass over the last `max_len` known items of `history` (oldest first);
    /// `None` when none is known.
    pub(super) fn last_state(&self, history: &[u32]) -> Option<State> {
        let (d, n) = (self.dims, self.n_items());
        let known: Vec<u32> = history
            .iter()
            .copied()
            .filter(|&i| (i as usize) < n)
            .collect();
        let items = known[known.len().saturating_sub(self.max_len())..].to_vec();
        let k = items.len();
        if k == 0 {
            return None;
        }
        let offset = self.max_len() - k;
        let scale = (d as f32).sqrt();
        let mut x = Vec::with_capacity(k * d);
        for (j, &item) in items.iter().enumerate() {
            let e = &self.items[item as usize * d..(item as usize + 1) * d];
            let p = &self.positions[(offset + j) * d..(offset + j + 1) * d];
            x.extend(e.iter().zip(p).map(|(e, p)| e * scale + p));
        }
        let mut attention = vec![0.0f32; k];
        let last_block = self.blocks.len().saturating_sub(1);
        for (b, block) in self.blocks.iter().enumerate() {
            // The top block only needs the last position's query: its output is all
            // that is scored.
            let first = if b == last_block { k - 1 } else { 0 };
            let rows = k - first;
            let y = layer_norm(&x, &block.norm1);
            let keys = linear(&y, d, &block.key);
            let values = linear(&y, d, &block.value);
            let queries = linear(&y[first * d..], d, &block.query);
            let mixed = self.attend(
                &queries,
                &keys,
                &values,
                first,
                (b == last_block).then_some(&mut attention),
            );
            let mut h = x[first * d..].to_vec();
            for (h, o) in h.iter_mut().zip(linear(&mixed, d, &block.output)) {
                *h += o;
            }
            let y = layer_norm(&h, &block.norm2);
            let mut hidden = linear(&y, d, &block.ff1);
            hidden.iter_mut().for_each(|v| *v = v.max(0.0));
            for (h, f) in h.iter_mut().zip(linear(&hidden, d, &block.ff2)) {
                *h += f;
            }
            debug_assert_eq!(h.len(), rows * d);
            x = h;
        }
        let last = &x[x.len() - d..];
        Some(State {
            hidden: layer_norm(last, &self.norm),
            items,
            attention,
        })
    }

    /// Causal multi-head attention of the queries of positions `first..` on every
    /// earlier-or-same position; adds the last query's weights (mean over heads) to
    /// `attention` when given.
    fn attend(
        &self,
        queries: &[f32],
        keys: &[f32],
        values: &[f32],
        first: usize,
        mut attention: Option<&mut Vec<f32>>,
    ) -> Vec<f32> {
        let d = self.dims;
        let dh = d / self.heads;
        let inv = 1.0 / (dh as f32).sqrt();
        let rows = queries.len() / d;
        let mut out = vec![0.0f32; rows * d];
        let mut weights = Vec::new();
        for r in 0..rows {
            let i = first + r;
            for h in 0..self.heads {
                let q = &queries[r * d + h * dh..r * d + (h + 1) * dh];
                weights.clear();
                weights.extend(
                    (0..=i).map(|j| dot(q, &keys[j * d + h * dh..j * d + (h + 1) * dh]) * inv),
                );
                let max = weights.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                weights.iter_mut().for_each(|w| *w = (*w - max).exp());
                let sum: f32 = weights.iter().sum();
                let o = &mut out[r * d + h * dh..r * d + (h + 1) * dh];
                for (j, w) in weights.iter_mut().enumerate() {
                    *w /= sum;
                    let v = &values[j * d + h * dh..j * d + (h + 1) * dh];
                    for (o, v) in o.iter_mut().zip(v) {
                        *o += *w * v;
                    }
                }
                if r + 1 == rows {
                    if let Some(attention) = attention.as_deref_mut() {
                        for (a, w) in attention.iter_mut().zip(&weights) {
                            *a += w / self.heads as f32;
                        }
                    }
                }
            }
        }
        out
    }

    /// Every item's score: its embedding's dot product with the last position's state.
    pub(super) fn score_all(&self, hidden: &[f32], scores: &mut [f32]) {
        for (score, item) in scores.iter_mut().zip(self.items.chunks_exact(self.dims)) {
            *score = dot(hidden, item);
        }
    }
}
