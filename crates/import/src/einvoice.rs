//! E-invoices as businesses send them: UBL 2.1 Invoice and CreditNote (Peppol BIS Billing
//! 3.0 and plain UBL) and UN/CEFACT Cross Industry Invoice (the other EN 16931 syntax, as in
//! Factur-X and ZUGFeRD), read into one typed [`EInvoice`].
//!
//! Pure: bytes in, a document or a [`DocError`] out. Turning a document into ledger events
//! is the caller's (see `crate::sources`).

use std::borrow::Cow;

use domain::{Amount, Currency, Day};

mod read;
#[cfg(test)]
mod tests;
mod xml;

/// Which EN 16931 syntax a document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Ubl,
    Cii,
}

/// An invoice, or a credit note correcting one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Invoice,
    CreditNote,
}

/// The buyer as the document names them. Identifiers keep their scheme where one is given,
/// as `scheme:value` (`0088:5790000435975`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// `cac:PartyIdentification/cbc:ID` (CII: `ram:ID` / `ram:GlobalID`).
    pub id: Option<String>,
    /// `cbc:EndpointID` (CII: `ram:URIUniversalCommunication/ram:URIID`).
    pub endpoint: Option<String>,
    /// VAT number: `cac:PartyTaxScheme/cbc:CompanyID` (CII: `ram:SpecifiedTaxRegistration`).
    pub vat: Option<String>,
    /// Legal registration: `cac:PartyLegalEntity/cbc:CompanyID`.
    pub company: Option<String>,
    /// Registration name, else the party name.
    pub name: Option<String>,
    /// The buyer's contact e-mail.
    pub email: Option<String>,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    /// The seller's item id, else the standard item id, else `None`.
    pub item: Option<String>,
    /// The item's name.
    pub name: Option<String>,
    /// Invoiced quantity (may have decimals: 1.5 hours).
    pub qty: Amount,
    /// Net price of one unit (of the price's base quantity).
    pub price: Amount,
}

/// One e-invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EInvoice {
    pub syntax: Syntax,
    pub kind: DocKind,
    /// The document's number (`cbc:ID`).
    pub number: String,
    pub issued: Day,
    /// `cbc:DueDate` (UBL Invoice), `cac:PaymentMeans/cbc:PaymentDueDate` (UBL CreditNote),
    /// `ram:DueDateDateTime` (CII).
    pub due: Option<Day>,
    /// The payment terms' text (`cac:PaymentTerms/cbc:Note`), for when there is no due date.
    pub terms: Option<String>,
    pub currency: Currency,
    /// Amount due for payment (`cbc:PayableAmount`; CII `ram:DuePayableAmount`).
    pub payable: Amount,
    pub buyer: Party,
    pub lines: Vec<InvoiceLine>,
    /// The structured payment reference (`cac:PaymentMeans/cbc:PaymentID`).
    pub payment_id: Option<String>,
    /// Invoices this document refers to (`cac:BillingReference/cac:InvoiceDocumentReference/
    /// cbc:ID`): for a credit note, the invoice it corrects.
    pub refers_to: Vec<String>,
    /// The buyer's own account where the document names it (a direct-debit mandate's payer
    /// account), as an IBAN without spaces.
    pub buyer_account: Option<String>,
}

/// Why a document could not be read: where (line in the file, and the element), and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", field.as_deref().map(|f| format!(", `{f}`")).unwrap_or_default())]
pub struct DocError {
    /// 1-based line of the file where the problem is (1 for a whole-document problem).
    pub line: u64,
    /// The element to blame, as a short path (`cac:AccountingCustomerParty`), where one is.
    pub field: Option<String>,
    pub message: String,
}

/// Whether bytes look like a UBL or CII document (by its root element), without reading it
/// all: for telling formats apart in a folder or zip.
pub fn sniff(bytes: &[u8]) -> Option<Syntax> {
    // The root is near the top: a comment or a stylesheet line may come first, never more.
    const HEAD: usize = 64 << 10;
    let head = &bytes[..bytes.len().min(HEAD)];
    let text = decode(head, true).ok()?;
    let root = xml::root(&text)?;
    match known(&root) {
        Known::Ubl(_) => Some(Syntax::Ubl),
        Known::Cii => Some(Syntax::Cii),
        Known::Other(_) => None,
    }
}

