//! Static covariates on Pareto/NBD and BG/NBD: people who differ in a known, fixed attribute
//! (a region, how they were acquired, a membership) get their own purchase and dropout
//! parameters, through the exponential links of CLVTools (Meierer, Näf & Bachmann).
//!
//! It exists because a plain fit gives everyone the same population: the same history then
//! reads the same for a person in a group that buys twice as often. With covariates the
//! population each person is drawn from depends on their attributes, and the fit says by how
//! much each attribute moves purchasing and dropout, with standard errors.
//!
//! The links are CLVTools' for `pnbd` and `bgnbd` with static covariates (checked against
//! its C++ source, `pnbd_staticcov_LL_ind` and `bgnbd_staticcov_LL_ind`), with `x_life` and
//! `x_trans` a person's covariates for the lifetime and the purchase process:
//!
//! * Pareto/NBD: `alpha_i = alpha0 · exp(−γ_trans · x_trans)`,
//!   `beta_i = beta0 · exp(−γ_life · x_life)`; r and s are shared. A positive purchase
//!   coefficient lowers alpha and so raises the mean purchase rate r/alpha; a positive
//!   lifetime coefficient lowers beta and so raises the mean dropout rate s/beta (shorter
//!   lifetimes).
//! * BG/NBD: `alpha_i = alpha0 · exp(−γ_trans · x_trans)`, `a_i = a0 · exp(γ_life · x_life)`,
//!   `b_i = b0 · exp(γ_life · x_life)`; r is shared. Scaling a and b together leaves the mean
//!   dropout probability a/(a+b) where it is and changes only how much people differ in it
//!   (a positive coefficient makes dropout probabilities more alike). That is CLVTools'
//!   choice, kept here so results can be compared; it is weaker than the Pareto/NBD link.
//!
//! The base parameters are those of a person whose covariates are all zero, as in CLVTools.
//!
//! Fitting is maximum likelihood with the plain models' per-person likelihoods (people with
//! the same covariates and history are grouped, so a binary covariate costs little) and the
//! optimiser of the plain fits, started from the plain fit. Internally each covariate is
//! centred and scaled to unit spread, which keeps the surface round whatever the covariate's
//! unit (an income in euros would otherwise give a coefficient of 1e-5 next to base
//! parameters near 1); the estimates and their covariance are then mapped back exactly (the
//! map is linear) to the covariates as given. A fit that does not converge is an error.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::data::{self, FxBuild, Grouped};
use crate::interval::{Estimates, Parameters, PredictionIntervals, Scale};
use crate::pareto_nbd::PairIndex;
use crate::{Fit, FitError, Prediction, PurchaseModel, Summary, bgnbd, optimize, pareto_nbd};

/// A person's log-parameter beyond ±50 (a parameter above 5·10²¹ or below its inverse) is a
/// linear predictor that ran away: the likelihood there is rounding noise, and exp of a few
/// hundred more is infinity. The fit treats such points as out of bounds; predictions for a
/// person pushed there are an error.
pub const LOG_PARAM_LIMIT: f64 = 50.0;

/// The two processes a covariate can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// Dropout: beta (Pareto/NBD) or a and b (BG/NBD).
    Life,
    /// Purchasing while alive: alpha.
    Trans,
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Process::Life => "lifetime",
            Process::Trans => "purchase",
        })
    }
}

/// Everything that can go wrong with covariates, besides what a plain fit can.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CovariateError {
    #[error(transparent)]
    Fit(#[from] FitError),
    #[error("no covariates: give at least one for the purchase or the lifetime process")]
    NoCovariates,
    #[error("{found} people have covariates, {people} have histories: they must be the same")]
    PeopleMismatch { found: usize, people: usize },
    #[error("covariate {name} has {found} values for {people} people")]
    WrongLength {
        name: String,
        found: usize,
        people: usize,
    },
    #[error("covariate {name} is named twice for the {process} process")]
    Duplicate { name: String, process: Process },
    #[error("covariate {name}, person {index}: {value} is not a finite number")]
    NonFinite {
        name: String,
        index: usize,
        value: f64,
    },
    #[error(
        "covariate {name} is {value} for everyone, so its effect cannot be estimated (it cannot be told apart from the base parameters)"
    )]
    Constant { name: String, value: f64 },
    #[error(
        "person {index}: the covariates put ln {parameter} at {log_value:.1}, beyond what can be computed (the limit is ±{LOG_PARAM_LIMIT})"
    )]
    Overflow {
        index: usize,
        parameter: &'static str,
        log_value: f64,
    },
    #[error(
        "covariate {name} of the {process} process is (nearly) a combination of {others} and a constant, so their effects cannot be told apart"
    )]
    Collinear {
        name: String,
        others: String,
        process: Process,
    },
    #[error("the covariates given for prediction are not the ones the model was fitted with")]
    DesignMismatch,
}

/// One covariate: its name and a value per person.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Vec<f64>,
}

