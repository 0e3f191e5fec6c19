//! From the XML walk to an [`EInvoice`]: which element, at which path, fills which field,
//! for each syntax; then what must be there.
//!
//! Paths are matched whole from the root, never by an element's name alone: `cbc:ID` is the
//! invoice's number under the root, a party's id under a party, a line's number in a line;
//! the seller's `cbc:Name` must never become the buyer's.

use domain::{Amount, Currency, Day};

use super::xml::{Element, Step};
use super::{DocError, DocKind, EInvoice, InvoiceLine, Party, Syntax};

/// A line being read.
#[derive(Debug, Default)]
struct LineDraft {
    line: u64,
    seller_item: Option<String>,
    standard_item: Option<String>,
    name: Option<String>,
    qty: Option<Amount>,
    price: Option<Amount>,
    base: Option<(Amount, u64)>,
    total: Option<Amount>,
}

/// A UBL `cac:PartyTaxScheme` being read: its company id counts as a VAT number only when
/// its tax scheme is VAT (or not said), and the scheme comes after the id.
#[derive(Debug, Default)]
struct TaxScheme {
    company: Option<String>,
    scheme: Option<String>,
}

/// The document as read so far.
#[derive(Debug)]
pub(super) struct Draft {
    syntax: Syntax,
    kind: DocKind,
    number: Option<String>,
    issued: Option<Day>,
    due: Option<Day>,
    /// `cac:PaymentMeans/cbc:PaymentDueDate` on a UBL invoice, used when there is no
    /// `cbc:DueDate` (and the other way round on a credit note).
    due_other: Option<Day>,
    terms: Vec<String>,
    currency: Option<(Currency, u64)>,
    payable: Option<(Amount, u64)>,
    payable_currency: Option<(Currency, u64)>,
    buyer: Party,
    /// Where the buyer's party starts, for an error about it.
    buyer_line: Option<u64>,
    /// The party name (UBL), or the global id (CII): what stands in when the registration
    /// name, or the party id, is missing.
    buyer_alt: Option<String>,
    tax: Option<TaxScheme>,
    lines: Vec<InvoiceLine>,
    line: Option<LineDraft>,
    payment_id: Option<String>,
    refers_to: Vec<String>,
    buyer_account: Option<String>,
}

fn err(at: &Element, message: impl Into<String>) -> DocError {
    DocError {
        line: at.line,
        field: Some(at.qname.clone()),
        message: message.into(),
    }
}

fn amount(at: &Element) -> Result<Option<Amount>, DocError> {
    at.value()
        .map(|v| Amount::parse(v, 4).map_err(|e| err(at, e.0)))
        .transpose()
}

fn currency(at: &Element, code: &str) -> Result<Currency, DocError> {
    Currency::parse(code).map_err(|e| err(at, e.0))
}

fn day(at: &Element) -> Result<Option<Day>, DocError> {
    at.value()
        .map(|v| Day::parse(v).map_err(|e| err(at, e.0)))
        .transpose()
}

/// A CII date: `<udt:DateTimeString format="102">20180305</udt:DateTimeString>`.
fn cii_day(at: &Element) -> Result<Option<Day>, DocError> {
    let Some(v) = at.value() else {
        return Ok(None);
    };
    match at.attr("format") {
        None | Some("102") => {}
        Some(other) => {
            return Err(err(
                at,
                format!("date format {other:?} is not a day; only format 102 (YYYYMMDD) is"),
            ));
        }
    }
    let b = v.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(err(at, format!("{v:?} is not a date written as YYYYMMDD")));
    }
    let iso = format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..]);
    Day::parse(&iso).map(Some).map_err(|e| err(at, e.0))
}

/// An identifier, as `scheme:value` where the element names its scheme.
fn ident(at: &Element) -> Option<String> {
    let v = at.value()?;
    match at.attr("schemeID").map(str::trim).filter(|s| !s.is_empty()) {
        Some(scheme) => Some(format!("{scheme}:{v}")),
        None => Some(v.to_owned()),
    }
}

fn text(at: &Element) -> Option<String> {
    at.value().map(str::to_owned)
}

