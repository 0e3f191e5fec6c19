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
use crate::vault::{self, MasterKey, SealAhead, Sealed, Vault};
use crate::{AuditEntry, Batch, BatchSummary, FullEvent, Population, Store, StoreError, Totals};

/// Page cache while importing (KiB), and otherwise. Reads scan the file once, so a large
/// cache would only hold pages nobody reads again — and costs memory the readings need.
const IMPORT_CACHE_KIB: i64 = 262_144;
const READ_CACHE_KIB: i64 = 65_536;

/// Migrations of the ledger file, applied in order on open; `PRAGMA user_version` records
/// how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_ledger.sql"),
    include_str!("migrations/0002_fits.sql"),
];

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
         PRAGMA mmap_size = 0;",
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

struct Statements<'a> {
    many: rusqlite::Statement<'a>,
    one: rusqlite::Statement<'a>,
    sealed: rusqlite::Statement<'a>,
    person: rusqlite::Statement<'a>,
    find: rusqlite::Statement<'a>,
}

/// Rows per multi-row INSERT: SQLite opens its cursors once per statement, so sending rows
/// in groups spares most of the per-row statement overhead (15 values a row, well under
/// SQLite's limit on bound parameters).
const ROWS_PER_INSERT: usize = 64;

/// An event waiting to be written, with its ledger number and sealed personal fields.
struct Pending {
    seq: i64,
    person: i64,
    event: NewEvent,
    sealed: Option<Vec<u8>>,
}

/// An import in progress. It borrows the store's parts separately so that its prepared
/// statements live as long as the batch: preparing (or even looking up) a statement per
/// event costs more than the insert itself.
struct SqliteBatch<'a> {
    conn: &'a Connection,
    vault: &'a mut Vault,
    people: &'a mut HashMap<String, i64>,
    insert_many: rusqlite::Statement<'a>,
    insert_one: rusqlite::Statement<'a>,
    insert_sealed: rusqlite::Statement<'a>,
    insert_person: rusqlite::Statement<'a>,
    find_event: rusqlite::Statement<'a>,
    /// The last group written held duplicates: check events before preparing them.
    expect_duplicates: bool,
    pending: Vec<Pending>,
    /// Reused buffer for the encoded bodies of the pending events.
    bodies: Vec<u8>,
    /// Reused buffer for the personal fields before sealing.
    plain: Vec<u8>,
    next_seq: i64,
    batch: i64,
    summary: BatchSummary,
    /// People added in this batch, removed from the cache again on rollback.
    new_people: Vec<String>,
    done: bool,
}

const EVENT_COLUMNS: &str = "(seq, source, id, person, kind, at, body, lines, batch)";
const VALUES_PER_ROW: usize = 9;

fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT OR IGNORE INTO events {EVENT_COLUMNS} VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..VALUES_PER_ROW {
            if c > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("?{}", r * VALUES_PER_ROW + c + 1));
        }
        sql.push(')');
    }
    sql
}

