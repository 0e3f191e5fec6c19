//! Statistical models of repeat buying for rapport.
//!
//! This crate exists so that the rest of rapport can ask "is this person still
//! around, how much will they buy, what are they worth" with the probability
//! models the marketing-science literature validated on real cohorts, without
//! pulling in Python. It is pure: no file or network I/O, only numbers in and
//! numbers out, so every result can be reproduced and tested against the
//! published figures.
//!
//! * [`bgnbd`] — the BG/NBD model (Fader, Hardie & Lee 2005).
//! * [`pareto_nbd`] — the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987)
//!   with the numerically stable likelihood of Fader, Hardie & Lee's
//!   implementation note.
//! * [`mbgnbd`] — the MBG/NBD model (Batislam, Denizel & Filiztekin 2007): BG/NBD
//!   where a person may also drop out right after the first purchase.
//! * [`ggompertz_nbd`] — the GGompertz/NBD model (Bemmaor & Glady 2012): lifetimes
//!   whose hazard changes with age.
//! * [`bgbb`] — the BG/BB model (Fader, Hardie & Shang 2010) for discrete
//!   opportunities to transact (yearly donations, annual events).
//! * [`sbg`] and [`bdw`] — contractual retention: the shifted-beta-geometric model
//!   (Fader & Hardie 2007) and the beta-discrete-Weibull model (Fader, Hardie, Liu,
//!   Davin & Steenburgh 2018), fitted on [`tenure::Durations`].
//! * [`covariates`] — Pareto/NBD and BG/NBD with static covariates (CLVTools' links):
//!   each person's own parameters from their attributes.
//! * [`gamma_gamma`] — spend per transaction (Fader & Hardie 2013) and CLV.
//! * [`summary`] — turns per-person transaction lists into `(x, t_x, T, zbar)`.
//! * [`screen`] — which people a model can take, and why the others are left out.
//! * [`holdout`] — the calibration/holdout checks of the papers, and an SVG chart.
//! * [`special`] — log-gamma, log-beta, digamma and the Gauss hypergeometric function.
//!
//! Fitting is deterministic maximum likelihood on log-parameters (BFGS with
//! analytic gradients from a fixed start, Newton polish, Nelder–Mead as a
//! fallback), over identical rows grouped with counts, so a million people fit
//! in well under a second. [`PurchaseModel::predict`] does the same grouping
//! for predictions.
//!
//! Time unit: every model works in whatever unit the [`Summary`] values are in
//! (weeks in the CDNOW examples). Horizons passed to prediction functions must
//! be in that same unit; [`TimeUnit`] says how many of those units make a month
//! for CLV.

pub mod bdw;
pub mod bgbb;
pub mod bgnbd;
pub mod covariates;
mod data;
pub mod gamma_gamma;
pub mod ggompertz_nbd;
pub mod holdout;
pub mod interval;
pub mod mbgnbd;
mod optimize;
pub mod pareto_nbd;
pub mod sbg;
pub mod screen;
pub mod special;
pub mod summary;
pub mod tenure;

use serde::{Deserialize, Serialize};

/// One person's repeat-buying summary over a calibration period.
///
/// * `frequency` (x): number of *repeat* purchases (distinct purchase days after
///   the first).
/// * `recency` (t_x): time from the first purchase to the last one.
/// * `t` (T): time from the first purchase to the end of the calibration period.
/// * `monetary` (zbar): mean value of the repeat purchases (the first purchase
///   excluded), `None` when unknown; only the Gamma-Gamma model needs it.
///
/// All times are in one unit chosen by the caller (days or weeks); the models
/// are unit-agnostic but their parameters (alpha, beta) are not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub frequency: f64,
    pub recency: f64,
    pub t: f64,
    pub monetary: Option<f64>,
}

impl Summary {
    /// A validated summary: values finite and non-negative, frequency a whole
    /// number, recency no greater than T.
    pub fn new(frequency: f64, recency: f64, t: f64) -> Result<Self, FitError> {
        let s = Summary {
            frequency,
            recency,
            t,
            monetary: None,
        };
        s.validate(0)?;
        Ok(s)
    }

