//! Events: the one canonical shape everything in the ledger takes, and its validation.
//!
//! Every importer (JSON Lines, CSV through a mapping, the HTTP API) ends by handing a JSON
//! object to [`NewEvent::from_json`], so there is exactly one place that decides what a
//! valid event is. The fields are split in two: the public part ([`Body`]) that readings
//! use, and the [`Personal`] part (names, e-mail, free text) that the store seals with the
//! person's key and that no reading needs.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::values::{
    Amount, Currency, Day, EventId, Label, PersonId, Ref, Source, Timestamp, ValueError,
};

/// Every kind of event rapport understands. The numeric code is how the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    PersonIdentified = 1,
    InvoiceIssued = 2,
    PaymentReceived = 3,
    InvoiceDisputed = 4,
    DisputeResolved = 5,
    OrderPlaced = 6,
    OrderReturned = 7,
    ContactOpened = 8,
    ContactAnswered = 9,
    ContactClosed = 10,
    IncidentOccurred = 11,
    ApologyMade = 12,
    PromiseMade = 13,
    PromiseKept = 14,
    ReferralMade = 15,
    ReviewGiven = 16,
    OutreachSent = 17,
    WishStated = 18,
    MenuChosen = 19,
    MenuProposed = 20,
    ConsentGiven = 21,
    ConsentWithdrawn = 22,
    RelationshipEnded = 23,
    NoteAdded = 24,
    InvoiceCorrected = 25,
    ContractStarted = 26,
    ContractRenewed = 27,
    ContractCancelled = 28,
}

impl Kind {
    pub const ALL: [Kind; 28] = [
        Kind::PersonIdentified,
        Kind::InvoiceIssued,
        Kind::PaymentReceived,
        Kind::InvoiceDisputed,
        Kind::DisputeResolved,
        Kind::OrderPlaced,
        Kind::OrderReturned,
        Kind::ContactOpened,
        Kind::ContactAnswered,
        Kind::ContactClosed,
        Kind::IncidentOccurred,
        Kind::ApologyMade,
        Kind::PromiseMade,
        Kind::PromiseKept,
        Kind::ReferralMade,
        Kind::ReviewGiven,
        Kind::OutreachSent,
        Kind::WishStated,
        Kind::MenuChosen,
        Kind::MenuProposed,
        Kind::ConsentGiven,
        Kind::ConsentWithdrawn,
        Kind::RelationshipEnded,
        Kind::NoteAdded,
        Kind::InvoiceCorrected,
        Kind::ContractStarted,
        Kind::ContractRenewed,
        Kind::ContractCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PersonIdentified => "person.identified",
            Kind::InvoiceIssued => "invoice.issued",
            Kind::PaymentReceived => "payment.received",
            Kind::InvoiceDisputed => "invoice.disputed",
            Kind::DisputeResolved => "dispute.resolved",
            Kind::OrderPlaced => "order.placed",
            Kind::OrderReturned => "order.returned",
            Kind::ContactOpened => "contact.opened",
            Kind::ContactAnswered => "contact.answered",
            Kind::ContactClosed => "contact.closed",
            Kind::IncidentOccurred => "incident.occurred",
            Kind::ApologyMade => "apology.made",
            Kind::PromiseMade => "promise.made",
            Kind::PromiseKept => "promise.kept",
            Kind::ReferralMade => "referral.made",
            Kind::ReviewGiven => "review.given",
            Kind::OutreachSent => "outreach.sent",
            Kind::WishStated => "wish.stated",
            Kind::MenuChosen => "menu.chosen",
            Kind::MenuProposed => "menu.proposed",
            Kind::ConsentGiven => "consent.given",
            Kind::ConsentWithdrawn => "consent.withdrawn",
            Kind::RelationshipEnded => "relationship.ended",
            Kind::NoteAdded => "note.added",
            Kind::InvoiceCorrected => "invoice.corrected",
            Kind::ContractStarted => "contract.started",
            Kind::ContractRenewed => "contract.renewed",
            Kind::ContractCancelled => "contract.cancelled",
        }
    }

    /// The kind in words, for pages and the command line ("invoice", "question answered").
    pub fn words(self) -> &'static str {
        match self {
            Kind::PersonIdentified => "identified",
            Kind::InvoiceIssued => "invoice",
            Kind::PaymentReceived => "payment",
            Kind::InvoiceDisputed => "dispute",
            Kind::DisputeResolved => "dispute resolved",
            Kind::OrderPlaced => "order",
            Kind::OrderReturned => "return",
            Kind::ContactOpened => "question",
            Kind::ContactAnswered => "answer",
            Kind::ContactClosed => "contact closed",
            Kind::IncidentOccurred => "incident",
            Kind::ApologyMade => "apology",
            Kind::PromiseMade => "promise",
            Kind::PromiseKept => "promise kept",
            Kind::ReferralMade => "referral",
            Kind::ReviewGiven => "review",
            Kind::OutreachSent => "outreach",
            Kind::WishStated => "wish",
            Kind::MenuChosen => "menu choice",
            Kind::MenuProposed => "proposal",
            Kind::ConsentGiven => "consent given",
            Kind::ConsentWithdrawn => "consent withdrawn",
            Kind::RelationshipEnded => "ended",
            Kind::NoteAdded => "note",
            Kind::InvoiceCorrected => "correction",
            Kind::ContractStarted => "contract",
            Kind::ContractRenewed => "renewal",
            Kind::ContractCancelled => "cancellation",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == c)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a payment read from a bank statement was placed on its invoice, in words: the
/// `matched` field of `payment.received` (docs/events.md).
pub fn matched_words(matched: &str) -> Option<&'static str> {
    Some(match matched {
        "reference" => "by its payment reference",
        "invoice-number" => "by the invoice number in the description",
        "account-and-amount" => "by the payer's account and the amount",
        "account-and-combination" => "by the payer's account and the sum of invoices",
        "by-hand" => "by hand",
        _ => return None,
    })
}

/// How a dispute ended. `Upheld` means the person was right: the business made the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Upheld = 1,
    Rejected = 2,
    Settled = 3,
}

/// Why a relationship ended, in the person's or the business's classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    Price = 1,
    Service = 2,
    Moved = 3,
    Other = 4,
}

impl EndReason {
    pub const ALL: [EndReason; 4] = [
        EndReason::Price,
        EndReason::Service,
        EndReason::Moved,
        EndReason::Other,
    ];

