//! The store: every query the server runs, for SQLite and PostgreSQL alike.
//!
//! Each method is written once; [`on_db!`] compiles its body for both pools. The SQL uses
//! `$1`-style parameters, which both databases accept, and only portable types.
//! Times are Unix epochs in `bigint` columns: seconds for `created_at`, milliseconds for
//! `failed_at`.

use crate::db::Database;
use crate::error::{is_unique_violation, Error};

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Database::Sqlite($pool) => $body,
            Database::Postgres($pool) => $body,
        }
    };
}

/// The statement that opens a write transaction: SQLite takes the write lock up front
/// (`begin immediate`), so two writers queue on the busy timeout instead of failing midway.
trait WriteBegin: sqlx::Database {
    const BEGIN: &'static str;
}

impl WriteBegin for sqlx::Sqlite {
    const BEGIN: &'static str = "begin immediate";
}

impl WriteBegin for sqlx::Postgres {
    const BEGIN: &'static str = "begin";
}

fn write_begin<DB: WriteBegin>(_pool: &sqlx::Pool<DB>) -> &'static str {
    DB::BEGIN
}

/// An account row, including its password hash (never leaves the server).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    /// Primary key.
    pub account_id: i64,
    /// Normalised (trimmed, lower-case) email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// Creating an account can fail because the email is taken.
#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    /// An account with this email exists.
    #[error("email already registered")]
    EmailTaken,
    /// Any other failure.
    #[error(transparent)]
    Other(#[from] Error),
}

/// The server's one interface to its database.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Wraps a connected, migrated database.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database behind the store.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Inserts an account; the email must already be normalised.
    pub async fn create_account(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        created_at: i64,
    ) -> Result<AccountRow, CreateAccountError> {
        const SQL: &str = "insert into account (email, display_name, password_hash, created_at) \
                           values ($1, $2, $3, $4) \
                           returning account_id, email, display_name, password_hash, created_at";
        let result = on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL)
                .bind(email)
                .bind(display_name)
                .bind(password_hash)
                .bind(created_at)
                .fetch_one(pool)
                .await
        });
        result.map_err(|e| {
            if is_unique_violation(&e) {
                CreateAccountError::EmailTaken
            } else {
                CreateAccountError::Other(e.into())
            }
        })
    }

    /// The account with this (normalised) email.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<AccountRow>, Error> {
        const SQL: &str = "select account_id, email, display_name, password_hash, created_at \
                           from account where email = $1";
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL).bind(email).fetch_optional(pool).await
        })?)
    }

    /// The account with this id.
    pub async fn account_by_id(&self, account_id: i64) -> Result<Option<AccountRow>, Error> {
        const SQL: &str = "select account_id, email, display_name, password_hash, created_at \
                           from account where account_id = $1";
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL).bind(account_id).fetch_optional(pool).await
        })?)
    }

    /// Records one failed log-in for each subject (`account:<email>`, `ip:<addr>`) in one
    /// transaction, and forgets failures older than `forget_before_ms`.
    pub async fn record_login_failure(
        &self,
        subjects: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), Error> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(write_begin(pool)).await?;
            sqlx::query("delete from login_failure where failed_at < $1")
                .bind(forget_before_ms)
                .execute(&mut *tx)
                .await?;
            for subject in subjects {
                sqlx::query("insert into login_failure (subject, failed_at) values ($1, $2)")
                    .bind(subject)
                    .bind(at_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many failures `subject` has since `since_ms`, and the oldest of them.
    pub async fn login_failures_since(
        &self,
        subject: &str,
        since_ms: i64,
    ) -> Result<(i64, Option<i64>), Error> {
        const SQL: &str = "select count(*), min(failed_at) from login_failure \
                           where subject = $1 and failed_at >= $2";
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as::<_, (i64, Option<i64>)>(SQL)
                .bind(subject)
                .bind(since_ms)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Forgets the failures of `subject` (after a successful log-in).
    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), Error> {
        on_db!(&self.db, pool => {
            sqlx::query("delete from login_failure where subject = $1")
                .bind(subject)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
