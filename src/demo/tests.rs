//! Tests of the demo shop: determinism, catalogue shape, history bounds, and that the
//! hidden tastes and co-purchase patterns really show in the events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::vocabulary::LEAVES;
use super::*;
use crate::interaction::InteractionKind;

/// The default shop, generated once for all the tests that read it.
fn default_shop() -> &'static DemoShop {
    static SHOP: OnceLock<DemoShop> = OnceLock::new();
    SHOP.get_or_init(|| generate(&DemoConfig::default()))
}

fn small_config(seed: u64) -> DemoConfig {
    DemoConfig {
        seed,
        products: 1500,
        shoppers: 400,
        ..DemoConfig::default()
    }
}

/// Product index by SKU and shopper index by key.
fn indexes(shop: &DemoShop) -> (BTreeMap<&str, usize>, BTreeMap<&str, usize>) {
    let products = shop
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.sku.as_str(), i))
        .collect();
    let shoppers = shop
        .shoppers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    (products, shoppers)
}

/// Product indices each shopper bought, in event order.
fn purchases_by_shopper(shop: &DemoShop) -> Vec<Vec<usize>> {
    let (products, shoppers) = indexes(shop);
    let mut bought = vec![Vec::new(); shop.shoppers.len()];
    for event in &shop.events {
        if event.kind == InteractionKind::Purchase {
            bought[shoppers[event.user.as_str()]].push(products[event.sku.as_str()]);
        }
    }
    bought
}

#[test]
fn same_seed_same_shop_other_seed_other_shop() {
    let first = generate(&small_config(7));
    assert_eq!(first, generate(&small_config(7)));
    let other = generate(&small_config(8));
    assert_ne!(first.products, other.products);
    assert_ne!(first.events, other.events);
}

#[test]
fn default_config_ends_on_a_fixed_date() {
    let config = DemoConfig::default();
    assert_eq!(config.seed, 2026);
    assert_eq!(config.end_ms, 1_793_491_200_000);
    assert_eq!(config.start_ms(), config.end_ms - 180 * DAY_MS);
}

#[test]
fn vocabulary_is_complete() {
    let departments = LEAVES.iter().map(|l| l.department).collect::<BTreeSet<_>>();
    assert!(departments.len() >= 8);
    assert!(LEAVES.len() >= 16);
    for leaf in LEAVES {
        assert!((4..=8).contains(&leaf.brands.len()), "{}", leaf.leaf);
        assert!(!leaf.nouns.is_empty() && !leaf.adjectives.is_empty());
        assert!(!leaf.model_prefixes.is_empty() && !leaf.leads.is_empty());
        assert!(!leaf.details.is_empty());
        assert!(leaf.price_cents.0 > 0 && leaf.price_cents.0 < leaf.price_cents.1);
        assert!(leaf.attributes.iter().all(|a| !a.values.is_empty()));
        assert_eq!(leaf.consumable, leaf.rebuy_days > 0, "{}", leaf.leaf);
    }
    for (source, target, probability) in COMPLEMENTS {
        assert!(LEAVES.iter().any(|l| l.leaf == *source), "{source}");
        assert!(LEAVES.iter().any(|l| l.leaf == *target), "{target}");
        assert!((0.0..=1.0).contains(probability));
    }
}

