//! The engine's view of shop data: dense id maps, and a sparse user x item matrix of
//! weighted implicit feedback (CSR), with the items each user must never be shown again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sprs::{CsMat, TriMat};

use crate::interaction::InteractionKind;

/// Maps external ids (SKUs, account ids, MovieLens ids) to dense indices `0..len` and back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    to_dense: HashMap<String, u32>,
    to_external: Vec<String>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The dense index of `id`, assigning the next one if it is new.
    pub fn get_or_insert(&mut self, id: &str) -> u32 {
        if let Some(&index) = self.to_dense.get(id) {
            return index;
        }
        let index = self.to_external.len() as u32;
        self.to_dense.insert(id.to_string(), index);
        self.to_external.push(id.to_string());
        index
    }

    /// The dense index of `id`, if known.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.to_dense.get(id).copied()
    }

    /// The external id of a dense index.
    pub fn external(&self, index: u32) -> Option<&str> {
        self.to_external.get(index as usize).map(String::as_str)
    }

    /// How many ids are mapped.
    pub fn len(&self) -> usize {
        self.to_external.len()
    }

    /// Whether no id is mapped.
    pub fn is_empty(&self) -> bool {
        self.to_external.is_empty()
    }
}

/// One recorded shopper event, with external ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The shopper (account or anonymous session).
    pub user: String,
    /// The product.
    pub item: String,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars for a rating; unused otherwise.
    pub value: Option<f32>,
    /// Unix seconds.
    pub time: i64,
}

/// What the engine knows about a product besides its interactions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemFeatures {
    /// Product title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// Category path, most general first (`Electronics > Cameras`).
    pub categories: Vec<String>,
    /// Unordered labels (a film's genres): each stands alone, unlike the levels of a path.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Brand, when known.
    pub brand: Option<String>,
    /// Price in minor units (cents), when known.
    pub price_minor: Option<i64>,
}

impl ItemFeatures {
    /// The item's tags as the models name them (`tag:` and the tag in lower case), apart
    /// from the levels of its category path.
    pub fn tag_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.tags
            .iter()
            .map(|tag| format!("tag:{}", tag.trim().to_lowercase()))
    }
}

/// Implicit-feedback data ready for the models.
///
/// `matrix` holds, for each (user, item), the sum of the weights of that user's events on
/// that item (see [`InteractionKind::default_weight`]); pairs whose sum is not positive
/// are left out. `excluded` lists, per user, the items bought, disliked or marked "not
/// interested": recommenders never return them unless asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dataset {
    /// User ids.
    pub users: IdMap,
    /// Item ids.
    pub items: IdMap,
    /// Users x items, CSR, positive weights only.
    pub matrix: CsMat<f32>,
    /// Per user, sorted item indices never to recommend back (bought, disliked or not
    /// interested).
    pub excluded: Vec<Vec<u32>>,
    /// Unix seconds of the latest event of each stored pair, aligned with
    /// `matrix.data()` (0 where the source had no times).
    pub times: Vec<i64>,
    /// Position in the input of each stored pair's latest event, aligned like `times`:
    /// breaks ties between equal times in input (file) order.
    pub order: Vec<u32>,
    /// Per item index, its features; empty when the source has none.
    pub features: Vec<ItemFeatures>,
}

