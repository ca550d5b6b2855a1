//! Item-based k-nearest neighbours: cosine similarity between the items' user vectors,
//! with shrinkage, each item keeping its `neighbours` most similar items. A shopper's
//! score for an item sums the similarities from the items in their history.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sprs::CsMat;

use crate::data::{row_slices, Dataset};
use crate::recommender::{load, save, EngineError, Explanation, Recommender};

/// Item-kNN settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ItemKnnConfig {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Added to the cosine denominator: damps similarities resting on few shared users.
    pub shrinkage: f32,
    /// Weight the item x user matrix by BM25 (Okapi) and use plain dot products of the
    /// weighted rows instead of cosine: damps very active users and very popular items.
    pub bm25: bool,
    /// BM25 saturation of one user's weight on an item.
    pub bm25_k1: f32,
    /// BM25 length normalisation of an item's user count (0 = none, 1 = full).
    pub bm25_b: f32,
}

impl Default for ItemKnnConfig {
    fn default() -> Self {
        Self {
            neighbours: 100,
            shrinkage: 10.0,
            bm25: false,
            // The textbook Okapi values.
            bm25_k1: 1.2,
            bm25_b: 0.75,
        }
    }
}

/// The fitted model: a sparse item x item similarity matrix (CSR, row = item, entries =
/// its kept neighbours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemKnn {
    config: ItemKnnConfig,
    similarity: Option<CsMat<f32>>,
}

impl ItemKnn {
    /// An unfitted model.
    pub fn new(config: ItemKnnConfig) -> Self {
        Self {
            config,
            similarity: None,
        }
    }

    /// Reads a model saved by [`Recommender::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EngineError> {
        load("item-knn", bytes)
    }

    fn neighbours_of(&self, item: u32) -> (&[usize], &[f32]) {
        match &self.similarity {
            Some(similarity) => row_slices(similarity, item as usize),
            None => (&[], &[]),
        }
    }
}

/// BM25-weights a documents x terms matrix in place (here: items x users), as Okapi BM25:
/// idf per column, length normalisation per row, saturation of each value.
fn bm25_weight(matrix: &mut CsMat<f32>, k1: f32, b: f32) {
    let n_rows = matrix.rows().max(1) as f32;
    let mut document_frequency = vec![0u32; matrix.cols()];
    for &c in matrix.indices() {
        document_frequency[c] += 1;
    }
    let idf: Vec<f32> = document_frequency
        .iter()
        .map(|&df| n_rows.ln() - (df as f32).ln_1p())
        .collect();
    let lengths: Vec<f32> = (0..matrix.rows())
        .map(|r| row_slices(matrix, r).1.iter().sum())
        .collect();
    let average = (lengths.iter().sum::<f32>() / n_rows).max(f32::EPSILON);
    let indptr: Vec<usize> = matrix.indptr().to_proper().into_owned();
    let indices = matrix.indices().to_vec();
    let data = matrix.data_mut();
    for (row, length) in lengths.iter().enumerate() {
        let norm = (1.0 - b) + b * length / average;
        for k in indptr[row]..indptr[row + 1] {
            let value = data[k];
            data[k] = value * (k1 + 1.0) / (k1 * norm + value) * idf[indices[k]];
        }
    }
}