#[test]
fn default_catalogue_is_complete() {
    let shop = default_shop();
    assert!(shop.products.len() >= 5000);
    assert!(shop.categories.len() >= 12);
    assert_eq!(shop.product_category.len(), shop.products.len());
    assert_eq!(shop.product_quality.len(), shop.products.len());
    let skus = shop
        .products
        .iter()
        .map(|p| &p.sku)
        .collect::<BTreeSet<_>>();
    assert_eq!(skus.len(), shop.products.len());
    let titles = shop
        .products
        .iter()
        .map(|p| &p.title)
        .collect::<BTreeSet<_>>();
    assert!(
        titles.len() * 100 >= shop.products.len() * 98,
        "titles mostly distinct"
    );

    let mut per_category = vec![0; shop.categories.len()];
    for (product, &category) in shop.products.iter().zip(&shop.product_category) {
        per_category[category] += 1;
        let slug = &shop.categories[category].slug;
        assert!(!product.title.is_empty());
        assert!(!product.title.contains('{'), "{}", product.title);
        let description = product.description.as_deref().unwrap_or_default();
        assert!(
            description.len() > 20 && !description.contains('{'),
            "{description}"
        );
        assert!(product.brand.is_some());
        assert!(product.price_minor.is_some_and(|cents| cents > 0));
        assert_eq!(product.currency, "USD");
        assert_eq!(
            product.image_url.as_deref(),
            Some(format!("/art/{slug}/{}.svg", product.sku).as_str())
        );
        assert!(product.created_at.is_some());
        assert_eq!(product.category, shop.categories[category].path);
        assert_eq!(
            product.attributes.contains_key("consumable"),
            shop.categories[category].consumable
        );
        assert!(product.source_rating.is_none() && product.source_rating_count.is_none());
    }
    assert!(
        per_category.iter().all(|&count| count >= 100),
        "{per_category:?}"
    );
    let in_stock = shop.products.iter().filter(|p| p.in_stock).count();
    assert!(in_stock * 100 > shop.products.len() * 94 && in_stock < shop.products.len());
    let start_s = DemoConfig::default().start_ms() / 1000;
    let new = shop
        .products
        .iter()
        .filter(|p| p.created_at.is_some_and(|s| s > start_s))
        .count();
    assert!((300..=900).contains(&new), "{new} new products");
}

#[test]
fn default_prices_follow_price_position() {
    let shop = default_shop();
    for category in 0..shop.categories.len() {
        let mut cheap = (0.0, 0);
        let mut dear = (0.0, 0);
        for (product, &c) in shop.product_category.iter().enumerate() {
            if c != category {
                continue;
            }
            let price = shop.products[product].price_minor.unwrap_or_default() as f64;
            if shop.product_price_position[product] < 0.4 {
                cheap = (cheap.0 + price, cheap.1 + 1);
            } else if shop.product_price_position[product] > 0.6 {
                dear = (dear.0 + price, dear.1 + 1);
            }
        }
        assert!(cheap.0 / f64::from(cheap.1) < dear.0 / f64::from(dear.1));
    }
}

