//! The mailbox: mbox files and folders of `.eml` messages (RFC 5322 with MIME,
//! quoted-printable, base64, any character set; HTML-only mail turned to text), threaded by
//! `Message-ID`, `In-Reply-To` and `References` into contacts and answers.
//!
//! A person's mail opens a contact; the business's reply (from one of [`Ours`]) answers it,
//! with only the words the reply added (quoted earlier text and signatures removed).
//! Automatic mail (auto-replies, bounces, lists and newsletters: `Auto-Submitted`,
//! `Precedence`, `List-Id`, delivery reports) is skipped and counted with its reason.

use std::path::Path;

use domain::{PersonId, Timestamp};

use crate::{ImportError, Sink};

/// The business's own addresses: whole addresses (`support@example.com`) or whole domains
/// (`@example.com`), compared without case.
#[derive(Debug, Clone, Default)]
pub struct Ours {
    pub addresses: Vec<String>,
    pub domains: Vec<String>,
}

impl Ours {
    /// Reads `--ours` values: `@example.com` is a domain, anything else an address.
    pub fn parse(_values: &[String]) -> Result<Ours, String> {
        todo!("helper: mail")
    }

    pub fn is_ours(&self, _address: &str) -> bool {
        todo!("helper: mail")
    }
}

/// A mail address with the name shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: Option<String>,
    /// Lowercased.
    pub email: String,
}

/// One message, as much of it as rapport uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Where it is: the mbox line its `From ` separator is on, or 1 for an `.eml` file.
    pub line: u64,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub date: Option<Timestamp>,
    pub subject: Option<String>,
    /// The text: the plain part, else the HTML part turned to text.
    pub text: String,
    /// Why this is automatic mail, if it is ("auto-reply", "bounce", "mailing list").
    pub automatic: Option<&'static str>,
}

/// A message that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct MailError {
    pub line: u64,
    pub message: String,
}

/// Reads one RFC 5322 message.
pub fn parse(_bytes: &[u8], _line: u64) -> Result<Mail, MailError> {
    todo!("helper: mail")
}

/// The words a reply added: without the quoted earlier message (`>` lines, "On … wrote:"
/// and what follows it, Outlook's "-----Original Message-----" and `From:` blocks) and
/// without the signature (after a `-- ` line).
pub fn own_words(_text: &str) -> String {
    todo!("helper: mail")
}

/// What reading a mailbox found, beside its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailReport {
    pub messages: u64,
    /// Automatic mail skipped, by reason.
    pub automatic: Vec<(&'static str, u64)>,
    /// Mail between the business's own addresses, or from nobody.
    pub internal: u64,
    /// The business's mail that answers no contact in the mailbox (it wrote first).
    pub unprompted: u64,
    /// A person's later mail in a contact already open (a follow-up, not a new question).
    pub follow_ups: u64,
    /// Messages that could not be read, with why.
    pub unreadable: Vec<MailError>,
}

/// Reads a mailbox into events: `path` is an mbox file, one `.eml` file, or a folder of them
/// (walked with [`crate::archive::walk`]; a Maildir's `cur` and `new` too). `resolve` names
/// the person behind an address that is not ours (the caller knows the ledger's people).
///
/// Events (source `mail`, ids from the Message-ID, so re-reading adds nothing): for each
/// person met, a `person.identified` with their name and address (sealed); for each thread a
/// person starts, a `contact.opened` (channel `email`, the subject and their own words as
/// its text); for the business's first reply in it, a `contact.answered` (`by` its sender's
/// address, its own words as text). A message that cannot be read is counted in the report,
/// never a panic; memory stays bounded however large the mbox (one message at a time).
pub fn read(
    _path: &Path,
    _ours: &Ours,
    _resolve: &mut dyn FnMut(&Address) -> PersonId,
    _sink: &mut dyn Sink,
) -> Result<MailReport, ImportError> {
    todo!("helper: mail")
}
