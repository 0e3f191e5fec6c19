//! The lines of bank statements the ledger has read.
//!
//! A bank statement's credit is not yet anybody's: until it is matched to an invoice it has
//! no person, so it cannot be an event. Every credit read is kept here once, by its
//! statement's source and the bank's id for it — so that reading the same statement again
//! adds nothing, whatever was decided about it since — with its state: matched (the payment
//! is an event), unmatched (waiting for a person to resolve it, with the reason no rule
//! placed it), resolved by hand (the payment is an event) or dismissed (not a payment of
//! anyone's: a refund from a supplier). The payer's name, account and the remittance text
//! are personal: they are kept sealed, with a key of the ledger's own in the vault, only
//! while the line waits; once it is decided they are in the payment's sealed fields, or gone.

use std::collections::HashSet;

use domain::{Amount, Currency, Day, Timestamp};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The vault holds the key that seals waiting lines' details under this name, which can
/// never be a person's id (a person id has no control characters), so that rekeying the
/// ledger re-wraps it with everyone's and forgetting a person never touches it.
pub const BANK_KEY: &str = "\u{1}bank statements";

/// What became of a credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineState {
    /// A rule placed it: its payment is in the ledger.
    Matched = 1,
    /// Waiting for a person to resolve it.
    Unmatched = 2,
    /// Someone placed it by hand: its payment is in the ledger.
    Resolved = 3,
    /// Someone decided it pays no invoice.
    Dismissed = 4,
}

impl LineState {
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(c: i64) -> Option<LineState> {
        [
            LineState::Matched,
            LineState::Unmatched,
            LineState::Resolved,
            LineState::Dismissed,
        ]
        .into_iter()
        .find(|s| s.code() == c)
    }
}

/// The personal part of a credit: sealed while it waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A credit to record (or to record a decision about: the same source and id again
/// replaces the state, reason and details).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBankLine {
    /// `bank:` and the account (`bank:NL91ABNA0417164300`).
    pub source: String,
    /// The bank's id for the entry, unique for the account.
    pub id: String,
    pub booked: Day,
    pub amount: Amount,
    pub currency: Currency,
    pub state: LineState,
    /// Why no rule placed it (unmatched), or why it was dismissed.
    pub reason: Option<String>,
    /// Kept (sealed) only while the line is unmatched.
    pub details: Option<BankDetails>,
}

/// A credit as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankLine {
    /// Its number, for resolving it (`rapport payments resolve 17`).
    pub no: i64,
    pub source: String,
    pub id: String,
    pub booked: Day,
    pub amount: Amount,
    pub currency: Currency,
    pub state: LineState,
    pub reason: Option<String>,
    /// Opened; `None` once decided, or when they cannot be opened.
    pub details: Option<BankDetails>,
    /// When it was first read.
    pub read_at: Timestamp,
}

/// Bank statement lines read (see the module's header).
pub trait Bank {
    /// The ids of the lines of `source` already read, whatever their state.
    fn bank_seen(&self, source: &str) -> Result<HashSet<String>, StoreError>;
    /// How many lines wait, and the first `limit` of them, oldest booking first.
    fn bank_unmatched(&self, limit: usize) -> Result<(u64, Vec<BankLine>), StoreError>;
    /// One line by its number.
    fn bank_line(&self, no: i64) -> Result<Option<BankLine>, StoreError>;
}

/// The additional authenticated data of a line's sealed details.
pub fn details_aad(source: &str, id: &str) -> Vec<u8> {
    let mut v = b"bank\0".to_vec();
    v.extend_from_slice(source.as_bytes());
    v.push(0);
    v.extend_from_slice(id.as_bytes());
    v
}

/// Seals a waiting line's details with the ledger's bank key.
pub fn seal_details(
    sealer: &mut crate::keys::Sealer,
    key: &crate::keys::PersonKey,
    line: &NewBankLine,
) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(details) = &line.details else {
        return Ok(None);
    };
    let plain = serde_json::to_vec(details).map_err(|e| StoreError::Corrupt {
        message: format!("bank line {}/{}: {e}", line.source, line.id),
    })?;
    sealer
        .seal(key, &details_aad(&line.source, &line.id), &plain)
        .map(Some)
}

/// Opens a line's sealed details; `None` when there are none or they do not open (a line
/// is still listed without them).
pub fn open_details(
    key: Option<&crate::keys::PersonKey>,
    source: &str,
    id: &str,
    sealed: Option<&[u8]>,
) -> Option<BankDetails> {
    let plain = crate::keys::open(key?, &details_aad(source, id), sealed?).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// A stored row back as a [`BankLine`]: (no, source, id, booked, amount, currency, state,
/// reason, sealed, read_at).
#[allow(clippy::too_many_arguments)]
pub fn line_from_row(
    keys: &crate::Keyring,
    no: i64,
    source: String,
    id: String,
    booked: i64,
    amount: i64,
    currency: &str,
    state: i64,
    reason: Option<String>,
    sealed: Option<&[u8]>,
    read_at: i64,
) -> Result<BankLine, StoreError> {
    let bad = |what: &str| StoreError::Corrupt {
        message: format!("bank line {no}: {what}"),
    };
    let key = keys.key(BANK_KEY).ok().flatten();
    Ok(BankLine {
        details: open_details(key.as_ref(), &source, &id, sealed),
        no,
        booked: i32::try_from(booked)
            .map(Day::from_days)
            .map_err(|_| bad("booking day"))?,
        amount: Amount::from_ten_thousandths(amount),
        currency: Currency::parse(currency).map_err(|_| bad("currency"))?,
        state: LineState::from_code(state).ok_or_else(|| bad("state"))?,
        reason,
        read_at: Timestamp::from_unix(read_at),
        source,
        id,
    })
}
