//! `rapport fit --model bgbb --summary FILE`: the BG/BB model on patterns of transactions at
//! discrete opportunities (Fader, Hardie & Shang 2010), one row per pattern with its count of
//! people, as the paper's donations data come. On the ledger ([`ledger`]) the opportunities
//! are calendar periods and each person is a row.

mod ledger;
pub(super) use ledger::run as run_on_ledger;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use domain::readings::words;
use models::bgbb::{self, Pattern};
use models::interval::{Interval, Parameters, Scale, Uncertainty};
use models::{Fit, FitError};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Csv, ID_COLUMNS, MAX_PERIODS, convergence_json, describe, named_by, row_id, stats,
    write_convergence,
};
use crate::cli::FitArgs;

/// The discount rate per opportunity when `--discount-rate` is not given.
const DEFAULT_DISCOUNT_RATE: f64 = 0.1;

/// Patterns with their weights (people per pattern), ids and lines.
#[derive(Debug, Default)]
struct Patterns {
    ids: Vec<String>,
    rows: Vec<(Pattern, f64)>,
    /// "donations.csv line 4", for errors.
    origin: Vec<String>,
}

pub(super) fn run(path: &Path, args: &FitArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let data = parse(&text, &name)?;
    if data.rows.iter().all(|(_, w)| *w == 0.0) {
        bail!("{name}: every weight is zero, so there is nobody to fit on");
    }
    fit_and_report(&data, json!({ "summary": name }), None, args, out)
}

/// Fits BG/BB on `data` and prints the fit (and with `--predict`, each row's figures);
/// `source` says in the JSON where the rows came from, `note` in the text how they were made.
fn fit_and_report(
    data: &Patterns,
    source: Value,
    note: Option<&str>,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let people: f64 = data.rows.iter().map(|(_, w)| w).sum();
    if people == 0.0 {
        bail!("every weight is zero, so there is nobody to fit on");
    }
    let fit = bgbb::fit(&data.rows).map_err(|e| {
        let e = match e {
            FitError::AllZeroFrequency => anyhow!(
                "every frequency is zero: nobody transacted again after the first time, so the model cannot be fitted"
            ),
            other => describe(other, named_by(&data.origin)),
        };
        e.context(format!(
            "cannot fit BG/BB on {} patterns ({} people)",
            data.rows.len(),
            count(people)
        ))
    })?;
    let discount_rate = args.discount_rate.unwrap_or(DEFAULT_DISCOUNT_RATE);
    let with_transactions: f64 = data
        .rows
        .iter()
        .filter(|(p, _)| p.frequency > 0)
        .map(|(_, w)| w)
        .sum();
    let max_n = data
        .rows
        .iter()
        .map(|(p, _)| p.opportunities)
        .max()
        .unwrap_or(0);
    let line = json!({
        "model": "bgbb",
        "params": fit.params,
        "std_errors": fit.std_errors,
        "log_likelihood": fit.log_likelihood,
        "convergence": convergence_json(stats(&fit)),
        "patterns": data.rows.len(),
        "people": people,
        "with_transactions": with_transactions,
        "max_opportunities": max_n,
        "source": source,
        "unit": "opportunities",
    });
    // The horizon was checked to be a whole number of opportunities.
    let predictions = args
        .predict
        .map(|h| Predictions::new(&fit, data, h as u32, discount_rate));

    if args.json {
        writeln!(out, "{line}")?;
        if let Some(p) = &predictions {
            for i in 0..data.rows.len() {
                serde_json::to_writer(&mut *out, &p.line(data, i))?;
                writeln!(out)?;
            }
        }
        return Ok(());
    }

    writeln!(
        out,
        "BG/BB fitted on {} people in {} patterns ({} with a transaction after the first), over up to {max_n} opportunities",
        count(people),
        data.rows.len(),
        count(with_transactions)
    )?;
    if let Some(note) = note {
        writeln!(out, "{note}")?;
    }
    let names = ["alpha", "beta", "gamma", "delta"];
    super::write_params(out, &names, &line["params"], &line["std_errors"], 2)?;
    writeln!(
        out,
        "  (at each opportunity an active person transacts with a probability drawn from \
         Beta(alpha, beta), and drops out before it with one drawn from Beta(gamma, delta))"
    )?;
    write_convergence(out, stats(&fit), 0)?;
    if let (Some(rows), Some(h)) = (&predictions, args.predict) {
        writeln!(
            out,
            "\n{:<10} {:>3} {:>4} {:>3} {:>9} {:>20} {:>16} {:>12}",
            "Row",
            "x",
            "t_x",
            "n",
            "people",
            words::label("loyalty.p_alive"),
            format!("Expected in {h}"),
            format!("DERT at {}%", super::percent(discount_rate))
        )?;
        for i in 0..data.rows.len() {
            let row = rows.line(data, i);
            let f = |v: Option<f64>| match v.filter(|v| v.is_finite()) {
                Some(v) => format!("{v:.4}"),
                None => "—".to_owned(),
            };
            writeln!(
                out,
                "{:<10} {:>3} {:>4} {:>3} {:>9} {:>20} {:>16} {:>12}",
                row.id,
                row.frequency,
                row.recency,
                row.opportunities,
                count(row.weight),
                f(Some(row.p_alive)),
                f(Some(row.expected_transactions)),
                f(row.dert)
            )?;
        }
        writeln!(
            out,
            "(x transactions after the first in n opportunities, the last at t_x; expected \
             transactions in the next {h} opportunities; DERT: discounted expected transactions \
             still to come)"
        )?;
    }
    Ok(())
}

