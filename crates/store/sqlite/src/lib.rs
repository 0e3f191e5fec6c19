//! The embedded SQLite ledger: one database file, and the key vault in a second file beside
//! it (`rapport.db` and `rapport.db.vault`).
//!
//! Imports run in one transaction per file with cached prepared statements; the ledger uses
//! WAL with `synchronous = NORMAL`, which keeps every committed import across a crash of the
//! process and loses at most the last commits on a power cut — the usual trade for a local
//! analytical store whose inputs can be re-imported (imports are idempotent).
//!
//! One [`SqliteStore`] is shared by every thread of a process: changes go through one writer
//! connection, reads through a few read connections beside it (`conns.rs`), and whole-ledger
//! scans through connections of their own. Between processes, one writer at a time holds the
//! writer lock (`writer.rs`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use domain::readings::Recorded;
use domain::{EventId, PersonId, Source, Timestamp};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use store::keys::{self, Keyring};
use store::{AuditEntry, Batch, FullEvent, MasterKey, Store, StoreError, Totals};

mod access;
mod bank;
mod batch;
mod conns;
mod costs;
pub mod error;
mod fits;
mod forget;
mod kept;
mod menu;
mod scan;
mod scripts;
mod shards;
mod tombstones;
mod vault;
mod writer;

use conns::Conns;
use error::{Error, Result, run};
use vault::Vault;
pub use writer::WriterLock;

/// How long a connection waits for another one's write to finish before it reports the
/// ledger busy. Imports take the writer lock first (see [`WriterLock`]), so only short writes
/// (an audit entry, a token) ever wait here.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Page cache while importing (KiB), and otherwise. Reads scan the file once, so a large
/// cache would only hold pages nobody reads again — and costs memory the readings need.
pub(crate) const IMPORT_CACHE_KIB: i64 = 262_144;
pub(crate) const READ_CACHE_KIB: i64 = 65_536;

/// Migrations of the ledger file, applied in order on open; `PRAGMA user_version` records
/// how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_ledger.sql"),
    include_str!("migrations/0002_fits.sql"),
    include_str!("migrations/0003_access.sql"),
    include_str!("migrations/0004_menu.sql"),
    include_str!("migrations/0005_scripts.sql"),
    include_str!("migrations/0006_catalogue.sql"),
    include_str!("migrations/0007_script_words.sql"),
    include_str!("migrations/0008_tombstones.sql"),
    include_str!("migrations/0009_script_wordings.sql"),
    include_str!("migrations/0010_kept.sql"),
    include_str!("migrations/0011_person_source_id.sql"),
    include_str!("migrations/0012_bank.sql"),
    include_str!("migrations/0013_fit_covariance.sql"),
];

/// Person id → ledger key, with the forgetting generation it was read at (forgetting
/// elsewhere makes it stale).
#[derive(Default)]
pub(crate) struct People {
    pub(crate) map: Option<HashMap<String, i64>>,
    pub(crate) generation: i64,
}

pub struct SqliteStore {
    path: PathBuf,
    conns: Conns,
    vault: Arc<Vault>,
    keys: Arc<Keyring>,
    people: Mutex<People>,
    /// The secret that tombstones are keyed with (see `tombstones.rs`), read when first needed.
    tombstone_key: OnceLock<[u8; 32]>,
}

fn configure(conn: &Connection) -> Result<()> {
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

/// A read connection to the ledger file.
fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{READ_CACHE_KIB}"))?;
    Ok(conn)
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
) -> Result<()> {
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
        }
        .into()),
    }
}

