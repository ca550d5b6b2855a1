//! The blender on planted data.

use super::*;
use crate::data::ItemFeatures;

/// Users like the items in their residue class (item % 3 == user % 3).
fn planted() -> Dataset {
    let mut triples = Vec::new();
    for u in 0..60u32 {
        for i in 0..45u32 {
            // Two thirds of each user's class, so some are left to recommend.
            if i % 3 == u % 3 && (i / 3 + u) % 3 != 0 {
                triples.push((u, i, 1.0));
            }
        }
    }
    Dataset::from_dense(60, 45, &triples)
}

/// Knows the planted classes from the history.
struct Oracle;
/// Deterministic noise.
struct Noise;

impl Recommender for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }
    fn fit(&mut self, _: &Dataset) -> Result<(), EngineError> {
        Ok(())
    }
    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let class = history.first().map_or(0, |h| h.0 % 3);
        for (i, s) in scores.iter_mut().enumerate() {
            *s = if i as u32 % 3 == class { 5.0 } else { 1.0 };
        }
    }
    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        (0..45)
            .filter(|&i| i != item && i % 3 == item % 3)
            .map(|i| (i, 1.0))
            .take(k)
            .collect()
    }
    fn explain(&self, _: &[(u32, f32)], _: u32) -> Explanation {
        Explanation::default()
    }
    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        Ok(Vec::new())
    }
}

impl Recommender for Noise {
    fn name(&self) -> &'static str {
        "noise"
    }
    fn fit(&mut self, _: &Dataset) -> Result<(), EngineError> {
        Ok(())
    }
    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        let salt = history.iter().map(|h| h.0).sum::<u32>();
        for (i, s) in scores.iter_mut().enumerate() {
            *s = ((i as u32).wrapping_mul(2654435761u32) ^ salt.wrapping_mul(40503)) as f32
                / u32::MAX as f32;
        }
    }
    fn similar_items(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        (0..45)
            .filter(|&i| i != item)
            .map(|i| (i, 1.0 / (1.0 + i as f32)))
            .take(k)
            .collect()
    }
    fn explain(&self, _: &[(u32, f32)], _: u32) -> Explanation {
        Explanation::default()
    }
    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        Ok(Vec::new())
    }
}

fn fitted() -> Blend {
    let config = BlendConfig {
        candidates: 10,
        ..BlendConfig::default()
    };
    let mut blend = Blend::new(config, vec![Box::new(Noise), Box::new(Oracle)]);
    blend.fit(&planted()).expect("fits");
    blend
}

#[test]
fn learns_to_trust_the_informative_member() {
    let blend = fitted();
    let w: HashMap<String, f32> = blend.weights().into_iter().collect();
    assert_eq!(w.len(), 2 * 2 + CONTEXT_FEATURES.len());
    let oracle = w["oracle z"] + w["oracle rank"];
    let noise = w["noise z"].abs() + w["noise rank"].abs();
    assert!(
        oracle > 4.0 * noise,
        "oracle {oracle}, noise {noise}: {w:?}"
    );
    // A user of class 1 has 10 of its 15 items: the other 5 lead the list.
    let data = planted();
    let top = crate::recommend(&blend, &data, 1, 10, Default::default());
    assert_eq!(top.len(), 10);
    assert!(top[..5].iter().all(|&(i, _)| i % 3 == 1), "{top:?}");
    assert!(top[5..].iter().all(|&(i, _)| i % 3 != 1), "{top:?}");
    let explanation = blend.explain(&crate::recommender::history_of(&data, 1), top[0].0);
    assert!(
        explanation
            .note
            .as_deref()
            .unwrap_or("")
            .contains("mostly oracle"),
        "{explanation:?}"
    );
    // Explaining a whole list at once says the same as one item at a time.
    let history = crate::recommender::history_of(&data, 1);
    let items: Vec<u32> = top.iter().map(|&(i, _)| i).collect();
    let one_by_one: Vec<Explanation> = items.iter().map(|&i| blend.explain(&history, i)).collect();
    assert_eq!(blend.explain_many(&history, &items), one_by_one);
}

