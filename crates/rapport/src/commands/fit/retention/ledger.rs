//! `rapport fit --model sbg|bdw` on the ledger: the retention models fitted on the contracts
//! the ledger holds (`contract.started`, `contract.renewed`, `contract.cancelled`;
//! docs/events.md), one model per length of period (a monthly and a yearly contract cannot
//! share one), each stored so that cards say how likely a running contract is to renew.
//!
//! Tenures are counted by `domain::readings::contracts::tenures`, the same function the card
//! uses, so the fit and the card can never disagree about how long a contract has run.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, anyhow, bail};
use domain::event::Period;
use domain::readings::contracts::{Tenure as ContractTenure, discount_per_period};
use domain::{Day, PersonId, Timestamp};
use models::FitError;
use models::interval::Scale;
use models::tenure::{Durations, Tenure};
use serde_json::{Value, json};
use store::fits::StoredFit;

use super::{Fitted, Kind, write_convergence, write_params};
use crate::cli::FitArgs;
use crate::commands::fit::{convergence_json, percent};
use crate::{ledger, moment};

/// The contracts of one period length, as of the calibration end.
pub(in crate::commands::fit) struct Contracts<'a> {
    pub period: Period,
    /// (person, contract) pairs.
    pub contracts: Vec<(&'a PersonId, &'a ContractTenure)>,
}

impl Contracts<'_> {
    pub fn word(&self) -> &'static str {
        self.period.as_str()
    }

    pub fn title(&self) -> String {
        format!("{}ly contracts", self.period.as_str())
    }

    /// The models' tenures: a cancelled contract left after the periods it paid for (T is
    /// that many); a running one, in its n-th period, is known to have lasted more than n − 1
    /// (it renewed n − 1 times), not yet whether it lasts more than n.
    pub fn tenures(&self) -> Vec<Tenure> {
        self.contracts.iter().map(|(_, t)| to_model(t)).collect()
    }

    pub fn people(&self) -> usize {
        let mut p: Vec<&PersonId> = self.contracts.iter().map(|(p, _)| *p).collect();
        p.sort_unstable();
        p.dedup();
        p.len()
    }
}

/// One contract's tenure as the retention models take it (see [`Contracts::tenures`]).
pub(in crate::commands::fit) fn to_model(t: &ContractTenure) -> Tenure {
    match t.cancelled {
        Some(_) => Tenure {
            periods: t.periods,
            churned: true,
        },
        None => Tenure {
            periods: t.periods.saturating_sub(1),
            churned: false,
        },
    }
}

/// Groups everyone's contracts by period length, in the order week, month, quarter, year.
pub(in crate::commands::fit) fn by_period<'a>(
    people: &'a [PersonId],
    contracts: impl Iterator<Item = &'a Vec<ContractTenure>>,
) -> Vec<Contracts<'a>> {
    let mut groups: BTreeMap<u8, Contracts<'a>> = BTreeMap::new();
    for (person, theirs) in people.iter().zip(contracts) {
        for t in theirs {
            groups
                .entry(t.period as u8)
                .or_insert_with(|| Contracts {
                    period: t.period,
                    contracts: Vec::new(),
                })
                .contracts
                .push((person, t));
        }
    }
    groups.into_values().collect()
}

/// Fits `kind` on one group; `Err` says in words why it cannot be fitted.
pub(in crate::commands::fit) fn fit_group(kind: Kind, g: &Contracts<'_>) -> Result<Fitted, String> {
    let durations = Durations::from_tenures(&g.tenures()).map_err(|e| match e {
        FitError::NoChurn => format!(
            "no {} contract has been cancelled yet, so how long contracts last cannot be told",
            g.word()
        ),
        other => other.to_string(),
    })?;
    Fitted::fit(kind, &durations).map_err(|e| e.to_string())
}

/// One plan's contracts and their fit, or why they could not be fitted.
type PlanFit<'a> = (String, Contracts<'a>, Result<Fitted, String>);

/// The group split by plan, when it holds more than one: Fader & Hardie's cohorts, each
/// fitted on its own (a contract without a plan is its own cohort, "no plan").
fn by_plan<'a>(g: &Contracts<'a>) -> Vec<(String, Contracts<'a>)> {
    let mut plans: BTreeMap<String, Contracts<'a>> = BTreeMap::new();
    for &(person, t) in &g.contracts {
        let plan = t
            .plan
            .as_ref()
            .map_or_else(|| "no plan".to_owned(), |p| p.as_str().to_owned());
        plans
            .entry(plan)
            .or_insert_with(|| Contracts {
                period: g.period,
                contracts: Vec::new(),
            })
            .contracts
            .push((person, t));
    }
    if plans.len() < 2 {
        return Vec::new();
    }
    plans.into_iter().collect()
}

