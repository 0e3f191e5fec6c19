//! Charts drawn by the server as SVG: the distribution of a reading across everyone, and
//! where one person falls in it. No segments, no colours meaning good or bad: a shape, and a
//! mark.
//!
//! Charts are built only from numbers and fixed labels — never from text a person wrote — so
//! the markup is inserted into pages as it is.

use std::fmt::Write;

use domain::readings::Distribution;

/// Formats a figure for an axis: integers plainly, small numbers with up to two decimals.
pub fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if v.abs() < 10.0 {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.1}")
    }
}

/// Bin counts over `[lo, hi]`; values equal to `hi` fall in the last bin.
fn bins(values: &[f64], lo: f64, hi: f64, n: usize) -> Vec<usize> {
    let mut counts = vec![0usize; n];
    let width = (hi - lo) / n as f64;
    for &v in values {
        let i = if width > 0.0 {
            (((v - lo) / width) as usize).min(n - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    counts
}

/// The range a chart spans: shares span 0..1, other figures their own spread (long tails
/// cut at the 99th percentile so that one outlier does not flatten everyone else).
fn span(d: &Distribution, share: bool) -> (f64, f64) {
    let v = d.values();
    if share {
        return (0.0, 1.0);
    }
    let lo = v.first().copied().unwrap_or(0.0).min(0.0);
    let p99 = v
        .get(((v.len() as f64 * 0.99) as usize).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(1.0);
    let hi = if p99 > lo { p99 } else { lo + 1.0 };
    (lo, hi)
}

/// A histogram of everyone who has the reading: `title` names it for screen readers.
pub fn histogram(d: &Distribution, share: bool, title: &str) -> String {
    const W: f64 = 320.0;
    const H: f64 = 120.0;
    const PAD: f64 = 18.0;
    const N: usize = 24;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {}" role="img" aria-label="{title}"><title>{title}</title>"#,
        H + PAD
    );
    if d.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" class="muted">nobody has this reading yet</text></svg>"#,
            W / 2.0,
            H / 2.0
        );
        return svg;
    }
    let (lo, hi) = span(d, share);
    let values: Vec<f64> = d.values().iter().map(|v| v.clamp(lo, hi)).collect();
    let counts = bins(&values, lo, hi, N);
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = W / N as f64;
    for (i, &c) in counts.iter().enumerate() {
        let h = (c as f64 / max) * (H - 4.0);
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" class="bar"><title>{c} people</title></rect>"#,
            i as f64 * bw + 1.0,
            H - h,
            bw - 2.0,
            h
        );
    }
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{H}" x2="{W}" y2="{H}" class="axis"/><text x="0" y="{}" class="tick">{}</text><text x="{W}" y="{}" text-anchor="end" class="tick">{}{}</text>"#,
        H + 14.0,
        num(lo),
        H + 14.0,
        num(hi),
        if !share && d.values().last().is_some_and(|m| *m > hi) {
            "+"
        } else {
            ""
        }
    );
    svg.push_str("</svg>");
    svg
}

/// A small strip: everyone's spread as faint bars, and the person's own value as a mark.
pub fn strip(d: &Distribution, share: bool, value: f64) -> String {
    const W: f64 = 160.0;
    const H: f64 = 28.0;
    const N: usize = 32;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="strip" viewBox="0 0 {W} {H}" role="img" aria-label="where this person falls among everyone"><title>where this person falls among everyone</title>"#
    );
    if !d.is_empty() {
        let (lo, hi) = span(d, share);
        let values: Vec<f64> = d.values().iter().map(|v| v.clamp(lo, hi)).collect();
        let counts = bins(&values, lo, hi, N);
        let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let bw = W / N as f64;
        for (i, &c) in counts.iter().enumerate() {
            // Square-root heights: a few people far from the crowd stay visible.
            let h = (c as f64 / max).sqrt() * (H - 8.0);
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" class="bar faint"/>"#,
                i as f64 * bw,
                H - 4.0 - h,
                bw - 1.0,
                h
            );
        }
        let x = if hi > lo {
            ((value.clamp(lo, hi) - lo) / (hi - lo)) * (W - 4.0) + 2.0
        } else {
            W / 2.0
        };
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{H}" class="mark"/>"#
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_draws_one_bar_per_bin_and_labels_its_ends() {
        let d = Distribution::new(vec![0.0, 0.5, 0.5, 1.0]);
        let svg = histogram(&d, true, "on time");
        assert_eq!(svg.matches("<rect").count(), 24);
        assert!(svg.contains(">0</text>") && svg.contains(">1</text>"));
        assert!(svg.contains("<title>2 people</title>"));
    }

    #[test]
    fn an_empty_distribution_says_so_instead_of_drawing() {
        let svg = histogram(&Distribution::new(vec![]), false, "x");
        assert!(svg.contains("nobody has this reading yet"));
    }

    #[test]
    fn the_persons_mark_sits_where_their_value_is() {
        let d = Distribution::new(vec![0.0, 1.0]);
        assert!(strip(&d, true, 0.0).contains(r#"x1="2.0""#));
        assert!(strip(&d, true, 1.0).contains(r#"x1="158.0""#));
    }

    #[test]
    fn figures_on_axes_are_short() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(0.8876), "0.888");
        assert_eq!(num(12.345), "12.3");
    }
}
