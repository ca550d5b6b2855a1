//! Training: the nested leave-last-out validation split, batches of sequences of similar
//! length, the sampled softmax with the logQ correction and masked accidental hits, and
//! the epoch loop with early stopping and checkpoints.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::net::{Batch, Dropout, Net};
use super::{SasRecConfig, Saved};
use crate::data::Dataset;
use crate::neural::{
    indices, matrix, rng, write_checkpoint, EarlyStop, EpochReport, Holdout, Progress,
};
use crate::recommender::{save, EngineError};

/// Each user's training sequence (oldest first) and the validation split around it: the
/// last item of users with at least three, when `validate`.
pub(super) fn split(data: &Dataset, config: &SasRecConfig) -> (Vec<Vec<u32>>, Holdout) {
    let n_users = data.n_users();
    let mut sequences = Vec::with_capacity(n_users);
    let mut validation = vec![Vec::new(); n_users];
    let mut events = Vec::with_capacity(data.matrix.nnz());
    for user in 0..n_users as u32 {
        let mut sequence: Vec<u32> = data.sequence(user).into_iter().map(|(i, _)| i).collect();
        if config.validation && sequence.len() >= 3 {
            validation[user as usize].extend(sequence.pop());
        }
        events.extend(sequence.iter().map(|&item| (user, item, 1.0, 0)));
        sequences.push(sequence);
    }
    let train = Dataset::from_timed(data.users.clone(), data.items.clone(), &events);
    let mut users: Vec<u32> = (0..n_users as u32)
        .filter(|&u| !validation[u as usize].is_empty())
        .collect();
    users.shuffle(&mut rng(config.seed, 1));
    users.truncate(config.validation_users);
    users.sort_unstable();
    let holdout = Holdout {
        train,
        validation,
        users,
    };
    (sequences, holdout)
}

