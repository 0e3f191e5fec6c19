//! The ledger's storage, as a contract: the traits every backend implements, the types they
//! exchange, and what all backends share (the sealing of personal data and the key cache, the
//! compact encoding of an event's public fields, stored model fits).
//!
//! No database driver is named here. The SQLite backend (`rapport-store-sqlite`, the embedded
//! default) and the PostgreSQL backend (`rapport-store-postgres`) each implement [`Ledger`];
//! the application layer picks one from the location it is given and sees only the traits.
//! Every method takes `&self`: a backend shares itself between threads and does its own
//! pooling. One conformance suite (`crates/store/conformance`) holds every backend to the same
//! behaviour.

pub mod bank;
pub mod columns;
pub mod fits;
pub mod kept;
pub mod keys;
pub mod shards;
pub mod visit;

use std::sync::Arc;

use domain::readings::Recorded;
use domain::{NewEvent, PersonId, Timestamp};

pub use bank::{Bank, BankDetails, BankLine, LineState, NewBankLine};
pub use fits::{FitStore, StoredFit};
pub use kept::{KeptFigures, KeptMeta, KeptMover, KeptReadings, KeptStatus, KeptUpdate};
pub use keys::{Keyring, MasterKey, SealAhead, Sealed};
pub use shards::{Moved, Partition, ShardServer, Shards};

/// Everything that can go wrong in the store. Messages are for operators (the command line
/// prints them); the web logs them and shows a generic error instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database said no, for a reason none of the variants below names.
    #[error("database error: {message}")]
    Database { message: String },
    /// The database cannot be reached (a server down or restarting, a wrong address or
    /// password): try again, or check the location.
    #[error("{message}")]
    Unavailable { message: String },
    /// Another writer holds the ledger; the message names it when it can. Try again later.
    #[error("{message}")]
    Busy { message: String },
    /// The ledger cannot be written here (permissions, a read-only disk or role).
    #[error("{message}")]
    ReadOnly { message: String },
    /// The key vault is missing, or belongs to another ledger.
    #[error("{message}")]
    WrongVault { message: String },
    #[error("{message}")]
    MasterKey { message: String },
    #[error("key vault: {message}")]
    Vault { message: String },
    #[error("the ledger is damaged: {message}")]
    Corrupt { message: String },
    #[error("{message}")]
    NotALedger { message: String },
    /// This backend cannot do what was asked (spreading people over servers on SQLite).
    #[error("{message}")]
    Unsupported { message: String },
}

impl StoreError {
    /// Whether trying again later may succeed (another writer held the ledger).
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy { .. })
    }

    /// Whether the database could not be reached (it may come back).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// What an import added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub added: u64,
    pub duplicates: u64,
    /// Events skipped because their person asked to be forgotten.
    pub forgotten: u64,
    /// Those people's ids, as the import gave them (the ledger keeps none of them).
    pub forgotten_people: Vec<String>,
}

/// An import in progress: everything appended becomes visible at [`Batch::commit`], or not
/// at all if the batch is dropped.
pub trait Batch {
    /// Adds an event; one whose person, source and id are already in the ledger adds nothing and is
    /// counted in the summary's `duplicates`.
    fn append(&mut self, event: NewEvent) -> Result<(), StoreError>;
    /// A sealer for this batch that may run on another thread, so that the writing thread
    /// only writes: pass what it returns for each event to [`Batch::append_sealed`].
    fn seal_ahead(&self) -> Result<SealAhead, StoreError>;
    /// Adds an event whose personal fields [`Batch::seal_ahead`]'s sealer already sealed.
    fn append_sealed(&mut self, event: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError>;
    /// Records credits read from a bank statement, or a decision about one read before
    /// (the same source and id replace its state, reason and details), with the batch's
    /// events: a payment and the line it came from are stored together or not at all.
    fn bank_lines(&mut self, lines: Vec<NewBankLine>) -> Result<(), StoreError>;
    /// What the batch has added so far.
    fn summary(&mut self) -> Result<BatchSummary, StoreError>;
    fn commit(self: Box<Self>) -> Result<BatchSummary, StoreError>;
}

/// Every person's public events, for computing readings over the whole ledger.
#[derive(Debug, Default)]
pub struct Population {
    /// People in the order of their ledger key.
    pub people: Vec<PersonId>,
    /// `events[i]` are the events of `people[i]`, in time order (ties in ledger order).
    pub events: Vec<Vec<Recorded>>,
}

pub use domain::card::FullEvent;

/// Counts for a status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub people: u64,
    pub events: u64,
}

