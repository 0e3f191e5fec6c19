//! Special functions the repeat-buying models need.
//!
//! They live here, written out, because the models' likelihoods and
//! predictions are ratios of gamma functions and Gauss hypergeometric series
//! whose naive forms overflow for heavy buyers (frequency in the hundreds).
//! Everything is computed in log space or with the series rescaled as it is
//! summed, so callers get finite numbers over the whole range real data reaches.

/// ln Γ(x) for x > 0 (libm's implementation, accurate to a few ulps).
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The digamma function ψ(x) = d/dx ln Γ(x) for x > 0: shift x above 10 with
/// the recurrence ψ(x) = ψ(x + 1) − 1/x, then use the asymptotic series.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || !x.is_finite() {
        return f64::NAN;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli-number coefficients of the asymptotic expansion.
    let tail = inv2
        * (1.0 / 12.0
            - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))));
    acc + x.ln() - 0.5 * inv - tail
}

/// (exp(g·u) − 1) / g, continuous at g = 0 where it equals u.
///
/// The models divide by (a − 1) or (s − 1); near 1 the naive form cancels
/// catastrophically, this one does not.
pub fn expm1_over(g: f64, u: f64) -> f64 {
    let gu = g * u;
    if gu.abs() < 1e-6 {
        u * (1.0 + gu / 2.0 + gu * gu / 6.0)
    } else {
        gu.exp_m1() / g
    }
}

/// ln(exp(x) + exp(y)) without overflow.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

/// ln(exp(x) − exp(y)) for x ≥ y; −∞ when the difference is not positive
/// (rounding can make two nearly equal terms cross, and the true value is then
/// negligible next to whatever it is added to).
pub fn log_sub_exp(x: f64, y: f64) -> f64 {
    if y == f64::NEG_INFINITY {
        return x;
    }
    if y >= x {
        return f64::NEG_INFINITY;
    }
    x + (-(y - x).exp_m1()).ln()
}

const MAX_TERMS: usize = 2_000_000;
const SERIES_EPS: f64 = 1e-16;
/// Rescaling step for series whose terms grow past f64 range before they
/// shrink: 2^800 ≈ 6.7e240.
const RESCALE: f64 = 6.668_014_432_879_854e240;
const LN_RESCALE: f64 = 800.0 * std::f64::consts::LN_2;

/// ln ₂F₁(a, b; c; z) for a, b, c > 0 and 0 ≤ z < 1, where every term of the
/// Gauss series is positive.
///
/// The running sum is rescaled whenever it passes 1e240 so terms that first
/// grow enormous (b = r + x with x in the hundreds) neither overflow nor lose
/// precision. Returns `None` outside that domain or if the series would need
/// more than two million terms (z extremely close to 1).
pub fn ln_hyp2f1_positive(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(a > 0.0 && b > 0.0 && c > 0.0 && (0.0..1.0).contains(&z)) {
        return None;
    }
    if !(a.is_finite() && b.is_finite() && c.is_finite()) {
        return None;
    }
    if z == 0.0 {
        return Some(0.0);
    }
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut log_scale = 0.0f64;
    let mut prev_ratio = f64::INFINITY;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        term *= ratio;
        sum += term;
        if sum > RESCALE {
            sum /= RESCALE;
            term /= RESCALE;
            log_scale += LN_RESCALE;
        }
        // Once the term ratio is below one and no longer rising (or has
        // settled towards its limit z), the rest is bounded by a geometric
        // series with ratio max(ratio, z).
        let q = ratio.max(z);
        if q < 1.0 && ratio <= prev_ratio.max(z) && term * q / (1.0 - q) <= SERIES_EPS * sum {
            return Some(sum.ln() + log_scale);
        }
        prev_ratio = ratio;
    }
    None
}