/// Says "read-only" plainly when a ledger that exists cannot be opened for writing.
fn read_only_or(path: &Path, e: Error) -> StoreError {
    let e = StoreError::from(e);
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
        StoreError::Database { .. } => cannot_write(path) || dir_read_only,
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

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NotALedger {
            message: format!(
                "this ledger was written by a newer rapport (schema {version}, this one knows {known})"
            ),
        }
        .into());
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
        run(|| {
            // The vault first: a vault already there is refused before any ledger file is made.
            let id = new_vault_id();
            let vault = Vault::create(&vault_path, &master, &id)?;
            let conn = Connection::open(path).inspect_err(|_| {
                let _ = std::fs::remove_file(&vault_path);
            })?;
            configure(&conn)?;
            migrate(&conn)?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('vault_id', ?1)",
                params![id],
            )?;
            SqliteStore::finish_open(path, conn, vault, master)
        })
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
        .map_err(|e| read_only_or(path, e.into()))?;
        // A file that is not SQLite fails here, with SQLite's own "not a database" message.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| match error::sql(e) {
            StoreError::Database { message } => StoreError::NotALedger {
                message: format!("{} is not a rapport ledger ({message})", path.display()),
            },
            other => read_only_or(path, other.into()),
        })?;
        configure(&conn).map_err(|e| read_only_or(path, e))?;
        migrate(&conn).map_err(|e| read_only_or(path, e))?;
        run(|| {
            let vault_path = SqliteStore::vault_path(path);
            let vault = Vault::open(&vault_path, &master)?;
            check_vault_identity(path, &conn, &vault_path, &vault)?;
            SqliteStore::finish_open(path, conn, vault, master)
        })
    }

    fn finish_open(
        path: &Path,
        conn: Connection,
        vault: Vault,
        master: MasterKey,
    ) -> Result<SqliteStore> {
        let vault = Arc::new(vault);
        let keys = Arc::new(Keyring::new(master, Box::new(vault::Fetch(vault.clone()))));
        let store = SqliteStore {
            path: path.to_owned(),
            conns: Conns::new(path, conn, open_reader),
            vault,
            keys,
            people: Mutex::new(People::default()),
            tombstone_key: OnceLock::new(),
        };
        store.index_scripts_once()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault file of a ledger at `db`.
    pub fn vault_path(db: &Path) -> PathBuf {
        keys::sibling(db, "vault")
    }

    /// The writer connection, for this crate's tests and for benchmarks that look inside.
    pub fn connection(&self) -> MutexGuard<'_, Connection> {
        self.conns.writer()
    }

    /// The people map as it stands in the ledger now: read again when someone was forgotten
    /// (or welcomed back) since it was read — by this process or any other. `conn` must be
    /// the connection of the caller's transaction.
    pub(crate) fn load_people<'a>(&'a self, conn: &Connection) -> Result<MutexGuard<'a, People>> {
        let mut people = match self.people.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = tombstones::people_generation(conn)?;
        if people.map.is_some() && generation == people.generation {
            return Ok(people);
        }
        people.generation = generation;
        let mut map = HashMap::new();
        let mut stmt = conn.prepare("SELECT pk, id FROM people")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            map.insert(row.get::<_, String>(1)?, row.get::<_, i64>(0)?);
        }
        people.map = Some(map);
        Ok(people)
    }

    /// Forgets the people map (after a forgetting through this store).
    pub(crate) fn drop_people(&self) {
        if let Ok(mut p) = self.people.lock() {
            p.map = None;
        }
    }

    fn person_key(conn: &Connection, person: &PersonId) -> Result<Option<i64>> {
        Ok(conn
            .prepare_cached("SELECT pk FROM people WHERE id = ?1")?
            .query_row(params![person.as_str()], |r| r.get(0))
            .optional()?)
    }

    fn history_in(&self, conn: &Connection, person: &PersonId) -> Result<Option<Vec<FullEvent>>> {
        let Some(pk) = SqliteStore::person_key(conn, person)? else {
            return Ok(None);
        };
        // A damaged key is reported on the card, like a field that does not open.
        let key = self.keys.key(person.as_str());
        let key_broken = key.is_err();
        let key = key.ok().flatten();
        let mut stmt = conn.prepare_cached(
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
                (Some(blob), Some(k)) => match keys::open_personal(k, &source, &id, &blob) {
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
}

impl Store for SqliteStore {
    fn batch(&self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError> {
        let lock = WriterLock::acquire(&self.path, &format!("importing {origin}"))?;
        run(|| batch::begin(self, origin, lock))
    }

    fn batch_waiting(
        &self,
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
        run(|| batch::begin(self, origin, lock))
    }

    fn totals(&self) -> Result<Totals, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let people: i64 = c.query_row("SELECT count(*) FROM people", [], |r| r.get(0))?;
                // What every import added, less what forgetting removed: counting the events
                // themselves reads the whole ledger (a second at ten million).
                let events: i64 = c.query_row(
                    "SELECT (SELECT coalesce(sum(added), 0) FROM imports)
                          - (SELECT coalesce(sum(events), 0) FROM forgotten)",
                    [],
                    |r| r.get(0),
                )?;
                Ok(Totals {
                    people: people as u64,
                    events: events as u64,
                })
            })
        })
    }

    fn people(&self) -> Result<Vec<PersonId>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut people = Vec::new();
                let mut stmt = c.prepare("SELECT id FROM people ORDER BY pk")?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                    people.push(PersonId::parse(id).map_err(|e| StoreError::Corrupt {
                        message: format!("person id {id:?}: {e}"),
                    })?);
                }
                Ok(people)
            })
        })
    }

    fn visit_events(&self, visit: &(dyn Fn(usize, &[Recorded]) + Sync)) -> Result<(), StoreError> {
        run(|| {
            // People in key order; rank = place in that order, as `people()` lists them.
            let keys: Vec<i64> = self.conns.read(|c| {
                let mut keys = Vec::new();
                let mut stmt = c.prepare("SELECT pk FROM people ORDER BY pk")?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    keys.push(row.get(0)?);
                }
                Ok(keys)
            })?;
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
                    }
                    .into())
                });
                (first, second)
            });
            a?;
            b
        })
    }

    fn events_of(&self, person: &PersonId) -> Result<Option<Vec<Recorded>>, StoreError> {
        run(|| {
            self.conns
                .read(|c| match SqliteStore::person_key(c, person)? {
                    None => Ok(None),
                    Some(pk) => scan::person_events(c, pk).map(Some),
                })
        })
    }

    fn event_id(
        &self,
        person: &PersonId,
        seq: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let Some(pk) = SqliteStore::person_key(c, person)? else {
                    return Ok(None);
                };
                Ok(c.prepare_cached(
                    "SELECT source, id FROM events WHERE person = ?1 AND seq = ?2",
                )?
                .query_row(params![pk, seq], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
            })
        })
    }

    fn history(&self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        run(|| self.conns.read(|c| self.history_in(c, person)))
    }

    fn audit(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError> {
        run(|| {
            self.conns
                .writer()
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
        })
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(
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
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
        })
    }
}

