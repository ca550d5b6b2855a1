//! The generic formats: CSV with a header row and JSON lines, whose columns are tied to
//! catalogue fields by a [`Mapping`]. A JSON line that is a serialized [`Record`] is read
//! as is, so `write_jsonl` output imports back unchanged.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use serde_json::{Map, Value};

use super::clean::{clean_text, parse_bool, parse_count, parse_price, parse_time_ms};
use super::source::{csv_error, csv_reader, LineReader};
use super::{ImportError, ImportSummary, Located, Parser};
use crate::interaction::InteractionKind;
use crate::records::{InteractionRecord, ProductRecord, Record};

/// The canonical product fields a [`Mapping`] can name.
pub const PRODUCT_FIELDS: [&str; 12] = [
    "sku",
    "title",
    "description",
    "category",
    "brand",
    "price",
    "currency",
    "image_url",
    "in_stock",
    "created_at",
    "rating",
    "rating_count",
];

/// The canonical interaction fields a [`Mapping`] can name (`sku` is shared).
pub const INTERACTION_FIELDS: [&str; 5] = ["user", "sku", "kind", "value", "at"];

/// The name [`Mapping::parse`] errors give as their file.
const MAPPING: &str = "mapping";

/// Which source column holds each canonical field; a field not mapped is read from the
/// column of its own name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    columns: BTreeMap<String, String>,
}

impl Mapping {
    /// Parses `field=Column Name` pairs (`price=Sale Price`, `user=customer_id`).
    ///
    /// Errors name the field: a pair without `=`, a field that is not one of
    /// [`PRODUCT_FIELDS`] or [`INTERACTION_FIELDS`], an empty column name, or a field
    /// mapped twice.
    pub fn parse(pairs: &[String]) -> Result<Mapping, ImportError> {
        let mut columns = BTreeMap::new();
        for pair in pairs {
            let Some((field, column)) = pair.split_once('=') else {
                return Err(ImportError::file(
                    MAPPING,
                    format!("expected `field=Column Name`, found {pair:?}"),
                ));
            };
            let (field, column) = (field.trim(), column.trim());
            let error = |message: String| ImportError {
                field: Some(field.to_string()),
                ..ImportError::file(MAPPING, message)
            };
            if !PRODUCT_FIELDS.contains(&field) && !INTERACTION_FIELDS.contains(&field) {
                return Err(error(format!(
                    "unknown field; expected one of {}, {}",
                    PRODUCT_FIELDS.join(", "),
                    INTERACTION_FIELDS[..1]
                        .iter()
                        .chain(&INTERACTION_FIELDS[2..])
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if column.is_empty() {
                return Err(error("the column name is empty".to_string()));
            }
            if columns
                .insert(field.to_string(), column.to_string())
                .is_some()
            {
                return Err(error("is mapped twice".to_string()));
            }
        }
        Ok(Mapping { columns })
    }

    /// The source column of a canonical field.
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.get(field).map_or(field, String::as_str)
    }

    /// Whether `field` was given a column explicitly.
    fn is_explicit(&self, field: &str) -> bool {
        self.columns.contains_key(field)
    }
}

/// One value of a row, as text.
enum Cell<'a> {
    /// The row has no place for the field (no such column, no such key).
    NoColumn,
    /// The place is there but empty (blank cell, `null`, `""`, `[]`).
    Empty,
    /// A value, uncleaned.
    Value(Cow<'a, str>),
}

/// A row of either format, read by column name.
trait Row {
    /// The cell of `column`; a JSON list is joined with `list_separator`.
    fn cell(&self, column: &str, list_separator: &str) -> Cell<'_>;
    /// Every column with a value, for the attributes.
    fn columns(&self) -> Vec<(&str, Cow<'_, str>)>;
}

/// A CSV record with its header's column positions.
struct CsvRow<'a> {
    index: &'a HashMap<String, usize>,
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Row for CsvRow<'_> {
    fn cell(&self, column: &str, _: &str) -> Cell<'_> {
        match self.index.get(column) {
            None => Cell::NoColumn,
            Some(&i) => match self.record.get(i) {
                Some(text) if !text.trim().is_empty() => Cell::Value(Cow::Borrowed(text)),
                _ => Cell::Empty,
            },
        }
    }

    fn columns(&self) -> Vec<(&str, Cow<'_, str>)> {
        self.headers
            .iter()
            .zip(self.record.iter())
            .map(|(h, v)| (h.trim(), Cow::Borrowed(v)))
            .collect()
    }
}

/// A JSON value as text: strings as they are, numbers and booleans printed, lists joined.
fn value_text<'a>(value: &'a Value, list_separator: &str) -> Option<Cow<'a, str>> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Array(items) => {
            let parts: Vec<Cow<str>> = items
                .iter()
                .filter_map(|v| value_text(v, list_separator))
                .collect();
            (!parts.is_empty()).then(|| Cow::Owned(parts.join(list_separator)))
        }
        Value::Object(_) => Some(Cow::Owned(value.to_string())),
    }
}