/// Which covariates act on which process, for a list of people: validated, so a fit never
/// sees a non-number, a column of the wrong length or a column it cannot estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    people: usize,
    life: Vec<Column>,
    trans: Vec<Column>,
}

impl Design {
    /// Checks every column: `people` finite values each, not the same for everyone, no name
    /// twice in one process, and at least one covariate in all. A column may act on both
    /// processes (give it in both lists).
    pub fn new(
        people: usize,
        life: Vec<Column>,
        trans: Vec<Column>,
    ) -> Result<Design, CovariateError> {
        if life.is_empty() && trans.is_empty() {
            return Err(CovariateError::NoCovariates);
        }
        for (process, columns) in [(Process::Life, &life), (Process::Trans, &trans)] {
            for (k, c) in columns.iter().enumerate() {
                if columns[..k].iter().any(|o| o.name == c.name) {
                    return Err(CovariateError::Duplicate {
                        name: c.name.clone(),
                        process,
                    });
                }
                if c.values.len() != people {
                    return Err(CovariateError::WrongLength {
                        name: c.name.clone(),
                        found: c.values.len(),
                        people,
                    });
                }
                if let Some((index, &value)) =
                    c.values.iter().enumerate().find(|(_, v)| !v.is_finite())
                {
                    return Err(CovariateError::NonFinite {
                        name: c.name.clone(),
                        index,
                        value,
                    });
                }
                if let Some(&first) = c.values.first()
                    && c.values.iter().all(|&v| v == first)
                {
                    return Err(CovariateError::Constant {
                        name: c.name.clone(),
                        value: first,
                    });
                }
            }
        }
        for (process, columns) in [(Process::Life, &life), (Process::Trans, &trans)] {
            if let Some(k) = dependent_column(columns) {
                return Err(CovariateError::Collinear {
                    name: columns[k].name.clone(),
                    others: Design::names(&columns[..k]).join(", "),
                    process,
                });
            }
        }
        Ok(Design {
            people,
            life,
            trans,
        })
    }

    pub fn people(&self) -> usize {
        self.people
    }

    /// The covariates of the lifetime process, in the order of the coefficients.
    pub fn life(&self) -> &[Column] {
        &self.life
    }

    /// The covariates of the purchase process, in the order of the coefficients.
    pub fn trans(&self) -> &[Column] {
        &self.trans
    }

    fn row(columns: &[Column], i: usize) -> Vec<f64> {
        columns.iter().map(|c| c.values[i]).collect()
    }

    fn names(columns: &[Column]) -> Vec<&str> {
        columns.iter().map(|c| c.name.as_str()).collect()
    }
}

/// A coefficient of the fit, by covariate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    pub name: String,
    pub value: f64,
    pub std_error: f64,
}

/// Result of a fit with covariates. `params` are the base parameters (those of a person
/// whose covariates are all zero) and `std_errors` theirs, on the natural scale as in
/// [`Fit`]. Like a [`Fit`], it is only ever returned converged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CovariateFit<P> {
    pub params: P,
    pub std_errors: P,
    /// Coefficients of the lifetime process, in the order of [`Design::life`].
    pub life: Vec<Coefficient>,
    /// Coefficients of the purchase process, in the order of [`Design::trans`].
    pub trans: Vec<Coefficient>,
    pub log_likelihood: f64,
    /// Covariance (row-major) of the estimates in the order of [`CovariateFit::estimates`]:
    /// the logarithms of the base parameters, then the lifetime and the purchase
    /// coefficients.
    pub covariance: Vec<f64>,
    pub iterations: usize,
    pub gradient_norm: f64,
    pub converged: bool,
}

/// The models covariates act on: Pareto/NBD and BG/NBD.
pub trait Linked: PurchaseModel + Parameters + Copy + Send + Sync + sealed::Sealed {
    /// Parameter names in the order of [`Parameters::to_vec`].
    const NAMES: [&'static str; 4];
    /// How the logarithm of each parameter moves with the lifetime linear predictor γ·x.
    const LIFE: [f64; 4];
    /// How the logarithm of each parameter moves with the purchase linear predictor γ·x.
    const TRANS: [f64; 4];
}

impl Linked for pareto_nbd::Params {
    const NAMES: [&'static str; 4] = ["r", "alpha", "s", "beta"];
    const LIFE: [f64; 4] = [0.0, 0.0, 0.0, -1.0];
    const TRANS: [f64; 4] = [0.0, -1.0, 0.0, 0.0];
}

impl Linked for bgnbd::Params {
    const NAMES: [&'static str; 4] = ["r", "alpha", "a", "b"];
    const LIFE: [f64; 4] = [0.0, 0.0, 1.0, 1.0];
    const TRANS: [f64; 4] = [0.0, -1.0, 0.0, 0.0];
}

/// The histories of people who share their covariates, grouped for the plain models'
/// likelihoods.
pub struct Histories {
    grouped: Grouped,
    pairs: PairIndex,
}

impl Histories {
    fn new(rows: &[Summary]) -> Self {
        let grouped = data::group(rows);
        let pairs = PairIndex::new(&grouped);
        Histories { grouped, pairs }
    }
}

mod sealed {
    use crate::{Fit, FitError, Summary};

