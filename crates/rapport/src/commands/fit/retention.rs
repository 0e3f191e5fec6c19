//! `rapport fit --model sbg|bdw --summary FILE`: the contractual retention models, the
//! shifted-beta-geometric (Fader & Hardie 2007) and the beta-discrete-Weibull (Fader, Hardie,
//! Liu, Davin & Steenburgh 2018), on a file of cohorts' survivors per period (one model per
//! cohort) or of customers' tenures (one model for them all). The ledger has no contracts or
//! renewals yet, so this reads a file only.
//!
//! With `--periods N` only periods 0..N are fitted, and the file's later survivors show how
//! well the model projects, as in the papers.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use models::interval::{Interval, Parameters, Scale, Uncertainty};
use models::tenure::{Durations, Tenure};
use models::{Fit, FitError, bdw, sbg};
use serde_json::{Value, json};

use super::{
    Csv, MAX_PERIODS, Row, convergence_json, describe, named_by, stats, write_convergence,
    write_params,
};
use crate::cli::FitArgs;

pub(super) mod ledger;

/// The discount rate per period when `--discount-rate` is not given.
const DEFAULT_DISCOUNT_RATE: f64 = 0.1;

/// Names the first column of a cohort file may have (any case).
const PERIOD_COLUMNS: [&str; 5] = ["year", "period", "periods", "t", "month"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Sbg,
    Bdw,
}

impl Kind {
    pub(super) fn key(self) -> &'static str {
        match self {
            Kind::Sbg => "sbg",
            Kind::Bdw => "bdw",
        }
    }

    pub(super) fn title(self) -> &'static str {
        match self {
            Kind::Sbg => "sBG",
            Kind::Bdw => "BdW",
        }
    }

    pub(super) fn param_names(self) -> &'static [&'static str] {
        match self {
            Kind::Sbg => &["alpha", "beta"],
            Kind::Bdw => &["a", "b", "c"],
        }
    }
}

pub(super) enum Fitted {
    Sbg(Fit<sbg::Params>),
    Bdw(Fit<bdw::Params>),
}

impl Fitted {
    fn fit(kind: Kind, d: &Durations) -> Result<Fitted, FitError> {
        match kind {
            Kind::Sbg => sbg::fit(d).map(Fitted::Sbg),
            Kind::Bdw => bdw::fit(d).map(Fitted::Bdw),
        }
    }

    fn params(&self) -> Value {
        match self {
            Fitted::Sbg(f) => json!(f.params),
            Fitted::Bdw(f) => json!(f.params),
        }
    }

    fn std_errors(&self) -> Value {
        match self {
            Fitted::Sbg(f) => json!(f.std_errors),
            Fitted::Bdw(f) => json!(f.std_errors),
        }
    }

    pub(super) fn stats(&self) -> (f64, usize, f64, bool) {
        match self {
            Fitted::Sbg(f) => stats(f),
            Fitted::Bdw(f) => stats(f),
        }
    }

    fn log_covariance(&self) -> &[f64] {
        match self {
            Fitted::Sbg(f) => &f.log_covariance,
            Fitted::Bdw(f) => &f.log_covariance,
        }
    }

    /// The fitted model: survival S(t), the chance of renewing once more and DERL.
    pub(super) fn model(&self) -> &dyn Retention {
        match self {
            Fitted::Sbg(f) => &f.params,
            Fitted::Bdw(f) => &f.params,
        }
    }

    fn survival(&self, t: u32) -> f64 {
        self.model().survival(t)
    }

    fn renewal(&self, renewals: u32) -> f64 {
        self.model().renewal(renewals)
    }

    fn derl(&self, discount_rate: f64, renewals: u32) -> Option<f64> {
        self.model().derl(discount_rate, renewals)
    }

    /// The 90 % interval of `figure` from the uncertainty of the fitted parameters.
    fn interval(&self, scale: Scale, figure: impl Fn(&dyn Retention) -> f64) -> Option<Interval> {
        match self {
            Fitted::Sbg(f) => {
                Uncertainty::of(f)?.interval(scale, |v| figure(&sbg::Params::from_slice(v)))
            }
            Fitted::Bdw(f) => {
                Uncertainty::of(f)?.interval(scale, |v| figure(&bdw::Params::from_slice(v)))
            }
        }
    }
}

