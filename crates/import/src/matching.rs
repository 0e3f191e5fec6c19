//! Matching bank credits to open invoices, as a bookkeeper would, and never by a guess.
//!
//! The rules, in order: the structured reference the invoice asked for; the invoice number
//! in the remittance text; the payer's account known for one person together with an amount
//! equal to one of their open invoices, or to exactly one combination of them. A credit that
//! no rule places, or that two places fit equally, stays unmatched with the reason, for a
//! person to resolve. Each match names its rule.

use domain::{Amount, Currency, Day, PersonId, Ref};

/// An invoice not yet paid in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub person: PersonId,
    pub invoice: Ref,
    pub currency: Currency,
    /// Its amount less corrections and payments so far (positive).
    pub outstanding: Amount,
    pub due: Day,
    /// The structured payment reference it asked for, if any.
    pub reference: Option<String>,
}

/// Money received, as a bank statement says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub booked: Day,
    pub amount: Amount,
    pub currency: Currency,
    pub iban: Option<String>,
    pub reference: Option<String>,
    pub text: Option<String>,
}

/// Which rule placed a credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The structured reference equals the invoice's.
    Reference,
    /// The invoice number appears in the remittance text.
    InvoiceNumber,
    /// The payer's account is known for the person and the amount equals one open invoice.
    AccountAndAmount,
    /// The payer's account is known for the person and the amount equals exactly one
    /// combination of their open invoices.
    AccountAndCombination,
    /// Someone chose it by hand.
    ByHand,
}

impl Rule {
    /// As stored on the payment (`matched` in docs/events.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Reference => "reference",
            Rule::InvoiceNumber => "invoice-number",
            Rule::AccountAndAmount => "account-and-amount",
            Rule::AccountAndCombination => "account-and-combination",
            Rule::ByHand => "by-hand",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        [
            Rule::Reference,
            Rule::InvoiceNumber,
            Rule::AccountAndAmount,
            Rule::AccountAndCombination,
            Rule::ByHand,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// In words, for pages and the command line.
    pub fn words(self) -> &'static str {
        match self {
            Rule::Reference => "by its payment reference",
            Rule::InvoiceNumber => "by the invoice number in the description",
            Rule::AccountAndAmount => "by the payer's account and the amount",
            Rule::AccountAndCombination => "by the payer's account and the sum of invoices",
            Rule::ByHand => "by hand",
        }
    }
}

/// Part of a credit put toward one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub person: PersonId,
    pub invoice: Ref,
    pub amount: Amount,
}

/// What became of one credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Matched { rule: Rule, to: Vec<Allocation> },
    /// In words a bookkeeper understands ("two open invoices of 100.00 for this account").
    Unmatched { reason: String },
}

/// The open invoices and known accounts a statement is matched against; each decision
/// updates what is still open, so two credits never pay the same euro twice.
#[derive(Debug, Default)]
pub struct Book {}

impl Book {
    /// `accounts`: payer IBANs (without spaces, upper case) known for a person.
    pub fn new(_invoices: Vec<OpenInvoice>, _accounts: Vec<(String, PersonId)>) -> Book {
        todo!("helper: matching")
    }

    pub fn decide(&mut self, _credit: &Credit) -> Decision {
        todo!("helper: matching")
    }

    /// The person's open invoices, oldest due first (for resolving by hand).
    pub fn open_of(&self, _person: &PersonId) -> Vec<OpenInvoice> {
        todo!("helper: matching")
    }
}
