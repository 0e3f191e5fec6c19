//! Imports: one transaction per batch, holding the writer lock; rows sent in chunks with
//! `COPY … FROM STDIN (FORMAT binary)`; new people, their keys, sealed fields and the scripts
//! index written in the same transaction.
//!
//! Idempotent by `(person, source, id)` as on SQLite: a chunk is first copied straight into the
//! events table inside a savepoint; if any of its events is already in the ledger (the
//! unique index says so), the savepoint is rolled back and the chunk goes through a staging
//! table instead, `INSERT … ON CONFLICT DO NOTHING RETURNING seq` telling which events went
//! in (only those get their sealed fields and answers indexed). After a chunk with
//! duplicates the next goes straight to staging (re-imports of overlapping exports are
//! common); after one without, straight copying resumes.
//!
//! People's ledger keys and event numbers are handed out here, under the writer lock: the
//! people map is read (or brought up to date) when the batch starts, inside its transaction.
//!
//! A full chunk is handed to the client's runtime to be written while the importing thread
//! prepares the next: the server indexes one chunk while the next is parsed, sealed and
//! encoded. The chunk takes the batch's connection with it and gives it back when the next
//! chunk (or the commit) settles it; what went in is counted then. Everything is still one
//! transaction, so an error in any chunk fails the whole batch, as before.

use std::collections::{HashMap, HashSet};
use std::sync::MutexGuard;

use deadpool_postgres::Object;
use domain::{NewEvent, PersonId, Timestamp};
use futures_util::pin_mut;
use store::columns::Columns;
use store::keys::{self, Keyring, PersonKey, SealAhead, Sealed, Sealer};
use store::{Batch, BatchSummary, StoreError};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::error::{Error, Result};
use crate::forget::people_generation;
use crate::scripts::NewAnswers;
use crate::{People, PostgresStore, lock, meta};

/// An import that added at least this many events refreshes the planner's statistics.
const ANALYZE_AFTER: u64 = 10_000;

/// Events per COPY: large enough that a round trip costs nothing per event, small enough
/// that a chunk with a duplicate is cheap to send again through the staging table.
const CHUNK: usize = 8_192;

pub type Mac = [u8; 32];

const EVENT_TYPES: [Type; 9] = [
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::INT2,
    Type::INT8,
    Type::BYTEA,
    Type::TEXT,
    Type::INT8,
];
const EVENT_COLUMNS: &str = "(person, seq, source, id, kind, at, body, lines, batch)";

/// An event waiting to be written.
struct Pending {
    seq: i64,
    person: i64,
    event: NewEvent,
    sealed: Option<Vec<u8>>,
    shingles: Option<Vec<u64>>,
}

struct PgBatch<'a> {
    store: &'a PostgresStore,
    /// The connection, in its transaction; `None` once the batch has ended.
    conn: Option<Object>,
    people: MutexGuard<'a, People>,
    /// The tombstones: forgotten people's events are skipped and counted.
    screen: store::Screen,
    /// The batch's own key cache (see [`BatchKeys`]).
    keys: std::sync::Arc<Keyring>,
    made: HashMap<String, PersonKey>,
    sealer: Sealer,
    plain: Vec<u8>,
    next_pk: i64,
    /// People added since the last chunk was written: (pk, id).
    new_people: Vec<(i64, String)>,
    /// Keys made since the last chunk was written: (person, wrapped).
    new_keys: Vec<(String, Vec<u8>)>,
    pending: Vec<Pending>,
    /// The last chunk held duplicates: send the next through the staging table.
    expect_duplicates: bool,
    staging: bool,
    /// Some partitions are on other servers.
    spread: bool,
    route: Option<std::sync::Arc<crate::direct::Route>>,
    body: Vec<u8>,
    next_seq: i64,
    batch: i64,
    summary: BatchSummary,
    answers: NewAnswers,
    /// The people this batch wrote to, whose kept readings it marks at commit.
    touched: std::collections::HashSet<i64>,
    /// The chunk being written by the client's runtime while the next one is prepared; it
    /// holds the connection until [`PgBatch::settle`] takes it back.
    inflight: Option<tokio::task::JoinHandle<Written>>,
    /// Bank statement lines to record at commit, their details sealed.
    bank: Vec<(store::NewBankLine, Option<Vec<u8>>)>,
}