/// The users of one epoch in batches: shuffled, then sorted by length (stable, so equal
/// lengths stay shuffled) so a batch pads little, and the batches shuffled.
fn batches(
    sequences: &[Vec<u32>],
    users: &[u32],
    config: &SasRecConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<u32>> {
    let mut order = users.to_vec();
    order.shuffle(rng);
    order.sort_by_key(|&u| sequences[u as usize].len().min(config.max_len + 1));
    let mut chunks: Vec<Vec<u32>> = order
        .chunks(config.batch_size)
        .map(<[u32]>::to_vec)
        .collect();
    chunks.shuffle(rng);
    chunks
}

/// A batch's inputs (each user's last `max_len + 1` items but the last, left-padded to
/// the batch's longest), and per predicting position its row in the flattened output
/// and the next item it must predict.
pub(super) fn batch(
    sequences: &[Vec<u32>],
    users: &[u32],
    max_len: usize,
    padding: i32,
) -> (Batch, Vec<i32>, Vec<u32>) {
    let windows: Vec<&[u32]> = users
        .iter()
        .map(|&u| {
            let s = &sequences[u as usize];
            &s[s.len().saturating_sub(max_len + 1)..]
        })
        .collect();
    let len = windows
        .iter()
        .map(|w| w.len().saturating_sub(1))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut items = Vec::with_capacity(users.len() * len);
    let (mut rows, mut targets) = (Vec::new(), Vec::new());
    for (r, window) in windows.iter().enumerate() {
        let m = window.len().saturating_sub(1);
        items.extend(std::iter::repeat_n(padding, len - m));
        items.extend(window[..m].iter().map(|&i| i as i32));
        for j in 0..m {
            rows.push((r * len + len - m + j) as i32);
            targets.push(window[j + 1]);
        }
    }
    let batch = Batch {
        items,
        rows: users.len(),
        len,
    };
    (batch, rows, targets)
}

/// The mean sampled-softmax loss of a batch: each predicting position against its
/// positive and the shared `negatives`, every logit less the log of its candidate's
/// sampling probability, negatives equal to the row's positive masked.
#[allow(clippy::too_many_arguments)]
pub(super) fn loss(
    net: &Net,
    batch: &Batch,
    rows: Vec<i32>,
    targets: &[u32],
    negatives: &[u32],
    log_q: &[f32],
    dropout: Option<&mut Dropout>,
    device: &Device,
) -> Tensor<1> {
    let (n, k) = (targets.len(), negatives.len());
    let out = net.forward(batch, dropout, device);
    let [b, l, d] = out.dims();
    let h = out.reshape([b * l, d]).select(0, indices(rows, device));
    let table = net.items.val();
    let as_index = |items: &[u32]| indices(items.iter().map(|&i| i as i32).collect(), device);
    let positive = table.clone().select(0, as_index(targets));
    let q_pos: Vec<f32> = targets.iter().map(|&i| log_q[i as usize]).collect();
    let q_neg: Vec<f32> = negatives.iter().map(|&i| log_q[i as usize]).collect();
    let pos_logit = (h.clone() * positive).sum_dim(1) - matrix(q_pos, n, 1, device);
    let neg_logit =
        h.matmul(table.select(0, as_index(negatives)).transpose()) - matrix(q_neg, 1, k, device);
    let hits: Vec<bool> = targets
        .iter()
        .flat_map(|&t| negatives.iter().map(move |&j| j == t))
        .collect();
    let hits: Tensor<2, Bool> = Tensor::from_data(TensorData::new(hits, [n, k]), device);
    let logits = Tensor::cat(vec![pos_logit, neg_logit.mask_fill(hits, -1e9)], 1);
    log_softmax(logits, 1)
        .slice([0..n, 0..1])
        .mean()
        .neg()
        .reshape([1])
}

/// Trains a SASRec network on `data` (settings already checked): with early stopping,
/// then, with `refit`, anew on everything for the best epoch's number of epochs (those
/// epochs reported after the first run's, without validation).
pub(super) fn fit(
    config: &SasRecConfig,
    data: &Dataset,
    progress: Progress<'_>,
) -> Result<Saved, EngineError> {
    let mut last = 0;
    let mut saved = fit_once(config, data, &mut |report| {
        last = report.epoch;
        progress(report)
    })?;
    if config.validation && config.refit {
        let again = SasRecConfig {
            validation: false,
            epochs: saved.best_epoch,
            checkpoint_dir: None,
            ..config.clone()
        };
        let best_epoch = saved.best_epoch;
        let refit = fit_once(&again, data, &mut |report| {
            progress(&EpochReport {
                epoch: last + report.epoch,
                epochs: last + report.epochs,
                best_epoch,
                ..report.clone()
            })
        })?;
        saved.weights = refit.weights;
        saved.popularity = refit.popularity;
    }
    Ok(saved)
}

/// One training run: early stopping when `config.validation`, else `epochs` epochs.
fn fit_once(
    config: &SasRecConfig,
    data: &Dataset,
    progress: Progress<'_>,
) -> Result<Saved, EngineError> {
    let n_items = data.n_items();
    let (sequences, holdout) = split(data, config);
    let users: Vec<u32> = (0..sequences.len() as u32)
        .filter(|&u| sequences[u as usize].len() >= 2)
        .collect();
    if n_items == 0 || users.is_empty() {
        return Err(EngineError::Data(
            "the sasrec model needs at least one user with two or more items in training".into(),
        ));
    }
    let device = config.backend.training_device()?;
    // Negatives: a share by popularity (a uniform draw from every training occurrence),
    // the rest uniformly over the catalogue. q is each item's chance per draw.
    let pool: Vec<u32> = sequences.iter().flatten().copied().collect();
    let mut counts = vec![0u32; n_items];
    for &i in &pool {
        counts[i as usize] += 1;
    }
    let alpha = config.popularity_negatives;
    let total = pool.len() as f64;
    let log_q: Vec<f32> = counts
        .iter()
        .map(|&c| (alpha * c as f64 / total + (1.0 - alpha) / n_items as f64).ln() as f32)
        .collect();
    let popularity: Vec<f32> = counts.iter().map(|&c| (c as f64 / total) as f32).collect();
    let padding = n_items as i32;
    let mut net = Net::init(
        n_items,
        config.dims,
        config.blocks,
        config.heads,
        config.max_len,
        config.seed,
        &device,
    );
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let mut stop = EarlyStop::new(config.patience);
    let mut best = None;
    let positions: usize = users
        .iter()
        .map(|&u| (sequences[u as usize].len() - 1).min(config.max_len))
        .sum();
    for epoch in 1..=config.epochs.max(1) {
        let started = Instant::now();
        let mut sampler = rng(config.seed, 400 + epoch as u64);
        let mut dropout = Dropout::new(config.dropout, rng(config.seed, 800 + epoch as u64));
        let mut loss_sum = 0.0f64;
        for chunk in batches(&sequences, &users, config, &mut sampler) {
            let (batch, rows, targets) = batch(&sequences, &chunk, config.max_len, padding);
            let negatives: Vec<u32> = (0..config.negatives)
                .map(|_| {
                    if sampler.gen::<f64>() < alpha {
                        pool[sampler.gen_range(0..pool.len())]
                    } else {
                        sampler.gen_range(0..n_items as u32)
                    }
                })
                .collect();
            let n = targets.len();
            let loss = loss(
                &net,
                &batch,
                rows,
                &targets,
                &negatives,
                &log_q,
                Some(&mut dropout),
                &device,
            );
            loss_sum += loss.clone().into_scalar::<f32>() as f64 * n as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(config.learning_rate, net, grads);
        }
        let weights = net.weights()?;
        let ndcg = holdout.ndcg(|user, scores| {
            if let Some(state) = weights.last_state(&sequences[user as usize]) {
                weights.score_all(&state.hidden, scores);
            }
        });
        let mut checkpoint = None;
        if stop.record(epoch, ndcg) {
            let saved = Saved {
                config: config.clone(),
                weights,
                popularity: popularity.clone(),
                best_epoch: epoch,
                validation_ndcg: ndcg,
            };
            if let Some(dir) = &config.checkpoint_dir {
                let bytes = save("sasrec", &saved)?;
                checkpoint = Some(write_checkpoint(dir, "sasrec", epoch, &bytes)?);
            }
            best = Some(saved);
        }
        progress(&EpochReport {
            model: "sasrec",
            epoch,
            epochs: config.epochs,
            loss: loss_sum / positions.max(1) as f64,
            validation_ndcg: ndcg,
            best_epoch: stop.best_epoch,
            seconds: started.elapsed().as_secs_f64(),
            checkpoint,
        });
        if stop.should_stop() {
            break;
        }
    }
    // At least one epoch ran, and the first always records as the best.
    best.ok_or_else(|| EngineError::Data("sasrec: no epoch was trained".into()))
}
