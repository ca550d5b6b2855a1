//! Load test of the live recommendations over loopback HTTP: the real server (router,
//! sessions, SQLite) on the default generated shop, 64 keep-alive connections each with
//! its own shopper, asking for "for you" as fast as answers come.
//!
//! Prints, per round: requests per second and p50/p90/p99/max latency of recommendation
//! calls; whether the call right after a like already reflected it (the liked product
//! gone, the list changed); and the same figures for a round run while the service
//! retrains and swaps its models, with the number of failed requests.
//!
//! `cargo bench -p server --bench recs_load` (release). The load generator shares the
//! machine's cores with the server, so the figures are the pair's, not the server's alone.
//! `RECS_LOAD_LIKE_EVERY=N` makes one call in N a like (default 20; 0: reads alone).
//! `RECS_LOAD_STEADY_ONLY=1` stops after the closed-loop rounds, and `RECS_LOAD_RATE=N`
//! runs only three paced rounds at N calls/s (for quick A/B runs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use server::config::Config;
use server::store::Store;

const CONNECTIONS: usize = 64;
const ROUND: Duration = Duration::from_secs(8);
const ROUNDS: usize = 3;
/// Open-loop rates, as shares of the closed loop's throughput.
const PACED_SHARES: [f64; 3] = [0.25, 0.5, 0.75];
/// One call in this many is a like (then the next call checks it shows), unless
/// `RECS_LOAD_LIKE_EVERY` says otherwise (0: no likes, reads alone).
const LIKE_EVERY: usize = 20;

fn like_every() -> usize {
    std::env::var("RECS_LOAD_LIKE_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LIKE_EVERY)
}

struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    cookie: Option<String>,
    addr: SocketAddr,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        Self {
            sender,
            cookie: None,
            addr,
        }
    }

    /// POSTs JSON to a server function; returns the status and body.
    async fn call(&mut self, endpoint: &str, body: serde_json::Value) -> (u16, Bytes) {
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header("host", self.addr.to_string())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("origin", format!("http://{}", self.addr))
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        if let Some(set) = response.headers().get("set-cookie") {
            let value = set.to_str().unwrap_or_default();
            if let Some(pair) = value.split(';').next() {
                if pair.starts_with(server::http::sessions::COOKIE_NAME) {
                    self.cookie = Some(pair.to_string());
                }
            }
        }
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body)
    }
}

fn for_you() -> serde_json::Value {
    serde_json::json!({"query": {"surface": "for_you", "product": null, "category": null,
        "price_min": null, "price_max": null}})
}

/// The product ids of a recommendation row. Only the ids are read into memory (the
/// rest of each card is skipped), to keep the load generator's share of the two cores
/// small.
fn ids(body: &Bytes) -> Vec<i64> {
    #[derive(serde::Deserialize)]
    struct Row {
        items: Vec<Card>,
    }
    #[derive(serde::Deserialize)]
    struct Card {
        product: Product,
    }
    #[derive(serde::Deserialize)]
    struct Product {
        id: i64,
    }
    let row: Row = serde_json::from_slice(body).expect("a recommendation row");
    row.items.into_iter().map(|c| c.product.id).collect()
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    /// The same calls timed from when they were sent, not due: in a paced round, a call
    /// due while its connection still waited for a like's answer is sent late, and only
    /// the time from sending is the server's answer to it.
    sent_ms: Vec<f64>,
    /// The like calls' own latencies (recorded, lists re-scored, answered).
    like_ms: Vec<f64>,
    failures: usize,
    likes: usize,
    reflected: usize,
}

