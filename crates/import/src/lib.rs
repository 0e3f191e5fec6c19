//! Importers: turn files into validated events and hand them to a [`Sink`].
//!
//! Readers here are pure parsers: they never touch the ledger. Each valid event goes to
//! [`Sink::push`], each invalid row to [`Sink::reject`] with its file, line and field; the
//! caller decides the policy (all or nothing, or `--skip-invalid`) and owns the transaction.
//! This keeps every importer testable with an in-memory sink (see the tests) and lets the
//! command line and the HTTP API share one validation path, [`domain::NewEvent::from_json`].

pub mod archive;
pub mod artefacts;
pub mod bank;
pub mod catalogue;
pub mod einvoice;
pub mod jsonl;
pub mod mail;
pub mod mapping;
pub mod matching;
pub mod pipeline;

use std::fmt;
use std::path::{Path, PathBuf};

use domain::NewEvent;

/// Header names compare without case, spaces, underscores or punctuation:
/// "Customer ID" = "customer_id" = "CustomerID" (CSV mappings and the catalogue alike).
pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

pub use mapping::{Mapping, MappingError, Preset, ReadReport, Warning, WarningKind};
pub use pipeline::{Prepare, PreparedSink};

/// Where a rejected row was and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: PathBuf,
    /// 1-based line (for CSV: the record's first line).
    pub line: u64,
    /// The field to blame: an event field, or for CSV a column name where one is known.
    pub field: Option<String>,
    pub message: String,
    /// The row as it was read, for the rejects file (truncated to 1,000 bytes).
    pub raw: Option<String>,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RowError {}

/// An error that stops a whole file: it cannot be read at all, or a sink failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Mapping(#[from] MappingError),
    /// A whole-file problem located at one place (a header missing a mapped column…).
    #[error("{0}")]
    File(RowError),
    #[error("the ledger refused the import: {0}")]
    Sink(Box<dyn std::error::Error + Send + Sync>),
}

/// Where importers put what they read. `push` and `reject` are the only side effects.
pub trait Sink {
    /// A valid event, read at `line` of the file.
    fn push(
        &mut self,
        line: u64,
        event: NewEvent,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
    /// An invalid row.
    fn reject(&mut self, error: RowError) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
    /// Bytes of the file read so far, for a progress bar.
    fn progress(&mut self, _bytes: u64) {}
}

/// Collects everything in memory: for tests and small batches.
#[derive(Debug, Default)]
pub struct Collect {
    pub events: Vec<(u64, NewEvent)>,
    pub rejected: Vec<RowError>,
}

impl Sink for Collect {
    fn push(
        &mut self,
        line: u64,
        event: NewEvent,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.events.push((line, event));
        Ok(())
    }

    fn reject(&mut self, error: RowError) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.rejected.push(error);
        Ok(())
    }
}

/// How to read a file.
#[derive(Debug, Clone)]
pub enum Format {
    /// The canonical JSON Lines format (`docs/events.md`).
    JsonLines,
    /// CSV (or whitespace-separated text) through a mapping.
    Csv(Box<Mapping>),
}

/// Reads one file in the given format into the sink.
pub fn read_file(path: &Path, format: &Format, sink: &mut dyn Sink) -> Result<(), ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        file: path.to_owned(),
        source,
    })?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    match format {
        Format::JsonLines => jsonl::read(path, reader, sink),
        Format::Csv(m) => m.read(path, reader, sink),
    }
}

/// Cuts a raw row for the rejects file, on a character boundary.
pub(crate) fn clip(raw: &str) -> String {
    const MAX: usize = 1000;
    if raw.len() <= MAX {
        return raw.to_owned();
    }
    let mut end = MAX;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}
