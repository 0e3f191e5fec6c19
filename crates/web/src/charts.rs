//! Charts drawn by the server as SVG: the distribution of a reading across everyone, and
//! where one person falls in it. No segments, no colours meaning good or bad: a shape, and a
//! mark.
//!
//! Charts are built from numbers and fixed labels; the one kind of outside text they carry
//! (a hidden-cost factor's name and unit, from an imported catalogue) goes through
//! [`escape`]. So the markup is inserted into pages as it is.

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

/// Bin counts of everyone in `d` over `[lo, hi]` (values outside are counted at its ends);
/// values equal to `hi` fall in the last bin.
fn bins(d: &Distribution, lo: f64, hi: f64, n: usize) -> Vec<usize> {
    let mut counts = vec![0usize; n];
    let width = (hi - lo) / n as f64;
    for (v, people) in d.runs() {
        let v = v.clamp(lo, hi);
        let i = if width > 0.0 {
            (((v - lo) / width) as usize).min(n - 1)
        } else {
            0
        };
        counts[i] += people as usize;
    }
    counts
}

/// The range a chart spans: shares span 0..1, other figures their own spread (long tails
/// cut at the 99th percentile so that one outlier does not flatten everyone else).
fn span(d: &Distribution, share: bool) -> (f64, f64) {
    if share {
        return (0.0, 1.0);
    }
    let lo = d.min().unwrap_or(0.0).min(0.0);
    let n = d.len();
    let p99 = d
        .value_at(((n as f64 * 0.99) as usize).min(n.saturating_sub(1)))
        .unwrap_or(1.0);
    let hi = if p99 > lo { p99 } else { lo + 1.0 };
    (lo, hi)
}

/// "1 person", "12 people", "1,204 people".
pub fn people(n: usize) -> String {
    if n == 1 {
        "1 person".to_owned()
    } else {
        format!("{} people", domain::values::thousands(&n.to_string()))
    }
}

/// A histogram of everyone who has the reading: `title` says what the figure is (under the
/// axis, and for screen readers); each bar says how many people, between which figures.
pub fn histogram(d: &Distribution, share: bool, title: &str) -> String {
    let title = escape(title);
    const W: f64 = 300.0;
    const LEFT: f64 = 34.0;
    const H: f64 = 120.0;
    const PAD: f64 = 32.0;
    const N: usize = 24;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{title}"><title>{title}</title>"#,
        LEFT + W + 4.0,
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
    let counts = bins(d, lo, hi, N);
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = W / N as f64;
    let shown = |v: f64| {
        if share {
            format!("{:.0}%", v * 100.0)
        } else {
            domain::values::thousands(&num(v))
        }
    };
    let step = (hi - lo) / N as f64;
    for (i, &c) in counts.iter().enumerate() {
        let h = (c as f64 / max) * (H - 4.0);
        let from = lo + step * i as f64;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" class="bar"><title>{}, {} to {}</title></rect>"#,
            LEFT + i as f64 * bw + 1.0,
            H - h,
            bw - 2.0,
            h,
            people(c),
            shown(from),
            shown(from + step)
        );
    }
    // Axes: people up the side (none and the tallest bar), the figure along the bottom (its
    // ends and middle), and what the figure is under it.
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="{H}" x2="{}" y2="{H}" class="axis"/><line x1="{LEFT}" y1="4" x2="{LEFT}" y2="{H}" class="axis"/><text x="{}" y="{}" text-anchor="end" class="tick">{}</text><text x="{}" y="{H}" text-anchor="end" class="tick">0</text><text x="{}" y="{}" text-anchor="middle" class="tick" transform="rotate(-90 {} {})">people</text><text x="{LEFT}" y="{}" class="tick">{}</text><text x="{}" y="{}" text-anchor="middle" class="tick">{}</text><text x="{}" y="{}" text-anchor="end" class="tick">{}{}</text><text x="{}" y="{}" text-anchor="middle" class="tick caption">{title}</text>"#,
        LEFT + W,
        LEFT - 3.0,
        12.0,
        domain::values::thousands(&(max as u64).to_string()),
        LEFT - 3.0,
        10.0,
        H / 2.0,
        10.0,
        H / 2.0,
        H + 13.0,
        shown(lo),
        LEFT + W / 2.0,
        H + 13.0,
        shown((lo + hi) / 2.0),
        LEFT + W,
        H + 13.0,
        shown(hi),
        if !share && d.max().is_some_and(|m| m > hi) {
            " or more"
        } else {
            ""
        },
        LEFT + W / 2.0,
        H + 27.0,
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
        let counts = bins(d, lo, hi, N);
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

