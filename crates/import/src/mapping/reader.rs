//! Reading rows through a mapping: splitting, header matching, conditions, grouping, errors.
//!
//! Rows come from the csv crate or, for `delimiter = "whitespace"`, from a plain line
//! splitter. Cells are decoded per row, so a stray Latin-1 byte rejects one row (with its
//! line and column) instead of the file. Events that a `group` template merges are held
//! until the end of the file; a row of a `[thread]` whose question has not been read yet
//! waits for it (`thread.rs`); all others go to the sink as soon as their row is read. At
//! the end, what was made is looked over for signs of a wrong reading (`checks.rs`), which
//! become the report's warnings.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use domain::{EventError, Kind, NewEvent};
use serde_json::{Map, Value};

use super::checks::Checks;
use super::config::kind_fields;
use super::template::{
    CellError, Env, Found, Row, SPECIALS, Slot, THREAD_SPECIALS, Template, looks_scientific,
    parse_moment, rfc3339,
};
use super::thread::{Chain, Threads};
use super::{Condition, Delimiter, EventSpec, Mapping, MappingError, ReadReport};
use crate::{ImportError, RowError, Sink, clip, norm};

/// How often (in rows) progress is reported.
const PROGRESS_EVERY: u64 = 4096;

/// One record as split, before decoding.
struct RawRow {
    line: u64,
    /// Bytes of the file read up to the end of this record.
    end: u64,
    cells: Vec<Vec<u8>>,
}

/// Where records come from.
enum Rows<R: BufRead> {
    Csv {
        rdr: csv::Reader<R>,
        rec: csv::ByteRecord,
        comment: Option<Vec<u8>>,
        sep: u8,
    },
    Whitespace {
        r: R,
        line: u64,
        bytes: u64,
        buf: Vec<u8>,
        comment: Option<Vec<u8>>,
    },
}

/// Guesses the delimiter from the first line of the file, without consuming it.
fn sniff(r: &mut impl BufRead) -> Delimiter {
    let head = r.fill_buf().unwrap_or(&[]);
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            b'|' if !quoted => counts[3] += 1,
            _ => {}
        }
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .map_or((0, 0), |(i, n)| (i, *n));
    if n > 0 {
        return Delimiter::Byte([b',', b';', b'\t', b'|'][best]);
    }
    let text = String::from_utf8_lossy(line);
    if text.split_whitespace().count() > 1 {
        Delimiter::Whitespace
    } else {
        Delimiter::Byte(b',')
    }
}

impl<R: BufRead> Rows<R> {
    fn new(m: &Mapping, mut r: R) -> Self {
        let comment = m.csv.comment.as_ref().map(|c| c.as_bytes().to_vec());
        let delimiter = match m.csv.delimiter {
            Delimiter::Auto => sniff(&mut r),
            d => d,
        };
        match delimiter {
            Delimiter::Whitespace => Rows::Whitespace {
                r,
                line: 0,
                bytes: 0,
                buf: Vec::new(),
                comment,
            },
            Delimiter::Byte(_) | Delimiter::Auto => {
                let d = match delimiter {
                    Delimiter::Byte(d) => d,
                    _ => b',',
                };
                let mut b = csv::ReaderBuilder::new();
                // Records end at `\n` only, and a `\r` before it is dropped below: the csv
                // crate's CRLF handling reports every line after the first one line early.
                b.has_headers(false)
                    .flexible(true)
                    .delimiter(d)
                    .terminator(csv::Terminator::Any(b'\n'));
                match m.csv.quote {
                    Some(q) => b.quote(q),
                    None => b.quoting(false),
                };
                // The csv crate handles one-byte comments itself (so quotes in comments are
                // harmless); longer prefixes are checked on the first cell.
                let comment = match comment {
                    Some(c) if c.len() == 1 => {
                        b.comment(c.first().copied());
                        None
                    }
                    other => other,
                };
                Rows::Csv {
                    rdr: b.from_reader(r),
                    rec: csv::ByteRecord::new(),
                    comment,
                    sep: d,
                }
            }
        }
    }

    fn next(&mut self, path: &Path) -> Result<Option<RawRow>, ImportError> {
        match self {
            Rows::Csv {
                rdr, rec, comment, ..
            } => loop {
                let more = rdr.read_byte_record(rec).map_err(|e| csv_error(path, e))?;
                if !more {
                    return Ok(None);
                }
                let line = rec.position().map_or(0, |p| p.line());
                if let (Some(c), Some(first)) = (comment.as_ref(), rec.get(0))
                    && first.trim_ascii_start().starts_with(c)
                {
                    continue;
                }
                let mut cells: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
                if let Some(last) = cells.last_mut()
                    && last.last() == Some(&b'\r')
                {
                    last.pop();
                }
                if cells.len() == 1 && cells[0].is_empty() {
                    continue; // a blank line
                }
                return Ok(Some(RawRow {
                    line,
                    end: rdr.position().byte(),
                    cells,
                }));
            },
            Rows::Whitespace {
                r,
                line,
                bytes,
                buf,
                comment,
            } => loop {
                buf.clear();
                let n = r.read_until(b'\n', buf).map_err(|source| ImportError::Io {
                    file: path.to_owned(),
                    source,
                })?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                *bytes += n as u64;
                let text = buf.trim_ascii();
                if text.is_empty() || comment.as_ref().is_some_and(|c| text.starts_with(c)) {
                    continue;
                }
                let cells = text
                    .split(u8::is_ascii_whitespace)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect();
                return Ok(Some(RawRow {
                    line: *line,
                    end: *bytes,
                    cells,
                }));
            },
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Rows::Csv { rdr, .. } => rdr.position().byte(),
            Rows::Whitespace { bytes, .. } => *bytes,
        }
    }

