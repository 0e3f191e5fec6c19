//! Templates: how a mapping says what text goes into an event field.
//!
//! A template is literal text with `{Name|filter|filter:arg}` holes. It is parsed once when
//! the mapping is loaded (so a bad template is a mapping error naming its key) and rendered
//! once per row. Rendering never panics: every input cell is just text, and the only
//! failure is a cell that a `date` filter cannot read, which is reported against its column.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone};

/// Names every template may use besides columns.
pub(crate) const SPECIALS: [&str; 7] = [
    "_line",
    "_source",
    "_file",
    "_currency",
    "_key",
    "_person",
    "_contact",
];
/// The specials a `[thread]` finds: a message's person and the contact it belongs to.
pub(crate) const THREAD_SPECIALS: [&str; 2] = ["_person", "_contact"];

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pub(crate) text: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Ref { name: String, filters: Vec<Filter> },
}

/// What a filter does to the text of a hole, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Trim,
    Upper,
    Lower,
    Abs,
    Neg,
    YesNo,
    Date(Option<String>),
    Decimal,
    /// The value of another name when this one is empty.
    Or(String),
    /// Literal text when the value is empty.
    Default(String),
    /// An identifier that a spreadsheet turned into a number: `17850.0` → `17850`.
    Id,
}

const FILTERS: &str =
    "trim, upper, lower, abs, neg, yesno, date, date:FORMAT, decimal, id, or:NAME, default:TEXT";

impl Template {
    /// Parses `{Name|filter}` holes; `{{` and `}}` stand for literal braces.
    pub(crate) fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => {
                    return Err(format!(
                        "a lone `}}` at character {} (write `}}}}` for a literal brace)",
                        at + 1
                    ));
                }
                '{' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        match c {
                            '}' => {
                                closed = true;
                                break;
                            }
                            '{' => {
                                return Err(format!(
                                    "`{{` inside the hole opened at character {}",
                                    at + 1
                                ));
                            }
                            c => inner.push(c),
                        }
                    }
                    if !closed {
                        return Err(format!(
                            "the hole opened at character {} is not closed with `}}` (write `{{{{` for a literal brace)",
                            at + 1
                        ));
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(parse_hole(&inner)?);
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Template {
            text: text.to_owned(),
            pieces,
        })
    }

    /// Every name the template reads (holes and `or:` fallbacks), in order.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for p in &self.pieces {
            if let Piece::Ref { name, filters } = p {
                out.push(name.as_str());
                for f in filters {
                    if let Filter::Or(n) = f {
                        out.push(n.as_str());
                    }
                }
            }
        }
        out
    }

    /// Renders the template for one row.
    pub(crate) fn render(&self, row: &Row<'_>) -> Result<String, CellError> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Ref { name, filters } => {
                    let mut v = row.value(name);
                    for f in filters {
                        v = apply(f, v, name, row)?;
                    }
                    out.push_str(&v);
                }
            }
        }
        Ok(out)
    }
}

fn parse_hole(inner: &str) -> Result<Piece, String> {
    let mut parts = inner.split('|');
    let name = parts.next().unwrap_or("").trim();
    if name.is_empty() {
        return Err(format!("`{{{inner}}}` names no column"));
    }
    let mut filters = Vec::new();
    for f in parts {
        let (fname, arg) = match f.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a)),
            None => (f.trim(), None),
        };
        let filter = match (fname, arg) {
            ("trim", None) => Filter::Trim,
            ("upper", None) => Filter::Upper,
            ("lower", None) => Filter::Lower,
            ("abs", None) => Filter::Abs,
            ("neg", None) => Filter::Neg,
            ("yesno", None) => Filter::YesNo,
            ("decimal", None) => Filter::Decimal,
            ("id", None) => Filter::Id,
            ("date", None) => Filter::Date(None),
            ("date", Some(a)) if !a.trim().is_empty() => Filter::Date(Some(a.to_owned())),
            ("or", Some(a)) if !a.trim().is_empty() => Filter::Or(a.trim().to_owned()),
            ("default", Some(a)) => Filter::Default(a.to_owned()),
            ("date" | "or", Some(_)) | ("or" | "default", None) => {
                return Err(format!(
                    "filter `{f}` in `{{{inner}}}` needs an argument, as in `{fname}:…`"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown filter `{f}` in `{{{inner}}}` (filters: {FILTERS})"
                ));
            }
        };
        filters.push(filter);
    }
    Ok(Piece::Ref {
        name: name.to_owned(),
        filters,
    })
}

/// A cell a template could not use, with the column it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellError {
    pub(crate) column: Option<String>,
    pub(crate) message: String,
}