/// One chunk as sent: new people and keys, then the events, then the sealed fields of those
/// that were new. Owned, so that it can be written while the import prepares the next.
struct Chunk {
    pending: Vec<Pending>,
    new_people: Vec<(i64, String)>,
    new_keys: Vec<(String, Vec<u8>)>,
    bodies: Vec<Vec<u8>>,
    lines: Vec<Option<String>>,
    kinds: Vec<i16>,
    ats: Vec<i64>,
    batch: i64,
    expect_duplicates: bool,
    staging: bool,
    /// Some partitions are on other servers (see `put_rows`).
    spread: bool,
    /// The direct path to them, when every one takes prepared transactions (`direct`).
    route: Option<std::sync::Arc<crate::direct::Route>>,
    /// How many partitions each person-keyed table has.
    partitions: u32,
}

/// A chunk written (or not), with the connection it was written on.
struct Written {
    conn: Object,
    chunk: Chunk,
    /// The events that went in when some were already there (`None`: all of them), and
    /// whether the staging table now exists.
    result: Result<(Option<HashSet<i64>>, bool)>,
}

/// How many of an import's people are looked up in the vault one at a time, at least, before
/// every wrapped key is read at once: an API batch of a few hundred events asks for a few
/// keys, an import of a whole export for most of them (one query instead of a round trip
/// each). A round trip costs about what reading a hundred keys does, so with many people in
/// the vault the import must ask for a hundredth of them first.
const KEYS_ONE_BY_ONE: usize = 256;

/// Wrapped keys for one import: fetched one by one at first, then all at once. Exact while
/// the batch holds the writer lock, as only writers add keys (and the batch's own are in its
/// `made` maps).
struct BatchKeys {
    db: std::sync::Arc<crate::db::Db>,
    /// How many look-ups one at a time before reading them all.
    one_by_one: usize,
    asked: std::sync::atomic::AtomicUsize,
    all: std::sync::OnceLock<HashMap<String, Vec<u8>>>,
}

impl store::keys::WrappedKeys for BatchKeys {
    fn wrapped(&self, person: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(all) = self.all.get() {
            return Ok(all.get(person).cloned());
        }
        let db = &self.db;
        let asked = self
            .asked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if asked < self.one_by_one {
            return db
                .block_anywhere(async {
                    let c = db.get().await?;
                    let stmt = c
                        .prepare_cached("SELECT wrapped FROM rapport_vault.keys WHERE person = $1")
                        .await?;
                    Ok(c.query_opt(&stmt, &[&person]).await?.map(|r| r.get(0)))
                })
                .map_err(|e| db.place.error(e));
        }
        let all = db
            .block_anywhere(async {
                let c = db.get().await?;
                let rows = c
                    .query("SELECT person, wrapped FROM rapport_vault.keys", &[])
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
                    .collect::<HashMap<_, _>>())
            })
            .map_err(|e| db.place.error(e))?;
        Ok(self.all.get_or_init(|| all).get(person).cloned())
    }
}

