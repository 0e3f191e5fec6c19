//! `rapport fit`: fits a repeat-buying model on the ledger's transactions (and stores it, so
//! `people` and `card` can show loyalty and value), or on a per-person summary CSV (to
//! compare with other tools). Optionally predicts per person, and checks the fit against a
//! holdout period with the papers' two charts.
//!
//! Two families are not purchase models: BG/BB for transactions at discrete opportunities
//! ([`opportunities`]: calendar periods of the ledger, or a pattern file), and the sBG and
//! BdW retention models ([`retention`]: the ledger's contracts, or cohorts' survivors or
//! customers' tenures).
//!
//! The statistics are the `models` crate's; this module only builds its input, names bad
//! input by file, line and column (or person), and prints or stores what comes back.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use domain::readings::words;
use domain::{Day, Timestamp};
use models::interval::{self, Interval, Parameters, PredictionIntervals, Scale, Uncertainty};
use models::screen::LeftOut;
use models::{
    Fit, FitError, Prediction, PurchaseModel, Summary, TimeUnit, bgnbd, gamma_gamma, ggompertz_nbd,
    mbgnbd, pareto_nbd,
};
use serde::Serialize;
use serde_json::{Value, json};
use store::fits::StoredFit;

use crate::cli::FitArgs;
use crate::{ledger, moment};

mod compare;
mod covariates;
mod opportunities;
mod retention;

/// What `--model` names: a model of people's purchases or spend (on the ledger or a
/// per-person summary), BG/BB, or a retention model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Person(Model),
    Bgbb,
    Retention(retention::Kind),
}

impl Choice {
    fn parse(s: &str) -> anyhow::Result<Choice> {
        Ok(match s {
            "bgnbd" => Choice::Person(Model::BgNbd),
            "pareto-nbd" => Choice::Person(Model::ParetoNbd),
            "gamma-gamma" => Choice::Person(Model::GammaGamma),
            "mbgnbd" => Choice::Person(Model::MbgNbd),
            "ggompertz-nbd" => Choice::Person(Model::GGompertzNbd),
            "bgbb" => Choice::Bgbb,
            "sbg" => Choice::Retention(retention::Kind::Sbg),
            "bdw" => Choice::Retention(retention::Kind::Bdw),
            other => bail!(
                "--model {other:?}: choose bgnbd, pareto-nbd, mbgnbd, ggompertz-nbd, gamma-gamma, \
                 bgbb, sbg or bdw"
            ),
        })
    }
}

/// A model fitted per person, on the ledger or a per-person summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    BgNbd,
    ParetoNbd,
    GammaGamma,
    MbgNbd,
    GGompertzNbd,
}

impl Model {
    fn parse(s: &str) -> anyhow::Result<Model> {
        match Choice::parse(s)? {
            Choice::Person(m) => Ok(m),
            _ => bail!("--model {s:?} is not fitted per person"),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Model::BgNbd => "bgnbd",
            Model::ParetoNbd => "pareto-nbd",
            Model::GammaGamma => "gamma-gamma",
            Model::MbgNbd => "mbgnbd",
            Model::GGompertzNbd => "ggompertz-nbd",
        }
    }

    /// Parameter names in their usual order.
    fn param_names(self) -> &'static [&'static str] {
        match self {
            Model::BgNbd | Model::MbgNbd => &["r", "alpha", "a", "b"],
            Model::ParetoNbd => &["r", "alpha", "s", "beta"],
            Model::GammaGamma => &["p", "q", "v"],
            Model::GGompertzNbd => &["r", "alpha", "b", "s", "beta"],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Model::BgNbd => "BG/NBD",
            Model::ParetoNbd => "Pareto/NBD",
            Model::GammaGamma => "Gamma-Gamma",
            Model::MbgNbd => "MBG/NBD",
            Model::GGompertzNbd => "GGompertz/NBD",
        }
    }
}

/// A fit of any of the per-person models.
enum Fitted {
    BgNbd(Fit<bgnbd::Params>),
    ParetoNbd(Fit<pareto_nbd::Params>),
    GammaGamma(Fit<gamma_gamma::Params>),
    MbgNbd(Fit<mbgnbd::Params>),
    GGompertzNbd(Fit<ggompertz_nbd::Params>),
}

