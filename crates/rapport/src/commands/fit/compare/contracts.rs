//! `rapport fit --compare` for contracts: sBG against beta-discrete-Weibull, each fitted on
//! the contracts as they stood at the calibration end and scored on what the contracts then
//! running did up to the holdout end.
//!
//! The score is the same as for purchases: the holdout log-likelihood, the likelihood of
//! each contract's tenure at the holdout end less that at the calibration end under the
//! calibration fit — for a contract that had renewed r times by the calibration end,
//! ln[(S(T − 1) − S(T)) / S(r)] if it was cancelled after T periods, ln[S(n − 1) / S(r)] if it
//! was still running in its n-th period. Beside it: per contract, the error of the renewals
//! predicted for the holdout (the renewal dates the holdout held for it) against those made,
//! and how many contracts were predicted and found still running at the end. Contracts of
//! each length of period are fitted apart, as `rapport fit` does; the scores add up.

use std::io::Write;

use domain::Day;
use domain::PersonId;
use domain::readings::contracts::Tenure as ContractTenure;
use serde_json::json;

use super::super::retention::ledger::{by_period, fit_group, to_model};
use super::super::retention::{Fitted, Kind};

/// One model's showing over every length of period.
struct Scored {
    kind: Kind,
    outcome: Result<Score, String>,
}

#[derive(Default)]
struct Score {
    calibration_ll: f64,
    parameters: usize,
    holdout_ll: f64,
    abs_error: f64,
    sq_error: f64,
    contracts: usize,
    actual_renewals: f64,
    predicted_renewals: f64,
    actual_running: f64,
    predicted_running: f64,
}

/// Renewal dates of a contract in `(cal, end]`, had it not been cancelled.
fn renewal_dates(t: &ContractTenure, cal: Day, end: Day) -> u32 {
    let mut n = 0;
    let mut k = t.periods;
    while let Some(d) = t.period.after(t.started, k) {
        if d > end {
            break;
        }
        if d > cal {
            n += 1;
        }
        k += 1;
    }
    n
}

fn score_group(
    kind: Kind,
    f: &Fitted,
    pairs: &[(&ContractTenure, &ContractTenure)],
    cal: Day,
    end: Day,
    s: &mut Score,
) -> Result<(), String> {
    let (ll, ..) = f.stats();
    s.calibration_ll += ll;
    s.parameters += kind.param_names().len();
    let m = f.model();
    for (at_cal, at_end) in pairs {
        if at_cal.cancelled.is_some() {
            continue;
        }
        // Renewed r times by the calibration end: known T > r.
        let r = at_cal.periods.saturating_sub(1);
        let s_r = m.survival(r);
        let later = to_model(at_end);
        let ln = if later.churned {
            let t = later.periods.max(1);
            ((m.survival(t - 1) - m.survival(t)) / s_r).ln()
        } else {
            (m.survival(later.periods) / s_r).ln()
        };
        s.holdout_ll += ln;
        let dates = renewal_dates(at_cal, cal, end);
        let predicted: f64 = (1..=dates).map(|j| m.survival(r + j) / s_r).sum();
        let actual = f64::from(at_end.periods.saturating_sub(at_cal.periods));
        s.abs_error += (predicted - actual).abs();
        s.sq_error += (predicted - actual).powi(2);
        s.contracts += 1;
        s.actual_renewals += actual;
        s.predicted_renewals += predicted;
        s.actual_running += f64::from(u8::from(at_end.cancelled.is_none()));
        s.predicted_running += m.survival(r + dates) / s_r;
    }
    if !s.holdout_ll.is_finite() {
        return Err("its holdout log-likelihood is not a finite number".to_owned());
    }
    Ok(())
}

