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
//! rescaled series ([`crate::special::ln_hyp2f1_positive`]); where that series
//! would need more than a few thousand terms (long histories with a small
//! dropout-rate scale), Gauss–Legendre quadrature of the integral A0 stands for
//! gives it and its gradient.

use serde::{Deserialize, Serialize};

use crate::data::{self, FxBuild, Grouped};
use crate::special::{
    digamma, expm1_over, ln_gamma, ln_hyp2f1_a_b_a1_with_derivatives, ln_hyp2f1_positive,
    log_add_exp, log_sub_exp,
};
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
///
/// The search runs on (ln r, ln alpha, ln s, ln mu) with mu = s/beta, the mean
/// dropout rate. When the data show no spread in dropout rates the likelihood
/// keeps rising as s grows with s/beta fixed: Gamma(s, beta) narrows to a single
/// rate mu, and Pareto/NBD tends to the model in which everyone drops out at rate
/// mu. On the old axes s and beta then run off together and the hypergeometric
/// series grow slower with every step; on these axes that ridge is one axis, and
/// the search stops at s = [`S_BOUNDARY`] (the likelihood is held flat beyond it)
/// and says so with [`FitError::DropoutRatesDoNotVary`] rather than report a fit
/// whose s, beta and standard errors mean nothing.
pub fn fit(data: &[Summary]) -> Result<Fit<Params>, FitError> {
    data::validate_counts(data, MIN_REPEAT_BUYERS)?;
    let grouped = data::group(data);
    let pairs = PairIndex::new(&grouped);
    let ln_s_max = S_BOUNDARY.ln();
    // θ = (ln r, ln α, ln s, ln μ), ln β = ln s − ln μ.
    let natural = |theta: &[f64]| [theta[0], theta[1], theta[2], theta[2] - theta[3]];
    let objective = |theta: &[f64]| {
        // Beyond the boundary the likelihood is that at the boundary, flat in s.
        let beyond = theta[2] > ln_s_max;
        let mut at = natural(theta);
        if beyond {
            at = natural(&[theta[0], theta[1], ln_s_max, theta[3]]);
        }
        let p = Params {
            r: at[0].exp(),
            alpha: at[1].exp(),
            s: at[2].exp(),
            beta: at[3].exp(),
        };
        let v = p.grouped_log_likelihood_and_gradient(&grouped, &pairs);
        // ∂/∂ln s at fixed μ = ∂/∂ln s + ∂/∂ln β; ∂/∂ln μ = −∂/∂ln β.
        let d_s = if beyond { 0.0 } else { v[3] + v[4] };
        (-v[0], vec![-v[1], -v[2], -d_s, v[4]])
    };
    let mut out = optimize::minimize_with_gradient(objective, &[0.0; 4]);
    if !out.converged && out.theta[2] < ln_s_max - 1.0 {
        // The derivative-free path from the same start, as for the other models.
        let second = optimize::minimize(|theta: &[f64]| objective(theta).0, &[0.0; 4]);
        if second.converged || second.theta[2] >= ln_s_max - 1.0 {
            let iterations = out.iterations + second.iterations;
            out = second;
            out.iterations = iterations;
        }
    }
    // The other edge: s running towards 0 (with s/beta fixed, or with beta running to 0
    // first, which leaves a few people leaving at once and the rest never).
    let (s, beta) = (out.theta[2].exp(), (out.theta[2] - out.theta[3]).exp());
    if s < S_VANISHING || (s < 0.01 && beta < 1e-9) {
        return Err(FitError::NobodyDropsOut { s, beta });
    }
    if out.theta[2] >= ln_s_max - 1.0 {
        return fit_held_at_boundary(&objective, &out);
    }
    // Back to log-parameters for `finish`: θ' = J θ, covariance J Σ Jᵀ, with J the
    // identity but for the row of ln β, (0, 0, 1, −1).
    out.theta = natural(&out.theta).to_vec();
    if let Some(inv) = out.inverse_hessian.as_mut() {
        *inv = optimize::carry_covariance(inv, 4, 4, |i, k| match (i, k) {
            (3, 2) => 1.0,
            (3, 3) => -1.0,
            _ => f64::from(u8::from(i == k)),
        });
    }
    optimize::finish(out, &["r", "alpha", "s", "beta"], |v| Params {
        r: v[0],
        alpha: v[1],
        s: v[2],
        beta: v[3],
    })
}