    /// The word used in events, exports and on cards.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Price => "price",
            EndReason::Service => "service",
            EndReason::Moved => "moved",
            EndReason::Other => "other",
        }
    }

    /// The reason in words, to follow what ended: "cancelled because of the price".
    pub fn because(self) -> &'static str {
        match self {
            EndReason::Price => "because of the price",
            EndReason::Service => "because of the service",
            EndReason::Moved => "because they moved",
            EndReason::Other => "for another reason",
        }
    }

    /// Reads the event's word (surrounding blanks ignored, exact otherwise).
    pub fn parse(s: &str) -> Option<EndReason> {
        let s = s.trim();
        EndReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason stored under code `c` (the enum's discriminant).
    pub fn from_code(c: i64) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| *r as i64 == c)
    }
}

/// How long one period of a contract runs: it renews (or may be cancelled) at the end of
/// each. The retention models count a contract's tenure in these periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Week = 1,
    Month = 2,
    Quarter = 3,
    Year = 4,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Week, Period::Month, Period::Quarter, Period::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_suffix("ly").unwrap_or(&s);
        Period::ALL
            .into_iter()
            .find(|p| p.as_str() == s || (*p == Period::Year && s == "annual"))
    }

    pub fn from_code(c: i64) -> Option<Period> {
        Period::ALL.into_iter().find(|p| *p as i64 == c)
    }

    /// The date `n` periods after `start` (calendar months and years: a contract started on
    /// 31 January renews on the last day of February).
    pub fn after(self, start: Day, n: u32) -> Option<Day> {
        let months = |m: u32| {
            start
                .date()
                .checked_add_months(chrono::Months::new(m))
                .map(Day::from_date)
        };
        match self {
            Period::Week => i32::try_from(7 * i64::from(n))
                .ok()
                .and_then(|d| start.days_since_epoch().checked_add(d))
                .map(Day::from_days),
            Period::Month => months(n),
            Period::Quarter => months(n.checked_mul(3)?),
            Period::Year => months(n.checked_mul(12)?),
        }
    }
}

/// One line of an order: a product, a quantity (negative on returns) and a unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product: Label,
    pub qty: i64,
    pub unit_price: Amount,
}

/// The public, non-identifying part of an event: what readings are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    PersonIdentified {
        language: Option<Label>,
        org: Option<Ref>,
    },
    InvoiceIssued {
        invoice: Ref,
        amount: Amount,
        currency: Currency,
        due: Day,
        /// The structured payment reference the invoice asks the payer to quote.
        reference: Option<Ref>,
        /// What was invoiced, where the source gives it (e-invoices do): for hidden costs.
        lines: Vec<Line>,
    },
    PaymentReceived {
        invoice: Ref,
        amount: Amount,
        currency: Option<Currency>,
        /// How the payment was placed on its invoice when it was read from a bank statement
        /// (`reference`, `invoice-number`, `account-and-amount`, `account-and-combination`,
        /// `by-hand`); `None` when the source said which invoice it paid.
        matched: Option<Label>,
    },
    /// A credit note: the invoice's amount lowered by `amount` (a correction, not a payment
    /// and not a new debt).
    InvoiceCorrected {
        invoice: Ref,
        amount: Amount,
        currency: Currency,
    },
    InvoiceDisputed {
        invoice: Ref,
    },
    DisputeResolved {
        invoice: Ref,
        outcome: Outcome,
    },
    OrderPlaced {
        order: Ref,
        amount: Amount,
        currency: Option<Currency>,
        lines: Vec<Line>,
    },
    OrderReturned {
        order: Ref,
        amount: Amount,
        currency: Option<Currency>,
        lines: Vec<Line>,
    },
    ContactOpened {
        contact: Ref,
        channel: Label,
        topic: Option<Label>,
        caused_by: Option<Ref>,
    },
    ContactAnswered {
        contact: Ref,
        by: Label,
    },
    ContactClosed {
        contact: Ref,
        resolved: bool,
    },
    IncidentOccurred {
        incident: Ref,
    },
    ApologyMade {
        incident: Ref,
    },
    PromiseMade {
        promise: Ref,
        due: Day,
    },
    PromiseKept {
        promise: Ref,
    },
    ReferralMade {
        referred: PersonId,
    },
    ReviewGiven {
        score: u8,
    },
    OutreachSent {
        channel: Label,
        topic: Option<Label>,
    },
    WishStated,
    /// Something someone at the business wrote down about the person (its text is sealed:
    /// it is about them). Readings do not use it.
    NoteAdded,
    MenuChosen {
        item: Label,
        option: Label,
    },
    MenuProposed {
        item: Option<Label>,
    },
    ConsentGiven {
        purpose: Label,
        how: Option<Label>,
    },
    ConsentWithdrawn {
        purpose: Label,
        how: Option<Label>,
    },
    RelationshipEnded {
        reason: EndReason,
    },
    /// A contract or subscription began: the person pays for its first period now, and it
    /// renews at the end of every `period` until it is cancelled.
    ContractStarted {
        contract: Ref,
        period: Period,
        /// The plan or product, where the source names it.
        plan: Option<Label>,
        /// What one period costs, where the source says (with its currency, if named).
        price: Option<(Amount, Option<Currency>)>,
    },
    /// The person renewed the contract for another period (sources that record renewals
    /// one by one; a contract that renews by itself needs none).
    ContractRenewed {
        contract: Ref,
    },
    /// The contract was cancelled: it does not renew again.
    ContractCancelled {
        contract: Ref,
        reason: Option<EndReason>,
    },
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::PersonIdentified { .. } => Kind::PersonIdentified,
            Body::InvoiceIssued { .. } => Kind::InvoiceIssued,
            Body::PaymentReceived { .. } => Kind::PaymentReceived,
            Body::InvoiceCorrected { .. } => Kind::InvoiceCorrected,
            Body::InvoiceDisputed { .. } => Kind::InvoiceDisputed,
            Body::DisputeResolved { .. } => Kind::DisputeResolved,
            Body::OrderPlaced { .. } => Kind::OrderPlaced,
            Body::OrderReturned { .. } => Kind::OrderReturned,
            Body::ContactOpened { .. } => Kind::ContactOpened,
            Body::ContactAnswered { .. } => Kind::ContactAnswered,
            Body::ContactClosed { .. } => Kind::ContactClosed,
            Body::IncidentOccurred { .. } => Kind::IncidentOccurred,
            Body::ApologyMade { .. } => Kind::ApologyMade,
            Body::PromiseMade { .. } => Kind::PromiseMade,
            Body::PromiseKept { .. } => Kind::PromiseKept,
            Body::ReferralMade { .. } => Kind::ReferralMade,
            Body::ReviewGiven { .. } => Kind::ReviewGiven,
            Body::OutreachSent { .. } => Kind::OutreachSent,
            Body::WishStated => Kind::WishStated,
            Body::NoteAdded => Kind::NoteAdded,
            Body::MenuChosen { .. } => Kind::MenuChosen,
            Body::MenuProposed { .. } => Kind::MenuProposed,
            Body::ConsentGiven { .. } => Kind::ConsentGiven,
            Body::ConsentWithdrawn { .. } => Kind::ConsentWithdrawn,
            Body::RelationshipEnded { .. } => Kind::RelationshipEnded,
            Body::ContractStarted { .. } => Kind::ContractStarted,
            Body::ContractRenewed { .. } => Kind::ContractRenewed,
            Body::ContractCancelled { .. } => Kind::ContractCancelled,
        }
    }
}

