//! Imports: one transaction per batch, rows written 64 to an INSERT, sealed text and new
//! person keys written with the events they belong to.

use std::collections::HashMap;

use domain::NewEvent;
use domain::PersonId;
use rusqlite::{Connection, OptionalExtension, params};

use super::scripts::{self, NewAnswers};
use super::{IMPORT_CACHE_KIB, SqliteStore};
use crate::columns::Columns;
use domain::Timestamp;

use crate::vault::{self, SealAhead, Sealed, Vault};
use crate::{Batch, BatchSummary, StoreError};
/// Starts an import on `store`: a transaction on the ledger and on the vault.
///
/// `lock` is the writer lock (one writer at a time; whoever holds the ledger is named to
/// whoever finds it taken), held until the batch ends.
pub(super) fn begin<'a>(
    store: &'a mut SqliteStore,
    origin: &str,
    lock: super::WriterLock,
) -> Result<Box<dyn Batch + 'a>, StoreError> {
    let tombstone_key = store.tombstone_key()?;
    store.vault.begin()?;
    if let Err(e) = store.conn.execute_batch("BEGIN IMMEDIATE") {
        store.vault.rollback();
        return Err(e.into());
    }
    // Inside the transaction, so that no forgetting can slip in between.
    let loaded = store
        .load_people()
        .and_then(|()| SqliteStore::tombstone_set(&store.conn));
    let tombstones = match loaded {
        Ok(t) => t,
        Err(e) => {
            let _ = store.conn.execute_batch("ROLLBACK");
            store.vault.rollback();
            return Err(e);
        }
    };
    let SqliteStore {
        conn,
        vault,
        people,
        ..
    } = store;
    let conn: &Connection = conn;
    let prepared = (|| {
        // Imports touch index pages all over: give them a larger page cache, and keep it for
        // the connection's life (a connection that wrote once, like a server's writer, writes
        // again; shrinking the cache after each batch would throw away the pages it needs).
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
            // Another process (the server, the command line) may have added the person since
            // this store's list of people was read: then this finds their key instead.
            person: conn.prepare(
                "INSERT INTO people (id) VALUES (?1)
                 ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING pk",
            )?,
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
        _lock: lock,
        tombstones,
        tombstone_key,
        skipped: HashMap::new(),
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
        answers: NewAnswers::default(),
        done: false,
    }))
}

struct Statements<'a> {
    many: rusqlite::Statement<'a>,
    one: rusqlite::Statement<'a>,
    sealed: rusqlite::Statement<'a>,
    person: rusqlite::Statement<'a>,
    find: rusqlite::Statement<'a>,
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

/// An import in progress. It borrows the store's parts separately so that its prepared
/// statements live as long as the batch: preparing (or even looking up) a statement per
/// event costs more than the insert itself.
struct SqliteBatch<'a> {
    /// Held until the batch ends (after the rollback of `Drop`, fields drop last).
    _lock: super::WriterLock,
    /// Every tombstone, and the key they were made with: events of forgotten people are
    /// skipped, and counted by person in `skipped`.
    tombstones: std::collections::HashSet<super::tombstones::Mac>,
    tombstone_key: [u8; 32],
    skipped: HashMap<String, u64>,
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
    /// Answers added, grouped into scripts at commit.
    answers: NewAnswers,
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
    fn person_pk(&mut self, person: &PersonId) -> Result<i64, StoreError> {
        if let Some(pk) = self.people.get(person.as_str()) {
            return Ok(*pk);
        }
        let pk: i64 = self
            .insert_person
            .query_row(params![person.as_str()], |r| r.get(0))?;
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
            for (r, p) in self.pending.iter().enumerate() {
                bind(
                    &mut self.insert_many,
                    p,
                    &bodies[spans[r].clone()],
                    lines[r].as_deref(),
                    r * VALUES_PER_ROW,
                )?;
            }
            added += self.insert_many.raw_execute()?;
        } else {
            for (r, p) in self.pending.iter().enumerate() {
                bind(
                    &mut self.insert_one,
                    p,
                    &bodies[spans[r].clone()],
                    lines[r].as_deref(),
                    0,
                )?;
                added += self.insert_one.raw_execute()?;
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
                self.insert_sealed.execute(params![p.seq, blob])?;
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
    /// Whether `e` belongs to a forgotten person: then it is skipped and counted. Only people
    /// the ledger does not hold can be forgotten, so people it holds cost one map look-up.
    fn forgotten(&mut self, e: &NewEvent) -> bool {
        let person = e.person.as_str();
        if self.tombstones.is_empty() || self.people.contains_key(person) {
            return false;
        }
        if let Some(n) = self.skipped.get_mut(person) {
            *n += 1;
            return true;
        }
        if self
            .tombstones
            .contains(&super::tombstones::mac(&self.tombstone_key, person))
        {
            self.skipped.insert(person.to_owned(), 1);
            return true;
        }
        false
    }

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
    fn push(
        &mut self,
        e: NewEvent,
        sealed: Option<Vec<u8>>,
        shingles: Option<Vec<u64>>,
    ) -> Result<(), StoreError> {
        let person = self.person_pk(&e.person)?;
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
        s.forgotten = self.skipped.values().sum();
        s.forgotten_people = self.skipped.keys().cloned().collect();
        s.forgotten_people.sort();
        s
    }
}

impl Batch for SqliteBatch<'_> {
    fn append(&mut self, e: NewEvent) -> Result<(), StoreError> {
        if self.forgotten(&e) || self.known(&e)? {
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
        let shingles = scripts::answer_shingles(&e);
        self.push(e, sealed, shingles)
    }

    fn seal_ahead(&self) -> Result<SealAhead, StoreError> {
        self.vault.seal_ahead()
    }

    fn append_sealed(&mut self, e: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError> {
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
            self.vault.insert_wrapped(e.person.as_str(), wrapped)?;
        }
        if self.known(&e)? {
            return Ok(());
        }
        self.push(e, Some(sealed.blob), sealed.shingles)
    }

    fn summary(&mut self) -> Result<BatchSummary, StoreError> {
        self.flush()?;
        Ok(self.summary_now())
    }

    fn commit(mut self: Box<Self>) -> Result<BatchSummary, StoreError> {
        let result = (|| {
            self.flush()?;
            scripts::index(self.conn, std::mem::take(&mut self.answers))?;
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
            self.vault.commit()?;
            self.conn.execute_batch("COMMIT")?;
            Ok::<BatchSummary, StoreError>(s)
        })();
        match result {
            Ok(s) => {
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