impl Fitted {
    fn params(&self) -> Value {
        match self {
            Fitted::BgNbd(f) => json!(f.params),
            Fitted::ParetoNbd(f) => json!(f.params),
            Fitted::GammaGamma(f) => json!(f.params),
            Fitted::MbgNbd(f) => json!(f.params),
            Fitted::GGompertzNbd(f) => json!(f.params),
        }
    }

    fn std_errors(&self) -> Value {
        match self {
            Fitted::BgNbd(f) => json!(f.std_errors),
            Fitted::ParetoNbd(f) => json!(f.std_errors),
            Fitted::GammaGamma(f) => json!(f.std_errors),
            Fitted::MbgNbd(f) => json!(f.std_errors),
            Fitted::GGompertzNbd(f) => json!(f.std_errors),
        }
    }

    /// A parameter the fit held at a bound, and why (Pareto/NBD's s when the dropout
    /// rates do not vary).
    fn held(&self) -> Option<&models::Held> {
        match self {
            Fitted::BgNbd(f) => f.held.as_ref(),
            Fitted::ParetoNbd(f) => f.held.as_ref(),
            Fitted::GammaGamma(f) => f.held.as_ref(),
            Fitted::MbgNbd(f) => f.held.as_ref(),
            Fitted::GGompertzNbd(f) => f.held.as_ref(),
        }
    }

    /// (log-likelihood, iterations, gradient norm, converged)
    fn stats(&self) -> (f64, usize, f64, bool) {
        match self {
            Fitted::BgNbd(f) => stats(f),
            Fitted::ParetoNbd(f) => stats(f),
            Fitted::GammaGamma(f) => stats(f),
            Fitted::MbgNbd(f) => stats(f),
            Fitted::GGompertzNbd(f) => stats(f),
        }
    }

    /// The log-likelihood of one person's history under these parameters (the density of
    /// their purchase times; Gamma-Gamma: of their spend).
    fn log_likelihood_one(&self, s: &Summary) -> f64 {
        match self {
            Fitted::BgNbd(f) => f.params.log_likelihood_one(s),
            Fitted::ParetoNbd(f) => f.params.log_likelihood_one(s),
            Fitted::MbgNbd(f) => f.params.log_likelihood_one(s),
            Fitted::GGompertzNbd(f) => f.params.log_likelihood_one(s),
            Fitted::GammaGamma(f) => f.params.log_likelihood(std::slice::from_ref(s)),
        }
    }

    /// The covariance of the log-parameters, stored so readings can give intervals.
    fn log_covariance(&self) -> &[f64] {
        match self {
            Fitted::BgNbd(f) => &f.log_covariance,
            Fitted::ParetoNbd(f) => &f.log_covariance,
            Fitted::GammaGamma(f) => &f.log_covariance,
            Fitted::MbgNbd(f) => &f.log_covariance,
            Fitted::GGompertzNbd(f) => &f.log_covariance,
        }
    }

    fn purchase_model(&self) -> Option<&(dyn PurchaseModel + Sync)> {
        match self {
            Fitted::BgNbd(f) => Some(&f.params),
            Fitted::ParetoNbd(f) => Some(&f.params),
            Fitted::MbgNbd(f) => Some(&f.params),
            Fitted::GGompertzNbd(f) => Some(&f.params),
            Fitted::GammaGamma(_) => None,
        }
    }
}

/// (log-likelihood, iterations, gradient norm, converged) of any model's fit.
fn stats<P>(f: &Fit<P>) -> (f64, usize, f64, bool) {
    (f.log_likelihood, f.iterations, f.gradient_norm, f.converged)
}

/// Per-person summaries and where each came from, for predictions and error messages.
#[derive(Default)]
struct Data {
    ids: Vec<String>,
    rows: Vec<Summary>,
    /// What to call row `i` in an error ("person P-000001"); empty for a summary file, whose
    /// rows are named by `file` and `lines` (see [`Data::origin_of`]).
    origin: Vec<String>,
    /// The summary file's name, and each row's line in it.
    file: String,
    lines: Vec<u64>,
    /// People of the ledger the model cannot take, with why: fitted without them.
    left_out: Vec<(String, LeftOut)>,
}

