//! The one path a shopper's change takes: written with its events in one transaction,
//! then every effect of those events (search popularity, cached cards, the live
//! recommendation state) in a fixed order.

use app::error::AppError;
use curio::InteractionKind;

use super::ShopService;
use crate::error::Error;
use crate::recs::ShopperEvent;
use crate::store::shop::{CartChange, CheckoutError, NewEvent, Opinion};

/// A shopper's change, as the store writes it: the change and its events in one
/// transaction.
pub(super) enum Change {
    /// Events alone: a product visit, a search, "not interested".
    Events(Vec<NewEvent>),
    /// A like or dislike with its event, or (`liked: None`, no event) its withdrawal.
    Opinion {
        product_id: i64,
        liked: Option<bool>,
        event: Option<NewEvent>,
    },
    /// A star rating and its event.
    Rating { stars: u8, event: NewEvent },
    /// A cart line set to a quantity or added to.
    Cart {
        product_id: i64,
        change: CartChange,
        surface: String,
    },
    /// The cart becomes an order.
    Checkout,
}

/// What the store answered a change.
pub(super) enum Written {
    Nothing,
    /// The shopper's opinion of the product as just written (like, stars).
    Opinion(Opinion),
    /// The new order's id.
    Order(i64),
}

impl ShopService {
    /// Records a shopper's change, then brings everything that reads events up to date:
    /// search popularity, the cards a rating or a purchase changed, and the shopper's live
    /// recommendation state (one re-scoring for all of the change's events). Every
    /// handler that records goes through here, so no effect can be forgotten. The change
    /// and its events are durable before any effect; a failure of the live state does
    /// not undo them: it is logged, and the state reloads from the log on the next request.
    pub(super) async fn record(&self, shopper: i64, change: Change) -> Result<Written, AppError> {
        let mut withdrawn = None;
        let (written, events) = match change {
            Change::Events(events) => {
                self.store.record_events(&events).await?;
                (Written::Nothing, events)
            }
            Change::Opinion {
                product_id,
                liked,
                event,
            } => {
                let opinion = self
                    .store
                    .set_liked(shopper, product_id, liked, event.as_ref())
                    .await?;
                if liked.is_none() {
                    withdrawn = Some(product_id);
                }
                (Written::Opinion(opinion), event.into_iter().collect())
            }
            Change::Rating { stars, event } => {
                let product_id = event.product_id.ok_or(AppError::Internal)?;
                self.store.rate(shopper, product_id, stars, &event).await?;
                (Written::Nothing, vec![event])
            }
            Change::Cart {
                product_id,
                change,
                surface,
            } => {
                let event = self
                    .store
                    .change_cart(shopper, product_id, change, &surface)
                    .await?;
                (Written::Nothing, event.into_iter().collect())
            }
            Change::Checkout => match self.store.checkout(shopper).await {
                Ok((order_id, purchases)) => (Written::Order(order_id), purchases),
                Err(CheckoutError::Other(e)) => return Err(e.into()),
                Err(refused) => return Err(AppError::invalid("cart", refused.to_string())),
            },
        };

        let mut live = Vec::with_capacity(events.len());
        for event in &events {
            let Some(product_id) = event.product_id else {
                continue;
            };
            self.search.bump_popularity(product_id);
            match event.kind {
                // The card's stars (and the index's rating) changed.
                InteractionKind::Rating => {
                    self.refresh_rating(product_id).await?;
                    self.rec_cards.forget([product_id]);
                }
                // Its stock may have changed: recommendation rows read the card again.
                InteractionKind::Purchase => self.rec_cards.forget([product_id]),
                _ => {}
            }
            live.push(ShopperEvent {
                product_id,
                kind: event.kind,
                value: event.value,
                at_ms: event.at_ms,
            });
        }
        let updated = match withdrawn {
            // Withdrawing is not a new signal: the opinion goes from the live state too.
            Some(product_id) => self.recs.forget_opinion(shopper, product_id).await,
            None => self.recs.observe_all(shopper, &live).await,
        };
        if let Err(error) = updated {
            tracing::warn!(%error, "live recommendation state not updated");
        }
        Ok(written)
    }

    /// Keeps the search index's rating of a product in step with the database.
    async fn refresh_rating(&self, product_id: i64) -> Result<(), Error> {
        if let Some(row) = self.store.cards(&[product_id]).await?.first() {
            let (average, count) = row.rating().unwrap_or((0.0, 0));
            self.search
                .set_rating(product_id, average * count as f64, count);
        }
        Ok(())
    }
}
