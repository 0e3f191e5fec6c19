//! `rapport catalogue` and `rapport costs`: the product catalogue of hidden costs, and what
//! the ledger's orders carried that no invoice shows.
//!
//! The figures come from [`domain::costs`] over the ledger's order events
//! (`App::costs`); this module only prints them.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use domain::costs::{By, Catalogue, Figures, Report, figure};

use crate::cli::{CatalogueCommand, CostsArgs};
use crate::commands::import::thousands;
use crate::ledger;
use crate::screen::{Column, Screen, Table, moneys, wrap};

const NO_CATALOGUE: &str = "no product catalogue in this ledger: import one with \
     `rapport catalogue import products.csv --factors factors.csv` (see docs/costs.md)";

pub fn catalogue(db: &app::Location, command: &CatalogueCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogueCommand::Import(a) => {
            let catalogue = import::catalogue::read(&a.products, &a.factors)?;
            let app = ledger::open(db)?;
            app.catalogue_put(&catalogue, &ledger::actor())
                .context("storing the catalogue")?;
            let with = catalogue
                .products()
                .iter()
                .filter(|p| !p.has_no_factors())
                .count();
            println!(
                "catalogue replaced: {} products ({with} with figures, {} without), {} factors: {}",
                catalogue.products().len(),
                catalogue.products().len() - with,
                catalogue.factors().len(),
                catalogue
                    .factors()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        CatalogueCommand::List(a) => {
            let app = ledger::open(db)?;
            let Some(catalogue) = app.catalogue().context("reading the catalogue")? else {
                bail!(NO_CATALOGUE);
            };
            let mut out = BufWriter::new(std::io::stdout().lock());
            if a.json {
                serde_json::to_writer_pretty(&mut out, &catalogue_json(&catalogue))?;
                writeln!(out)?;
            } else {
                write_catalogue(&catalogue, Screen::detect().width, a.wide, &mut out)?;
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn catalogue_json(c: &Catalogue) -> serde_json::Value {
    serde_json::json!({
        "factors": c.factors(),
        "products": c.products().iter().map(|p| {
            let values: serde_json::Map<String, serde_json::Value> = c
                .factors()
                .iter()
                .zip(&p.values)
                .map(|(f, v)| (f.name.to_string(), serde_json::json!(v.map(|v| v.get()))))
                .collect();
            serde_json::json!({"product": p.id, "name": p.name, "per_unit": values})
        }).collect::<Vec<_>>(),
    })
}

fn write_catalogue(
    c: &Catalogue,
    width: Option<usize>,
    wide: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(out, "Factors")?;
    for f in c.factors() {
        let line = format!(
            "{}: per unit in {}; source: {}",
            f.name,
            f.unit,
            clean(&f.source)
        );
        say(out, &line, 2, width)?;
    }
    writeln!(out, "\n{} products", thousands(c.products().len() as u64))?;
    let mut columns = vec![Column::key("Product"), Column::text("Name", 50)];
    // Factors in the catalogue's order: the first ones stay longest.
    let n = c.factors().len();
    for (i, f) in c.factors().iter().enumerate() {
        columns.push(Column::figure(
            f.name.as_str(),
            40 - (i * 30 / n.max(1)) as u8,
        ));
    }
    let mut t = Table::new(columns);
    for p in c.products() {
        let mut row = vec![clean(p.id.as_str()), clean(p.name.as_deref().unwrap_or(""))];
        for v in &p.values {
            row.push(v.map_or("–".to_owned(), |v| v.get().to_string()));
        }
        t.push(row);
    }
    print_table(out, &t, width, wide)
}

/// A whole number of units with thousands separators; returns make it negative.
fn signed(n: i64) -> String {
    let grouped = thousands(n.unsigned_abs());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A table, then the note saying how many columns it left out.
fn print_table(
    out: &mut impl Write,
    t: &Table,
    width: Option<usize>,
    wide: bool,
) -> std::io::Result<()> {
    let laid = t.lay_out(width, wide);
    for line in &laid.lines {
        writeln!(out, "{line}")?;
    }
    if let Some(note) = laid.note() {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

/// A sentence, wrapped to the screen when its width is known, indented by `indent`.
fn say(
    out: &mut impl Write,
    text: &str,
    indent: usize,
    width: Option<usize>,
) -> std::io::Result<()> {
    let pad = " ".repeat(indent);
    match width {
        None => writeln!(out, "{pad}{text}"),
        Some(w) => {
            for line in wrap(text, w.saturating_sub(indent).max(20)) {
                writeln!(out, "{pad}{line}")?;
            }
            Ok(())
        }
    }
}

pub fn costs(db: &app::Location, args: &CostsArgs) -> anyhow::Result<ExitCode> {
    let by = match args.by.as_deref() {
        None => None,
        Some(b) => Some(
            By::parse(b)
                .with_context(|| format!("--by {b:?}: give person, product, month or order"))?,
        ),
    };
    let app = ledger::open(db)?;
    let Some(report) = app
        .costs(by, args.limit)
        .context("reading the ledger's orders")?
    else {
        bail!(NO_CATALOGUE);
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut out, &report).context("writing JSON")?;
        writeln!(out)?;
    } else if report.by.is_some() {
        write_groups(&report, Screen::detect().width, args.wide, &mut out)?;
    } else {
        write_summary(&report, Screen::detect().width, args.wide, &mut out)?;
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Removes control characters (terminal escapes included) from catalogue text.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn write_summary(
    r: &Report,
    width: Option<usize>,
    wide: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let t = &r.total;
    let head = format!(
        "Hidden costs of {} orders ({} of them returns), {} order lines, {} units net",
        thousands(r.orders),
        thousands(r.returns),
        thousands(t.lines),
        signed(t.net_quantity)
    );
    say(out, &head, 0, width)?;
    writeln!(out)?;
    let mut table = Table::new(vec![
        Column::key("Factor"),
        Column::figure("Total", 90),
        Column::text("Unit", 60),
        Column::figure("Lines", 30),
        Column::figure("Missing", 40),
    ]);
    table.indent = 2;
    for c in &t.costs {
        table.push(vec![
            c.factor.clone(),
            figure(c.total),
            c.unit.clone(),
            thousands(c.lines),
            thousands(c.missing_lines),
        ]);
    }
    print_table(out, &table, width, wide)?;
    // Money on a line of its own: several currencies would widen the figures' column.
    say(out, &format!("Money: {}", moneys(&t.money)), 2, width)?;
    writeln!(out)?;
    say(
        out,
        &format!(
            "Lines matched to the catalogue: {} of {}; unmatched: {} (not in the totals above — never counted as zero)",
            thousands(t.matched_lines),
            thousands(t.lines),
            thousands(t.unmatched_lines)
        ),
        0,
        width,
    )?;
    if t.costs.iter().any(|c| c.missing_lines > 0) {
        say(
            out,
            "\"Missing\": lines of catalogued products without a figure for that factor.",
            0,
            width,
        )?;
    }
    if r.orders_without_lines > 0 {
        say(
            out,
            &format!(
                "Orders without lines (an amount only, nothing to cost): {}",
                thousands(r.orders_without_lines)
            ),
            0,
            width,
        )?;
    }
    for f in &r.factors {
        say(
            out,
            &format!("Source of {}: {}", f.name, clean(&f.source)),
            0,
            width,
        )?;
    }
    if !r.unmatched.is_empty() {
        writeln!(out, "\nUnmatched products ({})", r.unmatched.len())?;
        let mut table = Table::new(vec![
            Column::key("Product"),
            Column::figure("Lines", 40),
            Column::figure("Net units", 30),
            Column::text("Money", 60),
            Column::text("Why", 50),
        ]);
        table.indent = 2;
        for u in &r.unmatched {
            table.push(vec![
                clean(&u.product),
                thousands(u.lines),
                signed(u.net_quantity),
                moneys(&u.money),
                if u.in_catalogue {
                    "listed without figures"
                } else {
                    "not in the catalogue"
                }
                .to_owned(),
            ]);
        }
        print_table(out, &table, width, wide)?;
    }
    Ok(())
}

fn write_groups(
    r: &Report,
    width: Option<usize>,
    wide: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let by = r.by.map_or("", By::as_str);
    let products = r.by == Some(By::Product);
    let mut heading = by.to_owned();
    if let Some(first) = heading.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut columns = vec![Column::key(&heading)];
    if products {
        columns.push(Column::text("Name", 45));
    }
    columns.push(Column::figure("Orders", 35));
    columns.push(Column::figure("Lines", 20));
    columns.push(Column::figure("Unmatched lines", 30));
    let n = r.factors.len();
    for (i, f) in r.factors.iter().enumerate() {
        // The first factor is what groups are ordered by: it stays longest.
        let keep = 90 - (i * 40 / n.max(1)) as u8;
        columns.push(Column::figure(&format!("{} ({})", f.name, f.unit), keep));
    }
    columns.push(Column::text("Money", 80));
    let mut t = Table::new(columns);
    for g in &r.groups {
        let f = &g.figures;
        let mut row = vec![clean(&g.key)];
        if products {
            row.push(clean(g.name.as_deref().unwrap_or("")));
        }
        row.push(thousands(f.orders));
        row.push(thousands(f.lines));
        row.push(thousands(f.unmatched_lines));
        for c in &f.costs {
            row.push(if c.lines == 0 {
                "–".to_owned()
            } else {
                figure(c.total)
            });
        }
        row.push(moneys(&f.money));
        t.push(row);
    }
    print_table(out, &t, width, wide)?;
    if r.groups.len() < r.group_count {
        writeln!(
            out,
            "({} of {} shown; --limit changes how many)",
            r.groups.len(),
            r.group_count
        )?;
    }
    say(
        out,
        &format!(
            "Total: {}; {} of {} lines unmatched (see `rapport costs`)",
            r.total.costs_in_words(),
            thousands(r.total.unmatched_lines),
            thousands(r.total.lines)
        ),
        0,
        width,
    )?;
    Ok(())
}

/// The card's hidden-cost section, for `rapport card`, wrapped to `width` when known.
pub fn write_card_section(
    costs: Option<&Figures>,
    width: Option<usize>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(out, "\nWHAT THIS RELATIONSHIP COST THAT NO INVOICE SHOWS")?;
    match costs {
        None => writeln!(
            out,
            "  (no product catalogue imported: rapport catalogue import, docs/costs.md)"
        ),
        Some(f) if f.lines == 0 => writeln!(out, "  (no order lines to cost)"),
        Some(f) => say(out, &f.sentence(), 2, width),
    }
}
