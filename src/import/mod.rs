//! Importers: stream data files (MovieLens, Amazon reviews, the Walmart sample, generic
//! CSV and JSON lines) as catalogue [`Record`]s, one at a time, with a summary of what was
//! skipped or absent. Parsing only: the caller writes the records where it wants.
//!
//! # Use
//!
//! ```no_run
//! # fn main() -> Result<(), curio::import::ImportError> {
//! use curio::import::{open, Format};
//! let format: Format = "movielens".parse().expect("a known format");
//! let mut stream = open(&format, &["data/ml-100k".into()])?;
//! for item in stream.by_ref() {
//!     let located = item?; // the first error ends the stream
//!     // store located.record; stream.bytes_read() / stream.bytes_total() is progress
//! }
//! println!("{}", stream.summary());
//! # Ok(()) }
//! ```
//!
//! [`open`] streams product files before interaction files, so every interaction comes
//! after the products it names (when the files hold them). A file is judged by its name
//! (`u.item` holds products, `u.data` ratings) or, for Amazon and the generic formats, by
//! its first non-blank line (`reviewerID` or the mapped `user` column make it an
//! interactions file). Files named `*.gz` are decompressed on the fly.
//!
//! # Gaps and errors
//!
//! Real files have holes, and the importers tell a hole in the source from a broken file:
//!
//! * **Absent value**: an optional field the format has a place for is empty (a blank
//!   cell, `null`, `""`, an unparsable Amazon price, a Walmart rating of 0). The record
//!   gets `None` (never 0 or `""`) and [`ImportSummary::missing`] counts it under the
//!   field's canonical name. In the generic formats only fields whose column (CSV) or key
//!   (JSON) the row has are counted.
//! * **Skipped row**: the source has the row but it cannot make a record: an Amazon
//!   review without `overall` ("review without rating"), Amazon metadata without a title
//!   ("metadata without title"), a Walmart product without a name ("product without
//!   name"), a generic product without a title ("product without title") or rating
//!   without a value ("rating without value"). [`ImportSummary::skipped`] counts them by
//!   reason. Blank lines are passed over without counting.
//! * **Error**: anything else that does not fit the format: invalid JSON, a wrong number
//!   of fields, a value that is there but is not what the field holds (a rating "six", a
//!   generic price "cheap", an unknown interaction kind), an empty key field (sku, user),
//!   a missing header column. The stream yields one [`ImportError`] naming the file, the
//!   1-based physical line where the row starts and the field, then ends: the caller
//!   aborts the whole import.
//!
//! Every text field is cleaned: HTML entities decoded, tags stripped, whitespace
//! collapsed, trimmed; empty after that is absent. Prices become minor units (cents):
//! `$1,299.99` is 129999, a range `$5.99 - $12.99` its low end.
//!
//! # Formats
//!
//! * `movielens`: a directory holding `u.item` and `u.data` (and `u.genre`, else the
//!   standard 19 genre names are used), or those files. `u.item` gives products
//!   `ml-<id>` with category `["Movies", <first genre>]`, attributes `genres`, `year`,
//!   `imdb_url` and `created_at` from the release date; `u.data` (and files like it,
//!   `u1.base`) gives ratings by users `ml-<user id>`.
//! * `amazon`: the 2018 Amazon review data, JSON lines, reviews and metadata files. A
//!   review (`reviewerID`, `asin`, `overall`, `unixReviewTime`) is a rating by
//!   `reviewerID` of `asin`; a metadata line (`asin`, `title`, `brand`, `category`,
//!   `price`, `description`, `imageURLHighRes`/`imageURL`, `rank`, `date`) a product.
//! * `walmart`: the tab-separated Walmart sample with the header `Uniq Id, Product Id,
//!   Product Rating, Product Reviews Count, Product Category, Product Brand, Product
//!   Name, Product Image Url, Product Description, Product Tags` (all required).
//! * `csv` and `jsonl`: the generic formats below.
//!
//! # Generic CSV and JSON lines
//!
//! A CSV file has a header row; a JSON-lines file has one object per line. A file (CSV)
//! or line (JSON) holds interactions when it has the `user` column, else products. A
//! [`Mapping`] ties each canonical field to a column name (`price=Sale Price`); an
//! unmapped field is read from the column of its own name.
//!
//! | product field | holds | when empty |
//! |---|---|---|
//! | `sku` | the product key | error |
//! | `title` | display title | row skipped |
//! | `description`, `brand`, `image_url` | text | absent |
//! | `category` | a path `Home > Kitchen` (JSON: also a list) | empty path |
//! | `price` | major units, `12.99` or `$1,299.99`; anything else is an error | absent |
//! | `currency` | ISO 4217 code | `USD` |
//! | `in_stock` | `true/false/1/0/yes/no` | `true` |
//! | `created_at` | Unix seconds or RFC 3339 date (`2024-03-01`) or date-time | absent |
//! | `rating` | published average 1-5 (0 means unrated) | absent |
//! | `rating_count` | number of reviews behind `rating` | absent |
//!
//! Every other column of a product row becomes an attribute (its name as in the file,
//! its value cleaned). In CSV, the `sku` and `title` columns and any explicitly mapped
//! column must be in the header.
//!
//! | interaction field | holds | when empty |
//! |---|---|---|
//! | `user`, `sku` | shopper and product keys | error |
//! | `kind` | `view`, `click`, `like`, `dislike`, `rating`, `add_to_cart`, `remove_from_cart`, `purchase`, `search` | error |
//! | `value` | stars (1-5) for a rating, quantity for a purchase | absent; a rating without it is skipped |
//! | `at` | Unix seconds or RFC 3339 date/date-time | error |
//!
//! Other columns of an interaction row are ignored. A JSON line whose `type` is
//! `"product"` or `"interaction"` is a serialized [`Record`] (what [`write_jsonl`]
//! writes) and is read as is, without mapping or cleaning, so an export imports back
//! unchanged.

