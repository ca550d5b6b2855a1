//! Engine benchmarks: top-10 for one user over 10k and 1M items (64 dimensions, one
//! thread), fold-in of one shopper, and the fit of each model on MovieLens-100k (read from
//! ../shared/datasets, or $CURIO_DATASETS). Run: `cargo bench -p curio --bench engine`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use curio::eval::stratified_split;
use curio::models::{
    Als, AlsConfig, Bpr, BprConfig, Ease, EaseConfig, ItemKnn, ItemKnnConfig, Popularity, UserKnn,
    UserKnnConfig,
};
use curio::topk::top_k_dot;
use curio::{Dataset, Recommender};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DIMS: usize = 64;

fn top_10(c: &mut Criterion) {
    let mut group = c.benchmark_group("top-10 of one user, 64 dims, one thread");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let user: Vec<f32> = (0..DIMS).map(|_| rng.gen_range(-1.0..1.0)).collect();
    for n_items in [10_000usize, 1_000_000] {
        let items: Vec<f32> = (0..n_items * DIMS)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        group.bench_with_input(BenchmarkId::from_parameter(n_items), &items, |b, items| {
            b.iter(|| top_k_dot(std::hint::black_box(&user), items, DIMS, 10))
        });
    }
    group.finish();
}

fn ml_100k() -> Dataset {
    let dir = std::env::var_os("CURIO_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    let path = dir.join("ml-100k/u.data");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ratings = curio::movielens::read_ratings(std::io::BufReader::new(file), "u.data").unwrap();
    stratified_split(&curio::movielens::implicit_dataset(&ratings), 0.75, 42).train
}

fn fold_in(c: &mut Criterion) {
    let data = ml_100k();
    let mut als = Als::new(AlsConfig::default());
    als.fit(&data).unwrap();
    let history: Vec<(u32, f32)> = (0..20).map(|i| (i * 7, 1.0)).collect();
    c.bench_function("ALS fold-in of a 20-item history (default factors)", |b| {
        b.iter(|| als.fold_in(std::hint::black_box(&history)))
    });
}

fn fit(c: &mut Criterion) {
    let data = ml_100k();
    let mut group = c.benchmark_group("fit on ML-100k (75% split)");
    group.sample_size(10);
    let models: Vec<Box<dyn Fn() -> Box<dyn Recommender>>> = vec![
        Box::new(|| Box::new(Popularity::new())),
        Box::new(|| Box::new(ItemKnn::new(ItemKnnConfig::default()))),
        Box::new(|| Box::new(UserKnn::new(UserKnnConfig::default()))),
        Box::new(|| Box::new(Ease::new(EaseConfig::default()))),
        Box::new(|| Box::new(Als::new(AlsConfig::default()))),
        Box::new(|| Box::new(Bpr::new(BprConfig::default()))),
    ];
    for make in &models {
        let name = make().name();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut model = make();
                model.fit(&data).unwrap();
                model
            })
        });
    }
    group.finish();
}

criterion_group!(benches, top_10, fold_in, fit);
criterion_main!(benches);
