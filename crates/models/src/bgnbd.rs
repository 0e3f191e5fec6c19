//! The BG/NBD model of Fader, Hardie & Lee (2005), "Counting your customers
//! the easy way: an alternative to the Pareto/NBD model".
//!
//! It exists because it is the workhorse answer to "how many more purchases
//! will this person make, and are they still a customer": while alive a person
//! buys as a Poisson process with rate λ ~ Gamma(r, alpha), and after each
//! purchase drops out with probability p ~ Beta(a, b).
//!
//! Note the model's known quirk: a person with no repeat purchase can only
//! drop out after a purchase, so [`Params::p_alive`] is exactly 1 for
//! everyone with frequency 0. Say so wherever p_alive is shown.

use serde::{Deserialize, Serialize};

use crate::data::{self, Grouped};
use crate::special::{digamma, expm1_over, ln_beta, ln_gamma, log_add_exp};
use crate::{Fit, FitError, PurchaseModel, Summary, optimize};

/// BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate alpha), dropout
/// probability p ~ Beta(a, b). alpha is in the time unit of the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// At least this many people with a repeat purchase are needed to fit four
/// parameters.
pub const MIN_REPEAT_BUYERS: usize = 4;

/// Maximum-likelihood fit (deterministic; see the crate docs for the optimiser).
pub fn fit(data: &[Summary]) -> Result<Fit<Params>, FitError> {
    data::validate_counts(data, MIN_REPEAT_BUYERS)?;
    let grouped = data::group(data);
    let out = optimize::minimize_robust(
        |theta: &[f64]| {
            let p = Params {
                r: theta[0].exp(),
                alpha: theta[1].exp(),
                a: theta[2].exp(),
                b: theta[3].exp(),
            };
            let v = p.grouped_log_likelihood_and_gradient(&grouped);
            (-v[0], v[1..].iter().map(|d| -d).collect())
        },
        &[0.0; 4],
    );
    optimize::finish(out, &["r", "alpha", "a", "b"], |v| Params {
        r: v[0],
        alpha: v[1],
        a: v[2],
        b: v[3],
    })
}

impl Params {
    /// Total log-likelihood of grouped data.
    #[cfg(test)]
    pub(crate) fn grouped_log_likelihood(&self, g: &Grouped) -> f64 {
        self.grouped_log_likelihood_and_gradient(g)[0]
    }

    /// Total log-likelihood of grouped data and its gradient with respect to
    /// (ln r, ln alpha, ln a, ln b). Terms that depend only on x (log-gamma,
    /// digamma) are computed once per distinct x and weighted by how many
    /// people have that x; ln(alpha + t) once per distinct time; the per-row
    /// work is one exp and one ln_1p.
    pub(crate) fn grouped_log_likelihood_and_gradient(&self, g: &Grouped) -> [f64; 5] {
        let Params { r, alpha, a, b } = *self;
        let mut people_with_x = vec![0.0; g.xs.len()];
        for row in &g.rows {
            people_with_x[row.xi as usize] += row.count;
        }
        // x-only parts of the log-likelihood and of its gradient (natural scale).
        let (lg_ab, lg_b, lg_r) = (ln_gamma(a + b), ln_gamma(b), ln_gamma(r));
        let (dg_ab, dg_b, dg_r) = (digamma(a + b), digamma(b), digamma(r));
        let mut acc = [0.0; 5];
        let mut ln_a_over = vec![f64::NEG_INFINITY; g.xs.len()];
        for (k, &x) in g.xs.iter().enumerate() {
            let n = people_with_x[k];
            if x > 0.0 {
                ln_a_over[k] = a.ln() - (b + x - 1.0).ln();
            }
            if n == 0.0 {
                continue;
            }
            acc[0] += n
                * (ln_gamma(r + x) - lg_r + r * alpha.ln() + lg_ab + ln_gamma(b + x)
                    - lg_b
                    - ln_gamma(a + b + x));
            acc[1] += n * (digamma(r + x) - dg_r + alpha.ln());
            acc[2] += n * r / alpha;
            let dg_abx = digamma(a + b + x);
            acc[3] += n * (dg_ab - dg_abx);
            acc[4] += n * (dg_ab + digamma(b + x) - dg_b - dg_abx);
        }
        let ln_t: Vec<f64> = g.times.iter().map(|&t| (alpha + t).ln()).collect();
        let inv_t: Vec<f64> = g.times.iter().map(|&t| 1.0 / (alpha + t)).collect();
        let xs = &g.xs;
        let rows = data::par_sum_n(g.rows.len(), |k| {
            let row = &g.rows[k];
            let x = xs[row.xi as usize];
            let rx = r + x;
            let (lt, it) = (ln_t[row.ti as usize], inv_t[row.ti as usize]);
            let mut out = [-rx * lt, -lt, -rx * it, 0.0, 0.0];
            if x > 0.0 {
                let (ltx, itx) = (ln_t[row.txi as usize], inv_t[row.txi as usize]);
                let d = ln_a_over[row.xi as usize] + rx * (lt - ltx);
                // softplus(d) = ln(1 + e^d) and its derivative σ(d), sharing one exp.
                let (softplus, sigma) = if d > 0.0 {
                    let e = (-d).exp();
                    (d + e.ln_1p(), 1.0 / (1.0 + e))
                } else {
                    let e = d.exp();
                    (e.ln_1p(), e / (1.0 + e))
                };
                out[0] += softplus;
                out[1] += sigma * (lt - ltx);
                out[2] += sigma * rx * (it - itx);
                out[3] += sigma / a;
                out[4] -= sigma / (b + x - 1.0);
            }
            out.map(|v| v * row.count)
        });
        for (a_, r_) in acc.iter_mut().zip(rows) {
            *a_ += r_;
        }
        // Chain rule to log-parameters.
        [acc[0], acc[1] * r, acc[2] * alpha, acc[3] * a, acc[4] * b]
    }

