//! Test support: a real database per test (SQLite always, PostgreSQL when `DATABASE_URL`
//! names one), and a small HTTP client that drives the real router in process.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use server::config::Config;
use server::Services;
use sqlx::Connection;
use tower::ServiceExt;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One database to run a test against; the PostgreSQL one is dropped by [`TestDb::finish`].
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    /// The server configuration pointing at this database.
    pub config: Config,
    admin_url: Option<String>,
    name: String,
}

/// The databases every store test runs on: a fresh SQLite file, and a fresh PostgreSQL
/// database when `DATABASE_URL` is a `postgres://` URL (CI sets it).
pub async fn databases(test: &str) -> Vec<TestDb> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let name = format!("curio_test_{}_{}_{}", test, std::process::id(), n);
    let dir = std::env::temp_dir().join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = Config::for_tests(format!("sqlite://{}/curio.db", dir.display()), dir);
    let mut dbs = vec![TestDb {
        kind: "sqlite",
        config,
        admin_url: None,
        name: name.clone(),
    }];

    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut admin = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
                panic!("DATABASE_URL is set but PostgreSQL is unreachable: {e}")
            });
            sqlx::query(&format!("create database \"{name}\""))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let base = url.split('?').next().unwrap_or(&url);
            let (prefix, _) = base.rsplit_once('/').expect("postgres URL has a path");
            dbs.push(TestDb {
                kind: "postgres",
                config: Config::for_tests(format!("{prefix}/{name}"), std::env::temp_dir()),
                admin_url: Some(url.clone()),
                name,
            });
        }
    }
    let kinds: Vec<_> = dbs.iter().map(|d| d.kind).collect();
    eprintln!("{test}: running on {kinds:?}");
    dbs
}

impl TestDb {
    /// Builds the full server on this database.
    pub async fn services(&self) -> Services {
        server::build(&self.config).await.expect("server builds")
    }

    /// Removes the test database.
    pub async fn finish(self) {
        match self.admin_url {
            Some(url) => {
                let mut admin = sqlx::PgConnection::connect(&url)
                    .await
                    .expect("admin connect");
                sqlx::query(&format!(
                    "drop database if exists \"{}\" with (force)",
                    self.name
                ))
                .execute(&mut admin)
                .await
                .expect("drop test database");
            }
            None => {
                let _ = std::fs::remove_dir_all(&self.config.data_dir);
            }
        }
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    /// The session cookie value set by this response, if any (`Some("")` when removed).
    pub session_cookie: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The whole `Set-Cookie` header of the session cookie, attributes included.
    pub set_cookie: Option<String>,
}

/// A browser-like client against the in-process router: keeps the session cookie, sends
/// a same-origin `Origin`, and comes from a fixed client address.
#[derive(Clone)]
pub struct Client {
    router: axum::Router,
    pub cookie: Option<String>,
    pub ip: IpAddr,
}

pub const HOST: &str = "127.0.0.1:3000";

impl Client {
    pub fn new(services: &Services) -> Self {
        Self {
            router: services.router.clone(),
            cookie: None,
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        }
    }

    pub fn with_ip(mut self, ip: [u8; 4]) -> Self {
        self.ip = IpAddr::V4(Ipv4Addr::from(ip));
        self
    }

    /// Sends a request built by `build` (cookie, host and client address are added).
    pub async fn send(&mut self, build: axum::http::request::Builder, body: Body) -> Reply {
        let mut builder = build.header(header::HOST, HOST);
        if let Some(cookie) = &self.cookie {
            builder = builder.header(
                header::COOKIE,
                format!("{}={cookie}", server::http::sessions::COOKIE_NAME),
            );
        }
        let mut request = builder.body(body).expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(self.ip, 40000)));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let session_cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let first = v.split(';').next()?;
                let (name, value) = first.split_once('=')?;
                (name == server::http::sessions::COOKIE_NAME).then(|| value.to_string())
            });
        let set_cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(server::http::sessions::COOKIE_NAME))
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        if let Some(value) = &session_cookie {
            self.cookie = (!value.is_empty()).then(|| value.clone());
        }
        Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            session_cookie,
            retry_after,
            set_cookie,
        }
    }

    /// POSTs a form to a server function, as the page's own script would.
    pub async fn call(&mut self, endpoint: &str, form: &[(&str, &str)]) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let builder = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header("sec-fetch-site", "same-origin");
        self.send(builder, Body::from(body)).await
    }

    /// POSTs JSON arguments to a server function that takes JSON (the shop's).
    pub async fn call_json(&mut self, endpoint: &str, args: serde_json::Value) -> Reply {
        let builder = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header("sec-fetch-site", "same-origin");
        self.send(builder, Body::from(args.to_string())).await
    }

    pub async fn register(&mut self, email: &str, name: &str, password: &str) -> Reply {
        self.call(
            "register",
            &[
                ("email", email),
                ("display_name", name),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Reply {
        self.call("login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn log_out(&mut self) -> Reply {
        self.call("logout", &[]).await
    }

    /// The logged-in user's JSON, or `null`.
    pub async fn me(&mut self) -> Reply {
        self.call("me", &[]).await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
