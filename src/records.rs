//! Catalogue records: products and interactions as importers and the demo generator
//! produce them, before the server gives them database ids.
//!
//! A value that a source does not have is `None`, never zero or an empty string: a
//! product without a price has no price, a product without ratings has no rating.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::interaction::InteractionKind;

/// A product as read from a source (a file or the generator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// The source's stable product key (SKU, ASIN, MovieLens id...). Unique per catalogue;
    /// re-importing a record with the same SKU updates that product.
    pub sku: String,
    /// Display title (cleaned: no HTML entities, single spaces).
    pub title: String,
    /// Longer description, if the source has one.
    pub description: Option<String>,
    /// Category path, root first (`["Electronics", "Cameras"]`); empty when unknown.
    pub category: Vec<String>,
    /// Brand or maker.
    pub brand: Option<String>,
    /// Price in minor units (cents) of `currency`.
    pub price_minor: Option<i64>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Absolute URL or site path of the product image.
    pub image_url: Option<String>,
    /// Free-form attributes (`colour`, `capacity`, `year`...).
    pub attributes: BTreeMap<String, String>,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// Unix seconds when the product entered the catalogue, if known.
    pub created_at: Option<i64>,
    /// An average rating the source publishes without per-shopper ratings (1.0..=5.0).
    pub source_rating: Option<f32>,
    /// How many reviews `source_rating` averages.
    pub source_rating_count: Option<i64>,
}

impl ProductRecord {
    /// A record with only the required fields set; everything else absent, in stock, USD.
    pub fn new(sku: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            sku: sku.into(),
            title: title.into(),
            description: None,
            category: Vec::new(),
            brand: None,
            price_minor: None,
            currency: "USD".to_string(),
            image_url: None,
            attributes: BTreeMap::new(),
            in_stock: true,
            created_at: None,
            source_rating: None,
            source_rating_count: None,
        }
    }
}

/// One shopper event as read from a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRecord {
    /// The source's shopper key (MovieLens user id, Amazon reviewerID...).
    pub user: String,
    /// The product's SKU.
    pub sku: String,
    /// What happened.
    pub kind: InteractionKind,
    /// Stars for a rating, quantity for a purchase; `None` otherwise.
    pub value: Option<f32>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// One item of an import stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A product to create or update.
    Product(ProductRecord),
    /// An event to append.
    Interaction(InteractionRecord),
}