impl Data {
    /// What to call row `i` in an error: "person P-000001", "cdnow.csv line 17".
    fn origin_of(&self, i: usize) -> String {
        match self.lines.get(i) {
            Some(line) if self.origin.get(i).is_none() => format!("{} line {line}", self.file),
            _ => named_by(&self.origin)(i),
        }
    }

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
        Model::MbgNbd => mbgnbd::fit(&data.rows).map(Fitted::MbgNbd),
        Model::GGompertzNbd => ggompertz_nbd::fit(&data.rows).map(Fitted::GGompertzNbd),
    };
    result.map_err(|e| {
        let left_out = match data.left_out.len() {
            0 => String::new(),
            n => format!(" ({n} more left out, whom the model cannot take)"),
        };
        describe(e, |i| data.origin_of(i)).context(format!(
            "cannot fit {} on {} people{left_out}",
            model.title(),
            data.rows.len()
        ))
    })
}

/// What to call row `i` of rows named by `origin` ("person P-000001", "cohorts.csv line 4").
fn named_by(origin: &[String]) -> impl Fn(usize) -> String + '_ {
    |i| {
        origin
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("row {}", i + 1))
    }
}

/// A model error in the user's terms: the row it names becomes what `at` calls it, a line
/// or a person.
fn describe(e: FitError, at: impl Fn(usize) -> String) -> anyhow::Error {
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
        FitError::FrequencyExceedsOpportunities {
            index,
            frequency,
            opportunities,
        } => anyhow!(
            "{}: frequency {frequency} is greater than the {opportunities} opportunities (at most one transaction per opportunity)",
            at(index)
        ),
        FitError::FrequencyExceedsRecency {
            index,
            frequency,
            recency,
        } => anyhow!(
            "{}: frequency {frequency} is greater than recency {recency} (at most one transaction per opportunity, so x transactions need t_x of at least x)",
            at(index)
        ),
        FitError::RecencyWithoutTransactions { index, recency } => anyhow!(
            "{}: recency {recency} with no transaction (recency must be 0 when frequency is 0)",
            at(index)
        ),
        FitError::SurvivalRises {
            period,
            before,
            after,
        } => anyhow!(
            "{}: {after} survivors, more than the {before} of the period before (survivors can only fall)",
            at(period)
        ),
        FitError::SurvivorsAboveCohort {
            period,
            survivors,
            cohort,
        } => anyhow!(
            "{}: {survivors} survivors, more than the cohort of {cohort}",
            at(period)
        ),
        FitError::ChurnAtPeriodZero { index } => anyhow!(
            "{}: a customer cannot churn after 0 periods (the first period is paid for)",
            at(index)
        ),
        FitError::NotConverged {
            iterations,
            gradient_norm,
        } => anyhow!(
            "the fit did not converge after {iterations} iterations (gradient norm {gradient_norm:.1e}): the data may not tell the parameters apart"
        ),
        other => anyhow!("{other}"),
    }
}

/// The largest whole horizon (opportunities or periods) `--predict` takes: the output has a
/// row per period.
const MAX_WHOLE_HORIZON: f64 = 10_000.0;

/// The most opportunities (BG/BB) or periods of tenure (sBG, BdW) a row may have: these
/// models work on tables with an entry per period, meant for a few dozen years or months.
const MAX_PERIODS: u32 = 10_000;

