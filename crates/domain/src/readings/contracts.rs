//! Contracts: how long each of a person's contracts has run, counted in its own periods, and
//! what the fitted retention model says about it renewing.
//!
//! A contract (`contract.started`) renews by itself at the end of every period until it is
//! cancelled (`contract.cancelled`); sources that record renewals one by one send
//! `contract.renewed`. The retention models (sBG, beta-discrete-Weibull; `models::sbg`,
//! `models::bdw`) take each contract's tenure — the periods paid for, and whether it has been
//! cancelled — so this module is the one place that turns events into tenures, for the fit
//! (`rapport fit --model sbg|bdw` on the ledger) and for the person's own reading alike.
//!
//! Tenure, as docs/readings.md defines it: the periods begun, where period k (k = 0, 1, …)
//! begins on the start date plus k periods (calendar months and years), counted up to the
//! cancellation (a period beginning on the day of the cancellation, or after it, is not paid)
//! or, for a contract still running, up to and including the day of `as_of`; at least one,
//! and at least one more than the renewals recorded.

use models::interval::{Interval, Parameters, Scale, Uncertainty};
use models::{bdw, sbg};
use serde::Serialize;

use super::Recorded;
use super::loyalty::FitInfo;
use crate::event::{Body, EndReason, Period};
use crate::values::{Amount, Currency, Day, Label, Ref, Timestamp};

/// The yearly discount rate the value of a contract is reckoned with (10 %), turned into a
/// rate per period of the contract.
pub const YEARLY_DISCOUNT: f64 = 0.10;

/// The discount rate per period equivalent to [`YEARLY_DISCOUNT`] a year.
pub fn discount_per_period(period: Period) -> f64 {
    let per_year = match period {
        Period::Week => 52.0,
        Period::Month => 12.0,
        Period::Quarter => 4.0,
        Period::Year => 1.0,
    };
    (1.0 + YEARLY_DISCOUNT).powf(1.0 / per_year) - 1.0
}

/// One contract's history as of a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenure {
    pub contract: Ref,
    pub period: Period,
    pub plan: Option<Label>,
    pub price: Option<(Amount, Option<Currency>)>,
    pub started: Day,
    /// Periods paid for (begun) up to the cancellation or the moment asked about.
    pub periods: u32,
    /// Renewals recorded with `contract.renewed`.
    pub renewals: u32,
    pub cancelled: Option<(Day, Option<EndReason>)>,
    /// Ledger sequence numbers of the contract's events.
    pub evidence: Vec<i64>,
}

/// Periods begun from `start` up to `end`: those beginning before `end` (`inclusive`: on or
/// before it). Always at least one.
fn periods_begun(period: Period, start: Day, end: Day, inclusive: bool) -> u32 {
    // A first guess from the average length of a period, then exact calendar steps: a
    // contract of decades in weeks is still a handful of steps.
    let days = i64::from(end.days_since_epoch()) - i64::from(start.days_since_epoch());
    let average = match period {
        Period::Week => 7.0,
        Period::Month => 30.436875,
        Period::Quarter => 91.310625,
        Period::Year => 365.2425,
    };
    let begun = |k: u32| match period.after(start, k) {
        Some(d) if inclusive => d <= end,
        Some(d) => d < end,
        None => false,
    };
    let mut k = ((days as f64 / average).floor().max(0.0) as u32).saturating_sub(1);
    while k > 0 && !begun(k) {
        k -= 1;
    }
    while begun(k + 1) {
        k += 1;
    }
    // Periods 0..=k have begun (period 0 always: the contract is paid for when it starts).
    k + 1
}