/// What the two retention models share, so one dispatch and one interval routine serve both.
pub(super) trait Retention {
    fn survival(&self, t: u32) -> f64;
    fn renewal(&self, renewals: u32) -> f64;
    fn derl(&self, discount_rate: f64, renewals: u32) -> Option<f64>;
}

macro_rules! retention {
    ($($ty:path),+) => {$(
        impl Retention for $ty {
            fn survival(&self, t: u32) -> f64 {
                <$ty>::survival(self, t)
            }
            fn renewal(&self, renewals: u32) -> f64 {
                self.renewal_probability(renewals)
            }
            fn derl(&self, discount_rate: f64, renewals: u32) -> Option<f64> {
                <$ty>::derl(self, discount_rate, renewals)
            }
        }
    )+};
}
retention!(sbg::Params, bdw::Params);

/// One cohort's survivors as the file gives them.
#[derive(Debug)]
struct Cohort {
    name: String,
    /// Survivors at the start of period t (t = 0: the cohort's size), up to the cohort's
    /// last filled cell.
    survivors: Vec<f64>,
    /// The file's line of each count, for errors.
    lines: Vec<u64>,
}

/// What a retention file holds.
#[derive(Debug)]
enum Data {
    /// Survivors per period, one column per cohort; periods 0..=`last` in the file.
    Cohorts {
        /// What a period is called ("year", "month", else "period").
        word: String,
        cohorts: Vec<Cohort>,
        last: u32,
    },
    /// One row per customer: periods paid for and whether they have left.
    Customers {
        tenures: Vec<Tenure>,
        origin: Vec<String>,
    },
}

/// One fitted model: a cohort, or all the customers of a per-customer file.
struct Group {
    name: String,
    /// The cohort's size (a cohort file) or the number of customers.
    size: f64,
    /// Survivors per period over the whole file (a cohort file only).
    actual: Option<Vec<f64>>,
    /// The last period the fit saw.
    fitted_last: u32,
    /// The last period in the data.
    last: u32,
    fitted: Fitted,
}