    /// Same as [`Summary::new`] with a mean repeat-purchase value.
    pub fn with_monetary(
        frequency: f64,
        recency: f64,
        t: f64,
        monetary: f64,
    ) -> Result<Self, FitError> {
        let s = Summary {
            frequency,
            recency,
            t,
            monetary: Some(monetary),
        };
        s.validate(0)?;
        Ok(s)
    }

    /// Checks one summary; `index` is reported back in the error so a caller
    /// validating a slice can find the offending row.
    pub fn validate(&self, index: usize) -> Result<(), FitError> {
        let check = |field: &'static str, value: f64| {
            if !value.is_finite() || value < 0.0 {
                Err(FitError::InvalidValue {
                    index,
                    field,
                    value,
                })
            } else {
                Ok(())
            }
        };
        check("frequency", self.frequency)?;
        check("recency", self.recency)?;
        check("T", self.t)?;
        if let Some(m) = self.monetary {
            check("monetary", m)?;
        }
        if self.frequency.fract() != 0.0 {
            return Err(FitError::NonIntegerFrequency {
                index,
                value: self.frequency,
            });
        }
        if self.recency > self.t {
            return Err(FitError::RecencyExceedsT {
                index,
                recency: self.recency,
                t: self.t,
            });
        }
        Ok(())
    }
}

/// Result of a maximum-likelihood fit.
///
/// `std_errors` are on the natural parameter scale: the optimiser works on
/// log-parameters, we invert the Hessian of the negative log-likelihood there
/// and map back with the delta method, `se(p) = p * sqrt([H⁻¹]ᵢᵢ)` (exact for
/// the natural-scale Hessian at a stationary point).
/// `gradient_norm` is the Euclidean norm of the gradient of the *total*
/// log-likelihood with respect to the log-parameters at the returned point.
/// `iterations` counts optimiser steps (BFGS and Newton, plus Nelder–Mead
/// iterations when the derivative-free fallback had to run).
/// A `Fit` is only ever returned converged (`converged` is always true): a fit
/// that did not converge is a [`FitError`], never a silent result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit<P> {
    pub params: P,
    pub log_likelihood: f64,
    pub std_errors: P,
    /// Covariance of the log-parameters (row-major, in the order of
    /// [`interval::Parameters::to_vec`]): the inverse Hessian of the negative
    /// log-likelihood at the optimum. Intervals on person-level figures come from
    /// it ([`interval`]).
    #[serde(default)]
    pub log_covariance: Vec<f64>,
    pub iterations: usize,
    pub gradient_norm: f64,
    pub converged: bool,
    /// A parameter the data pushed to the edge of what the model can tell apart, held
    /// there while the others were fitted (Pareto/NBD's s when the dropout rates do not
    /// vary); `None` for an unconstrained fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

/// A parameter held at a bound, and why, in words for the person reading the fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub parameter: String,
    pub value: f64,
    pub why: String,
}

