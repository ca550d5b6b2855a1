//! Amazon review data (the 2018 JSON-lines release): review lines become ratings, metadata
//! lines become products. Each line is judged on its own: one with `reviewerID` is a
//! review, any other a metadata line.

use serde_json::{Map, Value};

use super::clean::{clean_brand, clean_text, parse_month_day_year, parse_price};
use super::source::LineReader;
use super::{ImportError, ImportSummary, Located, Parser};
use crate::interaction::InteractionKind;
use crate::records::{InteractionRecord, ProductRecord, Record};

/// Streams an Amazon reviews or metadata file.
pub struct Lines {
    lines: LineReader,
}

impl Lines {
    /// Reads JSON lines from `lines`.
    pub fn new(lines: LineReader) -> Self {
        Self { lines }
    }
}

/// Whether a parsed first line is a review (for ordering files).
pub fn is_review(object: &Value) -> bool {
    object.get("reviewerID").is_some()
}

impl Parser for Lines {
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>> {
        loop {
            let line = match self.lines.next_row(summary)? {
                Ok(line) => line,
                Err(e) => return Some(Err(e)),
            };
            let name = &self.lines.name;
            let object = match self.lines.json_object() {
                Ok(object) => object,
                Err(e) => return Some(Err(e)),
            };
            let parsed = if object.contains_key("reviewerID") {
                review(&object, name, line, summary)
            } else {
                metadata(&object, name, line, summary)
            };
            match parsed {
                Ok(Some(record)) => {
                    return Some(Ok(Located {
                        file: name.clone(),
                        line,
                        record,
                    }))
                }
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// A required string (or number, for ids) field.
fn required_key(
    object: &Map<String, Value>,
    key: &str,
    file: &str,
    line: u64,
) -> Result<String, ImportError> {
    match object.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            Err(ImportError::field(file, line, key, "is missing"))
        }
        Some(other) => Err(ImportError::field(
            file,
            line,
            key,
            format!("{other} is not a string"),
        )),
    }
}

/// A review line: a rating, or `None` (skipped) when it has no `overall`.
fn review(
    object: &Map<String, Value>,
    file: &str,
    line: u64,
    summary: &mut ImportSummary,
) -> Result<Option<Record>, ImportError> {
    let user = required_key(object, "reviewerID", file, line)?;
    let sku = required_key(object, "asin", file, line)?;
    let stars = match object.get("overall") {
        None | Some(Value::Null) => {
            summary.skip("review without rating");
            return Ok(None);
        }
        Some(value) => value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|s| (1.0..=5.0).contains(s))
            .ok_or_else(|| {
                ImportError::field(
                    file,
                    line,
                    "overall",
                    format!("{value} is not a number 1-5"),
                )
            })?,
    };
    let at_ms = match object.get("unixReviewTime") {
        None | Some(Value::Null) => {
            return Err(ImportError::field(
                file,
                line,
                "unixReviewTime",
                "is missing",
            ))
        }
        Some(value) => value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|t| t.checked_mul(1000))
            .ok_or_else(|| {
                ImportError::field(
                    file,
                    line,
                    "unixReviewTime",
                    format!("{value} is not a Unix time in seconds"),
                )
            })?,
    };
    Ok(Some(Record::Interaction(InteractionRecord {
        user,
        sku,
        kind: InteractionKind::Rating,
        value: Some(stars as f32),
        at_ms,
    })))
}

/// The cleaned strings of a string or a list of strings, empties dropped.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => clean_text(s).into_iter().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(clean_text)
            .collect(),
        _ => Vec::new(),
    }
}

/// A metadata line: a product, or `None` (skipped) when it has no title.
fn metadata(
    object: &Map<String, Value>,
    file: &str,
    line: u64,
    summary: &mut ImportSummary,
) -> Result<Option<Record>, ImportError> {
    let sku = required_key(object, "asin", file, line)?;
    let Some(title) = object
        .get("title")
        .and_then(Value::as_str)
        .and_then(clean_text)
    else {
        summary.skip("metadata without title");
        return Ok(None);
    };
    let mut product = ProductRecord::new(sku, title);

    product.category = strings(object.get("category"));
    if product.category.is_empty() {
        summary.count_missing("category");
    }
    product.brand = object
        .get("brand")
        .and_then(Value::as_str)
        .and_then(clean_brand);
    if product.brand.is_none() {
        summary.count_missing("brand");
    }
    product.price_minor = match object.get("price") {
        Some(Value::String(s)) => parse_price(s),
        Some(Value::Number(n)) => n.as_f64().and_then(super::clean::price_from_f64),
        _ => None,
    };
    if product.price_minor.is_none() {
        summary.count_missing("price");
    }
    let paragraphs = strings(object.get("description"));
    product.description = (!paragraphs.is_empty()).then(|| paragraphs.join("\n\n"));
    if product.description.is_none() {
        summary.count_missing("description");
    }
    product.image_url = strings(object.get("imageURLHighRes"))
        .into_iter()
        .next()
        .or_else(|| strings(object.get("imageURL")).into_iter().next());
    if product.image_url.is_none() {
        summary.count_missing("image_url");
    }
    if let Some(rank) = strings(object.get("rank")).into_iter().next() {
        product.attributes.insert("rank".to_string(), rank);
    }
    product.created_at = object
        .get("date")
        .and_then(Value::as_str)
        .and_then(parse_month_day_year);
    if product.created_at.is_none() {
        summary.count_missing("created_at");
    }
    Ok(Some(Record::Product(product)))
}
