//! The search page's facets (categories, brands, price bands, ratings) as the page shows
//! them: labelled, counted, and marked where the query already selects them.

use app::shop::model::{FacetValue, SearchQuery};

use crate::services::search::{SearchOutcome, PRICE_BANDS};

/// Brands listed beside the results (selected ones are always listed too).
const BRANDS_SHOWN: usize = 12;

/// The facet lists of one search page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facets {
    /// Child categories of the chosen one (departments when none).
    pub categories: Vec<FacetValue>,
    /// The most common brands, selected ones first.
    pub brands: Vec<FacetValue>,
    /// Price bands that hold a match.
    pub prices: Vec<FacetValue>,
    /// "N stars & up" that hold a match.
    pub ratings: Vec<FacetValue>,
}

/// The facets of `outcome` for the page `query` asked.
pub fn facets(outcome: &SearchOutcome, query: &SearchQuery) -> Facets {
    let selected_brand = |brand: &str| query.brands.iter().any(|b| b.eq_ignore_ascii_case(brand));
    let categories = outcome
        .categories
        .iter()
        .map(|(node, count)| FacetValue {
            value: node.slug.clone(),
            label: node.name.clone(),
            count: *count,
            selected: false,
        })
        .collect();
    let mut brands: Vec<FacetValue> = outcome
        .brands
        .iter()
        .enumerate()
        .filter(|(i, (brand, _))| *i < BRANDS_SHOWN || selected_brand(brand))
        .map(|(_, (brand, count))| FacetValue {
            value: brand.clone(),
            label: brand.clone(),
            count: *count,
            selected: selected_brand(brand),
        })
        .collect();
    brands.sort_by(|a, b| b.selected.cmp(&a.selected).then(b.count.cmp(&a.count)));
    let prices = PRICE_BANDS
        .iter()
        .zip(&outcome.price_bands)
        .filter(|(_, count)| **count > 0)
        .map(|(&(low, high), count)| FacetValue {
            value: format!("{low}-{}", high.map(|h| h.to_string()).unwrap_or_default()),
            label: price_band_label(low, high),
            count: *count,
            selected: query.price_min == Some(low) && query.price_max == high,
        })
        .collect();
    let ratings = outcome
        .ratings
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(stars, count)| FacetValue {
            value: stars.to_string(),
            label: format!("{stars}★ & up"),
            count: *count,
            selected: query.min_rating == Some(*stars),
        })
        .collect();
    Facets {
        categories,
        brands,
        prices,
        ratings,
    }
}

fn price_band_label(low: i64, high: Option<i64>) -> String {
    let dollars = |minor: i64| format!("${}", minor / 100);
    match (low, high) {
        (0, Some(high)) => format!("Under {}", dollars(high)),
        (low, Some(high)) => format!("{} – {}", dollars(low), dollars(high)),
        (low, None) => format!("{} and up", dollars(low)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_bands_read_naturally() {
        assert_eq!(price_band_label(0, Some(2_500)), "Under $25");
        assert_eq!(price_band_label(2_500, Some(5_000)), "$25 – $50");
        assert_eq!(price_band_label(100_000, None), "$1000 and up");
    }

    #[test]
    fn selected_brands_stay_listed_and_come_first() {
        let mut brands: Vec<(String, u64)> =
            (0..20).map(|i| (format!("B{i:02}"), 100 - i)).collect();
        brands.push(("Rare".into(), 1));
        let outcome = SearchOutcome {
            total: 5,
            brands,
            price_bands: vec![0; PRICE_BANDS.len()],
            ratings: vec![(4, 2), (3, 0)],
            ..SearchOutcome::default()
        };
        let query = SearchQuery {
            brands: vec!["rare".into()],
            min_rating: Some(4),
            ..SearchQuery::default()
        };
        let shown = facets(&outcome, &query);
        assert_eq!(shown.brands.len(), BRANDS_SHOWN + 1);
        assert_eq!(shown.brands[0].value, "Rare");
        assert!(shown.brands[0].selected);
        assert!(shown.brands[1..].iter().all(|b| !b.selected));
        assert!(shown.prices.is_empty(), "empty bands are not shown");
        assert_eq!(shown.ratings.len(), 1);
        assert!(shown.ratings[0].selected);
    }
}
