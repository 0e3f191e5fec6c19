//! CSV through a TOML mapping file: any export becomes events without writing code.
//!
//! A mapping says how to split the file (`[csv]`), where to find each logical column in
//! headers that differ from export to export (`[columns]`), and which events a row makes
//! (`[[event]]` tables of templates and conditions). Each event is built as a canonical JSON
//! object and validated by [`domain::NewEvent::from_json`], the one validation path shared
//! with the JSON Lines reader; the mapping itself only parses what it must (dates, yes/no
//! words, decimal separators). The format is documented in `docs/mapping.md`; the built-in
//! [`Preset`]s are ordinary mapping files in `crates/import/presets/`.

mod checks;
mod config;
mod guess;
mod reader;
mod template;
mod thread;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, Offset};
use domain::Kind;

use crate::{ImportError, Sink};
use config::Ctx;
use template::Template;

/// A mapping file's error, naming the mapping file and the key at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    #[error("{}: cannot read the mapping: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid TOML: {message}", file.display())]
    Toml { file: PathBuf, message: String },
    #[error("{}: `{key}`: {message}", file.display())]
    Key {
        file: PathBuf,
        key: String,
        message: String,
    },
    /// Kept from the stub for callers that match on it.
    #[error("{}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
}

/// The built-in mappings for shapes found in real exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Orders: one row per order with an amount (CDNOW), or one row per order line with a
    /// unit price, grouped by order number, cancellations as returns (Online Retail).
    Transactions,
    /// Invoices with issue, due and settle dates and a disputed flag.
    Invoices,
    /// A message log: messages from the person open contacts, the business's answer them.
    Messages,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Transactions, Preset::Invoices, Preset::Messages];

    pub fn parse(s: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Preset::Transactions => "transactions",
            Preset::Invoices => "invoices",
            Preset::Messages => "messages",
        }
    }

    /// The preset's mapping file, as shipped in `crates/import/presets/`.
    pub fn toml(&self) -> &'static str {
        match self {
            Preset::Transactions => include_str!("../presets/transactions.toml"),
            Preset::Invoices => include_str!("../presets/invoices.toml"),
            Preset::Messages => include_str!("../presets/messages.toml"),
        }
    }
}

/// How CSV rows become events. Build one with [`Mapping::load`], [`Mapping::from_toml`] or
/// [`Mapping::preset`], adjust it with [`Mapping::set`], then [`Mapping::read`] files.
#[derive(Debug, Clone)]
pub struct Mapping {
    origin: PathBuf,
    csv: CsvSettings,
    /// Logical names and where to find them, in file order.
    columns: Vec<(String, ColumnSpec)>,
    settings: Settings,
    events: Vec<EventSpec>,
    /// Reply chains (`[thread]`): the person of a message found through what it answers.
    thread: Option<ThreadSpec>,
    /// Set only if a built-in preset failed to parse (a build defect the tests catch):
    /// reading then fails with this message instead of panicking.
    defect: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delimiter {
    Byte(u8),
    /// Runs of spaces and tabs; leading white space ignored; no quoting.
    Whitespace,
    /// Decided from the file's first line: the most frequent of `,` `;` tab `|` outside
    /// quotes, or runs of white space when there is none (the presets' default).
    Auto,
}

#[derive(Debug, Clone)]
struct CsvSettings {
    delimiter: Delimiter,
    /// `None`: a header unless `columns` are given.
    header: Option<bool>,
    columns: Option<Vec<String>>,
    quote: Option<u8>,
    comment: Option<String>,
    trim: bool,
}

impl Default for CsvSettings {
    fn default() -> Self {
        CsvSettings {
            delimiter: Delimiter::Byte(b','),
            header: None,
            columns: None,
            quote: Some(b'"'),
            comment: None,
            trim: true,
        }
    }
}

#[derive(Debug, Clone)]
struct ColumnSpec {
    candidates: Vec<String>,
    optional: bool,
}

#[derive(Debug, Clone)]
struct Settings {
    source: Option<String>,
    currency: Option<String>,
    date_formats: Vec<String>,
    timezone: FixedOffset,
    yes: Vec<String>,
    no: Vec<String>,
    decimal_comma: bool,
    skip_when_empty: Vec<String>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            source: None,
            currency: None,
            date_formats: Vec::new(),
            timezone: chrono::Utc.fix(),
            yes: words(&["yes", "y", "true", "1", "x", "ja", "oui", "si"]),
            no: words(&["no", "n", "false", "0", "nee", "non", ""]),
            decimal_comma: false,
            skip_when_empty: Vec::new(),
        }
    }
}