    /// What joins cells again in a rejected row's raw text.
    fn separator(&self) -> String {
        match self {
            Rows::Csv { sep, .. } => char::from(*sep).to_string(),
            Rows::Whitespace { .. } => " ".to_owned(),
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> ImportError {
    let message = e.to_string();
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => ImportError::Io {
            file: path.to_owned(),
            source,
        },
        _ => ImportError::File(RowError {
            file: path.to_owned(),
            line,
            field: None,
            message,
            raw: None,
        }),
    }
}

/// An event merged from rows sharing a `group` key.
struct Group {
    spec: usize,
    line: u64,
    raw: String,
    map: Map<String, Value>,
    lines: Vec<Value>,
    /// For each line: the file line it came from and which line template made it.
    origins: Vec<(u64, usize)>,
}

/// A row decoded and checked for width, ready to make events (now, or once the message it
/// answers is read).
struct Pending {
    line: u64,
    cells: Vec<String>,
    /// The row's content key, for `{_key}`.
    key: String,
    raw: String,
}

/// The references among the kinds' fields: identifiers of things events share.
const REFERENCES: [&str; 8] = [
    "invoice",
    "order",
    "contact",
    "incident",
    "promise",
    "caused_by",
    "referred",
    "org",
];

/// Event fields that hold identifiers, which a spreadsheet may have written as `3.0`.
fn is_id_field(kind: Kind, name: &str) -> bool {
    matches!(name, "id" | "person")
        || (REFERENCES.contains(&name) && kind_fields(kind).contains(&name))
}

/// Everything one read needs besides the rows.
struct Run<'a> {
    m: &'a Mapping,
    path: &'a Path,
    names: Vec<String>,
    /// What "the header has" means in a width error.
    width_of: &'static str,
    slots: HashMap<String, Slot>,
    env: Env,
    groups: Vec<Group>,
    group_index: HashMap<(usize, String), usize>,
    /// How often each row content was seen so far, for `{_key}`.
    seen: HashMap<u128, u32>,
    report: ReadReport,
    /// Reply chains, when the mapping has a `[thread]`.
    threads: Option<Threads<Pending>>,
    /// Events pushed or merged into a group so far: a row that adds none made nothing.
    made: u64,
    /// Why the last event of the current row was skipped, with the `--set` that may help.
    last_skip: Option<(String, String)>,
    /// Rows that made no event and were not rejected, by reason, with a `--set` hint.
    idle: BTreeMap<String, (u64, String)>,
    /// What the events read say about whether the mapping read the file right.
    checks: Checks,
}

/// A key of a row's content that is the same every time the same file is read, on any
/// machine and by any version: FNV-1a (128-bit) over the cells, and for the n-th identical
/// row in a file, `.n` after it. It gives rows without an id of their own (a transaction log)
/// an event id that makes re-importing the file idempotent, where a line number would make
/// two different files collide. Written by hand: std's hasher is not promised to stay the
/// same across versions, and a hashing crate for twenty lines is not worth a dependency.
fn row_key(cells: &[String], seen: &mut HashMap<u128, u32>) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(PRIME);
        }
        for b in cell.as_bytes() {
            h ^= u128::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    }
    let n = seen.entry(h).or_insert(0);
    *n += 1;
    if *n == 1 {
        format!("{h:032x}")
    } else {
        format!("{h:032x}.{n}")
    }
}