impl Dataset {
    /// Builds a dataset from events, weighting each with the default weights.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        Self::from_events_with(IdMap::new(), IdMap::new(), events)
    }

    /// Like [`Dataset::from_events`], starting from id maps that may already hold users
    /// and items without events (a catalogue's untouched products keep their indices).
    pub fn from_events_with<'a>(
        mut users: IdMap,
        mut items: IdMap,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Self {
        let mut timed = Vec::new();
        let mut excluded: Vec<Vec<u32>> = Vec::new();
        for event in events {
            let u = users.get_or_insert(&event.user);
            let i = items.get_or_insert(&event.item);
            timed.push((u, i, event.kind.default_weight(event.value), event.time));
            if excluded.len() <= u as usize {
                excluded.resize(u as usize + 1, Vec::new());
            }
            if matches!(
                event.kind,
                InteractionKind::Purchase
                    | InteractionKind::Dislike
                    | InteractionKind::NotInterested
            ) {
                excluded[u as usize].push(i);
            }
        }
        excluded.resize(excluded.len().max(users.len()), Vec::new());
        let mut data = Self::from_timed(users, items, &timed);
        for (u, list) in excluded.into_iter().enumerate() {
            let mut list = list;
            list.sort_unstable();
            list.dedup();
            data.excluded[u] = list;
        }
        data
    }

    /// Builds a dataset from dense `(user, item, weight)` triples over the given id maps.
    /// Repeated pairs are summed; pairs with a non-positive sum are dropped.
    pub fn from_triples(users: IdMap, items: IdMap, triples: &[(u32, u32, f32)]) -> Self {
        let timed: Vec<(u32, u32, f32, i64)> =
            triples.iter().map(|&(u, i, w)| (u, i, w, 0)).collect();
        Self::from_timed(users, items, &timed)
    }

    /// Builds a dataset from dense `(user, item, weight, unix seconds)` tuples. Repeated
    /// pairs are summed and keep their latest time; non-positive sums are dropped.
    pub fn from_timed(users: IdMap, items: IdMap, events: &[(u32, u32, f32, i64)]) -> Self {
        let (n_users, n_items) = (users.len(), items.len());
        // Per pair: summed weight, latest time, input position of that latest event.
        type Pair = (u32, u32);
        type Summary = (f32, i64, u32);
        let mut sums: HashMap<Pair, Summary> = HashMap::with_capacity(events.len());
        for (position, &(u, i, w, t)) in events.iter().enumerate() {
            let entry = sums.entry((u, i)).or_insert((0.0, t, position as u32));
            entry.0 += w;
            if t >= entry.1 {
                entry.1 = t;
                entry.2 = position as u32;
            }
        }
        let mut positive: Vec<(Pair, Summary)> =
            sums.into_iter().filter(|(_, (w, _, _))| *w > 0.0).collect();
        positive.sort_unstable_by_key(|(pair, _)| *pair);
        // Sorted by (row, column), so the CSR's data order is this order.
        let mut tri = TriMat::with_capacity((n_users, n_items), positive.len());
        let mut times = Vec::with_capacity(positive.len());
        let mut order = Vec::with_capacity(positive.len());
        for ((u, i), (w, t, position)) in positive {
            tri.add_triplet(u as usize, i as usize, w);
            times.push(t);
            order.push(position);
        }
        Self {
            users,
            items,
            matrix: tri.to_csr(),
            excluded: vec![Vec::new(); n_users],
            times,
            order,
            features: Vec::new(),
        }
    }

    /// The item `user` interacted with last: latest time, ties to the later input.
    pub fn last_item(&self, user: u32) -> Option<u32> {
        let row = user as usize;
        if row >= self.matrix.outer_dims() {
            return None;
        }
        self.matrix
            .indptr()
            .outer_inds_sz(row)
            .max_by_key(|&k| (self.times[k], self.order[k]))
            .map(|k| self.matrix.indices()[k] as u32)
    }

    /// The items of `user` in the order of their latest event, oldest first (ties keep
    /// input order), with their weights: the shopper's sequence as a sequence model
    /// reads it. Each item appears once.
    pub fn sequence(&self, user: u32) -> Vec<(u32, f32)> {
        let row = user as usize;
        if row >= self.matrix.outer_dims() {
            return Vec::new();
        }
        let mut at: Vec<usize> = self.matrix.indptr().outer_inds_sz(row).collect();
        at.sort_by_key(|&k| (self.times[k], self.order[k]));
        at.into_iter()
            .map(|k| (self.matrix.indices()[k] as u32, self.matrix.data()[k]))
            .collect()
    }

    /// Sorts `(user, item, weight, time)` tuples of this dataset's pairs by user, then as
    /// this dataset orders each user's events (time, then input order), so a dataset
    /// built from them (a split's training part) keeps every user's sequence. Pairs this
    /// dataset lacks go last within their time.
    pub fn sort_in_time_order(&self, events: &mut [(u32, u32, f32, i64)]) {
        events.sort_by_cached_key(|&(user, item, _, time)| {
            (
                user,
                time,
                self.input_position(user, item).unwrap_or(u32::MAX),
            )
        });
    }

    /// Where the latest event of `(user, item)` came in this dataset's input.
    fn input_position(&self, user: u32, item: u32) -> Option<u32> {
        let row = user as usize;
        if row >= self.matrix.outer_dims() {
            return None;
        }
        let range = self.matrix.indptr().outer_inds_sz(row);
        let items = &self.matrix.indices()[range.clone()];
        let k = items.binary_search(&(item as usize)).ok()?;
        Some(self.order[range.start + k])
    }

    /// The items of `user` with their weights and latest times.
    pub fn user_events(&self, user: u32) -> impl Iterator<Item = (u32, f32, i64)> + '_ {
        let row = user as usize;
        let range = if row < self.matrix.outer_dims() {
            self.matrix.indptr().outer_inds_sz(row)
        } else {
            0..0
        };
        range.map(move |k| {
            (
                self.matrix.indices()[k] as u32,
                self.matrix.data()[k],
                self.times[k],
            )
        })
    }

    /// A dataset with numbered ids (`"0"`, `"1"`, ...), for tests and synthetic data.
    pub fn from_dense(n_users: usize, n_items: usize, triples: &[(u32, u32, f32)]) -> Self {
        let mut users = IdMap::new();
        for u in 0..n_users {
            users.get_or_insert(&u.to_string());
        }
        let mut items = IdMap::new();
        for i in 0..n_items {
            items.get_or_insert(&i.to_string());
        }
        Self::from_triples(users, items, triples)
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.matrix.rows()
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.matrix.cols()
    }

    /// The items of `user` (sorted indices) and their weights.
    pub fn user_items(&self, user: u32) -> (&[usize], &[f32]) {
        row_slices(&self.matrix, user as usize)
    }

    /// How many users have a positive interaction with each item.
    pub fn item_popularity(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.n_items()];
        for &i in self.matrix.indices() {
            counts[i] += 1;
        }
        counts
    }
}

