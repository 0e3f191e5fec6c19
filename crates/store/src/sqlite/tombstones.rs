//! Tombstones: how the ledger recognises a forgotten person without knowing who they were.
//!
//! Forgetting removes every row of a person, so nothing would stop the next import of the same
//! export (the usual repair after a crash) from bringing them back. Each forgetting therefore
//! leaves a tombstone: HMAC-SHA-256 of the person's id under a secret that lives wrapped in
//! the key vault. An import computes the same MAC for every person the ledger does not know
//! and skips the events of those with a tombstone, counting and naming them. Without the vault
//! and the master key the tombstones say nothing: one cannot test a guessed id against them.
//!
//! Every forgetting and welcoming back also moves a generation counter in `meta`, so that any
//! connection that keeps people in memory (the server's writer, an import) reads them again.

use std::collections::HashSet;

use domain::{PersonId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use crate::StoreError;

/// A tombstone: the keyed hash of a forgotten person's id.
pub type Mac = [u8; 32];

const GENERATION: &str = "people_generation";

/// The tombstone of `person` under `key` (see [`SqliteStore::tombstone_key`]).
pub fn tombstone_mac(key: &[u8; 32], person: &PersonId) -> Mac {
    mac(key, person.as_str())
}

/// The tombstone of the person with id `person` under `key`.
pub(super) fn mac(key: &[u8; 32], person: &str) -> Mac {
    use hmac::{Hmac, Mac as _};
    let mut m = <Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    m.update(person.as_bytes());
    m.finalize().into_bytes().into()
}

impl SqliteStore {
    /// The secret tombstones are keyed with (made in the vault on first use). A server uses
    /// it to recognise, among the people it shows, those forgotten elsewhere.
    pub fn tombstone_key(&self) -> Result<[u8; 32], StoreError> {
        if let Some(k) = self.tombstone_key.get() {
            return Ok(*k);
        }
        let k = self.vault.secret("tombstones")?;
        Ok(*self.tombstone_key.get_or_init(|| k))
    }

    /// The tombstone `person` has or would have.
    pub fn tombstone_of(&self, person: &PersonId) -> Result<Mac, StoreError> {
        Ok(mac(&self.tombstone_key()?, person.as_str()))
    }

    /// Every tombstone, for an import to check new people against.
    pub(super) fn tombstone_set(conn: &Connection) -> Result<HashSet<Mac>, StoreError> {
        let mut stmt = conn.prepare_cached("SELECT mac FROM tombstones")?;
        let mut rows = stmt.query([])?;
        let mut set = HashSet::new();
        while let Some(row) = rows.next()? {
            if let Ok(m) = Mac::try_from(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?)
            {
                set.insert(m);
            }
        }
        Ok(set)
    }

    /// Tombstones laid after `seq` (a server's last seen), with their sequence numbers.
    pub fn tombstones_after(&self, seq: i64) -> Result<Vec<(i64, Mac)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, mac FROM tombstones WHERE seq > ?1 ORDER BY seq")?;
        let mut rows = stmt.query(params![seq])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if let Ok(m) = Mac::try_from(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)
            {
                out.push((row.get(0)?, m));
            }
        }
        Ok(out)
    }

    /// The sequence number of the latest tombstone (0 when nobody was ever forgotten): what a
    /// server asks every second or so.
    pub fn latest_tombstone(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM tombstones")?
            .query_row([], |r| r.get(0))?)
    }

    /// How many times people were forgotten or welcomed back, ever: a cheap question a
    /// server can ask every second or two.
    pub fn people_generation(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1")?
            .query_row(params![GENERATION], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Lays the tombstone of `person` (inside the caller's transaction).
    pub(super) fn lay_tombstone(conn: &Connection, tombstone: &Mac) -> Result<(), StoreError> {
        conn.execute(
            "INSERT INTO tombstones (mac, at) VALUES (?1, ?2) ON CONFLICT (mac) DO NOTHING",
            params![tombstone.as_slice(), Timestamp::now().unix()],
        )?;
        bump_generation(conn)
    }

    /// Lifts the tombstone of a person who came back and asked to be known again: from now on
    /// their events are imported as a new person's (nothing of the old history returns — it is
    /// gone). `false` when there was no tombstone for this id.
    pub fn welcome_back(&mut self, person: &PersonId) -> Result<bool, StoreError> {
        let tombstone = self.tombstone_of(person)?;
        let _lock = super::WriterLock::acquire(&self.path, "rapport welcome-back")?;
        let tx = self.conn.transaction()?;
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

fn bump_generation(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        params![GENERATION],
    )?;
    Ok(())
}
