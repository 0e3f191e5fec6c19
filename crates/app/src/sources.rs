//! The business's own artefacts into the ledger: e-invoices (UBL, CII), bank statements
//! (camt.053, MT940) matched to the open invoices, and the mailbox (mbox, `.eml`).
//!
//! Each file (a folder or a zip counts as one) is one transaction, all or nothing, like any
//! import; reading it again adds nothing. A statement is matched while this import holds
//! the ledger's writer lock, so two statements read at once never pay the same invoice twice;
//! a credit no rule places is kept, sealed, for a person to resolve — and their choice is
//! stored as the payment it makes, with the line's new state, in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::{Amount, Body, NewEvent, PersonId, Ref};
use import::archive::{self, ArchiveError, Document};
use import::artefacts;
use import::bank::{self, BankFormat, Direction, Statement};
use import::einvoice::{self, DocError};
use import::mail::{self, Address, Ours};
use import::matching::{Book, Credit, Decision, OpenInvoice, Rule};
use import::{ImportError, RowError};
use store::{BankDetails, BankLine, Batch, BatchSummary, LineState, NewBankLine};

use crate::import::{Imported, SHOWN_ERRORS};
use crate::{App, AppError, Audit};

/// What kind of artefact a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artefact {
    /// E-invoices and credit notes (one file, a folder or a zip of them).
    Invoices,
    /// A bank statement: camt.053 or MT940.
    Statement(BankFormat),
    /// An mbox, an `.eml` file, or a folder of them.
    Mailbox,
}

impl Artefact {
    /// In words, for messages.
    pub fn words(self) -> &'static str {
        match self {
            Artefact::Invoices => "e-invoices",
            Artefact::Statement(BankFormat::Camt053) => "a camt.053 bank statement",
            Artefact::Statement(BankFormat::Mt940) => "an MT940 bank statement",
            Artefact::Mailbox => "a mailbox",
        }
    }
}

/// Tells what `bytes` (the start of a document) are, if they are an artefact.
fn sniff(name: &Path, bytes: &[u8]) -> Option<Artefact> {
    if einvoice::sniff(bytes).is_some() {
        return Some(Artefact::Invoices);
    }
    if let Some(f) = bank::sniff(bytes) {
        return Some(Artefact::Statement(f));
    }
    let ext = name
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if matches!(ext.as_str(), "eml" | "mbox") || bytes.starts_with(b"From ") {
        return Some(Artefact::Mailbox);
    }
    None
}

/// What `path` holds, judged from its first document (a folder's or zip's first in name
/// order; a Maildir is a mailbox); `None` when it is none of the artefacts (JSON Lines, CSV).
pub fn detect(path: &Path) -> Result<Option<Artefact>, AppError> {
    if path.is_dir() && (path.join("cur").is_dir() || path.join("new").is_dir()) {
        return Ok(Some(Artefact::Mailbox));
    }
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !path.is_dir() && !is_zip {
        use std::io::Read;
        let mut head = Vec::with_capacity(64 << 10);
        std::fs::File::open(path)
            .and_then(|f| f.take(64 << 10).read_to_end(&mut head))
            .map_err(|e| AppError::Refused(format!("{}: cannot read: {e}", path.display())))?;
        return Ok(sniff(path, &head));
    }
    // The first document decides; the walk stops there.
    struct Found(Option<Artefact>);
    impl From<ArchiveError> for Found {
        fn from(_: ArchiveError) -> Found {
            Found(None)
        }
    }
    let mut found = None;
    let walked = archive::walk::<Found>(path, &mut |doc: Document| {
        found = sniff(&doc.name, &doc.bytes);
        Err(Found(found))
    });
    match walked {
        Ok(()) => Ok(None),
        Err(Found(f)) => Ok(f.or(found)),
    }
}

/// What reading one artefact did.
#[derive(Debug, Default)]
pub struct ArtefactOutcome {
    pub summary: BatchSummary,
    pub committed: bool,
    /// Documents (invoices, statements) or messages read.
    pub documents: u64,
    /// Documents or rows refused, and the first [`SHOWN_ERRORS`] of them.
    pub rejected: u64,
    pub shown: Vec<RowError>,
    /// What was counted rather than stored, in words, with how many ("debits (money out)").
    pub counted: BTreeMap<String, u64>,
    /// Bank credits placed on invoices, by the rule that placed them.
    pub matched: BTreeMap<Rule, u64>,
    /// Bank credits left for a person to resolve.
    pub unmatched: u64,
}

