//! Content-based recommendations: TF-IDF vectors of each product's title, description,
//! brand, category path, tags and price band; a shopper's profile is the weighted sum of their
//! history's vectors, and items are scored by their dot product with it. Needs no
//! interactions at all for an item, so new products are recommendable at once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sprs::{CsMat, TriMat};

use crate::data::{row_slices, Dataset, ItemFeatures};
use crate::recommender::{load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

/// Content model settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentConfig {
    /// Weight of a title word against a description word.
    pub title_weight: f32,
    /// Weight of each category level, tag, brand and price band token.
    pub attribute_weight: f32,
    /// Price bands (quantiles over the catalogue's prices).
    pub price_bands: usize,
}

impl Default for ContentConfig {
    fn default() -> Self {
        Self {
            title_weight: 2.0,
            attribute_weight: 1.0,
            price_bands: 5,
        }
    }
}

/// The fitted model: the vocabulary, and item x term TF-IDF rows (L2-normalised).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    config: ContentConfig,
    vocabulary: Vec<String>,
    vectors: Option<CsMat<f32>>,
}

const STOP_WORDS: [&str; 20] = [
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "is", "it", "of", "on", "or",
    "the", "to", "with", "this", "that",
];

/// Lower-cased alphanumeric words of two or more characters, stop words left out.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

/// Price band boundaries: `bands - 1` quantiles of the known prices.
pub(crate) fn band_edges(features: &[ItemFeatures], bands: usize) -> Vec<i64> {
    let mut prices: Vec<i64> = features.iter().filter_map(|f| f.price_minor).collect();
    prices.sort_unstable();
    if prices.is_empty() || bands < 2 {
        return Vec::new();
    }
    (1..bands)
        .map(|b| prices[(prices.len() * b / bands).min(prices.len() - 1)])
        .collect()
}

/// The weighted terms of one item.
pub(crate) fn terms(
    item: &ItemFeatures,
    config: &ContentConfig,
    edges: &[i64],
) -> HashMap<String, f32> {
    let mut tf: HashMap<String, f32> = HashMap::new();
    for word in words(&item.title) {
        *tf.entry(word).or_default() += config.title_weight;
    }
    for word in words(&item.description) {
        *tf.entry(word).or_default() += 1.0;
    }
    // Each level of the path is a term of its own: "cat:electronics", "cat:electronics>cameras".
    let mut path = String::new();
    for level in &item.categories {
        if !path.is_empty() {
            path.push('>');
        }
        path.push_str(&level.trim().to_lowercase());
        *tf.entry(format!("cat:{path}")).or_default() += config.attribute_weight;
    }
    for key in item.tag_keys() {
        *tf.entry(key).or_default() += config.attribute_weight;
    }
    if let Some(brand) = &item.brand {
        *tf.entry(format!("brand:{}", brand.trim().to_lowercase()))
            .or_default() += config.attribute_weight;
    }
    if let Some(price) = item.price_minor {
        let band = edges.iter().filter(|&&edge| price >= edge).count();
        *tf.entry(format!("price:{band}")).or_default() += config.attribute_weight;
    }
    tf
}