pub(super) fn run(
    path: &Path,
    kind: Kind,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let data = parse(&text, &name)?;
    if args.periods == Some(0) {
        bail!("--periods 0 leaves nothing to fit: give at least 1 (the fit uses periods 0..N)");
    }
    let discount_rate = args.discount_rate.unwrap_or(DEFAULT_DISCOUNT_RATE);
    let (groups, word) = fit_groups(&data, kind, args.periods, &name)?;

    let lines: Vec<Value> = groups
        .iter()
        .map(|g| {
            let form = if g.actual.is_some() {
                "cohort"
            } else {
                "customers"
            };
            json!({
                "model": kind.key(),
                "cohort": g.name,
                "form": form,
                "size": g.size,
                "periods_fitted": g.fitted_last,
                "last_period": g.last,
                "params": g.fitted.params(),
                "std_errors": g.fitted.std_errors(),
                "log_likelihood": g.fitted.stats().0,
                "convergence": convergence_json(g.fitted.stats()),
                "discount_rate": discount_rate,
                "derl_new_customer": g.fitted.derl(discount_rate, 0),
                "source": { "summary": name },
                "unit": word,
            })
        })
        .collect();
    // The horizon was checked to be a whole number of periods.
    let horizon = args.predict.map(|h| h as u32);

    if args.json {
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        if let Some(h) = horizon {
            for g in &groups {
                for row in project(g, h, discount_rate) {
                    writeln!(out, "{row}")?;
                }
            }
        }
        return Ok(());
    }

    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    match &data {
        Data::Cohorts { last, .. } => writeln!(
            out,
            "{} fitted on {name}: one model per cohort ({}), on {word}s 0..{} of 0..{last}",
            kind.title(),
            names.join(", "),
            groups.iter().map(|g| g.fitted_last).max().unwrap_or(0)
        )?,
        Data::Customers { .. } => writeln!(
            out,
            "{} fitted on {name}: {} customers' tenures{}",
            kind.title(),
            groups[0].size,
            match args.periods {
                Some(n) => format!(", as seen at {word} {n}"),
                None => String::new(),
            }
        )?,
    }
    for (g, line) in groups.iter().zip(&lines) {
        writeln!(out)?;
        match &g.actual {
            Some(actual) => writeln!(
                out,
                "cohort {}: {} at {word} 0, {} at {word} {}",
                g.name, actual[0], actual[g.fitted_last as usize], g.fitted_last
            )?,
            None => writeln!(out, "{} ({} customers):", g.name, g.size)?,
        }
        write_params(
            out,
            kind.param_names(),
            &line["params"],
            &line["std_errors"],
            2,
        )?;
        match &g.fitted {
            Fitted::Sbg(_) => writeln!(
                out,
                "  (each customer renews every {word} with their own probability; the chance of \
                 leaving is drawn from Beta(alpha, beta) across customers)"
            )?,
            Fitted::Bdw(f) => writeln!(
                out,
                "  (c {:.4}: {})",
                f.params.c,
                if f.params.c < 1.0 {
                    "a customer's chance of leaving falls the longer they stay"
                } else {
                    "a customer's chance of leaving rises the longer they stay"
                }
            )?,
        }
        write_convergence(out, g.fitted.stats(), 2)?;
        if let Some(derl) = g.fitted.derl(discount_rate, 0) {
            writeln!(
                out,
                "  a customer just acquired: {derl:.2} {word}s still to pay for, discounted at {}% a {word} (DERL)",
                super::percent(discount_rate)
            )?;
        }
        if let Some(h) = horizon {
            write_projection(out, g, &project(g, h, discount_rate), &word)?;
        }
    }
    Ok(())
}

/// Fits one model per cohort (or one on all customers); returns them with the period's name.
fn fit_groups(
    data: &Data,
    kind: Kind,
    periods: Option<u32>,
    name: &str,
) -> anyhow::Result<(Vec<Group>, String)> {
    match data {
        Data::Cohorts {
            word,
            cohorts,
            last,
        } => {
            if let Some(n) = periods
                && n > *last
            {
                bail!("--periods {n}: {name} has {word}s 0..{last} only");
            }
            let mut groups = Vec::new();
            for c in cohorts {
                let cohort_last = c.survivors.len() as u32 - 1;
                let fitted_last = periods.unwrap_or(*last).min(cohort_last);
                let seen = &c.survivors[..=fitted_last as usize];
                let origin: Vec<String> = c
                    .lines
                    .iter()
                    .map(|l| format!("{name} line {l}, column {}", c.name))
                    .collect();
                let what = format!("cannot fit {} on cohort {} of {name}", kind.title(), c.name);
                let durations = Durations::from_survivors(seen).map_err(|e| match e {
                    FitError::NoChurn => anyhow!(
                        "nobody left cohort {} in {word}s 0..{fitted_last}, so a retention model cannot be fitted",
                        c.name
                    ),
                    other => describe(other, named_by(&origin)),
                });
                let durations = durations.context(what.clone())?;
                let fitted = Fitted::fit(kind, &durations)
                    .map_err(|e| describe(e, named_by(&origin)))
                    .context(what)?;
                groups.push(Group {
                    name: c.name.clone(),
                    size: c.survivors[0],
                    actual: Some(c.survivors.clone()),
                    fitted_last,
                    last: *last,
                    fitted,
                });
            }
            Ok((groups, word.clone()))
        }
        Data::Customers { tenures, origin } => {
            // Seen at period N: a longer tenure is still active after N periods.
            let seen: Vec<Tenure> = tenures
                .iter()
                .map(|t| match periods {
                    Some(n) if t.periods > n => Tenure {
                        periods: n,
                        churned: false,
                    },
                    _ => *t,
                })
                .collect();
            let last = tenures.iter().map(|t| t.periods).max().unwrap_or(0);
            let fitted_last = periods.map_or(last, |n| n.min(last));
            let what = format!("cannot fit {} on the customers of {name}", kind.title());
            let durations = Durations::from_tenures(&seen)
                .map_err(|e| match e {
                    FitError::NoChurn => anyhow!(
                        "nobody in {name} has churned{}, so a retention model cannot be fitted",
                        match periods {
                            Some(n) => format!(" by period {n}"),
                            None => String::new(),
                        }
                    ),
                    other => describe(other, named_by(origin)),
                })
                .context(what.clone())?;
            let fitted = Fitted::fit(kind, &durations)
                .map_err(|e| describe(e, named_by(origin)))
                .context(what)?;
            let group = Group {
                name: "customers".to_owned(),
                size: tenures.len() as f64,
                actual: None,
                fitted_last,
                last,
                fitted,
            };
            Ok((vec![group], "period".to_owned()))
        }
    }
}

