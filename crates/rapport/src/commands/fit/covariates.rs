//! `rapport fit --model pareto-nbd|bgnbd --covariates FILE`: the two models with static
//! covariates (CLVTools' exponential links, `models::covariates`), on a per-person summary or
//! on the ledger, each person with their own parameters from a file of their attributes.
//!
//! It exists apart from the plain fit because it reads a second file and must name every way
//! that file can disagree with the people fitted (a person missing, an id twice, a cell that
//! is empty or not a number, a column the same for everyone) by file, line and column.
//!
//! Nothing is stored: the ledger's fits hold one set of parameters for everyone, and a card
//! using a covariate fit would need each person's covariates, which the ledger does not hold.
//! Storing would need a change of the store's schema, so the output says the fit is not
//! stored. `--holdout-end` and `--compare` are refused for the same reason: both predict with
//! one set of parameters for everyone.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use domain::Day;
use domain::readings::words;
use models::covariates::{self, Column, CovariateError, CovariateFit, Design, Linked};
use models::{TimeUnit, bgnbd, pareto_nbd};
use serde_json::{Value, json};

use super::{
    Choice, Csv, Data, ID_COLUMNS, Model, convergence_json, describe, left_out_sentence,
    parse_summary, write_convergence, write_params,
};
use crate::cli::FitArgs;
use crate::{ledger, moment};

/// Why a covariate fit is never stored, said in the output and the JSON.
const NOT_STORED: &str = "not stored: the ledger keeps fits with one set of parameters for everyone, and the cards \
     would need each person's covariates, which the ledger does not hold";

pub(super) fn run(
    db: &app::Location,
    choice: Choice,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let Some(path) = &args.covariates else {
        bail!("--covariates needs a file");
    };
    let model = match choice {
        Choice::Person(m @ (Model::ParetoNbd | Model::BgNbd)) => m,
        _ => bail!(
            "--covariates works with --model pareto-nbd or bgnbd (the models CLVTools gives static covariates), not with --model {}",
            args.model.as_deref().unwrap_or("")
        ),
    };
    if args.holdout_end.is_some() {
        bail!(
            "--holdout-end cannot be used with --covariates: the holdout check predicts with one set of parameters for everyone, and a fit with covariates gives each person their own"
        );
    }
    // `--covariates ledger`: the attributes the ledger holds, as of the calibration end.
    let from_ledger = path.as_os_str() == "ledger";
    let app = if args.summary.is_none() || from_ledger {
        Some(ledger::open(db)?)
    } else {
        None
    };
    let (data, mut line) = match &args.summary {
        Some(summary) => {
            let name = summary.display().to_string();
            let text =
                std::fs::read_to_string(summary).with_context(|| format!("reading {name}"))?;
            let data = parse_summary(&text, &name, false)?;
            let line = json!({
                "source": { "summary": name },
                "unit": "as in the summary file",
            });
            (data, line)
        }
        None => ledger_data(app.as_ref().expect("opened above"), model, args)?,
    };
    let table = match &app {
        Some(app) if from_ledger => {
            let as_of = match &args.calibration_end {
                Some(text) => Day::parse(text)
                    .map_err(|e| anyhow!("--calibration-end: {e}"))?
                    .end(),
                None => moment::as_of(args.as_of.as_deref())?,
            };
            Table::from_ledger(app, as_of)?
        }
        _ => Table::read(path)?,
    };
    let design = table.design(&data, args.life.as_deref(), args.trans.as_deref())?;
    line["model"] = json!(model.key());
    line["covariates"] = json!({
        "file": table.csv.name,
        "life": design.life().iter().map(|c| &c.name).collect::<Vec<_>>(),
        "trans": design.trans().iter().map(|c| &c.name).collect::<Vec<_>>(),
    });
    match model {
        Model::ParetoNbd => {
            fit_and_report::<pareto_nbd::Params>(model, &data, &design, line, args, out)
        }
        _ => fit_and_report::<bgnbd::Params>(model, &data, &design, line, args, out),
    }
}

