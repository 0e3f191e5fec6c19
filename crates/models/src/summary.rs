//! From transaction lists to the `(x, t_x, T, zbar)` summaries the models use.
//!
//! It exists so every caller builds summaries the same way as the literature
//! and lifetimes' `summary_data_from_transaction_data` (with `freq="D"` and
//! `freq_multiplier` = days per unit): transactions on the same day count once
//! (their amounts summed), the first purchase day is the person's birth and is
//! not a repeat purchase, T runs from birth to the calibration end, and the
//! monetary value is the mean of the repeat purchase days' totals.
//!
//! Times are `f64` days since any fixed epoch (the Unix epoch in the tests);
//! the fractional part (time of day) is dropped, so day boundaries are those
//! of the epoch's time zone. The calibration end is inclusive: a transaction
//! on the calibration-end day belongs to calibration.

use crate::Summary;

/// Bad input to the summary functions.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    #[error("transaction {index}: time {value} is not finite")]
    InvalidTime { index: usize, value: f64 },
    #[error("transaction {index}: amount {value} is not finite")]
    InvalidAmount { index: usize, value: f64 },
    #[error("days per unit must be positive and finite, got {0}")]
    InvalidUnit(f64),
    #[error("period end {end} is not a finite time after {start}")]
    InvalidPeriod { start: f64, end: f64 },
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm), so callers without a date library can build inputs.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Transactions grouped by day, sorted: (day, summed amount).
fn by_day(transactions: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, SummaryError> {
    let mut days: Vec<(f64, f64)> = Vec::with_capacity(transactions.len());
    for (index, &(time, amount)) in transactions.iter().enumerate() {
        if !time.is_finite() {
            return Err(SummaryError::InvalidTime { index, value: time });
        }
        if !amount.is_finite() {
            return Err(SummaryError::InvalidAmount {
                index,
                value: amount,
            });
        }
        days.push((time.floor(), amount));
    }
    days.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(days.len());
    for (day, amount) in days {
        match out.last_mut() {
            Some(last) if last.0 == day => last.1 += amount,
            _ => out.push((day, amount)),
        }
    }
    Ok(out)
}

fn check_unit(days_per_unit: f64) -> Result<(), SummaryError> {
    if days_per_unit.is_finite() && days_per_unit > 0.0 {
        Ok(())
    } else {
        Err(SummaryError::InvalidUnit(days_per_unit))
    }
}

/// One person's calibration summary from `(time in days, amount)` pairs.
///
/// `days_per_unit` is 1 for a model in days, 7 for weeks. Returns `Ok(None)`
/// when the person's first purchase is after `calibration_end` (not yet a
/// customer). `monetary` is `None` when there is no repeat purchase.
pub fn summarize(
    transactions: &[(f64, f64)],
    calibration_end: f64,
    days_per_unit: f64,
) -> Result<Option<Summary>, SummaryError> {
    check_unit(days_per_unit)?;
    if !calibration_end.is_finite() {
        return Err(SummaryError::InvalidPeriod {
            start: f64::NEG_INFINITY,
            end: calibration_end,
        });
    }
    let end = calibration_end.floor();
    let days = by_day(transactions)?;
    let cal: Vec<&(f64, f64)> = days.iter().take_while(|d| d.0 <= end).collect();
    let (first, last) = match (cal.first(), cal.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => return Ok(None),
    };
    let x = cal.len() - 1;
    let monetary = if x > 0 {
        Some(cal[1..].iter().map(|d| d.1).sum::<f64>() / x as f64)
    } else {
        None
    };
    Ok(Some(Summary {
        frequency: x as f64,
        recency: (last - first) / days_per_unit,
        t: (end - first) / days_per_unit,
        monetary,
    }))
}

/// Number of purchase days in the holdout period `(calibration_end, holdout_end]`
/// (same-day transactions count once, as in calibration).
pub fn holdout_purchases(
    transactions: &[(f64, f64)],
    calibration_end: f64,
    holdout_end: f64,
) -> Result<usize, SummaryError> {
    if !(calibration_end.is_finite() && holdout_end.is_finite() && holdout_end >= calibration_end) {
        return Err(SummaryError::InvalidPeriod {
            start: calibration_end,
            end: holdout_end,
        });
    }
    let (start, end) = (calibration_end.floor(), holdout_end.floor());
    Ok(by_day(transactions)?
        .iter()
        .filter(|d| d.0 > start && d.0 <= end)
        .count())
}

/// Every repeat purchase day (birth excluded) up to `until`, for tracking
/// cumulative repeat purchases over calendar time.
pub fn repeat_purchase_days(
    transactions: &[(f64, f64)],
    until: f64,
) -> Result<Vec<f64>, SummaryError> {
    let until = until.floor();
    Ok(by_day(transactions)?
        .iter()
        .skip(1)
        .map(|d| d.0)
        .filter(|&d| d <= until)
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{bgnbd, testdata};
    use std::collections::BTreeMap;

    #[test]
    fn days_from_civil_counts_from_the_unix_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1997, 1, 1), 9862);
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn same_day_transactions_count_once_and_their_amounts_are_summed() {
        // Day 0: two purchases (birth). Day 7: two purchases (one repeat, 30 in
        // total). Day 14: one repeat of 10. Day 40: after the calibration end.
        let tx = [
            (0.2, 5.0),
            (0.9, 5.0),
            (7.1, 10.0),
            (7.5, 20.0),
            (14.0, 10.0),
            (40.0, 99.0),
        ];
        let s = summarize(&tx, 21.0, 7.0).unwrap().unwrap();
        assert_eq!(s.frequency, 2.0);
        assert_eq!(s.recency, 2.0);
        assert_eq!(s.t, 3.0);
        assert_eq!(s.monetary, Some(20.0));
        assert_eq!(holdout_purchases(&tx, 21.0, 50.0).unwrap(), 1);
        assert_eq!(
            repeat_purchase_days(&tx, 50.0).unwrap(),
            vec![7.0, 14.0, 40.0]
        );
    }

    #[test]
    fn a_single_purchase_gives_zero_frequency_and_no_monetary_value() {
        let s = summarize(&[(3.0, 12.0)], 10.0, 1.0).unwrap().unwrap();
        assert_eq!(
            (s.frequency, s.recency, s.t, s.monetary),
            (0.0, 0.0, 7.0, None)
        );
    }

    #[test]
    fn a_person_born_after_the_calibration_end_has_no_summary() {
        assert_eq!(summarize(&[(30.0, 1.0)], 10.0, 1.0).unwrap(), None);
        assert_eq!(summarize(&[], 10.0, 1.0).unwrap(), None);
    }

    #[test]
    fn summarize_rejects_bad_input() {
        assert!(matches!(
            summarize(&[(f64::NAN, 1.0)], 10.0, 1.0),
            Err(SummaryError::InvalidTime { index: 0, .. })
        ));
        assert!(matches!(
            summarize(&[(1.0, 1.0), (2.0, f64::INFINITY)], 10.0, 1.0),
            Err(SummaryError::InvalidAmount { index: 1, .. })
        ));
        assert_eq!(
            summarize(&[(1.0, 1.0)], 10.0, 0.0),
            Err(SummaryError::InvalidUnit(0.0))
        );
        assert!(matches!(
            holdout_purchases(&[(1.0, 1.0)], 10.0, 5.0),
            Err(SummaryError::InvalidPeriod { .. })
        ));
    }

    /// CDNOW sample transactions per person.
    pub(crate) fn cdnow_people() -> Vec<Vec<(f64, f64)>> {
        let mut people: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
        for t in testdata::cdnow_sample() {
            people
                .entry(t.customer)
                .or_default()
                .push((t.day, t.dollars));
        }
        people.into_values().collect()
    }

    #[test]
    fn summaries_built_from_raw_cdnow_transactions_match_the_published_summary_file() {
        let end = days_from_civil(1997, 9, 30) as f64;
        let people = cdnow_people();
        assert_eq!(people.len(), 2357);
        let ours: Vec<Summary> = people
            .iter()
            .map(|tx| summarize(tx, end, 7.0).unwrap().unwrap())
            .collect();
        let published = testdata::cdnow_with_monetary();
        for (i, (a, b)) in ours.iter().zip(&published).enumerate() {
            assert_eq!(a.frequency, b.frequency, "person {i}");
            assert!(
                (a.recency - b.recency).abs() < 0.006,
                "person {i}: {a:?} {b:?}"
            );
            assert!((a.t - b.t).abs() < 0.006, "person {i}");
            if a.frequency > 0.0 {
                let m = a.monetary.unwrap();
                assert!((m - b.monetary.unwrap()).abs() < 0.006, "person {i}: {m}");
            }
        }
    }

    #[test]
    fn bgnbd_fitted_on_summaries_of_raw_cdnow_transactions_is_within_one_percent_of_the_paper() {
        let end = days_from_civil(1997, 9, 30) as f64;
        let data: Vec<Summary> = cdnow_people()
            .iter()
            .map(|tx| summarize(tx, end, 7.0).unwrap().unwrap())
            .collect();
        let p = bgnbd::fit(&data).unwrap().params;
        for (got, want) in [
            (p.r, 0.2426),
            (p.alpha, 4.4135),
            (p.a, 0.7929),
            (p.b, 2.4258),
        ] {
            assert!((got / want - 1.0).abs() < 0.01, "{p:?}");
        }
    }
}