/// Compares the retention models on the ledger's contracts; returns the recommended one.
pub(in crate::commands::fit) fn run(
    people: &[PersonId],
    contracts: &[Vec<Vec<ContractTenure>>],
    cal_day: Day,
    end_day: Day,
    json_out: bool,
    out: &mut impl Write,
) -> anyhow::Result<Kind> {
    let groups = by_period(people, contracts.iter().map(|c| &c[0]));
    // The same contract at the holdout end, by where it sits at the calibration end.
    let mut at_end: std::collections::HashMap<*const ContractTenure, &ContractTenure> =
        std::collections::HashMap::new();
    for c in contracts {
        for t in &c[0] {
            if let Some(l) = c[1].iter().find(|l| l.contract == t.contract) {
                at_end.insert(t as *const ContractTenure, l);
            }
        }
    }
    let later = |t: &ContractTenure| at_end.get(&(t as *const ContractTenure)).copied();
    let scored: Vec<Scored> = [Kind::Sbg, Kind::Bdw]
        .into_iter()
        .map(|kind| {
            let mut s = Score::default();
            let mut outcome = Ok(());
            for g in &groups {
                let f = match fit_group(kind, g) {
                    Ok(f) => f,
                    Err(e) => {
                        outcome = Err(format!("{}: {e}", g.title()));
                        break;
                    }
                };
                let pairs: Vec<(&ContractTenure, &ContractTenure)> = g
                    .contracts
                    .iter()
                    .filter_map(|(_, t)| later(t).map(|l| (*t, l)))
                    .collect();
                if let Err(e) = score_group(kind, &f, &pairs, cal_day, end_day, &mut s) {
                    outcome = Err(e);
                    break;
                }
            }
            Scored {
                kind,
                outcome: outcome.map(|()| s),
            }
        })
        .collect();
    let mae = |o: &Score| o.abs_error / o.contracts.max(1) as f64;
    let (best_kind, best, why) = super::recommend(
        scored.iter().map(|s| (s.kind, &s.outcome)),
        Kind::title,
        |o| (o.holdout_ll, mae(o)),
        "retention model could be fitted on the contracts",
        "renewals a contract",
    )?;
    let n_contracts: usize = groups.iter().map(|g| g.contracts.len()).sum();
    let running = best.contracts;

    if json_out {
        for s in &scored {
            let line = match &s.outcome {
                Ok(o) => json!({
                    "family": "contractual",
                    "model": s.kind.key(),
                    "calibration_log_likelihood": o.calibration_ll,
                    "parameters": o.parameters,
                    "bic": -2.0 * o.calibration_ll + o.parameters as f64 * (n_contracts.max(1) as f64).ln(),
                    "holdout_log_likelihood": o.holdout_ll,
                    "mean_absolute_error": mae(o),
                    "root_mean_squared_error": (o.sq_error / o.contracts.max(1) as f64).sqrt(),
                    "contracts_running_at_calibration_end": o.contracts,
                    "actual_renewals": o.actual_renewals,
                    "predicted_renewals": o.predicted_renewals,
                    "actual_running": o.actual_running,
                    "predicted_running": o.predicted_running,
                }),
                Err(e) => json!({ "family": "contractual", "model": s.kind.key(), "error": e }),
            };
            writeln!(out, "{line}")?;
        }
        writeln!(
            out,
            "{}",
            json!({
                "recommended": best_kind.key(),
                "why": why,
                "family": "contractual",
                "contracts": n_contracts,
                "running_at_calibration_end": running,
                "periods": groups.iter().map(|g| g.word()).collect::<Vec<_>>(),
                "calibration_end": cal_day.date().to_string(),
                "holdout_end": end_day.date().to_string(),
            })
        )?;
        return Ok(best_kind);
    }

    writeln!(
        out,
        "These relationships are contractual: the ledger holds {n_contracts} contracts \
         (contract.started), and people say when they leave by cancelling. Compared: the \
         retention models, fitted on the contracts up to {} ({}) and scored on what the \
         {running} then running did up to {}.",
        cal_day.date(),
        groups
            .iter()
            .map(|g| format!("{} {}", g.contracts.len(), g.title()))
            .collect::<Vec<_>>()
            .join(", "),
        end_day.date()
    )?;
    writeln!(
        out,
        "\n{:<22} {:>13} {:>10} {:>13} {:>10} {:>10} {:>10}",
        "model", "holdout fit", "error", "calibration", "renewals", "predicted", "running"
    )?;
    for s in &scored {
        match &s.outcome {
            Ok(o) => writeln!(
                out,
                "{:<22} {:>13.2} {:>10.3} {:>13.2} {:>10.0} {:>10.1} {:>10}",
                s.kind.title(),
                o.holdout_ll,
                mae(o),
                o.calibration_ll,
                o.actual_renewals,
                o.predicted_renewals,
                format!("{:.0}/{:.1}", o.actual_running, o.predicted_running)
            )?,
            Err(e) => writeln!(out, "{:<22} could not be fitted: {e}", s.kind.title())?,
        }
    }
    writeln!(
        out,
        "(holdout fit: log-likelihood of what the running contracts did, under the calibration \
         fit, higher is better; error: mean absolute difference per contract between predicted \
         and actual renewals in the holdout; running: still running at the holdout end, actual/predicted)"
    )?;
    writeln!(
        out,
        "\nRecommended for contracts: {}. {why}",
        best_kind.title()
    )?;
    Ok(best_kind)
}