/// The ledger's people as summaries, as `rapport fit` builds them, without storing anything;
/// people the model cannot take are left out and named.
fn ledger_data(app: &app::App, model: Model, args: &FitArgs) -> anyhow::Result<(Data, Value)> {
    let unit = match args.unit.as_str() {
        "days" => TimeUnit::Days,
        _ => TimeUnit::Weeks,
    };
    let (cal_day, cal_end) = match &args.calibration_end {
        Some(text) => {
            let day = Day::parse(text).map_err(|e| anyhow!("--calibration-end: {e}"))?;
            (day, day.end())
        }
        None => {
            let t = moment::as_of(args.as_of.as_deref())?;
            (t.day(), t)
        }
    };
    let (people, people_tx) = app.transactions().context("reading the ledger")?;
    let Some(first) = people_tx
        .iter()
        .flatten()
        .map(|t| t.0)
        .min_by(f64::total_cmp)
    else {
        bail!(
            "{} has no transactions (order.placed, or invoice.issued) to fit on",
            app.describe()
        );
    };
    let cal = f64::from(cal_day.days_since_epoch());
    if cal < first {
        bail!(
            "the calibration end {} is before the first transaction ({})",
            cal_day.date(),
            Day::from_days(first as i32).date()
        );
    }
    let mut data = Data::default();
    for (person, tx) in people.iter().zip(&people_tx) {
        let summary = models::summary::summarize(tx, cal, unit.days())
            .map_err(|e| anyhow!("person {person}: {e}"))?;
        if let Some(s) = summary {
            data.ids.push(person.to_string());
            data.origin.push(format!("person {person}"));
            data.rows.push(s);
        }
    }
    let data = data.screened(model);
    let line = json!({
        "source": { "ledger": app.location().to_string() },
        "unit": match unit {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
        },
        "calibration_end": cal_end.to_rfc3339(),
    });
    Ok((data, line))
}

/// The covariates file: its id column and every person's row.
struct Table {
    csv: Csv,
    id: usize,
    /// Row (index into `csv.rows`) by person id.
    by_id: HashMap<String, usize>,
}

