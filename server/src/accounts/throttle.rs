//! Throttling of failed log-ins, per account and per client address, kept in the database
//! so it holds across restarts and across several server nodes.

use std::net::IpAddr;

use app::error::AppError;

use crate::error::Error;
use crate::store::Store;

/// How many failures are allowed in the window before further attempts are refused.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Length of the sliding window, in seconds.
    pub window_secs: i64,
    /// Failures allowed per account (by email, known or not) in the window.
    pub per_account: i64,
    /// Failures allowed per client address in the window.
    pub per_ip: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            per_account: 5,
            per_ip: 20,
        }
    }
}

/// The throttle subjects of one attempt.
pub struct Subjects {
    account: String,
    ip: Option<String>,
}

impl Subjects {
    /// The subjects for a log-in to `email` from `ip`.
    pub fn new(email: &str, ip: Option<IpAddr>) -> Self {
        Self {
            account: format!("account:{email}"),
            ip: ip.map(|ip| format!("ip:{ip}")),
        }
    }
}

/// Refuses, with the seconds to wait, when either subject has used up its failures.
pub async fn check(
    store: &Store,
    policy: ThrottlePolicy,
    subjects: &Subjects,
    now_ms: i64,
) -> Result<Result<(), AppError>, Error> {
    let since = now_ms - policy.window_secs * 1000;
    let mut checks = vec![(subjects.account.as_str(), policy.per_account)];
    if let Some(ip) = &subjects.ip {
        checks.push((ip.as_str(), policy.per_ip));
    }
    let mut wait_ms = 0;
    for (subject, limit) in checks {
        let (count, oldest) = store.login_failures_since(subject, since).await?;
        if count >= limit {
            // Allowed again once the oldest failure in the window leaves it.
            let until = oldest.unwrap_or(now_ms) + policy.window_secs * 1000;
            wait_ms = wait_ms.max(until - now_ms);
        }
    }
    if wait_ms > 0 {
        let retry_after_secs = (wait_ms as u64).div_ceil(1000).max(1);
        return Ok(Err(AppError::Throttled { retry_after_secs }));
    }
    Ok(Ok(()))
}

/// Records a failed attempt against both subjects.
pub async fn record_failure(
    store: &Store,
    policy: ThrottlePolicy,
    subjects: &Subjects,
    now_ms: i64,
) -> Result<(), Error> {
    let mut list = vec![subjects.account.clone()];
    list.extend(subjects.ip.clone());
    store
        .record_login_failure(&list, now_ms, now_ms - policy.window_secs * 1000)
        .await
}

/// Forgets the account's failures after a successful log-in (the address keeps its own).
pub async fn record_success(store: &Store, subjects: &Subjects) -> Result<(), Error> {
    store.clear_login_failures(&subjects.account).await
}