/// The fit with s held at [`S_BOUNDARY`], searched on (ln r, ln alpha, ln mu) from where the
/// free search ended: the model in which everyone drops out at (to within a 10 % spread)
/// one rate mu = s/beta. Its r, alpha and beta have standard errors given s; s has none
/// (it is `NaN`), and [`crate::Fit::held`] says why. If even this search fails, the error
/// says that the dropout rates do not vary, naming mu.
fn fit_held_at_boundary(
    objective: &impl Fn(&[f64]) -> (f64, Vec<f64>),
    free: &optimize::Outcome,
) -> Result<Fit<Params>, FitError> {
    let ln_s = S_BOUNDARY.ln();
    let held = |theta: &[f64]| {
        let (v, g) = objective(&[theta[0], theta[1], ln_s, theta[2]]);
        (v, vec![g[0], g[1], g[3]])
    };
    let start = [free.theta[0], free.theta[1], free.theta[3]];
    let mut out = optimize::minimize_with_gradient(held, &start);
    out.iterations += free.iterations;
    let mu = out.theta[2].exp();
    if !out.converged {
        return Err(FitError::DropoutRatesDoNotVary { mu, s: S_BOUNDARY });
    }
    // θ' = (ln r, ln α, ln s, ln β) = J (ln r, ln α, ln μ) + (0, 0, ln s, ln s), with J's
    // rows (1,0,0), (0,1,0), (0,0,0), (0,0,−1): the covariance J Σ Jᵀ has no ln s row.
    let (a, b, m) = (out.theta[0], out.theta[1], out.theta[2]);
    out.theta = vec![a, b, ln_s, ln_s - m];
    if let Some(inv) = out.inverse_hessian.as_mut() {
        *inv = optimize::carry_covariance(inv, 3, 4, |i, k| match (i, k) {
            (0, 0) | (1, 1) => 1.0,
            (3, 2) => -1.0,
            _ => 0.0,
        });
    }
    let mut fit = optimize::finish(out, &["r", "alpha", "s", "beta"], |v| Params {
        r: v[0],
        alpha: v[1],
        s: v[2],
        beta: v[3],
    })?;
    let why = format!(
        "the dropout rates do not vary between people: the likelihood keeps rising as s grows \
         with s/beta fixed, so s is held at {S_BOUNDARY:.0} (a spread of 10 %) and this is, to \
         within that, the model in which everyone drops out at one rate, mu = s/beta = \
         {mu:.4} per time unit; s has no standard error"
    );
    optimize::hold(&mut fit, "s", S_BOUNDARY, |p| &mut p.s, why);
    Ok(fit)
}

/// A search that ends below this s was running towards s = 0: Gamma(s, beta) puts ever more
/// people at a rate near 0, and the model tends to one in which nobody drops out
/// ([`FitError::NobodyDropsOut`]). So is one that ends with s below 0.01 and beta below 1e-9:
/// a few people leave at once and the rest never.
pub const S_VANISHING: f64 = 1e-6;

/// Where the search for s stops. Gamma(s, beta) with s = 100 has a coefficient of variation
/// of 1/√s = 10 %: dropout rates that spread less than that are taken not to vary
/// ([`FitError::DropoutRatesDoNotVary`]). Higher would be better, but the hypergeometric
/// series need about 40·(beta + T)/(alpha + T) terms, so every step towards large s and beta
/// costs more; at s = 1,000 one evaluation on the million-person benchmark takes 2.4 s.
pub const S_BOUNDARY: f64 = 100.0;

