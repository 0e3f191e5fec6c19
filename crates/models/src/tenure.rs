//! Contractual data: how many periods each customer kept their contract, for
//! the retention models ([`crate::sbg`], [`crate::bdw`]).
//!
//! It exists because in a contractual setting churn is observed, and the data
//! come in two shapes: a cohort's survivor counts per period (what the papers
//! publish and what a finance team keeps), or one row per customer (how many
//! periods they stayed, and whether they have left). Both reduce to two counts
//! per period: how many churned after exactly t periods, and how many are
//! still active after t periods (censored). A million customers are then a few
//! hundred numbers, which is what keeps the fits instant.
//!
//! Convention (Fader & Hardie 2007): every customer pays for period 1 when
//! acquired; T is the number of periods they stay, T ≥ 1; S(t) = P(T > t) is
//! the share still active at the start of period t + 1. A cohort's survivor
//! count at the start of period t (t = 0 being the cohort size) is S(t) times
//! the cohort.

use serde::{Deserialize, Serialize};

use crate::FitError;
use crate::special::log_sub_exp;

/// One customer's tenure.
///
/// * `periods`: periods the customer has paid for (T if they churned, the
///   periods observed so far if they are still active).
/// * `churned`: whether they have left (after `periods` periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenure {
    pub periods: u32,
    pub churned: bool,
}

/// Tenures grouped by period: `churned[t]` customers left after exactly t
/// periods (`churned[0]` is always 0), `active[t]` are still active after t
/// periods. Counts may be fractional (survival shares work as well as heads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    churned: Vec<f64>,
    active: Vec<f64>,
}

impl Durations {
    /// Groups per-customer tenures; a customer cannot churn after 0 periods.
    pub fn from_tenures(data: &[Tenure]) -> Result<Self, FitError> {
        if data.is_empty() {
            return Err(FitError::Empty);
        }
        let mut d = Durations::default();
        for (index, t) in data.iter().enumerate() {
            if t.churned && t.periods == 0 {
                return Err(FitError::ChurnAtPeriodZero { index });
            }
            d.add(t.periods as usize, t.churned, 1.0);
        }
        d.check_estimable()?;
        Ok(d)
    }

    /// A cohort's survivor counts: `survivors[0]` is the cohort size and
    /// `survivors[t]` how many were still active at the start of period t
    /// (after t periods); the last count is treated as still active (censored).
    ///
    /// Survivors must be finite and non-negative, never rise from one period
    /// to the next and never exceed the cohort.
    pub fn from_survivors(survivors: &[f64]) -> Result<Self, FitError> {
        let Some(&cohort) = survivors.first() else {
            return Err(FitError::Empty);
        };
        for (index, &v) in survivors.iter().enumerate() {
            if !v.is_finite() || v < 0.0 {
                return Err(FitError::InvalidValue {
                    index,
                    field: "survivors",
                    value: v,
                });
            }
        }
        if cohort == 0.0 {
            return Err(FitError::Empty);
        }
        for (period, pair) in survivors.windows(2).enumerate() {
            let (before, after) = (pair[0], pair[1]);
            if after > cohort {
                return Err(FitError::SurvivorsAboveCohort {
                    period: period + 1,
                    survivors: after,
                    cohort,
                });
            }
            if after > before {
                return Err(FitError::SurvivalRises {
                    period: period + 1,
                    before,
                    after,
                });
            }
        }
        let mut d = Durations::default();
        for (t, pair) in survivors.windows(2).enumerate() {
            d.add(t + 1, true, pair[0] - pair[1]);
        }
        let last = survivors.len() - 1;
        d.add(last, false, survivors[last]);
        d.check_estimable()?;
        Ok(d)
    }

    /// Adds another cohort or group of customers (cohorts of different ages
    /// fit together this way, each censored at its own age).
    pub fn extend(&mut self, other: &Durations) {
        for (t, &c) in other.churned.iter().enumerate() {
            self.add(t, true, c);
        }
        for (t, &a) in other.active.iter().enumerate() {
            self.add(t, false, a);
        }
    }

    fn add(&mut self, t: usize, churned: bool, count: f64) {
        if count == 0.0 {
            return;
        }
        if self.churned.len() <= t {
            self.churned.resize(t + 1, 0.0);
            self.active.resize(t + 1, 0.0);
        }
        if churned {
            self.churned[t] += count;
        } else {
            self.active[t] += count;
        }
    }

