//! The product catalogue's two CSV files: `factors.csv` declares the hidden costs tracked
//! (`factor,unit,source`, one row each), `products.csv` gives per product its id, an optional
//! name and one column per declared factor with the figure for one unit.
//!
//! Both files are read whole (a catalogue is small) and checked completely before anything
//! is returned: every bad row is reported at once, as `file:line: field `x`: message`, and a
//! file with any error gives no catalogue at all, so the ledger never holds half of one.
//! An empty cell means the figure is unknown — never zero.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::values::Label;

use crate::{RowError, norm};

/// Header names accepted for the product id and the product name (compared without case,
/// spaces or punctuation).
pub const ID_COLUMNS: &[&str] = &["product", "product_id", "id", "sku", "StockCode", "code"];
pub const NAME_COLUMNS: &[&str] = &["name", "product_name", "description", "Description"];

/// Most errors listed in the message (all are kept in the value).
const SHOWN: usize = 20;
/// Longest product name kept: longer is a column mix-up, not a name.
const MAX_NAME: usize = 500;

/// Why a catalogue could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Every problem found, in file order; nothing was read.
    #[error("{}", Listed(.0))]
    Invalid(Vec<RowError>),
}

struct Listed<'a>(&'a [RowError]);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the catalogue has {n} {}; nothing was imported",
            if n == 1 { "error" } else { "errors" }
        )?;
        for e in self.0.iter().take(SHOWN) {
            write!(f, "\n  {e}")?;
        }
        if n > SHOWN {
            write!(f, "\n  … and {} more", n - SHOWN)?;
        }
        Ok(())
    }
}

/// Reads both files into a catalogue.
pub fn read(products: &Path, factors: &Path) -> Result<Catalogue, CatalogueError> {
    let load = |p: &Path| {
        std::fs::read(p).map_err(|source| CatalogueError::Io {
            file: p.to_owned(),
            source,
        })
    };
    let factor_bytes = load(factors)?;
    let product_bytes = load(products)?;
    let factors = parse_factors(factors, &factor_bytes).map_err(CatalogueError::Invalid)?;
    let products =
        parse_products(products, &product_bytes, &factors).map_err(CatalogueError::Invalid)?;
    // The checks above cover what `Catalogue::new` checks; this only guards the contract.
    Catalogue::new(factors, products).map_err(|e| {
        CatalogueError::Invalid(vec![RowError {
            file: PathBuf::new(),
            line: 0,
            field: None,
            message: e.to_string(),
            raw: None,
        }])
    })
}

