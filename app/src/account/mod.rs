//! Accounts as the UI sees them: the signed-in user, the server functions that register,
//! log in and log out, and (server side) the capability the server must provide.

pub mod pages;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A shopper's account, as shown in the UI. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Login email, stored lower-cased.
    pub email: String,
    /// Name shown in the header.
    pub display_name: String,
    /// The day the account was created, `YYYY-MM-DD` (UTC).
    pub member_since: String,
    /// Whether the account sees the merchant's insights (the UI shows the link; the
    /// server checks the role itself on every insights request).
    #[serde(default)]
    pub is_admin: bool,
}

/// Creates an account and logs the new shopper in.
#[server(endpoint = "register")]
pub async fn register(
    email: String,
    display_name: String,
    password: String,
) -> Result<User, AppError> {
    let request = ssr::RequestContext::get().await?;
    let result = request
        .accounts
        .register(
            &request.session,
            request.client_ip,
            email,
            display_name,
            password,
        )
        .await;
    ssr::respond(result)
}

/// Logs a shopper in. Any failure reads the same whether or not the account exists.
#[server(endpoint = "login")]
pub async fn log_in(email: String, password: String) -> Result<User, AppError> {
    let request = ssr::RequestContext::get().await?;
    let result = request
        .accounts
        .log_in(&request.session, request.client_ip, email, password)
        .await;
    ssr::respond(result)
}

/// Logs out: the session is deleted on the server and its cookie removed.
#[server(endpoint = "logout")]
pub async fn log_out() -> Result<(), AppError> {
    let request = ssr::RequestContext::get().await?;
    let result = request.accounts.log_out(&request.session).await;
    ssr::respond(result)
}

/// The logged-in shopper, if any. Read-only.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let request = ssr::RequestContext::get().await?;
    let result = request.accounts.current_user(&request.session).await;
    ssr::respond(result)
}

/// Server-side half of accounts: what `app` needs from the server, provided as context.
#[cfg(feature = "ssr")]
pub mod ssr {
    use std::net::IpAddr;
    use std::sync::Arc;

    use axum::Extension;
    use leptos::prelude::*;
    pub use tower_sessions::Session;

    use super::User;
    use crate::error::AppError;

    /// Account operations the server implements (password policy, hashing, throttling,
    /// storage and session rules all live behind this trait).
    #[async_trait::async_trait]
    pub trait Accounts: Send + Sync + 'static {
        /// Validates the form, creates the account and logs it in on `session`.
        async fn register(
            &self,
            session: &Session,
            client_ip: Option<IpAddr>,
            email: String,
            display_name: String,
            password: String,
        ) -> Result<User, AppError>;

        /// Checks the credentials (throttled per account and per address) and, on success,
        /// rotates the session id and stores the user in the session.
        async fn log_in(
            &self,
            session: &Session,
            client_ip: Option<IpAddr>,
            email: String,
            password: String,
        ) -> Result<User, AppError>;

        /// Deletes the session on the server.
        async fn log_out(&self, session: &Session) -> Result<(), AppError>;

        /// The user of `session`, if it is logged in and has not expired.
        async fn current_user(&self, session: &Session) -> Result<Option<User>, AppError>;
    }

    /// The client's address as the server determined it (the peer, or the address a
    /// trusted reverse proxy reported). A request extension set by the server.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ClientIp(pub Option<IpAddr>);

    /// The shared handle server functions find in their context.
    pub type SharedAccounts = Arc<dyn Accounts>;

    /// What a server function needs about the request it serves.
    pub struct RequestContext {
        /// The accounts capability.
        pub accounts: SharedAccounts,
        /// The request's session (created lazily by tower-sessions).
        pub session: Session,
        /// The peer address, when the server runs with connect info.
        pub client_ip: Option<IpAddr>,
    }

    impl RequestContext {
        /// Reads the context and extractors of the current server-function call.
        pub async fn get() -> Result<Self, AppError> {
            let accounts = capability::<SharedAccounts>("accounts")?;
            let session = session().await?;
            let client_ip = match leptos_axum::extract::<Extension<ClientIp>>().await {
                Ok(Extension(ClientIp(ip))) => ip,
                Err(_) => None,
            };
            Ok(Self {
                accounts,
                session,
                client_ip,
            })
        }
    }

    /// A capability the server provides as context (`what` names it in the log).
    pub fn capability<T: Clone + 'static>(what: &str) -> Result<T, AppError> {
        use_context::<T>().ok_or_else(|| {
            tracing::error!("{what} capability missing from the server-function context");
            AppError::Internal
        })
    }

    /// Who a request comes from, resolved once per request from its session by the
    /// server's [`Callers`]. The shop and the merchant's views take this, never the
    /// session: an account id, a shopper id, and for a visitor who has recorded nothing
    /// yet the means to become a shopper at their first event.
    pub struct Caller {
        /// The logged-in account.
        pub account: Option<i64>,
        shopper: Option<i64>,
        enrol: Option<Box<dyn Enrol>>,
    }

    impl Caller {
        /// A caller with these ids; `enrol` makes a visitor's shopper when it is needed.
        pub fn new(
            account: Option<i64>,
            shopper: Option<i64>,
            enrol: Option<Box<dyn Enrol>>,
        ) -> Self {
            Self {
                account,
                shopper,
                enrol,
            }
        }

        /// The caller's shopper, if they have one yet (reads never make one).
        pub fn shopper(&self) -> Option<i64> {
            self.shopper
        }

        /// The caller's shopper, made (and kept in the session) at a visitor's first
        /// recorded event.
        pub async fn shopper_for_event(&mut self) -> Result<i64, AppError> {
            if let Some(id) = self.shopper {
                return Ok(id);
            }
            let Some(enrol) = &self.enrol else {
                tracing::error!("a caller without a shopper cannot enrol");
                return Err(AppError::Internal);
            };
            let id = enrol.enrol().await?;
            self.shopper = Some(id);
            Ok(id)
        }
    }

    /// Makes a visitor's shopper at their first event (the server keeps it in the session).
    #[async_trait::async_trait]
    pub trait Enrol: Send + Sync {
        /// The new shopper's id.
        async fn enrol(&self) -> Result<i64, AppError>;
    }

    /// Resolves a request's session into its [`Caller`] (implemented by the server).
    #[async_trait::async_trait]
    pub trait Callers: Send + Sync + 'static {
        /// The caller of `session`; reads only.
        async fn resolve(&self, session: Session) -> Result<Caller, AppError>;
    }

    /// The shared handle server functions find in their context.
    pub type SharedCallers = Arc<dyn Callers>;

    /// The caller of the current server-function call (resolve it once per call).
    pub async fn caller() -> Result<Caller, AppError> {
        let callers = capability::<SharedCallers>("callers")?;
        callers.resolve(session().await?).await
    }

    /// The request's session (the session layer runs before every server function).
    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| {
            tracing::error!(error = %e, "session layer missing");
            AppError::Internal
        })
    }

    /// Sets the response status from the error, so clients and logs see 401/409/422/429
    /// rather than a blanket 500, with `Retry-After` on 429. A plain HTML form post
    /// (before hydration, or without JavaScript) is left alone: Leptos answers it with a
    /// redirect back to the form, which a status would break.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        let Err(error) = &result else { return result };
        let Some(options) = use_context::<leptos_axum::ResponseOptions>() else {
            return result;
        };
        let plain_form_post = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if plain_form_post {
            return result;
        }
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            options.set_status(status);
        }
        if let AppError::Throttled { retry_after_secs } = error {
            options.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        result
    }
}
