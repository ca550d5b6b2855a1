//! The seeded demo shop: with an empty database the shop generates a catalogue and a
//! history of simulated shoppers whose hidden tastes the recommenders can learn, and
//! that tests can check a model recovers.
//!
//! Everything here is a pure function of [`DemoConfig`]: the same seed gives the same
//! shop, byte for byte. The catalogue comes from [`vocabulary`] through [`catalogue`],
//! the shoppers and their events from [`history`], product pictures from [`art`].

mod art;
mod catalogue;
mod history;
mod vocabulary;

use serde::{Deserialize, Serialize};

use crate::records::{InteractionRecord, ProductRecord};

pub use art::art_svg;
pub use vocabulary::COMPLEMENTS;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// 2026-11-01T00:00:00Z in Unix milliseconds: the default end of the simulated history.
pub const DEFAULT_END_MS: i64 = 1_793_491_200_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoConfig {
    /// Seed of every random choice; the same seed gives the same shop.
    pub seed: u64,
    /// Number of products in the catalogue.
    pub products: usize,
    /// Number of simulated shoppers.
    pub shoppers: usize,
    /// Length of the simulated history in days.
    pub days: u32,
    /// End of the history in Unix milliseconds; every event is in `(end_ms - days, end_ms]`.
    pub end_ms: i64,
}

impl Default for DemoConfig {
    /// Seed 2026, 6000 products, 2000 shoppers, 180 days up to 2026-11-01 UTC.
    fn default() -> Self {
        Self {
            seed: 2026,
            products: 6000,
            shoppers: 2000,
            days: 180,
            end_ms: DEFAULT_END_MS,
        }
    }
}

impl DemoConfig {
    /// Unix milliseconds where the history starts (exclusive).
    pub fn start_ms(&self) -> i64 {
        self.end_ms - i64::from(self.days) * DAY_MS
    }
}

/// A leaf category of the demo catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoCategory {
    /// Category path, root first (`["Electronics", "Cameras"]`).
    pub path: Vec<String>,
    /// URL-safe name of the path (`electronics-cameras`).
    pub slug: String,
    /// Whether shoppers use its products up and buy them again.
    pub consumable: bool,
}

/// A shopper's hidden taste, which drives every event the shopper makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taste {
    /// Favourite categories as (index into [`DemoShop::categories`], weight), heaviest
    /// first; the weights sum to 1.
    pub categories: Vec<(usize, f32)>,
    /// Brand affinities as (brand name, affinity in 0.5..=1), strongest first.
    pub brands: Vec<(String, f32)>,
    /// Preferred price position: 0 is the cheap end of each category's range, 1 the
    /// premium end.
    pub price_level: f32,
}

/// A simulated shopper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoShopper {
    /// The shopper's key in events (`demo-0001`).
    pub key: String,
    /// A name to show (`Maya R.`).
    pub display_name: String,
    /// The hidden taste.
    pub taste: Taste,
}

/// A generated shop: catalogue, shoppers and their history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoShop {
    /// The leaf categories.
    pub categories: Vec<DemoCategory>,
    /// The catalogue; SKUs are unique.
    pub products: Vec<ProductRecord>,
    /// Index into `categories` of each product.
    pub product_category: Vec<usize>,
    /// Hidden quality of each product in 0..=1; it drives purchases and ratings.
    pub product_quality: Vec<f32>,
    /// Where each product's price sits in its category's range, 0 (cheapest) ..= 1.
    pub product_price_position: Vec<f32>,
    /// Hidden popularity of each product in 0..=1 (a small pull on every shopper).
    pub product_popularity: Vec<f32>,
    /// The shoppers; `events` refer to them by key.
    pub shoppers: Vec<DemoShopper>,
    /// The history, sorted by `at_ms` (ties keep generation order).
    pub events: Vec<InteractionRecord>,
}

