//! Neural matrix factorisation (He et al. 2017): a generalised matrix factorisation tower
//! (element-wise product of user and item embeddings) and a multi-layer perceptron over
//! the concatenated user and item embeddings, fused by one output layer into a logit.
//! Trained on implicit feedback with sampled negatives and binary cross-entropy, Adam.
//!
//! Serving splits the first MLP layer into its user and item halves: the item half (plus
//! the bias) is computed once per item at fit time, so scoring a user over the catalogue
//! costs one small MLP pass per item and no tensor graph.
//!
//! A history the model was not trained on (an anonymous shopper, a new account) gets the
//! weighted mean, over its items, of the mean embedding of each item's training users:
//! a fold-in without gradient steps.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_sigmoid, relu};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{
    dense, glorot, indices, matrix, normal, rng, values, write_checkpoint, Backend, EarlyStop,
    EpochReport, Holdout, Progress,
};
use crate::data::Dataset;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::vector::{cosine_neighbours, dot, factor_contributions};

/// NeuMF settings. Flat, so `--set neumf.epochs=20` works like every other model's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeuMfConfig {
    /// Embedding size of the GMF tower.
    pub gmf_factors: usize,
    /// Embedding size of each side of the MLP tower (its first layer reads twice this).
    pub mlp_factors: usize,
    /// Sizes of the MLP's hidden layers, first to last.
    pub layers: Vec<usize>,
    /// Sampled negatives per positive pair, each epoch.
    pub negatives: usize,
    /// Most epochs.
    pub epochs: usize,
    /// Pairs per optimiser step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Validation share of each user's items for early stopping (0: none).
    pub validation: f64,
    /// Epochs without a better validation NDCG@10 before stopping.
    pub patience: usize,
    /// Validation users scored per epoch, at most.
    pub validation_users: usize,
    /// Seed of weights, split and sampling.
    pub seed: u64,
    /// Training device.
    pub backend: Backend,
    /// Directory for per-epoch checkpoints (improving epochs only).
    pub checkpoint_dir: Option<std::path::PathBuf>,
}

impl Default for NeuMfConfig {
    fn default() -> Self {
        Self {
            gmf_factors: 32,
            mlp_factors: 32,
            layers: vec![64, 32, 16],
            negatives: 4,
            epochs: 30,
            batch_size: 1024,
            learning_rate: 1e-3,
            validation: 0.1,
            patience: 4,
            validation_users: 1000,
            seed: 42,
            backend: Backend::Flex,
            checkpoint_dir: None,
        }
    }
}

/// The network as burn trains it.
#[derive(Module, Debug)]
struct Net {
    gmf_user: Param<Tensor<2>>,
    gmf_item: Param<Tensor<2>>,
    mlp_user: Param<Tensor<2>>,
    mlp_item: Param<Tensor<2>>,
    layers: Vec<Linear>,
    output: Linear,
}

fn linear(w: Vec<f32>, fan_in: usize, fan_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(matrix(w, fan_in, fan_out, device)),
        bias: Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![0.0f32; fan_out], [fan_out]),
            device,
        ))),
    }
}

impl Net {
    fn init(
        config: &NeuMfConfig,
        n_users: usize,
        n_items: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let mut r = rng(seed, 1);
        let (g, m) = (config.gmf_factors, config.mlp_factors);
        // Parameters are drawn in a fixed order from our own generator: same seed, same net.
        let gmf_user = normal(&mut r, n_users * g, 0.01);
        let gmf_item = normal(&mut r, n_items * g, 0.01);
        let mlp_user = normal(&mut r, n_users * m, 0.01);
        let mlp_item = normal(&mut r, n_items * m, 0.01);
        let mut layers = Vec::new();
        let mut fan_in = 2 * m;
        for &size in &config.layers {
            layers.push(linear(glorot(&mut r, fan_in, size), fan_in, size, device));
            fan_in = size;
        }
        let output = linear(glorot(&mut r, g + fan_in, 1), g + fan_in, 1, device);
        Self {
            gmf_user: Param::from_tensor(matrix(gmf_user, n_users, g, device)),
            gmf_item: Param::from_tensor(matrix(gmf_item, n_items, g, device)),
            mlp_user: Param::from_tensor(matrix(mlp_user, n_users, m, device)),
            mlp_item: Param::from_tensor(matrix(mlp_item, n_items, m, device)),
            layers,
            output,
        }
    }

