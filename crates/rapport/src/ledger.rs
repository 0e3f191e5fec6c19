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

/// Loads every person's events and computes everyone's readings, trends and percentiles,
/// with loyalty and value from the latest stored BG/NBD and Gamma-Gamma fits (if any).
pub fn assess<S: store::Store + store::fits::FitStore>(
    store: &S,
    as_of: domain::Timestamp,
) -> anyhow::Result<Assessed> {
    let population = store.population().context("reading the ledger")?;
    let models = crate::commands::fit::stored_models(store).context("reading the stored fits")?;
    let readings =
        domain::readings::assess_all_with(&population.people, &population.events, as_of, &models);
    Ok(Assessed {
        population,
        readings,
    })
}