/// Where a name's value comes from, once the header is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Cell(usize),
    /// An optional column the file does not have: always empty.
    Absent,
    Line,
    Source,
    File,
    Currency,
    /// A stable key of the row's content (see `reader::row_key`).
    Key,
    /// The person a `[thread]` found for the row's message.
    ThreadPerson,
    /// The contact a `[thread]` found for the row's message: the id of the message that
    /// opened it.
    ThreadContact,
}

/// What a `[thread]` found for one row; both empty when its chain reaches no person.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    pub(crate) person: String,
    pub(crate) contact: String,
    /// Why both are empty, for the count of skipped events.
    pub(crate) why_not: Option<&'static str>,
}

/// Settings that rendering needs (date formats, yes/no words…).
#[derive(Debug, Clone)]
pub(crate) struct Env {
    pub(crate) source: String,
    pub(crate) file: String,
    pub(crate) currency: String,
    pub(crate) date_formats: Vec<String>,
    pub(crate) timezone: FixedOffset,
    pub(crate) yes: Vec<String>,
    pub(crate) no: Vec<String>,
    pub(crate) decimal_comma: bool,
}

/// One row as templates see it.
pub(crate) struct Row<'a> {
    pub(crate) cells: &'a [String],
    pub(crate) headers: &'a [String],
    pub(crate) line: u64,
    /// The row's content key, for `{_key}`.
    pub(crate) key: &'a str,
    pub(crate) slots: &'a HashMap<String, Slot>,
    pub(crate) env: &'a Env,
    pub(crate) found: Option<&'a Found>,
}