/// Everything that can go wrong when validating data or fitting a model.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("no data to fit")]
    Empty,
    #[error("row {index}: {field} is {value}, expected a finite non-negative number")]
    InvalidValue {
        index: usize,
        field: &'static str,
        value: f64,
    },
    #[error("row {index}: frequency {value} is not a whole number")]
    NonIntegerFrequency { index: usize, value: f64 },
    #[error("row {index}: recency {recency} is greater than T {t}")]
    RecencyExceedsT { index: usize, recency: f64, t: f64 },
    #[error("row {index}: monetary value is missing")]
    MissingMonetary { index: usize },
    #[error("row {index}: monetary value {value} must be positive for a repeat buyer")]
    NonPositiveMonetary { index: usize, value: f64 },
    #[error("every frequency is zero: nobody made a repeat purchase, the model cannot be fitted")]
    AllZeroFrequency,
    #[error("only {found} repeat buyers, at least {required} are needed to fit")]
    TooFewRepeatBuyers { found: usize, required: usize },
    #[error(
        "the fit did not converge after {iterations} iterations (gradient norm {gradient_norm:.1e}): the data may not tell the parameters apart"
    )]
    NotConverged {
        iterations: usize,
        gradient_norm: f64,
    },
    #[error("the fit produced a non-finite or degenerate parameter {name} = {value}")]
    NonFiniteParameter { name: &'static str, value: f64 },
    #[error("row {index}: frequency {frequency} is greater than the {opportunities} opportunities")]
    FrequencyExceedsOpportunities {
        index: usize,
        frequency: u32,
        opportunities: u32,
    },
    #[error(
        "row {index}: frequency {frequency} is greater than recency {recency} (one transaction per opportunity at most)"
    )]
    FrequencyExceedsRecency {
        index: usize,
        frequency: u32,
        recency: u32,
    },
    #[error(
        "row {index}: recency {recency} with no transaction (recency must be 0 when frequency is 0)"
    )]
    RecencyWithoutTransactions { index: usize, recency: u32 },
    #[error("period {period}: {after} survivors, more than the {before} of the period before")]
    SurvivalRises {
        period: usize,
        before: f64,
        after: f64,
    },
    #[error("period {period}: {survivors} survivors, more than the cohort of {cohort}")]
    SurvivorsAboveCohort {
        period: usize,
        survivors: f64,
        cohort: f64,
    },
    #[error("row {index}: a customer cannot churn in period 0 (the first period is paid for)")]
    ChurnAtPeriodZero { index: usize },
    #[error("nobody churned: a retention model cannot be fitted")]
    NoChurn,
    /// Pareto/NBD only: the likelihood keeps rising as s grows with s/beta fixed, so the
    /// dropout rates do not vary between people and the model's limit is a common rate —
    /// and the fit with s held at its bound ([`Fit::held`]) did not converge either.
    #[error(
        "the dropout rates do not vary between people: they spread by less than 10 % (the \
         likelihood keeps rising as s grows; the search stopped at s = {s:.0}) with s/beta fixed at mu = {mu:.4} per time unit, \
         where Pareto/NBD tends to the model in which everyone drops out at that one rate; \
         s, beta and their standard errors would mean nothing"
    )]
    DropoutRatesDoNotVary { mu: f64, s: f64 },
    /// Pareto/NBD only: the likelihood keeps rising as s falls towards 0, where nearly
    /// everyone's dropout rate is 0: the data show next to nobody leaving.
    #[error(
        "next to nobody drops out: the likelihood keeps rising as s falls towards 0 (the \
         search reached s = {s:.1e}, beta = {beta:.1e}), where the dropout rates of almost \
         everyone are 0 and Pareto/NBD would call everyone still with us; BG/NBD or \
         MBG/NBD, in which people leave after a purchase, may fit these data"
    )]
    NobodyDropsOut { s: f64, beta: f64 },
}

/// A model that predicts purchase counts: implemented by the BG/NBD and
/// Pareto/NBD parameter sets so CLV and the holdout checks work with either.
pub trait PurchaseModel {
    /// Short human name for charts and reports ("BG/NBD").
    fn name(&self) -> &'static str;
    /// Probability the person is still "alive" at the end of calibration.
    fn p_alive(&self, s: &Summary) -> f64;
    /// Expected number of purchases in `(T, T + horizon]` given the history.
    fn expected_purchases(&self, s: &Summary, horizon: f64) -> f64;
    /// Expected repeat purchases in `(0, t]` of a person just acquired (E[X(t)]).
    fn expected_population(&self, t: f64) -> f64;

    /// [`PurchaseModel::p_alive`] and [`PurchaseModel::expected_purchases`]
    /// for everyone at once: identical `(x, t_x, T)` rows are computed once,
    /// on all cores, so a million people take a fraction of a second.
    fn predict(&self, data: &[Summary], horizon: f64) -> Vec<Prediction>
    where
        Self: Sync + Sized,
    {
        data::predict_grouped(self, data, horizon)
    }
}

/// One person's predictions from [`PurchaseModel::predict`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub p_alive: f64,
    pub expected_purchases: f64,
}

/// The time unit the summaries (and so the fitted alpha/beta) are in. Only
/// needed where a calendar period enters, i.e. CLV's monthly steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeUnit {
    /// Summaries are in days: a month is 30 units (as lifetimes' `freq="D"`).
    Days,
    /// Summaries are in weeks: a month is 4.345 units (as lifetimes' `freq="W"`).
    Weeks,
}

impl TimeUnit {
    /// Model time units in one month, matching lifetimes' `customer_lifetime_value`.
    pub fn units_per_month(self) -> f64 {
        match self {
            TimeUnit::Days => 30.0,
            TimeUnit::Weeks => 4.345,
        }
    }

    /// Days in one model time unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }
}

#[cfg(test)]
pub(crate) mod testdata;