/// The projection of a group, period by period up to `horizon` periods past the data's last:
/// survival, expected survivors, retention and DERL, beside the actual survivors where the
/// file has them.
fn project(g: &Group, horizon: u32, discount_rate: f64) -> Vec<Value> {
    let end = g.last.saturating_add(horizon);
    let actual = |t: u32| g.actual.as_ref().and_then(|a| a.get(t as usize).copied());
    let cohort_form = g.actual.is_some();
    (0..=end)
        .map(|t| {
            let survival = g.fitted.survival(t);
            let retention = (t > 0).then(|| g.fitted.renewal(t - 1));
            let actual_survivors = actual(t);
            let actual_retention = match (t.checked_sub(1).and_then(actual), actual_survivors) {
                (Some(before), Some(now)) if before > 0.0 => Some(now / before),
                _ => None,
            };
            json!({
                "cohort": g.name,
                "period": t,
                "survival": survival,
                "expected_survivors": cohort_form.then_some(survival * g.size),
                "actual_survivors": actual_survivors,
                "actual_survival": actual_survivors.map(|a| a / g.size),
                "in_fit": t <= g.fitted_last,
                "survival_interval": g.fitted.interval(Scale::Probability, |m| m.survival(t)),
                "retention": retention,
                "retention_interval": (t > 0)
                    .then(|| g.fitted.interval(Scale::Probability, |m| m.renewal(t - 1)))
                    .flatten(),
                "actual_retention": actual_retention,
                "derl": g.fitted.derl(discount_rate, t),
                "derl_interval": g.fitted.interval(Scale::Positive, |m| {
                    m.derl(discount_rate, t).unwrap_or(f64::NAN)
                }),
            })
        })
        .collect()
}

fn write_projection(
    out: &mut impl Write,
    g: &Group,
    rows: &[Value],
    word: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "\n  {:>6} {:>9} {:>15} {:>10} {:>9} {:>10} {:>10} {:>8}",
        word, "survival", "90 % interval", "expected", "actual", "retention", "actual", "DERL"
    )?;
    for row in rows {
        let f = |k: &str, places: usize| {
            row[k]
                .as_f64()
                .map_or_else(|| "—".to_owned(), |v| format!("{v:.places$}"))
        };
        let i = &row["survival_interval"];
        let interval = match (i["low"].as_f64(), i["high"].as_f64()) {
            (Some(lo), Some(hi)) if lo < hi => format!("{lo:.3} to {hi:.3}"),
            _ => "—".to_owned(),
        };
        let note = match (row["in_fit"].as_bool(), row["actual_survivors"].is_number()) {
            (Some(true), _) => "fitted",
            (_, true) => "projected: check",
            _ => "projected",
        };
        writeln!(
            out,
            "  {:>6} {:>9} {:>15} {:>10} {:>9} {:>10} {:>10} {:>8}  {note}",
            row["period"].to_string(),
            f("survival", 4),
            interval,
            f("expected_survivors", 1),
            f("actual_survivors", 0),
            f("retention", 4),
            f("actual_retention", 4),
            f("derl", 2),
        )?;
    }
    if g.actual.is_none() {
        writeln!(
            out,
            "  (customers joined at different times: survival is the share of a new customer \
             still active after each {word})"
        )?;
    }
    Ok(())
}

