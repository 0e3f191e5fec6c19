//! Reading events back: one person's history, and everyone streamed person by person.

use std::path::Path;

use domain::readings::Recorded;
use domain::{Kind, Timestamp};
use rusqlite::{Connection, OpenFlags, params};

use store::StoreError;
use store::columns::Columns;

use crate::READ_CACHE_KIB;
use crate::error::Result;

/// Decodes the columns starting at `first`: seq, at, kind, body, and (`with_lines`) lines.
fn decode_columns(
    row: &rusqlite::Row<'_>,
    first: usize,
    with_lines: bool,
) -> Result<(i64, Recorded)> {
    let seq: i64 = row.get(first)?;
    let at: i64 = row.get(first + 1)?;
    let code: i64 = row.get(first + 2)?;
    let kind = u8::try_from(code)
        .ok()
        .and_then(Kind::from_code)
        .ok_or_else(|| StoreError::Corrupt {
            message: format!("event {seq} has unknown kind {code}"),
        })?;
    // The body is borrowed from SQLite's row buffer: the domain types copy what they keep.
    let blob = row
        .get_ref(first + 3)?
        .as_blob()
        .map_err(rusqlite::Error::from)?;
    let mut cols = Columns::decode(blob).ok_or_else(|| StoreError::Corrupt {
        message: format!("event {seq} has a damaged body"),
    })?;
    if with_lines {
        cols.lines = row
            .get_ref(first + 4)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?
            .map(std::borrow::Cow::Borrowed);
    }
    let body = cols.into_body(kind, with_lines)?;
    Ok((
        seq,
        Recorded {
            seq,
            at: Timestamp::from_unix(at),
            body,
        },
    ))
}

/// Streams the public events of the people ranked `from..to` (by key), person by person in
/// time order, to `visit`, on its own read-only connection.
pub(crate) fn scan_people(
    path: &Path,
    keys: &[i64],
    from: usize,
    to: usize,
    visit: &(dyn Fn(usize, &[Recorded]) + Sync),
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{READ_CACHE_KIB}"))?;
    // Order lines are not read here: no reading needs them.
    let mut stmt = conn.prepare(
        "SELECT person, seq, at, kind, body
         FROM events WHERE person BETWEEN ?1 AND ?2 ORDER BY person, seq",
    )?;
    let mut rows = stmt.query(params![keys[from], keys[to - 1]])?;
    let mut people = store::visit::People::new(keys, from, to, visit);
    while let Some(row) = rows.next()? {
        let pk: i64 = row.get(0)?;
        let (_, recorded) = decode_row(row, 1)?;
        people.push(pk, recorded)?;
    }
    people.finish();
    Ok(())
}

fn decode_row(row: &rusqlite::Row<'_>, first: usize) -> Result<(i64, Recorded)> {
    decode_columns(row, first, false)
}

pub(crate) fn decode_full_row(row: &rusqlite::Row<'_>) -> Result<(i64, Recorded)> {
    decode_columns(row, 1, true)
}

/// One person's public events in time order, without opening anything sealed.
pub(crate) fn person_events(conn: &Connection, pk: i64) -> Result<Vec<Recorded>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person, seq, at, kind, body FROM events WHERE person = ?1 ORDER BY at, seq",
    )?;
    let mut rows = stmt.query(params![pk])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode_row(row, 1)?.1);
    }
    Ok(out)
}
