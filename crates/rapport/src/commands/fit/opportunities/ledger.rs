//! `rapport fit --model bgbb` on the ledger: opportunities are calendar periods.
//!
//! BG/BB is for people who can only transact at set moments — a yearly appeal, an annual
//! event, a monthly issue — as Fader, Hardie & Shang's donors could give once a year. The
//! ledger has no event for "an opportunity was offered", so the opportunities are the
//! calendar periods themselves (`--opportunity year`, the default, or quarter, month, week),
//! exactly as the paper built its data from donation dates: a person's first period with a
//! transaction is where they start (not counted), every whole period after it up to the
//! calibration end is one opportunity, and a period counts as a transaction however many
//! orders or invoices it held. So a person who first gave in 2019 and gave again in 2021 and
//! 2022 has, at the end of 2024, x = 2, t_x = 3, n = 5.
//!
//! A period still running at the calibration end is not an opportunity yet; people whose
//! first transaction falls in it, or who have had no whole period since, are left out and
//! counted. Nothing is stored: the cards use the purchase models.

use std::io::Write;

use anyhow::{Context, anyhow, bail};
use chrono::Datelike;
use domain::Day;
use domain::event::Period;
use models::bgbb::Pattern;
use serde_json::json;

use super::super::MAX_PERIODS;
use super::Patterns;
use crate::cli::FitArgs;
use crate::moment;

/// The number of the calendar period holding `day`, counted from a fixed origin, so that
/// consecutive periods have consecutive numbers (weeks start on Monday).
fn period_number(period: Period, day: Day) -> i64 {
    let d = day.date();
    let (y, m0) = (i64::from(d.year()), i64::from(d.month0()));
    match period {
        Period::Year => y,
        Period::Quarter => y * 4 + m0 / 3,
        Period::Month => y * 12 + m0,
        // 1970-01-01 was a Thursday: three days on, periods begin on Mondays.
        Period::Week => (i64::from(day.days_since_epoch()) + 3).div_euclid(7),
    }
}

/// A person's pattern over the whole periods up to `last` (the last whole period by the
/// calibration end): `None` when they had no transaction by then or no whole period since.
/// `days` are the person's transaction days (days since the epoch), in any order.
pub(super) fn pattern(period: Period, days: &[f64], last: i64) -> Option<(u32, u32, u32)> {
    let mut numbers: Vec<i64> = days
        .iter()
        .map(|&d| period_number(period, Day::from_days(d as i32)))
        .filter(|&p| p <= last)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let (&first, later) = numbers.split_first()?;
    let n = u32::try_from(last - first).ok().filter(|&n| n > 0)?;
    let x = later.len() as u32;
    let t_x = later.last().map_or(0, |&p| (p - first) as u32);
    Some((x, t_x, n))
}

pub(in crate::commands::fit) fn run(
    app: &app::App,
    args: &FitArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let period = Period::parse(&args.opportunity).ok_or_else(|| {
        anyhow!(
            "--opportunity {:?}: choose year, quarter, month or week (how often people can transact)",
            args.opportunity
        )
    })?;
    let cal_day = match &args.calibration_end {
        Some(text) => Day::parse(text).map_err(|e| anyhow!("--calibration-end: {e}"))?,
        None => moment::as_of(args.as_of.as_deref())?.day(),
    };
    // The last whole period by the end of the calibration day.
    let last = period_number(period, Day::from_days(cal_day.days_since_epoch() + 1)) - 1;
    let (people, people_tx) = app.transactions().context("reading the ledger")?;
    let mut data = Patterns::default();
    let (mut too_new, mut none_yet) = (0usize, 0usize);
    for (person, tx) in people.iter().zip(&people_tx) {
        let days: Vec<f64> = tx.iter().map(|t| t.0).collect();
        match pattern(period, &days, last) {
            Some((x, t_x, n)) => {
                if n > MAX_PERIODS {
                    bail!(
                        "person {person}: {n} {}s since their first transaction; BG/BB takes \
                         at most {MAX_PERIODS} opportunities (choose a longer --opportunity)",
                        period.as_str()
                    );
                }
                let p = Pattern::new(x, t_x, n).map_err(|e| anyhow!("person {person}: {e}"))?;
                data.ids.push(person.to_string());
                data.origin.push(format!("person {person}"));
                data.rows.push((p, 1.0));
            }
            None if days
                .iter()
                .any(|&d| d <= f64::from(cal_day.days_since_epoch())) =>
            {
                too_new += 1
            }
            None => none_yet += 1,
        }
    }
    if data.rows.is_empty() {
        bail!(
            "nobody in {} had a whole {} after their first transaction by {}: BG/BB needs at \
             least one opportunity per person (try a shorter --opportunity or a later \
             --calibration-end)",
            app.describe(),
            period.as_str(),
            cal_day.date()
        );
    }
    let source = json!({
        "ledger": app.describe(),
        "opportunity": period.as_str(),
        "calibration_end": cal_day.date().to_string(),
        "left_out_no_whole_period_yet": too_new,
        "without_transactions": none_yet,
    });
    let note = format!(
        "Opportunities: every calendar {} after a person's first with an order or invoice, up \
         to the last whole one by {}; a {} with any transaction counts once.{}",
        period.as_str(),
        cal_day.date(),
        period.as_str(),
        if too_new > 0 {
            format!(
                " Left out: {too_new} {} whose first transaction is in the {} still running.",
                if too_new == 1 { "person" } else { "people" },
                period.as_str()
            )
        } else {
            String::new()
        }
    );
    super::fit_and_report(&data, source, Some(&note), args, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> f64 {
        f64::from(Day::parse(s).unwrap().days_since_epoch())
    }

    #[test]
    fn a_donor_of_2019_2021_and_2022_has_two_of_five_years_by_the_end_of_2024() {
        let last = period_number(Period::Year, Day::parse("2025-01-01").unwrap()) - 1;
        let days = [
            day("2021-03-01"),
            day("2019-12-31"),
            day("2022-05-05"),
            day("2022-06-06"),
        ];
        assert_eq!(pattern(Period::Year, &days, last), Some((2, 3, 5)));
    }

    #[test]
    fn a_period_still_running_is_no_opportunity_and_later_orders_do_not_count() {
        // Calibration ends 2024-06-30: the last whole quarter is 2024 Q2.
        let cal = Day::parse("2024-06-30").unwrap();
        let last = period_number(Period::Quarter, Day::from_days(cal.days_since_epoch() + 1)) - 1;
        assert_eq!(
            last,
            period_number(Period::Quarter, Day::parse("2024-04-01").unwrap())
        );
        let days = [day("2024-01-10"), day("2024-07-02")];
        assert_eq!(pattern(Period::Quarter, &days, last), Some((0, 0, 1)));
        // First bought in the last whole quarter: no opportunity yet.
        assert_eq!(pattern(Period::Quarter, &[day("2024-05-01")], last), None);
        assert_eq!(pattern(Period::Quarter, &[], last), None);
    }

    #[test]
    fn weeks_begin_on_monday() {
        let sunday = period_number(Period::Week, Day::parse("2024-06-02").unwrap());
        let monday = period_number(Period::Week, Day::parse("2024-06-03").unwrap());
        let next_sunday = period_number(Period::Week, Day::parse("2024-06-09").unwrap());
        assert_eq!(monday, sunday + 1);
        assert_eq!(next_sunday, monday);
    }
}