fn first(slot: &mut Option<String>, v: Option<String>) {
    if slot.is_none() {
        *slot = v;
    }
}

/// An account number as banks compare it: no spaces, upper case.
fn account(at: &Element) -> Option<String> {
    let v: String = at
        .value()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    Some(v)
}

/// `price / base`, to four decimals, rounded half away from zero.
fn per_unit(price: Amount, base: Amount) -> Option<Amount> {
    let p = i128::from(price.ten_thousandths());
    let b = i128::from(base.ten_thousandths());
    if b == 0 {
        return None;
    }
    let num = p * 10_000;
    let q = num / b;
    let r = num % b;
    let q = if (r.abs() * 2) >= b.abs() {
        q + if (num < 0) == (b < 0) { 1 } else { -1 }
    } else {
        q
    };
    let v = i64::try_from(q).ok()?;
    (v.checked_abs()? <= Amount::MAX.ten_thousandths()).then(|| Amount::from_ten_thousandths(v))
}

impl Draft {
    pub(super) fn new(syntax: Syntax, kind: DocKind) -> Draft {
        Draft {
            syntax,
            kind,
            number: None,
            issued: None,
            due: None,
            due_other: None,
            terms: Vec::new(),
            currency: None,
            payable: None,
            payable_currency: None,
            buyer: Party::default(),
            buyer_line: None,
            buyer_alt: None,
            tax: None,
            lines: Vec::new(),
            line: None,
            payment_id: None,
            refers_to: Vec::new(),
            buyer_account: None,
        }
    }

    fn payable(&mut self, at: &Element) -> Result<(), DocError> {
        if self.payable.is_some() {
            return Ok(());
        }
        if let Some(a) = amount(at)? {
            self.payable = Some((a, at.line));
        }
        if let Some(code) = at.attr("currencyID") {
            self.payable_currency = Some((currency(at, code)?, at.line));
        }
        Ok(())
    }

    fn open_line(&mut self, at: &Element) {
        self.line = Some(LineDraft {
            line: at.line,
            ..LineDraft::default()
        });
    }

    fn close_line(&mut self, at: &Element) -> Result<(), DocError> {
        let Some(l) = self.line.take() else {
            return Ok(());
        };
        let blame = |message: String| DocError {
            line: l.line,
            field: Some(at.qname.clone()),
            message,
        };
        let qty = l
            .qty
            .ok_or_else(|| blame("the line has no quantity".into()))?;
        let price = match (l.price, l.base) {
            (Some(p), None) => p,
            (Some(p), Some((base, _))) => per_unit(p, base).ok_or_else(|| {
                blame(format!(
                    "the price {} per base quantity {} is not a price per unit",
                    p.format(0),
                    base.format(0)
                ))
            })?,
            (None, _) => match l.total {
                Some(total) if qty != Amount::ZERO => per_unit(total, qty)
                    .ok_or_else(|| blame("the line's price cannot be worked out".into()))?,
                _ => return Err(blame("the line has no price".into())),
            },
        };
        self.lines.push(InvoiceLine {
            item: l.seller_item.or(l.standard_item),
            name: l.name,
            qty,
            price,
        });
        Ok(())
    }

