//! Loyalty and value: what the fitted repeat-buying models say about one person.
//!
//! The models themselves live in the `models` crate and are fitted on everyone at once by
//! `rapport fit`; here each person's own purchase history as of `T` (their summary: repeat
//! purchases, time from first to last purchase, time from first purchase to `T`) is put
//! through the stored parameters. That is cheap — a handful of special functions per
//! person — so it runs inside the per-person readings.
//!
//! Transactions are `order.placed`, or `invoice.issued` for a person with no orders (so a
//! business that invoices without orders is still counted once per sale); several on one
//! day count once, their amounts summed (READINGS.md, "loyalty and value").

use models::gamma_gamma::{self, ClvOptions};
use models::interval::{Interval, Parameters, Scale, Uncertainty};
use models::{PurchaseModel, Summary, TimeUnit, bgnbd, ggompertz_nbd, mbgnbd, pareto_nbd};
use serde::Serialize;

use super::Recorded;
use crate::event::{Body, EndReason};
use crate::values::{SECONDS_PER_DAY, Timestamp};

/// Days ahead that `expected_purchases` looks (about three months).
pub const HORIZON_DAYS: u32 = 91;
/// Months of customer lifetime value.
pub const CLV_MONTHS: u32 = 12;
/// Discount rate per month for CLV (1 %, about 12.7 % a year).
pub const CLV_MONTHLY_DISCOUNT: f64 = 0.01;

/// The purchase model readings use: whichever of the four was stored last (by `rapport fit
/// --model`, or `rapport fit --compare --use` after comparing them on a holdout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PurchaseParams {
    BgNbd(bgnbd::Params),
    ParetoNbd(pareto_nbd::Params),
    MbgNbd(mbgnbd::Params),
    GGompertzNbd(ggompertz_nbd::Params),
}

impl PurchaseParams {
    /// The model's key as `rapport fit --model` names it.
    pub fn key(&self) -> &'static str {
        match self {
            PurchaseParams::BgNbd(_) => "bgnbd",
            PurchaseParams::ParetoNbd(_) => "pareto-nbd",
            PurchaseParams::MbgNbd(_) => "mbgnbd",
            PurchaseParams::GGompertzNbd(_) => "ggompertz-nbd",
        }
    }

    /// The parameters in their model's order (as the stored covariance is).
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            PurchaseParams::BgNbd(p) => p.to_vec(),
            PurchaseParams::ParetoNbd(p) => p.to_vec(),
            PurchaseParams::MbgNbd(p) => p.to_vec(),
            PurchaseParams::GGompertzNbd(p) => p.to_vec(),
        }
    }

    /// The same model with other parameter values (for intervals).
    pub fn with(&self, v: &[f64]) -> PurchaseParams {
        match self {
            PurchaseParams::BgNbd(_) => PurchaseParams::BgNbd(bgnbd::Params::from_slice(v)),
            PurchaseParams::ParetoNbd(_) => {
                PurchaseParams::ParetoNbd(pareto_nbd::Params::from_slice(v))
            }
            PurchaseParams::MbgNbd(_) => PurchaseParams::MbgNbd(mbgnbd::Params::from_slice(v)),
            PurchaseParams::GGompertzNbd(_) => {
                PurchaseParams::GGompertzNbd(ggompertz_nbd::Params::from_slice(v))
            }
        }
    }

    fn model(&self) -> &dyn PurchaseModel {
        match self {
            PurchaseParams::BgNbd(p) => p,
            PurchaseParams::ParetoNbd(p) => p,
            PurchaseParams::MbgNbd(p) => p,
            PurchaseParams::GGompertzNbd(p) => p,
        }
    }
}

impl PurchaseModel for PurchaseParams {
    fn name(&self) -> &'static str {
        self.model().name()
    }
    fn p_alive(&self, s: &Summary) -> f64 {
        self.model().p_alive(s)
    }
    fn expected_purchases(&self, s: &Summary, horizon: f64) -> f64 {
        self.model().expected_purchases(s, horizon)
    }
    fn expected_population(&self, t: f64) -> f64 {
        self.model().expected_population(t)
    }
}

