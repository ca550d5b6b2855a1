//! What travels between the shop's pages and the server: product cards and pages, search
//! queries and results with facets, the cart and orders. Plain data, serialisable both ways.

use serde::{Deserialize, Serialize};

/// An amount of money in minor units (cents) of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units.
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl Money {
    /// "$1,299.99", "€12.50", "12.50 CHF".
    pub fn display(&self) -> String {
        let symbol = match self.currency.as_str() {
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            _ => None,
        };
        let sign = if self.minor < 0 { "-" } else { "" };
        let minor = self.minor.unsigned_abs();
        let major = (minor / 100).to_string();
        let mut grouped = String::with_capacity(major.len() + major.len() / 3);
        for (i, c) in major.chars().enumerate() {
            if i > 0 && (major.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let amount = format!("{grouped}.{:02}", minor % 100);
        match symbol {
            Some(symbol) => format!("{sign}{symbol}{amount}"),
            None => format!("{sign}{amount} {}", self.currency),
        }
    }
}

/// A product's average rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// Average stars, 1..=5.
    pub average: f32,
    /// How many ratings.
    pub count: i64,
}

/// What a product card shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductCard {
    /// Database id.
    pub id: i64,
    /// The key in product URLs.
    pub sku: String,
    /// Title.
    pub title: String,
    /// Brand, if known.
    pub brand: Option<String>,
    /// Price, if known.
    pub price: Option<Money>,
    /// Image URL, if any.
    pub image_url: Option<String>,
    /// Average rating, if rated.
    pub rating: Option<RatingSummary>,
    /// Whether it can be bought now.
    pub in_stock: bool,
}

/// A link to a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryLink {
    /// URL slug.
    pub slug: String,
    /// Own name.
    pub name: String,
}

/// Everything the product page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDetail {
    /// The card fields.
    pub card: ProductCard,
    /// Description, if any.
    pub description: Option<String>,
    /// Category path, root first.
    pub breadcrumbs: Vec<CategoryLink>,
    /// Attributes, sorted by name.
    pub attributes: Vec<(String, String)>,
    /// Ratings given in this shop, per star: index 0 is one star.
    pub histogram: [i64; 5],
    /// A rating the source published, with its review count.
    pub source_rating: Option<RatingSummary>,
    /// The shopper's own stars.
    pub my_stars: Option<u8>,
    /// The shopper's like (true) or dislike (false).
    pub my_opinion: Option<bool>,
    /// How many are in the shopper's cart.
    pub in_cart: i32,
}

/// Feedback a shopper gives on a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Feedback {
    /// "Like".
    Like,
    /// "Dislike".
    Dislike,
    /// "Not interested": hide this product from my recommendations.
    NotInterested,
    /// Withdraws a like or dislike.
    ClearOpinion,
    /// Stars, 1..=5.
    Rate(u8),
}

/// The shopper's standing with a product after feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpinionState {
    /// Like (true), dislike (false) or neither.
    pub opinion: Option<bool>,
    /// Own stars.
    pub stars: Option<u8>,
    /// The shop's histogram after the change.
    pub histogram: [i64; 5],
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortOrder {
    /// Best match (most popular without a query).
    #[default]
    Relevance,
    /// Cheapest first.
    PriceLow,
    /// Dearest first.
    PriceHigh,
    /// Best rated first.
    Rating,
    /// Newest first.
    Newest,
}

impl SortOrder {
    /// Every order, as offered in the UI.
    pub const ALL: [SortOrder; 5] = [
        Self::Relevance,
        Self::PriceLow,
        Self::PriceHigh,
        Self::Rating,
        Self::Newest,
    ];

    /// The name used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::PriceLow => "price-low",
            Self::PriceHigh => "price-high",
            Self::Rating => "rating",
            Self::Newest => "newest",
        }
    }

    /// The label shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Relevance => "Best match",
            Self::PriceLow => "Price: low to high",
            Self::PriceHigh => "Price: high to low",
            Self::Rating => "Best rated",
            Self::Newest => "Newest",
        }
    }

    /// Reads a URL value; unknown values mean relevance.
    pub fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .unwrap_or_default()
    }
}

/// A search or category listing, as read from the URL.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Free text; empty lists everything.
    pub q: String,
    /// Category slug.
    pub category: Option<String>,
    /// Brands (any of them).
    pub brands: Vec<String>,
    /// Lowest price, minor units.
    pub price_min: Option<i64>,
    /// Highest price, minor units (exclusive).
    pub price_max: Option<i64>,
    /// Lowest average stars.
    pub min_rating: Option<u8>,
    /// Order.
    pub sort: SortOrder,
    /// Page, from 1.
    pub page: u32,
}

/// One facet value with its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    /// The URL value (slug, brand, `min-max` in minor units, stars).
    pub value: String,
    /// What the shopper reads.
    pub label: String,
    /// Matching products.
    pub count: u64,
    /// Whether it is the current filter.
    pub selected: bool,
}

