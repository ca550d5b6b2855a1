//! The cart as the shopper sees it, and the cart changes that answer with it.

use std::collections::BTreeMap;

use app::error::AppError;
use app::shop::api::ssr::Caller;
use app::shop::model::{CartLine, CartView, Money};

use super::record::Change;
use super::ShopService;
use crate::error::Error;
use crate::store::shop::CartChange;

impl ShopService {
    pub(super) async fn cart_view(&self, shopper: Option<i64>) -> Result<CartView, Error> {
        let Some(shopper) = shopper else {
            return Ok(CartView::default());
        };
        let lines = self.store.cart_lines(shopper).await?;
        let ids: Vec<i64> = lines.iter().map(|line| line.product_id).collect();
        let cards = self.cards(&ids).await?;
        let mut view = CartView::default();
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for (product, line) in cards.into_iter().zip(lines) {
            let quantity = line.quantity;
            let line_total = product.price.as_ref().map(|p| Money {
                minor: p.minor * i64::from(quantity),
                currency: p.currency.clone(),
            });
            if let Some(t) = &line_total {
                *totals.entry(t.currency.clone()).or_default() += t.minor;
            }
            view.items += quantity;
            view.lines.push(CartLine {
                product,
                quantity,
                line_total,
            });
        }
        // One currency is the normal case; a mixed cart shows no single total.
        if totals.len() == 1 {
            view.total = totals
                .into_iter()
                .next()
                .map(|(currency, minor)| Money { minor, currency });
        }
        Ok(view)
    }

    /// Records a checked cart change for the caller and answers with the cart.
    pub(super) async fn change_cart(
        &self,
        caller: &mut Caller,
        product_id: i64,
        change: CartChange,
        surface: String,
    ) -> Result<CartView, AppError> {
        let shopper = caller.shopper_for_event().await?;
        let change = Change::Cart {
            product_id,
            change,
            surface,
        };
        self.record(shopper, change).await?;
        Ok(self.cart_view(Some(shopper)).await?)
    }
}
