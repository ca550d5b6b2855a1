//! Training and serving figures of the neural models: NeuMF and two-tower on MovieLens-100k
//! (Microsoft Recommenders split: stratified 75/25, seed 42; titles and genres as
//! features), SASRec on Amazon Video Games (the training part of leave-last-out).
//!
//! Each model runs in a child process of its own with RAYON_NUM_THREADS=2, so its peak
//! resident memory (VmHWM) is its own. Prints seconds per epoch (median of the epochs
//! run), peak memory, and the time to score one user over the whole catalogue and pick
//! the top 10 (median and p99 over 500 users).
//!
//! Run: `cargo bench -p curio --bench neural` (reads ../shared/datasets/ml-100k and
//! amazon-games/Video.txt, or the same under $CURIO_DATASETS). `NEURAL_BENCH_EPOCHS` sets
//! the epochs timed (default 5), `NEURAL_BENCH_MODELS` the models (default all three).

use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use curio::eval::{leave_last_out, stratified_split};
use curio::neural::{NeuMf, NeuMfConfig, SasRec, SasRecConfig, TwoTower, TwoTowerConfig};
use curio::topk::top_k;
use curio::{Dataset, Recommender};

fn datasets() -> PathBuf {
    std::env::var_os("CURIO_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"))
}

fn ml_100k() -> Dataset {
    let dir = datasets().join("ml-100k");
    let open = |name: &str| {
        let path = dir.join(name);
        BufReader::new(
            std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("{} is needed: {e}", path.display())),
        )
    };
    let ratings = curio::movielens::read_ratings(open("u.data"), "u.data").unwrap();
    let mut data = curio::movielens::implicit_dataset(&ratings);
    let genres = curio::movielens::read_genres(open("u.genre"), "u.genre").unwrap();
    let items = curio::movielens::read_items(open("u.item"), &genres, "u.item").unwrap();
    curio::movielens::attach_features(&mut data, items);
    stratified_split(&data, 0.75, 42).train
}

/// Amazon Video Games, each user's items in file (time) order; the training part of
/// leave-last-out.
fn games() -> Dataset {
    let path = datasets().join("amazon-games/Video.txt");
    let data = curio::interaction_files::load(&path)
        .unwrap_or_else(|e| panic!("{} is needed: {e}", path.display()));
    leave_last_out(&data).train
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn child(model_name: &str) {
    let epochs: usize = std::env::var("NEURAL_BENCH_EPOCHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let data = if model_name == "sasrec" {
        games()
    } else {
        ml_100k()
    };
    let rss_before = peak_rss_mib();
    let mut model: Box<dyn Recommender> = match model_name {
        "neumf" => Box::new(NeuMf::new(NeuMfConfig {
            epochs,
            validation: 0.0,
            ..NeuMfConfig::default()
        })),
        "sasrec" => Box::new(SasRec::new(SasRecConfig {
            epochs,
            validation: false,
            ..SasRecConfig::default()
        })),
        _ => Box::new(TwoTower::new(TwoTowerConfig {
            epochs,
            validation: 0.0,
            ..TwoTowerConfig::default()
        })),
    };
    let mut seconds = Vec::new();
    model
        .fit_with_progress(&data, &mut |r| seconds.push(r.seconds))
        .unwrap();
    let peak = peak_rss_mib();
    let mut scores = vec![0.0f32; data.n_items()];
    let mut latencies = Vec::new();
    for user in 0..500u32 {
        let user = user % data.n_users() as u32;
        let started = Instant::now();
        model.score_user(&data, user, &mut scores);
        let seen = data.user_items(user).0;
        let top = top_k(&scores, 10, |i| seen.binary_search(&(i as usize)).is_ok());
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(top.len(), 10);
    }
    let p50 = median(&mut latencies.clone());
    latencies.sort_by(f64::total_cmp);
    let p99 = latencies[latencies.len() * 99 / 100];
    println!(
        "{:<10} {:>8.3} s/epoch (median of {} epochs: {})   peak RSS {:>6.0} MiB (data loaded: {:.0} MiB)   top-10 of {} items: p50 {:.3} ms, p99 {:.3} ms",
        model_name,
        median(&mut seconds.clone()),
        seconds.len(),
        seconds
            .iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        peak,
        rss_before,
        data.n_items(),
        p50,
        p99
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(args.get(at + 1).map(String::as_str).unwrap_or("neumf"));
        return;
    }
    println!(
        "MovieLens-100k, stratified 75/25 train split (seed 42); Amazon Video Games, leave-last-out train split (sasrec); flex backend, RAYON_NUM_THREADS=2, release build"
    );
    let exe = std::env::current_exe().expect("own path");
    let models =
        std::env::var("NEURAL_BENCH_MODELS").unwrap_or_else(|_| "neumf,two-tower,sasrec".into());
    for model in models.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let status = std::process::Command::new(&exe)
            .args(["--child", model])
            .env("RAYON_NUM_THREADS", "2")
            .status()
            .expect("the bench can run itself");
        assert!(status.success(), "{model} failed");
    }
}
