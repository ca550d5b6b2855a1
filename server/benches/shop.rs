//! The shop's figures on this machine: first-start generation of the demo shop, import
//! rate of MovieLens-100k, search latency over 1,000 queries, and server-side rendering
//! time of the home page and a category page with the default catalogue.
//! Run: `cargo bench -p server --bench shop` (MovieLens from ../shared/datasets or
//! `CURIO_DATASETS`; skipped with a note when absent). Every figure is a median of
//! several runs, printed with its spread.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use server::config::Config;
use server::services::search::{Filters, SearchIndex, Sort};
use server::store::db::Database;
use server::store::Store;
use tower::ServiceExt;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("curio_bench_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

async fn sqlite_store(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}/curio.db", dir.display());
    Store::new(Database::connect(Some(&url), dir).await.expect("database"))
}

fn quantile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

fn median(mut samples: Vec<f64>) -> (f64, f64, f64) {
    let mid = quantile(&mut samples, 0.5);
    (mid, samples[0], samples[samples.len() - 1])
}

#[tokio::main]
async fn main() {
    const RUNS: usize = 3;

    // 1. First start: generate the demo shop and write it to a fresh SQLite database.
    let mut generate = Vec::new();
    let mut write = Vec::new();
    let mut total = Vec::new();
    let mut events = 0;
    for run in 0..RUNS {
        let dir = temp_dir(&format!("seed{run}"));
        let store = sqlite_store(&dir).await;
        let started = Instant::now();
        let report = server::services::seed::seed(&store, &curio::demo::DemoConfig::default())
            .await
            .expect("seed");
        total.push(started.elapsed().as_secs_f64());
        generate.push(report.generate_secs);
        write.push(report.write_secs);
        events = report.counts.interactions;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (g, _, _) = median(generate);
    let (w, _, _) = median(write);
    let (t, lo, hi) = median(total);
    println!(
        "first start (demo shop, {events} events, SQLite): {t:.2} s median (min {lo:.2}, max {hi:.2}); \
         generate {g:.2} s + write {w:.2} s"
    );

    // 2. MovieLens-100k import rate.
    let datasets = std::env::var_os("CURIO_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"));
    let ml = datasets.join("ml-100k");
    if ml.join("u.data").exists() {
        let mut rates = Vec::new();
        for run in 0..RUNS {
            let dir = temp_dir(&format!("ml{run}"));
            let store = sqlite_store(&dir).await;
            let args = server::cli::import::ImportArgs {
                format: "movielens".into(),
                map: Vec::new(),
                paths: vec![ml.clone()],
            };
            let started = Instant::now();
            let report = server::cli::import::run_import(&store, &args)
                .await
                .expect("import");
            let secs = started.elapsed().as_secs_f64();
            rates.push(report.summary.rows_read as f64 / secs);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let (rate, lo, hi) = median(rates);
        println!(
            "MovieLens-100k import (101,682 rows, SQLite): {rate:.0} rows/s median (min {lo:.0}, max {hi:.0})"
        );
    } else {
        println!("MovieLens-100k import: skipped, {} not found", ml.display());
    }

    // 3. Search latency on the default catalogue, and 4. SSR of two pages.
    let dir = temp_dir("serve");
    let store = sqlite_store(&dir).await;
    server::services::seed::seed(&store, &curio::demo::DemoConfig::default())
        .await
        .expect("seed");
    let index = SearchIndex::new().expect("index");
    index
        .rebuild(
            store.categories().await.expect("categories"),
            store.indexed_products(None).await.expect("products"),
        )
        .expect("rebuild");
    // Queries from real titles: one word, two words, a typo, a prefix, with filters.
    let cards = store
        .cards(&(1..=1000).collect::<Vec<i64>>())
        .await
        .expect("cards");
    let mut queries: Vec<(String, Filters, Sort)> = Vec::new();
    for (i, card) in cards.iter().enumerate() {
        let words: Vec<&str> = card
            .title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .collect();
        let Some(word) = words.get(i % words.len().max(1)) else {
            continue;
        };
        let text = match i % 4 {
            0 => word.to_string(),
            1 => words.iter().take(2).copied().collect::<Vec<_>>().join(" "),
            2 => {
                // Drop one letter: a typo.
                let mut letters: Vec<char> = word.chars().collect();
                letters.remove(letters.len() / 2);
                letters.into_iter().collect()
            }
            _ => word.chars().take(4).collect(),
        };
        let filters = if i % 5 == 0 {
            Filters {
                price_max: Some(10_000),
                ..Filters::default()
            }
        } else {
            Filters::default()
        };
        let sort = if i % 3 == 0 {
            Sort::PriceLow
        } else {
            Sort::Relevance
        };
        queries.push((text, filters, sort));
    }
    let mut rounds = Vec::new();
    for _ in 0..RUNS {
        let mut latencies = Vec::with_capacity(queries.len());
        for (text, filters, sort) in &queries {
            let started = Instant::now();
            let outcome = index.search(text, filters, *sort, 0, 24).expect("search");
            std::hint::black_box(outcome);
            latencies.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let p50 = quantile(&mut latencies, 0.5);
        let p99 = quantile(&mut latencies, 0.99);
        rounds.push((p50, p99));
    }
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (p50, p99) = rounds[RUNS / 2];
    println!(
        "search over {} products, {} queries (words, pairs, typos, prefixes, filters): \
         p50 {p50:.2} ms, p99 {p99:.2} ms (median round of {RUNS})",
        index.len(),
        queries.len()
    );

    let mut config = Config::for_tests(format!("sqlite://{}/curio.db", dir.display()), dir.clone());
    config.no_demo_data = true;
    let services = server::build(&config).await.expect("server");
    for (name, path) in [
        ("home page", "/"),
        ("category page", "/c/electronics-cameras"),
    ] {
        let mut samples = Vec::new();
        for i in 0..60 {
            let mut request = Request::get(path)
                .header(header::HOST, "127.0.0.1:3000")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .expect("request");
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
            let started = Instant::now();
            let response = services
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("response");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let elapsed = started.elapsed();
            assert!(status.is_success(), "{path}: {status}");
            assert!(body.len() > 1000);
            if i >= 10 {
                samples.push(elapsed.as_secs_f64() * 1e3);
            }
        }
        let p50 = quantile(&mut samples, 0.5);
        let p99 = quantile(&mut samples, 0.99);
        println!(
            "SSR {name} ({path}): p50 {p50:.2} ms, p99 {p99:.2} ms over {} requests",
            samples.len()
        );
    }
    drop(services);
    std::thread::sleep(Duration::from_millis(100));
    let _ = std::fs::remove_dir_all(&dir);
}
