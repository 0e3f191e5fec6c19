//! The embedded SQLite ledger: one database file, and the key vault in a second file beside
//! it (`rapport.db` and `rapport.db.vault`).
//!
//! Imports run in one transaction per file with cached prepared statements; the ledger uses
//! WAL with `synchronous = NORMAL`, which keeps every committed import across a crash of the
//! process and loses at most the last commits on a power cut — the usual trade for a local
//! analytical store whose inputs can be re-imported (imports are idempotent).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use domain::readings::Recorded;
use domain::{EventId, Kind, NewEvent, PersonId, Personal, Source, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::columns::Columns;
use crate::vault::{self, MasterKey, Vault};
use crate::{
    Appended, AuditEntry, Batch, BatchSummary, FullEvent, Population, Store, StoreError, Totals,
};

/// Migrations of the ledger file, applied in order on open; `PRAGMA user_version` records
/// how many have run.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_ledger.sql")];

pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    vault: Vault,
    /// Person id → ledger key, filled on the first import.
    people: Option<HashMap<String, i64>>,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 1073741824;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NotALedger {
            message: format!(
                "this ledger was written by a newer rapport (schema {version}, this one knows {known})"
            ),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Creates a new ledger at `path` (and its vault). Fails if a ledger is already there.
    pub fn create(path: &Path, master: MasterKey) -> Result<SqliteStore, StoreError> {
        if path.exists() {
            return Err(StoreError::NotALedger {
                message: format!("{} already exists", path.display()),
            });
        }
        let conn = Connection::open(path)?;
        SqliteStore::finish_open(path, conn, master)
    }

    /// Opens an existing ledger, running any migrations it lacks.
    pub fn open(path: &Path, master: MasterKey) -> Result<SqliteStore, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotALedger {
                message: format!(
                    "no ledger at {} (run `rapport init`, or give --db / RAPPORT_DB)",
                    path.display()
                ),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A file that is not SQLite fails here, with SQLite's own "not a database" message.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| StoreError::NotALedger {
            message: format!("{} is not a rapport ledger ({e})", path.display()),
        })?;
        SqliteStore::finish_open(path, conn, master)
    }

    fn finish_open(
        path: &Path,
        conn: Connection,
        master: MasterKey,
    ) -> Result<SqliteStore, StoreError> {
        configure(&conn)?;
        migrate(&conn)?;
        let vault = Vault::open(&vault::sibling(path, "vault"), master)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            conn,
            vault,
            people: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault file of a ledger at `db`.
    pub fn vault_path(db: &Path) -> PathBuf {
        vault::sibling(db, "vault")
    }

    fn load_people(&mut self) -> Result<(), StoreError> {
        if self.people.is_some() {
            return Ok(());
        }
        let mut map = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT pk, id FROM people")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            map.insert(row.get::<_, String>(1)?, row.get::<_, i64>(0)?);
        }
        drop(rows);
        drop(stmt);
        self.people = Some(map);
        Ok(())
    }

    fn person_key(&self, person: &PersonId) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT pk FROM people WHERE id = ?1")?
            .query_row(params![person.as_str()], |r| r.get(0))
            .optional()?)
    }

    /// A value from the ledger's `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The ledger's own SQLite connection, for read-only reports in this crate's callers'
    /// benchmarks and tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

struct SqliteBatch<'a> {
    store: &'a mut SqliteStore,
    batch: i64,
    summary: BatchSummary,
    /// People added in this batch, removed from the cache again on rollback.
    new_people: Vec<String>,
    done: bool,
}

