//! SASRec on tiny networks and a planted sequence task.

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use rand::Rng;

use super::net::{Batch, Net};
use super::training::{batch, loss};
use super::*;
use crate::eval::leave_last_out;
use crate::neural::values;
use crate::recommender::{recommend, Exclusions};

const PAD: i32 = 10;

/// The training device (autodiff on flex), as `fit` uses it.
fn device() -> Device {
    Device::flex().autodiff()
}

fn tiny_net(seed: u64) -> Net {
    // 10 items, 8 dims, 2 blocks of 2 heads, sequences of up to 6.
    Net::init(10, 8, 2, 2, 6, seed, &device())
}

/// The burn forward's output `[rows, len, dims]` as rows of `dims` values.
fn forward(net: &Net, rows: &[Vec<i32>]) -> Vec<Vec<f32>> {
    let len = rows[0].len();
    let batch = Batch {
        items: rows.concat(),
        rows: rows.len(),
        len,
    };
    let out = values(net.forward(&batch, None, &device())).unwrap();
    out.chunks(8).map(<[f32]>::to_vec).collect()
}

fn close(a: &[f32], b: &[f32], tolerance: f32) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
}

#[test]
fn causal_mask_hides_later_items_and_padding() {
    let net = tiny_net(1);
    let out = forward(&net, &[vec![PAD, 1, 2, 3, 4, 5], vec![PAD, 1, 2, 3, 7, 8]]);
    // Positions 1..=3 read the same items; position 4 onwards differ.
    for t in 1..=3 {
        assert!(
            close(&out[t], &out[6 + t], 1e-6),
            "position {t} sees the future"
        );
    }
    assert!(
        !close(&out[4], &out[10], 1e-3),
        "position 4 must see its own item"
    );
    assert!(!close(&out[5], &out[11], 1e-3));
    // Padding is not attended to: [1, 2] reads the same left-padded or not.
    let padded = forward(&net, &[vec![PAD, PAD, PAD, PAD, 1, 2]]);
    let bare = forward(&net, &[vec![1, 2]]);
    assert!(close(&padded[5], &bare[1], 1e-5));
    // And the earlier real item does matter.
    let other = forward(&net, &[vec![3, 2]]);
    assert!(!close(&other[1], &bare[1], 1e-3));
}

