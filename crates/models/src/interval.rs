//! How sure a person-level figure is: an interval from the uncertainty of the fitted
//! parameters, by the delta method.
//!
//! It exists because a P(alive) of 0.62 from a model fitted on forty people and one fitted on
//! forty thousand look the same as numbers. Every fit keeps the covariance of its
//! log-parameters (the inverse Hessian of the negative log-likelihood at the optimum, the
//! same matrix the standard errors come from). A figure f(θ) of one person's history is then
//! approximately normal with variance ∇g(θ)ᵀ Σ ∇g(θ), where g is f on a scale where that
//! approximation holds well: the logit for probabilities (so an interval never leaves 0..1)
//! and the logarithm for positive quantities (expected purchases, residual lifetimes, values).
//! The gradient is taken by central differences in the log-parameters, so every model gets
//! intervals without writing a second derivative by hand.
//!
//! The interval is about the population's parameters given this business's data, with the
//! person's own history held fixed: it narrows as the business's ledger grows. What the
//! person's own history leaves open (a P(alive) is already the posterior probability given
//! that history) is in the figure itself.

use serde::{Deserialize, Serialize};

use crate::{Fit, Prediction, PurchaseModel, Summary};

/// The two-sided level every interval rapport shows uses.
pub const LEVEL: f64 = 0.90;

/// A two-sided interval around a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, v: f64) -> bool {
        self.low <= v && v <= self.high
    }
}

/// On what scale the figure is close to normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A probability in [0, 1]: logit.
    Probability,
    /// A positive quantity: logarithm.
    Positive,
}

/// A model's parameters as a vector in the fit's order, and back.
pub trait Parameters: Sized {
    fn to_vec(&self) -> Vec<f64>;
    fn from_slice(v: &[f64]) -> Self;
}

macro_rules! parameters {
    ($($ty:path { $($field:ident),+ })+) => {$(
        impl Parameters for $ty {
            fn to_vec(&self) -> Vec<f64> {
                vec![$(self.$field),+]
            }
            fn from_slice(v: &[f64]) -> Self {
                let mut it = v.iter().copied();
                Self { $($field: it.next().unwrap_or(f64::NAN)),+ }
            }
        }
    )+};
}

parameters! {
    crate::bgnbd::Params { r, alpha, a, b }
    crate::mbgnbd::Params { r, alpha, a, b }
    crate::pareto_nbd::Params { r, alpha, s, beta }
    crate::ggompertz_nbd::Params { r, alpha, b, s, beta }
    crate::gamma_gamma::Params { p, q, v }
    crate::bgbb::Params { alpha, beta, gamma, delta }
    crate::sbg::Params { alpha, beta }
    crate::bdw::Params { a, b, c }
}

/// The standard normal quantile for a two-sided `level` (Acklam's rational approximation,
/// relative error below 1.2e-9, far below what an interval needs).
pub fn normal_quantile(level: f64) -> f64 {
    let p = 0.5 + level / 2.0;
    // Acklam (2003) coefficients.
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p > 1.0 - 0.02425 {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -tail(q)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A fit's parameters and their covariance, ready to put intervals on figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    /// The log-parameters: the scale the covariance is on.
    log: Estimates,
}

impl Uncertainty {
    /// From a fit, at [`LEVEL`]. `None` when the fit carries no covariance (a fit stored
    /// before rapport kept it).
    pub fn of<P: Parameters>(fit: &Fit<P>) -> Option<Self> {
        Self::new(&fit.params.to_vec(), &fit.log_covariance)
    }

    /// From natural-scale parameters and the covariance of their logarithms (row-major).
    pub fn new(params: &[f64], log_covariance: &[f64]) -> Option<Self> {
        if !params.iter().all(|p| p.is_finite() && *p > 0.0) {
            return None;
        }
        let log: Vec<f64> = params.iter().map(|p| p.ln()).collect();
        Estimates::new(&log, log_covariance).map(|log| Uncertainty { log })
    }

    /// The interval of `figure` (a function of the natural-scale parameters) at the fitted
    /// parameters. A figure at the edge of its scale (a probability of exactly 0 or 1, a
    /// quantity of 0) is certain given the model, and its interval is that point.
    pub fn interval(&self, scale: Scale, figure: impl Fn(&[f64]) -> f64) -> Option<Interval> {
        self.log.interval(scale, |theta| {
            let natural: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
            figure(&natural)
        })
    }
}

/// Estimates on the scale their covariance is on, whatever that is: the log-parameters of a
/// plain fit, or a covariate fit's log base parameters followed by its coefficients, which
/// can be negative and so have no logarithm. A figure is then a function of that vector.
///
/// It exists so that a person's figure can depend on every estimate at once: with
/// covariates, a person's own parameters are a function of the base parameters and the
/// coefficients, and the interval must carry the uncertainty of all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimates {
    values: Vec<f64>,
    covariance: Vec<f64>,
    z: f64,
}

