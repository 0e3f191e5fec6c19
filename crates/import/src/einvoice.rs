//! E-invoices as businesses send them: UBL 2.1 Invoice and CreditNote (Peppol BIS Billing
//! 3.0 and plain UBL) and UN/CEFACT Cross Industry Invoice (the other EN 16931 syntax, as in
//! Factur-X and ZUGFeRD), read into one typed [`EInvoice`].
//!
//! Pure: bytes in, a document or a [`DocError`] out. Turning a document into ledger events
//! is the caller's (see `crate::sources`).

use domain::{Amount, Currency, Day};

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
pub fn sniff(_bytes: &[u8]) -> Option<Syntax> {
    todo!("helper: einvoice")
}

/// Reads one UBL 2.1 Invoice or CreditNote, or one CII CrossIndustryInvoice.
pub fn parse(_bytes: &[u8]) -> Result<EInvoice, DocError> {
    todo!("helper: einvoice")
}

/// The number of days to pay that payment terms state ("Net 30", "30 days", "binnen 14
/// dagen", "Zahlbar innerhalb 10 Tagen"), when the text says one number of days.
pub fn days_in_terms(_terms: &str) -> Option<u32> {
    todo!("helper: einvoice")
}
