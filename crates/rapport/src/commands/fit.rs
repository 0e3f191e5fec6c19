//! `rapport fit`: fits a repeat-buying model on the ledger's transactions (and stores it, so
//! `people` and `card` can show loyalty and value), or on a per-person summary CSV (to
//! compare with other tools). Optionally predicts per person, and checks the fit against a
//! holdout period with the papers' two charts.
//!
//! The statistics are the `models` crate's; this module only builds its input, names bad
//! input by file, line and column (or person), and prints or stores what comes back.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use domain::readings::words;
use domain::{Day, Timestamp};
use models::screen::LeftOut;
use models::{Fit, FitError, PurchaseModel, Summary, TimeUnit, bgnbd, gamma_gamma, pareto_nbd};
use serde_json::{Value, json};
use store::fits::StoredFit;

use crate::cli::FitArgs;
use crate::{ledger, moment};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    BgNbd,
    ParetoNbd,
    GammaGamma,
}

impl Model {
    fn parse(s: &str) -> anyhow::Result<Model> {
        match s {
            "bgnbd" => Ok(Model::BgNbd),
            "pareto-nbd" => Ok(Model::ParetoNbd),
            "gamma-gamma" => Ok(Model::GammaGamma),
            other => bail!("--model {other:?}: choose bgnbd, pareto-nbd or gamma-gamma"),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Model::BgNbd => "bgnbd",
            Model::ParetoNbd => "pareto-nbd",
            Model::GammaGamma => "gamma-gamma",
        }
    }

    /// Parameter names in their usual order.
    fn param_names(self) -> &'static [&'static str] {
        match self {
            Model::BgNbd => &["r", "alpha", "a", "b"],
            Model::ParetoNbd => &["r", "alpha", "s", "beta"],
            Model::GammaGamma => &["p", "q", "v"],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Model::BgNbd => "BG/NBD",
            Model::ParetoNbd => "Pareto/NBD",
            Model::GammaGamma => "Gamma-Gamma",
        }
    }
}

/// A fit of any of the three models.
enum Fitted {
    BgNbd(Fit<bgnbd::Params>),
    ParetoNbd(Fit<pareto_nbd::Params>),
    GammaGamma(Fit<gamma_gamma::Params>),
}

impl Fitted {
    fn params(&self) -> Value {
        match self {
            Fitted::BgNbd(f) => json!(f.params),
            Fitted::ParetoNbd(f) => json!(f.params),
            Fitted::GammaGamma(f) => json!(f.params),
        }
    }

    fn std_errors(&self) -> Value {
        match self {
            Fitted::BgNbd(f) => json!(f.std_errors),
            Fitted::ParetoNbd(f) => json!(f.std_errors),
            Fitted::GammaGamma(f) => json!(f.std_errors),
        }
    }

    /// (log-likelihood, iterations, gradient norm, converged)
    fn stats(&self) -> (f64, usize, f64, bool) {
        macro_rules! s {
            ($f:expr) => {
                (
                    $f.log_likelihood,
                    $f.iterations,
                    $f.gradient_norm,
                    $f.converged,
                )
            };
        }
        match self {
            Fitted::BgNbd(f) => s!(f),
            Fitted::ParetoNbd(f) => s!(f),
            Fitted::GammaGamma(f) => s!(f),
        }
    }

    /// The covariance of the log-parameters, stored so readings can give intervals.
    fn log_covariance(&self) -> &[f64] {
        match self {
            Fitted::BgNbd(f) => &f.log_covariance,
            Fitted::ParetoNbd(f) => &f.log_covariance,
            Fitted::GammaGamma(f) => &f.log_covariance,
        }
    }

    fn purchase_model(&self) -> Option<&(dyn PurchaseModel + Sync)> {
        match self {
            Fitted::BgNbd(f) => Some(&f.params),
            Fitted::ParetoNbd(f) => Some(&f.params),
            Fitted::GammaGamma(_) => None,
        }
    }
}