/// ln ₂F₁(a, b; a + 1; z) for a, b > 0, 0 ≤ z < 1 (the form in the
/// Pareto/NBD likelihood) together with the derivatives of that logarithm
/// with respect to a, b and z, accumulated in the same pass:
/// the n-th term is T_n = a/(a+n) · (b)_n/n! · zⁿ, so
/// ∂T_n/∂a = T_n (1/a − 1/(a+n)), ∂T_n/∂b = T_n Σ_{k<n} 1/(b+k),
/// ∂T_n/∂z = n T_n / z. Returns (ln F, ∂ ln F/∂a, ∂ ln F/∂b, ∂ ln F/∂z).
pub fn ln_hyp2f1_a_b_a1_with_derivatives(a: f64, b: f64, z: f64) -> Option<(f64, f64, f64, f64)> {
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0 && (0.0..1.0).contains(&z)) {
        return None;
    }
    if z == 0.0 {
        return Some((0.0, 0.0, 0.0, a * b / (a + 1.0)));
    }
    let (mut term, mut sum, mut s_a, mut s_b, mut s_n) = (1.0f64, 1.0f64, 0.0f64, 0.0f64, 0.0f64);
    let mut harmonic_b = 0.0f64; // Σ_{k<n} 1/(b+k)
    let mut log_scale = 0.0f64;
    let mut prev_ratio = f64::INFINITY;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((a + 1.0 + nf) * (nf + 1.0)) * z;
        harmonic_b += 1.0 / (b + nf);
        term *= ratio;
        let m = nf + 1.0;
        sum += term;
        s_a += term * (1.0 / a - 1.0 / (a + m));
        s_b += term * harmonic_b;
        s_n += term * m;
        if sum > RESCALE {
            sum /= RESCALE;
            term /= RESCALE;
            s_a /= RESCALE;
            s_b /= RESCALE;
            s_n /= RESCALE;
            log_scale += LN_RESCALE;
        }
        let q = ratio.max(z);
        // The n-weighted sum converges last; stop when its tail is negligible.
        if q < 1.0
            && ratio <= prev_ratio.max(z)
            && term * (m + 1.0 / (1.0 - q)) * q / (1.0 - q) <= SERIES_EPS * s_n.max(sum)
        {
            return Some((sum.ln() + log_scale, s_a / sum, s_b / sum, s_n / (z * sum)));
        }
        prev_ratio = ratio;
    }
    None
}

/// ₂F₁(a, b; c; z) for real a, b, c and −1 < z < 1 by its Gauss series,
/// using Pfaff's transformation ₂F₁(a,b;c;z) = (1−z)^(−a) ₂F₁(a, c−b; c; z/(z−1))
/// for negative z so the series argument is always in [0, 1/2] there.
///
/// Returns `None` when c is a non-positive integer (the function has a pole),
/// z is outside (−1, 1), or the series does not settle in two million terms.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return None;
    }
    if !(z > -1.0 && z < 1.0) {
        return None;
    }
    if c <= 0.0 && c.fract() == 0.0 {
        return None;
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return series(a, c - b, c, w).map(|f| f * (1.0 - z).powf(-a));
    }
    series(a, b, c, z)
}

