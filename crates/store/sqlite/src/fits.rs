//! Fits kept with the ledger (see `store::fits`): a table of every fit ever made.

use domain::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use store::StoreError;
use store::fits::{FitStore, StoredFit, corrupt, covariance_text};

use crate::SqliteStore;
use crate::error::{Result, run};

impl FitStore for SqliteStore {
    fn save_fit(&self, fit: &StoredFit) -> Result<i64, StoreError> {
        run(|| {
            let conn = self.conns.writer();
            conn.execute(
                "INSERT INTO fits (model, params, std_errors, log_likelihood, iterations,
                               gradient_norm, converged, fitted_at, calibration_end, unit,
                               events, people, covariance)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
                    covariance_text(fit),
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn latest_fit(&self, model: &str) -> Result<Option<StoredFit>, StoreError> {
        run(|| self.conns.read(|c| latest(c, model)))
    }
}

fn latest(c: &Connection, model: &str) -> Result<Option<StoredFit>> {
    let row = c
        .query_row(
            "SELECT seq, model, params, std_errors, log_likelihood, iterations,
                        gradient_norm, converged, fitted_at, calibration_end, unit,
                        events, people, covariance
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
                    r.get::<_, Option<String>>(13)?,
                ))
            },
        )
        .optional()?;
    let Some((seq, model, params, std_errors, ll, it, gn, conv, at, end, unit, ev, pe, cov)) = row
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
        covariance: cov
            .map(|c| serde_json::from_str(&c).map_err(|e| corrupt("covariance", e)))
            .transpose()?,
    }))
}
