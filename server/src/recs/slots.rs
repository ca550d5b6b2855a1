//! Per-shopper slots: each active shopper's live state and cached lists, loaded from
//! the log on first use, updated by every recorded event, and evicted when idle.

use super::*;

/// A shopper's slot: live state plus the lists cached for it.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) live: LiveShopper,
    /// Personal lists per cache key, valid for one (live version, model version).
    pub(super) cache: HashMap<String, CachedList>,
    /// Per surface, the variant drawn for this shopper and the live version it was drawn
    /// at: a shopper keeps their variant until their next event, so reloading a page
    /// shows the same row.
    pub(super) variants: HashMap<String, (u64, String)>,
}

/// A shopper's slot in the service's map, with when it was last asked for. The time is
/// kept beside the slot, not in it: touching a slot never waits for its lock (held while
/// the shopper's lists are scored again at low priority) with the whole map locked.
pub(super) struct Held {
    pub(super) slot: Arc<Mutex<Slot>>,
    pub(super) touched: u64,
}

/// A personal list scored for one state of the shopper and one model version.
pub(super) struct CachedList {
    pub(super) live_version: u64,
    pub(super) set_version: Option<i64>,
    pub(super) items: Arc<Vec<RankedItem>>,
    /// The surface and request it answers (to score it again after an event).
    pub(super) surface: String,
    pub(super) request: SurfaceRequest,
}

/// Shoppers kept in memory; beyond this the least recently served are dropped (they
/// load again from the log on their next request).
pub(super) const MAX_LIVE_SHOPPERS: usize = 200_000;

/// Runs `f` on a shopper's slot: at once when the slot is free, else on the blocking
/// pool. The slot is held while the shopper's lists are scored again at low priority (a
/// millisecond, or many under load), and an async worker that waited for it would hold
/// up every request queued on that worker.
pub(super) async fn with_slot<R: Send + 'static>(
    slot: &Arc<Mutex<Slot>>,
    f: impl FnOnce(&mut Slot) -> R + Send + 'static,
) -> Result<R, Error> {
    match slot.try_lock() {
        Ok(mut guard) => return Ok(f(&mut guard)),
        Err(TryLockError::Poisoned(guard)) => return Ok(f(&mut guard.into_inner())),
        Err(TryLockError::WouldBlock) => {}
    }
    let slot = slot.clone();
    tokio::task::spawn_blocking(move || f(&mut slot.lock().unwrap_or_else(PoisonError::into_inner)))
        .await
        .map_err(|e| Error::Command(format!("the live-state task failed: {e}")))
}

/// Drops the least recently used tenth of the slots.
pub(super) fn evict(shoppers: &mut HashMap<i64, Held>) {
    let mut touched: Vec<(u64, i64)> = shoppers
        .iter()
        .map(|(id, held)| (held.touched, *id))
        .collect();
    touched.sort_unstable();
    for (_, id) in touched.iter().take(shoppers.len() / 10 + 1) {
        shoppers.remove(id);
    }
}

impl RecService {
    /// The shopper's slot, loading their history from the log on first use.
    pub(super) async fn slot(&self, shopper: i64) -> Result<Arc<Mutex<Slot>>, Error> {
        let tick = self.clock.fetch_add(1, Ordering::Relaxed);
        if let Some(held) = self
            .shoppers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(&shopper)
        {
            held.touched = tick;
            return Ok(held.slot.clone());
        }
        let events = self.store.shopper_history(shopper).await?;
        let interests = self.store.interests(shopper).await?;
        let slot = Arc::new(Mutex::new(Slot {
            live: LiveShopper::from_log(&events, interests),
            cache: HashMap::new(),
            variants: HashMap::new(),
        }));
        let mut shoppers = self.shoppers.lock().unwrap_or_else(PoisonError::into_inner);
        if shoppers.len() >= MAX_LIVE_SHOPPERS {
            evict(&mut shoppers);
        }
        // Another request may have loaded it meanwhile: theirs may hold newer events.
        Ok(shoppers
            .entry(shopper)
            .or_insert(Held {
                slot,
                touched: tick,
            })
            .slot
            .clone())
    }

    /// Records in the shopper's live state an event already durable in the log, and
    /// credits the variant that served the product. Called before the event's request
    /// answers, so the next recommendation reflects it.
    pub async fn observe(
        self: &Arc<Self>,
        shopper: i64,
        product_id: i64,
        kind: InteractionKind,
        value: Option<f32>,
        at_ms: i64,
    ) -> Result<(), Error> {
        let event = ShopperEvent {
            product_id,
            kind,
            value,
            at_ms,
        };
        self.observe_all(shopper, &[event]).await
    }