    /// What a model must offer to take covariates; only this crate's models can.
    pub trait Sealed: Sized {
        /// The plain fit, the starting point of the fit with covariates.
        fn plain(data: &[Summary]) -> Result<Fit<Self>, FitError>;
        /// Total log-likelihood of the histories and its gradient with respect to the
        /// logarithms of the parameters.
        fn log_likelihood_and_gradient(&self, h: &super::Histories) -> [f64; 5];
    }
}

impl sealed::Sealed for pareto_nbd::Params {
    fn plain(data: &[Summary]) -> Result<Fit<Self>, FitError> {
        pareto_nbd::fit(data)
    }
    fn log_likelihood_and_gradient(&self, h: &Histories) -> [f64; 5] {
        self.grouped_log_likelihood_and_gradient(&h.grouped, &h.pairs)
    }
}

impl sealed::Sealed for bgnbd::Params {
    fn plain(data: &[Summary]) -> Result<Fit<Self>, FitError> {
        bgnbd::fit(data)
    }
    fn log_likelihood_and_gradient(&self, h: &Histories) -> [f64; 5] {
        self.grouped_log_likelihood_and_gradient(&h.grouped)
    }
}

/// People who share their (standardised) covariates.
struct Group {
    life: Vec<f64>,
    trans: Vec<f64>,
    histories: Histories,
}

/// Mean and spread (population standard deviation) of a column, computed on values scaled
/// by the largest magnitude so that squares of huge covariates do not overflow.
fn centre_and_spread(values: &[f64]) -> (f64, f64) {
    let m = values
        .iter()
        .fold(0.0f64, |a, v| a.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let n = values.len() as f64;
    let mean = values.iter().map(|v| v / m).sum::<f64>() / n;
    let var = values.iter().map(|v| (v / m - mean).powi(2)).sum::<f64>() / n;
    (mean * m, var.sqrt() * m)
}

/// The first column that is (within rounding) a linear combination of the columns before it
/// and a constant, found by a Cholesky factorisation of the columns' correlation matrix: its
/// pivot is what is left of the column's spread once the others explain what they can.
fn dependent_column(columns: &[Column]) -> Option<usize> {
    let k = columns.len();
    let z: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| {
            let (m, s) = centre_and_spread(&c.values);
            c.values.iter().map(|v| (v - m) / s).collect()
        })
        .collect();
    let n = columns.first().map_or(1, |c| c.values.len()).max(1) as f64;
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let mut v = dot(&z[i], &z[j]) / n;
            for p in 0..j {
                v -= l[i * k + p] * l[j * k + p];
            }
            if i == j {
                // Less than 1e-8 of the spread left: the fit could not tell it apart.
                if v.is_nan() || v < 1e-8 {
                    return Some(i);
                }
                l[i * k + i] = v.sqrt();
            } else {
                l[i * k + j] = v / l[j * k + j];
            }
        }
    }
    None
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A person's parameters from the estimates (log base parameters, lifetime coefficients,
/// purchase coefficients) and their covariates; `Err((parameter, ln value))` when a
/// parameter leaves the range that can be computed.
fn person_params<P: Linked>(
    estimates: &[f64],
    life: &[f64],
    trans: &[f64],
) -> Result<P, (usize, f64)> {
    let kl = life.len();
    let eta_life = dot(&estimates[4..4 + kl], life);
    let eta_trans = dot(&estimates[4 + kl..], trans);
    let mut natural = [0.0; 4];
    for j in 0..4 {
        let lp = estimates[j] + P::LIFE[j] * eta_life + P::TRANS[j] * eta_trans;
        if !lp.is_finite() || lp.abs() > LOG_PARAM_LIMIT {
            return Err((j, lp));
        }
        natural[j] = lp.exp();
    }
    Ok(P::from_slice(&natural))
}

/// Maximum-likelihood fit of Pareto/NBD or BG/NBD with static covariates (deterministic):
/// `covariates::fit::<pareto_nbd::Params>(&data, &design)`.
pub fn fit<P: Linked>(
    data: &[Summary],
    design: &Design,
) -> Result<CovariateFit<P>, CovariateError> {
    if design.people != data.len() {
        return Err(CovariateError::PeopleMismatch {
            found: design.people,
            people: data.len(),
        });
    }
    data::validate_counts(data, bgnbd::MIN_REPEAT_BUYERS)?;
    let (kl, kt) = (design.life.len(), design.trans.len());
    let dim = 4 + kl + kt;
    let life_scale: Vec<(f64, f64)> = design
        .life
        .iter()
        .map(|c| centre_and_spread(&c.values))
        .collect();
    let trans_scale: Vec<(f64, f64)> = design
        .trans
        .iter()
        .map(|c| centre_and_spread(&c.values))
        .collect();
    let standardise = |columns: &[Column], scale: &[(f64, f64)], i: usize| -> Vec<f64> {
        columns
            .iter()
            .zip(scale)
            .map(|(c, (m, s))| (c.values[i] - m) / s)
            .collect()
    };

    // Group people by their covariates, then each group's histories.
    let mut index: HashMap<Vec<u64>, usize, FxBuild> = HashMap::default();
    let mut members: Vec<(Vec<f64>, Vec<f64>, Vec<Summary>)> = Vec::new();
    for (i, s) in data.iter().enumerate() {
        let (zl, zt) = (
            standardise(&design.life, &life_scale, i),
            standardise(&design.trans, &trans_scale, i),
        );
        let key: Vec<u64> = zl.iter().chain(&zt).map(|v| v.to_bits()).collect();
        let g = *index.entry(key).or_insert_with(|| {
            members.push((zl, zt, Vec::new()));
            members.len() - 1
        });
        members[g].2.push(*s);
    }
    let groups: Vec<Group> = members
        .into_iter()
        .map(|(life, trans, rows)| Group {
            life,
            trans,
            histories: Histories::new(&rows),
        })
        .collect();

    let objective = |theta: &[f64]| -> (f64, Vec<f64>) {
        let per_group = data::par_map(&groups, |g| {
            match person_params::<P>(theta, &g.life, &g.trans) {
                Ok(p) => p.log_likelihood_and_gradient(&g.histories),
                Err(_) => [f64::NAN; 5],
            }
        });
        let mut value = 0.0;
        let mut grad = vec![0.0; dim];
        for (g, v) in groups.iter().zip(&per_group) {
            value += v[0];
            for j in 0..4 {
                grad[j] += v[1 + j];
            }
            let d_life: f64 = (0..4).map(|j| P::LIFE[j] * v[1 + j]).sum();
            let d_trans: f64 = (0..4).map(|j| P::TRANS[j] * v[1 + j]).sum();
            for (k, z) in g.life.iter().enumerate() {
                grad[4 + k] += d_life * z;
            }
            for (k, z) in g.trans.iter().enumerate() {
                grad[4 + kl + k] += d_trans * z;
            }
        }
        (-value, grad.iter().map(|d| -d).collect())
    };

    // From the plain fit (the right answer when the covariates do nothing), else from 1s.
    let mut start = vec![0.0; dim];
    if let Ok(plain) = P::plain(data) {
        for (s, p) in start.iter_mut().zip(plain.params.to_vec()) {
            *s = p.ln();
        }
    }
    let out = optimize::minimize_robust(objective, &start);
    let not_converged = || {
        CovariateError::Fit(FitError::NotConverged {
            iterations: out.iterations,
            gradient_norm: out.gradient_norm,
        })
    };
    let inv = match (&out.inverse_hessian, out.converged && out.value.is_finite()) {
        (Some(inv), true) => inv,
        _ => return Err(not_converged()),
    };

    // Back to the covariates as given: θ = J θ′, Σ = J Σ′ Jᵀ.
    let mut jac = vec![0.0; dim * dim];
    for i in 0..dim {
        jac[i * dim + i] = 1.0;
    }
    for (k, (m, s)) in life_scale.iter().enumerate() {
        let c = 4 + k;
        jac[c * dim + c] = 1.0 / s;
        for j in 0..4 {
            jac[j * dim + c] = -P::LIFE[j] * m / s;
        }
    }
    for (k, (m, s)) in trans_scale.iter().enumerate() {
        let c = 4 + kl + k;
        jac[c * dim + c] = 1.0 / s;
        for j in 0..4 {
            jac[j * dim + c] = -P::TRANS[j] * m / s;
        }
    }
    let estimates: Vec<f64> = (0..dim)
        .map(|i| dot(&jac[i * dim..(i + 1) * dim], &out.theta))
        .collect();
    let mut covariance = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..dim {
            let mut v = 0.0;
            for a in 0..dim {
                let ja = jac[i * dim + a];
                if ja == 0.0 {
                    continue;
                }
                for b in 0..dim {
                    v += ja * inv[a * dim + b] * jac[j * dim + b];
                }
            }
            covariance[i * dim + j] = v;
        }
    }