/// Where a fitted model came from: shown beside every figure it produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitInfo {
    /// `bgnbd` or `gamma-gamma`.
    pub model: &'static str,
    pub fitted_at: Timestamp,
    /// The end of the calibration period the model was fitted up to.
    pub calibration_end: Timestamp,
    /// Transactions (purchase days) and people the fit used.
    pub fitted_on_events: u64,
    pub fitted_on_people: u64,
}

/// The stored fits readings use; either may be missing (then its reading is `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Models {
    /// The chosen purchase model's parameters with the time unit they were fitted in.
    pub purchase: Option<(PurchaseParams, TimeUnit, FitInfo)>,
    /// Gamma-Gamma parameters (money units of the ledger's amounts).
    pub spend: Option<(gamma_gamma::Params, FitInfo)>,
    /// How sure the purchase model's parameters are (absent for a fit stored before rapport
    /// kept its covariance): the loyalty figures then carry 90 % intervals.
    pub purchase_uncertainty: Option<Uncertainty>,
    /// The latest retention fit (sBG or beta-discrete-Weibull) for each period length of
    /// contract: contracts' renewal figures.
    pub retention: Vec<super::RetentionFit>,
}

/// Which models readings were computed with (not serialised: the readings show the fit
/// they used; this says, for a person with no reading, whether a fit was there at all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fitted {
    pub purchase: bool,
    pub spend: bool,
}

/// A person's transactions as `(days since 1970-01-01, amount)`: their `order.placed`
/// events, or their `invoice.issued` events if they have no orders. Amounts are in the
/// ledger's units (currencies are not converted).
pub fn transactions(events: &[Recorded]) -> Vec<(f64, f64)> {
    let day = |t: Timestamp| t.unix().div_euclid(SECONDS_PER_DAY) as f64;
    let orders: Vec<(f64, f64)> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::OrderPlaced { amount, .. } => Some((day(e.at), amount.to_f64())),
            _ => None,
        })
        .collect();
    if !orders.is_empty() {
        return orders;
    }
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::InvoiceIssued { amount, .. } => Some((day(e.at), amount.to_f64())),
            _ => None,
        })
        .collect()
}

/// How likely the person is still buying, and how much they will buy (BG/NBD).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loyalty {
    /// Probability the person is still "alive" (has not silently left) at `T`.
    /// BG/NBD gives exactly 1 to everyone with no repeat purchase: see `note`.
    pub p_alive: f64,
    /// The 90 % interval of `p_alive` from the uncertainty of the fitted parameters (see
    /// `models::interval`); absent when the fit kept no covariance.
    pub p_alive_interval: Option<Interval>,
    /// Expected purchases in the next `horizon_days` days.
    pub expected_purchases: f64,
    /// The 90 % interval of `expected_purchases`, as for `p_alive_interval`.
    pub expected_purchases_interval: Option<Interval>,
    pub horizon_days: u32,
    /// Purchase days (transactions on one day count once).
    pub purchases: usize,
    /// Repeat purchase days (all but the first): the model's x.
    pub frequency: usize,
    /// Weeks from the first to the last purchase (the model's t_x, in weeks).
    pub recency_weeks: f64,
    /// Weeks from the first purchase to `T` (the model's T, in weeks).
    pub age_weeks: f64,
    /// Days from the last purchase to `T`.
    pub days_since_last: i64,
    pub first_purchase: String,
    pub last_purchase: String,
    /// A caveat the figures need, if any.
    pub note: Option<&'static str>,
    #[serde(flatten)]
    pub fit: FitInfo,
    pub unit: &'static str,
    /// Ledger sequence numbers of the transactions used.
    pub evidence: Vec<i64>,
}

/// What a person is expected to spend (Gamma-Gamma) and be worth (CLV).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    /// Expected spend per future purchase: the person's own mean repeat spend pulled
    /// towards everyone's, the more so the fewer repeat purchases they made.
    pub expected_spend: f64,
    /// The person's own mean repeat-purchase spend (first purchase excluded).
    pub mean_repeat_spend: Option<f64>,
    pub repeat_purchases: usize,
    /// Discounted value of the next `horizon_months` months of purchases (needs BG/NBD).
    pub clv: Option<f64>,
    pub horizon_months: u32,
    pub monthly_discount: f64,
    /// The currency of the person's transactions when they all share one.
    pub currency: Option<String>,
    #[serde(flatten)]
    pub fit: FitInfo,
    pub evidence: Vec<i64>,
}