/// Starts an import: a transaction holding the writer lock. While another writer holds it,
/// `waiting` is told who, every tenth of a second, and answers whether to go on waiting.
pub fn begin<'a>(
    store: &'a PostgresStore,
    origin: &str,
    waiting: &mut dyn FnMut(&str) -> bool,
) -> Result<Box<dyn Batch + 'a>, StoreError> {
    let tombstone_key = store.run(store.tombstone_secret())?;
    let what = format!("importing {origin}");
    let conn = lock::begin_locked(store, &what, waiting)?;
    let mut people = store.people_guard();
    let prepared = store.run(async {
        let c = &conn;
        // Inside the transaction and the lock, so no forgetting or other import slips in.
        let generation = people_generation(c).await?;
        let max_pk: i64 = c
            .query_one("SELECT coalesce(max(pk), 0) FROM rapport.people", &[])
            .await?
            .get(0);
        if people.map.is_none() || people.generation != generation {
            let rows = c.query("SELECT pk, id FROM rapport.people", &[]).await?;
            people.map = Some(
                rows.iter()
                    .map(|r| (r.get::<_, String>(1), r.get(0)))
                    .collect(),
            );
        } else if max_pk > people.max_pk {
            // Added by another process since: only those are read.
            let rows = c
                .query(
                    "SELECT pk, id FROM rapport.people WHERE pk > $1",
                    &[&people.max_pk],
                )
                .await?;
            let map = people.map.get_or_insert_with(HashMap::new);
            for r in rows {
                map.insert(r.get(1), r.get(0));
            }
        }
        people.generation = generation;
        people.max_pk = max_pk;
        let mut tombstones = HashSet::new();
        for r in c.query("SELECT mac FROM rapport.tombstones", &[]).await? {
            if let Ok(m) = Mac::try_from(r.get::<_, &[u8]>(0)) {
                tombstones.insert(m);
            }
        }
        let batch: i64 = c
            .query_one(
                "INSERT INTO rapport.imports (started_at, origin) VALUES ($1, $2) RETURNING batch",
                &[&Timestamp::now().unix(), &origin],
            )
            .await?
            .get(0);
        let next_seq = meta(c, "rapport.meta", "next_seq")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let spread = crate::shards::spread(c).await?;
        let route = if spread {
            // (An import that stopped halfway through its commit was settled with the lock.)
            crate::direct::open(store, c, batch)
                .await?
                .map(std::sync::Arc::new)
        } else {
            None
        };
        Ok((tombstones, batch, next_seq, max_pk, spread, route))
    });
    let (tombstones, batch, next_seq, max_pk, spread, route) = match prepared {
        Ok(p) => p,
        Err(e) => {
            people.map = None;
            lock::end(store, conn);
            return Err(e);
        }
    };
    let known_people = people.map.as_ref().map_or(0, HashMap::len);
    Ok(Box::new(PgBatch {
        store,
        conn: Some(conn),
        people,
        screen: store::Screen::new(tombstones, tombstone_key),
        keys: std::sync::Arc::new(Keyring::new(
            store.keys.master().clone(),
            Box::new(BatchKeys {
                db: store.db.clone(),
                one_by_one: KEYS_ONE_BY_ONE.max(known_people / 100),
                asked: std::sync::atomic::AtomicUsize::new(0),
                all: std::sync::OnceLock::new(),
            }),
        )),
        made: HashMap::new(),
        sealer: Sealer::default(),
        plain: Vec::with_capacity(512),
        next_pk: max_pk + 1,
        new_people: Vec::new(),
        new_keys: Vec::new(),
        pending: Vec::with_capacity(CHUNK),
        expect_duplicates: false,
        staging: false,
        spread,
        route,
        body: Vec::with_capacity(256),
        next_seq,
        batch,
        summary: BatchSummary::default(),
        answers: NewAnswers::default(),
        touched: Default::default(),
        inflight: None,
        bank: Vec::new(),
    }))
}

/// Sends `rows` through `COPY … FROM STDIN (FORMAT binary)`.
async fn copy_rows(
    c: &tokio_postgres::Client,
    sql: &str,
    types: &[Type],
    rows: impl Iterator<Item = Vec<&(dyn ToSql + Sync)>>,
) -> Result<u64> {
    let sink = c.copy_in(sql).await?;
    let writer = BinaryCopyInWriter::new(sink, types);
    pin_mut!(writer);
    for row in rows {
        writer.as_mut().write(&row).await?;
    }
    Ok(writer.finish().await?)
}

