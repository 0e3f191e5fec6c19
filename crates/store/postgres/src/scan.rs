//! Reading events back: one person's events, and everyone streamed person by person.
//!
//! Readings for everyone read every public event once, in (person, seq) order, which is the
//! events table's primary key: two connections each stream half of the people with
//! `COPY (…) TO STDOUT (FORMAT binary)` (no per-row protocol overhead, no text parsing), and
//! each calling thread decodes its rows and hands each person's events to the visitor, as the
//! SQLite backend does with its two read connections.

use deadpool_postgres::GenericClient;
use domain::readings::Recorded;
use domain::{Kind, Timestamp};
use futures_util::StreamExt;
use store::StoreError;
use store::columns::Columns;
use tokio_postgres::binary_copy::BinaryCopyOutStream;
use tokio_postgres::types::Type;

use crate::PostgresStore;
use crate::error::Result;

/// An event's public fields from its columns.
/// `with_lines`: whether `lines` was read (an order without lines has none).
pub fn decode(
    seq: i64,
    at: i64,
    code: i16,
    body: &[u8],
    lines: Option<&str>,
    with_lines: bool,
) -> Result<Recorded> {
    let kind = u8::try_from(code)
        .ok()
        .and_then(Kind::from_code)
        .ok_or_else(|| StoreError::Corrupt {
            message: format!("event {seq} has unknown kind {code}"),
        })?;
    let mut cols = Columns::decode(body).ok_or_else(|| StoreError::Corrupt {
        message: format!("event {seq} has a damaged body"),
    })?;
    if let Some(l) = lines {
        cols.lines = Some(std::borrow::Cow::Borrowed(l));
    }
    Ok(Recorded {
        seq,
        at: Timestamp::from_unix(at),
        body: cols.into_body(kind, with_lines)?,
    })
}

/// One person's public events in time order, without opening anything sealed.
pub async fn person_events(c: &impl GenericClient, pk: i64) -> Result<Vec<Recorded>> {
    let rows = c
        .query(
            "SELECT seq, at, kind, body FROM rapport.events WHERE person = $1 ORDER BY at, seq",
            &[&pk],
        )
        .await?;
    rows.iter()
        .map(|r| decode(r.get(0), r.get(1), r.get(2), r.get(3), None, false))
        .collect()
}

/// Rows fetched from the stream in one call into the store's runtime.
const ROWS_PER_FETCH: usize = 4096;

/// Every person's public events, to `visit`, on two threads.
pub fn visit_everyone(
    store: &PostgresStore,
    visit: &(dyn Fn(usize, &[Recorded]) + Sync),
) -> Result<(), StoreError> {
    let keys: Vec<i64> = store.run(async {
        let c = store.db.get().await?;
        let rows = c
            .query("SELECT pk FROM rapport.people ORDER BY pk", &[])
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    })?;
    if keys.is_empty() {
        return Ok(());
    }
    let mid = keys.len() / 2;
    let keys: &[i64] = &keys;
    let (a, b) = std::thread::scope(|scope| {
        let first = scope.spawn(move || stream(store, keys, 0, mid, visit));
        let second = stream(store, keys, mid, keys.len(), visit);
        let first = first.join().unwrap_or_else(|_| {
            Err(StoreError::Corrupt {
                message: "the scanning thread failed".into(),
            })
        });
        (first, second)
    });
    a?;
    b
}

/// Streams the people ranked `from..to` to `visit`, person by person in time order. Rows are
/// fetched inside the store's runtime one at a time, and `visit` is called outside it, so a
/// visitor may call the store itself.
fn stream(
    store: &PostgresStore,
    keys: &[i64],
    from: usize,
    to: usize,
    visit: &(dyn Fn(usize, &[Recorded]) + Sync),
) -> Result<(), StoreError> {
    if from >= to {
        return Ok(());
    }
    // COPY takes no parameters; the bounds are numbers of our own.
    let sql = format!(
        "COPY (SELECT person, seq, at, kind, body FROM rapport.events
               WHERE person BETWEEN {} AND {} ORDER BY person, seq)
         TO STDOUT (FORMAT binary)",
        keys[from],
        keys[to - 1]
    );
    let (_conn, mut rows) = store.run(async {
        let c = store.db.get().await?;
        let out = c.copy_out(&sql).await?;
        let rows = BinaryCopyOutStream::new(
            out,
            &[Type::INT8, Type::INT8, Type::INT8, Type::INT2, Type::BYTEA],
        );
        Ok((c, Box::pin(rows)))
    })?;
    let mut people = store::visit::People::new(keys, from, to, visit);
    // Rows come in groups, each fetched in one call into the runtime (a call per row would
    // cost a second over a whole ledger).
    let mut group = Vec::with_capacity(ROWS_PER_FETCH);
    loop {
        group.clear();
        let ended = store.db.block(async {
            while group.len() < ROWS_PER_FETCH {
                match rows.next().await {
                    Some(row) => group.push(row),
                    None => return true,
                }
            }
            false
        });
        for row in group.drain(..) {
            let row = row.map_err(|e| store.db.place.error(e.into()))?;
            people.push(
                row.get(0),
                decode(row.get(1), row.get(2), row.get(3), row.get(4), None, false)?,
            )?;
        }
        if ended {
            break;
        }
    }
    people.finish();
    Ok(())
}