pub(in crate::commands::fit) fn run(
    app: &app::App,
    kind: Kind,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if args.periods.is_some() {
        bail!(
            "--periods is for a cohort file; on the ledger, --calibration-end says up to when \
             the fit looks"
        );
    }
    if args.holdout_end.is_some() {
        bail!(
            "--holdout-end checks purchase predictions; for contracts, `rapport fit --compare \
             --calibration-end D --holdout-end D` scores sbg and bdw on what happened after D"
        );
    }
    let cal_end = match &args.calibration_end {
        Some(text) => Day::parse(text)
            .map_err(|e| anyhow!("--calibration-end: {e}"))?
            .end(),
        None => moment::as_of(args.as_of.as_deref())?,
    };
    let (people, contracts) = app
        .contracts(&[cal_end])
        .context("reading the ledger's contracts")?;
    let groups = by_period(&people, contracts.iter().map(|c| &c[0]));
    if groups.is_empty() {
        bail!(
            "{} has no contracts up to {} to fit {} on: contracts come as contract.started \
             events (docs/events.md)",
            app.describe(),
            cal_end.day(),
            kind.title()
        );
    }

    let mut fitted = Vec::new();
    let mut skipped = Vec::new();
    for g in &groups {
        match fit_group(kind, g) {
            Ok(f) => fitted.push((g, f)),
            Err(why) => skipped.push(format!("{}: {why}", g.title())),
        }
    }
    if fitted.is_empty() {
        bail!(
            "cannot fit {} on the ledger: {}",
            kind.title(),
            skipped.join("; ")
        );
    }

    let fitted_at = Timestamp::now();
    let mut lines = Vec::new();
    for (g, f) in &fitted {
        let (ll, iterations, gradient_norm, converged) = f.stats();
        let stored = StoredFit {
            seq: 0,
            model: format!("{}/{}", kind.key(), g.word()),
            params: f.params(),
            std_errors: f.std_errors(),
            log_likelihood: ll,
            iterations: iterations as u64,
            gradient_norm,
            converged,
            fitted_at,
            calibration_end: cal_end,
            unit: g.word().to_owned(),
            events: g.contracts.len() as u64,
            people: g.people() as u64,
            covariance: Some(f.log_covariance().to_vec()),
        };
        let seq = app
            .save_fit(&stored, &ledger::actor())
            .context("storing the fit")?;
        let d = args
            .discount_rate
            .unwrap_or_else(|| discount_per_period(g.period));
        lines.push(json!({
            "model": kind.key(),
            "cohort": g.title(),
            "form": "ledger",
            "period": g.word(),
            "contracts": g.contracts.len(),
            "cancelled": g.contracts.iter().filter(|(_, t)| t.cancelled.is_some()).count(),
            "people": g.people(),
            "params": f.params(),
            "std_errors": f.std_errors(),
            "log_likelihood": ll,
            "convergence": convergence_json(f.stats()),
            "discount_rate": d,
            "derl_new_customer": f.derl(d, 0),
            "source": { "ledger": app.location().to_string() },
            "unit": g.word(),
            "calibration_end": cal_end.to_rfc3339(),
            "fitted_at": fitted_at.to_rfc3339(),
            "stored": seq,
        }));
    }
    // Every card's contract figures follow the new fit.
    ledger::keep_up(app)?;

    // Each plan as a cohort of its own, for comparison; the cards use the fit above.
    let mut cohorts: Vec<Vec<PlanFit<'_>>> = Vec::new();
    for (g, _) in &fitted {
        cohorts.push(
            by_plan(g)
                .into_iter()
                .map(|(plan, c)| {
                    let f = fit_group(kind, &c);
                    (plan, c, f)
                })
                .collect(),
        );
    }
    let cohort_json =
        |g: &Contracts<'_>, plan: &str, c: &Contracts<'_>, f: &Result<Fitted, String>| {
            let d = args
                .discount_rate
                .unwrap_or_else(|| discount_per_period(g.period));
            let mut line = json!({
                "model": kind.key(),
                "cohort": format!("{} on plan {plan}", g.title()),
                "form": "ledger",
                "period": g.word(),
                "plan": plan,
                "contracts": c.contracts.len(),
                "cancelled": c.contracts.iter().filter(|(_, t)| t.cancelled.is_some()).count(),
                "people": c.people(),
                "stored": null,
            });
            match f {
                Ok(f) => {
                    line["params"] = f.params();
                    line["std_errors"] = f.std_errors();
                    line["log_likelihood"] = json!(f.stats().0);
                    line["convergence"] = convergence_json(f.stats());
                    line["discount_rate"] = json!(d);
                    line["derl_new_customer"] = json!(f.derl(d, 0));
                }
                Err(why) => line["not_fitted"] = json!(why),
            }
            line
        };

    let horizon = args.predict.map(|h| h as u32);
    if args.json {
        for (line, ((g, _), plans)) in lines.iter().zip(fitted.iter().zip(&cohorts)) {
            writeln!(out, "{line}")?;
            for (plan, c, f) in plans {
                writeln!(out, "{}", cohort_json(g, plan, c, f))?;
            }
        }
        for why in &skipped {
            writeln!(out, "{}", json!({ "not_fitted": why }))?;
        }
        if let Some(h) = horizon {
            for (g, f) in &fitted {
                predict(out, g, f, h, args, true)?;
            }
        }
        return Ok(());
    }

    writeln!(
        out,
        "{} fitted on {} as of {}: the contracts running or cancelled by then, one model per \
         length of period",
        kind.title(),
        app.describe(),
        cal_end.day()
    )?;
    for (((g, f), line), plans) in fitted.iter().zip(&lines).zip(&cohorts) {
        writeln!(
            out,
            "\n{} ({} contracts of {} people, {} cancelled), stored as fit {}:",
            g.title(),
            g.contracts.len(),
            g.people(),
            line["cancelled"],
            line["stored"]
        )?;
        write_params(
            out,
            kind.param_names(),
            &line["params"],
            &line["std_errors"],
            2,
        )?;
        write_convergence(out, f.stats(), 2)?;
        let d = line["discount_rate"].as_f64().unwrap_or(0.0);
        if let Some(derl) = f.derl(d, 0) {
            writeln!(
                out,
                "  a contract just begun: {derl:.2} {}s still to pay for, discounted at {}% a {} \
                 (DERL)",
                g.word(),
                percent(d),
                g.word()
            )?;
        }
        if !plans.is_empty() {
            writeln!(
                out,
                "  by plan, each fitted on its own contracts (not stored: cards use the fit above):"
            )?;
            for (plan, c, pf) in plans {
                let line = cohort_json(g, plan, c, pf);
                match pf {
                    Ok(pf) => {
                        writeln!(
                            out,
                            "  plan {plan} ({} contracts, {} cancelled):",
                            c.contracts.len(),
                            line["cancelled"]
                        )?;
                        write_params(
                            out,
                            kind.param_names(),
                            &line["params"],
                            &line["std_errors"],
                            4,
                        )?;
                        if let Some(derl) =
                            pf.derl(line["discount_rate"].as_f64().unwrap_or(0.0), 0)
                        {
                            writeln!(
                                out,
                                "    a contract just begun: {derl:.2} {}s still to pay for (DERL)",
                                g.word()
                            )?;
                        }
                    }
                    Err(why) => writeln!(out, "  plan {plan}: not fitted: {why}")?,
                }
            }
        }
        if let Some(h) = horizon {
            predict(out, g, f, h, args, false)?;
        }
    }
    for why in &skipped {
        writeln!(out, "\nnot fitted: {why}")?;
    }
    writeln!(
        out,
        "\nCards now show each running contract's chance of renewing from this fit."
    )?;
    Ok(())
}