/// Reads one UBL 2.1 Invoice or CreditNote, or one CII CrossIndustryInvoice.
pub fn parse(bytes: &[u8]) -> Result<EInvoice, DocError> {
    let text = decode(bytes, false)?;
    let Some(root) = xml::root(&text) else {
        return Err(DocError {
            line: 1,
            field: None,
            message: not_xml(bytes),
        });
    };
    let (syntax, kind) = match known(&root) {
        Known::Ubl(kind) => (Syntax::Ubl, kind),
        // The type code says which, further in.
        Known::Cii => (Syntax::Cii, DocKind::Invoice),
        Known::Other(what) => {
            return Err(DocError {
                line: 1,
                field: Some(root.local.clone()),
                message: format!("{what}, not an invoice or credit note"),
            });
        }
    };
    let mut draft = read::Draft::new(syntax, kind);
    xml::walk(&text, &mut |step, path| match syntax {
        Syntax::Ubl => draft.ubl(step, path),
        Syntax::Cii => draft.cii(step, path),
    })?;
    draft.finish()
}

/// What a root element says a document is.
enum Known {
    Ubl(DocKind),
    Cii,
    /// Something else, described for a person: "this is a camt.053 bank statement".
    Other(String),
}

const UBL_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const UBL_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const CII: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";

fn known(root: &xml::Root) -> Known {
    let ns = root.namespace.as_deref();
    // A root without a namespace declaration is taken at its name: such files exist, and
    // the name is specific enough.
    let is = |expected: &str| ns.is_none_or(|n| n == expected);
    match root.local.as_str() {
        "Invoice" if is(UBL_INVOICE) => Known::Ubl(DocKind::Invoice),
        "CreditNote" if is(UBL_CREDIT_NOTE) => Known::Ubl(DocKind::CreditNote),
        "CrossIndustryInvoice" if is(CII) => Known::Cii,
        "CrossIndustryDocument" => Known::Other(
            "this is a ZUGFeRD 1.0 CrossIndustryDocument, which is not read (ZUGFeRD 2 and \
             Factur-X are)"
                .into(),
        ),
        "Document" if ns.is_some_and(|n| n.contains("camt.053")) => {
            Known::Other("this is a camt.053 bank statement".into())
        }
        "Document" if ns.is_some_and(|n| n.contains("camt.054")) => {
            Known::Other("this is a camt.054 debit/credit notification".into())
        }
        "Document" if ns.is_some_and(|n| n.contains("pain.")) => {
            Known::Other("this is an ISO 20022 payment initiation (pain)".into())
        }
        "html" | "HTML" => Known::Other("this is a web page (HTML)".into()),
        local => match ns {
            Some(n) if n.starts_with("urn:oasis:names:specification:ubl:") => {
                Known::Other(format!("this is a UBL {local}"))
            }
            Some(n) => Known::Other(format!("the root element is <{local}> in namespace {n}")),
            None => Known::Other(format!("the root element is <{local}>")),
        },
    }
}

/// Why bytes that have no root element are not a document.
fn not_xml(bytes: &[u8]) -> String {
    if bytes.starts_with(b"%PDF") {
        "this is a PDF, not XML; a Factur-X or ZUGFeRD PDF carries its invoice as an embedded \
         XML file (factur-x.xml, zugferd-invoice.xml): read that file"
            .into()
    } else if bytes.starts_with(b"PK\x03\x04") {
        "this is a zip archive, not XML: read it as an archive".into()
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        "the file is empty".into()
    } else {
        "this is not XML: no element found".into()
    }
}