/// Plain Gauss series with signed terms (for [`hyp2f1`]).
fn series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(1.0);
    }
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut comp = 0.0f64; // Kahan compensation: terms may alternate in sign.
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        term *= ratio;
        if term == 0.0 {
            return Some(sum);
        }
        let y = term - comp;
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
        if !sum.is_finite() {
            return None;
        }
        let q = ratio.abs().max(z.abs());
        if q < 1.0 && term.abs() * q / (1.0 - q) <= SERIES_EPS * sum.abs() {
            return Some(sum);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_series(a: f64, b: f64, c: f64, z: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for n in 0..100_000 {
            let nf = n as f64;
            term *= (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
            sum += term;
            if term.abs() < 1e-18 * sum.abs() && n > 10 {
                break;
            }
        }
        sum
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2.
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-13);
        assert!((digamma(0.5) + euler + 2.0 * std::f64::consts::LN_2).abs() < 1e-13);
        assert!((digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-13);
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z.
        for &z in &[-0.9, -0.5, -0.1, 0.1, 0.5, 0.9, 0.99] {
            let f = hyp2f1(1.0, 1.0, 2.0, z).unwrap();
            let exact = -(-z).ln_1p() / z;
            assert!((f - exact).abs() < 1e-12 * exact.abs(), "z={z} {f} {exact}");
        }
        // ₂F₁(a, b; b; z) = (1 − z)^(−a).
        let f = hyp2f1(2.5, 3.0, 3.0, 0.7).unwrap();
        assert!((f - 0.3f64.powf(-2.5)).abs() < 1e-10 * f);
        let lf = ln_hyp2f1_positive(2.5, 3.0, 3.0, 0.7).unwrap();
        assert!((lf - (-2.5 * 0.3f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn ln_hyp2f1_positive_does_not_overflow_for_huge_parameters() {
        // (1 − z)^(−b) with b = 600.5 and z = 0.9 is 10^600: beyond f64, fine in logs.
        let lf = ln_hyp2f1_positive(601.0, 600.5, 601.0, 0.9).unwrap();
        let exact = -600.5 * 0.1f64.ln();
        assert!((lf - exact).abs() < 1e-9 * exact, "{lf} {exact}");
    }

    #[test]
    fn hyp2f1_derivatives_match_finite_differences() {
        for &(a, b, z) in &[(1.7, 1.6, 0.3), (30.0, 29.5, 0.02), (0.9, 200.0, 0.6)] {
            let (l, da, db, dz) = ln_hyp2f1_a_b_a1_with_derivatives(a, b, z).unwrap();
            let f = |a: f64, b: f64, z: f64| ln_hyp2f1_positive(a, b, a + 1.0, z).unwrap();
            assert!((l - f(a, b, z)).abs() < 1e-12 * l.abs().max(1.0));
            let h = 1e-6;
            let fd_a = (f(a + h, b, z) - f(a - h, b, z)) / (2.0 * h);
            let fd_b = (f(a, b + h, z) - f(a, b - h, z)) / (2.0 * h);
            let fd_z = (f(a, b, z + h * 0.01) - f(a, b, z - h * 0.01)) / (0.02 * h);
            assert!(
                (da - fd_a).abs() < 1e-6 * fd_a.abs().max(1.0),
                "{da} {fd_a}"
            );
            assert!(
                (db - fd_b).abs() < 1e-6 * fd_b.abs().max(1.0),
                "{db} {fd_b}"
            );
            assert!(
                (dz - fd_z).abs() < 1e-5 * fd_z.abs().max(1.0),
                "{dz} {fd_z}"
            );
        }
    }

    #[test]
    fn hyp2f1_reports_a_pole_instead_of_returning_nonsense() {
        assert_eq!(hyp2f1(1.0, 1.0, -2.0, 0.5), None);
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(ln_hyp2f1_positive(1.0, 1.0, 2.0, -0.5), None);
    }

    #[test]
    fn log_sub_exp_is_minus_infinity_for_equal_terms() {
        assert_eq!(log_sub_exp(1.0, 1.0), f64::NEG_INFINITY);
        assert!((log_sub_exp(2.0f64.ln(), 1.0f64.ln())).abs() < 1e-15);
    }

    #[test]
    fn expm1_over_is_continuous_at_zero() {
        assert_eq!(expm1_over(0.0, 0.3), 0.3);
        assert!((expm1_over(1e-9, 0.3) - 0.3).abs() < 1e-9);
        assert!((expm1_over(2.0, 0.5) - (1f64.exp() - 1.0) / 2.0).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn hyp2f1_agrees_with_a_direct_series_where_the_series_converges(
            a in 0.05f64..6.0, b in 0.05f64..6.0, c in 0.5f64..12.0, z in 0.0f64..0.9,
        ) {
            let direct = naive_series(a, b, c, z);
            let f = hyp2f1(a, b, c, z).unwrap();
            prop_assert!((f - direct).abs() <= 1e-10 * direct.abs(), "{} vs {}", f, direct);
            let lf = ln_hyp2f1_positive(a, b, c, z).unwrap();
            prop_assert!((lf - direct.ln()).abs() <= 1e-10, "{} vs {}", lf, direct.ln());
        }

        #[test]
        fn hyp2f1_for_negative_z_agrees_with_a_direct_series(
            a in -3.0f64..6.0, b in 0.05f64..6.0, c in 0.5f64..12.0, z in -0.6f64..0.0,
        ) {
            let direct = naive_series(a, b, c, z);
            let f = hyp2f1(a, b, c, z).unwrap();
            prop_assert!((f - direct).abs() <= 1e-9 * direct.abs().max(1.0), "{} vs {}", f, direct);
        }
    }
}
