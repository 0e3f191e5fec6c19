//! Calibration/holdout validation, as in the BG/NBD paper's figures 2 and 4.
//!
//! A model that fits the calibration period can still predict badly; the
//! papers' test is to fit on one period and compare predictions with what
//! people actually did in the next. This module computes that comparison for
//! any [`PurchaseModel`] and renders it as a self-contained SVG a person can
//! read: cumulative repeat purchases week by week (predicted vs actual) and
//! mean holdout purchases by calibration frequency.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::summary::{self, SummaryError};
use crate::{PurchaseModel, Summary};

/// Calibration and holdout data for a cohort, built by [`prepare`].
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutData {
    /// Calibration summaries, one per person born by the calibration end.
    pub calibration: Vec<Summary>,
    /// Actual purchase days in the holdout period, same order.
    pub holdout: Vec<f64>,
    /// Birth day of each person, same order.
    pub births: Vec<f64>,
    /// Every repeat purchase day of the cohort, calibration and holdout.
    pub repeat_days: Vec<f64>,
    pub calibration_end: f64,
    pub holdout_end: f64,
    pub days_per_unit: f64,
}

/// Splits per-person `(time in days, amount)` transactions into calibration
/// summaries and holdout counts (see [`crate::summary`] for the rules). People
/// born after the calibration end are left out.
pub fn prepare(
    people: &[Vec<(f64, f64)>],
    calibration_end: f64,
    holdout_end: f64,
    days_per_unit: f64,
) -> Result<HoldoutData, SummaryError> {
    let mut out = HoldoutData {
        calibration: Vec::new(),
        holdout: Vec::new(),
        births: Vec::new(),
        repeat_days: Vec::new(),
        calibration_end: calibration_end.floor(),
        holdout_end: holdout_end.floor(),
        days_per_unit,
    };
    for tx in people {
        let Some(s) = summary::summarize(tx, calibration_end, days_per_unit)? else {
            continue;
        };
        out.births
            .push(calibration_end.floor() - s.t * days_per_unit);
        out.holdout
            .push(summary::holdout_purchases(tx, calibration_end, holdout_end)? as f64);
        out.repeat_days
            .extend(summary::repeat_purchase_days(tx, holdout_end)?);
        out.calibration.push(s);
    }
    Ok(out)
}

/// One point of the cumulative tracking curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackingPoint {
    /// Time since the first birth of the cohort, in model units.
    pub t: f64,
    pub actual: f64,
    pub predicted: f64,
}

/// Holdout purchases of the people with one calibration frequency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrequencyBucket {
    /// Calibration frequency; the last bucket holds this many *or more*.
    pub frequency: u32,
    pub open_ended: bool,
    pub people: usize,
    pub actual_total: f64,
    pub mean_actual: f64,
    pub mean_predicted: f64,
}

/// The calibration/holdout comparison for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutReport {
    pub model: String,
    pub days_per_unit: f64,
    /// Calibration end in model units since the cohort's first birth.
    pub calibration_end: f64,
    /// Holdout length in model units.
    pub holdout_length: f64,
    pub tracking: Vec<TrackingPoint>,
    pub by_frequency: Vec<FrequencyBucket>,
    /// Pearson correlation of predicted and actual holdout purchases per
    /// person; `None` if either has no variance.
    pub correlation: Option<f64>,
    pub people: usize,
    pub predicted_total: f64,
    pub actual_total: f64,
}

/// Highest calibration frequency with its own bucket (the papers' 7+).
pub const OPEN_BUCKET: u32 = 7;

