//! Builds the demo catalogue: the leaf categories from the vocabulary and the products
//! spread over them, each with a hidden quality, price position and popularity.

use std::collections::{BTreeMap, HashSet};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::vocabulary::{LeafSpec, GENERIC_DETAILS, LEAVES};
use super::{fill_template, slugify, DemoCategory, DemoConfig, DAY_MS};
use crate::records::ProductRecord;

/// Share of products that enter the catalogue during the history rather than before it.
const NEW_PRODUCT_SHARE: f64 = 0.10;

/// Share of products out of stock.
const OUT_OF_STOCK_SHARE: f32 = 0.03;

/// How far before the history the oldest products were added, in days.
const CATALOGUE_AGE_DAYS: i64 = 730;

/// Title attempts before a duplicate title is accepted.
const TITLE_ATTEMPTS: usize = 8;

/// The catalogue with its hidden per-product properties.
pub(super) struct Catalogue {
    /// The leaf categories, in [`LEAVES`] order.
    pub categories: Vec<DemoCategory>,
    /// The products.
    pub products: Vec<ProductRecord>,
    /// Category index of each product.
    pub product_category: Vec<usize>,
    /// Hidden quality of each product, 0..=1.
    pub product_quality: Vec<f32>,
    /// Price position of each product in its category's range, 0..=1.
    pub product_price_position: Vec<f32>,
    /// Hidden popularity of each product, 0..=1.
    pub product_popularity: Vec<f32>,
    /// When each product entered the catalogue, Unix milliseconds.
    pub product_created_ms: Vec<i64>,
}

/// The random stream the catalogue draws from (shoppers use streams 1 and up).
pub(super) const CATALOGUE_STREAM: u64 = 0;

/// Builds the catalogue of `config.products` products.
pub(super) fn build(config: &DemoConfig) -> Catalogue {
    let mut rng = super::history::stream_rng(config.seed, CATALOGUE_STREAM);
    let categories = LEAVES
        .iter()
        .map(|leaf| {
            let path = vec![leaf.department.to_string(), leaf.leaf.to_string()];
            DemoCategory {
                slug: slugify(&path),
                path,
                consumable: leaf.consumable,
            }
        })
        .collect::<Vec<_>>();

    let mut product_category = leaf_assignment(config.products);
    product_category.shuffle(&mut rng);

    let mut catalogue = Catalogue {
        categories,
        products: Vec::with_capacity(config.products),
        product_category: Vec::with_capacity(config.products),
        product_quality: Vec::with_capacity(config.products),
        product_price_position: Vec::with_capacity(config.products),
        product_popularity: Vec::with_capacity(config.products),
        product_created_ms: Vec::with_capacity(config.products),
    };
    let mut titles = HashSet::with_capacity(config.products);
    for (index, &category) in product_category.iter().enumerate() {
        let leaf = &LEAVES[category];
        let slug = &catalogue.categories[category].slug;
        let sku = format!("CUR-{:06}", index + 1);

        let brand_index = rng.gen_range(0..leaf.brands.len());
        let brand_tier = brand_index as f32 / (leaf.brands.len() - 1).max(1) as f32;
        let quality = (rng.gen::<f32>() + rng.gen::<f32>()) / 2.0;
        let price_position =
            (0.45 * brand_tier + 0.3 * quality + 0.25 * rng.gen::<f32>()).clamp(0.0, 1.0);
        let popularity = rng.gen::<f32>().powi(2);

        let mut attributes = BTreeMap::new();
        for spec in leaf.attributes {
            let last = spec.values.len() - 1;
            let value_index = if spec.follows_price {
                let noisy = price_position * last as f32 + 0.6 * normal(&mut rng);
                noisy.round().clamp(0.0, last as f32) as usize
            } else {
                rng.gen_range(0..=last)
            };
            attributes.insert(spec.name.to_string(), spec.values[value_index].to_string());
        }
        if leaf.consumable {
            attributes.insert("consumable".to_string(), "true".to_string());
        }

        let brand = leaf.brands[brand_index];
        let mut title = String::new();
        let mut adjective = "";
        let mut noun = "";
        let mut model = String::new();
        for _ in 0..TITLE_ATTEMPTS {
            adjective = pick(&mut rng, leaf.adjectives);
            noun = pick(&mut rng, leaf.nouns);
            model = format!(
                "{}{}",
                pick(&mut rng, leaf.model_prefixes),
                rng.gen_range(2..100)
            );
            title = fill_template(leaf.title, |name| {
                lookup(name, brand, &model, adjective, noun, &attributes)
            });
            if !titles.contains(&title) {
                break;
            }
        }
        titles.insert(title.clone());

        let description = describe(&mut rng, leaf, |name| {
            lookup(name, brand, &model, adjective, noun, &attributes)
        });

        let created_ms = if rng.gen_bool(NEW_PRODUCT_SHARE) {
            config.start_ms() + rng.gen_range(0..i64::from(config.days).max(1) * DAY_MS)
        } else {
            config.start_ms() - rng.gen_range(0..CATALOGUE_AGE_DAYS * DAY_MS)
        };

        let mut product = ProductRecord::new(sku, title);
        product.description = Some(description);
        product.category = catalogue.categories[category].path.clone();
        product.brand = Some(brand.to_string());
        product.price_minor = Some(price_cents(leaf, price_position));
        product.image_url = Some(format!("/art/{slug}/{}.svg", product.sku));
        product.attributes = attributes;
        product.in_stock = rng.gen::<f32>() >= OUT_OF_STOCK_SHARE;
        product.created_at = Some(created_ms.div_euclid(1000));

        catalogue.products.push(product);
        catalogue.product_category.push(category);
        catalogue.product_quality.push(quality);
        catalogue.product_price_position.push(price_position);
        catalogue.product_popularity.push(popularity);
        catalogue.product_created_ms.push(created_ms);
    }
    catalogue
}

