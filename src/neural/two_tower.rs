//! A two-tower embedding model whose item tower reads product features, so a product
//! nobody has touched yet still gets a useful embedding.
//!
//! - Item tower: the weighted sum of the item's content-token embeddings (title and
//!   description words, each level of its category path, tags, brand, price band; TF-IDF
//!   weights, unit length) plus its id embedding, through a linear map, L2-normalised;
//!   and a scalar prior from the same input (lets features predict popularity). The id
//!   embedding is dropped at random during training (`id_dropout`) and always for items
//!   without training interactions, so the content path alone must carry an item.
//! - User tower: the user's id embedding (known users only, dropped like the item's),
//!   the weighted mean of embeddings of their most recent history items, and their
//!   content profile (the tokens of that history), through a linear map, L2-normalised.
//!   When training on a (user, item) pair the item is taken out of the user's history
//!   first, so the tower learns to predict an item, not to copy it.
//! - A "wide" term (Wide & Deep): exact matches of the user's content profile with the
//!   item's tokens, per field and as a whole (the content model's cosine), each times a
//!   learned weight (one set for items scored with their id, one for items without), for
//!   what the embeddings blur.
//! - Loss: sampled softmax over the batch's positives plus `negatives` items drawn
//!   uniformly (items without training interactions at `unseen_negatives` times their
//!   share), at temperature `temperature`, with
//!   the logQ correction for how often each candidate is drawn (Yi et al. 2019; mixed
//!   negatives, Yang et al. 2020). Candidates the row's user already has in training
//!   (accidental hits) are masked out.
//!
//! Serving precomputes every item's embedding and prior; a user's scores are one dot
//! product per item plus the wide term, and the top-k is the engine's usual selection.

use std::collections::HashMap;
use std::time::Instant;

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    glorot, indices, matrix, normal, rng, values, write_checkpoint, Backend, EarlyStop,
    EpochReport, Holdout, Progress,
};
use crate::data::{Dataset, ItemFeatures};
use crate::models::content::{band_edges, terms};
use crate::models::ContentConfig;
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::vector::{cosine_neighbours, dot, factor_contributions};

/// Two-tower settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwoTowerConfig {
    /// Embedding size (both towers, and every table).
    pub dims: usize,
    /// Softmax temperature over cosine similarities.
    pub temperature: f32,
    /// Negatives drawn per batch (see `unseen_negatives`), besides the batch's own positives.
    pub negatives: usize,
    /// Chance of dropping an id embedding during training.
    pub id_dropout: f32,
    /// How often items without training interactions are drawn as negatives, against
    /// their share of the catalogue (1: uniformly over all items; 0: never).
    pub unseen_negatives: f64,
    /// Most recent history items the user tower reads.
    pub max_history: usize,
    /// Content tokens kept per item (the weightiest).
    pub item_tokens: usize,
    /// Content tokens kept in a user's profile (the weightiest).
    pub profile_tokens: usize,
    /// Weight of a description word against a title word.
    pub description_weight: f32,
    /// Price bands (quantiles of the catalogue's prices).
    pub price_bands: usize,
    /// Most epochs.
    pub epochs: usize,
    /// Positive pairs per optimiser step.
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

impl Default for TwoTowerConfig {
    fn default() -> Self {
        Self {
            dims: 64,
            temperature: 0.1,
            negatives: 1024,
            id_dropout: 0.5,
            unseen_negatives: 0.2,
            max_history: 50,
            item_tokens: 48,
            profile_tokens: 64,
            description_weight: 0.3,
            price_bands: 5,
            epochs: 30,
            batch_size: 1024,
            learning_rate: 5e-3,
            validation: 0.1,
            patience: 4,
            validation_users: 1000,
            seed: 42,
            backend: Backend::Flex,
            checkpoint_dir: None,
        }
    }
}

/// Sparse weighted tokens, sorted by token.
type Bag = Vec<(u32, f32)>;

/// The items' content tokens: a vocabulary and per item its normalised bag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Vocabulary {
    tokens: Vec<String>,
    /// Per item, the bag the item tower reads: tokens shared with another item.
    items: Vec<Bag>,
    /// Per item, its full TF-IDF vector (every token; each field's part unit length):
    /// the wide term's side.
    wide: Vec<Bag>,
    /// Per item, the same TF-IDF vector at unit length as a whole: the content model's
    /// own vector (the wide term's last match, see [`MATCHES`]).
    whole: Vec<Bag>,
    /// Per token, its field (see [`FIELDS`]).
    fields: Vec<u8>,
}

/// The fields the wide term matches separately, each with its own learned weight: text
/// words (title and description), category levels and tags, brand, price band.
pub const FIELDS: [&str; 4] = ["text", "category", "brand", "price"];

/// The wide term's matches, each with its own learned weight: one per field (each
/// field's part of the profile and of the item at unit length), then the whole vectors'
/// cosine, which is the content model's score (up to its smoothed IDF). The per-field matches weigh fields
/// apart; the whole match keeps the content model's balance between them (a film with
/// many genres weighs each genre less), which ranks products nobody has touched best.
pub const MATCHES: [&str; 5] = ["text", "category", "brand", "price", "content"];