impl Content {
    /// An unfitted model.
    pub fn new(config: ContentConfig) -> Self {
        Self {
            config,
            vocabulary: Vec::new(),
            vectors: None,
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("content", bytes)
    }

    /// The profile of a history: Σ weight × item vector, as a dense term vector.
    fn profile(&self, history: &[(u32, f32)]) -> Vec<f32> {
        let mut profile = vec![0.0f32; self.vocabulary.len()];
        if let Some(vectors) = &self.vectors {
            for &(item, weight) in history {
                let (terms, values) = row_slices(vectors, item as usize);
                for (&t, &v) in terms.iter().zip(values) {
                    profile[t] += weight * v;
                }
            }
        }
        profile
    }

    fn item_dot(&self, item: usize, profile: &[f32]) -> f32 {
        match &self.vectors {
            Some(vectors) => {
                let (terms, values) = row_slices(vectors, item);
                terms
                    .iter()
                    .zip(values)
                    .map(|(&t, &v)| v * profile[t])
                    .sum()
            }
            None => 0.0,
        }
    }

    /// The terms two items share, most weighty first (for explanations).
    pub fn shared_terms(&self, a: u32, b: u32) -> Vec<&str> {
        let Some(vectors) = &self.vectors else {
            return Vec::new();
        };
        let (ta, va) = row_slices(vectors, a as usize);
        let (tb, _) = row_slices(vectors, b as usize);
        let mut shared: Vec<(usize, f32)> = ta
            .iter()
            .zip(va)
            .filter(|(t, _)| tb.binary_search(t).is_ok())
            .map(|(&t, &v)| (t, v))
            .collect();
        shared.sort_unstable_by(|x, y| y.1.total_cmp(&x.1));
        shared
            .into_iter()
            .map(|(t, _)| self.vocabulary[t].as_str())
            .collect()
    }
}

impl Recommender for Content {
    fn name(&self) -> &'static str {
        "content"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        if data.features.len() != data.n_items() {
            return Err(EngineError::Data(format!(
                "the content model needs features for every item: {} items, {} with features",
                data.n_items(),
                data.features.len()
            )));
        }
        let edges = band_edges(&data.features, self.config.price_bands);
        let per_item: Vec<HashMap<String, f32>> = data
            .features
            .iter()
            .map(|f| terms(f, &self.config, &edges))
            .collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut vocabulary = Vec::new();
        let mut document_frequency: Vec<u32> = Vec::new();
        // Terms in a stable order (sorted per item) so the same data gives the same model.
        let mut sorted_items: Vec<Vec<(String, f32)>> = Vec::with_capacity(per_item.len());
        for tf in per_item {
            let mut list: Vec<(String, f32)> = tf.into_iter().collect();
            list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (term, _) in &list {
                let id = *index.entry(term.clone()).or_insert_with(|| {
                    vocabulary.push(term.clone());
                    document_frequency.push(0);
                    vocabulary.len() - 1
                });
                document_frequency[id] += 1;
            }
            sorted_items.push(list);
        }
        let n = sorted_items.len() as f32;
        let idf: Vec<f32> = document_frequency
            .iter()
            .map(|&df| ((1.0 + n) / (1.0 + df as f32)).ln() + 1.0)
            .collect();
        let mut tri = TriMat::new((sorted_items.len(), vocabulary.len()));
        for (item, list) in sorted_items.iter().enumerate() {
            let weighted: Vec<(usize, f32)> = list
                .iter()
                .map(|(t, tf)| (index[t], tf * idf[index[t]]))
                .collect();
            let norm = weighted
                .iter()
                .map(|(_, v)| v * v)
                .sum::<f32>()
                .sqrt()
                .max(f32::EPSILON);
            for (term, value) in weighted {
                tri.add_triplet(item, term, value / norm);
            }
        }
        self.vocabulary = vocabulary;
        self.vectors = Some(tri.to_csr());
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let profile = self.profile(history);
        for (item, score) in scores.iter_mut().enumerate() {
            *score = self.item_dot(item, &profile);
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let n_items = self.vectors.as_ref().map_or(0, |v| v.rows());
        let mut scores = vec![0.0f32; n_items];
        self.score_history(&[(item, 1.0)], &mut scores);
        top_k(&scores, k, |j| j == item)
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let target = self.profile(&[(item, 1.0)]);
        let contributions = history
            .iter()
            .map(|&(h, w)| (h, w * self.item_dot(h as usize, &target)));
        let mut explanation = Explanation::from_contributions(contributions, None);
        explanation.note = explanation.because_of.first().map(|&(h, _)| {
            let shared: Vec<&str> = self.shared_terms(h, item).into_iter().take(3).collect();
            format!("shares {}", shared.join(", "))
        });
        explanation
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.vectors.is_none() {
            return Err(EngineError::NotFitted("content"));
        }
        save("content", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(title: &str, categories: &[&str], brand: &str, price: i64) -> ItemFeatures {
        ItemFeatures {
            title: title.into(),
            description: String::new(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            brand: Some(brand.into()),
            price_minor: Some(price),
            tags: Vec::new(),
        }
    }

    fn catalogue() -> Dataset {
        let mut data = Dataset::from_dense(1, 4, &[(0, 0, 1.0)]);
        data.features = vec![
            product(
                "Nikon D3500 DSLR camera",
                &["Electronics", "Cameras"],
                "Nikon",
                45_000,
            ),
            product(
                "Nikon D5600 DSLR camera body",
                &["Electronics", "Cameras"],
                "Nikon",
                60_000,
            ),
            product(
                "SanDisk 64GB memory card",
                &["Electronics", "Storage"],
                "SanDisk",
                1_500,
            ),
            product(
                "Cotton summer dress",
                &["Clothing", "Dresses"],
                "Acme",
                3_000,
            ),
        ];
        data
    }

    #[test]
    fn similar_text_and_attributes_rank_first_even_without_interactions() {
        let data = catalogue();
        let mut model = Content::new(ContentConfig::default());
        model.fit(&data).unwrap();
        // Item 1 has no interactions at all, and is still the closest to item 0.
        assert_eq!(
            model
                .similar_items(0, 3)
                .iter()
                .map(|r| r.0)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        let why = model.explain(&[(0, 1.0)], 1);
        assert_eq!(why.because_of[0].0, 0);
        let note = why.note.unwrap();
        assert!(note.contains("nikon") || note.contains("dslr"), "{note}");
        assert_eq!(
            Content::from_bytes(&model.to_bytes().unwrap()).unwrap(),
            model
        );
    }

    #[test]
    fn tags_stand_alone_unlike_the_levels_of_a_path() {
        // Films: genres are tags. "Adventure" after "Action" is the same genre as
        // "Adventure" alone; as path levels they would share nothing.
        let film = |title: &str, genres: &[&str]| ItemFeatures {
            title: title.into(),
            tags: genres.iter().map(|g| g.to_string()).collect(),
            ..ItemFeatures::default()
        };
        let mut data = Dataset::from_dense(1, 3, &[(0, 0, 1.0)]);
        data.features = vec![
            film("Raiders", &["Action", "Adventure"]),
            film("Jungle", &["Adventure"]),
            film("Wedding", &["Comedy"]),
        ];
        let mut model = Content::new(ContentConfig::default());
        model.fit(&data).unwrap();
        let mut scores = vec![0.0; 3];
        model.score_history(&[(0, 1.0)], &mut scores);
        assert!(scores[1] > 0.0, "{scores:?}");
        assert_eq!(scores[2], 0.0, "{scores:?}");
        assert_eq!(model.shared_terms(0, 1), vec!["tag:adventure"]);
    }

    #[test]
    fn needs_features() {
        let data = Dataset::from_dense(1, 2, &[(0, 0, 1.0)]);
        let err = Content::new(ContentConfig::default())
            .fit(&data)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs features"), "{err}");
    }
}
