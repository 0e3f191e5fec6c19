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
    let sort = match &args.sort {
        None => None,
        Some(field) => match SORTABLE.iter().position(|f| f == field) {
            Some(i) => Some((i, args.desc)),
            None => bail!(
                "--sort {field:?} is not a reading's field; choose one of:\n  {}",
                SORTABLE.join("\n  ")
            ),
        },
    };
    let app = ledger::open(db)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    if let Some(flag) = args.as_of.as_deref() {
        // Another day than today: computed from everyone's events, exactly as then.
        let as_of = moment::as_of(Some(flag))?;
        from_events(&app, as_of, args, &mut out)?;
    } else {
        ledger::keep_up(&app)?;
        let day = app
            .ledger()
            .kept_status()
            .context("reading the ledger")?
            .meta
            .map_or_else(|| domain::Timestamp::now().day(), |m| m.day);
        match (args.json, args.limit) {
            // Everyone's whole readings: one pass over the events, as of the kept day.
            (true, None) => from_events(&app, day.end(), args, &mut out)?,
            (true, Some(limit)) => {
                let page = app
                    .list(sort, 0, limit, None)
                    .context("reading the ledger")?;
                let dists = app
                    .ledger()
                    .kept_distributions()
                    .context("reading the ledger")?;
                for listed in &page.people {
                    let readings = app
                        .person_readings(&listed.person, day.end(), &dists)
                        .context("reading the ledger")?
                        .unwrap_or_default();
                    let line = Line {
                        person: listed.person.as_str(),
                        readings: &readings,
                    };
                    serde_json::to_writer(&mut out, &line).context("writing JSON")?;
                    writeln!(out).context("writing JSON")?;
                }
            }
            (false, limit) => {
                let fitted = app.models().context("reading the fits")?.purchase.is_some();
                let limit = limit.unwrap_or(usize::MAX);
                let mut rows = Vec::new();
                let mut total = 0;
                // A page at a time: a table of a million people never holds them all.
                while rows.len() < limit {
                    let want = (limit - rows.len()).min(10_000);
                    let page = app
                        .list(sort, rows.len(), want, None)
                        .context("reading the ledger")?;
                    total = page.total as usize;
                    let n = page.people.len();
                    rows.extend(page.people.into_iter().map(|l| (l.person, l.fields)));
                    if n < want {
                        break;
                    }
                }
                table(
                    &mut out,
                    &rows,
                    total,
                    fitted,
                    args.sort.as_deref(),
                    Some(day),
                )
                .context("writing the table")?;
            }
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Everyone's readings as of `as_of` from the events (another day than today, or every
/// reading of everyone at once).
fn from_events(
    app: &app::App,
    as_of: domain::Timestamp,
    args: &PeopleArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
        let fitted = readings.first().is_some_and(|r| r.fitted.purchase);
        let rows: Vec<(domain::PersonId, [Option<f64>; SORTABLE.len()])> = order
            .iter()
            .take(limit)
            .map(|&i| (people[i].clone(), readings[i].fields()))
            .collect();
        table(out, &rows, people.len(), fitted, args.sort.as_deref(), None)
            .context("writing the table")?;
    }
    Ok(())
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
}

/// Field `name` of a row of [`SORTABLE`] fields.
fn field(fields: &[Option<f64>], name: &str) -> Option<f64> {
    let i = SORTABLE.iter().position(|f| *f == name)?;
    fields.get(i).copied().flatten()
}

/// BG/NBD's p_alive, marked `*` for one-time buyers (the model gives them exactly 1).
fn p_alive(fields: &[Option<f64>]) -> String {
    match (
        field(fields, "loyalty.p_alive"),
        field(fields, "loyalty.frequency"),
    ) {
        (None, _) => "—".to_owned(),
        (Some(p), Some(0.0)) => format!("{p:.2}*"),
        (Some(p), _) => format!("{p:.2}"),
    }
}

fn table(
    out: &mut impl Write,
    shown: &[(domain::PersonId, [Option<f64>; SORTABLE.len()])],
    total: usize,
    fitted: bool,
    sort: Option<&str>,
    day: Option<domain::Day>,
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
    for (person, f) in shown {
        let f = &f[..];
        let mut row = vec![
            person.to_string(),
            share(field(f, "punctuality.on_time_share")),
            num(field(f, "punctuality.mean_days_late"), 1),
            share(field(f, "invoice_friction.disputed_share")),
            num(field(f, "service_load.contacts_per_month"), 2),
            num(field(f, "advocacy.referrals"), 0),
            share(field(f, "resilience.weathered_share")),
            share(field(f, "heard.answered_share")),
            share(field(f, "personal.scripted_share")),
            share(field(f, "made_right.apologised_share")),
            share(field(f, "promises_kept.kept_share")),
            p_alive(f),
        ];
        if let Some(s) = sort {
            row.push(num(field(f, s), 2));
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
    if !fitted {
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
    if let Some(day) = day {
        writeln!(out, "(as of the end of {day}, UTC)")?;
    }
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
