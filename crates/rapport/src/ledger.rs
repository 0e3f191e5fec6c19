//! Opening the ledger named by `--db` with its master key, the same way for every command.

use std::path::Path;

use std::io::IsTerminal;

use anyhow::Context;
use store::{MasterKey, Scripts, SqliteStore, Store};

/// Opens an existing ledger; the error says how to create one.
pub fn open(db: &Path) -> anyhow::Result<SqliteStore> {
    let key = MasterKey::locate(db)?;
    SqliteStore::open(db, key).with_context(|| format!("opening the ledger {}", db.display()))
}

/// A line saying who the command waits for while another writer holds the ledger: a
/// spinner on a terminal, one line otherwise.
#[derive(Default)]
pub struct Waiting {
    bar: Option<indicatif::ProgressBar>,
}

impl Waiting {
    pub fn show(&mut self, holder: &str) {
        let message = format!("waiting for another writer to finish: {holder} (Ctrl-C to give up)");
        let bar = self.bar.get_or_insert_with(|| {
            if std::io::stderr().is_terminal() {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.enable_steady_tick(std::time::Duration::from_millis(250));
                bar
            } else {
                eprintln!("{message}");
                indicatif::ProgressBar::hidden()
            }
        });
        bar.set_message(message);
    }

    pub fn done(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Who is acting, for the audit log: the operating-system user of the command line.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Everyone's readings as of a moment: `readings[i]` are those of `people[i]`.
pub struct Assessed {
    pub people: Vec<domain::PersonId>,
    pub readings: Vec<domain::readings::Readings>,
}

/// Loads every person's events and computes everyone's readings, trends and percentiles
/// (which answers are scripted from the index of scripts, which purposes are opt-in from the
/// ledger's settings), with loyalty and value from the latest stored BG/NBD and Gamma-Gamma
/// fits (if any).
pub fn assess(store: &SqliteStore, as_of: domain::Timestamp) -> anyhow::Result<Assessed> {
    let models = crate::commands::fit::stored_models(store).context("reading the stored fits")?;
    let people = store.people().context("reading the ledger")?;
    let scripted = store.scripted().context("reading the index of scripts")?;
    let opt_in = web::settings::opt_in(store).context("reading the ledger's settings")?;
    // One pass, person by person, on two threads: no person's events are kept afterwards.
    let assessor = domain::readings::Assessor::new(people.len(), as_of, &models, &scripted)
        .with_opt_in(&opt_in);
    store
        .visit_events(&|rank, events| assessor.person(rank, events))
        .context("reading the ledger")?;
    let readings = assessor.finish(&people);
    Ok(Assessed { people, readings })
}
