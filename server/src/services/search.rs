//! Product search: a tantivy index over title, brand, category and description, plus the
//! per-product facts (category, brand, price, rating, age, popularity) that filters,
//! facets and sorting read.
//!
//! Text matching: every query word must match somewhere. A word matches a field's stemmed
//! terms (English stemmer: "cameras" finds "camera") or, with one typo allowed from four
//! letters and two from eight, the plain words of title, brand and category ("camra"
//! finds "camera"); the last word also matches as a prefix (with at most one typo), so
//! results follow typing.
//! Exact stemmed matches outrank typo matches, title outranks description.
//!
//! Facets are disjunctive, as shops show them: each facet counts the results that pass
//! every *other* filter, so choosing one brand still shows how many the others have.
//! The index lives in memory; it is rebuilt from the database at start and updated on
//! every catalogue change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED,
};
use tantivy::tokenizer::TokenStream;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use crate::error::Error;

/// The most text matches considered for one query (facets count within them).
const MAX_TEXT_HITS: usize = 5_000;

/// What the index knows about one product.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedProduct {
    /// Database id.
    pub product_id: i64,
    /// Title.
    pub title: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Brand, if any.
    pub brand: Option<String>,
    /// Leaf category, if any.
    pub category_id: Option<i64>,
    /// Price in minor units, if known.
    pub price_minor: Option<i64>,
    /// Sum of star ratings (in-shop ratings plus the source's published average x count).
    pub rating_sum: f64,
    /// Number of ratings behind `rating_sum`.
    pub rating_count: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Whether it can be bought now.
    pub in_stock: bool,
    /// How many events the product has had (ties and empty queries rank by it).
    pub popularity: i64,
}

impl IndexedProduct {
    /// Average stars, when rated.
    pub fn rating(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum / self.rating_count as f64)
    }
}

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryNode {
    /// Database id.
    pub category_id: i64,
    /// Parent, `None` for a department.
    pub parent_id: Option<i64>,
    /// Own name.
    pub name: String,
    /// Full path, "Electronics > Cameras".
    pub path: String,
    /// URL slug.
    pub slug: String,
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Text relevance, then popularity (popularity alone without a query).
    #[default]
    Relevance,
    /// Cheapest first; unpriced last.
    PriceLow,
    /// Dearest first; unpriced last.
    PriceHigh,
    /// Best average rating first (unrated last), then more ratings.
    Rating,
    /// Newest in the catalogue first.
    Newest,
}

/// Price bands shown as a facet, in minor units: `[low, high)`.
pub const PRICE_BANDS: [(i64, Option<i64>); 7] = [
    (0, Some(2_500)),
    (2_500, Some(5_000)),
    (5_000, Some(10_000)),
    (10_000, Some(25_000)),
    (25_000, Some(50_000)),
    (50_000, Some(100_000)),
    (100_000, None),
];

/// Filters on a search or a category page. Everything optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only this category and its descendants.
    pub category_id: Option<i64>,
    /// Only these brands (any of them).
    pub brands: Vec<String>,
    /// Lowest price, minor units, inclusive.
    pub price_min: Option<i64>,
    /// Highest price, minor units, exclusive.
    pub price_max: Option<i64>,
    /// Lowest average rating.
    pub min_rating: Option<f64>,
}

/// One page of results and the facet counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOutcome {
    /// Matches after filters.
    pub total: usize,
    /// The requested page, in order.
    pub product_ids: Vec<i64>,
    /// Child categories of the chosen category (departments when none) with counts.
    pub categories: Vec<(CategoryNode, u64)>,
    /// Brands with counts, most first.
    pub brands: Vec<(String, u64)>,
    /// Counts per [`PRICE_BANDS`] entry.
    pub price_bands: Vec<u64>,
    /// Counts of products rated at least 4, 3, 2 and 1 stars.
    pub ratings: Vec<(u8, u64)>,
}

struct Fields {
    product_id: Field,
    title: Field,
    brand: Field,
    category: Field,
    description: Field,
    title_words: Field,
    brand_words: Field,
    category_words: Field,
}

#[derive(Default)]
struct Facts {
    products: HashMap<i64, IndexedProduct>,
    categories: HashMap<i64, CategoryNode>,
}