impl Estimates {
    /// From the estimates and their covariance (row-major), at [`LEVEL`]. `None` when the
    /// covariance does not fit the estimates or is not finite.
    pub fn new(values: &[f64], covariance: &[f64]) -> Option<Self> {
        let n = values.len();
        let usable = n > 0
            && covariance.len() == n * n
            && covariance.iter().all(|v| v.is_finite())
            && values.iter().all(|v| v.is_finite());
        usable.then(|| Estimates {
            values: values.to_vec(),
            covariance: covariance.to_vec(),
            z: normal_quantile(LEVEL),
        })
    }

    /// The estimates.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The interval of `figure` (a function of the estimates) at the estimates, by the delta
    /// method on the figure's `scale`. A figure at the edge of its scale is that point.
    pub fn interval(&self, scale: Scale, figure: impl Fn(&[f64]) -> f64) -> Option<Interval> {
        let value = figure(&self.values);
        if !value.is_finite() {
            return None;
        }
        let (to, from): (Transform, Transform) = match scale {
            Scale::Probability => {
                if value <= 0.0 || value >= 1.0 {
                    return Some(Interval {
                        low: value,
                        high: value,
                    });
                }
                (logit, logistic)
            }
            Scale::Positive => {
                if value <= 0.0 {
                    return Some(Interval {
                        low: value,
                        high: value,
                    });
                }
                (f64::ln, f64::exp)
            }
        };
        let n = self.values.len();
        let mut grad = vec![0.0; n];
        let mut theta = self.values.clone();
        for i in 0..n {
            // A parameter held fixed (no variance) adds nothing: skip its two evaluations.
            if self.covariance[i * n + i] == 0.0 {
                continue;
            }
            let h = 1e-5 * self.values[i].abs().max(1.0);
            theta[i] = self.values[i] + h;
            let up = figure(&theta);
            theta[i] = self.values[i] - h;
            let down = figure(&theta);
            theta[i] = self.values[i];
            grad[i] = (to(up) - to(down)) / (2.0 * h);
        }
        let mut variance = 0.0;
        for i in 0..n {
            for j in 0..n {
                variance += grad[i] * self.covariance[i * n + j] * grad[j];
            }
        }
        if !variance.is_finite() || variance < 0.0 {
            return None;
        }
        let centre = to(value);
        let half = self.z * variance.sqrt();
        Some(Interval {
            low: from(centre - half),
            high: from(centre + half),
        })
    }
}

/// [`Prediction`]'s figures with their intervals at [`LEVEL`] (`None` where the fit has no
/// covariance or the figure's gradient cannot be taken).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PredictionIntervals {
    pub p_alive: Option<Interval>,
    pub expected_purchases: Option<Interval>,
}

/// Each person's P(alive) and expected purchases in `horizon`, with intervals: computed once
/// per distinct history, on all cores.
pub fn predict<P>(
    fit: &Fit<P>,
    data: &[Summary],
    horizon: f64,
) -> Vec<(Prediction, PredictionIntervals)>
where
    P: PurchaseModel + Parameters + Sync,
{
    let each = predict_each(fit, data, horizon);
    (0..each.len()).map(|i| *each.get(i)).collect()
}

