//! Which items a list may show at all: never what the shopper refused or bought, nothing
//! out of stock (when the rules say so), not the product on screen or in the cart, and
//! only what the request's category and price filters let through.

use std::collections::HashSet;

use crate::strategy::Rules;

use super::{Catalog, SurfaceRequest};

/// The filter of one request.
pub struct Filter<'a> {
    catalog: &'a Catalog,
    rules: &'a Rules,
    request: &'a SurfaceRequest,
    excluded: &'a HashSet<i64>,
}

impl<'a> Filter<'a> {
    /// The filter for `request`, leaving out the shopper's `excluded` products.
    pub fn new(
        catalog: &'a Catalog,
        rules: &'a Rules,
        request: &'a SurfaceRequest,
        excluded: &'a HashSet<i64>,
    ) -> Self {
        Self {
            catalog,
            rules,
            request,
            excluded,
        }
    }

    /// Whether `item` may be shown.
    pub fn allows(&self, item: u32) -> bool {
        let (catalog, request) = (self.catalog, self.request);
        let product = catalog.product(item);
        !self.excluded.contains(&product)
            && (!self.rules.exclude_out_of_stock || catalog.in_stock[item as usize])
            && request.product != Some(product)
            && !request.cart.contains(&product)
            && request
                .category
                .as_deref()
                .is_none_or(|path| catalog.in_category(item, path))
            && match (
                catalog.prices[item as usize],
                request.price_min,
                request.price_max,
            ) {
                (None, None, None) => true,
                // An unpriced product never passes a price filter.
                (None, _, _) => false,
                (Some(p), low, high) => low.is_none_or(|l| p >= l) && high.is_none_or(|h| p <= h),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::tests::catalog;
    use super::*;

    #[test]
    fn each_rule_leaves_out_what_it_names() {
        let mut catalog = catalog(&[
            (1, "Home > Kitchen", 500),
            (2, "Home > Garden", 1500),
            (3, "Toys", 900),
            (4, "Home > Kitchen", 100),
            (5, "Home > Kitchen", 100),
        ]);
        catalog.in_stock[4] = false;
        catalog.prices[3] = None;
        let rules = Rules::default();
        let excluded: HashSet<i64> = [2].into();
        let all = SurfaceRequest::default();
        let allowed = |request: &SurfaceRequest, rules: &Rules| -> Vec<i64> {
            let filter = Filter::new(&catalog, rules, request, &excluded);
            (0..5)
                .filter(|&i| filter.allows(i))
                .map(|i| catalog.product(i))
                .collect()
        };
        assert_eq!(
            allowed(&all, &rules),
            [1, 3, 4],
            "excluded and out of stock"
        );
        let keep_stock = Rules {
            exclude_out_of_stock: false,
            ..Rules::default()
        };
        assert_eq!(allowed(&all, &keep_stock), [1, 3, 4, 5]);
        let on_screen = SurfaceRequest {
            product: Some(1),
            cart: vec![3],
            ..SurfaceRequest::default()
        };
        assert_eq!(allowed(&on_screen, &rules), [4]);
        let kitchen = SurfaceRequest {
            category: Some("Home".into()),
            price_min: Some(200),
            ..SurfaceRequest::default()
        };
        // Product 4 has no price: no price filter lets it through.
        assert_eq!(allowed(&kitchen, &rules), [1]);
        let cheap = SurfaceRequest {
            price_max: Some(900),
            ..SurfaceRequest::default()
        };
        assert_eq!(allowed(&cheap, &rules), [1, 3]);
    }
}