impl Recommender for ItemKnn {
    fn name(&self) -> &'static str {
        "item-knn"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        let n_items = data.n_items();
        // Item x user, so that row i is item i's user vector.
        let mut by_item: CsMat<f32> = data.matrix.transpose_view().to_csr();
        if self.config.bm25 {
            bm25_weight(&mut by_item, self.config.bm25_k1, self.config.bm25_b);
        }
        let norms: Vec<f32> = (0..n_items)
            .map(|i| {
                by_item.outer_view(i).map_or(0.0, |row| {
                    row.data().iter().map(|w| w * w).sum::<f32>().sqrt()
                })
            })
            .collect();
        // Co-occurrence row by row, in parallel: row i is Σ over i's users u of
        // w(i,u) * (u's row), gathered in a dense per-thread accumulator. Cost: Σ over
        // users of their item count squared; no item x item matrix is ever materialised.
        let by_user: CsMat<f32> = by_item.transpose_view().to_csr();
        let (k, shrink, bm25) = (
            self.config.neighbours,
            self.config.shrinkage,
            self.config.bm25,
        );
        let rows: Vec<Vec<(usize, f32)>> = (0..n_items)
            .into_par_iter()
            .map_init(
                || (vec![0.0f32; n_items], Vec::<usize>::new()),
                |(acc, touched), i| {
                    let (users, weights) = row_slices(&by_item, i);
                    for (&u, &w_iu) in users.iter().zip(weights) {
                        let (items, w_u) = row_slices(&by_user, u);
                        for (&j, &w_uj) in items.iter().zip(w_u) {
                            if acc[j] == 0.0 {
                                touched.push(j);
                            }
                            acc[j] += w_iu * w_uj;
                        }
                    }
                    let mut sims: Vec<(usize, f32)> = Vec::with_capacity(touched.len());
                    for &j in touched.iter() {
                        let dot = std::mem::take(&mut acc[j]);
                        if j == i {
                            continue;
                        }
                        let sim = if bm25 {
                            dot
                        } else {
                            dot / (norms[i] * norms[j] + shrink)
                        };
                        if sim > 0.0 {
                            sims.push((j, sim));
                        }
                    }
                    touched.clear();
                    if sims.len() > k {
                        sims.select_nth_unstable_by(k - 1, |a, b| {
                            b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
                        });
                        sims.truncate(k);
                    }
                    sims.sort_unstable_by_key(|&(j, _)| j);
                    sims
                },
            )
            .collect();
        let mut indptr = Vec::with_capacity(n_items + 1);
        let mut indices = Vec::new();
        let mut values = Vec::new();
        indptr.push(0);
        for row in rows {
            for (j, s) in row {
                indices.push(j);
                values.push(s);
            }
            indptr.push(indices.len());
        }
        self.similarity = Some(CsMat::new((n_items, n_items), indptr, indices, values));
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        scores.fill(0.0);
        for &(item, weight) in history {
            let (neighbours, sims) = self.neighbours_of(item);
            for (&j, &s) in neighbours.iter().zip(sims) {
                if let Some(score) = scores.get_mut(j) {
                    *score += weight * s;
                }
            }
        }
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let (neighbours, sims) = self.neighbours_of(item);
        let mut list: Vec<(u32, f32)> = neighbours
            .iter()
            .zip(sims)
            .map(|(&j, &s)| (j as u32, s))
            .collect();
        list.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(k);
        list
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let contributions = history.iter().filter_map(|&(h, w)| {
            let (neighbours, sims) = self.neighbours_of(h);
            let at = neighbours.binary_search(&(item as usize)).ok()?;
            Some((h, w * sims[at]))
        });
        Explanation::from_contributions(contributions, None)
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        if self.similarity.is_none() {
            return Err(EngineError::NotFitted("item-knn"));
        }
        save("item-knn", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommender::{recommend, Exclusions};

    /// Items 0 and 1 are always taken together (a planted pair); 2 and 3 are not.
    fn planted() -> Dataset {
        let mut triples = Vec::new();
        for u in 0..6 {
            triples.push((u, 0, 1.0));
            triples.push((u, 1, 1.0));
        }
        triples.extend([
            (6, 2, 1.0),
            (7, 3, 1.0),
            (8, 2, 1.0),
            (8, 3, 1.0),
            (9, 0, 1.0),
        ]);
        Dataset::from_dense(10, 4, &triples)
    }

    #[test]
    fn finds_the_planted_pair() {
        let data = planted();
        let mut model = ItemKnn::new(ItemKnnConfig {
            neighbours: 2,
            shrinkage: 0.0,
            ..ItemKnnConfig::default()
        });
        model.fit(&data).unwrap();
        assert_eq!(model.similar_items(0, 1)[0].0, 1);
        assert_eq!(model.similar_items(1, 1)[0].0, 0);
        // User 9 has item 0 only: item 1 comes first, because of item 0.
        let recs = recommend(&model, &data, 9, 2, Exclusions::default());
        assert_eq!(recs[0].0, 1);
        assert_eq!(model.explain(&[(0, 1.0)], 1).because_of[0].0, 0);
        // An anonymous shopper who clicked item 1 gets item 0.
        let mut scores = vec![0.0; 4];
        model.score_history(&[(1, 1.0)], &mut scores);
        assert!(scores[0] > scores[2] && scores[0] > scores[3]);
    }

    #[test]
    fn never_returns_bought_or_disliked_items_unless_asked() {
        let mut data = planted();
        data.excluded[9] = vec![1];
        let mut model = ItemKnn::new(ItemKnnConfig::default());
        model.fit(&data).unwrap();
        let recs = recommend(&model, &data, 9, 4, Exclusions::default());
        assert!(recs.iter().all(|r| r.0 != 1 && r.0 != 0), "{recs:?}");
        let asked = recommend(
            &model,
            &data,
            9,
            4,
            Exclusions {
                seen: true,
                bought_or_disliked: false,
            },
        );
        assert_eq!(asked[0].0, 1);
    }

    #[test]
    fn bm25_option_still_finds_the_planted_pair() {
        let data = planted();
        let mut model = ItemKnn::new(ItemKnnConfig {
            bm25: true,
            ..ItemKnnConfig::default()
        });
        model.fit(&data).unwrap();
        assert_eq!(model.similar_items(0, 1)[0].0, 1);
        assert_eq!(
            recommend(&model, &data, 9, 1, Exclusions::default())[0].0,
            1
        );
    }

    #[test]
    fn save_and_load_give_identical_scores() {
        let data = planted();
        let mut model = ItemKnn::new(ItemKnnConfig::default());
        model.fit(&data).unwrap();
        let back = ItemKnn::from_bytes(&model.to_bytes().unwrap()).unwrap();
        let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
        model.score_history(&[(0, 1.0), (2, 0.5)], &mut a);
        back.score_history(&[(0, 1.0), (2, 0.5)], &mut b);
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert!(matches!(
            ItemKnn::new(ItemKnnConfig::default()).to_bytes(),
            Err(EngineError::NotFitted(_))
        ));
    }
}
