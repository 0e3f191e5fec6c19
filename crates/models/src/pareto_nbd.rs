//! The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), with the
//! likelihood in the numerically stable form of Fader, Hardie & Lee's note
//! "A note on implementing the Pareto/NBD model in MATLAB" (2005).
//!
//! It exists alongside BG/NBD because dropout here can happen at any time, not
//! only right after a purchase, which matters for people with no repeat
//! purchase (BG/NBD calls them certainly alive). While alive a person buys as
//! a Poisson process with rate λ ~ Gamma(r, alpha); lifetimes are exponential
//! with rate μ ~ Gamma(s, beta).
//!
//! The hard part is the term A0 of the likelihood, a difference of two Gauss
//! hypergeometric functions whose naive evaluation overflows or gives NaN for
//! heavy buyers. Following the note we pick the series by comparing alpha and
//! beta so the argument is in [0, 1), and evaluate it in log space with a
//! rescaled series ([`crate::special::ln_hyp2f1_positive`]); the rare
//! parameter region where that series would need millions of terms falls back
//! to adaptive quadrature of the integral A0 stands for.

use serde::{Deserialize, Serialize};

use crate::data::{self, FxBuild, Grouped};
use crate::special::{expm1_over, ln_gamma, ln_hyp2f1_positive, log_add_exp, log_sub_exp};
use crate::{Fit, FitError, PurchaseModel, Summary, optimize};
use std::collections::HashMap;

/// Pareto/NBD parameters: purchase rate λ ~ Gamma(r, alpha), dropout rate
/// μ ~ Gamma(s, beta); alpha and beta are in the time unit of the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// At least this many people with a repeat purchase are needed to fit.
pub const MIN_REPEAT_BUYERS: usize = 4;

/// Maximum-likelihood fit (deterministic).
pub fn fit(data: &[Summary]) -> Result<Fit<Params>, FitError> {
    data::validate_counts(data, MIN_REPEAT_BUYERS)?;
    let grouped = data::group(data);
    let pairs = PairIndex::new(&grouped);
    let out = optimize::minimize(
        |theta: &[f64]| {
            let p = Params {
                r: theta[0].exp(),
                alpha: theta[1].exp(),
                s: theta[2].exp(),
                beta: theta[3].exp(),
            };
            -p.grouped_log_likelihood(&grouped, &pairs)
        },
        &[0.0; 4],
    );
    optimize::finish(out, &["r", "alpha", "s", "beta"], |v| Params {
        r: v[0],
        alpha: v[1],
        s: v[2],
        beta: v[3],
    })
}

/// The distinct (x, time) pairs whose hypergeometric tail term a grouped
/// likelihood needs: each row needs one at t_x and one at T, and many rows
/// share them, so each is computed once per evaluation.
pub(crate) struct PairIndex {
    pairs: Vec<(u32, u32)>,
    /// Per row: (pair at t_x, pair at T).
    rows: Vec<(u32, u32)>,
}

impl PairIndex {
    pub(crate) fn new(g: &Grouped) -> Self {
        let mut map: HashMap<(u32, u32), u32, FxBuild> = HashMap::default();
        let mut pairs = Vec::new();
        let mut index = |key: (u32, u32)| {
            *map.entry(key).or_insert_with(|| {
                pairs.push(key);
                (pairs.len() - 1) as u32
            })
        };
        let rows = g
            .rows
            .iter()
            .map(|r| (index((r.xi, r.txi)), index((r.xi, r.ti))))
            .collect();
        PairIndex { pairs, rows }
    }
}