/// The ledger. Append-only: nothing here changes or deletes an event.
pub trait Store {
    /// Starts an import; `origin` (a file name, "api") is kept in the import log. Fails at
    /// once with [`StoreError::Busy`] while another writer holds the ledger.
    fn batch(&self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError>;
    /// [`Store::batch`], waiting for another writer to finish first: while it waits,
    /// `waiting` is told who holds the ledger, every tenth of a second or so, and answers
    /// whether to go on waiting (`false` gives up with [`StoreError::Busy`]).
    fn batch_waiting(
        &self,
        origin: &str,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn Batch + '_>, StoreError>;
    fn totals(&self) -> Result<Totals, StoreError>;
    /// Every person's id, in the ledger's order of people (their rank).
    fn people(&self) -> Result<Vec<PersonId>, StoreError>;
    /// Calls `visit(rank, events)` once for every person, with their public events in time
    /// order (personal fields are not opened). Calls may come from several threads at once,
    /// in no particular order; `rank` is the person's place in [`Store::people`].
    fn visit_events(&self, visit: &(dyn Fn(usize, &[Recorded]) + Sync)) -> Result<(), StoreError>;
    /// Every person and their public events, all in memory (see [`Store::visit_events`] for
    /// a pass that holds one person at a time).
    fn population(&self) -> Result<Population, StoreError> {
        let people = self.people()?;
        let slots: Vec<std::sync::Mutex<Vec<Recorded>>> = (0..people.len())
            .map(|_| std::sync::Mutex::new(Vec::new()))
            .collect();
        self.visit_events(&|rank, events| {
            if let Some(slot) = slots.get(rank)
                && let Ok(mut s) = slot.lock()
            {
                *s = events.to_vec();
            }
        })?;
        let events = slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_default())
            .collect();
        Ok(Population { people, events })
    }
    /// One person's public events in time order (nothing unsealed); `None` if unknown.
    fn events_of(&self, person: &PersonId) -> Result<Option<Vec<Recorded>>, StoreError>;
    /// The `(source, id)` of one of a person's events, by its ledger number.
    fn event_id(&self, person: &PersonId, seq: i64)
    -> Result<Option<(String, String)>, StoreError>;
    /// One person's events with personal fields opened; `None` if the person is unknown.
    fn history(&self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError>;
    /// Records that `actor` did `action` (e.g. `card.view`) concerning `person`.
    fn audit(&self, actor: &str, action: &str, person: Option<&PersonId>)
    -> Result<(), StoreError>;
    /// The audit log, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub person: Option<String>,
}

/// A web or API token: who holds it and what they may do. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    /// `admin`, `agent` or `analyst`.
    pub role: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A signed-in browser session, with the token it was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: TokenRecord,
    /// The session's anti-forgery token, which every form must send back.
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// Access to the ledger through the web and the API: tokens, sessions and the audit log.
/// Hashes are SHA-256 of the secret value, computed by the caller.
pub trait Access {
    fn token_add(&self, name: &str, role: &str, hash: &[u8]) -> Result<i64, StoreError>;
    /// Every token ever made, revoked ones included.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token and ends its sessions; `false` if there was no such live token.
    fn token_revoke(&self, id: i64) -> Result<bool, StoreError>;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
    fn session_add(
        &self,
        hash: &[u8],
        token: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The unexpired session with this hash, if its token is still live.
    fn session_by_hash(&self, hash: &[u8], now: Timestamp) -> Result<Option<Session>, StoreError>;
    fn session_remove(&self, hash: &[u8]) -> Result<(), StoreError>;
    /// Writes several audit entries in one transaction (a server groups concurrent views).
    fn audit_many(&self, entries: &[AuditEntry]) -> Result<(), StoreError>;
    /// The audit log newest first, `limit` entries older than `before` (a sequence number),
    /// each with its sequence number for the next page.
    fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditEntry)>, StoreError>;
    /// Every person's current name (the latest identification that gives one), opened with
    /// their key; forgotten people have none.
    fn names(&self) -> Result<Vec<(PersonId, String)>, StoreError>;
    /// A secret for `purpose` derived from the master key, never stored.
    fn secret(&self, purpose: &str) -> [u8; 32];
}

/// One item of the business's menu, with its options.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MenuItem {
    /// The item's id as `menu.chosen` events name it, e.g. `channel.email`, `roast`.
    pub item: String,
    /// product, service, channel, frequency, topic or other.
    pub kind: String,
    pub title: String,
    pub options: Vec<MenuOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MenuOption {
    pub id: String,
    pub title: String,
}

/// What forgetting one person removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub events: u64,
    pub sealed: u64,
    /// Whether old copies of the removed rows inside the database's own files were cleared at
    /// once too (a backend says which copies it means: SQLite's write-ahead log, which a
    /// reader busy for seconds can hold back); otherwise its next maintenance clears them.
    pub cleared_now: bool,
}

/// The business's menu, people's own texts of one kind, and forgetting a person.
pub trait PersonData {
    fn menu(&self) -> Result<Vec<MenuItem>, StoreError>;
    /// Adds or replaces a menu item.
    fn menu_put(&self, item: &MenuItem) -> Result<(), StoreError>;
    /// Every text of events of `kind` (e.g. proposals), opened, with the person and moment;
    /// forgotten people's texts are gone.
    fn texts(&self, kind: domain::Kind) -> Result<Vec<(PersonId, Timestamp, String)>, StoreError> {
        Ok(self
            .personal_of_kind(kind)?
            .into_iter()
            .filter_map(|(person, at, p)| Some((person, at, p.text?)))
            .collect())
    }
    /// The opened personal fields of every event of one kind, by person and time (a person
    /// whose key is gone, forgotten, is not among them): the e-mail addresses the ledger
    /// knows people by, the accounts they paid from.
    fn personal_of_kind(
        &self,
        kind: domain::Kind,
    ) -> Result<Vec<(PersonId, Timestamp, domain::Personal)>, StoreError>;
    /// Forgets a person: their key is destroyed, their events, sealed fields and name in the
    /// audit log removed and overwritten, and the log emptied so no byte of it remains (figures that
    /// identify nobody are kept, detached, in the totals of forgotten people). A tombstone
    /// keeps later imports from bringing them back. `None` if there is no such person.
    fn forget(&self, person: &PersonId) -> Result<Option<Forgotten>, StoreError>;
    /// Lifts the tombstone a forgetting left, for a person who came back and asked to be known
    /// again: their next events are imported as a new person's. `false` if there was none.
    fn welcome_back(&self, person: &PersonId) -> Result<bool, StoreError>;
    /// The tombstones laid after `seq` (a server's last seen), with their sequence numbers:
    /// each is the keyed hash of a forgotten person's id (see [`PersonData::tombstone_of`]).
    fn tombstones_after(&self, seq: i64) -> Result<Vec<(i64, [u8; 32])>, StoreError>;
    /// The sequence number of the latest tombstone (0 when nobody was ever forgotten): what a
    /// server asks every second or so.
    fn latest_tombstone(&self) -> Result<i64, StoreError>;
    /// The secret tombstones are keyed with: a server uses it to recognise, among the people it
    /// shows, those forgotten elsewhere.
    fn tombstone_key(&self) -> Result<[u8; 32], StoreError>;
}

/// The tombstone of `person` under `key` (see [`PersonData::tombstone_key`]):
/// HMAC-SHA-256 of the id.
pub fn tombstone_of(key: &[u8; 32], person: &str) -> [u8; 32] {
    use hmac::Mac as _;
    let mut m = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    m.update(person.as_bytes());
    m.finalize().into_bytes().into()
}

/// What a person was invoiced and ordered, by currency, to the ten-thousandth: the sums a
/// forgetting keeps (anonymously) for the books.
pub fn amounts_by_currency(
    events: &[domain::readings::Recorded],
) -> std::collections::BTreeMap<String, String> {
    let mut amounts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for e in events {
        match &e.body {
            domain::Body::InvoiceIssued {
                amount, currency, ..
            } => *amounts.entry(currency.to_string()).or_default() += amount.ten_thousandths(),
            domain::Body::OrderPlaced {
                amount,
                currency: Some(c),
                ..
            } => *amounts.entry(c.to_string()).or_default() += amount.ten_thousandths(),
            _ => {}
        }
    }
    amounts
        .into_iter()
        .map(|(c, v)| (c, domain::Amount::from_ten_thousandths(v).format(4)))
        .collect()
}

/// An import's screen against the tombstones: the events of forgotten people are skipped
/// and counted by person, the same on every backend. Only people the ledger does not hold
/// can be forgotten, so the caller says whether it holds the person, and people it holds
/// cost nothing more.
pub struct Screen {
    tombstones: std::collections::HashSet<[u8; 32]>,
    key: [u8; 32],
    skipped: std::collections::HashMap<String, u64>,
}

impl Screen {
    /// A screen over the ledger's tombstones, laid under `key` ([`tombstone_of`]).
    pub fn new(tombstones: std::collections::HashSet<[u8; 32]>, key: [u8; 32]) -> Screen {
        Screen {
            tombstones,
            key,
            skipped: std::collections::HashMap::new(),
        }
    }