/// The latest `relationship.ended` at or before `T`, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ended {
    pub at: Timestamp,
    pub reason: EndReason,
    pub evidence: Vec<i64>,
}

pub const NO_REPEAT_NOTE: &str = "BG/NBD gives p_alive = 1 to everyone with no repeat purchase: \
     it cannot tell whether a one-time buyer has left";

pub(crate) fn ended(events: &[Recorded]) -> Option<Ended> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::RelationshipEnded { reason } => Some((e, *reason)),
            _ => None,
        })
        .max_by_key(|(e, _)| (e.at, e.seq))
        .map(|(e, reason)| Ended {
            at: e.at,
            reason,
            evidence: vec![e.seq],
        })
}

fn unit_name(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::Days => "days",
        TimeUnit::Weeks => "weeks",
    }
}

/// Loyalty and value of one person from their events up to `as_of` (already cut there).
pub(crate) fn loyalty_and_value(
    events: &[Recorded],
    as_of: Timestamp,
    models: &Models,
) -> (Option<Loyalty>, Option<Value>) {
    if models.purchase.is_none() && models.spend.is_none() {
        return (None, None);
    }
    let tx = transactions(events);
    if tx.is_empty() {
        return (None, None);
    }
    let uses_orders = events
        .iter()
        .any(|e| matches!(e.body, Body::OrderPlaced { .. }));
    let evidence: Vec<i64> = events
        .iter()
        .filter(|e| {
            if uses_orders {
                matches!(e.body, Body::OrderPlaced { .. })
            } else {
                matches!(e.body, Body::InvoiceIssued { .. })
            }
        })
        .map(|e| e.seq)
        .collect();
    let end = as_of.unix().div_euclid(SECONDS_PER_DAY) as f64;
    let unit = models
        .purchase
        .as_ref()
        .map_or(TimeUnit::Weeks, |(_, u, _)| *u);
    let Ok(Some(summary)) = models::summary::summarize(&tx, end, unit.days()) else {
        return (None, None);
    };
    let weeks = unit.days() / 7.0;
    let first_day = end - summary.t * unit.days();
    let last_day = first_day + summary.recency * unit.days();
    let date = |d: f64| {
        crate::values::Day::from_days(d.round() as i32)
            .date()
            .to_string()
    };
    let x = summary.frequency as usize;

    let loyalty = models.purchase.as_ref().map(|(p, unit, info)| {
        let horizon = f64::from(HORIZON_DAYS) / unit.days();
        let u = models.purchase_uncertainty.as_ref();
        Loyalty {
            p_alive: p.p_alive(&summary),
            p_alive_interval: u
                .and_then(|u| u.interval(Scale::Probability, |v| p.with(v).p_alive(&summary))),
            expected_purchases: p.expected_purchases(&summary, horizon),
            expected_purchases_interval: u.and_then(|u| {
                u.interval(Scale::Positive, |v| {
                    p.with(v).expected_purchases(&summary, horizon)
                })
            }),
            horizon_days: HORIZON_DAYS,
            purchases: x + 1,
            frequency: x,
            recency_weeks: summary.recency * weeks,
            age_weeks: summary.t * weeks,
            days_since_last: (end - last_day).round() as i64,
            first_purchase: date(first_day),
            last_purchase: date(last_day),
            note: (x == 0 && matches!(p, PurchaseParams::BgNbd(_))).then_some(NO_REPEAT_NOTE),
            fit: info.clone(),
            unit: unit_name(*unit),
            evidence: evidence.clone(),
        }
    });

    let value = models.spend.as_ref().map(|(g, info)| {
        // A non-positive mean (refunds booked as orders) says nothing about spend.
        let own = summary.monetary.filter(|m| *m > 0.0 && x > 0);
        let s = Summary {
            monetary: own,
            ..summary
        };
        let clv = models.purchase.as_ref().map(|(p, unit, _)| {
            g.clv(
                p,
                &s,
                &ClvOptions {
                    months: CLV_MONTHS,
                    monthly_discount_rate: CLV_MONTHLY_DISCOUNT,
                    unit: *unit,
                },
            )
        });
        Value {
            expected_spend: g.expected_spend(&s),
            mean_repeat_spend: own,
            repeat_purchases: x,
            clv: clv.filter(|v| v.is_finite()),
            horizon_months: CLV_MONTHS,
            monthly_discount: CLV_MONTHLY_DISCOUNT,
            currency: currency(events, uses_orders),
            fit: info.clone(),
            evidence,
        }
    });
    (loyalty, value.filter(|v| v.expected_spend.is_finite()))
}

