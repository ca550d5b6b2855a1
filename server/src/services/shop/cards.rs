//! Product cards: built from their rows, and kept in memory for the recommendation rows.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use app::shop::model::{Money, ProductCard, RatingSummary};

use crate::error::Error;
use crate::store::shop::CardRow;
use crate::store::Store;

/// How old a card in the recommendation rows' cache may be.
pub(super) const CARD_TTL: Duration = Duration::from_secs(2);

/// Cards held at most; the cache empties when full (a catalogue this size is rare).
const CARD_CACHE_MAX: usize = 50_000;

/// Product cards kept in memory for recommendation rows, which show the same few
/// hundred cards thousands of times a second. A card is at most [`CARD_TTL`] old; this
/// node's own checkouts and ratings drop the cards they change at once, so only another
/// node's changes show late, and stock is checked again when an item goes in the cart.
#[derive(Default)]
pub(super) struct CardCache {
    cards: RwLock<HashMap<i64, (ProductCard, Instant)>>,
}

impl CardCache {
    /// The cards of `ids` in that order (unknown ids left out): fresh ones from memory,
    /// the rest in one database query.
    pub(super) async fn get(&self, store: &Store, ids: &[i64]) -> Result<Vec<ProductCard>, Error> {
        let now = Instant::now();
        let mut found: HashMap<i64, ProductCard> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cards = self.cards.read().unwrap_or_else(PoisonError::into_inner);
            for &id in ids {
                match cards.get(&id) {
                    Some((card, at)) if now.duration_since(*at) < CARD_TTL => {
                        found.insert(id, card.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if !missing.is_empty() {
            let fetched: Vec<ProductCard> =
                store.cards(&missing).await?.into_iter().map(card).collect();
            let mut cards = self.cards.write().unwrap_or_else(PoisonError::into_inner);
            if cards.len() + fetched.len() > CARD_CACHE_MAX {
                cards.clear();
            }
            for c in fetched {
                cards.insert(c.id, (c.clone(), now));
                found.insert(c.id, c);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Drops these products' cards (their stock or rating just changed here).
    pub(super) fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut cards = self.cards.write().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            cards.remove(&id);
        }
    }
}

/// A card from its row.
pub fn card(row: CardRow) -> ProductCard {
    let rating = row.rating().map(|(average, count)| RatingSummary {
        average: average as f32,
        count,
    });
    ProductCard {
        id: row.product_id,
        sku: row.sku,
        title: row.title,
        brand: row.brand,
        price: row.price_minor.map(|minor| Money {
            minor,
            currency: row.currency,
        }),
        image_url: row.image_url,
        rating,
        in_stock: row.in_stock,
    }
}
