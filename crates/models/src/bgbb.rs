//! The BG/BB model of Fader, Hardie & Shang (2010), "Customer-base analysis
//! in a discrete-time noncontractual setting", Marketing Science 29(6).
//!
//! It exists for businesses where people can only act at discrete
//! opportunities (a yearly donation drive, an annual conference, a weekly
//! market), where the continuous-time models ([`crate::bgnbd`],
//! [`crate::pareto_nbd`]) would invent purchases between opportunities.
//! While alive a person transacts at each opportunity with probability
//! p ~ Beta(α, β), and before each opportunity drops out with probability
//! θ ~ Beta(γ, δ). A history is summarised by the pattern (x, t_x, n):
//! x transactions in n opportunities after the first, the last at t_x.
//!
//! n is small (tens of periods), so a whole customer base is at most
//! (n + 1)(n + 2)/2 distinct patterns: the fit works on patterns with counts,
//! and its log-gamma and digamma values come from tables indexed by offset.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::FxBuild;
use crate::special::{digamma, hyp2f1, ln_beta, ln_gamma, log_add_exp};
use crate::{Fit, FitError, optimize};

/// BG/BB parameters: transaction probability p ~ Beta(alpha, beta), dropout
/// probability θ ~ Beta(gamma, delta).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

/// One person's history over `opportunities` (n) opportunities after the
/// first transaction: `frequency` (x) transactions, the last at opportunity
/// `recency` (t_x; 0 when x = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pattern {
    pub frequency: u32,
    pub recency: u32,
    pub opportunities: u32,
}

impl Pattern {
    /// A validated pattern (see [`Pattern::validate`]).
    pub fn new(frequency: u32, recency: u32, opportunities: u32) -> Result<Self, FitError> {
        let p = Pattern {
            frequency,
            recency,
            opportunities,
        };
        p.validate(0)?;
        Ok(p)
    }

    /// x ≤ n, t_x ≤ n, x ≤ t_x (one transaction per opportunity at most),
    /// and t_x = 0 when x = 0; `index` is reported back in the error.
    pub fn validate(&self, index: usize) -> Result<(), FitError> {
        let Pattern {
            frequency: x,
            recency: tx,
            opportunities: n,
        } = *self;
        if x > n {
            return Err(FitError::FrequencyExceedsOpportunities {
                index,
                frequency: x,
                opportunities: n,
            });
        }
        if tx > n {
            return Err(FitError::RecencyExceedsT {
                index,
                recency: f64::from(tx),
                t: f64::from(n),
            });
        }
        if x > tx {
            return Err(FitError::FrequencyExceedsRecency {
                index,
                frequency: x,
                recency: tx,
            });
        }
        if x == 0 && tx > 0 {
            return Err(FitError::RecencyWithoutTransactions { index, recency: tx });
        }
        Ok(())
    }
}

/// Maximum-likelihood fit on patterns with counts (the form the paper and the
/// `donations.csv` file use). Identical patterns are merged; counts must be
/// finite and non-negative.
pub fn fit(rows: &[(Pattern, f64)]) -> Result<Fit<Params>, FitError> {
    if rows.is_empty() {
        return Err(FitError::Empty);
    }
    let mut map: HashMap<Pattern, usize, FxBuild> = HashMap::default();
    let mut grouped: Vec<(Pattern, f64)> = Vec::new();
    for (index, &(p, count)) in rows.iter().enumerate() {
        p.validate(index)?;
        if !count.is_finite() || count < 0.0 {
            return Err(FitError::InvalidValue {
                index,
                field: "count",
                value: count,
            });
        }
        if count == 0.0 {
            continue;
        }
        match map.get(&p) {
            Some(&k) => grouped[k].1 += count,
            None => {
                map.insert(p, grouped.len());
                grouped.push((p, count));
            }
        }
    }
    if grouped.is_empty() {
        return Err(FitError::Empty);
    }
    if grouped.iter().all(|(p, _)| p.frequency == 0) {
        return Err(FitError::AllZeroFrequency);
    }
    let out = optimize::minimize_robust(
        |theta: &[f64]| {
            let p = Params {
                alpha: theta[0].exp(),
                beta: theta[1].exp(),
                gamma: theta[2].exp(),
                delta: theta[3].exp(),
            };
            let (ll, g) = p.log_likelihood_and_gradient(&grouped);
            let v = [p.alpha, p.beta, p.gamma, p.delta];
            (-ll, (0..4).map(|i| -g[i] * v[i]).collect())
        },
        &[0.0; 4],
    );
    optimize::finish(out, &["alpha", "beta", "gamma", "delta"], |v| Params {
        alpha: v[0],
        beta: v[1],
        gamma: v[2],
        delta: v[3],
    })
}

