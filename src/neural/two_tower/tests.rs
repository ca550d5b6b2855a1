//! The two-tower model on planted product families.

use super::*;
use crate::data::ItemFeatures;
use crate::neural::values;
use burn::tensor::Device;

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