pub(super) fn read(
    m: &Mapping,
    path: &Path,
    mut reader: impl BufRead,
    sink: &mut dyn Sink,
) -> Result<ReadReport, ImportError> {
    if let Some(defect) = &m.defect {
        return Err(MappingError::Invalid {
            file: m.origin.clone(),
            message: defect.clone(),
        }
        .into());
    }
    let Some(source) = m.settings.source.clone().filter(|s| !s.trim().is_empty()) else {
        return Err(MappingError::Key {
            file: m.origin.clone(),
            key: "source".into(),
            message: "is not set: add `source = \"shop\"` to the mapping or pass --set source=shop"
                .into(),
        }
        .into());
    };
    let io = |source| ImportError::Io {
        file: path.to_owned(),
        source,
    };
    let start = reader.fill_buf().map_err(io)?;
    if start.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    let mut rows = Rows::new(m, reader);
    let header_wanted = m.csv.header.unwrap_or(m.csv.columns.is_none());
    let mut pending = None;
    let mut header_line = 1;
    let mut header_raw = None;
    let mut file_names = None;
    if header_wanted {
        let Some(h) = rows.next(path)? else {
            return Ok(ReadReport::default());
        };
        header_line = h.line;
        let names: Vec<String> = h
            .cells
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_owned())
            .collect();
        header_raw = Some(clip(&names.join(&rows.separator())));
        file_names = Some(names);
    }
    let (names, width_of) = match (&m.csv.columns, file_names) {
        (Some(cols), _) => (cols.clone(), "the mapping names"),
        (None, Some(names)) => (names, "the header has"),
        (None, None) => {
            let Some(first) = rows.next(path)? else {
                return Ok(ReadReport::default());
            };
            let n = first.cells.len();
            pending = Some(first);
            (
                (1..=n).map(|i| i.to_string()).collect(),
                "the first row has",
            )
        }
    };
    let slots = resolve(m, path, &names, header_line, header_raw)?;
    let env = Env {
        source,
        file: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        currency: m.settings.currency.clone().unwrap_or_default(),
        date_formats: m.settings.date_formats.clone(),
        timezone: m.settings.timezone,
        yes: m.settings.yes.clone(),
        no: m.settings.no.clone(),
        decimal_comma: m.settings.decimal_comma,
    };
    let mut run = Run {
        m,
        path,
        names,
        width_of,
        slots,
        env,
        groups: Vec::new(),
        group_index: HashMap::new(),
        seen: HashMap::new(),
        report: ReadReport::default(),
        threads: m.thread.as_ref().map(|_| Threads::default()),
        made: 0,
        last_skip: None,
        idle: BTreeMap::new(),
        checks: Checks::default(),
    };
    let sep = rows.separator();
    loop {
        let row = match pending.take() {
            Some(r) => r,
            None => match rows.next(path)? {
                Some(r) => r,
                None => break,
            },
        };
        run.report.rows += 1;
        if run.report.rows.is_multiple_of(PROGRESS_EVERY) {
            sink.progress(row.end);
        }
        run.row(&row, &sep, sink)?;
    }
    if let Some(threads) = run.threads.as_mut() {
        for (pending, chain) in threads.finish() {
            run.threaded(pending, chain, sink)?;
        }
    }
    for g in std::mem::take(&mut run.groups) {
        let mut map = g.map;
        map.insert("lines".into(), Value::Array(g.lines));
        run.finish(g.spec, &map, g.line, &g.raw, &g.origins, sink)?;
    }
    sink.progress(rows.bytes());
    run.report.warnings = run.warnings();
    Ok(run.report)
}

/// Finds the column of every name the mapping uses; a missing one stops the file.
fn resolve(
    m: &Mapping,
    path: &Path,
    names: &[String],
    header_line: u64,
    header_raw: Option<String>,
) -> Result<HashMap<String, Slot>, ImportError> {
    let normed: Vec<String> = names.iter().map(|n| norm(n)).collect();
    let find = |cand: &str| {
        let c = norm(cand);
        normed.iter().position(|n| *n == c)
    };
    let missing = |name: &str, looked: &[String]| {
        ImportError::File(RowError {
            file: path.to_owned(),
            line: header_line,
            field: Some(name.to_owned()),
            message: format!(
                "the mapping {} needs column `{name}`{}, which this file does not have; its columns are: {}",
                m.origin.display(),
                if looked.len() > 1 || looked.first().is_some_and(|l| l != name) {
                    format!(" (looked for {})", looked.join(", "))
                } else {
                    String::new()
                },
                names.join(", ")
            ),
            raw: header_raw.clone(),
        })
    };
    let mut slots = HashMap::new();
    for (i, s) in SPECIALS.iter().enumerate() {
        let slot = [
            Slot::Line,
            Slot::Source,
            Slot::File,
            Slot::Currency,
            Slot::Key,
            Slot::ThreadPerson,
            Slot::ThreadContact,
        ][i];
        slots.insert((*s).to_owned(), slot);
    }
    for (name, spec) in &m.columns {
        let slot = match spec.candidates.iter().find_map(|c| find(c)) {
            Some(i) => Slot::Cell(i),
            None if spec.optional => Slot::Absent,
            None => return Err(missing(name, &spec.candidates)),
        };
        slots.insert(name.clone(), slot);
    }
    for n in m.thread.iter().flat_map(|t| t.names()) {
        if !slots.contains_key(n) {
            let slot = find(n)
                .map(Slot::Cell)
                .ok_or_else(|| missing(n, &[n.to_owned()]))?;
            slots.insert(n.to_owned(), slot);
        }
    }
    for e in &m.events {
        for c in &e.when {
            if let Condition::HasColumn(n) | Condition::LacksColumn(n) = c
                && !slots.contains_key(n)
            {
                slots.insert(n.clone(), find(n).map_or(Slot::Absent, Slot::Cell));
            }
        }
        let names: Vec<&str> = e.names().collect();
        for n in names {
            if !slots.contains_key(n) {
                let slot = find(n)
                    .map(Slot::Cell)
                    .ok_or_else(|| missing(n, &[n.to_owned()]))?;
                slots.insert(n.to_owned(), slot);
            }
        }
    }
    Ok(slots)
}