    let mut base = [0.0; 4];
    let mut base_se = [0.0; 4];
    for j in 0..4 {
        let p = estimates[j].exp();
        if !p.is_finite() || p <= 0.0 {
            return Err(FitError::NonFiniteParameter {
                name: P::NAMES[j],
                value: p,
            }
            .into());
        }
        base[j] = p;
        base_se[j] = p * covariance[j * dim + j].max(0.0).sqrt();
    }
    let coefficient = |name: &str, i: usize| -> Result<Coefficient, CovariateError> {
        let value = estimates[i];
        let std_error = covariance[i * dim + i].max(0.0).sqrt();
        if !value.is_finite() || !std_error.is_finite() {
            return Err(not_converged());
        }
        Ok(Coefficient {
            name: name.to_owned(),
            value,
            std_error,
        })
    };
    let life = design
        .life
        .iter()
        .enumerate()
        .map(|(k, c)| coefficient(&c.name, 4 + k))
        .collect::<Result<Vec<_>, _>>()?;
    let trans = design
        .trans
        .iter()
        .enumerate()
        .map(|(k, c)| coefficient(&c.name, 4 + kl + k))
        .collect::<Result<Vec<_>, _>>()?;
    let fit = CovariateFit {
        params: P::from_slice(&base),
        std_errors: P::from_slice(&base_se),
        life,
        trans,
        log_likelihood: -out.value,
        covariance,
        iterations: out.iterations,
        gradient_norm: out.gradient_norm,
        converged: true,
    };
    // Every fitted person's parameters can be computed (the search kept them in range; the
    // map back must not have pushed one out by rounding).
    for i in 0..data.len() {
        fit.person(design, i)?;
    }
    Ok(fit)
}

impl<P: Linked> CovariateFit<P> {
    /// The estimates the covariance is about: ln of each base parameter, then the lifetime
    /// coefficients, then the purchase coefficients.
    pub fn estimates(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.params.to_vec().iter().map(|p| p.ln()).collect();
        v.extend(self.life.iter().map(|c| c.value));
        v.extend(self.trans.iter().map(|c| c.value));
        v
    }