    /// [`observe`](Self::observe) for the events of one request (a product page's click
    /// and view): the lists on the shopper's screen are scored again once, not per event.
    pub async fn observe_all(
        self: &Arc<Self>,
        shopper: i64,
        events: &[ShopperEvent],
    ) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        let slot = self.slot(shopper).await?;
        let (this, set, owned) = (self.clone(), self.current(), events.to_vec());
        let (engagements, shown) = with_slot(&slot, move |slot| {
            let before = slot.live.version;
            let mut engagements = Vec::new();
            for event in owned {
                // A state just loaded from the log may hold this event already: `push`
                // skips an identical one.
                slot.live.push(event.clone());
                let counted = Counted::of(event.kind).and_then(|what| {
                    slot.live
                        .attributed(event.product_id)
                        .map(|(surface, variant)| (surface.to_string(), variant.to_string(), what))
                });
                let credit = slot.live.credit(event.product_id, event.kind, event.value);
                engagements.push((credit, counted));
            }
            let changed = slot.live.version != before;
            let shown = changed && slot.cache.values().any(|list| list.live_version == before);
            if shown {
                this.draw_shown_variants(&set, shopper, slot, before);
            }
            (engagements, shown.then_some(before))
        })
        .await?;
        // The personal lists the shopper is looking at are scored again now, so the
        // event's own request pays for it and their next list comes from memory.
        if let Some(before) = shown {
            let (this, set, slot) = (self.clone(), self.current(), slot.clone());
            refresh::run(move || {
                let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                this.rescore_shown(&set, shopper, &mut slot, before);
            })
            .await?;
        }
        if engagements.iter().any(|(c, n)| c.is_some() || n.is_some()) {
            let mut book = self.bandit.lock().unwrap_or_else(PoisonError::into_inner);
            for (credit, counted) in engagements {
                if let Some((surface, variant, reward)) = credit {
                    book.add(&surface, &variant, 0, reward);
                }
                if let Some((surface, variant, what)) = counted {
                    book.count(&surface, &variant, what);
                }
            }
        }
        let count = self
            .new_events
            .fetch_add(events.len() as u64, Ordering::SeqCst)
            + events.len() as u64;
        if let Some(limit) = self.config.retrain_after_events {
            if count >= limit && !self.training.load(Ordering::SeqCst) {
                self.new_events.store(0, Ordering::SeqCst);
                let service = self.clone();
                tokio::spawn(async move { service.retrain_logged("events").await });
            }
        }
        Ok(())
    }

    /// Drops a shopper's live state; it reloads from the log on their next request (after
    /// their history moved, as when a visitor logs in).
    pub fn forget(&self, shopper: i64) {
        self.shoppers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&shopper);
    }

    /// The shopper withdrew their like or dislike of a product.
    pub async fn forget_opinion(&self, shopper: i64, product_id: i64) -> Result<(), Error> {
        let slot = self.slot(shopper).await?;
        with_slot(&slot, move |slot| slot.live.clear_opinion(product_id)).await
    }

    /// Onboarding: the shopper's chosen categories (durable) shape their lists at once.
    pub async fn set_interests(&self, shopper: i64, categories: Vec<i64>) -> Result<(), Error> {
        self.store.set_interests(shopper, &categories).await?;
        let slot = self.slot(shopper).await?;
        with_slot(&slot, move |slot| slot.live.set_interests(categories)).await
    }

    /// How many distinct products this node has served in a list since it started.
    pub fn served_products(&self) -> usize {
        self.bandit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .served
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::{with_slot, Slot};

    /// A slot held by another thread (its lists being scored again) is waited for off
    /// the async worker: the other tasks on that worker keep running meanwhile.
    #[tokio::test(flavor = "current_thread")]
    pub(super) async fn a_held_slot_is_waited_for_off_the_async_worker() {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let release = Arc::new(AtomicBool::new(false));
        let (locked, is_locked) = std::sync::mpsc::channel();
        let holder = {
            let (slot, release) = (slot.clone(), release.clone());
            std::thread::spawn(move || {
                let _guard = slot.lock().unwrap();
                locked.send(()).unwrap();
                // Let go when the async task says so, or after a while regardless (so a
                // blocked worker fails the test instead of hanging it).
                let started = Instant::now();
                while !release.load(Ordering::SeqCst) {
                    if started.elapsed() > Duration::from_secs(5) {
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                true
            })
        };
        is_locked.recv().unwrap();
        // The only worker of this runtime runs this task only if `with_slot` does not
        // block it on the lock.
        let releaser = tokio::spawn({
            let release = release.clone();
            async move { release.store(true, Ordering::SeqCst) }
        });
        let version = with_slot(&slot, |slot| slot.live.version)
            .await
            .expect("the slot was reached");
        releaser.await.unwrap();
        assert!(
            holder.join().unwrap(),
            "the async worker was blocked on the slot's lock"
        );
        assert_eq!(version, 0);
    }
}
