//! The one error type of the importers: which file, which line, which field, and what is
//! wrong with it.

use std::fmt;

/// Why an import stopped: a file that cannot be read, or a row that is malformed.
///
/// Displays as `u.data line 17, field "rating": "six" is not a number 1-5`; the line and
/// field parts are left out when they do not apply (`u.data: cannot read: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file's name (the last component of its path), or the name given to
    /// [`from_reader`](super::from_reader).
    pub file: String,
    /// The 1-based physical line where the offending row starts, when there is one.
    pub line: Option<u64>,
    /// The field (canonical name or source column) at fault, when there is one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ImportError {
    /// An error about a whole file (I/O, a missing directory entry...).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    /// An error about a row as a whole (wrong number of fields, invalid JSON...).
    pub fn row(file: impl Into<String>, line: u64, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            ..Self::file(file, message)
        }
    }

    /// An error about one field of a row.
    pub fn field(
        file: impl Into<String>,
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line: Some(line),
            field: Some(field.into()),
            ..Self::file(file, message)
        }
    }

    /// An I/O failure while reading `file`.
    pub(crate) fn io(file: &str, err: &std::io::Error) -> Self {
        Self::file(file, format!("cannot read: {err}"))
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_what_is_known() {
        let e = ImportError::field("u.data", 17, "rating", "\"six\" is not a number 1-5");
        assert_eq!(
            e.to_string(),
            "u.data line 17, field \"rating\": \"six\" is not a number 1-5"
        );
        assert_eq!(
            ImportError::row("a.jsonl", 3, "invalid JSON").to_string(),
            "a.jsonl line 3: invalid JSON"
        );
        assert_eq!(
            ImportError::file("u.item", "cannot read: gone").to_string(),
            "u.item: cannot read: gone"
        );
    }
}
