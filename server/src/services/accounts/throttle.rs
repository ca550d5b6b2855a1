//! Throttling of log-ins (per account and per client address) and of registrations (per
//! address), kept in the database so it holds across restarts and across server nodes.
//!
//! An attempt is recorded *before* the password is checked and counted atomically with
//! the others, so parallel requests cannot slip past the limit; a successful log-in then
//! forgets the account's attempts, a throttled one is not counted at all.

use std::net::IpAddr;

use app::error::AppError;

use crate::error::Error;
use crate::store::Store;

/// How many attempts are allowed in the sliding window.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Length of the sliding window, in seconds.
    pub window_secs: i64,
    /// Failed log-ins allowed per account (by email, known or not) in the window.
    pub per_account: i64,
    /// Failed log-ins allowed per client address in the window.
    pub per_ip: i64,
    /// Registrations allowed per client address in the window.
    pub registrations_per_ip: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            per_account: 5,
            per_ip: 20,
            registrations_per_ip: 10,
        }
    }
}

/// The key of a client address: the address itself for IPv4, its /64 network for IPv6
/// (one host usually owns a whole /64, so single IPv6 addresses are free to rotate).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The subjects one attempt counts against, each with its limit.
#[derive(Debug, Clone)]
pub struct Subjects {
    list: Vec<(String, i64)>,
    /// Index in `list` of the account subject, if any.
    account: Option<usize>,
}

impl Subjects {
    /// A log-in to `email` (already normalised; an unusable email is one shared subject,
    /// since it can match no account) from `ip`.
    pub fn log_in(policy: &ThrottlePolicy, email: Option<&str>, ip: Option<IpAddr>) -> Self {
        let mut list = vec![(
            format!("account:{}", email.unwrap_or("<invalid>")),
            policy.per_account,
        )];
        list.extend(ip.map(|ip| (format!("ip:{}", address_key(ip)), policy.per_ip)));
        Self {
            list,
            account: Some(0),
        }
    }

    /// A registration from `ip`.
    pub fn register(policy: &ThrottlePolicy, ip: Option<IpAddr>) -> Self {
        let list = ip
            .map(|ip| {
                (
                    format!("register:{}", address_key(ip)),
                    policy.registrations_per_ip,
                )
            })
            .into_iter()
            .collect();
        Self {
            list,
            account: None,
        }
    }
}

/// An attempt that passed the throttle and is being carried out. Dropping it leaves it
/// counted (a failed log-in, or any registration).
#[derive(Debug)]
pub struct Attempt {
    subjects: Subjects,
    attempt_ids: Vec<i64>,
}

/// Records an attempt; refuses it, with the seconds to wait, when any subject is over its
/// limit (a refused attempt is not counted).
pub async fn begin(
    store: &Store,
    policy: &ThrottlePolicy,
    subjects: Subjects,
    now_ms: i64,
) -> Result<Result<Attempt, AppError>, Error> {
    let window_ms = policy.window_secs * 1000;
    let names: Vec<String> = subjects.list.iter().map(|(s, _)| s.clone()).collect();
    let counts = store
        .record_attempt(&names, now_ms, now_ms - window_ms)
        .await?;
    let mut wait_ms = 0;
    for count in &counts {
        let limit = subjects
            .list
            .iter()
            .find(|(s, _)| *s == count.subject)
            .map_or(i64::MAX, |(_, limit)| *limit);
        if count.count > limit {
            // Allowed again once the oldest attempt in the window leaves it.
            wait_ms = wait_ms.max(count.oldest + window_ms - now_ms);
        }
    }
    let attempt_ids: Vec<i64> = counts.iter().map(|c| c.attempt_id).collect();
    if wait_ms > 0 {
        store.delete_attempts(&attempt_ids).await?;
        let retry_after_secs = (wait_ms as u64).div_ceil(1000).max(1);
        return Ok(Err(AppError::Throttled { retry_after_secs }));
    }
    Ok(Ok(Attempt {
        subjects,
        attempt_ids,
    }))
}

impl Attempt {
    /// The log-in succeeded: the account's failures are forgotten and this attempt no
    /// longer counts against the address.
    pub async fn succeeded(self, store: &Store) -> Result<(), Error> {
        if let Some(index) = self.subjects.account {
            store.clear_attempts(&self.subjects.list[index].0).await?;
        }
        store.delete_attempts(&self.attempt_ids).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_are_grouped_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(address_key(mapped), "10.1.2.3");
    }
}