/// A content token's field, from its prefix (see `content::terms`).
fn field_of(token: &str) -> u8 {
    if token.starts_with("cat:") || token.starts_with("tag:") {
        1
    } else if token.starts_with("brand:") {
        2
    } else if token.starts_with("price:") {
        3
    } else {
        0
    }
}

/// A bag at unit length, as TF-IDF vectors are: a token-rich item does not drown its
/// tokens, a token-poor one does not shout.
fn unit(mut bag: Bag) -> Bag {
    let norm = bag.iter().map(|t| t.1 * t.1).sum::<f32>().sqrt();
    if norm > 0.0 {
        bag.iter_mut().for_each(|t| t.1 /= norm);
    }
    bag
}

/// Scales each field's part of a bag to unit length.
fn unit_per_field(bag: &mut [(u32, f32)], fields: &[u8]) {
    let mut norms = [0.0f32; FIELDS.len()];
    for &(t, w) in bag.iter() {
        norms[fields[t as usize] as usize] += w * w;
    }
    let norms = norms.map(f32::sqrt);
    for (t, w) in bag.iter_mut() {
        let n = norms[fields[*t as usize] as usize];
        if n > 0.0 {
            *w /= n;
        }
    }
}

/// An item's weighted terms: the content model's, with title words, category levels,
/// brand and price band at `1 / description_weight` times a description word.
fn item_terms(item: &ItemFeatures, config: &TwoTowerConfig, edges: &[i64]) -> HashMap<String, f32> {
    let heavy = 1.0 / config.description_weight.max(f32::EPSILON);
    let content = ContentConfig {
        title_weight: heavy,
        attribute_weight: heavy,
        price_bands: config.price_bands,
    };
    terms(item, &content, edges)
}

/// Weights scaled to sum to one (an empty or all-zero bag stays as it is).
fn normalise(bag: &mut [(u32, f32)]) {
    let total: f32 = bag.iter().map(|t| t.1).sum();
    if total > 0.0 {
        bag.iter_mut().for_each(|t| t.1 /= total);
    }
}

/// The `keep` weightiest entries (ties: lower token), sorted by token again.
fn keep_weightiest(mut bag: Bag, keep: usize) -> Bag {
    if bag.len() > keep {
        bag.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        bag.truncate(keep);
        bag.sort_unstable_by_key(|t| t.0);
    }
    bag
}

impl Vocabulary {
    /// Tokens used by at least two items (one item's own words are its id's job).
    fn build(features: &[ItemFeatures], n_items: usize, config: &TwoTowerConfig) -> Self {
        let edges = band_edges(features, config.price_bands);
        let per_item: Vec<HashMap<String, f32>> = (0..n_items)
            .map(|i| {
                features
                    .get(i)
                    .map_or_else(HashMap::new, |f| item_terms(f, config, &edges))
            })
            .collect();
        // The wide term's side weighs terms as the content model does (same terms, other
        // weights), so the exact match it adds is the content model's own score.
        let content = ContentConfig {
            price_bands: config.price_bands,
            ..ContentConfig::default()
        };
        let per_item_wide: Vec<HashMap<String, f32>> = (0..n_items)
            .map(|i| {
                features
                    .get(i)
                    .map_or_else(HashMap::new, |f| terms(f, &content, &edges))
            })
            .collect();
        let mut frequency: HashMap<&str, u32> = HashMap::new();
        for terms in &per_item {
            for term in terms.keys() {
                *frequency.entry(term.as_str()).or_default() += 1;
            }
        }
        let mut tokens: Vec<String> = frequency.keys().map(|t| t.to_string()).collect();
        tokens.sort_unstable();
        // Inverse document frequency: a word few products share says more than a
        // department every tenth product is in.
        let idf: Vec<f32> = tokens
            .iter()
            .map(|t| (n_items.max(1) as f32 / frequency[t.as_str()] as f32).ln() + 1.0)
            .collect();
        let index: HashMap<&str, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32))
            .collect();
        let fields: Vec<u8> = tokens.iter().map(|t| field_of(t)).collect();
        let mut items = Vec::with_capacity(n_items);
        let mut wide = Vec::with_capacity(n_items);
        let mut whole = Vec::with_capacity(n_items);
        let weighted = |terms: &HashMap<String, f32>| {
            let mut bag: Bag = terms
                .iter()
                .map(|(t, &w)| {
                    let i = index[t.as_str()];
                    (i, w * idf[i as usize])
                })
                .collect();
            bag.sort_unstable_by_key(|t| t.0);
            bag
        };
        for (terms, wide_terms) in per_item.iter().zip(&per_item_wide) {
            let bag = weighted(terms);
            // The towers learn from tokens at least two items share; one item's own
            // words are its id's job.
            let shared: Bag = bag
                .iter()
                .copied()
                .filter(|&(t, _)| frequency[tokens[t as usize].as_str()] >= 2)
                .collect();
            items.push(unit(keep_weightiest(shared, config.item_tokens)));
            let mut bag = weighted(wide_terms);
            whole.push(unit(bag.clone()));
            unit_per_field(&mut bag, &fields);
            wide.push(bag);
        }
        Self {
            tokens,
            items,
            wide,
            whole,
            fields,
        }
    }
}