    /// Whether an event of `person` is skipped (and counted): they were forgotten.
    /// `held`: the ledger holds this person, so they are not forgotten.
    pub fn skips(&mut self, person: &str, held: bool) -> bool {
        if self.tombstones.is_empty() || held {
            return false;
        }
        if let Some(n) = self.skipped.get_mut(person) {
            *n += 1;
            return true;
        }
        if self.tombstones.contains(&tombstone_of(&self.key, person)) {
            self.skipped.insert(person.to_owned(), 1);
            return true;
        }
        false
    }

    /// Adds what was skipped to `summary`: how many events, and whose (sorted).
    pub fn tell(&self, summary: &mut BatchSummary) {
        summary.forgotten = self.skipped.values().sum();
        summary.forgotten_people = self.skipped.keys().cloned().collect();
        summary.forgotten_people.sort();
    }
}

/// Looking after the ledger as a whole: where it is, whether it answers, its settings, and
/// its keys.
pub trait Admin {
    /// Where the ledger is, for messages ("the SQLite ledger ./rapport.db",
    /// "the PostgreSQL ledger rapport on db.example:5432"), never with a password.
    fn describe(&self) -> String;
    /// Whether the database answers now (a server's health check; it reconnects by itself).
    fn health(&self) -> Result<(), StoreError>;
    /// The person keys: unwrapped on demand, cached, shared by every thread.
    fn keys(&self) -> &Arc<Keyring>;
    /// A setting of the ledger's own (`None` when never set).
    fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Re-wraps every person key (and the ledger's own secrets) under `new`, in one
    /// transaction: afterwards only `new` opens the vault, so destroying the old master key
    /// makes every earlier backup of the vault unreadable. Returns how many keys were
    /// re-wrapped. The caller keeps `new` safe before calling. Once the transaction is
    /// committed this succeeds: whether the old wrappings were also cleared from the
    /// database's own files at once is part of the answer, not an error.
    fn rekey(&self, new: &MasterKey) -> Result<Rewrapped, StoreError>;
}

/// What re-keying the vault did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewrapped {
    /// Person keys re-wrapped under the new master key.
    pub keys: u64,
    /// Whether the old wrappings were cleared from the database's files at once (SQLite: the
    /// vault file vacuumed; PostgreSQL: the vault's tables rewritten, which waits for older
    /// transactions on the same database); otherwise the backend's maintenance must do it, as
    /// the caller tells the person.
    pub cleared_now: bool,
}

/// Everything a ledger is, as the application layer sees it: one object, shared by every
/// thread, whatever the backend.
pub trait Ledger:
    Store
    + Access
    + PersonData
    + Scripts
    + Costs
    + FitStore
    + Admin
    + KeptReadings
    + Shards
    + Bank
    + Send
    + Sync
{
}

impl<T> Ledger for T where
    T: Store
        + Access
        + PersonData
        + Scripts
        + Costs
        + FitStore
        + Admin
        + KeptReadings
        + Shards
        + Bank
        + Send
        + Sync
{
}

/// One script the business uses, as the scripts page and `rapport scripts` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptSummary {
    pub id: i64,
    /// How many different people received it.
    pub people: u64,
    pub answers: u64,
    /// How many different texts (after masking names, numbers, addresses and links — its
    /// *wordings*) it was sent as.
    pub variants: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Who sent it, most often first (at most five).
    pub by: Vec<ByCount>,
    /// The text of its most common wording, names, numbers, addresses and links masked;
    /// `None` when every person who received that wording has been forgotten.
    pub text: Option<String>,
    /// How many people received that very wording: when more than five, it is certainly not
    /// written for one of them.
    pub text_people: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ByCount {
    pub by: String,
    pub answers: u64,
}

/// The business's scripts at a glance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScriptsOverview {
    /// Answers with text (those that can be judged).
    pub answers: u64,
    /// Of those, how many are scripted.
    pub scripted: u64,
    /// How many scripts reached more than five people.
    pub scripts: u64,
    /// The largest scripts, by people reached.
    pub list: Vec<ScriptSummary>,
}

