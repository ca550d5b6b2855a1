//! Database connection: embedded SQLite by default, PostgreSQL when `DATABASE_URL` says so.
//! Migrations for the chosen database run here and fail loudly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::Error;

/// Which database backs the store. Cheap to clone (pools are shared handles).
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// The shared store for several nodes.
    Postgres(PgPool),
}

/// Connections of each SQLite reader pool (see [`Database::readers`]).
const READER_CONNECTIONS: u32 = 4;

/// How long a SQLite writer waits for the write lock before its write fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// This process's turn to write one SQLite file; see [`sqlite_write_turn`].
pub type WriteTurn = tokio::sync::OwnedMutexGuard<()>;

/// Waits for this process's turn to write the SQLite file behind `pool`, and holds it
/// until the guard drops (after the commit).
///
/// SQLite lets one writer in at a time. A writer that finds the lock taken sleeps in
/// SQLite's busy handler for 1, 2, 5, 10, ... up to 100 ms between tries, holding a pool
/// connection, and a later writer can take the lock first; under a burst of feedback some
/// writes lost that race for over 100 ms. Writers of this process instead queue here, in
/// order, without a thread or a connection, and each starts as soon as the one before
/// commits. Other processes (a `curio import`) still meet the busy handler. After
/// `BUSY_TIMEOUT` in the queue a writer goes on without its turn (and the busy handler
/// decides), so a long import cannot make a request wait longer than before.
pub async fn sqlite_write_turn(pool: &SqlitePool) -> Option<WriteTurn> {
    static GATES: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    // Per file, not per pool: the reader pool and any other pool of this process on the
    // same file meet the same lock in SQLite.
    let options = pool.connect_options();
    let file = options.get_filename();
    let gate = {
        let mut gates = GATES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match gates.get(file) {
            Some(gate) => gate.clone(),
            None => gates.entry(file.to_path_buf()).or_default().clone(),
        }
    };
    match tokio::time::timeout(BUSY_TIMEOUT, gate.lock_owned()).await {
        Ok(turn) => Some(turn),
        Err(_) => {
            tracing::warn!("a write waited its turn for 5 s; going on without it");
            None
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Database {
    /// Connects to `url`, or to `<data_dir>/curio.db` when `url` is `None`, and applies
    /// the migrations.
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> Result<Self, Error> {
        let db = match url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|e| Error::Startup(format!("cannot connect to PostgreSQL: {e}")))?;
                Database::Postgres(pool)
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| Error::Startup(format!("bad SQLite URL {url:?}: {e}")))?;
                Database::Sqlite(Self::sqlite_pool(options).await?)
            }
            Some(url) => {
                return Err(Error::Startup(format!(
                    "DATABASE_URL {:?} is neither postgres://... nor sqlite:...",
                    redact(url)
                )))
            }
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    Error::Startup(format!(
                        "cannot create data directory {}: {e}",
                        data_dir.display()
                    ))
                })?;
                let options = SqliteConnectOptions::new().filename(data_dir.join("curio.db"));
                Database::Sqlite(Self::sqlite_pool(options).await?)
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn sqlite_pool(options: SqliteConnectOptions) -> Result<SqlitePool, Error> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the answer, so an acknowledged event
            // survives a power cut too (NORMAL in WAL mode only survives a crash).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            // 64 MiB of page cache per connection (the default is 2 MiB): bulk imports
            // touch several indexes of the interaction log at once.
            .pragma("cache_size", "-65536")
            .foreign_keys(true);
        SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| Error::Startup(format!("cannot open the SQLite database: {e}")))
    }

    /// A new handle for the reads on every request's path (session, cart, cards); the
    /// server opens one, in [`crate::store::Store::new`], and shares it.
    ///
    /// On SQLite, a pool of its own on the same file: its connections never wait behind
    /// the writers, which hold the main pool's connections while they queue for the
    /// single write lock (a burst of feedback can hold all of them for tens of
    /// milliseconds). WAL mode lets these readers run beside a writer, and a read sees
    /// every write committed before it began. On PostgreSQL, the same pool: readers
    /// never wait for writers' locks there.
    pub fn readers(&self) -> Database {
        match self {
            Database::Sqlite(pool) => {
                // A smaller page cache than the writers': these reads touch a few
                // small indexes.
                let options = (*pool.connect_options())
                    .clone()
                    .pragma("cache_size", "-8192");
                Database::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(READER_CONNECTIONS)
                        .connect_lazy_with(options),
                )
            }
            Database::Postgres(pool) => Database::Postgres(pool.clone()),
        }
    }

    /// Applies the migrations of this database kind.
    pub async fn migrate(&self) -> Result<(), Error> {
        let result = match self {
            Database::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Database::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| Error::Startup(format!("database migration failed: {e}")))
    }

    /// `sqlite` or `postgres`, for logs and test names.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

/// A database URL with any password replaced, safe to log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    /// Writers of one SQLite file take turns in the order they asked; another file's
    /// writers do not wait for them.
    #[tokio::test]
    async fn writers_of_one_file_take_turns_in_order() {
        let root = std::env::temp_dir().join(format!("curio_write_turns_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (one, two) = (root.join("one"), root.join("two"));
        let Database::Sqlite(first) = Database::connect(None, &one).await.unwrap() else {
            panic!("no URL gives SQLite")
        };
        let Database::Sqlite(other) = Database::connect(None, &two).await.unwrap() else {
            panic!("no URL gives SQLite")
        };
        let held = sqlite_write_turn(&first).await.expect("a free turn");
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for n in 0..3 {
            let (pool, order) = (first.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = sqlite_write_turn(&pool).await.expect("a turn");
                order.lock().unwrap().push(n);
            }));
            // Each asks after the one before is queued.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            sqlite_write_turn(&other).await.is_some(),
            "another file's writer did not wait"
        );
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody wrote while the turn was held"
        );
        drop(held);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
