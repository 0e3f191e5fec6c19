//! MT940 (SWIFT customer statement), as banks export it: fields `:TAG:` at the start of a
//! line, continued on the lines after, several statements one after another, with or
//! without the SWIFT block wrapper `{1:…}{2:…}{4:` … `-}`.
//!
//! The `:86:` information is where each bank writes differently: German banks (and the
//! DFÜ agreement) use `?20`–`?29` subfields with SEPA tags (`EREF+`, `SVWZ+`…), Dutch banks
//! a slash form (`/NAME/…/REMI/…`), others free text. All three are read; the cost of
//! guessing the form from the text is that free text that happens to start with `/NAME/`
//! would be read as the slash form.

use domain::{Currency, Day};

use super::{
    Direction, Entry, Statement, account_id, century, clean_text, compact, day, doc_error,
    is_creditor_reference, is_iban, parse_amount, unique_ids,
};
use crate::einvoice::DocError;

pub(super) fn parse(bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // MT940 files from German banks are often Latin-1; every byte is a character there.
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    };
    let fields = fields(&text);
    if !fields.iter().any(|f| f.tag == "20") {
        return Err(doc_error(
            1,
            "",
            "not an MT940 statement: no :20: field starts a statement",
        ));
    }
    let mut out = Vec::new();
    let mut st: Option<Open> = None;
    let mut after_61 = false;
    for f in &fields {
        let err = |m: String| doc_error(f.line, &format!(":{}:", f.tag), m);
        if f.tag == "20" {
            if let Some(open) = st.take() {
                out.push(open.finish()?);
            }
            st = Some(Open {
                reference: f.value.trim().to_owned(),
                line: f.line,
                ..Open::default()
            });
            after_61 = false;
            continue;
        }
        let Some(open) = st.as_mut() else {
            return Err(err(
                "comes before any :20: field starts a statement".to_owned()
            ));
        };
        match f.tag {
            "25" => open.account = Some(account(f.value.trim())),
            "28C" | "28" => open.number = Some(compact(f.value.trim())),
            "60F" | "60M" => {
                let (_, ccy) = balance(f.value.trim()).map_err(err)?;
                open.currency = Some(ccy);
            }
            "62F" | "62M" => {
                balance(f.value.trim()).map_err(err)?;
                open.closed = true;
            }
            "61" => {
                if open.account.is_none() {
                    return Err(err(
                        "a statement line comes before the account :25:".to_owned()
                    ));
                }
                let Some(ccy) = open.currency else {
                    return Err(err(
                        "a statement line comes before the opening balance :60F: that gives the currency"
                            .to_owned(),
                    ));
                };
                let line = statement_line(&f.value, ccy).map_err(err)?;
                open.lines.push((f.line, line));
            }
            "86" if after_61 => {
                if let Some((_, l)) = open.lines.last_mut() {
                    l.info = Some(information(&f.value));
                }
            }
            _ => {}
        }
        after_61 = f.tag == "61";
    }
    if let Some(open) = st {
        out.push(open.finish()?);
    }
    Ok(out)
}

/// One field: its tag (`61`, `28C`), the line it starts on, and its value with its
/// continuation lines (joined with `\n`).
struct Field<'a> {
    tag: &'a str,
    line: u64,
    value: String,
}

/// Splits the file into fields, dropping the SWIFT block wrapper and header lines.
fn fields(text: &str) -> Vec<Field<'_>> {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut in_field = false;
    for (n, raw) in text.lines().enumerate() {
        let line = n as u64 + 1;
        let mut l = raw.trim_end_matches('\r');
        if l.starts_with('{') {
            // `{1:F01…}{2:I940…}{4:` then maybe the first field.
            match l.find("{4:") {
                Some(i) => l = &l[i + 3..],
                None => {
                    in_field = false;
                    continue;
                }
            }
        }
        if l.starts_with("-}") || l == "-" {
            in_field = false;
            continue;
        }
        if let Some((tag, rest)) = tag(l) {
            out.push(Field {
                tag,
                line,
                value: rest.to_owned(),
            });
            in_field = true;
        } else if let Some(f) = out.last_mut().filter(|_| in_field) {
            f.value.push('\n');
            f.value.push_str(l);
        }
    }
    out
}