impl ArtefactOutcome {
    fn reject(&mut self, e: RowError) {
        self.rejected += 1;
        if self.shown.len() < SHOWN_ERRORS {
            self.shown.push(e);
        }
    }

    fn count(&mut self, what: &str, n: u64) {
        if n > 0 {
            *self.counted.entry(what.to_owned()).or_default() += n;
        }
    }

    /// Ends the import: commit, or (something refused and not `skip_invalid`) roll back.
    fn finish(
        mut self,
        mut batch: Box<dyn Batch + '_>,
        skip_invalid: bool,
    ) -> Result<ArtefactOutcome, AppError> {
        if self.rejected > 0 && !skip_invalid {
            self.summary = batch.summary()?;
            drop(batch);
            return Ok(self);
        }
        self.summary = batch.commit()?;
        self.committed = true;
        Ok(self)
    }
}

fn row_error(name: &Path, e: &DocError) -> RowError {
    RowError {
        file: name.to_owned(),
        line: e.line,
        field: e.field.clone(),
        message: e.message.clone(),
        raw: None,
    }
}

fn archive_refused(e: ArchiveError) -> AppError {
    AppError::Refused(e.to_string())
}

/// An error that stops a walk: the archive refused a document, or the ledger failed.
enum Stop {
    Archive(ArchiveError),
    App(AppError),
}

impl From<ArchiveError> for Stop {
    fn from(e: ArchiveError) -> Stop {
        Stop::Archive(e)
    }
}

impl From<Stop> for AppError {
    fn from(s: Stop) -> AppError {
        match s {
            Stop::Archive(e) => archive_refused(e),
            Stop::App(e) => e,
        }
    }
}

/// Options of an e-invoice import.
#[derive(Debug, Clone)]
pub struct InvoiceOptions {
    /// The source the events are recorded under ([`artefacts::INVOICE_SOURCE`]).
    pub source: String,
    /// Days to pay when an invoice has neither a due date nor terms that state them.
    pub due_days: Option<u32>,
    /// Keep the valid documents and list the others, instead of refusing the whole file.
    pub skip_invalid: bool,
}

