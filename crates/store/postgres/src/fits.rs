//! Fits kept with the ledger (see `store::fits`): a table of every fit ever made.

use domain::Timestamp;
use store::StoreError;
use store::fits::{FitStore, StoredFit, corrupt, covariance_text};

use crate::PostgresStore;

impl FitStore for PostgresStore {
    fn save_fit(&self, fit: &StoredFit) -> Result<i64, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            Ok(c.query_one(
                "INSERT INTO rapport.fits (model, params, std_errors, log_likelihood, iterations,
                     gradient_norm, converged, fitted_at, calibration_end, unit, events, people,
                     covariance)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq",
                &[
                    &fit.model,
                    &fit.params.to_string(),
                    &fit.std_errors.to_string(),
                    &fit.log_likelihood,
                    &(fit.iterations as i64),
                    &fit.gradient_norm,
                    &fit.converged,
                    &fit.fitted_at.unix(),
                    &fit.calibration_end.unix(),
                    &fit.unit,
                    &(fit.events as i64),
                    &(fit.people as i64),
                    &covariance_text(fit),
                ],
            )
            .await?
            .get(0))
        })
    }

    fn latest_fit(&self, model: &str) -> Result<Option<StoredFit>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let sql = format!(
                "SELECT {COLUMNS} FROM rapport.fits WHERE model = $1 ORDER BY seq DESC LIMIT 1"
            );
            c.query_opt(&sql, &[&model])
                .await?
                .map(|r| decode(&r))
                .transpose()
        })
    }

    fn latest_fits(&self) -> Result<Vec<StoredFit>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let sql = format!(
                "SELECT {COLUMNS} FROM rapport.fits
                 WHERE seq IN (SELECT MAX(seq) FROM rapport.fits GROUP BY model)"
            );
            c.query(&sql, &[]).await?.iter().map(decode).collect()
        })
    }
}

const COLUMNS: &str = "seq, model, params, std_errors, log_likelihood, iterations, gradient_norm,
     converged, fitted_at, calibration_end, unit, events, people, covariance";

fn decode(r: &tokio_postgres::Row) -> crate::error::Result<StoredFit> {
    Ok(StoredFit {
        seq: r.get(0),
        model: r.get(1),
        params: serde_json::from_str(r.get(2)).map_err(|e| corrupt("params", e))?,
        std_errors: serde_json::from_str(r.get(3)).map_err(|e| corrupt("std_errors", e))?,
        log_likelihood: r.get(4),
        iterations: r.get::<_, i64>(5).max(0) as u64,
        gradient_norm: r.get(6),
        converged: r.get(7),
        fitted_at: Timestamp::from_unix(r.get(8)),
        calibration_end: Timestamp::from_unix(r.get(9)),
        unit: r.get(10),
        events: r.get::<_, i64>(11).max(0) as u64,
        people: r.get::<_, i64>(12).max(0) as u64,
        covariance: r
            .get::<_, Option<&str>>(13)
            .map(|c| serde_json::from_str(c).map_err(|e| corrupt("covariance", e)))
            .transpose()?,
    })
}