/// `:61:rest` → (`61`, `rest`): two digits and an optional letter between colons.
fn tag(l: &str) -> Option<(&str, &str)> {
    let rest = l.strip_prefix(':')?;
    let end = rest.find(':')?;
    let t = &rest[..end];
    let b = t.as_bytes();
    let ok = (b.len() == 2 || b.len() == 3)
        && b[..2].iter().all(u8::is_ascii_digit)
        && b.get(2).is_none_or(u8::is_ascii_alphabetic);
    ok.then(|| (t, &rest[end + 1..]))
}

/// A statement being read.
#[derive(Default)]
struct Open {
    reference: String,
    number: Option<String>,
    account: Option<String>,
    currency: Option<Currency>,
    closed: bool,
    line: u64,
    lines: Vec<(u64, Line)>,
}

impl Open {
    fn finish(self) -> Result<Statement, DocError> {
        if !self.closed {
            return Err(doc_error(
                self.line,
                ":62F:",
                "the statement has no closing balance :62F: (is the file cut short?)",
            ));
        }
        let id = match &self.number {
            Some(n) => format!("{}/{n}", self.reference),
            None => self.reference.clone(),
        };
        let mut fallbacks = Vec::with_capacity(self.lines.len());
        let mut entries = Vec::with_capacity(self.lines.len());
        for (place, (line, l)) in self.lines.into_iter().enumerate() {
            let fallback = format!("{id}/{}", place + 1);
            let info = l.info.unwrap_or_default();
            let mut text = info.text;
            if text.is_none() {
                text = l.details.as_deref().and_then(clean_text);
            }
            entries.push(Entry {
                id: l.bank_ref.unwrap_or_else(|| fallback.clone()),
                line,
                booked: l.booked,
                amount: l.amount,
                currency: l.currency,
                direction: l.direction,
                reversal: l.reversal || info.returned,
                counterparty: info.name,
                iban: info.iban,
                reference: info.reference,
                text,
            });
            fallbacks.push(fallback);
        }
        let mut statement = Statement {
            format: "MT940".to_owned(),
            id,
            account: self.account,
            entries,
        };
        unique_ids(&mut statement, &fallbacks);
        Ok(statement)
    }
}

/// `:25:` as an id: an IBAN (a currency after it dropped), or `BANKCODE/ACCOUNT` as given.
fn account(s: &str) -> String {
    let c = compact(s);
    let upper = c.to_ascii_uppercase();
    let candidates = [upper.as_str(), upper.rsplit('/').next().unwrap_or("")];
    for cand in candidates {
        if is_iban(cand) {
            return cand.to_owned();
        }
        let n = cand.len();
        if n > 3
            && cand.is_char_boundary(n - 3)
            && cand[n - 3..].bytes().all(|b| b.is_ascii_alphabetic())
        {
            let bare = &cand[..n - 3];
            if is_iban(bare) {
                return bare.to_owned();
            }
        }
    }
    // `10020030/1234567890EUR`: a currency after a national account number.
    let n = c.len();
    if n > 3
        && c.is_char_boundary(n - 3)
        && c[n - 3..].bytes().all(|b| b.is_ascii_uppercase())
        && c[..n - 3].ends_with(|ch: char| ch.is_ascii_digit())
    {
        return c[..n - 3].to_owned();
    }
    account_id(&c).unwrap_or(c)
}