/// [`write_chunk`] on the direct path: each row to the server of its partition (`direct`).
async fn write_chunk_direct(
    c: &Object,
    chunk: &Chunk,
    route: &crate::direct::Route,
) -> Result<(Option<HashSet<i64>>, bool)> {
    let client = |at: Option<usize>| -> &tokio_postgres::Client {
        match at {
            None => c,
            Some(i) => &route.servers[i].1,
        }
    };
    let places: Vec<Option<usize>> = std::iter::once(None)
        .chain((0..route.servers.len()).map(Some))
        .collect();
    if !chunk.new_people.is_empty() {
        copy_rows(
            c,
            "COPY rapport.people (pk, id) FROM STDIN (FORMAT binary)",
            &[Type::INT8, Type::TEXT],
            chunk
                .new_people
                .iter()
                .map(|(pk, id)| vec![pk as &(dyn ToSql + Sync), id]),
        )
        .await?;
    }
    for &at in &places {
        let keys: Vec<&(String, Vec<u8>)> = chunk
            .new_keys
            .iter()
            .filter(|(p, _)| route.of_id(p) == at)
            .collect();
        if !keys.is_empty() {
            copy_rows(
                client(at),
                "COPY rapport_vault.keys (person, wrapped) FROM STDIN (FORMAT binary)",
                &[Type::TEXT, Type::BYTEA],
                keys.iter().map(|(p, w)| vec![p as &(dyn ToSql + Sync), w]),
            )
            .await?;
        }
    }
    let sources: Vec<&str> = chunk
        .pending
        .iter()
        .map(|p| p.event.source.as_str())
        .collect();
    let ids: Vec<&str> = chunk.pending.iter().map(|p| p.event.id.as_str()).collect();
    let mut added: Option<HashSet<i64>> = None;
    let mut all_seqs: HashSet<i64> = HashSet::new();
    for &at in &places {
        let mine: Vec<usize> = (0..chunk.pending.len())
            .filter(|&i| route.of_key(chunk.pending[i].person) == at)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let rows = || {
            mine.iter().map(|&i| {
                let p = &chunk.pending[i];
                vec![
                    &p.person as &(dyn ToSql + Sync),
                    &p.seq,
                    &sources[i],
                    &ids[i],
                    &chunk.kinds[i],
                    &chunk.ats[i],
                    &chunk.bodies[i],
                    &chunk.lines[i],
                    &chunk.batch,
                ]
            })
        };
        let to = client(at);
        let mut copied = false;
        if !chunk.expect_duplicates {
            to.batch_execute("SAVEPOINT chunk").await?;
            match copy_rows(
                to,
                &format!("COPY rapport.events {EVENT_COLUMNS} FROM STDIN (FORMAT binary)"),
                &EVENT_TYPES,
                rows(),
            )
            .await
            {
                Ok(_) => {
                    to.batch_execute("RELEASE SAVEPOINT chunk").await?;
                    copied = true;
                    all_seqs.extend(mine.iter().map(|&i| chunk.pending[i].seq));
                }
                Err(e) if e.is_unique_violation() => {
                    to.batch_execute("ROLLBACK TO SAVEPOINT chunk").await?;
                }
                Err(e) => return Err(e),
            }
        }
        if !copied {
            // As arrays, not through a temporary table: a transaction that touched one
            // cannot be prepared for the two-phase commit.
            let person: Vec<i64> = mine.iter().map(|&i| chunk.pending[i].person).collect();
            let seq: Vec<i64> = mine.iter().map(|&i| chunk.pending[i].seq).collect();
            let source: Vec<&str> = mine.iter().map(|&i| sources[i]).collect();
            let id: Vec<&str> = mine.iter().map(|&i| ids[i]).collect();
            let kind: Vec<i16> = mine.iter().map(|&i| chunk.kinds[i]).collect();
            let at: Vec<i64> = mine.iter().map(|&i| chunk.ats[i]).collect();
            let body: Vec<&[u8]> = mine.iter().map(|&i| chunk.bodies[i].as_slice()).collect();
            let lines: Vec<Option<&str>> =
                mine.iter().map(|&i| chunk.lines[i].as_deref()).collect();
            let went: Vec<i64> = to
                .query(
                    "INSERT INTO rapport.events (person, seq, source, id, kind, at, body, lines, batch)
                     SELECT p, s, so, i, k, a, b, l, $9
                     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],
                                 $5::smallint[], $6::bigint[], $7::bytea[], $8::text[])
                          AS r(p, s, so, i, k, a, b, l)
                     ORDER BY s
                     ON CONFLICT DO NOTHING RETURNING seq",
                    &[&person, &seq, &source, &id, &kind, &at, &body, &lines, &chunk.batch],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            added.get_or_insert_with(HashSet::new).extend(went);
        }
    }
    if let Some(a) = added.as_mut() {
        a.extend(all_seqs);
    }
    let is_new = |p: &Pending| added.as_ref().is_none_or(|a| a.contains(&p.seq));
    for &at in &places {
        let sealed: Vec<(i64, i64, &Vec<u8>)> = chunk
            .pending
            .iter()
            .filter(|p| is_new(p) && route.of_key(p.person) == at)
            .filter_map(|p| Some((p.person, p.seq, p.sealed.as_ref()?)))
            .collect();
        if !sealed.is_empty() {
            copy_rows(
                client(at),
                "COPY rapport.sealed (person, seq, blob) FROM STDIN (FORMAT binary)",
                &[Type::INT8, Type::INT8, Type::BYTEA],
                sealed
                    .iter()
                    .map(|(person, seq, blob)| vec![person as &(dyn ToSql + Sync), seq, blob]),
            )
            .await?;
        }
    }
    Ok((added, chunk.staging))
}

