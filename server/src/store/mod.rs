//! The store: every query the server runs, for SQLite and PostgreSQL alike.
//!
//! Each method is written once; [`on_db!`] compiles its body for both pools. The SQL uses
//! `$1`-style parameters, which both databases accept, and only portable types.
//! Times are Unix epochs in `bigint` columns: seconds for `created_at`, milliseconds for
//! `attempted_at`.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{is_unique_violation, Error};
use crate::store::db::Database;
use crate::store::recent::Recent;

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Database::Sqlite($pool) => $body,
            Database::Postgres($pool) => $body,
        }
    };
}

// After `on_db!`, so the submodules can use it.
pub mod db;
pub mod products;
pub mod reading;
pub mod recent;
pub mod recs;
pub mod shop;

/// The statement that opens a write transaction: SQLite takes the write lock up front
/// (`begin immediate`), so two writers queue on the busy timeout instead of failing midway.
trait WriteBegin: sqlx::Database {
    const BEGIN: &'static str;
    const LOCK_SUBJECT: Option<&'static str>;

    /// This process's turn to write (SQLite: [`crate::store::db::sqlite_write_turn`]); none
    /// needed on PostgreSQL, whose writers lock rows, not the database.
    fn turn(
        pool: &sqlx::Pool<Self>,
    ) -> impl std::future::Future<Output = Option<crate::store::db::WriteTurn>> + Send;
}

impl WriteBegin for sqlx::Sqlite {
    const BEGIN: &'static str = "begin immediate";
    const LOCK_SUBJECT: Option<&'static str> = None;

    fn turn(
        pool: &sqlx::Pool<Self>,
    ) -> impl std::future::Future<Output = Option<crate::store::db::WriteTurn>> + Send {
        crate::store::db::sqlite_write_turn(pool)
    }
}

impl WriteBegin for sqlx::Postgres {
    const BEGIN: &'static str = "begin";
    const LOCK_SUBJECT: Option<&'static str> = Some("select pg_advisory_xact_lock(hashtext($1))");

    async fn turn(_pool: &sqlx::Pool<Self>) -> Option<crate::store::db::WriteTurn> {
        None
    }
}

/// A write transaction with this process's turn to write (SQLite), begun the way the
/// database needs (`begin immediate` on SQLite). Every write of the store opens one with
/// [`begin_write`]. It reads as the transaction's connection (`&mut *tx`); dropping it
/// without [`WriteTx::commit`] rolls back, then gives the turn up.
pub struct WriteTx<DB: sqlx::Database> {
    // Dropped in this order: the transaction ends before the turn passes on.
    tx: sqlx::Transaction<'static, DB>,
    _turn: Option<crate::store::db::WriteTurn>,
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl<DB: sqlx::Database> WriteTx<DB> {
    /// Commits; the turn passes on after the commit.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Waits for this process's turn to write, then begins a write transaction.
async fn begin_write<DB: WriteBegin>(pool: &sqlx::Pool<DB>) -> Result<WriteTx<DB>, sqlx::Error> {
    let turn = DB::turn(pool).await;
    let tx = pool.begin_with(DB::BEGIN).await?;
    Ok(WriteTx { tx, _turn: turn })
}

/// The statement that locks one throttle subject until the transaction ends, where the
/// database needs one (SQLite's write lock already covers the whole database).
fn subject_lock<DB: WriteBegin>(_pool: &sqlx::Pool<DB>) -> Option<&'static str> {
    DB::LOCK_SUBJECT
}

/// One subject's standing right after an attempt against it was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptCount {
    /// The throttle subject (`account:<email>`, `ip:<address>`, ...).
    pub subject: String,
    /// The row recorded for this attempt.
    pub attempt_id: i64,
    /// Attempts in the window, this one included.
    pub count: i64,
    /// Unix milliseconds of the oldest attempt in the window.
    pub oldest: i64,
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
    /// `shopper` or `admin`.
    pub role: String,
}

impl AccountRow {
    /// Whether the account may see the merchant's insights.
    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }
}

/// The role that sees the merchant's insights.
pub const ROLE_ADMIN: &str = "admin";

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
    /// The pool for the reads on every request's path ([`Database::readers`]).
    reads: Database,
    /// Each shopper's cart products, for the recommendation lists that leave them out.
    carts: Arc<Recent<i64, Vec<i64>>>,
    /// Account id -> shopper id (created once, never changed).
    account_shoppers: Arc<Recent<i64, i64>>,
}

/// How long a cart read for a recommendation list is reused: a cart changed on another
/// node is left out of this node's lists within this time (this node's changes at once).
pub const CART_CACHE_TTL: Duration = Duration::from_secs(2);

impl Store {
    /// Wraps a connected, migrated database.
    pub fn new(db: Database) -> Self {
        Self {
            reads: db.readers(),
            db,
            carts: Arc::new(Recent::new(CART_CACHE_TTL, 100_000)),
            account_shoppers: Arc::new(Recent::new(Duration::from_secs(3600), 100_000)),
        }
    }

