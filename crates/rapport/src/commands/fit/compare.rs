//! `rapport fit --compare`: which model fits this business. Every model that applies to the
//! ledger's kind of relationship is fitted on a calibration period and scored on the holdout
//! period after it, and the best is recommended, with the figures that made it the best.
//!
//! The score that decides is the holdout log-likelihood: how probable each model, fitted on
//! the calibration period only, found what people then actually did. For these models the
//! likelihood of a person's history is the density of their purchase times, so the holdout's
//! share is the likelihood of the history up to the holdout end less that of the history up
//! to the calibration end, both under the calibration fit. It is a proper score, it rewards
//! a model for being right about each person rather than about the total, and it needs no
//! choice of bins. Beside it: the per-person error of predicted against actual holdout
//! purchases, the totals, and the papers' two charts.
//!
//! The family is chosen from the ledger and said, never silently: contracts
//! (`contract.started`) are a relationship where people say when they leave, so sBG and
//! beta-discrete-Weibull are compared on them ([`contracts`]); orders and invoices are one
//! where people leave without saying, so the purchase models are compared on them. A ledger
//! with both gets both. Nothing is stored unless `--use` asks for the recommended models to
//! be fitted on the whole ledger and stored, which the cards then use.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use domain::Day;
use models::holdout::{self, HoldoutReport};
use models::{Summary, TimeUnit};
use serde_json::{Value, json};

use super::{Data, Model, fit_model};

mod contracts;
use crate::cli::FitArgs;

/// The models for people who leave without saying, in the order they are shown.
const NON_CONTRACTUAL: [Model; 4] = [
    Model::BgNbd,
    Model::MbgNbd,
    Model::ParetoNbd,
    Model::GGompertzNbd,
];

/// One model's showing.
struct Scored {
    model: Model,
    outcome: Result<Score, String>,
}

struct Score {
    calibration_ll: f64,
    parameters: usize,
    bic: f64,
    holdout_ll: f64,
    mean_absolute_error: f64,
    root_mean_squared_error: f64,
    report: HoldoutReport,
    params: Value,
}

/// How a candidate did on the holdout, as the recommendation weighs it: the holdout
/// log-likelihood decides, the mean error (per person or per contract) is said beside it.
struct Showing {
    title: &'static str,
    holdout_ll: f64,
    error: f64,
}

/// The candidate that found the holdout most probable, with a sentence saying why against
/// the runner-up; or, when none could be fitted, an error naming why each failed.
/// `family` says what could not be done in that error, `per` what the error counts ("purchases a
/// person").
fn recommend<'a, K: Copy, S>(
    scored: impl IntoIterator<Item = (K, &'a Result<S, String>)>,
    title: impl Fn(K) -> &'static str,
    figures: impl Fn(&S) -> (f64, f64),
    family: &str,
    per: &str,
) -> anyhow::Result<(K, &'a S, String)> {
    let mut ok: Vec<(K, &S, Showing)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for (k, outcome) in scored {
        match outcome {
            Ok(s) => {
                let (holdout_ll, error) = figures(s);
                let showing = Showing {
                    title: title(k),
                    holdout_ll,
                    error,
                };
                ok.push((k, s, showing));
            }
            Err(e) => failed.push(format!("{}: {e}", title(k))),
        }
    }
    ok.sort_by(|a, b| b.2.holdout_ll.total_cmp(&a.2.holdout_ll));
    let Some((best, best_score, top)) = ok.first() else {
        bail!("no {family}: {}", failed.join("; "));
    };
    let why = why(top, ok.get(1).map(|r| &r.2), per);
    Ok((*best, *best_score, why))
}

/// Why the best is the best, in a sentence with the figures, against the runner-up.
fn why(best: &Showing, runner_up: Option<&Showing>, per: &str) -> String {
    let mut s = format!(
        "It found the holdout most probable (log-likelihood {:.2}",
        best.holdout_ll
    );
    if let Some(o) = runner_up {
        s.push_str(&format!(
            "; next {} at {:.2}, {:.2} less",
            o.title,
            o.holdout_ll,
            best.holdout_ll - o.holdout_ll
        ));
    }
    s.push_str(&format!(
        "), and is off by {:.3} {per} on average",
        best.error
    ));
    if let Some(o) = runner_up {
        s.push_str(&format!(" ({} {:.3})", o.title, o.error));
    }
    s.push('.');
    s
}

