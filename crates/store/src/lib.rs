//! The ledger's storage: an append-only event store behind the [`Store`] trait.
//!
//! The trait is what the rest of rapport sees; [`sqlite::SqliteStore`] is the embedded
//! default (one file, plus the key vault beside it). A PostgreSQL backend can implement the
//! same trait without any change to the domain, the importers or the command line: nothing
//! outside this crate names SQLite.

pub mod columns;
pub mod fits;
pub mod sqlite;
pub mod vault;

use domain::readings::Recorded;
use domain::{NewEvent, PersonId, Timestamp};

pub use sqlite::SqliteStore;
pub use vault::{MasterKey, SealAhead, Sealed};

/// Everything that can go wrong in the store. Database messages are for operators (the
/// command line prints them); the web layer logs them and shows a generic error instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(rusqlite::Error),
    /// Another writer holds the ledger; the message names it when it can. Try again later.
    #[error("{message}")]
    Busy { message: String },
    /// The ledger's files cannot be written (permissions, a read-only disk).
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
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
                message: "the ledger is busy: another program is writing to it; try again when \
                          it has finished"
                    .into(),
            },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
                message: "the ledger is read-only here: rapport must be able to write to the \
                          ledger, its vault and their folder (the audit log, imports and \
                          migrations write); check their permissions"
                    .into(),
            },
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    /// Whether trying again later may succeed (another writer held the ledger).
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy { .. })
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
    /// Adds an event; one whose `(source, id)` is already in the ledger adds nothing and is
    /// counted in the summary's `duplicates`.
    fn append(&mut self, event: NewEvent) -> Result<(), StoreError>;
    /// A sealer for this batch that may run on another thread, so that the writing thread
    /// only writes: pass what it returns for each event to [`Batch::append_sealed`].
    fn seal_ahead(&self) -> Result<SealAhead, StoreError>;
    /// Adds an event whose personal fields [`Batch::seal_ahead`]'s sealer already sealed.
    fn append_sealed(&mut self, event: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError>;
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
    fn batch(&mut self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError>;
    /// [`Store::batch`], waiting for another writer to finish first: while it waits,
    /// `waiting` is told who holds the ledger, every tenth of a second or so, and answers
    /// whether to go on waiting (`false` gives up with [`StoreError::Busy`]).
    fn batch_waiting(
        &mut self,
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
    fn population(&self) -> Result<Population, StoreError>;
    /// One person's public events in time order (nothing unsealed); `None` if unknown.
    fn events_of(&self, person: &PersonId) -> Result<Option<Vec<Recorded>>, StoreError>;
    /// The `(source, id)` of one of a person's events, by its ledger number.
    fn event_id(&self, person: &PersonId, seq: i64)
    -> Result<Option<(String, String)>, StoreError>;
    /// One person's events with personal fields opened; `None` if the person is unknown.
    fn history(&mut self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError>;
    /// Records that `actor` did `action` (e.g. `card.view`) concerning `person`.
    fn audit(
        &mut self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError>;
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
    fn token_add(&mut self, name: &str, role: &str, hash: &[u8]) -> Result<i64, StoreError>;
    /// Every token ever made, revoked ones included.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token and ends its sessions; `false` if there was no such live token.
    fn token_revoke(&mut self, id: i64) -> Result<bool, StoreError>;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
    fn session_add(
        &mut self,
        hash: &[u8],
        token: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The unexpired session with this hash, if its token is still live.
    fn session_by_hash(&self, hash: &[u8], now: Timestamp) -> Result<Option<Session>, StoreError>;
    fn session_remove(&mut self, hash: &[u8]) -> Result<(), StoreError>;
    /// Writes several audit entries in one transaction (a server groups concurrent views).
    fn audit_many(&mut self, entries: &[AuditEntry]) -> Result<(), StoreError>;
    /// The audit log newest first, `limit` entries older than `before` (a sequence number),
    /// each with its sequence number for the next page.
    fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditEntry)>, StoreError>;
    /// Every person's current name (the latest identification that gives one), opened with
    /// their key; forgotten people have none.
    fn names(&mut self) -> Result<Vec<(PersonId, String)>, StoreError>;
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
    /// Whether the write-ahead log was checkpointed and emptied (readers busy for seconds can
    /// prevent it; the next checkpoint then removes the old pages).
    pub log_cleared: bool,
}

/// The business's menu, people's own texts of one kind, and forgetting a person.
pub trait PersonData {
    fn menu(&self) -> Result<Vec<MenuItem>, StoreError>;
    /// Adds or replaces a menu item.
    fn menu_put(&mut self, item: &MenuItem) -> Result<(), StoreError>;
    /// Every text of events of `kind` (e.g. proposals), opened, with the person and moment;
    /// forgotten people's texts are gone.
    fn texts(
        &mut self,
        kind: domain::Kind,
    ) -> Result<Vec<(PersonId, Timestamp, String)>, StoreError>;
    /// Forgets a person: their key is destroyed, their events, sealed fields and name in the
    /// audit log removed and overwritten, and the log emptied so no byte of it remains (figures that
    /// identify nobody are kept, detached, in the totals of forgotten people). A tombstone
    /// keeps later imports from bringing them back. `None` if there is no such person.
    fn forget(&mut self, person: &PersonId) -> Result<Option<Forgotten>, StoreError>;
    /// Lifts the tombstone a forgetting left, for a person who came back and asked to be known
    /// again: their next events are imported as a new person's. `false` if there was none.
    fn welcome_back(&mut self, person: &PersonId) -> Result<bool, StoreError>;
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

/// Scripted answers (READINGS.md, "personal"): kept up to date by every import.
pub trait Scripts {
    /// The ledger numbers of every scripted answer, for everyone's `personal` reading.
    fn scripted(&self) -> Result<domain::scripts::Scripted, StoreError>;
    /// The scripts in use, the `limit` largest listed with a masked text.
    fn scripts(&mut self, limit: usize) -> Result<ScriptsOverview, StoreError>;
    /// Regroups every answer from its sealed text (after a change of method; never needed
    /// for imports, which group their own answers).
    fn regroup(&mut self) -> Result<Regrouped, StoreError>;
}

/// The product catalogue of hidden costs, and the orders they are computed from.
///
/// Costs are computed from the ledger's order events, so they cover what was imported:
/// rows an import skipped (for instance Online Retail rows without a customer) are not in it.
pub trait Costs {
    /// Replaces the whole catalogue (factors, products, figures) in one transaction.
    fn catalogue_put(&mut self, catalogue: &domain::costs::Catalogue) -> Result<(), StoreError>;
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