/// Reads a cohort file (first column the period, then survivors per cohort) or, when it has
/// a `churned` column, a per-customer file (`periods`/`tenure`/`duration` and `churned`).
fn parse(text: &str, name: &str) -> anyhow::Result<Data> {
    let csv = Csv::read(text, name, "year,cohort_a,cohort_b")?;
    if csv.find(&["churned"]).is_some() {
        return parse_customers(&csv);
    }
    let first = csv.header[0].to_ascii_lowercase();
    if !PERIOD_COLUMNS.contains(&first.as_str()) {
        bail!(
            "{name}: the first column must name the period ({}), followed by one column of \
             survivors per cohort; or give one row per customer with columns periods and \
             churned. Its columns are: {}",
            PERIOD_COLUMNS.join(", "),
            csv.header.join(", ")
        );
    }
    if csv.header.len() < 2 {
        bail!("{name} has a {first} column but no cohort columns after it");
    }
    let word = match first.as_str() {
        "year" | "month" => first.clone(),
        _ => "period".to_owned(),
    };
    let mut cohorts: Vec<Cohort> = csv.header[1..]
        .iter()
        .enumerate()
        .map(|(k, h)| Cohort {
            name: if h.is_empty() {
                format!("column {}", k + 2)
            } else {
                h.clone()
            },
            survivors: Vec::new(),
            lines: Vec::new(),
        })
        .collect();
    // Where each cohort's column ended (its first empty cell), if it has.
    let mut ended: Vec<Option<u64>> = vec![None; cohorts.len()];
    let mut last = 0;
    for (t, row) in csv.rows.iter().enumerate() {
        let period = csv.whole(row, 0, &format!("{word}s"))?;
        if period as usize != t {
            bail!(
                "{}: {period} where {word} {t} was expected (one row per {word}, from 0 and \
                 without gaps)",
                csv.at(row, 0)
            );
        }
        last = period;
        for (k, c) in cohorts.iter_mut().enumerate() {
            let col = k + 1;
            let at = || format!("{name} line {}, column {}", row.line, c.name);
            if row.cell(col).is_empty() {
                if t == 0 {
                    bail!("{}: no cohort size at {word} 0", at());
                }
                ended[k].get_or_insert(row.line);
                continue;
            }
            if let Some(empty) = ended[k] {
                bail!(
                    "{}: {} after an empty cell at line {empty}; a cohort's survivors cannot \
                     have gaps (a younger cohort's column ends in empty cells)",
                    at(),
                    row.cell(col)
                );
            }
            let v = survivors_cell(&csv, row, col, &c.name)?;
            if let Some(&cohort) = c.survivors.first() {
                if v > cohort {
                    bail!(
                        "{}: {v} survivors, more than the cohort of {cohort} at {word} 0",
                        at()
                    );
                }
                let before = c.survivors[t - 1];
                if v > before {
                    bail!(
                        "{}: survivors rise from {before} at {word} {} to {v}; a cohort's \
                         survivors can only fall or stay from one {word} to the next",
                        at(),
                        t - 1
                    );
                }
            } else if v == 0.0 {
                bail!("{}: a cohort of 0 customers cannot be fitted", at());
            }
            c.survivors.push(v);
            c.lines.push(row.line);
        }
    }
    Ok(Data::Cohorts {
        word,
        cohorts,
        last,
    })
}

/// A survivor count: a finite non-negative number, named by the cohort's column.
fn survivors_cell(csv: &Csv, row: &Row, col: usize, cohort: &str) -> anyhow::Result<f64> {
    let raw = row.cell(col);
    let at = || format!("{} line {}, column {cohort}", csv.name, row.line);
    let v: f64 = raw
        .parse()
        .map_err(|_| anyhow!("{}: {raw:?} is not a number of survivors", at()))?;
    if !v.is_finite() {
        bail!("{}: {raw:?} is not a finite number", at());
    }
    if v < 0.0 {
        bail!("{}: {raw} is negative", at());
    }
    Ok(v)
}

