//! The burn network: embeddings, pre-LayerNorm causal self-attention blocks, the final
//! LayerNorm, seeded dropout, and the copy of the weights out into [`Weights`].

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::serving::{BlockWeights, Weights};
use crate::neural::{glorot, indices, matrix, normal, rng, values};
use crate::recommender::EngineError;

/// Left-padded input sequences: `rows` sequences of `len` item indices each, row-major;
/// the padding index is the number of items (the table's extra row).
pub(super) struct Batch {
    pub(super) items: Vec<i32>,
    pub(super) rows: usize,
    pub(super) len: usize,
}

/// Inverted dropout from a seeded generator of our own (never burn's global one). The
/// rate is kept to 1/256 steps: one random byte per element.
pub(super) struct Dropout {
    threshold: u16,
    rng: ChaCha8Rng,
    bytes: Vec<u8>,
}

impl Dropout {
    pub(super) fn new(rate: f32, rng: ChaCha8Rng) -> Self {
        Self {
            threshold: (rate.clamp(0.0, 1.0) * 256.0).round().min(255.0) as u16,
            rng,
            bytes: Vec::new(),
        }
    }

    fn apply<const D: usize>(&mut self, x: Tensor<D>) -> Tensor<D> {
        if self.threshold == 0 {
            return x;
        }
        let shape = x.dims();
        self.bytes.resize(shape.iter().product(), 0);
        self.rng.fill_bytes(&mut self.bytes);
        let scale = 256.0 / (256 - self.threshold) as f32;
        let mask: Vec<f32> = self
            .bytes
            .iter()
            .map(|&b| {
                if u16::from(b) >= self.threshold {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_data(TensorData::new(mask, shape), &x.device());
        x * mask
    }
}

fn drop<const D: usize>(dropout: &mut Option<&mut Dropout>, x: Tensor<D>) -> Tensor<D> {
    match dropout {
        Some(d) => d.apply(x),
        None => x,
    }
}

#[derive(Module, Debug)]
pub(super) struct Block {
    pub(super) norm1: LayerNorm,
    pub(super) query: Linear,
    pub(super) key: Linear,
    pub(super) value: Linear,
    pub(super) output: Linear,
    pub(super) norm2: LayerNorm,
    pub(super) ff1: Linear,
    pub(super) ff2: Linear,
}

#[derive(Module, Debug)]
pub(super) struct Net {
    /// Item embeddings `[items + 1, dims]`; the last row is the padding, kept at zero
    /// (it is multiplied out of the input, so it never gets a gradient).
    pub(super) items: Param<Tensor<2>>,
    /// Positional embeddings `[max_len, dims]`.
    pub(super) positions: Param<Tensor<2>>,
    pub(super) blocks: Vec<Block>,
    pub(super) norm: LayerNorm,
    pub(super) heads: usize,
}

fn linear(r: &mut ChaCha8Rng, d: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(matrix(glorot(r, d, d), d, d, device)),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.0f32; d], [d]),
            device,
        ))),
    }
}

impl Net {
    /// Seeded initial weights: item embeddings N(0, 1/dims) (so the scaled input has
    /// unit variance), positions N(0, 0.25), Glorot-uniform maps, zero biases.
    pub(super) fn init(
        n_items: usize,
        dims: usize,
        blocks: usize,
        heads: usize,
        max_len: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let mut r = rng(seed, 3);
        let mut items = normal(&mut r, (n_items + 1) * dims, 1.0 / (dims as f32).sqrt());
        items[n_items * dims..].fill(0.0);
        let positions = normal(&mut r, max_len * dims, 0.5);
        let blocks = (0..blocks)
            .map(|_| Block {
                norm1: LayerNormConfig::new(dims).init(device),
                query: linear(&mut r, dims, device),
                key: linear(&mut r, dims, device),
                value: linear(&mut r, dims, device),
                output: linear(&mut r, dims, device),
                norm2: LayerNormConfig::new(dims).init(device),
                ff1: linear(&mut r, dims, device),
                ff2: linear(&mut r, dims, device),
            })
            .collect();
        Self {
            items: Param::from_tensor(matrix(items, n_items + 1, dims, device)),
            positions: Param::from_tensor(matrix(positions, max_len, dims, device)),
            blocks,
            norm: LayerNormConfig::new(dims).init(device),
            heads,
        }
    }

