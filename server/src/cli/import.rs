//! `curio import` and `curio export`: data files in and out of the catalogue.
//!
//! An import streams records from [`curio::import`] into one [`CatalogWriter`]
//! transaction: the first bad row stops it with file, line and field, and the database is
//! left as it was. Importing the same files again changes nothing. Export writes the
//! catalogue and the interaction log as JSON lines that `--format jsonl` reads back.
//!
//! [`CatalogWriter`]: crate::store::products::CatalogWriter

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use curio::import::{self, Format, ImportSummary, Mapping, RecordStream};
use curio::Record;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::Error;
use crate::store::products::WriteCounts;
use crate::store::Store;

/// Arguments of `curio import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// File format: movielens, amazon, walmart, csv or jsonl.
    #[arg(long)]
    pub format: String,
    /// Column mapping for csv/jsonl, `field=Column Name` (repeatable), e.g.
    /// `--map title="Product Name"`. Fields: see the README's import section.
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// Files or directories to read (MovieLens: the directory holding u.item and u.data).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Arguments of `curio export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Where to write the JSON lines; standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the whole event log instead (every kind, searches included, with surface,
    /// model and request): `{"user", "sku", "kind", "value", "query", "occurred_at", ...}`.
    #[arg(long)]
    pub events: bool,
}

/// What an import read and wrote.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// What the parser read, skipped and found missing.
    pub summary: ImportSummary,
    /// What the database received.
    pub counts: WriteCounts,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary)?;
        let c = &self.counts;
        write!(
            f,
            "products: {} new, {} updated, {} unchanged; interactions: {} read, {} skipped \
             (unknown product); {} new shoppers",
            c.products_created,
            c.products_updated,
            c.products_unchanged,
            c.interactions,
            c.unknown_product,
            c.shoppers_created
        )
    }
}

/// The format named on the command line, with its column mapping.
pub fn parse_format(name: &str, map: &[String]) -> Result<Format, Error> {
    let format: Format = name.parse().map_err(|_| {
        Error::Command(format!(
            "unknown import format {name:?}: use movielens, amazon, walmart, csv or jsonl"
        ))
    })?;
    if map.is_empty() {
        return Ok(format);
    }
    let mapping = Mapping::parse(map).map_err(|e| Error::Command(e.to_string()))?;
    match format {
        Format::Csv(_) => Ok(Format::Csv(mapping)),
        Format::Jsonl(_) => Ok(Format::Jsonl(mapping)),
        _ => Err(Error::Command(format!(
            "--map applies to csv and jsonl only, not to {name}"
        ))),
    }
}

/// Writes every record of `stream` in one transaction. `source` labels the products.
pub async fn import(
    store: &Store,
    stream: &mut RecordStream,
    source: &str,
    progress: &ProgressBar,
) -> Result<ImportReport, Error> {
    let mut writer = store.catalog_writer(source).await?;
    let mut n = 0u64;
    while let Some(item) = stream.next() {
        let located = item.map_err(|e| Error::Command(format!("{e}; nothing was imported")))?;
        let written = match &located.record {
            Record::Product(product) => writer.product(product).await.map(|_| ()),
            Record::Interaction(event) => writer.interaction(event).await.map(|_| ()),
        };
        written.map_err(|e| {
            Error::Command(format!(
                "{} line {}: {e}; nothing was imported",
                located.file, located.line
            ))
        })?;
        n += 1;
        if n.is_multiple_of(2048) {
            progress.set_position(stream.bytes_read());
        }
    }
    let counts = writer.commit().await?;
    progress.set_position(stream.bytes_total());
    Ok(ImportReport {
        summary: stream.summary().clone(),
        counts,
    })
}

/// `curio import`: opens the files, imports them with a progress bar, prints the summary.
pub async fn run_import(store: &Store, args: &ImportArgs) -> Result<ImportReport, Error> {
    let format = parse_format(&args.format, &args.map)?;
    let mut stream =
        import::open(&format, &args.paths).map_err(|e| Error::Command(e.to_string()))?;
    // indicatif draws only on a terminal; in CI or a pipe the bar stays silent.
    let progress = ProgressBar::new(stream.bytes_total());
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:32}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .map_err(|e| Error::Command(format!("progress bar template: {e}")))?
        .progress_chars("=> "),
    );
    let source = args.format.to_ascii_lowercase();
    let report = import(store, &mut stream, &source, &progress).await;
    progress.finish_and_clear();
    let report = report?;
    tracing::info!(
        products = report.counts.products_created + report.counts.products_updated,
        interactions = report.counts.interactions,
        "import finished"
    );
    Ok(report)
}

/// Writes the catalogue, then the interaction log, as JSON lines; returns the line count.
pub async fn export(store: &Store, out: &mut impl Write) -> Result<u64, Error> {
    const PAGE: i64 = 1000;
    let io = |e: std::io::Error| Error::Command(format!("cannot write the export: {e}"));
    let mut lines = 0u64;
    let mut after = 0;
    loop {
        let page = store.export_products(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, product) in page {
            import::write_jsonl(out, &Record::Product(product)).map_err(io)?;
            lines += 1;
        }
    }
    let mut after = 0;
    loop {
        let page = store.export_interactions(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, event) in page {
            import::write_jsonl(out, &Record::Interaction(event)).map_err(io)?;
            lines += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(lines)
}

/// Writes the event log as JSON lines; returns the line count.
pub async fn export_events(store: &Store, out: &mut impl Write) -> Result<u64, Error> {
    const PAGE: i64 = 1000;
    let fail = |e: String| Error::Command(format!("cannot write the export: {e}"));
    let mut lines = 0u64;
    let mut after = 0;
    loop {
        let page = store.export_event_log(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.interaction_id;
        for event in page {
            let user = crate::store::reading::shopper_key(
                event.shopper_id,
                event.external_key.clone(),
                event.account_id,
            );
            let mut value = serde_json::to_value(&event).map_err(|e| fail(e.to_string()))?;
            value["user"] = serde_json::Value::String(user);
            serde_json::to_writer(&mut *out, &value).map_err(|e| fail(e.to_string()))?;
            out.write_all(b"\n").map_err(|e| fail(e.to_string()))?;
            lines += 1;
        }
    }
    out.flush().map_err(|e| fail(e.to_string()))?;
    Ok(lines)
}

/// `curio export`.
pub async fn run_export(store: &Store, args: &ExportArgs) -> Result<u64, Error> {
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Error::Command(format!("cannot create {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if args.events {
        export_events(store, &mut out).await
    } else {
        export(store, &mut out).await
    }
}