/// A user as the user tower reads it.
#[derive(Debug, Clone, Default)]
struct UserInput {
    /// Known user's index, when the id embedding may be used.
    id: Option<u32>,
    /// Recent history items and weights (normalised).
    history: Bag,
    /// Content profile (normalised).
    profile: Bag,
    /// Σ weight × full TF-IDF vector over the whole history, each field's part unit
    /// length (the wide term's side).
    wide_profile: Bag,
    /// Σ weight × whole TF-IDF vector over the whole history, at unit length.
    whole_profile: Bag,
}

/// Builds the user tower's input from a history, most recent first, leaving `without`
/// out: the towers read the `max_history` most recent items, the wide term all of them.
fn user_input(
    vocabulary: &Vocabulary,
    config: &TwoTowerConfig,
    id: Option<u32>,
    history: &[(u32, f32)],
    without: Option<u32>,
) -> UserInput {
    let usable = |&&(i, w): &&(u32, f32)| {
        Some(i) != without && w > 0.0 && (i as usize) < vocabulary.items.len()
    };
    let mut wide: HashMap<u32, f32> = HashMap::new();
    let mut whole: HashMap<u32, f32> = HashMap::new();
    for &(item, weight) in history.iter().filter(usable) {
        for &(token, value) in &vocabulary.wide[item as usize] {
            *wide.entry(token).or_default() += weight * value;
        }
        for &(token, value) in &vocabulary.whole[item as usize] {
            *whole.entry(token).or_default() += weight * value;
        }
    }
    let mut wide_profile: Bag = wide.into_iter().collect();
    wide_profile.sort_unstable_by_key(|t| t.0);
    let mut whole_profile: Bag = whole.into_iter().collect();
    whole_profile.sort_unstable_by_key(|t| t.0);
    let whole_profile = unit(whole_profile);
    // Unit length per field, so each field's match is a cosine in [0, 1] for every user:
    // one learned weight must mix it with the towers' cosine for a user of 5 items and of
    // 500 alike.
    unit_per_field(&mut wide_profile, &vocabulary.fields);
    let mut items: Bag = history
        .iter()
        .filter(usable)
        .take(config.max_history)
        .copied()
        .collect();
    items.sort_unstable_by_key(|t| t.0);
    let mut profile: HashMap<u32, f32> = HashMap::new();
    for &(item, weight) in &items {
        for &(token, share) in &vocabulary.items[item as usize] {
            *profile.entry(token).or_default() += weight * share;
        }
    }
    let mut profile: Bag = profile.into_iter().collect();
    profile.sort_unstable_by_key(|t| t.0);
    let mut profile = keep_weightiest(profile, config.profile_tokens);
    normalise(&mut profile);
    normalise(&mut items);
    UserInput {
        id,
        history: items,
        profile,
        wide_profile,
        whole_profile,
    }
}

/// A user's items, latest first, with their weights.
fn recent_history(data: &Dataset, user: u32) -> Vec<(u32, f32)> {
    let mut events: Vec<(u32, f32, i64)> = data.user_events(user).collect();
    events.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    events.into_iter().map(|(i, w, _)| (i, w)).collect()
}

#[derive(Module, Debug)]
struct Net {
    tokens: Param<Tensor<2>>,
    item_ids: Param<Tensor<2>>,
    user_ids: Param<Tensor<2>>,
    history: Param<Tensor<2>>,
    item_map: Linear,
    user_map: Linear,
    /// A per-item prior from the same input as the item tower (how likely any user is to
    /// pick it), added to the scaled cosine: lets features predict popularity.
    item_bias: Linear,
    /// Weights `[2, matches]` of the exact token matches (see [`MATCHES`]) between the
    /// user's profile and the item (the "wide" part of Wide & Deep), for items scored
    /// without (row 0) and with (row 1) their id: remembers what the embeddings blur.
    wide: Param<Tensor<2>>,
}

