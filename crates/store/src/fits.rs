//! Fitted models kept with the ledger, so readings can use them without refitting.
//!
//! `rapport fit` stores each fit it makes on the ledger (which model, its parameters and
//! standard errors as JSON keyed by the parameters' usual names, how well it converged, and
//! what it was fitted on: the calibration end, the time unit, how many transactions and
//! people, and the covariance of the log-parameters that intervals come from). Fits are never changed or deleted: a new fit is a new row, and readings use the
//! latest row of each model.

use crate::StoreError;
use domain::Timestamp;
use domain::event::Period;
use domain::readings::{FitInfo, Models, PurchaseParams, RetentionFit, RetentionParams};
use models::interval::Uncertainty;
use models::{TimeUnit, bdw, gamma_gamma, sbg};

/// One fit as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredFit {
    /// The row's number (0 before it is saved).
    pub seq: i64,
    /// `bgnbd`, `pareto-nbd`, `mbgnbd`, `ggompertz-nbd`, `gamma-gamma`, or for contracts
    /// `sbg/month`, `bdw/year` (the retention model and the length of period it is for).
    pub model: String,
    /// The parameters by name, e.g. `{"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}`.
    pub params: serde_json::Value,
    /// Standard errors, keyed like `params`.
    pub std_errors: serde_json::Value,
    pub log_likelihood: f64,
    pub iterations: u64,
    pub gradient_norm: f64,
    pub converged: bool,
    pub fitted_at: Timestamp,
    /// The end of the calibration period the summaries were built up to.
    pub calibration_end: Timestamp,
    /// The time unit of the summaries, and so of the parameters (`days` or `weeks`).
    pub unit: String,
    /// Transactions (purchase days) the fit used.
    pub events: u64,
    /// People the fit used.
    pub people: u64,
    /// Covariance of the log-parameters (row-major, in the order of `params`' model), from
    /// which readings take their intervals; `None` for fits stored before it was kept.
    pub covariance: Option<Vec<f64>>,
}

/// The latest stored fits, as readings use them: the purchase model stored last (BG/NBD,
/// Pareto/NBD, MBG/NBD or GGompertz/NBD), Gamma-Gamma, and per length of contract period
/// the retention model stored last.
pub fn stored_models(store: &dyn FitStore) -> Result<Models, StoreError> {
    let info = |f: &StoredFit, model: &'static str| FitInfo {
        model,
        fitted_at: f.fitted_at,
        calibration_end: f.calibration_end,
        fitted_on_events: f.events,
        fitted_on_people: f.people,
    };
    let mut models = Models::default();
    let mut latest: std::collections::HashMap<String, StoredFit> = store
        .latest_fits()?
        .into_iter()
        .map(|f| (f.model.clone(), f))
        .collect();
    // The purchase model: the latest stored of the four (the one chosen last).
    let purchase = ["bgnbd", "pareto-nbd", "mbgnbd", "ggompertz-nbd"]
        .into_iter()
        .filter_map(|m| latest.remove(m))
        .max_by_key(|f| f.seq);
    if let Some(f) = purchase {
        let what = || format!("{} fit {} parameters", f.model, f.seq);
        let bad = |e: serde_json::Error| corrupt(&what(), e);
        let params = match f.model.as_str() {
            "bgnbd" => {
                PurchaseParams::BgNbd(serde_json::from_value(f.params.clone()).map_err(bad)?)
            }
            "pareto-nbd" => {
                PurchaseParams::ParetoNbd(serde_json::from_value(f.params.clone()).map_err(bad)?)
            }
            "mbgnbd" => {
                PurchaseParams::MbgNbd(serde_json::from_value(f.params.clone()).map_err(bad)?)
            }
            _ => {
                PurchaseParams::GGompertzNbd(serde_json::from_value(f.params.clone()).map_err(bad)?)
            }
        };
        let unit = match f.unit.as_str() {
            "days" => TimeUnit::Days,
            "weeks" => TimeUnit::Weeks,
            other => {
                return Err(corrupt(
                    &format!("{} fit {}", f.model, f.seq),
                    format!("unknown unit {other:?}"),
                ));
            }
        };
        models.purchase_uncertainty = f
            .covariance
            .as_deref()
            .and_then(|c| Uncertainty::new(&params.to_vec(), c));
        models.purchase = Some((params, unit, info(&f, params.key())));
    }
    if let Some(f) = latest.remove("gamma-gamma") {
        let params: gamma_gamma::Params = serde_json::from_value(f.params.clone())
            .map_err(|e| corrupt(&format!("Gamma-Gamma fit {} parameters", f.seq), e))?;
        models.spend = Some((params, info(&f, "gamma-gamma")));
    }
    // Contracts: per length of period, the latest of the two retention models' fits (the one
    // chosen last, by `rapport fit --model` or `--compare --use`).
    for period in Period::ALL {
        let sbg = latest.remove(&format!("sbg/{}", period.as_str()));
        let bdw = latest.remove(&format!("bdw/{}", period.as_str()));
        let chosen = match (sbg, bdw) {
            (Some(a), Some(b)) => Some(if a.seq > b.seq { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some(f) = chosen else { continue };
        let what = || format!("retention fit {} ({})", f.seq, f.model);
        let params = if f.model.starts_with("sbg/") {
            RetentionParams::Sbg(
                serde_json::from_value::<sbg::Params>(f.params.clone())
                    .map_err(|e| corrupt(&what(), e))?,
            )
        } else {
            RetentionParams::Bdw(
                serde_json::from_value::<bdw::Params>(f.params.clone())
                    .map_err(|e| corrupt(&what(), e))?,
            )
        };
        models.retention.push(RetentionFit {
            period,
            uncertainty: f
                .covariance
                .as_deref()
                .and_then(|c| Uncertainty::new(&params.to_vec(), c)),
            info: info(&f, params.key()),
            params,
        });
    }
    Ok(models)
}

/// Where fits are kept.
pub trait FitStore {
    /// Saves a fit; returns its row number.
    fn save_fit(&self, fit: &StoredFit) -> Result<i64, StoreError>;
    /// The latest fit of `model`, if any.
    fn latest_fit(&self, model: &str) -> Result<Option<StoredFit>, StoreError>;
    /// The latest fit of every model stored, in one read (what readings load per card).
    fn latest_fits(&self) -> Result<Vec<StoredFit>, StoreError>;
}

/// The covariance as stored: JSON text, or NULL when the fit kept none.
pub fn covariance_text(fit: &StoredFit) -> Option<String> {
    fit.covariance
        .as_ref()
        .map(|c| serde_json::Value::from(c.clone()).to_string())
}

pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        message: format!("stored fit: {what}: {e}"),
    }
}