#[test]
fn rust_serving_matches_the_burn_forward() {
    let device = device();
    let mut net = tiny_net(2);
    // A few optimiser steps first, so norms and biases are no longer at their start.
    let sequences: Vec<Vec<u32>> = (0..8u32)
        .map(|u| (0..(3 + u % 5)).map(|k| (u + 3 * k) % 10).collect())
        .collect();
    let users: Vec<u32> = (0..8).collect();
    let log_q = vec![(0.1f32).ln(); 10];
    let mut optim = AdamConfig::new().init();
    for step in 0..5u32 {
        let (b, rows, targets) = batch(&sequences, &users, 6, PAD);
        let negatives = [(step % 10), (step + 4) % 10, 7];
        let l = loss(&net, &b, rows, &targets, &negatives, &log_q, None, &device);
        let grads = GradientsParams::from_grads(l.backward(), &net);
        net = optim.step(0.05, net, grads);
    }
    let weights = net.weights().unwrap();
    weights.check().unwrap();
    // A history longer than max_len: serving reads its last 6 items.
    let history = [9u32, 8, 3, 1, 4, 0, 5, 2];
    let state = weights.last_state(&history).unwrap();
    assert_eq!(state.items, [3, 1, 4, 0, 5, 2]);
    assert!((state.attention.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    let burn = forward(&net, &[vec![3, 1, 4, 0, 5, 2]]);
    assert!(
        close(&state.hidden, &burn[5], 1e-4),
        "{:?} vs {:?}",
        state.hidden,
        burn[5]
    );
    // A short history against its left-padded burn batch, scores included.
    let state = weights.last_state(&[7, 1]).unwrap();
    let burn = forward(
        &net,
        &[vec![PAD, PAD, PAD, PAD, 7, 1], vec![1, 2, 3, 4, 5, 6]],
    );
    assert!(close(&state.hidden, &burn[5], 1e-4));
    let mut served = vec![0.0f32; 10];
    weights.score_all(&state.hidden, &mut served);
    for (item, score) in served.iter().enumerate() {
        let e = &weights.items[item * 8..(item + 1) * 8];
        let expected: f32 = e.iter().zip(&burn[5]).map(|(a, b)| a * b).sum();
        assert!(
            (score - expected).abs() < 1e-4,
            "{item}: {score} vs {expected}"
        );
    }
    assert!(weights.last_state(&[]).is_none());
    assert!(
        weights.last_state(&[42]).is_none(),
        "unknown items are skipped"
    );
}

/// 30 items; user u walks start, start + stride, ... (mod 30) for 4 to 8 steps, the
/// stride 1 or 3: the next item depends on the last two, so the last one alone (a model
/// whose attention is broken) gets about half right, popularity about 1/30.
fn walks() -> Dataset {
    let mut r = crate::neural::rng(7, 0);
    let mut events = Vec::new();
    for u in 0..200u32 {
        let (start, stride) = (r.gen_range(0..30u32), if r.gen() { 1 } else { 3 });
        for k in 0..r.gen_range(4..=8u32) {
            events.push((u, (start + stride * k) % 30, 1.0, k as i64));
        }
    }
    let data = Dataset::from_dense(200, 30, &[]);
    Dataset::from_timed(data.users, data.items, &events)
}

fn small() -> SasRecConfig {
    SasRecConfig {
        dims: 32,
        blocks: 1,
        heads: 2,
        max_len: 8,
        dropout: 0.0,
        negatives: 16,
        epochs: 30,
        batch_size: 32,
        learning_rate: 0.01,
        patience: 30,
        ..SasRecConfig::default()
    }
}

#[test]
fn learns_the_next_step_of_planted_walks() {
    let split = leave_last_out(&walks());
    let mut losses = Vec::new();
    let mut model = SasRec::new(small());
    model
        .fit_with(&split.train, &mut |r| losses.push(r.loss))
        .unwrap();
    assert!(losses.last().unwrap() < &(0.5 * losses[0]), "{losses:?}");
    let (best, ndcg) = model.best_epoch().unwrap();
    assert!(best >= 1 && ndcg.is_some());
    let users: Vec<u32> = (0..200)
        .filter(|&u| !split.test[u as usize].is_empty())
        .collect();
    let hits = users
        .iter()
        .filter(|&&u| {
            let top = recommend(&model, &split.train, u, 1, Exclusions::default());
            top.first().map(|&(i, _)| i) == split.test[u as usize].first().copied()
        })
        .count();
    let hr1 = hits as f64 / users.len() as f64;
    assert!(hr1 > 0.8, "HR@1 {hr1} (popularity gets about 1/30)");
    // Order matters: after [a, a+1] comes a+2, after [a-2, a+1] comes a+4. Both end on
    // the same item, so a model reading only the last one gets at most half of these.
    let top = |history: &[u32]| {
        let history: Vec<(u32, f32)> = history.iter().map(|&i| (i % 30, 1.0)).collect();
        let mut scores = vec![0.0; 30];
        model.score_history(&history, &mut scores);
        crate::topk::top_k(&scores, 1, |_| false)[0].0
    };
    let right = (30..60u32)
        .map(|a| {
            u32::from(top(&[a, a + 1]) == (a + 2) % 30)
                + u32::from(top(&[a - 2, a + 1]) == (a + 4) % 30)
        })
        .sum::<u32>();
    assert!(
        right >= 40,
        "{right} of 60 next steps right (the last item alone: 30 at most)"
    );
    let explained = model.explain(&[(5, 1.0), (6, 1.0)], 7);
    assert!(explained
        .because_of
        .iter()
        .all(|&(i, w)| (i == 5 || i == 6) && w > 0.0));
    assert_eq!(model.similar_items(3, 4).len(), 4);
}

#[test]
fn one_seed_one_model_and_bytes_round_trip() {
    let data = walks();
    let config = SasRecConfig {
        epochs: 2,
        ..small()
    };
    let mut a = SasRec::new(config.clone());
    let mut b = SasRec::new(config.clone());
    a.fit(&data).unwrap();
    b.fit(&data).unwrap();
    assert_eq!(a.saved, b.saved, "same seed, same weights");
    let mut c = SasRec::new(SasRecConfig { seed: 9, ..config });
    c.fit(&data).unwrap();
    assert_ne!(
        a.saved.as_ref().unwrap().weights,
        c.saved.as_ref().unwrap().weights
    );
    let back = SasRec::from_bytes(&a.to_bytes().unwrap()).unwrap();
    let history = [(3u32, 1.0f32), (4, 1.0), (5, 1.0)];
    let (mut x, mut y, mut z) = (vec![0.0; 30], vec![0.0; 30], vec![0.0; 30]);
    a.score_history(&history, &mut x);
    back.score_history(&history, &mut y);
    c.score_history(&history, &mut z);
    assert_eq!(x, y);
    assert_ne!(x, z);
    assert_eq!(a.similar_items(4, 5), back.similar_items(4, 5));
    assert_eq!(a.explain(&history, 6), back.explain(&history, 6));
    // An empty history gets the training popularity, not nothing.
    a.score_history(&[], &mut x);
    assert!(x.iter().any(|&s| s > 0.0));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let empty = Dataset::from_dense(3, 5, &[]);
    let err = SasRec::new(small()).fit(&empty).unwrap_err();
    assert!(
        matches!(err, EngineError::Data(ref m) if m.contains("two or more")),
        "{err}"
    );
    let singles = Dataset::from_dense(2, 5, &[(0, 1, 1.0), (1, 2, 1.0)]);
    assert!(matches!(
        SasRec::new(small()).fit(&singles),
        Err(EngineError::Data(_))
    ));
    let bad = SasRecConfig {
        dims: 10,
        heads: 3,
        ..small()
    };
    let err = SasRec::new(bad).fit(&walks()).unwrap_err();
    assert!(
        err.to_string().contains("heads (3) must divide dims (10)"),
        "{err}"
    );
    assert!(matches!(
        SasRec::new(small()).to_bytes(),
        Err(EngineError::NotFitted(_))
    ));
    assert!(matches!(
        SasRec::from_bytes(b"nonsense"),
        Err(EngineError::Load { .. })
    ));
    let mut scores = vec![1.0; 5];
    SasRec::new(small()).score_history(&[(1, 1.0)], &mut scores);
    assert_eq!(
        scores,
        vec![1.0; 5],
        "an unfitted model leaves scores alone"
    );
}

#[test]
fn the_refit_learns_from_the_items_validation_held_out() {
    // 150 users walk items 0..20 by one step; 50 more all read 20, 21, 22, 23. Item 23
    // is only ever a latest item: early stopping holds it out of training.
    let mut r = crate::neural::rng(11, 0);
    let mut events = Vec::new();
    for u in 0..150u32 {
        let start = r.gen_range(0..20u32);
        for k in 0..r.gen_range(4..=8u32) {
            events.push((u, (start + k) % 20, 1.0, k as i64));
        }
    }
    for u in 150..200u32 {
        for (k, item) in (20..24u32).enumerate() {
            events.push((u, item, 1.0, k as i64));
        }
    }
    let shape = Dataset::from_dense(200, 24, &[]);
    let data = Dataset::from_timed(shape.users, shape.items, &events);
    let next = |refit: bool| {
        let mut model = SasRec::new(SasRecConfig { refit, ..small() });
        let mut epochs = Vec::new();
        model
            .fit_with(&data, &mut |r| epochs.push((r.epoch, r.validation_ndcg)))
            .unwrap();
        let history = [(20u32, 1.0f32), (21, 1.0), (22, 1.0)];
        let mut scores = vec![0.0; 24];
        model.score_history(&history, &mut scores);
        let top = crate::topk::top_k(&scores, 1, |i| (20..23).contains(&i))[0].0;
        (top, epochs, model.best_epoch().unwrap().0)
    };
    let (top, epochs, best) = next(true);
    assert_eq!(top, 23, "the refit network learnt 22 -> 23");
    // The refit's epochs follow the first run's, without validation, as many as the
    // best epoch's number.
    let first = epochs.iter().take_while(|e| e.1.is_some()).count();
    assert_eq!(epochs.len(), first + best, "{epochs:?}");
    assert!(epochs[first..].iter().all(|e| e.1.is_none()));
    assert!(
        epochs.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "{epochs:?}"
    );
    let (top, _, _) = next(false);
    assert_ne!(top, 23, "without the refit 23 was never a target");
}
