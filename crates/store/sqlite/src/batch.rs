//! Imports: one transaction per batch, rows written 64 to an INSERT, sealed text and new
//! person keys written with the events they belong to.

use std::collections::HashMap;
use std::sync::MutexGuard;

use domain::{NewEvent, PersonId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use store::columns::Columns;
use store::keys::{self, Keyring, PersonKey, SealAhead, Sealed, Sealer};
use store::{Batch, BatchSummary, StoreError};

use crate::error::{Result, run};
use crate::scripts::{self, NewAnswers};
use crate::tombstones;
use crate::{IMPORT_CACHE_KIB, People, SqliteStore, WriterLock};

/// Starts an import on `store`: a transaction on the ledger and on the vault.
///
/// `lock` is the writer lock (one writer at a time; whoever holds the ledger is named to
/// whoever finds it taken), held until the batch ends.
pub(crate) fn begin<'a>(
    store: &'a SqliteStore,
    origin: &str,
    lock: WriterLock,
) -> Result<Box<dyn Batch + 'a>> {
    let tombstone_key = store.tombstone_secret()?;
    let vault = store.vault.conns.writer();
    vault.execute_batch("BEGIN IMMEDIATE")?;
    let conn = store.conns.writer();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let _ = vault.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    let prepared = (|| {
        // Inside the transaction, so that no forgetting can slip in between.
        let people = store.load_people(&conn)?;
        let tombstones = tombstones::all(&conn)?;
        // Imports touch index pages all over: give them a larger page cache, and keep it for
        // the connection's life (a connection that wrote once, like a server's writer, writes
        // again; shrinking the cache after each batch would throw away the pages it needs).
        conn.execute_batch(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
        conn.set_prepared_statement_cache_capacity(64);
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
        Ok((people, tombstones, batch, next_seq))
    })();
    let (people, tombstones, batch, next_seq) = match prepared {
        Ok(p) => p,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let _ = vault.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    Ok(Box::new(SqliteBatch {
        _lock: lock,
        screen: store::Screen::new(tombstones, tombstone_key),
        conn,
        vault,
        keys: store.keys.clone(),
        made: HashMap::new(),
        sealer: Sealer::default(),
        people,
        many_sql: insert_sql(ROWS_PER_INSERT),
        one_sql: insert_sql(1),
        expect_duplicates: false,
        pending: Vec::with_capacity(ROWS_PER_INSERT),
        bodies: Vec::with_capacity(ROWS_PER_INSERT * 64),
        plain: Vec::with_capacity(512),
        next_seq,
        batch,
        summary: BatchSummary::default(),
        new_people: Vec::new(),
        answers: NewAnswers::default(),
        touched: Default::default(),
        done: false,
    }))
}

/// Rows per multi-row INSERT: SQLite opens its cursors once per statement, so sending rows
/// in groups spares most of the per-row statement overhead (9 values a row, well under
/// SQLite's limit on bound parameters).
const ROWS_PER_INSERT: usize = 64;

/// An event waiting to be written, with its ledger number and sealed personal fields.
struct Pending {
    seq: i64,
    person: i64,
    event: NewEvent,
    sealed: Option<Vec<u8>>,
    /// An answer's shingles, for the index of scripts.
    shingles: Option<Vec<u64>>,
}

/// An import in progress. It holds the store's writer connections (ledger and vault, each in
/// its transaction) for its whole life; statements come from the connection's cache of
/// prepared statements, looked up once per group of rows or per new person.
struct SqliteBatch<'a> {
    /// Held until the batch ends (after the rollback of `Drop`, fields drop last).
    _lock: WriterLock,
    /// The tombstones: forgotten people's events are skipped and counted.
    screen: store::Screen,
    conn: MutexGuard<'a, Connection>,
    vault: MutexGuard<'a, Connection>,
    keys: std::sync::Arc<Keyring>,
    /// Keys made in this batch, not yet committed (so not in the shared cache).
    made: HashMap<String, PersonKey>,
    sealer: Sealer,
    people: MutexGuard<'a, People>,
    many_sql: String,
    one_sql: String,
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
    /// People added in this batch, removed from the map again on rollback.
    new_people: Vec<String>,
    /// Answers added, grouped into scripts at commit.
    answers: NewAnswers,
    /// The people this batch wrote to, whose kept readings it marks at commit.
    touched: std::collections::HashSet<i64>,
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

impl SqliteBatch<'_> {
    fn map(&mut self) -> &mut HashMap<String, i64> {
        self.people.map.get_or_insert_with(HashMap::new)
    }

    fn person_pk(&mut self, person: &PersonId) -> Result<i64> {
        if let Some(pk) = self.map().get(person.as_str()) {
            return Ok(*pk);
        }
        // Another process (the server, the command line) may have added the person since
        // the map was read: then this finds their key instead.
        let pk: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO people (id) VALUES (?1)
                 ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING pk",
            )?
            .query_row(params![person.as_str()], |r| r.get(0))?;
        self.map().insert(person.as_str().to_owned(), pk);
        self.new_people.push(person.as_str().to_owned());
        Ok(pk)
    }

    fn rollback(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let _ = self.conn.execute_batch("ROLLBACK");
        let _ = self.vault.execute_batch("ROLLBACK");
        for p in std::mem::take(&mut self.new_people) {
            self.map().remove(&p);
        }
    }
}