/// Compares `model`'s predictions with the holdout period.
pub fn check<M: PurchaseModel + ?Sized>(model: &M, data: &HoldoutData) -> HoldoutReport {
    let unit = data.days_per_unit;
    let holdout_length = (data.holdout_end - data.calibration_end) / unit;
    let predicted: Vec<f64> = data
        .calibration
        .iter()
        .map(|s| model.expected_purchases(s, holdout_length))
        .collect();

    // (b) by calibration frequency 0..=7+.
    let mut buckets: Vec<(usize, f64, f64)> = vec![(0, 0.0, 0.0); OPEN_BUCKET as usize + 1];
    for ((s, &p), &a) in data.calibration.iter().zip(&predicted).zip(&data.holdout) {
        let k = (s.frequency.max(0.0) as usize).min(OPEN_BUCKET as usize);
        buckets[k].0 += 1;
        buckets[k].1 += a;
        buckets[k].2 += p;
    }
    let by_frequency = buckets
        .iter()
        .enumerate()
        .map(|(k, &(n, a, p))| {
            let d = n.max(1) as f64;
            FrequencyBucket {
                frequency: k as u32,
                open_ended: k as u32 == OPEN_BUCKET,
                people: n,
                actual_total: a,
                mean_actual: a / d,
                mean_predicted: p / d,
            }
        })
        .collect();

    // (a) cumulative repeat purchases, one point per model time unit, with
    // the prediction Σ E[X(τ − birth)] over people born before τ. Births are
    // grouped by day: a cohort has few distinct birth days.
    let origin = data.births.iter().copied().fold(f64::INFINITY, f64::min);
    let mut births: BTreeMap<i64, f64> = BTreeMap::new();
    for &b in &data.births {
        *births.entry(b as i64).or_insert(0.0) += 1.0;
    }
    let mut repeat_days = data.repeat_days.clone();
    repeat_days.sort_by(f64::total_cmp);
    let steps = if origin.is_finite() {
        ((data.holdout_end - origin) / unit).ceil().max(0.0) as usize
    } else {
        0
    };
    let tracking = (1..=steps)
        .map(|k| {
            let tau = origin + k as f64 * unit;
            let actual = repeat_days.partition_point(|&d| d <= tau) as f64;
            let predicted = births
                .iter()
                .filter(|&(&b, _)| (b as f64) < tau)
                .map(|(&b, &n)| n * model.expected_population((tau - b as f64) / unit))
                .sum();
            TrackingPoint {
                t: k as f64,
                actual,
                predicted,
            }
        })
        .collect();

    HoldoutReport {
        model: model.name().to_string(),
        days_per_unit: unit,
        calibration_end: if origin.is_finite() {
            (data.calibration_end - origin) / unit
        } else {
            0.0
        },
        holdout_length,
        tracking,
        by_frequency,
        correlation: correlation(&predicted, &data.holdout),
        people: data.calibration.len(),
        predicted_total: predicted.iter().sum(),
        actual_total: data.holdout.iter().sum(),
    }
}

/// Pearson correlation; `None` for fewer than two points or no variance.
pub fn correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mx = x[..n].iter().sum::<f64>() / nf;
    let my = y[..n].iter().sum::<f64>() / nf;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x[..n].iter().zip(&y[..n]) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    r.is_finite().then_some(r)
}

/// Escapes text for SVG/XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// "Nice" tick positions (1, 2, 5 × 10^k steps) covering [0, max].
fn ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

fn fmt_tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Plot area of one panel and its data ranges.
struct Panel {
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    xmax: f64,
    ymax: f64,
}

impl Panel {
    fn px(&self, x: f64) -> f64 {
        self.x0 + x / self.xmax * self.w
    }
    fn py(&self, y: f64) -> f64 {
        self.y0 + self.h - y / self.ymax * self.h
    }

    /// Axes, grid lines, tick labels and axis titles.
    fn axes(&self, out: &mut String, xt: &[f64], yt: &[f64], xlabel: &str, ylabel: &str) {
        for &y in yt {
            let py = self.py(y);
            let _ = write!(
                out,
                r##"<line x1="{:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#e5e7eb"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
                self.x0,
                self.x0 + self.w,
                self.x0 - 6.0,
                py + 4.0,
                escape(&fmt_tick(y))
            );
        }
        for &x in xt {
            let px = self.px(x);
            let _ = write!(
                out,
                r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#6b7280"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"##,
                self.y0 + self.h,
                self.y0 + self.h + 5.0,
                self.y0 + self.h + 18.0,
                escape(&fmt_tick(x))
            );
        }
        let _ = write!(
            out,
            r##"<line x1="{x0:.1}" y1="{yb:.1}" x2="{xr:.1}" y2="{yb:.1}" stroke="#374151"/><line x1="{x0:.1}" y1="{yt:.1}" x2="{x0:.1}" y2="{yb:.1}" stroke="#374151"/><text x="{xm:.1}" y="{xl:.1}" text-anchor="middle" class="label">{}</text><text transform="translate({yl:.1},{ym:.1}) rotate(-90)" text-anchor="middle" class="label">{}</text>"##,
            escape(xlabel),
            escape(ylabel),
            x0 = self.x0,
            xr = self.x0 + self.w,
            yt = self.y0,
            yb = self.y0 + self.h,
            xm = self.x0 + self.w / 2.0,
            xl = self.y0 + self.h + 46.0,
            yl = self.x0 - 48.0,
            ym = self.y0 + self.h / 2.0,
        );
    }
}

const ACTUAL: &str = "#1f2937";
const PREDICTED: &str = "#d9480f";