fn parse_customers(csv: &Csv) -> anyhow::Result<Data> {
    let c_periods = csv.require(&["periods", "tenure", "duration"])?;
    let c_churned = csv.require(&["churned"])?;
    let mut tenures = Vec::new();
    let mut origin = Vec::new();
    for row in &csv.rows {
        let periods = csv.whole(row, c_periods, "periods")?;
        if periods > MAX_PERIODS {
            bail!(
                "{}: {periods} periods are more than a retention model takes here (at most {MAX_PERIODS})",
                csv.at(row, c_periods)
            );
        }
        let raw = row.cell(c_churned);
        let churned = match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => bail!(
                "{}: {raw:?} is not true or false (nor yes/no, 1/0)",
                csv.at(row, c_churned)
            ),
        };
        if churned && periods == 0 {
            bail!(
                "{} line {}: a customer cannot churn after 0 periods (the first period is paid \
                 for, so {} is at least 1)",
                csv.name,
                row.line,
                csv.header[c_periods]
            );
        }
        tenures.push(Tenure { periods, churned });
        origin.push(format!("{} line {}", csv.name, row.line));
    }
    Ok(Data::Customers { tenures, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "c.csv").err().unwrap().to_string()
    }

    #[test]
    fn a_cohort_file_gives_each_cohort_its_survivors() {
        let Data::Cohorts {
            word,
            cohorts,
            last,
        } = parse("year,a,b\n0,100,50\n1,60,40\n2,40,\n", "c.csv").unwrap()
        else {
            panic!("not read as cohorts");
        };
        assert_eq!(word, "year");
        assert_eq!(last, 2);
        assert_eq!(cohorts[0].survivors, vec![100.0, 60.0, 40.0]);
        assert_eq!(cohorts[1].survivors, vec![50.0, 40.0]);
        assert_eq!(cohorts[1].lines, vec![2, 3]);
    }

    #[test]
    fn a_churned_column_makes_it_a_per_customer_file() {
        let Data::Customers { tenures, .. } =
            parse("id,periods,churned\n1,3,yes\n2,5,false\n", "t.csv").unwrap()
        else {
            panic!("not read as customers");
        };
        assert_eq!(
            tenures,
            vec![
                Tenure {
                    periods: 3,
                    churned: true
                },
                Tenure {
                    periods: 5,
                    churned: false
                }
            ]
        );
    }

    #[test]
    fn bad_cohort_files_name_the_line_and_cohort() {
        assert!(
            err("year,regular\n0,100\n1,60\n2,70\n").starts_with(
                "c.csv line 4, column regular: survivors rise from 60 at year 1 to 70"
            )
        );
        assert!(
            err("year,regular\n0,100\n1,160\n")
                .starts_with("c.csv line 3, column regular: 160 survivors, more than the cohort")
        );
        assert_eq!(
            err("year,regular\n0,100\n1,-6\n"),
            "c.csv line 3, column regular: -6 is negative"
        );
        assert_eq!(
            err("year,regular\n0,100\n1,many\n"),
            "c.csv line 3, column regular: \"many\" is not a number of survivors"
        );
        assert!(
            err("year,regular\n0,100\n1,\n2,50\n")
                .starts_with("c.csv line 4, column regular: 50 after an empty cell at line 3")
        );
        assert!(err("year,regular\n0,100\n2,50\n").starts_with("c.csv line 3, column year: 2"));
        assert!(err("cohort,regular\n0,100\n").contains("the first column must name the period"));
        assert!(
            err("periods,churned\n0,true\n").starts_with("c.csv line 2: a customer cannot churn")
        );
        assert_eq!(
            err("periods,churned\n3,maybe\n"),
            "c.csv line 2, column churned: \"maybe\" is not true or false (nor yes/no, 1/0)"
        );
    }
}