    /// The database behind the store.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The one reader pool of the process (the store's and the sessions' reads on every
    /// request's path; see [`Database::readers`]).
    pub fn readers(&self) -> &Database {
        &self.reads
    }

    /// Inserts a shopper's account; the email must already be normalised.
    pub async fn create_account(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        created_at: i64,
    ) -> Result<AccountRow, CreateAccountError> {
        self.create_account_with_role(email, display_name, password_hash, created_at, "shopper")
            .await
    }

    /// Inserts an account with a role (`shopper` or `admin`) in one statement.
    pub async fn create_account_with_role(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        created_at: i64,
        role: &str,
    ) -> Result<AccountRow, CreateAccountError> {
        const SQL: &str = "insert into account (email, display_name, password_hash, created_at, \
                           role) values ($1, $2, $3, $4, $5) \
                           returning account_id, email, display_name, password_hash, created_at, role";
        let result = on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL)
                .bind(email)
                .bind(display_name)
                .bind(password_hash)
                .bind(created_at)
                .bind(role)
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
        const SQL: &str =
            "select account_id, email, display_name, password_hash, created_at, role \
                           from account where email = $1";
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL).bind(email).fetch_optional(pool).await
        })?)
    }

    /// The account with this id.
    pub async fn account_by_id(&self, account_id: i64) -> Result<Option<AccountRow>, Error> {
        const SQL: &str =
            "select account_id, email, display_name, password_hash, created_at, role \
                           from account where account_id = $1";
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as::<_, AccountRow>(SQL).bind(account_id).fetch_optional(pool).await
        })?)
    }

    /// Sets an account's role (`shopper` or `admin`); false when no account has this id.
    pub async fn set_role(&self, account_id: i64, role: &str) -> Result<bool, Error> {
        let result = on_db!(&self.db, pool => {
            sqlx::query("update account set role = $1 where account_id = $2")
                .bind(role)
                .bind(account_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(result == 1)
    }

    /// Accounts with the admin role: (id, email), by id.
    pub async fn admins(&self) -> Result<Vec<(i64, String)>, Error> {
        Ok(on_db!(&self.db, pool => {
            sqlx::query_as("select account_id, email from account where role = 'admin' \
                            order by account_id")
                .fetch_all(pool)
                .await?
        }))
    }

    /// Records an attempt against each subject and counts that subject's attempts since
    /// `since_ms`, this one included. Attempts older than `since_ms` are forgotten.
    ///
    /// Atomic per subject: SQLite's `begin immediate` serialises writers, PostgreSQL takes
    /// a transaction-scoped advisory lock per subject (in sorted order, so two attempts
    /// cannot deadlock). A burst of parallel requests therefore cannot all read the count
    /// from before the others were recorded.
    pub async fn record_attempt(
        &self,
        subjects: &[String],
        at_ms: i64,
        since_ms: i64,
    ) -> Result<Vec<AttemptCount>, Error> {
        let mut sorted: Vec<&String> = subjects.iter().collect();
        sorted.sort();
        sorted.dedup();
        let mut counts = Vec::with_capacity(sorted.len());
        on_db!(&self.db, pool => {
            let mut tx = begin_write(pool).await?;
            if let Some(lock) = subject_lock(pool) {
                for subject in &sorted {
                    sqlx::query(lock).bind(subject.as_str()).execute(&mut *tx).await?;
                }
            }
            sqlx::query("delete from login_attempt where attempted_at < $1")
                .bind(since_ms)
                .execute(&mut *tx)
                .await?;
            for subject in &sorted {
                let (attempt_id,): (i64,) = sqlx::query_as(
                    "insert into login_attempt (subject, attempted_at) values ($1, $2) \
                     returning login_attempt_id",
                )
                .bind(subject.as_str())
                .bind(at_ms)
                .fetch_one(&mut *tx)
                .await?;
                let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                    "select count(*), min(attempted_at) from login_attempt \
                     where subject = $1 and attempted_at >= $2",
                )
                .bind(subject.as_str())
                .bind(since_ms)
                .fetch_one(&mut *tx)
                .await?;
                counts.push(AttemptCount {
                    subject: subject.to_string(),
                    attempt_id,
                    count,
                    oldest: oldest.unwrap_or(at_ms),
                });
            }
            tx.commit().await?;
        });
        Ok(counts)
    }

    /// Forgets the given attempts (a throttled attempt, or a success's address row).
    pub async fn delete_attempts(&self, attempt_ids: &[i64]) -> Result<(), Error> {
        on_db!(&self.db, pool => {
            let mut tx = begin_write(pool).await?;
            for id in attempt_ids {
                sqlx::query("delete from login_attempt where login_attempt_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Forgets every attempt against `subject` (an account after a successful log-in).
    pub async fn clear_attempts(&self, subject: &str) -> Result<(), Error> {
        on_db!(&self.db, pool => {
            sqlx::query("delete from login_attempt where subject = $1")
                .bind(subject)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