impl Facts {
    /// Whether `category` is `ancestor` or below it.
    fn within(&self, mut category: Option<i64>, ancestor: i64) -> bool {
        let mut steps = 0;
        while let Some(id) = category {
            if id == ancestor {
                return true;
            }
            category = self.categories.get(&id).and_then(|c| c.parent_id);
            steps += 1;
            if steps > 64 {
                return false; // a cycle would be a database bug; never loop forever
            }
        }
        false
    }

    /// The child of `parent` (or the department, when `parent` is `None`) on the way to
    /// `category`.
    fn child_towards(&self, category: Option<i64>, parent: Option<i64>) -> Option<i64> {
        let mut current = category?;
        for _ in 0..64 {
            let node = self.categories.get(&current)?;
            if node.parent_id == parent {
                return Some(current);
            }
            current = node.parent_id?;
        }
        None
    }
}

/// The search index and the facts beside it. Shared by all requests.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    facts: RwLock<Facts>,
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Result<Self, Error> {
        let mut builder = Schema::builder();
        let stemmed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let plain = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("default")
                .set_index_option(IndexRecordOption::Basic),
        );
        let fields = Fields {
            product_id: builder.add_u64_field("product_id", INDEXED | FAST),
            title: builder.add_text_field("title", stemmed.clone()),
            brand: builder.add_text_field("brand", stemmed.clone()),
            category: builder.add_text_field("category", stemmed.clone()),
            description: builder.add_text_field("description", stemmed),
            title_words: builder.add_text_field("title_words", plain.clone()),
            brand_words: builder.add_text_field("brand_words", plain.clone()),
            category_words: builder.add_text_field("category_words", plain),
        };
        let index = Index::create_in_ram(builder.build());
        let writer = index
            .writer_with_num_threads(1, 30_000_000)
            .map_err(search_error)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(search_error)?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            facts: RwLock::new(Facts::default()),
        })
    }

    /// Replaces the whole index.
    pub fn rebuild(
        &self,
        categories: Vec<CategoryNode>,
        products: Vec<IndexedProduct>,
    ) -> Result<(), Error> {
        let mut facts = Facts {
            categories: categories.into_iter().map(|c| (c.category_id, c)).collect(),
            products: HashMap::with_capacity(products.len()),
        };
        let mut writer = self.writer.lock().map_err(|_| poisoned())?;
        writer.delete_all_documents().map_err(search_error)?;
        // The new facts are built aside: searches keep reading the old ones meanwhile.
        self.write_products(&mut writer, &mut facts, products, false)?;
        *self.facts.write().map_err(|_| poisoned())? = facts;
        Ok(())
    }

    /// Adds or replaces products (a new category must come with them).
    pub fn upsert(
        &self,
        categories: Vec<CategoryNode>,
        products: Vec<IndexedProduct>,
    ) -> Result<(), Error> {
        // Lock order everywhere: writer, then facts.
        let mut writer = self.writer.lock().map_err(|_| poisoned())?;
        let mut facts = self.facts.write().map_err(|_| poisoned())?;
        for category in categories {
            facts.categories.insert(category.category_id, category);
        }
        self.write_products(&mut writer, &mut facts, products, true)
    }

    /// Indexes `products` (replacing documents with the same id when `replace`), records
    /// their facts, commits and makes the result visible to searches.
    fn write_products(
        &self,
        writer: &mut IndexWriter,
        facts: &mut Facts,
        products: Vec<IndexedProduct>,
        replace: bool,
    ) -> Result<(), Error> {
        for product in products {
            if replace {
                writer.delete_term(Term::from_field_u64(
                    self.fields.product_id,
                    product.product_id as u64,
                ));
            }
            writer
                .add_document(self.document(facts, &product))
                .map_err(search_error)?;
            facts.products.insert(product.product_id, product);
        }
        writer.commit().map_err(search_error)?;
        self.reader.reload().map_err(search_error)?;
        Ok(())
    }

    /// Sets a product's rating (sum of stars and count, published ratings included).
    pub fn set_rating(&self, product_id: i64, rating_sum: f64, rating_count: i64) {
        if let Ok(mut facts) = self.facts.write() {
            if let Some(product) = facts.products.get_mut(&product_id) {
                product.rating_sum = rating_sum;
                product.rating_count = rating_count;
            }
        }
    }

    /// Counts one more event on a product (popularity ranks ties and empty queries).
    pub fn bump_popularity(&self, product_id: i64) {
        if let Ok(mut facts) = self.facts.write() {
            if let Some(product) = facts.products.get_mut(&product_id) {
                product.popularity += 1;
            }
        }
    }

    /// The path from the department down to `category_id`.
    pub fn breadcrumbs(&self, category_id: Option<i64>) -> Vec<CategoryNode> {
        let Ok(facts) = self.facts.read() else {
            return Vec::new();
        };
        let mut chain = Vec::new();
        let mut current = category_id;
        while let Some(id) = current {
            let Some(node) = facts.categories.get(&id) else {
                break;
            };
            chain.push(node.clone());
            current = node.parent_id;
            if chain.len() > 64 {
                break;
            }
        }
        chain.reverse();
        chain
    }

    /// How many products are indexed.
    pub fn len(&self) -> usize {
        self.facts.read().map(|f| f.products.len()).unwrap_or(0)
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The category with this slug.
    pub fn category_by_slug(&self, slug: &str) -> Option<CategoryNode> {
        let facts = self.facts.read().ok()?;
        facts.categories.values().find(|c| c.slug == slug).cloned()
    }

    /// The departments (top-level categories), by name.
    pub fn departments(&self) -> Vec<CategoryNode> {
        let Ok(facts) = self.facts.read() else {
            return Vec::new();
        };
        let mut departments: Vec<CategoryNode> = facts
            .categories
            .values()
            .filter(|c| c.parent_id.is_none())
            .cloned()
            .collect();
        departments.sort_by(|a, b| a.name.cmp(&b.name));
        departments
    }

    fn document(&self, facts: &Facts, product: &IndexedProduct) -> tantivy::TantivyDocument {
        let category = product
            .category_id
            .and_then(|id| facts.categories.get(&id))
            .map(|c| c.path.replace(" > ", " "))
            .unwrap_or_default();
        let brand = product.brand.clone().unwrap_or_default();
        doc!(
            self.fields.product_id => product.product_id as u64,
            self.fields.title => product.title.clone(),
            self.fields.brand => brand.clone(),
            self.fields.category => category.clone(),
            self.fields.description => product.description.clone().unwrap_or_default(),
            self.fields.title_words => product.title.clone(),
            self.fields.brand_words => brand.clone(),
            self.fields.category_words => category.clone(),
        )
    }

    /// The tokens `text` gives under the tokenizer of `field`.
    fn tokens(&self, field: Field, text: &str) -> Result<Vec<String>, Error> {
        let mut analyzer = self
            .index
            .tokenizer_for_field(field)
            .map_err(search_error)?;
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push(stream.token().text.clone());
        }
        Ok(tokens)
    }

    /// The query for free text, or `None` when it has no words.
    fn text_query(&self, text: &str) -> Result<Option<Box<dyn Query>>, Error> {
        let words = self.tokens(self.fields.title_words, text)?;
        let Some(last) = words.len().checked_sub(1) else {
            return Ok(None);
        };
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let stem = self
                .tokens(self.fields.title, word)?
                .into_iter()
                .next()
                .unwrap_or_else(|| word.clone());
            for (field, boost) in [
                (self.fields.title, 3.0),
                (self.fields.brand, 2.5),
                (self.fields.category, 1.5),
                (self.fields.description, 0.6),
            ] {
                let term = TermQuery::new(
                    Term::from_field_text(field, &stem),
                    IndexRecordOption::WithFreqs,
                );
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), boost)),
                ));
            }
            let distance = match word.chars().count() {
                0..=3 => 0,
                4..=7 => 1,
                _ => 2,
            };
            // Typo matches score a constant per field: a title match outranks a product
            // that only has the word in its category.
            for (field, boost) in [
                (self.fields.title_words, 1.0),
                (self.fields.brand_words, 0.8),
                (self.fields.category_words, 0.4),
            ] {
                let term = Term::from_field_text(field, word);
                let fuzzy: Box<dyn Query> = if i == last {
                    // A prefix already matches many words: one typo at most.
                    Box::new(FuzzyTermQuery::new_prefix(term, distance.min(1), true))
                } else {
                    Box::new(FuzzyTermQuery::new(term, distance, true))
                };
                should.push((Occur::Should, Box::new(BoostQuery::new(fuzzy, boost))));
            }
            must.push((Occur::Must, Box::new(BooleanQuery::new(should))));
        }
        Ok(Some(Box::new(BooleanQuery::new(must))))
    }

    /// Searches `text` (empty: every product) under `filters`, ordered by `sort`, and
    /// returns `limit` ids from `offset` with the facet counts.
    pub fn search(
        &self,
        text: &str,
        filters: &Filters,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> Result<SearchOutcome, Error> {
        let facts = self.facts.read().map_err(|_| poisoned())?;
        // Candidates with their text score (0 without a query).
        let candidates: Vec<(i64, f32)> = match self.text_query(text)? {
            None => facts.products.keys().map(|&id| (id, 0.0)).collect(),
            Some(query) => {
                let searcher = self.reader.searcher();
                let hits = searcher
                    .search(&query, &TopDocs::with_limit(MAX_TEXT_HITS).order_by_score())
                    .map_err(search_error)?;
                let mut columns = HashMap::new();
                let mut found = Vec::with_capacity(hits.len());
                for (score, address) in hits {
                    let column = match columns.entry(address.segment_ord) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => e.insert(
                            searcher
                                .segment_reader(address.segment_ord)
                                .fast_fields()
                                .u64("product_id")
                                .map_err(search_error)?,
                        ),
                    };
                    if let Some(id) = column.first(address.doc_id) {
                        found.push((id as i64, score));
                    }
                }
                found
            }
        };

        // Which filters each candidate passes, so every facet can ignore its own.
        let passes_category = |p: &IndexedProduct| {
            filters
                .category_id
                .is_none_or(|c| facts.within(p.category_id, c))
        };
        let passes_brand = |p: &IndexedProduct| {
            filters.brands.is_empty()
                || p.brand
                    .as_ref()
                    .is_some_and(|b| filters.brands.iter().any(|f| f.eq_ignore_ascii_case(b)))
        };
        let passes_price = |p: &IndexedProduct| match p.price_minor {
            None => filters.price_min.is_none() && filters.price_max.is_none(),
            Some(price) => {
                filters.price_min.is_none_or(|min| price >= min)
                    && filters.price_max.is_none_or(|max| price < max)
            }
        };
        let passes_rating = |p: &IndexedProduct| {
            filters
                .min_rating
                .is_none_or(|min| p.rating().is_some_and(|r| r >= min))
        };

        let mut outcome = SearchOutcome {
            price_bands: vec![0; PRICE_BANDS.len()],
            ..SearchOutcome::default()
        };
        let mut category_counts: BTreeMap<i64, u64> = BTreeMap::new();
        let mut brand_counts: HashMap<&str, u64> = HashMap::new();
        let mut rating_counts = [0u64; 4];
        let mut results: Vec<(&IndexedProduct, f32)> = Vec::new();
        for (id, score) in candidates {
            let Some(p) = facts.products.get(&id) else {
                continue;
            };
            let (c, b, pr, r) = (
                passes_category(p),
                passes_brand(p),
                passes_price(p),
                passes_rating(p),
            );
            if b && pr && r {
                if let Some(child) = facts.child_towards(p.category_id, filters.category_id) {
                    if c {
                        *category_counts.entry(child).or_default() += 1;
                    }
                }
            }
            if c && pr && r {
                if let Some(brand) = &p.brand {
                    *brand_counts.entry(brand.as_str()).or_default() += 1;
                }
            }
            if c && b && r {
                if let Some(price) = p.price_minor {
                    if let Some(band) = PRICE_BANDS
                        .iter()
                        .position(|&(lo, hi)| price >= lo && hi.is_none_or(|hi| price < hi))
                    {
                        outcome.price_bands[band] += 1;
                    }
                }
            }
            if c && b && pr {
                if let Some(rating) = p.rating() {
                    for (slot, stars) in [4.0, 3.0, 2.0, 1.0].iter().enumerate() {
                        if rating >= *stars {
                            rating_counts[slot] += 1;
                        }
                    }
                }
            }
            if c && b && pr && r {
                results.push((p, score));
            }
        }

        results.sort_by(|(a, sa), (b, sb)| {
            let by_popularity = b.popularity.cmp(&a.popularity);
            let order = match sort {
                Sort::Relevance => sb.total_cmp(sa).then(by_popularity),
                Sort::PriceLow => cmp_present(a.price_minor, b.price_minor, false),
                Sort::PriceHigh => cmp_present(a.price_minor, b.price_minor, true),
                Sort::Rating => {
                    cmp_present_f(a.rating(), b.rating()).then(b.rating_count.cmp(&a.rating_count))
                }
                Sort::Newest => b.created_at.cmp(&a.created_at),
            };
            order
                .then(by_popularity)
                .then(a.product_id.cmp(&b.product_id))
        });
        outcome.total = results.len();
        outcome.product_ids = results
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(p, _)| p.product_id)
            .collect();
        outcome.categories = category_counts
            .into_iter()
            .filter_map(|(id, n)| facts.categories.get(&id).map(|c| (c.clone(), n)))
            .collect();
        outcome.categories.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let mut brands: Vec<(String, u64)> = brand_counts
            .into_iter()
            .map(|(b, n)| (b.to_string(), n))
            .collect();
        brands.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        outcome.brands = brands;
        outcome.ratings = [4u8, 3, 2, 1].into_iter().zip(rating_counts).collect();
        Ok(outcome)
    }
}

