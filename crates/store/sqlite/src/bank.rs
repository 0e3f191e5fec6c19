//! Bank statement lines on SQLite (see `store::bank`): read through the pool of readers,
//! written only by a batch, in its transaction.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use store::bank::{self, BankLine, NewBankLine};
use store::keys::{PersonKey, Sealer};
use store::{Bank, StoreError};

use crate::SqliteStore;
use crate::error::{Result, run};

const COLUMNS: &str = "no, source, id, booked, amount, currency, state, reason, sealed, read_at";

fn line(store: &SqliteStore, r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<BankLine>> {
    let currency: String = r.get(5)?;
    let sealed: Option<Vec<u8>> = r.get(8)?;
    Ok(bank::line_from_row(
        &store.keys,
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        &currency,
        r.get(6)?,
        r.get(7)?,
        sealed.as_deref(),
        r.get(9)?,
    )
    .map_err(Into::into))
}

impl Bank for SqliteStore {
    fn bank_seen(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached("SELECT id FROM bank_lines WHERE source = ?1")?;
                let ids = stmt
                    .query_map(params![source], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<HashSet<String>>>()?;
                Ok(ids)
            })
        })
    }

    fn bank_unmatched(&self, limit: usize) -> Result<(u64, Vec<BankLine>), StoreError> {
        run(|| {
            self.conns.read(|c| {
                let total: i64 =
                    c.query_row("SELECT count(*) FROM bank_lines WHERE state = 2", [], |r| {
                        r.get(0)
                    })?;
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM bank_lines WHERE state = 2
                     ORDER BY booked, no LIMIT ?1"
                ))?;
                let lines = stmt
                    .query_map(params![limit as i64], |r| line(self, r))?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    .collect::<Result<Vec<_>>>()?;
                Ok((total as u64, lines))
            })
        })
    }

    fn bank_line(&self, no: i64) -> Result<Option<BankLine>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM bank_lines WHERE no = ?1"),
                    params![no],
                    |r| line(self, r),
                )
                .optional()?
                .transpose()
            })
        })
    }
}

/// Writes lines in the batch's transaction: a new source and id is inserted, a known one
/// takes the new state, reason and details (its booking, amount and first reading stay).
pub(crate) fn write(
    conn: &Connection,
    sealer: &mut Sealer,
    key: &PersonKey,
    lines: &[NewBankLine],
    now: i64,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO bank_lines (source, id, booked, amount, currency, state, reason, sealed, read_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (source, id) DO UPDATE SET
             state = excluded.state, reason = excluded.reason, sealed = excluded.sealed",
    )?;
    for l in lines {
        let sealed = bank::seal_details(sealer, key, l)?;
        stmt.execute(params![
            l.source,
            l.id,
            i64::from(l.booked.days_since_epoch()),
            l.amount.ten_thousandths(),
            l.currency.as_str(),
            l.state.code(),
            l.reason,
            sealed,
            now,
        ])?;
    }
    Ok(())
}