    /// Log-likelihood of one person (FHL 2005 eq. 6, in log space).
    pub fn log_likelihood_one(&self, s: &Summary) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let x = s.frequency;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + s.t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + s.recency).ln();
            a1 + a2 + log_add_exp(a3, a4)
        } else {
            a1 + a2 + a3
        }
    }

    /// Total log-likelihood over people (not a mean).
    pub fn log_likelihood(&self, data: &[Summary]) -> f64 {
        data.iter().map(|s| self.log_likelihood_one(s)).sum()
    }

    /// P(alive at T | x, t_x, T). Exactly 1 when x = 0 (see the module docs).
    pub fn p_alive(&self, s: &Summary) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let x = s.frequency;
        if x <= 0.0 {
            return 1.0;
        }
        let d =
            a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + s.t).ln() - (alpha + s.recency).ln());
        // 1 / (1 + e^d), written so a huge d gives 0 rather than NaN.
        if d > 0.0 {
            let e = (-d).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + d.exp())
        }
    }

    /// Expected purchases in `(T, T + horizon]` given the history (FHL 2005
    /// eq. 10); `horizon` in the data's time unit.
    pub fn expected_purchases(&self, s: &Summary, horizon: f64) -> f64 {
        if horizon.is_nan() || horizon <= 0.0 {
            return 0.0;
        }
        self.unconditional_core(s.frequency, s.t, horizon) * self.p_alive(s)
    }

    /// E[X(t)]: expected repeat purchases in `(0, t]` of a newly acquired
    /// person (FHL 2005 eq. 9).
    pub fn expected_population(&self, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        self.unconditional_core(0.0, 0.0, t)
    }

    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)],
    /// z = t/(α+T+t).
    ///
    /// Computed stably: Euler's transformation turns
    /// (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) into (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z),
    /// whose upper parameters do not grow with x (so heavy buyers converge in a
    /// few terms instead of overflowing), and the factor (a−1) is divided out of
    /// the series analytically so a ≈ 1 does not cancel.
    fn unconditional_core(&self, x: f64, big_t: f64, t: f64) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let c = a + b + x - 1.0;
        let g = a - 1.0;
        let big_a = a + b - 1.0 - r;
        let denom = alpha + big_t + t;
        let z = t / denom;
        let u = ((alpha + big_t) / denom).ln(); // ln(1 − z)
        // Σ_{n≥1} U_n with U_n = T_n / g, T_n the n-th term of ₂F₁(A, g; c; z).
        let mut term = big_a * z / c;
        let mut sum = term;
        let lead = -expm1_over(g, u);
        let mut n = 1.0f64;
        while n < 2.0e6 {
            let ratio = (big_a + n) * (g + n) / ((c + n) * (n + 1.0)) * z;
            term *= ratio;
            sum += term;
            let q = ratio.abs().max(z);
            if q < 1.0 && term.abs() * q / (1.0 - q) <= 1e-16 * (sum.abs() + lead.abs()) {
                break;
            }
            n += 1.0;
        }
        let value = c * (lead - (g * u).exp() * sum);
        value.max(0.0)
    }

    /// P(X(t) = n) for a newly acquired person (FHL 2005 eq. 8).
    pub fn prob_n(&self, n: u32, t: f64) -> f64 {
        let Params { r, alpha, a, b } = *self;
        if t.is_nan() || t <= 0.0 {
            return if n == 0 { 1.0 } else { 0.0 };
        }
        let nf = f64::from(n);
        let ln_p0 = r * (alpha / (alpha + t)).ln(); // NBD P(0)
        let ln_q = (t / (alpha + t)).ln();
        let ln_nbd = |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + ln_p0 + j * ln_q;
        let ln_bab = ln_beta(a, b);
        let first = (ln_beta(a, b + nf) - ln_bab + ln_nbd(nf)).exp();
        if n == 0 {
            return first;
        }
        // P(NBD ≥ n): 1 − head when the head is small, else the tail summed
        // directly so it keeps its relative precision.
        let q = ln_q.exp();
        let mut head = 0.0;
        let mut pmf = ln_p0.exp();
        for j in 0..n {
            head += pmf;
            pmf *= (r + f64::from(j)) / (f64::from(j) + 1.0) * q;
        }
        let tail = if head < 0.5 {
            1.0 - head
        } else {
            let mut pmf = ln_nbd(nf).exp();
            let mut sum = 0.0;
            let mut j = nf;
            while j < nf + 1e7 {
                sum += pmf;
                let ratio = (r + j) / (j + 1.0) * q;
                pmf *= ratio;
                if ratio < 1.0 && pmf * ratio / (1.0 - ratio) <= 1e-17 * sum {
                    break;
                }
                j += 1.0;
            }
            sum
        };
        let second = (ln_beta(a + 1.0, b + nf - 1.0) - ln_bab).exp() * tail;
        (first + second).clamp(0.0, 1.0)
    }
}