/// Every contract the person started up to `as_of`, in the order they started, with its
/// tenure then. `events` are the person's events in ledger order; later ones are ignored.
pub fn tenures(events: &[Recorded], as_of: Timestamp) -> Vec<Tenure> {
    let mut out: Vec<Tenure> = Vec::new();
    let find = |out: &mut Vec<Tenure>, c: &Ref| out.iter().position(|t| &t.contract == c);
    for e in events.iter().filter(|e| e.at <= as_of) {
        match &e.body {
            Body::ContractStarted {
                contract,
                period,
                plan,
                price,
            } => {
                // A second start of the same contract is a correction of the first: the
                // earliest start counts, its terms are the latest given.
                match find(&mut out, contract) {
                    Some(i) => {
                        let t = &mut out[i];
                        t.period = *period;
                        t.plan = plan.clone();
                        t.price = *price;
                        t.evidence.push(e.seq);
                    }
                    None => out.push(Tenure {
                        contract: contract.clone(),
                        period: *period,
                        plan: plan.clone(),
                        price: *price,
                        started: e.at.day(),
                        periods: 1,
                        renewals: 0,
                        cancelled: None,
                        evidence: vec![e.seq],
                    }),
                }
            }
            Body::ContractRenewed { contract } => {
                if let Some(i) = find(&mut out, contract) {
                    let t = &mut out[i];
                    if t.cancelled.is_none() {
                        t.renewals += 1;
                        t.evidence.push(e.seq);
                    }
                }
            }
            Body::ContractCancelled { contract, reason } => {
                if let Some(i) = find(&mut out, contract) {
                    let t = &mut out[i];
                    if t.cancelled.is_none() {
                        t.cancelled = Some((e.at.day(), *reason));
                        t.evidence.push(e.seq);
                    }
                }
            }
            _ => {}
        }
    }
    let today = as_of.day();
    for t in &mut out {
        let by_dates = match t.cancelled {
            Some((day, _)) => periods_begun(t.period, t.started, day, false),
            None => periods_begun(t.period, t.started, today, true),
        };
        t.periods = by_dates.max(t.renewals.saturating_add(1));
    }
    out
}

/// A fitted retention model's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetentionParams {
    Sbg(sbg::Params),
    Bdw(bdw::Params),
}

impl RetentionParams {
    /// `sbg` or `bdw`.
    pub fn key(&self) -> &'static str {
        match self {
            RetentionParams::Sbg(_) => "sbg",
            RetentionParams::Bdw(_) => "bdw",
        }
    }

    /// The parameters in their model's order (as the stored covariance is).
    pub fn to_vec(self) -> Vec<f64> {
        match self {
            RetentionParams::Sbg(p) => p.to_vec(),
            RetentionParams::Bdw(p) => p.to_vec(),
        }
    }

    fn with(self, v: &[f64]) -> RetentionParams {
        match self {
            RetentionParams::Sbg(_) => RetentionParams::Sbg(sbg::Params::from_slice(v)),
            RetentionParams::Bdw(_) => RetentionParams::Bdw(bdw::Params::from_slice(v)),
        }
    }

    /// Probability a contract that has renewed `renewals` times renews once more.
    pub fn renewal_probability(&self, renewals: u32) -> f64 {
        match self {
            RetentionParams::Sbg(p) => p.renewal_probability(renewals),
            RetentionParams::Bdw(p) => p.renewal_probability(renewals),
        }
    }

    /// Discounted expected periods still to be paid for (DERL), in periods.
    pub fn derl(&self, discount_rate: f64, renewals: u32) -> Option<f64> {
        match self {
            RetentionParams::Sbg(p) => p.derl(discount_rate, renewals),
            RetentionParams::Bdw(p) => p.derl(discount_rate, renewals),
        }
    }
}

/// The stored retention fit for contracts of one period length.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionFit {
    pub period: Period,
    pub params: RetentionParams,
    /// How sure the parameters are (absent when the fit kept no covariance).
    pub uncertainty: Option<Uncertainty>,
    pub info: FitInfo,
}

impl RetentionFit {
    fn interval(&self, scale: Scale, figure: impl Fn(&RetentionParams) -> f64) -> Option<Interval> {
        let u = self.uncertainty.as_ref()?;
        u.interval(scale, |v| figure(&self.params.with(v)))
    }
}