/// Escapes text for SVG/HTML markup: `& < > " '`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One bar per month (`YYYY-MM`, in order) of a netted figure: bars rise above the zero line
/// and fall below it for a month with more returned than bought. `label` (the factor and its
/// unit, from the catalogue) is escaped.
pub fn monthly(months: &[(String, f64)], label: &str) -> String {
    // As wide as the card it sits in is tall on a page (about 320 pixels), so that its text
    // is drawn at its own size: a wider drawing scaled down made it about 6 pixels tall.
    const W: f64 = 320.0;
    const H: f64 = 110.0;
    const PAD: f64 = 18.0;
    let label = escape(label);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart wide" viewBox="0 0 {W} {}" role="img" aria-label="{label} per month"><title>{label} per month</title>"#,
        H + PAD
    );
    if months.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" class="muted">no orders to cost yet</text></svg>"#,
            W / 2.0,
            H / 2.0
        );
        return svg;
    }
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let hi = months.iter().map(|m| finite(m.1)).fold(0.0_f64, f64::max);
    let lo = months.iter().map(|m| finite(m.1)).fold(0.0_f64, f64::min);
    let range = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let zero = (hi / range) * (H - 4.0) + 2.0;
    let bw = W / months.len() as f64;
    for (i, (month, v)) in months.iter().enumerate() {
        let v = finite(*v);
        let h = (v.abs() / range) * (H - 4.0);
        let y = if v >= 0.0 { zero - h } else { zero };
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" class="bar"><title>{}: {}</title></rect>"#,
            i as f64 * bw + 1.0,
            (bw - 2.0).max(0.5),
            escape(month),
            escape(&domain::costs::figure(v)),
        );
    }
    let first = escape(&months[0].0);
    let last = escape(&months[months.len() - 1].0);
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{zero:.1}" x2="{W}" y2="{zero:.1}" class="axis"/><text x="0" y="{}" class="tick">{first}</text><text x="{W}" y="{}" text-anchor="end" class="tick">{last}</text><text x="2" y="12" class="tick">{}</text>"#,
        H + 14.0,
        H + 14.0,
        escape(&domain::costs::figure(hi)),
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monthly_chart_has_a_bar_per_month_and_escapes_its_label() {
        let months = vec![("2011-01".to_owned(), 4.0), ("2011-02".to_owned(), -1.0)];
        let svg = monthly(&months, "<script>x</script> kg");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt; kg per month"));
        assert!(svg.contains("<title>2011-02: -1</title>"));
    }

    #[test]
    fn a_monthly_chart_without_months_says_so() {
        assert!(monthly(&[], "kg").contains("no orders to cost yet"));
    }

    #[test]
    fn a_histogram_draws_one_bar_per_bin_and_labels_its_ends() {
        let d = Distribution::new(vec![0.0, 0.5, 0.5, 1.0]);
        let svg = histogram(&d, true, "on time");
        assert_eq!(svg.matches("<rect").count(), 24);
        assert!(svg.contains(">0%</text>") && svg.contains(">100%</text>"));
        assert!(svg.contains(">50%</text>"), "the middle of the axis");
        assert!(
            svg.contains(">people</text>"),
            "the side axis says what it counts"
        );
        assert!(svg.contains("<title>2 people, 50% to 54%</title>"), "{svg}");
        assert!(svg.contains("<title>1 person, 0% to 4%</title>"), "{svg}");
        assert!(svg.contains("class=\"tick caption\">on time</text>"));
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
