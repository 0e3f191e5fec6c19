//! `rapport covariates`: the static covariates the ledger holds for each person
//! (`domain::attributes`), written as the CSV `rapport fit --covariates` reads, so they can
//! be looked at, edited or joined with a business's own before a fit.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::CovariatesArgs;
use crate::{ledger, moment};

pub fn run(db: &app::Location, args: &CovariatesArgs) -> anyhow::Result<ExitCode> {
    let as_of = moment::as_of(args.as_of.as_deref())?;
    let app = ledger::open(db)?;
    let (people, table) = app.covariates(as_of).context("reading the ledger")?;
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut csv = csv::Writer::from_writer(BufWriter::new(sink));
    let mut header = vec!["person".to_owned()];
    header.extend(table.columns.iter().cloned());
    csv.write_record(&header).map_err(io)?;
    for (person, row) in people.iter().zip(&table.rows) {
        let mut record = vec![person.to_string()];
        record.extend(row.iter().map(|v| format!("{}", (v * 1e6).round() / 1e6)));
        csv.write_record(&record).map_err(io)?;
    }
    csv.flush().context("writing the covariates")?;
    // What was left out or measured against goes to standard error, so the CSV stays clean.
    for (column, why) in &table.constant {
        eprintln!("left out {column}: {why} as of {}", as_of.day().date());
    }
    if let Some(lang) = &table.baseline_language {
        eprintln!("language_… columns are measured against {lang}, the most common language");
    }
    if table.columns.is_empty() {
        eprintln!("nobody differs on anything the ledger holds: there are no covariates to fit");
    }
    Ok(ExitCode::SUCCESS)
}

/// A CSV writer's error as the I/O error it wraps, so that a closed pipe
/// (`rapport covariates | head`) is quiet like every other command's.
fn io(e: csv::Error) -> anyhow::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => anyhow::Error::from(e).context("writing the covariates"),
        other => anyhow::anyhow!("writing the covariates: {other:?}"),
    }
}
