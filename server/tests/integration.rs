//! Integration tests of storage, accounts, sessions and request hygiene, on real databases
//! (SQLite always; PostgreSQL too when `DATABASE_URL` names one) through the real router.

mod common;

use std::str::FromStr;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{databases, Client};
use server::store::CreateAccountError;
use tower_sessions::session::Id;
use tower_sessions::SessionStore;

const GOOD_PASSWORD: &str = "plum orchard lantern";

#[tokio::test]
async fn store_accounts_and_login_failures() {
    for db in databases("store").await {
        let services = db.services().await;
        let store = &services.store;
        let kind = db.kind;

        let ada = store
            .create_account("ada@example.com", "Ada", "$argon2id$fake", 1_700_000_000)
            .await
            .expect("create");
        assert_eq!(ada.email, "ada@example.com", "{kind}");
        let again = store
            .create_account("ada@example.com", "Other", "$argon2id$fake", 1_700_000_001)
            .await;
        assert!(
            matches!(again, Err(CreateAccountError::EmailTaken)),
            "{kind}: {again:?}"
        );
        assert_eq!(
            store.account_by_email("ada@example.com").await.unwrap(),
            Some(ada.clone()),
            "{kind}"
        );
        assert_eq!(
            store.account_by_id(ada.account_id).await.unwrap(),
            Some(ada.clone()),
            "{kind}"
        );
        assert_eq!(
            store.account_by_email("nobody@example.com").await.unwrap(),
            None,
            "{kind}"
        );

        let subjects = vec![
            "account:ada@example.com".to_string(),
            "ip:10.0.0.1".to_string(),
        ];
        let count_of = |counts: &[server::store::AttemptCount], subject: &str| {
            counts
                .iter()
                .find(|c| c.subject == subject)
                .map(|c| (c.count, c.oldest))
        };
        let first = store.record_attempt(&subjects, 1_000, 0).await.unwrap();
        assert_eq!(count_of(&first, "ip:10.0.0.1"), Some((1, 1_000)), "{kind}");
        let second = store.record_attempt(&subjects, 2_000, 0).await.unwrap();
        assert_eq!(
            count_of(&second, "account:ada@example.com"),
            Some((2, 1_000)),
            "{kind}"
        );
        // A later window forgets the attempt at 1_000.
        let third = store
            .record_attempt(&subjects[..1], 3_000, 1_500)
            .await
            .unwrap();
        assert_eq!(
            count_of(&third, "account:ada@example.com"),
            Some((2, 2_000)),
            "{kind}"
        );
        store.delete_attempts(&[third[0].attempt_id]).await.unwrap();
        let fourth = store
            .record_attempt(&subjects[..1], 4_000, 1_500)
            .await
            .unwrap();
        assert_eq!(
            count_of(&fourth, "account:ada@example.com"),
            Some((2, 2_000)),
            "{kind}: 3_000 deleted"
        );
        store
            .clear_attempts("account:ada@example.com")
            .await
            .unwrap();
        let fifth = store.record_attempt(&subjects, 5_000, 1_500).await.unwrap();
        assert_eq!(
            count_of(&fifth, "account:ada@example.com"),
            Some((1, 5_000)),
            "{kind}: cleared"
        );
        assert_eq!(
            count_of(&fifth, "ip:10.0.0.1"),
            Some((2, 2_000)),
            "{kind}: the address keeps its own"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn register_log_out_log_in() {
    for db in databases("flow").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);

        let reply = browser
            .register(" Grace@Example.com ", "Grace", GOOD_PASSWORD)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{kind}: {}", reply.body);
        let user: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(user["email"], "grace@example.com", "{kind}");
        assert_eq!(user["display_name"], "Grace", "{kind}");
        assert!(
            reply.body.find("argon2").is_none(),
            "{kind}: no hash in the response"
        );
        assert!(
            browser.me().await.body.contains("\"Grace\""),
            "{kind}: registered means logged in"
        );

        assert_eq!(browser.log_out().await.status, StatusCode::OK, "{kind}");
        assert_eq!(browser.me().await.body, "null", "{kind}");

        let reply = browser.log_in("grace@example.com", GOOD_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{kind}: {}", reply.body);
        assert!(browser.me().await.body.contains("\"Grace\""), "{kind}");
        db.finish().await;
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_identically() {
    for db in databases("generic").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);
        browser
            .register("alan@example.com", "Alan", GOOD_PASSWORD)
            .await;
        browser.log_out().await;

        let wrong = Client::new(&services)
            .log_in("alan@example.com", "not the password")
            .await;
        let unknown = Client::new(&services)
            .log_in("nobody@example.com", "not the password")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{kind}");
        assert_eq!(wrong.status, unknown.status, "{kind}");
        assert_eq!(wrong.body, unknown.body, "{kind}");
        assert_eq!(
            wrong.session_cookie.is_some(),
            unknown.session_cookie.is_some(),
            "{kind}"
        );
        assert!(
            wrong.body.contains("BadCredentials"),
            "{kind}: {}",
            wrong.body
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn session_id_rotates_at_login_and_dies_at_logout() {
    for db in databases("rotate").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);
        browser
            .register("rosa@example.com", "Rosa", GOOD_PASSWORD)
            .await;
        let first = browser
            .cookie
            .clone()
            .expect("session cookie after registering");

        // Log in again from the same browser: a new id, and the old one is gone.
        let reply = browser.log_in("rosa@example.com", GOOD_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{kind}");
        let second = browser.cookie.clone().expect("session cookie after log-in");
        assert_ne!(first, second, "{kind}: log-in must rotate the session id");
        assert!(second.len() >= 22, "{kind}: at least 128 bits of id");
        let old_id = Id::from_str(&first).expect("cookie holds a session id");
        assert!(
            services.sessions.load(&old_id).await.unwrap().is_none(),
            "{kind}: old session deleted"
        );
        let mut stale = Client::new(&services);
        stale.cookie = Some(first);
        assert_eq!(stale.me().await.body, "null", "{kind}: old cookie is dead");

        // Log out: the server-side session is deleted, and replaying the cookie fails.
        let reply = browser.log_out().await;
        assert_eq!(
            reply.session_cookie.as_deref(),
            Some(""),
            "{kind}: cookie removed"
        );
        let id = Id::from_str(&second).unwrap();
        assert!(
            services.sessions.load(&id).await.unwrap().is_none(),
            "{kind}: session deleted"
        );
        let mut replay = Client::new(&services);
        replay.cookie = Some(second);
        assert_eq!(
            replay.me().await.body,
            "null",
            "{kind}: logged-out cookie is dead"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn session_cookie_is_hardened() {
    for db in databases("cookie").await {
        let services = db.services().await;
        let request = Request::post("/api/register")
            .header(header::HOST, common::HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "email=c%40example.com&display_name=C&password=plum+orchard+lantern",
            ))
            .unwrap();
        let response = tower::ServiceExt::oneshot(services.router.clone(), request)
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .expect("cookie")
            .to_str()
            .unwrap()
            .to_string();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Max-Age="), "{cookie}: idle expiry");
        assert!(
            !cookie.contains("Secure"),
            "{cookie}: tests listen on loopback"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn absolute_timeout_ends_sessions() {
    for mut db in databases("absolute").await {
        db.config.session_max_hours = 0;
        let services = db.services().await;
        let mut browser = Client::new(&services);
        let reply = browser
            .register("old@example.com", "Old", GOOD_PASSWORD)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", db.kind);
        assert_eq!(
            browser.me().await.body,
            "null",
            "{}: a zero-hour session is already over",
            db.kind
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn registration_errors_are_clear() {
    for db in databases("register").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);

        let common = browser
            .register("dan@example.com", "Dan", "Password123")
            .await;
        assert_eq!(common.status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(
            common.body.contains("most common passwords"),
            "{kind}: {}",
            common.body
        );
        assert!(
            common.body.contains("\"password\""),
            "{kind}: names the field: {}",
            common.body
        );

        let short = browser.register("dan@example.com", "Dan", "short").await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(
            short.body.contains("at least 8 characters"),
            "{kind}: {}",
            short.body
        );

        let bad_email = browser
            .register("dan.example.com", "Dan", GOOD_PASSWORD)
            .await;
        assert!(
            bad_email.body.contains("\"email\""),
            "{kind}: {}",
            bad_email.body
        );

        assert_eq!(
            browser
                .register("dan@example.com", "Dan", GOOD_PASSWORD)
                .await
                .status,
            StatusCode::OK
        );
        let twice = Client::new(&services)
            .register("DAN@example.com", "Dan 2", GOOD_PASSWORD)
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{kind}: {}", twice.body);
        assert!(twice.body.contains("EmailTaken"), "{kind}: {}", twice.body);
        db.finish().await;
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_account_and_per_address() {
    for db in databases("throttle").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut owner = Client::new(&services);
        owner
            .register("eve@example.com", "Eve", GOOD_PASSWORD)
            .await;

        let mut attacker = Client::new(&services).with_ip([10, 9, 9, 9]);
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(
                attacker
                    .log_in("eve@example.com", "guess guess guess")
                    .await
                    .status,
            );
        }
        let throttled = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(&statuses[..5], &[StatusCode::UNAUTHORIZED; 5], "{kind}");
        assert_eq!(throttled, 15, "{kind}: {statuses:?}");
        // Even the right password is refused while the account is throttled (no oracle),
        // from any address, and the message says how long to wait.
        let right = Client::new(&services)
            .with_ip([10, 1, 2, 3])
            .log_in("eve@example.com", GOOD_PASSWORD)
            .await;
        assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{kind}");
        assert!(
            right.body.contains("retry_after_secs"),
            "{kind}: {}",
            right.body
        );
        let wait: u64 = right
            .retry_after
            .as_deref()
            .expect("Retry-After header")
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{kind}: {wait}");
        // Unknown accounts are throttled the same way.
        let mut probe = Client::new(&services).with_ip([10, 7, 7, 7]);
        let last = {
            let mut last = None;
            for _ in 0..6 {
                last = Some(
                    probe
                        .log_in("ghost@example.com", "guess guess guess")
                        .await
                        .status,
                );
            }
            last.unwrap()
        };
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "{kind}");

        // Per address: many accounts from one address.
        let mut sprayer = Client::new(&services).with_ip([10, 8, 8, 8]);
        let mut sprayed = Vec::new();
        for i in 0..22 {
            sprayed.push(
                sprayer
                    .log_in(&format!("user{i}@example.com"), "guess guess guess")
                    .await
                    .status,
            );
        }
        assert_eq!(&sprayed[..20], &[StatusCode::UNAUTHORIZED; 20], "{kind}");
        assert_eq!(
            &sprayed[20..],
            &[StatusCode::TOO_MANY_REQUESTS; 2],
            "{kind}"
        );
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_outrun_the_throttle() {
    for db in databases("parallel").await {
        let services = db.services().await;
        let kind = db.kind;
        Client::new(&services)
            .register("par@example.com", "Par", GOOD_PASSWORD)
            .await;
        let guesses = (0..20).map(|i| {
            let mut client = Client::new(&services).with_ip([10, 20, 0, i]);
            tokio::spawn(async move {
                client
                    .log_in("par@example.com", "guess guess guess")
                    .await
                    .status
            })
        });
        let mut statuses = Vec::new();
        for guess in guesses {
            statuses.push(guess.await.unwrap());
        }
        let let_through = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let throttled = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((let_through, throttled), (5, 15), "{kind}: {statuses:?}");
        db.finish().await;
    }
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    for db in databases("regthrottle").await {
        let services = db.services().await;
        let mut statuses = Vec::new();
        for i in 0..11 {
            let mut client = Client::new(&services).with_ip([10, 30, 0, 1]);
            statuses.push(
                client
                    .register(&format!("r{i}@example.com"), "R", GOOD_PASSWORD)
                    .await
                    .status,
            );
        }
        assert_eq!(&statuses[..10], &[StatusCode::OK; 10], "{}", db.kind);
        assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS, "{}", db.kind);
        let elsewhere = Client::new(&services)
            .with_ip([10, 30, 0, 2])
            .register("r99@example.com", "R", GOOD_PASSWORD)
            .await;
        assert_eq!(elsewhere.status, StatusCode::OK, "{}", db.kind);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_logged_out_session_is_not_written_back() {
    for db in databases("resurrect").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);
        browser
            .register("tab@example.com", "Tab", GOOD_PASSWORD)
            .await;
        let id = Id::from_str(browser.cookie.as_deref().unwrap()).unwrap();
        // Another tab's request has loaded the session...
        let loaded = services
            .sessions
            .load(&id)
            .await
            .unwrap()
            .expect("session stored");
        // ...this tab logs out...
        browser.log_out().await;
        // ...and the other request then saves what it loaded.
        services.sessions.save(&loaded).await.unwrap();
        assert!(
            services.sessions.load(&id).await.unwrap().is_none(),
            "{kind}: stays deleted"
        );
        let mut other_tab = Client::new(&services);
        other_tab.cookie = Some(id.to_string());
        assert_eq!(other_tab.me().await.body, "null", "{kind}");
        db.finish().await;
    }
}

#[tokio::test]
async fn behind_a_proxy() {
    for mut db in databases("proxy").await {
        db.config.public_origin = Some("https://shop.example".into());
        db.config.trust_forwarded_for = true;
        let services = db.services().await;
        let kind = db.kind;
        // The proxy rewrites Host to the upstream address and appends the client address.
        let register = Request::post("/api/register")
            .header(header::ORIGIN, "https://shop.example")
            .header("x-forwarded-for", "203.0.113.9")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let body = "email=px%40example.com&display_name=Px&password=plum+orchard+lantern";
        let mut browser = Client::new(&services);
        let reply = browser.send(register, Body::from(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{kind}: {}", reply.body);
        let cookie = reply.set_cookie.expect("session cookie");
        assert!(
            cookie.contains("; Secure"),
            "{kind}: https public origin means Secure: {cookie}"
        );

        // Failures are counted per forwarded client address, not per proxy.
        for i in 0..21 {
            let attempt = Request::post("/api/login")
                .header(header::ORIGIN, "https://shop.example")
                .header("x-forwarded-for", "198.51.100.1, 203.0.113.66")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let body = format!("email=spray{i}%40example.com&password=guess+guess+guess");
            let status = Client::new(&services)
                .send(attempt, Body::from(body))
                .await
                .status;
            let expected = if i < 20 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(status, expected, "{kind}: attempt {i}");
        }
        let other_client = Request::post("/api/login")
            .header(header::ORIGIN, "https://shop.example")
            .header("x-forwarded-for", "203.0.113.67")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let reply = browser
            .send(
                other_client,
                Body::from("email=px%40example.com&password=plum+orchard+lantern"),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{kind}: another client behind the same proxy"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn cross_site_posts_and_get_calls_are_refused() {
    for db in databases("csrf").await {
        let services = db.services().await;
        let kind = db.kind;
        let mut browser = Client::new(&services);
        browser
            .register("mal@example.com", "Mal", GOOD_PASSWORD)
            .await;

        let forged = Request::post("/api/logout")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        assert_eq!(
            browser.send(forged, Body::empty()).await.status,
            StatusCode::FORBIDDEN,
            "{kind}"
        );
        let forged = Request::post("/api/logout").header("sec-fetch-site", "cross-site");
        assert_eq!(
            browser.send(forged, Body::empty()).await.status,
            StatusCode::FORBIDDEN,
            "{kind}"
        );
        assert!(
            browser.me().await.body.contains("\"Mal\""),
            "{kind}: still logged in"
        );

        // Server functions that change data do not answer GET.
        let get = Request::get("/api/logout?");
        let reply = browser.send(get, Body::empty()).await;
        assert!(
            !reply.status.is_success(),
            "{kind}: GET logout answered {}",
            reply.status
        );
        assert!(
            browser.me().await.body.contains("\"Mal\""),
            "{kind}: GET did not log out"
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn every_server_function_is_post_only_and_bad_arguments_get_400() {
    for db in databases("methods").await {
        let services = db.services().await;
        let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
        assert!(paths.len() >= 4, "{paths:?}");
        for (path, method) in &paths {
            assert_eq!(
                *method,
                axum::http::Method::POST,
                "{path} must not answer GET"
            );
        }
        // A call missing its arguments is the caller's error, not the server's.
        let reply = Client::new(&services)
            .call("login", &[("email", "x@example.com")])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{}: {}",
            db.kind,
            reply.body
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn over_long_bodies_are_refused() {
    for db in databases("body").await {
        let services = db.services().await;
        let mut browser = Client::new(&services);
        let huge = "x".repeat(db.config.max_body_bytes + 1);
        // Streamed without a length (as the in-process client sends it)...
        let reply = browser.register("big@example.com", "Big", &huge).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", db.kind);
        // ...and with a declared length, refused before it is read.
        let declared = Request::post("/api/register")
            .header(header::CONTENT_LENGTH, huge.len() + 40)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let reply = browser
            .send(
                declared,
                Body::from(format!("email=a&display_name=b&password={huge}")),
            )
            .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", db.kind);
        // A body under the limit still reaches the server function.
        let reply = browser
            .register("small@example.com", "Small", "plum orchard lantern")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", db.kind);
        db.finish().await;
    }
}

#[tokio::test]
async fn pages_render_on_the_server() {
    for db in databases("pages").await {
        let services = db.services().await;
        let mut browser = Client::new(&services);
        let home = browser.send(Request::get("/"), Body::empty()).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.body.contains("<title>"), "{}", home.body);
        assert!(
            home.body.contains("/pkg/curio.js"),
            "hydration script linked"
        );
        let gzipped = browser
            .send(
                Request::get("/").header(header::ACCEPT_ENCODING, "gzip"),
                Body::empty(),
            )
            .await;
        assert_eq!(gzipped.status, StatusCode::OK);
        assert!(
            !gzipped.body.contains("<title>"),
            "the page is sent compressed when asked"
        );
        let missing = browser
            .send(Request::get("/no/such/page"), Body::empty())
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("Page not found"));
        db.finish().await;
    }
}

#[tokio::test]
async fn migrations_fail_loudly_and_bad_urls_are_named() {
    for db in databases("migrate").await {
        let services = db.services().await;
        // Someone edited an applied migration: start-up must refuse, not carry on.
        let tamper = "update _sqlx_migrations set checksum = $1";
        let garbage = vec![0u8; 48];
        match services.store.database() {
            server::store::db::Database::Sqlite(pool) => {
                sqlx::query(tamper)
                    .bind(garbage)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            server::store::db::Database::Postgres(pool) => {
                sqlx::query(tamper)
                    .bind(garbage)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
        let error = match server::build(&db.config).await {
            Ok(_) => panic!("{}: started on a tampered schema", db.kind),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains("database migration failed"),
            "{}: {error}",
            db.kind
        );
        db.finish().await;
    }
    let dir = std::env::temp_dir();
    let error = server::store::db::Database::connect(Some("mysql://user:secret@host/db"), &dir)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("neither postgres"), "{error}");
    assert!(
        !error.contains("secret"),
        "the password is not echoed: {error}"
    );
}