impl Row<'_> {
    pub(crate) fn value(&self, name: &str) -> String {
        match self.slots.get(name) {
            Some(Slot::Cell(i)) => self.cells.get(*i).cloned().unwrap_or_default(),
            Some(Slot::Line) => self.line.to_string(),
            Some(Slot::Source) => self.env.source.clone(),
            Some(Slot::File) => self.env.file.clone(),
            Some(Slot::Currency) => self.env.currency.clone(),
            Some(Slot::Key) => self.key.to_owned(),
            Some(Slot::ThreadPerson) => self.found.map(|f| f.person.clone()).unwrap_or_default(),
            Some(Slot::ThreadContact) => self.found.map(|f| f.contact.clone()).unwrap_or_default(),
            Some(Slot::Absent) | None => String::new(),
        }
    }

    /// The header name of the column a name reads, if it reads one.
    pub(crate) fn column(&self, name: &str) -> Option<String> {
        match self.slots.get(name) {
            Some(Slot::Cell(i)) => self.headers.get(*i).cloned(),
            _ => None,
        }
    }

    /// Whether a cell says yes; `Err` when it is in neither word list.
    pub(crate) fn yes(&self, name: &str) -> Result<bool, CellError> {
        let v = self.value(name);
        yes_no(&v, self.env).ok_or_else(|| CellError {
            column: self.column(name),
            message: format!(
                "{v:?} is neither a yes ({}) nor a no ({})",
                self.env.yes.join(", "),
                self.env
                    .no
                    .iter()
                    .filter(|w| !w.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// `Some(true)` for a yes word, `Some(false)` for a no word or an empty cell.
pub(crate) fn yes_no(v: &str, env: &Env) -> Option<bool> {
    let v = v.trim().to_lowercase();
    if env.yes.iter().any(|w| w.to_lowercase() == v) {
        Some(true)
    } else if v.is_empty() || env.no.iter().any(|w| w.to_lowercase() == v) {
        Some(false)
    } else {
        None
    }
}

fn apply(f: &Filter, v: String, name: &str, row: &Row<'_>) -> Result<String, CellError> {
    Ok(match f {
        Filter::Trim => v.trim().to_owned(),
        Filter::Id => id(&v).to_owned(),
        Filter::Upper => v.to_uppercase(),
        Filter::Lower => v.to_lowercase(),
        Filter::Abs => {
            let t = v.trim();
            t.strip_prefix('-').unwrap_or(t).to_owned()
        }
        Filter::Neg => {
            let t = v.trim();
            if t.is_empty() {
                String::new()
            } else if let Some(rest) = t.strip_prefix('-') {
                rest.to_owned()
            } else {
                format!("-{}", t.strip_prefix('+').unwrap_or(t))
            }
        }
        Filter::YesNo => match yes_no(&v, row.env) {
            Some(true) => "true".to_owned(),
            Some(false) => "false".to_owned(),
            None => v,
        },
        Filter::Decimal => decimal(&v, row.env.decimal_comma),
        Filter::Date(fmt) => {
            if v.trim().is_empty() {
                return Ok(String::new());
            }
            let formats = match fmt {
                Some(f) => std::slice::from_ref(f),
                None => row.env.date_formats.as_slice(),
            };
            let moment =
                parse_moment(&v, formats, row.env.timezone).map_err(|message| CellError {
                    column: row.column(name),
                    // The mapping's own formats are changed with --set; a filter's are not.
                    message: if fmt.is_none() {
                        super::guess::with_hint(message, &v)
                    } else {
                        message
                    },
                })?;
            moment.date_naive().format("%Y-%m-%d").to_string()
        }
        Filter::Or(other) => {
            if v.trim().is_empty() {
                row.value(other)
            } else {
                v
            }
        }
        Filter::Default(text) => {
            if v.trim().is_empty() {
                text.clone()
            } else {
                v
            }
        }
    })
}

/// An identifier as the source system wrote it, when a spreadsheet on the way turned it
/// into a number: `17850.0` and `3.00` → `17850` and `3`. Only a whole number with nothing
/// but zeros after the point is changed, so `3.5` or `A-3.0` stay as they are. Scientific
/// notation (`1.2E+3`) is left alone too: the digits a spreadsheet cut from it cannot be
/// put back (the reader warns about it, see [`looks_scientific`]).
pub(crate) fn id(v: &str) -> &str {
    let t = v.trim();
    match t.split_once('.') {
        Some((whole, zeros))
            if !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && !zeros.is_empty()
                && zeros.bytes().all(|b| b == b'0') =>
        {
            whole
        }
        _ => t,
    }
}

/// Whether an identifier looks like a number a spreadsheet wrote in scientific notation
/// (`1.19237E+17`), which has usually lost digits on the way.
pub(crate) fn looks_scientific(v: &str) -> bool {
    let t = v.trim();
    let Some((mantissa, exponent)) = t.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
}

/// Strips currency symbols, spaces and thousands separators; with `decimal_comma` the comma
/// is the decimal mark. A separator is only dropped where three digits follow it, so
/// `12,50` is left for the domain to refuse rather than silently read as 1250. Text with no
/// digit at all is returned unchanged, so the domain's error quotes what was written.
pub(crate) fn decimal(v: &str, decimal_comma: bool) -> String {
    let t = v.trim();
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return t.to_owned();
    }
    let (sep, point) = if decimal_comma {
        ('.', ',')
    } else {
        (',', '.')
    };
    let kept: Vec<char> = t
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | ',' | '(' | ')'))
        .collect();
    let negative_parens = kept.first() == Some(&'(') && kept.last() == Some(&')');
    let kept: Vec<char> = kept
        .into_iter()
        .filter(|c| !matches!(c, '(' | ')'))
        .collect();
    let mut out = String::new();
    for (i, &c) in kept.iter().enumerate() {
        if c == sep {
            let digits = kept[i + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .count();
            let next = kept.get(i + 1 + digits);
            if digits == 3
                && i > 0
                && kept[i - 1].is_ascii_digit()
                && next.is_none_or(|n| *n == sep || *n == point)
            {
                continue;
            }
            out.push(c);
        } else if c == point {
            out.push('.');
        } else {
            out.push(c);
        }
    }
    if negative_parens && !out.starts_with('-') {
        out.insert(0, '-');
    }
    out
}

/// Formats always tried after the mapping's own.
const ISO_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
];

/// Reads a date or date-time: RFC 3339, then each format, then ISO forms. A local time
/// without an offset is taken in `tz`; a date alone is midnight.
pub(crate) fn parse_moment(
    v: &str,
    formats: &[String],
    tz: FixedOffset,
) -> Result<DateTime<FixedOffset>, String> {
    let t = v.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt);
    }
    let all = formats.iter().map(String::as_str).chain(ISO_FORMATS);
    for fmt in all {
        if fmt.contains("%z") || fmt.contains("%:z") || fmt.contains("%#z") {
            if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
                return Ok(dt);
            }
            continue;
        }
        let naive = NaiveDateTime::parse_from_str(t, fmt).ok().or_else(|| {
            NaiveDate::parse_from_str(t, fmt)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
        if let Some(n) = naive
            && let Some(dt) = tz.from_local_datetime(&n).single()
        {
            return Ok(dt);
        }
    }
    let mut tried: Vec<&str> = formats.iter().map(String::as_str).collect();
    tried.push("RFC 3339");
    tried.push("%Y-%m-%d");
    Err(format!(
        "{t:?} is not a date or time in any of the formats {}",
        tried.join(", ")
    ))
}

/// RFC 3339 with whole seconds, `Z` for UTC.
pub(crate) fn rfc3339(dt: DateTime<FixedOffset>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a fixed offset such as `+01:00`, `-0500`, `Z` or `UTC`.
pub(crate) fn parse_offset(s: &str) -> Option<FixedOffset> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}
