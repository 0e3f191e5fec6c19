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
        write_text(&overview, &mut out).context("writing the scripts")?;
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

fn write_text(o: &ScriptsOverview, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} answers with text; {} of them ({}) scripts, in {} scripts sent to more than five people.",
        o.answers,
        o.scripted,
        share(o.scripted, o.answers),
        o.scripts
    )?;
    for (i, s) in o.list.iter().enumerate() {
        let by: Vec<String> =
            s.by.iter()
                .map(|b| format!("{} ({})", clean(&b.by), b.answers))
                .collect();
        writeln!(
            out,
            "\n#{} script {}: {} people, {} answers, {} variants, {} to {}",
            i + 1,
            s.id,
            s.people,
            s.answers,
            s.variants,
            s.first.day().date(),
            s.last.day().date()
        )?;
        writeln!(out, "   sent by {}", by.join(", "))?;
        match &s.text {
            Some(t) => writeln!(out, "   \"{}\"", clean(t))?,
            None => writeln!(
                out,
                "   (its text is gone: everyone who received it was forgotten)"
            )?,
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