#[test]
fn bytes_round_trip_scores_identically() {
    let blend = fitted();
    let bytes = blend.to_bytes().unwrap();
    let back = Blend::from_bytes(
        &bytes,
        |name, _| -> Result<Box<dyn Recommender>, EngineError> {
            Ok(match name {
                "oracle" => Box::new(Oracle),
                "noise" => Box::new(Noise),
                other => panic!("unexpected member {other}"),
            })
        },
    )
    .unwrap();
    let history = [(4u32, 1.0f32), (7, 1.0)];
    let (mut a, mut b) = (vec![0.0f32; 45], vec![0.0f32; 45]);
    blend.score_history(&history, &mut a);
    back.score_history(&history, &mut b);
    assert_eq!(a, b);
    assert_eq!(back.member_names(), vec!["noise", "oracle"]);
}

/// What training reads for a history over the 45 planted items: features and
/// candidates.
fn training_features(blend: &Blend, history: &[(u32, f32)]) -> (Vec<f32>, Vec<bool>) {
    let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
    seen.sort_unstable();
    let owned = blend.member_scores(|m, s| m.score_history(history, s), 45);
    let view = View {
        history,
        scores: owned.iter().map(Vec::as_slice).collect(),
        seen: &seen,
    };
    features(&view, &blend.context, blend.config.candidates, 45)
}

#[test]
fn serving_scores_are_the_training_features_times_the_weights() {
    let blend = fitted();
    let history = [(4u32, 1.0f32), (7, 1.0), (10, 0.5)];
    let mut served = vec![0.0f32; 45];
    blend.score_history(&history, &mut served);
    let (x, candidate) = training_features(&blend, &history);
    let reference: Vec<f32> = x
        .chunks_exact(blend.dims())
        .map(|row| row.iter().zip(&blend.weights).map(|(x, w)| x * w).sum())
        .collect();
    let candidates: Vec<usize> = (0..45).filter(|&i| candidate[i]).collect();
    assert!(
        candidates.len() > 5 && candidates.len() < 45,
        "{candidates:?}"
    );
    for &i in &candidates {
        assert!(
            (served[i] - reference[i]).abs() <= 1e-5 * (1.0 + reference[i].abs()),
            "item {i}: served {} vs {}",
            served[i],
            reference[i]
        );
    }
    let lowest = candidates
        .iter()
        .map(|&i| served[i])
        .fold(f32::INFINITY, f32::min);
    assert!((0..45)
        .filter(|&i| !candidate[i])
        .all(|i| served[i] < lowest));
}