/// Orders present values (ascending, or descending when `reverse`) before absent ones.
fn cmp_present(a: Option<i64>, b: Option<i64>, reverse: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(x), Some(y)) if reverse => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Higher ratings first, unrated last.
fn cmp_present_f(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn search_error(error: tantivy::TantivyError) -> Error {
    Error::Search(error.to_string())
}

fn poisoned() -> Error {
    Error::Search("search index lock poisoned by an earlier panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(id: i64, parent: Option<i64>, name: &str, path: &str) -> CategoryNode {
        CategoryNode {
            category_id: id,
            parent_id: parent,
            name: name.into(),
            path: path.into(),
            slug: path.to_lowercase().replace(" > ", "-"),
        }
    }

    fn product(id: i64, title: &str, brand: &str, category: i64, price: i64) -> IndexedProduct {
        IndexedProduct {
            product_id: id,
            title: title.into(),
            description: Some(format!("{title} described at length.")),
            brand: Some(brand.into()),
            category_id: Some(category),
            price_minor: Some(price),
            rating_sum: 0.0,
            rating_count: 0,
            created_at: id,
            in_stock: true,
            popularity: 0,
        }
    }

    fn sample() -> SearchIndex {
        let index = SearchIndex::new().unwrap();
        let categories = vec![
            category(1, None, "Electronics", "Electronics"),
            category(2, Some(1), "Cameras", "Electronics > Cameras"),
            category(3, Some(1), "Memory Cards", "Electronics > Memory Cards"),
            category(4, None, "Home", "Home"),
            category(5, Some(4), "Kitchen", "Home > Kitchen"),
        ];
        let mut products = vec![
            product(10, "Lumora Z50 Mirrorless Camera", "Lumora", 2, 89_900),
            product(11, "Vantor Compact Camera, 20MP", "Vantor", 2, 24_900),
            product(12, "Vantor 128GB microSD Card", "Vantor", 3, 2_900),
            product(13, "Kettlex Electric Kettle", "Kettlex", 5, 4_500),
            product(14, "Lumora Camera Strap", "Lumora", 2, 1_900),
        ];
        products[0].rating_sum = 9.0;
        products[0].rating_count = 2;
        products[1].rating_sum = 3.0;
        products[1].rating_count = 1;
        products[3].popularity = 50;
        index.rebuild(categories, products).unwrap();
        index
    }

    #[test]
    fn finds_through_typos_and_stems() {
        let index = sample();
        let exact = index
            .search("camera", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(exact.total, 3);
        let typo = index
            .search("camra", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(typo.product_ids.len(), 3, "{typo:?}");
        let plural = index
            .search("kettles", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(plural.product_ids, vec![13]);
        let prefix = index
            .search("mirrorl", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(prefix.product_ids, vec![10]);
        let none = index
            .search("zebra", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(none.total, 0);
        // Every word must match: "vantor camera" is the compact camera only.
        let both = index
            .search("vantor camera", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(both.product_ids, vec![11]);
    }

    #[test]
    fn typo_matches_in_titles_outrank_category_only_matches() {
        let index = sample();
        // A popular product that has "camera" only in its category path.
        let mut bag = product(15, "Lumora Shoulder Bag", "Lumora", 2, 3_900);
        bag.popularity = 1_000;
        index.upsert(Vec::new(), vec![bag]).unwrap();
        let typo = index
            .search("camra", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(typo.total, 4, "{typo:?}");
        assert_eq!(typo.product_ids.last(), Some(&15), "{typo:?}");
    }

    #[test]
    fn title_matches_outrank_description_and_brand_matches_count() {
        let index = sample();
        let brand = index
            .search("lumora", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(brand.total, 2);
    }

    #[test]
    fn filters_sorts_and_disjunctive_facets() {
        let index = sample();
        let filters = Filters {
            category_id: Some(1),
            brands: vec!["vantor".into()],
            ..Filters::default()
        };
        let outcome = index.search("", &filters, Sort::PriceLow, 0, 10).unwrap();
        assert_eq!(outcome.product_ids, vec![12, 11]);
        // Brand facet ignores the brand filter: Lumora still shows its two products.
        assert!(outcome.brands.contains(&("Lumora".to_string(), 2)));
        assert!(outcome.brands.contains(&("Vantor".to_string(), 2)));
        assert!(!outcome.brands.iter().any(|(b, _)| b == "Kettlex"));
        // Category facet: children of Electronics, counted under the brand filter.
        let names: Vec<(&str, u64)> = outcome
            .categories
            .iter()
            .map(|(c, n)| (c.name.as_str(), *n))
            .collect();
        assert_eq!(names, vec![("Cameras", 1), ("Memory Cards", 1)]);

        let priced = Filters {
            price_min: Some(2_500),
            price_max: Some(100_000),
            ..Filters::default()
        };
        let outcome = index.search("", &priced, Sort::PriceHigh, 0, 10).unwrap();
        assert_eq!(outcome.product_ids, vec![10, 11, 13, 12]);
        let rated = Filters {
            min_rating: Some(4.0),
            ..Filters::default()
        };
        let outcome = index.search("", &rated, Sort::Rating, 0, 10).unwrap();
        assert_eq!(outcome.product_ids, vec![10]);
        assert_eq!(outcome.ratings[0], (4, 1));
        assert_eq!(outcome.ratings[2], (2, 2));
        // Without a query, relevance is popularity; pagination slices the order.
        let all = index
            .search("", &Filters::default(), Sort::Relevance, 0, 2)
            .unwrap();
        assert_eq!(all.total, 5);
        assert_eq!(all.product_ids[0], 13);
        let next = index
            .search("", &Filters::default(), Sort::Relevance, 2, 2)
            .unwrap();
        assert_eq!(next.product_ids.len(), 2);
        assert!(!next.product_ids.contains(&13));
        let newest = index
            .search("", &Filters::default(), Sort::Newest, 0, 1)
            .unwrap();
        assert_eq!(newest.product_ids, vec![14]);
    }

    #[test]
    fn upsert_replaces_and_activity_updates() {
        let index = sample();
        let mut renamed = product(
            13,
            "Kettlex Gooseneck Pour-Over Kettle",
            "Kettlex",
            5,
            5_900,
        );
        renamed.popularity = 1;
        index.upsert(Vec::new(), vec![renamed]).unwrap();
        let hit = index
            .search("gooseneck", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(hit.product_ids, vec![13]);
        let old = index
            .search("electric", &Filters::default(), Sort::Relevance, 0, 10)
            .unwrap();
        assert_eq!(old.total, 0, "the old text is gone");
        assert_eq!(index.len(), 5);
        index.set_rating(12, 5.0, 1);
        index.bump_popularity(12);
        assert_eq!(index.breadcrumbs(Some(3)).len(), 2);
        let rated = Filters {
            min_rating: Some(4.6),
            ..Filters::default()
        };
        let outcome = index.search("", &rated, Sort::Rating, 0, 10).unwrap();
        assert_eq!(outcome.product_ids, vec![12]);
    }
}
