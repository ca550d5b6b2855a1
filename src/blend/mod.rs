//! The hybrid blender: one ranking from many models, with weights learned on held-out
//! data.
//!
//! Fitting holds out a seeded share of each user's items (`validation`), fits every member
//! on the rest (for each of `folds` seeded splits, pooled), and reads, for each user, a
//! candidate list: the union of every member's
//! top `candidates` unseen items. Each candidate is described by features:
//!
//! - per member, its score standardised over the user's unseen items (a z-score: members'
//!   raw scales differ by orders of magnitude) and its reciprocal log rank
//!   (`1 / log2(rank + 2)` inside the member's top list, 0 outside);
//! - context: popularity (log users), trend (time-decayed popularity), category match
//!   (share of the user's history in the item's categories) and price-band closeness.
//!
//! A linear scorer over those features is first trained with a listwise softmax loss (the
//! held-out items are the targets among the candidates) by Newton's method with a small
//! L2 penalty (the loss is convex: a few full passes over the candidates reach its minimum). The better of that and each member alone then starts a coordinate ascent
//! on validation NDCG@k itself (Metzler and Croft's listwise method), so the kept weights
//! are never worse on validation than the best member. Then every member is refitted on
//! all the data, and serving scores every item as the learned weights times its features.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::eval::{leave_last_out, sample_users, stratified_split};
use crate::recommender::{history_of, load, save, EngineError, Explanation, Recommender};
use crate::topk::top_k;

mod features;
#[cfg(test)]
mod tests;
mod training;

pub use features::CONTEXT_FEATURES;
use features::*;
use training::*;

/// Blender settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlendConfig {
    /// Share of each user's items held out to learn the weights.
    pub validation: f64,
    /// Top items each member contributes to a user's candidate list.
    pub candidates: usize,
    /// Newton steps of the softmax fit at most (it stops once the loss has converged,
    /// usually within ten).
    pub iterations: usize,
    /// Not read since the softmax fit became Newton's method (it has no step size); kept so
    /// parameter files and saved blends written before still load.
    pub learning_rate: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Seed of the first validation split (the others follow it).
    pub seed: u64,
    /// Validation splits pooled to learn the weights (each fits every member once).
    pub folds: usize,
    /// Price bands for the price-closeness feature.
    pub price_bands: usize,
    /// The cut-off of the NDCG the weights are tuned for.
    pub k: usize,
    /// Rounds of coordinate ascent on validation NDCG@k after the softmax fit (0: none).
    pub rounds: usize,
    /// Which items the weights learn to find: a random share of each user's items, or
    /// each user's latest item.
    pub holdout: Holdout,
    /// Users whose held-out items the weights learn from, at most: a seeded sample
    /// (0: every user). Scoring them costs one full ranking per member each.
    pub validation_users: usize,
}

/// How the blender holds out the items its weights learn to find.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Holdout {
    /// A seeded share `validation` of each user's items, for each of `folds` splits
    /// pooled: for data whose order says little (ratings, a stratified protocol).
    #[default]
    Random,
    /// Each user's latest item (of users with two or more), one split: what a sequence
    /// model is asked on ordered data, where a random share would hide the middle of a
    /// sequence and leave its end in training. The members fit twice in all.
    Last,
}

