//! `rapport payments`: the bank credits no rule could place on an invoice, for a person to
//! resolve — place one on an open invoice by hand, or dismiss one that pays none. Each
//! choice is stored (a payment matched by hand is an event like any other) and audited.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use domain::PersonId;
use store::BankLine;

use crate::cli::PaymentsCommand;
use crate::ledger;
use crate::screen::{Screen, cut};

/// How long a choice waits for another writer (an import) before saying the ledger is busy.
const WAIT: Duration = Duration::from_secs(60);

pub fn run(db: &app::Location, command: &PaymentsCommand) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    let audit = app::DirectAudit(app.ledger().clone());
    let actor = ledger::actor();
    match command {
        PaymentsCommand::Unmatched(args) => {
            let (total, lines) = app.unmatched(args.limit, &actor, &audit)?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            if args.json {
                for l in &lines {
                    serde_json::to_writer(&mut out, &json(l)).context("writing JSON")?;
                    writeln!(out).context("writing JSON")?;
                }
            } else {
                write_text(total, &lines, Screen::detect().width, &mut out)
                    .context("writing the list")?;
            }
            out.flush().context("writing output")?;
            Ok(ExitCode::SUCCESS)
        }
        PaymentsCommand::Resolve(args) => {
            let person = args
                .person
                .as_deref()
                .map(PersonId::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--person: {e}"))?;
            let (who, amount) = app.resolve_payment(
                args.line,
                &args.invoice,
                person.as_ref(),
                &actor,
                &audit,
                WAIT,
            )?;
            println!(
                "credit {} placed on invoice {} of {who} ({}), matched by hand",
                args.line,
                args.invoice,
                amount.grouped(2)
            );
            ledger::keep_up(&app)?;
            Ok(ExitCode::SUCCESS)
        }
        PaymentsCommand::Dismiss(args) => {
            app.dismiss_payment(args.line, &args.reason, &actor, &audit, WAIT)?;
            println!("credit {} dismissed: {}", args.line, args.reason.trim());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn json(l: &BankLine) -> serde_json::Value {
    let d = l.details.clone().unwrap_or_default();
    serde_json::json!({
        "line": l.no,
        "source": l.source,
        "id": l.id,
        "booked": l.booked.to_string(),
        "amount": l.amount.format(l.currency.decimals()),
        "currency": l.currency.as_str(),
        "why": l.reason,
        "payer": d.counterparty,
        "account": d.iban,
        "reference": d.reference,
        "description": d.text,
    })
}

/// One credit per block: its number, day, amount and payer, then what it said and why no
/// rule placed it.
fn write_text(
    total: u64,
    lines: &[BankLine],
    width: Option<usize>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if total == 0 {
        writeln!(
            out,
            "No bank credits wait: every credit read was placed or decided."
        )?;
        return Ok(());
    }
    let w = width.unwrap_or(80).clamp(40, 120);
    writeln!(
        out,
        "{} bank credit{} wait{} for a person{}:",
        domain::values::thousands(&total.to_string()),
        if total == 1 { "" } else { "s" },
        if total == 1 { "s" } else { "" },
        if (lines.len() as u64) < total {
            format!(" (the oldest {} shown)", lines.len())
        } else {
            String::new()
        }
    )?;
    for l in lines {
        let d = l.details.clone().unwrap_or_default();
        let payer = match (&d.counterparty, &d.iban) {
            (Some(n), Some(i)) => format!("{n} ({i})"),
            (Some(n), None) => n.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => "payer not named".to_owned(),
        };
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            cut(
                &format!(
                    "#{}  {}  {} {}  from {payer}",
                    l.no,
                    l.booked,
                    l.amount.grouped(l.currency.decimals()),
                    l.currency
                ),
                w
            )
        )?;
        let said = match (&d.reference, &d.text) {
            (Some(r), Some(t)) => format!("reference {r}, \"{t}\""),
            (Some(r), None) => format!("reference {r}"),
            (None, Some(t)) => format!("\"{t}\""),
            (None, None) => "no reference and no description".to_owned(),
        };
        writeln!(out, "    {}", cut(&said, w.saturating_sub(4)))?;
        if let Some(r) = &l.reason {
            writeln!(out, "    not placed: {}", cut(r, w.saturating_sub(16)))?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Place one: rapport payments resolve NUMBER --invoice INVOICE; or: rapport payments dismiss NUMBER --reason WHY"
    )?;
    Ok(())
}