impl Store for SqliteStore {
    fn batch(&mut self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError> {
        self.load_people()?;
        self.vault.begin()?;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            self.vault.rollback();
            return Err(e.into());
        }
        let started = Timestamp::now().unix();
        let res = self.conn.execute(
            "INSERT INTO imports (started_at, origin) VALUES (?1, ?2)",
            params![started, origin],
        );
        if let Err(e) = res {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.vault.rollback();
            return Err(e.into());
        }
        let batch = self.conn.last_insert_rowid();
        Ok(Box::new(SqliteBatch {
            store: self,
            batch,
            summary: BatchSummary::default(),
            new_people: Vec::new(),
            done: false,
        }))
    }

    fn totals(&self) -> Result<Totals, StoreError> {
        let people: i64 = self
            .conn
            .query_row("SELECT count(*) FROM people", [], |r| r.get(0))?;
        let events: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        Ok(Totals {
            people: people as u64,
            events: events as u64,
        })
    }

    fn population(&self) -> Result<Population, StoreError> {
        let mut people = Vec::new();
        let mut index: Vec<u32> = Vec::new();
        {
            let mut stmt = self.conn.prepare("SELECT pk, id FROM people ORDER BY pk")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let pk: i64 = row.get(0)?;
                let id: String = row.get(1)?;
                let pk = usize::try_from(pk).map_err(|_| StoreError::Corrupt {
                    message: format!("person key {pk}"),
                })?;
                if index.len() <= pk {
                    index.resize(pk + 1, u32::MAX);
                }
                index[pk] = people.len() as u32;
                people.push(PersonId::parse(&id).map_err(|e| StoreError::Corrupt {
                    message: format!("person id {id:?}: {e}"),
                })?);
            }
        }
        let mut events: Vec<Vec<Recorded>> = (0..people.len()).map(|_| Vec::new()).collect();
        // Only contact.opened needs its `extra` (caused_by); order lines are not read here.
        let mut stmt = self.conn.prepare(
            "SELECT person, seq, at, kind, ref, amount, currency, day, num, t1, t2,
                    CASE WHEN kind = 8 THEN extra END
             FROM events",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let pk: i64 = row.get(0)?;
            let slot = usize::try_from(pk)
                .ok()
                .and_then(|pk| index.get(pk))
                .copied()
                .filter(|i| *i != u32::MAX)
                .ok_or_else(|| StoreError::Corrupt {
                    message: format!("event of unknown person {pk}"),
                })?;
            let (seq, recorded) = decode_row(row, 1)?;
            let _ = seq;
            events[slot as usize].push(recorded);
        }
        Ok(Population { people, events })
    }

    fn history(&mut self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        let Some(pk) = self.person_key(person)? else {
            return Ok(None);
        };
        let key = self.vault.get(person.as_str())?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, seq, at, kind, ref, amount, currency, day, num, t1, t2, extra, id, sealed
             FROM events WHERE person = ?1 ORDER BY at, seq",
        )?;
        let mut rows = stmt.query(params![pk])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let source: String = row.get(0)?;
            let (seq, recorded) = decode_full_row(row)?;
            let id: String = row.get(12)?;
            let sealed: Option<Vec<u8>> = row.get(13)?;
            let personal = match (sealed, &key) {
                (Some(blob), Some(k)) => {
                    let plain = vault::open(k, &vault::aad(&source, &id), &blob)?;
                    Some(serde_json::from_slice::<Personal>(&plain).map_err(|e| {
                        StoreError::Corrupt {
                            message: format!("sealed fields of {source}/{id}: {e}"),
                        }
                    })?)
                }
                _ => None,
            };
            out.push(FullEvent {
                seq,
                source: Source::parse(&source).map_err(|e| StoreError::Corrupt {
                    message: e.to_string(),
                })?,
                id: EventId::parse(&id).map_err(|e| StoreError::Corrupt {
                    message: e.to_string(),
                })?,
                at: recorded.at,
                body: recorded.body,
                personal,
            });
        }
        Ok(Some(out))
    }

    fn audit(
        &mut self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit (at, actor, action, person) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                Timestamp::now().unix(),
                actor,
                action,
                person.map(PersonId::as_str)
            ])?;
        Ok(())
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, person FROM audit ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(AuditEntry {
                at: Timestamp::from_unix(r.get(0)?),
                actor: r.get(1)?,
                action: r.get(2)?,
                person: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// Decodes the common columns starting at `first` (seq, at, kind, ref, amount, currency,
/// day, num, t1, t2, extra).
fn decode_columns(
    row: &rusqlite::Row<'_>,
    first: usize,
    with_lines: bool,
) -> Result<(i64, Recorded), StoreError> {
    let seq: i64 = row.get(first)?;
    let at: i64 = row.get(first + 1)?;
    let code: i64 = row.get(first + 2)?;
    let kind = u8::try_from(code)
        .ok()
        .and_then(Kind::from_code)
        .ok_or_else(|| StoreError::Corrupt {
            message: format!("event {seq} has unknown kind {code}"),
        })?;
    let cols = Columns {
        r#ref: row.get(first + 3)?,
        amount: row.get(first + 4)?,
        currency: row.get(first + 5)?,
        day: row.get(first + 6)?,
        num: row.get(first + 7)?,
        t1: row.get(first + 8)?,
        t2: row.get(first + 9)?,
        extra: row.get(first + 10)?,
    };
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

fn decode_row(row: &rusqlite::Row<'_>, first: usize) -> Result<(i64, Recorded), StoreError> {
    decode_columns(row, first, false)
}

fn decode_full_row(row: &rusqlite::Row<'_>) -> Result<(i64, Recorded), StoreError> {
    decode_columns(row, 1, true)
}

impl SqliteBatch<'_> {
    fn person_pk(&mut self, person: &PersonId) -> Result<i64, StoreError> {
        let people = self.store.people.get_or_insert_with(HashMap::new);
        if let Some(pk) = people.get(person.as_str()) {
            return Ok(*pk);
        }
        self.store
            .conn
            .prepare_cached("INSERT INTO people (id) VALUES (?1)")?
            .execute(params![person.as_str()])?;
        let pk = self.store.conn.last_insert_rowid();
        people.insert(person.as_str().to_owned(), pk);
        self.new_people.push(person.as_str().to_owned());
        Ok(pk)
    }

    fn rollback(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let _ = self.store.conn.execute_batch("ROLLBACK");
        self.store.vault.rollback();
        if let Some(people) = self.store.people.as_mut() {
            for p in self.new_people.drain(..) {
                people.remove(&p);
            }
        }
    }
}

impl Batch for SqliteBatch<'_> {
    fn append(&mut self, e: &NewEvent) -> Result<Appended, StoreError> {
        let pk = self.person_pk(&e.person)?;
        let sealed = if e.personal.is_empty() {
            None
        } else {
            let key = self.store.vault.get_or_create(e.person.as_str())?;
            let plain = serde_json::to_vec(&e.personal).map_err(|err| StoreError::Vault {
                message: format!("encoding personal fields: {err}"),
            })?;
            let aad = vault::aad(e.source.as_str(), e.id.as_str());
            Some(self.store.vault.sealer().seal(&key, &aad, &plain)?)
        };
        let c = Columns::of(&e.body);
        let n = self
            .store
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO events
                 (source, id, person, kind, at, ref, amount, currency, day, num, t1, t2, extra, sealed, batch)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                e.source.as_str(),
                e.id.as_str(),
                pk,
                e.body.kind().code(),
                e.at.unix(),
                c.r#ref,
                c.amount,
                c.currency,
                c.day,
                c.num,
                c.t1,
                c.t2,
                c.extra,
                sealed,
                self.batch,
            ])?;
        if n == 1 {
            self.summary.added += 1;
            Ok(Appended::New)
        } else {
            self.summary.duplicates += 1;
            Ok(Appended::AlreadyThere)
        }
    }

    fn summary(&self) -> BatchSummary {
        self.summary
    }

    fn commit(mut self: Box<Self>) -> Result<BatchSummary, StoreError> {
        let s = self.summary;
        let result = (|| {
            self.store.conn.execute(
                "UPDATE imports SET added = ?1, duplicates = ?2 WHERE batch = ?3",
                params![s.added as i64, s.duplicates as i64, self.batch],
            )?;
            // Keys first: a key without events is harmless, events without their key are not.
            self.store.vault.commit()?;
            self.store.conn.execute_batch("COMMIT")?;
            Ok::<(), StoreError>(())
        })();
        match result {
            Ok(()) => {
                self.done = true;
                Ok(s)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

impl Drop for SqliteBatch<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> SqliteStore {
        SqliteStore::create(&dir.join("l.db"), MasterKey::generate()).unwrap()
    }

    fn examples() -> Vec<NewEvent> {
        domain::examples::ALL
            .iter()
            .map(|l| NewEvent::from_json_line(l).unwrap())
            .collect()
    }

    #[test]
    fn reimporting_the_same_events_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        for round in 0..2 {
            let mut b = s.batch("test").unwrap();
            for e in examples() {
                b.append(&e).unwrap();
            }
            let sum = b.commit().unwrap();
            if round == 0 {
                assert_eq!(
                    sum,
                    BatchSummary {
                        added: 23,
                        duplicates: 0
                    }
                );
            } else {
                assert_eq!(
                    sum,
                    BatchSummary {
                        added: 0,
                        duplicates: 23
                    }
                );
            }
        }
        assert_eq!(
            s.totals().unwrap(),
            Totals {
                people: 1,
                events: 23
            }
        );
    }

    #[test]
    fn a_dropped_batch_leaves_the_ledger_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        {
            let mut b = s.batch("test").unwrap();
            for e in examples() {
                b.append(&e).unwrap();
            }
        }
        assert_eq!(
            s.totals().unwrap(),
            Totals {
                people: 0,
                events: 0
            }
        );
        // And the people cache did not keep the rolled-back person.
        let mut b = s.batch("again").unwrap();
        b.append(&examples()[0]).unwrap();
        b.commit().unwrap();
        assert_eq!(
            s.totals().unwrap(),
            Totals {
                people: 1,
                events: 1
            }
        );
    }

    #[test]
    fn personal_text_is_sealed_on_disk_and_opens_in_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        let mut b = s.batch("test").unwrap();
        for e in examples() {
            b.append(&e).unwrap();
        }
        b.commit().unwrap();
        s.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        let bytes = std::fs::read(dir.path().join("l.db")).unwrap();
        for secret in [
            "Anna de Vries",
            "anna@example.org",
            "parcel arrived broken",
            "allotment",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is readable in the ledger file"
            );
        }
        let person = PersonId::parse("0379-NEVHP").unwrap();
        let h = s.history(&person).unwrap().unwrap();
        assert_eq!(h.len(), 23);
        let named = h.iter().find_map(|e| e.personal.as_ref()?.name.clone());
        assert_eq!(named.as_deref(), Some("Anna de Vries"));
    }

    #[test]
    fn the_population_holds_every_event_once_per_person() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        let mut b = s.batch("test").unwrap();
        for e in examples() {
            b.append(&e).unwrap();
        }
        b.commit().unwrap();
        let p = s.population().unwrap();
        assert_eq!(p.people.len(), 1);
        assert_eq!(p.events[0].len(), 23);
    }

    #[test]
    fn opening_a_missing_ledger_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let Err(e) = SqliteStore::open(&dir.path().join("none.db"), MasterKey::generate()) else {
            panic!("opened a missing ledger")
        };
        assert!(e.to_string().contains("rapport init"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_ledger_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        std::fs::write(
            &path,
            b"this is not sqlite at all, just text padding it out to a page or so",
        )
        .unwrap();
        assert!(SqliteStore::open(&path, MasterKey::generate()).is_err());
    }
}