impl Row for Map<String, Value> {
    fn cell(&self, column: &str, list_separator: &str) -> Cell<'_> {
        match self.get(column) {
            None => Cell::NoColumn,
            Some(value) => value_text(value, list_separator).map_or(Cell::Empty, Cell::Value),
        }
    }

    fn columns(&self) -> Vec<(&str, Cow<'_, str>)> {
        self.iter()
            .filter_map(|(k, v)| Some((k.as_str(), value_text(v, ", ")?)))
            .collect()
    }
}

/// Builds records from rows of one file.
struct Builder<'a> {
    mapping: &'a Mapping,
    file: &'a str,
    line: u64,
}

impl Builder<'_> {
    fn error(&self, field: &str, message: String) -> ImportError {
        ImportError::field(self.file, self.line, self.mapping.column(field), message)
    }

    /// A field's value, counting it missing when the row has an empty place for it.
    fn optional<'r>(
        &self,
        row: &'r impl Row,
        field: &str,
        summary: &mut ImportSummary,
    ) -> Option<Cow<'r, str>> {
        let separator = if field == "category" { " > " } else { ", " };
        match row.cell(self.mapping.column(field), separator) {
            Cell::NoColumn => None,
            Cell::Empty => {
                summary.count_missing(field);
                None
            }
            Cell::Value(text) => Some(text),
        }
    }

    /// A field that every row must have.
    fn required<'r>(&self, row: &'r impl Row, field: &str) -> Result<Cow<'r, str>, ImportError> {
        match row.cell(self.mapping.column(field), ", ") {
            Cell::NoColumn => Err(self.error(field, "is missing".to_string())),
            Cell::Empty => Err(self.error(field, "is empty".to_string())),
            Cell::Value(text) => Ok(text),
        }
    }

    /// A product, or `None` (skipped) when it has no title.
    fn product(
        &self,
        row: &impl Row,
        summary: &mut ImportSummary,
    ) -> Result<Option<Record>, ImportError> {
        let sku = self.required(row, "sku")?;
        let sku = clean_text(&sku).ok_or_else(|| self.error("sku", "is empty".to_string()))?;
        let title = match row.cell(self.mapping.column("title"), ", ") {
            Cell::Value(text) => clean_text(&text),
            _ => None,
        };
        let Some(title) = title else {
            summary.skip("product without title");
            return Ok(None);
        };
        let mut product = ProductRecord::new(sku, title);
        product.description = self
            .optional(row, "description", summary)
            .and_then(|t| clean_text(&t));
        if let Some(path) = self.optional(row, "category", summary) {
            product.category = path.split('>').filter_map(clean_text).collect();
        }
        product.brand = self
            .optional(row, "brand", summary)
            .and_then(|t| clean_text(&t));
        if let Some(price) = self.optional(row, "price", summary) {
            product.price_minor = Some(parse_price(&price).ok_or_else(|| {
                self.error("price", format!("{price:?} is not a price like 12.99"))
            })?);
        }
        if let Some(currency) = row_value(row, self.mapping.column("currency")) {
            let code = currency.trim().to_ascii_uppercase();
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(self.error(
                    "currency",
                    format!("{currency:?} is not an ISO 4217 code like USD"),
                ));
            }
            product.currency = code;
        }
        product.image_url = self
            .optional(row, "image_url", summary)
            .and_then(|t| clean_text(&t));
        if let Some(stock) = row_value(row, self.mapping.column("in_stock")) {
            product.in_stock = parse_bool(&stock).ok_or_else(|| {
                self.error(
                    "in_stock",
                    format!("{stock:?} is not true/false/1/0/yes/no"),
                )
            })?;
        }
        if let Some(time) = self.optional(row, "created_at", summary) {
            let ms = parse_time_ms(&time).ok_or_else(|| {
                self.error(
                    "created_at",
                    format!("{time:?} is not Unix seconds or an RFC 3339 date"),
                )
            })?;
            product.created_at = Some(ms.div_euclid(1000));
        }
        if let Some(rating) = self.optional(row, "rating", summary) {
            product.source_rating = match rating.trim().parse::<f32>() {
                Ok(0.0) => {
                    summary.count_missing("rating");
                    None
                }
                Ok(r) if (1.0..=5.0).contains(&r) => Some(r),
                _ => return Err(self.error("rating", format!("{rating:?} is not a rating 1-5"))),
            };
        }
        if let Some(count) = self.optional(row, "rating_count", summary) {
            product.source_rating_count = Some(parse_count(&count).ok_or_else(|| {
                self.error("rating_count", format!("{count:?} is not a whole number"))
            })?);
        }
        let used: Vec<&str> = PRODUCT_FIELDS
            .iter()
            .map(|f| self.mapping.column(f))
            .collect();
        for (column, value) in row.columns() {
            if used.contains(&column) {
                continue;
            }
            if let Some(value) = clean_text(&value) {
                product.attributes.insert(column.to_string(), value);
            }
        }
        Ok(Some(Record::Product(product)))
    }

    /// An interaction, or `None` (skipped) for a rating without stars.
    fn interaction(
        &self,
        row: &impl Row,
        summary: &mut ImportSummary,
    ) -> Result<Option<Record>, ImportError> {
        let user = self.required(row, "user")?.trim().to_string();
        let sku = self.required(row, "sku")?.trim().to_string();
        let kind_text = self.required(row, "kind")?;
        let kind = kind_text
            .trim()
            .parse::<InteractionKind>()
            .map_err(|e| self.error("kind", e.to_string()))?;
        let value = match self.optional(row, "value", summary) {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| self.error("value", format!("{text:?} is not a number")))?,
            ),
        };
        if kind == InteractionKind::Rating {
            match value {
                None => {
                    summary.skip("rating without value");
                    return Ok(None);
                }
                Some(stars) if !(1.0..=5.0).contains(&stars) => {
                    return Err(self.error("value", format!("{stars} is not a rating 1-5")))
                }
                Some(_) => {}
            }
        }
        let at = self.required(row, "at")?;
        let at_ms = parse_time_ms(&at).ok_or_else(|| {
            self.error(
                "at",
                format!("{at:?} is not Unix seconds or an RFC 3339 date"),
            )
        })?;
        Ok(Some(Record::Interaction(InteractionRecord {
            user,
            sku,
            kind,
            value,
            at_ms,
        })))
    }
}