/// Sends `rows` into `table`: straight in with `COPY`, or, when some of its partitions are on
/// other servers, `COPY` into a temporary table and then one `INSERT … SELECT`. PostgreSQL 15
/// sends a `COPY` into a foreign partition one row per round trip (a thousand rows a
/// second); `postgres_fdw` sends an `INSERT`'s rows in batches (`batch_size`, set when a
/// server is added), some eighty thousand a second here.
async fn put_rows(
    c: &Object,
    table: &str,
    columns: &str,
    types: &[Type],
    rows: impl Iterator<Item = Vec<&(dyn ToSql + Sync)>>,
    spread: bool,
) -> Result<u64> {
    if !spread {
        return copy_rows(
            c,
            &format!("COPY {table} {columns} FROM STDIN (FORMAT binary)"),
            types,
            rows,
        )
        .await;
    }
    let temp = format!("rapport_in_{}", table.replace('.', "_"));
    c.batch_execute(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {table}) ON COMMIT DROP; TRUNCATE {temp};"
    ))
    .await?;
    copy_rows(
        c,
        &format!("COPY {temp} {columns} FROM STDIN (FORMAT binary)"),
        types,
        rows,
    )
    .await?;
    let list = columns.trim_start_matches('(').trim_end_matches(')');
    Ok(c.execute(
        &format!("INSERT INTO {table} {columns} SELECT {list} FROM {temp}"),
        &[],
    )
    .await?)
}

/// Writes one chunk inside the batch's transaction: new people and keys, the events (straight
/// into the table inside a savepoint, or through the staging table when some are already
/// there), then the sealed fields of the events that went in.
async fn write_chunk(c: &Object, chunk: &Chunk) -> Result<(Option<HashSet<i64>>, bool)> {
    if let Some(route) = &chunk.route {
        return write_chunk_direct(c, chunk, route).await;
    }
    let mut staging = chunk.staging;
    if !chunk.new_people.is_empty() {
        copy_rows(
            c,
            "COPY rapport.people (pk, id) FROM STDIN (FORMAT binary)",
            &[Type::INT8, Type::TEXT],
            chunk
                .new_people
                .iter()
                .map(|(pk, id)| vec![pk as &(dyn ToSql + Sync), id]),
        )
        .await?;
    }
    if !chunk.new_keys.is_empty() {
        put_rows(
            c,
            "rapport_vault.keys",
            "(person, wrapped)",
            &[Type::TEXT, Type::BYTEA],
            chunk
                .new_keys
                .iter()
                .map(|(p, w)| vec![p as &(dyn ToSql + Sync), w]),
            chunk.spread,
        )
        .await?;
    }
    if chunk.pending.is_empty() {
        return Ok((None, staging));
    }
    let sources: Vec<&str> = chunk
        .pending
        .iter()
        .map(|p| p.event.source.as_str())
        .collect();
    let ids: Vec<&str> = chunk.pending.iter().map(|p| p.event.id.as_str()).collect();
    // In partition order: PostgreSQL's COPY into a partitioned table buffers rows for a few
    // partitions at a time, and rows in random order made it flush far more often.
    let mut order: Vec<usize> = (0..chunk.pending.len()).collect();
    order.sort_by_key(|&i| crate::partition::of_key(chunk.pending[i].person, chunk.partitions));
    let rows = || {
        order.iter().map(|&i| {
            let p = &chunk.pending[i];
            vec![
                &p.person as &(dyn ToSql + Sync),
                &p.seq,
                &sources[i],
                &ids[i],
                &chunk.kinds[i],
                &chunk.ats[i],
                &chunk.bodies[i],
                &chunk.lines[i],
                &chunk.batch,
            ]
        })
    };
    let mut added: Option<HashSet<i64>> = None;
    let mut copied = false;
    if !chunk.expect_duplicates {
        c.batch_execute("SAVEPOINT chunk").await?;
        match put_rows(
            c,
            "rapport.events",
            EVENT_COLUMNS,
            &EVENT_TYPES,
            rows(),
            chunk.spread,
        )
        .await
        {
            Ok(_) => {
                c.batch_execute("RELEASE SAVEPOINT chunk").await?;
                copied = true;
            }
            Err(e) if e.is_unique_violation() => {
                c.batch_execute("ROLLBACK TO SAVEPOINT chunk").await?;
            }
            Err(e) => return Err(e),
        }
    }
    if !copied {
        if !staging {
            c.batch_execute(
                "CREATE TEMP TABLE rapport_staging (LIKE rapport.events) ON COMMIT DROP",
            )
            .await?;
            staging = true;
        } else {
            c.batch_execute("TRUNCATE rapport_staging").await?;
        }
        copy_rows(
            c,
            &format!("COPY rapport_staging {EVENT_COLUMNS} FROM STDIN (FORMAT binary)"),
            &EVENT_TYPES,
            rows(),
        )
        .await?;
        let rows = if chunk.spread {
            // Without RETURNING, which would make postgres_fdw send one row at a time: the
            // events that went in are those whose new ledger number is there now.
            c.execute(
                "INSERT INTO rapport.events SELECT * FROM rapport_staging ORDER BY seq
                 ON CONFLICT DO NOTHING",
                &[],
            )
            .await?;
            let people: Vec<i64> = chunk.pending.iter().map(|p| p.person).collect();
            let seqs: Vec<i64> = chunk.pending.iter().map(|p| p.seq).collect();
            c.query(
                "SELECT seq FROM rapport.events WHERE person = ANY($1) AND seq = ANY($2)",
                &[&people, &seqs],
            )
            .await?
        } else {
            c.query(
                "INSERT INTO rapport.events SELECT * FROM rapport_staging ORDER BY seq
                 ON CONFLICT DO NOTHING RETURNING seq",
                &[],
            )
            .await?
        };
        added = Some(rows.iter().map(|r| r.get(0)).collect());
    }
    let is_new = |p: &Pending| added.as_ref().is_none_or(|a| a.contains(&p.seq));
    let sealed: Vec<(i64, i64, &Vec<u8>)> = order
        .iter()
        .map(|&i| &chunk.pending[i])
        .filter(|p| is_new(p))
        .filter_map(|p| Some((p.person, p.seq, p.sealed.as_ref()?)))
        .collect();
    if !sealed.is_empty() {
        put_rows(
            c,
            "rapport.sealed",
            "(person, seq, blob)",
            &[Type::INT8, Type::INT8, Type::BYTEA],
            sealed
                .iter()
                .map(|(person, seq, blob)| vec![person as &(dyn ToSql + Sync), seq, blob]),
            chunk.spread,
        )
        .await?;
    }
    Ok((added, staging))
}

