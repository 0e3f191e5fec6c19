//! `rapport refresh` and `rapport check`: the kept readings brought up to date on demand, and
//! compared with a full recomputation.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::cli::{CheckArgs, RefreshArgs};
use crate::ledger;

pub fn refresh(db: &app::Location, args: &RefreshArgs) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    let before = app.ledger().kept_status().context("reading the ledger")?;
    let started = Instant::now();
    let report = ledger::keep_up_with(&app, args.everyone)?;
    let after = app.ledger().kept_status().context("reading the ledger")?;
    let secs = started.elapsed().as_secs_f64();
    let day = after
        .meta
        .map_or_else(|| "never".to_owned(), |m| m.day.to_string());
    match before.meta {
        Some(m)
            if !args.everyone
                && before.pending == 0
                && !before.scripts_changed
                && m.day.to_string() == day =>
        {
            println!("Readings were already up to date (as of the end of {day}).")
        }
        _ => println!(
            "Readings are up to date as of the end of {day}: {} people recomputed ({} had been written to; the others' readings moved with the day, or depend on theirs) in {secs:.1} s.",
            report.map_or(0, |r| r.recomputed),
            before.pending
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(db: &app::Location, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    ledger::keep_up(&app)?;
    let started = Instant::now();
    let report = app
        .check_kept()
        .context("recomputing everyone's readings")?;
    let secs = started.elapsed().as_secs_f64();
    if report.differences.is_empty() {
        println!(
            "The kept readings of all {} people equal a recomputation from their events (as of the end of {}; {secs:.1} s).",
            report.people, report.day
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} difference(s) between the kept readings and a recomputation from the events (as of the end of {}):",
        report.differences.len(),
        report.day
    );
    for d in report.differences.iter().take(args.limit) {
        match &d.person {
            Some(p) => println!("  {p}: {}", d.what),
            None => println!("  {}", d.what),
        }
    }
    if report.differences.len() > args.limit {
        println!(
            "  and {} more (--limit to see them)",
            report.differences.len() - args.limit
        );
    }
    println!(
        "`rapport refresh --everyone` recomputes every kept reading; please also report this, with the lines above."
    );
    Ok(ExitCode::from(1))
}