/// `C240430EUR10250,00` → (day, currency).
fn balance(s: &str) -> Result<(Day, Currency), String> {
    let b = s.as_bytes();
    if b.len() < 11 || !matches!(b[0], b'C' | b'D') {
        return Err(format!("{s:?} is not a balance such as C240430EUR1234,56"));
    }
    let day = yymmdd(
        s.get(1..7)
            .ok_or_else(|| format!("{s:?} has no date YYMMDD after the mark"))?,
    )?;
    let ccy = s
        .get(7..10)
        .ok_or_else(|| format!("{s:?} has no currency"))?;
    let ccy = Currency::parse(ccy).map_err(|e| e.to_string())?;
    amount(s.get(10..).unwrap_or_default(), ccy)?;
    Ok((day, ccy))
}

fn yymmdd(s: &str) -> Result<Day, String> {
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a date YYMMDD"));
    }
    match (n(0..2), n(2..4), n(4..6)) {
        (Some(y), Some(m), Some(d)) => {
            day(century(y), m, d).ok_or_else(|| format!("{s:?} is not a date that exists"))
        }
        _ => Err(format!("{s:?} is not a date YYMMDD")),
    }
}

/// `1234,56` (SWIFT writes a comma for the decimal point).
fn amount(s: &str, ccy: Currency) -> Result<domain::Amount, String> {
    if s.is_empty() || s.contains('.') {
        return Err(format!("{s:?} is not an amount such as 1234,56"));
    }
    parse_amount(&s.replacen(',', ".", 1), ccy)
        .map_err(|e| format!("{s:?} is not an amount such as 1234,56 ({e})"))
}

/// A `:61:` statement line.
struct Line {
    booked: Day,
    direction: Direction,
    reversal: bool,
    amount: domain::Amount,
    currency: Currency,
    bank_ref: Option<String>,
    details: Option<String>,
    info: Option<Info>,
}

/// `YYMMDD[MMDD](C|D|RC|RD)[funds code]amount(N|F|S)xxx[customer ref][//bank ref]` and
/// supplementary details on the next line.
fn statement_line(value: &str, ccy: Currency) -> Result<Line, String> {
    let (first, details) = match value.split_once('\n') {
        Some((a, b)) => (a, clean_text(b)),
        None => (value, None),
    };
    let s = first.trim();
    let value_date = yymmdd(
        s.get(..6)
            .ok_or_else(|| format!("{s:?} has no value date YYMMDD"))?,
    )?;
    let mut rest = &s[6..];
    let mut booked = value_date;
    if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        let (m, d) = (
            rest[..2].parse::<u32>().unwrap_or(0),
            rest[2..4].parse::<u32>().unwrap_or(0),
        );
        // The entry date has no year: take the one nearest the value date (a booking on
        // 31 December valued on 2 January is in the year before).
        let y = value_date
            .date()
            .format("%Y")
            .to_string()
            .parse::<i32>()
            .unwrap_or(2000);
        booked = [y - 1, y, y + 1]
            .into_iter()
            .filter_map(|y| day(y, m, d))
            .min_by_key(|b| {
                (i64::from(b.days_since_epoch()) - i64::from(value_date.days_since_epoch())).abs()
            })
            .ok_or_else(|| format!("entry date {:?} is not a date that exists", &rest[..4]))?;
        rest = &rest[4..];
    }
    let (direction, reversal, r) = if let Some(r) = rest.strip_prefix("RC") {
        (Direction::Credit, true, r)
    } else if let Some(r) = rest.strip_prefix("RD") {
        (Direction::Debit, true, r)
    } else if let Some(r) = rest.strip_prefix('C') {
        (Direction::Credit, false, r)
    } else if let Some(r) = rest.strip_prefix('D') {
        (Direction::Debit, false, r)
    } else {
        return Err(format!(
            "{rest:?} does not start with a debit/credit mark C, D, RC or RD"
        ));
    };
    rest = r;
    // The third letter of the currency code, as a funds code.
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(rest.len());
    let amount = amount(&rest[..end], ccy)?;
    rest = &rest[end..];
    if !(rest.len() >= 4
        && matches!(rest.as_bytes()[0], b'N' | b'F' | b'S')
        && rest.is_char_boundary(4))
    {
        return Err(format!(
            "{rest:?} is not a transaction type such as NTRF after the amount"
        ));
    }
    rest = &rest[4..];
    let bank_ref = rest
        .split_once("//")
        .map(|(_, b)| b.trim())
        .filter(|b| !b.is_empty() && *b != "NONREF")
        .map(str::to_owned);
    Ok(Line {
        booked,
        direction,
        reversal,
        amount,
        currency: ccy,
        bank_ref,
        details,
        info: None,
    })
}