/// A page of results with its facets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchResults {
    /// The query that produced them.
    pub query: SearchQuery,
    /// Title of the listing ("Cameras", "Results for “tent”").
    pub heading: String,
    /// The chosen category's path, root first.
    pub breadcrumbs: Vec<CategoryLink>,
    /// Matches in all.
    pub total: u64,
    /// Number of pages.
    pub pages: u32,
    /// This page's products.
    pub products: Vec<ProductCard>,
    /// Sub-categories (departments when no category is chosen).
    pub categories: Vec<FacetValue>,
    /// Brands.
    pub brands: Vec<FacetValue>,
    /// Price bands.
    pub prices: Vec<FacetValue>,
    /// Minimum ratings.
    pub ratings: Vec<FacetValue>,
}

/// The front page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    /// The departments.
    pub departments: Vec<CategoryLink>,
    /// Most popular products.
    pub popular: Vec<ProductCard>,
    /// Newest products.
    pub newest: Vec<ProductCard>,
    /// Products this shopper viewed recently.
    pub recent: Vec<ProductCard>,
    /// Set when the catalogue is the generated demo: what it is.
    pub demo_label: Option<String>,
}

/// What a recommendation row asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecsQuery {
    /// The surface (`for_you`, `similar`, `bought_together`, `complete_order`,
    /// `because_you_liked`, `trending`, `recently_viewed`, `buy_again`, ...).
    pub surface: String,
    /// The product on screen, for product-page surfaces.
    pub product: Option<i64>,
    /// Only products in this category (its slug) or below.
    pub category: Option<String>,
    /// Only products at or above this price (minor units).
    pub price_min: Option<i64>,
    /// Only products at or below this price (minor units).
    pub price_max: Option<i64>,
}

/// A recommended product with the reason it is there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecCard {
    /// The product.
    pub product: ProductCard,
    /// One line on why ("Because you liked Nikon D3500").
    pub reason: String,
    /// Its category path ("Outdoors > Tents"), when known.
    pub category: Option<String>,
}

/// A filled recommendation row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecRow {
    /// The surface asked for.
    pub requested: String,
    /// The surface that filled it (its fallback when the asked one had nothing).
    pub surface: String,
    /// The row's heading.
    pub title: String,
    /// The strategy variant that filled it (clicks carry it back as `model`).
    pub variant: String,
    /// This list's id (clicks carry it back as `request`).
    pub request_id: String,
    /// Best first.
    pub items: Vec<RecCard>,
}

/// A product one model would recommend, with its score and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredCard {
    /// The product.
    pub product: ProductCard,
    /// The model's score (its own scale).
    pub score: f32,
    /// One line on why.
    pub reason: String,
}

/// What one model would recommend to the shopper now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelColumn {
    /// The model's name (`content`, `item-knn`, `als`, `blend`, ...).
    pub model: String,
    /// A readable name ("Content-based").
    pub label: String,
    /// Its NDCG@10 on the serving version's holdout, when measured.
    pub ndcg_at_10: Option<f64>,
    /// Best first.
    pub items: Vec<ScoredCard>,
}

/// A product in the shopper's history, as the recommenders weigh it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// The product.
    pub product: ProductCard,
    /// Its weight in the history (recent and strong events weigh more).
    pub weight: f32,
    /// The strongest thing the shopper did with it ("liked", "bought", "viewed"...).
    pub action: String,
}

/// The shopper's taste as their events show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TasteView {
    /// Categories with their share of the history (0..1), largest first.
    pub categories: Vec<(String, f32)>,
    /// Brands with their share of the history, largest first.
    pub brands: Vec<(String, f32)>,
    /// The price band of what they engage with: low quartile, median, high quartile.
    pub price_band: Option<(Money, Money, Money)>,
    /// The history itself, heaviest first.
    pub history: Vec<HistoryItem>,
}

/// "Why am I seeing this?"
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhyView {
    /// Each model's picks, side by side.
    pub models: Vec<ModelColumn>,
    /// The taste behind them.
    pub taste: TasteView,
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    /// The product.
    pub product: ProductCard,
    /// How many.
    pub quantity: i32,
    /// Price x quantity, when priced.
    pub line_total: Option<Money>,
}

/// The cart.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CartView {
    /// Lines, oldest first.
    pub lines: Vec<CartLine>,
    /// Number of items.
    pub items: i32,
    /// Sum of the priced lines.
    pub total: Option<Money>,
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    /// Order number.
    pub id: i64,
    /// When, `YYYY-MM-DD HH:MM` UTC.
    pub placed_at: String,
    /// What was bought: (title, SKU, quantity, unit price).
    pub lines: Vec<OrderLineView>,
    /// Total paid.
    pub total: Money,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLineView {
    /// Title as sold.
    pub title: String,
    /// SKU, for the link.
    pub sku: String,
    /// How many.
    pub quantity: i32,
    /// Price of one.
    pub unit_price: Money,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_a_price_tag() {
        let m = |minor, currency: &str| {
            Money {
                minor,
                currency: currency.into(),
            }
            .display()
        };
        assert_eq!(m(129_999, "USD"), "$1,299.99");
        assert_eq!(m(5, "USD"), "$0.05");
        assert_eq!(m(100_000_000, "EUR"), "€1,000,000.00");
        assert_eq!(m(1250, "CHF"), "12.50 CHF");
    }

    #[test]
    fn sort_orders_round_trip_through_urls() {
        for sort in SortOrder::ALL {
            assert_eq!(SortOrder::parse(sort.as_str()), sort);
        }
        assert_eq!(SortOrder::parse("bogus"), SortOrder::Relevance);
    }
}
