//! Server-side sessions: stored in the database (tower-sessions and its sqlx store), with
//! an idle timeout, an absolute timeout counted from log-in, and hardened cookies.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, SqlitePool};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::error::Error;
use crate::store::db::Database;
use crate::store::recent::Recent;
use crate::store::Store;

/// The session key under which the logged-in account is kept.
pub const AUTH_KEY: &str = "auth";

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "curio_session";

/// What a logged-in session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAuth {
    /// The account this session belongs to.
    pub account_id: i64,
    /// Unix seconds of the log-in: the absolute timeout counts from here.
    pub authenticated_at: i64,
    /// Unix seconds when the session's idle expiry was last pushed back.
    pub refreshed_at: i64,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session this old (since log-in) ends, however active.
    pub absolute: Duration,
    /// Whether cookies carry `Secure`.
    pub secure: bool,
}

impl SessionPolicy {
    /// The idle expiry is pushed back at most this often, so an active shopper does not
    /// cause a database write on every request.
    const REFRESH_EVERY_SECS: i64 = 60;

    /// Whether a session logged in at `authenticated_at` has passed the absolute limit.
    pub fn is_past_absolute(&self, auth: &SessionAuth, now_secs: i64) -> bool {
        now_secs - auth.authenticated_at >= self.absolute.as_secs() as i64
    }
}

/// How long this node keeps a session it read: another node's log-out or save reaches
/// this node within this time. Writes through this node are seen at once.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(2);

/// Sessions kept in memory at most (the cache is emptied when full).
const SESSION_CACHE_MAX: usize = 100_000;

/// The session store of whichever database the server runs on: tower-sessions' sqlx
/// stores, except that saving never re-creates a deleted session (see `save`), with
/// sessions read in the last [`SESSION_CACHE_TTL`] served from memory, so a shopper's
/// burst of calls reads the database once.
#[derive(Debug, Clone)]
pub struct SessionBackend {
    db: SessionDb,
    recent: Arc<Recent<Id, Record>>,
}

#[derive(Debug, Clone)]
enum SessionDb {
    /// Sessions in the SQLite file (table `tower_sessions`): the store on the main pool,
    /// that pool, and the store on the reader pool that loads sessions.
    Sqlite(SqliteStore, SqlitePool, SqliteStore),
    /// Sessions in PostgreSQL (table `tower_sessions.session`).
    Postgres(PostgresStore, PgPool),
}

impl SessionBackend {
    /// Opens the session store on the store's database (its reads through the store's
    /// reader pool) and creates its table if needed.
    pub async fn open(store: &Store) -> Result<Self, Error> {
        Self::open_with_ttl(store, SESSION_CACHE_TTL).await
    }

    /// [`open`](Self::open) with another cache time to live (zero: always read the
    /// database).
    pub async fn open_with_ttl(store: &Store, ttl: Duration) -> Result<Self, Error> {
        let db = match (store.database(), store.readers()) {
            (Database::Sqlite(pool), Database::Sqlite(readers)) => SessionDb::Sqlite(
                SqliteStore::new(pool.clone()),
                pool.clone(),
                SqliteStore::new(readers.clone()),
            ),
            (Database::Postgres(pool), _) => {
                SessionDb::Postgres(PostgresStore::new(pool.clone()), pool.clone())
            }
            (Database::Sqlite(_), Database::Postgres(_)) => {
                unreachable!("the readers of SQLite are SQLite")
            }
        };
        let migrated = match &db {
            SessionDb::Sqlite(store, _, _) => store.migrate().await,
            SessionDb::Postgres(store, _) => store.migrate().await,
        };
        migrated.map_err(|e| Error::Startup(format!("session table migration failed: {e}")))?;
        Ok(Self {
            db,
            recent: Arc::new(Recent::new(ttl, SESSION_CACHE_MAX)),
        })
    }