/// How many 32-point Gauss–Legendre panels the A0 integral needs, in w = ln(y + c) over
/// y in `ends`, for the integrand e^h with h(w) = w − a ln(α + y) − b ln(β + y). A panel
/// of half-width d integrates e^(k w) to double precision while k·d ≤ 14 (the error is
/// about (k d)^64 / 64!); with half the margin, k·d ≤ 8. The slope h' = 1 − a (y+c)/(α+y)
/// − b (y+c)/(β+y) is monotone in y (c ≤ α, β), so its largest size is at an end. Panels
/// are also at most 2 wide, well inside the integrand's nearest complex singularity (π
/// away). Most people of a fit need one panel, a heavy buyer a few, and never more than 16.
fn quadrature_panels(a: f64, b: f64, alpha: f64, beta: f64, c: f64, ends: (f64, f64)) -> usize {
    let slope = |y: f64| (1.0 - a * (y + c) / (alpha + y) - b * (y + c) / (beta + y)).abs();
    let k = slope(ends.0).max(slope(ends.1));
    let length = ((ends.1 + c) / (ends.0 + c)).ln();
    let need = (k * length / 16.0).max(length / 2.0).ceil();
    if need.is_finite() {
        (need as usize).clamp(1, 16)
    } else {
        16
    }
}

/// Whether the Gauss series at argument `z` would need more than about 2,000 terms (its
/// terms fall like zⁿ, so about 37/(−ln z) of them reach double precision): quadrature of
/// the integral is then faster. People with a long history and a small dropout-rate scale
/// bring z near 1, where the series would otherwise run to millions of terms.
fn too_slow(z: f64) -> bool {
    -z.ln() * 2_000.0 < 37.0
}