/// What rebuilding the index of scripts found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Regrouped {
    /// Answers whose sealed fields could be opened.
    pub answers: u64,
    /// Of those, answers with words (the others are never scripts).
    pub with_text: u64,
    /// Different texts after masking names, numbers, addresses and links (wordings).
    pub variants: u64,
    /// Scripts that reached more than five people.
    pub scripts: u64,
}

/// One answer of a script: to whom, when, by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub person: PersonId,
    pub at: Timestamp,
    pub by: String,
}

/// Scripted answers (READINGS.md, "personal"): kept up to date by every import.
pub trait Scripts {
    /// The ledger numbers of every scripted answer, for everyone's `personal` reading.
    fn scripted(&self) -> Result<domain::scripts::Scripted, StoreError>;
    /// The ledger numbers of the scripted answers `people` received: what their `personal`
    /// readings need, without everyone's.
    fn scripted_of(&self, people: &[PersonId]) -> Result<domain::scripts::Scripted, StoreError>;
    /// The scripts in use, the `limit` largest listed with a masked text.
    fn scripts(&self, limit: usize) -> Result<ScriptsOverview, StoreError>;
    /// Who received script `script` (an id of [`ScriptSummary`]), when and from whom, latest
    /// first, at most `limit`; empty for an unknown script.
    fn script_recipients(&self, script: i64, limit: usize) -> Result<Vec<Received>, StoreError>;
    /// Regroups every answer from its sealed text (after a change of method; never needed
    /// for imports, which group their own answers).
    fn regroup(&self) -> Result<Regrouped, StoreError>;
}