/// What `:86:` says about the other party and the payment.
#[derive(Default)]
struct Info {
    name: Option<String>,
    iban: Option<String>,
    reference: Option<String>,
    text: Option<String>,
    returned: bool,
}

fn information(value: &str) -> Info {
    // Structured forms are wrapped at 65 characters anywhere, even inside a word.
    let joined: String = value.split('\n').collect();
    let t = joined.trim();
    let starts_subfields = t.len() >= 4
        && (t.as_bytes()[..3].iter().all(u8::is_ascii_digit) && t.as_bytes()[3] == b'?'
            || t.starts_with('?'));
    if starts_subfields {
        return subfields(t);
    }
    if t.starts_with('/') && SLASH_KEYS.iter().any(|k| t.contains(&format!("/{k}/"))) {
        return slashes(t);
    }
    // Free text is only text: finding references in it is matching's.
    Info {
        text: clean_text(&value.replace('\n', " ")),
        ..Info::default()
    }
}

/// The first word of `s` that is a valid creditor reference.
fn rf_in(s: &str) -> Option<String> {
    let c = compact(s);
    if is_creditor_reference(&c) {
        return Some(c.to_ascii_uppercase());
    }
    s.split(|ch: char| !ch.is_ascii_alphanumeric())
        .find(|w| {
            w.len() >= 5 && (w.starts_with("RF") || w.starts_with("rf")) && is_creditor_reference(w)
        })
        .map(|w| w.to_ascii_uppercase())
}

/// The German form: `166?00GUTSCHRIFT?20EREF+…?21SVWZ+…?31IBAN?32NAME`.
fn subfields(t: &str) -> Info {
    let mut remittance: Vec<&str> = Vec::new();
    let mut name = String::new();
    let mut account = None;
    let mut rest = t;
    // Skip the business transaction code before the first `?`.
    if let Some(i) = rest.find('?') {
        rest = &rest[i..];
    }
    while let Some(r) = rest.strip_prefix('?') {
        let code = r.get(..2).unwrap_or("");
        let body_start = code.len().min(r.len());
        let body_and_more = &r[body_start..];
        let end = next_subfield(body_and_more);
        let body = &body_and_more[..end];
        rest = &body_and_more[end..];
        match code {
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "60" | "61"
            | "62" | "63" => remittance.push(body),
            "31" => account = account_id(body),
            "32" | "33" => name.push_str(body),
            _ => {}
        }
        if end == 0 && rest.is_empty() {
            break;
        }
    }
    let joined: String = remittance.concat();
    let tags = sepa_tags(&joined);
    let mut info = Info {
        name: clean_text(&name),
        iban: account,
        ..Info::default()
    };
    if tags.is_empty() {
        info.text = clean_text(&remittance.join(" "));
        return info;
    }
    let get = |k: &str| tags.iter().find(|(t, _)| *t == k).map(|(_, v)| v.trim());
    info.text = get("SVWZ").and_then(clean_text);
    if info.iban.is_none() {
        info.iban = get("IBAN").and_then(account_id);
    }
    info.reference = ["SVWZ", "EREF", "KREF"]
        .into_iter()
        .filter_map(get)
        .find_map(rf_in);
    info
}

/// Where the next `?NN` subfield starts in `s`, or its length.
fn next_subfield(s: &str) -> usize {
    let b = s.as_bytes();
    (0..b.len())
        .find(|&i| {
            b[i] == b'?'
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && b.get(i + 2).is_some_and(u8::is_ascii_digit)
        })
        .unwrap_or(b.len())
}

