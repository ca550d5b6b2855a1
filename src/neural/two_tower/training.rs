//! The burn network: both towers, the sampled-softmax loss with the logQ correction and
//! masked accidental hits, and the wide match term.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::super::{glorot, indices, matrix, normal, rng, values};
use super::*;
use crate::recommender::EngineError;

#[derive(Module, Debug)]
pub(super) struct Net {
    pub(super) tokens: Param<Tensor<2>>,
    pub(super) item_ids: Param<Tensor<2>>,
    pub(super) user_ids: Param<Tensor<2>>,
    pub(super) history: Param<Tensor<2>>,
    pub(super) item_map: Linear,
    pub(super) user_map: Linear,
    /// A per-item prior from the same input as the item tower (how likely any user is to
    /// pick it), added to the scaled cosine: lets features predict popularity.
    pub(super) item_bias: Linear,
    /// Weights `[2, matches]` of the exact token matches (see [`MATCHES`]) between the
    /// user's profile and the item (the "wide" part of Wide & Deep), for items scored
    /// without (row 0) and with (row 1) their id: remembers what the embeddings blur.
    pub(super) wide: Param<Tensor<2>>,
}

/// Padded `[rows, width]` index and weight arrays of a list of bags.
pub(super) fn padded(bags: &[&[(u32, f32)]]) -> (Vec<i32>, Vec<f32>, usize) {
    let width = bags.iter().map(|b| b.len()).max().unwrap_or(0).max(1);
    let mut idx = Vec::with_capacity(bags.len() * width);
    let mut w = Vec::with_capacity(bags.len() * width);
    for bag in bags {
        for &(i, v) in bag.iter() {
            idx.push(i as i32);
            w.push(v);
        }
        for _ in bag.len()..width {
            idx.push(0);
            w.push(0.0);
        }
    }
    (idx, w, width)
}

/// Σ weight × embedding row over each bag: `[rows, dims]`.
pub(super) fn bag_sum(
    table: &Param<Tensor<2>>,
    bags: &[&[(u32, f32)]],
    device: &Device,
) -> Tensor<2> {
    let (idx, w, width) = padded(bags);
    let rows = bags.len();
    let [_, dims] = table.val().dims();
    let embedded: Tensor<3> = table
        .val()
        .select(0, indices(idx, device))
        .reshape([rows, width, dims]);
    let weights: Tensor<3> = Tensor::from_data(TensorData::new(w, [rows, width, 1]), device);
    (embedded * weights).sum_dim(1).reshape([rows, dims])
}

pub(super) fn l2_normalise(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .add_scalar(1e-6);
    x / norm
}

impl Net {
    pub(super) fn init(
        dims: usize,
        n_tokens: usize,
        n_items: usize,
        n_users: usize,
        seed: u64,
        device: &Device,
    ) -> Self {
        let mut r = rng(seed, 2);
        let std = 0.1;
        // At least one row per table, so an empty vocabulary still makes a valid tensor.
        // Token embeddings start small: a token only cold items carry is never trained,
        // and must add little noise to those items (exactly zero would make the norm's
        // gradient infinite).
        let tokens = normal(&mut r, n_tokens.max(1) * dims, 0.01);
        let item_ids = normal(&mut r, n_items * dims, std);
        let user_ids = normal(&mut r, n_users * dims, std);
        let history = normal(&mut r, n_items * dims, std);
        let map = |r: &mut rand_chacha::ChaCha8Rng| Linear {
            weight: Param::from_tensor(matrix(glorot(r, dims, dims), dims, dims, device)),
            bias: Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![0.0f32; dims], [dims]),
                device,
            ))),
        };
        let item_map = map(&mut r);
        let user_map = map(&mut r);
        let item_bias = Linear {
            weight: Param::from_tensor(matrix(vec![0.0; dims], dims, 1, device)),
            bias: Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![0.0f32], [1]),
                device,
            ))),
        };
        Self {
            tokens: Param::from_tensor(matrix(tokens, n_tokens.max(1), dims, device)),
            item_ids: Param::from_tensor(matrix(item_ids, n_items, dims, device)),
            user_ids: Param::from_tensor(matrix(user_ids, n_users, dims, device)),
            history: Param::from_tensor(matrix(history, n_items, dims, device)),
            item_map,
            user_map,
            item_bias,
            wide: Param::from_tensor(matrix(
                vec![1.0f32; 2 * MATCHES.len()],
                2,
                MATCHES.len(),
                device,
            )),
        }
    }

    /// Item embeddings `[rows, dims]` and priors `[rows, 1]` of (item, id weight) pairs.
    pub(super) fn items(
        &self,
        vocabulary: &Vocabulary,
        items: &[(u32, f32)],
        device: &Device,
    ) -> (Tensor<2>, Tensor<2>) {
        let content: Vec<&[(u32, f32)]> = items
            .iter()
            .map(|&(i, _)| vocabulary.items[i as usize].as_slice())
            .collect();
        let ids: Vec<[(u32, f32); 1]> = items.iter().map(|&(i, w)| [(i, w)]).collect();
        let id_bags: Vec<&[(u32, f32)]> = ids.iter().map(|b| b.as_slice()).collect();
        let x = bag_sum(&self.tokens, &content, device) + bag_sum(&self.item_ids, &id_bags, device);
        let prior = self.item_bias.forward(x.clone());
        (l2_normalise(self.item_map.forward(x)), prior)
    }

    /// User embeddings `[rows, dims]`; a user without an id uses index 0 at weight 0.
    pub(super) fn users(
        &self,
        inputs: &[UserInput],
        id_weights: &[f32],
        device: &Device,
    ) -> Tensor<2> {
        let ids: Vec<[(u32, f32); 1]> = inputs
            .iter()
            .zip(id_weights)
            .map(|(u, &w)| [(u.id.unwrap_or(0), if u.id.is_some() { w } else { 0.0 })])
            .collect();
        let id_bags: Vec<&[(u32, f32)]> = ids.iter().map(|b| b.as_slice()).collect();
        let history: Vec<&[(u32, f32)]> = inputs.iter().map(|u| u.history.as_slice()).collect();
        let profile: Vec<&[(u32, f32)]> = inputs.iter().map(|u| u.profile.as_slice()).collect();
        let y = bag_sum(&self.user_ids, &id_bags, device)
            + bag_sum(&self.history, &history, device)
            + bag_sum(&self.tokens, &profile, device);
        l2_normalise(self.user_map.forward(y))
    }

    pub(super) fn weights(&self) -> Result<Weights, EngineError> {
        let [_, dims] = self.tokens.val().dims();
        let bias = |l: &Linear| match &l.bias {
            Some(b) => values(b.val()),
            None => Ok(vec![0.0; dims]),
        };
        Ok(Weights {
            dims,
            tokens: values(self.tokens.val())?,
            item_ids: values(self.item_ids.val())?,
            user_ids: values(self.user_ids.val())?,
            history: values(self.history.val())?,
            item_w: values(self.item_map.weight.val())?,
            item_b: bias(&self.item_map)?,
            user_w: values(self.user_map.weight.val())?,
            user_b: bias(&self.user_map)?,
            prior_w: values(self.item_bias.weight.val())?,
            prior_b: bias(&self.item_bias)?[0],
            wide: values(self.wide.val())?,
        })
    }
}
