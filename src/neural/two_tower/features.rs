//! What the towers read: the token vocabulary of the products (TF-IDF-weighted words,
//! category levels, brand, price band, per field) and each user's input (id, recent
//! items, the tokens of their history).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::data::{Dataset, ItemFeatures};
use crate::models::content::{band_edges, terms};
use crate::models::ContentConfig;

/// Sparse weighted tokens, sorted by token.
pub(super) type Bag = Vec<(u32, f32)>;

/// The items' content tokens: a vocabulary and per item its normalised bag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Vocabulary {
    pub(super) tokens: Vec<String>,
    /// Per item, the bag the item tower reads: tokens shared with another item.
    pub(super) items: Vec<Bag>,
    /// Per item, its full TF-IDF vector (every token; each field's part unit length):
    /// the wide term's side.
    pub(super) wide: Vec<Bag>,
    /// Per item, the same TF-IDF vector at unit length as a whole: the content model's
    /// own vector (the wide term's last match, see [`MATCHES`]).
    pub(super) whole: Vec<Bag>,
    /// Per token, its field (see [`FIELDS`]).
    pub(super) fields: Vec<u8>,
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
pub(super) fn field_of(token: &str) -> u8 {
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
pub(super) fn unit(mut bag: Bag) -> Bag {
    let norm = bag.iter().map(|t| t.1 * t.1).sum::<f32>().sqrt();
    if norm > 0.0 {
        bag.iter_mut().for_each(|t| t.1 /= norm);
    }
    bag
}

/// Scales each field's part of a bag to unit length.
pub(super) fn unit_per_field(bag: &mut [(u32, f32)], fields: &[u8]) {
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
pub(super) fn item_terms(
    item: &ItemFeatures,
    config: &TwoTowerConfig,
    edges: &[i64],
) -> HashMap<String, f32> {
    let heavy = 1.0 / config.description_weight.max(f32::EPSILON);
    let content = ContentConfig {
        title_weight: heavy,
        attribute_weight: heavy,
        price_bands: config.price_bands,
    };
    terms(item, &content, edges)
}

/// Weights scaled to sum to one (an empty or all-zero bag stays as it is).
pub(super) fn normalise(bag: &mut [(u32, f32)]) {
    let total: f32 = bag.iter().map(|t| t.1).sum();
    if total > 0.0 {
        bag.iter_mut().for_each(|t| t.1 /= total);
    }
}

/// The `keep` weightiest entries (ties: lower token), sorted by token again.
pub(super) fn keep_weightiest(mut bag: Bag, keep: usize) -> Bag {
    if bag.len() > keep {
        bag.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        bag.truncate(keep);
        bag.sort_unstable_by_key(|t| t.0);
    }
    bag
}

impl Vocabulary {
    /// Tokens used by at least two items (one item's own words are its id's job).
    pub(super) fn build(
        features: &[ItemFeatures],
        n_items: usize,
        config: &TwoTowerConfig,
    ) -> Self {
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
pub(super) struct UserInput {
    /// Known user's index, when the id embedding may be used.
    pub(super) id: Option<u32>,
    /// Recent history items and weights (normalised).
    pub(super) history: Bag,
    /// Content profile (normalised).
    pub(super) profile: Bag,
    /// Σ weight × full TF-IDF vector over the whole history, each field's part unit
    /// length (the wide term's side).
    pub(super) wide_profile: Bag,
    /// Σ weight × whole TF-IDF vector over the whole history, at unit length.
    pub(super) whole_profile: Bag,
}

/// Builds the user tower's input from a history, most recent first, leaving `without`
/// out: the towers read the `max_history` most recent items, the wide term all of them.
pub(super) fn user_input(
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
pub(super) fn recent_history(data: &Dataset, user: u32) -> Vec<(u32, f32)> {
    let mut events: Vec<(u32, f32, i64)> = data.user_events(user).collect();
    events.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    events.into_iter().map(|(i, w, _)| (i, w)).collect()
}
