//! `rapport scripts`: the texts the business answers people with by script — each one with
//! how many people received it, over which period and from whom — so that "answered as a
//! person" can be measured for the business as a whole, not only per person.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use store::ScriptsOverview;

use crate::cli::ScriptsArgs;
use crate::commands::card::clean;
use crate::ledger;
use crate::screen::{Screen, cut, wrap};

pub fn run(db: &app::Location, args: &ScriptsArgs) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    let store = app.ledger();
    if args.regroup {
        let r = store.regroup().context("regrouping the answers")?;
        eprintln!(
            "regrouped {} answers ({} with words, {} different texts): {} scripts",
            r.answers, r.with_text, r.variants, r.scripts
        );
    }
    let overview = store
        .scripts(args.limit)
        .context("reading the index of scripts")?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &overview).context("writing JSON")?;
        writeln!(out).context("writing JSON")?;
    } else {
        write_text(&overview, Screen::detect().width, &mut out).context("writing the scripts")?;
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

/// A script's name: the start of its words, as many as fit `width` after the number.
fn name(text: Option<&str>, width: usize) -> String {
    match text {
        Some(t) => format!("\"{}\"", cut(&clean(t), width.saturating_sub(2).max(12))),
        None => "(its text is gone: everyone who received it was forgotten)".to_owned(),
    }
}

/// The scripts, each named by its words; `width`: the screen's, when known.
fn write_text(
    o: &ScriptsOverview,
    width: Option<usize>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // Piped: every line whole, as before.
    let width = width.unwrap_or(usize::MAX / 4);
    let totals = format!(
        "{} answers with text; {} of them ({}) scripts, in {} scripts sent to more than five people.",
        o.answers,
        o.scripted,
        share(o.scripted, o.answers),
        o.scripts
    );
    for line in wrap(&totals, width) {
        writeln!(out, "{line}")?;
    }
    for (i, s) in o.list.iter().enumerate() {
        let by: Vec<String> =
            s.by.iter()
                .map(|b| format!("{} ({})", clean(&b.by), b.answers))
                .collect();
        let by = format!("sent by {}", by.join(", "));
        let number = format!("#{} ", i + 1);
        let text = s.text.as_deref();
        writeln!(
            out,
            "\n{number}{}",
            name(text, width.saturating_sub(number.len()))
        )?;
        let count = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        let figures = format!(
            "{}, {}, {}, {} to {} (script {})",
            count(s.people, "person", "people"),
            count(s.answers, "answer", "answers"),
            count(s.variants, "wording", "wordings"),
            s.first.day().date(),
            s.last.day().date(),
            s.id,
        );
        for line in wrap(&figures, width.saturating_sub(3).max(20)) {
            writeln!(out, "   {line}")?;
        }
        for line in wrap(&by, width.saturating_sub(3).max(20)) {
            writeln!(out, "   {line}")?;
        }
        // The whole text when its name had to be cut.
        if let Some(t) = text
            && clean(t).chars().count() + 2 + number.len() > width
        {
            for line in wrap(&clean(t), width.saturating_sub(3).max(20)) {
                writeln!(out, "   {line}")?;
            }
        }
    }
    if o.scripts as usize > o.list.len() {
        writeln!(
            out,
            "\n… and {} more (--limit N shows more).",
            o.scripts as usize - o.list.len()
        )?;
    }
    Ok(())
}
