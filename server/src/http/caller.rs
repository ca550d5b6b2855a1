//! Who a request comes from: its session resolved once into an [`app::account::ssr::Caller`]
//! (the account, and the shopper whose events these are), so the services behind the
//! server functions take ids and never read the session themselves.

use app::account::ssr::{Caller, Callers, Enrol};
use app::error::AppError;
use tower_sessions::Session;

use crate::error::Error;
use crate::http::sessions::{SessionAuth, AUTH_KEY};
use crate::store::Store;

/// The session key under which an anonymous visitor's shopper id is kept.
pub const VISITOR_KEY: &str = "visitor";

/// Resolves sessions against the store.
pub struct SessionCallers {
    store: Store,
}

impl SessionCallers {
    /// Callers over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Callers for SessionCallers {
    async fn resolve(&self, session: Session) -> Result<Caller, AppError> {
        if let Some(auth) = session
            .get::<SessionAuth>(AUTH_KEY)
            .await
            .map_err(Error::from)?
        {
            let shopper = self.store.account_shopper(auth.account_id).await?;
            return Ok(Caller::new(Some(auth.account_id), Some(shopper), None));
        }
        if let Some(id) = session.get::<i64>(VISITOR_KEY).await.map_err(Error::from)? {
            return Ok(Caller::new(None, Some(id), None));
        }
        let enrol = VisitorEnrolment {
            session,
            store: self.store.clone(),
        };
        Ok(Caller::new(None, None, Some(Box::new(enrol))))
    }
}

/// Makes an anonymous visitor's shopper and keeps its id in their session.
struct VisitorEnrolment {
    session: Session,
    store: Store,
}

#[async_trait::async_trait]
impl Enrol for VisitorEnrolment {
    async fn enrol(&self) -> Result<i64, AppError> {
        let id = self.store.new_visitor().await?;
        self.session
            .insert(VISITOR_KEY, id)
            .await
            .map_err(Error::from)?;
        Ok(id)
    }
}
