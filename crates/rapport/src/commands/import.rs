//! `rapport import`: files into the ledger, each file all or nothing.
//!
//! Every file gets its own transaction. Without `--skip-invalid`, one invalid row means the
//! file is rolled back: the reader still reads to the end, so the person fixing the export
//! sees every problem at once, not one per attempt. With `--skip-invalid`, valid rows are
//! kept and each rejected row goes to the rejects file with its reason.

use std::fs::File;
use std::io::{BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use app::{App, ImportOutcome};
use import::{Format, Mapping, Preset, RowError};
use indicatif::{ProgressBar, ProgressStyle};
use store::BatchSummary;

use crate::cli::ImportArgs;
use crate::ledger;

pub fn run(db: &app::Location, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.show_preset {
        return show_preset(name);
    }
    let mapping = mapping(args)?;
    let app = ledger::open(db)?;
    let mut rejects = if args.skip_invalid {
        Some(Rejects::create(&args.rejects)?)
    } else {
        None
    };
    let mut failed = 0;
    for path in &args.files {
        if let Some(artefact) = artefact_of(path, args.format.as_deref(), mapping.as_ref())? {
            let started = Instant::now();
            let outcome = import_artefact(&app, path, artefact, args)?;
            let secs = started.elapsed().as_secs_f64();
            if outcome.committed {
                report_artefact(path, &outcome, secs, args.skip_invalid);
            } else {
                failed += 1;
                report_artefact_failure(path, &outcome);
            }
            continue;
        }
        let format = format_of(path, args.format.as_deref(), mapping.as_ref())?;
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let reader = std::io::BufReader::with_capacity(1 << 20, file);
        let started = Instant::now();
        let outcome = import_reader(&app, path, &format, reader, size, rejects.as_mut())?;
        let secs = started.elapsed().as_secs_f64();
        if outcome.failed() {
            failed += 1;
            report_failure(path, &outcome);
        } else {
            report_success(
                path,
                &outcome,
                secs,
                args.skip_invalid.then_some(&args.rejects),
            );
        }
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    if failed < args.files.len() && !args.no_refresh {
        // What was imported reaches the kept readings now, not at the next reader.
        ledger::keep_up(&app)?;
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} file(s) not imported; the ledger holds exactly what it held before them.",
            args.files.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// What a path holds when it is one of the business's artefacts: as `--format` says, else
/// by its contents (never when a mapping is given: that is CSV).
fn artefact_of(
    path: &Path,
    forced: Option<&str>,
    mapping: Option<&Mapping>,
) -> anyhow::Result<Option<app::Artefact>> {
    use import::bank::BankFormat;
    Ok(match forced {
        Some("einvoice") => Some(app::Artefact::Invoices),
        Some("camt053") => Some(app::Artefact::Statement(BankFormat::Camt053)),
        Some("mt940") => Some(app::Artefact::Statement(BankFormat::Mt940)),
        Some("mail") => Some(app::Artefact::Mailbox),
        Some(_) => None,
        None if mapping.is_some() => None,
        None => {
            if !path.exists() {
                bail!("{}: no such file or folder", path.display());
            }
            app::sources::detect(path)?
        }
    })
}

fn import_artefact(
    app: &App,
    path: &Path,
    artefact: app::Artefact,
    args: &ImportArgs,
) -> anyhow::Result<app::ArtefactOutcome> {
    let mut face = ledger::Waiting::default();
    let outcome = match artefact {
        app::Artefact::Invoices => app.import_invoices(
            path,
            &app::InvoiceOptions {
                source: import::artefacts::INVOICE_SOURCE.to_owned(),
                due_days: args.due_days,
                skip_invalid: args.skip_invalid,
            },
            &mut face,
        ),
        app::Artefact::Statement(_) => app.import_statement(path, &mut face),
        app::Artefact::Mailbox => {
            if args.ours.is_empty() {
                bail!(
                    "{}: a mailbox needs the business's own addresses, to tell questions from answers: \
                     give --ours support@example.com (an address) or --ours @example.com (a whole domain)",
                    path.display()
                );
            }
            let ours = import::mail::Ours::parse(&args.ours)
                .map_err(|e| anyhow::anyhow!("--ours: {e}"))?;
            app.import_mailbox(path, &ours, &mut face)
        }
    };
    face.done();
    outcome.with_context(|| format!("importing {}", path.display()))
}

fn report_artefact(path: &Path, o: &app::ArtefactOutcome, secs: f64, skip_invalid: bool) {
    let mut line = format!(
        "{}: {} events added, {} already there",
        path.display(),
        thousands(o.summary.added),
        thousands(o.summary.duplicates)
    );
    if o.rejected > 0 && skip_invalid {
        line.push_str(&format!(
            ", {} document(s) refused (below)",
            thousands(o.rejected)
        ));
    }
    line.push_str(&format!(" in {secs:.2} s"));
    println!("{line}");
    report_forgotten(&o.summary);
    let placed: u64 = o.matched.values().sum();
    if placed + o.unmatched > 0 {
        println!(
            "  {} credit(s) placed on invoices, {} waiting for a person{}",
            thousands(placed),
            thousands(o.unmatched),
            if o.unmatched > 0 {
                " (see `rapport payments unmatched`)"
            } else {
                ""
            }
        );
        for (rule, n) in &o.matched {
            println!("    {} {}", thousands(*n), rule.words());
        }
    }
    for (what, n) in &o.counted {
        println!("  not stored: {} {what}", thousands(*n));
    }
    for e in &o.shown {
        eprintln!("  refused: {e}");
    }
}

fn report_artefact_failure(path: &Path, o: &app::ArtefactOutcome) {
    eprintln!(
        "error: {}: not imported, {} document(s) could not be read; nothing from it was stored:",
        path.display(),
        thousands(o.rejected)
    );
    for e in &o.shown {
        eprintln!("  {e}");
    }
    if o.rejected > o.shown.len() as u64 {
        eprintln!(
            "  … and {} more",
            thousands(o.rejected - o.shown.len() as u64)
        );
    }
    eprintln!(
        "  (fix them, or use --skip-invalid to import the valid documents and list the rest)"
    );
}

fn show_preset(name: &str) -> anyhow::Result<ExitCode> {
    let Some(p) = Preset::parse(name) else {
        bail!("unknown preset {name:?}: choose transactions, invoices or messages");
    };
    print!("{}", p.toml());
    Ok(ExitCode::SUCCESS)
}

fn mapping(args: &ImportArgs) -> anyhow::Result<Option<Mapping>> {
    let mut mapping = match (&args.mapping, &args.preset) {
        (Some(path), _) => Some(Mapping::load(path)?),
        (None, Some(name)) => {
            let Some(p) = Preset::parse(name) else {
                bail!("unknown preset {name:?}: choose transactions, invoices or messages");
            };
            Some(Mapping::preset(p))
        }
        (None, None) => None,
    };
    for o in &args.overrides {
        let Some((key, value)) = o.split_once('=') else {
            bail!("--set {o:?}: write it as KEY=VALUE");
        };
        match mapping.as_mut() {
            Some(m) => m.set(key.trim(), value)?,
            None => bail!("--set needs --mapping or --preset"),
        }
    }
    Ok(mapping)
}

fn format_of(
    path: &Path,
    forced: Option<&str>,
    mapping: Option<&Mapping>,
) -> anyhow::Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let jsonl = match forced {
        Some("jsonl") => true,
        Some(_) => false,
        None => mapping.is_none() && matches!(ext.as_str(), "jsonl" | "ndjson" | "json"),
    };
    if jsonl {
        return Ok(Format::JsonLines);
    }
    match mapping {
        Some(m) => Ok(Format::Csv(Box::new(m.clone()))),
        None => bail!(
            "{}: not JSON Lines (.jsonl); give --mapping FILE.toml or --preset transactions|invoices|messages to import it as CSV",
            path.display()
        ),
    }
}

/// What a person at the command line sees while a file is imported: whom it waits for, then
/// a progress bar for large files.
struct Face {
    waiting: ledger::Waiting,
    size: u64,
    bar: Option<ProgressBar>,
}

impl app::Imported for Face {
    fn waiting(&mut self, holder: &str) -> bool {
        self.waiting.show(holder);
        true
    }

    fn progress(&mut self, bytes: u64) {
        let size = self.size;
        self.bar
            .get_or_insert_with(|| progress_bar(size))
            .set_position(bytes);
    }
}

/// Imports one reader as one transaction. `rejects`: `Some` means skip invalid rows.
pub fn import_reader(
    app: &App,
    origin: &Path,
    format: &Format,
    reader: impl BufRead + Send,
    size: u64,
    rejects: Option<&mut Rejects>,
) -> anyhow::Result<ImportOutcome> {
    let mut face = Face {
        waiting: ledger::Waiting::default(),
        size,
        bar: None,
    };
    let rejects = rejects.map(|r| r as &mut dyn app::Rejected);
    let outcome = app
        .import(origin, format, reader, rejects, &mut face)
        .with_context(|| format!("importing {}", origin.display()));
    face.waiting.done();
    if let Some(bar) = face.bar {
        bar.finish_and_clear();
    }
    outcome
}

fn progress_bar(size: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() || size < (8 << 20) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The rejects file of `--skip-invalid`: one JSON object per rejected row.
pub struct Rejects {
    path: PathBuf,
    out: BufWriter<File>,
    count: u64,
}

impl app::Rejected for Rejects {
    fn write(&mut self, e: &RowError) -> std::io::Result<()> {
        self.write_row(e)
    }
}

impl Rejects {
    pub fn create(path: &Path) -> anyhow::Result<Rejects> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Rejects {
            path: path.to_owned(),
            out: BufWriter::new(file),
            count: 0,
        })
    }

    fn write_row(&mut self, e: &RowError) -> std::io::Result<()> {
        let v = serde_json::json!({
            "file": e.file.display().to_string(),
            "line": e.line,
            "field": e.field,
            "reason": e.message,
            "row": e.raw,
        });
        self.count += 1;
        writeln!(self.out, "{v}")
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        if self.count == 0 {
            // No rejected rows: leave no empty file behind.
            let _ = std::fs::remove_file(&self.path);
        }
        Ok(())
    }
}

pub(crate) fn thousands(n: u64) -> String {
    domain::values::thousands(&n.to_string())
}

fn report_success(path: &Path, o: &ImportOutcome, secs: f64, rejects: Option<&PathBuf>) {
    let total = o.summary.added + o.summary.duplicates;
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    let mut line = format!(
        "{}: {} events added, {} already there",
        path.display(),
        thousands(o.summary.added),
        thousands(o.summary.duplicates)
    );
    if o.rejected > 0
        && let Some(r) = rejects
    {
        line.push_str(&format!(
            ", {} rejected (see {})",
            thousands(o.rejected),
            r.display()
        ));
    }
    line.push_str(&format!(
        " in {secs:.2} s ({} events/s)",
        thousands(rate as u64)
    ));
    if !o.warnings.is_empty() {
        line.push_str(&format!(
            "; {} warning{} (on standard error)",
            o.warnings.len(),
            if o.warnings.len() == 1 { "" } else { "s" }
        ));
    }
    println!("{line}");
    report_forgotten(&o.summary);
    for (reason, n) in &o.skipped {
        println!("  skipped {} row(s) on purpose: {reason}", thousands(*n));
    }
    report_warnings(path, o);
}

/// Warnings go to standard error, each on its own line: the import went through, but its
/// result looks wrong, and the message names the `--set` that would change it.
fn report_warnings(path: &Path, o: &ImportOutcome) {
    for w in &o.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
}

/// Events of people who asked to be forgotten are never imported again: say how many, whose
/// (the ids the file gave), and how someone who comes back is welcomed.
fn report_forgotten(s: &BatchSummary) {
    if s.forgotten == 0 {
        return;
    }
    const NAMED: usize = 5;
    let mut who = s.forgotten_people[..s.forgotten_people.len().min(NAMED)].join(", ");
    if s.forgotten_people.len() > NAMED {
        who.push_str(&format!(" and {} more", s.forgotten_people.len() - NAMED));
    }
    let people = s.forgotten_people.len();
    println!(
        "  skipped {} event(s) of {} forgotten {} ({who}): they asked to be forgotten, so \
         nothing of theirs is imported again (a person who comes back and asks to be known \
         again: `rapport welcome-back ID`)",
        thousands(s.forgotten),
        thousands(people as u64),
        if people == 1 { "person" } else { "people" },
    );
}

fn report_failure(path: &Path, o: &ImportOutcome) {
    if o.file_error {
        eprintln!(
            "error: {}: not imported; nothing from this file was stored:",
            path.display()
        );
        for e in &o.shown {
            eprintln!("  {e}");
        }
        return;
    }
    eprintln!(
        "error: {}: not imported, {} invalid row(s); nothing from this file was stored:",
        path.display(),
        thousands(o.rejected)
    );
    for e in &o.shown {
        eprintln!("  {e}");
    }
    if o.rejected > o.shown.len() as u64 {
        eprintln!(
            "  … and {} more",
            thousands(o.rejected - o.shown.len() as u64)
        );
    }
    eprintln!("  (fix them, or use --skip-invalid to import the valid rows and list the rest)");
    report_warnings(path, o);
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn big_counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(5_000_000), "5,000,000");
    }
}
