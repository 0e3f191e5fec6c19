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
    Database(#[from] rusqlite::Error),
    #[error("{message}")]
    MasterKey { message: String },
    #[error("key vault: {message}")]
    Vault { message: String },
    #[error("the ledger is damaged: {message}")]
    Corrupt { message: String },
    #[error("{message}")]
    NotALedger { message: String },
}

/// What an import added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub added: u64,
    pub duplicates: u64,
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
    /// Starts an import; `origin` (a file name, "api") is kept in the import log.
    fn batch(&mut self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError>;
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