/// A value with defaults rather than gaps (currency, in stock): absent and empty alike
/// give `None`, and neither counts as missing.
fn row_value<'r>(row: &'r impl Row, column: &str) -> Option<Cow<'r, str>> {
    match row.cell(column, ", ") {
        Cell::Value(text) => Some(text),
        _ => None,
    }
}

/// Streams a generic CSV file.
pub struct CsvRows {
    name: String,
    mapping: Mapping,
    reader: csv::Reader<Box<dyn BufRead>>,
    /// The header: column positions, the header itself, and whether rows are
    /// interactions; `None` until read.
    header: Option<(HashMap<String, usize>, csv::StringRecord, bool)>,
    record: csv::StringRecord,
}

impl CsvRows {
    /// Reads CSV from `reader`, named `name` in errors.
    pub fn new(name: String, mapping: Mapping, reader: Box<dyn BufRead>) -> Self {
        Self {
            name,
            mapping,
            reader: csv_reader(reader, b','),
            header: None,
            record: csv::StringRecord::new(),
        }
    }

    /// Reads the header and checks that the columns the rows need are there.
    fn read_header(&mut self) -> Result<(), ImportError> {
        let headers = self
            .reader
            .headers()
            .map_err(|e| csv_error(&self.name, &e))?
            .clone();
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        let interactions = index.contains_key(self.mapping.column("user"));
        let (fields, required): (&[&str], &[&str]) = if interactions {
            (&INTERACTION_FIELDS, &["user", "sku", "kind", "at"])
        } else {
            (&PRODUCT_FIELDS, &["sku", "title"])
        };
        for field in fields {
            let column = self.mapping.column(field);
            if !index.contains_key(column)
                && (required.contains(field) || self.mapping.is_explicit(field))
            {
                return Err(ImportError::field(
                    &self.name,
                    1,
                    column,
                    format!("no such column in the header (needed for {field})"),
                ));
            }
        }
        self.header = Some((index, headers, interactions));
        Ok(())
    }
}

