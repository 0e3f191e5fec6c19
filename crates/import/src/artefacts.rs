//! What the business's own artefacts say, as events: an e-invoice becomes its buyer's
//! identification and the invoice (or, for a credit note, the correction of the invoice it
//! names); a bank statement's credit, once matched, becomes the payments it makes.
//!
//! Pure, like the parsers: the ledger's part (which invoices are open, which statement lines
//! were read before) is the application's.

use serde_json::{Map, Value, json};

use domain::{Amount, NewEvent, PersonId};

use crate::bank::Entry;
use crate::einvoice::{DocError, DocKind, EInvoice};
use crate::matching::{Allocation, Rule};

/// The source e-invoices are recorded under, unless the import names another.
pub const INVOICE_SOURCE: &str = "e-invoice";

/// The buyer's identifier that names the person: the buyer identifier the document gives,
/// else its electronic address, its VAT number, its registration number — in that order,
/// so that the same buyer is the same person on every invoice that names them the same way.
pub fn buyer_id(doc: &EInvoice) -> Option<&str> {
    let b = &doc.buyer;
    [&b.id, &b.endpoint, &b.vat, &b.company]
        .into_iter()
        .find_map(|v| v.as_deref().filter(|s| !s.trim().is_empty()))
}

fn doc_err(field: &str, message: String) -> DocError {
    DocError {
        line: 1,
        field: Some(field.to_owned()),
        message,
    }
}

fn event(map: Map<String, Value>, field: &str) -> Result<NewEvent, DocError> {
    NewEvent::from_json(&map).map_err(|e| {
        doc_err(
            field,
            match e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message,
            },
        )
    })
}

/// An amount as canonical JSON writes it (4 decimals at most, no grouping).
fn money(a: Amount) -> String {
    a.format(4)
}

