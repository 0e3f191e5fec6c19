//! Forgetting a person, as an attacker would test it: afterwards no byte of the ledger, its
//! write-ahead log or the key vault holds their name, contact details or words, and a copy of
//! the ledger taken before cannot be read either, because the key that sealed them is gone.
//!
//! Order matters. The person's key is destroyed first (in the vault, with `secure_delete`,
//! then the vault's log checkpointed away and the file vacuumed), so that from that moment
//! every sealed field of theirs, wherever a copy lies, is noise. Then their rows go from the
//! ledger — events, sealed fields, their id, their name in the audit log — in one transaction,
//! keeping only counts and amounts that identify nobody, and a tombstone that lets later
//! imports recognise the person without saying who they were (`tombstones.rs`). The ledger runs with
//! `secure_delete`, so SQLite overwrites deleted cells and freed pages with zeros as it
//! deletes; the write-ahead log is then checkpointed and truncated. The ledger file is not
//! vacuumed: with `secure_delete` that would add nothing a reader of the bytes could see, and
//! rewriting a file of gigabytes would hold every writer back for a long time (the vault is
//! small, and is vacuumed). The test reads every byte to check it.

use domain::{PersonId, Timestamp};
use rusqlite::params;

use store::Forgotten;

use crate::error::Result;
use crate::{SqliteStore, scan, tombstones};

impl SqliteStore {
    pub(super) fn forget_person(&self, person: &PersonId) -> Result<Option<Forgotten>> {
        let _lock = crate::WriterLock::acquire(&self.path, "rapport forget")?;
        let tombstone = store::tombstone_of(&self.tombstone_secret()?, person.as_str());
        let mut conn = self.conns.writer();
        let Some(pk) = SqliteStore::person_key(&conn, person)? else {
            return Ok(None);
        };
        let events = scan::person_events(&conn, pk)?;
        let amounts = store::amounts_by_currency(&events);

        // 1. The key: gone for good.
        self.vault.destroy(person.as_str())?;
        self.keys.evict(Some(person.as_str()));

        // 2. The rows.
        let tx = conn.transaction()?;
        let sealed = tx.execute(
            "DELETE FROM sealed WHERE seq IN (SELECT seq FROM events WHERE person = ?1)",
            params![pk],
        )?;
        let removed = tx.execute("DELETE FROM events WHERE person = ?1", params![pk])?;
        crate::scripts::forget(&tx, pk)?;
        tx.execute("DELETE FROM people WHERE pk = ?1", params![pk])?;
        crate::kept::forget(&tx, person)?;
        tx.execute(
            "UPDATE audit SET person = NULL WHERE person = ?1",
            params![person.as_str()],
        )?;
        // So that no later import brings them back (see tombstones.rs).
        tombstones::lay(&tx, &tombstone)?;
        tx.execute(
            "INSERT INTO forgotten (at, events, amounts) VALUES (?1, ?2, ?3)",
            params![
                Timestamp::now().unix(),
                removed as i64,
                serde_json::to_string(&amounts).unwrap_or_else(|_| "{}".into())
            ],
        )?;
        tx.commit()?;
        self.drop_people();

        // 3. No copy left in the log. Deleted cells and freed pages were already overwritten
        // with zeros (secure_delete), so the file itself holds nothing more; the log still holds
        // the pages as they were, until a checkpoint copies them in and truncates it. A reader
        // in the middle of a read can hold the checkpoint back: wait for it, a little.
        let mut log_cleared = false;
        for _ in 0..100 {
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy == 0 {
                log_cleared = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(Some(Forgotten {
            events: removed as u64,
            sealed: sealed as u64,
            cleared_now: log_cleared,
        }))
    }
}