/// The `[thread]` table: how a row names its message, the message it answers, and whether
/// the person wrote it (see `thread.rs` for what is made of that).
#[derive(Debug, Clone)]
struct ThreadSpec {
    /// The row's own message id.
    message: Template,
    /// The id of the message it answers; empty when it answers none.
    answers: Template,
    /// A name whose cell is a yes word when the person wrote the row, a no word when the
    /// business did.
    from_person: String,
    /// The person, on the rows the person wrote.
    person: Template,
}

impl ThreadSpec {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.message
            .names()
            .into_iter()
            .chain(self.answers.names())
            .chain(std::iter::once(self.from_person.as_str()))
            .chain(self.person.names())
    }
}

/// One `[[event]]` table.
#[derive(Debug, Clone)]
struct EventSpec {
    /// `event[2]`, for messages.
    key: String,
    kind: Kind,
    /// Field name → template (`id`, `person`, `at`, `source` and the kind's fields).
    fields: Vec<(String, Template)>,
    /// Each line template: field name → template.
    lines: Vec<Vec<(String, Template)>>,
    when: Vec<Condition>,
    group: Option<Template>,
    skip_when_empty: Vec<String>,
}

#[derive(Debug, Clone)]
enum Condition {
    NotEmpty(String),
    Empty(String),
    Yes(String),
    No(String),
    Equals(String, Vec<String>),
    StartsWith(String, Vec<String>),
    NotStartsWith(String, Vec<String>),
    HasColumn(String),
    LacksColumn(String),
}

impl Condition {
    fn column(&self) -> &str {
        match self {
            Condition::NotEmpty(c)
            | Condition::Empty(c)
            | Condition::Yes(c)
            | Condition::No(c)
            | Condition::HasColumn(c)
            | Condition::LacksColumn(c)
            | Condition::Equals(c, _)
            | Condition::StartsWith(c, _)
            | Condition::NotStartsWith(c, _) => c,
        }
    }
}

/// What a read did, beyond what went to the sink: for the import summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Data rows read (not counting the header, blank or comment lines).
    pub rows: u64,
    /// Events pushed to the sink.
    pub events: u64,
    /// Rows or events rejected.
    pub rejected: u64,
    /// Events skipped on purpose (`skip_when_empty`), counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// What looks wrong with the result although every row was valid.
    pub warnings: Vec<Warning>,
}

/// Something about a read that looks wrong although no row was invalid: the events are
/// probably not what was meant (the business filed as people, answers that match no
/// question, most rows making nothing). The message says what was seen, how often, and which
/// `--set` would change it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    pub kind: WarningKind,
    /// How many people, rows or events it concerns.
    pub count: u64,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// People who only answer others (or only receive answers) and never ask: the
    /// business's own accounts, most likely, filed as people.
    OnlyAnswer,
    /// Answers or replies that match no question in the file.
    UnmatchedAnswers,
    /// Most rows made no event.
    MostRowsIdle,
    /// Identifiers written in scientific notation, which a spreadsheet cut short.
    ScientificIds,
}

