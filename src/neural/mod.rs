//! Neural models trained with burn: NeuMF, a two-tower embedding model and SASRec (a
//! sequence model: causal self-attention over a shopper's latest items).
//!
//! burn does the training (autodiff, Adam) on the device a [`Backend`] names. Once trained,
//! the weights are copied out into plain `f32` arrays and serving runs on the CPU in
//! ordinary Rust (the same kernels as the matrix-factorisation models), so a fitted model
//! is `Send + Sync`, saves to bytes with its configuration, and scores a user over the whole
//! catalogue without building a tensor graph per request.
//!
//! Each model keeps a validation split out of its training data, measures NDCG@10 on it
//! after every epoch, keeps the best epoch's weights and stops after `patience` epochs
//! without improvement. Initial weights and negative samples come from seeded generators
//! of our own, never from burn's global generator, so the same seed gives the same weights.

pub mod neumf;
pub mod sasrec;
pub mod two_tower;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::metrics::RankingMetrics;
use crate::recommender::EngineError;
use crate::topk::top_k;

pub use neumf::{NeuMf, NeuMfConfig};
pub use sasrec::{SasRec, SasRecConfig};
pub use two_tower::{TwoTower, TwoTowerConfig};

/// Where burn trains. Serving is always plain Rust on the CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn's `flex` CPU backend (measured fastest here: see the README).
    #[default]
    Flex,
    /// A GPU through wgpu (Vulkan, Metal, DX12); needs the `wgpu` cargo feature.
    Wgpu,
    /// An NVIDIA GPU through CUDA; needs the `cuda` cargo feature.
    Cuda,
}

impl Backend {
    /// The training device (with autodiff), or why this build cannot provide it.
    pub fn training_device(self) -> Result<Device, EngineError> {
        let device = match self {
            Backend::Flex => Device::flex(),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(0),
            #[allow(unreachable_patterns)]
            other => {
                return Err(EngineError::Data(format!(
                    "the {other:?} backend is not compiled in: rebuild with `--features {}`",
                    other.feature()
                )))
            }
        };
        Ok(device.autodiff())
    }

    /// The cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Flex => "(none)",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }
}

/// What one epoch of training did, for progress bars and logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The model's name.
    pub model: &'static str,
    /// 1-based epoch number.
    pub epoch: usize,
    /// The most epochs this run may take.
    pub epochs: usize,
    /// Mean training loss of the epoch.
    pub loss: f64,
    /// NDCG@10 on the validation split, when there is one.
    pub validation_ndcg: Option<f64>,
    /// The best epoch so far (1-based).
    pub best_epoch: usize,
    /// Seconds the epoch took (training and validation).
    pub seconds: f64,
    /// The checkpoint written for this epoch, if any.
    pub checkpoint: Option<PathBuf>,
}

/// Receives training progress; `&mut |_| {}` ignores it.
pub type Progress<'a> = &'a mut dyn FnMut(&EpochReport);

/// A float tensor of shape `[rows, cols]` from row-major values.
pub(crate) fn matrix(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// An index tensor.
pub(crate) fn indices(values: Vec<i32>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

/// A tensor's values, row-major.
pub(crate) fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, EngineError> {
    tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| EngineError::Data(format!("cannot read a tensor back: {e:?}")))
}

/// `n` values from N(0, std²) (Box-Muller), from a seeded generator.
pub(crate) fn normal(rng: &mut ChaCha8Rng, n: usize, std: f32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u1: f32 = rng.gen_range(f32::EPSILON..1.0);
            let u2: f32 = rng.gen();
            std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
        })
        .collect()
}

/// Glorot-uniform weights of a `[fan_in, fan_out]` layer.
pub(crate) fn glorot(rng: &mut ChaCha8Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
    (0..fan_in * fan_out)
        .map(|_| rng.gen_range(-limit..limit))
        .collect()
}

/// The training data with a validation split taken out: per user with at least three
/// items, `share` of them (at least one), chosen with a seeded shuffle.
pub(crate) struct Holdout {
    /// What the model trains on.
    pub train: Dataset,
    /// Per user, the held-out items (empty for most users when `share` is small).
    pub validation: Vec<Vec<u32>>,
    /// Users scored for early stopping (a seeded sample of those with held-out items).
    pub users: Vec<u32>,
}