impl Table {
    fn read(path: &Path) -> anyhow::Result<Table> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
        Table::parse(&text, &name)
    }

    /// The attributes the ledger holds as of `as_of` (`rapport covariates` writes the same
    /// table), without the columns nobody differs on.
    fn from_ledger(app: &app::App, as_of: domain::Timestamp) -> anyhow::Result<Table> {
        let (people, table) = app.covariates(as_of).context("reading the ledger")?;
        if table.columns.is_empty() {
            bail!(
                "nobody in {} differs on anything the ledger holds by {} ({}): there are no \
                 covariates to fit; give a file of attributes instead",
                app.describe(),
                as_of.day().date(),
                table
                    .constant
                    .iter()
                    .map(|(_, why)| why.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        // Written and read back as the CSV `rapport covariates` gives, so both are checked
        // alike (and an id with a comma in it is quoted).
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = std::iter::once("person").chain(table.columns.iter().map(String::as_str));
        w.write_record(header)?;
        for (person, row) in people.iter().zip(&table.rows) {
            let cells = row.iter().map(|v| v.to_string());
            w.write_record(std::iter::once(person.to_string()).chain(cells))?;
        }
        let text = String::from_utf8(w.into_inner().map_err(|e| anyhow!("{e}"))?)?;
        let name = format!(
            "the ledger's covariates as of {} (`rapport covariates --as-of {}`)",
            as_of.day().date(),
            as_of.day().date()
        );
        Table::parse(&text, &name)
    }

    fn parse(text: &str, name: &str) -> anyhow::Result<Table> {
        let name = name.to_owned();
        let csv = Csv::read(text, &name, "id,age,member")?;
        let names: Vec<&str> = ID_COLUMNS.to_vec();
        let id = csv.find(&names).ok_or_else(|| {
            anyhow!(
                "{name} has no id column ({}); its columns are: {}",
                names.join(", "),
                csv.header.join(", ")
            )
        })?;
        if csv.header.len() < 2 {
            bail!(
                "{name} has an id column and no covariates: add a column of numbers per attribute"
            );
        }
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (k, row) in csv.rows.iter().enumerate() {
            let person = row.cell(id);
            if person.is_empty() {
                bail!("{}: the id is empty", csv.at(row, id));
            }
            if let Some(&before) = by_id.get(person) {
                bail!(
                    "{}: person {person} appears twice (first on line {}); give each person one row",
                    csv.at(row, id),
                    csv.rows[before].line
                );
            }
            by_id.insert(person.to_owned(), k);
        }
        Ok(Table { csv, id, by_id })
    }

    /// The covariate columns (every column but the id), by name.
    fn columns(&self) -> Vec<&str> {
        self.csv
            .header
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != self.id)
            .map(|(_, h)| h.as_str())
            .collect()
    }

    /// The columns `--life` or `--trans` names: all of them when not given, none for `none`.
    fn select(&self, flag: &str, given: Option<&str>) -> anyhow::Result<Vec<usize>> {
        let all = self.columns();
        let Some(given) = given else {
            return Ok(all.iter().filter_map(|n| self.column(n)).collect());
        };
        if given.trim() == "none" {
            return Ok(Vec::new());
        }
        let mut chosen = Vec::new();
        for name in given.split(',').map(str::trim) {
            if name.is_empty() {
                bail!(
                    "--{flag} {given:?}: an empty column name (separate names with commas, or give none)"
                );
            }
            let Some(c) = self.column(name) else {
                bail!(
                    "--{flag} {name}: {} has no covariate column {name}; its covariate columns are: {}",
                    self.csv.name,
                    all.join(", ")
                );
            };
            if chosen.contains(&c) {
                bail!("--{flag} names {name} twice");
            }
            chosen.push(c);
        }
        Ok(chosen)
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.csv
            .header
            .iter()
            .enumerate()
            .position(|(c, h)| c != self.id && h == name)
    }

    /// Each fitted person's covariates in the chosen columns, checked.
    fn design(
        &self,
        data: &Data,
        life: Option<&str>,
        trans: Option<&str>,
    ) -> anyhow::Result<Design> {
        let name = &self.csv.name;
        let (life, trans) = (self.select("life", life)?, self.select("trans", trans)?);
        if life.is_empty() && trans.is_empty() {
            bail!("--life none and --trans none leave no covariates: fit without --covariates");
        }
        // Every fitted person's row, or an error naming the first one missing.
        let mut rows = Vec::with_capacity(data.ids.len());
        let mut missing = data
            .ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !self.by_id.contains_key(*id));
        if let Some((i, id)) = missing.next() {
            let origin = data.origin_of(i);
            let more = missing.count();
            bail!(
                "{name} has no row for person {id} ({origin}){}: every person fitted needs covariates",
                if more > 0 {
                    format!(", nor for {more} more")
                } else {
                    String::new()
                }
            );
        }
        for id in &data.ids {
            rows.push(&self.csv.rows[self.by_id[id]]);
        }
        let mut used: Vec<usize> = life.iter().chain(&trans).copied().collect();
        used.sort_unstable();
        used.dedup();
        let mut values: HashMap<usize, Vec<f64>> = HashMap::new();
        for &c in &used {
            let mut column = Vec::with_capacity(rows.len());
            for row in &rows {
                column.push(self.number(row, c)?);
            }
            if let Some(&first) = column.first()
                && column.iter().all(|&v| v == first)
            {
                bail!(
                    "{name}, column {}: every person fitted has the value {first}, so its effect cannot be estimated; leave it out with --life and --trans",
                    self.csv.header[c]
                );
            }
            values.insert(c, column);
        }
        let columns = |chosen: &[usize]| -> Vec<Column> {
            chosen
                .iter()
                .map(|&c| Column {
                    name: self.csv.header[c].clone(),
                    values: values[&c].clone(),
                })
                .collect()
        };
        Design::new(data.ids.len(), columns(&life), columns(&trans))
            .map_err(|e| anyhow!("{name}: {e}"))
    }

    /// A covariate cell: any finite number, negative ones too.
    fn number(&self, row: &super::Row, c: usize) -> anyhow::Result<f64> {
        let raw = row.cell(c);
        if raw.is_empty() {
            bail!(
                "{}: the cell is empty; every person fitted needs a value (there is no default for a missing attribute)",
                self.csv.at(row, c)
            );
        }
        let v: f64 = raw
            .parse()
            .map_err(|_| anyhow!("{}: {raw:?} is not a number", self.csv.at(row, c)))?;
        if !v.is_finite() {
            bail!("{}: {raw:?} is not a finite number", self.csv.at(row, c));
        }
        Ok(v)
    }
}

/// What a positive coefficient means, by process and model.
fn meaning(model: Model, life: bool) -> &'static str {
    match (model, life) {
        (_, false) => "positive: more purchases while alive",
        (Model::ParetoNbd, true) => "positive: a higher dropout rate, shorter lifetimes",
        (_, true) => {
            "positive: dropout probabilities more alike across people, their mean unchanged"
        }
    }
}

