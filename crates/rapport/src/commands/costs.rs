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
use crate::ledger;

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
                write_catalogue(&catalogue, &mut out)?;
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

fn write_catalogue(c: &Catalogue, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "Factors")?;
    for f in c.factors() {
        writeln!(
            out,
            "  {}  per unit in {}  source: {}",
            f.name,
            f.unit,
            clean(&f.source)
        )?;
    }
    writeln!(out, "\n{} products", c.products().len())?;
    let mut header = format!("{:<14} {:<40}", "product", "name");
    for f in c.factors() {
        header.push_str(&format!(" {:>14}", f.name.as_str()));
    }
    writeln!(out, "{header}")?;
    for p in c.products() {
        let mut line = format!(
            "{:<14} {:<40}",
            clean(p.id.as_str()),
            cut(&clean(p.name.as_deref().unwrap_or("")), 40)
        );
        for v in &p.values {
            line.push_str(&format!(
                " {:>14}",
                v.map_or("–".to_owned(), |v| v.get().to_string())
            ));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
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
        write_groups(&report, &mut out)?;
    } else {
        write_summary(&report, &mut out)?;
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

fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

fn write_summary(r: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let t = &r.total;
    writeln!(
        out,
        "Hidden costs of {} orders ({} of them returns), {} order lines, {} units net",
        r.orders, r.returns, t.lines, t.net_quantity
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  {:<16} {:>16}  {:<22} {:>10} {:>10}",
        "factor", "total", "unit", "lines", "missing"
    )?;
    for c in &t.costs {
        writeln!(
            out,
            "  {:<16} {:>16}  {:<22} {:>10} {:>10}",
            c.factor,
            figure(c.total),
            c.unit,
            c.lines,
            c.missing_lines
        )?;
    }
    writeln!(out, "  {:<16} {:>16}", "money", t.money_in_words())?;
    writeln!(out)?;
    writeln!(
        out,
        "Lines matched to the catalogue: {} of {}; unmatched: {} (not in the totals above — never counted as zero)",
        t.matched_lines, t.lines, t.unmatched_lines
    )?;
    if t.costs.iter().any(|c| c.missing_lines > 0) {
        writeln!(
            out,
            "\"missing\": lines of catalogued products without a figure for that factor."
        )?;
    }
    if r.orders_without_lines > 0 {
        writeln!(
            out,
            "Orders without lines (an amount only, nothing to cost): {}",
            r.orders_without_lines
        )?;
    }
    for f in &r.factors {
        writeln!(out, "Source of {}: {}", f.name, clean(&f.source))?;
    }
    if !r.unmatched.is_empty() {
        writeln!(out, "\nUnmatched products ({})", r.unmatched.len())?;
        writeln!(
            out,
            "  {:<16} {:>8} {:>10}  {:<26} why",
            "product", "lines", "net units", "money"
        )?;
        for u in &r.unmatched {
            let money: Vec<String> = u.money.iter().map(ToString::to_string).collect();
            writeln!(
                out,
                "  {:<16} {:>8} {:>10}  {:<26} {}",
                clean(&u.product),
                u.lines,
                u.net_quantity,
                money.join(" + "),
                if u.in_catalogue {
                    "listed without figures"
                } else {
                    "not in the catalogue"
                }
            )?;
        }
    }
    Ok(())
}

fn write_groups(r: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let by = r.by.map_or("", By::as_str);
    let products = r.by == Some(By::Product);
    let mut header = format!("{by:<16}");
    if products {
        header.push_str(&format!(" {:<32}", "name"));
    }
    header.push_str(&format!(
        " {:>7} {:>8} {:>9}",
        "orders", "lines", "unmatched"
    ));
    for f in &r.factors {
        header.push_str(&format!(" {:>16}", format!("{} ({})", f.name, f.unit)));
    }
    header.push_str("  money");
    writeln!(out, "{header}")?;
    for g in &r.groups {
        let f = &g.figures;
        let mut line = format!("{:<16}", clean(&g.key));
        if products {
            line.push_str(&format!(
                " {:<32}",
                cut(&clean(g.name.as_deref().unwrap_or("")), 32)
            ));
        }
        line.push_str(&format!(
            " {:>7} {:>8} {:>9}",
            f.orders, f.lines, f.unmatched_lines
        ));
        for (c, factor) in f.costs.iter().zip(&r.factors) {
            let width = format!("{} ({})", factor.name, factor.unit).len().max(16);
            let v = if c.lines == 0 {
                "–".to_owned()
            } else {
                figure(c.total)
            };
            line.push_str(&format!(" {v:>width$}"));
        }
        line.push_str(&format!("  {}", f.money_in_words()));
        writeln!(out, "{line}")?;
    }
    if r.groups.len() < r.group_count {
        writeln!(
            out,
            "({} of {} shown; --limit changes how many)",
            r.groups.len(),
            r.group_count
        )?;
    }
    writeln!(
        out,
        "Total: {}; {} of {} lines unmatched (see `rapport costs`)",
        r.total.costs_in_words(),
        r.total.unmatched_lines,
        r.total.lines
    )?;
    Ok(())
}

/// The card's hidden-cost section, for `rapport card`.
pub fn write_card_section(costs: Option<&Figures>, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "\nWHAT THIS RELATIONSHIP COST THAT NO INVOICE SHOWS")?;
    match costs {
        None => writeln!(
            out,
            "  (no product catalogue imported: rapport catalogue import, docs/costs.md)"
        ),
        Some(f) if f.lines == 0 => writeln!(out, "  (no order lines to cost)"),
        Some(f) => writeln!(out, "  {}", f.sentence()),
    }
}