fn legend(out: &mut String, x: f64, y: f64, dashed: bool, bars: bool) {
    let entries = [("Actual", ACTUAL, false), ("Predicted", PREDICTED, dashed)];
    for (i, (name, colour, dash)) in entries.iter().enumerate() {
        let yy = y + i as f64 * 18.0;
        if bars {
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{:.1}" width="14" height="10" fill="{colour}"/>"##,
                yy - 9.0
            );
        } else {
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2.5"{}/>"##,
                yy - 4.0,
                x + 22.0,
                yy - 4.0,
                if *dash {
                    r#" stroke-dasharray="6 4""#
                } else {
                    ""
                }
            );
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{yy:.1}" class="legend">{name}</text>"##,
            x + 28.0
        );
    }
}

/// Renders the report as one self-contained SVG: a title, the cumulative
/// tracking panel (with the calibration end marked) and the by-frequency
/// panel, each with axes, ticks, labels and a legend. All text is escaped.
pub fn svg(report: &HoldoutReport) -> String {
    let (width, height) = (1000.0, 500.0);
    let mut out = String::with_capacity(16 * 1024);
    let unit_name = if report.days_per_unit == 7.0 {
        "weeks".to_string()
    } else if report.days_per_unit == 1.0 {
        "days".to_string()
    } else {
        format!("units of {} days", fmt_tick(report.days_per_unit))
    };
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"><style>.title{{font-size:18px;font-weight:600;fill:#111827}}.sub{{font-size:13px;fill:#4b5563}}.panel{{font-size:14px;font-weight:600;fill:#111827}}.tick{{font-size:11px;fill:#4b5563}}.label{{font-size:12px;fill:#374151}}.legend{{font-size:12px;fill:#111827}}</style><rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let corr = report
        .correlation
        .map(|c| format!("{c:.3}"))
        .unwrap_or_else(|| "n/a".into());
    let _ = write!(
        out,
        r##"<text x="24" y="30" class="title">{}: calibration / holdout check</text><text x="24" y="50" class="sub">{} people · holdout {} {} · predicted {:.0} vs actual {:.0} holdout purchases · correlation per person {}</text>"##,
        escape(&report.model),
        report.people,
        fmt_tick((report.holdout_length * 100.0).round() / 100.0),
        escape(&unit_name),
        report.predicted_total,
        report.actual_total,
        escape(&corr),
    );

    // Panel A: cumulative repeat purchases.
    let xmax_a = report.tracking.last().map(|p| p.t).unwrap_or(1.0).max(1.0);
    let ymax_raw = report
        .tracking
        .iter()
        .map(|p| p.actual.max(p.predicted))
        .fold(0.0, f64::max);
    let yt = ticks(ymax_raw * 1.05, 5);
    let xt = ticks(xmax_a, 8);
    let a = Panel {
        x0: 84.0,
        y0: 95.0,
        w: 380.0,
        h: 290.0,
        xmax: *xt.last().unwrap_or(&1.0),
        ymax: *yt.last().unwrap_or(&1.0),
    };
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="82" class="panel">Cumulative repeat purchases</text>"##,
        a.x0
    );
    a.axes(
        &mut out,
        &xt,
        &yt,
        &format!("Time since the first customer joined ({unit_name})"),
        "Repeat purchases",
    );
    if report.calibration_end > 0.0 && report.calibration_end <= a.xmax {
        let px = a.px(report.calibration_end);
        let _ = write!(
            out,
            r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#9ca3af" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" class="tick">calibration end</text>"##,
            a.y0,
            a.y0 + a.h,
            px + 4.0,
            a.y0 + 12.0
        );
    }
    for (colour, dashed, pick) in [
        (
            ACTUAL,
            false,
            (|p: &TrackingPoint| p.actual) as fn(&TrackingPoint) -> f64,
        ),
        (PREDICTED, true, |p: &TrackingPoint| p.predicted),
    ] {
        let mut d = format!("M{:.1},{:.1}", a.px(0.0), a.py(0.0));
        for p in &report.tracking {
            let _ = write!(d, " L{:.1},{:.1}", a.px(p.t), a.py(pick(p)));
        }
        let _ = write!(
            out,
            r##"<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"{}/>"##,
            if dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            }
        );
    }
    legend(&mut out, a.x0 + 14.0, a.y0 + 18.0, true, false);

    // Panel B: mean holdout purchases by calibration frequency.
    let ymax_b = report
        .by_frequency
        .iter()
        .map(|b| b.mean_actual.max(b.mean_predicted))
        .fold(0.0, f64::max);
    let yt_b = ticks(ymax_b * 1.05, 5);
    let nb = report.by_frequency.len().max(1) as f64;
    let b = Panel {
        x0: 580.0,
        y0: 95.0,
        w: 380.0,
        h: 290.0,
        xmax: nb,
        ymax: *yt_b.last().unwrap_or(&1.0),
    };
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="82" class="panel">Holdout purchases by calibration frequency</text>"##,
        b.x0
    );
    b.axes(
        &mut out,
        &[],
        &yt_b,
        "Repeat purchases in calibration",
        "Mean purchases in holdout",
    );
    let slot = b.w / nb;
    for (i, bucket) in report.by_frequency.iter().enumerate() {
        let left = b.x0 + i as f64 * slot;
        let bw = slot * 0.36;
        for (k, (v, colour)) in [
            (bucket.mean_actual, ACTUAL),
            (bucket.mean_predicted, PREDICTED),
        ]
        .iter()
        .enumerate()
        {
            let x = left + slot * 0.12 + k as f64 * bw;
            let top = b.py(*v);
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{bw:.1}" height="{:.1}" fill="{colour}"><title>{}</title></rect>"##,
                (b.y0 + b.h - top).max(0.0),
                escape(&format!(
                    "frequency {}{}: {} people, mean {} {:.3}",
                    bucket.frequency,
                    if bucket.open_ended { "+" } else { "" },
                    bucket.people,
                    if k == 0 { "actual" } else { "predicted" },
                    v
                ))
            );
        }
        let label = format!(
            "{}{}",
            bucket.frequency,
            if bucket.open_ended { "+" } else { "" }
        );
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" class="tick" fill-opacity="0.7">n={}</text>"##,
            left + slot / 2.0,
            b.y0 + b.h + 16.0,
            escape(&label),
            left + slot / 2.0,
            b.y0 + b.h + 29.0,
            bucket.people
        );
    }
    legend(&mut out, b.x0 + 14.0, b.y0 + 18.0, false, true);
    let _ = write!(
        out,
        r##"<text x="24" y="{:.1}" class="sub">Predicted: expected purchases from the model fitted on the calibration period only.</text>"##,
        height - 36.0
    );
    if report.model == "BG/NBD" {
        let _ = write!(
            out,
            r##"<text x="24" y="{:.1}" class="sub">Note: BG/NBD treats everyone without a repeat purchase as certainly alive (P(alive) = 1).</text>"##,
            height - 16.0
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::days_from_civil;
    use crate::{bgnbd, pareto_nbd};

    fn cdnow() -> HoldoutData {
        let people = crate::summary::tests::cdnow_people();
        let cal = days_from_civil(1997, 9, 30) as f64;
        prepare(&people, cal, cal + 273.0, 7.0).unwrap()
    }

    #[test]
    fn cdnow_holdout_reproduces_the_papers_zero_frequency_group_and_correlations() {
        let data = cdnow();
        assert_eq!(data.calibration.len(), 2357);
        let bg = bgnbd::fit(&data.calibration).unwrap().params;
        let pn = pareto_nbd::fit(&data.calibration).unwrap().params;
        let rb = check(&bg, &data);
        let rp = check(&pn, &data);
        let zero = rb.by_frequency[0];
        assert_eq!(zero.people, 1411);
        assert_eq!(zero.actual_total, 334.0);
        assert!(
            (zero.mean_predicted - 0.225).abs() < 0.003,
            "{}",
            zero.mean_predicted
        );
        assert!(
            (rp.by_frequency[0].mean_predicted - 0.139).abs() < 0.003,
            "{}",
            rp.by_frequency[0].mean_predicted
        );
        let (cb, cp) = (rb.correlation.unwrap(), rp.correlation.unwrap());
        assert!((cb - 0.626).abs() < 0.005, "{cb}");
        assert!((cp - 0.630).abs() < 0.005, "{cp}");
        // Tracking: 78 weekly points; the prediction is close to the actual
        // cumulative count at the end of calibration (the paper's figure 2).
        assert!(rb.tracking.len() >= 78);
        let at_cal = rb
            .tracking
            .iter()
            .find(|p| p.t >= rb.calibration_end)
            .unwrap();
        assert!(
            (at_cal.predicted / at_cal.actual - 1.0).abs() < 0.05,
            "{at_cal:?}"
        );
    }

    #[test]
    fn holdout_svg_is_self_contained_with_two_panels_and_escaped_text() {
        let data = cdnow();
        let bg = bgnbd::fit(&data.calibration).unwrap().params;
        let mut report = check(&bg, &data);
        report.model = "BG/NBD <fitted> & \"checked\"".into();
        let svg = svg(&report);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Cumulative repeat purchases"));
        assert!(svg.contains("Holdout purchases by calibration frequency"));
        assert!(svg.contains("&lt;fitted&gt; &amp; &quot;checked&quot;"));
        assert!(!svg.contains("<fitted>"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert!(!svg.contains("http://") || svg.matches("http://").count() == 1);
    }

    #[test]
    fn correlation_needs_variance() {
        assert_eq!(correlation(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(correlation(&[1.0], &[1.0]), None);
        assert!((correlation(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        assert_eq!(
            ticks(78.0, 8),
            vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]
        );
        assert_eq!(ticks(0.0, 5).len(), 6);
    }
}