/// A count of people, whole when it is one ("3464", "12.5").
fn count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Per row: P(alive), expected transactions in the next `horizon` opportunities and the
/// discounted expected residual transactions, computed once per distinct pattern (a million
/// people one row each are a few dozen patterns) and made into a line when it is written.
struct Predictions {
    horizon: u32,
    discount_rate: f64,
    /// Per row, its pattern's index in `figures`.
    index: Vec<u32>,
    figures: Vec<Figures>,
}

/// A pattern's figures.
#[derive(Clone, Copy)]
struct Figures {
    p_alive: f64,
    p_alive_interval: Option<Interval>,
    expected_transactions: f64,
    expected_transactions_interval: Option<Interval>,
    dert: Option<f64>,
}

/// One row's line of `--predict`, its keys in the order the JSON has always had them.
#[derive(Serialize)]
struct RowLine<'a> {
    dert: Option<f64>,
    discount_rate: f64,
    expected_transactions: f64,
    expected_transactions_interval: Option<Interval>,
    frequency: u32,
    horizon: u32,
    id: &'a str,
    opportunities: u32,
    p_alive: f64,
    p_alive_interval: Option<Interval>,
    recency: u32,
    weight: f64,
}

impl Predictions {
    fn new(fit: &Fit<bgbb::Params>, data: &Patterns, horizon: u32, discount_rate: f64) -> Self {
        let params = &fit.params;
        let u = Uncertainty::of(fit);
        let interval = |scale, figure: &dyn Fn(&bgbb::Params) -> f64| {
            u.as_ref()?
                .interval(scale, |v| figure(&bgbb::Params::from_slice(v)))
        };
        let mut seen: HashMap<Pattern, u32> = HashMap::new();
        let mut figures = Vec::new();
        let index = data
            .rows
            .iter()
            .map(|(p, _)| {
                *seen.entry(*p).or_insert_with(|| {
                    figures.push(Figures {
                        p_alive: params.p_alive(p),
                        p_alive_interval: interval(Scale::Probability, &|m| m.p_alive(p)),
                        expected_transactions: params.expected_transactions(p, horizon),
                        expected_transactions_interval: interval(Scale::Positive, &|m| {
                            m.expected_transactions(p, horizon)
                        }),
                        dert: params.dert(p, discount_rate),
                    });
                    (figures.len() - 1) as u32
                })
            })
            .collect();
        Predictions {
            horizon,
            discount_rate,
            index,
            figures,
        }
    }

    /// Row `i`'s line.
    fn line<'a>(&self, data: &'a Patterns, i: usize) -> RowLine<'a> {
        let (p, weight) = data.rows[i];
        let f = self.figures[self.index[i] as usize];
        RowLine {
            dert: f.dert,
            discount_rate: self.discount_rate,
            expected_transactions: f.expected_transactions,
            expected_transactions_interval: f.expected_transactions_interval,
            frequency: p.frequency,
            horizon: self.horizon,
            id: &data.ids[i],
            opportunities: p.opportunities,
            p_alive: f.p_alive,
            p_alive_interval: f.p_alive_interval,
            recency: p.recency,
            weight,
        }
    }
}