    fn check(&self, design: &Design) -> Result<(), CovariateError> {
        fn names(c: &[Coefficient]) -> Vec<&str> {
            c.iter().map(|c| c.name.as_str()).collect()
        }
        if names(&self.life) != Design::names(&design.life)
            || names(&self.trans) != Design::names(&design.trans)
        {
            return Err(CovariateError::DesignMismatch);
        }
        Ok(())
    }

    /// Person `index`'s own parameters, from their covariates in `design` (which must have
    /// the columns the model was fitted with).
    pub fn person(&self, design: &Design, index: usize) -> Result<P, CovariateError> {
        self.check(design)?;
        if index >= design.people {
            return Err(CovariateError::PeopleMismatch {
                found: design.people,
                people: index + 1,
            });
        }
        let life = Design::row(&design.life, index);
        let trans = Design::row(&design.trans, index);
        person_params(&self.estimates(), &life, &trans).map_err(|(j, log_value)| {
            CovariateError::Overflow {
                index,
                parameter: P::NAMES[j],
                log_value,
            }
        })
    }

    /// Each person's P(alive) and expected purchases in `horizon`, with their own
    /// parameters, and intervals at [`crate::interval::LEVEL`] by the delta method over
    /// every estimate (base parameters and coefficients). `data[i]` is the person whose
    /// covariates are row `i` of `design`.
    pub fn predict(
        &self,
        data: &[Summary],
        design: &Design,
        horizon: f64,
    ) -> Result<Vec<(Prediction, PredictionIntervals)>, CovariateError> {
        if design.people != data.len() {
            return Err(CovariateError::PeopleMismatch {
                found: design.people,
                people: data.len(),
            });
        }
        let people: Vec<(usize, P)> = (0..data.len())
            .map(|i| self.person(design, i).map(|p| (i, p)))
            .collect::<Result<_, _>>()?;
        // The delta method's numerical derivatives step by a fixed fraction of each estimate,
        // which for a coefficient of a covariate in large units (an income in euros) would be
        // far too coarse. So the coefficients are taken per spread of their covariate, γ·s,
        // and the covariates per spread, x/s: the same linear predictor, and an exact (linear)
        // change of the covariance.
        let spread: Vec<f64> = [1.0; 4]
            .into_iter()
            .chain(
                design
                    .life
                    .iter()
                    .chain(&design.trans)
                    .map(|c| centre_and_spread(&c.values).1),
            )
            .collect();
        let dim = spread.len();
        let scaled: Vec<f64> = self
            .estimates()
            .iter()
            .zip(&spread)
            .map(|(v, d)| v * d)
            .collect();
        let covariance: Vec<f64> = (0..dim * dim)
            .map(|k| self.covariance[k] * spread[k / dim] * spread[k % dim])
            .collect();
        let estimates = Estimates::new(&scaled, &covariance);
        let per_spread = |columns: &[Column], from: usize, i: usize| -> Vec<f64> {
            columns
                .iter()
                .enumerate()
                .map(|(k, c)| c.values[i] / spread[from + k])
                .collect()
        };
        let kl = design.life.len();
        Ok(data::par_map(&people, |&(i, p)| {
            let s = &data[i];
            let figures = Prediction {
                p_alive: p.p_alive(s),
                expected_purchases: p.expected_purchases(s, horizon),
            };
            let Some(e) = &estimates else {
                return (figures, PredictionIntervals::default());
            };
            let (life, trans) = (
                per_spread(&design.life, 4, i),
                per_spread(&design.trans, 4 + kl, i),
            );
            let at = |theta: &[f64]| person_params::<P>(theta, &life, &trans).ok();
            let intervals = PredictionIntervals {
                p_alive: e.interval(Scale::Probability, |t| {
                    at(t).map_or(f64::NAN, |p| p.p_alive(s))
                }),
                expected_purchases: e.interval(Scale::Positive, |t| {
                    at(t).map_or(f64::NAN, |p| p.expected_purchases(s, horizon))
                }),
            };
            (figures, intervals)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Beta, Distribution, Exp, Gamma, StandardNormal};

    fn column(name: &str, values: Vec<f64>) -> Column {
        Column {
            name: name.to_owned(),
            values,
        }
    }

    /// One binary and one continuous covariate per person.
    fn attributes(n: usize, rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
        let binary = (0..n)
            .map(|_| if rng.random::<f64>() < 0.4 { 1.0 } else { 0.0 })
            .collect();
        let normal = (0..n)
            .map(|_| StandardNormal.sample(rng))
            .map(|z: f64| 0.8 * z)
            .collect();
        (binary, normal)
    }

    /// Observation ends of a few weekly cohorts, as in CDNOW.
    fn observed_for(i: usize) -> f64 {
        39.0 + (i % 12) as f64
    }

    fn simulate_pareto(
        base: pareto_nbd::Params,
        g_life: [f64; 2],
        g_trans: [f64; 2],
        n: usize,
        seed: u64,
    ) -> (Vec<Summary>, Design) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (binary, normal) = attributes(n, &mut rng);
        let mut data = Vec::with_capacity(n);
        for i in 0..n {
            let x = [binary[i], normal[i]];
            let alpha = base.alpha * (-dot(&g_trans, &x)).exp();
            let beta = base.beta * (-dot(&g_life, &x)).exp();
            let lambda: f64 = Gamma::new(base.r, 1.0 / alpha).unwrap().sample(&mut rng);
            let mu: f64 = Gamma::new(base.s, 1.0 / beta).unwrap().sample(&mut rng);
            let lifetime: f64 = Exp::new(mu).unwrap().sample(&mut rng);
            let t = observed_for(i);
            let end = lifetime.min(t);
            let (mut at, mut x, mut tx) = (0.0, 0.0, 0.0);
            loop {
                at += Exp::new(lambda).unwrap().sample(&mut rng);
                if at > end {
                    break;
                }
                x += 1.0;
                tx = at;
            }
            data.push(Summary::new(x, tx, t).unwrap());
        }
        let both = || {
            vec![
                column("member", binary.clone()),
                column("age", normal.clone()),
            ]
        };
        (data, Design::new(n, both(), both()).unwrap())
    }

    fn simulate_bgnbd(
        base: bgnbd::Params,
        g_life: [f64; 2],
        g_trans: [f64; 2],
        n: usize,
        seed: u64,
    ) -> (Vec<Summary>, Design) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (binary, normal) = attributes(n, &mut rng);
        let mut data = Vec::with_capacity(n);
        for i in 0..n {
            let x = [binary[i], normal[i]];
            let alpha = base.alpha * (-dot(&g_trans, &x)).exp();
            let a = base.a * dot(&g_life, &x).exp();
            let b = base.b * dot(&g_life, &x).exp();
            let lambda: f64 = Gamma::new(base.r, 1.0 / alpha).unwrap().sample(&mut rng);
            let p: f64 = Beta::new(a, b).unwrap().sample(&mut rng);
            let t = observed_for(i);
            let (mut at, mut x, mut tx) = (0.0, 0.0, 0.0);
            loop {
                at += Exp::new(lambda).unwrap().sample(&mut rng);
                if at > t {
                    break;
                }
                x += 1.0;
                tx = at;
                if rng.random::<f64>() < p {
                    break;
                }
            }
            data.push(Summary::new(x, tx, t).unwrap());
        }
        let both = || {
            vec![
                column("member", binary.clone()),
                column("age", normal.clone()),
            ]
        };
        (data, Design::new(n, both(), both()).unwrap())
    }

    /// `got` is within `k` standard errors of `want`.
    fn within(got: f64, se: f64, want: f64, k: f64) -> bool {
        se.is_finite() && se > 0.0 && (got - want).abs() <= k * se
    }

    fn assert_recovered<P: Linked + std::fmt::Debug>(
        fit: &CovariateFit<P>,
        base: P,
        g_life: [f64; 2],
        g_trans: [f64; 2],
    ) {
        let (got, se, want) = (fit.params.to_vec(), fit.std_errors.to_vec(), base.to_vec());
        for j in 0..4 {
            assert!(
                within(got[j], se[j], want[j], 3.5),
                "{}: {} ± {} vs {}",
                P::NAMES[j],
                got[j],
                se[j],
                want[j]
            );
        }
        for (c, want) in fit
            .life
            .iter()
            .zip(g_life)
            .chain(fit.trans.iter().zip(g_trans))
        {
            assert!(within(c.value, c.std_error, want, 3.5), "{c:?} vs {want}");
        }
    }

    #[test]
    fn pareto_nbd_with_covariates_recovers_the_parameters_it_was_simulated_from() {
        let base = pareto_nbd::Params {
            r: 0.8,
            alpha: 6.0,
            s: 0.7,
            beta: 12.0,
        };
        let (g_life, g_trans) = ([-0.6, 0.5], [0.7, -0.4]);
        let (data, design) = simulate_pareto(base, g_life, g_trans, 5000, 7);
        let fit = fit::<pareto_nbd::Params>(&data, &design).unwrap();
        assert!(fit.converged);
        assert_recovered(&fit, base, g_life, g_trans);
    }

    #[test]
    fn bgnbd_with_covariates_recovers_the_parameters_it_was_simulated_from() {
        let base = bgnbd::Params {
            r: 0.8,
            alpha: 6.0,
            a: 0.9,
            b: 3.0,
        };
        let (g_life, g_trans) = ([0.8, -0.5], [0.7, -0.4]);
        let (data, design) = simulate_bgnbd(base, g_life, g_trans, 5000, 11);
        let fit = fit::<bgnbd::Params>(&data, &design).unwrap();
        assert!(fit.converged);
        assert_recovered(&fit, base, g_life, g_trans);
    }

    /// A covariate of pure noise for every CDNOW customer, on both processes.
    fn noise_on_cdnow() -> (Vec<Summary>, Design) {
        let data = testdata::cdnow_summary();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise: Vec<f64> = (0..data.len())
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let design = Design::new(
            data.len(),
            vec![column("noise", noise.clone())],
            vec![column("noise", noise)],
        )
        .unwrap();
        (data, design)
    }

    fn assert_matches_the_plain_fit<P: Linked>(
        fit: &CovariateFit<P>,
        plain: &Fit<P>,
        published: [f64; 4],
    ) {
        // The noise explains (almost) nothing: coefficients near zero, and twice the gain in
        // log-likelihood below the 99.9 % point of a chi-square with 2 degrees of freedom.
        for c in fit.life.iter().chain(&fit.trans) {
            assert!(c.value.abs() < 3.0 * c.std_error, "{c:?}");
            assert!(c.value.abs() < 0.2, "{c:?}");
        }
        let gain = fit.log_likelihood - plain.log_likelihood;
        assert!((-1e-6..13.8 / 2.0).contains(&gain), "{gain}");
        // The base parameters are the plain ones, within their standard errors.
        let (got, se) = (fit.params.to_vec(), fit.std_errors.to_vec());
        for j in 0..4 {
            assert!(
                within(got[j], se[j], published[j], 1.0),
                "{}: {} ± {} vs {}",
                P::NAMES[j],
                got[j],
                se[j],
                published[j]
            );
        }
    }

    #[test]
    fn a_noise_covariate_leaves_the_cdnow_bgnbd_fit_as_it_was() {
        let (data, design) = noise_on_cdnow();
        let fit = fit::<bgnbd::Params>(&data, &design).unwrap();
        let plain = bgnbd::fit(&data).unwrap();
        assert_matches_the_plain_fit(&fit, &plain, [0.2426, 4.4135, 0.7929, 2.4258]);
    }

    #[test]
    fn a_noise_covariate_leaves_the_cdnow_pareto_nbd_fit_as_it_was() {
        let (data, design) = noise_on_cdnow();
        let fit = fit::<pareto_nbd::Params>(&data, &design).unwrap();
        let plain = pareto_nbd::fit(&data).unwrap();
        assert_matches_the_plain_fit(&fit, &plain, [0.5534, 10.5802, 0.6061, 11.6562]);
    }

    #[test]
    fn with_every_coefficient_zero_a_person_has_the_base_parameters() {
        let fit = CovariateFit {
            params: bgnbd::Params {
                r: 0.2426,
                alpha: 4.4135,
                a: 0.7929,
                b: 2.4258,
            },
            std_errors: bgnbd::Params {
                r: 0.01,
                alpha: 0.1,
                a: 0.01,
                b: 0.1,
            },
            life: vec![Coefficient {
                name: "x".into(),
                value: 0.0,
                std_error: 0.1,
            }],
            trans: vec![],
            log_likelihood: 0.0,
            covariance: vec![0.0; 25],
            iterations: 0,
            gradient_norm: 0.0,
            converged: true,
        };
        let design = Design::new(2, vec![column("x", vec![3.0, -7.0])], vec![]).unwrap();
        let p = fit.person(&design, 1).unwrap();
        for (a, b) in p.to_vec().iter().zip(fit.params.to_vec()) {
            assert!((a - b).abs() < 1e-12 * b);
        }
    }

    #[test]
    fn predictions_use_each_persons_own_parameters_and_carry_intervals() {
        let (data, design) = noise_on_cdnow();
        let fit = fit::<pareto_nbd::Params>(&data, &design).unwrap();
        let predictions = fit.predict(&data, &design, 39.0).unwrap();
        assert_eq!(predictions.len(), data.len());
        for (i, (figures, intervals)) in predictions.iter().enumerate().step_by(97) {
            let own = fit.person(&design, i).unwrap();
            assert_eq!(figures.p_alive, own.p_alive(&data[i]));
            assert_eq!(
                figures.expected_purchases,
                own.expected_purchases(&data[i], 39.0)
            );
            let pa = intervals.p_alive.unwrap();
            let ep = intervals.expected_purchases.unwrap();
            assert!(
                pa.contains(figures.p_alive) && pa.low >= 0.0 && pa.high <= 1.0,
                "{pa:?}"
            );
            assert!(ep.contains(figures.expected_purchases), "{ep:?}");
        }
    }

    #[test]
    fn intervals_do_not_depend_on_the_unit_a_covariate_is_given_in() {
        let (data, design) = noise_on_cdnow();
        let big: Vec<f64> = design.life[0]
            .values
            .iter()
            .map(|v| 1e5 * v + 3e6)
            .collect();
        let in_cents = Design::new(
            data.len(),
            vec![column("noise", big.clone())],
            vec![column("noise", big)],
        )
        .unwrap();
        let a = fit::<pareto_nbd::Params>(&data, &design).unwrap();
        let b = fit::<pareto_nbd::Params>(&data, &in_cents).unwrap();
        assert!((a.life[0].value / (1e5 * b.life[0].value) - 1.0).abs() < 1e-3);
        let (pa, pb) = (
            a.predict(&data, &design, 39.0).unwrap(),
            b.predict(&data, &in_cents, 39.0).unwrap(),
        );
        for ((fa, ia), (fb, ib)) in pa.iter().zip(&pb).step_by(131) {
            assert!((fa.p_alive - fb.p_alive).abs() < 1e-4, "{fa:?} {fb:?}");
            let (ia, ib) = (ia.p_alive.unwrap(), ib.p_alive.unwrap());
            assert!(
                (ia.low - ib.low).abs() < 1e-3 && (ia.high - ib.high).abs() < 1e-3,
                "{ia:?} {ib:?}"
            );
        }
    }

    #[test]
    fn a_covariate_that_pushes_a_parameter_out_of_range_is_an_error_not_a_nan() {
        let (data, design) = noise_on_cdnow();
        let fit = fit::<bgnbd::Params>(&data, &design).unwrap();
        let mut wild = design.life[0].values.clone();
        wild[5] = 1e6;
        let bad = Design::new(
            data.len(),
            vec![column("noise", wild.clone())],
            vec![column("noise", wild)],
        )
        .unwrap();
        assert!(matches!(
            fit.predict(&data, &bad, 39.0),
            Err(CovariateError::Overflow { index: 5, .. })
        ));
        let other = Design::new(
            data.len(),
            vec![column("other", design.life[0].values.clone())],
            vec![],
        )
        .unwrap();
        assert_eq!(fit.person(&other, 0), Err(CovariateError::DesignMismatch));
    }

    #[test]
    fn designs_that_cannot_be_fitted_are_named_errors() {
        let c = |name: &str, v: &[f64]| column(name, v.to_vec());
        assert_eq!(
            Design::new(2, vec![], vec![]),
            Err(CovariateError::NoCovariates)
        );
        assert!(matches!(
            Design::new(3, vec![c("x", &[1.0, 2.0])], vec![]),
            Err(CovariateError::WrongLength {
                found: 2,
                people: 3,
                ..
            })
        ));
        assert!(matches!(
            Design::new(2, vec![], vec![c("x", &[1.0, f64::NAN])]),
            Err(CovariateError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Design::new(3, vec![c("x", &[4.0, 4.0, 4.0])], vec![]),
            Err(CovariateError::Constant { value: 4.0, .. })
        ));
        assert!(matches!(
            Design::new(2, vec![c("x", &[1.0, 2.0]), c("x", &[2.0, 1.0])], vec![]),
            Err(CovariateError::Duplicate {
                process: Process::Life,
                ..
            })
        ));
        let data = testdata::cdnow_summary();
        let design = Design::new(2, vec![c("x", &[1.0, 2.0])], vec![]).unwrap();
        assert!(matches!(
            fit::<bgnbd::Params>(&data, &design),
            Err(CovariateError::PeopleMismatch { found: 2, .. })
        ));
    }

    #[test]
    fn two_columns_that_say_the_same_thing_are_named_as_ones_that_cannot_be_told_apart() {
        let (data, design) = noise_on_cdnow();
        let noise = design.life[0].values.clone();
        let twice: Vec<f64> = noise.iter().map(|v| 2.0 * v + 1.0).collect();
        let design = Design::new(
            data.len(),
            vec![column("noise", noise), column("twice", twice)],
            vec![],
        );
        assert_eq!(
            design,
            Err(CovariateError::Collinear {
                name: "twice".into(),
                others: "noise".into(),
                process: Process::Life
            })
        );
    }

    #[test]
    fn the_spread_of_huge_covariates_does_not_overflow() {
        let (m, s) = centre_and_spread(&[1e300, -1e300, 1e300, -1e300]);
        assert_eq!(m, 0.0);
        assert!((s - 1e300).abs() < 1e286, "{s}");
    }
}