impl PurchaseModel for Params {
    fn name(&self) -> &'static str {
        "BG/NBD"
    }
    fn p_alive(&self, s: &Summary) -> f64 {
        Params::p_alive(self, s)
    }
    fn expected_purchases(&self, s: &Summary, horizon: f64) -> f64 {
        Params::expected_purchases(self, s, horizon)
    }
    fn expected_population(&self, t: f64) -> f64 {
        Params::expected_population(self, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;
    use proptest::prelude::*;

    const PUBLISHED: Params = Params {
        r: 0.2426,
        alpha: 4.4135,
        a: 0.7929,
        b: 2.4258,
    };

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    fn sig4(got: f64, want: f64) -> bool {
        // Agreement to 4 significant digits: within half a unit of the 4th digit.
        let unit = 10f64.powf(want.abs().log10().floor() - 3.0);
        (got - want).abs() <= 0.5 * unit + 1e-12
    }

    #[test]
    fn bgnbd_reproduces_the_published_cdnow_fit() {
        let data = testdata::cdnow_summary();
        let fit = fit(&data).expect("fit");
        let p = fit.params;
        assert!(fit.converged);
        assert!(sig4(p.r, 0.2426), "r {}", p.r);
        assert!(
            sig4(p.alpha, 4.4135) || close(p.alpha, 4.4135, 2e-4),
            "alpha {}",
            p.alpha
        );
        assert!(sig4(p.a, 0.7929), "a {}", p.a);
        assert!(sig4(p.b, 2.4258) || close(p.b, 2.4258, 2e-4), "b {}", p.b);
        assert!(
            (fit.log_likelihood - -9582.43).abs() < 0.01,
            "{}",
            fit.log_likelihood
        );
        // Standard errors are finite, positive and small next to the estimates.
        for (se, v) in [(fit.std_errors.r, p.r), (fit.std_errors.alpha, p.alpha)] {
            assert!(se.is_finite() && se > 0.0 && se < v);
        }
    }

    #[test]
    fn bgnbd_log_likelihood_at_the_published_parameters_is_minus_9582_43() {
        let data = testdata::cdnow_summary();
        let ll = PUBLISHED.log_likelihood(&data);
        assert!((ll - -9582.43).abs() < 0.05, "{ll}");
        let grouped = PUBLISHED.grouped_log_likelihood(&data::group(&data));
        assert!((ll - grouped).abs() < 1e-8, "{ll} vs {grouped}");
    }

    #[test]
    fn bgnbd_analytic_gradient_matches_finite_differences() {
        let data = testdata::cdnow_summary();
        let g = data::group(&data);
        let at = |th: [f64; 4]| Params {
            r: th[0].exp(),
            alpha: th[1].exp(),
            a: th[2].exp(),
            b: th[3].exp(),
        };
        let th = [-1.0, 1.2, -0.3, 0.7];
        let v = at(th).grouped_log_likelihood_and_gradient(&g);
        for i in 0..4 {
            let h = 1e-6;
            let (mut p, mut m) = (th, th);
            p[i] += h;
            m[i] -= h;
            let fd =
                (at(p).grouped_log_likelihood(&g) - at(m).grouped_log_likelihood(&g)) / (2.0 * h);
            assert!(
                (fd - v[i + 1]).abs() < 1e-4 * fd.abs().max(1.0),
                "{i}: {fd} vs {}",
                v[i + 1]
            );
        }
    }

    #[test]
    fn bgnbd_conditional_predictions_match_the_paper_for_the_first_cdnow_customer() {
        let s = Summary::new(2.0, 30.43, 38.86).unwrap();
        let e = PUBLISHED.expected_purchases(&s, 39.0);
        assert!((e - 1.2259).abs() < 5e-4, "{e}");
        let pa = PUBLISHED.p_alive(&s);
        assert!((pa - 0.7266).abs() < 5e-4, "{pa}");
    }

    #[test]
    fn bgnbd_population_expectation_matches_the_published_values() {
        // The published figures come from the paper's own (unrounded) fit, so
        // they agree to 3 decimals (as lifetimes tests them); lifetimes 0.11.3
        // evaluated at the 4-digit parameters gives the second column, which
        // we match to 1e-10.
        let cases = [
            (0.1429, 0.0078, 0.007816356037099006),
            (1.0, 0.0532, 0.05318665594923623),
            (3.0, 0.1506, 0.15063725566317518),
            (31.8571, 1.0405, 1.040526041045079),
            (32.0, 1.0437, 1.0437690463975786),
            (78.0, 1.8576, 1.8580217586441132),
        ];
        for (t, published, lifetimes) in cases {
            let got = PUBLISHED.expected_population(t);
            assert!(
                (got - published).abs() < 5e-4,
                "t={t}: {got} vs {published}"
            );
            assert!(
                (got - lifetimes).abs() < 1e-10,
                "t={t}: {got} vs {lifetimes}"
            );
        }
    }

    #[test]
    fn bgnbd_probability_of_n_purchases_matches_the_published_values() {
        // These reference values are for the parameters rounded to 3 decimals.
        let rounded = Params {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let p0 = rounded.prob_n(0, 39.0);
        assert!((p0 - 0.5737864).abs() < 5e-7, "{p0}");
        let p10 = rounded.prob_n(10, 2.0);
        assert!(close(p10, 1.07869e-07, 1e-5), "{p10}");
        // The distribution sums to one.
        let total: f64 = (0..400).map(|n| PUBLISHED.prob_n(n, 39.0)).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn bgnbd_batch_predictions_equal_one_by_one_predictions() {
        let data = testdata::cdnow_summary();
        let batch = PUBLISHED.predict(&data, 39.0);
        for (s, p) in data.iter().zip(&batch) {
            assert_eq!(p.p_alive, PUBLISHED.p_alive(s));
            assert_eq!(p.expected_purchases, PUBLISHED.expected_purchases(s, 39.0));
        }
    }

    #[test]
    fn bgnbd_p_alive_is_one_for_people_without_repeat_purchases() {
        let s = Summary::new(0.0, 0.0, 30.0).unwrap();
        assert_eq!(PUBLISHED.p_alive(&s), 1.0);
    }

    #[test]
    fn bgnbd_expected_purchases_are_continuous_across_a_equal_to_one() {
        let s = Summary::new(3.0, 20.0, 38.0).unwrap();
        let at = |a: f64| Params { a, ..PUBLISHED }.expected_purchases(&s, 39.0);
        let (lo, mid, hi) = (at(1.0 - 1e-9), at(1.0), at(1.0 + 1e-9));
        assert!(mid.is_finite() && (lo - mid).abs() < 1e-6 && (hi - mid).abs() < 1e-6);
    }

    #[test]
    fn bgnbd_fit_rejects_bad_input() {
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let zeros = vec![Summary::new(0.0, 0.0, 10.0).unwrap(); 20];
        assert_eq!(fit(&zeros), Err(FitError::AllZeroFrequency));
        let mut few = zeros.clone();
        few[0] = Summary::new(2.0, 5.0, 10.0).unwrap();
        assert!(matches!(
            fit(&few),
            Err(FitError::TooFewRepeatBuyers { found: 1, .. })
        ));
        let bad = |f: f64, r: f64, t: f64| Summary {
            frequency: f,
            recency: r,
            t,
            monetary: None,
        };
        let mut data = testdata::cdnow_summary();
        data[5] = bad(2.0, 40.0, 30.0);
        assert!(matches!(
            fit(&data),
            Err(FitError::RecencyExceedsT { index: 5, .. })
        ));
        data[5] = bad(-1.0, 0.0, 30.0);
        assert!(matches!(
            fit(&data),
            Err(FitError::InvalidValue {
                index: 5,
                field: "frequency",
                ..
            })
        ));
        data[5] = bad(1.0, f64::NAN, 30.0);
        assert!(matches!(
            fit(&data),
            Err(FitError::InvalidValue {
                field: "recency",
                ..
            })
        ));
        data[5] = bad(1.0, 1.0, f64::INFINITY);
        assert!(matches!(
            fit(&data),
            Err(FitError::InvalidValue { field: "T", .. })
        ));
        data[5] = bad(1.5, 1.0, 3.0);
        assert!(matches!(
            fit(&data),
            Err(FitError::NonIntegerFrequency { .. })
        ));
    }

    #[test]
    fn bgnbd_fit_that_runs_to_a_boundary_is_an_error_not_a_result() {
        // Every repeat buyer bought at exactly the same pace and nobody drops
        // out: the dropout parameters run off to infinity.
        let data: Vec<Summary> = (0..50)
            .map(|i| Summary::new(5.0, 10.0 + f64::from(i % 3), 10.0 + f64::from(i % 3)).unwrap())
            .collect();
        match fit(&data) {
            Err(FitError::NotConverged { .. }) | Err(FitError::NonFiniteParameter { .. }) => {}
            other => panic!("expected an error, got {other:?}"),
        }
    }

    proptest! {
        #[test]
        fn bgnbd_heavy_buyers_get_finite_predictions(
            x in 0u32..=500, frac in 0.0f64..=1.0, t in 0.0f64..=500.0, horizon in 0.0f64..=520.0,
        ) {
            let s = Summary::new(f64::from(x), frac * t, t).unwrap();
            let pa = PUBLISHED.p_alive(&s);
            prop_assert!(pa.is_finite() && (0.0..=1.0).contains(&pa));
            let e = PUBLISHED.expected_purchases(&s, horizon);
            prop_assert!(e.is_finite() && e >= 0.0, "{}", e);
            // A density in t_x, so it may exceed 1 (e.g. T = 0); it must be finite.
            let ll = PUBLISHED.log_likelihood_one(&s);
            prop_assert!(ll.is_finite());
        }
    }
}
