//! `rapport people`: every person with their readings — never a segment, always a person.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use domain::readings::{Readings, SORTABLE, words};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::PeopleArgs;
use crate::commands::import::thousands;
use crate::screen::{Column, Screen, Table, grouped, people_shown};
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
    let filters = filters(args)?;
    let screen = Screen::detect();
    let view = View {
        // A table on a terminal stops at a screenful; JSON is for programs, never cut.
        limit: if args.json {
            args.limit
        } else {
            people_shown(args.limit, args.all, &screen)
        },
        layout: Layout {
            width: screen.width,
            wide: args.wide,
        },
    };
    let app = ledger::open(db)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    if let Some(flag) = args.as_of.as_deref() {
        // Another day than today: computed from everyone's events, exactly as then.
        let as_of = moment::as_of(Some(flag))?;
        from_events(&app, as_of, args, &filters, &view, &mut out)?;
    } else {
        ledger::keep_up(&app)?;
        let day = app
            .ledger()
            .kept_status()
            .context("reading the ledger")?
            .meta
            .map_or_else(|| domain::Timestamp::now().day(), |m| m.day);
        match (args.json, view.limit) {
            // Everyone's whole readings: one pass over the events, as of the kept day.
            (true, None) => from_events(&app, day.end(), args, &filters, &view, &mut out)?,
            (true, Some(limit)) => {
                let dists = app
                    .ledger()
                    .kept_distributions()
                    .context("reading the ledger")?;
                let page = list(&app, sort, &filters, 0, limit, &dists)?;
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
                let dists = app
                    .ledger()
                    .kept_distributions()
                    .context("reading the ledger")?;
                // A page at a time: a table of a million people never holds them all.
                while rows.len() < limit {
                    let want = (limit - rows.len()).min(10_000);
                    let page = list(&app, sort, &filters, rows.len(), want, &dists)?;
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
                    &view.layout,
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
    filters: &[app::Range],
    view: &View,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let assessed = app.assess(as_of).context("reading the ledger")?;
    let people = &assessed.people;
    let readings = &assessed.readings;

    let mut order: Vec<usize> = (0..people.len())
        .filter(|&i| {
            let fields = readings[i].fields();
            filters.iter().all(|f| f.holds(&fields))
        })
        .collect();
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
    let limit = view.limit.unwrap_or(usize::MAX);

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
        table(
            out,
            &rows,
            order.len(),
            fitted,
            args.sort.as_deref(),
            None,
            &view.layout,
        )
        .context("writing the table")?;
    }
    Ok(())
}

/// The filters of `--filter` and `--where`.
fn filters(args: &PeopleArgs) -> anyhow::Result<Vec<app::Range>> {
    let mut out = Vec::new();
    for name in &args.filter {
        out.push(app::preset(name).ok_or_else(|| anyhow::anyhow!("--filter {name:?}: unknown"))?);
    }
    for range in &args.ranges {
        out.push(parse_range(range)?);
    }
    Ok(out)
}

/// `FIELD=MIN..MAX` of `--where` (see [`app::Range::parse`]).
fn parse_range(text: &str) -> anyhow::Result<app::Range> {
    app::Range::parse(text).map_err(|e| anyhow::anyhow!("--where {text:?}: {e}"))
}

/// A page of the kept list, filtered when asked.
fn list(
    app: &app::App,
    sort: Option<(usize, bool)>,
    filters: &[app::Range],
    offset: usize,
    limit: usize,
    dists: &[domain::readings::Distribution],
) -> anyhow::Result<app::Page> {
    let page = if filters.is_empty() {
        app.list(sort, offset, limit, Some(dists))
    } else {
        app.list_where(sort, filters, None, offset, limit, dists)
    };
    page.context("reading the ledger")
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_owned(), |v| grouped(&format!("{v:.decimals$}")))
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

/// How a figure of the table is written.
#[derive(Clone, Copy)]
enum Shown {
    Share,
    Decimals(usize),
    PAlive,
}

/// The table's figures, in order, with how much each matters when the screen is narrow
/// (higher stays longer): how they pay and whether they are still with us first, then the
/// business's side (heard, promises kept), then the rest.
const COLUMNS: [(&str, Shown, u8); 11] = [
    ("punctuality.on_time_share", Shown::Share, 90),
    ("punctuality.mean_days_late", Shown::Decimals(1), 40),
    ("invoice_friction.disputed_share", Shown::Share, 60),
    ("service_load.contacts_per_month", Shown::Decimals(2), 30),
    ("advocacy.referrals", Shown::Decimals(0), 10),
    ("resilience.weathered_share", Shown::Share, 20),
    ("heard.answered_share", Shown::Share, 80),
    ("personal.scripted_share", Shown::Share, 50),
    ("made_right.apologised_share", Shown::Share, 25),
    ("promises_kept.kept_share", Shown::Share, 70),
    ("loyalty.p_alive", Shown::PAlive, 85),
];

/// How the table is laid out.
struct Layout {
    width: Option<usize>,
    wide: bool,
}

/// How many people are shown, and how.
struct View {
    limit: Option<usize>,
    layout: Layout,
}

fn table(
    out: &mut impl Write,
    shown: &[(domain::PersonId, [Option<f64>; SORTABLE.len()])],
    total: usize,
    fitted: bool,
    sort: Option<&str>,
    day: Option<domain::Day>,
    layout: &Layout,
) -> std::io::Result<()> {
    // The sorted-by figure comes right after the person, unless it is a column already.
    let extra = sort.filter(|s| !COLUMNS.iter().any(|(f, ..)| f == s));
    let mut columns = vec![Column::key("Person")];
    if let Some(s) = extra {
        columns.push(Column::figure(words::label(s), 95));
    }
    for (f, _, keep) in COLUMNS {
        let keep = if Some(f) == sort { 95 } else { keep };
        columns.push(Column::figure(words::label(f), keep));
    }
    let mut t = Table::new(columns);
    let mut starred = false;
    for (person, f) in shown {
        let f = &f[..];
        let mut row = vec![person.to_string()];
        if let Some(s) = extra {
            row.push(num(field(f, s), 2));
        }
        for (name, how, _) in COLUMNS {
            row.push(match how {
                Shown::Share => share(field(f, name)),
                Shown::Decimals(d) => num(field(f, name), d),
                Shown::PAlive => {
                    let p = p_alive(f);
                    starred |= p.ends_with('*');
                    p
                }
            });
        }
        t.push(row);
    }
    let laid = t.lay_out(layout.width, layout.wide);
    for line in &laid.lines {
        writeln!(out, "{line}")?;
    }
    let alive = words::label("loyalty.p_alive");
    let alive_at = t.columns.iter().position(|c| c.heading == alive);
    let alive_shown = alive_at.is_some_and(|c| laid.shown.contains(&c));
    if alive_shown && !fitted {
        writeln!(
            out,
            "({alive}: no model fitted yet; `rapport fit --model bgnbd`)"
        )?;
    } else if alive_shown && starred {
        writeln!(
            out,
            "(* bought once: BG/NBD takes every one-time buyer as still with us)"
        )?;
    }
    if let Some(day) = day {
        writeln!(out, "(as of the end of {day}, UTC)")?;
    }
    if shown.len() < total {
        writeln!(
            out,
            "… and {} more: --all, or --limit N",
            thousands((total - shown.len()) as u64)
        )?;
    } else {
        writeln!(
            out,
            "({} people; — means no data for that reading)",
            thousands(total as u64)
        )?;
    }
    if let Some(note) = laid.note() {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(width: Option<usize>, wide: bool, sort: Option<&str>) -> String {
        let mut fields = [None; SORTABLE.len()];
        fields[0] = Some(0.5);
        let rows = vec![(domain::PersonId::parse("P-000001").unwrap(), fields)];
        let mut out = Vec::new();
        table(
            &mut out,
            &rows,
            3,
            true,
            sort,
            None,
            &Layout { width, wide },
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_table_fits_80_columns_and_says_what_was_left_out() {
        let text = render(Some(80), false, None);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line:?} in\n{text}");
        }
        assert!(text.contains("Paid on"), "{text}");
        assert!(text.contains("more columns with --wide"), "{text}");
        assert!(text.contains("… and 2 more: --all, or --limit N"), "{text}");
        assert!(!text.contains('_'), "{text}");
    }

    #[test]
    fn wide_shows_every_column_in_words() {
        let text = render(Some(80), true, None);
        for (f, ..) in COLUMNS {
            let first = words::label(f).split(' ').next().unwrap();
            assert!(text.contains(first), "{f} in\n{text}");
        }
        assert!(!text.contains("--wide"), "{text}");
    }

    #[test]
    fn the_sorted_by_figure_is_kept_and_named_in_words() {
        let text = render(Some(80), false, Some("value.clv"));
        assert!(text.contains("Expected"), "{text}");
        assert!(!text.contains("value.clv"), "{text}");
    }
}