    /// Every position's output `[rows, len, dims]` (after the final LayerNorm); dropout
    /// only when given (training).
    pub(super) fn forward(
        &self,
        batch: &Batch,
        mut dropout: Option<&mut Dropout>,
        device: &Device,
    ) -> Tensor<3> {
        let (b, l) = (batch.rows, batch.len);
        let [padding, d] = self.items.val().dims();
        let padding = (padding - 1) as i32;
        let [max_len, _] = self.positions.val().dims();
        let h = self.heads;
        let keep: Vec<f32> = batch
            .items
            .iter()
            .map(|&i| if i == padding { 0.0 } else { 1.0 })
            .collect();
        let keep: Tensor<3> = Tensor::from_data(TensorData::new(keep, [b, l, 1]), device);
        let embedded: Tensor<3> = self
            .items
            .val()
            .select(0, indices(batch.items.clone(), device))
            .reshape([b, l, d])
            .mul_scalar((d as f32).sqrt());
        let positions: Tensor<3> = self
            .positions
            .val()
            .slice([max_len - l..max_len, 0..d])
            .reshape([1, l, d]);
        let mut x = drop(&mut dropout, (embedded + positions) * keep);
        // Masked: a later position (causality) or a padding key. A padding query sees
        // only masked keys; its output is never read.
        let mut mask = Vec::with_capacity(b * h * l * l);
        for row in batch.items.chunks_exact(l) {
            for _ in 0..h {
                for i in 0..l {
                    mask.extend((0..l).map(|j| j > i || row[j] == padding));
                }
            }
        }
        let mask: Tensor<4, Bool> = Tensor::from_data(TensorData::new(mask, [b, h, l, l]), device);
        let dh = d / h;
        let split = |t: Tensor<3>| t.reshape([b, l, h, dh]).swap_dims(1, 2);
        for block in &self.blocks {
            let y = block.norm1.forward(x.clone());
            let q = split(block.query.forward(y.clone()));
            let k = split(block.key.forward(y.clone()));
            let v = split(block.value.forward(y));
            let scores = q
                .matmul(k.swap_dims(2, 3))
                .mul_scalar(1.0 / (dh as f32).sqrt())
                .mask_fill(mask.clone(), -1e9);
            let mixed = softmax(scores, 3)
                .matmul(v)
                .swap_dims(1, 2)
                .reshape([b, l, d]);
            x = x + drop(&mut dropout, block.output.forward(mixed));
            let y = block.norm2.forward(x.clone());
            let hidden = drop(&mut dropout, relu(block.ff1.forward(y)));
            x = x + drop(&mut dropout, block.ff2.forward(hidden));
        }
        self.norm.forward(x)
    }

    /// The weights as plain arrays, for serving.
    pub(super) fn weights(&self) -> Result<Weights, EngineError> {
        let [rows, dims] = self.items.val().dims();
        let mut items = values(self.items.val())?;
        items.truncate((rows - 1) * dims);
        let linear = |l: &Linear| -> Result<(Vec<f32>, Vec<f32>), EngineError> {
            let b = match &l.bias {
                Some(b) => values(b.val())?,
                None => vec![0.0; dims],
            };
            Ok((values(l.weight.val())?, b))
        };
        let norm = |n: &LayerNorm| -> Result<(Vec<f32>, Vec<f32>), EngineError> {
            let b = match &n.beta {
                Some(b) => values(b.val())?,
                None => vec![0.0; dims],
            };
            Ok((values(n.gamma.val())?, b))
        };
        let blocks = self
            .blocks
            .iter()
            .map(|b| {
                Ok(BlockWeights {
                    norm1: norm(&b.norm1)?,
                    query: linear(&b.query)?,
                    key: linear(&b.key)?,
                    value: linear(&b.value)?,
                    output: linear(&b.output)?,
                    norm2: norm(&b.norm2)?,
                    ff1: linear(&b.ff1)?,
                    ff2: linear(&b.ff2)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(Weights {
            dims,
            heads: self.heads,
            items,
            positions: values(self.positions.val())?,
            blocks,
            norm: norm(&self.norm)?,
        })
    }
}