mod amazon;
mod clean;
mod error;
mod generic;
mod movielens;
mod source;
mod walmart;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use clean::{clean_text, parse_price};
pub use error::ImportError;
pub use generic::{Mapping, INTERACTION_FIELDS, PRODUCT_FIELDS};

use crate::records::Record;
use source::LineReader;

/// The kind of file being imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// MovieLens 100K: `u.item`, `u.data`, `u.genre`.
    MovieLens,
    /// Amazon review data 2018: reviews and metadata, JSON lines.
    Amazon,
    /// The Walmart product sample (tab-separated).
    Walmart,
    /// Generic CSV with a header row.
    Csv(Mapping),
    /// Generic JSON lines (or serialized [`Record`]s).
    Jsonl(Mapping),
}

/// A format name that [`Format::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown import format {0:?}: expected one of movielens, amazon, walmart, csv, jsonl")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `movielens`, `amazon`, `walmart`, `csv` or `jsonl` (any case); the generic formats
    /// get the identity [`Mapping`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "movielens" => Ok(Format::MovieLens),
            "amazon" => Ok(Format::Amazon),
            "walmart" => Ok(Format::Walmart),
            "csv" => Ok(Format::Csv(Mapping::default())),
            "jsonl" => Ok(Format::Jsonl(Mapping::default())),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// A record with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The file's name.
    pub file: String,
    /// The 1-based physical line where the record's row starts.
    pub line: u64,
    /// The record.
    pub record: Record,
}

/// What an import has read so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows seen (header rows and blank lines not counted), skipped ones included.
    pub rows_read: u64,
    /// Product records yielded.
    pub products: u64,
    /// Interaction records yielded.
    pub interactions: u64,
    /// Rows skipped, by reason ("review without rating").
    pub skipped: BTreeMap<String, u64>,
    /// Absent values, by canonical field name ("price").
    pub missing: BTreeMap<String, u64>,
}

impl ImportSummary {
    /// Counts one skipped row.
    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    /// Counts one absent value.
    fn count_missing(&mut self, field: &str) {
        *self.missing.entry(field.to_string()).or_default() += 1;
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} rows: {} products, {} interactions",
            self.rows_read, self.products, self.interactions
        )?;
        let list = |counts: &BTreeMap<String, u64>| -> String {
            if counts.is_empty() {
                return "none".to_string();
            }
            counts
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "skipped {} rows: {}",
            self.skipped.values().sum::<u64>(),
            list(&self.skipped)
        )?;
        write!(f, "absent values: {}", list(&self.missing))
    }
}

/// Reads rows into records, one at a time.
trait Parser {
    /// The next record, an error, or `None` at the end of the input.
    fn next_record(&mut self, summary: &mut ImportSummary) -> Option<Result<Located, ImportError>>;
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MovieLensItems,
    MovieLensRatings,
    Amazon,
    Walmart,
    Csv,
    Jsonl,
}

/// A file waiting its turn.
struct Pending {
    name: String,
    path: PathBuf,
    kind: Kind,
}

/// The records of one or more files, products first; an [`Iterator`] of
/// `Result<Located, ImportError>` that ends after the first error.
///
/// It is not `Send` (a [`from_reader`] source need not be): build and drain it on one
/// thread, for instance inside `spawn_blocking`.
pub struct RecordStream {
    pending: VecDeque<Pending>,
    current: Option<Box<dyn Parser>>,
    format: Format,
    genres: Vec<String>,
    summary: ImportSummary,
    read: Arc<AtomicU64>,
    total: u64,
    done: bool,
}

