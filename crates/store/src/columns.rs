//! How an event's public body is stored: a compact binary `body` column, and order lines
//! apart in a `lines` column.
//!
//! Readings scan millions of events, so decoding a row must be cheap: no JSON, no sealed
//! text, and as few SQLite columns as possible (each column costs SQLite and rusqlite work
//! per row). The public fields go through [`Columns`] — one slot per kind of value — and are
//! written as one blob: a presence byte, then each present slot in order, integers as
//! zigzag LEB128 varints and strings as a varint length and UTF-8 bytes. Order lines, which
//! no reading needs and which can be long, sit in their own column, so scans never read
//! them. The slots, per kind:
//!
//! | kind | ref | amount | currency | day | num | t1 | t2 | extra |
//! |---|---|---|---|---|---|---|---|---|
//! | person.identified | org | | | | | language | | |
//! | invoice.issued | invoice | amount | currency | due | | reference | | |
//! | payment.received | invoice | amount | currency? | | | matched | | |
//! | invoice.corrected | invoice | amount | currency | | | | | |
//! | invoice.disputed | invoice | | | | | | | |
//! | dispute.resolved | invoice | | | | outcome | | | |
//! | order.placed / returned | order | amount | currency? | | | | | |
//! | contact.opened | contact | | | | | channel | topic | caused_by |
//! | contact.answered | contact | | | | | by | | |
//! | contact.closed | contact | | | | resolved | | | |
//! | incident.occurred, apology.made | incident | | | | | | | |
//! | promise.made | promise | | | due | | | | |
//! | promise.kept | promise | | | | | | | |
//! | referral.made | referred | | | | | | | |
//! | review.given | | | | | score | | | |
//! | outreach.sent | | | | | | channel | topic | |
//! | menu.chosen | | | | | | item | option | |
//! | menu.proposed | | | | | | item | | |
//! | consent.given / withdrawn | | | | | | purpose | how | |
//! | relationship.ended | | | | | reason | | | |
//! | contract.started | contract | amount? | currency? | | period | plan | | |
//! | contract.renewed | contract | | | | | | | |
//! | contract.cancelled | contract | | | | reason? | | | |
//!
//! Order lines, and an invoice's lines, sit in the `lines` column.
//!
//! Amounts are ten-thousandths, days are days since 1970-01-01; order lines are JSON
//! `[[product, qty, unit_price in ten-thousandths], …]`.

use std::borrow::Cow;

use domain::event::{EndReason, Line, Outcome, Period};
use domain::values::{Label, PersonId};
use domain::{Amount, Body, Currency, Day, Kind, Ref};
use serde_json::Value;

use crate::StoreError;

/// The typed columns of one event row, borrowing from the body or the database row so
/// that neither writing nor reading allocates for them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Columns<'a> {
    pub r#ref: Option<&'a str>,
    pub amount: Option<i64>,
    pub currency: Option<&'a str>,
    pub day: Option<i64>,
    pub num: Option<i64>,
    pub t1: Option<&'a str>,
    pub t2: Option<&'a str>,
    pub extra: Option<&'a str>,
    /// Order lines as JSON: stored in their own column, not in the body blob.
    pub lines: Option<Cow<'a, str>>,
}

fn s(v: &impl AsRef<str>) -> Option<&str> {
    Some(v.as_ref())
}

fn lines_json(lines: &[Line]) -> Option<Cow<'static, str>> {
    if lines.is_empty() {
        return None;
    }
    let v: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::json!([l.product.as_str(), l.qty, l.unit_price.ten_thousandths()]))
        .collect();
    serde_json::to_string(&v).ok().map(Cow::Owned)
}