#[test]
fn contributions_are_each_members_training_features_times_its_weights() {
    let blend = fitted();
    let history = [(4u32, 1.0f32), (7, 1.0), (10, 0.5)];
    let (x, _) = training_features(&blend, &history);
    let items: Vec<u32> = (0..47).collect();
    let got = blend.contributions_many(&history, &items);
    // Right after scoring the same history (the members' scores memoised on this
    // thread), and after scoring another one: the same answers.
    let mut scores = vec![0.0f32; 45];
    blend.score_history(&history, &mut scores);
    assert_eq!(blend.contributions_many(&history, &items), got);
    blend.score_history(&[(1, 1.0)], &mut scores);
    assert_eq!(blend.contributions_many(&history, &items), got);
    let other = fitted();
    other.score_history(&history, &mut scores);
    assert_eq!(blend.contributions_many(&history, &items), got);
    assert_eq!(got.len(), items.len());
    assert!(got[45].is_empty() && got[46].is_empty(), "unknown items");
    for (item, contributions) in got.iter().take(45).enumerate() {
        let row = &x[item * blend.dims()..(item + 1) * blend.dims()];
        assert_eq!(contributions.len(), blend.members.len());
        for (m, &(name, value)) in contributions.iter().enumerate() {
            assert_eq!(name, blend.members[m].name());
            let want =
                row[2 * m] * blend.weights[2 * m] + row[2 * m + 1] * blend.weights[2 * m + 1];
            assert!(
                (value - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "item {item}, {name}: {value} vs {want}"
            );
        }
    }
}

#[test]
fn a_catalogue_grown_since_fitting_is_scored_without_a_panic() {
    let blend = fitted();
    let mut scores = vec![f32::NAN; 50];
    blend.score_history(&[(4, 1.0), (7, 1.0)], &mut scores);
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
}

#[test]
fn refuses_no_members_and_a_bad_share() {
    let data = planted();
    let err = Blend::new(BlendConfig::default(), Vec::new())
        .fit(&data)
        .unwrap_err();
    assert!(err.to_string().contains("at least one member"), "{err}");
    let config = BlendConfig {
        validation: 1.5,
        ..BlendConfig::default()
    };
    let err = Blend::new(config, vec![Box::new(Oracle)])
        .fit(&data)
        .unwrap_err();
    assert!(err.to_string().contains("blend.validation"), "{err}");
}

#[test]
fn context_features_read_categories_and_price_bands() {
    let item = |cats: &[&str], price: i64| ItemFeatures {
        title: "x".into(),
        categories: cats.iter().map(|c| c.to_string()).collect(),
        price_minor: Some(price),
        ..ItemFeatures::default()
    };
    let mut data = Dataset::from_dense(2, 4, &[(0, 0, 1.0), (1, 1, 1.0), (1, 2, 1.0), (1, 3, 1.0)]);
    data.features = vec![
        item(&["Cameras", "DSLR"], 100),
        item(&["Cameras", "Compact"], 200),
        item(&["Audio"], 300),
        item(&["Audio"], 400),
    ];
    let context = Context::build(&data, 4);
    let mut out = vec![[0.0f32; 4]; 4];
    context.features(&[(0, 1.0)], &mut out);
    // Item 0 shares both levels, item 1 one of two, items 2 and 3 none.
    assert_eq!(
        out.iter().map(|r| r[2]).collect::<Vec<_>>(),
        vec![1.0, 0.5, 0.0, 0.0]
    );
    // Price closeness falls with the band distance from the history's band.
    assert!(
        out[0][3] > out[1][3] && out[1][3] > out[2][3] && out[2][3] > out[3][3],
        "{out:?}"
    );
    // Popularity: item 0 has one user, like the others; all equal here.
    assert!(out.iter().all(|r| (r[0] - out[0][0]).abs() < 1e-6));
}

/// Each user walks a chain: items `s, s + 1, ..., s + 5` (mod 45) in time order.
fn chains() -> Dataset {
    let mut users = crate::data::IdMap::new();
    let mut items = crate::data::IdMap::new();
    for u in 0..60 {
        users.get_or_insert(&u.to_string());
    }
    for i in 0..45 {
        items.get_or_insert(&i.to_string());
    }
    let mut events = Vec::new();
    for u in 0..60u32 {
        let start = (u * 7) % 45;
        for step in 0..6u32 {
            events.push((u, (start + step) % 45, 1.0, i64::from(1_000 * u + step)));
        }
    }
    Dataset::from_timed(users, items, &events)
}

/// A member that scores by a given rule and counts its fits.
struct Scripted {
    name: &'static str,
    score: fn(&[(u32, f32)], &mut [f32]),
    fits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Recommender for Scripted {
    fn name(&self) -> &'static str {
        self.name
    }
    fn fit(&mut self, _: &Dataset) -> Result<(), EngineError> {
        self.fits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
    fn score_history(&self, history: &[(u32, f32)], scores: &mut [f32]) {
        scores.iter_mut().for_each(|s| *s = 0.0);
        (self.score)(history, scores);
    }
    fn similar_items(&self, _: u32, _: usize) -> Vec<(u32, f32)> {
        Vec::new()
    }
    fn explain(&self, _: &[(u32, f32)], _: u32) -> Explanation {
        Explanation::default()
    }
    fn to_bytes(&self) -> Result<Vec<u8>, EngineError> {
        Ok(Vec::new())
    }
}

/// Knows the chains: the item after the last one leads.
fn next_step(history: &[(u32, f32)], scores: &mut [f32]) {
    if let Some(&(last, _)) = history.last() {
        scores[(last as usize + 1) % 45] = 5.0;
    }
}

/// Knows where a chain goes but not its order: the ten items from its first, the
/// farther the higher.
fn bag(history: &[(u32, f32)], scores: &mut [f32]) {
    if let Some(&(first, _)) = history.first() {
        for step in 0..10u32 {
            scores[((first + step) % 45) as usize] = 1.0 + step as f32;
        }
    }
}

#[test]
fn the_latest_item_holdout_learns_what_comes_next_and_fits_the_members_twice() {
    let data = chains();
    let fit = |holdout: Holdout| {
        let fits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let config = BlendConfig {
            candidates: 10,
            holdout,
            ..BlendConfig::default()
        };
        let scripted = |name, score| {
            Box::new(Scripted {
                name,
                score,
                fits: fits.clone(),
            }) as Box<dyn Recommender>
        };
        let members = vec![
            scripted("bag", bag),
            scripted("next", next_step),
            Box::new(Noise),
        ];
        let mut blend = Blend::new(config, members);
        blend.fit(&data).expect("fits");
        (blend, fits.load(std::sync::atomic::Ordering::SeqCst))
    };
    // Each user's next step is the item after their last: the blend that learnt from
    // latest items puts it first for every user.
    let firsts = |blend: &Blend| {
        (0..60u32)
            .filter(|&u| {
                let top = crate::recommend(blend, &data, u, 1, Default::default());
                top.first().map(|t| t.0) == Some((u * 7 + 6) % 45)
            })
            .count()
    };
    let (last, fits) = fit(Holdout::Last);
    assert_eq!(
        fits,
        2 * 2,
        "each scripted member once on the split, once on everything"
    );
    let w: HashMap<String, f32> = last.weights().into_iter().collect();
    assert_eq!(firsts(&last), 60, "{w:?}");
    // A random share hides the middle of each chain, where the bag looks as good as
    // the next step: that blend does not find the next step for everyone.
    let (random, fits) = fit(Holdout::Random);
    assert_eq!(fits, 2 * (BlendConfig::default().folds + 1));
    assert!(firsts(&random) < 60, "{:?}", random.weights());
}

#[test]
fn the_validation_users_are_a_seeded_sample_of_the_held_out_ones() {
    use crate::eval::sample_users;
    let split = leave_last_out(&chains());
    assert_eq!(sample_users(&split, 100, 7), (0..60).collect::<Vec<u32>>());
    let some = sample_users(&split, 20, 7);
    assert_eq!(some.len(), 20);
    assert!(some.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(some, sample_users(&split, 20, 7));
    assert_ne!(some, sample_users(&split, 20, 8));
}

#[test]
fn training_reads_the_candidates_rows_of_the_full_features() {
    let blend = fitted();
    for history in [vec![(4u32, 1.0f32), (7, 1.0), (10, 0.5)], vec![(2, 1.0)]] {
        let (x, candidate) = training_features(&blend, &history);
        let mut seen: Vec<u32> = history.iter().map(|h| h.0).collect();
        seen.sort_unstable();
        let owned = blend.member_scores(|m, s| m.score_history(&history, s), 45);
        let view = View {
            history: &history,
            scores: owned.iter().map(Vec::as_slice).collect(),
            seen: &seen,
        };
        let (candidates, rows) = candidate_features(&view, &blend.context, blend.config.candidates);
        let want: Vec<u32> = (0..45).filter(|&i| candidate[i as usize]).collect();
        assert_eq!(candidates, want);
        let dims = blend.dims();
        for (row, &item) in rows.chunks_exact(dims).zip(&candidates) {
            let i = item as usize;
            assert_eq!(row, &x[i * dims..(i + 1) * dims], "item {item}");
        }
    }
}

/// NDCG@k of each group by a full sort (ties: negatives first), the reference for the
/// column-wise scoring and the rank counting training uses.
fn reference_ndcg(
    groups: &[(Vec<f32>, Vec<bool>, usize)],
    dims: usize,
    w: &[f64],
    k: usize,
) -> f64 {
    let total: f64 = groups
        .iter()
        .map(|(rows, positive, relevant)| {
            let mut scored: Vec<(f64, bool)> = rows
                .chunks_exact(dims)
                .zip(positive)
                .map(|(row, &p)| (row.iter().zip(w).map(|(&x, &w)| f64::from(x) * w).sum(), p))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let dcg: f64 = scored
                .iter()
                .take(k)
                .enumerate()
                .filter(|(_, s)| s.1)
                .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
                .sum();
            let ideal: f64 = (0..(*relevant).min(k))
                .map(|r| 1.0 / (r as f64 + 2.0).log2())
                .sum();
            dcg / ideal
        })
        .sum();
    total / groups.len() as f64
}

#[test]
fn training_ndcg_and_coordinate_ascent_match_a_full_sort() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let dims = 5;
    let raw: Vec<(Vec<f32>, Vec<bool>, usize)> = (0..200)
        .map(|g| {
            let rows = rng.gen_range(3..60);
            // Coarse values make ties; some groups have many positives.
            let x: Vec<f32> = (0..rows * dims)
                .map(|_| rng.gen_range(0..4) as f32 * 0.5)
                .collect();
            let share = if g % 4 == 0 { 0.5 } else { 0.05 };
            let mut positive: Vec<bool> = (0..rows).map(|_| rng.gen_bool(share)).collect();
            positive[rng.gen_range(0..rows)] = true;
            let relevant = positive.iter().filter(|&&p| p).count() + rng.gen_range(0..3);
            (x, positive, relevant)
        })
        .collect();
    let groups: Vec<Group> = raw
        .iter()
        .map(|(x, p, r)| Group::from_rows(x, dims, p.clone(), *r))
        .collect();
    for trial in 0..20 {
        let w: Vec<f64> = (0..dims)
            .map(|d| {
                if trial == 0 && d > 0 {
                    0.0
                } else {
                    rng.gen_range(-1.0..1.0)
                }
            })
            .collect();
        // A trial step of the ascent: the kept scores plus one column.
        let z: Vec<Vec<f64>> = raw
            .iter()
            .map(|(x, _, _)| {
                x.chunks_exact(dims)
                    .map(|row| row.iter().zip(&w).map(|(&x, w)| f64::from(x) * w).sum())
                    .collect()
            })
            .collect();
        let (d, step) = (trial % dims, 0.25 * (trial as f64 - 10.0));
        let mut moved = w.clone();
        moved[d] += step;
        for k in [1, 3, 10] {
            let fast = mean_ndcg(&groups, &w, k);
            let slow = reference_ndcg(&raw, dims, &w, k);
            assert!(
                (fast - slow).abs() < 1e-12,
                "k {k}, w {w:?}: {fast} vs {slow}"
            );
            let fast = mean_ndcg_moved(&groups, &z, d, step, k);
            let slow = reference_ndcg(&raw, dims, &moved, k);
            assert!(
                (fast - slow).abs() < 1e-12,
                "k {k}, moved {moved:?}: {fast} vs {slow}"
            );
        }
    }
    let start = vec![1.0, 0.0, 0.0, 0.0, 0.0];
    let before = reference_ndcg(&raw, dims, &start, 10);
    let (w, ndcg) = coordinate_ascent(&groups, start, 10, 5);
    // The incrementally kept scores give the same metric as scoring afresh, and the
    // ascent never ends below where it started.
    assert!((ndcg - reference_ndcg(&raw, dims, &w, 10)).abs() < 1e-9);
    assert!(ndcg >= before);
}

#[test]
fn standardisation_leaves_out_seen_and_non_finite_scores() {
    // Odd length (a tail past the lanes), infinities, NaN, and seen items in and past it.
    let scores: Vec<f32> = (0..23)
        .map(|i| match i {
            3 => f32::NEG_INFINITY,
            8 => f32::NAN,
            _ => ((i * 7) % 11) as f32 - 4.5,
        })
        .collect();
    let seen = [0u32, 3, 9, 22, 40];
    let kept: Vec<f64> = scores
        .iter()
        .enumerate()
        .filter(|(i, s)| s.is_finite() && !seen.contains(&(*i as u32)))
        .map(|(_, &s)| f64::from(s))
        .collect();
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    let std = (kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / kept.len() as f64).sqrt();
    // Sums run in f32: single precision is what a z-score needs.
    let (got_mean, got_std) = features::standardisation(&scores, &seen);
    assert!((got_mean - mean).abs() < 1e-6 * std, "{got_mean} vs {mean}");
    assert!((got_std - std).abs() < 1e-6 * std, "{got_std} vs {std}");
    // A catalogue-sized vector with a spread small next to its mean: no cancellation.
    let scores: Vec<f32> = (0..50_001u32)
        .map(|i| 1000.0 + ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let seen = [5u32, 17, 40_000];
    let kept: Vec<f64> = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| !seen.contains(&(*i as u32)))
        .map(|(_, &s)| f64::from(s))
        .collect();
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    let std = (kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / kept.len() as f64).sqrt();
    let (got_mean, got_std) = features::standardisation(&scores, &seen);
    assert!((got_mean - mean).abs() < 1e-5 * std, "{got_mean} vs {mean}");
    assert!((got_std - std).abs() < 1e-5 * std, "{got_std} vs {std}");
    // Outliers first (seen, and near f32's range), then typical scores.
    for outlier in [1000.0f32, 1e20, -3e38] {
        let mut scores: Vec<f32> = (0..20_000u32)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        scores[0] = outlier;
        scores[1] = outlier;
        let kept: Vec<f64> = scores[1..].iter().map(|&s| f64::from(s)).collect();
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        let std = (kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / kept.len() as f64).sqrt();
        let (got_mean, got_std) = features::standardisation(&scores, &[0]);
        assert!(
            (got_mean - mean).abs() < 1e-5 * std.max(1.0) && (got_std - std).abs() < 1e-5 * std,
            "outlier {outlier}: {got_mean} / {got_std} vs {mean} / {std}"
        );
        // Without the unseen outlier: the typical scores' own spread.
        let (_, typical) = features::standardisation(&scores[..], &[0, 1]);
        assert!(
            (typical - 0.2887).abs() < 1e-3,
            "outlier {outlier}: {typical}"
        );
    }
}

/// The listwise softmax loss plus L2, straight from row-major features: the reference
/// the Newton fit's derivatives are checked against.
fn reference_loss(raw: &[(Vec<f32>, Vec<bool>, usize)], dims: usize, w: &[f64], l2: f64) -> f64 {
    let total: f64 = raw
        .iter()
        .map(|(x, positive, _)| {
            let z: Vec<f64> = x
                .chunks_exact(dims)
                .map(|row| row.iter().zip(w).map(|(&x, w)| f64::from(x) * w).sum())
                .collect();
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_total = z.iter().map(|v| (v - max).exp()).sum::<f64>().ln() + max;
            let n_pos = positive.iter().filter(|&&p| p).count() as f64;
            z.iter()
                .zip(positive)
                .filter(|(_, &p)| p)
                .map(|(v, _)| (log_total - v) / n_pos)
                .sum::<f64>()
        })
        .sum();
    total / raw.len() as f64 + l2 * w.iter().map(|w| w * w).sum::<f64>()
}

#[test]
fn the_softmax_fit_has_exact_derivatives_and_ends_at_the_minimum() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let dims = 4;
    let raw: Vec<(Vec<f32>, Vec<bool>, usize)> = (0..150)
        .map(|_| {
            let rows = rng.gen_range(2..40);
            let x: Vec<f32> = (0..rows * dims).map(|_| rng.gen_range(-2.0..2.0)).collect();
            let mut positive: Vec<bool> = (0..rows).map(|_| rng.gen_bool(0.1)).collect();
            // Positives lean on the first feature, so the optimum is away from zero.
            let best = (0..rows)
                .max_by(|&a, &b| x[a * dims].total_cmp(&x[b * dims]))
                .unwrap();
            positive[best] = true;
            (x, positive, 1)
        })
        .collect();
    let groups: Vec<Group> = raw
        .iter()
        .map(|(x, p, r)| Group::from_rows(x, dims, p.clone(), *r))
        .collect();
    let l2 = 1e-3;
    let h = 1e-4;
    for _ in 0..5 {
        let w: Vec<f64> = (0..dims).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let (loss, grad, hess) = loss_and_derivatives(&groups, &w, l2);
        assert!((loss - reference_loss(&raw, dims, &w, l2)).abs() < 1e-9);
        let at = |moves: &[(usize, f64)]| {
            let mut v = w.clone();
            for &(d, by) in moves {
                v[d] += by;
            }
            reference_loss(&raw, dims, &v, l2)
        };
        for d in 0..dims {
            let numeric = (at(&[(d, h)]) - at(&[(d, -h)])) / (2.0 * h);
            assert!(
                (grad[d] - numeric).abs() < 1e-6,
                "gradient {d}: {} vs {numeric}",
                grad[d]
            );
            for e in 0..dims {
                let numeric =
                    (at(&[(d, h), (e, h)]) - at(&[(d, h), (e, -h)]) - at(&[(d, -h), (e, h)])
                        + at(&[(d, -h), (e, -h)]))
                        / (4.0 * h * h);
                let exact = hess[d * dims + e];
                assert!(
                    (exact - numeric).abs() < 1e-4,
                    "hessian {d},{e}: {exact} vs {numeric}"
                );
            }
        }
    }
    let config = BlendConfig {
        l2,
        ..BlendConfig::default()
    };
    let (w, loss) = train(&groups, dims, &config);
    let (at_w, grad, _) = loss_and_derivatives(&groups, &w, l2);
    assert!((loss - at_w).abs() < 1e-12);
    // The minimum of a convex loss: no gradient left, and no nearby point lower.
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(norm < 1e-6, "gradient norm {norm} at {w:?}");
    assert!(w[0] > 0.5, "the informative feature's weight {w:?}");
    for d in 0..dims {
        for by in [-1e-2, 1e-2] {
            let mut v = w.clone();
            v[d] += by;
            assert!(reference_loss(&raw, dims, &v, l2) > loss);
        }
    }
}

#[test]
fn the_softmax_fit_moves_without_a_penalty_past_an_all_zero_feature() {
    // No L2 and a feature that is zero everywhere: a singular Hessian.
    let raw: Vec<(Vec<f32>, Vec<bool>, usize)> = (0..40)
        .map(|g| {
            let rows = 5 + g % 7;
            let x: Vec<f32> = (0..rows)
                .flat_map(|r| [((r * 3 + g) % 5) as f32 * 0.5, 0.0])
                .collect();
            // The positive is usually, not always, the row with the largest feature.
            let best = (0..rows)
                .max_by(|&a, &b| x[a * 2].total_cmp(&x[b * 2]).then(b.cmp(&a)))
                .unwrap();
            let mut positive = vec![false; rows];
            positive[if g % 4 == 0 { (best + 1) % rows } else { best }] = true;
            (x, positive, 1)
        })
        .collect();
    let groups: Vec<Group> = raw
        .iter()
        .map(|(x, p, r)| Group::from_rows(x, 2, p.clone(), *r))
        .collect();
    let config = BlendConfig {
        l2: 0.0,
        ..BlendConfig::default()
    };
    let (w, loss) = train(&groups, 2, &config);
    let (_, grad, _) = loss_and_derivatives(&groups, &w, 0.0);
    assert!(w[0] > 0.5, "{w:?}");
    assert!(grad[0].abs() < 1e-6, "{grad:?} at {w:?}");
    assert!(loss < reference_loss(&raw, 2, &[0.0, 0.0], 0.0));
}
