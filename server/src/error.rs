//! Internal errors of the server, and their one way out to the shopper.
//!
//! Internal errors carry the detail an operator needs. Turning one into the UI's
//! [`AppError`] logs that detail and keeps it out of the response.

use app::error::AppError;

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