impl Holdout {
    pub(crate) fn new(data: &Dataset, share: f64, max_users: usize, seed: u64) -> Self {
        let mut validation = vec![Vec::new(); data.n_users()];
        if share <= 0.0 {
            return Self {
                train: data.clone(),
                validation,
                users: Vec::new(),
            };
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_0FA1);
        let mut train = Vec::with_capacity(data.matrix.nnz());
        for user in 0..data.n_users() as u32 {
            let mut events: Vec<(u32, f32, i64)> = data.user_events(user).collect();
            let n_held = if events.len() >= 3 {
                ((events.len() as f64 * share).round() as usize).clamp(1, events.len() - 2)
            } else {
                0
            };
            events.shuffle(&mut rng);
            for (k, (item, weight, time)) in events.into_iter().enumerate() {
                if k < n_held {
                    validation[user as usize].push(item);
                } else {
                    train.push((user, item, weight, time));
                }
            }
        }
        data.sort_in_time_order(&mut train);
        let mut train_data = Dataset::from_timed(data.users.clone(), data.items.clone(), &train);
        train_data.excluded = data.excluded.clone();
        train_data.features = data.features.clone();
        let mut users: Vec<u32> = (0..data.n_users() as u32)
            .filter(|&u| !validation[u as usize].is_empty())
            .collect();
        users.shuffle(&mut rng);
        users.truncate(max_users);
        users.sort_unstable();
        Self {
            train: train_data,
            validation,
            users,
        }
    }

    /// Mean NDCG@10 of `score` (which fills a user's scores over all items) on the
    /// validation users, training items masked.
    pub(crate) fn ndcg(&self, score: impl Fn(u32, &mut [f32]) + Sync) -> Option<f64> {
        if self.users.is_empty() {
            return None;
        }
        let n_items = self.train.n_items();
        let per_user: Vec<RankingMetrics> = self
            .users
            .par_iter()
            .map(|&user| {
                let mut scores = vec![0.0f32; n_items];
                score(user, &mut scores);
                let (seen, _) = self.train.user_items(user);
                let ranked: Vec<u32> =
                    top_k(&scores, 10, |i| seen.binary_search(&(i as usize)).is_ok())
                        .into_iter()
                        .map(|(i, _)| i)
                        .collect();
                let relevant: HashSet<u32> =
                    self.validation[user as usize].iter().copied().collect();
                RankingMetrics::of(&ranked, &relevant, 10)
            })
            .collect();
        Some(RankingMetrics::mean(&per_user).ndcg)
    }
}

/// Early stopping: remembers the best validation score and its epoch.
pub(crate) struct EarlyStop {
    best: Option<f64>,
    pub best_epoch: usize,
    since_best: usize,
    patience: usize,
}

impl EarlyStop {
    pub(crate) fn new(patience: usize) -> Self {
        Self {
            best: None,
            best_epoch: 0,
            since_best: 0,
            patience: patience.max(1),
        }
    }

    /// Records an epoch's score (`None`: no validation, every epoch counts as best).
    /// Answers whether it is the best so far.
    pub(crate) fn record(&mut self, epoch: usize, score: Option<f64>) -> bool {
        let improved = match (score, self.best) {
            (None, _) => true,
            (Some(s), None) => {
                self.best = Some(s);
                true
            }
            (Some(s), Some(b)) if s > b => {
                self.best = Some(s);
                true
            }
            _ => false,
        };
        if improved {
            self.best_epoch = epoch;
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        improved
    }

    /// Whether training should stop.
    pub(crate) fn should_stop(&self) -> bool {
        self.since_best >= self.patience
    }
}

/// Writes a checkpoint `<dir>/<model>-epoch-<n>.bin`.
pub(crate) fn write_checkpoint(
    dir: &Path,
    model: &'static str,
    epoch: usize,
    bytes: &[u8],
) -> Result<PathBuf, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::Save {
        model,
        reason: format!("cannot create {}: {e}", dir.display()),
    })?;
    let path = dir.join(format!("{model}-epoch-{epoch}.bin"));
    std::fs::write(&path, bytes).map_err(|e| EngineError::Save {
        model,
        reason: format!("cannot write {}: {e}", path.display()),
    })?;
    Ok(path)
}

/// A seeded generator for one purpose of one run.
pub(crate) fn rng(seed: u64, purpose: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Dense `y = x W + b` for one row (`w` is `[inputs, outputs]`, row-major).
pub(crate) fn dense(x: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    out.copy_from_slice(b);
    for (xi, row) in x.iter().zip(w.chunks_exact(b.len())) {
        if *xi != 0.0 {
            for (o, wij) in out.iter_mut().zip(row) {
                *o += xi * wij;
            }
        }
    }
}