/// Per-person summaries and where each came from, for predictions and error messages.
#[derive(Default)]
struct Data {
    ids: Vec<String>,
    rows: Vec<Summary>,
    /// What to call row `i` in an error ("cdnow.csv line 17", "person P-000001").
    origin: Vec<String>,
    /// People of the ledger the model cannot take, with why: fitted without them.
    left_out: Vec<(String, LeftOut)>,
}

impl Data {
    /// Keeps the people `model` can take and lists the others as left out. Only for a
    /// ledger: a summary file with a row no model can take is an error at its line.
    fn screened(self, model: Model) -> Data {
        let s = models::screen::screen(&self.rows, model == Model::GammaGamma);
        let mut out = Data::default();
        for i in s.kept {
            out.ids.push(self.ids[i].clone());
            out.rows.push(self.rows[i]);
            out.origin.push(self.origin[i].clone());
        }
        out.left_out = s
            .left_out
            .into_iter()
            .map(|(i, why)| (self.ids[i].clone(), why))
            .collect();
        out
    }
}

fn fit_model(model: Model, data: &Data) -> anyhow::Result<Fitted> {
    let result = match model {
        Model::BgNbd => bgnbd::fit(&data.rows).map(Fitted::BgNbd),
        Model::ParetoNbd => pareto_nbd::fit(&data.rows).map(Fitted::ParetoNbd),
        Model::GammaGamma => gamma_gamma::fit(&data.rows).map(Fitted::GammaGamma),
    };
    result.map_err(|e| {
        let left_out = match data.left_out.len() {
            0 => String::new(),
            n => format!(" ({n} more left out, whom the model cannot take)"),
        };
        describe(e, &data.origin).context(format!(
            "cannot fit {} on {} people{left_out}",
            model.title(),
            data.rows.len()
        ))
    })
}

/// A model error in the user's terms: the row it names becomes a line or a person.
fn describe(e: FitError, origin: &[String]) -> anyhow::Error {
    let at = |i: usize| origin.get(i).cloned().unwrap_or_else(|| format!("row {i}"));
    match e {
        FitError::InvalidValue {
            index,
            field,
            value,
        } => anyhow!(
            "{}: {field} is {value}, expected a finite non-negative number",
            at(index)
        ),
        FitError::NonIntegerFrequency { index, value } => {
            anyhow!("{}: frequency {value} is not a whole number", at(index))
        }
        FitError::RecencyExceedsT { index, recency, t } => {
            anyhow!("{}: recency {recency} is greater than T {t}", at(index))
        }
        FitError::MissingMonetary { index } => {
            anyhow!(
                "{}: a repeat buyer without a monetary value (mean repeat spend)",
                at(index)
            )
        }
        FitError::NonPositiveMonetary { index, value } => anyhow!(
            "{}: mean repeat spend {value} must be positive for a repeat buyer",
            at(index)
        ),
        FitError::TooFewRepeatBuyers { found, required } => anyhow!(
            "too few repeat buyers to fit: {found} people bought more than once, at least {required} are needed"
        ),
        other => anyhow!("{other}"),
    }
}

