//! The mailbox: mbox files and folders of `.eml` messages (RFC 5322 with MIME,
//! quoted-printable, base64, any character set; HTML-only mail turned to text), threaded by
//! `Message-ID`, `In-Reply-To` and `References` into contacts and answers.
//!
//! A person's mail opens a contact; the business's reply (from one of [`Ours`]) answers it,
//! with only the words the reply added (quoted earlier text and signatures removed).
//! Automatic mail (auto-replies, bounces, lists and newsletters: `Auto-Submitted`,
//! `Precedence`, `List-Id`, delivery reports) is skipped and counted with its reason.

//!
//! Reading is two passes over the file, so that a reply stored before its question (mboxes
//! are in arrival order, folders in name order) still answers it. The first pass keeps a few
//! numbers per message (hashed ids, sender, date, kind) and threads them; the second reads
//! the texts and emits the events. Memory is one message at a time plus those numbers.

mod mbox;
mod source;
mod synthetic;
#[cfg(test)]
mod tests;
mod thread;
mod words;

use std::path::Path;

use domain::{PersonId, Timestamp};
use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::{ImportError, Sink};

#[doc(hidden)]
pub use synthetic::synthetic_mbox;

/// The business's own addresses: whole addresses (`support@example.com`) or whole domains
/// (`@example.com`), compared without case.
#[derive(Debug, Clone, Default)]
pub struct Ours {
    pub addresses: Vec<String>,
    pub domains: Vec<String>,
}

impl Ours {
    /// Reads `--ours` values: `@example.com` is a domain, anything else an address. A value
    /// may list several, separated by commas. A domain matches itself only, not its
    /// subdomains (`@example.com` is not `@mail.example.com`).
    pub fn parse(values: &[String]) -> Result<Ours, String> {
        let mut ours = Ours::default();
        for value in values.iter().flat_map(|v| v.split(',')) {
            let v = value.trim().to_lowercase();
            if v.is_empty() {
                continue;
            }
            if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("{value:?} is not a mail address or an @domain"));
            }
            match v.strip_prefix('@') {
                Some(domain) if !domain.is_empty() && !domain.contains('@') => {
                    ours.domains.push(domain.to_owned());
                }
                Some(_) => return Err(format!("{value:?} is not a domain such as @example.com")),
                None => match v.split_once('@') {
                    Some((local, domain))
                        if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
                    {
                        ours.addresses.push(v.clone());
                    }
                    _ => {
                        return Err(format!(
                            "{value:?} is not a mail address (support@example.com) or a domain (@example.com)"
                        ));
                    }
                },
            }
        }
        if ours.addresses.is_empty() && ours.domains.is_empty() {
            return Err("name the business's own addresses or @domains".to_owned());
        }
        Ok(ours)
    }

    /// Whether `address` is one of the business's, without case.
    pub fn is_ours(&self, address: &str) -> bool {
        let address = address.trim();
        if self
            .addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(address))
        {
            return true;
        }
        match address.rsplit_once('@') {
            Some((_, domain)) => self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)),
            None => false,
        }
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
    /// The recipients: `To` and `Cc`.
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

/// Reads one RFC 5322 message. mail-parser is lenient (an unknown character set is read as
/// UTF-8, broken MIME as far as it goes), so the only error is bytes with no header at all.
/// A message without `From` or `Date` is returned with them `None`: [`read`] counts it
/// unreadable.
pub fn parse(bytes: &[u8], line: u64) -> Result<Mail, MailError> {
    read_message(bytes, line, true)
}

/// Parses the message, only its headers unless `body`.
fn read_message(bytes: &[u8], line: u64, body: bool) -> Result<Mail, MailError> {
    let parser = MessageParser::new();
    // mail-parser promises never to panic, but has debug assertions on states it believes
    // impossible; a mailbox is outside data, so a panic in it is caught and reported.
    let parsed = std::panic::catch_unwind(|| {
        let message = if body {
            parser.parse(bytes)
        } else {
            parser.parse_headers(bytes)
        };
        message.map(|m| mail_of(&m, line, body))
    });
    match parsed {
        Ok(Some(mail)) => Ok(mail),
        Ok(None) => Err(MailError {
            line,
            message: "not a mail message: no header found".to_owned(),
        }),
        Err(_) => Err(MailError {
            line,
            message: "the MIME structure cannot be read".to_owned(),
        }),
    }
}

