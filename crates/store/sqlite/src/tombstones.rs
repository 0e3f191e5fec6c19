//! Tombstones: how the ledger recognises a forgotten person without knowing who they were.
//!
//! Forgetting removes every row of a person, so nothing would stop the next import of the same
//! export (the usual repair after a crash) from bringing them back. Each forgetting therefore
//! leaves a tombstone: HMAC-SHA-256 of the person's id ([`store::tombstone_of`]) under a secret
//! that lives wrapped in the key vault. An import computes the same MAC for every person the
//! ledger does not know and skips the events of those with a tombstone, counting and naming
//! them. Without the vault and the master key the tombstones say nothing: one cannot test a
//! guessed id against them.
//!
//! Every forgetting and welcoming back also moves a generation counter in `meta`, so that any
//! connection that keeps people in memory (the server's writer, an import) reads them again.

use std::collections::HashSet;

use domain::{PersonId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::error::Result;

/// A tombstone: the keyed hash of a forgotten person's id.
pub type Mac = [u8; 32];

const GENERATION: &str = "people_generation";

impl SqliteStore {
    /// The secret tombstones are keyed with (made in the vault on first use).
    pub(crate) fn tombstone_secret(&self) -> Result<[u8; 32]> {
        if let Some(k) = self.tombstone_key.get() {
            return Ok(*k);
        }
        let k = self.vault.secret(self.keys.master(), "tombstones")?;
        Ok(*self.tombstone_key.get_or_init(|| k))
    }

    /// Lifts the tombstone of a person who came back and asked to be known again: from now on
    /// their events are imported as a new person's (nothing of the old history returns — it is
    /// gone). `false` when there was no tombstone for this id.
    pub(crate) fn lift_tombstone(&self, person: &PersonId) -> Result<bool> {
        let tombstone = store::tombstone_of(&self.tombstone_secret()?, person.as_str());
        let _lock = crate::WriterLock::acquire(&self.path, "rapport welcome-back")?;
        let mut conn = self.conns.writer();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM tombstones WHERE mac = ?1",
            params![tombstone.as_slice()],
        )?;
        if n > 0 {
            bump_generation(&tx)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}

/// Every tombstone, for an import to check new people against.
pub(crate) fn all(conn: &Connection) -> Result<HashSet<Mac>> {
    let mut stmt = conn.prepare_cached("SELECT mac FROM tombstones")?;
    let mut rows = stmt.query([])?;
    let mut set = HashSet::new();
    while let Some(row) = rows.next()? {
        if let Ok(m) = Mac::try_from(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?) {
            set.insert(m);
        }
    }
    Ok(set)
}

/// Tombstones laid after `seq` (a server's last seen), with their sequence numbers.
pub(crate) fn after(conn: &Connection, seq: i64) -> Result<Vec<(i64, Mac)>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, mac FROM tombstones WHERE seq > ?1 ORDER BY seq")?;
    let mut rows = stmt.query(params![seq])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        if let Ok(m) = Mac::try_from(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?) {
            out.push((row.get(0)?, m));
        }
    }
    Ok(out)
}

/// The sequence number of the latest tombstone (0 when nobody was ever forgotten).
pub(crate) fn latest(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM tombstones")?
        .query_row([], |r| r.get(0))?)
}

/// How many times people were forgotten or welcomed back, ever.
pub(crate) fn people_generation(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1")?
        .query_row(params![GENERATION], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Lays a tombstone (inside the caller's transaction).
pub(crate) fn lay(conn: &Connection, tombstone: &Mac) -> Result<()> {
    conn.execute(
        "INSERT INTO tombstones (mac, at) VALUES (?1, ?2) ON CONFLICT (mac) DO NOTHING",
        params![tombstone.as_slice(), Timestamp::now().unix()],
    )?;
    bump_generation(conn)
}

fn bump_generation(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        params![GENERATION],
    )?;
    Ok(())
}
