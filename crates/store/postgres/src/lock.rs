//! One writer at a time, and its name for whoever waits.
//!
//! Every long write (an import or the API's batch, forgetting, regrouping, re-keying) takes
//! a transaction-level advisory lock on one key of the database, and while it holds it sets
//! its connection's `application_name` to what it is doing ("rapport: importing orders.csv
//! (process 4711, since …)"), for the rest of its transaction only. Whoever finds the lock
//! taken reads that name from `pg_stat_activity`, and says who holds the ledger, waits with a
//! progress line (the command line) or answers "busy" at once (the web). PostgreSQL releases
//! the lock when the transaction ends, and when the connection or the process dies, so a
//! crash never leaves the ledger locked. Short writes (an audit entry, a token) do not take
//! it: they never wait for an import.

use deadpool_postgres::{GenericClient, Object};

use crate::error::Result;

/// The writer lock: "rapp" "ort1", as a 64-bit advisory key.
pub const WRITER: i64 = 0x7261_7070_6f72_7431;
/// Held while migrating, so that two servers starting together do not both migrate.
pub const MIGRATE: i64 = 0x7261_7070_6f72_7432;

/// Tries the writer lock inside the caller's transaction; on success names the holder
/// `what`. `Ok(false)` when another transaction holds it.
pub async fn try_take(c: &impl GenericClient, what: &str) -> Result<bool> {
    let got: bool = c
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&WRITER])
        .await?
        .get(0);
    if got {
        let now = domain::Timestamp::now();
        let name = format!(
            "rapport: {what} (process {}, since {now})",
            std::process::id()
        );
        // application_name is at most 63 bytes; cut on a character boundary.
        let mut end = name.len().min(63);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        c.execute(
            "SELECT set_config('application_name', $1, true)",
            &[&&name[..end]],
        )
        .await?;
    }
    Ok(got)
}

/// Who holds the writer lock, as they named themselves.
pub async fn holder(c: &impl GenericClient) -> Result<String> {
    let hi = (WRITER >> 32) as u32;
    let lo = (WRITER & 0xffff_ffff) as u32;
    let row = c
        .query_opt(
            "SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l
             JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.classid::bigint = $1 AND l.objid::bigint = $2
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             LIMIT 1",
            &[&i64::from(hi), &i64::from(lo)],
        )
        .await?;
    Ok(match row {
        Some(r) => {
            let name: Option<String> = r.get(0);
            let addr: Option<String> = r.get(1);
            let pid: i32 = r.get(2);
            let name = name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "another rapport".into());
            match addr {
                Some(a) => format!("{name} [from {a}, server process {pid}]"),
                None => format!("{name} [server process {pid}]"),
            }
        }
        // Released between the two questions.
        None => "another rapport process".into(),
    })
}

/// The error that says who holds the writer lock.
pub fn busy(holder: &str) -> store::StoreError {
    store::StoreError::Busy {
        message: format!("another writer is at work on this ledger: {holder}"),
    }
}

/// How often a waiting writer looks again, and tells its caller who holds the ledger.
const WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(100);

/// A connection inside a transaction that holds the writer lock, named `what`: an import's
/// or a catch-up's. While another writer holds it, `waiting` is told who, every tenth of a
/// second, and answers whether to go on waiting (`false`: [`busy`]).
pub fn begin_locked(
    store: &crate::PostgresStore,
    what: &str,
    waiting: &mut dyn FnMut(&str) -> bool,
) -> Result<Object, store::StoreError> {
    let conn = store.run(store.db.get())?;
    loop {
        let asked = store.run(async {
            conn.batch_execute("BEGIN").await?;
            if try_take(&conn, what).await? {
                return Ok(None);
            }
            conn.batch_execute("ROLLBACK").await?;
            Ok(Some(holder(&conn).await?))
        });
        let who = match asked {
            Ok(h) => h,
            Err(e) => {
                // Never back into the pool inside a transaction.
                end(store, conn);
                return Err(e);
            }
        };
        let Some(who) = who else {
            // The writer before may have committed on the coordinator and still be committing
            // its prepared parts on the other servers (the lock ends with the coordinator's
            // transaction): settle them now, so that this writer reads every row it decided.
            if let Err(e) = store.run(crate::direct::resolve(store, &conn)) {
                end(store, conn);
                return Err(e);
            }
            return Ok(conn);
        };
        // Told outside the store's runtime: the caller may do anything, even ask the store.
        if !waiting(&who) {
            return Err(busy(&who));
        }
        std::thread::sleep(WAIT_STEP);
    }
}

/// Ends a transaction that did not commit: rolled back, and the connection returned to the
/// pool only if that worked (a connection in an unknown state is closed instead).
pub fn end(store: &crate::PostgresStore, conn: Object) {
    let ok = store
        .db
        .block(async { conn.batch_execute("ROLLBACK").await.is_ok() });
    if !ok {
        drop(Object::take(conn));
    }
}