impl RecordStream {
    fn new(format: &Format, genres: Vec<String>, total: u64) -> Self {
        Self {
            pending: VecDeque::new(),
            current: None,
            format: format.clone(),
            genres,
            summary: ImportSummary::default(),
            read: Arc::new(AtomicU64::new(0)),
            total,
            done: false,
        }
    }

    /// What has been read so far (all of it once the stream has ended).
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// Bytes consumed from the files so far (compressed bytes for `.gz`).
    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// The files' total size in bytes, for a progress bar; 0 for [`from_reader`].
    pub fn bytes_total(&self) -> u64 {
        self.total
    }

    /// A parser for one source.
    fn parser(&self, kind: Kind, name: String, reader: Box<dyn BufRead>) -> Box<dyn Parser> {
        let mapping = match &self.format {
            Format::Csv(m) | Format::Jsonl(m) => m.clone(),
            _ => Mapping::default(),
        };
        match kind {
            Kind::MovieLensItems => Box::new(movielens::Items::new(
                LineReader::new(name, reader),
                self.genres.clone(),
            )),
            Kind::MovieLensRatings => {
                Box::new(movielens::Ratings::new(LineReader::new(name, reader)))
            }
            Kind::Amazon => Box::new(amazon::Lines::new(LineReader::new(name, reader))),
            Kind::Walmart => Box::new(walmart::Products::new(name, reader)),
            Kind::Csv => Box::new(generic::CsvRows::new(name, mapping, reader)),
            Kind::Jsonl => Box::new(generic::JsonRows::new(
                LineReader::new(name, reader),
                mapping,
            )),
        }
    }

    /// Opens the next pending file; `Ok(false)` when there is none.
    fn open_next(&mut self) -> Result<bool, ImportError> {
        let Some(next) = self.pending.pop_front() else {
            return Ok(false);
        };
        let reader = source::open_file(&next.path, &next.name, self.read.clone())?;
        self.current = Some(self.parser(next.kind, next.name, reader));
        Ok(true)
    }
}

impl Iterator for RecordStream {
    type Item = Result<Located, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Some(parser) = self.current.as_mut() else {
                match self.open_next() {
                    Ok(true) => continue,
                    Ok(false) => self.done = true,
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                continue;
            };
            match parser.next_record(&mut self.summary) {
                Some(Ok(located)) => {
                    match located.record {
                        Record::Product(_) => self.summary.products += 1,
                        Record::Interaction(_) => self.summary.interactions += 1,
                    }
                    return Some(Ok(located));
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.current = None;
                    return Some(Err(e));
                }
                None => self.current = None,
            }
        }
        None
    }
}

/// The last component of a path, for errors and [`Located::file`].
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A name without a trailing `.gz`, lower case.
fn base_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.strip_suffix(".gz") {
        Some(base) => base.to_string(),
        None => lower,
    }
}

/// Whether a directory entry of this name is a file of `format`.
fn has_format_extension(format: &Format, name: &str) -> bool {
    let base = base_name(name);
    let extensions: &[&str] = match format {
        Format::MovieLens => &[],
        Format::Amazon => &[".json", ".jsonl"],
        Format::Walmart => &[".tsv"],
        Format::Csv(_) => &[".csv"],
        Format::Jsonl(_) => &[".jsonl", ".json", ".ndjson"],
    };
    !name.starts_with('.') && extensions.iter().any(|e| base.ends_with(e))
}

/// How a named file is read, and whether it holds interactions.
fn classify(format: &Format, path: &Path, name: &str) -> Result<(Kind, bool), ImportError> {
    let peek = || {
        source::first_nonblank_line(path, name)
            .map(|line| line.map(|l| l.trim_start_matches('\u{feff}').to_string()))
    };
    Ok(match format {
        Format::MovieLens if base_name(name).ends_with(".item") => (Kind::MovieLensItems, false),
        Format::MovieLens => (Kind::MovieLensRatings, true),
        Format::Walmart => (Kind::Walmart, false),
        Format::Amazon => {
            let reviews = peek()?.is_some_and(|line| {
                serde_json::from_str::<serde_json::Value>(&line)
                    .is_ok_and(|v| amazon::is_review(&v))
            });
            (Kind::Amazon, reviews)
        }
        Format::Csv(mapping) => {
            let interactions =
                peek()?.is_some_and(|h| generic::csv_header_is_interactions(&h, mapping));
            (Kind::Csv, interactions)
        }
        Format::Jsonl(mapping) => {
            let interactions =
                peek()?.is_some_and(|l| generic::jsonl_line_is_interactions(&l, mapping));
            (Kind::Jsonl, interactions)
        }
    })
}

