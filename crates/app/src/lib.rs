//! The application layer: every use case of rapport written once — import and append, the
//! people list, a card with its audit entry, export, forget and welcome back, may-contact,
//! the menu, settings, scripts, hidden costs, fits, tokens, a person's own link — over a
//! [`store::Ledger`] whatever its backend.
//!
//! The command line and the web are faces: they parse what a person typed or sent, call an
//! [`App`] method, and render what comes back. Neither opens a database or names a backend:
//! [`Location`] turns `--db` (a file path or a `postgres://` URL) into the right one, once.
//! Rules that must hold for every face live here, so the faces cannot disagree: every view of
//! a card is audited before it is shown, a forgotten person stays forgotten, a menu stays
//! within its bounds.
//!
//! Everything here is blocking; the web calls it from tokio's blocking threads.

mod audit;
mod card;
mod costs;
mod error;
mod fits;
pub mod import;
mod kept;
pub mod log;
pub mod menu;
pub mod own;
mod people;
mod rekey;
pub mod settings;
mod shards;
pub mod sources;
mod tokens;

use std::sync::Arc;

use store::Ledger;

pub use audit::{Audit, DirectAudit};
pub use card::{KeptOthers, Ranking, readings_against};
pub use error::AppError;
pub use fits::{Contracts, Transactions, stored_models};
pub use import::{ImportOutcome, Imported, Rejected};
pub use kept::{CheckReport, Difference, FEW, KeptReport, TODAY_ENV, today};
pub use menu::MenuError;
pub use own::{LinkError, MayContact};
pub use people::{Assessed, Listed, PRESETS, Page, Range, listed, preset};
pub use rekey::{Rekeyed, pending_key_file};
pub use sources::{Artefact, ArtefactOutcome, InvoiceOptions};
pub use store_open::{Location, MASTER_KEY_FILE_ENV};
pub use tokens::{ROLES, SignedIn, hash_secret, new_secret};

/// One ledger, opened once, shared by every thread of a face.
#[derive(Clone)]
pub struct App {
    ledger: Arc<dyn Ledger>,
    location: Location,
    /// Whether a catch-up of kept readings always reads everyone's events in one pass (tests
    /// of that path; otherwise it does so only for many people).
    scan_always: bool,
}

impl App {
    /// Opens the existing ledger at `location` with its master key.
    pub fn open(location: &Location, master: store::MasterKey) -> Result<App, AppError> {
        Ok(App {
            ledger: location.open(master)?,
            location: location.clone(),
            scan_always: false,
        })
    }

    /// Creates a new ledger at `location` (refusing one that is already there).
    pub fn create(location: &Location, master: store::MasterKey) -> Result<App, AppError> {
        Ok(App {
            ledger: location.create(master)?,
            location: location.clone(),
            scan_always: false,
        })
    }

    /// An app over a ledger opened elsewhere (tests, benchmarks).
    pub fn over(ledger: Arc<dyn Ledger>, location: Location) -> App {
        App {
            ledger,
            location,
            scan_always: false,
        }
    }

    /// This app, bringing kept readings up to date by reading everyone's events in one pass
    /// however few people need it (tests hold both ways to the same result).
    pub fn scanning_always(mut self) -> App {
        self.scan_always = true;
        self
    }

    /// The ledger itself, for faces that keep their own caches of everyone's figures (the
    /// web's lists) and read it through the store's traits.
    pub fn ledger(&self) -> &Arc<dyn Ledger> {
        &self.ledger
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Where the ledger is, for messages (never with a password).
    pub fn describe(&self) -> String {
        self.ledger.describe()
    }

    /// A secret for `purpose` derived from the master key (signing links, pseudonyms).
    pub fn secret(&self, purpose: &str) -> [u8; 32] {
        self.ledger.secret(purpose)
    }
}

#[cfg(test)]
mod testing {
    /// An app over a new SQLite ledger in a temporary folder.
    pub fn app() -> (tempfile::TempDir, crate::App) {
        let dir = tempfile::tempdir().unwrap();
        let location = crate::Location::Sqlite(dir.path().join("l.db"));
        let app = crate::App::create(&location, store::MasterKey::generate()).unwrap();
        (dir, app)
    }
}