fn currency(events: &[Recorded], uses_orders: bool) -> Option<String> {
    let mut found: Option<String> = None;
    for e in events {
        let c = match (&e.body, uses_orders) {
            (Body::OrderPlaced { currency, .. }, true) => currency.as_ref().map(|c| c.to_string()),
            (Body::InvoiceIssued { currency, .. }, false) => Some(currency.to_string()),
            _ => continue,
        };
        match (&found, c) {
            (_, None) => return None,
            (None, Some(c)) => found = Some(c),
            (Some(f), Some(c)) if *f == c => {}
            _ => return None,
        }
    }
    found
}

/// "very likely still with us" and so on, for a probability of being alive.
pub fn alive_words(p: f64) -> &'static str {
    if p >= 0.9 {
        "very likely still with us"
    } else if p >= 0.7 {
        "likely still with us"
    } else if p >= 0.4 {
        "may be drifting away"
    } else if p >= 0.15 {
        "probably gone"
    } else {
        "very likely gone"
    }
}

/// "3 days", "5 weeks", "4 months", "2 years".
pub fn ago(days: i64) -> String {
    let n = |v: i64, one: &str, many: &str| {
        if v == 1 {
            format!("1 {one}")
        } else {
            format!("{v} {many}")
        }
    };
    match days {
        d if d < 14 => n(d, "day", "days"),
        d if d < 61 => n((d as f64 / 7.0).round() as i64, "week", "weeks"),
        d if d < 730 => n((d as f64 / 30.44).round() as i64, "month", "months"),
        d => n((d as f64 / 365.25).round() as i64, "year", "years"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Amount, Currency, Ref};

    fn order(seq: i64, day: &str, amount: &str) -> Recorded {
        Recorded {
            seq,
            at: Timestamp::parse(&format!("{day}T10:00:00Z")).unwrap(),
            body: Body::OrderPlaced {
                order: Ref::parse(&format!("o{seq}")).unwrap(),
                amount: Amount::parse(amount, 4).unwrap(),
                currency: Some(Currency::parse("USD").unwrap()),
                lines: vec![],
            },
        }
    }

    fn info(model: &'static str) -> FitInfo {
        FitInfo {
            model,
            fitted_at: Timestamp::from_unix(0),
            calibration_end: Timestamp::from_unix(0),
            fitted_on_events: 1,
            fitted_on_people: 1,
        }
    }

    fn cdnow() -> Models {
        Models {
            purchase: Some((
                PurchaseParams::BgNbd(bgnbd::Params {
                    r: 0.2426,
                    alpha: 4.4135,
                    a: 0.7929,
                    b: 2.4258,
                }),
                TimeUnit::Weeks,
                info("bgnbd"),
            )),
            spend: Some((
                gamma_gamma::Params {
                    p: 6.2488,
                    q: 3.7446,
                    v: 15.4477,
                },
                info("gamma-gamma"),
            )),
            purchase_uncertainty: None,
            retention: Vec::new(),
        }
    }

    #[test]
    fn without_a_stored_fit_there_is_no_loyalty_or_value() {
        let ev = [order(1, "2024-01-01", "10")];
        let as_of = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        assert_eq!(
            loyalty_and_value(&ev, as_of, &Models::default()),
            (None, None)
        );
    }

    #[test]
    fn a_one_time_buyer_gets_p_alive_one_with_the_caveat_said() {
        let ev = [order(1, "2024-01-01", "10")];
        let as_of = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let (l, v) = loyalty_and_value(&ev, as_of, &cdnow());
        let l = l.unwrap();
        assert_eq!(l.p_alive, 1.0);
        assert_eq!(l.frequency, 0);
        assert_eq!(l.note, Some(NO_REPEAT_NOTE));
        let v = v.unwrap();
        assert_eq!(v.mean_repeat_spend, None);
        assert_eq!(v.currency.as_deref(), Some("USD"));
        // No repeat purchase: the population mean p·v/(q − 1).
        assert!((v.expected_spend - 6.2488 * 15.4477 / 2.7446).abs() < 1e-3);
    }

    #[test]
    fn a_repeat_buyer_is_summarised_as_of_the_moment_and_same_day_orders_count_once() {
        let ev = [
            order(1, "2024-01-01", "10"),
            order(2, "2024-01-01", "5"),
            order(3, "2024-02-05", "20"),
            order(4, "2024-03-04", "40"),
            order(5, "2024-09-01", "99"),
        ];
        let as_of = Timestamp::parse("2024-04-01T12:00:00Z").unwrap();
        let cut: Vec<Recorded> = ev.iter().filter(|e| e.at <= as_of).cloned().collect();
        let (l, v) = loyalty_and_value(&cut, as_of, &cdnow());
        let l = l.unwrap();
        assert_eq!((l.purchases, l.frequency), (3, 2));
        assert_eq!(l.recency_weeks, 63.0 / 7.0);
        assert_eq!(l.age_weeks, 91.0 / 7.0);
        assert_eq!(l.days_since_last, 28);
        assert_eq!(l.last_purchase, "2024-03-04");
        assert!(l.p_alive > 0.0 && l.p_alive < 1.0);
        assert!(l.expected_purchases > 0.0);
        let v = v.unwrap();
        assert_eq!(v.mean_repeat_spend, Some(30.0));
        assert!(v.clv.unwrap() > 0.0);
    }

    #[test]
    fn with_the_fits_covariance_every_loyalty_figure_has_an_interval_around_it() {
        // The published CDNOW standard errors of r, alpha, a, b on the log scale.
        let se = [
            0.0125 / 0.2426,
            0.3785 / 4.4135,
            0.1855 / 0.7929,
            0.7053 / 2.4258,
        ];
        let mut cov = vec![0.0; 16];
        for (i, s) in se.iter().enumerate() {
            cov[i * 4 + i] = s * s;
        }
        let mut models = cdnow();
        let (p, ..) = models.purchase.clone().unwrap();
        models.purchase_uncertainty = Uncertainty::new(&p.to_vec(), &cov);
        let ev = [
            order(1, "2024-01-01", "10"),
            order(2, "2024-02-05", "20"),
            order(3, "2024-03-04", "40"),
        ];
        let as_of = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let l = loyalty_and_value(&ev, as_of, &models).0.unwrap();
        let i = l.p_alive_interval.unwrap();
        assert!(i.low < l.p_alive && l.p_alive < i.high && i.low > 0.0 && i.high < 1.0);
        let i = l.expected_purchases_interval.unwrap();
        assert!(i.low < l.expected_purchases && l.expected_purchases < i.high);
        let json = serde_json::to_value(&l).unwrap();
        assert!(json["p_alive_interval"]["low"].is_f64());

        // A one-time buyer's p_alive is 1 under BG/NBD whatever the parameters: no spread.
        let once = loyalty_and_value(&ev[..1], as_of, &models).0.unwrap();
        let i = once.p_alive_interval.unwrap();
        assert_eq!((i.low, i.high), (1.0, 1.0));
        // Without a covariance (a fit stored before it was kept) there is no interval.
        let plain = loyalty_and_value(&ev, as_of, &cdnow()).0.unwrap();
        assert_eq!(plain.p_alive_interval, None);
    }

    #[test]
    fn invoices_count_only_for_people_without_orders() {
        let inv = |seq, day: &str| Recorded {
            seq,
            at: Timestamp::parse(&format!("{day}T00:00:00Z")).unwrap(),
            body: Body::InvoiceIssued {
                invoice: Ref::parse(&format!("i{seq}")).unwrap(),
                amount: Amount::parse("7", 4).unwrap(),
                currency: Currency::parse("EUR").unwrap(),
                due: crate::values::Day::parse("2030-01-01").unwrap(),
                reference: None,
                lines: Vec::new(),
            },
        };
        assert_eq!(transactions(&[inv(1, "1970-01-03")]), vec![(2.0, 7.0)]);
        assert_eq!(
            transactions(&[inv(1, "1970-01-03"), order(2, "1970-01-05", "3")]),
            vec![(4.0, 3.0)]
        );
    }

    #[test]
    fn time_since_the_last_purchase_reads_in_sensible_units() {
        assert_eq!(ago(1), "1 day");
        assert_eq!(ago(21), "3 weeks");
        assert_eq!(ago(120), "4 months");
        assert_eq!(ago(800), "2 years");
    }
}
