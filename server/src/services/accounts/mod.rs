//! Accounts: registration, log-in and log-out behind the UI's `Accounts` capability.

pub mod hashing;
pub mod policy;
pub mod throttle;

use std::net::IpAddr;

use app::account::ssr::{Accounts, Session};
use app::account::User;
use app::error::AppError;
use async_trait::async_trait;

use crate::clock::{unix_millis, unix_secs};
use crate::http::sessions::{SessionAuth, SessionPolicy, AUTH_KEY};
use crate::store::{AccountRow, CreateAccountError, Store};
use hashing::PasswordHasher;
use throttle::{Subjects, ThrottlePolicy};

/// The server's implementation of accounts.
#[derive(Debug, Clone)]
pub struct AccountService {
    store: Store,
    hasher: PasswordHasher,
    throttle: ThrottlePolicy,
    sessions: SessionPolicy,
    recs: Option<std::sync::Arc<crate::recs::RecService>>,
}

impl AccountService {
    /// Accounts on `store`.
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        throttle: ThrottlePolicy,
        sessions: SessionPolicy,
    ) -> Self {
        Self {
            store,
            hasher,
            throttle,
            sessions,
            recs: None,
        }
    }

    /// Tells `recs` when a visitor's history moves to an account, so neither keeps a
    /// stale live state.
    pub fn with_recs(mut self, recs: std::sync::Arc<crate::recs::RecService>) -> Self {
        self.recs = Some(recs);
        self
    }

    /// Starts a logged-in session: a new session id (the old one is deleted), then the
    /// account in it.
    async fn start_session(&self, session: &Session, account_id: i64) -> Result<(), AppError> {
        let now = unix_secs();
        // What the shopper did before logging in (events, cart, opinions) becomes theirs,
        // before the session changes: if this fails, the session is still the visitor's.
        let visitor: Option<i64> = session
            .get(crate::http::caller::VISITOR_KEY)
            .await
            .map_err(crate::error::Error::from)?;
        if let Some(visitor) = visitor {
            self.store.adopt_visitor(visitor, account_id).await?;
            if let Some(recs) = &self.recs {
                recs.forget(visitor);
                recs.forget(self.store.account_shopper(account_id).await?);
            }
            session
                .remove::<i64>(crate::http::caller::VISITOR_KEY)
                .await
                .map_err(crate::error::Error::from)?;
        }
        session
            .cycle_id()
            .await
            .map_err(crate::error::Error::from)?;
        let auth = SessionAuth {
            account_id,
            authenticated_at: now,
            refreshed_at: now,
        };
        session
            .insert(AUTH_KEY, auth)
            .await
            .map_err(crate::error::Error::from)?;
        Ok(())
    }
}

fn user_of(row: AccountRow) -> User {
    let member_since = time::OffsetDateTime::from_unix_timestamp(row.created_at)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default();
    let is_admin = row.is_admin();
    User {
        is_admin,
        id: row.account_id,
        email: row.email,
        display_name: row.display_name,
        member_since,
    }
}

#[async_trait]
impl Accounts for AccountService {
    #[tracing::instrument(skip_all)]
    async fn register(
        &self,
        session: &Session,
        client_ip: Option<IpAddr>,
        email: String,
        display_name: String,
        password: String,
    ) -> Result<User, AppError> {
        // Every registration costs a hash and can probe for taken emails: limit them per
        // address before doing any work.
        let subjects = Subjects::register(&self.throttle, client_ip);
        throttle::begin(&self.store, &self.throttle, subjects, unix_millis()).await??;
        let email = policy::normalize_email(&email)?;
        let display_name = policy::normalize_display_name(&display_name)?;
        policy::check_new_password(&password, &email)?;
        let hash = self.hasher.hash(password).await?;
        let row = match self
            .store
            .create_account(&email, &display_name, &hash, unix_secs())
            .await
        {
            Ok(row) => row,
            Err(CreateAccountError::EmailTaken) => return Err(AppError::EmailTaken),
            Err(CreateAccountError::Other(e)) => return Err(e.into()),
        };
        tracing::info!(account_id = row.account_id, "account registered");
        self.start_session(session, row.account_id).await?;
        Ok(user_of(row))
    }

    #[tracing::instrument(skip_all)]
    async fn log_in(
        &self,
        session: &Session,
        client_ip: Option<IpAddr>,
        email: String,
        password: String,
    ) -> Result<User, AppError> {
        // A malformed email is just another account that does not exist.
        let email = policy::normalize_email(&email).ok();
        let subjects = Subjects::log_in(&self.throttle, email.as_deref(), client_ip);
        let attempt =
            throttle::begin(&self.store, &self.throttle, subjects, unix_millis()).await??;

        let row = match &email {
            Some(email) => self.store.account_by_email(email).await?,
            None => None,
        };
        let plausible = password.chars().count() <= policy::MAX_PASSWORD_CHARS;
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        // Verify even for unknown accounts (against a dummy hash): same work, same time.
        let verified = self.hasher.verify(password, stored).await? && plausible;

        match row {
            Some(row) if verified => {
                attempt.succeeded(&self.store).await?;
                self.start_session(session, row.account_id).await?;
                tracing::info!(account_id = row.account_id, "logged in");
                Ok(user_of(row))
            }
            _ => {
                // The attempt stays recorded: it is a failure now.
                tracing::info!(ip = ?client_ip, "failed log-in");
                Err(AppError::BadCredentials)
            }
        }
    }

    #[tracing::instrument(skip_all)]
    async fn log_out(&self, session: &Session) -> Result<(), AppError> {
        session.flush().await.map_err(crate::error::Error::from)?;
        Ok(())
    }

    async fn current_user(&self, session: &Session) -> Result<Option<User>, AppError> {
        let auth = session
            .get::<SessionAuth>(AUTH_KEY)
            .await
            .map_err(crate::error::Error::from)?;
        let Some(auth) = auth else { return Ok(None) };
        if self.sessions.is_past_absolute(&auth, unix_secs()) {
            session.flush().await.map_err(crate::error::Error::from)?;
            return Ok(None);
        }
        match self.store.account_by_id(auth.account_id).await? {
            Some(row) => Ok(Some(user_of(row))),
            None => {
                // The account is gone: the session must not outlive it.
                session.flush().await.map_err(crate::error::Error::from)?;
                Ok(None)
            }
        }
    }
}