impl PgBatch<'_> {
    fn conn(&self) -> &Object {
        self.conn
            .as_ref()
            .expect("a batch has its connection until it ends")
    }

    fn map(&mut self) -> &mut HashMap<String, i64> {
        self.people.map.get_or_insert_with(HashMap::new)
    }

    fn person_pk(&mut self, person: &PersonId) -> i64 {
        if let Some(pk) = self.map().get(person.as_str()) {
            return *pk;
        }
        // The next key in the partition the id falls in (see `partition`).
        let pk =
            crate::partition::key_for(person.as_str(), self.next_pk - 1, self.store.partitions);
        self.next_pk = pk + 1;
        self.map().insert(person.as_str().to_owned(), pk);
        self.new_people.push((pk, person.as_str().to_owned()));
        pk
    }

    /// Whether `e` belongs to a forgotten person: then it is skipped and counted.
    fn forgotten(&mut self, e: &NewEvent) -> bool {
        let person = e.person.as_str();
        let held = self.map().contains_key(person);
        self.screen.skips(person, held)
    }

    fn key_for(&mut self, person: &str) -> Result<PersonKey> {
        if let Some(k) = self.made.get(person) {
            return Ok(k.clone());
        }
        if let Some(k) = self.keys.key(person)? {
            return Ok(k);
        }
        let (key, wrapped) = self.keys.master().new_wrapped(person)?;
        self.new_keys.push((person.to_owned(), wrapped));
        self.made.insert(person.to_owned(), key.clone());
        Ok(key)
    }

    fn push(
        &mut self,
        e: NewEvent,
        sealed: Option<Vec<u8>>,
        shingles: Option<Vec<u64>>,
    ) -> Result<()> {
        let person = self.person_pk(&e.person);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(Pending {
            seq,
            person,
            event: e,
            sealed,
            shingles,
        });
        if self.pending.len() == CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn append_now(&mut self, e: NewEvent) -> Result<()> {
        if self.forgotten(&e) {
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
            return self.push(e, None, None);
        };
        // A key made ahead is stored even if its event turns out to be a duplicate: later
        // events of the same person were sealed with it too.
        if let Some(wrapped) = sealed.new_key {
            self.new_keys.push((e.person.as_str().to_owned(), wrapped));
        }
        self.push(e, Some(sealed.blob), sealed.shingles)
    }

    /// Hands the pending events (with the new people and keys) to the client's runtime to be
    /// written, after the chunk before them is settled; this thread goes on preparing the
    /// next chunk meanwhile (the server indexing one chunk while the next is parsed, sealed
    /// and encoded, instead of each side waiting for the other).
    fn flush(&mut self) -> Result<()> {
        self.settle()?;
        if self.pending.is_empty() && self.new_people.is_empty() && self.new_keys.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        // Bodies encoded once, here, before the chunk leaves.
        let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(pending.len());
        let mut lines: Vec<Option<String>> = Vec::with_capacity(pending.len());
        let mut kinds: Vec<i16> = Vec::with_capacity(pending.len());
        let mut ats: Vec<i64> = Vec::with_capacity(pending.len());
        for p in &pending {
            let columns = Columns::of(&p.event.body);
            self.body.clear();
            columns.encode(&mut self.body);
            bodies.push(self.body.clone());
            lines.push(columns.lines.map(|l| l.into_owned()));
            kinds.push(i16::from(p.event.body.kind().code()));
            ats.push(p.event.at.unix());
        }
        self.pending = Vec::with_capacity(CHUNK);
        let chunk = Chunk {
            pending,
            new_people: std::mem::take(&mut self.new_people),
            new_keys: std::mem::take(&mut self.new_keys),
            bodies,
            lines,
            kinds,
            ats,
            batch: self.batch,
            expect_duplicates: self.expect_duplicates,
            staging: self.staging,
            spread: self.spread,
            route: self.route.clone(),
            partitions: self.store.partitions,
        };
        let conn = self
            .conn
            .take()
            .expect("a batch has its connection until it ends");
        self.inflight = Some(self.store.db.spawn(async move {
            let result = write_chunk(&conn, &chunk).await;
            Written {
                conn,
                chunk,
                result,
            }
        }));
        Ok(())
    }

    /// Waits for the chunk being written, takes the connection back and counts what went in.
    fn settle(&mut self) -> Result<()> {
        let Some(handle) = self.inflight.take() else {
            return Ok(());
        };
        let written = self
            .store
            .db
            .block(handle)
            .map_err(|e| StoreError::Database {
                message: format!("writing a chunk of the import failed: {e}"),
            })?;
        self.conn = Some(written.conn);
        let (added, staging) = written.result?;
        let chunk = written.chunk;
        self.staging = staging;
        self.expect_duplicates = added
            .as_ref()
            .is_some_and(|a| a.len() < chunk.pending.len());
        let is_new = |p: &Pending| added.as_ref().is_none_or(|a| a.contains(&p.seq));
        let mut n = 0u64;
        for p in chunk.pending {
            if !is_new(&p) {
                continue;
            }
            n += 1;
            self.touched.insert(p.person);
            if let (Some(shingles), domain::Body::ContactAnswered { by, .. }) =
                (p.shingles, &p.event.body)
            {
                self.answers
                    .add(p.seq, p.person, p.event.at.unix(), by.as_str(), shingles);
            }
        }
        self.summary.added += n;
        self.summary.duplicates += chunk.ats.len() as u64 - n;
        Ok(())
    }

    fn summary_now(&self) -> BatchSummary {
        let mut s = self.summary.clone();
        self.screen.tell(&mut s);
        s
    }

    fn commit_now(&mut self) -> Result<BatchSummary> {
        self.flush()?;
        self.settle()?;
        let s = self.summary_now();
        let answers = std::mem::take(&mut self.answers);
        let touched: Vec<i64> = self.touched.drain().collect();
        let bank = std::mem::take(&mut self.bank);
        let (batch, next_seq) = (self.batch, self.next_seq);
        let c = self.conn();
        self.store.db.block(async {
            if !answers.is_empty() {
                crate::kept::scripts_changed(c).await?;
            }
            crate::scripts::index(c, answers).await?;
            crate::kept::mark(c, &touched).await?;
            crate::bank::write(c, &bank, domain::Timestamp::now().unix()).await?;
            c.execute(
                "UPDATE rapport.imports SET added = $1, duplicates = $2 WHERE batch = $3",
                &[&(s.added as i64), &(s.duplicates as i64), &batch],
            )
            .await?;
            crate::set_meta(c, "rapport.meta", "next_seq", &next_seq.to_string()).await?;
            // Two-phase on the direct path: every other server promises first, the
            // coordinator's commit decides, then they commit (see `direct`).
            if let Some(route) = &self.route {
                route.prepare().await?;
                if let Err(e) = c.batch_execute("COMMIT").await {
                    route.finish(false).await;
                    return Err(e.into());
                }
                route.finish(true).await;
            } else {
                c.batch_execute("COMMIT").await?;
            }
            if s.added >= ANALYZE_AFTER {
                // Fresh statistics after a bulk load, before anyone plans a query on the new
                // rows: without them PostgreSQL took a card's fifty events for fifteen
                // thousand and read them with parallel workers, twenty times slower under load
                // (autovacuum gets there too, minutes later). Worth a second or two at the end
                // of a large import; a failure here loses nothing (autovacuum still comes), so
                // it is not the import's.
                // With partitions on other servers, only what is here: analysing a parent
                // samples every foreign partition through the network (seconds), and each
                // server's own statistics are what plans the queries sent to it.
                let tables = if self.spread {
                    crate::shards::local_tables(c).await.unwrap_or_default()
                } else {
                    "rapport.events, rapport.sealed, rapport.script_answers, rapport_vault.keys"
                        .to_owned()
                };
                let _ = c
                    .batch_execute(&format!(
                        "ANALYZE rapport.people, rapport.script_variants, rapport.script_bands, \
                         rapport.scripts{}{tables}",
                        if tables.is_empty() { "" } else { ", " }
                    ))
                    .await;
                if let Some(route) = &self.route {
                    route.analyze().await;
                }
            }
            Ok::<_, Error>(())
        })?;
        self.conn = None;
        self.route = None;
        self.people.max_pk = self.next_pk - 1;
        for (person, key) in std::mem::take(&mut self.made) {
            self.store.keys.remember(&person, &key);
        }
        Ok(s)
    }

    fn rollback(&mut self) {
        if let Some(handle) = self.inflight.take()
            && let Ok(written) = self.store.db.block(handle)
        {
            self.conn = Some(written.conn);
        }
        // The other servers' parts end with their connections (not prepared: rolled back).
        self.route = None;
        if let Some(conn) = self.conn.take() {
            // People added in this batch must not stay in the map: read it again next time.
            self.people.map = None;
            lock::end(self.store, conn);
        }
    }
}