    /// UBL 2.x Invoice and CreditNote.
    pub(super) fn ubl(&mut self, step: Step, path: &[Element]) -> Result<(), DocError> {
        let Some(at) = path.last() else {
            return Ok(());
        };
        let p: Vec<&str> = path.iter().skip(1).map(|e| e.local.as_str()).collect();
        if let Step::Open = step {
            match p.as_slice() {
                ["InvoiceLine" | "CreditNoteLine"] => self.open_line(at),
                ["AccountingCustomerParty"] => self.buyer_line = Some(at.line),
                ["AccountingCustomerParty", "Party", "PartyTaxScheme"] => {
                    self.tax = Some(TaxScheme::default())
                }
                _ => {}
            }
            return Ok(());
        }
        match p.as_slice() {
            ["UBLVersionID"] => {
                let v = at.value().unwrap_or_default();
                if !(v == "2" || v.starts_with("2.")) {
                    return Err(err(
                        at,
                        format!("UBL version {v:?} is not read; only UBL 2.x is"),
                    ));
                }
            }
            ["ID"] => first(&mut self.number, text(at)),
            ["IssueDate"] => self.issued = day(at)?,
            ["DueDate"] => {
                if self.kind == DocKind::Invoice {
                    self.due = day(at)?;
                } else {
                    self.due_other = day(at)?;
                }
            }
            ["PaymentMeans", "PaymentDueDate"] => {
                let d = day(at)?;
                if self.kind == DocKind::CreditNote {
                    self.due = self.due.or(d);
                } else {
                    self.due_other = self.due_other.or(d);
                }
            }
            ["PaymentTerms", "Note"] => self.terms.extend(text(at)),
            ["DocumentCurrencyCode"] => {
                if let Some(v) = at.value() {
                    self.currency = Some((currency(at, v)?, at.line));
                }
            }
            ["LegalMonetaryTotal", "PayableAmount"] => self.payable(at)?,
            ["PaymentMeans", "PaymentID"] => first(&mut self.payment_id, text(at)),
            [
                "PaymentMeans",
                "PaymentMandate",
                "PayerFinancialAccount",
                "ID",
            ] => first(&mut self.buyer_account, account(at)),
            ["BillingReference", "InvoiceDocumentReference", "ID"] => {
                self.refers_to.extend(text(at))
            }
            ["AccountingCustomerParty", "Party", rest @ ..] => self.ubl_buyer(rest, at),
            ["InvoiceLine" | "CreditNoteLine"] => self.close_line(at)?,
            ["InvoiceLine" | "CreditNoteLine", rest @ ..] => self.ubl_line(rest, at)?,
            _ => {}
        }
        Ok(())
    }