/// One contract on a person's card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contract {
    pub contract: String,
    /// `week`, `month`, `quarter` or `year`: how often it renews.
    pub period: &'static str,
    pub plan: Option<String>,
    pub started: String,
    /// Periods paid for so far (for a cancelled contract: in all).
    pub periods: u32,
    pub cancelled: Option<String>,
    pub cancel_reason: Option<EndReason>,
    /// What one period costs, where the source said.
    pub price: Option<f64>,
    pub currency: Option<String>,
    /// Probability the contract renews at the end of the current period (running contracts,
    /// with a fit for its period length).
    pub renewal_probability: Option<f64>,
    pub renewal_probability_interval: Option<Interval>,
    /// Periods still expected to be paid for, discounted at [`YEARLY_DISCOUNT`] a year (DERL).
    pub expected_periods: Option<f64>,
    pub expected_periods_interval: Option<Interval>,
    /// `expected_periods` times the price: what the rest of the contract is worth today.
    pub expected_value: Option<f64>,
    /// The model the figures come from (`sbg` or `bdw`) and its fit.
    pub model: Option<&'static str>,
    pub fit: Option<FitInfo>,
    pub evidence: Vec<i64>,
}

/// A person's contracts as of `as_of`, with the fitted figures where a fit for the
/// contract's period length is stored. `None` when the person has no contract.
pub(crate) fn contracts(
    events: &[Recorded],
    as_of: Timestamp,
    fits: &[RetentionFit],
) -> Option<Vec<Contract>> {
    let tenures = tenures(events, as_of);
    if tenures.is_empty() {
        return None;
    }
    Some(
        tenures
            .into_iter()
            .map(|t| {
                let fit = fits
                    .iter()
                    .find(|f| f.period == t.period)
                    .filter(|_| t.cancelled.is_none());
                let renewals = t.periods.saturating_sub(1);
                let d = discount_per_period(t.period);
                let renewal = fit.map(|f| f.params.renewal_probability(renewals));
                let derl = fit.and_then(|f| f.params.derl(d, renewals));
                let price = t.price.map(|(a, _)| a.to_f64());
                Contract {
                    contract: t.contract.to_string(),
                    period: t.period.as_str(),
                    plan: t.plan.as_ref().map(|p| p.to_string()),
                    started: t.started.to_string(),
                    periods: t.periods,
                    cancelled: t.cancelled.map(|(d, _)| d.to_string()),
                    cancel_reason: t.cancelled.and_then(|(_, r)| r),
                    price,
                    currency: t.price.and_then(|(_, c)| c).map(|c| c.to_string()),
                    renewal_probability: renewal,
                    renewal_probability_interval: fit.and_then(|f| {
                        f.interval(Scale::Probability, |p| p.renewal_probability(renewals))
                    }),
                    expected_periods: derl,
                    expected_periods_interval: fit.and_then(|f| {
                        f.interval(Scale::Positive, |p| p.derl(d, renewals).unwrap_or(f64::NAN))
                    }),
                    expected_value: derl.zip(price).map(|(n, p)| n * p),
                    model: fit.map(|f| f.params.key()),
                    fit: fit.map(|f| f.info.clone()),
                    evidence: t.evidence,
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewEvent;

    fn recorded(lines: &[&str]) -> Vec<Recorded> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let e = NewEvent::from_json_line(l).unwrap();
                Recorded {
                    seq: i as i64 + 1,
                    at: e.at,
                    body: e.body,
                }
            })
            .collect()
    }

    fn start(id: &str, at: &str, period: &str) -> String {
        format!(
            r#"{{"source":"crm","id":"s-{id}","kind":"contract.started","person":"p","at":"{at}T09:00:00Z","contract":"{id}","period":"{period}","amount":"10.00","currency":"EUR"}}"#
        )
    }

    fn event(kind: &str, id: &str, at: &str) -> String {
        format!(
            r#"{{"source":"crm","id":"{kind}-{id}-{at}","kind":"{kind}","person":"p","at":"{at}T09:00:00Z","contract":"{id}"}}"#
        )
    }

    fn at(day: &str) -> Timestamp {
        Timestamp::parse(&format!("{day}T23:59:59Z")).unwrap()
    }

    #[test]
    fn a_running_monthly_contract_has_paid_for_every_month_begun_up_to_today() {
        let ev = recorded(&[&start("c1", "2024-01-31", "month")]);
        // Periods begin 31 Jan, 29 Feb (the last day of February), 31 Mar, 30 Apr.
        assert_eq!(tenures(&ev, at("2024-01-31"))[0].periods, 1);
        assert_eq!(tenures(&ev, at("2024-02-28"))[0].periods, 1);
        assert_eq!(tenures(&ev, at("2024-02-29"))[0].periods, 2);
        assert_eq!(tenures(&ev, at("2024-04-30"))[0].periods, 4);
        assert_eq!(tenures(&ev, at("2026-01-30"))[0].periods, 24);
    }

    #[test]
    fn a_cancellation_on_the_renewal_day_stops_the_contract_before_it_renews() {
        let ev = recorded(&[
            &start("c1", "2024-01-10", "month"),
            &event("contract.cancelled", "c1", "2024-04-10"),
        ]);
        let t = &tenures(&ev, at("2025-01-01"))[0];
        assert_eq!(t.periods, 3);
        assert!(t.cancelled.is_some());
        // Before the cancellation the contract was running.
        let before = &tenures(&ev, at("2024-04-09"))[0];
        assert_eq!((before.periods, before.cancelled), (3, None));
    }

    #[test]
    fn recorded_renewals_count_even_when_the_dates_say_fewer_periods() {
        let ev = recorded(&[
            &start("y", "2020-06-01", "year"),
            &event("contract.renewed", "y", "2021-05-20"),
            &event("contract.renewed", "y", "2021-05-21"),
        ]);
        assert_eq!(tenures(&ev, at("2021-05-30"))[0].periods, 3);
        assert_eq!(tenures(&ev, at("2023-06-01"))[0].periods, 4);
    }

    #[test]
    fn weekly_and_quarterly_periods_follow_the_calendar() {
        let ev = recorded(&[
            &start("w", "2024-01-01", "week"),
            &start("q", "2024-01-01", "quarter"),
        ]);
        let t = tenures(&ev, at("2024-12-31"));
        assert_eq!(t[0].periods, 53);
        assert_eq!(t[1].periods, 4);
    }

    #[test]
    fn a_running_contract_gets_its_renewal_chance_and_a_cancelled_one_none() {
        let ev = recorded(&[
            &start("a", "2024-01-01", "month"),
            &start("b", "2024-01-01", "month"),
            &event("contract.cancelled", "b", "2024-03-15"),
        ]);
        let fit = RetentionFit {
            period: Period::Month,
            params: RetentionParams::Sbg(sbg::Params {
                alpha: 0.704,
                beta: 1.182,
            }),
            uncertainty: None,
            info: FitInfo {
                model: "sbg",
                fitted_at: Timestamp::from_unix(0),
                calibration_end: Timestamp::from_unix(0),
                fitted_on_events: 2,
                fitted_on_people: 1,
            },
        };
        let c = contracts(&ev, at("2024-06-15"), &[fit]).unwrap();
        // Six months begun, five renewals: (β + 5)/(α + β + 5).
        assert_eq!(c[0].periods, 6);
        let expected = (1.182 + 5.0) / (0.704 + 1.182 + 5.0);
        assert!((c[0].renewal_probability.unwrap() - expected).abs() < 1e-12);
        assert!(c[0].expected_periods.unwrap() > 1.0);
        assert!(
            (c[0].expected_value.unwrap() - 10.0 * c[0].expected_periods.unwrap()).abs() < 1e-9
        );
        assert_eq!(c[1].periods, 3);
        assert_eq!(c[1].renewal_probability, None);
        assert_eq!(c[1].cancelled.as_deref(), Some("2024-03-15"));
    }

    #[test]
    fn without_a_contract_there_is_no_reading() {
        assert_eq!(contracts(&[], at("2024-01-01"), &[]), None);
    }
}