/// The document as text: UTF-8 (with or without a byte order mark), UTF-16 by its byte
/// order mark, or ISO-8859-1 when the declaration says so. `lossy` accepts a cut-off last
/// character (for [`sniff`] reading only the head).
fn decode(bytes: &[u8], lossy: bool) -> Result<Cow<'_, str>, DocError> {
    let fail = |message: String| DocError {
        line: 1,
        field: None,
        message,
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest, lossy).map_err(fail);
    }
    let utf16 = |rest: &[u8], be: bool| -> Result<Cow<'_, str>, DocError> {
        let units = rest.chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        let mut s = String::with_capacity(rest.len() / 2);
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => s.push(c),
                Err(_) if lossy => break,
                Err(e) => return Err(fail(format!("this is not valid UTF-16 text: {e}"))),
            }
        }
        Ok(Cow::Owned(s))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, true);
    }
    if let Some(enc) = declared_encoding(bytes) {
        let enc = enc.to_ascii_lowercase();
        match enc.as_str() {
            "utf-8" | "utf8" | "us-ascii" | "ascii" => {}
            "iso-8859-1" | "latin1" | "latin-1" | "iso_8859-1" => {
                return Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()));
            }
            other => {
                return Err(fail(format!(
                    "the document's encoding {other:?} is not read; UTF-8, UTF-16 and \
                     ISO-8859-1 are"
                )));
            }
        }
    }
    utf8(bytes, lossy).map_err(fail)
}

fn utf8(bytes: &[u8], lossy: bool) -> Result<Cow<'_, str>, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) if lossy => Ok(Cow::Borrowed(
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        )),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(format!(
                "this is not UTF-8 text (line {line}, byte {}); declare the encoding in the \
                 XML declaration",
                e.valid_up_to()
            ))
        }
    }
}

/// The `encoding` of an XML declaration at the very start, if any.
fn declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = bytes.get(..bytes.len().min(200))?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let after = decl
        .split_once("encoding")?
        .1
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    value.split(quote).next()
}

/// The number of days to pay that payment terms state ("Net 30", "30 days", "binnen 14
/// dagen", "Zahlbar innerhalb 10 Tagen"), when the text says one number of days.
///
/// A number counts when a word for days follows it (English, Dutch, German, French; a
/// "business"/"calendar" in between is allowed) or when "net"/"netto" comes right before it.
/// Anything else (a percentage, a date, an amount) is not a number of days. Two different
/// numbers of days ("2% within 10 days, net 30") say no single term, so `None`.
pub fn days_in_terms(terms: &str) -> Option<u32> {
    const DAYS: &[&str] = &[
        "d",
        "day",
        "days",
        "dag",
        "dagen",
        "tag",
        "tage",
        "tagen",
        "werktage",
        "werktagen",
        "kalendertage",
        "kalendertagen",
        "werkdagen",
        "jour",
        "jours",
        "j",
    ];
    const BETWEEN: &[&str] = &[
        "business", "working", "calendar", "banking", "werk", "kalender",
    ];
    const NET: &[&str] = &["net", "netto", "nett"];
    // Words: runs of letters, runs of digits (so "Net30" and "30d" split).
    let lower = terms.to_lowercase();
    let mut words: Vec<&str> = Vec::new();
    let mut word: Option<(usize, bool)> = None;
    for (i, c) in lower.char_indices() {
        let kind = if c.is_ascii_digit() {
            Some(true)
        } else if c.is_alphabetic() {
            Some(false)
        } else {
            None
        };
        if let Some((start, digits)) = word {
            // "04.04.2018", "1.766,03", "2/10" are one word, so never a count of days.
            let glued = digits
                && ".,/-:".contains(c)
                && lower[i + c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit());
            if glued {
                continue;
            }
            if kind != Some(digits) {
                words.push(&lower[start..i]);
                word = None;
            }
        }
        if word.is_none() {
            word = kind.map(|k| (i, k));
        }
    }
    if let Some((start, _)) = word {
        words.push(&lower[start..]);
    }
    let number = |w: &str| w.bytes().all(|b| b.is_ascii_digit());
    let mut found: Option<u32> = None;
    for (i, w) in words.iter().enumerate() {
        if !number(w) || w.len() > 4 {
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| words.get(p)).copied();
        let next = words.get(i + 1).copied();
        let after = words.get(i + 2).copied();
        let days_follow = next.is_some_and(|n| DAYS.contains(&n))
            || (next.is_some_and(|n| BETWEEN.contains(&n))
                && after.is_some_and(|a| DAYS.contains(&a)));
        let net_before = prev.is_some_and(|p| NET.contains(&p));
        if !(days_follow || net_before) {
            continue;
        }
        let Ok(n) = w.parse::<u32>() else { continue };
        match found {
            None => found = Some(n),
            Some(f) if f == n => {}
            Some(_) => return None,
        }
    }
    found.filter(|&n| n > 0)
}