impl<'a> Columns<'a> {
    pub fn of(body: &'a Body) -> Columns<'a> {
        let mut c = Columns::default();
        match body {
            Body::PersonIdentified { language, org } => {
                c.r#ref = org.as_ref().map(Ref::as_str);
                c.t1 = language.as_ref().map(Label::as_str);
            }
            Body::InvoiceIssued {
                invoice,
                amount,
                currency,
                due,
                reference,
                lines,
            } => {
                c.r#ref = s(invoice);
                c.amount = Some(amount.ten_thousandths());
                c.currency = Some(currency.as_str());
                c.day = Some(i64::from(due.days_since_epoch()));
                c.t1 = reference.as_ref().map(Ref::as_str);
                c.lines = lines_json(lines);
            }
            Body::PaymentReceived {
                invoice,
                amount,
                currency,
                matched,
            } => {
                c.r#ref = s(invoice);
                c.amount = Some(amount.ten_thousandths());
                c.currency = currency.as_ref().map(Currency::as_str);
                c.t1 = matched.as_ref().map(Label::as_str);
            }
            Body::InvoiceCorrected {
                invoice,
                amount,
                currency,
            } => {
                c.r#ref = s(invoice);
                c.amount = Some(amount.ten_thousandths());
                c.currency = Some(currency.as_str());
            }
            Body::InvoiceDisputed { invoice } => c.r#ref = s(invoice),
            Body::DisputeResolved { invoice, outcome } => {
                c.r#ref = s(invoice);
                c.num = Some(*outcome as i64);
            }
            Body::OrderPlaced {
                order,
                amount,
                currency,
                lines,
            }
            | Body::OrderReturned {
                order,
                amount,
                currency,
                lines,
            } => {
                c.r#ref = s(order);
                c.amount = Some(amount.ten_thousandths());
                c.currency = currency.as_ref().map(Currency::as_str);
                c.lines = lines_json(lines);
            }
            Body::ContactOpened {
                contact,
                channel,
                topic,
                caused_by,
            } => {
                c.r#ref = s(contact);
                c.t1 = Some(channel.as_str());
                c.t2 = topic.as_ref().map(Label::as_str);
                c.extra = caused_by.as_ref().map(Ref::as_str);
            }
            Body::ContactAnswered { contact, by } => {
                c.r#ref = s(contact);
                c.t1 = Some(by.as_str());
            }
            Body::ContactClosed { contact, resolved } => {
                c.r#ref = s(contact);
                c.num = Some(i64::from(*resolved));
            }
            Body::IncidentOccurred { incident } | Body::ApologyMade { incident } => {
                c.r#ref = s(incident);
            }
            Body::PromiseMade { promise, due } => {
                c.r#ref = s(promise);
                c.day = Some(i64::from(due.days_since_epoch()));
            }
            Body::PromiseKept { promise } => c.r#ref = s(promise),
            Body::ReferralMade { referred } => c.r#ref = s(referred),
            Body::ReviewGiven { score } => c.num = Some(i64::from(*score)),
            Body::OutreachSent { channel, topic } => {
                c.t1 = Some(channel.as_str());
                c.t2 = topic.as_ref().map(Label::as_str);
            }
            Body::WishStated | Body::NoteAdded => {}
            Body::MenuChosen { item, option } => {
                c.t1 = Some(item.as_str());
                c.t2 = Some(option.as_str());
            }
            Body::MenuProposed { item } => c.t1 = item.as_ref().map(Label::as_str),
            Body::ConsentGiven { purpose, how } | Body::ConsentWithdrawn { purpose, how } => {
                c.t1 = Some(purpose.as_str());
                c.t2 = how.as_ref().map(Label::as_str);
            }
            Body::RelationshipEnded { reason } => c.num = Some(*reason as i64),
            Body::ContractStarted {
                contract,
                period,
                plan,
                price,
            } => {
                c.r#ref = s(contract);
                c.num = Some(*period as i64);
                c.t1 = plan.as_ref().map(Label::as_str);
                if let Some((amount, currency)) = price {
                    c.amount = Some(amount.ten_thousandths());
                    c.currency = currency.as_ref().map(Currency::as_str);
                }
            }
            Body::ContractRenewed { contract } => c.r#ref = s(contract),
            Body::ContractCancelled { contract, reason } => {
                c.r#ref = s(contract);
                c.num = reason.map(|r| r as i64);
            }
        }
        c
    }

    /// Rebuilds the body. `with_lines = false` skips decoding order lines (readings do not
    /// need them), leaving them empty.
    pub fn into_body(self, kind: Kind, with_lines: bool) -> Result<Body, StoreError> {
        let bad = |what: &str| StoreError::Corrupt {
            message: format!("{kind} row without a valid {what}"),
        };
        let r = |v: Option<&str>| -> Result<Ref, StoreError> {
            v.and_then(|v| Ref::parse(v).ok())
                .ok_or_else(|| bad("reference"))
        };
        let label = |v: Option<&str>| -> Result<Label, StoreError> {
            v.and_then(|v| Label::parse(v).ok())
                .ok_or_else(|| bad("label"))
        };
        let opt_label = |v: Option<&str>| v.and_then(|v| Label::parse(v).ok());
        let amount = |v: Option<i64>| {
            v.map(Amount::from_ten_thousandths)
                .ok_or_else(|| bad("amount"))
        };
        let currency = |v: Option<&str>| v.and_then(|v| Currency::parse(v).ok());
        let day = |v: Option<i64>| {
            v.and_then(|d| i32::try_from(d).ok())
                .map(Day::from_days)
                .ok_or_else(|| bad("day"))
        };
        let lines = |v: Option<Cow<'_, str>>| -> Result<Vec<Line>, StoreError> {
            match v {
                Some(text) if with_lines => decode_lines(&text).ok_or_else(|| bad("lines")),
                _ => Ok(Vec::new()),
            }
        };
        let c = self;
        Ok(match kind {
            Kind::PersonIdentified => Body::PersonIdentified {
                language: opt_label(c.t1),
                org: c.r#ref.and_then(|v| Ref::parse(v).ok()),
            },
            Kind::InvoiceIssued => Body::InvoiceIssued {
                invoice: r(c.r#ref)?,
                amount: amount(c.amount)?,
                currency: currency(c.currency).ok_or_else(|| bad("currency"))?,
                due: day(c.day)?,
                reference: c.t1.and_then(|v| Ref::parse(v).ok()),
                lines: lines(c.lines)?,
            },
            Kind::PaymentReceived => Body::PaymentReceived {
                invoice: r(c.r#ref)?,
                amount: amount(c.amount)?,
                currency: currency(c.currency),
                matched: opt_label(c.t1),
            },
            Kind::InvoiceCorrected => Body::InvoiceCorrected {
                invoice: r(c.r#ref)?,
                amount: amount(c.amount)?,
                currency: currency(c.currency).ok_or_else(|| bad("currency"))?,
            },
            Kind::InvoiceDisputed => Body::InvoiceDisputed {
                invoice: r(c.r#ref)?,
            },
            Kind::DisputeResolved => Body::DisputeResolved {
                invoice: r(c.r#ref)?,
                outcome: match c.num {
                    Some(1) => Outcome::Upheld,
                    Some(2) => Outcome::Rejected,
                    Some(3) => Outcome::Settled,
                    _ => return Err(bad("outcome")),
                },
            },
            Kind::OrderPlaced => Body::OrderPlaced {
                order: r(c.r#ref)?,
                amount: amount(c.amount)?,
                currency: currency(c.currency),
                lines: lines(c.lines)?,
            },
            Kind::OrderReturned => Body::OrderReturned {
                order: r(c.r#ref)?,
                amount: amount(c.amount)?,
                currency: currency(c.currency),
                lines: lines(c.lines)?,
            },
            Kind::ContactOpened => Body::ContactOpened {
                contact: r(c.r#ref)?,
                channel: label(c.t1)?,
                topic: opt_label(c.t2),
                caused_by: c.extra.and_then(|v| Ref::parse(v).ok()),
            },
            Kind::ContactAnswered => Body::ContactAnswered {
                contact: r(c.r#ref)?,
                by: label(c.t1)?,
            },
            Kind::ContactClosed => Body::ContactClosed {
                contact: r(c.r#ref)?,
                resolved: c.num == Some(1),
            },
            Kind::IncidentOccurred => Body::IncidentOccurred {
                incident: r(c.r#ref)?,
            },
            Kind::ApologyMade => Body::ApologyMade {
                incident: r(c.r#ref)?,
            },
            Kind::PromiseMade => Body::PromiseMade {
                promise: r(c.r#ref)?,
                due: day(c.day)?,
            },
            Kind::PromiseKept => Body::PromiseKept {
                promise: r(c.r#ref)?,
            },
            Kind::ReferralMade => Body::ReferralMade {
                referred: c
                    .r#ref
                    .and_then(|v| PersonId::parse(v).ok())
                    .ok_or_else(|| bad("referred person"))?,
            },
            Kind::ReviewGiven => Body::ReviewGiven {
                score: c
                    .num
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| bad("score"))?,
            },
            Kind::OutreachSent => Body::OutreachSent {
                channel: label(c.t1)?,
                topic: opt_label(c.t2),
            },
            Kind::WishStated => Body::WishStated,
            Kind::NoteAdded => Body::NoteAdded,
            Kind::MenuChosen => Body::MenuChosen {
                item: label(c.t1)?,
                option: label(c.t2)?,
            },
            Kind::MenuProposed => Body::MenuProposed {
                item: opt_label(c.t1),
            },
            Kind::ConsentGiven => Body::ConsentGiven {
                purpose: label(c.t1)?,
                how: opt_label(c.t2),
            },
            Kind::ConsentWithdrawn => Body::ConsentWithdrawn {
                purpose: label(c.t1)?,
                how: opt_label(c.t2),
            },
            Kind::RelationshipEnded => Body::RelationshipEnded {
                reason: c
                    .num
                    .and_then(EndReason::from_code)
                    .ok_or_else(|| bad("reason"))?,
            },
            Kind::ContractStarted => Body::ContractStarted {
                contract: r(c.r#ref)?,
                period: c
                    .num
                    .and_then(Period::from_code)
                    .ok_or_else(|| bad("period"))?,
                plan: opt_label(c.t1),
                price: c
                    .amount
                    .map(|a| (Amount::from_ten_thousandths(a), currency(c.currency))),
            },
            Kind::ContractRenewed => Body::ContractRenewed {
                contract: r(c.r#ref)?,
            },
            Kind::ContractCancelled => Body::ContractCancelled {
                contract: r(c.r#ref)?,
                reason: match c.num {
                    None => None,
                    Some(code) => Some(EndReason::from_code(code).ok_or_else(|| bad("reason"))?),
                },
            },
        })
    }
}

impl<'a> Columns<'a> {
    /// Appends the body blob of these columns (everything but `lines`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let slots = [
            self.r#ref.is_some(),
            self.amount.is_some(),
            self.currency.is_some(),
            self.day.is_some(),
            self.num.is_some(),
            self.t1.is_some(),
            self.t2.is_some(),
            self.extra.is_some(),
        ];
        let present = slots
            .iter()
            .enumerate()
            .fold(0u8, |acc, (i, on)| acc | (u8::from(*on) << i));
        out.push(present);
        let text = |s: Option<&str>, out: &mut Vec<u8>| {
            if let Some(s) = s {
                put_varint(out, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
        };
        text(self.r#ref, out);
        if let Some(v) = self.amount {
            put_varint(out, zigzag(v));
        }
        text(self.currency, out);
        if let Some(v) = self.day {
            put_varint(out, zigzag(v));
        }
        if let Some(v) = self.num {
            put_varint(out, zigzag(v));
        }
        text(self.t1, out);
        text(self.t2, out);
        text(self.extra, out);
    }

    /// Reads a body blob written by [`Columns::encode`]; `None` if it is damaged.
    pub fn decode(blob: &'a [u8]) -> Option<Columns<'a>> {
        let (&present, mut rest) = blob.split_first()?;
        let on = |i: u8| present & (1 << i) != 0;
        let mut c = Columns::default();
        if on(0) {
            c.r#ref = Some(take_str(&mut rest)?);
        }
        if on(1) {
            c.amount = Some(unzigzag(take_varint(&mut rest)?));
        }
        if on(2) {
            c.currency = Some(take_str(&mut rest)?);
        }
        if on(3) {
            c.day = Some(unzigzag(take_varint(&mut rest)?));
        }
        if on(4) {
            c.num = Some(unzigzag(take_varint(&mut rest)?));
        }
        if on(5) {
            c.t1 = Some(take_str(&mut rest)?);
        }
        if on(6) {
            c.t2 = Some(take_str(&mut rest)?);
        }
        if on(7) {
            c.extra = Some(take_str(&mut rest)?);
        }
        rest.is_empty().then_some(c)
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(rest: &mut &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&b, tail) = rest.split_first()?;
        *rest = tail;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn take_str<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let len = usize::try_from(take_varint(rest)?).ok()?;
    if rest.len() < len {
        return None;
    }
    let (s, tail) = rest.split_at(len);
    *rest = tail;
    std::str::from_utf8(s).ok()
}

fn decode_lines(text: &str) -> Option<Vec<Line>> {
    let v: Vec<(String, i64, i64)> = serde_json::from_str(text).ok()?;
    v.into_iter()
        .map(|(p, qty, price)| {
            Some(Line {
                product: Label::parse(&p).ok()?,
                qty,
                unit_price: Amount::from_ten_thousandths(price),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn integers_survive_their_varints(v in any::<i64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, zigzag(v));
            let mut rest = out.as_slice();
            prop_assert_eq!(unzigzag(take_varint(&mut rest).unwrap()), v);
            prop_assert!(rest.is_empty());
        }

        #[test]
        fn decoding_never_panics_on_damaged_blobs(blob in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Columns::decode(&blob);
        }
    }
    use domain::NewEvent;

    #[test]
    fn every_kind_survives_its_columns() {
        for line in domain::examples::ALL {
            let e = NewEvent::from_json_line(line).unwrap();
            let kind = e.body.kind();
            let cols = Columns::of(&e.body);
            let mut blob = Vec::new();
            cols.encode(&mut blob);
            let mut decoded = Columns::decode(&blob).expect("a blob it wrote itself");
            decoded.lines = cols.lines.clone();
            let back = decoded.into_body(kind, true).unwrap();
            assert_eq!(back, e.body, "{line}");
        }
    }
}
