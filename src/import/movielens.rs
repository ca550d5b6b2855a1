//! MovieLens 100K as catalogue records: `u.item` (pipe-separated, Latin-1) as products
//! `ml-<movie id>`, `u.data` (tab-separated) as ratings by users `ml-<user id>`.

use super::clean::{clean_text, parse_day_month_year};
use super::source::LineReader;
use super::{ImportError, ImportSummary, Located, Parser};
use crate::interaction::InteractionKind;
use crate::movielens::latin1;
use crate::records::{InteractionRecord, ProductRecord, Record};

/// Streams `u.item`: one product per line; `genres` names the flag columns in order.
pub struct Items {
    lines: LineReader,
    genres: Vec<String>,
}

impl Items {
    /// Reads `u.item` lines from `lines`.
    pub fn new(lines: LineReader, genres: Vec<String>) -> Self {
        Self { lines, genres }
    }

    fn parse(&self, line: u64, summary: &mut ImportSummary) -> Result<Record, ImportError> {
        let name = &self.lines.name;
        let text = latin1(self.lines.bytes());
        let fields: Vec<&str> = text.split('|').collect();
        let expected = 5 + self.genres.len();
        if fields.len() != expected {
            return Err(ImportError::row(
                name,
                line,
                format!(
                    "expected {expected} `|`-separated fields (id, title, release date, video release date, IMDb URL, {} genre flags), found {}",
                    self.genres.len(),
                    fields.len()
                ),
            ));
        }
        let id = fields[0].trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ImportError::field(
                name,
                line,
                "movie id",
                format!("{id:?} is not a whole number"),
            ));
        }
        let title = clean_text(fields[1])
            .ok_or_else(|| ImportError::field(name, line, "title", "is empty"))?;
        let mut product = ProductRecord::new(format!("ml-{id}"), title);
        let mut genres = Vec::new();
        for (index, (genre, flag)) in self.genres.iter().zip(&fields[5..]).enumerate() {
            match flag.trim() {
                "0" => {}
                "1" if genre == "unknown" => {}
                "1" => genres.push(genre.as_str()),
                other => {
                    return Err(ImportError::field(
                        name,
                        line,
                        genre.clone(),
                        format!("genre flag {} is {other:?}, not 0 or 1", index + 1),
                    ))
                }
            }
        }
        product.category.push("Movies".to_string());
        if let Some(first) = genres.first() {
            product.category.push((*first).to_string());
            product
                .attributes
                .insert("genres".to_string(), genres.join(","));
        }
        let release = fields[2].trim();
        if release.is_empty() {
            summary.count_missing("created_at");
        } else {
            let (year, seconds) = parse_day_month_year(release).ok_or_else(|| {
                ImportError::field(
                    name,
                    line,
                    "release date",
                    format!("{release:?} is not a date like 01-Jan-1995"),
                )
            })?;
            product.created_at = Some(seconds);
            product
                .attributes
                .insert("year".to_string(), year.to_string());
        }
        match clean_text(fields[4]) {
            Some(url) => {
                product.attributes.insert("imdb_url".to_string(), url);
            }
            None => summary.count_missing("imdb_url"),
        }
        Ok(Record::Product(product))
    }
}

impl Parser for Items {
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>> {
        let line = match self.lines.next_row(summary)? {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        Some(self.parse(line, summary).map(|record| Located {
            file: self.lines.name.clone(),
            line,
            record,
        }))
    }
}

/// Streams `u.data` (and the `u1.base`-style splits): one rating per line.
pub struct Ratings {
    lines: LineReader,
}

impl Ratings {
    /// Reads `u.data` lines from `lines`.
    pub fn new(lines: LineReader) -> Self {
        Self { lines }
    }

    fn parse(&self, line: u64) -> Result<Record, ImportError> {
        let name = &self.lines.name;
        let text = self.lines.text()?;
        let mut fields = text.split('\t');
        let mut next = || fields.next().map(str::trim);
        let (Some(user), Some(item), Some(rating), Some(time), None) =
            (next(), next(), next(), next(), next())
        else {
            return Err(ImportError::row(
                name,
                line,
                format!(
                    "expected 4 tab-separated fields (user, item, rating, timestamp), found {}",
                    text.split('\t').count()
                ),
            ));
        };
        let id = |value: &str, field: &str| -> Result<u64, ImportError> {
            value.parse::<u64>().map_err(|_| {
                ImportError::field(
                    name,
                    line,
                    field,
                    format!("{value:?} is not a whole number"),
                )
            })
        };
        let user = id(user, "user")?;
        let item = id(item, "item")?;
        let stars = match rating.parse::<u8>() {
            Ok(stars @ 1..=5) => stars,
            _ => {
                return Err(ImportError::field(
                    name,
                    line,
                    "rating",
                    format!("{rating:?} is not a number 1-5"),
                ))
            }
        };
        let at_ms = time
            .parse::<i64>()
            .ok()
            .and_then(|t| t.checked_mul(1000))
            .ok_or_else(|| {
                ImportError::field(
                    name,
                    line,
                    "timestamp",
                    format!("{time:?} is not a Unix time in seconds"),
                )
            })?;
        Ok(Record::Interaction(InteractionRecord {
            user: format!("ml-{user}"),
            sku: format!("ml-{item}"),
            kind: InteractionKind::Rating,
            value: Some(f32::from(stars)),
            at_ms,
        }))
    }
}

impl Parser for Ratings {
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>> {
        let line = match self.lines.next_row(summary)? {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        Some(self.parse(line).map(|record| Located {
            file: self.lines.name.clone(),
            line,
            record,
        }))
    }
}

/// The standard genre names, as owned strings.
pub fn standard_genres() -> Vec<String> {
    crate::movielens::GENRES
        .iter()
        .map(|g| (*g).to_string())
        .collect()
}