/// The category index of each of `products` products, in leaf order: every leaf gets
/// its share (largest remainders round), so sizes are uneven but predictable.
fn leaf_assignment(products: usize) -> Vec<usize> {
    let total_share: f64 = LEAVES.iter().map(|leaf| f64::from(leaf.share)).sum();
    let exact = LEAVES
        .iter()
        .map(|leaf| products as f64 * f64::from(leaf.share) / total_share)
        .collect::<Vec<_>>();
    let mut counts = exact.iter().map(|x| x.floor() as usize).collect::<Vec<_>>();
    let mut by_remainder = (0..LEAVES.len()).collect::<Vec<_>>();
    by_remainder.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let missing = products - counts.iter().sum::<usize>();
    for &leaf in by_remainder.iter().take(missing) {
        counts[leaf] += 1;
    }
    counts
        .iter()
        .enumerate()
        .flat_map(|(leaf, &count)| std::iter::repeat_n(leaf, count))
        .collect()
}

/// The value of a template placeholder for one product.
fn lookup<'a>(
    name: &str,
    brand: &'a str,
    model: &'a str,
    adjective: &'a str,
    noun: &'a str,
    attributes: &'a BTreeMap<String, String>,
) -> Option<&'a str> {
    match name {
        "brand" => Some(brand),
        "model" => Some(model),
        "adj" => Some(adjective),
        "noun" => Some(noun),
        _ => attributes.get(name).map(String::as_str),
    }
}

/// A 2-4 sentence description: a lead sentence and one to three details.
fn describe<'a>(
    rng: &mut ChaCha8Rng,
    leaf: &LeafSpec,
    lookup: impl Fn(&str) -> Option<&'a str> + Copy,
) -> String {
    let mut sentences = vec![with_articles(&fill_template(pick(rng, leaf.leads), lookup))];
    let pool = leaf.details.len() + GENERIC_DETAILS.len();
    let details = rng.gen_range(1..=3);
    for index in rand::seq::index::sample(rng, pool, details) {
        let detail = leaf
            .details
            .get(index)
            .unwrap_or_else(|| &GENERIC_DETAILS[index - leaf.details.len()]);
        sentences.push(with_articles(&fill_template(detail, lookup)));
    }
    let mut description = sentences.join(" ");
    // Leads may start with a lowercased placeholder value; a sentence starts capitalised.
    if let Some(first) = description.chars().next() {
        let upper = first.to_uppercase().to_string();
        description.replace_range(..first.len_utf8(), &upper);
    }
    description
}

/// `sentence` with "a" turned into "an" before words that start with a vowel
/// ("a explorer set" becomes "an explorer set").
pub(super) fn with_articles(sentence: &str) -> String {
    let words = sentence.split(' ').collect::<Vec<_>>();
    let mut fixed = String::with_capacity(sentence.len() + 8);
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            fixed.push(' ');
        }
        let next_starts_with_vowel = words
            .get(index + 1)
            .is_some_and(|next| next.starts_with(|c: char| "aeiouAEIOU".contains(c)));
        match *word {
            "a" if next_starts_with_vowel => fixed.push_str("an"),
            "A" if next_starts_with_vowel => fixed.push_str("An"),
            _ => fixed.push_str(word),
        }
    }
    fixed
}

/// A price at `position` in the leaf's range on a log scale, ending in .99.
fn price_cents(leaf: &LeafSpec, position: f32) -> i64 {
    let (low, high) = leaf.price_cents;
    let cents = low as f64 * (high as f64 / low as f64).powf(f64::from(position));
    ((cents / 100.0).round() as i64 * 100 - 1).max(99)
}

/// One element of a non-empty vocabulary list.
fn pick<'a>(rng: &mut ChaCha8Rng, words: &[&'a str]) -> &'a str {
    // Every vocabulary list in `LEAVES` is non-empty (the tests check it).
    words[rng.gen_range(0..words.len())]
}

/// A standard normal draw (Box-Muller).
pub(super) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = 1.0 - rng.gen::<f32>(); // in (0, 1], so the log is finite
    let u2 = rng.gen::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}