pub(super) fn run(app: &app::App, args: &FitArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let unit = match args.unit.as_str() {
        "days" => TimeUnit::Days,
        _ => TimeUnit::Weeks,
    };
    let (Some(cal_text), Some(end_text)) = (&args.calibration_end, &args.holdout_end) else {
        bail!(
            "--compare needs --calibration-end and --holdout-end: the models are fitted up to \
             the first and scored on what happened up to the second"
        );
    };
    let cal_day = Day::parse(cal_text).map_err(|e| anyhow!("--calibration-end: {e}"))?;
    let end_day = Day::parse(end_text).map_err(|e| anyhow!("--holdout-end: {e}"))?;
    if end_day <= cal_day {
        bail!(
            "--holdout-end {} must be after the calibration end {}",
            end_day.date(),
            cal_day.date()
        );
    }
    let (cal, end) = (
        f64::from(cal_day.days_since_epoch()),
        f64::from(end_day.days_since_epoch()),
    );

    // Which family: contracts say when people leave; orders and invoices do not. A ledger
    // with both gets both comparisons, each said as such.
    let (contract_people, contracts) = app
        .contracts(&[cal_day.end(), end_day.end()])
        .context("reading the ledger's contracts")?;
    let has_contracts = contracts.iter().any(|c| !c[0].is_empty());
    let (people, people_tx) = app.transactions().context("reading the ledger")?;
    let has_purchases = people_tx.iter().flatten().any(|t| t.0 <= cal);
    if !has_contracts && !has_purchases {
        bail!(
            "nobody in {} bought anything or held a contract by the calibration end {}",
            app.describe(),
            cal_day.date()
        );
    }
    let mut chosen = Vec::new();
    if has_contracts {
        let kind = contracts::run(
            &contract_people,
            &contracts,
            cal_day,
            end_day,
            args.json,
            out,
        )?;
        chosen.push(super::Choice::Retention(kind));
    }
    if has_purchases {
        if has_contracts && !args.json {
            writeln!(out)?;
        }
        let model = non_contractual(
            app,
            args,
            (&people, &people_tx),
            (cal_day, end_day),
            (cal, end),
            unit,
            has_contracts,
            out,
        )?;
        chosen.push(super::Choice::Person(model));
    }
    if args.use_best {
        super::use_chosen(app, &chosen, args, out)?;
    }
    Ok(())
}