    /// Deletes expired sessions every `period`, forever (run it as a task).
    pub async fn delete_expired_every(self, period: Duration) {
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            let result = match &self.db {
                SessionDb::Sqlite(store, _, _) => store.delete_expired().await,
                SessionDb::Postgres(store, _) => store.delete_expired().await,
            };
            if let Err(error) = result {
                tracing::warn!(%error, "deleting expired sessions failed");
            }
        }
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.db {
            SessionDb::Sqlite(store, pool, _) => {
                let _turn = crate::store::db::sqlite_write_turn(pool).await;
                store.create(record).await
            }
            SessionDb::Postgres(store, _) => store.create(record).await,
        }
    }

    /// Updates an existing session only. The stock stores upsert, so a request that loaded
    /// a session just before another request logged it out would write it back and log
    /// the shopper in again; here that write finds no row and changes nothing. New
    /// sessions go through `create` (tower-sessions calls it for every new id).
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // Dropped after the write, or if this request is cancelled during it (it may
        // have landed): the next read goes to the database.
        let _invalidate = self.recent.invalidate_on_drop(record.id);
        let id = record.id.to_string();
        let result = match &self.db {
            SessionDb::Sqlite(_, pool, _) => {
                let _turn = crate::store::db::sqlite_write_turn(pool).await;
                sqlx::query("update tower_sessions set data = $1, expiry_date = $2 where id = $3")
                    .bind(data)
                    .bind(record.expiry_date)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            }
            SessionDb::Postgres(_, pool) => sqlx::query(
                "update tower_sessions.session set data = $1, expiry_date = $2 where id = $3",
            )
            .bind(data)
            .bind(record.expiry_date)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        };
        match result {
            Ok(0) => {
                tracing::debug!("not saving a session that was deleted meanwhile");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(session_store::Error::Backend(e.to_string())),
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        // A session past its expiry here may have been pushed back on another node.
        let now = OffsetDateTime::now_utc();
        let ticket = match self.recent.get_if(id, |record| record.expiry_date > now) {
            Ok(record) => return Ok(Some(record)),
            Err(ticket) => ticket,
        };
        let loaded = match &self.db {
            SessionDb::Sqlite(_, _, readers) => readers.load(id).await?,
            SessionDb::Postgres(store, _) => store.load(id).await?,
        };
        // Only live sessions are kept: made-up ids cannot fill the cache.
        if let Some(record) = &loaded {
            self.recent.fill(*id, record.clone(), ticket);
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _invalidate = self.recent.invalidate_on_drop(*id);
        match &self.db {
            SessionDb::Sqlite(store, pool, _) => {
                let _turn = crate::store::db::sqlite_write_turn(pool).await;
                store.delete(id).await
            }
            SessionDb::Postgres(store, _) => store.delete(id).await,
        }
    }
}

/// The session layer: database-backed, 128-bit random ids (tower-sessions' default),
/// `HttpOnly`, `SameSite=Lax`, `Secure` when configured, idle expiry.
pub fn layer(store: SessionBackend, policy: SessionPolicy) -> SessionManagerLayer<SessionBackend> {
    let idle = tower_sessions::cookie::time::Duration::seconds(policy.idle.as_secs() as i64);
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(policy.secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Middleware inside the session layer: ends sessions past the absolute timeout and
/// pushes back the idle expiry of active ones (at most once a minute).
pub async fn enforce_policy(
    State(policy): State<SessionPolicy>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    // Static files never need the session; skip the database read.
    let is_static = path.starts_with("/pkg/") || path == "/favicon.svg";
    if !is_static {
        if let Err(error) = apply_policy(&policy, &session, crate::clock::unix_secs()).await {
            tracing::error!(%error, "session policy check failed");
        }
    }
    next.run(request).await
}

async fn apply_policy(policy: &SessionPolicy, session: &Session, now: i64) -> Result<(), Error> {
    let Some(mut auth) = session.get::<SessionAuth>(AUTH_KEY).await? else {
        return Ok(());
    };
    if policy.is_past_absolute(&auth, now) {
        tracing::info!(
            account_id = auth.account_id,
            "session reached its absolute timeout"
        );
        session.flush().await?;
    } else if now - auth.refreshed_at >= SessionPolicy::REFRESH_EVERY_SECS {
        auth.refreshed_at = now;
        session.insert(AUTH_KEY, auth).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tower_sessions::MemoryStore;

    use super::*;

    const POLICY: SessionPolicy = SessionPolicy {
        idle: Duration::from_secs(1800),
        absolute: Duration::from_secs(12 * 3600),
        secure: false,
    };

    async fn session_with(auth: SessionAuth) -> Session {
        let session = Session::new(None, Arc::new(MemoryStore::default()), None);
        session.insert(AUTH_KEY, auth).await.unwrap();
        session
    }

    fn record(value: i64) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("n".to_string(), serde_json::json!(value));
        Record {
            id: Id::default(),
            data,
            expiry_date: OffsetDateTime::now_utc()
                + tower_sessions::cookie::time::Duration::hours(1),
        }
    }

    async fn sqlite_backend(dir: &std::path::Path) -> (SessionBackend, SqlitePool) {
        let db = Database::connect(None, dir).await.unwrap();
        let Database::Sqlite(pool) = &db else {
            panic!("no DATABASE_URL gives SQLite")
        };
        let pool = pool.clone();
        let store = crate::store::Store::new(db);
        (
            SessionBackend::open_with_ttl(&store, Duration::from_secs(60))
                .await
                .unwrap(),
            pool,
        )
    }

    #[tokio::test]
    async fn the_session_cache_serves_reads_and_sees_this_nodes_writes_at_once() {
        let dir = std::env::temp_dir().join(format!("curio_session_cache_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (store, pool) = sqlite_backend(&dir).await;
        let mut session = record(1);
        store.create(&mut session).await.unwrap();
        let loaded = store.load(&session.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["n"], 1);

        // Behind the cache's back (as another node would): the cached copy is served.
        sqlx::query("delete from tower_sessions where id = $1")
            .bind(session.id.to_string())
            .execute(&pool)
            .await
            .unwrap();
        assert!(
            store.load(&session.id).await.unwrap().is_some(),
            "served from memory within the time to live"
        );

        // Writes through this store are seen by the next read.
        let mut again = record(2);
        store.create(&mut again).await.unwrap();
        store.load(&again.id).await.unwrap().unwrap();
        let mut changed = again.clone();
        changed.data.insert("n".into(), serde_json::json!(3));
        store.save(&changed).await.unwrap();
        assert_eq!(store.load(&again.id).await.unwrap().unwrap().data["n"], 3);
        store.delete(&again.id).await.unwrap();
        assert!(
            store.load(&again.id).await.unwrap().is_none(),
            "a log-out here ends the session at once"
        );
        // And a save after the delete (a request that loaded it before) revives nothing.
        store.save(&changed).await.unwrap();
        assert!(store.load(&again.id).await.unwrap().is_none());

        // Made-up ids are not cached; an expired cached session is not served.
        assert!(store.load(&Id::default()).await.unwrap().is_none());
        let mut short = record(4);
        short.expiry_date =
            OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::milliseconds(300);
        store.create(&mut short).await.unwrap();
        assert!(store.load(&short.id).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.load(&short.id).await.unwrap().is_none());
        drop((store, pool));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The reads on every request's path (session, cart, cards) go through a pool of
    /// their own: a burst of writers queued for SQLite's write lock, holding every
    /// connection of the main pool, does not hold them up, and they see what was
    /// committed before them.
    #[tokio::test]
    async fn request_reads_answer_while_writers_hold_every_main_pool_connection() {
        let dir = std::env::temp_dir().join(format!("curio_reader_pool_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::connect(None, &dir).await.unwrap();
        let Database::Sqlite(pool) = &db else {
            panic!("no DATABASE_URL gives SQLite")
        };
        let store = crate::store::Store::new(db.clone());
        let sessions = SessionBackend::open_with_ttl(&store, Duration::ZERO)
            .await
            .unwrap();
        let mut session = record(7);
        sessions.create(&mut session).await.unwrap();

        // A writer holds the write lock; the rest of the main pool is taken too.
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            held.push(pool.acquire().await.unwrap());
        }
        sqlx::query("begin immediate")
            .execute(&mut *held[0])
            .await
            .unwrap();
        sqlx::query("update tower_sessions set expiry_date = expiry_date where id = $1")
            .bind(session.id.to_string())
            .execute(&mut *held[0])
            .await
            .unwrap();

        // Without a pool of their own these would wait for a main-pool connection until
        // the writers let go (here: never, so the acquire timeout would fail them).
        let reads = async {
            let loaded = sessions.load(&session.id).await.unwrap();
            let cart = store.cart_lines(1).await.unwrap();
            let cards = store.cards(&[1, 2, 3]).await.unwrap();
            (loaded, cart, cards)
        };
        let (loaded, cart, cards) = tokio::time::timeout(Duration::from_secs(20), reads)
            .await
            .expect("the request reads answered while the writers held the main pool");
        assert_eq!(loaded.expect("the committed session is seen").data["n"], 7);
        assert!(cart.is_empty() && cards.is_empty(), "an empty shop");

        sqlx::query("rollback")
            .execute(&mut *held[0])
            .await
            .unwrap();
        drop(held);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn active_sessions_push_back_their_idle_expiry_once_a_minute() {
        let now = 1_000_000;
        let fresh = SessionAuth {
            account_id: 1,
            authenticated_at: now - 100,
            refreshed_at: now - 30,
        };
        let session = session_with(fresh).await;
        apply_policy(&POLICY, &session, now).await.unwrap();
        assert_eq!(
            session.get::<SessionAuth>(AUTH_KEY).await.unwrap(),
            Some(fresh),
            "no write within a minute"
        );

        let stale = SessionAuth {
            refreshed_at: now - 90,
            ..fresh
        };
        let session = session_with(stale).await;
        apply_policy(&POLICY, &session, now).await.unwrap();
        let after = session.get::<SessionAuth>(AUTH_KEY).await.unwrap().unwrap();
        assert_eq!(after.refreshed_at, now);
        assert_eq!(
            after.authenticated_at, fresh.authenticated_at,
            "log-in time is kept"
        );
    }

    #[tokio::test]
    async fn sessions_end_at_the_absolute_timeout() {
        let now = 1_000_000;
        let limit = POLICY.absolute.as_secs() as i64;
        let young = SessionAuth {
            account_id: 1,
            authenticated_at: now - limit + 1,
            refreshed_at: now,
        };
        let session = session_with(young).await;
        apply_policy(&POLICY, &session, now).await.unwrap();
        assert!(session
            .get::<SessionAuth>(AUTH_KEY)
            .await
            .unwrap()
            .is_some());

        let old = SessionAuth {
            authenticated_at: now - limit,
            ..young
        };
        let session = session_with(old).await;
        apply_policy(&POLICY, &session, now).await.unwrap();
        assert!(
            session
                .get::<SessionAuth>(AUTH_KEY)
                .await
                .unwrap()
                .is_none(),
            "flushed"
        );
    }
}
