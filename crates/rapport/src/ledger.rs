//! Opening the ledger named by `--db` with its master key, the same way for every command;
//! who is acting; and a line saying whom a command waits for.

use std::io::IsTerminal;

use anyhow::Context;
use app::{App, Location};

/// Opens an existing ledger; the error says how to create one.
pub fn open(db: &Location) -> anyhow::Result<App> {
    App::open_located(db).with_context(|| format!("opening the ledger {db}"))
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

/// The waiting line as the application's view of an import.
impl app::Imported for Waiting {
    fn waiting(&mut self, holder: &str) -> bool {
        self.show(holder);
        true
    }
}
