//! The MBG/NBD model of Batislam, Denizel & Filiztekin (2007), "Empirical
//! validation and comparison of models for customer base analysis".
//!
//! It exists to fix the BG/NBD's quirk that a person with no repeat purchase
//! is certainly alive ([`crate::bgnbd`]): here a person may also drop out
//! right after the first purchase, at time 0, so each of the x + 1 purchases
//! is followed by a dropout chance p ~ Beta(a, b). Purchases while alive are
//! Poisson with rate λ ~ Gamma(r, alpha), as in the BG/NBD. One-time buyers
//! then get a P(alive) below 1 that falls with their age T.

use serde::{Deserialize, Serialize};

use crate::data::{self, Grouped};
use crate::special::{digamma, expm1_over, ln_gamma, log_add_exp};
use crate::{Fit, FitError, PurchaseModel, Summary, optimize};

/// MBG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate alpha), dropout
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

/// 1 / (1 + e^d), written so a huge d gives 0 rather than NaN.
fn logistic_of_minus(d: f64) -> f64 {
    if d > 0.0 {
        let e = (-d).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + d.exp())
    }
}

impl Params {
    #[cfg(test)]
    pub(crate) fn grouped_log_likelihood(&self, g: &Grouped) -> f64 {
        self.grouped_log_likelihood_and_gradient(g)[0]
    }

    /// Total log-likelihood of grouped data and its gradient with respect to
    /// (ln r, ln alpha, ln a, ln b); x-only terms once per distinct x, as in
    /// the BG/NBD.
    pub(crate) fn grouped_log_likelihood_and_gradient(&self, g: &Grouped) -> [f64; 5] {
        let Params { r, alpha, a, b } = *self;
        let mut people_with_x = vec![0.0; g.xs.len()];
        for row in &g.rows {
            people_with_x[row.xi as usize] += row.count;
        }
        let (lg_ab, lg_b, lg_r) = (ln_gamma(a + b), ln_gamma(b), ln_gamma(r));
        let (dg_ab, dg_b, dg_r) = (digamma(a + b), digamma(b), digamma(r));
        let mut acc = [0.0; 5];
        let ln_a_over: Vec<f64> = g.xs.iter().map(|&x| a.ln() - (b + x).ln()).collect();
        for (k, &x) in g.xs.iter().enumerate() {
            let n = people_with_x[k];
            if n == 0.0 {
                continue;
            }
            acc[0] += n
                * (ln_gamma(r + x) - lg_r + r * alpha.ln() + lg_ab + ln_gamma(b + x + 1.0)
                    - lg_b
                    - ln_gamma(a + b + x + 1.0));
            acc[1] += n * (digamma(r + x) - dg_r + alpha.ln());
            acc[2] += n * r / alpha;
            let dg_abx = digamma(a + b + x + 1.0);
            acc[3] += n * (dg_ab - dg_abx);
            acc[4] += n * (dg_ab + digamma(b + x + 1.0) - dg_b - dg_abx);
        }
        let ln_t: Vec<f64> = g.times.iter().map(|&t| (alpha + t).ln()).collect();
        let inv_t: Vec<f64> = g.times.iter().map(|&t| 1.0 / (alpha + t)).collect();
        let xs = &g.xs;
        let rows = data::par_sum_n(g.rows.len(), |k| {
            let row = &g.rows[k];
            let x = xs[row.xi as usize];
            let rx = r + x;
            let (lt, it) = (ln_t[row.ti as usize], inv_t[row.ti as usize]);
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
            [
                -rx * lt + softplus,
                -lt + sigma * (lt - ltx),
                -rx * it + sigma * rx * (it - itx),
                sigma / a,
                -sigma / (b + x),
            ]
            .map(|v| v * row.count)
        });
        for (a_, r_) in acc.iter_mut().zip(rows) {
            *a_ += r_;
        }
        [acc[0], acc[1] * r, acc[2] * alpha, acc[3] * a, acc[4] * b]
    }

    /// Log-likelihood of one person (Batislam et al. 2007, in log space).
    pub fn log_likelihood_one(&self, s: &Summary) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let x = s.frequency;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x + 1.0) - ln_gamma(b) - ln_gamma(a + b + x + 1.0);
        let a3 = -(r + x) * (alpha + s.t).ln();
        let a4 = a.ln() - (b + x).ln() - (r + x) * (alpha + s.recency).ln();
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// Total log-likelihood over people (not a mean).
    pub fn log_likelihood(&self, data: &[Summary]) -> f64 {
        data.iter().map(|s| self.log_likelihood_one(s)).sum()
    }

    /// P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)),
    /// below 1 for everyone, one-time buyers included.
    pub fn p_alive(&self, s: &Summary) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let x = s.frequency;
        let d = a.ln() - (b + x).ln() + (r + x) * ((alpha + s.t).ln() - (alpha + s.recency).ln());
        logistic_of_minus(d)
    }

    /// Expected purchases in `(T, T + horizon]` given the history:
    /// (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)]
    /// · P(alive), z = t/(α+T+t); `horizon` in the data's time unit.
    pub fn expected_purchases(&self, s: &Summary, horizon: f64) -> f64 {
        if horizon.is_nan() || horizon <= 0.0 {
            return 0.0;
        }
        self.conditional_core(s.frequency, s.t, horizon) * self.p_alive(s)
    }

    /// E[X(t)] of a newly acquired person:
    /// b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))], which is the
    /// conditional formula at x = 0, T = 0 (where P(alive) = b/(a+b)).
    pub fn expected_population(&self, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        let Params { a, b, .. } = *self;
        self.conditional_core(0.0, 0.0, t) * b / (a + b)
    }

    /// (a+b+x)/(a−1) · [1 − (1−z)^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)], computed as
    /// the BG/NBD's: Euler's transformation gives
    /// (1−z)^(a−1) ₂F₁(a+b−r, a−1; a+b+x; z), whose upper parameters do not
    /// grow with x, and (a − 1) is divided out of the series analytically.
    fn conditional_core(&self, x: f64, big_t: f64, t: f64) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let c = a + b + x;
        let g = a - 1.0;
        let big_a = a + b - r;
        let denom = alpha + big_t + t;
        let z = t / denom;
        let u = ((alpha + big_t) / denom).ln(); // ln(1 − z)
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
        (c * (lead - (g * u).exp() * sum)).max(0.0)
    }
}

