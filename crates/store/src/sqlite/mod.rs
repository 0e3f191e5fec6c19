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
use domain::{EventId, PersonId, Source, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::vault::{self, MasterKey, Vault};
use crate::{AuditEntry, Batch, FullEvent, Population, Store, StoreError, Totals};

mod access;
mod batch;
mod costs;
mod forget;
mod menu;
mod scan;
mod scripts;
mod tombstones;
mod writer;

pub(crate) use scripts::answer_shingles;
pub use tombstones::tombstone_mac;
pub use writer::WriterLock;

/// How long a connection waits for another one's write to finish before it reports the
/// ledger busy. Imports take the writer lock first (see [`WriterLock`]), so only short writes
/// (an audit entry, a token) ever wait here.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Page cache while importing (KiB), and otherwise. Reads scan the file once, so a large
/// cache would only hold pages nobody reads again — and costs memory the readings need.
pub(super) const IMPORT_CACHE_KIB: i64 = 262_144;
pub(super) const READ_CACHE_KIB: i64 = 65_536;

/// Migrations of the ledger file, applied in order on open; `PRAGMA user_version` records
/// how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_ledger.sql"),
    include_str!("../migrations/0002_fits.sql"),
    include_str!("../migrations/0003_access.sql"),
    include_str!("../migrations/0004_menu.sql"),
    include_str!("../migrations/0005_scripts.sql"),
    include_str!("../migrations/0006_catalogue.sql"),
    include_str!("../migrations/0007_script_words.sql"),
    include_str!("../migrations/0008_tombstones.sql"),
];

pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    vault: Vault,
    /// Person id → ledger key, filled on the first import, with the forgetting generation
    /// it was read at (forgetting elsewhere makes it stale).
    people: Option<HashMap<String, i64>>,
    people_generation: i64,
    /// The secret that tombstones are keyed with (see `tombstones.rs`), read when first needed.
    tombstone_key: std::sync::OnceLock<[u8; 32]>,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 0;",
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(())
}

/// A fresh identity for a ledger and its vault: 128 random bits in hex.
fn new_vault_id() -> String {
    use rand::RngCore;
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    hex::encode(id)
}

/// Refuses a vault that is not this ledger's own: a ledger and its vault carry the same
/// identity. A ledger and vault made before identities existed are given one together.
fn check_vault_identity(
    path: &Path,
    conn: &Connection,
    vault_path: &Path,
    vault: &Vault,
) -> Result<(), StoreError> {
    let ledger_id: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match (ledger_id, vault.id()?) {
        (Some(l), Some(v)) if l == v => Ok(()),
        (None, None) => {
            let id = new_vault_id();
            vault.set_id(&id)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('vault_id', ?1)",
                params![id],
            )?;
            Ok(())
        }
        _ => Err(StoreError::WrongVault {
            message: format!(
                "the key vault {} belongs to another ledger, not to {}: restore this ledger's own \
                 vault (the file taken with it in the same backup)",
                vault_path.display(),
                path.display()
            ),
        }),
    }
}

/// Says "read-only" plainly when a ledger that exists cannot be opened for writing.
fn read_only_or(path: &Path, e: rusqlite::Error) -> StoreError {
    read_only_or_store(path, e.into())
}