/// Compares the purchase models; returns the recommended one.
#[allow(clippy::too_many_arguments)]
fn non_contractual(
    app: &app::App,
    args: &FitArgs,
    (people, people_tx): (&[domain::PersonId], &app::Transactions),
    (cal_day, end_day): (Day, Day),
    (cal, end): (f64, f64),
    unit: TimeUnit,
    with_contracts: bool,
    out: &mut impl Write,
) -> anyhow::Result<Model> {
    // Everyone with a first purchase by the calibration end, with their history at both ends.
    let mut data = Data::default();
    let mut later: Vec<Summary> = Vec::new();
    let mut kept_tx: Vec<Vec<(f64, f64)>> = Vec::new();
    for (person, tx) in people.iter().zip(people_tx) {
        let at_cal = models::summary::summarize(tx, cal, unit.days())
            .map_err(|e| anyhow!("person {person}: {e}"))?;
        let Some(s) = at_cal else { continue };
        let at_end = models::summary::summarize(tx, end, unit.days())
            .map_err(|e| anyhow!("person {person}: {e}"))?
            .ok_or_else(|| anyhow!("person {person}: no history at the holdout end"))?;
        data.ids.push(person.to_string());
        data.origin.push(format!("person {person}"));
        data.rows.push(s);
        later.push(at_end);
        kept_tx.push(tx.clone());
    }
    if data.rows.is_empty() {
        bail!(
            "nobody in {} bought anything by the calibration end {}",
            app.describe(),
            cal_day.date()
        );
    }
    // The same people for every model: those the purchase models can take.
    let screen = models::screen::screen(&data.rows, false);
    let mut kept = Data::default();
    let (mut kept_later, mut kept_people_tx) = (Vec::new(), Vec::new());
    for &i in &screen.kept {
        kept.ids.push(data.ids[i].clone());
        kept.origin.push(data.origin[i].clone());
        kept.rows.push(data.rows[i]);
        kept_later.push(later[i]);
        kept_people_tx.push(std::mem::take(&mut kept_tx[i]));
    }
    kept.left_out = screen
        .left_out
        .into_iter()
        .map(|(i, why)| (data.ids[i].clone(), why))
        .collect();
    let holdout_data = holdout::prepare(&kept_people_tx, cal, end, unit.days())
        .map_err(|e| anyhow!("building the holdout data: {e}"))?;

    let scored: Vec<Scored> = NON_CONTRACTUAL
        .iter()
        .map(|&model| Scored {
            model,
            outcome: score(model, &kept, &kept_later, &holdout_data),
        })
        .collect();
    let (best_model, _, why) = recommend(
        scored.iter().map(|s| (s.model, &s.outcome)),
        Model::title,
        |o| (o.holdout_ll, o.mean_absolute_error),
        "model could be fitted on the calibration period",
        "purchases a person",
    )?;

    if let Some(path) = &args.plot {
        for s in &scored {
            if let Ok(o) = &s.outcome {
                let p = chart_path(path, s.model);
                std::fs::write(&p, holdout::svg(&o.report))
                    .with_context(|| format!("writing the chart {}", p.display()))?;
            }
        }
    }

    let unit_name = match unit {
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    };
    if args.json {
        for s in &scored {
            let line = match &s.outcome {
                Ok(o) => json!({
                    "model": s.model.key(),
                    "params": o.params,
                    "calibration_log_likelihood": o.calibration_ll,
                    "parameters": o.parameters,
                    "bic": o.bic,
                    "holdout_log_likelihood": o.holdout_ll,
                    "mean_absolute_error": o.mean_absolute_error,
                    "root_mean_squared_error": o.root_mean_squared_error,
                    "holdout": o.report,
                }),
                Err(e) => json!({ "model": s.model.key(), "error": e }),
            };
            writeln!(out, "{line}")?;
        }
        writeln!(
            out,
            "{}",
            json!({
                "recommended": best_model.key(),
                "why": why,
                "family": "non-contractual",
                "people": kept.rows.len(),
                "left_out": kept.left_out.len(),
                "unit": unit_name,
                "calibration_end": cal_day.date().to_string(),
                "holdout_end": end_day.date().to_string(),
            })
        )?;
        return Ok(best_model);
    }

    writeln!(
        out,
        "{}: the ledger holds orders and invoices, and no one says when they stop buying. \
         Compared: the models for that, fitted on {} people up to {} and scored on what they \
         did up to {} ({unit_name}).",
        if with_contracts {
            "Besides contracts, these relationships are also non-contractual"
        } else {
            "These relationships are non-contractual"
        },
        kept.rows.len(),
        cal_day.date(),
        end_day.date()
    )?;
    if let Some(sentence) = super::left_out_sentence(&kept.left_out) {
        writeln!(out, "{sentence}")?;
    }
    writeln!(
        out,
        "\n{:<15} {:>13} {:>10} {:>13} {:>10} {:>10} {:>10} {:>12}",
        "model", "holdout fit", "error", "calibration", "BIC", "actual", "predicted", "correlation"
    )?;
    for s in &scored {
        match &s.outcome {
            Ok(o) => writeln!(
                out,
                "{:<15} {:>13.2} {:>10.3} {:>13.2} {:>10.1} {:>10.0} {:>10.1} {:>12}",
                s.model.title(),
                o.holdout_ll,
                o.mean_absolute_error,
                o.calibration_ll,
                o.bic,
                o.report.actual_total,
                o.report.predicted_total,
                o.report
                    .correlation
                    .map_or_else(|| "—".to_owned(), |c| format!("{c:.3}"))
            )?,
            Err(e) => writeln!(out, "{:<15} could not be fitted: {e}", s.model.title())?,
        }
    }
    writeln!(
        out,
        "(holdout fit: log-likelihood of the holdout purchases under the calibration fit, \
         higher is better; error: mean absolute difference per person between predicted and \
         actual holdout purchases; calibration: log-likelihood of the calibration period)"
    )?;
    writeln!(out, "\nRecommended: {}. {why}", best_model.title())?;
    if !args.use_best {
        writeln!(
            out,
            "Fit it on the whole ledger with `rapport fit --model {}` (or add --use), and cards \
             use it from then on.",
            best_model.key()
        )?;
    }
    if let Some(path) = &args.plot {
        writeln!(
            out,
            "Charts: {}",
            scored
                .iter()
                .filter(|s| s.outcome.is_ok())
                .map(|s| chart_path(path, s.model).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(best_model)
}

fn score(
    model: Model,
    data: &Data,
    later: &[Summary],
    holdout_data: &holdout::HoldoutData,
) -> Result<Score, String> {
    let fitted = fit_model(model, data).map_err(|e| format!("{e:#}"))?;
    let purchase = fitted
        .purchase_model()
        .ok_or_else(|| format!("{} does not predict purchases", model.title()))?;
    let (calibration_ll, ..) = fitted.stats();
    let holdout_ll: f64 = data
        .rows
        .iter()
        .zip(later)
        .map(|(s1, s2)| fitted.log_likelihood_one(s2) - fitted.log_likelihood_one(s1))
        .sum();
    if !holdout_ll.is_finite() {
        return Err("its holdout log-likelihood is not a finite number".to_owned());
    }
    let report = holdout::check(purchase, holdout_data);
    let horizon = report.holdout_length;
    let (mut abs, mut sq) = (0.0, 0.0);
    for (s, actual) in holdout_data.calibration.iter().zip(&holdout_data.holdout) {
        let d = purchase.expected_purchases(s, horizon) - actual;
        abs += d.abs();
        sq += d * d;
    }
    let n = holdout_data.calibration.len().max(1) as f64;
    let parameters = model.param_names().len();
    Ok(Score {
        calibration_ll,
        parameters,
        bic: -2.0 * calibration_ll + parameters as f64 * n.ln(),
        holdout_ll,
        mean_absolute_error: abs / n,
        root_mean_squared_error: (sq / n).sqrt(),
        report,
        params: fitted.params(),
    })
}

/// `compare.svg` → `compare-mbgnbd.svg`: one chart per model.
fn chart_path(path: &Path, model: Model) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "holdout".to_owned());
    path.with_file_name(format!("{stem}-{}.svg", model.key()))
}
