//! Argon2id password hashing, off the async runtime and bounded in concurrency.

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::Error;

/// Hashes and verifies passwords with Argon2id at the argon2 crate's defaults
/// (m = 19456 KiB, t = 2, p = 1). Each hash runs on the blocking pool; at most
/// `max_concurrent` run at once, so a burst of log-ins cannot exhaust memory or threads.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown accounts are verified against it so
    /// their log-in takes as long as a known account's.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds a hasher; computes the dummy hash once (one Argon2 run).
    pub async fn new(max_concurrent: usize) -> Result<Self, Error> {
        let permits = Arc::new(Semaphore::new(max_concurrent.max(1)));
        let random = SaltString::generate(&mut OsRng);
        let dummy_hash = run_blocking(&permits, move || hash_now(random.as_str())).await?;
        Ok(Self {
            permits,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// An Argon2id PHC string for `password`, with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        run_blocking(&self.permits, move || hash_now(&password)).await
    }

    /// Whether `password` matches `stored`. With `stored = None` (no such account) the
    /// password is checked against the dummy hash, so the time taken is the same, and the
    /// answer is always `false`.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Error> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = run_blocking(&self.permits, move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| Error::Hashing(e.to_string()))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?;
        Ok(known && matches)
    }
}

fn hash_now(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Hashing(e.to_string()))
}

/// Runs `work` on the blocking pool once a permit is free. The permit moves into the
/// blocking task, so it is held until the hash is done even if the request that asked
/// for it is dropped (a client that disconnects cannot start unbounded hashes).
async fn run_blocking<T: Send + 'static>(
    permits: &Arc<Semaphore>,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let permit = Arc::clone(permits)
        .acquire_owned()
        .await
        .map_err(|e| Error::Hashing(format!("hasher closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(permit);
        result
    })
    .await
    .map_err(|e| Error::Hashing(format!("hashing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PasswordHasher::new(2).await.unwrap();
        let a = hasher.hash("correct horse".into()).await.unwrap();
        let b = hasher.hash("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(hasher
            .verify("correct horse".into(), Some(a.clone()))
            .await
            .unwrap());
        assert!(!hasher.verify("wrong horse".into(), Some(a)).await.unwrap());
        assert!(!hasher.verify("correct horse".into(), None).await.unwrap());
    }
}
