//! Opening the ledger named by `--db` with its master key, the same way for every command.

use std::path::Path;

use anyhow::Context;
use store::{MasterKey, SqliteStore};

/// Opens an existing ledger; the error says how to create one.
pub fn open(db: &Path) -> anyhow::Result<SqliteStore> {
    let key = MasterKey::locate(db)?;
    SqliteStore::open(db, key).with_context(|| format!("opening the ledger {}", db.display()))
}

/// Who is acting, for the audit log: the operating-system user of the command line.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Everyone's readings as of a moment, beside the people and events they came from.
pub struct Assessed {
    pub population: store::Population,
    pub readings: Vec<domain::readings::Readings>,
}

/// Loads every person's events and computes everyone's readings, trends and percentiles.
pub fn assess(store: &dyn store::Store, as_of: domain::Timestamp) -> anyhow::Result<Assessed> {
    let population = store.population().context("reading the ledger")?;
    let readings = domain::readings::assess_all(&population.people, &population.events, as_of);
    Ok(Assessed {
        population,
        readings,
    })
}