impl App {
    fn artefact_batch(
        &self,
        path: &Path,
        face: &mut dyn Imported,
    ) -> Result<Box<dyn Batch + '_>, AppError> {
        Ok(self
            .ledger
            .batch_waiting(&path.display().to_string(), &mut |h| face.waiting(h))?)
    }

    /// Reads e-invoices and credit notes (a file, a folder or a zip of them) into the ledger.
    /// Documents are read, parsed and sealed on a second thread while this one writes, in
    /// chunks over a bounded channel (as `import::pipeline` does for JSON Lines and CSV).
    pub fn import_invoices(
        &self,
        path: &Path,
        options: &InvoiceOptions,
        face: &mut dyn Imported,
    ) -> Result<ArtefactOutcome, AppError> {
        let mut batch = self.artefact_batch(path, face)?;
        let mut sealer = batch.seal_ahead()?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Sealed>>(8);
        let (read, written) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut out = ArtefactOutcome::default();
                let mut chunk: Vec<Sealed> = Vec::with_capacity(CHUNK);
                let walked = archive::walk::<Stop>(path, &mut |doc: Document| {
                    let events = match read_invoice(&doc, options, &mut out) {
                        Some(events) if out.rejected == 0 || options.skip_invalid => events,
                        _ => return Ok(()),
                    };
                    for e in events {
                        let sealed = sealer.seal(&e).map_err(|e| Stop::App(e.into()))?;
                        chunk.push((e, sealed));
                    }
                    if chunk.len() >= CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        // The writer hung up: it failed, and says why.
                        tx.send(full).map_err(|_| {
                            Stop::App(AppError::Refused("the ledger stopped".into()))
                        })?;
                    }
                    Ok(())
                });
                if walked.is_ok() && !chunk.is_empty() {
                    let _ = tx.send(chunk);
                }
                (walked, out)
            });
            let mut written: Result<(), AppError> = Ok(());
            for chunk in &rx {
                for (e, sealed) in chunk {
                    if let Err(err) = batch.append_sealed(e, sealed) {
                        written = Err(err.into());
                        break;
                    }
                }
                if written.is_err() {
                    break;
                }
            }
            drop(rx);
            let read = reader.join().unwrap_or_else(|_| {
                (
                    Err(Stop::App(AppError::Refused(
                        "the reading thread failed".into(),
                    ))),
                    ArtefactOutcome::default(),
                )
            });
            (read, written)
        });
        written?;
        let (walked, out) = read;
        walked?;
        out.finish(batch, options.skip_invalid)
    }

    /// Reads a bank statement (camt.053 or MT940; a zip or folder of them) and matches its
    /// credits to the open invoices; what no rule places waits for a person
    /// ([`App::unmatched`]).
    pub fn import_statement(
        &self,
        path: &Path,
        face: &mut dyn Imported,
    ) -> Result<ArtefactOutcome, AppError> {
        let mut statements: Vec<(PathBuf, Statement)> = Vec::new();
        let mut out = ArtefactOutcome::default();
        let read = |name: &Path, bytes: &[u8]| match bank::sniff(bytes) {
            Some(BankFormat::Camt053) => Ok(bank::parse_camt053(bytes)),
            Some(BankFormat::Mt940) => Ok(bank::parse_mt940(bytes)),
            None => Err(RowError {
                file: name.to_owned(),
                line: 1,
                field: None,
                message: match sniff(name, bytes) {
                    Some(other) => {
                        format!("this is {}, not a bank statement", other.words())
                    }
                    None => "not a camt.053 or MT940 bank statement".to_owned(),
                },
                raw: None,
            }),
        };
        let mut each = |name: &Path, bytes: &[u8], out: &mut ArtefactOutcome| {
            out.documents += 1;
            match read(name, bytes) {
                Ok(Ok(s)) => statements.extend(s.into_iter().map(|s| (name.to_owned(), s))),
                Ok(Err(e)) => out.reject(row_error(name, &e)),
                Err(e) => out.reject(e),
            }
        };
        if path.is_file()
            && !path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            // A statement of a busy account is larger than an invoice: read it whole, up to
            // a bound no statement reaches.
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_STATEMENT {
                return Err(AppError::Refused(format!(
                    "{}: {} MiB is larger than any bank statement rapport reads ({} MiB)",
                    path.display(),
                    size >> 20,
                    MAX_STATEMENT >> 20
                )));
            }
            let bytes = std::fs::read(path)
                .map_err(|e| AppError::Refused(format!("{}: cannot read: {e}", path.display())))?;
            each(path, &bytes, &mut out);
        } else {
            archive::walk::<ArchiveError>(path, &mut |doc: Document| {
                each(&doc.name, &doc.bytes, &mut out);
                Ok(())
            })
            .map_err(archive_refused)?;
        }
        if out.rejected > 0 {
            // A statement that cannot be read is not matched in part.
            return Ok(out);
        }
        let mut batch = self.artefact_batch(path, face)?;
        let mut book = Book::new(self.open_invoices()?, self.known_accounts()?);
        for (name, statement) in statements {
            let source = artefacts::statement_source(statement.account.as_deref());
            let mut seen = self.ledger.bank_seen(&source)?;
            let mut lines = Vec::new();
            for entry in &statement.entries {
                if entry.direction == Direction::Debit {
                    out.count("debits (money going out)", 1);
                    continue;
                }
                if entry.reversal {
                    out.count("returned or reversed payments (not payments)", 1);
                    continue;
                }
                if !seen.insert(entry.id.clone()) {
                    out.count("credits read before", 1);
                    continue;
                }
                let credit = Credit {
                    booked: entry.booked,
                    amount: entry.amount,
                    currency: entry.currency,
                    iban: entry.iban.clone(),
                    reference: entry.reference.clone(),
                    text: entry.text.clone(),
                };
                let (state, reason, details) = match book.decide(&credit) {
                    Decision::Matched { rule, to } => {
                        match artefacts::payment_events(&source, entry, rule, &to) {
                            Ok(events) => {
                                for e in events {
                                    batch.append(e)?;
                                }
                            }
                            Err(e) => {
                                out.reject(row_error(&name, &e));
                                continue;
                            }
                        }
                        *out.matched.entry(rule).or_default() += 1;
                        (LineState::Matched, None, None)
                    }
                    Decision::Unmatched { reason } => {
                        out.unmatched += 1;
                        let details = BankDetails {
                            counterparty: entry.counterparty.clone(),
                            iban: entry.iban.clone(),
                            reference: entry.reference.clone(),
                            text: entry.text.clone(),
                        };
                        (LineState::Unmatched, Some(reason), Some(details))
                    }
                };
                lines.push(NewBankLine {
                    source: source.clone(),
                    id: entry.id.clone(),
                    booked: entry.booked,
                    amount: entry.amount,
                    currency: entry.currency,
                    state,
                    reason,
                    details,
                });
            }
            batch.bank_lines(lines)?;
        }
        out.finish(batch, false)
    }

    /// Every invoice with money still owed on it, from every person's events: its amount,
    /// less its corrections and the payments in its currency.
    fn open_invoices(&self) -> Result<Vec<OpenInvoice>, AppError> {
        let people = self.ledger.people()?;
        let found: Mutex<Vec<OpenInvoice>> = Mutex::new(Vec::new());
        self.ledger.visit_events(&|rank, events| {
            let Some(person) = people.get(rank) else {
                return;
            };
            let open = open_of(person, events);
            if !open.is_empty()
                && let Ok(mut f) = found.lock()
            {
                f.extend(open);
            }
        })?;
        Ok(found.into_inner().unwrap_or_default())
    }

    /// The accounts people paid from (or named on their invoices), as the sealed fields of
    /// their events say: a forgotten person's are gone with their key.
    fn known_accounts(&self) -> Result<Vec<(String, PersonId)>, AppError> {
        let mut accounts: HashSet<(String, PersonId)> = HashSet::new();
        for kind in [domain::Kind::PaymentReceived, domain::Kind::InvoiceIssued] {
            for (person, _, personal) in self.ledger.personal_of_kind(kind)? {
                if let Some(a) = personal.account {
                    accounts.insert((normal_account(&a), person));
                }
            }
        }
        Ok(accounts.into_iter().collect())
    }

    /// Reads a mailbox: a person's mail opens a contact, the business's reply answers it.
    /// An address the ledger knows (a person identified with that e-mail) is that person;
    /// another is a new person whose id is derived from the address (never the address
    /// itself, which stays sealed).
    pub fn import_mailbox(
        &self,
        path: &Path,
        ours: &Ours,
        face: &mut dyn Imported,
    ) -> Result<ArtefactOutcome, AppError> {
        let mut known: HashMap<String, PersonId> = HashMap::new();
        for (person, _, personal) in self
            .ledger
            .personal_of_kind(domain::Kind::PersonIdentified)?
        {
            if let Some(e) = personal.email {
                // The latest identification wins.
                known.insert(e.trim().to_lowercase(), person);
            }
        }
        let secret = self.ledger.secret("people met by mail");
        let mut resolve = |a: &Address| {
            known
                .get(&a.email)
                .cloned()
                .unwrap_or_else(|| mail_person(&secret, &a.email))
        };
        let batch = self.artefact_batch(path, face)?;
        let mut sink = BatchSink {
            batch,
            out: ArtefactOutcome::default(),
        };
        let report = match mail::read(path, ours, &mut resolve, &mut sink) {
            Ok(r) => r,
            Err(ImportError::Sink(e)) => {
                return Err(AppError::Refused(format!("{}: {e}", path.display())));
            }
            Err(e) => return Err(AppError::Refused(e.to_string())),
        };
        let BatchSink { batch, mut out } = sink;
        out.documents = report.messages;
        for (why, n) in &report.automatic {
            out.count(&format!("automatic mail ({why})"), *n);
        }
        out.count("mail among the business's own addresses", report.internal);
        out.count(
            "the business's mail that answers no question in the mailbox",
            report.unprompted,
        );
        out.count(
            "follow-ups in a question not yet answered",
            report.follow_ups,
        );
        // A message that cannot be read is counted with its reason, never a reason to refuse
        // the whole mailbox (mail is like that).
        for e in &report.unreadable {
            out.count(&format!("unreadable messages ({})", e.message), 1);
        }
        out.finish(batch, true)
    }

    /// The bank credits waiting for a person: how many, and the first `limit`, oldest first,
    /// with the payer's details opened (audited: they are personal).
    pub fn unmatched(
        &self,
        limit: usize,
        actor: &str,
        audit: &dyn Audit,
    ) -> Result<(u64, Vec<BankLine>), AppError> {
        audit.record(actor, "payments.unmatched", None)?;
        Ok(self.ledger.bank_unmatched(limit)?)
    }

    /// A person's open invoices, oldest due first: what a waiting credit may be placed on.
    pub fn open_invoices_of(&self, person: &PersonId) -> Result<Vec<OpenInvoice>, AppError> {
        let events = self
            .ledger
            .events_of(person)?
            .ok_or_else(|| AppError::NoPerson {
                person: person.to_string(),
                ledger: self.describe(),
            })?;
        let mut open = open_of(person, &events);
        open.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.invoice.cmp(&b.invoice)));
        Ok(open)
    }

    /// Places waiting credit `no` on an open invoice by hand: the payment it makes (matched
    /// `by-hand`) and the line's new state are stored together. `person` is needed only when
    /// two people have an invoice with that number.
    pub fn resolve_payment(
        &self,
        no: i64,
        invoice: &str,
        person: Option<&PersonId>,
        actor: &str,
        audit: &dyn Audit,
        wait: Duration,
    ) -> Result<(PersonId, Amount), AppError> {
        let line = self.waiting_line(no)?;
        let invoice = Ref::parse(invoice).map_err(|e| AppError::invalid("invoice", e.0))?;
        let started = Instant::now();
        let mut batch = self
            .ledger
            .batch_waiting("payments resolve", &mut |_| started.elapsed() < wait)?;
        // Named person: only their events are read; otherwise everyone's open invoices.
        let open = match person {
            Some(p) => match self.ledger.events_of(p)? {
                Some(events) => open_of(p, &events),
                None => Vec::new(),
            },
            None => self.open_invoices()?,
        };
        let candidates: Vec<OpenInvoice> =
            open.into_iter().filter(|o| o.invoice == invoice).collect();
        let target = match candidates.as_slice() {
            [] => {
                return Err(AppError::invalid(
                    "invoice",
                    format!(
                        "no open invoice {invoice}{}",
                        match person {
                            Some(p) => format!(" of {p}"),
                            None => String::new(),
                        }
                    ),
                ));
            }
            [one] => one.clone(),
            _ => {
                return Err(AppError::invalid(
                    "person",
                    format!(
                        "{} people have an open invoice {invoice}: say whose",
                        candidates.len()
                    ),
                ));
            }
        };
        if target.currency != line.currency {
            return Err(AppError::invalid(
                "invoice",
                format!(
                    "the payment is in {}, invoice {invoice} is in {}",
                    line.currency, target.currency
                ),
            ));
        }
        let entry = bank::Entry {
            id: line.id.clone(),
            line: 1,
            booked: line.booked,
            amount: line.amount,
            currency: line.currency,
            direction: Direction::Credit,
            reversal: false,
            counterparty: None,
            iban: line.details.as_ref().and_then(|d| d.iban.clone()),
            reference: None,
            text: None,
        };
        let to = [import::matching::Allocation {
            person: target.person.clone(),
            invoice: target.invoice.clone(),
            amount: line.amount,
        }];
        let events = artefacts::payment_events(&line.source, &entry, Rule::ByHand, &to)
            .map_err(|e| AppError::Refused(e.message))?;
        for e in events {
            batch.append(e)?;
        }
        batch.bank_lines(vec![decided(&line, LineState::Resolved, None)])?;
        batch.commit()?;
        // After the commit: the audit log is written by the ledger's writer, which the batch
        // held until then.
        audit.record(actor, "payments.resolve", Some(&target.person))?;
        Ok((target.person, line.amount))
    }

    /// Decides that waiting credit `no` pays no invoice (a refund from a supplier, money
    /// sent by mistake), with the reason; its details are dropped.
    pub fn dismiss_payment(
        &self,
        no: i64,
        reason: &str,
        actor: &str,
        audit: &dyn Audit,
        wait: Duration,
    ) -> Result<(), AppError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                "say why this credit pays no invoice",
            ));
        }
        let line = self.waiting_line(no)?;
        let started = Instant::now();
        let mut batch = self
            .ledger
            .batch_waiting("payments dismiss", &mut |_| started.elapsed() < wait)?;
        batch.bank_lines(vec![decided(
            &line,
            LineState::Dismissed,
            Some(reason.to_owned()),
        )])?;
        batch.commit()?;
        audit.record(actor, "payments.dismiss", None)?;
        Ok(())
    }

    fn waiting_line(&self, no: i64) -> Result<BankLine, AppError> {
        let line = self
            .ledger
            .bank_line(no)?
            .ok_or_else(|| AppError::invalid("line", format!("no bank line {no}")))?;
        if line.state != LineState::Unmatched {
            return Err(AppError::Refused(format!(
                "bank line {no} is not waiting: it was {} already",
                match line.state {
                    LineState::Matched => "matched",
                    LineState::Resolved => "resolved by hand",
                    LineState::Dismissed => "dismissed",
                    LineState::Unmatched => "waiting",
                }
            )));
        }
        Ok(line)
    }
}