/// SEPA tags inside German remittance: `EREF+…KREF+…SVWZ+…`.
const SEPA_TAGS: &[&str] = &[
    "EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC", "COAM", "OAMT",
];

fn sepa_tags(s: &str) -> Vec<(&'static str, &str)> {
    let mut starts: Vec<(usize, &'static str)> = Vec::new();
    for &tag in SEPA_TAGS {
        let pat = format!("{tag}+");
        let mut from = 0;
        while let Some(i) = s[from..].find(&pat) {
            let at = from + i;
            starts.push((at, tag));
            from = at + pat.len();
        }
    }
    starts.sort_unstable();
    // A tag inside another tag's text (`SVWZ+ Rechnung EREF+…`) still counts: banks write
    // them only as tags.
    let mut out = Vec::with_capacity(starts.len());
    for (n, &(at, tag)) in starts.iter().enumerate() {
        let body_start = at + tag.len() + 1;
        let end = starts
            .get(n + 1)
            .map_or(s.len(), |&(next, _)| next)
            .max(body_start);
        out.push((tag, s.get(body_start..end).unwrap_or("")));
    }
    out
}

/// Keys of the Dutch slash form (Rabobank, ING, ABN AMRO).
const SLASH_KEYS: &[&str] = &[
    "TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "MARF", "CSID", "CNTP", "ORDP", "BENM", "ULTC",
    "ULTD", "ULTB", "PURP", "RTRN", "ISDT", "CREF", "PREF", "ADDR", "SVCL",
];

/// `/TRTP/SEPA OVERBOEKING/IBAN/NL…/BIC/…/NAME/…/REMI/…/EREF/…` and Rabobank's
/// `/EREF/…//CNTP/IBAN/BIC/NAME/CITY/REMI/…`.
fn slashes(t: &str) -> Info {
    let mut starts: Vec<(usize, &'static str)> = Vec::new();
    for &key in SLASH_KEYS {
        let pat = format!("/{key}/");
        let mut from = 0;
        while let Some(i) = t[from..].find(&pat) {
            let at = from + i;
            starts.push((at, key));
            from = at + pat.len();
        }
    }
    starts.sort_unstable();
    let mut info = Info::default();
    for (n, &(at, key)) in starts.iter().enumerate() {
        let body_start = at + key.len() + 2;
        // Keys found inside an earlier value (`/NAME/` within `/CNTP/`) overlap it.
        let end = starts
            .get(n + 1)
            .map_or(t.len(), |&(next, _)| next)
            .max(body_start);
        let raw = t.get(body_start..end).unwrap_or("");
        let v = raw.strip_suffix('/').unwrap_or(raw).trim();
        match key {
            "NAME" if info.name.is_none() => info.name = clean_text(v),
            "IBAN" if info.iban.is_none() => info.iban = account_id(v),
            "CNTP" => {
                let mut parts = v.split('/');
                let (iban, _bic, name) = (parts.next(), parts.next(), parts.next());
                if info.iban.is_none() {
                    info.iban = iban.and_then(account_id);
                }
                if info.name.is_none() {
                    info.name = name.and_then(clean_text);
                }
            }
            "REMI" => remittance(v, &mut info),
            "EREF" | "CREF" if info.reference.is_none() => {
                info.reference = rf_in(v);
            }
            "RTRN" => info.returned = true,
            _ => {}
        }
    }
    info
}

/// `/REMI/` content: `USTD//text`, `STRD/CUR/ISO/RF…` (or `STRD/CUR/RF…`), or plain text.
fn remittance(v: &str, info: &mut Info) {
    if let Some(s) = v.strip_prefix("STRD/") {
        let r = s.split('/').rfind(|p| !p.trim().is_empty()).map(compact);
        let r = r.filter(|r| !matches!(r.as_str(), "CUR" | "ISO"));
        if r.is_some() {
            info.reference = r;
        }
        return;
    }
    let text = v
        .strip_prefix("USTD//")
        .or_else(|| v.strip_prefix("USTD/"))
        .unwrap_or(v);
    info.text = clean_text(text);
}