impl Store for SqliteStore {
    fn batch(&mut self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError> {
        self.load_people()?;
        self.vault.begin()?;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            self.vault.rollback();
            return Err(e.into());
        }
        let SqliteStore {
            conn,
            vault,
            people,
            ..
        } = self;
        let conn: &Connection = conn;
        let prepared = (|| {
            // Imports touch index pages all over: give them a larger page cache while they run.
            conn.execute_batch(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
            conn.execute(
                "INSERT INTO imports (started_at, origin) VALUES (?1, ?2)",
                params![Timestamp::now().unix(), origin],
            )?;
            let batch = conn.last_insert_rowid();
            let next_seq: i64 = conn
                .query_row(
                    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'next_seq'",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(1);
            let statements = Statements {
                many: conn.prepare(&insert_sql(ROWS_PER_INSERT))?,
                one: conn.prepare(&insert_sql(1))?,
                sealed: conn.prepare("INSERT INTO sealed (seq, blob) VALUES (?1, ?2)")?,
                person: conn.prepare("INSERT INTO people (id) VALUES (?1)")?,
                find: conn.prepare("SELECT 1 FROM events WHERE source = ?1 AND id = ?2")?,
            };
            Ok::<_, rusqlite::Error>((batch, next_seq, statements))
        })();
        let (batch, next_seq, st) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                vault.rollback();
                return Err(e.into());
            }
        };
        Ok(Box::new(SqliteBatch {
            conn,
            vault,
            people: people.get_or_insert_with(HashMap::new),
            insert_many: st.many,
            insert_one: st.one,
            insert_sealed: st.sealed,
            insert_person: st.person,
            find_event: st.find,
            expect_duplicates: false,
            pending: Vec::with_capacity(ROWS_PER_INSERT),
            bodies: Vec::with_capacity(ROWS_PER_INSERT * 64),
            plain: Vec::with_capacity(512),
            next_seq,
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
            let first = scope.spawn(move || scan_people(path, keys, 0, mid, visit));
            let second = scan_people(path, keys, mid, keys.len(), visit);
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

    fn history(&mut self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        let Some(pk) = self.person_key(person)? else {
            return Ok(None);
        };
        let key = self.vault.get(person.as_str())?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.source, e.seq, e.at, e.kind, e.body, e.lines, e.id, s.blob
             FROM events e LEFT JOIN sealed s ON s.seq = e.seq
             WHERE e.person = ?1 ORDER BY e.at, e.seq",
        )?;
        let mut rows = stmt.query(params![pk])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let source: String = row.get(0)?;
            let (seq, recorded) = decode_full_row(row)?;
            let id: String = row.get(6)?;
            let sealed: Option<Vec<u8>> = row.get(7)?;
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
fn scan_people(
    path: &Path,
    keys: &[i64],
    from: usize,
    to: usize,
    visit: &(dyn Fn(usize, &[Recorded]) + Sync),
) -> Result<(), StoreError> {
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
    let mut rank = from;
    let mut events: Vec<Recorded> = Vec::new();
    let finish = |rank: usize, events: &mut Vec<Recorded>| {
        domain::readings::sort_in_time(events);
        visit(rank, events);
        events.clear();
    };
    while let Some(row) = rows.next()? {
        let pk: i64 = row.get(0)?;
        if pk != keys[rank] {
            finish(rank, &mut events);
            // People without events are visited too, with none.
            rank += 1;
            while rank < to && keys[rank] < pk {
                visit(rank, &[]);
                rank += 1;
            }
            if rank >= to || keys[rank] != pk {
                return Err(StoreError::Corrupt {
                    message: format!("event of unknown person {pk}"),
                });
            }
        }
        let (_, recorded) = decode_row(row, 1)?;
        events.push(recorded);
    }
    finish(rank, &mut events);
    for r in rank + 1..to {
        visit(r, &[]);
    }
    Ok(())
}

fn decode_row(row: &rusqlite::Row<'_>, first: usize) -> Result<(i64, Recorded), StoreError> {
    decode_columns(row, first, false)
}

fn decode_full_row(row: &rusqlite::Row<'_>) -> Result<(i64, Recorded), StoreError> {
    decode_columns(row, 1, true)
}

impl SqliteBatch<'_> {
    fn person_pk(&mut self, person: &PersonId) -> Result<i64, StoreError> {
        if let Some(pk) = self.people.get(person.as_str()) {
            return Ok(*pk);
        }
        self.insert_person.execute(params![person.as_str()])?;
        let pk = self.conn.last_insert_rowid();
        self.people.insert(person.as_str().to_owned(), pk);
        self.new_people.push(person.as_str().to_owned());
        Ok(pk)
    }

    fn rollback(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let _ = self.conn.execute_batch("ROLLBACK");
        let _ = self
            .conn
            .execute_batch(&format!("PRAGMA cache_size = -{READ_CACHE_KIB}"));
        self.vault.rollback();
        for p in self.new_people.drain(..) {
            self.people.remove(&p);
        }
    }
}

impl SqliteBatch<'_> {
    /// Writes the pending events, then the sealed fields of those that were new.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = self.batch;
        let rows = self.pending.len();
        // Every row's body is encoded into one buffer first, so that all the rows of a
        // multi-row insert can be bound at once.
        self.bodies.clear();
        let mut spans = Vec::with_capacity(rows);
        for p in &self.pending {
            let start = self.bodies.len();
            Columns::of(&p.event.body).encode(&mut self.bodies);
            spans.push(start..self.bodies.len());
        }
        let bodies = &self.bodies;
        let bind = |stmt: &mut rusqlite::Statement<'_>,
                    p: &Pending,
                    body: &[u8],
                    base: usize|
         -> rusqlite::Result<()> {
            let e = &p.event;
            let lines = Columns::of(&e.body).lines;
            stmt.raw_bind_parameter(base + 1, p.seq)?;
            stmt.raw_bind_parameter(base + 2, e.source.as_str())?;
            stmt.raw_bind_parameter(base + 3, e.id.as_str())?;
            stmt.raw_bind_parameter(base + 4, p.person)?;
            stmt.raw_bind_parameter(base + 5, e.body.kind().code())?;
            stmt.raw_bind_parameter(base + 6, e.at.unix())?;
            stmt.raw_bind_parameter(base + 7, body)?;
            stmt.raw_bind_parameter(base + 8, lines.as_deref())?;
            stmt.raw_bind_parameter(base + 9, batch)?;
            Ok(())
        };
        let mut added = 0usize;
        if rows == ROWS_PER_INSERT {
            for (r, p) in self.pending.iter().enumerate() {
                bind(
                    &mut self.insert_many,
                    p,
                    &bodies[spans[r].clone()],
                    r * VALUES_PER_ROW,
                )?;
            }
            added += self.insert_many.raw_execute()?;
        } else {
            for (r, p) in self.pending.iter().enumerate() {
                bind(&mut self.insert_one, p, &bodies[spans[r].clone()], 0)?;
                added += self.insert_one.raw_execute()?;
            }
        }
        let all_new = added == rows;
        self.expect_duplicates = !all_new;
        for p in &self.pending {
            let Some(blob) = &p.sealed else { continue };
            // After a duplicate in the group, only events that really went in get their text.
            if !all_new {
                let exists: Option<i64> = self
                    .conn
                    .prepare_cached("SELECT seq FROM events WHERE person = ?1 AND seq = ?2")?
                    .query_row(params![p.person, p.seq], |r| r.get(0))
                    .optional()?;
                if exists.is_none() {
                    continue;
                }
            }
            self.insert_sealed.execute(params![p.seq, blob])?;
        }
        self.summary.added += added as u64;
        self.summary.duplicates += (rows - added) as u64;
        self.pending.clear();
        Ok(())
    }
}

impl SqliteBatch<'_> {
    /// Re-imports of overlapping exports are common: while the last group held duplicates,
    /// each event is looked up first, and a known one is counted and skipped here.
    fn known(&mut self, e: &NewEvent) -> Result<bool, StoreError> {
        if !self.expect_duplicates {
            return Ok(false);
        }
        let known = self
            .find_event
            .query_row(params![e.source.as_str(), e.id.as_str()], |_| Ok(()))
            .optional()?
            .is_some();
        if known {
            self.summary.duplicates += 1;
        }
        Ok(known)
    }

    /// Queues an event (with its sealed fields) for the next multi-row insert.
    fn push(&mut self, e: NewEvent, sealed: Option<Vec<u8>>) -> Result<(), StoreError> {
        let person = self.person_pk(&e.person)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(Pending {
            seq,
            person,
            event: e,
            sealed,
        });
        if self.pending.len() == ROWS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }
}

impl Batch for SqliteBatch<'_> {
    fn append(&mut self, e: NewEvent) -> Result<(), StoreError> {
        if self.known(&e)? {
            return Ok(());
        }
        let sealed = if e.personal.is_empty() {
            None
        } else {
            let key = self.vault.get_or_create(e.person.as_str())?;
            self.plain.clear();
            serde_json::to_writer(&mut self.plain, &e.personal).map_err(|err| {
                StoreError::Vault {
                    message: format!("encoding personal fields: {err}"),
                }
            })?;
            let aad = vault::aad(e.source.as_str(), e.id.as_str());
            Some(self.vault.sealer().seal(&key, &aad, &self.plain)?)
        };
        self.push(e, sealed)
    }