    /// Logits `[batch]` of the (user, item) pairs.
    fn forward(&self, users: Tensor<1, Int>, items: Tensor<1, Int>) -> Tensor<1> {
        let gmf = self.gmf_user.val().select(0, users.clone())
            * self.gmf_item.val().select(0, items.clone());
        let mut h = Tensor::cat(
            vec![
                self.mlp_user.val().select(0, users),
                self.mlp_item.val().select(0, items),
            ],
            1,
        );
        for layer in &self.layers {
            h = relu(layer.forward(h));
        }
        let z = self.output.forward(Tensor::cat(vec![gmf, h], 1));
        let [batch, _] = z.dims();
        z.reshape([batch])
    }

    fn weights(&self, config: &NeuMfConfig) -> Result<Weights, EngineError> {
        let mut layers = Vec::new();
        for layer in &self.layers {
            layers.push(dense_of(layer)?);
        }
        let (output_w, output_b) = dense_of(&self.output)?;
        let [n_users, _] = self.gmf_user.val().dims();
        let [n_items, _] = self.gmf_item.val().dims();
        Ok(Weights {
            gmf_factors: config.gmf_factors,
            mlp_factors: config.mlp_factors,
            n_users,
            n_items,
            gmf_user: values(self.gmf_user.val())?,
            gmf_item: values(self.gmf_item.val())?,
            mlp_user: values(self.mlp_user.val())?,
            mlp_item: values(self.mlp_item.val())?,
            layers,
            output_w,
            output_b: output_b[0],
        })
    }
}

fn dense_of(layer: &Linear) -> Result<(Vec<f32>, Vec<f32>), EngineError> {
    let w = values(layer.weight.val())?;
    let b = match &layer.bias {
        Some(b) => values(b.val())?,
        None => vec![0.0; layer.weight.val().dims()[1]],
    };
    Ok((w, b))
}

/// The trained weights, row-major, as plain vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Weights {
    gmf_factors: usize,
    mlp_factors: usize,
    n_users: usize,
    n_items: usize,
    gmf_user: Vec<f32>,
    gmf_item: Vec<f32>,
    mlp_user: Vec<f32>,
    mlp_item: Vec<f32>,
    /// Hidden layers: weights `[inputs, outputs]` and biases.
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    output_w: Vec<f32>,
    output_b: f32,
}

/// Serving state derived from the weights.
#[derive(Debug, Clone, Default, PartialEq)]
struct Serving {
    /// Per item: its half of the first MLP layer plus that layer's bias.
    item_first: Vec<f32>,
    /// Per item: GMF and MLP item embeddings side by side (similarity, explanations).
    item_joint: Vec<f32>,
}

impl Weights {
    fn first_width(&self) -> usize {
        self.layers.first().map_or(0, |(_, b)| b.len())
    }

    fn serving(&self) -> Serving {
        let (g, m) = (self.gmf_factors, self.mlp_factors);
        let mut item_first = Vec::new();
        if let Some((w, b)) = self.layers.first() {
            let h1 = b.len();
            // Rows m..2m of the first layer read the item half of the concatenation.
            let item_rows = &w[m * h1..2 * m * h1];
            item_first = vec![0.0; self.n_items * h1];
            for (item, out) in item_first.chunks_exact_mut(h1).enumerate() {
                dense(&self.mlp_item[item * m..(item + 1) * m], item_rows, b, out);
            }
        }
        let mut item_joint = Vec::with_capacity(self.n_items * (g + m));
        for item in 0..self.n_items {
            item_joint.extend_from_slice(&self.gmf_item[item * g..(item + 1) * g]);
            item_joint.extend_from_slice(&self.mlp_item[item * m..(item + 1) * m]);
        }
        Serving {
            item_first,
            item_joint,
        }
    }