/// Padded `[rows, width]` index and weight arrays of a list of bags.
fn padded(bags: &[&[(u32, f32)]]) -> (Vec<i32>, Vec<f32>, usize) {
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
fn bag_sum(table: &Param<Tensor<2>>, bags: &[&[(u32, f32)]], device: &Device) -> Tensor<2> {
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

fn l2_normalise(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .add_scalar(1e-6);
    x / norm
}

impl Net {
    fn init(
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
    fn items(
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
    fn users(&self, inputs: &[UserInput], id_weights: &[f32], device: &Device) -> Tensor<2> {
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

    fn weights(&self) -> Result<Weights, EngineError> {
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

/// The trained tables, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Weights {
    dims: usize,
    tokens: Vec<f32>,
    item_ids: Vec<f32>,
    user_ids: Vec<f32>,
    history: Vec<f32>,
    item_w: Vec<f32>,
    item_b: Vec<f32>,
    user_w: Vec<f32>,
    user_b: Vec<f32>,
    prior_w: Vec<f32>,
    prior_b: f32,
    /// Weights of the token matches, `[2, matches]` row-major (see [`MATCHES`]): for
    /// items served without (row 0) and with (row 1) their id.
    wide: Vec<f32>,
}

fn add_row(out: &mut [f32], table: &[f32], row: u32, weight: f32) {
    let d = out.len();
    if let Some(r) = table.get(row as usize * d..(row as usize + 1) * d) {
        for (o, v) in out.iter_mut().zip(r) {
            *o += weight * v;
        }
    }
}

fn map_normalise(x: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; b.len()];
    super::dense(x, w, b, &mut out);
    let norm = dot(&out, &out).sqrt() + 1e-6;
    out.iter_mut().for_each(|v| *v /= norm);
    out
}

impl Weights {
    /// An item's embedding and prior.
    fn item(&self, vocabulary: &Vocabulary, item: u32, id_weight: f32) -> (Vec<f32>, f32) {
        let mut x = vec![0.0f32; self.dims];
        for &(token, share) in &vocabulary.items[item as usize] {
            add_row(&mut x, &self.tokens, token, share);
        }
        add_row(&mut x, &self.item_ids, item, id_weight);
        let prior = dot(&x, &self.prior_w) + self.prior_b;
        (map_normalise(&x, &self.item_w, &self.item_b), prior)
    }

    fn user(&self, input: &UserInput) -> Vec<f32> {
        let mut y = vec![0.0f32; self.dims];
        if let Some(id) = input.id {
            add_row(&mut y, &self.user_ids, id, 1.0);
        }
        for &(item, w) in &input.history {
            add_row(&mut y, &self.history, item, w);
        }
        for &(token, w) in &input.profile {
            add_row(&mut y, &self.tokens, token, w);
        }
        map_normalise(&y, &self.user_w, &self.user_b)
    }

    /// Every item's serving embedding and prior: id embeddings only for items seen in
    /// training.
    fn item_matrix(&self, vocabulary: &Vocabulary, warm: &[bool]) -> (Vec<f32>, Vec<f32>) {
        let mut vectors = Vec::with_capacity(warm.len() * self.dims);
        let mut priors = Vec::with_capacity(warm.len());
        for (i, &warm) in warm.iter().enumerate() {
            let (v, p) = self.item(vocabulary, i as u32, if warm { 1.0 } else { 0.0 });
            vectors.extend_from_slice(&v);
            priors.push(p);
        }
        (vectors, priors)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    config: TwoTowerConfig,
    vocabulary: Vocabulary,
    weights: Weights,
    /// Items with training interactions (their id embeddings are used).
    warm: Vec<bool>,
    /// Users of the fitted data, for their id embeddings.
    n_users: usize,
    best_epoch: usize,
    validation_ndcg: Option<f64>,
}

/// The two-tower recommender.
#[derive(Debug, Clone)]
pub struct TwoTower {
    config: TwoTowerConfig,
    saved: Option<Saved>,
    /// Serving item embeddings, `[items, dims]`.
    item_vectors: Vec<f32>,
    /// Serving item priors (already on the logit scale).
    item_priors: Vec<f32>,
}

impl TwoTower {
    /// An unfitted model.
    pub fn new(config: TwoTowerConfig) -> Self {
        Self {
            config,
            saved: None,
            item_vectors: Vec::new(),
            item_priors: Vec::new(),
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        let saved: Saved = load("two-tower", bytes)?;
        let (item_vectors, item_priors) = saved.weights.item_matrix(&saved.vocabulary, &saved.warm);
        Ok(Self {
            config: saved.config.clone(),
            saved: Some(saved),
            item_vectors,
            item_priors,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TwoTowerConfig {
        &self.config
    }

    /// The epoch whose weights were kept and its validation NDCG@10.
    pub fn best_epoch(&self) -> Option<(usize, Option<f64>)> {
        self.saved
            .as_ref()
            .map(|s| (s.best_epoch, s.validation_ndcg))
    }

    /// The serving embedding of an item (length `dims`).
    pub fn item_vector(&self, item: u32) -> Option<&[f32]> {
        crate::vector::row(&self.item_vectors, self.config.dims, item)
    }

    /// Trains on `data`, reporting each epoch to `progress`.
    pub fn fit_with(&mut self, data: &Dataset, progress: Progress<'_>) -> Result<(), EngineError> {
        let config = self.config.clone();
        if config.dims == 0 || config.batch_size == 0 || config.temperature <= 0.0 {
            return Err(EngineError::Data(
                "the two-tower model needs dims and batch_size of at least 1 and a positive temperature"
                    .into(),
            ));
        }
        if !config.unseen_negatives.is_finite() || config.unseen_negatives < 0.0 {
            return Err(EngineError::Data(format!(
                "two-tower unseen_negatives must be a finite number, 0 or more, not {}",
                config.unseen_negatives
            )));
        }
        let (n_users, n_items) = (data.n_users(), data.n_items());
        if n_users == 0 || n_items < 2 || data.matrix.nnz() == 0 {
            return Err(EngineError::Data(
                "the two-tower model needs interactions with at least two items".into(),
            ));
        }
        let device = config.backend.training_device()?;
        let vocabulary = Vocabulary::build(&data.features, n_items, &config);
        let holdout = Holdout::new(
            data,
            config.validation,
            config.validation_users,
            config.seed,
        );
        let train = &holdout.train;
        let histories: Vec<Vec<(u32, f32)>> = (0..n_users as u32)
            .map(|u| recent_history(train, u))
            .collect();
        let positives: Vec<(u32, u32)> = (0..n_users as u32)
            .flat_map(|u| train.user_items(u).0.iter().map(move |&i| (u, i as u32)))
            .collect();
        let popularity = train.item_popularity();
        // With ids always dropped the model is content-only: no item is "warm".
        let ids = config.id_dropout < 1.0;
        let warm: Vec<bool> = popularity.iter().map(|&c| ids && c > 0).collect();
        // Items nobody interacted with in training are drawn as negatives less often than
        // the rest (`unseen_negatives` times their share). Such an item is only ever a
        // negative, and only by its features: at its full share it teaches the model that
        // the features of new products are bad, which is what cold start must undo (on
        // ML-100k's cold-start protocol, NDCG@20 0.2607 at 1, 0.2662 at 0.2). Never drawn,
        // products nobody wants are never learned as such, and fill mixed lists
        // (validation NDCG@10 0.17 at 0, against 0.27 at 1).
        let (unseen, drawable): (Vec<u32>, Vec<u32>) =
            (0..n_items as u32).partition(|&i| popularity[i as usize] == 0);
        let unseen_share =
            (config.unseen_negatives * unseen.len() as f64 / n_items as f64).clamp(0.0, 1.0);
        // How likely each item is to be a candidate: as a batch positive, or drawn uniformly.
        let total = positives.len().max(1) as f64;
        let batch = config.batch_size.min(positives.len()) as f64;
        let log_q: Vec<f32> = popularity
            .iter()
            .map(|&c| {
                let drawn = if c > 0 {
                    (1.0 - unseen_share) * config.negatives as f64 / drawable.len().max(1) as f64
                } else {
                    unseen_share * config.negatives as f64 / unseen.len().max(1) as f64
                };
                let q = batch * c as f64 / total + drawn;
                q.max(1e-12).ln() as f32
            })
            .collect();
        let mut net = Net::init(
            config.dims,
            vocabulary.tokens.len(),
            n_items,
            n_users,
            config.seed,
            &device,
        );
        let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
        let mut stop = EarlyStop::new(config.patience);
        let mut best: Option<(Weights, Option<f64>)> = None;
        let inv_t = 1.0 / config.temperature;
        for epoch in 1..=config.epochs.max(1) {
            let started = Instant::now();
            let mut sampler = rng(config.seed, 200 + epoch as u64);
            let mut order = positives.clone();
            order.shuffle(&mut sampler);
            let mut loss_sum = 0.0f64;
            for chunk in order.chunks(config.batch_size) {
                let b = chunk.len();
                let users: Vec<UserInput> = chunk
                    .par_iter()
                    .map(|&(u, i)| {
                        user_input(
                            &vocabulary,
                            &config,
                            Some(u),
                            &histories[u as usize],
                            Some(i),
                        )
                    })
                    .collect();
                let user_keep: Vec<f32> = (0..b)
                    .map(|_| {
                        if sampler.gen::<f32>() < config.id_dropout {
                            0.0
                        } else {
                            1.0
                        }
                    })
                    .collect();
                let mut candidates: Vec<(u32, f32)> = chunk
                    .iter()
                    .map(|&(_, i)| {
                        let keep = sampler.gen::<f32>() >= config.id_dropout;
                        (i, if keep { 1.0 } else { 0.0 })
                    })
                    .collect();
                for _ in 0..config.negatives {
                    let item = if !unseen.is_empty() && sampler.gen::<f64>() < unseen_share {
                        unseen[sampler.gen_range(0..unseen.len())]
                    } else {
                        drawable[sampler.gen_range(0..drawable.len())]
                    };
                    let keep = warm[item as usize] && sampler.gen::<f32>() >= config.id_dropout;
                    candidates.push((item, if keep { 1.0 } else { 0.0 }));
                }
                let c = candidates.len();
                // Accidental hits are masked: a candidate in the row user's own training
                // items (the positive among them, outside its own column) is no negative.
                // Left in, they teach the model that matching a user's taste is bad.
                let mut mask = vec![false; b * c];
                let mut target = vec![0.0f32; b * c];
                {
                    mask.par_chunks_mut(c)
                        .zip(chunk.par_iter())
                        .enumerate()
                        .for_each(|(row, (flags, &(user, _)))| {
                            let seen = train.user_items(user).0;
                            for (col, (flag, &(other, _))) in
                                flags.iter_mut().zip(&candidates).enumerate()
                            {
                                *flag = col != row && seen.binary_search(&(other as usize)).is_ok();
                            }
                        });
                }
                for row in 0..b {
                    target[row * c + row] = 1.0;
                }
                let correction: Vec<f32> =
                    candidates.iter().map(|&(i, _)| log_q[i as usize]).collect();
                let u = net.users(&users, &user_keep, &device);
                let (v, prior) = net.items(&vocabulary, &candidates, &device);
                let matches = token_matches(&vocabulary, &users, &candidates);
                // The match weight depends on whether the candidate's id is in play: an item
                // known only by its features leans on its words more.
                let f = MATCHES.len();
                let with_id: Vec<f32> = candidates.iter().map(|&(_, w)| w).collect();
                let with_id = matrix(with_id, c, 1, &device);
                let alpha = net.wide.val();
                let per_candidate: Tensor<2> = with_id.clone() * alpha.clone().slice([1..2, 0..f])
                    + (with_id.neg().add_scalar(1.0)) * alpha.slice([0..1, 0..f]);
                let matches: Tensor<3> =
                    Tensor::from_data(TensorData::new(matches, [b, c, f]), &device);
                let wide = (matches * per_candidate.reshape([1, c, f]))
                    .sum_dim(2)
                    .reshape([b, c]);
                let logits = (u.matmul(v.transpose()) + wide).mul_scalar(inv_t)
                    + prior.reshape([1, c])
                    - matrix(correction, 1, c, &device);
                let mask: Tensor<2, Bool> =
                    Tensor::from_data(TensorData::new(mask, [b, c]), &device);
                let logits = logits.mask_fill(mask, -1e9);
                let target = matrix(target, b, c, &device);
                let loss = (log_softmax(logits, 1) * target)
                    .sum()
                    .neg()
                    .div_scalar(b as f32);
                loss_sum += loss.clone().into_scalar::<f32>() as f64 * b as f64;
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                net = optim.step(config.learning_rate, net, grads);
            }
            let weights = net.weights()?;
            let (item_vectors, item_priors) = weights.item_matrix(&vocabulary, &warm);
            let ndcg = holdout.ndcg(|user, scores| {
                let id = ids.then_some(user);
                let input = user_input(&vocabulary, &config, id, &histories[user as usize], None);
                let u = weights.user(&input);
                score_all(&u, &item_vectors, &item_priors, inv_t, scores);
                add_matches(&vocabulary, &input, &weights.wide, inv_t, &warm, scores);
            });
            let improved = stop.record(epoch, ndcg);
            let mut checkpoint = None;
            if improved {
                best = Some((weights, ndcg));
                if let Some(dir) = &config.checkpoint_dir {
                    let (w, v) = best.clone().expect("just set");
                    let saved = Saved {
                        config: config.clone(),
                        vocabulary: vocabulary.clone(),
                        weights: w,
                        warm: warm.clone(),
                        n_users,
                        best_epoch: epoch,
                        validation_ndcg: v,
                    };
                    checkpoint = Some(write_checkpoint(
                        dir,
                        "two-tower",
                        epoch,
                        &save("two-tower", &saved)?,
                    )?);
                }
            }
            progress(&EpochReport {
                model: "two-tower",
                epoch,
                epochs: config.epochs,
                loss: loss_sum / positives.len().max(1) as f64,
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
        // Items without training interactions (new, held out, or seen only in the
        // validation split) have an untrained id embedding: they are served by features.
        (self.item_vectors, self.item_priors) = weights.item_matrix(&vocabulary, &warm);
        self.saved = Some(Saved {
            config,
            vocabulary,
            weights,
            warm,
            n_users,
            best_epoch: stop.best_epoch,
            validation_ndcg: ndcg,
        });
        Ok(())
    }

    fn scores_for(&self, input: &UserInput, scores: &mut [f32]) {
        let Some(saved) = &self.saved else { return };
        let u = saved.weights.user(input);
        let inv_t = 1.0 / saved.config.temperature;
        score_all(&u, &self.item_vectors, &self.item_priors, inv_t, scores);
        add_matches(
            &saved.vocabulary,
            input,
            &saved.weights.wide,
            inv_t,
            &saved.warm,
            scores,
        );
    }
}

/// `[users, candidates, matches]` dot products of each user's content profile with each
/// candidate's content bag, per field and whole (see [`MATCHES`]; row-major).
fn token_matches(
    vocabulary: &Vocabulary,
    users: &[UserInput],
    candidates: &[(u32, f32)],
) -> Vec<f32> {
    let m = MATCHES.len();
    let c = candidates.len();
    let mut out = vec![0.0f32; users.len() * c * m];
    out.par_chunks_mut((c * m).max(1))
        .zip(users.par_iter())
        .for_each_init(
            || Profile::new(vocabulary),
            |profile, (row, user)| {
                profile.load(user);
                for (slot, &(item, _)) in row.chunks_exact_mut(m).zip(candidates) {
                    profile.matches(vocabulary, item, slot);
                }
                profile.clear(user);
            },
        );
    out
}

/// A user's wide-term profiles as dense vectors over the vocabulary.
struct Profile {
    per_field: Vec<f32>,
    whole: Vec<f32>,
}

impl Profile {
    fn new(vocabulary: &Vocabulary) -> Self {
        Self {
            per_field: vec![0.0; vocabulary.tokens.len()],
            whole: vec![0.0; vocabulary.tokens.len()],
        }
    }

    fn load(&mut self, user: &UserInput) {
        for &(t, w) in &user.wide_profile {
            self.per_field[t as usize] = w;
        }
        for &(t, w) in &user.whole_profile {
            self.whole[t as usize] = w;
        }
    }

    /// Back to zeros (cheaper than refilling: only the user's tokens are touched).
    fn clear(&mut self, user: &UserInput) {
        for &(t, _) in &user.wide_profile {
            self.per_field[t as usize] = 0.0;
        }
        for &(t, _) in &user.whole_profile {
            self.whole[t as usize] = 0.0;
        }
    }

    /// Adds `item`'s matches to `slot` (length [`MATCHES`]).
    fn matches(&self, vocabulary: &Vocabulary, item: u32, slot: &mut [f32]) {
        for &(t, w) in &vocabulary.wide[item as usize] {
            slot[vocabulary.fields[t as usize] as usize] += self.per_field[t as usize] * w;
        }
        slot[FIELDS.len()] += vocabulary.whole[item as usize]
            .iter()
            .map(|&(t, w)| self.whole[t as usize] * w)
            .sum::<f32>();
    }
}

/// Adds the weighted matches of the user's profiles with every item to its score:
/// `weights` is `[2, matches]` (items without, with their id), times `scale`.
fn add_matches(
    vocabulary: &Vocabulary,
    user: &UserInput,
    weights: &[f32],
    scale: f32,
    warm: &[bool],
    scores: &mut [f32],
) {
    let m = MATCHES.len();
    if (user.wide_profile.is_empty() && user.whole_profile.is_empty()) || weights.len() != 2 * m {
        return;
    }
    let mut profile = Profile::new(vocabulary);
    profile.load(user);
    let mut slot = [0.0f32; MATCHES.len()];
    for (item, (score, &warm)) in scores.iter_mut().zip(warm).enumerate() {
        slot.fill(0.0);
        profile.matches(vocabulary, item as u32, &mut slot);
        let row = &weights[usize::from(warm) * m..(usize::from(warm) + 1) * m];
        *score += scale * slot.iter().zip(row).map(|(s, w)| s * w).sum::<f32>();
    }
}

/// Scaled cosine plus prior for every item: the logits the softmax was trained on.
fn score_all(user: &[f32], vectors: &[f32], priors: &[f32], inv_t: f32, scores: &mut [f32]) {
    for ((score, item), prior) in scores
        .iter_mut()
        .zip(vectors.chunks_exact(user.len()))
        .zip(priors)
    {
        *score = dot(user, item) * inv_t + prior;
    }
}

impl Recommender for TwoTower {
    fn name(&self) -> &'static str {
        "two-tower"
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
        let Some(saved) = &self.saved else { return };
        // A history is oldest first; the towers read the most recent items first.
        let recent: Vec<(u32, f32)> = history.iter().rev().copied().collect();
        let input = user_input(&saved.vocabulary, &saved.config, None, &recent, None);
        self.scores_for(&input, scores);
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        let Some(saved) = &self.saved else { return };
        let history = recent_history(data, user);
        let id = ((user as usize) < saved.n_users && saved.config.id_dropout < 1.0).then_some(user);
        let input = user_input(&saved.vocabulary, &saved.config, id, &history, None);
        self.scores_for(&input, scores);
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        cosine_neighbours(&self.item_vectors, self.config.dims, item, k)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        Explanation::from_contributions(
            factor_contributions(&self.item_vectors, self.config.dims, history, item),
            None,
        )
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let saved = self
            .saved
            .as_ref()
            .ok_or(EngineError::NotFitted("two-tower"))?;
        save("two-tower", saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two product families told apart by their titles and categories; users stick to
    /// one family. Items 18, 19 (family A) and 38, 39 (family B) are never interacted with.
    fn planted() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..60u32 {
            let base = if u < 30 { 0 } else { 20 };
            for k in 0..10u32 {
                triples.push((u, base + (u * 7 + k * 3) % 18, 1.0));
            }
        }
        // from_dense keeps every item in the id map, touched or not.
        let mut data = Dataset::from_dense(60, 40, &triples);
        data.features = (0..40)
            .map(|i| {
                let (family, category) = if i < 20 {
                    ("espresso grinder", "Kitchen")
                } else {
                    ("trail running shoe", "Sports")
                };
                ItemFeatures {
                    title: format!("{family} model {i}"),
                    description: String::new(),
                    categories: vec![category.to_string()],
                    brand: None,
                    price_minor: Some(1000 + i as i64),
                    tags: Vec::new(),
                }
            })
            .collect();
        data
    }

    fn small() -> TwoTowerConfig {
        TwoTowerConfig {
            dims: 16,
            negatives: 32,
            epochs: 15,
            batch_size: 128,
            learning_rate: 0.02,
            validation: 0.0,
            ..TwoTowerConfig::default()
        }
    }

    #[test]
    fn learns_and_ranks_untouched_items_by_their_features() {
        let data = planted();
        let mut losses = Vec::new();
        let mut model = TwoTower::new(small());
        model.fit_with(&data, &mut |r| losses.push(r.loss)).unwrap();
        assert!(losses.last().unwrap() < &(0.8 * losses[0]), "{losses:?}");
        assert_eq!(model.item_vector(0).unwrap().len(), 16, "[items, dims]");
        // A family-A user ranks the untouched family-A items above the untouched B ones.
        let mut scores = vec![0.0; 40];
        model.score_user(&data, 0, &mut scores);
        assert!(
            scores[18].min(scores[19]) > scores[38].max(scores[39]),
            "{scores:?}"
        );
        // And an anonymous family-B history does the opposite.
        model.score_history(&[(21, 1.0), (25, 1.0)], &mut scores);
        assert!(
            scores[38].min(scores[39]) > scores[18].max(scores[19]),
            "{scores:?}"
        );
    }

    #[test]
    fn same_seed_same_weights_and_bytes_round_trip() {
        let data = planted();
        let mut config = small();
        config.epochs = 2;
        let mut a = TwoTower::new(config.clone());
        let mut b = TwoTower::new(config.clone());
        a.fit(&data).unwrap();
        b.fit(&data).unwrap();
        assert_eq!(a.saved, b.saved, "same seed, same weights");
        config.seed = 9;
        let mut c = TwoTower::new(config);
        c.fit(&data).unwrap();
        assert_ne!(a.saved, c.saved);
        let back = TwoTower::from_bytes(&a.to_bytes().unwrap()).unwrap();
        let (mut x, mut y) = (vec![0.0; 40], vec![0.0; 40]);
        a.score_user(&data, 3, &mut x);
        back.score_user(&data, 3, &mut y);
        assert_eq!(x, y);
        assert_eq!(a.similar_items(4, 5), back.similar_items(4, 5));
    }

    #[test]
    fn rust_serving_matches_the_burn_towers() {
        let data = planted();
        let config = small();
        let device = Device::flex();
        let vocabulary = Vocabulary::build(&data.features, 40, &config);
        assert!(vocabulary.tokens.iter().any(|t| t == "cat:kitchen"));
        let net = Net::init(16, vocabulary.tokens.len(), 40, 60, 5, &device);
        let weights = net.weights().unwrap();
        let items = [(3u32, 1.0f32), (25, 0.0)];
        let (vectors, priors) = net.items(&vocabulary, &items, &device);
        let (burn, priors) = (values(vectors).unwrap(), values(priors).unwrap());
        for (row, &(item, w)) in items.iter().enumerate() {
            let (rust, prior) = weights.item(&vocabulary, item, w);
            for (a, b) in rust.iter().zip(&burn[row * 16..(row + 1) * 16]) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
            assert!((prior - priors[row]).abs() < 1e-5);
        }
        let input = user_input(
            &vocabulary,
            &config,
            Some(2),
            &[(1, 1.0), (4, 2.0)],
            Some(4),
        );
        assert_eq!(input.history, vec![(1, 1.0)], "the target is left out");
        let burn = values(net.users(std::slice::from_ref(&input), &[1.0], &device)).unwrap();
        for (a, b) in weights.user(&input).iter().zip(&burn) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // The wide term as trained (`token_matches`) and as served (`add_matches`) agree;
        // its whole match is a cosine: 1 for the one item of the history.
        let candidates: Vec<(u32, f32)> = (0..40).map(|i| (i, 0.0)).collect();
        let matches = token_matches(&vocabulary, std::slice::from_ref(&input), &candidates);
        let m = MATCHES.len();
        assert!((matches[m + FIELDS.len()] - 1.0).abs() < 1e-5);
        let wide: Vec<f32> = (0..2 * m).map(|i| 0.5 + i as f32 / 10.0).collect();
        let mut served = vec![0.0f32; 40];
        add_matches(&vocabulary, &input, &wide, 1.0, &[false; 40], &mut served);
        for (item, served) in served.iter().enumerate() {
            let trained: f32 = (0..m).map(|j| matches[item * m + j] * wide[j]).sum();
            assert!(
                (trained - served).abs() < 1e-5,
                "{item}: {trained} vs {served}"
            );
        }
    }
}