/// An event with its personal fields sealed ahead, on its way to the writer.
type Sealed = (NewEvent, Option<store::Sealed>);

/// Events per message from the reading thread.
const CHUNK: usize = 2048;

/// One document of an e-invoice import: its events, or `None` when it is refused (counted
/// in `out`) or is no e-invoice at all.
fn read_invoice(
    doc: &Document,
    options: &InvoiceOptions,
    out: &mut ArtefactOutcome,
) -> Option<Vec<NewEvent>> {
    if einvoice::sniff(&doc.bytes).is_none() {
        match sniff(&doc.name, &doc.bytes) {
            Some(other) => out.reject(RowError {
                file: doc.name.clone(),
                line: 1,
                field: None,
                message: format!(
                    "this is {}, not an e-invoice: import it on its own",
                    other.words()
                ),
                raw: None,
            }),
            // A PDF or a read-me beside the invoices is not one of them.
            None => out.count("files that are not e-invoices", 1),
        }
        return None;
    }
    out.documents += 1;
    match einvoice::parse(&doc.bytes)
        .and_then(|d| artefacts::invoice_events(&d, &options.source, options.due_days))
    {
        Ok(events) => Some(events),
        Err(e) => {
            out.reject(row_error(&doc.name, &e));
            None
        }
    }
}