#[test]
fn default_history_is_sorted_bounded_and_consistent() {
    let shop = default_shop();
    let config = DemoConfig::default();
    assert!(shop.shoppers.len() >= 2000);
    assert!(
        (150_000..=400_000).contains(&shop.events.len()),
        "{} events",
        shop.events.len()
    );
    assert!(shop.events.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let (products, shoppers) = indexes(shop);
    assert_eq!(
        shoppers.len(),
        shop.shoppers.len(),
        "shopper keys are unique"
    );
    let mut kinds = BTreeSet::new();
    for event in &shop.events {
        assert!(event.at_ms > config.start_ms() && event.at_ms <= config.end_ms);
        assert!(products.contains_key(event.sku.as_str()), "{}", event.sku);
        assert!(shoppers.contains_key(event.user.as_str()), "{}", event.user);
        match event.kind {
            InteractionKind::Purchase => {
                assert!(event.value.is_some_and(|q| (1.0..=3.0).contains(&q)))
            }
            InteractionKind::Rating => assert!(event
                .value
                .is_some_and(|s| (1.0..=5.0).contains(&s) && s.fract() == 0.0)),
            _ => assert_eq!(event.value, None),
        }
        let created_s = shop.products[products[event.sku.as_str()]].created_at;
        assert!(created_s.is_some_and(|s| s * 1000 <= event.at_ms));
        kinds.insert(event.kind.as_str());
    }
    // Searches and "not interested" hides come only from the live shop: the generated
    // history has no result lists or recommendation rows to act on.
    for kind in InteractionKind::ALL {
        assert_eq!(
            kinds.contains(kind.as_str()),
            !matches!(
                kind,
                InteractionKind::Search | InteractionKind::NotInterested
            ),
            "{kind}"
        );
    }
    for shopper in &shop.shoppers {
        let weights = &shopper.taste.categories;
        assert!((1..=3).contains(&weights.len()));
        assert!((weights.iter().map(|w| w.1).sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(weights.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!((1..=3).contains(&shopper.taste.brands.len()));
        assert!((0.0..=1.0).contains(&shopper.taste.price_level));
    }
}

#[test]
fn activity_is_heavy_tailed() {
    let shop = default_shop();
    let mut per_shopper = BTreeMap::new();
    for event in &shop.events {
        *per_shopper.entry(event.user.as_str()).or_insert(0usize) += 1;
    }
    let mut counts = per_shopper.values().copied().collect::<Vec<_>>();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    let top = counts[counts.len() * 99 / 100];
    assert!(top > 5 * median, "median {median}, 99th percentile {top}");
}

#[test]
fn purchases_follow_the_top_taste_category() {
    let shop = default_shop();
    let mut shares = Vec::new();
    for (shopper, bought) in purchases_by_shopper(shop).iter().enumerate() {
        if bought.len() < 3 {
            continue;
        }
        let top = shop.shoppers[shopper].taste.categories[0].0;
        let in_top = bought
            .iter()
            .filter(|&&p| shop.product_category[p] == top)
            .count();
        shares.push(in_top as f64 / bought.len() as f64);
    }
    assert!(
        shares.len() > 300,
        "{} shoppers with 3+ purchases",
        shares.len()
    );
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    let uniform = 1.0 / shop.categories.len() as f64;
    assert!(uniform < 0.1);
    assert!(mean > 0.5, "top-category share {mean}");
}

#[test]
fn purchases_favour_the_favourite_brands() {
    let shop = default_shop();
    // Share of each brand within each category's catalogue.
    let mut brand_share: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    let mut category_size = vec![0.0; shop.categories.len()];
    for (product, &category) in shop.products.iter().zip(&shop.product_category) {
        let brand = product.brand.as_deref().unwrap_or_default();
        *brand_share.entry((category, brand)).or_default() += 1.0;
        category_size[category] += 1.0;
    }
    let (mut observed, mut expected) = (0.0, 0.0);
    for (shopper, bought) in purchases_by_shopper(shop).iter().enumerate() {
        let favourites = &shop.shoppers[shopper].taste.brands;
        for &product in bought {
            let category = shop.product_category[product];
            let brand = shop.products[product].brand.as_deref().unwrap_or_default();
            if favourites.iter().any(|(name, _)| name == brand) {
                observed += 1.0;
            }
            expected += favourites
                .iter()
                .map(|(name, _)| {
                    brand_share
                        .get(&(category, name.as_str()))
                        .copied()
                        .unwrap_or(0.0)
                        / category_size[category]
                })
                .sum::<f64>();
        }
    }
    assert!(
        observed > 2.0 * expected,
        "observed {observed}, expected {expected}"
    );
}

#[test]
fn stars_follow_utility() {
    let shop = default_shop();
    let (products, shoppers) = indexes(shop);
    let mut rated = shop
        .events
        .iter()
        .filter(|e| e.kind == InteractionKind::Rating)
        .map(|e| {
            let utility = shop.utility(shoppers[e.user.as_str()], products[e.sku.as_str()]);
            (utility, e.value.unwrap_or_default())
        })
        .collect::<Vec<_>>();
    assert!(rated.len() > 500, "{} ratings", rated.len());
    rated.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = rated.len() / 2;
    let mean = |part: &[(f32, f32)]| part.iter().map(|r| r.1).sum::<f32>() / part.len() as f32;
    let (low, high) = (mean(&rated[..half]), mean(&rated[half..]));
    assert!(
        high > low + 0.5,
        "low-utility stars {low}, high-utility stars {high}"
    );
}

#[test]
fn camera_buyers_buy_memory_cards() {
    let shop = default_shop();
    let category = |name: &str| {
        shop.categories
            .iter()
            .position(|c| c.path[1] == name)
            .unwrap_or_else(|| panic!("no category {name}"))
    };
    let (cameras, cards) = (category("Cameras"), category("Memory Cards"));
    let (mut with_camera, mut with_camera_and_card) = (0.0, 0.0);
    let (mut others, mut others_with_card) = (0.0, 0.0);
    for bought in purchases_by_shopper(shop) {
        let has = |c: usize| bought.iter().any(|&p| shop.product_category[p] == c);
        if has(cameras) {
            with_camera += 1.0;
            with_camera_and_card += f64::from(u8::from(has(cards)));
        } else {
            others += 1.0;
            others_with_card += f64::from(u8::from(has(cards)));
        }
    }
    assert!(with_camera >= 30.0, "{with_camera} camera buyers");
    let (camera_rate, other_rate) = (
        with_camera_and_card / with_camera,
        others_with_card / others,
    );
    assert!(
        camera_rate >= 3.0 * other_rate,
        "{camera_rate} vs {other_rate}"
    );
}

#[test]
fn consumables_are_bought_again() {
    let shop = default_shop();
    let repeats = purchases_by_shopper(shop)
        .iter()
        .map(|bought| {
            let mut seen = BTreeSet::new();
            bought.iter().filter(|&&p| !seen.insert(p)).count()
        })
        .sum::<usize>();
    assert!(repeats > 200, "{repeats} repeat purchases");
}

#[test]
fn slugs_are_url_safe() {
    let path = vec!["Home".to_string(), "Coffee & Tea".to_string()];
    assert_eq!(slugify(&path), "home-coffee-tea");
    let shop = default_shop();
    let slugs = shop
        .categories
        .iter()
        .map(|c| &c.slug)
        .collect::<BTreeSet<_>>();
    assert_eq!(slugs.len(), shop.categories.len());
    assert!(shop
        .categories
        .iter()
        .any(|c| c.slug == "electronics-cameras"));
}

#[test]
fn articles_agree_with_the_next_word() {
    assert_eq!(
        super::catalogue::with_articles("A explorer set and a urban bag, not a tent."),
        "An explorer set and an urban bag, not a tent."
    );
}

#[test]
fn template_fills_known_placeholders_only() {
    let lookup = |name: &str| match name {
        "brand" => Some("Lumora"),
        "noun" => Some("Mirrorless Camera"),
        _ => None,
    };
    assert_eq!(
        fill_template("{brand} {noun_lower} {other}", lookup),
        "Lumora mirrorless camera {other}"
    );
}

/// Checks that every tag in `svg` is closed in order (a small well-formedness check).
fn tags_balance(svg: &str) -> bool {
    let mut open = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else {
            return false;
        };
        let tag = &rest[start + 1..start + end];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name.to_string()) {
                return false;
            }
        } else if !tag.ends_with('/') {
            open.push(
                tag.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        rest = &rest[start + end + 1..];
    }
    open.is_empty()
}

#[test]
fn art_is_small_deterministic_valid_svg() {
    let shop = default_shop();
    for (product, &category) in shop.products.iter().zip(&shop.product_category).take(400) {
        let svg = art_svg(&product.sku, &shop.categories[category].slug);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
        assert!(svg.contains(r#"viewBox="0 0 400 300""#));
        assert!(svg.len() < 3 * 1024, "{} bytes", svg.len());
        assert!(tags_balance(&svg), "{svg}");
        assert!(!svg.contains('&'));
    }
    let camera = art_svg("CUR-000001", "electronics-cameras");
    assert_eq!(camera, art_svg("CUR-000001", "electronics-cameras"));
    assert_ne!(camera, art_svg("CUR-000002", "electronics-cameras"));
    assert_ne!(camera, art_svg("CUR-000001", "books-fiction"));
    assert!(tags_balance(&art_svg("X", "unknown-things")));
}
