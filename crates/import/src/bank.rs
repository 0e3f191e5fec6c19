//! Bank statements as banks give them: ISO 20022 camt.053 (versions .001.02 to .001.08 and
//! later) and SWIFT MT940, read into typed [`Statement`]s with one [`Entry`] per booked
//! movement (a batch booking with several transactions is one entry per transaction).
//!
//! Pure: bytes in, statements or a [`crate::einvoice::DocError`] out. Deciding which credits
//! pay which invoices is [`crate::matching`]'s.

use domain::{Amount, Currency, Day};

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

/// Tells camt.053 and MT940 apart from their first bytes.
pub fn sniff(_bytes: &[u8]) -> Option<BankFormat> {
    todo!("helper: bank")
}

/// Reads a camt.053 document (one or more statements).
pub fn parse_camt053(_bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    todo!("helper: bank")
}

/// Reads an MT940 file (one or more statements).
pub fn parse_mt940(_bytes: &[u8]) -> Result<Vec<Statement>, DocError> {
    todo!("helper: bank")
}

/// Whether a reference is a valid ISO 11649 creditor reference (`RF` + check digits, mod 97).
pub fn is_creditor_reference(_s: &str) -> bool {
    todo!("helper: bank")
}
