//! Bank statements as banks give them: ISO 20022 camt.053 (versions .001.02 to .001.08 and
//! later) and SWIFT MT940, read into typed [`Statement`]s with one [`Entry`] per booked
//! movement (a batch booking with several transactions is one entry per transaction).
//!
//! Pure: bytes in, statements or a [`crate::einvoice::DocError`] out. Deciding which credits
//! pay which invoices is [`crate::matching`]'s.

mod camt;
mod mt940;

#[doc(hidden)]
pub mod bench;

#[cfg(test)]
mod tests;

use domain::{Amount, Currency, Day};
use rustc_hash::FxHashMap;

use crate::einvoice::DocError;

/// Money in or out of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Credit,
    Debit,
}

/// One booked movement on the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique for this account and never reused by the bank: the servicer's reference
    /// (`AcctSvcrRef`, MT940's bank reference) where given, else the statement's id and the
    /// entry's place in it (`STMT-1/3`, and `/2` for the second transaction of a batch).
    pub id: String,
    /// 1-based line of the file where the entry starts.
    pub line: u64,
    pub booked: Day,
    /// Always positive; [`Entry::direction`] says which way.
    pub amount: Amount,
    pub currency: Currency,
    pub direction: Direction,
    /// A return or reversal of an earlier movement (`RvslInd`, a return's bank transaction
    /// code, MT940's `RC`/`RD`): never a payment.
    pub reversal: bool,
    /// The other party's name (the debtor, for a credit).
    pub counterparty: Option<String>,
    /// The other party's account, as an IBAN without spaces where it is one.
    pub iban: Option<String>,
    /// The structured creditor reference (ISO 11649 `RF…`, or another scheme's reference),
    /// without spaces.
    pub reference: Option<String>,
    /// Unstructured remittance text, lines joined with a space.
    pub text: Option<String>,
}

/// One statement of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `camt.053.001.08`, `MT940`.
    pub format: String,
    /// The statement's own id (`Stmt/Id`, MT940 `:20:`/`:28C:`).
    pub id: String,
    /// The account's IBAN (or other id) without spaces.
    pub account: Option<String>,
    pub entries: Vec<Entry>,
}

/// Whether bytes look like a camt.053 document or an MT940 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankFormat {
    Camt053,
    Mt940,
}

/// How far into a file [`sniff`] looks.
const SNIFF_LEN: usize = 4096;

/// Tells camt.053 and MT940 apart from their first bytes.
///
/// camt.053: XML whose first 4 KiB name the message (`camt.053` in the namespace, or the
/// `BkToCstmrStmt` element). MT940: a SWIFT block wrapper (`{1:`), or lines starting with
/// `:20:` and `:25:` in the first 4 KiB. Anything else (another camt message, a CSV export)
/// is `None`.
pub fn sniff(bytes: &[u8]) -> Option<BankFormat> {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if head.starts_with(b"<") {
        let named = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        return (named(b"camt.053") || named(b"BkToCstmrStmt")).then_some(BankFormat::Camt053);
    }
    if head.starts_with(b"{1:") {
        return Some(BankFormat::Mt940);
    }
    let mut tags = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_prefix(b"{4:").unwrap_or(l));
    let twenty = tags.by_ref().any(|l| l.starts_with(b":20:"));
    (twenty && tags.any(|l| l.starts_with(b":25:"))).then_some(BankFormat::Mt940)
}

/// Reads a camt.053 document (one or more statements).
///
/// Only booked entries are kept (`Sts` `BOOK`); pending and information-only entries are
/// left out. A batch booking with several `TxDtls` gives one [`Entry`] per transaction.
pub fn parse_camt053(bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    camt::parse(bytes)
}

/// Reads an MT940 file (one or more statements).
///
/// The `:86:` information is read in the German `?20` subfield form, the Dutch `/NAME/…/REMI/`
/// slash form, or as free text.
pub fn parse_mt940(bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    mt940::parse(bytes)
}

/// Whether a reference is a valid ISO 11649 creditor reference (`RF` + check digits, mod 97).
///
/// Spaces are allowed anywhere (the printed form groups by four: `RF18 5390 0754 7034`);
/// letters may be in either case.
pub fn is_creditor_reference(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| *b != b' ').collect();
    if !(5..=25).contains(&compact.len())
        || !compact[..2].eq_ignore_ascii_case(b"RF")
        || !compact[2..4].iter().all(u8::is_ascii_digit)
        || !compact[4..].iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    mod97(&compact[4..], &compact[..4]) == Some(1)
}

/// Whether `s` (without spaces) is an IBAN whose check digits are right.
pub(crate) fn is_iban(s: &str) -> bool {
    let b = s.as_bytes();
    (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
        && mod97(&b[4..], &b[..4]) == Some(1)
}

/// ISO 7064 mod 97-10 of `body` followed by `head`, letters counting as 10 to 35 (the
/// check of both IBANs and creditor references). `None` for anything not alphanumeric.
fn mod97(body: &[u8], head: &[u8]) -> Option<u32> {
    let mut r: u32 = 0;
    for &b in body.iter().chain(head) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    Some(r)
}

/// Removes every whitespace character (IBANs and references are printed in groups of four).
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// An account as the file writes it: an IBAN upper-cased without spaces, anything else
/// (`Othr/Id`, a national account number) without spaces. `None` when empty.
fn account_id(s: &str) -> Option<String> {
    let c = compact(s);
    if c.is_empty() {
        return None;
    }
    let upper = c.to_ascii_uppercase();
    Some(if is_iban(&upper) { upper } else { c })
}

/// Text as a person wrote it: runs of whitespace made one space, `None` when empty.
fn clean_text(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// Parses a positive amount with at most the currency's decimals.
fn parse_amount(s: &str, currency: Currency) -> Result<Amount, String> {
    let a = Amount::parse(s, currency.decimals()).map_err(|e| e.to_string())?;
    if a.is_negative() {
        return Err(format!(
            "{s:?} is negative; amounts are written positive with a credit/debit mark"
        ));
    }
    Ok(a)
}

/// Banks repeat their own references more often than they should (`NONREF`, one reference
/// for a whole batch): ids found twice in one statement fall back to the statement's id and
/// the entry's place in it, so that [`Entry::id`] stays unique.
fn unique_ids(statement: &mut Statement, fallbacks: &[String]) {
    let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
    for e in &statement.entries {
        *seen.entry(e.id.as_str()).or_default() += 1;
    }
    let twice: Vec<bool> = statement
        .entries
        .iter()
        .map(|e| seen.get(e.id.as_str()).is_some_and(|&n| n > 1))
        .collect();
    for ((e, twice), fallback) in statement.entries.iter_mut().zip(twice).zip(fallbacks) {
        if twice {
            e.id.clone_from(fallback);
        }
    }
}

/// `YYYY` from a two-digit year: SWIFT's `YYMMDD` is read as 1980–2079.
fn century(yy: u32) -> i32 {
    if yy < 80 {
        2000 + yy as i32
    } else {
        1900 + yy as i32
    }
}

/// A [`Day`] from parts, or `None` when the date does not exist.
fn day(y: i32, m: u32, d: u32) -> Option<Day> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(Day::from_date)
}

/// The error for one place in the file.
fn doc_error(line: u64, field: &str, message: impl Into<String>) -> DocError {
    DocError {
        line,
        field: (!field.is_empty()).then(|| field.to_owned()),
        message: message.into(),
    }
}
