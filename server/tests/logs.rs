//! Logs never hold passwords, password hashes or session ids. In a test binary of its
//! own: it installs the process-wide subscriber, which tests running in parallel threads
//! of a shared binary would race with (tracing caches which callsites are enabled).

mod common;

use axum::http::StatusCode;
use common::{databases, Client};

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_hold_no_passwords_or_session_ids() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    let secret = "violet submarine kettle";
    for db in databases("logs").await {
        let services = db.services().await;
        let mut browser = Client::new(&services);
        browser.register("quiet@example.com", "Quiet", secret).await;
        let first_id = browser.cookie.clone().unwrap();
        browser.log_out().await;
        browser
            .log_in("quiet@example.com", "violet submarine kettlE")
            .await;
        let reply = browser.log_in("quiet@example.com", secret).await;
        assert_eq!(reply.status, StatusCode::OK);
        let second_id = browser.cookie.clone().unwrap();
        browser.me().await;

        let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(
            logs.contains("logged in"),
            "{}: the test saw the logs",
            db.kind
        );
        for needle in [
            secret,
            "violet submarine kettlE",
            &first_id,
            &second_id,
            "argon2id",
        ] {
            assert!(
                !logs.contains(needle),
                "{}: logs contain {needle:?}",
                db.kind
            );
        }
        db.finish().await;
    }
}