impl store::Scripts for SqliteStore {
    fn scripted(&self) -> Result<domain::scripts::Scripted, StoreError> {
        run(|| self.scripted_answers())
    }

    fn scripted_of(&self, people: &[PersonId]) -> Result<domain::scripts::Scripted, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT a.seq FROM people p JOIN script_answers a ON a.person = p.pk
                     JOIN script_variants v ON v.id = a.variant JOIN scripts s ON s.id = v.script
                     WHERE p.id = ?1 AND s.people > {}",
                    domain::scripts::OTHERS
                ))?;
                let mut seqs = Vec::new();
                for p in people {
                    let rows = stmt.query_map([p.as_str()], |r| r.get::<_, i64>(0))?;
                    for r in rows {
                        seqs.push(r?);
                    }
                }
                Ok(domain::scripts::Scripted::new(seqs))
            })
        })
    }

    fn scripts(&self, limit: usize) -> Result<store::ScriptsOverview, StoreError> {
        run(|| self.scripts_overview(limit))
    }

    fn script_recipients(
        &self,
        script: i64,
        limit: usize,
    ) -> Result<Vec<store::Received>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT p.id, a.at, a.by FROM script_variants v
                     JOIN script_answers a ON a.variant = v.id JOIN people p ON p.pk = a.person
                     WHERE v.script = ?1 ORDER BY a.at DESC, a.seq DESC LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(rusqlite::params![script, limit as i64], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(p, at, by)| {
                        Some(store::Received {
                            person: PersonId::parse(&p).ok()?,
                            at: Timestamp::from_unix(at),
                            by,
                        })
                    })
                    .collect())
            })
        })
    }

    fn regroup(&self) -> Result<store::Regrouped, StoreError> {
        run(|| self.regroup_all())
    }
}

impl store::PersonData for SqliteStore {
    fn menu(&self) -> Result<Vec<store::MenuItem>, StoreError> {
        run(|| self.menu_items())
    }

    fn menu_put(&self, item: &store::MenuItem) -> Result<(), StoreError> {
        run(|| self.put_menu_item(item))
    }

    fn personal_of_kind(
        &self,
        kind: domain::Kind,
    ) -> Result<Vec<(PersonId, Timestamp, domain::Personal)>, StoreError> {
        run(|| self.sealed_of_kind(kind))
    }

    fn forget(&self, person: &PersonId) -> Result<Option<store::Forgotten>, StoreError> {
        run(|| self.forget_person(person))
    }

    fn welcome_back(&self, person: &PersonId) -> Result<bool, StoreError> {
        run(|| self.lift_tombstone(person))
    }

    fn tombstones_after(&self, seq: i64) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        run(|| self.conns.read(|c| tombstones::after(c, seq)))
    }

    fn latest_tombstone(&self) -> Result<i64, StoreError> {
        run(|| self.conns.read(tombstones::latest))
    }

    fn tombstone_key(&self) -> Result<[u8; 32], StoreError> {
        run(|| self.tombstone_secret())
    }
}

impl store::Costs for SqliteStore {
    fn catalogue_put(&self, catalogue: &domain::costs::Catalogue) -> Result<(), StoreError> {
        run(|| self.put_catalogue(catalogue))
    }

    fn catalogue(&self) -> Result<Option<domain::costs::Catalogue>, StoreError> {
        run(|| self.read_catalogue())
    }

    fn visit_orders(&self, visit: &mut dyn FnMut(&PersonId, &Recorded)) -> Result<(), StoreError> {
        run(|| self.scan_orders(visit))
    }
}

impl store::Admin for SqliteStore {
    fn describe(&self) -> String {
        format!("the SQLite ledger {}", self.path.display())
    }

    fn health(&self) -> Result<(), StoreError> {
        run(|| {
            self.conns
                .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))?;
            Ok(())
        })
    }

    fn keys(&self) -> &Arc<Keyring> {
        &self.keys
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                Ok(
                    c.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                        r.get(0)
                    })
                    .optional()?,
                )
            })
        })
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        run(|| {
            self.conns.writer().execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    fn rekey(&self, new: &MasterKey) -> Result<store::Rewrapped, StoreError> {
        let _lock = WriterLock::acquire(&self.path, "rapport rekey")?;
        run(|| {
            let n = self.vault.rekey(self.keys.master(), new)?;
            self.keys.evict(None);
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    //! What is SQLite's own; every behaviour the traits promise is tested once for every
    //! backend in the conformance suite (`crates/store/conformance`).
    use super::*;

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