impl Params {
    /// ln of the "tail" term of FHL's A0 at time t:
    /// ₂F₁(r+s+x, b′; r+s+x+1; |α−β|/(m+t)) / (m+t)^(r+s+x), with m = max(α, β)
    /// and b′ = s+1 when α ≥ β, r+x otherwise (the note's choice, which keeps
    /// the argument in [0, 1)). `None` if the series is too slow.
    fn ln_tail(&self, x: f64, t: f64) -> Option<f64> {
        let Params { r, alpha, s, beta } = *self;
        let rsx = r + s + x;
        let (m, b2, d) = if alpha >= beta {
            (alpha, s + 1.0, alpha - beta)
        } else {
            (beta, r + x, beta - alpha)
        };
        let z = d / (m + t);
        ln_hyp2f1_positive(rsx, b2, rsx + 1.0, z).map(|f| f - rsx * (m + t).ln())
    }

    /// ln A0 by quadrature of the integral it stands for,
    /// A0 = (r+s+x) ∫_{t_x}^{T} (α+y)^−(r+x) (β+y)^−(s+1) dy,
    /// in the variable w = ln(y + min(α, β)) where the integrand is smooth.
    fn ln_a0_quadrature(&self, x: f64, tx: f64, big_t: f64) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        if big_t <= tx {
            return f64::NEG_INFINITY;
        }
        let c = alpha.min(beta);
        let h = |w: f64| {
            let y = w.exp() - c;
            w - (r + x) * (alpha + y).ln() - (s + 1.0) * (beta + y).ln()
        };
        let (lo, hi) = ((tx + c).ln(), (big_t + c).ln());
        // The integrand is log-concave in w; its largest value on a fine grid
        // is a safe scale to keep exp() in range.
        let scale = (0..=64)
            .map(|i| h(lo + (hi - lo) * f64::from(i) / 64.0))
            .fold(f64::NEG_INFINITY, f64::max);
        let f = |w: f64| (h(w) - scale).exp();
        let integral = adaptive_simpson(&f, lo, hi, 1e-13, 40);
        (r + s + x).ln() + integral.ln() + scale
    }

    fn ln_a0(&self, x: f64, tx: f64, big_t: f64, tails: (Option<f64>, Option<f64>)) -> f64 {
        match tails {
            (Some(a), Some(b)) => log_sub_exp(a, b),
            _ => self.ln_a0_quadrature(x, tx, big_t),
        }
    }

    /// ln of the likelihood's bracket, { (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) A0 }.
    fn ln_bracket(&self, x: f64, ln_at: f64, ln_bt: f64, ln_a0: f64) -> f64 {
        let Params { r, s, .. } = *self;
        log_add_exp(-(r + x) * ln_at - s * ln_bt, s.ln() - (r + s + x).ln() + ln_a0)
    }

    pub(crate) fn grouped_log_likelihood(&self, g: &Grouped, pairs: &PairIndex) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        let common = -ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let per_x: Vec<f64> = g.xs.iter().map(|&x| common + ln_gamma(r + x)).collect();
        let ln_a: Vec<f64> = g.times.iter().map(|&t| (alpha + t).ln()).collect();
        let ln_b: Vec<f64> = g.times.iter().map(|&t| (beta + t).ln()).collect();
        let tails: Vec<Option<f64>> = pairs
            .pairs
            .iter()
            .map(|&(xi, ti)| self.ln_tail(g.xs[xi as usize], g.times[ti as usize]))
            .collect();
        let total = data::par_sum(g.rows.len(), |k| {
            let row = &g.rows[k];
            let (ptx, pt) = pairs.rows[k];
            let x = g.xs[row.xi as usize];
            let tx = g.times[row.txi as usize];
            let big_t = g.times[row.ti as usize];
            let ln_a0 = self.ln_a0(x, tx, big_t, (tails[ptx as usize], tails[pt as usize]));
            let ti = row.ti as usize;
            row.count * (per_x[row.xi as usize] + self.ln_bracket(x, ln_a[ti], ln_b[ti], ln_a0))
        });
        if total.is_nan() { f64::NEG_INFINITY } else { total }
    }

    fn ln_a0_of(&self, s: &Summary) -> f64 {
        let x = s.frequency;
        let tails = (self.ln_tail(x, s.recency), self.ln_tail(x, s.t));
        self.ln_a0(x, s.recency, s.t, tails)
    }

    /// Log-likelihood of one person.
    pub fn log_likelihood_one(&self, p: &Summary) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        let x = p.frequency;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        a1 + self.ln_bracket(x, (alpha + p.t).ln(), (beta + p.t).ln(), self.ln_a0_of(p))
    }

    /// Total log-likelihood over people (not a mean).
    pub fn log_likelihood(&self, data: &[Summary]) -> f64 {
        data.iter().map(|s| self.log_likelihood_one(s)).sum()
    }

    /// P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A0).
    pub fn p_alive(&self, p: &Summary) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        let x = p.frequency;
        let d = s.ln() - (r + s + x).ln()
            + (r + x) * (alpha + p.t).ln()
            + s * (beta + p.t).ln()
            + self.ln_a0_of(p);
        if d.is_nan() {
            return 1.0;
        }
        if d > 0.0 {
            let e = (-d).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + d.exp())
        }
    }

    /// Expected purchases in `(T, T + horizon]`:
    /// (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive),
    /// with the (s − 1) division done stably near s = 1.
    pub fn expected_purchases(&self, p: &Summary, horizon: f64) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        if !(horizon > 0.0) {
            return 0.0;
        }
        let x = p.frequency;
        let u = ((beta + p.t) / (beta + p.t + horizon)).ln();
        let v = (r + x) * (beta + p.t) / (alpha + p.t) * -expm1_over(s - 1.0, u);
        (v * self.p_alive(p)).max(0.0)
    }

    /// E[X(t)] = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)].
    pub fn expected_population(&self, t: f64) -> f64 {
        let Params { r, alpha, s, beta } = *self;
        if !(t > 0.0) {
            return 0.0;
        }
        (r * beta / alpha * -expm1_over(s - 1.0, (beta / (beta + t)).ln())).max(0.0)
    }
}

