//! The hybrid blender against every one of its members, on MovieLens-100k (Microsoft
//! Recommenders protocol: stratified 75/25, seed 42, NDCG@10 over all unseen items) and
//! on the generated default shop. Its weights are learned on validation splits nested in
//! the training data; the test split is never seen before `evaluate`.

mod common;

use common::ml_100k;
use curio::blend::{Blend, BlendConfig};
use curio::eval::{evaluate, stratified_split, Report};
use curio::models::{
    Als, AlsConfig, Bpr, BprConfig, Content, ContentConfig, Ease, EaseConfig, ItemKnn,
    ItemKnnConfig, Popularity, SessionKnn, SessionKnnConfig, UserKnn, UserKnnConfig,
};
use curio::Recommender;

/// The members `curio eval --models blend` uses by default, with default settings.
fn members() -> Vec<Box<dyn Recommender>> {
    vec![
        Box::new(Popularity::new()),
        Box::new(ItemKnn::new(ItemKnnConfig::default())),
        Box::new(UserKnn::new(UserKnnConfig::default())),
        Box::new(Ease::new(EaseConfig::default())),
        Box::new(Als::new(AlsConfig::default())),
        Box::new(Bpr::new(BprConfig::default())),
        Box::new(Content::new(ContentConfig::default())),
        Box::new(SessionKnn::new(SessionKnnConfig::default())),
    ]
}

fn blend_beats_every_member(data: &curio::Dataset) {
    let split = stratified_split(data, 0.75, 42);
    let mut singles: Vec<Report> = Vec::new();
    for mut model in members() {
        model.fit(&split.train).unwrap();
        singles.push(evaluate(model.as_ref(), &split, 10));
    }
    let mut blend = Blend::new(BlendConfig::default(), members());
    blend.fit(&split.train).unwrap();
    let report = evaluate(&blend, &split, 10);
    for r in singles.iter().chain([&report]) {
        println!(
            "{:<12} NDCG@10 {:.4}  R@10 {:.4}",
            r.model, r.metrics.ndcg, r.metrics.recall
        );
    }
    println!("weights: {:?}", blend.weights());
    for single in &singles {
        assert!(
            report.metrics.ndcg > single.metrics.ndcg,
            "blend {:.4} is not above {} {:.4}",
            report.metrics.ndcg,
            single.model,
            single.metrics.ndcg
        );
    }
    // Saved and read back, it ranks the same.
    let back = Blend::from_bytes(&blend.to_bytes().unwrap(), curio::registry::from_bytes).unwrap();
    let user = 3;
    let a = curio::recommend(&blend, &split.train, user, 10, Default::default());
    let b = curio::recommend(&back, &split.train, user, 10, Default::default());
    assert_eq!(a, b);
}

#[test]
fn blend_beats_every_member_on_ml_100k() {
    blend_beats_every_member(&ml_100k());
}

#[test]
fn blend_beats_every_member_on_the_generated_shop() {
    blend_beats_every_member(&curio::demo::generate(&curio::demo::DemoConfig::default()).dataset());
}