pub fn run(db: &app::Location, args: &FitArgs) -> anyhow::Result<ExitCode> {
    if args.compare {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        compare::run(&ledger::open(db)?, args, &mut out)?;
        out.flush().context("writing output")?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(model) = args.model.as_deref() else {
        bail!("give --model (which model to fit) or --compare (to find which fits best)");
    };
    let choice = Choice::parse(model)?;
    let per_person = matches!(choice, Choice::Person(_));
    if let Some(h) = args.predict {
        if !(h.is_finite() && h > 0.0) {
            bail!("--predict {h}: the horizon must be a positive number of time units");
        }
        if !per_person && (h.fract() != 0.0 || h > MAX_WHOLE_HORIZON) {
            bail!(
                "--predict {h}: for --model {} the horizon is a whole number of {} (1 to {MAX_WHOLE_HORIZON})",
                model,
                if choice == Choice::Bgbb {
                    "opportunities"
                } else {
                    "periods"
                }
            );
        }
    }
    if args.periods.is_some() && !matches!(choice, Choice::Retention(_)) {
        bail!("--periods is for the retention models (--model sbg or bdw)");
    }
    if let Some(d) = args.discount_rate {
        if per_person {
            bail!("--discount-rate is for --model bgbb, sbg and bdw");
        }
        if !(d.is_finite() && d > 0.0) {
            bail!(
                "--discount-rate {d}: the rate per period must be a positive number (0.1 is 10%)"
            );
        }
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match (choice, &args.summary) {
        _ if args.covariates.is_some() => covariates::run(db, choice, args, &mut out)?,
        (Choice::Person(model), Some(path)) => run_on_summary(path, model, args, &mut out)?,
        (Choice::Person(model), None) => run_on_ledger(&ledger::open(db)?, model, args, &mut out)?,
        (Choice::Bgbb, Some(path)) => opportunities::run(path, args, &mut out)?,
        (Choice::Bgbb, None) => opportunities::run_on_ledger(&ledger::open(db)?, args, &mut out)?,
        (Choice::Retention(kind), Some(path)) => retention::run(path, kind, args, &mut out)?,
        (Choice::Retention(kind), None) => {
            retention::ledger::run(&ledger::open(db)?, kind, args, &mut out)?
        }
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Fits `model` ("bgnbd", "gamma-gamma") on the whole ledger and stores it, printing nothing
/// (the demo does this so that its cards show loyalty and value).
pub fn fit_quietly(app: &app::App, model: &str) -> anyhow::Result<()> {
    let args = FitArgs {
        model: Some(model.to_owned()),
        unit: "weeks".to_owned(),
        json: true,
        ..FitArgs::default()
    };
    run_on_ledger(app, Model::parse(model)?, &args, &mut std::io::sink())
}

/// `--compare --use`: fits each recommended model on the whole ledger, up to `--as-of` or
/// now, and stores it, as `rapport fit --model` would; the cards use it from then on.
fn use_chosen(
    app: &app::App,
    chosen: &[Choice],
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for choice in chosen {
        let key = match choice {
            Choice::Person(m) => m.key(),
            Choice::Retention(k) => k.key(),
            Choice::Bgbb => continue,
        };
        let a = FitArgs {
            model: Some(key.to_owned()),
            as_of: args.as_of.clone(),
            unit: args.unit.clone(),
            json: args.json,
            ..FitArgs::default()
        };
        if !args.json {
            writeln!(
                out,
                "\nUsing it: `rapport fit --model {key}` on the whole ledger.\n"
            )?;
        }
        match choice {
            Choice::Person(m) => run_on_ledger(app, *m, &a, out)?,
            Choice::Retention(k) => retention::ledger::run(app, *k, &a, out)?,
            Choice::Bgbb => {}
        }
    }
    Ok(())
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
        bail!(
            "--holdout-end checks purchase predictions: use it with --model bgnbd, pareto-nbd, mbgnbd or ggompertz-nbd"
        );
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
    json!({
        "model": model.key(),
        "params": fitted.params(),
        "std_errors": fitted.std_errors(),
        "log_likelihood": fitted.stats().0,
        "convergence": convergence_json(fitted.stats()),
        "held": fitted.held(),
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
        .map(|h| Predictions::new(fitted, purchase_for_gg.as_ref(), data, h));

    if args.json {
        writeln!(out, "{line}")?;
        if let Some(h) = &holdout {
            writeln!(out, "{}", json!({ "holdout": h }))?;
        }
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
    write_params(
        out,
        model.param_names(),
        &fitted.params(),
        &fitted.std_errors(),
        2,
    )?;
    if let Some(held) = fitted.held() {
        writeln!(out, "  ({})", held.why)?;
    }
    write_convergence(out, fitted.stats(), 0)?;
    if let Some(seq) = line["stored"].as_i64() {
        let next = match model {
            Model::GammaGamma => "`rapport people` and `rapport card` now show value",
            _ => "`rapport people` and `rapport card` now show loyalty from this model",
        };
        writeln!(out, "stored in the ledger as fit {seq}; {next}")?;
    }
    if let Some(h) = &holdout {
        write_holdout(out, h)?;
    }
    if let Some(p) = &predictions {
        writeln!(
            out,
            "\n{:<16} {:>26} {:>26} {:>26}",
            "Person",
            words::label("loyalty.p_alive"),
            "Expected purchases",
            words::label("value.expected_spend")
        )?;
        for i in 0..data.rows.len() {
            let row = p.line(data, i);
            // "0.7123 (0.55 to 0.83)": the figure with its 90 % interval.
            let f = |v: Option<f64>, i: Option<Option<Interval>>| {
                let Some(v) = v.filter(|v| v.is_finite()) else {
                    return "—".to_owned();
                };
                match i.flatten() {
                    Some(Interval { low, high }) if low < high => {
                        format!("{v:.4} ({low:.2} to {high:.2})")
                    }
                    _ => format!("{v:.4}"),
                }
            };
            writeln!(
                out,
                "{:<16} {:>26} {:>26} {:>26}",
                row.id,
                f(row.p_alive, row.p_alive_interval),
                f(row.expected_purchases, row.expected_purchases_interval),
                f(row.expected_spend, row.expected_spend_interval)
            )?;
        }
        writeln!(
            out,
            "(in brackets: 90 % intervals from the uncertainty of the fitted parameters)"
        )?;
    }
    Ok(())
}

/// Everyone's figures: the purchase figures once per distinct history, each person's line
/// made when it is written, so a million people never sit in memory as a million lines.
struct Predictions<'a> {
    fitted: &'a Fitted,
    purchases: Option<interval::PerHistory<(Prediction, PredictionIntervals)>>,
    spend: Option<Uncertainty>,
}

/// One person's line of `--predict`, its keys in the order the JSON has always had them.
#[derive(Serialize)]
struct PersonLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_purchases: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_purchases_interval: Option<Option<Interval>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_spend: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_spend_interval: Option<Option<Interval>>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_alive: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_alive_interval: Option<Option<Interval>>,
}

impl<'a> Predictions<'a> {
    fn new(
        fitted: &'a Fitted,
        purchase_for_gg: Option<&Fit<bgnbd::Params>>,
        data: &Data,
        horizon: f64,
    ) -> Self {
        let rows = &data.rows;
        let purchases = match (fitted, purchase_for_gg) {
            (Fitted::BgNbd(f), _) => Some(interval::predict_each(f, rows, horizon)),
            (Fitted::ParetoNbd(f), _) => Some(interval::predict_each(f, rows, horizon)),
            (Fitted::MbgNbd(f), _) => Some(interval::predict_each(f, rows, horizon)),
            (Fitted::GGompertzNbd(f), _) => Some(interval::predict_each(f, rows, horizon)),
            (Fitted::GammaGamma(_), Some(bg)) => Some(interval::predict_each(bg, rows, horizon)),
            (Fitted::GammaGamma(_), None) => None,
        };
        let spend = match fitted {
            Fitted::GammaGamma(g) => Uncertainty::of(g),
            _ => None,
        };
        Predictions {
            fitted,
            purchases,
            spend,
        }
    }

    /// Person `i`'s line.
    fn line<'b>(&self, data: &'b Data, i: usize) -> PersonLine<'b> {
        let mut line = PersonLine {
            expected_purchases: None,
            expected_purchases_interval: None,
            expected_spend: None,
            expected_spend_interval: None,
            id: &data.ids[i],
            p_alive: None,
            p_alive_interval: None,
        };
        if let Some(p) = &self.purchases {
            let (figures, intervals) = p.get(i);
            line.p_alive = Some(figures.p_alive);
            line.p_alive_interval = Some(intervals.p_alive);
            line.expected_purchases = Some(figures.expected_purchases);
            line.expected_purchases_interval = Some(intervals.expected_purchases);
        }
        if let Fitted::GammaGamma(g) = self.fitted {
            let s = &data.rows[i];
            line.expected_spend = Some(g.params.expected_spend(s));
            line.expected_spend_interval = Some(self.spend.as_ref().and_then(|u| {
                u.interval(Scale::Positive, |v| {
                    gamma_gamma::Params::from_slice(v).expected_spend(s)
                })
            }));
        }
        line
    }
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

/// A CSV file read for fitting: its header and its rows, each with its number (from 1, for
/// default ids) and line, rows of empty cells left out. The values are checked by the caller,
/// with [`Csv::number`] and [`Csv::whole`], so each error names the file, line and column.
struct Csv {
    name: String,
    header: Vec<String>,
    rows: Vec<Row>,
}

struct Row {
    number: usize,
    line: u64,
    cells: Vec<String>,
}

impl Row {
    fn cell(&self, c: usize) -> &str {
        self.cells.get(c).map(String::as_str).unwrap_or("")
    }
}

impl Csv {
    /// Reads `text` (the file `name`); `example` is a header to suggest when it is empty.
    fn read(text: &str, name: &str, example: &str) -> anyhow::Result<Csv> {
        let mut rows = Vec::new();
        let mut csv = Csv::each(
            text,
            name,
            example,
            |_| Ok(()),
            |_, (), row| {
                rows.push(row);
                Ok(())
            },
        )?;
        csv.rows = rows;
        Ok(csv)
    }

    /// Reads `text` a row at a time, handing each to `f` with the header and the columns
    /// `columns` found in it (asked once, at the first row; the returned `Csv` has no rows):
    /// a million rows need not be held as strings to be turned into numbers.
    fn each<C>(
        text: &str,
        name: &str,
        example: &str,
        mut columns: impl FnMut(&Csv) -> anyhow::Result<C>,
        mut f: impl FnMut(&Csv, &C, Row) -> anyhow::Result<()>,
    ) -> anyhow::Result<Csv> {
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
            bail!("{name} is empty: expected a header such as {example}");
        }
        let csv = Csv {
            name: name.to_owned(),
            header,
            rows: Vec::new(),
        };
        let mut record = csv::StringRecord::new();
        let mut row_no = 0usize;
        let mut found: Option<C> = None;
        while reader
            .read_record(&mut record)
            .map_err(|e| anyhow!("{name}: {e}"))?
        {
            let line = record.position().map_or(row_no as u64 + 2, |p| p.line());
            row_no += 1;
            if record.iter().all(str::is_empty) {
                continue;
            }
            let c = match found.take() {
                Some(c) => c,
                None => columns(&csv)?,
            };
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            f(
                &csv,
                &c,
                Row {
                    number: row_no,
                    line,
                    cells,
                },
            )?;
            found = Some(c);
        }
        if found.is_none() {
            bail!("{name} has a header but no rows");
        }
        Ok(csv)
    }

    /// The first column called one of `names`, whatever its case and punctuation: `t.x`,
    /// `t_x` and `TX` are one name, so lifetimes', CLVTools' and BTYD's headers all read.
    fn find(&self, names: &[&str]) -> Option<usize> {
        let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
        self.header
            .iter()
            .position(|h| keys.contains(&column_key(h)))
    }

    /// The column called `names[0]` (or one of the other names), or an error listing the
    /// file's columns.
    fn require(&self, names: &[&str]) -> anyhow::Result<usize> {
        self.find(names).ok_or_else(|| {
            anyhow!(
                "{} has no {} column{}; its columns are: {}",
                self.name,
                names[0],
                if names.len() > 1 {
                    format!(" (nor {})", names[1..].join(", "))
                } else {
                    String::new()
                },
                self.header.join(", ")
            )
        })
    }

    /// "cdnow.csv line 17, column recency"
    fn at(&self, row: &Row, c: usize) -> String {
        format!("{} line {}, column {}", self.name, row.line, self.header[c])
    }

    /// Row `row`'s cell in column `c`: a finite non-negative number.
    fn number(&self, row: &Row, c: usize) -> anyhow::Result<f64> {
        let raw = row.cell(c);
        let v: f64 = raw
            .parse()
            .map_err(|_| anyhow!("{}: {raw:?} is not a number", self.at(row, c)))?;
        if !v.is_finite() {
            bail!("{}: {raw:?} is not a finite number", self.at(row, c));
        }
        if v < 0.0 {
            bail!("{}: {raw} is negative", self.at(row, c));
        }
        Ok(v)
    }

    /// Row `row`'s cell in column `c`: a whole non-negative number, of `what`.
    fn whole(&self, row: &Row, c: usize, what: &str) -> anyhow::Result<u32> {
        let v = self.number(row, c)?;
        if v.fract() != 0.0 {
            bail!("{}: {v} is not a whole number of {what}", self.at(row, c));
        }
        if v > f64::from(u32::MAX) {
            bail!("{}: {v} is too large a number of {what}", self.at(row, c));
        }
        Ok(v as u32)
    }
}

/// Parses a per-person summary CSV in lifetimes', CLVTools' or BTYD's conventions. Needs
/// `frequency`/`x`, `recency`/`t.x` and `T`/`T.cal` (and `monetary_value`/`zbar`/`m.x`/
/// `Spending` for Gamma-Gamma); the id is `ID`/`customer_id`/`cust`/`person`, else the row
/// number. Every value is checked here so errors name the line and column.
fn parse_summary(text: &str, name: &str, need_monetary: bool) -> anyhow::Result<Data> {
    let mut data = Data {
        file: name.to_owned(),
        ..Data::default()
    };
    let columns = |csv: &Csv| -> anyhow::Result<_> {
        let c_mon = if need_monetary {
            Some(csv.require(&["monetary_value", "zbar", "monetary", "m_x", "spending"])?)
        } else {
            None
        };
        Ok((
            csv.require(&["frequency", "x", "freq"])?,
            csv.require(&["recency", "t_x"])?,
            csv.require(&["T", "T_cal"])?,
            c_mon,
            csv.find(&ID_COLUMNS),
        ))
    };
    Csv::each(
        text,
        name,
        "ID,frequency,recency,T",
        columns,
        |csv, c, row| {
            let (c_freq, c_rec, c_t, c_mon, c_id) = *c;
            let header = &csv.header;
            let row = &row;
            let line_no = row.line;
            let frequency = csv.number(row, c_freq)?;
            let recency = csv.number(row, c_rec)?;
            let t = csv.number(row, c_t)?;
            if frequency.fract() != 0.0 {
                bail!(
                    "{}: {frequency} is not a whole number of repeat purchases",
                    csv.at(row, c_freq)
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
                    let m = csv.number(row, c)?;
                    if frequency > 0.0 && m <= 0.0 {
                        bail!(
                            "{}: {m} must be positive for a repeat buyer",
                            csv.at(row, c)
                        );
                    }
                    (frequency > 0.0).then_some(m)
                }
                None => None,
            };
            data.ids.push(row_id(row, c_id));
            data.lines.push(row.line);
            // Every row is checked here as the models check it, so a fit cannot fail at a
            // row and `origin` stays empty: a million "file line N" strings are not needed.
            data.rows.push(Summary {
                frequency,
                recency,
                t,
                monetary,
            });
            Ok(())
        },
    )?;
    Ok(data)
}

/// The columns that may name a row's person.
const ID_COLUMNS: [&str; 6] = [
    "ID",
    "customer_id",
    "cust",
    "customer",
    "person",
    "person_id",
];

/// The row's id: its cell in the id column if there is one, else its number.
fn row_id(row: &Row, c_id: Option<usize>) -> String {
    c_id.and_then(|c| row.cells.get(c).cloned())
        .unwrap_or_else(|| row.number.to_string())
}

/// Prints parameters one a line with their standard errors, `indent` spaces in.
fn write_params(
    out: &mut impl Write,
    names: &[&str],
    params: &Value,
    errors: &Value,
    indent: usize,
) -> std::io::Result<()> {
    for name in names {
        let v = params[name].as_f64().unwrap_or(f64::NAN);
        let se = errors[name].as_f64();
        writeln!(
            out,
            "{:indent$}{name:<6} {v:>12.4} ± {}",
            "",
            se.map_or_else(|| "—".to_owned(), |s| format!("{s:.4}"))
        )?;
    }
    let vague = poorly_determined(names, params, errors);
    if !vague.is_empty() {
        writeln!(
            out,
            "{:indent$}(the data barely determine {}: {} larger than the estimate, so take \
             what follows from them as rough — more people or more history would settle them)",
            "",
            match vague.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            },
            if vague.len() == 1 {
                "its standard error is"
            } else {
                "each one's standard error is"
            }
        )?;
    }
    Ok(())
}

/// The parameters whose standard error exceeds their estimate (an error that could not be
/// computed is unknown, not large):
/// a fit can converge and still say little, as with only one or two opportunities a person.
fn poorly_determined<'a>(names: &[&'a str], params: &Value, errors: &Value) -> Vec<&'a str> {
    names
        .iter()
        .filter(|name| {
            let v = params[**name].as_f64().unwrap_or(f64::NAN).abs();
            errors[**name]
                .as_f64()
                .is_some_and(|se| se > v || v.is_nan())
        })
        .copied()
        .collect()
}