impl PurchaseModel for Params {
    fn name(&self) -> &'static str {
        "MBG/NBD"
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
    use crate::special::hyp2f1;
    use crate::testdata;

    const PUBLISHED: Params = Params {
        r: 0.525,
        alpha: 6.183,
        a: 0.891,
        b: 1.614,
    };

    #[test]
    fn mbgnbd_on_cdnow_reproduces_the_published_parameters() {
        let data = testdata::cdnow_summary();
        let started = std::time::Instant::now();
        let fit = fit(&data).expect("fit");
        eprintln!("MBG/NBD fit on CDNOW: {:?}", started.elapsed());
        let p = fit.params;
        // Published to three decimals.
        for (got, want) in [
            (p.r, PUBLISHED.r),
            (p.alpha, PUBLISHED.alpha),
            (p.a, PUBLISHED.a),
            (p.b, PUBLISHED.b),
        ] {
            assert!((got - want).abs() < 5e-4, "{p:?}");
        }
        let se = fit.std_errors;
        for (s, v) in [(se.r, p.r), (se.alpha, p.alpha), (se.a, p.a), (se.b, p.b)] {
            assert!(s.is_finite() && s > 0.0 && s < v, "{se:?}");
        }
    }

    #[test]
    fn mbgnbd_analytic_gradient_matches_finite_differences() {
        let data = testdata::cdnow_summary();
        let g = data::group(&data);
        let at = |th: [f64; 4]| Params {
            r: th[0].exp(),
            alpha: th[1].exp(),
            a: th[2].exp(),
            b: th[3].exp(),
        };
        let th = [-0.6, 1.8, -0.1, 0.5];
        let v = at(th).grouped_log_likelihood_and_gradient(&g);
        let ll: f64 = at(th).log_likelihood(&data);
        assert!((ll - v[0]).abs() < 1e-8 * ll.abs());
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
    fn mbgnbd_one_time_buyers_are_not_certainly_alive_and_fade_with_age() {
        let young = Summary::new(0.0, 0.0, 1.0).unwrap();
        let old = Summary::new(0.0, 0.0, 39.0).unwrap();
        let (py, po) = (PUBLISHED.p_alive(&young), PUBLISHED.p_alive(&old));
        assert!(po < py && py < 1.0, "{py} {po}");
        // At T = 0 it is the chance of not dropping out at the first purchase.
        let now = Summary::new(0.0, 0.0, 0.0).unwrap();
        let want = PUBLISHED.b / (PUBLISHED.a + PUBLISHED.b);
        assert!((PUBLISHED.p_alive(&now) - want).abs() < 1e-15);
    }

    #[test]
    fn mbgnbd_expectations_match_the_hypergeometric_formula_evaluated_directly() {
        // lifetimes' formulas with the Gauss series summed naively, where
        // that converges well (moderate z).
        let p = PUBLISHED;
        for &(x, tx, big_t, t) in &[(0.0, 0.0, 39.0, 10.0), (2.0, 30.43, 38.86, 39.0)] {
            let s = Summary::new(x, tx, big_t).unwrap();
            let z = t / (p.alpha + big_t + t);
            let h = hyp2f1(p.r + x, p.b + x + 1.0, p.a + p.b + x, z).unwrap();
            let num = (p.a + p.b + x) / (p.a - 1.0)
                * (1.0 - h * ((p.alpha + big_t) / (p.alpha + big_t + t)).powf(p.r + x));
            let den = 1.0 + p.a / (p.b + x) * ((p.alpha + big_t) / (p.alpha + tx)).powf(p.r + x);
            let want = num / den;
            let got = p.expected_purchases(&s, t);
            assert!((got - want).abs() < 1e-10 * want, "{got} {want}");
        }
        for &t in &[1.0, 10.0, 39.0] {
            let h = hyp2f1(p.r, p.b + 1.0, p.a + p.b, t / (p.alpha + t)).unwrap();
            let want = p.b / (p.a - 1.0) * (1.0 - h * (p.alpha / (p.alpha + t)).powf(p.r));
            let got = p.expected_population(t);
            assert!((got - want).abs() < 1e-10 * want, "{got} {want}");
        }
    }

    #[test]
    fn mbgnbd_fit_rejects_bad_input() {
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let mut data = testdata::cdnow_summary();
        data[5].recency = data[5].t + 1.0;
        assert!(matches!(
            fit(&data),
            Err(FitError::RecencyExceedsT { index: 5, .. })
        ));
    }

    #[test]
    #[ignore = "timing at scale; run with --release -- --ignored --nocapture"]
    fn mbgnbd_fits_a_million_people_in_under_three_seconds() {
        let data = testdata::cdnow_million();
        let started = std::time::Instant::now();
        let fit = testdata::timed("MBG/NBD, 1,002,725 people", || fit(&data)).unwrap();
        assert!(started.elapsed().as_secs_f64() < 3.0, "{fit:?}");
    }
}
