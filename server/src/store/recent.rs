//! A read-through cache for rows this node reads on every request and rarely writes
//! (sessions, the cart a recommendation list leaves out): a value read from the database
//! is kept for a few seconds, and every write through this node drops it at once.
//!
//! Another node's write is seen when the entry's time is up, so the time to live bounds
//! how stale a value can be across nodes. Within this node no stale value is stored: a
//! read that was still in flight when a write to its key happened does not fill the cache
//! (each write is counted and its key remembered; a fill checks the keys written since its
//! read began).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Entries kept for at most `ttl`, at most `max` of them (all dropped when full: the
/// next reads refill the ones in use).
#[derive(Debug)]
pub struct Recent<K, V> {
    ttl: Duration,
    max: usize,
    inner: Mutex<Inner<K, V>>,
}

/// Writes remembered for checking fills; a read that saw more writes than this go by
/// does not fill the cache.
const WRITES_KEPT: usize = 4096;

#[derive(Debug)]
struct Inner<K, V> {
    entries: HashMap<K, (V, Instant)>,
    /// Writes so far.
    writes: u64,
    /// The keys of the latest writes (at most `WRITES_KEPT`), oldest first.
    written: VecDeque<K>,
}

/// Proof of when a read of the source began; see [`Recent::fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl<K: Eq + Hash + Clone, V: Clone> Recent<K, V> {
    /// An empty cache.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max: max.max(1),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                writes: 0,
                written: VecDeque::new(),
            }),
        }
    }

    /// The value of `key` if one younger than the time to live is here; otherwise a
    /// ticket to pass to [`fill`](Self::fill) with what the source then says.
    pub fn get(&self, key: &K) -> Result<V, Ticket> {
        self.get_if(key, |_| true)
    }

    /// [`get`](Self::get), counting an entry that fails `usable` as missing.
    pub fn get_if(&self, key: &K, usable: impl FnOnce(&V) -> bool) -> Result<V, Ticket> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.entries.get(key) {
            Some((value, at)) if at.elapsed() < self.ttl && usable(value) => Ok(value.clone()),
            _ => Err(Ticket(inner.writes)),
        }
    }

    /// Keeps `value`, read from the source after `get` gave `ticket`, unless a write of
    /// `key` went through this cache meanwhile (the read may predate it), or too many
    /// writes to tell. Returns whether it was kept.
    pub fn fill(&self, key: K, value: V, ticket: Ticket) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let since = inner.writes - ticket.0;
        if since > 0 {
            if since > inner.written.len() as u64 {
                return false;
            }
            let raced = inner
                .written
                .iter()
                .rev()
                .take(since as usize)
                .any(|k| *k == key);
            if raced {
                return false;
            }
        }
        if inner.entries.len() >= self.max {
            inner.entries.clear();
        }
        inner.entries.insert(key, (value, Instant::now()));
        true
    }

    /// Call after `key` was written or deleted at the source: drops its entry, and keeps
    /// reads that began before from filling the cache with the old value.
    pub fn invalidate(&self, key: &K) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.writes += 1;
        if inner.written.len() >= WRITES_KEPT {
            inner.written.pop_front();
        }
        inner.written.push_back(key.clone());
        inner.entries.remove(key);
    }

    /// A guard that calls [`invalidate`](Self::invalidate) when dropped. Take it before
    /// writing `key`: the entry is dropped even if the request is cancelled after the
    /// write landed but before it returned.
    pub fn invalidate_on_drop(&self, key: K) -> Invalidate<'_, K, V> {
        Invalidate { cache: self, key }
    }

    /// Number of entries held (fresh or not).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// See [`Recent::invalidate_on_drop`].
#[must_use = "the entry is invalidated when this guard is dropped"]
pub struct Invalidate<'a, K: Eq + Hash + Clone, V: Clone> {
    cache: &'a Recent<K, V>,
    key: K,
}

impl<K: Eq + Hash + Clone, V: Clone> Drop for Invalidate<'_, K, V> {
    fn drop(&mut self) {
        self.cache.invalidate(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    #[test]
    fn a_filled_value_is_served_until_invalidated() {
        let cache: Recent<i64, &str> = Recent::new(Duration::from_secs(60), 10);
        let ticket = cache.get(&1).unwrap_err();
        assert!(cache.fill(1, "one", ticket));
        assert_eq!(cache.get(&1), Ok("one"));
        cache.invalidate(&1);
        assert!(cache.get(&1).is_err(), "a write drops the entry");
    }

    #[test]
    fn a_read_that_began_before_a_write_does_not_fill() {
        let cache: Recent<i64, &str> = Recent::new(Duration::from_secs(60), 10);
        // A request misses and goes to the database...
        let ticket = cache.get(&1).unwrap_err();
        // ...another request writes key 1 meanwhile...
        cache.invalidate(&1);
        // ...so what the first one read may be old, and is not kept.
        assert!(!cache.fill(1, "old", ticket));
        assert!(cache.get(&1).is_err());
        let ticket = cache.get(&1).unwrap_err();
        assert!(cache.fill(1, "new", ticket));
        assert_eq!(cache.get(&1), Ok("new"));
    }

    #[test]
    fn writes_to_other_keys_do_not_stop_a_fill_unless_too_many_to_tell() {
        let cache: Recent<i64, &str> = Recent::new(Duration::from_secs(60), 10);
        let ticket = cache.get(&1).unwrap_err();
        cache.invalidate(&2);
        cache.invalidate(&3);
        assert!(
            cache.fill(1, "one", ticket),
            "only keys 2 and 3 were written"
        );
        let ticket = cache.get(&4).unwrap_err();
        for key in 0..(WRITES_KEPT as i64 + 1) {
            cache.invalidate(&(100 + key));
        }
        assert!(
            !cache.fill(4, "four", ticket),
            "the writes since are no longer all known"
        );
        assert!(cache.get(&4).is_err());
    }

    #[test]
    fn a_write_guard_invalidates_even_when_its_future_is_dropped() {
        let cache: Recent<i64, &str> = Recent::new(Duration::from_secs(60), 10);
        let ticket = cache.get(&1).unwrap_err();
        cache.fill(1, "old", ticket);
        let write = async {
            let _guard = cache.invalidate_on_drop(1);
            // The write lands here, then the request is cancelled before it returns.
            std::future::pending::<()>().await;
        };
        let mut write = Box::pin(write);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(write.as_mut().poll(&mut cx).is_pending());
        assert_eq!(cache.get(&1), Ok("old"), "not yet: the write is in flight");
        drop(write);
        assert!(
            cache.get(&1).is_err(),
            "the cancelled write still dropped the entry"
        );
    }

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache: Recent<i64, i64> = Recent::new(Duration::from_millis(30), 3);
        for key in 0..3 {
            let ticket = cache.get(&key).unwrap_err();
            cache.fill(key, key * 10, ticket);
        }
        assert_eq!(cache.len(), 3);
        let ticket = cache.get(&3).unwrap_err();
        cache.fill(3, 30, ticket);
        assert_eq!(cache.len(), 1, "full: cleared, then the new entry kept");
        assert_eq!(cache.get(&3), Ok(30));
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get(&3).is_err(), "older than the time to live");
    }
}