/// "log-likelihood …" and "converged after …" lines, `indent` spaces in.
fn write_convergence(
    out: &mut impl Write,
    (ll, iterations, gradient_norm, _): (f64, usize, f64, bool),
    indent: usize,
) -> std::io::Result<()> {
    writeln!(out, "{:indent$}log-likelihood {ll:.2}", "")?;
    writeln!(
        out,
        "{:indent$}converged after {iterations} iterations (gradient norm {gradient_norm:.1e})",
        ""
    )
}

/// A column name as it is compared: lower case, letters and digits only.
fn column_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A rate as a percentage without float noise: 0.1 → "10", 0.125 → "12.5".
pub(super) fn percent(rate: f64) -> String {
    let p = (rate * 100.0 * 1e6).round() / 1e6;
    format!("{p}")
}

/// The fit's statistics as JSON, the same for every model.
pub(super) fn convergence_json(
    (_, iterations, gradient_norm, converged): (f64, usize, f64, bool),
) -> Value {
    json!({
        "iterations": iterations,
        "gradient_norm": gradient_norm,
        "converged": converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_whose_standard_error_exceeds_them_are_called_poorly_determined() {
        let params = json!({"r": 0.24, "alpha": 4.4, "a": 0.8, "b": 2.4});
        let errors = json!({"r": 0.01, "alpha": 5.0, "a": null, "b": f64::NAN});
        // b's error is not a number (serde writes null for NaN): unknown, not vague.
        assert_eq!(
            poorly_determined(&["r", "alpha", "a", "b"], &params, &errors),
            ["alpha"]
        );
        let mut out = Vec::new();
        write_params(&mut out, &["r", "alpha"], &params, &errors, 0).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("the data barely determine alpha: its standard error"),
            "{text}"
        );
    }

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
    }

    #[test]
    fn clvtools_and_btyd_headers_read_whatever_their_case_and_dots() {
        let d = parse_summary(
            "Id,x,t.x,T.cal,Spending\nA7,2,30.43,38.86,21.5\nB9,0,0,38.86,0\n",
            "cbs.csv",
            true,
        )
        .unwrap();
        assert_eq!(d.ids, vec!["A7", "B9"]);
        assert_eq!(d.rows[0].recency, 30.43);
        assert_eq!(d.rows[0].monetary, Some(21.5));
        let d = parse_summary("CUSTOMER_ID,Frequency,Recency,T\nz,1,2,3\n", "s", false).unwrap();
        assert_eq!(d.ids, vec!["z"]);
        // A missing column is named with the file's own columns.
        let Err(err) = parse_summary("Id,x,t.x\n1,1,1\n", "cbs.csv", false) else {
            panic!("a summary without T was read");
        };
        assert!(
            err.to_string()
                .contains("cbs.csv has no T column (nor T_cal); its columns are: Id, x, t.x"),
            "{err}"
        );
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