/// An event's fields and its order lines, before validation.
type Built = (Map<String, Value>, Vec<Value>);

/// Fields that stay in the event even when empty, so the domain names what is missing.
const CORE: [&str; 4] = ["id", "person", "at", "source"];

/// Why a `[thread]` found no person for a business's message.
const UNMATCHED: &str = "it answers a message that is not in this file";
const ANSWERS_NOBODY: &str = "the business's message answers no message of a person";

impl Run<'_> {
    fn column_of(&self, t: &Template) -> Option<String> {
        t.names().into_iter().find_map(|n| match self.slots.get(n) {
            Some(Slot::Cell(i)) => self.names.get(*i).cloned(),
            _ => None,
        })
    }

    fn reject(&mut self, sink: &mut dyn Sink, e: RowError) -> Result<(), ImportError> {
        self.report.rejected += 1;
        sink.reject(e).map_err(ImportError::Sink)
    }

    fn row_error(&self, line: u64, raw: &str, field: Option<String>, message: String) -> RowError {
        RowError {
            file: self.path.to_owned(),
            line,
            field,
            message,
            raw: Some(clip(raw)),
        }
    }

    /// A cell error met while building event `field`.
    fn cell_error(&self, line: u64, raw: &str, field: &str, e: CellError) -> RowError {
        match e.column {
            Some(col) => self.row_error(
                line,
                raw,
                Some(col),
                format!("{} (read as the event's `{field}`)", e.message),
            ),
            None => self.row_error(line, raw, Some(field.to_owned()), e.message),
        }
    }

    fn row(&mut self, raw_row: &RawRow, sep: &str, sink: &mut dyn Sink) -> Result<(), ImportError> {
        let line = raw_row.line;
        let raw = raw_row
            .cells
            .iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>()
            .join(sep);
        let mut cells = Vec::with_capacity(raw_row.cells.len());
        for (i, c) in raw_row.cells.iter().enumerate() {
            match std::str::from_utf8(c) {
                Ok(s) => cells.push(if self.m.csv.trim { s.trim() } else { s }.to_owned()),
                Err(e) => {
                    let column = self
                        .names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("column {}", i + 1));
                    let msg = format!(
                        "not UTF-8 (invalid byte at position {} of the cell); save the file as UTF-8",
                        e.valid_up_to() + 1
                    );
                    let err = self.row_error(line, &raw, Some(column), msg);
                    return self.reject(sink, err);
                }
            }
        }
        let want = self.names.len();
        let extra_filled = cells
            .get(want..)
            .is_some_and(|rest| rest.iter().any(|c| !c.is_empty()));
        if cells.len() < want || extra_filled {
            let msg = format!("has {} columns, {} {want}", cells.len(), self.width_of);
            let err = self.row_error(line, &raw, None, msg);
            return self.reject(sink, err);
        }
        let key = row_key(&cells, &mut self.seen);
        let pending = Pending {
            line,
            cells,
            key,
            raw,
        };
        if self.threads.is_some() {
            return self.thread_row(pending, sink);
        }
        self.emit(&pending, None, sink)
    }

    /// A row of a mapping with a `[thread]`: its events are made once the chain of messages
    /// above it is known, which may be at once, later in the file, or at its end.
    fn thread_row(&mut self, p: Pending, sink: &mut dyn Sink) -> Result<(), ImportError> {
        let (message, answers, person) = match self.thread_fields(&p) {
            Ok(fields) => fields,
            Err(e) => return self.reject(sink, e),
        };
        let ready = match self.threads.as_mut() {
            Some(t) => t.message(&message, &answers, person.as_deref(), p.line, p),
            None => return Ok(()),
        };
        for (pending, chain) in ready {
            self.threaded(pending, chain, sink)?;
        }
        Ok(())
    }

    /// The `[thread]` fields of one row: its message id, the id it answers (ids as the
    /// source wrote them, see `template::id`), and the person if the person wrote it.
    fn thread_fields(&mut self, p: &Pending) -> Result<(String, String, Option<String>), RowError> {
        let Some(spec) = self.m.thread.as_ref() else {
            return Ok(Default::default());
        };
        let row = Row {
            cells: &p.cells,
            headers: &self.names,
            line: p.line,
            key: &p.key,
            slots: &self.slots,
            env: &self.env,
            found: None,
        };
        let render = |field: &str, t: &Template| {
            t.render(&row)
                .map(|v| super::template::id(&v).to_owned())
                .map_err(|e| self.cell_error(p.line, &p.raw, field, e))
        };
        let message = render("thread.message", &spec.message)?;
        let answers = render("thread.answers", &spec.answers)?;
        if message.is_empty() {
            return Err(self.row_error(
                p.line,
                &p.raw,
                self.column_of(&spec.message),
                "is empty: in a reply chain every message needs its own id (read as the [thread]'s `message`)".into(),
            ));
        }
        let from_person = row.yes(&spec.from_person).map_err(|e| match e.column {
            Some(c) => self.row_error(
                p.line,
                &p.raw,
                Some(c),
                format!("{} (read as the [thread]'s `from_person`)", e.message),
            ),
            None => self.row_error(p.line, &p.raw, None, e.message),
        })?;
        let person = if from_person {
            let person = render("thread.person", &spec.person)?;
            if person.is_empty() {
                return Err(self.row_error(
                    p.line,
                    &p.raw,
                    self.column_of(&spec.person),
                    "is empty: a message the person wrote needs the person (read as the [thread]'s `person`)".into(),
                ));
            }
            Some(person)
        } else {
            None
        };
        for (t, v) in [(&spec.message, &message), (&spec.answers, &answers)] {
            if looks_scientific(v) {
                let column = self.column_of(t);
                self.checks.scientific(p.line, column, v);
            }
        }
        Ok((message, answers, person))
    }

    /// Makes a threaded row's events, now that its chain is known.
    fn threaded(
        &mut self,
        p: Pending,
        chain: Chain,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let found = match (chain, self.threads.as_ref()) {
            (Chain::Person { person, contact }, Some(t)) => Found {
                person: t.person(person).to_owned(),
                contact: t.message_id(contact).to_owned(),
                why_not: None,
            },
            (Chain::Missing { .. }, _) => Found {
                why_not: Some(UNMATCHED),
                ..Found::default()
            },
            _ => Found {
                why_not: Some(ANSWERS_NOBODY),
                ..Found::default()
            },
        };
        self.emit(&p, Some(&found), sink)
    }

    /// Makes the events of one row whose conditions hold, and notes a row that made none.
    fn emit(
        &mut self,
        p: &Pending,
        found: Option<&Found>,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let before = (self.made, self.report.rejected);
        self.last_skip = None;
        // Decide every event's conditions first, so a row whose conditions cannot be decided
        // is rejected once and makes no events at all.
        let mut chosen = Vec::with_capacity(self.m.events.len());
        for (si, spec) in self.m.events.iter().enumerate() {
            let row = Row {
                cells: &p.cells,
                headers: &self.names,
                line: p.line,
                key: &p.key,
                slots: &self.slots,
                env: &self.env,
                found,
            };
            match conditions_hold(spec, &row) {
                Ok(true) => chosen.push(si),
                Ok(false) => {}
                Err(e) => {
                    let err = match e.column {
                        Some(c) => self.row_error(
                            p.line,
                            &p.raw,
                            Some(c),
                            format!("{} (in the `when` of {})", e.message, spec.key),
                        ),
                        None => self.row_error(p.line, &p.raw, None, e.message),
                    };
                    return self.reject(sink, err);
                }
            }
        }
        for si in chosen {
            self.event(si, p, found, sink)?;
        }
        if (self.made, self.report.rejected) == before {
            let (reason, hint) = match (found.and_then(|f| f.why_not), self.last_skip.take()) {
                (Some(why), _) => (why.to_owned(), self.thread_hint(why)),
                (None, Some(skip)) => skip,
                (None, None) => (
                    "no [[event]] applies to it (no `when` holds)".to_owned(),
                    "check the columns the `when` conditions read, and which words mean yes and no (--set yes=…, --set no=…)".to_owned(),
                ),
            };
            self.idle.entry(reason).or_insert((0, hint)).0 += 1;
        }
        Ok(())
    }

    /// Builds the event `si` for one row whose conditions hold.
    fn event(
        &mut self,
        si: usize,
        p: &Pending,
        found: Option<&Found>,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let (line, raw) = (p.line, p.raw.as_str());
        let spec = &self.m.events[si];
        let row = Row {
            cells: &p.cells,
            headers: &self.names,
            line,
            key: &p.key,
            slots: &self.slots,
            env: &self.env,
            found,
        };
        let built = match self.build(spec, &row) {
            Ok(b) => b,
            Err((field, e)) => {
                let err = self.cell_error(line, raw, &field, e);
                return self.reject(sink, err);
            }
        };
        let (mut map, lines) = built;
        for name in spec
            .skip_when_empty
            .iter()
            .chain(&self.m.settings.skip_when_empty)
        {
            let empty = match map.get(name) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                Some(_) => false,
            };
            if empty {
                let template = spec.fields.iter().find(|(k, _)| k == name).map(|(_, t)| t);
                let column = template.and_then(|t| self.column_of(t));
                let threaded =
                    template.is_some_and(|t| t.names().iter().any(|n| THREAD_SPECIALS.contains(n)));
                let why = match (&column, found.and_then(|f| f.why_not)) {
                    (Some(c), _) => format!(" (column `{c}`)"),
                    (None, Some(why)) if threaded => format!(" ({why})"),
                    _ => String::new(),
                };
                let reason = format!("{} with an empty `{name}`{why}", spec.kind);
                *self.report.skipped.entry(reason.clone()).or_default() += 1;
                let set = template
                    .and_then(|t| t.names().first().map(|n| (*n).to_owned()))
                    .filter(|n| !n.starts_with('_'));
                let hint = match (set, column) {
                    (Some(n), Some(c)) => {
                        format!("if the {name} is in another column than `{c}`, --set {n}=COLUMN")
                    }
                    _ => "check the mapping's templates for this field".to_owned(),
                };
                self.last_skip = Some((reason, hint));
                return Ok(());
            }
        }
        let origins: Vec<(u64, usize)> = (0..lines.len()).map(|j| (line, j)).collect();
        if let Some(g) = &spec.group {
            let key = match g.render(&row) {
                Ok(k) => super::template::id(&k).to_owned(),
                Err(e) => {
                    let err = self.cell_error(line, raw, "group", e);
                    self.reject(sink, err)?;
                    return Ok(());
                }
            };
            if !key.trim().is_empty() {
                self.made += 1;
                match self.group_index.get(&(si, key.clone())) {
                    Some(&gi) => {
                        let group = &mut self.groups[gi];
                        group.lines.extend(lines);
                        group.origins.extend(origins);
                    }
                    None => {
                        self.group_index.insert((si, key), self.groups.len());
                        self.groups.push(Group {
                            spec: si,
                            line,
                            raw: raw.to_owned(),
                            map,
                            lines,
                            origins,
                        });
                    }
                }
                return Ok(());
            }
        }
        if !spec.lines.is_empty() {
            map.insert("lines".into(), Value::Array(lines));
        }
        if self.finish(si, &map, line, raw, &origins, sink)? {
            self.made += 1;
        }
        Ok(())
    }

    /// The name a template reads first and the column it finds there, for `--set` hints.
    fn name_and_column(&self, t: &Template) -> (String, String) {
        let name = t
            .names()
            .first()
            .map(|n| (*n).to_owned())
            .unwrap_or_default();
        let column = self.column_of(t).unwrap_or_else(|| "none".to_owned());
        (name, column)
    }

    /// A template of the first event of `kind` that has `field`.
    fn template_of(&self, kind: Kind, field: &str) -> Option<&Template> {
        self.m
            .events
            .iter()
            .filter(|e| e.kind == kind)
            .find_map(|e| e.fields.iter().find(|(k, _)| k == field).map(|(_, t)| t))
    }

    /// Everything that looks wrong with what this read made, each with the `--set` that
    /// would change it.
    fn warnings(&self) -> Vec<super::Warning> {
        use super::checks::{count, examples, people};
        use super::{Warning, WarningKind};
        let mut out = Vec::new();
        let mut warn = |kind, n: u64, message: String| {
            out.push(Warning {
                kind,
                count: n,
                message,
            });
        };
        let answered_person = self
            .template_of(Kind::ContactAnswered, "person")
            .map(|t| self.name_and_column(t));
        let answered_contact = self
            .template_of(Kind::ContactAnswered, "contact")
            .map(|t| self.name_and_column(t));

        match (&self.threads, &self.m.thread) {
            (Some(threads), Some(spec)) => {
                let only = threads.people_who_mostly_answer();
                if !only.is_empty() {
                    let column = match self.slots.get(&spec.from_person) {
                        Some(Slot::Cell(i)) => self.names.get(*i).cloned(),
                        _ => None,
                    }
                    .unwrap_or_else(|| spec.from_person.clone());
                    warn(
                        WarningKind::OnlyAnswer,
                        only.len() as u64,
                        format!(
                            "{} {} answer other people's messages more often than they start a conversation ({}): they look like the business's own accounts, read as people. If another column says who wrote each message, --set {}=COLUMN (now `{column}`); if other words in it mean the business, --set no=… (and --set yes=… for the person)",
                            count(only.len() as u64),
                            people(only.len()),
                            examples(&only, ("message", "messages")),
                            spec.from_person,
                        ),
                    );
                }
                if threads.unmatched > 0 {
                    let first = threads
                        .first_unmatched
                        .map(|(line, id)| {
                            format!(
                                " (the first at line {line}, answering `{}`)",
                                threads.message_id(id)
                            )
                        })
                        .unwrap_or_default();
                    warn(
                        WarningKind::UnmatchedAnswers,
                        threads.unmatched,
                        format!(
                            "{} of the business's {} messages answer a message that is not in this file{first}, so nobody is known to have asked: they are skipped. {}",
                            count(threads.unmatched),
                            count(threads.business),
                            capitalised(&self.thread_hint(UNMATCHED)),
                        ),
                    );
                }
            }
            _ => {
                let only = self.checks.only_answered();
                if !only.is_empty() {
                    let set = match &answered_person {
                        Some((n, c)) if !n.starts_with('_') => {
                            format!("--set {n}=COLUMN (now `{c}`)")
                        }
                        _ => "the `person` of the mapping's contact.answered".to_owned(),
                    };
                    warn(
                        WarningKind::OnlyAnswer,
                        only.len() as u64,
                        format!(
                            "{} {} receive answers in this file but ask nothing ({}): if these are the business's own accounts, the answers are filed under whoever answered instead of whoever asked. Name the person asked with {set}; if replies carry only the id of the message they answer, give the mapping a [thread] (docs/mapping.md), as the `messages` preset has",
                            count(only.len() as u64),
                            people(only.len()),
                            examples(&only, ("answer", "answers")),
                        ),
                    );
                }
            }
        }
        let (unmatched, first) = self.checks.unmatched_answers();
        if unmatched > 0 {
            let mut sets = Vec::new();
            if let Some((n, c)) = answered_contact.filter(|(n, _)| !n.starts_with('_')) {
                sets.push(format!(
                    "if answers name their question in another column than `{c}`, --set {n}=COLUMN"
                ));
            }
            if let Some((n, c)) = answered_person.filter(|(n, _)| !n.starts_with('_')) {
                sets.push(format!(
                    "if the person asked is in another column than `{c}`, --set {n}=COLUMN"
                ));
            }
            warn(
                WarningKind::UnmatchedAnswers,
                unmatched,
                format!(
                    "{} of {} answers match no question the same person asked in this file{}: unless those questions were imported before, they will read as unanswered and these answers as answering nothing. {}",
                    count(unmatched),
                    count(self.checks.answers()),
                    first
                        .map(|l| format!(" (the first at line {l})"))
                        .unwrap_or_default(),
                    capitalised(&sets.join("; ")),
                ),
            );
        }
        let idle: u64 = self.idle.values().map(|(n, _)| n).sum();
        let rows = self.report.rows;
        if rows > 0 && idle * 2 > rows {
            let mut reasons: Vec<(&String, &(u64, String))> = self.idle.iter().collect();
            reasons.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
            let listed = reasons
                .iter()
                .take(3)
                .map(|(why, (n, _))| format!("{} because {why}", count(*n)))
                .collect::<Vec<_>>()
                .join("; ");
            let hint = reasons.first().map(|(_, (_, h))| h.as_str()).unwrap_or("");
            warn(
                WarningKind::MostRowsIdle,
                idle,
                format!(
                    "{} of {} rows ({} %) made no event: {listed}. {}",
                    count(idle),
                    count(rows),
                    idle * 100 / rows,
                    capitalised(hint),
                ),
            );
        }
        if let Some((line, column, value)) = &self.checks.first_scientific {
            let at = column
                .as_ref()
                .map(|c| format!(" column `{c}`,"))
                .unwrap_or_default();
            warn(
                WarningKind::ScientificIds,
                self.checks.scientific,
                format!(
                    "{} identifiers are written as numbers in scientific notation (the first at{at} line {line}: `{value}`): a spreadsheet has probably cut their digits, so they may not match each other. Export those columns as text",
                    count(self.checks.scientific),
                ),
            );
        }
        out
    }

    /// The `--set` that would change what a `[thread]` made of a row.
    fn thread_hint(&self, why: &str) -> String {
        let Some(t) = self.m.thread.as_ref() else {
            return String::new();
        };
        let name_and_column = |tpl: &Template| {
            let name = tpl
                .names()
                .first()
                .map(|n| (*n).to_owned())
                .unwrap_or_default();
            let column = self.column_of(tpl).unwrap_or_else(|| "none".to_owned());
            (name, column)
        };
        if why == UNMATCHED {
            let (a, ac) = name_and_column(&t.answers);
            let (m, mc) = name_and_column(&t.message);
            format!(
                "if replies name the message they answer in another column than `{ac}`, --set {a}=COLUMN; if messages are known by another id than column `{mc}`, --set {m}=COLUMN"
            )
        } else {
            let column = self
                .slots
                .get(&t.from_person)
                .and_then(|s| match s {
                    Slot::Cell(i) => self.names.get(*i).cloned(),
                    _ => None,
                })
                .unwrap_or_else(|| t.from_person.clone());
            format!(
                "these are the business's messages that answer nobody (newsletters, announcements); if people wrote them, name the column that says who wrote each message (--set {}=COLUMN, now `{column}`) or its words (--set yes=…, --set no=…)",
                t.from_person
            )
        }
    }

    /// Renders an event's fields and lines; an error names the event field.
    fn build(&self, spec: &EventSpec, row: &Row<'_>) -> Result<Built, (String, CellError)> {
        let mut map = Map::new();
        map.insert("kind".into(), Value::String(spec.kind.as_str().to_owned()));
        map.insert("source".into(), Value::String(self.env.source.clone()));
        for (name, t) in &spec.fields {
            let fail = |e: CellError| (name.clone(), e);
            let mut v = t.render(row).map_err(fail)?;
            if (name == "at" || name == "due") && !v.trim().is_empty() {
                let moment = parse_moment(&v, &self.env.date_formats, self.env.timezone).map_err(
                    |message| {
                        fail(CellError {
                            column: self.column_of(t),
                            message: super::guess::with_hint(message, &v),
                        })
                    },
                )?;
                v = if name == "at" {
                    rfc3339(moment)
                } else {
                    moment.date_naive().format("%Y-%m-%d").to_string()
                };
            }
            if is_id_field(spec.kind, name) {
                v = super::template::id(&v).to_owned();
            }
            if !v.trim().is_empty() || CORE.contains(&name.as_str()) {
                map.insert(name.clone(), Value::String(v));
            }
        }
        let takes_currency = kind_fields(spec.kind).contains(&"currency");
        if takes_currency && !map.contains_key("currency") && !self.env.currency.trim().is_empty() {
            map.insert("currency".into(), Value::String(self.env.currency.clone()));
        }
        let mut lines = Vec::with_capacity(spec.lines.len());
        for (j, lt) in spec.lines.iter().enumerate() {
            let mut obj = Map::new();
            for (name, t) in lt {
                let mut v = t
                    .render(row)
                    .map_err(|e| (format!("lines[{j}].{name}"), e))?;
                if name == "product" {
                    v = super::template::id(&v).to_owned();
                }
                obj.insert(name.clone(), Value::String(v));
            }
            lines.push(Value::Object(obj));
        }
        Ok((map, lines))
    }

    /// Validates a built event through the domain and hands it to the sink; says whether it
    /// was valid.
    fn finish(
        &mut self,
        si: usize,
        map: &Map<String, Value>,
        line: u64,
        raw: &str,
        origins: &[(u64, usize)],
        sink: &mut dyn Sink,
    ) -> Result<bool, ImportError> {
        let spec = &self.m.events[si];
        for (name, t) in &spec.fields {
            if is_id_field(spec.kind, name)
                && let Some(Value::String(v)) = map.get(name)
                && looks_scientific(v)
            {
                let column = self.column_of(t);
                self.checks.scientific(line, column, v);
            }
        }
        match NewEvent::from_json(map) {
            Ok(event) => {
                self.report.events += 1;
                self.checks.event(line, &event);
                sink.push(line, event).map_err(ImportError::Sink)?;
                Ok(true)
            }
            Err(e) => {
                let err = self.event_error(si, e, line, raw, origins);
                self.reject(sink, err)?;
                Ok(false)
            }
        }
    }

    /// Turns the domain's complaint about an event field into one about a CSV column.
    fn event_error(
        &self,
        si: usize,
        mut e: EventError,
        line: u64,
        raw: &str,
        origins: &[(u64, usize)],
    ) -> RowError {
        let spec = &self.m.events[si];
        let Some(field) = e.field else {
            return self.row_error(line, raw, None, e.message);
        };
        if field == "currency" && self.env.currency.trim().is_empty() {
            // A file without a currency column names its currency once, for every row.
            e.message
                .push_str("; name the file's currency with --set currency=EUR (or GBP, USD…)");
        }
        let (line, template) = match parse_line_field(&field) {
            Some((i, name)) => match origins.get(i) {
                Some(&(l, j)) => (
                    l,
                    spec.lines
                        .get(j)
                        .and_then(|lt| lt.iter().find(|(k, _)| k == name))
                        .map(|(_, t)| t),
                ),
                None => (line, None),
            },
            None => (
                line,
                spec.fields
                    .iter()
                    .find(|(k, _)| *k == field)
                    .map(|(_, t)| t),
            ),
        };
        let column = template.and_then(|t| self.column_of(t));
        self.cell_error(
            line,
            raw,
            &field,
            CellError {
                column,
                message: e.message,
            },
        )
    }
}