impl Batch for PgBatch<'_> {
    fn append(&mut self, e: NewEvent) -> Result<(), StoreError> {
        let r = self.append_now(e);
        r.map_err(|e| self.store.db.place.error(e))
    }

    fn seal_ahead(&self) -> Result<SealAhead, StoreError> {
        Ok(SealAhead::new(self.keys.clone()))
    }

    fn append_sealed(&mut self, e: NewEvent, sealed: Option<Sealed>) -> Result<(), StoreError> {
        let r = self.append_sealed_now(e, sealed);
        r.map_err(|e| self.store.db.place.error(e))
    }

    fn bank_lines(&mut self, lines: Vec<store::NewBankLine>) -> Result<(), StoreError> {
        // A waiting line's details are sealed with the ledger's own key, made in this batch
        // the first time (and written with its keys).
        let key = self
            .key_for(store::bank::BANK_KEY)
            .map_err(|e| self.store.db.place.error(e))?;
        for l in lines {
            let sealed = store::bank::seal_details(&mut self.sealer, &key, &l)?;
            self.bank.push((l, sealed));
        }
        Ok(())
    }

    fn summary(&mut self) -> Result<BatchSummary, StoreError> {
        let r = self.flush().and_then(|()| self.settle());
        r.map_err(|e| self.store.db.place.error(e))?;
        Ok(self.summary_now())
    }

    fn commit(mut self: Box<Self>) -> Result<BatchSummary, StoreError> {
        let result = self.commit_now();
        if result.is_err() {
            self.rollback();
        }
        result.map_err(|e| self.store.db.place.error(e))
    }
}

impl Drop for PgBatch<'_> {
    fn drop(&mut self) {
        self.rollback();
    }
}
