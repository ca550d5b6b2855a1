//! Log-in timing: does a failed log-in take the same time whether or not the account
//! exists? Prints the median and spread of each case over many rounds, interleaved so
//! machine noise hits every case alike. Run: `cargo bench -p server --bench login_timing`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::account::ssr::{Accounts, Session};
use server::config::Config;
use server::http::sessions::SessionPolicy;
use server::services::accounts::hashing::PasswordHasher;
use server::services::accounts::throttle::ThrottlePolicy;
use server::services::accounts::AccountService;
use server::store::db::Database;
use server::store::Store;
use tower_sessions::MemoryStore;

const ROUNDS: usize = 41;
const PASSWORD: &str = "plum orchard lantern";

fn session() -> Session {
    Session::new(None, Arc::new(MemoryStore::default()), None)
}

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let median = pick(0.5);
    println!(
        "{name:<34} median {:>7.2} ms   p10 {:>7.2} ms   p90 {:>7.2} ms",
        median.as_secs_f64() * 1e3,
        pick(0.1).as_secs_f64() * 1e3,
        pick(0.9).as_secs_f64() * 1e3
    );
    median
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("curio-bench-login-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = Config::for_tests(format!("sqlite://{}/curio.db", dir.display()), dir.clone());
    let db = Database::connect(config.database_url.as_deref(), &dir)
        .await
        .expect("database");
    let store = Store::new(db);
    // Throttling off for the measurement: every attempt reaches the password check.
    let throttle = ThrottlePolicy {
        window_secs: 1,
        per_account: i64::MAX,
        per_ip: i64::MAX,
        registrations_per_ip: i64::MAX,
    };
    let sessions = SessionPolicy {
        idle: Duration::from_secs(1800),
        absolute: Duration::from_secs(43200),
        secure: false,
    };
    let hasher = PasswordHasher::new(2).await.expect("hasher");
    let accounts = AccountService::new(store, hasher, throttle, sessions);
    let ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    accounts
        .register(
            &session(),
            ip,
            "known@example.com".into(),
            "Known".into(),
            PASSWORD.into(),
        )
        .await
        .expect("register");

    let (mut wrong, mut unknown, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let cases: [(&str, &str, &mut Vec<Duration>); 3] = [
            ("known@example.com", "wrong password!", &mut wrong),
            ("nobody@example.com", "wrong password!", &mut unknown),
            ("known@example.com", PASSWORD, &mut right),
        ];
        for (email, password, out) in cases {
            let start = Instant::now();
            let result = accounts
                .log_in(&session(), ip, email.into(), password.into())
                .await;
            let took = start.elapsed();
            assert_eq!(
                result.is_ok(),
                password == PASSWORD,
                "round {round}: {email}"
            );
            if round > 0 {
                out.push(took); // round 0 warms caches and the blocking pool
            }
        }
    }
    println!(
        "log-in timing, {} rounds each, SQLite, argon2id m=19456 t=2 p=1",
        ROUNDS - 1
    );
    let w = summary("known account, wrong password", wrong);
    let u = summary("unknown account", unknown);
    summary("known account, right password", right);
    println!(
        "unknown / known-wrong median ratio: {:.3}",
        u.as_secs_f64() / w.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