fn mail_of(m: &Message<'_>, line: u64, body: bool) -> Mail {
    let from = m.from().and_then(|a| a.first()).and_then(address_of);
    let to = m
        .to()
        .into_iter()
        .chain(m.cc())
        .flat_map(|a| a.iter())
        .filter_map(address_of)
        .collect();
    let date = m
        .date()
        .filter(|d| d.is_valid())
        .map(|d| Timestamp::from_unix(d.to_timestamp()));
    let text = if body {
        m.body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let automatic = automatic(m, from.as_ref());
    Mail {
        line,
        message_id: m.message_id().and_then(id_of),
        in_reply_to: ids_of(m.in_reply_to()),
        references: ids_of(m.references()),
        from,
        to,
        date,
        subject: m
            .subject()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        text,
        automatic,
    }
}

fn address_of(a: &mail_parser::Addr<'_>) -> Option<Address> {
    let email = a.address.as_deref()?.trim().to_lowercase();
    if email.is_empty() || !email.contains('@') {
        return None;
    }
    let name = a
        .name
        .as_deref()
        .map(|n| n.trim().trim_matches('"').trim())
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Some(Address { name, email })
}

fn id_of(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn ids_of(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(t) => id_of(t).into_iter().collect(),
        mail_parser::HeaderValue::TextList(list) => list.iter().filter_map(|t| id_of(t)).collect(),
        _ => Vec::new(),
    }
}

/// The raw value of a header that mail-parser does not interpret, by name without case.
fn header<'m>(m: &'m Message<'_>, name: &str) -> Option<&'m str> {
    m.headers_raw()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Why a message is automatic, if it is. Delivery reports come first (they often carry
/// `Auto-Submitted` too), then auto-replies, then lists.
///
/// `X-Auto-Response-Suppress` is what Exchange puts on its out-of-office replies; it is also
/// on some mail a system sends for a person, which is then skipped too — rare in a support
/// mailbox, and a person's own mail client does not set it.
fn automatic(m: &Message<'_>, from: Option<&Address>) -> Option<&'static str> {
    if m.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return Some("bounce");
    }
    if let Some(from) = from {
        let local = from.email.split('@').next().unwrap_or_default();
        if local == "mailer-daemon" || local == "postmaster" {
            return Some("bounce");
        }
    }
    if let Some(v) = header(m, "Auto-Submitted") {
        let v = v.split(';').next().unwrap_or_default().trim();
        if !v.eq_ignore_ascii_case("no") && !v.is_empty() {
            return Some(if v.eq_ignore_ascii_case("auto-replied") {
                "auto-reply"
            } else {
                "automatic"
            });
        }
    }
    if header(m, "X-Autoreply").is_some()
        || header(m, "X-Autorespond").is_some()
        || header(m, "X-Auto-Response-Suppress").is_some()
    {
        return Some("auto-reply");
    }
    if let Some(p) = header(m, "Precedence") {
        let p = p.to_ascii_lowercase();
        if p == "auto_reply" {
            return Some("auto-reply");
        }
        if matches!(p.as_str(), "bulk" | "list" | "junk") {
            return Some("mailing list");
        }
    }
    if header(m, "List-Id").is_some() || header(m, "List-Unsubscribe").is_some() {
        return Some("mailing list");
    }
    None
}

/// The words a reply added: without the quoted earlier message (`>` lines, "On … wrote:"
/// and what follows it, Outlook's "-----Original Message-----" and `From:` blocks) and
/// without the signature (after a `-- ` line).
pub fn own_words(text: &str) -> String {
    words::own_words(text)
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
///
/// A message whose Message-ID was already read (the same mail saved twice) is counted in
/// `messages` and otherwise skipped.
pub fn read(
    path: &Path,
    ours: &Ours,
    resolve: &mut dyn FnMut(&Address) -> PersonId,
    sink: &mut dyn Sink,
) -> Result<MailReport, ImportError> {
    let input = source::Input::of(path)?;
    let mut first = thread::FirstPass::new(ours);
    input.each(&mut |item| {
        sink.progress(item.read / 2);
        first.take(item);
        Ok(())
    })?;
    let (plan, report) = first.finish();
    let mut second = thread::SecondPass::new(path, plan, resolve, sink);
    input.each(&mut |item| second.take(item))?;
    second.finish();
    Ok(report)
}