/// [`fit`] on one pattern per person (grouped first).
pub fn fit_people(people: &[Pattern]) -> Result<Fit<Params>, FitError> {
    let rows: Vec<(Pattern, f64)> = people.iter().map(|&p| (p, 1.0)).collect();
    fit(&rows)
}

/// ln Γ and ψ of `base + k` for k = 0..len: every argument the likelihood
/// needs is a parameter plus a whole offset.
struct Table {
    lg: Vec<f64>,
    dg: Vec<f64>,
}

impl Table {
    fn new(base: f64, len: usize) -> Self {
        let args = (0..len).map(|k| base + k as f64);
        Table {
            lg: args.clone().map(ln_gamma).collect(),
            dg: args.map(digamma).collect(),
        }
    }
}

/// (1 − e^D)/(γ − 1) with D = ln Γ(γ+c) − ln Γ(1+c) + ln Γ(1+c+k) − ln Γ(γ+c+k),
/// continuous at γ = 1 where it equals ψ(c+1+k) − ψ(c+1): the common factor of
/// the BG/BB expectations, whose naive form divides 0 by 0 at γ = 1.
fn dropout_sum_factor(gamma: f64, c: f64, k: f64) -> f64 {
    let g = gamma - 1.0;
    if g.abs() < 1e-7 {
        return digamma(gamma + c + k) - digamma(gamma + c);
    }
    let d =
        ln_gamma(gamma + c) - ln_gamma(1.0 + c) + ln_gamma(1.0 + c + k) - ln_gamma(gamma + c + k);
    -d.exp_m1() / g
}

impl Params {
    /// Total log-likelihood of patterns with counts and its gradient in
    /// (alpha, beta, gamma, delta) (FHS 2010 eq. 5).
    pub(crate) fn log_likelihood_and_gradient(&self, rows: &[(Pattern, f64)]) -> (f64, [f64; 4]) {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let len = rows
            .iter()
            .map(|(p, _)| p.opportunities as usize)
            .max()
            .unwrap_or(0)
            + 2;
        let (ta, tb, tab) = (
            Table::new(alpha, len),
            Table::new(beta, len),
            Table::new(alpha + beta, len),
        );
        let (tg, td, tgd) = (
            Table::new(gamma, 2),
            Table::new(delta, len),
            Table::new(gamma + delta, len),
        );
        let base = -(ta.lg[0] + tb.lg[0] - tab.lg[0]) - (tg.lg[0] + td.lg[0] - tgd.lg[0]);
        let base_grad = [
            -(ta.dg[0] - tab.dg[0]),
            -(tb.dg[0] - tab.dg[0]),
            -(tg.dg[0] - tgd.dg[0]),
            -(td.dg[0] - tgd.dg[0]),
        ];
        let mut ll = 0.0;
        let mut grad = [0.0; 4];
        let mut terms: Vec<(f64, [f64; 4])> = Vec::new();
        for &(p, count) in rows {
            let (x, tx, n) = (
                p.frequency as usize,
                p.recency as usize,
                p.opportunities as usize,
            );
            terms.clear();
            // Alive through all n opportunities.
            terms.push((
                ta.lg[x] + tb.lg[n - x] - tab.lg[n] + tg.lg[0] + td.lg[n] - tgd.lg[n],
                [
                    ta.dg[x] - tab.dg[n],
                    tb.dg[n - x] - tab.dg[n],
                    tg.dg[0] - tgd.dg[n],
                    td.dg[n] - tgd.dg[n],
                ],
            ));
            // Dropped out just before opportunity t_x + i + 1.
            for j in tx..n {
                let m = j - x;
                terms.push((
                    ta.lg[x] + tb.lg[m] - tab.lg[j] + tg.lg[1] + td.lg[j] - tgd.lg[j + 1],
                    [
                        ta.dg[x] - tab.dg[j],
                        tb.dg[m] - tab.dg[j],
                        tg.dg[1] - tgd.dg[j + 1],
                        td.dg[j] - tgd.dg[j + 1],
                    ],
                ));
            }
            let top = terms.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            let mut weighted = [0.0; 4];
            for (l, g) in &terms {
                let w = (l - top).exp();
                sum += w;
                for (acc, d) in weighted.iter_mut().zip(g) {
                    *acc += w * d;
                }
            }
            ll += count * (base + top + sum.ln());
            for i in 0..4 {
                grad[i] += count * (base_grad[i] + weighted[i] / sum);
            }
        }
        (ll, grad)
    }

