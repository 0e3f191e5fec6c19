//! Bank statement lines on PostgreSQL (see `store::bank`): one table on the coordinator,
//! written only by a batch, in its coordinator transaction (so a payment and the line it came
//! from commit together, the coordinator's commit being the decision on a spread ledger).

use std::collections::HashSet;

use store::bank::{self, BankLine, NewBankLine};
use store::{Bank, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::PostgresStore;
use crate::error::Result;

const COLUMNS: &str = "no, source, id, booked, amount, currency, state, reason, sealed, read_at";

fn line(store: &PostgresStore, r: &Row) -> Result<BankLine, StoreError> {
    bank::line_from_row(
        &store.keys,
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        i64::from(r.get::<_, i16>(6)),
        r.get(7),
        r.get(8),
        r.get(9),
    )
}

impl Bank for PostgresStore {
    fn bank_seen(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT id FROM rapport.bank_lines WHERE source = $1",
                    &[&source],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        })
    }

    fn bank_unmatched(&self, limit: usize) -> Result<(u64, Vec<BankLine>), StoreError> {
        let (total, rows) = self.run(async {
            let c = self.db.get().await?;
            let total: i64 = c
                .query_one(
                    "SELECT count(*) FROM rapport.bank_lines WHERE state = 2",
                    &[],
                )
                .await?
                .get(0);
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM rapport.bank_lines WHERE state = 2
                         ORDER BY booked, no LIMIT $1"
                    ),
                    &[&(limit as i64)],
                )
                .await?;
            Ok((total, rows))
        })?;
        let lines = rows
            .iter()
            .map(|r| line(self, r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((total as u64, lines))
    }

    fn bank_line(&self, no: i64) -> Result<Option<BankLine>, StoreError> {
        let row = self.run(async {
            let c = self.db.get().await?;
            Ok(c.query_opt(
                &format!("SELECT {COLUMNS} FROM rapport.bank_lines WHERE no = $1"),
                &[&no],
            )
            .await?)
        })?;
        row.map(|r| line(self, &r)).transpose()
    }
}

/// Writes sealed lines in the batch's coordinator transaction: a new source and id is
/// inserted, a known one takes the new state, reason and details.
pub(crate) async fn write(
    c: &tokio_postgres::Client,
    lines: &[(NewBankLine, Option<Vec<u8>>)],
    now: i64,
) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let stmt = c
        .prepare(
            "INSERT INTO rapport.bank_lines
                 (source, id, booked, amount, currency, state, reason, sealed, read_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (source, id) DO UPDATE SET
                 state = excluded.state, reason = excluded.reason, sealed = excluded.sealed",
        )
        .await?;
    for (l, sealed) in lines {
        let booked = i64::from(l.booked.days_since_epoch());
        let amount = l.amount.ten_thousandths();
        let state = l.state.code() as i16;
        let params: [&(dyn ToSql + Sync); 9] = [
            &l.source,
            &l.id,
            &booked,
            &amount,
            &l.currency.as_str(),
            &state,
            &l.reason,
            sealed,
            &now,
        ];
        c.execute(&stmt, &params).await?;
    }
    Ok(())
}