/// The largest bank statement file read (1 GiB).
const MAX_STATEMENT: u64 = 1 << 30;

/// The line again with its decision; its details are dropped.
fn decided(line: &BankLine, state: LineState, reason: Option<String>) -> NewBankLine {
    NewBankLine {
        source: line.source.clone(),
        id: line.id.clone(),
        booked: line.booked,
        amount: line.amount,
        currency: line.currency,
        state,
        reason,
        details: None,
    }
}

/// An account as matching compares it: no spaces, upper case.
fn normal_account(a: &str) -> String {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The id of a person first met by mail: `mail-` and a keyed hash of their address, so that
/// the same address is the same person in every mailbox read into this ledger, and the id
/// says nothing of the address.
fn mail_person(secret: &[u8; 32], email: &str) -> PersonId {
    use hmac::{Mac, SimpleHmac};
    let mut mac = <SimpleHmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(email.as_bytes());
    let digest = mac.finalize().into_bytes();
    // Twenty hex digits (80 bits) never repeat among a business's correspondents.
    PersonId::parse(&format!("mail-{}", hex::encode(&digest[..10])))
        .unwrap_or_else(|_| unreachable!("hex is a valid id"))
}

/// One person's invoices with money still owed.
fn open_of(person: &PersonId, events: &[domain::readings::Recorded]) -> Vec<OpenInvoice> {
    struct Owed<'a> {
        amount: i64,
        currency: domain::Currency,
        due: domain::Day,
        reference: Option<&'a Ref>,
    }
    let mut owed: BTreeMap<&Ref, Owed<'_>> = BTreeMap::new();
    for e in events {
        if let Body::InvoiceIssued {
            invoice,
            amount,
            currency,
            due,
            reference,
            ..
        } = &e.body
        {
            owed.entry(invoice).or_insert(Owed {
                amount: amount.ten_thousandths(),
                currency: *currency,
                due: *due,
                reference: reference.as_ref(),
            });
        }
    }
    for e in events {
        let (invoice, amount, currency) = match &e.body {
            Body::PaymentReceived {
                invoice,
                amount,
                currency,
                ..
            } => (invoice, amount, *currency),
            Body::InvoiceCorrected {
                invoice,
                amount,
                currency,
            } => (invoice, amount, Some(*currency)),
            _ => continue,
        };
        if let Some(o) = owed.get_mut(invoice)
            && currency.is_none_or(|c| c == o.currency)
        {
            o.amount -= amount.ten_thousandths();
        }
    }
    owed.into_iter()
        .filter(|(_, o)| o.amount > 0)
        .map(|(invoice, o)| OpenInvoice {
            person: person.clone(),
            invoice: invoice.clone(),
            currency: o.currency,
            outstanding: Amount::from_ten_thousandths(o.amount),
            due: o.due,
            reference: o.reference.map(|r| r.as_str().to_owned()),
        })
        .collect()
}

/// Events straight into a batch (the mailbox: read on this thread, sealed as appended).
struct BatchSink<'a> {
    batch: Box<dyn Batch + 'a>,
    out: ArtefactOutcome,
}

impl import::Sink for BatchSink<'_> {
    fn push(
        &mut self,
        _line: u64,
        event: NewEvent,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.batch.append(event)?;
        Ok(())
    }

    fn reject(&mut self, error: RowError) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.out.reject(error);
        Ok(())
    }
}
