//! Internal errors of the server, and their one way out to the shopper.
//!
//! Internal errors carry the detail an operator needs. Turning one into the UI's
//! [`AppError`] logs that detail and keeps it out of the response.

use app::error::AppError;
use axum::response::IntoResponse;

/// A failure inside the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A database query failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The session store failed.
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// Hashing or verifying a password failed (not a wrong password: a broken hash or task).
    #[error("password hashing: {0}")]
    Hashing(String),
    /// The server could not start: bad configuration, unreachable database, failed migration.
    #[error("{0}")]
    Startup(String),
    /// The search index failed.
    #[error("search: {0}")]
    Search(String),
    /// A command other than `serve` failed; the message says why and where.
    #[error("{0}")]
    Command(String),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        tracing::error!(%error, "internal error");
        AppError::Internal
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Middleware: a server function whose arguments could not be read answers 400, not the
/// 500 that server_fn gives every error it raises itself (our own errors already carry
/// their status, set by `app::account::ssr::respond`). Only error bodies are read, and they
/// are small.
pub async fn server_fn_error_status(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    let response = next.run(request).await;
    let raised_by_server_fn = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && response
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER);
    if !raised_by_server_fn {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading a server-function error body failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Ok(AppError::Request(reason)) = serde_json::from_slice::<AppError>(&bytes) {
        tracing::debug!(%reason, "bad server-function request");
        parts.status = StatusCode::BAD_REQUEST;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
