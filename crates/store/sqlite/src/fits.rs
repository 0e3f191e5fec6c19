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

    fn latest_fits(&self) -> Result<Vec<StoredFit>, StoreError> {
        run(|| self.conns.read(latest_of_each))
    }
}

const COLUMNS: &str = "seq, model, params, std_errors, log_likelihood, iterations, gradient_norm,
     converged, fitted_at, calibration_end, unit, events, people, covariance";

fn latest(c: &Connection, model: &str) -> Result<Option<StoredFit>> {
    let sql = format!("SELECT {COLUMNS} FROM fits WHERE model = ?1 ORDER BY seq DESC LIMIT 1");
    let row = c.query_row(&sql, params![model], raw).optional()?;
    row.map(decode).transpose()
}

fn latest_of_each(c: &Connection) -> Result<Vec<StoredFit>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM fits WHERE seq IN (SELECT MAX(seq) FROM fits GROUP BY model)"
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt
        .query_map([], raw)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(decode).collect()
}

type Raw = (
    i64,
    String,
    String,
    String,
    f64,
    i64,
    f64,
    bool,
    i64,
    i64,
    String,
    i64,
    i64,
    Option<String>,
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
    ))
}

fn decode(row: Raw) -> Result<StoredFit> {
    let (seq, model, params, std_errors, ll, it, gn, conv, at, end, unit, ev, pe, cov) = row;
    Ok(StoredFit {
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
    })
}
