//! The Walmart product sample of the original Flask project: a tab-separated file with a
//! header row, one product per record (quoted fields may hold tabs and newlines).

use std::io::BufRead;

use super::clean::{clean_text, parse_count};
use super::source::{csv_error, csv_reader};
use super::{ImportError, ImportSummary, Located, Parser};
use crate::records::{ProductRecord, Record};

/// The header columns the format needs.
pub const COLUMNS: [&str; 10] = [
    "Uniq Id",
    "Product Id",
    "Product Rating",
    "Product Reviews Count",
    "Product Category",
    "Product Brand",
    "Product Name",
    "Product Image Url",
    "Product Description",
    "Product Tags",
];

/// Streams the Walmart TSV.
pub struct Products {
    name: String,
    reader: csv::Reader<Box<dyn BufRead>>,
    /// Index of each of [`COLUMNS`] in the file; `None` until the header is read.
    columns: Option<[usize; 10]>,
    record: csv::StringRecord,
}

impl Products {
    /// Reads the TSV from `reader`, named `name` in errors.
    pub fn new(name: String, reader: Box<dyn BufRead>) -> Self {
        Self {
            name,
            reader: csv_reader(reader, b'\t'),
            columns: None,
            record: csv::StringRecord::new(),
        }
    }

    fn read_header(&mut self) -> Result<[usize; 10], ImportError> {
        let headers = self
            .reader
            .headers()
            .map_err(|e| csv_error(&self.name, &e))?;
        let mut columns = [0; 10];
        for (slot, column) in columns.iter_mut().zip(COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h.trim() == column)
                .ok_or_else(|| ImportError::field(&self.name, 1, column, "missing column"))?;
        }
        Ok(columns)
    }

    fn parse(
        &self,
        columns: &[usize; 10],
        line: u64,
        summary: &mut ImportSummary,
    ) -> Result<Option<Record>, ImportError> {
        let cell = |i: usize| self.record.get(columns[i]).unwrap_or("");
        let [uniq, id, rating, count, category, brand, name, image, description, tags] =
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(cell);
        let Some(title) = clean_text(name) else {
            summary.skip("product without name");
            return Ok(None);
        };
        let sku = clean_text(id).or_else(|| clean_text(uniq)).ok_or_else(|| {
            ImportError::field(
                &self.name,
                line,
                "Product Id",
                "is empty, and so is Uniq Id",
            )
        })?;
        let mut product = ProductRecord::new(sku, title);
        product.source_rating = match rating.trim() {
            "" => None,
            text => match text.parse::<f32>() {
                Ok(0.0) => None,
                Ok(r) if (1.0..=5.0).contains(&r) => Some(r),
                _ => {
                    return Err(ImportError::field(
                        &self.name,
                        line,
                        "Product Rating",
                        format!("{text:?} is not a rating 1-5"),
                    ))
                }
            },
        };
        if product.source_rating.is_none() {
            summary.count_missing("rating");
        }
        product.source_rating_count = match count.trim() {
            "" => None,
            text => Some(parse_count(text).ok_or_else(|| {
                ImportError::field(
                    &self.name,
                    line,
                    "Product Reviews Count",
                    format!("{text:?} is not a whole number"),
                )
            })?),
        };
        if product.source_rating_count.is_none() {
            summary.count_missing("rating_count");
        }
        product.category = category.split('>').filter_map(clean_text).collect();
        if product.category.is_empty() {
            summary.count_missing("category");
        }
        product.brand = clean_text(brand);
        if product.brand.is_none() {
            summary.count_missing("brand");
        }
        product.image_url = image.split('|').find_map(clean_text);
        if product.image_url.is_none() {
            summary.count_missing("image_url");
        }
        product.description = clean_text(description);
        if product.description.is_none() {
            summary.count_missing("description");
        }
        if let Some(tags) = clean_text(tags) {
            product.attributes.insert("tags".to_string(), tags);
        }
        Ok(Some(Record::Product(product)))
    }
}

impl Parser for Products {
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>> {
        let columns = match self.columns {
            Some(columns) => columns,
            None => match self.read_header() {
                Ok(columns) => *self.columns.insert(columns),
                Err(e) => return Some(Err(e)),
            },
        };
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(csv_error(&self.name, &e))),
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            summary.rows_read += 1;
            match self.parse(&columns, line, summary) {
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
