//! `rapport people`: every person with their readings — never a segment, always a person.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use domain::readings::{Readings, SORTABLE};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::PeopleArgs;
use crate::{ledger, moment};

/// People serialised per task, and per wave (which bounds the memory held before writing).
const JSON_CHUNK: usize = 2048;
const JSON_WAVE: usize = 65_536;

#[derive(Serialize)]
struct Line<'a> {
    person: &'a str,
    readings: &'a Readings,
}

pub fn run(db: &app::Location, args: &PeopleArgs) -> anyhow::Result<ExitCode> {
    if let Some(field) = &args.sort
        && !SORTABLE.contains(&field.as_str())
    {
        bail!(
            "--sort {field:?} is not a reading's field; choose one of:\n  {}",
            SORTABLE.join("\n  ")
        );
    }
    let as_of = moment::as_of(args.as_of.as_deref())?;
    let app = ledger::open(db)?;
    let assessed = app.assess(as_of).context("reading the ledger")?;
    let people = &assessed.people;
    let readings = &assessed.readings;

    let mut order: Vec<usize> = (0..people.len()).collect();
    if let Some(field) = &args.sort {
        let keys: Vec<Option<f64>> = readings.iter().map(|r| r.field(field)).collect();
        order.par_sort_by(|&a, &b| match (keys[a], keys[b]) {
            (Some(x), Some(y)) => {
                let o = x.total_cmp(&y);
                if args.desc { o.reverse() } else { o }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    } else {
        order.par_sort_by(|&a, &b| people[a].cmp(&people[b]));
    }
    let limit = args.limit.unwrap_or(usize::MAX);

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    if args.json {
        // Lines are serialised on every core, a wave at a time, and written in order.
        let shown: Vec<usize> = order.iter().take(limit).copied().collect();
        for wave in shown.chunks(JSON_WAVE) {
            let parts: Vec<Vec<u8>> = wave
                .par_chunks(JSON_CHUNK)
                .map(|chunk| {
                    let mut buf = Vec::with_capacity(chunk.len() * 800);
                    for &i in chunk {
                        let line = Line {
                            person: people[i].as_str(),
                            readings: &readings[i],
                        };
                        serde_json::to_writer(&mut buf, &line)?;
                        buf.push(b'\n');
                    }
                    Ok(buf)
                })
                .collect::<Result<_, serde_json::Error>>()
                .context("writing JSON")?;
            for part in parts {
                out.write_all(&part).context("writing JSON")?;
            }
        }
    } else {
        table(&mut out, &order, limit, &assessed, args.sort.as_deref())
            .context("writing the table")?;
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// BG/NBD's p_alive, marked `*` for one-time buyers (the model gives them exactly 1).
fn p_alive(r: &Readings) -> String {
    match &r.loyalty {
        None => "—".to_owned(),
        Some(l) if l.frequency == 0 => format!("{:.2}*", l.p_alive),
        Some(l) => format!("{:.2}", l.p_alive),
    }
}

fn table(
    out: &mut impl Write,
    order: &[usize],
    limit: usize,
    a: &app::Assessed,
    sort: Option<&str>,
) -> std::io::Result<()> {
    let mut headers = vec![
        "person",
        "on time",
        "days late",
        "disputed",
        "contacts/mo",
        "referrals",
        "weathered",
        "answered",
        "scripted",
        "apologised",
        "kept",
        "p alive",
    ];
    if let Some(s) = sort {
        headers.push(s);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for &i in order.iter().take(limit) {
        let r = &a.readings[i];
        let p = r.punctuality.as_ref();
        let mut row = vec![
            a.people[i].to_string(),
            share(p.and_then(|p| p.on_time_share)),
            num(p.and_then(|p| p.mean_days_late), 1),
            share(r.invoice_friction.as_ref().map(|f| f.disputed_share)),
            num(r.service_load.as_ref().map(|l| l.contacts_per_month), 2),
            num(r.advocacy.as_ref().map(|x| x.referrals as f64), 0),
            share(r.resilience.as_ref().map(|x| x.weathered_share)),
            share(r.heard.as_ref().map(|h| h.answered_share)),
            share(r.personal.as_ref().map(|p| p.scripted_share)),
            share(r.made_right.as_ref().and_then(|m| m.apologised_share)),
            share(r.promises_kept.as_ref().map(|k| k.kept_share)),
            p_alive(r),
        ];
        if let Some(s) = sort {
            row.push(num(r.field(s), 2));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(c, h)| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = widths[c].saturating_sub(s.chars().count());
                if c == 0 {
                    format!("{s}{}", " ".repeat(pad))
                } else {
                    format!("{}{s}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(headers.clone()))?;
    for r in &rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    if a.readings.first().is_some_and(|r| !r.fitted.purchase) {
        writeln!(
            out,
            "(p alive: no loyalty model fitted yet; run `rapport fit --model bgnbd`)"
        )?;
    } else if rows.iter().any(|r| r.iter().any(|c| c.ends_with('*'))) {
        writeln!(
            out,
            "(* bought once: BG/NBD gives p_alive = 1 to everyone with no repeat purchase)"
        )?;
    }
    let total = a.people.len();
    if rows.len() < total {
        writeln!(
            out,
            "({} of {} people; --limit to see more)",
            rows.len(),
            total
        )?;
    } else {
        writeln!(out, "({total} people; — means no data for that reading)")?;
    }
    Ok(())
}