impl SqliteBatch<'_> {
    /// Writes the pending events, then the sealed fields of those that were new.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = self.batch;
        let rows = self.pending.len();
        // Every row's body is encoded into one buffer first, so that all the rows of a
        // multi-row insert can be bound at once.
        self.bodies.clear();
        let mut spans = Vec::with_capacity(rows);
        let mut lines = Vec::with_capacity(rows);
        for p in &self.pending {
            let start = self.bodies.len();
            let columns = Columns::of(&p.event.body);
            columns.encode(&mut self.bodies);
            spans.push(start..self.bodies.len());
            lines.push(columns.lines);
        }
        let bodies = &self.bodies;
        let bind = |stmt: &mut rusqlite::Statement<'_>,
                    p: &Pending,
                    body: &[u8],
                    lines: Option<&str>,
                    base: usize|
         -> rusqlite::Result<()> {
            let e = &p.event;
            stmt.raw_bind_parameter(base + 1, p.seq)?;
            stmt.raw_bind_parameter(base + 2, e.source.as_str())?;
            stmt.raw_bind_parameter(base + 3, e.id.as_str())?;
            stmt.raw_bind_parameter(base + 4, p.person)?;
            stmt.raw_bind_parameter(base + 5, e.body.kind().code())?;
            stmt.raw_bind_parameter(base + 6, e.at.unix())?;
            stmt.raw_bind_parameter(base + 7, body)?;
            stmt.raw_bind_parameter(base + 8, lines)?;
            stmt.raw_bind_parameter(base + 9, batch)?;
            Ok(())
        };
        let mut added = 0usize;
        if rows == ROWS_PER_INSERT {
            let mut many = self.conn.prepare_cached(&self.many_sql)?;
            for (r, p) in self.pending.iter().enumerate() {
                bind(
                    &mut many,
                    p,
                    &bodies[spans[r].clone()],
                    lines[r].as_deref(),
                    r * VALUES_PER_ROW,
                )?;
            }
            added += many.raw_execute()?;
        } else {
            let mut one = self.conn.prepare_cached(&self.one_sql)?;
            for (r, p) in self.pending.iter().enumerate() {
                bind(
                    &mut one,
                    p,
                    &bodies[spans[r].clone()],
                    lines[r].as_deref(),
                    0,
                )?;
                added += one.raw_execute()?;
            }
        }
        let all_new = added == rows;
        self.expect_duplicates = !all_new;
        for p in &mut self.pending {
            if p.sealed.is_none() && p.shingles.is_none() {
                continue;
            }
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
            if let Some(blob) = &p.sealed {
                self.conn
                    .prepare_cached("INSERT INTO sealed (seq, blob) VALUES (?1, ?2)")?
                    .execute(params![p.seq, blob])?;
            }
            if let (Some(shingles), domain::Body::ContactAnswered { by, .. }) =
                (p.shingles.take(), &p.event.body)
            {
                self.answers
                    .add(p.seq, p.person, p.event.at.unix(), by.as_str(), shingles);
            }
        }
        self.summary.added += added as u64;
        self.summary.duplicates += (rows - added) as u64;
        self.pending.clear();
        Ok(())
    }
}

impl SqliteBatch<'_> {
    /// Whether `e` belongs to a forgotten person: then it is skipped and counted.
    fn forgotten(&mut self, e: &NewEvent) -> bool {
        let person = e.person.as_str();
        let held = self.map().contains_key(person);
        self.screen.skips(person, held)
    }

    /// Re-imports of overlapping exports are common: while the last group held duplicates,
    /// each event is looked up first, and a known one is counted and skipped here.
    fn known(&mut self, e: &NewEvent) -> Result<bool> {
        if !self.expect_duplicates {
            return Ok(false);
        }
        // Someone not in the ledger yet has no events.
        let Some(&person) = self.map().get(e.person.as_str()) else {
            return Ok(false);
        };
        let known = self
            .conn
            .prepare_cached("SELECT 1 FROM events WHERE person = ?1 AND source = ?2 AND id = ?3")?
            .query_row(
                params![person, e.source.as_str(), e.id.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if known {
            self.summary.duplicates += 1;
        }
        Ok(known)
    }

    /// Queues an event (with its sealed fields) for the next multi-row insert.
    fn push(
        &mut self,
        e: NewEvent,
        sealed: Option<Vec<u8>>,
        shingles: Option<Vec<u64>>,
    ) -> Result<()> {
        let person = self.person_pk(&e.person)?;
        self.touched.insert(person);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(Pending {
            seq,
            person,
            event: e,
            sealed,
            shingles,
        });
        if self.pending.len() == ROWS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }
}

impl SqliteBatch<'_> {
    fn summary_now(&self) -> BatchSummary {
        let mut s = self.summary.clone();
        self.screen.tell(&mut s);
        s
    }
}