    /// Logits of every item for a user given by their two embeddings.
    fn score(&self, serving: &Serving, gmf_user: &[f32], mlp_user: &[f32], scores: &mut [f32]) {
        let (g, m) = (self.gmf_factors, self.mlp_factors);
        let h1 = self.first_width();
        // The user half of the first layer, once for all items.
        let mut user_first = vec![0.0f32; h1];
        if let Some((w, _)) = self.layers.first() {
            let zeros = vec![0.0f32; h1];
            dense(mlp_user, &w[..m * h1], &zeros, &mut user_first);
        }
        let widest = self.layers.iter().map(|(_, b)| b.len()).max().unwrap_or(0);
        let (mut a, mut b) = (vec![0.0f32; widest], vec![0.0f32; widest]);
        let (out_gmf, out_mlp) = self.output_w.split_at(g);
        for (item, score) in scores.iter_mut().enumerate().take(self.n_items) {
            let q = &self.gmf_item[item * g..(item + 1) * g];
            let mut z = self.output_b;
            for k in 0..g {
                z += out_gmf[k] * gmf_user[k] * q[k];
            }
            let mut width = h1;
            if h1 > 0 {
                let first = &serving.item_first[item * h1..(item + 1) * h1];
                for k in 0..h1 {
                    a[k] = (user_first[k] + first[k]).max(0.0);
                }
                for (w, bias) in &self.layers[1..] {
                    let out = &mut b[..bias.len()];
                    dense(&a[..width], w, bias, out);
                    for v in out.iter_mut() {
                        *v = v.max(0.0);
                    }
                    width = bias.len();
                    std::mem::swap(&mut a, &mut b);
                }
                z += dot(out_mlp, &a[..width]);
            } else {
                // No hidden layers: the output reads the raw MLP embeddings.
                let p = &self.mlp_item[item * m..(item + 1) * m];
                z += dot(&out_mlp[..m], mlp_user) + dot(&out_mlp[m..], p);
            }
            *score = z;
        }
    }

    fn user_embeddings(&self, user: u32) -> Option<(&[f32], &[f32])> {
        let (g, m) = (self.gmf_factors, self.mlp_factors);
        let u = user as usize;
        (u < self.n_users).then(|| {
            (
                &self.gmf_user[u * g..(u + 1) * g],
                &self.mlp_user[u * m..(u + 1) * m],
            )
        })
    }
}

/// What is saved: the configuration, the weights and the fold-in table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    config: NeuMfConfig,
    weights: Weights,
    /// Per item, the mean GMF and MLP embeddings of its training users (fold-in).
    item_users_gmf: Vec<f32>,
    item_users_mlp: Vec<f32>,
    /// The best epoch and its validation NDCG@10.
    best_epoch: usize,
    validation_ndcg: Option<f64>,
}

/// The NeuMF recommender.
#[derive(Debug, Clone)]
pub struct NeuMf {
    config: NeuMfConfig,
    saved: Option<Saved>,
    serving: Serving,
}