/// The product catalogue of hidden costs, and the orders they are computed from.
///
/// Costs are computed from the ledger's order events, so they cover what was imported:
/// rows an import skipped (for instance Online Retail rows without a customer) are not in it.
pub trait Costs {
    /// Replaces the whole catalogue (factors, products, figures) in one transaction.
    fn catalogue_put(&self, catalogue: &domain::costs::Catalogue) -> Result<(), StoreError>;
    /// The catalogue, or `None` if none has been imported.
    fn catalogue(&self) -> Result<Option<domain::costs::Catalogue>, StoreError>;
    /// Calls `visit` with every `order.placed` and `order.returned` event, lines included,
    /// person by person (in ledger order within each person; not sorted by time).
    fn visit_orders(&self, visit: &mut dyn FnMut(&PersonId, &Recorded)) -> Result<(), StoreError>;

    /// The hidden costs of every order in the ledger, grouped `by` (see
    /// [`domain::costs::Tally::finish`] for `limit`); `None` if no catalogue was imported.
    fn costs_report(
        &self,
        by: Option<domain::costs::By>,
        limit: Option<usize>,
    ) -> Result<Option<domain::costs::Report>, StoreError> {
        let Some(catalogue) = self.catalogue()? else {
            return Ok(None);
        };
        let mut tally = domain::costs::Tally::new(&catalogue, by);
        self.visit_orders(&mut |person, e| tally.event(Some(person), e.at, &e.body))?;
        Ok(Some(tally.finish(limit)))
    }
}