    fn seal_ahead(&self) -> Result<SealAhead, StoreError> {
        self.vault.seal_ahead()
    }

    fn append_sealed(&mut self, e: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError> {
        let Some(sealed) = sealed else {
            if self.known(&e)? {
                return Ok(());
            }
            return self.push(e, None);
        };
        // A key made ahead is stored even if its event turns out to be a duplicate: later
        // events of the same person were sealed with it too.
        if let Some(wrapped) = &sealed.new_key {
            self.vault.insert_wrapped(e.person.as_str(), wrapped)?;
        }
        if self.known(&e)? {
            return Ok(());
        }
        self.push(e, Some(sealed.blob))
    }

    fn summary(&mut self) -> Result<BatchSummary, StoreError> {
        self.flush()?;
        Ok(self.summary)
    }

    fn commit(mut self: Box<Self>) -> Result<BatchSummary, StoreError> {
        let result = (|| {
            self.flush()?;
            let s = self.summary;
            self.conn.execute(
                "UPDATE imports SET added = ?1, duplicates = ?2 WHERE batch = ?3",
                params![s.added as i64, s.duplicates as i64, self.batch],
            )?;
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('next_seq', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![self.next_seq.to_string()],
            )?;
            // Keys first: a key without events is harmless, events without their key are not.
            self.vault.commit()?;
            self.conn.execute_batch("COMMIT")?;
            Ok::<BatchSummary, StoreError>(s)
        })();
        match result {
            Ok(s) => {
                self.done = true;
                let _ = self
                    .conn
                    .execute_batch(&format!("PRAGMA cache_size = -{READ_CACHE_KIB}"));
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

    fn wish(i: usize) -> NewEvent {
        NewEvent::from_json_line(&format!(
            r#"{{"source":"s","id":"w{i}","kind":"wish.stated","person":"p{}","at":"2024-01-01T00:00:00Z","text":"wish number {i}"}}"#,
            i % 7
        ))
        .unwrap()
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
                duplicates: 100
            }
        );
        let sealed: i64 = s
            .conn
            .query_row("SELECT count(*) FROM sealed", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sealed, 200);
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
