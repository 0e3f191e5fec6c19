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

/// Who is acting, named once at the start (`--actor`, `RAPPORT_ACTOR`); otherwise the
/// operating-system user.
static ACTOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names who is acting for the rest of the command (`--actor`).
pub fn set_actor(name: &str) {
    let _ = ACTOR.set(name.trim().to_owned());
}

/// Who is acting, for the audit log: `cli:` and the name given with `--actor`, or the
/// operating-system user of the command line (`USER`, `LOGNAME`, `USERNAME`, else the
/// account the process runs as).
pub fn actor() -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let user = ACTOR
        .get()
        .filter(|a| !a.is_empty())
        .cloned()
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .or_else(|| env("USERNAME"))
        .or_else(|| whoami::username().ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{}", user.trim())
}

/// The waiting line as the application's view of an import.
impl app::Imported for Waiting {
    fn waiting(&mut self, holder: &str) -> bool {
        self.show(holder);
        true
    }
}

/// Brings the kept readings to today before a command reads or after it wrote: only the
/// people who need it are recomputed (everyone the first time a ledger is opened by this
/// version, or after a new fit). A progress bar follows a long catch-up on a terminal; a
/// read-only ledger is read as it stands, with a note saying how far behind it is.
///
/// A server holding some partitions that does not answer leaves the kept readings as they
/// were, said on stderr: the command goes on for everyone whose data is reachable.
pub fn keep_up(app: &App) -> anyhow::Result<()> {
    match keep_up_with(app, false) {
        Err(e)
            if e.downcast_ref::<app::AppError>()
                .is_some_and(|a| a.is_unavailable()) =>
        {
            eprintln!(
                "note: readings could not be brought up to date: {}; the figures are those kept before.",
                e.root_cause()
            );
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// Today (UTC), or the day `RAPPORT_TODAY` names (see [`app::today`]).
pub fn today() -> anyhow::Result<domain::Day> {
    app::today().map_err(|e| anyhow::anyhow!("{e}"))
}

/// [`keep_up`] for `day` instead of today (`serve --as-of`), when given.
pub fn keep_up_for(app: &App, day: Option<domain::Day>) -> anyhow::Result<Option<app::KeptReport>> {
    keep_up_on(app, false, day)
}

/// [`keep_up`], recomputing everyone when `everyone`.
/// What was done, unless the ledger could not be written.
pub fn keep_up_with(app: &App, everyone: bool) -> anyhow::Result<Option<app::KeptReport>> {
    keep_up_on(app, everyone, None)
}

fn keep_up_on(
    app: &App,
    everyone: bool,
    day: Option<domain::Day>,
) -> anyhow::Result<Option<app::KeptReport>> {
    use std::sync::Mutex;
    let mut waiting = Waiting::default();
    let bar: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);
    let progress = |done: u64, total: u64| {
        let Ok(mut bar) = bar.lock() else { return };
        if bar.is_none() && total >= 5_000 {
            let b = if std::io::stderr().is_terminal() {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "keeping readings up to date {bar:30} {human_pos}/{human_len} people, {eta} left",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            } else {
                eprintln!("keeping readings up to date for {total} people…");
                indicatif::ProgressBar::hidden()
            };
            *bar = Some(b);
        }
        if let Some(b) = bar.as_ref() {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let result = app.keep_up_with(
        match day {
            Some(d) => d,
            None => today()?,
        },
        everyone,
        &mut |holder| {
            waiting.show(holder);
            true
        },
        &progress,
    );
    waiting.done();
    if let Ok(mut bar) = bar.lock()
        && let Some(b) = bar.take()
    {
        b.finish_and_clear();
    }
    match result {
        Ok(report) => {
            if let Some(why) = report.everyone
                && report.recomputed > 0
            {
                eprintln!(
                    "kept readings made for {} {} ({why}).",
                    domain::values::thousands(&report.recomputed.to_string()),
                    if report.recomputed == 1 {
                        "person"
                    } else {
                        "people"
                    }
                );
            }
            Ok(Some(report))
        }
        Err(app::AppError::Store(e @ store::StoreError::ReadOnly { .. })) => {
            let behind = app.ledger().kept_status().ok();
            let note = match behind.and_then(|s| Some((s.meta?.day, s.pending))) {
                Some((day, 0)) => format!("figures as of the end of {day}"),
                Some((day, n)) => {
                    format!(
                        "figures as of the end of {day}, without the latest events of {n} people"
                    )
                }
                None => "no kept figures yet".into(),
            };
            eprintln!("note: readings could not be brought up to date ({e}); {note}.");
            Ok(None)
        }
        Err(e) => Err(anyhow::Error::new(e).context("keeping readings up to date")),
    }
}