impl ReadReport {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

impl Mapping {
    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            file: path.to_owned(),
            source,
        })?;
        Mapping::from_toml(&text, path)
    }

    /// Parses a mapping; `origin` names it in error messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Mapping, MappingError> {
        config::parse(text, origin)
    }

    /// A built-in mapping.
    pub fn preset(p: Preset) -> Mapping {
        let origin = PathBuf::from(format!("preset {}", p.name()));
        match Mapping::from_toml(p.toml(), &origin) {
            Ok(m) => m,
            // The presets are tested; this only keeps a broken build from panicking.
            Err(e) => Mapping {
                origin,
                csv: CsvSettings::default(),
                columns: Vec::new(),
                settings: Settings::default(),
                events: Vec::new(),
                thread: None,
                defect: Some(e.to_string()),
            },
        }
    }

    /// Overrides a setting from the command line: `delimiter`, `header`, `columns`, `quote`,
    /// `comment`, `trim`, `date_format`, `timezone`, `currency`, `source`, `yes`, `no`
    /// (comma-separated), `decimal_comma`, `skip_when_empty`; any other key names a logical
    /// column (`person=CustomerID`, or `person=a,b` for candidates).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), MappingError> {
        let origin = self.origin.clone();
        let ctx = Ctx { origin: &origin };
        let key_at = format!("--set {key}");
        let list = || {
            value
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        let flag = || match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(ctx.err(&key_at, format!("{value:?} is not true or false"))),
        };
        match key.trim() {
            "delimiter" => self.csv.delimiter = config::delimiter(&ctx, &key_at, value)?,
            "header" => self.csv.header = Some(flag()?),
            "columns" => self.csv.columns = Some(list()),
            "quote" => self.csv.quote = config::quote(&ctx, &key_at, value)?,
            "comment" => self.csv.comment = (!value.is_empty()).then(|| value.to_owned()),
            "trim" => self.csv.trim = flag()?,
            "date_format" => self.settings.date_formats = vec![value.to_owned()],
            "timezone" => self.settings.timezone = config::timezone(&ctx, &key_at, value)?,
            "currency" => self.settings.currency = Some(value.trim().to_owned()),
            "source" => self.settings.source = Some(value.trim().to_owned()),
            "yes" => self.settings.yes = list(),
            "no" => {
                let mut no = list();
                no.push(String::new());
                self.settings.no = no;
            }
            "decimal_comma" => self.settings.decimal_comma = flag()?,
            "skip_when_empty" => self.settings.skip_when_empty = list(),
            name => {
                let candidates = list();
                if candidates.is_empty() {
                    return Err(ctx.err(&key_at, "names no column"));
                }
                let known = self.columns.iter().any(|(n, _)| n == name)
                    || self.events.iter().any(|e| e.names().any(|n| n == name))
                    || self.thread.iter().any(|t| t.names().any(|n| n == name));
                if !known {
                    return Err(ctx.err(
                        &key_at,
                        format!(
                            "neither a setting nor a name the mapping uses (settings: delimiter, header, columns, quote, comment, trim, date_format, timezone, currency, source, yes, no, decimal_comma, skip_when_empty; names: {})",
                            self.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                let spec = ColumnSpec {
                    candidates,
                    optional: false,
                };
                match self.columns.iter_mut().find(|(n, _)| n == name) {
                    Some((_, s)) => *s = spec,
                    None => self.columns.push((name.to_owned(), spec)),
                }
            }
        }
        Ok(())
    }

    /// Reads a CSV (or whitespace-separated) file into the sink.
    pub fn read(
        &self,
        path: &Path,
        reader: impl BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        self.read_with_report(path, reader, sink).map(|_| ())
    }

    /// Like [`Mapping::read`], and says how many rows were read and why events were skipped.
    pub fn read_with_report(
        &self,
        path: &Path,
        reader: impl BufRead,
        sink: &mut dyn Sink,
    ) -> Result<ReadReport, ImportError> {
        reader::read(self, path, reader, sink)
    }
}

impl EventSpec {
    /// Every name the event reads: in templates and conditions.
    fn names(&self) -> impl Iterator<Item = &str> {
        let fields = self.fields.iter().flat_map(|(_, t)| t.names());
        let lines = self
            .lines
            .iter()
            .flat_map(|l| l.iter().flat_map(|(_, t)| t.names()));
        let group = self.group.iter().flat_map(|t| t.names());
        let when = self.when.iter().map(Condition::column);
        fields.chain(lines).chain(group).chain(when)
    }
}