impl DemoShop {
    /// How much shopper `shopper` likes product `product` (indices into `shoppers` and
    /// `products`), the score the simulation chooses views, purchases and stars by.
    ///
    /// It ignores the category: the simulation picks the category first (from
    /// [`Taste::categories`]) and compares products within it by this utility.
    pub fn utility(&self, shopper: usize, product: usize) -> f32 {
        utility(
            &self.shoppers[shopper].taste,
            self.products[product].brand.as_deref().unwrap_or(""),
            self.product_price_position[product],
            self.product_quality[product],
            self.product_popularity[product],
        )
    }
}

impl DemoShop {
    /// The shop as the engine sees it: every product (touched or not) in catalogue order
    /// with its features, every shopper in order, events weighted as usual (searches are
    /// not about one product and are left out).
    pub fn dataset(&self) -> crate::data::Dataset {
        use crate::data::{Event, IdMap, ItemFeatures};
        let mut items = IdMap::new();
        for product in &self.products {
            items.get_or_insert(&product.sku);
        }
        let mut users = IdMap::new();
        for shopper in &self.shoppers {
            users.get_or_insert(&shopper.key);
        }
        let events: Vec<Event> = self
            .events
            .iter()
            .filter(|e| e.kind != crate::interaction::InteractionKind::Search)
            .map(|e| Event {
                user: e.user.clone(),
                item: e.sku.clone(),
                kind: e.kind,
                value: e.value,
                time: e.at_ms.div_euclid(1000),
            })
            .collect();
        let mut data = crate::data::Dataset::from_events_with(users, items, &events);
        data.features = self
            .products
            .iter()
            .map(|p| ItemFeatures {
                title: p.title.clone(),
                description: p.description.clone().unwrap_or_default(),
                categories: p.category.clone(),
                brand: p.brand.clone(),
                price_minor: p.price_minor,
                tags: Vec::new(),
            })
            .collect();
        data
    }
}

/// A shopper's utility for a product: brand affinity, price match, quality and a little
/// popularity. From -2 (a poor fit) to 3.5 (a perfect one).
pub(crate) fn utility(
    taste: &Taste,
    brand: &str,
    price_position: f32,
    quality: f32,
    popularity: f32,
) -> f32 {
    let brand_affinity = taste
        .brands
        .iter()
        .find(|(name, _)| name == brand)
        .map_or(0.0, |&(_, affinity)| affinity);
    let price_match = 1.0 - 2.0 * (price_position - taste.price_level).abs();
    1.5 * brand_affinity + price_match + 0.8 * (2.0 * quality - 1.0) + 0.4 * (popularity - 0.5)
}

/// Generates the demo shop described by `config`; the same config gives the same shop.
pub fn generate(config: &DemoConfig) -> DemoShop {
    let catalogue = catalogue::build(config);
    let (shoppers, events) = history::simulate(config, &catalogue);
    DemoShop {
        categories: catalogue.categories,
        products: catalogue.products,
        product_category: catalogue.product_category,
        product_quality: catalogue.product_quality,
        product_price_position: catalogue.product_price_position,
        product_popularity: catalogue.product_popularity,
        shoppers,
        events,
    }
}

/// The URL-safe slug of a category path: lowercase words joined by `-`
/// (`["Home", "Coffee & Tea"]` gives `home-coffee-tea`).
pub fn slugify(path: &[String]) -> String {
    let mut slug = String::new();
    for word in path
        .iter()
        .flat_map(|part| part.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|word| !word.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

/// Fills `{name}` placeholders in `template` from `lookup`; `{name_lower}` gives the
/// lowercased value of `name`. A placeholder `lookup` does not know stays as it is.
fn fill_template<'a>(template: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut filled = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        let value = match name.strip_suffix("_lower") {
            Some(base) => lookup(base).map(str::to_lowercase),
            None => lookup(name).map(str::to_string),
        };
        match value {
            Some(value) => filled.push_str(&value),
            None => filled.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    filled.push_str(rest);
    filled
}

#[cfg(test)]
mod tests;