/// Runs the load for `duration` on every connection; hands the connections back.
///
/// `rate: None` is a closed loop: each connection sends its next call when the last is
/// answered, so the latency is what a saturated server gives. `Some(rate)` is an open
/// loop at `rate` calls per second in all, spread evenly over the connections; a call is
/// timed from when it was due, so a late answer also counts against the calls queued
/// behind it (no coordinated omission).
async fn round(
    connections: Vec<Connection>,
    duration: Duration,
    rate: Option<f64>,
) -> (Vec<Connection>, Tally, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let count = connections.len();
    let mut tasks = Vec::new();
    for (n, mut connection) in connections.into_iter().enumerate() {
        let stop = stop.clone();
        // Each connection's own period, and its phase within it.
        let schedule = rate.map(|rate| {
            let period = Duration::from_secs_f64(count as f64 / rate);
            (period, started + period.mul_f64(n as f64 / count as f64))
        });
        let like_every = like_every();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut last: Vec<i64> = Vec::new();
            let mut calls = n;
            let mut due = schedule.map(|(_, first)| first);
            while !stop.load(Ordering::Relaxed) {
                calls += 1;
                if let (Some(at), Some((period, _))) = (due.as_mut(), schedule) {
                    tokio::time::sleep_until((*at).into()).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    *at += period;
                }
                if like_every > 0 && calls.is_multiple_of(like_every) && last.len() > 3 {
                    // Like something from the list just shown, then check at once.
                    let liked = last[3];
                    let sent = match (due, schedule) {
                        (Some(next), Some((period, _))) => next - period,
                        _ => Instant::now(),
                    };
                    let (status, _) = connection
                        .call(
                            "shop/feedback",
                            serde_json::json!({"product_id": liked, "feedback": "Like",
                                "surface": "for_you"}),
                        )
                        .await;
                    tally.like_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                    if status != 200 {
                        tally.failures += 1;
                        continue;
                    }
                    let before = last.clone();
                    let sent = Instant::now();
                    let (status, body) = connection.call("shop/recs", for_you()).await;
                    tally.latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                    tally.sent_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                    if status != 200 {
                        tally.failures += 1;
                        continue;
                    }
                    let now = ids(&body);
                    tally.likes += 1;
                    if !now.contains(&liked) && now != before {
                        tally.reflected += 1;
                    }
                    last = now;
                    continue;
                }
                let sent = match (due, schedule) {
                    (Some(next), Some((period, _))) => next - period,
                    _ => Instant::now(),
                };
                let issued = Instant::now();
                let (status, body) = connection.call("shop/recs", for_you()).await;
                tally.latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                tally.sent_ms.push(issued.elapsed().as_secs_f64() * 1e3);
                if status == 200 {
                    last = ids(&body);
                } else {
                    tally.failures += 1;
                }
            }
            (connection, tally)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Tally::default();
    let mut back = Vec::new();
    for task in tasks {
        let (connection, tally) = task.await.expect("client task");
        back.push(connection);
        total.latencies_ms.extend(tally.latencies_ms);
        total.sent_ms.extend(tally.sent_ms);
        total.like_ms.extend(tally.like_ms);
        total.failures += tally.failures;
        total.likes += tally.likes;
        total.reflected += tally.reflected;
    }
    let seconds = started.elapsed().as_secs_f64();
    (back, total, seconds)
}

fn curio_now_ms() -> i64 {
    server::clock::unix_millis()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn report(label: &str, tally: &mut Tally, seconds: f64) -> (f64, f64, f64) {
    tally.latencies_ms.sort_by(f64::total_cmp);
    tally.like_ms.sort_by(f64::total_cmp);
    tally.sent_ms.sort_by(f64::total_cmp);
    let likes = &tally.like_ms;
    let l = &tally.latencies_ms;
    let (p50, p90, p99) = (quantile(l, 0.5), quantile(l, 0.9), quantile(l, 0.99));
    let rps = l.len() as f64 / seconds;
    // Little's law: the connections busy with a like call at any moment, on average
    // (the rest are asking for recommendations or between calls).
    let in_likes = likes.iter().sum::<f64>() / 1e3 / seconds;
    println!(
        "{label}: {:>6} calls, {rps:>7.0}/s, p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, \
         max {:.2} ms (from sending: p99 {:.2} ms, max {:.2} ms), failed {}, likes reflected \
         by the next call {}/{} (like calls p50 {:.2} ms, p99 {:.2} ms; {in_likes:.1} \
         connections in a like call on average)",
        l.len(),
        l.last().copied().unwrap_or(f64::NAN),
        quantile(&tally.sent_ms, 0.99),
        tally.sent_ms.last().copied().unwrap_or(f64::NAN),
        tally.failures,
        tally.reflected,
        tally.likes,
        quantile(likes, 0.5),
        quantile(likes, 0.99)
    );
    (p50, p99, rps)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let dir = std::env::temp_dir().join(format!("curio_recs_load_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut config = Config::for_tests(format!("sqlite://{}/curio.db", dir.display()), dir.clone());
    // The served set without the neural models (minutes to train on 2 cores; they are
    // variants like any other once trained).
    config.models = [
        "popularity",
        "trending",
        "content",
        "item-knn",
        "user-knn",
        "als",
        "bpr",
        "blend",
    ]
    .map(String::from)
    .to_vec();

    let started = Instant::now();
    let database = server::store::db::Database::connect(config.database_url.as_deref(), &dir)
        .await
        .expect("database");
    let store = Store::new(database);
    server::services::seed::seed(&store, &curio::demo::DemoConfig::default())
        .await
        .expect("seed");
    println!(
        "generated shop written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let services = server::build(&config).await.expect("server");
    let started = Instant::now();
    let outcome = services
        .recs
        .train_and_publish(config.models.clone(), "serve", false)
        .await
        .expect("training");
    println!(
        "full model set trained in {:.1} s: {outcome:?}",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = services.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });

    // Each connection is a shopper with a few likes behind them (so "for you" is
    // personal, not the fallback).
    let products = store.training_products().await.expect("products");
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for n in 0..CONNECTIONS {
        let mut connection = Connection::open(addr).await;
        for k in 0..3 {
            let product = products[(n * 97 + k * 13) % products.len()].product_id;
            let (status, body) = connection
                .call(
                    "shop/feedback",
                    serde_json::json!({"product_id": product, "feedback": "Like",
                        "surface": "bench"}),
                )
                .await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
        connections.push(connection);
    }
    println!(
        "{CONNECTIONS} connections, one shopper each; \"for you\" served by {:?}",
        services.recs.current().model_names()
    );
    // Warm-up: every shopper's live state loaded.
    let (mut connections, _, _) = round(connections, Duration::from_secs(2), None).await;

    if let Some(rate) = std::env::var("RECS_LOAD_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        for r in 1..=ROUNDS {
            let (back, mut tally, seconds) = round(connections, ROUND, Some(rate)).await;
            connections = back;
            report(&format!("paced {rate:.0}/s round {r}"), &mut tally, seconds);
        }
        return;
    }

    let mut steady = Vec::new();
    for r in 1..=ROUNDS {
        let (back, mut tally, seconds) = round(connections, ROUND, None).await;
        connections = back;
        steady.push(report(&format!("steady round {r}"), &mut tally, seconds));
    }
    steady.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (p50, p99, rps) = steady[ROUNDS / 2];
    println!("steady, median round by p99: p50 {p50:.2} ms, p99 {p99:.2} ms, {rps:.0}/s");
    if std::env::var("RECS_LOAD_STEADY_ONLY").is_ok() {
        return;
    }

    // The same 64 connections at set rates below saturation: the latency a shopper sees
    // when the server is busy but keeping up.
    for share in PACED_SHARES {
        let rate = (rps * share).round();
        let mut rounds = Vec::new();
        for r in 1..=ROUNDS {
            let (back, mut tally, seconds) = round(connections, ROUND, Some(rate)).await;
            connections = back;
            rounds.push(report(
                &format!(
                    "paced {rate:.0}/s ({:.0}% of saturation) round {r}",
                    share * 100.0
                ),
                &mut tally,
                seconds,
            ));
        }
        rounds.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (p50, p99, _) = rounds[ROUNDS / 2];
        println!("paced {rate:.0}/s, median round by p99: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }

    // From memory, in process: one shopper's "for you" right after an event (recomputed)
    // and again (served from their cached list), without HTTP, session or cards.
    let recs = services.recs.clone();
    let request = server::recs::SurfaceRequest {
        surface: "for_you".into(),
        ..Default::default()
    };
    // Shoppers 1..=200 of the generated shop: each is shown "for you", then an event
    // arrives (recorded in memory, and the shown list scored again), then the next list.
    let (mut first, mut events, mut next) = (Vec::new(), Vec::new(), Vec::new());
    for (n, shopper) in (1..=200i64).enumerate() {
        let started = Instant::now();
        recs.recommend(Some(shopper), &request)
            .await
            .expect("first list");
        first.push(started.elapsed().as_secs_f64() * 1e3);
        let product = products[(n * 31) % products.len()].product_id;
        let started = Instant::now();
        recs.observe(
            shopper,
            product,
            curio::InteractionKind::Like,
            None,
            curio_now_ms(),
        )
        .await
        .expect("observe");
        events.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let after = recs
            .recommend(Some(shopper), &request)
            .await
            .expect("next list");
        next.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(
            after.items.iter().all(|i| i.product_id != product),
            "the liked product is still recommended"
        );
    }
    for v in [&mut first, &mut events, &mut next] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "in process, one call at a time, 200 shoppers: first list p50 {:.2} ms, p99 {:.2} ms; \
         an event (live state + shown lists re-scored) p50 {:.2} ms, p99 {:.2} ms; \
         the list after it p50 {:.3} ms, p99 {:.3} ms",
        quantile(&first, 0.5),
        quantile(&first, 0.99),
        quantile(&events, 0.5),
        quantile(&events, 0.99),
        quantile(&next, 0.5),
        quantile(&next, 0.99)
    );

    // A retrain of the whole set under the same load, swapped in whatever its metrics
    // (the point is the swap; the gate is tested in tests/recs.rs).
    let models = config.models.clone();
    let training = tokio::spawn(async move {
        let started = Instant::now();
        let outcome = recs.train_and_publish(models, "serve", true).await;
        (outcome, started.elapsed().as_secs_f64())
    });
    let mut during = Tally::default();
    let mut seconds = 0.0;
    while !training.is_finished() {
        let (back, tally, s) = round(connections, Duration::from_secs(2), None).await;
        connections = back;
        during.latencies_ms.extend(tally.latencies_ms);
        during.sent_ms.extend(tally.sent_ms);
        during.like_ms.extend(tally.like_ms);
        during.failures += tally.failures;
        during.likes += tally.likes;
        during.reflected += tally.reflected;
        seconds += s;
    }
    let (outcome, train_seconds) = training.await.expect("training task");
    println!(
        "retrain under load took {train_seconds:.1} s: {:?}",
        outcome.expect("retrain")
    );
    report("during the retrain and swap", &mut during, seconds);
    let (connections, mut tally, seconds) = round(connections, ROUND, None).await;
    report("after the swap", &mut tally, seconds);
    drop(connections);
    drop(services);
    let _ = std::fs::remove_dir_all(&dir);
}