    fn ubl_buyer(&mut self, p: &[&str], at: &Element) {
        let b = &mut self.buyer;
        match p {
            ["EndpointID"] => first(&mut b.endpoint, ident(at)),
            ["PartyIdentification", "ID"] => first(&mut b.id, ident(at)),
            ["PartyName", "Name"] => first(&mut self.buyer_alt, text(at)),
            ["PartyLegalEntity", "RegistrationName"] => first(&mut b.name, text(at)),
            ["PartyLegalEntity", "CompanyID"] => first(&mut b.company, ident(at)),
            ["PartyTaxScheme", "CompanyID"] => {
                if let Some(t) = &mut self.tax {
                    t.company = text(at);
                }
            }
            ["PartyTaxScheme", "TaxScheme", "ID"] => {
                if let Some(t) = &mut self.tax {
                    t.scheme = text(at);
                }
            }
            ["PartyTaxScheme"] => {
                if let Some(t) = self.tax.take() {
                    let vat = t
                        .scheme
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case("VAT"));
                    if vat {
                        first(&mut b.vat, t.company);
                    }
                }
            }
            ["Contact", "ElectronicMail"] => first(&mut b.email, text(at)),
            _ => {}
        }
    }

    fn ubl_line(&mut self, p: &[&str], at: &Element) -> Result<(), DocError> {
        let Some(l) = &mut self.line else {
            return Ok(());
        };
        match p {
            ["InvoicedQuantity" | "CreditedQuantity"] => l.qty = amount(at)?,
            ["LineExtensionAmount"] => l.total = amount(at)?,
            ["Price", "PriceAmount"] => l.price = amount(at)?,
            ["Price", "BaseQuantity"] => l.base = amount(at)?.map(|a| (a, at.line)),
            ["Item", "Name"] => first(&mut l.name, text(at)),
            ["Item", "SellersItemIdentification", "ID"] => first(&mut l.seller_item, text(at)),
            ["Item", "StandardItemIdentification", "ID"] => first(&mut l.standard_item, ident(at)),
            _ => {}
        }
        Ok(())
    }

    /// UN/CEFACT CII D16B CrossIndustryInvoice.
    pub(super) fn cii(&mut self, step: Step, path: &[Element]) -> Result<(), DocError> {
        let Some(at) = path.last() else {
            return Ok(());
        };
        let p: Vec<&str> = path.iter().skip(1).map(|e| e.local.as_str()).collect();
        const TX: &str = "SupplyChainTradeTransaction";
        const LINE: &str = "IncludedSupplyChainTradeLineItem";
        if let Step::Open = step {
            match p.as_slice() {
                [TX, LINE] => self.open_line(at),
                [TX, "ApplicableHeaderTradeAgreement", "BuyerTradeParty"] => {
                    self.buyer_line = Some(at.line)
                }
                _ => {}
            }
            return Ok(());
        }
        match p.as_slice() {
            ["ExchangedDocument", "ID"] => first(&mut self.number, text(at)),
            ["ExchangedDocument", "TypeCode"] => {
                self.kind = match at.value() {
                    Some("381") => DocKind::CreditNote,
                    _ => DocKind::Invoice,
                }
            }
            ["ExchangedDocument", "IssueDateTime", "DateTimeString"] => self.issued = cii_day(at)?,
            [
                TX,
                "ApplicableHeaderTradeAgreement",
                "BuyerTradeParty",
                rest @ ..,
            ] => self.cii_buyer(rest, at),
            [TX, "ApplicableHeaderTradeSettlement", rest @ ..] => self.cii_settlement(rest, at)?,
            [TX, LINE] => self.close_line(at)?,
            [TX, LINE, rest @ ..] => self.cii_line(rest, at)?,
            _ => {}
        }
        Ok(())
    }

    fn cii_buyer(&mut self, p: &[&str], at: &Element) {
        let b = &mut self.buyer;
        match p {
            ["ID"] => first(&mut b.id, ident(at)),
            ["GlobalID"] => first(&mut self.buyer_alt, ident(at)),
            ["Name"] => first(&mut b.name, text(at)),
            ["SpecifiedLegalOrganization", "ID"] => first(&mut b.company, ident(at)),
            ["URIUniversalCommunication", "URIID"] => first(&mut b.endpoint, ident(at)),
            [
                "DefinedTradeContact",
                "EmailURIUniversalCommunication",
                "URIID",
            ] => first(&mut b.email, text(at)),
            // `VA` is a VAT number, `FC` a tax office's number: only the first is one.
            ["SpecifiedTaxRegistration", "ID"]
                if at.attr("schemeID").is_none_or(|s| s.trim() == "VA") =>
            {
                first(&mut b.vat, text(at))
            }
            _ => {}
        }
    }

    fn cii_settlement(&mut self, p: &[&str], at: &Element) -> Result<(), DocError> {
        match p {
            ["InvoiceCurrencyCode"] => {
                if let Some(v) = at.value() {
                    self.currency = Some((currency(at, v)?, at.line));
                }
            }
            ["PaymentReference"] => first(&mut self.payment_id, text(at)),
            [
                "SpecifiedTradeSettlementHeaderMonetarySummation",
                "DuePayableAmount",
            ] => self.payable(at)?,
            [
                "SpecifiedTradePaymentTerms",
                "DueDateDateTime",
                "DateTimeString",
            ] => self.due = self.due.or(cii_day(at)?),
            ["SpecifiedTradePaymentTerms", "Description"] => self.terms.extend(text(at)),
            [
                "SpecifiedTradeSettlementPaymentMeans",
                "PayerPartyDebtorFinancialAccount",
                "IBANID",
            ] => first(&mut self.buyer_account, account(at)),
            ["InvoiceReferencedDocument", "IssuerAssignedID"] => self.refers_to.extend(text(at)),
            _ => {}
        }
        Ok(())
    }

    fn cii_line(&mut self, p: &[&str], at: &Element) -> Result<(), DocError> {
        let Some(l) = &mut self.line else {
            return Ok(());
        };
        match p {
            ["SpecifiedTradeProduct", "SellerAssignedID"] => first(&mut l.seller_item, text(at)),
            ["SpecifiedTradeProduct", "GlobalID"] => first(&mut l.standard_item, ident(at)),
            ["SpecifiedTradeProduct", "Name"] => first(&mut l.name, text(at)),
            [
                "SpecifiedLineTradeAgreement",
                "NetPriceProductTradePrice",
                "ChargeAmount",
            ] => l.price = amount(at)?,
            [
                "SpecifiedLineTradeAgreement",
                "NetPriceProductTradePrice",
                "BasisQuantity",
            ] => l.base = amount(at)?.map(|a| (a, at.line)),
            ["SpecifiedLineTradeDelivery", "BilledQuantity"] => l.qty = amount(at)?,
            [
                "SpecifiedLineTradeSettlement",
                "SpecifiedTradeSettlementLineMonetarySummation",
                "LineTotalAmount",
            ] => l.total = amount(at)?,
            _ => {}
        }
        Ok(())
    }

    /// What every document must have, checked once it has all been read.
    pub(super) fn finish(self) -> Result<EInvoice, DocError> {
        let (ubl, cii) = (self.syntax == Syntax::Ubl, self.syntax == Syntax::Cii);
        let missing = |field: &str, what: &str| DocError {
            line: 1,
            field: Some(field.to_owned()),
            message: format!("the document has no {what}"),
        };
        let number = self.number.ok_or_else(|| {
            missing(
                if ubl {
                    "cbc:ID"
                } else {
                    "rsm:ExchangedDocument/ram:ID"
                },
                "number",
            )
        })?;
        let issued = self.issued.ok_or_else(|| {
            missing(
                if ubl {
                    "cbc:IssueDate"
                } else {
                    "ram:IssueDateTime"
                },
                "issue date",
            )
        })?;
        let currency = match (self.currency, self.payable_currency) {
            (Some((c, _)), Some((p, line))) if c != p => {
                return Err(DocError {
                    line,
                    field: Some(
                        if ubl {
                            "cbc:PayableAmount"
                        } else {
                            "ram:DuePayableAmount"
                        }
                        .into(),
                    ),
                    message: format!(
                        "the amount due is in {p}, but the document's currency is {c}"
                    ),
                });
            }
            (Some((c, _)), _) | (None, Some((c, _))) => c,
            (None, None) => {
                return Err(missing(
                    if ubl {
                        "cbc:DocumentCurrencyCode"
                    } else {
                        "ram:InvoiceCurrencyCode"
                    },
                    "currency",
                ));
            }
        };
        let (payable, payable_line) = self.payable.ok_or_else(|| {
            missing(
                if ubl {
                    "cac:LegalMonetaryTotal/cbc:PayableAmount"
                } else {
                    "ram:DuePayableAmount"
                },
                "amount due for payment",
            )
        })?;
        if payable.is_negative() && self.kind == DocKind::Invoice {
            return Err(DocError {
                line: payable_line,
                field: Some(
                    if ubl {
                        "cbc:PayableAmount"
                    } else {
                        "ram:DuePayableAmount"
                    }
                    .into(),
                ),
                message: format!(
                    "an invoice's amount due cannot be negative ({}); a refund is a credit note",
                    payable.format(currency.decimals())
                ),
            });
        }
        let mut buyer = self.buyer;
        if ubl {
            // The registration name, else the trading name.
            buyer.name = buyer.name.or(self.buyer_alt);
        } else if cii {
            // `ram:ID` is the buyer's id; the global id (GLN…) stands in for it.
            buyer.id = buyer.id.or(self.buyer_alt);
        }
        if buyer.id.is_none()
            && buyer.endpoint.is_none()
            && buyer.vat.is_none()
            && buyer.company.is_none()
        {
            return Err(DocError {
                line: self.buyer_line.unwrap_or(1),
                field: Some(
                    if ubl {
                        "cac:AccountingCustomerParty"
                    } else {
                        "ram:BuyerTradeParty"
                    }
                    .into(),
                ),
                message: "the buyer has no identifier (party id, electronic address, VAT or \
                          company number): it cannot be told from another buyer"
                    .into(),
            });
        }
        Ok(EInvoice {
            syntax: self.syntax,
            kind: self.kind,
            number,
            issued,
            due: self.due.or(self.due_other),
            terms: (!self.terms.is_empty()).then(|| self.terms.join(" ")),
            currency,
            payable,
            buyer,
            lines: self.lines,
            payment_id: self.payment_id,
            refers_to: self.refers_to,
            buyer_account: self.buyer_account,
        })
    }
}