/// A hint starts a sentence of a warning.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// `lines[3].qty` → (3, "qty").
fn parse_line_field(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix("lines[")?;
    let (i, name) = rest.split_once("].")?;
    Some((i.parse().ok()?, name))
}

fn conditions_hold(spec: &EventSpec, row: &Row<'_>) -> Result<bool, CellError> {
    for c in &spec.when {
        let holds = match c {
            Condition::NotEmpty(n) => !row.value(n).trim().is_empty(),
            Condition::Empty(n) => row.value(n).trim().is_empty(),
            Condition::Yes(n) => row.yes(n)?,
            Condition::No(n) => !row.yes(n)?,
            Condition::Equals(n, vals) => {
                let v = row.value(n);
                vals.iter().any(|x| x.trim() == v.trim())
            }
            Condition::StartsWith(n, vals) => {
                let v = row.value(n);
                vals.iter().any(|x| v.trim().starts_with(x.as_str()))
            }
            Condition::NotStartsWith(n, vals) => {
                let v = row.value(n);
                !vals.iter().any(|x| v.trim().starts_with(x.as_str()))
            }
            Condition::HasColumn(n) => matches!(row.slots.get(n), Some(Slot::Cell(_))),
            Condition::LacksColumn(n) => !matches!(row.slots.get(n), Some(Slot::Cell(_))),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}