/// Personal data carried by an event: identity fields and free text written by or about the
/// person. Stored sealed with the person's own key; forgetting the person destroys that key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Personal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_as: Option<String>,
    /// Free text: a question, an answer, a wish, a proposal, an apology, a review's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why the person disputed an invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What went wrong in an incident, or what was promised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// The account a payment came from (an IBAN), as the bank statement named it: how a
    /// later payment from the same account is recognised as this person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Personal {
    pub fn is_empty(&self) -> bool {
        *self == Personal::default()
    }
}

/// An event that has been validated but not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub source: Source,
    pub id: EventId,
    pub person: PersonId,
    pub at: Timestamp,
    pub body: Body,
    pub personal: Personal,
}

/// What was wrong with an event: the field (if one is to blame) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct EventError {
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn field_err(field: &str, message: impl Into<String>) -> EventError {
    EventError {
        field: Some(field.to_owned()),
        message: message.into(),
    }
}

fn unknown_reason(text: &str) -> EventError {
    field_err(
        "reason",
        format!(
            "{:?} is not one of price, service, moved, other",
            text.trim()
        ),
    )
}

/// Longest free text we accept in one field (1 MiB): larger is a broken export, not a message.
const MAX_TEXT: usize = 1 << 20;

/// Typed access to the fields of one JSON object, with errors that name the field.
struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn raw(&self, name: &str) -> Option<&'a Value> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, EventError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(field_err(
                name,
                format!("must be a string, not {}", type_name(other)),
            )),
        }
    }

    fn str(&self, name: &str) -> Result<&'a str, EventError> {
        self.opt_str(name)?
            .ok_or_else(|| field_err(name, "is missing"))
    }

    fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) -> Result<T, EventError> {
        parse(self.str(name)?).map_err(|e| field_err(name, e.0))
    }

    fn opt_parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) -> Result<Option<T>, EventError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse(s).map(Some).map_err(|e| field_err(name, e.0)),
        }
    }

    /// Free text written by or about the person (a question, an answer, a wish): it may run
    /// over several lines and keep its tabs, but no other control character has a place in
    /// it (a NUL is a broken export, not a word).
    fn text(&self, name: &str) -> Result<Option<String>, EventError> {
        self.personal(name, |c| matches!(c, '\n' | '\r' | '\t'))
    }

    /// A name, e-mail address or phone number: one line, no control character at all.
    fn one_line(&self, name: &str) -> Result<Option<String>, EventError> {
        self.personal(name, |_| false)
    }

    fn personal(
        &self,
        name: &str,
        allowed: impl Fn(char) -> bool,
    ) -> Result<Option<String>, EventError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(s) if s.len() > MAX_TEXT => Err(field_err(name, "is longer than 1 MiB")),
            Some(s) => match s
                .chars()
                .enumerate()
                .find(|&(_, c)| c.is_control() && !allowed(c))
            {
                Some((at, c)) => Err(field_err(
                    name,
                    format!(
                        "contains the control character U+{:04X} at character {}, which has no place in {}",
                        u32::from(c),
                        at + 1,
                        if allowed('\n') {
                            "a text"
                        } else {
                            "a name, an address or a number"
                        }
                    ),
                )),
                None => Ok(Some(s.to_owned())),
            },
        }
    }

    fn required_text(&self, name: &str) -> Result<String, EventError> {
        self.text(name)?
            .ok_or_else(|| field_err(name, "is missing"))
    }

    /// An amount must be written as a JSON string: a JSON number is a binary float, and
    /// money must never pass through one.
    fn amount(&self, name: &str, decimals: u8) -> Result<Amount, EventError> {
        match self.raw(name) {
            None => Err(field_err(name, "is missing")),
            Some(Value::String(s)) => Amount::parse(s, decimals).map_err(|e| field_err(name, e.0)),
            Some(Value::Number(n)) => Err(field_err(
                name,
                format!(
                    "must be a decimal string such as \"{n}\", not a JSON number (floats lose cents)"
                ),
            )),
            Some(other) => Err(field_err(
                name,
                format!("must be a decimal string, not {}", type_name(other)),
            )),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, EventError> {
        match self.raw(name) {
            None => Err(field_err(name, "is missing")),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Ok(true),
                "false" | "no" | "n" | "0" => Ok(false),
                _ => Err(field_err(name, format!("{s:?} is not true or false"))),
            },
            Some(other) => Err(field_err(
                name,
                format!("must be true or false, not {}", type_name(other)),
            )),
        }
    }

    fn integer(&self, name: &str) -> Result<i64, EventError> {
        match self.raw(name) {
            None => Err(field_err(name, "is missing")),
            // `3.0` is the number 3 in JSON (and in JSON Schema, and to every producer that
            // writes numbers as floats): whole is whole, whatever the notation. The bounds are
            // open: a literal just past i64's range rounds to its very edge as a float.
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| {
                            f.fract() == 0.0 && *f > i64::MIN as f64 && *f < i64::MAX as f64
                        })
                        .map(|f| f as i64)
                })
                .ok_or_else(|| field_err(name, format!("{n} is not a whole number"))),
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| field_err(name, format!("{s:?} is not a whole number"))),
            Some(other) => Err(field_err(
                name,
                format!("must be a whole number, not {}", type_name(other)),
            )),
        }
    }

    fn currency(&self, name: &str) -> Result<Option<Currency>, EventError> {
        self.opt_parsed(name, Currency::parse)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decimals allowed for an amount whose currency is not named: the common case of two.
const DEFAULT_DECIMALS: u8 = 2;
/// Decimals allowed for a unit price: prices per unit are often quoted finer than money.
const UNIT_PRICE_DECIMALS: u8 = 4;

fn decimals(c: Option<Currency>) -> u8 {
    c.map_or(DEFAULT_DECIMALS, |c| c.decimals())
}

/// The largest quantity an order line may have: a quantity beyond a trillion is a column
/// mix-up, and bounding it keeps sums of quantities (hidden costs) exact.
const MAX_QTY: i64 = 999_999_999_999;

/// An order's lines. On an `order.placed` every quantity is positive: taking goods back is an
/// `order.returned`, whose quantities may be written either way (exports write returns with
/// a minus, the presets without) and always mean goods returned. No price is negative.
fn lines(f: &Fields<'_>, returned: bool) -> Result<Vec<Line>, EventError> {
    let Some(raw) = f.raw("lines") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = raw else {
        return Err(field_err(
            "lines",
            format!("must be an array, not {}", type_name(raw)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(map) = item else {
                return Err(field_err(&format!("lines[{i}]"), "must be an object"));
            };
            let lf = Fields { map };
            let name = |n: &str| format!("lines[{i}].{n}");
            let product = lf
                .parsed("product", Label::parse)
                .map_err(|e| field_err(&name("product"), e.message))?;
            let qty = lf
                .integer("qty")
                .map_err(|e| field_err(&name("qty"), e.message))?;
            if qty == 0 {
                return Err(field_err(
                    &name("qty"),
                    "is 0: a line orders (or returns) at least one",
                ));
            }
            if qty < 0 && !returned {
                return Err(field_err(
                    &name("qty"),
                    format!(
                        "is {qty}: an order cannot take goods back; a return is an `order.returned` event"
                    ),
                ));
            }
            if qty.unsigned_abs() > MAX_QTY.unsigned_abs() {
                return Err(field_err(
                    &name("qty"),
                    format!("is {qty}: a quantity is at most {MAX_QTY}"),
                ));
            }
            let unit_price = lf
                .amount("unit_price", UNIT_PRICE_DECIMALS)
                .map_err(|e| field_err(&name("unit_price"), e.message))?;
            if unit_price.is_negative() {
                return Err(field_err(
                    &name("unit_price"),
                    format!(
                        "is {}: a price cannot be negative (give a discount as the order's `amount`; money given back is an `order.returned`)",
                        unit_price.format(2)
                    ),
                ));
            }
            if unit_price.checked_times(qty).is_none() {
                return Err(field_err(
                    &name("qty"),
                    format!(
                        "{qty} × {} is too large: {}",
                        unit_price.format(2),
                        Amount::TOO_LARGE
                    ),
                ));
            }
            Ok(Line {
                product,
                qty,
                unit_price,
            })
        })
        .collect()
}

/// An order's amount: given, or else the sum of its lines (for a return, of the goods
/// returned, whichever way their quantities were written). Never negative: a return is its
/// own kind, and its amount is what was returned.
fn order_amount(
    f: &Fields<'_>,
    currency: Option<Currency>,
    lines: &[Line],
    returned: bool,
) -> Result<Amount, EventError> {
    if f.raw("amount").is_some() || lines.is_empty() {
        // An order with lines may be worth fractions of a cent, as its unit prices may be
        // quoted finer than money: its amount, given or as written back by `to_json` from
        // the lines' sum, keeps the unit prices' decimals.
        let places = if lines.is_empty() {
            decimals(currency)
        } else {
            UNIT_PRICE_DECIMALS.max(decimals(currency))
        };
        let amount = f.amount("amount", places)?;
        if amount.is_negative() {
            let why = if returned {
                "a return's amount is what was returned: write it without a minus sign"
            } else {
                "an order cannot be negative: a return is an `order.returned` event"
            };
            return Err(field_err(
                "amount",
                format!("is {}: {why}", amount.format(2)),
            ));
        }
        return Ok(amount);
    }
    let mut sum = Amount::ZERO;
    for l in lines {
        // Each line's total was checked in `lines`; the sum is checked here.
        let total = l.unit_price.checked_times(l.qty.abs());
        sum = total.and_then(|t| sum.checked_add(t)).ok_or_else(|| {
            field_err(
                "lines",
                format!("add up to more than rapport holds: {}", Amount::TOO_LARGE),
            )
        })?;
    }
    Ok(sum)
}

impl NewEvent {
    /// Validates one event given as a JSON object in the canonical format of `docs/events.md`.
    pub fn from_json(map: &Map<String, Value>) -> Result<NewEvent, EventError> {
        let f = Fields { map };
        let kind_text = f.str("kind")?;
        let kind = Kind::parse(kind_text.trim()).ok_or_else(|| {
            field_err(
                "kind",
                format!("unknown kind {kind_text:?} (see docs/events.md for the kinds)"),
            )
        })?;
        let source = f.parsed("source", Source::parse)?;
        let id = f.parsed("id", EventId::parse)?;
        let person = f.parsed("person", PersonId::parse)?;
        let at = f.parsed("at", Timestamp::parse)?;
        let mut personal = Personal::default();
        let r = |name: &str| f.parsed(name, Ref::parse);
        let label = |name: &str| f.parsed(name, Label::parse);
        let opt_label = |name: &str| f.opt_parsed(name, Label::parse);

        let body = match kind {
            Kind::PersonIdentified => {
                personal.name = Some(
                    f.one_line("name")?
                        .ok_or_else(|| field_err("name", "is missing"))?,
                );
                personal.email = f.one_line("email")?;
                personal.phone = f.one_line("phone")?;
                personal.address_as = f.one_line("address_as")?;
                Body::PersonIdentified {
                    language: opt_label("language")?,
                    org: f.opt_parsed("org", Ref::parse)?,
                }
            }
            Kind::InvoiceIssued => {
                let currency = f.parsed("currency", Currency::parse)?;
                let amount = f.amount("amount", currency.decimals())?;
                if amount.is_negative() {
                    return Err(field_err(
                        "amount",
                        "an invoice cannot be negative (issue a credit as a separate event)",
                    ));
                }
                personal.account = f.one_line("account")?;
                Body::InvoiceIssued {
                    invoice: r("invoice")?,
                    amount,
                    currency,
                    due: f.parsed("due", Day::parse)?,
                    reference: f.opt_parsed("reference", Ref::parse)?,
                    lines: lines(&f, false)?,
                }
            }
            Kind::InvoiceCorrected => {
                let currency = f.parsed("currency", Currency::parse)?;
                let amount = f.amount("amount", currency.decimals())?;
                if amount.is_negative() {
                    return Err(field_err(
                        "amount",
                        "is negative: a correction's amount is what the invoice is lowered by",
                    ));
                }
                Body::InvoiceCorrected {
                    invoice: r("invoice")?,
                    amount,
                    currency,
                }
            }
            Kind::PaymentReceived => {
                let currency = f.currency("currency")?;
                let amount = f.amount("amount", decimals(currency))?;
                if amount.is_negative() {
                    return Err(field_err(
                        "amount",
                        format!(
                            "is {}: a payment cannot be negative (a refund or a reversed payment is not a payment)",
                            amount.format(2)
                        ),
                    ));
                }
                personal.account = f.one_line("account")?;
                let matched = opt_label("matched")?;
                if let Some(m) = &matched
                    && matched_words(m.as_str()).is_none()
                {
                    return Err(field_err(
                        "matched",
                        format!(
                            "{:?} is not one of reference, invoice-number, account-and-amount, \
                             account-and-combination, by-hand",
                            m.as_str()
                        ),
                    ));
                }
                Body::PaymentReceived {
                    invoice: r("invoice")?,
                    amount,
                    currency,
                    matched,
                }
            }
            Kind::InvoiceDisputed => {
                personal.reason = f.text("reason")?;
                Body::InvoiceDisputed {
                    invoice: r("invoice")?,
                }
            }
            Kind::DisputeResolved => {
                let outcome = match f.str("outcome")?.trim() {
                    "upheld" => Outcome::Upheld,
                    "rejected" => Outcome::Rejected,
                    "settled" => Outcome::Settled,
                    other => {
                        return Err(field_err(
                            "outcome",
                            format!("{other:?} is not one of upheld, rejected, settled"),
                        ));
                    }
                };
                Body::DisputeResolved {
                    invoice: r("invoice")?,
                    outcome,
                }
            }
            Kind::OrderPlaced | Kind::OrderReturned => {
                let currency = f.currency("currency")?;
                let returned = kind == Kind::OrderReturned;
                let lines = lines(&f, returned)?;
                let amount = order_amount(&f, currency, &lines, returned)?;
                let order = r("order")?;
                if kind == Kind::OrderPlaced {
                    Body::OrderPlaced {
                        order,
                        amount,
                        currency,
                        lines,
                    }
                } else {
                    Body::OrderReturned {
                        order,
                        amount,
                        currency,
                        lines,
                    }
                }
            }
            Kind::ContactOpened => {
                personal.text = f.text("text")?;
                Body::ContactOpened {
                    contact: r("contact")?,
                    channel: label("channel")?,
                    topic: opt_label("topic")?,
                    caused_by: f.opt_parsed("caused_by", Ref::parse)?,
                }
            }
            Kind::ContactAnswered => {
                personal.text = f.text("text")?;
                Body::ContactAnswered {
                    contact: r("contact")?,
                    by: label("by")?,
                }
            }
            Kind::ContactClosed => Body::ContactClosed {
                contact: r("contact")?,
                resolved: f.bool("resolved")?,
            },
            Kind::IncidentOccurred => {
                personal.what = f.text("what")?;
                Body::IncidentOccurred {
                    incident: r("incident")?,
                }
            }
            Kind::ApologyMade => {
                personal.text = f.text("text")?;
                Body::ApologyMade {
                    incident: r("incident")?,
                }
            }
            Kind::PromiseMade => {
                personal.what = f.text("what")?;
                Body::PromiseMade {
                    promise: r("promise")?,
                    due: f.parsed("due", Day::parse)?,
                }
            }
            Kind::PromiseKept => Body::PromiseKept {
                promise: r("promise")?,
            },
            Kind::ReferralMade => Body::ReferralMade {
                referred: f.parsed("referred", PersonId::parse)?,
            },
            Kind::ReviewGiven => {
                let score = f.integer("score")?;
                if !(0..=10).contains(&score) {
                    return Err(field_err(
                        "score",
                        format!("{score} is not between 0 and 10"),
                    ));
                }
                personal.text = f.text("text")?;
                Body::ReviewGiven { score: score as u8 }
            }
            Kind::OutreachSent => Body::OutreachSent {
                channel: label("channel")?,
                topic: opt_label("topic")?,
            },
            Kind::WishStated => {
                personal.text = Some(f.required_text("text")?);
                Body::WishStated
            }
            Kind::NoteAdded => {
                personal.text = Some(f.required_text("text")?);
                Body::NoteAdded
            }
            Kind::MenuChosen => Body::MenuChosen {
                item: label("item")?,
                option: label("option")?,
            },
            Kind::MenuProposed => {
                personal.text = Some(f.required_text("text")?);
                Body::MenuProposed {
                    item: opt_label("item")?,
                }
            }
            Kind::ConsentGiven => Body::ConsentGiven {
                purpose: label("purpose")?,
                how: opt_label("how")?,
            },
            Kind::ConsentWithdrawn => Body::ConsentWithdrawn {
                purpose: label("purpose")?,
                how: opt_label("how")?,
            },
            Kind::RelationshipEnded => {
                let text = f.str("reason")?;
                let reason = EndReason::parse(text).ok_or_else(|| unknown_reason(text))?;
                Body::RelationshipEnded { reason }
            }
            Kind::ContractStarted => {
                let period_text = f.str("period")?;
                let period = Period::parse(period_text).ok_or_else(|| {
                    field_err(
                        "period",
                        format!(
                            "{:?} is not one of week, month, quarter, year (how often the contract renews)",
                            period_text.trim()
                        ),
                    )
                })?;
                let currency = f.currency("currency")?;
                let price = match f.raw("amount") {
                    None => None,
                    Some(_) => {
                        let amount = f.amount("amount", decimals(currency))?;
                        if amount.is_negative() {
                            return Err(field_err(
                                "amount",
                                "is negative: a contract's amount is what one period costs",
                            ));
                        }
                        Some((amount, currency))
                    }
                };
                Body::ContractStarted {
                    contract: r("contract")?,
                    period,
                    plan: opt_label("plan")?,
                    price,
                }
            }
            Kind::ContractRenewed => Body::ContractRenewed {
                contract: r("contract")?,
            },
            Kind::ContractCancelled => {
                let reason = match f.opt_str("reason")?.map(str::trim) {
                    None | Some("") => None,
                    Some(text) => Some(EndReason::parse(text).ok_or_else(|| unknown_reason(text))?),
                };
                Body::ContractCancelled {
                    contract: r("contract")?,
                    reason,
                }
            }
        };
        Ok(NewEvent {
            source,
            id,
            person,
            at,
            body,
            personal,
        })
    }

    /// Parses and validates one line of JSON Lines.
    pub fn from_json_line(line: &str) -> Result<NewEvent, EventError> {
        let value: Value = serde_json::from_str(line).map_err(|e| EventError {
            field: None,
            message: format!("not valid JSON: {e}"),
        })?;
        match value {
            Value::Object(map) => NewEvent::from_json(&map),
            other => Err(EventError {
                field: None,
                message: format!("an event must be a JSON object, not {}", type_name(&other)),
            }),
        }
    }

    /// The canonical JSON form, personal fields included (for export and for tests).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let s = |v: &str| Value::String(v.to_owned());
        m.insert("source".into(), s(self.source.as_str()));
        m.insert("id".into(), s(self.id.as_str()));
        m.insert("kind".into(), s(self.body.kind().as_str()));
        m.insert("person".into(), s(self.person.as_str()));
        m.insert("at".into(), s(&self.at.to_rfc3339()));
        body_fields(&self.body, &mut m);
        if let Ok(Value::Object(p)) = serde_json::to_value(&self.personal) {
            m.extend(p);
        }
        m
    }
}

/// Writes a body's public fields into a JSON object, in the canonical format.
pub fn body_fields(body: &Body, m: &mut Map<String, Value>) {
    let s = |v: &str| Value::String(v.to_owned());
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    let money = |a: Amount, c: Option<Currency>| s(&a.format(decimals(c)));
    let lines_json = |lines: &[Line]| {
        Value::Array(
            lines
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "product": l.product.as_str(),
                        "qty": l.qty,
                        "unit_price": l.unit_price.format(2),
                    })
                })
                .collect(),
        )
    };
    match body {
        Body::PersonIdentified { language, org } => {
            if let Some(l) = language {
                put("language", s(l.as_str()));
            }
            if let Some(o) = org {
                put("org", s(o.as_str()));
            }
        }
        Body::InvoiceIssued {
            invoice,
            amount,
            currency,
            due,
            reference,
            lines,
        } => {
            put("invoice", s(invoice.as_str()));
            put("amount", money(*amount, Some(*currency)));
            put("currency", s(currency.as_str()));
            put("due", s(&due.to_string()));
            if let Some(r) = reference {
                put("reference", s(r.as_str()));
            }
            if !lines.is_empty() {
                put("lines", lines_json(lines));
            }
        }
        Body::PaymentReceived {
            invoice,
            amount,
            currency,
            matched,
        } => {
            put("invoice", s(invoice.as_str()));
            put("amount", money(*amount, *currency));
            if let Some(c) = currency {
                put("currency", s(c.as_str()));
            }
            if let Some(m) = matched {
                put("matched", s(m.as_str()));
            }
        }
        Body::InvoiceCorrected {
            invoice,
            amount,
            currency,
        } => {
            put("invoice", s(invoice.as_str()));
            put("amount", money(*amount, Some(*currency)));
            put("currency", s(currency.as_str()));
        }
        Body::InvoiceDisputed { invoice } => put("invoice", s(invoice.as_str())),
        Body::DisputeResolved { invoice, outcome } => {
            put("invoice", s(invoice.as_str()));
            put(
                "outcome",
                serde_json::to_value(outcome).unwrap_or(Value::Null),
            );
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
            put("order", s(order.as_str()));
            put("amount", money(*amount, *currency));
            if let Some(c) = currency {
                put("currency", s(c.as_str()));
            }
            if !lines.is_empty() {
                put("lines", lines_json(lines));
            }
        }
        Body::ContactOpened {
            contact,
            channel,
            topic,
            caused_by,
        } => {
            put("contact", s(contact.as_str()));
            put("channel", s(channel.as_str()));
            if let Some(t) = topic {
                put("topic", s(t.as_str()));
            }
            if let Some(c) = caused_by {
                put("caused_by", s(c.as_str()));
            }
        }
        Body::ContactAnswered { contact, by } => {
            put("contact", s(contact.as_str()));
            put("by", s(by.as_str()));
        }
        Body::ContactClosed { contact, resolved } => {
            put("contact", s(contact.as_str()));
            put("resolved", Value::Bool(*resolved));
        }
        Body::IncidentOccurred { incident } | Body::ApologyMade { incident } => {
            put("incident", s(incident.as_str()));
        }
        Body::PromiseMade { promise, due } => {
            put("promise", s(promise.as_str()));
            put("due", s(&due.to_string()));
        }
        Body::PromiseKept { promise } => put("promise", s(promise.as_str())),
        Body::ReferralMade { referred } => put("referred", s(referred.as_str())),
        Body::ReviewGiven { score } => put("score", Value::from(*score)),
        Body::OutreachSent { channel, topic } => {
            put("channel", s(channel.as_str()));
            if let Some(t) = topic {
                put("topic", s(t.as_str()));
            }
        }
        Body::WishStated | Body::NoteAdded => {}
        Body::MenuChosen { item, option } => {
            put("item", s(item.as_str()));
            put("option", s(option.as_str()));
        }
        Body::MenuProposed { item } => {
            if let Some(i) = item {
                put("item", s(i.as_str()));
            }
        }
        Body::ConsentGiven { purpose, how } | Body::ConsentWithdrawn { purpose, how } => {
            put("purpose", s(purpose.as_str()));
            if let Some(h) = how {
                put("how", s(h.as_str()));
            }
        }
        Body::RelationshipEnded { reason } => {
            put("reason", s(reason.as_str()));
        }
        Body::ContractStarted {
            contract,
            period,
            plan,
            price,
        } => {
            put("contract", s(contract.as_str()));
            put("period", s(period.as_str()));
            if let Some(p) = plan {
                put("plan", s(p.as_str()));
            }
            if let Some((amount, currency)) = price {
                put("amount", money(*amount, *currency));
                if let Some(c) = currency {
                    put("currency", s(c.as_str()));
                }
            }
        }
        Body::ContractRenewed { contract } => put("contract", s(contract.as_str())),
        Body::ContractCancelled { contract, reason } => {
            put("contract", s(contract.as_str()));
            if let Some(r) = reason {
                put("reason", s(r.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    const INVOICE: &str = r#"{"source":"ar","id":"inv-17","kind":"invoice.issued","person":"0379-NEVHP","at":"2013-01-02T00:00:00Z","invoice":"17","amount":"55.94","currency":"USD","due":"2013-02-01"}"#;

    fn with(line: &str, key: &str, value: Value) -> String {
        let mut v: Map<String, Value> = serde_json::from_str(line).unwrap();
        v.insert(key.to_owned(), value);
        serde_json::to_string(&v).unwrap()
    }

    fn without(line: &str, key: &str) -> String {
        let mut v: Map<String, Value> = serde_json::from_str(line).unwrap();
        v.remove(key);
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn every_reason_for_leaving_reads_back_from_its_word_its_code_and_serde() {
        for r in EndReason::ALL {
            assert_eq!(EndReason::parse(&format!(" {} ", r.as_str())), Some(r));
            assert_eq!(EndReason::from_code(r as i64), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), Value::from(r.as_str()));
        }
        assert_eq!(EndReason::parse("Price"), None);
        assert_eq!(EndReason::from_code(0), None);
    }

    #[test]
    fn the_invoice_of_the_issue_text_imports_exactly_as_written() {
        let e = NewEvent::from_json_line(INVOICE).unwrap();
        assert_eq!(e.person.as_str(), "0379-NEVHP");
        match e.body {
            Body::InvoiceIssued {
                invoice,
                amount,
                currency,
                due,
                reference,
                lines,
            } => {
                assert_eq!((reference, lines), (None, Vec::new()));
                assert_eq!(invoice.as_str(), "17");
                assert_eq!(amount.format(2), "55.94");
                assert_eq!(currency.as_str(), "USD");
                assert_eq!(due.to_string(), "2013-02-01");
            }
            other => panic!("wrong body {other:?}"),
        }
    }

    #[test]
    fn bad_events_are_refused_naming_the_field() {
        let cases: Vec<(String, Option<&str>, &str)> = vec![
            ("not json".into(), None, "not valid JSON"),
            ("[1,2]".into(), None, "JSON object"),
            (
                with(INVOICE, "kind", "invoice.eaten".into()),
                Some("kind"),
                "unknown kind",
            ),
            (without(INVOICE, "person"), Some("person"), "missing"),
            (without(INVOICE, "id"), Some("id"), "missing"),
            (
                with(INVOICE, "due", "2013-02-30".into()),
                Some("due"),
                "not a date",
            ),
            (
                with(INVOICE, "at", "2013-02-30T00:00:00Z".into()),
                Some("at"),
                "RFC 3339",
            ),
            (
                with(INVOICE, "amount", "55.941".into()),
                Some("amount"),
                "decimals",
            ),
            (
                with(INVOICE, "amount", serde_json::json!(55.94)),
                Some("amount"),
                "JSON number",
            ),
            (
                with(INVOICE, "amount", "-5.00".into()),
                Some("amount"),
                "negative",
            ),
            (
                with(INVOICE, "currency", "dollars".into()),
                Some("currency"),
                "ISO 4217",
            ),
            (
                with(INVOICE, "person", serde_json::json!(17)),
                Some("person"),
                "must be a string",
            ),
        ];
        for (line, field, needle) in cases {
            let e = NewEvent::from_json_line(&line).unwrap_err();
            assert_eq!(e.field.as_deref(), field, "{line}: {e}");
            assert!(e.to_string().contains(needle), "{line}: {e}");
        }
    }

    #[test]
    fn yen_amounts_may_not_have_cents() {
        let line = with(
            &with(INVOICE, "currency", "JPY".into()),
            "amount",
            "100.50".into(),
        );
        assert!(NewEvent::from_json_line(&line).is_err());
        let line = with(
            &with(INVOICE, "currency", "JPY".into()),
            "amount",
            "100".into(),
        );
        assert!(NewEvent::from_json_line(&line).is_ok());
    }

    #[test]
    fn an_order_without_an_amount_is_the_sum_of_its_lines() {
        let line = r#"{"source":"shop","id":"o1","kind":"order.placed","person":"p","at":"2020-01-01T10:00:00Z","order":"A1","lines":[{"product":"X","qty":3,"unit_price":"0.001"},{"product":"Y","qty":2,"unit_price":"2.50"}]}"#;
        let e = NewEvent::from_json_line(line).unwrap();
        let Body::OrderPlaced { amount, lines, .. } = e.body else {
            panic!()
        };
        assert_eq!(amount.format(2), "5.003");
        assert_eq!(lines.len(), 2);
    }

    const ORDER: &str = r#"{"source":"shop","id":"o1","kind":"order.placed","person":"NG-3","at":"2020-01-01T10:00:00Z","order":"A1"}"#;

    fn order_with(kind: &str, amount: Option<&str>, lines: Value) -> String {
        let mut line = with(&with(ORDER, "kind", kind.into()), "lines", lines);
        if let Some(a) = amount {
            line = with(&line, "amount", a.into());
        }
        line
    }

    fn line(qty: Value, price: &str) -> Value {
        serde_json::json!([{"product": "X", "qty": qty, "unit_price": price}])
    }

    #[test]
    fn what_an_order_cannot_be_is_refused_naming_the_field() {
        let placed = "order.placed";
        let returned = "order.returned";
        let cases: Vec<(String, &str, &str)> = vec![
            (
                order_with(placed, Some("-5.00"), Value::Null),
                "amount",
                "is -5.00: an order cannot be negative: a return is an `order.returned` event",
            ),
            (
                order_with(placed, None, line((-3).into(), "5.00")),
                "lines[0].qty",
                "is -3: an order cannot take goods back; a return is an `order.returned` event",
            ),
            (
                order_with(placed, None, line(0.into(), "5.00")),
                "lines[0].qty",
                "is 0",
            ),
            (
                order_with(returned, None, line(0.into(), "5.00")),
                "lines[0].qty",
                "is 0",
            ),
            (
                order_with(placed, None, line(1.into(), "-5.00")),
                "lines[0].unit_price",
                "a price cannot be negative",
            ),
            (
                order_with(returned, Some("-6.50"), Value::Null),
                "amount",
                "write it without a minus sign",
            ),
            // The review's line: 10^15 at 10000.00 was stored as 922337203685477.5807.
            (
                order_with(
                    placed,
                    None,
                    line(1_000_000_000_000_000i64.into(), "10000.00"),
                ),
                "lines[0].qty",
                "a quantity is at most 999999999999",
            ),
            (
                order_with(placed, None, line(1_000_000_000i64.into(), "10000.00")),
                "lines[0].qty",
                "1000000000 × 10000.00 is too large",
            ),
            (
                order_with(
                    placed,
                    None,
                    serde_json::json!([
                        {"product": "X", "qty": 6, "unit_price": "100000000000"},
                        {"product": "Y", "qty": 6, "unit_price": "100000000000"},
                    ]),
                ),
                "lines",
                "add up to more than rapport holds",
            ),
            (
                order_with(placed, Some("922337203685477.58"), Value::Null),
                "amount",
                "too large",
            ),
        ];
        for (json, field, needle) in cases {
            let e = NewEvent::from_json_line(&json).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{json}: {e}");
            assert!(e.message.contains(needle), "{json}: {e}");
        }
    }

    #[test]
    fn a_return_is_what_was_returned_whichever_way_its_quantities_are_written() {
        for qty in [-2, 2] {
            let json = order_with("order.returned", None, line(qty.into(), "3.25"));
            let e = NewEvent::from_json_line(&json).unwrap();
            let Body::OrderReturned { amount, lines, .. } = e.body else {
                panic!("{json}")
            };
            assert_eq!(amount.format(2), "6.50", "{json}");
            assert_eq!(lines[0].qty, qty, "the quantity is kept as written");
        }
        let free = order_with("order.placed", Some("0"), line(1.into(), "0"));
        assert!(
            NewEvent::from_json_line(&free).is_ok(),
            "a free order is an order"
        );
    }

    #[test]
    fn a_payment_cannot_be_negative_and_an_invoice_still_cannot() {
        let payment = domain_example("payment.received");
        let e = NewEvent::from_json_line(&with(&payment, "amount", "-55.94".into())).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));
        assert!(e.message.contains("a payment cannot be negative"), "{e}");
        let e = NewEvent::from_json_line(&with(INVOICE, "amount", "-1".into())).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));
    }

    fn domain_example(kind: &str) -> String {
        crate::examples::ALL
            .iter()
            .find(|l| l.contains(&format!("\"kind\":\"{kind}\"")))
            .unwrap()
            .to_string()
    }

    #[test]
    fn control_characters_are_refused_in_personal_fields_except_line_breaks_in_texts() {
        let person = domain_example("person.identified");
        let wish = domain_example("wish.stated");
        let cases = [
            (with(&person, "name", "Anna\u{0}".into()), Some("name")),
            (with(&person, "name", "Anna\nde Vries".into()), Some("name")),
            (with(&person, "email", "a@b\u{7}.org".into()), Some("email")),
            (with(&person, "phone", "+31\t6".into()), Some("phone")),
            (
                with(&person, "address_as", "\u{1b}[31mAnna".into()),
                Some("address_as"),
            ),
            (with(&wish, "text", "call me\u{0}".into()), Some("text")),
            (with(&wish, "text", "line one\r\nline\ttwo".into()), None),
            (with(&person, "name", "Zoë Ünal".into()), None),
        ];
        for (json, field) in cases {
            match (NewEvent::from_json_line(&json), field) {
                (Ok(_), None) => {}
                (Err(e), Some(f)) => {
                    assert_eq!(e.field.as_deref(), Some(f), "{json}");
                    assert!(e.message.contains("control character U+"), "{e}");
                }
                (got, _) => panic!("{json}: {got:?}"),
            }
        }
    }

    /// Found by fuzzing the JSON Lines reader: a return's lines added up to 5.502 EUR, and
    /// the canonical JSON written back from it was refused ("at most 2 decimals").
    #[test]
    fn an_order_whose_lines_add_up_to_fractions_of_a_cent_round_trips_through_its_canonical_json() {
        for kind in ["order.placed", "order.returned"] {
            let json = with(
                &order_with(kind, None, line(1.into(), "5.502")),
                "currency",
                "EUR".into(),
            );
            let e = NewEvent::from_json_line(&json).unwrap();
            let again = NewEvent::from_json(&e.to_json()).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(again, e, "{json}");
        }
        // Without lines, an amount keeps to its currency's decimals.
        let e = NewEvent::from_json_line(&with(
            &order_with("order.placed", Some("5.502"), Value::Null),
            "currency",
            "EUR".into(),
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("amount"));
    }

    #[test]
    fn personal_text_is_kept_apart_from_the_public_body() {
        let line = r#"{"source":"desk","id":"c1","kind":"contact.opened","person":"p","at":"2020-01-01T10:00:00Z","contact":"c1","channel":"email","text":"Where is my parcel?"}"#;
        let e = NewEvent::from_json_line(line).unwrap();
        assert_eq!(e.personal.text.as_deref(), Some("Where is my parcel?"));
        assert!(!format!("{:?}", e.body).contains("parcel"));
    }

    #[test]
    fn every_kind_round_trips_through_its_canonical_json() {
        for example in crate::examples::ALL {
            let e =
                NewEvent::from_json_line(example).unwrap_or_else(|err| panic!("{example}: {err}"));
            let again = NewEvent::from_json(&e.to_json()).unwrap();
            assert_eq!(e, again, "{example}");
        }
        let kinds: std::collections::BTreeSet<Kind> = crate::examples::ALL
            .iter()
            .map(|l| NewEvent::from_json_line(l).unwrap().body.kind())
            .collect();
        assert_eq!(kinds.len(), Kind::ALL.len(), "an example for every kind");
    }

    proptest::proptest! {
        #[test]
        fn validation_never_panics_on_arbitrary_text(line in ".{0,300}") {
            let _ = NewEvent::from_json_line(&line);
        }

        #[test]
        fn validation_never_panics_on_any_value_in_any_field(
            example in 0..crate::examples::ALL.len(),
            field in "[a-z_]{1,12}",
            value in proptest::prop_oneof![
                proptest::prelude::any::<i64>().prop_map(serde_json::Value::from),
                proptest::prelude::any::<f64>().prop_map(serde_json::Value::from),
                ".{0,40}".prop_map(serde_json::Value::from),
                proptest::prelude::Just(serde_json::Value::Null),
                proptest::prelude::Just(serde_json::json!([{"product": 1}])),
                proptest::prelude::Just(serde_json::json!({"a": [1, 2]})),
            ],
        ) {
            let mut m: Map<String, Value> = serde_json::from_str(crate::examples::ALL[example]).unwrap();
            m.insert(field, value);
            let _ = NewEvent::from_json(&m);
        }
    }

    #[test]
    fn kinds_keep_their_codes() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k.code()), Some(k));
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }
}