impl NeuMf {
    /// An unfitted model.
    pub fn new(config: NeuMfConfig) -> Self {
        Self {
            config,
            saved: None,
            serving: Serving::default(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        let saved: Saved = load("neumf", bytes)?;
        let serving = saved.weights.serving();
        Ok(Self {
            config: saved.config.clone(),
            saved: Some(saved),
            serving,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NeuMfConfig {
        &self.config
    }

    /// The epoch whose weights were kept and its validation NDCG@10.
    pub fn best_epoch(&self) -> Option<(usize, Option<f64>)> {
        self.saved
            .as_ref()
            .map(|s| (s.best_epoch, s.validation_ndcg))
    }

    /// Trains on `data`, reporting each epoch to `progress`.
    pub fn fit_with(&mut self, data: &Dataset, progress: Progress<'_>) -> Result<(), EngineError> {
        let config = self.config.clone();
        if config.gmf_factors == 0 || config.mlp_factors == 0 {
            return Err(EngineError::Data(
                "NeuMF needs gmf_factors and mlp_factors of at least 1".into(),
            ));
        }
        if config.batch_size == 0 {
            return Err(EngineError::Data(
                "NeuMF needs a batch_size of at least 1".into(),
            ));
        }
        let (n_users, n_items) = (data.n_users(), data.n_items());
        if n_users == 0 || n_items < 2 || data.matrix.nnz() == 0 {
            return Err(EngineError::Data(
                "NeuMF needs interactions with at least two items".into(),
            ));
        }
        let device = config.backend.training_device()?;
        let holdout = Holdout::new(
            data,
            config.validation,
            config.validation_users,
            config.seed,
        );
        let train = &holdout.train;
        let positives: Vec<(u32, u32)> = (0..n_users as u32)
            .flat_map(|u| train.user_items(u).0.iter().map(move |&i| (u, i as u32)))
            .collect();
        let mut net = Net::init(&config, n_users, n_items, config.seed, &device);
        let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
        let mut stop = EarlyStop::new(config.patience);
        let mut best: Option<(Weights, Option<f64>)> = None;
        for epoch in 1..=config.epochs.max(1) {
            let started = Instant::now();
            let mut sampler = rng(config.seed, 100 + epoch as u64);
            let mut samples: Vec<(u32, u32, f32)> =
                Vec::with_capacity(positives.len() * (1 + config.negatives));
            for &(user, item) in &positives {
                samples.push((user, item, 1.0));
                let seen = train.user_items(user).0;
                for _ in 0..config.negatives {
                    // Rejection sampling of an unseen item (a user who has seen nearly
                    // everything gets a seen one after a few tries: rare, harmless).
                    let mut negative = sampler.gen_range(0..n_items);
                    for _ in 0..16 {
                        if seen.binary_search(&negative).is_err() {
                            break;
                        }
                        negative = sampler.gen_range(0..n_items);
                    }
                    samples.push((user, negative as u32, 0.0));
                }
            }
            samples.shuffle(&mut sampler);
            let mut loss_sum = 0.0f64;
            for batch in samples.chunks(config.batch_size) {
                let users = indices(batch.iter().map(|s| s.0 as i32).collect(), &device);
                let items = indices(batch.iter().map(|s| s.1 as i32).collect(), &device);
                let labels: Tensor<1> = Tensor::from_data(
                    TensorData::new(
                        batch.iter().map(|s| s.2).collect::<Vec<f32>>(),
                        [batch.len()],
                    ),
                    &device,
                );
                let logits = net.forward(users, items);
                // Binary cross-entropy with logits: (1 - y) z - log σ(z), stable for any z.
                let loss =
                    (logits.clone() * labels.neg().add_scalar(1.0) - log_sigmoid(logits)).mean();
                loss_sum += loss.clone().into_scalar::<f32>() as f64 * batch.len() as f64;
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(config.learning_rate, net, grads);
            }
            let weights = net.weights(&config)?;
            let serving = weights.serving();
            let ndcg = holdout.ndcg(|user, scores| {
                if let Some((g, m)) = weights.user_embeddings(user) {
                    weights.score(&serving, g, m, scores);
                }
            });
            let improved = stop.record(epoch, ndcg);
            let mut checkpoint = None;
            if improved {
                best = Some((weights, ndcg));
                if let Some(dir) = &config.checkpoint_dir {
                    let (w, v) = best.clone().expect("just set");
                    let bytes = save("neumf", &self.saved_from(data, w, epoch, v))?;
                    checkpoint = Some(write_checkpoint(dir, "neumf", epoch, &bytes)?);
                }
            }
            progress(&EpochReport {
                model: "neumf",
                epoch,
                epochs: config.epochs,
                loss: loss_sum / samples.len().max(1) as f64,
                validation_ndcg: ndcg,
                best_epoch: stop.best_epoch,
                seconds: started.elapsed().as_secs_f64(),
                checkpoint,
            });
            if stop.should_stop() {
                break;
            }
        }
        let (weights, ndcg) = best.expect("at least one epoch ran");
        let saved = self.saved_from(data, weights, stop.best_epoch, ndcg);
        self.serving = saved.weights.serving();
        self.saved = Some(saved);
        Ok(())
    }

    fn saved_from(
        &self,
        data: &Dataset,
        weights: Weights,
        epoch: usize,
        ndcg: Option<f64>,
    ) -> Saved {
        let (g, m) = (weights.gmf_factors, weights.mlp_factors);
        let n_items = weights.n_items;
        let mut item_users_gmf = vec![0.0f32; n_items * g];
        let mut item_users_mlp = vec![0.0f32; n_items * m];
        let mut counts = vec![0.0f32; n_items];
        for user in 0..data.n_users().min(weights.n_users) as u32 {
            let (gu, mu) = weights.user_embeddings(user).expect("user in range");
            for &item in data.user_items(user).0 {
                if item >= n_items {
                    continue;
                }
                counts[item] += 1.0;
                for k in 0..g {
                    item_users_gmf[item * g + k] += gu[k];
                }
                for k in 0..m {
                    item_users_mlp[item * m + k] += mu[k];
                }
            }
        }
        for (item, &count) in counts.iter().enumerate() {
            if count > 0.0 {
                item_users_gmf[item * g..(item + 1) * g]
                    .iter_mut()
                    .for_each(|v| *v /= count);
                item_users_mlp[item * m..(item + 1) * m]
                    .iter_mut()
                    .for_each(|v| *v /= count);
            }
        }
        Saved {
            config: self.config.clone(),
            weights,
            item_users_gmf,
            item_users_mlp,
            best_epoch: epoch,
            validation_ndcg: ndcg,
        }
    }

    /// The fold-in embeddings of a history.
    fn fold_in(&self, saved: &Saved, history: &[(u32, f32)]) -> (Vec<f32>, Vec<f32>) {
        let (g, m) = (saved.weights.gmf_factors, saved.weights.mlp_factors);
        let (mut pg, mut pm) = (vec![0.0f32; g], vec![0.0f32; m]);
        let mut total = 0.0f32;
        for &(item, weight) in history {
            let i = item as usize;
            if i >= saved.weights.n_items || weight <= 0.0 {
                continue;
            }
            total += weight;
            for k in 0..g {
                pg[k] += weight * saved.item_users_gmf[i * g + k];
            }
            for k in 0..m {
                pm[k] += weight * saved.item_users_mlp[i * m + k];
            }
        }
        if total > 0.0 {
            pg.iter_mut().chain(pm.iter_mut()).for_each(|v| *v /= total);
        }
        (pg, pm)
    }
}

impl Recommender for NeuMf {
    fn name(&self) -> &'static str {
        "neumf"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.fit_with(data, &mut |_| {})
    }

    fn fit_with_progress(
        &mut self,
        data: &Dataset,
        progress: Progress<'_>,
    ) -> Result<(), EngineError> {
        self.fit_with(data, progress)
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        if let Some(saved) = &self.saved {
            let (g, m) = self.fold_in(saved, history);
            saved.weights.score(&self.serving, &g, &m, scores);
        }
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        let Some(saved) = &self.saved else { return };
        match saved.weights.user_embeddings(user) {
            Some((g, m)) => saved.weights.score(&self.serving, g, m, scores),
            None => self.score_history(&crate::recommender::history_of(data, user), scores),
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let Some(saved) = &self.saved else {
            return Vec::new();
        };
        let dims = saved.weights.gmf_factors + saved.weights.mlp_factors;
        cosine_neighbours(&self.serving.item_joint, dims, item, k)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let Some(saved) = &self.saved else {
            return Explanation::default();
        };
        let dims = saved.weights.gmf_factors + saved.weights.mlp_factors;
        Explanation::from_contributions(
            factor_contributions(&self.serving.item_joint, dims, history, item),
            None,
        )
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let saved = self.saved.as_ref().ok_or(EngineError::NotFitted("neumf"))?;
        save("neumf", saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups of users with disjoint tastes over 40 items.
    pub(crate) fn planted() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..60u32 {
            let base = if u < 30 { 0 } else { 20 };
            for k in 0..12u32 {
                triples.push((u, base + (u * 7 + k * 3) % 20, 1.0));
            }
        }
        Dataset::from_dense(60, 40, &triples)
    }

    fn small() -> NeuMfConfig {
        NeuMfConfig {
            gmf_factors: 8,
            mlp_factors: 8,
            layers: vec![16, 8],
            epochs: 12,
            batch_size: 256,
            learning_rate: 0.01,
            validation: 0.0,
            ..NeuMfConfig::default()
        }
    }

    #[test]
    fn loss_falls_and_tastes_are_learned() {
        let data = planted();
        let mut losses = Vec::new();
        let mut model = NeuMf::new(small());
        model.fit_with(&data, &mut |r| losses.push(r.loss)).unwrap();
        assert_eq!(losses.len(), 12, "no validation: every epoch runs");
        assert!(
            losses[11] < 0.6 * losses[0],
            "loss should fall on planted data: {losses:?}"
        );
        // A user of the first group scores first-group items above second-group ones.
        let mut scores = vec![0.0; 40];
        model.score_user(&data, 0, &mut scores);
        let first: f32 = scores[..20].iter().sum::<f32>() / 20.0;
        let second: f32 = scores[20..].iter().sum::<f32>() / 20.0;
        assert!(first > second, "{first} vs {second}");
    }

    #[test]
    fn rust_serving_matches_the_burn_forward_pass() {
        let config = small();
        let device = Device::flex();
        let net = Net::init(&config, 5, 7, 3, &device);
        let weights = net.weights(&config).unwrap();
        let serving = weights.serving();
        let users: Vec<i32> = (0..5).flat_map(|u| std::iter::repeat(u).take(7)).collect();
        let items: Vec<i32> = (0..5).flat_map(|_| 0..7).collect();
        let burn = values(net.forward(indices(users, &device), indices(items, &device))).unwrap();
        for u in 0..5u32 {
            let (g, m) = weights.user_embeddings(u).unwrap();
            let mut scores = vec![0.0; 7];
            weights.score(&serving, g, m, &mut scores);
            for (i, s) in scores.iter().enumerate() {
                let b = burn[u as usize * 7 + i];
                assert!((s - b).abs() < 1e-5, "user {u} item {i}: {s} vs {b}");
            }
        }
        assert_eq!(weights.gmf_item.len(), 7 * 8, "[items, gmf_factors]");
        assert_eq!(serving.item_first.len(), 7 * 16, "[items, first layer]");
    }

    #[test]
    fn same_seed_same_weights_and_bytes_round_trip() {
        let data = planted();
        let mut config = small();
        config.epochs = 2;
        let mut a = NeuMf::new(config.clone());
        let mut b = NeuMf::new(config.clone());
        a.fit(&data).unwrap();
        b.fit(&data).unwrap();
        assert_eq!(a.saved, b.saved, "same seed, same weights");
        config.seed = 7;
        let mut c = NeuMf::new(config);
        c.fit(&data).unwrap();
        assert_ne!(a.saved, c.saved, "another seed, other weights");

        let back = NeuMf::from_bytes(&a.to_bytes().unwrap()).unwrap();
        let (mut x, mut y) = (vec![0.0; 40], vec![0.0; 40]);
        for user in [0, 45] {
            a.score_user(&data, user, &mut x);
            back.score_user(&data, user, &mut y);
            assert_eq!(x, y, "identical scores after a round trip");
        }
        let history = [(3, 1.0), (5, 2.0)];
        a.score_history(&history, &mut x);
        back.score_history(&history, &mut y);
        assert_eq!(x, y);
        assert_eq!(
            back.config(),
            a.config(),
            "the configuration travels with the weights"
        );
    }

    #[test]
    fn early_stopping_keeps_the_best_epoch_and_checkpoints_it() {
        let data = planted();
        let dir = std::env::temp_dir().join(format!("curio-neumf-ckpt-{}", std::process::id()));
        let mut config = small();
        config.validation = 0.2;
        config.patience = 2;
        config.epochs = 40;
        config.checkpoint_dir = Some(dir.clone());
        let mut reports = Vec::new();
        let mut model = NeuMf::new(config);
        model
            .fit_with(&data, &mut |r| reports.push(r.clone()))
            .unwrap();
        let last = reports.last().unwrap();
        let (best, ndcg) = model.best_epoch().unwrap();
        assert_eq!(best, last.best_epoch);
        let best_report = &reports[best - 1];
        assert_eq!(ndcg, best_report.validation_ndcg);
        assert!(reports
            .iter()
            .all(|r| r.validation_ndcg.unwrap() <= ndcg.unwrap()));
        let checkpoint = best_report
            .checkpoint
            .clone()
            .expect("improving epochs are saved");
        let restored = NeuMf::from_bytes(&std::fs::read(&checkpoint).unwrap()).unwrap();
        assert_eq!(restored.best_epoch(), model.best_epoch());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