/// Adaptive Simpson quadrature with an absolute tolerance relative to the
/// integrand's scale (the caller scales its maximum to about 1).
fn adaptive_simpson<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64, tol: f64, depth: u32) -> f64 {
    fn rec<F: Fn(f64) -> f64>(
        f: &F,
        a: f64,
        b: f64,
        fa: f64,
        fm: f64,
        fb: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
        let (flm, frm) = (f(lm), f(rm));
        let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
        let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
        let delta = left + right - whole;
        if depth == 0 || delta.abs() <= 15.0 * tol {
            return left + right + delta / 15.0;
        }
        rec(f, a, m, fa, flm, fm, left, tol / 2.0, depth - 1)
            + rec(f, m, b, fm, frm, fb, right, tol / 2.0, depth - 1)
    }
    let (fa, fb, fm) = (f(a), f(b), f(0.5 * (a + b)));
    let whole = (b - a) / 6.0 * (fa + 4.0 * fm + fb);
    rec(f, a, b, fa, fm, fb, whole, tol * (b - a).max(1e-300), depth)
}

impl PurchaseModel for Params {
    fn name(&self) -> &'static str {
        "Pareto/NBD"
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
        r: 0.5533,
        alpha: 10.5775,
        s: 0.6062,
        beta: 11.6686,
    };

    fn sig4(got: f64, want: f64) -> bool {
        let unit = 10f64.powf(want.abs().log10().floor() - 3.0);
        (got - want).abs() <= 0.5 * unit + 1e-12
    }

    #[test]
    fn pareto_nbd_reproduces_the_published_cdnow_fit() {
        let data = testdata::cdnow_summary();
        let fit = fit(&data).expect("fit");
        let p = fit.params;
        assert!(fit.converged);
        assert!(sig4(p.r, 0.5533), "r {}", p.r);
        assert!(sig4(p.alpha, 10.5775) || (p.alpha - 10.5775).abs() < 2e-3, "alpha {}", p.alpha);
        assert!(sig4(p.s, 0.6062), "s {}", p.s);
        assert!(sig4(p.beta, 11.6686) || (p.beta - 11.6686).abs() < 2e-3, "beta {}", p.beta);
        assert!(fit.std_errors.s.is_finite() && fit.std_errors.s > 0.0);
    }

    #[test]
    fn pareto_nbd_log_likelihood_at_the_published_parameters_is_minus_9594_97() {
        let data = testdata::cdnow_summary();
        let p = Params {
            r: 0.5533,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        };
        let ll = p.log_likelihood(&data);
        assert!((ll - -9594.97).abs() < 0.01, "{ll}");
        let g = data::group(&data);
        let grouped = p.grouped_log_likelihood(&g, &PairIndex::new(&g));
        assert!((ll - grouped).abs() < 1e-8);
    }

    #[test]
    fn pareto_nbd_expected_purchases_of_a_heavy_buyer_match_the_published_value() {
        let s = Summary::new(26.0, 30.86, 31.0).unwrap();
        let e = PUBLISHED.expected_purchases(&s, 52.0);
        assert!((e - 25.46).abs() < 0.005, "{e}");
    }

    #[test]
    fn pareto_nbd_series_and_quadrature_agree_on_a0() {
        for p in [
            PUBLISHED,
            Params { alpha: 2.0, beta: 40.0, ..PUBLISHED },
            Params { alpha: 40.0, beta: 2.0, ..PUBLISHED },
        ] {
            for &(x, tx, t) in &[(0.0, 0.0, 39.0), (3.0, 10.0, 39.0), (200.0, 35.0, 39.0)] {
                let series = p.ln_a0(x, tx, t, (p.ln_tail(x, tx), p.ln_tail(x, t)));
                let quad = p.ln_a0_quadrature(x, tx, t);
                assert!((series - quad).abs() < 1e-7, "{p:?} {x} {tx} {t}: {series} vs {quad}");
            }
        }
    }

    #[test]
    fn pareto_nbd_population_expectation_grows_with_time_and_starts_at_zero() {
        assert_eq!(PUBLISHED.expected_population(0.0), 0.0);
        let e = |t: f64| PUBLISHED.expected_population(t);
        assert!(e(1.0) < e(10.0) && e(10.0) < e(100.0));
        // Near s = 1 the formula's 0/0 is handled.
        let p = Params { s: 1.0, ..PUBLISHED };
        let want = p.r * p.beta / p.alpha * ((p.beta + 39.0) / p.beta).ln();
        assert!((p.expected_population(39.0) - want).abs() < 1e-12);
    }

    #[test]
    fn pareto_nbd_fit_rejects_bad_input() {
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let zeros = vec![Summary::new(0.0, 0.0, 10.0).unwrap(); 10];
        assert_eq!(fit(&zeros), Err(FitError::AllZeroFrequency));
        let mut data = testdata::cdnow_summary();
        data[3].recency = 100.0;
        assert!(matches!(fit(&data), Err(FitError::RecencyExceedsT { index: 3, .. })));
    }

    proptest! {
        #[test]
        fn pareto_nbd_heavy_buyers_get_finite_predictions(
            x in 0u32..=500, frac in 0.0f64..=1.0, t in 0.0f64..=500.0, horizon in 0.0f64..=520.0,
        ) {
            let s = Summary::new(f64::from(x), frac * t, t).unwrap();
            for p in [PUBLISHED, Params { alpha: 0.5, beta: 80.0, ..PUBLISHED }, Params { alpha: 80.0, beta: 0.5, ..PUBLISHED }] {
                let pa = p.p_alive(&s);
                prop_assert!(pa.is_finite() && (0.0..=1.0).contains(&pa), "{:?} {}", p, pa);
                let e = p.expected_purchases(&s, horizon);
                prop_assert!(e.is_finite() && e >= 0.0, "{}", e);
                let ll = p.log_likelihood_one(&s);
                prop_assert!(ll.is_finite(), "{:?} {:?} {}", p, s, ll);
            }
        }
    }
}