    /// Total log-likelihood of patterns with counts.
    pub fn log_likelihood(&self, rows: &[(Pattern, f64)]) -> f64 {
        self.log_likelihood_and_gradient(rows).0
    }

    /// ln of one pattern's likelihood (FHS 2010 eq. 5), from log-gamma
    /// directly (any n).
    pub fn log_likelihood_one(&self, p: &Pattern) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let (x, n) = (f64::from(p.frequency), f64::from(p.opportunities));
        let mut acc = ln_beta(alpha + x, beta + n - x) + ln_beta(gamma, delta + n);
        for i in p.recency..p.opportunities {
            let j = f64::from(i);
            acc = log_add_exp(
                acc,
                ln_beta(alpha + x, beta + j - x) + ln_beta(gamma + 1.0, delta + j),
            );
        }
        acc - ln_beta(alpha, beta) - ln_beta(gamma, delta)
    }

    /// P(alive at opportunity n + 1 | x, t_x, n) (FHS 2010 eq. 11).
    pub fn p_alive(&self, p: &Pattern) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let (x, n) = (f64::from(p.frequency), f64::from(p.opportunities));
        let ln = ln_beta(alpha + x, beta + n - x) - ln_beta(alpha, beta)
            + ln_beta(gamma, delta + n + 1.0)
            - ln_beta(gamma, delta)
            - self.log_likelihood_one(p);
        ln.exp().min(1.0)
    }

    /// Expected transactions in the next `horizon` opportunities n + 1 ..= n + n*
    /// (FHS 2010 eq. 13):
    /// B(α+x+1, β+n−x)/B(α,β) · δ/(γ−1) · Γ(γ+δ)/Γ(1+δ)
    /// · [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)] / L.
    pub fn expected_transactions(&self, p: &Pattern, horizon: u32) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        if horizon == 0 {
            return 0.0;
        }
        let (x, n) = (f64::from(p.frequency), f64::from(p.opportunities));
        // Γ(γ+δ)/Γ(1+δ) · Γ(1+δ+n)/Γ(γ+δ+n) · (1 − e^D)/(γ − 1).
        let ln_lead = ln_beta(alpha + x + 1.0, beta + n - x) - ln_beta(alpha, beta)
            + delta.ln()
            + ln_gamma(gamma + delta)
            - ln_gamma(1.0 + delta)
            + ln_gamma(1.0 + delta + n)
            - ln_gamma(gamma + delta + n)
            - self.log_likelihood_one(p);
        ln_lead.exp() * dropout_sum_factor(gamma, delta + n, f64::from(horizon))
    }

    /// Expected transactions of a newly acquired person in their first
    /// `horizon` opportunities (FHS 2010 eq. 9):
    /// α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)Γ(1+δ+n)/(Γ(γ+δ+n)Γ(1+δ))].
    pub fn expected_population(&self, horizon: u32) -> f64 {
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        alpha / (alpha + beta) * delta * dropout_sum_factor(gamma, delta, f64::from(horizon))
    }

    /// Discounted expected residual transactions (FHS 2010 eq. 14): the
    /// expected transactions at opportunities n + 1, n + 2, … each discounted
    /// by (1 + d)^−k,
    /// B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/((1+d) B(γ,δ))
    /// · ₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L.
    /// Multiply by the value of a transaction for a value. `None` for a
    /// discount rate that is not positive and finite.
    pub fn dert(&self, p: &Pattern, discount_rate: f64) -> Option<f64> {
        if !(discount_rate.is_finite() && discount_rate > 0.0) {
            return None;
        }
        let Params {
            alpha,
            beta,
            gamma,
            delta,
        } = *self;
        let (x, n) = (f64::from(p.frequency), f64::from(p.opportunities));
        let ln = ln_beta(alpha + x + 1.0, beta + n - x) - ln_beta(alpha, beta)
            + ln_beta(gamma, delta + n + 1.0)
            - ln_beta(gamma, delta)
            - (1.0 + discount_rate).ln()
            - self.log_likelihood_one(p);
        let f = hyp2f1(
            1.0,
            delta + n + 1.0,
            gamma + delta + n + 1.0,
            1.0 / (1.0 + discount_rate),
        )?;
        Some(ln.exp() * f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    const PUBLISHED: Params = Params {
        alpha: 1.204,
        beta: 0.750,
        gamma: 0.657,
        delta: 2.783,
    };

    fn donations() -> Vec<(Pattern, f64)> {
        testdata::donations()
            .into_iter()
            .map(|(x, tx, n, c)| (Pattern::new(x, tx, n).unwrap(), c))
            .collect()
    }

    #[test]
    fn bgbb_on_the_donations_reproduces_the_published_parameters() {
        let data = donations();
        assert_eq!(data.iter().map(|r| r.1).sum::<f64>(), 11_104.0);
        let started = std::time::Instant::now();
        let fit = fit(&data).unwrap();
        eprintln!("BG/BB fit on the donations: {:?}", started.elapsed());
        let p = fit.params;
        // Published to three decimals.
        for (got, want) in [
            (p.alpha, PUBLISHED.alpha),
            (p.beta, PUBLISHED.beta),
            (p.gamma, PUBLISHED.gamma),
            (p.delta, PUBLISHED.delta),
        ] {
            assert!((got - want).abs() < 5e-4, "{p:?}");
        }
        let se = fit.std_errors;
        for (s, v) in [
            (se.alpha, p.alpha),
            (se.beta, p.beta),
            (se.gamma, p.gamma),
            (se.delta, p.delta),
        ] {
            assert!(s.is_finite() && s > 0.0 && s < 0.2 * v, "{se:?}");
        }
    }

    #[test]
    fn bgbb_p_alive_matches_the_published_values() {
        let p = fit(&donations()).unwrap().params;
        for ((x, tx), want) in [((0, 0), 0.11), ((2, 4), 0.59), ((6, 6), 0.93)] {
            let got = p.p_alive(&Pattern::new(x, tx, 6).unwrap());
            // Published to two decimals.
            assert!((got - want).abs() < 0.005, "({x}, {tx}): {got}");
        }
    }

    #[test]
    fn bgbb_expected_transactions_match_the_published_values() {
        let p = fit(&donations()).unwrap().params;
        let e = p.expected_transactions(&Pattern::new(6, 6, 6).unwrap(), 5);
        assert!((e - 3.7525).abs() < 5e-4, "{e}");
        let cumulative = [
            0.4985, 0.9233, 1.2969, 1.6323, 1.9381, 2.2202, 2.4826, 2.7285, 2.9603, 3.1798, 3.3887,
        ];
        for (k, want) in cumulative.iter().enumerate() {
            let got = p.expected_population(k as u32 + 1);
            assert!((got - want).abs() < 5e-4, "period {}: {got}", k + 1);
        }
    }

    #[test]
    fn bgbb_grouped_likelihood_and_gradient_match_the_direct_sum_and_finite_differences() {
        let data = donations();
        let (ll, g) = PUBLISHED.log_likelihood_and_gradient(&data);
        let direct: f64 = data
            .iter()
            .map(|(p, c)| c * PUBLISHED.log_likelihood_one(p))
            .sum();
        assert!((ll - direct).abs() < 1e-8 * ll.abs(), "{ll} {direct}");
        let v = [
            PUBLISHED.alpha,
            PUBLISHED.beta,
            PUBLISHED.gamma,
            PUBLISHED.delta,
        ];
        let at = |v: [f64; 4]| {
            Params {
                alpha: v[0],
                beta: v[1],
                gamma: v[2],
                delta: v[3],
            }
            .log_likelihood(&data)
        };
        for i in 0..4 {
            let h = 1e-6;
            let (mut a, mut b) = (v, v);
            a[i] += h;
            b[i] -= h;
            let fd = (at(a) - at(b)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-4 * fd.abs().max(1.0),
                "{i}: {fd} {}",
                g[i]
            );
        }
    }

    #[test]
    fn bgbb_expectations_and_dert_equal_their_period_by_period_sums() {
        // E[transaction at n + k] = B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+k)/B(γ,δ) / L.
        let p = PUBLISHED;
        for pattern in [
            Pattern::new(0, 0, 6).unwrap(),
            Pattern::new(2, 4, 6).unwrap(),
            Pattern::new(6, 6, 6).unwrap(),
        ] {
            let (x, n) = (
                f64::from(pattern.frequency),
                f64::from(pattern.opportunities),
            );
            let at = |k: f64| {
                (ln_beta(p.alpha + x + 1.0, p.beta + n - x) - ln_beta(p.alpha, p.beta)
                    + ln_beta(p.gamma, p.delta + n + k)
                    - ln_beta(p.gamma, p.delta)
                    - p.log_likelihood_one(&pattern))
                .exp()
            };
            let sum5: f64 = (1..=5).map(|k| at(f64::from(k))).sum();
            let e = p.expected_transactions(&pattern, 5);
            assert!((e - sum5).abs() < 1e-10 * sum5, "{e} {sum5}");
            let d: f64 = 0.1;
            let dert: f64 = (1..5000)
                .map(|k| at(f64::from(k)) / (1.0 + d).powi(k))
                .sum();
            let got = p.dert(&pattern, d).unwrap();
            assert!((got - dert).abs() < 1e-9 * dert, "{got} {dert}");
        }
        // Near γ = 1 the 0/0 of the closed form is handled.
        let q = Params { gamma: 1.0, ..p };
        let r = Params {
            gamma: 1.0 + 1e-5,
            ..p
        };
        let pat = Pattern::new(2, 4, 6).unwrap();
        let (eq, er) = (
            q.expected_transactions(&pat, 10),
            r.expected_transactions(&pat, 10),
        );
        assert!((eq - er).abs() < 1e-4 * eq, "{eq} {er}");
        assert!((q.expected_population(10) - r.expected_population(10)).abs() < 1e-4);
    }

    #[test]
    fn bgbb_refuses_patterns_that_cannot_happen() {
        assert_eq!(
            Pattern::new(7, 6, 6),
            Err(FitError::FrequencyExceedsOpportunities {
                index: 0,
                frequency: 7,
                opportunities: 6
            })
        );
        assert!(matches!(
            Pattern::new(2, 7, 6),
            Err(FitError::RecencyExceedsT { .. })
        ));
        assert_eq!(
            Pattern::new(3, 2, 6),
            Err(FitError::FrequencyExceedsRecency {
                index: 0,
                frequency: 3,
                recency: 2
            })
        );
        assert_eq!(
            Pattern::new(0, 2, 6),
            Err(FitError::RecencyWithoutTransactions {
                index: 0,
                recency: 2
            })
        );
        let bad = Pattern {
            frequency: 3,
            recency: 2,
            opportunities: 6,
        };
        let mut data = donations();
        data.push((bad, 1.0));
        assert!(matches!(
            fit(&data),
            Err(FitError::FrequencyExceedsRecency { index: 22, .. })
        ));
        data.pop();
        data[0].1 = -1.0;
        assert!(matches!(
            fit(&data),
            Err(FitError::InvalidValue { index: 0, .. })
        ));
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let nobody = [(Pattern::new(0, 0, 6).unwrap(), 10.0)];
        assert_eq!(fit(&nobody), Err(FitError::AllZeroFrequency));
    }

    #[test]
    fn bgbb_fit_on_people_equals_the_fit_on_their_patterns() {
        let data = donations();
        let people: Vec<Pattern> = data
            .iter()
            .flat_map(|&(p, c)| std::iter::repeat_n(p, c as usize))
            .collect();
        assert_eq!(fit_people(&people).unwrap(), fit(&data).unwrap());
    }

    #[test]
    #[ignore = "timing at scale; run with --release -- --ignored --nocapture"]
    fn bgbb_fits_a_million_people_in_under_three_seconds() {
        let people: Vec<Pattern> = donations()
            .iter()
            .flat_map(|&(p, c)| std::iter::repeat_n(p, 90 * c as usize))
            .collect();
        let started = std::time::Instant::now();
        let fit = testdata::timed("BG/BB, 999,360 people", || fit_people(&people)).unwrap();
        assert!(started.elapsed().as_secs_f64() < 3.0, "{fit:?}");
    }
}