pub fn run(db: &app::Location, args: &FitArgs) -> anyhow::Result<ExitCode> {
    let model = Model::parse(&args.model)?;
    if let Some(h) = args.predict
        && !(h.is_finite() && h > 0.0)
    {
        bail!("--predict {h}: the horizon must be a positive number of time units");
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match &args.summary {
        Some(path) => run_on_summary(path, model, args, &mut out)?,
        None => run_on_ledger(&ledger::open(db)?, model, args, &mut out)?,
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Fits `model` ("bgnbd", "gamma-gamma") on the whole ledger and stores it, printing nothing
/// (the demo does this so that its cards show loyalty and value).
pub fn fit_quietly(app: &app::App, model: &str) -> anyhow::Result<()> {
    let args = FitArgs {
        model: model.to_owned(),
        summary: None,
        calibration_end: None,
        as_of: None,
        unit: "weeks".to_owned(),
        predict: None,
        holdout_end: None,
        plot: None,
        json: true,
    };
    run_on_ledger(app, Model::parse(model)?, &args, &mut std::io::sink())
}

fn run_on_summary(
    path: &Path,
    model: Model,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let data = parse_summary(
        &text,
        &path.display().to_string(),
        model == Model::GammaGamma,
    )?;
    let fitted = fit_model(model, &data)?;
    let mut line = fit_json(model, &fitted, &data);
    line["source"] = json!({"summary": path.display().to_string()});
    line["unit"] = json!("as in the summary file");
    report(out, model, &fitted, &data, line, args, None)
}

fn run_on_ledger(
    app: &app::App,
    model: Model,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
    // A person whose history the model cannot take is left out and named, not allowed to
    // fail the fit for everyone.
    let data = data.screened(model);
    let events: u64 = data.rows.iter().map(|s| s.frequency as u64 + 1).sum();
    let fitted = fit_model(model, &data)?;

    let holdout = match &args.holdout_end {
        Some(text) => Some(holdout(
            text,
            &fitted,
            &people_tx,
            cal_day,
            unit,
            args.plot.as_deref(),
        )?),
        None => None,
    };

    let (ll, iterations, gradient_norm, converged) = fitted.stats();
    let unit_name = match unit {
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    };
    let stored = StoredFit {
        seq: 0,
        model: model.key().to_owned(),
        params: fitted.params(),
        std_errors: fitted.std_errors(),
        log_likelihood: ll,
        iterations: iterations as u64,
        gradient_norm,
        converged,
        fitted_at: Timestamp::now(),
        calibration_end: cal_end,
        unit: unit_name.to_owned(),
        events,
        people: data.rows.len() as u64,
        covariance: Some(fitted.log_covariance().to_vec()),
    };
    let seq = app
        .save_fit(&stored, &ledger::actor())
        .context("storing the fit")?;
    // Every reading of loyalty and value follows the new fit.
    ledger::keep_up(app)?;

    let mut line = fit_json(model, &fitted, &data);
    line["source"] = json!({"ledger": app.location().to_string()});
    line["unit"] = json!(unit_name);
    line["calibration_end"] = json!(cal_end.to_rfc3339());
    line["events"] = json!(events);
    line["fitted_at"] = json!(stored.fitted_at.to_rfc3339());
    line["stored"] = json!(seq);
    report(out, model, &fitted, &data, line, args, holdout)
}

fn holdout(
    text: &str,
    fitted: &Fitted,
    people_tx: &[Vec<(f64, f64)>],
    cal_day: Day,
    unit: TimeUnit,
    plot: Option<&Path>,
) -> anyhow::Result<models::holdout::HoldoutReport> {
    let Some(purchase) = fitted.purchase_model() else {
        bail!("--holdout-end checks purchase predictions: use it with --model bgnbd or pareto-nbd");
    };
    let end = Day::parse(text).map_err(|e| anyhow!("--holdout-end: {e}"))?;
    if end <= cal_day {
        bail!(
            "--holdout-end {} must be after the calibration end {}",
            end.date(),
            cal_day.date()
        );
    }
    let data = models::holdout::prepare(
        people_tx,
        f64::from(cal_day.days_since_epoch()),
        f64::from(end.days_since_epoch()),
        unit.days(),
    )
    .map_err(|e| anyhow!("building the holdout data: {e}"))?;
    let report = models::holdout::check(purchase, &data);
    if let Some(path) = plot {
        std::fs::write(path, models::holdout::svg(&report))
            .with_context(|| format!("writing the chart {}", path.display()))?;
    }
    Ok(report)
}

fn fit_json(model: Model, fitted: &Fitted, data: &Data) -> Value {
    let (ll, iterations, gradient_norm, converged) = fitted.stats();
    json!({
        "model": model.key(),
        "params": fitted.params(),
        "std_errors": fitted.std_errors(),
        "log_likelihood": ll,
        "convergence": {
            "iterations": iterations,
            "gradient_norm": gradient_norm,
            "converged": converged,
        },
        "people": data.rows.len(),
        "repeat_buyers": data.rows.iter().filter(|s| s.frequency > 0.0).count(),
        "left_out": data.left_out.len(),
        "left_out_people": data
            .left_out
            .iter()
            .map(|(id, why)| json!({ "id": id, "why": why.to_string() }))
            .collect::<Vec<_>>(),
    })
}

/// How many people a text report names of those left out; `--json` lists them all.
const LEFT_OUT_SHOWN: usize = 10;

/// "1 person left out, …: NG-3 has a negative spend (-15.00 per repeat purchase)".
fn left_out_sentence(left_out: &[(String, LeftOut)]) -> Option<String> {
    if left_out.is_empty() {
        return None;
    }
    let n = left_out.len();
    let mut s = format!(
        "{n} {} left out, whom the model cannot take: ",
        if n == 1 { "person" } else { "people" }
    );
    let named: Vec<String> = left_out
        .iter()
        .take(LEFT_OUT_SHOWN)
        .map(|(id, why)| format!("{id} {why}"))
        .collect();
    s.push_str(&named.join("; "));
    if n > LEFT_OUT_SHOWN {
        s.push_str(&format!(
            "; … and {} more (all in --json)",
            n - LEFT_OUT_SHOWN
        ));
    }
    Some(s)
}

/// Prints the fit (and holdout check and predictions) as JSON Lines or text.
fn report(
    out: &mut impl Write,
    model: Model,
    fitted: &Fitted,
    data: &Data,
    mut line: Value,
    args: &FitArgs,
    holdout: Option<models::holdout::HoldoutReport>,
) -> anyhow::Result<()> {
    // Gamma-Gamma predicts spend only; purchases come from a BG/NBD on the same summaries.
    let purchase_for_gg = match (model, args.predict) {
        (Model::GammaGamma, Some(_)) => bgnbd::fit(&data.rows).ok(),
        _ => None,
    };
    if model == Model::GammaGamma && args.predict.is_some() {
        line["predictions_purchase_model"] = match &purchase_for_gg {
            Some(_) => json!("bgnbd fitted on the same summaries"),
            None => json!(null),
        };
    }
    let predictions = args
        .predict
        .map(|h| predict(fitted, purchase_for_gg, data, h));

    if args.json {
        writeln!(out, "{line}")?;
        if let Some(h) = &holdout {
            writeln!(out, "{}", json!({ "holdout": h }))?;
        }
        if let Some(p) = &predictions {
            for row in p {
                writeln!(out, "{row}")?;
            }
        }
        return Ok(());
    }

    let (ll, iterations, gradient_norm, _) = fitted.stats();
    writeln!(
        out,
        "{} fitted on {} people ({} with repeat purchases), time unit: {}",
        model.title(),
        line["people"],
        line["repeat_buyers"],
        line["unit"].as_str().unwrap_or("")
    )?;
    if let Some(sentence) = left_out_sentence(&data.left_out) {
        writeln!(out, "{sentence}")?;
    }
    if let Some(end) = line["calibration_end"].as_str() {
        writeln!(
            out,
            "calibration up to {end}, {} purchase days",
            line["events"]
        )?;
    }
    let params = fitted.params();
    let errors = fitted.std_errors();
    {
        for name in model.param_names() {
            let v = &params[name];
            let se = errors[name].as_f64();
            writeln!(
                out,
                "  {name:<6} {:>12.4} ± {}",
                v.as_f64().unwrap_or(f64::NAN),
                se.map_or_else(|| "—".to_owned(), |s| format!("{s:.4}"))
            )?;
        }
    }
    writeln!(out, "log-likelihood {ll:.2}")?;
    writeln!(
        out,
        "converged after {iterations} iterations (gradient norm {gradient_norm:.1e})"
    )?;
    if let Some(seq) = line["stored"].as_i64() {
        let next = match model {
            Model::BgNbd => "`rapport people` and `rapport card` now show loyalty",
            Model::GammaGamma => "`rapport people` and `rapport card` now show value",
            Model::ParetoNbd => "readings use the latest BG/NBD fit, not this one",
        };
        writeln!(out, "stored in the ledger as fit {seq}; {next}")?;
    }
    if let Some(h) = &holdout {
        write_holdout(out, h)?;
    }
    if let Some(p) = &predictions {
        writeln!(
            out,
            "\n{:<16} {:>20} {:>19} {:>18}",
            "Person",
            words::label("loyalty.p_alive"),
            "Expected purchases",
            words::label("value.expected_spend")
        )?;
        for row in p {
            let f = |k: &str| {
                row[k]
                    .as_f64()
                    .map_or_else(|| "—".to_owned(), |v| format!("{v:.4}"))
            };
            writeln!(
                out,
                "{:<16} {:>20} {:>19} {:>18}",
                row["id"].as_str().unwrap_or(""),
                f("p_alive"),
                f("expected_purchases"),
                f("expected_spend")
            )?;
        }
    }
    Ok(())
}

fn predict(
    fitted: &Fitted,
    purchase_for_gg: Option<Fit<bgnbd::Params>>,
    data: &Data,
    horizon: f64,
) -> Vec<Value> {
    let purchases = match (fitted, &purchase_for_gg) {
        (Fitted::BgNbd(f), _) => Some(f.params.predict(&data.rows, horizon)),
        (Fitted::ParetoNbd(f), _) => Some(f.params.predict(&data.rows, horizon)),
        (Fitted::GammaGamma(_), Some(bg)) => Some(bg.params.predict(&data.rows, horizon)),
        (Fitted::GammaGamma(_), None) => None,
    };
    data.ids
        .iter()
        .zip(&data.rows)
        .enumerate()
        .map(|(i, (id, s))| {
            let mut row = json!({ "id": id });
            if let Some(p) = &purchases {
                row["p_alive"] = json!(p[i].p_alive);
                row["expected_purchases"] = json!(p[i].expected_purchases);
            }
            if let Fitted::GammaGamma(g) = fitted {
                row["expected_spend"] = json!(g.params.expected_spend(s));
            }
            row
        })
        .collect()
}

fn write_holdout(out: &mut impl Write, h: &models::holdout::HoldoutReport) -> std::io::Result<()> {
    writeln!(
        out,
        "\nholdout check ({}): {} people, {:.1} {} of holdout",
        h.model,
        h.people,
        h.holdout_length,
        if h.days_per_unit == 1.0 {
            "days"
        } else {
            "weeks"
        }
    )?;
    writeln!(
        out,
        "  holdout purchases: actual {:.0}, predicted {:.1}; correlation per person {}",
        h.actual_total,
        h.predicted_total,
        h.correlation
            .map_or_else(|| "—".to_owned(), |c| format!("{c:.3}"))
    )?;
    writeln!(
        out,
        "  {:<22} {:>7} {:>14} {:>16}",
        "calibration purchases", "people", "mean actual", "mean predicted"
    )?;
    for b in &h.by_frequency {
        let label = if b.open_ended {
            format!("{}+", b.frequency)
        } else {
            b.frequency.to_string()
        };
        writeln!(
            out,
            "  {label:<22} {:>7} {:>14.3} {:>16.3}",
            b.people, b.mean_actual, b.mean_predicted
        )?;
    }
    writeln!(
        out,
        "  cumulative repeat purchases (every 4th step; all in --json):"
    )?;
    writeln!(out, "  {:>8} {:>10} {:>10}", "time", "actual", "predicted")?;
    let n = h.tracking.len();
    for (i, p) in h.tracking.iter().enumerate() {
        if i % 4 == 0 || i + 1 == n {
            writeln!(
                out,
                "  {:>8.1} {:>10.0} {:>10.1}",
                p.t, p.actual, p.predicted
            )?;
        }
    }
    Ok(())
}

/// Parses a lifetimes-style per-person summary CSV. Needs `frequency`/`x`, `recency`/`t_x`
/// and `T` (and `monetary_value`/`zbar` for Gamma-Gamma); the id is `ID`/`id`/`customer_id`,
/// else the row number. Every value is checked here so errors name the line and column.
fn parse_summary(text: &str, name: &str, need_monetary: bool) -> anyhow::Result<Data> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow!("{name}: not a CSV file: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.iter().all(String::is_empty) {
        bail!("{name} is empty: expected a header such as ID,frequency,recency,T");
    }
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let require = |names: &[&str]| {
        find(names).ok_or_else(|| {
            anyhow!(
                "{name} has no {} column{}; its columns are: {}",
                names[0],
                if names.len() > 1 {
                    format!(" (nor {})", names[1..].join(", "))
                } else {
                    String::new()
                },
                header.join(", ")
            )
        })
    };
    let c_freq = require(&["frequency", "x"])?;
    let c_rec = require(&["recency", "t_x"])?;
    let c_t = require(&["T"])?;
    let c_mon = if need_monetary {
        Some(require(&["monetary_value", "zbar", "monetary"])?)
    } else {
        None
    };
    let c_id = find(&["ID", "id", "customer_id"]);

    let mut data = Data::default();
    for (row_no, record) in reader.records().enumerate() {
        let record = record.map_err(|e| anyhow!("{name}: {e}"))?;
        let line_no = record.position().map_or(row_no as u64 + 2, |p| p.line());
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let value = |c: usize| -> anyhow::Result<f64> {
            let raw = cells.get(c).map(String::as_str).unwrap_or("");
            let col = &header[c];
            let v: f64 = raw.parse().map_err(|_| {
                anyhow!("{name} line {line_no}, column {col}: {raw:?} is not a number")
            })?;
            if !v.is_finite() {
                bail!("{name} line {line_no}, column {col}: {raw:?} is not a finite number");
            }
            if v < 0.0 {
                bail!("{name} line {line_no}, column {col}: {raw} is negative");
            }
            Ok(v)
        };
        let frequency = value(c_freq)?;
        let recency = value(c_rec)?;
        let t = value(c_t)?;
        if frequency.fract() != 0.0 {
            bail!(
                "{name} line {line_no}, column {}: {frequency} is not a whole number of repeat purchases",
                header[c_freq]
            );
        }
        if recency > t {
            bail!(
                "{name} line {line_no}: {} {recency} is greater than T {t} (the last purchase cannot come after the end of the period)",
                header[c_rec]
            );
        }
        let monetary = match c_mon {
            Some(c) => {
                let m = value(c)?;
                if frequency > 0.0 && m <= 0.0 {
                    bail!(
                        "{name} line {line_no}, column {}: {m} must be positive for a repeat buyer",
                        header[c]
                    );
                }
                (frequency > 0.0).then_some(m)
            }
            None => None,
        };
        let id = c_id
            .and_then(|c| cells.get(c).cloned())
            .unwrap_or_else(|| (row_no + 1).to_string());
        data.ids.push(id);
        data.origin.push(format!("{name} line {line_no}"));
        data.rows.push(Summary {
            frequency,
            recency,
            t,
            monetary,
        });
    }
    if data.rows.is_empty() {
        bail!("{name} has a header but no rows");
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_with_lifetimes_columns_is_read_with_ids() {
        let d = parse_summary(
            "ID,frequency,recency,T\n7,2,30.43,38.86\n9,0,0,38.86\n",
            "s",
            false,
        )
        .unwrap();
        assert_eq!(d.ids, vec!["7", "9"]);
        assert_eq!(d.rows[0].frequency, 2.0);
        assert_eq!(d.origin[1], "s line 3");
    }

    #[test]
    fn the_paper_columns_and_row_numbers_work_too() {
        let d = parse_summary("x,t_x,T,zbar\n1,2,3,10\n0,0,3,0\n", "s", true).unwrap();
        assert_eq!(d.ids, vec!["1", "2"]);
        assert_eq!(d.rows[0].monetary, Some(10.0));
        assert_eq!(d.rows[1].monetary, None);
    }

    #[test]
    fn bad_summary_values_name_the_line_and_column() {
        let err = |t: &str| parse_summary(t, "s.csv", true).err().unwrap().to_string();
        assert_eq!(
            err("x,t_x,T,zbar\n1,2,3,abc\n"),
            "s.csv line 2, column zbar: \"abc\" is not a number"
        );
        assert_eq!(
            err("x,t_x,T,zbar\n1,2,3,4\n-1,2,3,4\n"),
            "s.csv line 3, column x: -1 is negative"
        );
        assert!(
            err("x,t_x,T,zbar\n1,5,3,4\n").starts_with("s.csv line 2: t_x 5 is greater than T 3")
        );
        assert!(err("x,t_x,T\n1,2,3\n").starts_with("s.csv has no monetary_value column"));
    }
}