/// Whether a CSV header row makes the file an interactions file.
pub fn csv_header_is_interactions(header_line: &str, mapping: &Mapping) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header_line.as_bytes());
    let user = mapping.column("user");
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .is_some_and(|r| r.iter().any(|h| h.trim() == user))
}

impl Parser for CsvRows {
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>> {
        if self.header.is_none() {
            if let Err(e) = self.read_header() {
                return Some(Err(e));
            }
        }
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(csv_error(&self.name, &e))),
            }
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            summary.rows_read += 1;
            let line = self.record.position().map_or(0, csv::Position::line);
            // The header was read above.
            let (index, headers, interactions) = self.header.as_ref()?;
            let row = CsvRow {
                index,
                headers,
                record: &self.record,
            };
            let builder = Builder {
                mapping: &self.mapping,
                file: &self.name,
                line,
            };
            let parsed = if *interactions {
                builder.interaction(&row, summary)
            } else {
                builder.product(&row, summary)
            };
            match parsed {
                Ok(Some(record)) => {
                    return Some(Ok(Located {
                        file: self.name.clone(),
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

/// Whether a JSON object is a serialized [`Record`] (its `type` says which).
fn record_type(object: &Map<String, Value>) -> Option<&str> {
    match object.get("type").and_then(Value::as_str) {
        Some(t @ ("product" | "interaction")) => Some(t),
        _ => None,
    }
}

/// Whether a JSON line makes the file an interactions file.
pub fn jsonl_line_is_interactions(line: &str, mapping: &Mapping) -> bool {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => match record_type(&object) {
            Some(t) => t == "interaction",
            None => object.contains_key(mapping.column("user")),
        },
        _ => false,
    }
}

/// Streams a generic JSON-lines file.
pub struct JsonRows {
    lines: LineReader,
    mapping: Mapping,
}

impl JsonRows {
    /// Reads JSON lines from `lines`.
    pub fn new(lines: LineReader, mapping: Mapping) -> Self {
        Self { lines, mapping }
    }
}

impl Parser for JsonRows {
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
            let parsed = if record_type(&object).is_some() {
                serde_json::from_value::<Record>(Value::Object(object))
                    .map(Some)
                    .map_err(|e| ImportError::row(name, line, format!("not a valid record: {e}")))
            } else {
                let builder = Builder {
                    mapping: &self.mapping,
                    file: name,
                    line,
                };
                if object.contains_key(self.mapping.column("user")) {
                    builder.interaction(&object, summary)
                } else {
                    builder.product(&object, summary)
                }
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