fn fit_and_report<P: Linked + serde::Serialize>(
    model: Model,
    data: &Data,
    design: &Design,
    mut line: Value,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let fit = covariates::fit::<P>(&data.rows, design).map_err(|e| {
        let left_out = match data.left_out.len() {
            0 => String::new(),
            n => format!(" ({n} more left out, whom the model cannot take)"),
        };
        covariate_error(e, data).context(format!(
            "cannot fit {} with covariates on {} people{left_out}",
            model.title(),
            data.rows.len()
        ))
    })?;
    let predictions = match args.predict {
        Some(h) => Some(predict(&fit, data, design, h)?),
        None => None,
    };
    let stats = (
        fit.log_likelihood,
        fit.iterations,
        fit.gradient_norm,
        fit.converged,
    );
    line["params"] = json!(fit.params);
    line["std_errors"] = json!(fit.std_errors);
    line["coefficients"] = json!({ "life": fit.life, "trans": fit.trans });
    line["log_likelihood"] = json!(fit.log_likelihood);
    line["convergence"] = convergence_json(stats);
    line["people"] = json!(data.rows.len());
    line["repeat_buyers"] = json!(data.rows.iter().filter(|s| s.frequency > 0.0).count());
    line["left_out"] = json!(data.left_out.len());
    line["left_out_people"] = data
        .left_out
        .iter()
        .map(|(id, why)| json!({ "id": id, "why": why.to_string() }))
        .collect();
    line["stored"] = json!(false);
    line["not_stored"] = json!(NOT_STORED);

    if args.json {
        writeln!(out, "{line}")?;
        for row in predictions.iter().flatten() {
            writeln!(out, "{row}")?;
        }
        return Ok(());
    }

    writeln!(
        out,
        "{} with covariates fitted on {} people ({} with repeat purchases), time unit: {}",
        model.title(),
        line["people"],
        line["repeat_buyers"],
        line["unit"].as_str().unwrap_or("")
    )?;
    if let Some(sentence) = left_out_sentence(&data.left_out) {
        writeln!(out, "{sentence}")?;
    }
    if let Some(end) = line["calibration_end"].as_str() {
        writeln!(out, "calibration up to {end}")?;
    }
    writeln!(
        out,
        "covariates from {}",
        line["covariates"]["file"].as_str().unwrap_or("")
    )?;
    writeln!(
        out,
        "base parameters (a person whose covariates are all zero):"
    )?;
    write_params(
        out,
        model.param_names(),
        &line["params"],
        &line["std_errors"],
        2,
    )?;
    for (title, coefficients, life) in [
        ("lifetime", &fit.life, true),
        ("purchase", &fit.trans, false),
    ] {
        if coefficients.is_empty() {
            writeln!(out, "{title} coefficients: none")?;
            continue;
        }
        writeln!(out, "{title} coefficients ({}):", meaning(model, life))?;
        let width = coefficients
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        for c in coefficients {
            writeln!(
                out,
                "  {:<width$} {:>12.4} ± {:.4}",
                c.name, c.value, c.std_error
            )?;
        }
    }
    write_convergence(out, stats, 0)?;
    writeln!(out, "{NOT_STORED}")?;
    if let Some(rows) = &predictions {
        writeln!(
            out,
            "\n{:<16} {:>26} {:>26}",
            "Person",
            words::label("loyalty.p_alive"),
            "Expected purchases"
        )?;
        for row in rows {
            let f = |k: &str| {
                let Some(v) = row[k].as_f64() else {
                    return "—".to_owned();
                };
                let i = &row[format!("{k}_interval")];
                match (i["low"].as_f64(), i["high"].as_f64()) {
                    (Some(lo), Some(hi)) if lo < hi => format!("{v:.4} ({lo:.2} to {hi:.2})"),
                    _ => format!("{v:.4}"),
                }
            };
            writeln!(
                out,
                "{:<16} {:>26} {:>26}",
                row["id"].as_str().unwrap_or(""),
                f("p_alive"),
                f("expected_purchases")
            )?;
        }
        writeln!(
            out,
            "(in brackets: 90 % intervals from the uncertainty of the base parameters and the coefficients together)"
        )?;
    }
    Ok(())
}

/// A model error in the user's terms: a row index becomes a line of the summary or a person.
fn covariate_error(e: CovariateError, data: &Data) -> anyhow::Error {
    match e {
        CovariateError::Fit(e) => describe(e, |i| data.origin_of(i)),
        CovariateError::Overflow {
            index,
            parameter,
            log_value,
        } => anyhow!(
            "{}: the covariates put ln {parameter} at {log_value:.1}, beyond what can be computed; is one of this person's covariates far outside the others?",
            data.origin_of(index)
        ),
        other => anyhow!("{other}"),
    }
}

/// Each person's figures with their own parameters, as JSON rows like the plain fit's.
fn predict<P: Linked>(
    fit: &CovariateFit<P>,
    data: &Data,
    design: &Design,
    horizon: f64,
) -> anyhow::Result<Vec<Value>> {
    let predictions = fit
        .predict(&data.rows, design, horizon)
        .map_err(|e| covariate_error(e, data))?;
    Ok(data
        .ids
        .iter()
        .zip(&predictions)
        .map(|(id, (figures, intervals))| {
            json!({
                "id": id,
                "p_alive": figures.p_alive,
                "p_alive_interval": intervals.p_alive,
                "expected_purchases": figures.expected_purchases,
                "expected_purchases_interval": intervals.expected_purchases,
            })
        })
        .collect())
}