/// Row `row` of a CSR matrix as (column indices, values); empty past the last row.
pub(crate) fn row_slices(matrix: &CsMat<f32>, row: usize) -> (&[usize], &[f32]) {
    if row >= matrix.outer_dims() {
        return (&[], &[]);
    }
    let range = matrix.indptr().outer_inds_sz(row);
    (&matrix.indices()[range.clone()], &matrix.data()[range])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, item: &str, kind: InteractionKind, time: i64) -> Event {
        Event {
            user: user.into(),
            item: item.into(),
            kind,
            value: None,
            time,
        }
    }

    #[test]
    fn events_are_weighted_summed_and_excluded() {
        use InteractionKind::*;
        let events = vec![
            event("ann", "camera", View, 10),
            event("ann", "camera", Purchase, 20),
            event("ann", "card", Click, 30),
            event("ann", "tripod", Like, 40),
            event("ann", "tripod", Dislike, 50),
            event("bob", "card", AddToCart, 60),
            event("bob", "camera", NotInterested, 70),
        ];
        let data = Dataset::from_events(&events);
        assert_eq!((data.n_users(), data.n_items()), (2, 3));
        let ann = data.users.get("ann").unwrap();
        let (items, weights) = data.user_items(ann);
        let camera = data.items.get("camera").unwrap() as usize;
        let card = data.items.get("card").unwrap() as usize;
        // The tripod's like (2) and dislike (-4) sum to a negative: left out of the matrix.
        assert_eq!(items, &[camera, card]);
        assert_eq!(weights, &[0.5 + 5.0, 1.0]);
        let tripod = data.items.get("tripod").unwrap();
        assert_eq!(data.excluded[ann as usize], vec![camera as u32, tripod]);
        let times: Vec<i64> = data.user_events(ann).map(|(_, _, t)| t).collect();
        assert_eq!(times, vec![20, 30], "latest time of each pair");
        assert_eq!(data.item_popularity()[card], 2);
        let bob = data.users.get("bob").unwrap() as usize;
        assert_eq!(
            data.user_items(bob as u32).0,
            &[card],
            "a hide is not a positive"
        );
        assert_eq!(data.excluded[bob], vec![camera as u32], "hidden for good");
    }

    #[test]
    fn id_maps_round_trip() {
        let mut ids = IdMap::new();
        assert_eq!(ids.get_or_insert("a"), 0);
        assert_eq!(ids.get_or_insert("b"), 1);
        assert_eq!(ids.get_or_insert("a"), 0);
        assert_eq!(ids.external(1), Some("b"));
        assert_eq!(ids.get("c"), None);
    }
}
