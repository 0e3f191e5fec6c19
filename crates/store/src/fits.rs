//! Fitted models kept with the ledger, so readings can use them without refitting.
//!
//! `rapport fit` stores each fit it makes on the ledger (which model, its parameters and
//! standard errors as JSON keyed by the parameters' usual names, how well it converged, and
//! what it was fitted on: the calibration end, the time unit, how many transactions and
//! people). Fits are never changed or deleted: a new fit is a new row, and readings use the
//! latest row of each model.

use domain::Timestamp;
use domain::readings::{FitInfo, Models};
use models::{TimeUnit, bgnbd, gamma_gamma};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, StoreError};

/// One fit as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredFit {
    /// The row's number (0 before it is saved).
    pub seq: i64,
    /// `bgnbd`, `pareto-nbd` or `gamma-gamma`.
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
}

/// The latest stored BG/NBD and Gamma-Gamma fits, as readings use them.
pub fn stored_models(store: &dyn FitStore) -> Result<Models, StoreError> {
    let info = |f: &StoredFit, model: &'static str| FitInfo {
        model,
        fitted_at: f.fitted_at,
        calibration_end: f.calibration_end,
        fitted_on_events: f.events,
        fitted_on_people: f.people,
    };
    let mut models = Models::default();
    if let Some(f) = store.latest_fit("bgnbd")? {
        let params: bgnbd::Params = serde_json::from_value(f.params.clone())
            .map_err(|e| corrupt(&format!("BG/NBD fit {} parameters", f.seq), e))?;
        let unit = match f.unit.as_str() {
            "days" => TimeUnit::Days,
            "weeks" => TimeUnit::Weeks,
            other => {
                return Err(corrupt(
                    &format!("BG/NBD fit {}", f.seq),
                    format!("unknown unit {other:?}"),
                ));
            }
        };
        models.purchase = Some((params, unit, info(&f, "bgnbd")));
    }
    if let Some(f) = store.latest_fit("gamma-gamma")? {
        let params: gamma_gamma::Params = serde_json::from_value(f.params.clone())
            .map_err(|e| corrupt(&format!("Gamma-Gamma fit {} parameters", f.seq), e))?;
        models.spend = Some((params, info(&f, "gamma-gamma")));
    }
    Ok(models)
}

/// Where fits are kept.
pub trait FitStore {
    /// Saves a fit; returns its row number.
    fn save_fit(&self, fit: &StoredFit) -> Result<i64, StoreError>;
    /// The latest fit of `model`, if any.
    fn latest_fit(&self, model: &str) -> Result<Option<StoredFit>, StoreError>;
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        message: format!("stored fit: {what}: {e}"),
    }
}

impl FitStore for SqliteStore {
    fn save_fit(&self, fit: &StoredFit) -> Result<i64, StoreError> {
        let conn = self.connection();
        conn.execute(
            "INSERT INTO fits (model, params, std_errors, log_likelihood, iterations,
                               gradient_norm, converged, fitted_at, calibration_end, unit,
                               events, people)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                fit.model,
                fit.params.to_string(),
                fit.std_errors.to_string(),
                fit.log_likelihood,
                fit.iterations as i64,
                fit.gradient_norm,
                fit.converged,
                fit.fitted_at.unix(),
                fit.calibration_end.unix(),
                fit.unit,
                fit.events as i64,
                fit.people as i64,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn latest_fit(&self, model: &str) -> Result<Option<StoredFit>, StoreError> {
        let row = self
            .connection()
            .query_row(
                "SELECT seq, model, params, std_errors, log_likelihood, iterations,
                        gradient_norm, converged, fitted_at, calibration_end, unit,
                        events, people
                 FROM fits WHERE model = ?1 ORDER BY seq DESC LIMIT 1",
                params![model],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, f64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, f64>(6)?,
                        r.get::<_, bool>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, i64>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, i64>(11)?,
                        r.get::<_, i64>(12)?,
                    ))
                },
            )
            .optional()?;
        let Some((seq, model, params, std_errors, ll, it, gn, conv, at, end, unit, ev, pe)) = row
        else {
            return Ok(None);
        };
        Ok(Some(StoredFit {
            seq,
            model,
            params: serde_json::from_str(&params).map_err(|e| corrupt("params", e))?,
            std_errors: serde_json::from_str(&std_errors).map_err(|e| corrupt("std_errors", e))?,
            log_likelihood: ll,
            iterations: it.max(0) as u64,
            gradient_norm: gn,
            converged: conv,
            fitted_at: Timestamp::from_unix(at),
            calibration_end: Timestamp::from_unix(end),
            unit,
            events: ev.max(0) as u64,
            people: pe.max(0) as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    #[test]
    fn a_saved_fit_comes_back_as_the_latest_of_its_model() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("l.db");
        let store = SqliteStore::create(&db, MasterKey::generate()).unwrap();
        assert_eq!(store.latest_fit("bgnbd").unwrap(), None);
        let mut fit = StoredFit {
            seq: 0,
            model: "bgnbd".into(),
            params: serde_json::json!({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}),
            std_errors: serde_json::json!({"r": 0.01, "alpha": 0.3, "a": 0.1, "b": 0.5}),
            log_likelihood: -9582.43,
            iterations: 12,
            gradient_norm: 1e-7,
            converged: true,
            fitted_at: Timestamp::from_unix(1_700_000_000),
            calibration_end: Timestamp::from_unix(875_663_999),
            unit: "weeks".into(),
            events: 3000,
            people: 2357,
        };
        let first = store.save_fit(&fit).unwrap();
        fit.log_likelihood = -1.0;
        let second = store.save_fit(&fit).unwrap();
        assert!(second > first);
        let got = store.latest_fit("bgnbd").unwrap().unwrap();
        assert_eq!(got.seq, second);
        fit.seq = second;
        assert_eq!(got, fit);
        assert_eq!(store.latest_fit("gamma-gamma").unwrap(), None);
    }
}