    fn check_estimable(&self) -> Result<(), FitError> {
        if self.churned.iter().all(|&c| c == 0.0) {
            return Err(FitError::NoChurn);
        }
        Ok(())
    }

    /// The longest tenure present.
    pub fn max_periods(&self) -> usize {
        self.churned.len().saturating_sub(1)
    }

    /// Customers who churned after exactly `t` periods.
    pub fn churned_at(&self, t: usize) -> f64 {
        self.churned.get(t).copied().unwrap_or(0.0)
    }

    /// Customers still active after `t` periods.
    pub fn active_at(&self, t: usize) -> f64 {
        self.active.get(t).copied().unwrap_or(0.0)
    }

    /// Log-likelihood and its gradient (natural parameters) of a duration
    /// model given ln S(t) and ∇ ln S(t) for t = 0..=max: churn after t
    /// periods has probability S(t − 1) − S(t), computed in log space;
    /// a customer still active after t periods contributes S(t).
    pub(crate) fn log_likelihood_and_gradient<const K: usize>(
        &self,
        ln_s: impl Fn(usize) -> (f64, [f64; K]),
    ) -> (f64, [f64; K]) {
        let mut ll = 0.0;
        let mut grad = [0.0; K];
        let mut prev = ln_s(0);
        if self.active_at(0) > 0.0 {
            ll += self.active_at(0) * prev.0;
            for (g, d) in grad.iter_mut().zip(prev.1) {
                *g += self.active_at(0) * d;
            }
        }
        for t in 1..=self.max_periods() {
            let cur = ln_s(t);
            let (c, a) = (self.churned_at(t), self.active_at(t));
            if c > 0.0 {
                let lp = log_sub_exp(prev.0, cur.0);
                // ∇ ln(S₀ − S₁) = (∇ln S₀ − w ∇ln S₁) / (1 − w), w = S₁/S₀.
                let w = (cur.0 - prev.0).exp();
                ll += c * lp;
                for ((g, p), q) in grad.iter_mut().zip(prev.1).zip(cur.1) {
                    *g += c * (p - w * q) / (1.0 - w);
                }
            }
            if a > 0.0 {
                ll += a * cur.0;
                for (g, q) in grad.iter_mut().zip(cur.1) {
                    *g += a * q;
                }
            }
            prev = cur;
        }
        (ll, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survivor_counts_become_churn_and_censored_counts() {
        let d = Durations::from_survivors(&[1000.0, 631.0, 468.0]).unwrap();
        assert_eq!(d.churned_at(1), 369.0);
        assert_eq!(d.churned_at(2), 163.0);
        assert_eq!(d.active_at(2), 468.0);
        assert_eq!(d.max_periods(), 2);
    }

    #[test]
    fn tenures_and_survivor_counts_of_the_same_people_group_alike() {
        let mut people = vec![
            Tenure {
                periods: 1,
                churned: true
            };
            3
        ];
        people.extend(vec![
            Tenure {
                periods: 2,
                churned: true
            };
            2
        ]);
        people.extend(vec![
            Tenure {
                periods: 2,
                churned: false
            };
            5
        ]);
        assert_eq!(
            Durations::from_tenures(&people).unwrap(),
            Durations::from_survivors(&[10.0, 7.0, 5.0]).unwrap()
        );
    }

    #[test]
    fn survival_that_rises_or_exceeds_the_cohort_is_refused() {
        assert_eq!(
            Durations::from_survivors(&[1000.0, 600.0, 650.0]),
            Err(FitError::SurvivalRises {
                period: 2,
                before: 600.0,
                after: 650.0
            })
        );
        assert_eq!(
            Durations::from_survivors(&[1000.0, 1200.0]),
            Err(FitError::SurvivorsAboveCohort {
                period: 1,
                survivors: 1200.0,
                cohort: 1000.0
            })
        );
        assert!(matches!(
            Durations::from_survivors(&[1000.0, f64::NAN]),
            Err(FitError::InvalidValue { index: 1, .. })
        ));
        assert_eq!(
            Durations::from_survivors(&[1000.0, 1000.0]),
            Err(FitError::NoChurn)
        );
        assert_eq!(Durations::from_survivors(&[]), Err(FitError::Empty));
        assert_eq!(
            Durations::from_tenures(&[Tenure {
                periods: 0,
                churned: true
            }]),
            Err(FitError::ChurnAtPeriodZero { index: 0 })
        );
    }
}