impl Default for BlendConfig {
    fn default() -> Self {
        Self {
            validation: 0.2,
            candidates: 100,
            iterations: 300,
            learning_rate: 0.05,
            l2: 1e-4,
            seed: 42,
            folds: 3,
            price_bands: 5,
            k: 10,
            rounds: 5,
            holdout: Holdout::Random,
            validation_users: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Saved {
    config: BlendConfig,
    /// Each member's name and saved bytes.
    members: Vec<(String, Vec<u8>)>,
    weights: Vec<f32>,
    context: Context,
    validation_loss: f64,
    validation_ndcg: f64,
}

/// The hybrid blender over a set of member models.
pub struct Blend {
    /// This fitted state's identity (new on every construction and fit): the key of the
    /// per-thread memo of the last history scored.
    id: u64,
    config: BlendConfig,
    members: Vec<Box<dyn Recommender>>,
    weights: Vec<f32>,
    context: Context,
    validation_loss: Option<f64>,
    validation_ndcg: Option<f64>,
    /// Seconds of the last fit's stages (not saved: a loaded blend did not fit).
    stages: Vec<(&'static str, f64)>,
}

impl std::fmt::Debug for Blend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blend")
            .field("members", &self.member_names())
            .field("weights", &self.weights)
            .finish()
    }
}

impl Blend {
    /// An unfitted blender of `members` (unfitted too: fitting fits them).
    pub fn new(config: BlendConfig, members: Vec<Box<dyn Recommender>>) -> Self {
        Self {
            id: fresh_id(),
            config,
            members,
            weights: Vec::new(),
            context: Context::default(),
            validation_loss: None,
            validation_ndcg: None,
            stages: Vec::new(),
        }
    }

    /// Reads a blender saved by [`Recommender::to_bytes`]; `load_member` reads a member
    /// from its name and bytes.
    pub fn from_bytes(
        bytes: &[u8],
        load_member: impl Fn(&str, &[u8]) -> Result<Box<dyn Recommender>, EngineError>,
    ) -> Result<Self, EngineError> {
        let saved: Saved = load("blend", bytes)?;
        let members = saved
            .members
            .iter()
            .map(|(name, bytes)| load_member(name, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            id: fresh_id(),
            config: saved.config,
            members,
            weights: saved.weights,
            context: saved.context,
            validation_loss: Some(saved.validation_loss).filter(|v| !v.is_nan()),
            validation_ndcg: Some(saved.validation_ndcg).filter(|v| !v.is_nan()),
            stages: Vec::new(),
        })
    }

    /// The members' names, in feature order.
    pub fn member_names(&self) -> Vec<&'static str> {
        self.members.iter().map(|m| m.name()).collect()
    }

    /// The fitted members.
    pub fn members(&self) -> &[Box<dyn Recommender>] {
        &self.members
    }

    /// The learned weights with their feature names: per member `name z` and `name rank`,
    /// then the context features.
    pub fn weights(&self) -> Vec<(String, f32)> {
        let mut names = Vec::new();
        for m in &self.members {
            names.push(format!("{} z", m.name()));
            names.push(format!("{} rank", m.name()));
        }
        names.extend(CONTEXT_FEATURES.iter().map(|s| s.to_string()));
        names
            .into_iter()
            .zip(self.weights.iter().copied())
            .collect()
    }

    /// The listwise loss on the validation candidates when the weights were learned.
    pub fn validation_loss(&self) -> Option<f64> {
        self.validation_loss
    }

    /// The validation NDCG@k of the kept weights (over users with a held-out candidate).
    pub fn validation_ndcg(&self) -> Option<f64> {
        self.validation_ndcg
    }

    fn dims(&self) -> usize {
        2 * self.members.len() + CONTEXT_FEATURES.len()
    }

    /// Blends the members' scores in `view` into `scores`; gives back the members'
    /// summaries it made.
    fn blend(&self, view: &View<'_>, scores: &mut [f32]) -> Vec<Summary> {
        let n = scores.len();
        if self.weights.len() != self.dims() {
            scores.iter_mut().for_each(|s| *s = 0.0);
            return Vec::new();
        }
        // The same features as training reads (`features`), summed with their weights
        // as they are made: no `[items][dims]` matrix on the serving path.
        let members = view.scores.len();
        let w = &self.weights;
        let mut candidate = vec![false; n];
        scores.iter_mut().for_each(|s| *s = 0.0);
        let summaries = self.summaries(view);
        for (m, (member, summary)) in view.scores.iter().zip(&summaries).enumerate() {
            let (mean, std) = (summary.mean, summary.std);
            let (w_score, w_rank) = (w[2 * m], w[2 * m + 1]);
            if std > 1e-12 {
                for (score, &s) in scores.iter_mut().zip(member.iter()) {
                    if s.is_finite() {
                        *score += ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32 * w_score;
                    }
                }
            }
            for (rank, &(item, _)) in summary.top.iter().enumerate() {
                scores[item as usize] += w_rank / (rank as f32 + 2.0).log2();
                candidate[item as usize] = true;
            }
        }
        let w_context = &w[2 * members..];
        self.context.each_item(view.history, n, |item, c| {
            scores[item] += c.iter().zip(w_context).map(|(x, w)| x * w).sum::<f32>();
        });
        // The weights were learned on candidates only: an item no member put in its top
        // list ranks below every candidate (in its own blended order).
        let floor = scores
            .iter()
            .zip(&candidate)
            .filter(|(s, &c)| c && s.is_finite())
            .fold(f32::INFINITY, |m, (s, _)| m.min(*s));
        if floor.is_finite() {
            let below = scores
                .iter()
                .zip(&candidate)
                .filter(|(s, &c)| !c && s.is_finite())
                .fold(f32::NEG_INFINITY, |m, (s, _)| m.max(*s));
            if below.is_finite() && below >= floor {
                let shift = below - floor + 1.0;
                for (score, &c) in scores.iter_mut().zip(&candidate) {
                    if !c {
                        *score -= shift;
                    }
                }
            }
        }
        summaries
    }

    /// Each member's share of an item's blended score for a history: the weighted sum of
    /// that member's two features.
    pub fn contributions(&self, history: &[(u32, f32)], item: u32) -> Vec<(&'static str, f32)> {
        self.contributions_many(history, &[item])
            .pop()
            .unwrap_or_default()
    }

    /// [`Blend::contributions`] of several items, scoring the members once.
    pub fn contributions_many(
        &self,
        history: &[(u32, f32)],
        items: &[u32],
    ) -> Vec<Vec<(&'static str, f32)>> {
        let n = self.context.popularity.len();
        if self.weights.len() != self.dims() {
            return vec![Vec::new(); items.len()];
        }
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        seen.dedup();
        // The member features of the asked items only (as `features` computes them for
        // every item): the standardised score and the rank feature within the member's
        // top candidates. The members' scores of this history on this thread are reused.
        let memo = LAST_SCORED.with(|last| {
            let mut last = last.borrow_mut();
            match last.take() {
                Some(memo)
                    if memo.owner == self.id && memo.n_items == n && memo.history == history =>
                {
                    Some(memo)
                }
                other => {
                    *last = other;
                    None
                }
            }
        });
        let (members, summaries) = match memo {
            Some(memo) => (memo.scores, memo.summaries),
            None => {
                let owned = self.member_scores(|m, s| m.score_history(history, s), n);
                let view = View {
                    history,
                    scores: slices(&owned),
                    seen: &seen,
                };
                let summaries = self.summaries(&view);
                (owned, summaries)
            }
        };
        let mut out: Vec<Vec<(&'static str, f32)>> = vec![Vec::new(); items.len()];
        for (m, ((model, scores), summary)) in self
            .members
            .iter()
            .zip(&members)
            .zip(&summaries)
            .enumerate()
        {
            let (mean, std, top) = (summary.mean, summary.std, &summary.top);
            for (&item, contributions) in items.iter().zip(out.iter_mut()) {
                let Some(&s) = scores.get(item as usize) else {
                    continue;
                };
                let z = if std > 1e-12 && s.is_finite() {
                    ((f64::from(s) - mean) / std).clamp(-10.0, 10.0) as f32
                } else {
                    0.0
                };
                let rank = top
                    .iter()
                    .position(|&(i, _)| i == item)
                    .map_or(0.0, |rank| 1.0 / (rank as f32 + 2.0).log2());
                contributions.push((
                    model.name(),
                    z * self.weights[2 * m] + rank * self.weights[2 * m + 1],
                ));
            }
        }
        out
    }

    /// The explanation of `item` given its contributions: the top member's own.
    fn explain_from(
        &self,
        history: &[(u32, f32)],
        item: u32,
        contributions: &[(&'static str, f32)],
    ) -> Explanation {
        let Some(&(name, share)) = contributions.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
            return Explanation::default();
        };
        let member = self
            .members
            .iter()
            .find(|m| m.name() == name)
            .expect("a contribution names a member");
        let mut explanation = member.explain(history, item);
        let detail = format!("mostly {name} ({share:+.2} of the blended score)");
        explanation.note = Some(match explanation.note {
            Some(note) => format!("{note}; {detail}"),
            None => detail,
        });
        explanation
    }

    /// Per member: the standardisation and the top candidates of its scores in `view`.
    fn summaries(&self, view: &View<'_>) -> Vec<Summary> {
        let is_seen = |i: u32| view.seen.binary_search(&i).is_ok();
        view.scores
            .iter()
            .map(|member| {
                let (mean, std) = standardisation(member, view.seen);
                let skip = |i: u32| is_seen(i) || !member[i as usize].is_finite();
                Summary {
                    mean,
                    std,
                    top: top_k(member, self.config.candidates, skip),
                }
            })
            .collect()
    }

    fn member_scores(
        &self,
        score: impl Fn(&dyn Recommender, &mut [f32]),
        n: usize,
    ) -> Vec<Vec<f32>> {
        self.members
            .iter()
            .map(|m| {
                let mut s = vec![0.0f32; n];
                score(m.as_ref(), &mut s);
                s
            })
            .collect()
    }

    fn fit_members(
        &mut self,
        data: &Dataset,
        progress: crate::neural::Progress<'_>,
    ) -> Result<(), EngineError> {
        // The members change: nothing memoised of the old ones may be read again.
        self.id = fresh_id();
        for member in &mut self.members {
            let name = member.name();
            member
                .fit_with_progress(data, &mut *progress)
                .map_err(|e| EngineError::Data(format!("blend member {name}: {e}")))?;
        }
        Ok(())
    }
}

/// Each member's scores, borrowed for a [`View`].
fn slices(owned: &[Vec<f32>]) -> Vec<&[f32]> {
    owned.iter().map(Vec::as_slice).collect()
}

/// Seconds per named stage of a fit; a stage that recurs (one per fold) adds up.
#[derive(Default)]
struct Stages {
    since: Option<std::time::Instant>,
    done: Vec<(&'static str, f64)>,
}

impl Stages {
    fn start(&mut self) {
        self.since = Some(std::time::Instant::now());
    }

    /// Closes the stage running since the last start or end, and starts the next.
    fn end(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        let seconds = self.since.map_or(0.0, |t| (now - t).as_secs_f64());
        self.since = Some(now);
        match self.done.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += seconds,
            None => self.done.push((name, seconds)),
        }
    }
}

impl Recommender for Blend {
    fn name(&self) -> &'static str {
        "blend"
    }

    fn fit(&mut self, data: &Dataset) -> Result<(), EngineError> {
        self.fit_with_progress(data, &mut |_| {})
    }

    fn fit_with_progress(
        &mut self,
        data: &Dataset,
        progress: crate::neural::Progress<'_>,
    ) -> Result<(), EngineError> {
        if self.members.is_empty() {
            return Err(EngineError::Data(
                "the blender needs at least one member model".into(),
            ));
        }
        let random = self.config.holdout == Holdout::Random;
        if random
            && (!(0.0..1.0).contains(&self.config.validation) || self.config.validation == 0.0)
        {
            return Err(EngineError::Data(format!(
                "blend.validation must be between 0 and 1, got {}",
                self.config.validation
            )));
        }
        let n = data.n_items();
        let dims = self.dims();
        let mut groups: Vec<Group> = Vec::new();
        // Random: several seeded validation splits, pooled (weights tuned on one split's
        // noise would not carry over to the full data). Last: the one latest-item split.
        let folds = if random { self.config.folds.max(1) } else { 1 };
        let mut stages = Stages::default();
        for fold in 0..folds {
            let seed = self.config.seed.wrapping_add(fold as u64);
            let split = match self.config.holdout {
                Holdout::Random => stratified_split(data, 1.0 - self.config.validation, seed),
                Holdout::Last => leave_last_out(data),
            };
            stages.start();
            self.fit_members(&split.train, progress)?;
            stages.end("validation members' fits");
            let context = Context::build(&split.train, self.config.price_bands);
            let cap = match self.config.validation_users {
                0 => usize::MAX,
                cap => cap,
            };
            let users = sample_users(&split, cap, seed);
            // Users in blocks: a factor member scores a block in one pass over its items.
            let block = crate::recommender::user_block(n, self.members.len());
            let (members, top) = (&self.members, self.config.candidates);
            // Each worker keeps its blocks' buffers: fresh ones cost page faults per block.
            let fold_groups: Vec<Vec<Group>> = users
                .par_chunks(block)
                .map_init(
                    || vec![Vec::<f32>::new(); members.len()],
                    |blocks, users| {
                        for (m, scores) in members.iter().zip(blocks.iter_mut()) {
                            scores.clear();
                            scores.resize(users.len() * n, 0.0);
                            m.score_users(&split.train, users, scores);
                        }
                        let blocks = &*blocks;
                        users
                            .iter()
                            .enumerate()
                            .filter_map(|(j, &user)| {
                                let history = history_of(&split.train, user);
                                let seen: Vec<u32> = split
                                    .train
                                    .user_items(user)
                                    .0
                                    .iter()
                                    .map(|&i| i as u32)
                                    .collect();
                                let view = View {
                                    history: &history,
                                    scores: blocks.iter().map(|b| &b[j * n..(j + 1) * n]).collect(),
                                    seen: &seen,
                                };
                                let (candidates, rows) = candidate_features(&view, &context, top);
                                let mut held: Vec<u32> = split.test[user as usize].clone();
                                held.sort_unstable();
                                let positive: Vec<bool> = candidates
                                    .iter()
                                    .map(|item| held.binary_search(item).is_ok())
                                    .collect();
                                positive
                                    .iter()
                                    .any(|&p| p)
                                    .then(|| Group::from_rows(&rows, dims, positive, held.len()))
                            })
                            .collect()
                    },
                )
                .collect();
            groups.extend(fold_groups.into_iter().flatten());
            stages.end("candidates and features");
        }
        if groups.is_empty() {
            return Err(EngineError::Data(
                "the blender found no held-out item among any member's candidates: too little data to learn weights".into(),
            ));
        }
        // Starting points: the listwise softmax's weights, and each member alone (its
        // z-score), so the blend is never worse on validation than its best member. Then
        // coordinate ascent on the metric itself.
        let (softmax, loss) = train(&groups, dims, &self.config);
        stages.end("softmax fit");
        let k = self.config.k.max(1);
        let mut starts = vec![softmax];
        for m in 0..self.members.len() {
            let mut w = vec![0.0f64; dims];
            w[2 * m] = 1.0;
            starts.push(w);
        }
        let start = starts
            .into_iter()
            .map(|w| (mean_ndcg(&groups, &w, k), w))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, w)| w)
            .expect("at least one start");
        let (weights, ndcg) = coordinate_ascent(&groups, start, k, self.config.rounds);
        stages.end("coordinate ascent");
        self.weights = weights.iter().map(|&w| w as f32).collect();
        self.validation_loss = Some(loss);
        self.validation_ndcg = Some(ndcg);
        // The members serve from all the data; the context too.
        self.fit_members(data, progress)?;
        self.context = Context::build(data, self.config.price_bands);
        stages.end("final members' fits");
        self.stages = stages.done;
        Ok(())
    }

    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let n = scores.len();
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        seen.dedup();
        let owned = self.member_scores(|m, s| m.score_history(history, s), n);
        let view = View {
            history,
            scores: slices(&owned),
            seen: &seen,
        };
        let summaries = self.blend(&view, scores);
        if summaries.len() != owned.len() {
            return;
        }
        // Explaining the list just scored (the usual next call) reads the members'
        // scores from here instead of scoring them all again.
        LAST_SCORED.with(|last| {
            *last.borrow_mut() = Some(Memo {
                owner: self.id,
                history: history.to_vec(),
                n_items: n,
                scores: owned,
                summaries,
            });
        });
    }

    fn score_user(&self, data: &Dataset, user: u32, scores: &mut [f32]) {
        let n = scores.len();
        let history = history_of(data, user);
        let seen: Vec<u32> = data.user_items(user).0.iter().map(|&i| i as u32).collect();
        let owned = self.member_scores(|m, s| m.score_user(data, user, s), n);
        let view = View {
            history: &history,
            scores: slices(&owned),
            seen: &seen,
        };
        self.blend(&view, scores);
    }

    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        // Each member's neighbours, scaled to its best one, weighted by the member's
        // share of the positive weight.
        let share: Vec<f32> = (0..self.members.len())
            .map(|m| {
                self.weights.get(2 * m).copied().unwrap_or(0.0).max(0.0)
                    + self.weights.get(2 * m + 1).copied().unwrap_or(0.0).max(0.0)
            })
            .collect();
        let total: f32 = share.iter().sum();
        let mut combined: HashMap<u32, f32> = HashMap::new();
        for (member, &s) in self.members.iter().zip(&share) {
            if s <= 0.0 {
                continue;
            }
            let list = member.similar_items(item, 3 * k);
            let best = list.first().map_or(0.0, |x| x.1);
            if best <= 0.0 {
                continue;
            }
            for (other, sim) in list {
                *combined.entry(other).or_default() += s / total.max(f32::EPSILON) * sim / best;
            }
        }
        let mut out: Vec<(u32, f32)> = combined.into_iter().collect();
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(k);
        out
    }

    fn explain(&self, history: &[(u32, f32)], item: u32) -> Explanation {
        let contributions = self.contributions(history, item);
        self.explain_from(history, item, &contributions)
    }

    fn explain_many(&self, history: &[(u32, f32)], items: &[u32]) -> Vec<Explanation> {
        self.contributions_many(history, items)
            .iter()
            .zip(items)
            .map(|(contributions, &item)| self.explain_from(history, item, contributions))
            .collect()
    }

    fn learned(&self) -> Vec<(String, f32)> {
        self.weights()
    }

    fn fit_stages(&self) -> Vec<(&'static str, f64)> {
        self.stages.clone()
    }

    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        let members = self
            .members
            .iter()
            .map(|m| Ok((m.name().to_string(), m.to_bytes()?)))
            .collect::<Result<Vec<_>, EngineError>>()?;
        save(
            "blend",
            &Saved {
                config: self.config.clone(),
                members,
                weights: self.weights.clone(),
                context: self.context.clone(),
                validation_loss: self.validation_loss.unwrap_or(f64::NAN),
                validation_ndcg: self.validation_ndcg.unwrap_or(f64::NAN),
            },
        )
    }
}