/// What one e-invoice or credit note says, as events: the buyer identified (their name and
/// e-mail sealed), then the invoice — due on its due date, else on the issue day plus the
/// days its payment terms state, else plus `due_days` — or the correction.
///
/// Lines go with the invoice for the hidden costs where they are whole, positive quantities
/// of a named item; a line of 1.5 hours or a negative line (goods taken back) is left off
/// the invoice's lines (its amount still counts in full).
pub fn invoice_events(
    doc: &EInvoice,
    source: &str,
    due_days: Option<u32>,
) -> Result<Vec<NewEvent>, DocError> {
    let person = buyer_id(doc).ok_or_else(|| {
        doc_err(
            "cac:AccountingCustomerParty",
            "the buyer has no identifier (no party identifier, electronic address, VAT or \
             company number): rapport cannot tell whose invoice this is"
                .into(),
        )
    })?;
    PersonId::parse(person)
        .map_err(|e| doc_err("cac:AccountingCustomerParty", format!("buyer: {e}")))?;
    let at = doc.issued.start().to_rfc3339();
    let mut out = Vec::with_capacity(2);
    if let Some(name) = doc.buyer.name.as_deref().filter(|n| !n.trim().is_empty()) {
        let mut m = Map::new();
        m.insert("kind".into(), json!("person.identified"));
        m.insert("source".into(), json!(source));
        m.insert("id".into(), json!(format!("buyer:{}", doc.number)));
        m.insert("person".into(), json!(person));
        m.insert("at".into(), json!(at));
        m.insert("name".into(), json!(name));
        if let Some(e) = &doc.buyer.email {
            m.insert("email".into(), json!(e));
        }
        out.push(event(m, "cac:AccountingCustomerParty")?);
    }
    let mut m = Map::new();
    m.insert("source".into(), json!(source));
    m.insert("person".into(), json!(person));
    m.insert("at".into(), json!(at));
    m.insert("amount".into(), json!(money(doc.payable)));
    m.insert("currency".into(), json!(doc.currency.as_str()));
    match doc.kind {
        DocKind::CreditNote => {
            let Some(invoice) = doc.refers_to.first() else {
                return Err(doc_err(
                    "cac:BillingReference",
                    "a credit note that names no invoice it corrects: rapport cannot tell \
                     which debt it lowers"
                        .into(),
                ));
            };
            m.insert("kind".into(), json!("invoice.corrected"));
            m.insert("id".into(), json!(format!("credit-note:{}", doc.number)));
            m.insert("invoice".into(), json!(invoice));
            out.push(event(m, "cbc:PayableAmount")?);
        }
        DocKind::Invoice => {
            let due = match doc.due {
                Some(d) => d,
                None => {
                    let days = doc
                        .terms
                        .as_deref()
                        .and_then(crate::einvoice::days_in_terms)
                        .or(due_days)
                        .ok_or_else(|| {
                            doc_err(
                                "cbc:DueDate",
                                match &doc.terms {
                                    Some(t) => format!(
                                        "no due date, and the payment terms ({t:?}) state no number \
                                         of days: give --due-days N"
                                    ),
                                    None => "no due date and no payment terms: give --due-days N"
                                        .to_owned(),
                                },
                            )
                        })?;
                    domain::Day::from_days(doc.issued.days_since_epoch() + days as i32)
                }
            };
            m.insert("kind".into(), json!("invoice.issued"));
            m.insert("id".into(), json!(format!("invoice:{}", doc.number)));
            m.insert("invoice".into(), json!(doc.number));
            m.insert("due".into(), json!(due.to_string()));
            if let Some(r) = doc.payment_id.as_deref().filter(|r| !r.trim().is_empty()) {
                m.insert("reference".into(), json!(r));
            }
            if let Some(a) = &doc.buyer_account {
                m.insert("account".into(), json!(a));
            }
            let lines: Vec<Value> = doc
                .lines
                .iter()
                .filter_map(|l| {
                    let product = l.item.as_deref().or(l.name.as_deref())?;
                    let t = l.qty.ten_thousandths();
                    let whole = t > 0 && t % domain::values::AMOUNT_SCALE == 0;
                    (whole && !l.price.is_negative()).then(|| {
                        json!({
                            "product": product,
                            "qty": t / domain::values::AMOUNT_SCALE,
                            "unit_price": money(l.price),
                        })
                    })
                })
                .collect();
            if !lines.is_empty() {
                m.insert("lines".into(), Value::Array(lines));
            }
            out.push(event(m, "cac:InvoiceLine")?);
        }
    }
    Ok(out)
}

/// The payments one matched credit makes: one per invoice it pays, on its booking day, each
/// naming the rule that placed it and (sealed) the account it came from. One payment keeps
/// the bank's id for the entry; several are told apart by `#2`, `#3`, ….
pub fn payment_events(
    source: &str,
    entry: &Entry,
    rule: Rule,
    to: &[Allocation],
) -> Result<Vec<NewEvent>, DocError> {
    let at = entry.booked.start().to_rfc3339();
    to.iter()
        .enumerate()
        .map(|(i, a)| {
            let id = if i == 0 {
                entry.id.clone()
            } else {
                format!("{}#{}", entry.id, i + 1)
            };
            let mut m = Map::new();
            m.insert("kind".into(), json!("payment.received"));
            m.insert("source".into(), json!(source));
            m.insert("id".into(), json!(id));
            m.insert("person".into(), json!(a.person.as_str()));
            m.insert("at".into(), json!(at));
            m.insert("invoice".into(), json!(a.invoice.as_str()));
            m.insert("amount".into(), json!(money(a.amount)));
            m.insert("currency".into(), json!(entry.currency.as_str()));
            m.insert("matched".into(), json!(rule.as_str()));
            if let Some(iban) = &entry.iban {
                m.insert("account".into(), json!(iban));
            }
            event(m, "Ntry").map_err(|e| DocError {
                line: entry.line,
                ..e
            })
        })
        .collect()
}

/// The source a statement's lines and payments are recorded under: `bank:` and its account.
pub fn statement_source(account: Option<&str>) -> String {
    match account {
        Some(a) if !a.trim().is_empty() => format!("bank:{}", a.trim()),
        _ => "bank".to_owned(),
    }
}