fn read_only_or_store(path: &Path, e: StoreError) -> StoreError {
    let cannot_write = |p: &Path| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(p)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir_read_only = std::fs::metadata(dir).is_ok_and(|m| m.permissions().readonly());
    let read_only = match &e {
        StoreError::ReadOnly { .. } => true,
        StoreError::Database(_) => cannot_write(path) || dir_read_only,
        _ => false,
    };
    match e {
        _ if read_only => StoreError::ReadOnly {
            message: format!(
                "the ledger {} is read-only here: rapport writes to it (the audit log, \
                     imports, migrations), to its vault and to their folder; check their \
                     permissions",
                path.display()
            ),
        },
        other => other,
    }
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
    /// Creates a new ledger at `path` (and its vault). Fails if a ledger or a vault is already
    /// there.
    pub fn create(path: &Path, master: MasterKey) -> Result<SqliteStore, StoreError> {
        if path.exists() {
            return Err(StoreError::NotALedger {
                message: format!("{} already exists", path.display()),
            });
        }
        let vault_path = SqliteStore::vault_path(path);
        // The vault first: a vault already there is refused before any ledger file is made.
        let id = new_vault_id();
        let vault = Vault::create(&vault_path, master, &id)?;
        let conn = Connection::open(path).map_err(|e| {
            let _ = std::fs::remove_file(&vault_path);
            StoreError::from(e)
        })?;
        configure(&conn)?;
        migrate(&conn)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('vault_id', ?1)",
            params![id],
        )?;
        SqliteStore::finish_open(path, conn, vault)
    }

    /// Opens an existing ledger with its own vault, running any migrations it lacks.
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
        )
        .map_err(|e| read_only_or(path, e))?;
        // A file that is not SQLite fails here, with SQLite's own "not a database" message.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| match StoreError::from(e) {
            StoreError::Database(e) => StoreError::NotALedger {
                message: format!("{} is not a rapport ledger ({e})", path.display()),
            },
            other => read_only_or_store(path, other),
        })?;
        configure(&conn).map_err(|e| read_only_or_store(path, e))?;
        migrate(&conn).map_err(|e| read_only_or_store(path, e))?;
        let vault_path = SqliteStore::vault_path(path);
        let vault = Vault::open(&vault_path, master)?;
        check_vault_identity(path, &conn, &vault_path, &vault)?;
        SqliteStore::finish_open(path, conn, vault)
    }

    fn finish_open(path: &Path, conn: Connection, vault: Vault) -> Result<SqliteStore, StoreError> {
        let mut store = SqliteStore {
            path: path.to_owned(),
            conn,
            vault,
            people: None,
            people_generation: 0,
            tombstone_key: std::sync::OnceLock::new(),
        };
        store.index_scripts_once()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Drops a person's key from this connection's cache (after they are forgotten elsewhere).
    pub fn evict_key(&mut self, person: &str) {
        self.vault.evict(person);
    }

    /// Drops every cached key (someone was forgotten elsewhere, and who is not known here).
    pub fn evict_all_keys(&mut self) {
        self.vault.evict_all();
    }

    /// The vault file of a ledger at `db`.
    pub fn vault_path(db: &Path) -> PathBuf {
        vault::sibling(db, "vault")
    }

    /// Reads the people map, or reads it again when someone was forgotten (or welcomed back)
    /// since it was read — by this connection or any other process.
    fn load_people(&mut self) -> Result<(), StoreError> {
        let generation = self.people_generation()?;
        if self.people.is_some() && generation == self.people_generation {
            return Ok(());
        }
        self.people_generation = generation;
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

impl Store for SqliteStore {
    fn batch(&mut self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError> {
        let lock = WriterLock::acquire(&self.path, &format!("importing {origin}"))?;
        batch::begin(self, origin, lock)
    }

    fn batch_waiting(
        &mut self,
        origin: &str,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn Batch + '_>, StoreError> {
        let what = format!("importing {origin}");
        let lock = loop {
            match WriterLock::try_acquire(&self.path, &what)? {
                Ok(lock) => break lock,
                Err(holder) => {
                    if !waiting(&holder.to_string()) {
                        return Err(writer::busy(&holder));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        };
        batch::begin(self, origin, lock)
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

    fn people(&self) -> Result<Vec<PersonId>, StoreError> {
        let mut people = Vec::new();
        let mut stmt = self.conn.prepare("SELECT id FROM people ORDER BY pk")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            people.push(PersonId::parse(id).map_err(|e| StoreError::Corrupt {
                message: format!("person id {id:?}: {e}"),
            })?);
        }
        Ok(people)
    }

    fn visit_events(&self, visit: &(dyn Fn(usize, &[Recorded]) + Sync)) -> Result<(), StoreError> {
        // People in key order; rank = place in that order, as `people()` lists them.
        let mut keys: Vec<i64> = Vec::new();
        {
            let mut stmt = self.conn.prepare("SELECT pk FROM people ORDER BY pk")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                keys.push(row.get(0)?);
            }
        }
        if keys.is_empty() {
            return Ok(());
        }
        // Two threads, each with its own read connection, take half of the people each:
        // decoding rows and computing readings cost more than reading the pages.
        let mid = keys.len() / 2;
        let path: &Path = &self.path;
        let keys: &[i64] = &keys;
        let (a, b) = std::thread::scope(|scope| {
            let first = scope.spawn(move || scan::scan_people(path, keys, 0, mid, visit));
            let second = scan::scan_people(path, keys, mid, keys.len(), visit);
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

    fn population(&self) -> Result<Population, StoreError> {
        let people = self.people()?;
        let slots: Vec<std::sync::Mutex<Vec<Recorded>>> = (0..people.len())
            .map(|_| std::sync::Mutex::new(Vec::new()))
            .collect();
        self.visit_events(&|rank, events| {
            if let Some(slot) = slots.get(rank)
                && let Ok(mut s) = slot.lock()
            {
                *s = events.to_vec();
            }
        })?;
        let events = slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_default())
            .collect();
        Ok(Population { people, events })
    }

    fn events_of(&self, person: &PersonId) -> Result<Option<Vec<Recorded>>, StoreError> {
        match self.person_key(person)? {
            None => Ok(None),
            Some(pk) => scan::person_events(&self.conn, pk).map(Some),
        }
    }

    fn event_id(
        &self,
        person: &PersonId,
        seq: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        let Some(pk) = self.person_key(person)? else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached("SELECT source, id FROM events WHERE person = ?1 AND seq = ?2")?
            .query_row(params![pk, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn history(&mut self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        let Some(pk) = self.person_key(person)? else {
            return Ok(None);
        };
        // A damaged key is reported on the card, like a field that does not open.
        let key = self.vault.get(person.as_str());
        let key_broken = key.is_err();
        let key = key.ok().flatten();
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.source, e.seq, e.at, e.kind, e.body, e.lines, e.id, s.blob
             FROM events e LEFT JOIN sealed s ON s.seq = e.seq
             WHERE e.person = ?1 ORDER BY e.at, e.seq",
        )?;
        let mut rows = stmt.query(params![pk])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let source: String = row.get(0)?;
            let (seq, recorded) = scan::decode_full_row(row)?;
            let id: String = row.get(6)?;
            let sealed: Option<Vec<u8>> = row.get(7)?;
            // One field that does not open must not hide the rest of the card: it is shown
            // as unavailable and the card says why.
            let (personal, unreadable) = match (sealed, &key) {
                (Some(blob), Some(k)) => match vault::open_personal(k, &source, &id, &blob) {
                    Ok(p) => (Some(p), false),
                    Err(_) => (None, true),
                },
                (Some(_), None) => (None, key_broken),
                (None, _) => (None, false),
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
                unreadable,
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

impl crate::Scripts for SqliteStore {
    fn scripted(&self) -> Result<domain::scripts::Scripted, StoreError> {
        SqliteStore::scripted(self)
    }

    fn scripts(&mut self, limit: usize) -> Result<crate::ScriptsOverview, StoreError> {
        self.scripts_overview(limit)
    }

    fn regroup(&mut self) -> Result<crate::Regrouped, StoreError> {
        SqliteStore::regroup(self)
    }
}

impl crate::PersonData for SqliteStore {
    fn menu(&self) -> Result<Vec<crate::MenuItem>, StoreError> {
        self.menu_items()
    }

    fn menu_put(&mut self, item: &crate::MenuItem) -> Result<(), StoreError> {
        self.put_menu_item(item)
    }

    fn texts(
        &mut self,
        kind: domain::Kind,
    ) -> Result<Vec<(PersonId, Timestamp, String)>, StoreError> {
        Ok(self
            .sealed_of_kind(kind)?
            .into_iter()
            .filter_map(|(person, at, p)| Some((person, at, p.text?)))
            .collect())
    }

    fn forget(&mut self, person: &PersonId) -> Result<Option<crate::Forgotten>, StoreError> {
        self.forget_person(person)
    }

    fn welcome_back(&mut self, person: &PersonId) -> Result<bool, StoreError> {
        SqliteStore::welcome_back(self, person)
    }
}

impl crate::Costs for SqliteStore {
    fn catalogue_put(&mut self, catalogue: &domain::costs::Catalogue) -> Result<(), StoreError> {
        self.put_catalogue(catalogue)
    }

    fn catalogue(&self) -> Result<Option<domain::costs::Catalogue>, StoreError> {
        self.read_catalogue()
    }

    fn visit_orders(&self, visit: &mut dyn FnMut(&PersonId, &Recorded)) -> Result<(), StoreError> {
        self.scan_orders(visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatchSummary;
    use domain::NewEvent;

    use crate::vault::Sealed;

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
                b.append(e).unwrap();
            }
            let sum = b.commit().unwrap();
            if round == 0 {
                assert_eq!(
                    sum,
                    BatchSummary {
                        added: 23,
                        duplicates: 0,
                        ..Default::default()
                    }
                );
            } else {
                assert_eq!(
                    sum,
                    BatchSummary {
                        added: 0,
                        duplicates: 23,
                        ..Default::default()
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

    fn wish(i: usize) -> NewEvent {
        NewEvent::from_json_line(&format!(
            r#"{{"source":"s","id":"w{i}","kind":"wish.stated","person":"p{}","at":"2024-01-01T00:00:00Z","text":"wish number {i}"}}"#,
            i % 7
        ))
        .unwrap()
    }

    /// Each wish of [`wish`] opens in its person's history with the text it was written with.
    fn every_wish_opens_with_its_own_text(s: &mut SqliteStore) {
        for p in 0..7 {
            let h = s
                .history(&PersonId::parse(&format!("p{p}")).unwrap())
                .unwrap()
                .unwrap();
            for e in h {
                let text = e.personal.unwrap().text.unwrap();
                assert_eq!(text, format!("wish number {}", &e.id.as_str()[1..]));
            }
        }
    }

    #[test]
    fn duplicates_inside_a_group_of_rows_keep_every_sealed_text_with_its_own_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        let mut b = s.batch("first").unwrap();
        for i in (0..200).step_by(2) {
            b.append(wish(i)).unwrap();
        }
        assert_eq!(b.commit().unwrap().added, 100);
        // Old and new interleaved, more than one group's worth.
        let mut b = s.batch("second").unwrap();
        for i in 0..200 {
            b.append(wish(i)).unwrap();
        }
        let sum = b.commit().unwrap();
        assert_eq!(
            sum,
            BatchSummary {
                added: 100,
                duplicates: 100,
                ..Default::default()
            }
        );
        let sealed: i64 = s
            .conn
            .query_row("SELECT count(*) FROM sealed", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sealed, 200);
        every_wish_opens_with_its_own_text(&mut s);
    }

    #[test]
    fn events_sealed_ahead_on_another_thread_open_in_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        for round in 0..2 {
            let mut b = s.batch("ahead").unwrap();
            let mut sealer = b.seal_ahead().unwrap();
            let sealed: Vec<(NewEvent, Option<Sealed>)> = std::thread::scope(|t| {
                t.spawn(move || {
                    (0..150)
                        .map(|i| {
                            let e = wish(i + round * 75);
                            let sealed = sealer.seal(&e).unwrap();
                            (e, sealed)
                        })
                        .collect()
                })
                .join()
                .unwrap()
            });
            for (e, sealed) in sealed {
                b.append_sealed(e, sealed).unwrap();
            }
            let sum = b.commit().unwrap();
            assert_eq!(sum.added, if round == 0 { 150 } else { 75 });
        }
        every_wish_opens_with_its_own_text(&mut s);
    }

    #[test]
    fn a_dropped_batch_leaves_the_ledger_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path());
        {
            let mut b = s.batch("test").unwrap();
            for e in examples() {
                b.append(e).unwrap();
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
        b.append(examples().remove(0)).unwrap();
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
            b.append(e).unwrap();
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
            b.append(e).unwrap();
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
