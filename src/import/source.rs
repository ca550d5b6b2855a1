//! Byte sources for the importers: files (gzip-decoded when named `.gz`) read through a
//! counter for the progress bar, and a line reader that knows its 1-based line number.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use super::{ImportError, ImportSummary};

/// A reader that adds every byte it hands out to a shared counter.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    /// Counts the bytes read from `inner` into `count`.
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Self { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.count.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

/// Whether a file name says gzip.
pub fn is_gzip(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".gz")
}

/// Wraps a reader: counted as it comes (compressed bytes for `.gz`, so the count meets
/// the file size), then decompressed when `name` ends in `.gz`.
pub fn wrap(name: &str, reader: impl BufRead + 'static, count: Arc<AtomicU64>) -> Box<dyn BufRead> {
    let counted = Counted::new(reader, count);
    if is_gzip(name) {
        Box::new(BufReader::new(MultiGzDecoder::new(counted)))
    } else {
        Box::new(counted)
    }
}

/// Opens a file for reading, named `name` in errors.
pub fn open_file(
    path: &Path,
    name: &str,
    count: Arc<AtomicU64>,
) -> Result<Box<dyn BufRead>, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::io(name, &e))?;
    Ok(wrap(name, BufReader::with_capacity(64 * 1024, file), count))
}

/// Reads physical lines (without their `\n` or `\r\n`), counting them from 1.
pub struct LineReader {
    /// The file's name, for errors.
    pub name: String,
    reader: Box<dyn BufRead>,
    buf: Vec<u8>,
    line: u64,
}

impl LineReader {
    /// Reads `reader`, named `name` in errors.
    pub fn new(name: String, reader: Box<dyn BufRead>) -> Self {
        Self {
            name,
            reader,
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// Advances to the next line and returns its number; `None` at the end of input.
    /// The line's bytes are then in [`LineReader::bytes`].
    pub fn advance(&mut self) -> Result<Option<u64>, ImportError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| ImportError::io(&self.name, &e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        Ok(Some(self.line))
    }

    /// Advances to the next line that is not blank, counting it as a row read; `None`
    /// at the end of input.
    pub fn next_row(&mut self, summary: &mut ImportSummary) -> Option<Result<u64, ImportError>> {
        loop {
            match self.advance() {
                Ok(Some(_)) if self.buf.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Some(line)) => {
                    summary.rows_read += 1;
                    return Some(Ok(line));
                }
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The current line as a JSON object, or an error naming the line.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, ImportError> {
        match serde_json::from_slice::<serde_json::Value>(&self.buf) {
            Ok(serde_json::Value::Object(object)) => Ok(object),
            Ok(_) => Err(ImportError::row(&self.name, self.line, "not a JSON object")),
            Err(e) => Err(ImportError::row(
                &self.name,
                self.line,
                format!("invalid JSON: {e}"),
            )),
        }
    }

    /// The current line's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The current line as UTF-8, or an error naming the line.
    pub fn text(&self) -> Result<&str, ImportError> {
        std::str::from_utf8(&self.buf)
            .map_err(|e| ImportError::row(&self.name, self.line, format!("not UTF-8: {e}")))
    }
}

/// The first line of a file that is not blank, for deciding what the file holds; `None`
/// when there is none or it is not UTF-8.
pub fn first_nonblank_line(path: &Path, name: &str) -> Result<Option<String>, ImportError> {
    let reader = open_file(path, name, Arc::new(AtomicU64::new(0)))?;
    let mut lines = LineReader::new(name.to_string(), reader);
    while lines.advance()?.is_some() {
        if lines.bytes().iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(lines.text().ok().map(str::to_string));
        }
    }
    Ok(None)
}

/// A CSV/TSV reader over `reader`: a header row, quoted fields, every row as wide as
/// the header.
pub fn csv_reader(reader: Box<dyn BufRead>, delimiter: u8) -> csv::Reader<Box<dyn BufRead>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(reader)
}

/// A CSV error, with its line when the crate knows it.
pub fn csv_error(file: &str, err: &csv::Error) -> ImportError {
    let line = err.position().map(csv::Position::line);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8: {err}"),
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        _ => err.to_string(),
    };
    ImportError {
        file: file.to_string(),
        line,
        field: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_bytes_counted() {
        let count = Arc::new(AtomicU64::new(0));
        let reader = wrap("x", &b"a\r\n\nb"[..], count.clone());
        let mut lines = LineReader::new("x".into(), reader);
        assert_eq!(lines.advance().unwrap(), Some(1));
        assert_eq!(lines.bytes(), b"a");
        assert_eq!(lines.advance().unwrap(), Some(2));
        assert_eq!(lines.bytes(), b"");
        assert_eq!(lines.advance().unwrap(), Some(3));
        assert_eq!(lines.text().unwrap(), "b");
        assert_eq!(lines.advance().unwrap(), None);
        assert_eq!(count.load(Ordering::Relaxed), 5);
    }
}