/// [`predict`] without a copy per person: the figures of each distinct history once, and
/// which history each person has. A caller writing a million people's figures reads them one
/// at a time with [`PerHistory::get`] instead of holding a million copies.
pub fn predict_each<P>(
    fit: &Fit<P>,
    data: &[Summary],
    horizon: f64,
) -> PerHistory<(Prediction, PredictionIntervals)>
where
    P: PurchaseModel + Parameters + Sync,
{
    let u = Uncertainty::of(fit);
    crate::data::map_distinct(data, |s| {
        let figures = Prediction {
            p_alive: fit.params.p_alive(s),
            expected_purchases: fit.params.expected_purchases(s, horizon),
        };
        let intervals = match &u {
            Some(u) => PredictionIntervals {
                p_alive: u.interval(Scale::Probability, |p| P::from_slice(p).p_alive(s)),
                expected_purchases: u.interval(Scale::Positive, |p| {
                    P::from_slice(p).expected_purchases(s, horizon)
                }),
            },
            None => PredictionIntervals::default(),
        };
        (figures, intervals)
    })
}

pub use crate::data::PerHistory;

/// A change of scale and its inverse.
type Transform = fn(f64) -> f64;

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_quantile_for_ninety_percent_is_1_645() {
        assert!((normal_quantile(0.90) - 1.644_853_626_951_472).abs() < 1e-8);
        assert!((normal_quantile(0.95) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((normal_quantile(0.999) - 3.290_526_731_491_926).abs() < 1e-7);
    }

    #[test]
    fn a_figure_that_is_one_parameter_gets_its_standard_error_on_the_log_scale() {
        // f(θ) = θ₀ with log θ₀ having variance 0.01: the interval is θ₀·exp(±1.645·0.1).
        let u = Uncertainty::new(&[2.0, 3.0], &[0.01, 0.0, 0.0, 0.04]).unwrap();
        let i = u.interval(Scale::Positive, |p| p[0]).unwrap();
        let z = normal_quantile(LEVEL);
        assert!((i.low - 2.0 * (-z * 0.1f64).exp()).abs() < 1e-6, "{i:?}");
        assert!((i.high - 2.0 * (z * 0.1f64).exp()).abs() < 1e-6, "{i:?}");
    }

    #[test]
    fn a_probability_interval_stays_between_zero_and_one() {
        let u = Uncertainty::new(&[1.0], &[25.0]).unwrap();
        let i = u
            .interval(Scale::Probability, |p| p[0] / (1.0 + p[0]))
            .unwrap();
        assert!(
            i.low > 0.0 && i.high < 1.0 && i.low < 0.5 && i.high > 0.5,
            "{i:?}"
        );
    }

    #[test]
    fn a_certain_figure_has_an_interval_of_one_point() {
        let u = Uncertainty::new(&[1.0], &[1.0]).unwrap();
        let i = u.interval(Scale::Probability, |_| 1.0).unwrap();
        assert_eq!((i.low, i.high), (1.0, 1.0));
    }

    #[test]
    fn a_persons_interval_narrows_when_the_business_has_more_people() {
        let all = crate::testdata::cdnow_summary();
        let few: Vec<Summary> = all.iter().step_by(8).copied().collect();
        let s = Summary::new(2.0, 30.43, 38.86).unwrap();
        let width = |data: &[Summary]| {
            let fit = crate::bgnbd::fit(data).unwrap();
            let (figures, i) = predict(&fit, &[s], 39.0)[0];
            let i = i.p_alive.unwrap();
            assert!(i.contains(figures.p_alive), "{i:?} {figures:?}");
            i.high - i.low
        };
        let (wide, narrow) = (width(&few), width(&all));
        assert!(narrow < wide * 0.6, "{narrow} vs {wide}");
    }

    #[test]
    fn an_estimate_that_may_be_negative_gets_its_interval_on_its_own_scale() {
        // f(θ) = exp(θ₁) with θ₁ = -0.5 of variance 0.04: exp(-0.5 ± 1.645·0.2).
        let e = Estimates::new(&[1.0, -0.5], &[0.01, 0.0, 0.0, 0.04]).unwrap();
        let i = e.interval(Scale::Positive, |t| t[1].exp()).unwrap();
        let z = normal_quantile(LEVEL);
        assert!((i.low - (-0.5 - z * 0.2f64).exp()).abs() < 1e-6, "{i:?}");
        assert!((i.high - (-0.5 + z * 0.2f64).exp()).abs() < 1e-6, "{i:?}");
    }

    #[test]
    fn a_fit_without_a_covariance_gives_no_intervals() {
        assert!(Uncertainty::new(&[1.0, 2.0], &[]).is_none());
        assert!(Uncertainty::new(&[1.0], &[f64::NAN]).is_none());
    }
}