/// The files to read: directories expanded (for MovieLens to `u.item` and `u.data`, for
/// the others to the files with the format's extensions, by name), and for MovieLens
/// the `u.genre` file to name the genres, if any.
fn expand(
    format: &Format,
    paths: &[PathBuf],
) -> Result<(Vec<PathBuf>, Option<PathBuf>), ImportError> {
    let mut files = Vec::new();
    let mut genre_file = None;
    for path in paths {
        let name = file_name(path);
        let meta = std::fs::metadata(path).map_err(|e| ImportError::io(&name, &e))?;
        if !meta.is_dir() {
            if *format == Format::MovieLens && base_name(&name).ends_with(".genre") {
                genre_file = Some(path.clone());
            } else {
                files.push(path.clone());
            }
            continue;
        }
        if *format == Format::MovieLens {
            let (item, data, genre) = (
                path.join("u.item"),
                path.join("u.data"),
                path.join("u.genre"),
            );
            if !item.is_file() && !data.is_file() {
                return Err(ImportError::file(
                    name,
                    "directory has neither u.item nor u.data",
                ));
            }
            files.extend([item, data].into_iter().filter(|p| p.is_file()));
            if genre.is_file() {
                genre_file.get_or_insert(genre);
            }
            continue;
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| ImportError::io(&name, &e))? {
            let entry = entry.map_err(|e| ImportError::io(&name, &e))?;
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file() && has_format_extension(format, &entry_name) {
                entries.push(entry.path());
            }
        }
        if entries.is_empty() {
            return Err(ImportError::file(
                name,
                "directory holds no file of this format",
            ));
        }
        entries.sort();
        files.extend(entries);
    }
    if *format == Format::MovieLens && genre_file.is_none() {
        // A u.genre next to u.item names the genres even when only the files were given.
        genre_file = files
            .iter()
            .filter(|f| base_name(&file_name(f)).ends_with(".item"))
            .filter_map(|f| Some(f.parent()?.join("u.genre")))
            .find(|g| g.is_file());
    }
    Ok((files, genre_file))
}

/// The genre names of a `u.genre` file.
fn read_genres(path: &Path) -> Result<Vec<String>, ImportError> {
    let name = file_name(path);
    let reader = source::open_file(path, &name, Arc::new(AtomicU64::new(0)))?;
    crate::movielens::read_genres(reader, &name)
        .map_err(|e| ImportError::file(&name, e.to_string()))
}

/// Streams the records of `paths` (files or directories) in `format`: product files
/// first, then interaction files, each group in the order given.
///
/// A directory stands for its files of the format, in name order: for MovieLens `u.item`
/// and `u.data` (with `u.genre` for the genre names), for Amazon `*.json`/`*.jsonl`, for
/// Walmart `*.tsv`, for CSV `*.csv`, for JSON lines `*.jsonl`/`*.json`/`*.ndjson`, each
/// also gzipped (`*.gz`); hidden files are left out.
///
/// Errors here are about the files as a whole (missing, unreadable, a directory
/// without data); errors in rows come from the stream.
pub fn open(format: &Format, paths: &[PathBuf]) -> Result<RecordStream, ImportError> {
    let (files, genre_file) = expand(format, paths)?;
    let genres = match genre_file {
        Some(path) => read_genres(&path)?,
        None => movielens::standard_genres(),
    };
    let mut classified = Vec::with_capacity(files.len());
    let mut total = 0;
    for path in files {
        let name = file_name(&path);
        total += std::fs::metadata(&path)
            .map_err(|e| ImportError::io(&name, &e))?
            .len();
        let (kind, interactions) = classify(format, &path, &name)?;
        classified.push((interactions, Pending { name, path, kind }));
    }
    // Stable: the order given is kept within products and within interactions.
    classified.sort_by_key(|(interactions, _)| *interactions);
    let mut stream = RecordStream::new(format, genres, total);
    stream.pending = classified.into_iter().map(|(_, p)| p).collect();
    Ok(stream)
}

/// Streams one file's records from `reader` (standard input, a test string...), named
/// `name` in errors; `name` also decides what a MovieLens file holds (`*.item` products,
/// anything else ratings, with the standard genres) and whether it is gzip (`*.gz`).
pub fn from_reader(format: &Format, name: &str, reader: impl BufRead + 'static) -> RecordStream {
    let mut stream = RecordStream::new(format, movielens::standard_genres(), 0);
    let kind = match format {
        Format::MovieLens if base_name(name).ends_with(".item") => Kind::MovieLensItems,
        Format::MovieLens => Kind::MovieLensRatings,
        Format::Amazon => Kind::Amazon,
        Format::Walmart => Kind::Walmart,
        Format::Csv(_) => Kind::Csv,
        Format::Jsonl(_) => Kind::Jsonl,
    };
    let reader = source::wrap(name, reader, stream.read.clone());
    stream.current = Some(stream.parser(kind, name.to_string(), reader));
    stream
}

/// Writes one record as a JSON line: the export format, which the `jsonl` import reads
/// back unchanged.
pub fn write_jsonl(out: &mut impl Write, record: &Record) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