/// Parses the weighted pattern form: `frequency`/`x`, `recency`/`t_x`,
/// `periods`/`n`/`n.cal`/`opportunities`, an optional weight (`weights`/`count`/`custs`/
/// `customers`, else 1 a row) and id (`ID`/`customer_id`, else the row number), in any case
/// and punctuation (BTYD's `x,t.x,n.cal,custs` reads). Every
/// value is checked here, so errors name the line and column.
fn parse(text: &str, name: &str) -> anyhow::Result<Patterns> {
    let mut data = Patterns::default();
    let columns = |csv: &Csv| -> anyhow::Result<_> {
        Ok((
            csv.require(&["frequency", "x"])?,
            csv.require(&["recency", "t_x"])?,
            csv.require(&["periods", "n", "n_periods", "opportunities", "n_cal"])?,
            csv.find(&["weights", "weight", "count", "customers", "custs", "people"]),
            csv.find(&ID_COLUMNS),
        ))
    };
    Csv::each(
        text,
        name,
        "frequency,recency,periods,weights",
        columns,
        |csv, c, row| {
            let (c_x, c_tx, c_n, c_w, c_id) = *c;
            let h = |c: usize| csv.header[c].as_str();
            let row = &row;
            let at = format!("{name} line {}", row.line);
            let x = csv.whole(row, c_x, "transactions")?;
            let tx = csv.whole(row, c_tx, "opportunities")?;
            let n = csv.whole(row, c_n, "opportunities")?;
            if n > MAX_PERIODS {
                bail!(
                    "{}: {n} opportunities are more than BG/BB takes here (at most {MAX_PERIODS}; it is meant for a few dozen, such as years)",
                    csv.at(row, c_n)
                );
            }
            if x > n {
                bail!(
                    "{at}: {} {x} is greater than the {n} opportunities ({}): at most one transaction per opportunity",
                    h(c_x),
                    h(c_n)
                );
            }
            if tx > n {
                bail!(
                    "{at}: {} {tx} is greater than {} {n} (the last transaction cannot come after the last opportunity)",
                    h(c_tx),
                    h(c_n)
                );
            }
            if x > tx {
                bail!(
                    "{at}: {} {x} is greater than {} {tx} (at most one transaction per opportunity, so x transactions need t_x of at least x)",
                    h(c_x),
                    h(c_tx)
                );
            }
            if x == 0 && tx > 0 {
                bail!(
                    "{at}: {} {tx} with {} 0 (with no transaction after the first, t_x must be 0)",
                    h(c_tx),
                    h(c_x)
                );
            }
            let weight = match c_w {
                Some(c) => csv.number(row, c)?,
                None => 1.0,
            };
            data.ids.push(row_id(row, c_id));
            // Every row is checked here as the model checks it, so a fit cannot fail at a
            // row and `origin` stays empty: a million "file line N" strings are not needed.
            data.rows.push((
                Pattern {
                    frequency: x,
                    recency: tx,
                    opportunities: n,
                },
                weight,
            ));
            Ok(())
        },
    )?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_form_with_weights_is_read() {
        let d = parse(
            "frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n",
            "d.csv",
        )
        .unwrap();
        assert_eq!(d.ids, vec!["1", "2"]);
        assert_eq!(d.rows[1].0.recency, 1);
        assert_eq!(d.rows[0].1, 3464.0);
    }

    #[test]
    fn btyds_donation_summary_with_dotted_names_is_read() {
        let d = parse("x,t.x,n.cal,custs\n6,6,6,1203\n0,0,6,3464\n", "rf.csv").unwrap();
        assert_eq!(d.rows[0].0.recency, 6);
        assert_eq!(d.rows[1].1, 3464.0);
    }

    #[test]
    fn one_row_per_person_without_weights_counts_one_each() {
        let d = parse("id,x,t_x,n\nA,2,4,6\nB,0,0,6\n", "p.csv").unwrap();
        assert_eq!(d.ids, vec!["A", "B"]);
        assert!(d.rows.iter().all(|(_, w)| *w == 1.0));
    }

    #[test]
    fn impossible_patterns_name_the_line() {
        let err = |t: &str| parse(t, "p.csv").err().unwrap().to_string();
        assert!(
            err("x,t_x,n\n1,1,6\n7,6,6\n")
                .starts_with("p.csv line 3: x 7 is greater than the 6 opportunities (n)")
        );
        assert!(err("x,t_x,n\n2,7,6\n").starts_with("p.csv line 2: t_x 7 is greater than n 6"));
        assert!(err("x,t_x,n\n3,2,6\n").starts_with("p.csv line 2: x 3 is greater than t_x 2"));
        assert!(err("x,t_x,n\n0,2,6\n").starts_with("p.csv line 2: t_x 2 with x 0"));
        assert_eq!(
            err("x,t_x,n\n1.5,2,6\n"),
            "p.csv line 2, column x: 1.5 is not a whole number of transactions"
        );
        assert_eq!(
            err("x,t_x,n,count\n1,2,6,-3\n"),
            "p.csv line 2, column count: -3 is negative"
        );
        assert!(err("x,t_x\n1,2\n").starts_with("p.csv has no periods column"));
    }
}