/// The 32 nodes and weights of Gauss–Legendre quadrature on [−1, 1], found once by Newton's
/// method on the Legendre polynomial (no crate offers these without a larger dependency).
fn gauss_legendre() -> &'static [(f64, f64)] {
    static NODES: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    NODES.get_or_init(|| {
        const N: usize = 32;
        let mut out = Vec::with_capacity(N);
        for i in 0..N {
            let mut u = (std::f64::consts::PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                // P_N(u) and its derivative by the three-term recurrence.
                let (mut p0, mut p1) = (1.0, u);
                for k in 2..=N {
                    let kf = k as f64;
                    let p2 = ((2.0 * kf - 1.0) * u * p1 - (kf - 1.0) * p0) / kf;
                    p0 = p1;
                    p1 = p2;
                }
                dp = N as f64 * (u * p1 - p0) / (u * u - 1.0);
                let step = p1 / dp;
                u -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            out.push((u, 2.0 / ((1.0 - u * u) * dp * dp)));
        }
        out
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
        if too_slow(z) {
            return None;
        }
        ln_hyp2f1_positive(rsx, b2, rsx + 1.0, z).map(|f| f - rsx * (m + t).ln())
    }

    /// [`Params::ln_tail`] and its gradient with respect to (r, alpha, s,
    /// beta), from derivative sums accumulated alongside the same series.
    fn ln_tail_with_gradient(&self, x: f64, t: f64) -> Option<(f64, [f64; 4])> {
        let Params { r, alpha, s, beta } = *self;
        let a = r + s + x;
        if alpha >= beta {
            let mt = alpha + t;
            let z = (alpha - beta) / mt;
            if too_slow(z) {
                return None;
            }
            let (ln_s, d_a, d_b, d_z) = ln_hyp2f1_a_b_a1_with_derivatives(a, s + 1.0, z)?;
            let lm = mt.ln();
            Some((
                ln_s - a * lm,
                [
                    d_a - lm,
                    d_z * (beta + t) / (mt * mt) - a / mt,
                    d_a + d_b - lm,
                    -d_z / mt,
                ],
            ))
        } else {
            let mt = beta + t;
            let z = (beta - alpha) / mt;
            if too_slow(z) {
                return None;
            }
            let (ln_s, d_a, d_b, d_z) = ln_hyp2f1_a_b_a1_with_derivatives(a, r + x, z)?;
            let lm = mt.ln();
            Some((
                ln_s - a * lm,
                [
                    d_a + d_b - lm,
                    -d_z / mt,
                    d_a - lm,
                    d_z * (alpha + t) / (mt * mt) - a / mt,
                ],
            ))
        }
    }

    /// ln A0 and its gradient with respect to (r, alpha, s, beta) by Gauss–Legendre
    /// quadrature of the integral (in w = ln(y + min(α, β)), where the integrand is smooth
    /// and log-concave), for the fit where the series would be slow. With E[·] the mean
    /// under the integrand: ∂ ln A0/∂r = 1/(r+s+x) − E[ln(α+y)], ∂/∂α = −(r+x) E[1/(α+y)],
    /// ∂/∂s = 1/(r+s+x) − E[ln(β+y)], ∂/∂β = −(s+1) E[1/(β+y)].
    fn ln_a0_gauss_with_gradient(&self, x: f64, tx: f64, big_t: f64) -> (f64, [f64; 4]) {
        let Params { r, alpha, s, beta } = *self;
        let rsx = r + s + x;
        if big_t <= tx {
            return (f64::NEG_INFINITY, [0.0; 4]);
        }
        let c = alpha.min(beta);
        let (lo, hi) = ((tx + c).ln(), (big_t + c).ln());
        let nodes = gauss_legendre();
        let panels = quadrature_panels(r + x, s + 1.0, alpha, beta, c, (tx, big_t));
        let width = (hi - lo) / panels as f64;
        // Values at every node first, to scale by the largest before exponentiating.
        let mut points = Vec::with_capacity(panels * nodes.len());
        for p in 0..panels {
            let mid = lo + width * (p as f64 + 0.5);
            for &(u, wt) in nodes {
                let w = mid + 0.5 * width * u;
                let y = w.exp() - c;
                let (la, lb) = ((alpha + y).ln(), (beta + y).ln());
                let h = w - (r + x) * la - (s + 1.0) * lb;
                points.push((h, 0.5 * width * wt, la, lb, alpha + y, beta + y));
            }
        }
        let scale = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let (mut i0, mut e) = (0.0, [0.0; 4]);
        for &(h, wt, la, lb, ay, by) in &points {
            let f = wt * (h - scale).exp();
            i0 += f;
            e[0] += f * la;
            e[1] += f / ay;
            e[2] += f * lb;
            e[3] += f / by;
        }
        (
            rsx.ln() + i0.ln() + scale,
            [
                1.0 / rsx - e[0] / i0,
                -(r + x) * e[1] / i0,
                1.0 / rsx - e[2] / i0,
                -(s + 1.0) * e[3] / i0,
            ],
        )
    }

    fn ln_a0(&self, x: f64, tx: f64, big_t: f64, tails: (Option<f64>, Option<f64>)) -> f64 {
        match tails {
            (Some(a), Some(b)) => log_sub_exp(a, b),
            _ => self.ln_a0_gauss_with_gradient(x, tx, big_t).0,
        }
    }

    /// ln of the likelihood's bracket, { (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) A0 }.
    fn ln_bracket(&self, x: f64, ln_at: f64, ln_bt: f64, ln_a0: f64) -> f64 {
        let Params { r, s, .. } = *self;
        log_add_exp(
            -(r + x) * ln_at - s * ln_bt,
            s.ln() - (r + s + x).ln() + ln_a0,
        )
    }

    #[cfg(test)]
    pub(crate) fn grouped_log_likelihood(&self, g: &Grouped, pairs: &PairIndex) -> f64 {
        self.grouped_log_likelihood_and_gradient(g, pairs)[0]
    }

    /// Total log-likelihood of grouped data and its gradient with respect to
    /// (ln r, ln alpha, ln s, ln beta). The hypergeometric tail terms are
    /// computed once per distinct (x, time) pair. Where a series would be too
    /// slow (a parameter region far from any optimum) the value is NaN, which
    /// the optimiser treats as out of bounds.
    pub(crate) fn grouped_log_likelihood_and_gradient(
        &self,
        g: &Grouped,
        pairs: &PairIndex,
    ) -> [f64; 5] {
        let Params { r, alpha, s, beta } = *self;
        let mut people_with_x = vec![0.0; g.xs.len()];
        for row in &g.rows {
            people_with_x[row.xi as usize] += row.count;
        }
        let mut acc = [0.0; 5];
        let (lg_r, dg_r, ln_alpha, ln_beta) = (ln_gamma(r), digamma(r), alpha.ln(), beta.ln());
        for (k, &x) in g.xs.iter().enumerate() {
            let n = people_with_x[k];
            if n == 0.0 {
                continue;
            }
            acc[0] += n * (ln_gamma(r + x) - lg_r + r * ln_alpha + s * ln_beta);
            acc[1] += n * (digamma(r + x) - dg_r + ln_alpha);
            acc[2] += n * r / alpha;
            acc[3] += n * ln_beta;
            acc[4] += n * s / beta;
        }
        let tails: Vec<Option<(f64, [f64; 4])>> = data::par_map(&pairs.pairs, |&(xi, ti)| {
            self.ln_tail_with_gradient(g.xs[xi as usize], g.times[ti as usize])
        });
        let rows = data::par_sum_n(g.rows.len(), |k| {
            let row = &g.rows[k];
            let (ptx, pt) = pairs.rows[k];
            let x = g.xs[row.xi as usize];
            let tx = g.times[row.txi as usize];
            let big_t = g.times[row.ti as usize];
            let rsx = r + s + x;
            // ln A0 = ln(e^l1 − e^l2) and its gradient (d1 − w d2)/(1 − w), or both by
            // quadrature where the series would be slow.
            let (ln_a0, d_a0) = match (tails[ptx as usize], tails[pt as usize]) {
                (Some((l1, d1)), Some((l2, d2))) => {
                    let ln_a0 = log_sub_exp(l1, l2);
                    let w = (l2 - l1).exp();
                    let mut d = [0.0; 4];
                    if ln_a0 > f64::NEG_INFINITY {
                        for i in 0..4 {
                            d[i] = (d1[i] - w * d2[i]) / (1.0 - w);
                        }
                    }
                    (ln_a0, d)
                }
                _ => self.ln_a0_gauss_with_gradient(x, tx, big_t),
            };
            let mut d_b = [-1.0 / rsx, 0.0, 1.0 / s - 1.0 / rsx, 0.0];
            if ln_a0 > f64::NEG_INFINITY {
                for i in 0..4 {
                    d_b[i] += d_a0[i];
                }
            }
            let (lat, lbt) = ((alpha + big_t).ln(), (beta + big_t).ln());
            let term_a = -(r + x) * lat - s * lbt;
            let term_b = s.ln() - rsx.ln() + ln_a0;
            let d_a = [-lat, -(r + x) / (alpha + big_t), -lbt, -s / (beta + big_t)];
            let bracket = log_add_exp(term_a, term_b);
            let wb = (term_b - bracket).exp();
            let wa = (term_a - bracket).exp();
            let mut out = [bracket, 0.0, 0.0, 0.0, 0.0];
            for i in 0..4 {
                out[i + 1] = if ln_a0 > f64::NEG_INFINITY {
                    wa * d_a[i] + wb * d_b[i]
                } else {
                    d_a[i]
                };
            }
            out.map(|v| v * row.count)
        });
        for (a_, r_) in acc.iter_mut().zip(rows) {
            *a_ += r_;
        }
        let out = [
            acc[0],
            acc[1] * r,
            acc[2] * alpha,
            acc[3] * s,
            acc[4] * beta,
        ];
        if out.iter().any(|v| v.is_nan()) {
            [f64::NAN; 5]
        } else {
            out
        }
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
        if horizon.is_nan() || horizon <= 0.0 {
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
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        (r * beta / alpha * -expm1_over(s - 1.0, (beta / (beta + t)).ln())).max(0.0)
    }
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
        assert!(
            sig4(p.alpha, 10.5775) || (p.alpha - 10.5775).abs() < 2e-3,
            "alpha {}",
            p.alpha
        );
        assert!(sig4(p.s, 0.6062), "s {}", p.s);
        assert!(
            sig4(p.beta, 11.6686) || (p.beta - 11.6686).abs() < 2e-3,
            "beta {}",
            p.beta
        );
        assert!(fit.std_errors.s.is_finite() && fit.std_errors.s > 0.0);
    }

    #[test]
    fn pareto_nbd_standard_errors_on_cdnow_match_the_published_ones() {
        // CLVTools' correctness tests: the inverse observed information at
        // the maximum, mapped from the log scale with the delta method.
        let fit = fit(&testdata::cdnow_summary()).expect("fit");
        let se = fit.std_errors;
        eprintln!("Pareto/NBD standard errors on CDNOW: {se:?}");
        for (got, want) in [
            (se.r, 0.0476),
            (se.alpha, 0.8427),
            (se.s, 0.1873),
            (se.beta, 6.2105),
        ] {
            assert!((got / want - 1.0).abs() < 1e-3, "{se:?}");
        }
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
    fn pareto_nbd_analytic_gradient_matches_finite_differences() {
        let data = testdata::cdnow_summary();
        let g = data::group(&data);
        let pairs = PairIndex::new(&g);
        let at = |th: [f64; 4]| Params {
            r: th[0].exp(),
            alpha: th[1].exp(),
            s: th[2].exp(),
            beta: th[3].exp(),
        };
        // Both branches of the series choice: alpha > beta and alpha < beta.
        for th in [
            [-0.6, 2.4, -0.5, 2.2],
            [-0.6, 2.2, -0.5, 2.6],
            [0.3, 0.1, 0.2, 1.5],
        ] {
            let v = at(th).grouped_log_likelihood_and_gradient(&g, &pairs);
            for i in 0..4 {
                let h = 1e-6;
                let (mut p, mut m) = (th, th);
                p[i] += h;
                m[i] -= h;
                let fd = (at(p).grouped_log_likelihood(&g, &pairs)
                    - at(m).grouped_log_likelihood(&g, &pairs))
                    / (2.0 * h);
                assert!(
                    (fd - v[i + 1]).abs() < 1e-4 * fd.abs().max(1.0),
                    "{th:?} {i}: {fd} vs {}",
                    v[i + 1]
                );
            }
        }
    }

    #[test]
    fn pareto_nbd_expected_purchases_of_a_heavy_buyer_match_the_published_value() {
        let s = Summary::new(26.0, 30.86, 31.0).unwrap();
        let e = PUBLISHED.expected_purchases(&s, 52.0);
        assert!((e - 25.46).abs() < 0.005, "{e}");
    }

    /// ln A0 = ln (r+s+x) + ln ∫ from tx to T of (α+y)^−(r+x) (β+y)^−(s+1) dy, by composite
    /// Simpson in w = ln(y + 1): slow and plain, a reference for the quadrature.
    fn ln_a0_by_simpson(p: &Params, x: f64, tx: f64, t: f64) -> f64 {
        let n = 200_000;
        let (lo, hi) = ((tx + 1.0).ln(), (t + 1.0).ln());
        let step = (hi - lo) / n as f64;
        let h = |w: f64| {
            let y = w.exp() - 1.0;
            w - (p.r + x) * (p.alpha + y).ln() - (p.s + 1.0) * (p.beta + y).ln()
        };
        let scale = h(lo).max(h(hi));
        let sum: f64 = (0..=n)
            .map(|i| {
                let weight = match i {
                    0 => 1.0,
                    i if i == n => 1.0,
                    i if i % 2 == 1 => 4.0,
                    _ => 2.0,
                };
                weight * (h(lo + step * i as f64) - scale).exp()
            })
            .sum();
        (p.r + p.s + x).ln() + (sum * step / 3.0).ln() + scale
    }

    #[test]
    fn pareto_nbd_series_and_quadrature_agree_on_a0() {
        for p in [
            PUBLISHED,
            Params {
                alpha: 2.0,
                beta: 40.0,
                ..PUBLISHED
            },
            Params {
                alpha: 40.0,
                beta: 2.0,
                ..PUBLISHED
            },
            // s held at its bound, as where the dropout rates do not vary.
            Params {
                r: 0.52,
                alpha: 10.5,
                s: S_BOUNDARY,
                beta: 3284.6,
            },
            Params {
                s: 0.05,
                beta: 0.5,
                ..PUBLISHED
            },
        ] {
            for &(x, tx, t) in &[
                (0.0, 0.0, 39.0),
                (3.0, 10.0, 39.0),
                (200.0, 35.0, 39.0),
                (25.0, 1.0, 80.0),
                (1.0, 0.5, 150.0),
                (60.0, 1.0, 80.0),
                (300.0, 0.0, 150.0),
            ] {
                // The series where it is quick, else composite Simpson on 200,000 intervals.
                let series = match (p.ln_tail(x, tx), p.ln_tail(x, t)) {
                    (Some(a), Some(b)) => log_sub_exp(a, b),
                    _ => ln_a0_by_simpson(&p, x, tx, t),
                };
                let (quad, gradient) = p.ln_a0_gauss_with_gradient(x, tx, t);
                assert!(
                    (series - quad).abs() < 1e-9 * series.abs().max(1.0),
                    "{p:?} {x} {tx} {t}: {series} vs {quad}"
                );
                // The quadrature's gradient against central differences of its value.
                let at = |k: usize, h: f64| {
                    let mut v = [p.r, p.alpha, p.s, p.beta];
                    v[k] += h;
                    let q = Params {
                        r: v[0],
                        alpha: v[1],
                        s: v[2],
                        beta: v[3],
                    };
                    q.ln_a0_gauss_with_gradient(x, tx, t).0
                };
                for (k, g) in gradient.iter().enumerate() {
                    let h = 1e-5 * [p.r, p.alpha, p.s, p.beta][k];
                    let fd = (at(k, h) - at(k, -h)) / (2.0 * h);
                    assert!(
                        (g - fd).abs() < 1e-5 * fd.abs().max(1.0),
                        "{k}: {g} vs {fd}"
                    );
                }
            }
        }
    }

    #[test]
    fn pareto_nbd_a0_near_the_series_limit_is_found_by_quadrature_quickly() {
        // alpha far above beta and a long history put the series argument near 1, where it
        // would need hundreds of thousands of terms; the quadrature takes over.
        let p = Params {
            r: 0.7,
            alpha: 1.0e6,
            s: 0.05,
            beta: 0.5,
        };
        assert!(p.ln_tail(2.0, 150.0).is_none());
        let (a0, gradient) = p.ln_a0_gauss_with_gradient(2.0, 20.0, 150.0);
        assert!(a0.is_finite() && gradient.iter().all(|g| g.is_finite()));
        let ll = p.log_likelihood_one(&Summary {
            frequency: 2.0,
            recency: 20.0,
            t: 150.0,
            monetary: None,
        });
        assert!(ll.is_finite() && ll < 0.0, "{ll}");
    }

    #[test]
    fn pareto_nbd_population_expectation_grows_with_time_and_starts_at_zero() {
        assert_eq!(PUBLISHED.expected_population(0.0), 0.0);
        let e = |t: f64| PUBLISHED.expected_population(t);
        assert!(e(1.0) < e(10.0) && e(10.0) < e(100.0));
        // Near s = 1 the formula's 0/0 is handled.
        let p = Params {
            s: 1.0,
            ..PUBLISHED
        };
        let want = p.r * p.beta / p.alpha * ((p.beta + 39.0) / p.beta).ln();
        assert!((p.expected_population(39.0) - want).abs() < 1e-12);
    }

    #[test]
    fn where_everyone_drops_out_at_one_rate_the_fit_holds_s_at_its_bound_and_says_so() {
        // s = infinity is the truth here, the edge of the model: about half the samples
        // put the maximum beyond the bound (s held), the others at a large finite s. Both
        // must find the one rate, and a held fit must say so and carry no error for s.
        let mut held_fits = 0;
        for seed in 1..=6 {
            let fit = fit(&testdata::one_dropout_rate(6_000, 0.03, seed)).expect("a fit");
            let mu = fit.params.s / fit.params.beta;
            assert!((mu - 0.03).abs() < 0.008, "seed {seed}: mu {mu}");
            assert!(
                (fit.params.r - PUBLISHED.r).abs() < 0.1,
                "seed {seed}: {fit:?}"
            );
            let Some(held) = &fit.held else {
                assert!(fit.params.s > 3.0, "seed {seed}: {fit:?}");
                continue;
            };
            held_fits += 1;
            assert_eq!(held.parameter, "s");
            assert!(held.why.contains("do not vary"), "{}", held.why);
            assert_eq!(fit.params.s, S_BOUNDARY);
            assert!(fit.std_errors.s.is_nan());
            // r, alpha and beta have standard errors; the ln s row of the covariance is 0.
            assert!(fit.std_errors.r > 0.0 && fit.std_errors.beta > 0.0);
            assert!((0..4).all(|k| fit.log_covariance[2 * 4 + k] == 0.0));
            // People's figures follow: a recent buyer is more likely alive than a lapsed one.
            let recent = Summary::new(3.0, 38.0, 39.0).unwrap();
            let lapsed = Summary::new(3.0, 5.0, 39.0).unwrap();
            assert!(fit.params.p_alive(&recent) > fit.params.p_alive(&lapsed));
        }
        assert!(held_fits >= 2, "{held_fits} of 6 fits held s");
    }

    #[test]
    fn where_nobody_drops_out_the_fit_says_so_rather_than_not_converging() {
        // No dropout at all is the truth here, at the model's edges: a sample puts the
        // maximum at a tiny s, or at one tiny common rate (s held), or lets s run towards 0,
        // which must be said in words, not as "did not converge".
        let mut said = 0;
        for seed in 1..=4 {
            match fit(&testdata::one_dropout_rate(4_000, 1e-9, seed)) {
                Err(FitError::NobodyDropsOut { s, .. }) => {
                    assert!(s < 0.01, "seed {seed}: {s}");
                    said += 1;
                }
                // Or a fit, interior or with s held, in which barely anyone leaves: the share
                // still with us after 45 weeks, (beta/(beta + 45))^s, is above 90 %.
                Ok(fit) => {
                    let Params { s, beta, .. } = fit.params;
                    let staying = (beta / (beta + 45.0)).powf(s);
                    assert!(staying > 0.9, "seed {seed}: {staying} {fit:?}");
                }
                Err(other) => panic!("seed {seed}: {other}"),
            }
        }
        assert!(said >= 1, "no sample ran s towards 0");
    }

    #[test]
    fn where_dropout_rates_vary_the_fit_holds_nothing() {
        let fit = fit(&testdata::cdnow_summary()).unwrap();
        assert_eq!(fit.held, None);
    }

    #[test]
    #[ignore = "about 5 s in a release build, minutes in a debug one"]
    fn pareto_nbd_holds_s_when_the_dropout_rates_do_not_vary() {
        // bench/models_gen.py's first 75,000 people: the CDNOW rows over and over, copy k
        // with T + (k mod 30)/7 weeks. The likelihood keeps rising as s grows with s/beta
        // fixed, which used to stall the fit.
        let cdnow = testdata::cdnow_summary();
        let data: Vec<Summary> = (0..75_000)
            .map(|i| {
                let row = cdnow[i % cdnow.len()];
                let k = i / cdnow.len();
                let t = ((row.t + (k % 30) as f64 / 7.0) * 1e4).round() / 1e4;
                Summary { t, ..row }
            })
            .collect();
        let fit = fit(&data).expect("a fit with s held");
        assert!(fit.held.is_some());
        let mu = fit.params.s / fit.params.beta;
        assert!((mu - 0.030).abs() < 0.002, "{mu}");
    }

    #[test]
    fn pareto_nbd_fit_rejects_bad_input() {
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let zeros = vec![Summary::new(0.0, 0.0, 10.0).unwrap(); 10];
        assert_eq!(fit(&zeros), Err(FitError::AllZeroFrequency));
        let mut data = testdata::cdnow_summary();
        data[3].recency = 100.0;
        assert!(matches!(
            fit(&data),
            Err(FitError::RecencyExceedsT { index: 3, .. })
        ));
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