/// Per running contract: the chance it renews at the end of its current period, that it is
/// still running `horizon` periods on, and the periods still to be paid for (DERL), with
/// their 90 % intervals.
fn predict(
    out: &mut impl Write,
    g: &Contracts<'_>,
    f: &Fitted,
    horizon: u32,
    args: &FitArgs,
    json: bool,
) -> anyhow::Result<()> {
    let d = args
        .discount_rate
        .unwrap_or_else(|| discount_per_period(g.period));
    if !json {
        writeln!(
            out,
            "\n  {:<16} {:<12} {:>7} {:>8} {:>15} {:>9} {:>8}",
            "person",
            "contract",
            g.word(),
            "renews",
            "90 % interval",
            format!("in {horizon}"),
            "DERL"
        )?;
    }
    for (person, t) in &g.contracts {
        if t.cancelled.is_some() {
            continue;
        }
        let n = t.periods;
        let renewals = n.saturating_sub(1);
        // Renewed n − 1 times: P(T > n − 1 + horizon | T > n − 1).
        let still = |m: &dyn super::Retention| {
            let now = m.survival(renewals);
            if now > 0.0 {
                m.survival(renewals.saturating_add(horizon)) / now
            } else {
                f64::NAN
            }
        };
        let renew = f.renewal(renewals);
        let renew_interval = f.interval(Scale::Probability, |m| m.renewal(renewals));
        let derl = f.derl(d, renewals);
        if json {
            let row: Value = json!({
                "person": person.as_str(),
                "contract": t.contract.as_str(),
                "period": g.word(),
                "periods": n,
                "renewal_probability": renew,
                "renewal_probability_interval": renew_interval,
                "horizon": horizon,
                "still_running": still(f.model()),
                "still_running_interval": f.interval(Scale::Probability, still),
                "derl": derl,
                "derl_interval": f.interval(Scale::Positive, |m| m.derl(d, renewals).unwrap_or(f64::NAN)),
                "price": t.price.map(|(a, _)| a.to_f64()),
                "currency": t.price.and_then(|(_, c)| c).map(|c| c.to_string()),
                "expected_value": derl.zip(t.price).map(|(x, (a, _))| x * a.to_f64()),
            });
            writeln!(out, "{row}")?;
        } else {
            let interval = match renew_interval {
                Some(i) => format!("{:.3} to {:.3}", i.low, i.high),
                None => "—".to_owned(),
            };
            writeln!(
                out,
                "  {:<16} {:<12} {:>7} {:>8.3} {:>15} {:>9.3} {:>8}",
                person.as_str(),
                t.contract.as_str(),
                n,
                renew,
                interval,
                still(f.model()),
                derl.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}")),
            )?;
        }
    }
    Ok(())
}