impl SqliteBatch<'_> {
    /// The person's key: made in this batch, or in the vault, or made now (and stored in the
    /// vault's transaction).
    fn key_for(&mut self, person: &str) -> Result<PersonKey> {
        if let Some(k) = self.made.get(person) {
            return Ok(k.clone());
        }
        if let Some(k) = self.keys.key(person)? {
            return Ok(k);
        }
        let (key, wrapped) = self.keys.master().new_wrapped(person)?;
        self.store_key(person, &wrapped)?;
        self.made.insert(person.to_owned(), key.clone());
        Ok(key)
    }

    fn store_key(&mut self, person: &str, wrapped: &[u8]) -> Result<()> {
        self.vault
            .prepare_cached("INSERT INTO keys (person, wrapped) VALUES (?1, ?2)")?
            .execute(params![person, wrapped])?;
        Ok(())
    }

    fn append_now(&mut self, e: NewEvent) -> Result<()> {
        if self.forgotten(&e) || self.known(&e)? {
            return Ok(());
        }
        let sealed = if e.personal.is_empty() {
            None
        } else {
            let key = self.key_for(e.person.as_str())?;
            keys::encode_personal(&e.personal, &mut self.plain)?;
            let aad = keys::aad(e.source.as_str(), e.id.as_str());
            Some(self.sealer.seal(&key, &aad, &self.plain)?)
        };
        let shingles = keys::answer_shingles(&e);
        self.push(e, sealed, shingles)
    }

    fn append_sealed_now(&mut self, e: NewEvent, sealed: Option<Sealed>) -> Result<()> {
        // Before anything is stored: not even the key sealed ahead for them.
        if self.forgotten(&e) {
            return Ok(());
        }
        let Some(sealed) = sealed else {
            if self.known(&e)? {
                return Ok(());
            }
            return self.push(e, None, None);
        };
        // A key made ahead is stored even if its event turns out to be a duplicate: later
        // events of the same person were sealed with it too.
        if let Some(wrapped) = &sealed.new_key {
            self.store_key(e.person.as_str(), wrapped)?;
        }
        if self.known(&e)? {
            return Ok(());
        }
        self.push(e, Some(sealed.blob), sealed.shingles)
    }

    fn commit_now(&mut self) -> Result<BatchSummary> {
        self.flush()?;
        let answers = std::mem::take(&mut self.answers);
        if !answers.is_empty() {
            crate::kept::scripts_changed(&self.conn)?;
        }
        scripts::index(&self.conn, answers)?;
        crate::kept::mark(&self.conn, self.touched.drain())?;
        let s = self.summary_now();
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
        self.vault.execute_batch("COMMIT")?;
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        for (person, key) in std::mem::take(&mut self.made) {
            self.keys.remember(&person, &key);
        }
        Ok(s)
    }
}

impl Batch for SqliteBatch<'_> {
    fn append(&mut self, e: NewEvent) -> Result<(), StoreError> {
        run(|| self.append_now(e))
    }

    fn seal_ahead(&self) -> Result<SealAhead, StoreError> {
        Ok(SealAhead::new(self.keys.clone()))
    }

    fn append_sealed(&mut self, e: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError> {
        run(|| self.append_sealed_now(e, sealed))
    }

    fn bank_lines(&mut self, lines: Vec<store::NewBankLine>) -> Result<(), StoreError> {
        run(|| {
            // Any waiting line's details are sealed with the ledger's own key, made in this
            // batch's vault transaction the first time.
            let key = self.key_for(store::bank::BANK_KEY)?;
            crate::bank::write(
                &self.conn,
                &mut self.sealer,
                &key,
                &lines,
                domain::Timestamp::now().unix(),
            )
        })
    }

    fn summary(&mut self) -> Result<BatchSummary, StoreError> {
        run(|| {
            self.flush()?;
            Ok(self.summary_now())
        })
    }

    fn commit(mut self: Box<Self>) -> Result<BatchSummary, StoreError> {
        let result = run(|| self.commit_now());
        if result.is_err() {
            self.rollback();
        }
        result
    }
}

impl Drop for SqliteBatch<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}