/// The rows of a small CSV file: the delimiter (`,` or `;`) from the header line, a byte
/// order mark dropped, each record with its line number.
struct Table {
    delimiter: u8,
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

fn table(file: &Path, bytes: &[u8]) -> Result<Table, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for b in first {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    let delimiter = if semis > commas { b';' } else { b',' };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut header = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
                if cells.iter().all(String::is_empty) {
                    continue;
                }
                if header.is_none() {
                    header = Some(cells);
                } else {
                    rows.push((line, cells));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8 text".to_owned(),
                    _ => e.to_string(),
                };
                return Err(vec![err(file, line, None, message)]);
            }
        }
    }
    let Some(header) = header else {
        return Err(vec![err(file, 1, None, "is empty: it needs a header line")]);
    };
    // A column without a name (a trailing delimiter, as spreadsheets write) is ignored as long
    // as it is empty; a value in it is an error rather than a guess.
    let mut errors = Vec::new();
    for (line, cells) in &rows {
        for (i, cell) in cells.iter().enumerate() {
            if !cell.is_empty() && header.get(i).is_some_and(String::is_empty) {
                errors.push(err(
                    file,
                    *line,
                    None,
                    format!(
                        "{cell:?} is in column {}, which has no name in the header",
                        i + 1
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Table {
        delimiter,
        header,
        rows,
    })
}

fn err(file: &Path, line: u64, field: Option<&str>, message: impl Into<String>) -> RowError {
    RowError {
        file: file.to_owned(),
        line,
        field: field.map(str::to_owned),
        message: message.into(),
        raw: None,
    }
}

/// A row with fewer or more cells than the header is one error, not a cascade.
fn width_error(file: &Path, line: u64, got: usize, want: usize) -> RowError {
    err(
        file,
        line,
        None,
        format!("has {got} cells; the header has {want}"),
    )
}

/// Reads `factors.csv`: one row per factor with its unit and source.
pub fn parse_factors(file: &Path, bytes: &[u8]) -> Result<Vec<Factor>, Vec<RowError>> {
    let t = table(file, bytes)?;
    let mut errors = Vec::new();
    let (mut name_at, mut unit_at, mut source_at) = (None, None, None);
    for (i, h) in t.header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let slot = match norm(h).as_str() {
            "factor" => &mut name_at,
            "unit" => &mut unit_at,
            "source" => &mut source_at,
            _ => {
                errors.push(err(
                    file,
                    1,
                    Some(h),
                    "unknown column; factors.csv has the columns factor, unit, source",
                ));
                continue;
            }
        };
        if slot.is_some() {
            errors.push(err(file, 1, Some(h), "appears twice in the header"));
        }
        *slot = Some(i);
    }
    for (at, name) in [
        (name_at, "factor"),
        (unit_at, "unit"),
        (source_at, "source"),
    ] {
        if at.is_none() {
            errors.push(err(
                file,
                1,
                Some(name),
                "column is missing (the header must name factor, unit, source)",
            ));
        }
    }
    let (Some(name_at), Some(unit_at), Some(source_at)) = (name_at, unit_at, source_at) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut factors: Vec<Factor> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let header_name = &t.header[name_at];
    for (line, cells) in &t.rows {
        if cells.len() != t.header.len() {
            errors.push(width_error(file, *line, cells.len(), t.header.len()));
            continue;
        }
        let cell = |i: usize| cells[i].as_str();
        let name = match Label::parse(cell(name_at)) {
            Ok(n) => n,
            Err(e) => {
                errors.push(err(file, *line, Some(header_name), e.0));
                continue;
            }
        };
        if let Some(first) = first_line.get(&norm(name.as_str())) {
            errors.push(err(
                file,
                *line,
                Some(header_name),
                format!(
                    "{:?} is declared twice (first on line {first})",
                    name.as_str()
                ),
            ));
            continue;
        }
        first_line.insert(norm(name.as_str()), *line);
        if norm(name.as_str()).is_empty() {
            errors.push(err(
                file,
                *line,
                Some(header_name),
                format!("{:?} needs at least one letter or digit", name.as_str()),
            ));
            continue;
        }
        let unit = match Label::parse(cell(unit_at)) {
            Ok(u) => Some(u),
            Err(_) if cell(unit_at).is_empty() => {
                errors.push(err(
                    file,
                    *line,
                    Some(&t.header[unit_at]),
                    format!(
                        "is empty; factor {:?} needs its unit (e.g. kg CO2e, litres, g)",
                        name.as_str()
                    ),
                ));
                None
            }
            Err(e) => {
                errors.push(err(file, *line, Some(&t.header[unit_at]), e.0));
                None
            }
        };
        let source = cell(source_at);
        if source.is_empty() {
            errors.push(err(
                file,
                *line,
                Some(&t.header[source_at]),
                format!(
                    "is empty; say where the figures of {:?} come from",
                    name.as_str()
                ),
            ));
            continue;
        }
        if source.chars().any(char::is_control) {
            errors.push(err(
                file,
                *line,
                Some(&t.header[source_at]),
                "contains a control character",
            ));
            continue;
        }
        if let Some(unit) = unit {
            factors.push(Factor {
                name,
                unit,
                source: source.to_owned(),
            });
        }
    }
    if errors.is_empty() && factors.is_empty() {
        errors.push(err(file, 1, None, "declares no factor"));
    }
    if errors.is_empty() {
        Ok(factors)
    } else {
        Err(errors)
    }
}

/// Reads a per-unit figure: a decimal with `.` (or `,` when `;` separates cells), zero or
/// more. No exponents, no `inf` or `NaN`: those are never what a catalogue means.
fn number(raw: &str, decimal_comma: bool) -> Result<PerUnit, String> {
    let s = if decimal_comma && !raw.contains('.') {
        raw.replacen(',', ".", 1)
    } else {
        raw.to_owned()
    };
    let plain = s
        .strip_prefix(['-', '+'])
        .unwrap_or(&s)
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.');
    let value = if plain && s.chars().any(|c| c.is_ascii_digit()) {
        s.parse::<f64>().ok()
    } else {
        None
    };
    match value {
        None => Err(format!("{raw:?} is not a number")),
        Some(v) if v < 0.0 => Err(format!(
            "{raw} is negative; a hidden cost per unit is zero or more"
        )),
        Some(v) => PerUnit::new(v).map_err(|e| e.0),
    }
}

/// Reads `products.csv` against the declared factors.
pub fn parse_products(
    file: &Path,
    bytes: &[u8],
    factors: &[Factor],
) -> Result<Vec<Product>, Vec<RowError>> {
    let t = table(file, bytes)?;
    let mut errors = Vec::new();
    let ids: Vec<String> = ID_COLUMNS.iter().map(|c| norm(c)).collect();
    let names: Vec<String> = NAME_COLUMNS.iter().map(|c| norm(c)).collect();
    let declared: Vec<String> = factors.iter().map(|f| norm(f.name.as_str())).collect();
    let (mut id_at, mut name_at) = (None, None);
    // factor_at[i] = the column of factor i.
    let mut factor_at: Vec<Option<usize>> = vec![None; factors.len()];
    for (col, h) in t.header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let n = norm(h);
        if let Some(f) = declared.iter().position(|d| *d == n) {
            if factor_at[f].is_some() {
                errors.push(err(file, 1, Some(h), "appears twice in the header"));
            }
            factor_at[f] = Some(col);
        } else if id_at.is_none() && ids.contains(&n) {
            id_at = Some(col);
        } else if name_at.is_none() && names.contains(&n) {
            name_at = Some(col);
        } else {
            let list: Vec<&str> = factors.iter().map(|f| f.name.as_str()).collect();
            errors.push(err(
                file,
                1,
                Some(h),
                format!(
                    "unknown factor column; declared factors are {}",
                    list.join(", ")
                ),
            ));
        }
    }
    let Some(id_at) = id_at else {
        errors.push(err(
            file,
            1,
            None,
            format!(
                "no product id column; name one of {}",
                ID_COLUMNS.join(", ")
            ),
        ));
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let decimal_comma = t.delimiter == b';';
    let id_field = t.header[id_at].as_str();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut products = Vec::with_capacity(t.rows.len());
    for (line, cells) in &t.rows {
        if cells.len() != t.header.len() {
            errors.push(width_error(file, *line, cells.len(), t.header.len()));
            continue;
        }
        let mut ok = true;
        let id = match Label::parse(&cells[id_at]) {
            Ok(id) => Some(id),
            Err(_) if cells[id_at].is_empty() => {
                errors.push(err(
                    file,
                    *line,
                    Some(id_field),
                    "is empty; every product needs its id",
                ));
                ok = false;
                None
            }
            Err(e) => {
                errors.push(err(file, *line, Some(id_field), e.0));
                ok = false;
                None
            }
        };
        if let Some(id) = &id {
            if let Some(first) = first_line.get(id.as_str()) {
                errors.push(err(
                    file,
                    *line,
                    Some(id_field),
                    format!("{:?} is listed twice (first on line {first})", id.as_str()),
                ));
                ok = false;
            } else {
                first_line.insert(id.as_str().to_owned(), *line);
            }
        }
        let name = match name_at.map(|i| cells[i].as_str()) {
            None | Some("") => None,
            Some(n) if n.len() > MAX_NAME => {
                errors.push(err(
                    file,
                    *line,
                    Some(&t.header[name_at.unwrap_or(0)]),
                    format!("is longer than {MAX_NAME} bytes"),
                ));
                ok = false;
                None
            }
            Some(n) => Some(
                n.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect::<String>(),
            ),
        };
        let mut values = Vec::with_capacity(factors.len());
        for (f, at) in factor_at.iter().enumerate() {
            let raw = at.map_or("", |i| cells[i].as_str());
            if raw.is_empty() {
                values.push(None);
                continue;
            }
            match number(raw, decimal_comma) {
                Ok(v) => values.push(Some(v)),
                Err(m) => {
                    let field = at.map_or(factors[f].name.as_str(), |i| t.header[i].as_str());
                    errors.push(err(file, *line, Some(field), m));
                    ok = false;
                }
            }
        }
        if let (true, Some(id)) = (ok, id) {
            products.push(Product { id, name, values });
        }
    }
    if errors.is_empty() {
        Ok(products)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_decimals() {
        for (raw, comma, want) in [
            ("1.5", false, Some(1.5)),
            ("0", false, Some(0.0)),
            ("+2", false, Some(2.0)),
            (".5", false, Some(0.5)),
            ("1,5", true, Some(1.5)),
            ("1,5", false, None),
            ("1e3", false, None),
            ("inf", false, None),
            ("NaN", false, None),
            ("abc", false, None),
            ("-", false, None),
            ("1.2.3", false, None),
            ("-1", false, None),
        ] {
            assert_eq!(
                number(raw, comma).ok().map(PerUnit::get),
                want,
                "{raw:?} comma={comma}"
            );
        }
    }

    #[test]
    fn a_negative_figure_says_it_is_negative() {
        assert!(number("-0.5", false).unwrap_err().contains("negative"));
    }
}
