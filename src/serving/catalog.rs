//! The catalogue as the models index it: per item index, the product's id and what the
//! rules and reasons read (title, category, price, stock).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One product as the serving rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// The shop's product id.
    pub product_id: i64,
    /// Display title.
    pub title: String,
    /// Leaf category id, if any.
    pub category_id: Option<i64>,
    /// Category path, root first, joined by `" > "` ("Home > Kitchen").
    pub path: Option<String>,
    /// Price in minor units.
    pub price_minor: Option<i64>,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// Whether it is bought again and again ("buy again" shows only these).
    pub consumable: bool,
}

/// The catalogue (item index = position).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Per item, its product id.
    pub product_ids: Vec<i64>,
    /// Per item, its title.
    pub titles: Vec<String>,
    /// Per item, its leaf category id.
    pub categories: Vec<Option<i64>>,
    /// Per item, its leaf category's name.
    pub category_names: Vec<Option<String>>,
    /// Per item, its category path ("Home > Kitchen").
    pub paths: Vec<Option<String>>,
    /// Per item, its price in minor units.
    pub prices: Vec<Option<i64>>,
    /// Per item, whether it can be bought (at training time; cards re-check).
    pub in_stock: Vec<bool>,
    /// Per item, whether it is a consumable (bought again and again).
    pub consumable: Vec<bool>,
    /// Product id to item index.
    #[serde(skip)]
    index: HashMap<i64, u32>,
}

impl Catalog {
    /// The catalogue of `entries`, in order.
    pub fn new(entries: impl IntoIterator<Item = CatalogEntry>) -> Self {
        let mut catalog = Catalog::default();
        for entry in entries {
            catalog.product_ids.push(entry.product_id);
            catalog.titles.push(entry.title);
            catalog.categories.push(entry.category_id);
            catalog.category_names.push(
                entry
                    .path
                    .as_deref()
                    .and_then(|path| path.rsplit(" > ").next())
                    .map(str::to_string),
            );
            catalog.paths.push(entry.path);
            catalog.prices.push(entry.price_minor);
            catalog.in_stock.push(entry.in_stock);
            catalog.consumable.push(entry.consumable);
        }
        catalog.reindex();
        catalog
    }

    /// Rebuilds the product id index (after deserializing).
    pub fn reindex(&mut self) {
        self.index = self
            .product_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
    }

    /// The item index of a product, if the models know it.
    pub fn item(&self, product_id: i64) -> Option<u32> {
        self.index.get(&product_id).copied()
    }

    /// The product id of an item index.
    pub fn product(&self, item: u32) -> i64 {
        self.product_ids[item as usize]
    }

    /// Whether an item lies in the category at `path` (itself or below it).
    pub fn in_category(&self, item: u32, path: &str) -> bool {
        self.paths
            .get(item as usize)
            .and_then(Option::as_deref)
            .is_some_and(|own| {
                own == path || (own.starts_with(path) && own[path.len()..].starts_with(" > "))
            })
    }

    /// The department (top-level category) of an item.
    pub fn department(&self, item: u32) -> Option<&str> {
        self.paths[item as usize]
            .as_deref()
            .map(|p| p.split(" > ").next().unwrap_or(p))
    }

    /// Items known.
    pub fn len(&self) -> usize {
        self.product_ids.len()
    }

    /// Whether no item is known.
    pub fn is_empty(&self) -> bool {
        self.product_ids.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small catalogue: (product id, path, price) per item, all in stock.
    pub(crate) fn catalog(items: &[(i64, &str, i64)]) -> Catalog {
        let mut categories: Vec<&str> = Vec::new();
        Catalog::new(items.iter().map(|&(id, path, price)| {
            let category = match categories.iter().position(|c| *c == path) {
                Some(i) => i,
                None => {
                    categories.push(path);
                    categories.len() - 1
                }
            };
            CatalogEntry {
                product_id: id,
                title: format!("P{id}"),
                category_id: Some(category as i64),
                path: Some(path.to_string()),
                price_minor: Some(price),
                in_stock: true,
                consumable: false,
            }
        }))
    }

    #[test]
    fn categories_match_their_subtree_only() {
        let c = catalog(&[(10, "Home > Kitchen", 100), (11, "Home > Kitchenware", 5)]);
        assert_eq!(c.item(11), Some(1));
        assert_eq!(c.item(99), None);
        assert!(c.in_category(0, "Home"));
        assert!(c.in_category(0, "Home > Kitchen"));
        assert!(
            !c.in_category(1, "Home > Kitchen"),
            "a prefix is not a parent"
        );
        assert_eq!(c.category_names[0].as_deref(), Some("Kitchen"));
        assert_eq!(c.department(1), Some("Home"));
    }
}
