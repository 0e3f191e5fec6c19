//! The index of scripted answers on PostgreSQL, kept up to date as answers are imported.
//!
//! The method is the SQLite backend's (`domain::scripts::group` against what the tables
//! hold, inside the import's transaction); what differs is how the tables are asked. One
//! round trip per look-up would cost a server round trip per band of every new answer, so
//! before grouping, everything the grouping can ask about — the variants with the new
//! answers' keys, the first variants under each of their band keys, and those candidates'
//! words — is fetched in three queries, and grouping runs against that in memory. New
//! variants, bands and answers are then written with `COPY`. A small import adds its answers
//! to their scripts' figures (and recounts the scripts it merged); a large one recounts every
//! script once, in one statement.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;
use domain::scripts::{self, Index, Scripted};
use domain::{Kind, Timestamp};
use futures_util::{StreamExt, pin_mut};
use store::keys::{PersonKey, open_personal};
use store::{ByCount, Regrouped, ScriptSummary, ScriptsOverview, StoreError};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::error::Result;
use crate::{PostgresStore, lock, set_meta};

/// Above this many answers, an import recomputes every script's figures instead of adding
/// its own to them (as the SQLite backend does).
const RECOUNT_ALL: usize = 2_000;

/// The meta key that says the index holds every answer of the ledger.
pub const INDEXED: &str = "scripts_indexed";

/// Answers of one import waiting to be grouped: identical words kept once.
#[derive(Default)]
pub struct NewAnswers {
    keys: HashMap<u64, u32>,
    sets: Vec<Vec<u64>>,
    wordings: Vec<u64>,
    rows: Vec<AnswerRow>,
}

struct AnswerRow {
    seq: i64,
    person: i64,
    at: i64,
    by: String,
    set: u32,
}

impl NewAnswers {
    /// Whether no answer with words was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds an answer by its words; one without words is never a script and is not indexed.
    pub fn add(&mut self, seq: i64, person: i64, at: i64, by: &str, words: Vec<u64>) {
        if words.is_empty() {
            return;
        }
        let key = scripts::variant_key(&words);
        let (sets, wordings) = (&mut self.sets, &mut self.wordings);
        let set = *self.keys.entry(key).or_insert_with(|| {
            wordings.push(scripts::wording_key(&words));
            sets.push(words);
            (sets.len() - 1) as u32
        });
        self.rows.push(AnswerRow {
            seq,
            person,
            at,
            by: by.to_owned(),
            set,
        });
    }
}

fn encode(set: &[u64]) -> Vec<u8> {
    set.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode(blob: &[u8]) -> Vec<u64> {
    blob.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect()
}

/// What the grouping may ask of the tables, fetched beforehand.
#[derive(Default)]
struct Fetched {
    variants: HashMap<u64, (i64, i64)>,
    /// The oldest variant of each wording asked for.
    wordings: HashMap<u64, i64>,
    bands: HashMap<u64, Vec<i64>>,
    words: HashMap<i64, (Vec<u64>, i64)>,
    /// Band keys the grouping asked for that were not fetched: fetched, and the grouping run
    /// again, until there are none.
    missing: Vec<u64>,
}

impl Index for Fetched {
    type Error = std::convert::Infallible;

    fn variant(&mut self, key: u64) -> Result<Option<(i64, i64)>, Self::Error> {
        Ok(self.variants.get(&key).copied())
    }

    fn band(&mut self, key: u64, limit: usize) -> Result<Vec<i64>, Self::Error> {
        match self.bands.get(&key) {
            Some(v) => Ok(v.iter().take(limit).copied().collect()),
            None => {
                self.missing.push(key);
                Ok(Vec::new())
            }
        }
    }

    fn words(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
        Ok(self.words.get(&variant).cloned())
    }

    fn wording(&mut self, key: u64) -> Result<Option<i64>, Self::Error> {
        Ok(self.wordings.get(&key).copied())
    }
}

/// Fetches what grouping `sets` will ask: the variants with their keys, the oldest variant of
/// each of their wordings, and the band keys of the first set of each wording not seen before
/// (the others join a variant of their wording by one comparison, `scripts::group`).
async fn fetch(c: &impl GenericClient, sets: &[Vec<u64>]) -> Result<Fetched> {
    let mut f = Fetched::default();
    let keys: Vec<i64> = sets
        .iter()
        .map(|s| scripts::variant_key(s) as i64)
        .collect();
    for r in c
        .query(
            "SELECT key, id, script FROM rapport.script_variants WHERE key = ANY($1)",
            &[&keys],
        )
        .await?
    {
        f.variants
            .insert(r.get::<_, i64>(0) as u64, (r.get(1), r.get(2)));
    }
    let unknown: Vec<(&Vec<u64>, u64)> = sets
        .iter()
        .filter(|s| !f.variants.contains_key(&scripts::variant_key(s)))
        .map(|s| (s, scripts::wording_key(s)))
        .collect();
    let mut wordings: Vec<i64> = unknown.iter().map(|(_, w)| *w as i64).collect();
    wordings.sort_unstable();
    wordings.dedup();
    for r in c
        .query(
            "SELECT DISTINCT ON (wording) wording, id, words, script
             FROM rapport.script_variants WHERE wording = ANY($1) ORDER BY wording, id",
            &[&wordings],
        )
        .await?
    {
        let id: i64 = r.get(1);
        f.wordings.insert(r.get::<_, i64>(0) as u64, id);
        f.words.insert(id, (decode(r.get(2)), r.get(3)));
    }
    let mut first: HashSet<u64> = HashSet::new();
    let bands: Vec<u64> = unknown
        .iter()
        .filter(|(_, w)| !f.wordings.contains_key(w) && first.insert(*w))
        .flat_map(|(s, _)| scripts::band_keys(s))
        .collect();
    fetch_bands(c, &mut f, bands).await?;
    Ok(f)
}

/// Fetches the first variants under each of these band keys, and their words.
async fn fetch_bands(c: &impl GenericClient, f: &mut Fetched, keys: Vec<u64>) -> Result<()> {
    let mut bands: Vec<i64> = keys
        .into_iter()
        .filter(|k| !f.bands.contains_key(k))
        .map(|k| k as i64)
        .collect();
    bands.sort_unstable();
    bands.dedup();
    if bands.is_empty() {
        return Ok(());
    }
    for &b in &bands {
        f.bands.insert(b as u64, Vec::new());
    }
    // The first variants under each band key, as an index in (key, variant) order gives them.
    for r in c
        .query(
            "SELECT key, variant FROM (
                 SELECT key, variant, row_number() OVER (PARTITION BY key ORDER BY variant) AS n
                 FROM rapport.script_bands WHERE key = ANY($1)) b
             WHERE n <= $2 ORDER BY key, variant",
            &[&bands, &(scripts::PER_BUCKET as i64)],
        )
        .await?
    {
        f.bands
            .entry(r.get::<_, i64>(0) as u64)
            .or_default()
            .push(r.get(1));
    }
    let mut candidates: Vec<i64> = f
        .bands
        .values()
        .flatten()
        .filter(|v| !f.words.contains_key(v))
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    if candidates.is_empty() {
        return Ok(());
    }
    for r in c
        .query(
            "SELECT id, words, script FROM rapport.script_variants WHERE id = ANY($1)",
            &[&candidates],
        )
        .await?
    {
        f.words.insert(r.get(0), (decode(r.get(1)), r.get(2)));
    }
    Ok(())
}

async fn copy<'a>(
    c: &deadpool_postgres::Object,
    sql: &str,
    types: &[Type],
    rows: impl Iterator<Item = Vec<&'a (dyn ToSql + Sync)>>,
) -> Result<()> {
    let sink = c.copy_in(sql).await?;
    let w = BinaryCopyInWriter::new(sink, types);
    pin_mut!(w);
    for row in rows {
        w.as_mut().write(&row).await?;
    }
    w.finish().await?;
    Ok(())
}

/// Groups an import's answers into the index, inside the import's transaction.
pub async fn index(c: &deadpool_postgres::Object, answers: NewAnswers) -> Result<()> {
    if answers.rows.is_empty() {
        return Ok(());
    }
    let next_id: i64 = c
        .query_one(
            "SELECT coalesce(max(id), 0) + 1 FROM rapport.script_variants",
            &[],
        )
        .await?
        .get(0);
    let mut fetched = fetch(c, &answers.sets).await?;
    let grouping = loop {
        let grouping = match scripts::group(&answers.sets, next_id, &mut fetched) {
            Ok(g) => g,
            Err(never) => match never {},
        };
        // A set that did not join its wording's variant after all searched bands that were
        // not fetched: fetch them and group again (grouping is a function of what it is told).
        if fetched.missing.is_empty() {
            break grouping;
        }
        let missing = std::mem::take(&mut fetched.missing);
        fetch_bands(c, &mut fetched, missing).await?;
    };
    let mut touched: HashSet<i64> = HashSet::new();
    let mut merged: HashMap<i64, i64> = HashMap::new();
    for (from, into) in &grouping.merges {
        c.execute(
            "UPDATE rapport.script_variants SET script = $2 WHERE script = $1",
            &[from, into],
        )
        .await?;
        c.execute("DELETE FROM rapport.scripts WHERE id = $1", &[from])
            .await?;
        merged.insert(*from, *into);
        touched.insert(*into);
    }
    if !grouping.new.is_empty() {
        let rows: Vec<(i64, i64, i64, i64, Vec<u8>)> = grouping
            .new
            .iter()
            .map(|v| {
                (
                    v.id,
                    v.key as i64,
                    v.script,
                    answers.wordings[v.set] as i64,
                    encode(&answers.sets[v.set]),
                )
            })
            .collect();
        copy(
            c,
            "COPY rapport.script_variants (id, key, script, wording, words) FROM STDIN (FORMAT binary)",
            &[Type::INT8, Type::INT8, Type::INT8, Type::INT8, Type::BYTEA],
            rows.iter()
                .map(|(a, b, s, w, x)| vec![a as &(dyn ToSql + Sync), b, s, w, x]),
        )
        .await?;
        let mut bands: Vec<(i64, i64)> = grouping
            .new
            .iter()
            .flat_map(|v| v.bands.iter().flatten().map(|b| (*b as i64, v.id)))
            .collect();
        bands.sort_unstable();
        bands.dedup();
        copy(
            c,
            "COPY rapport.script_bands (key, variant) FROM STDIN (FORMAT binary)",
            &[Type::INT8, Type::INT8],
            bands.iter().map(|(k, v)| vec![k as &(dyn ToSql + Sync), v]),
        )
        .await?;
    }
    let mut script_of: HashMap<i64, i64> = grouping.new.iter().map(|v| (v.id, v.script)).collect();
    for (id, script) in fetched.variants.values() {
        script_of.insert(*id, *merged.get(script).unwrap_or(script));
    }
    let mut rows: Vec<(i64, i64, i64, i64, &str)> = Vec::with_capacity(answers.rows.len());
    // Each new answer with its script, for counting.
    let mut counted: Vec<(i64, i64, i64)> = Vec::with_capacity(answers.rows.len());
    for row in &answers.rows {
        let Some(variant) = grouping.variant_of[row.set as usize] else {
            continue;
        };
        if let Some(script) = script_of.get(&variant) {
            counted.push((*script, row.person, row.at));
        }
        rows.push((row.person, row.seq, variant, row.at, &row.by));
    }
    // With partitions on other servers, through a temporary table and one INSERT, which
    // postgres_fdw sends in batches (a COPY would go one row per round trip).
    let spread = crate::shards::spread(c).await?;
    let into = if spread {
        c.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS rapport_in_answers (LIKE rapport.script_answers)
                 ON COMMIT DROP;
             TRUNCATE rapport_in_answers;",
        )
        .await?;
        "rapport_in_answers"
    } else {
        "rapport.script_answers"
    };
    copy(
        c,
        &format!("COPY {into} (person, seq, variant, at, by) FROM STDIN (FORMAT binary)"),
        &[Type::INT8, Type::INT8, Type::INT8, Type::INT8, Type::TEXT],
        rows.iter()
            .map(|(p, s, v, a, b)| vec![p as &(dyn ToSql + Sync), s, v, a, b]),
    )
    .await?;
    if spread {
        c.batch_execute("INSERT INTO rapport.script_answers SELECT * FROM rapport_in_answers")
            .await?;
    }
    if answers.rows.len() > RECOUNT_ALL {
        // A large import recounts every script once.
        c.batch_execute(&format!(
            "DELETE FROM rapport.scripts; INSERT INTO rapport.scripts {FIGURES} GROUP BY v.script"
        ))
        .await?;
        return Ok(());
    }
    // A small one counts what it adds (recounting a script sent to many thousands would cost
    // more than the import), and recounts only the scripts it merged.
    count_new(c, &counted, &answers.rows, &touched).await?;
    recount(c, &touched.into_iter().collect::<Vec<_>>()).await
}

/// Adds a small import's answers to their scripts' figures: one more answer each, one more
/// person for each person the script had not reached before, first and last moments widened.
/// Scripts in `skip` (merged into, recounted whole) are left alone.
async fn count_new(
    c: &impl GenericClient,
    counted: &[(i64, i64, i64)],
    rows: &[AnswerRow],
    skip: &HashSet<i64>,
) -> Result<()> {
    let Some(first_new) = rows.iter().map(|r| r.seq).min() else {
        return Ok(());
    };
    let mut persons: Vec<i64> = counted.iter().map(|(_, p, _)| *p).collect();
    persons.sort_unstable();
    persons.dedup();
    // Who each script reached before this import (answers are numbered in ledger order, so
    // the earlier ones are those below this import's first).
    let reached: HashSet<(i64, i64)> = c
        .query(
            "SELECT DISTINCT v.script, a.person FROM rapport.script_answers a
             JOIN rapport.script_variants v ON v.id = a.variant
             WHERE a.person = ANY($1) AND a.seq < $2",
            &[&persons, &first_new],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // script -> (new people, answers, first, last)
    let mut figures: HashMap<i64, (i64, i64, i64, i64)> = HashMap::new();
    let mut seen: HashSet<(i64, i64)> = HashSet::new();
    for &(script, person, at) in counted {
        if skip.contains(&script) {
            continue;
        }
        let f = figures.entry(script).or_insert((0, 0, at, at));
        if !reached.contains(&(script, person)) && seen.insert((script, person)) {
            f.0 += 1;
        }
        f.1 += 1;
        f.2 = f.2.min(at);
        f.3 = f.3.max(at);
    }
    let (mut ids, mut people, mut count, mut first, mut last) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (script, (p, n, f, l)) in figures {
        ids.push(script);
        people.push(p);
        count.push(n);
        first.push(f);
        last.push(l);
    }
    c.execute(
        "INSERT INTO rapport.scripts (id, people, answers, first_at, last_at)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
         ON CONFLICT (id) DO UPDATE SET people = rapport.scripts.people + excluded.people,
             answers = rapport.scripts.answers + excluded.answers,
             first_at = least(rapport.scripts.first_at, excluded.first_at),
             last_at = greatest(rapport.scripts.last_at, excluded.last_at)",
        &[&ids, &people, &count, &first, &last],
    )
    .await?;
    Ok(())
}

const FIGURES: &str = "SELECT v.script, count(DISTINCT a.person), count(*), min(a.at), max(a.at)
     FROM rapport.script_variants v JOIN rapport.script_answers a ON a.variant = v.id";

/// Recomputes the figures of the given scripts.
async fn recount(c: &impl GenericClient, scripts: &[i64]) -> Result<()> {
    if scripts.is_empty() {
        return Ok(());
    }
    c.execute(
        "DELETE FROM rapport.scripts WHERE id = ANY($1)",
        &[&scripts],
    )
    .await?;
    c.execute(
        &format!(
            "INSERT INTO rapport.scripts (id, people, answers, first_at, last_at)
             {FIGURES} WHERE v.script = ANY($1) GROUP BY v.script"
        ),
        &[&scripts],
    )
    .await?;
    Ok(())
}

/// Takes a forgotten person's answers out of the index (inside the forgetting's transaction).
pub async fn forget(c: &impl GenericClient, person: i64) -> Result<()> {
    let affected: Vec<(i64, i64)> = c
        .query(
            "SELECT DISTINCT a.variant, v.script FROM rapport.script_answers a
             JOIN rapport.script_variants v ON v.id = a.variant WHERE a.person = $1
             ORDER BY 1",
            &[&person],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    c.execute(
        "DELETE FROM rapport.script_answers WHERE person = $1",
        &[&person],
    )
    .await?;
    let mut touched = HashSet::new();
    for (variant, script) in affected {
        touched.insert(script);
        let still: bool = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM rapport.script_answers WHERE variant = $1)",
                &[&variant],
            )
            .await?
            .get(0);
        if still {
            continue;
        }
        let Some(gone) = c
            .query_opt(
                "DELETE FROM rapport.script_variants WHERE id = $1 RETURNING words, wording",
                &[&variant],
            )
            .await?
        else {
            continue;
        };
        let keys: Vec<i64> = scripts::band_keys(&decode(gone.get(0)))
            .iter()
            .map(|b| *b as i64)
            .collect();
        c.execute(
            "DELETE FROM rapport.script_bands WHERE key = ANY($1) AND variant = $2",
            &[&keys, &variant],
        )
        .await?;
        // A variant joined to an older one of its wording was not filed under its bands (they
        // are the older one's): the oldest that is left of the wording takes them now, so
        // that near-duplicates of other wordings still find it.
        let wording: i64 = gone.get(1);
        if let Some(oldest) = c
            .query_opt(
                "SELECT id, words FROM rapport.script_variants WHERE wording = $1
                 ORDER BY id LIMIT 1",
                &[&wording],
            )
            .await?
        {
            let id: i64 = oldest.get(0);
            let keys: Vec<i64> = scripts::band_keys(&decode(oldest.get(1)))
                .iter()
                .map(|b| *b as i64)
                .collect();
            c.execute(
                "INSERT INTO rapport.script_bands (key, variant)
                 SELECT k, $2 FROM unnest($1::bigint[]) AS k ON CONFLICT DO NOTHING",
                &[&keys, &id],
            )
            .await?;
        }
    }
    recount(c, &touched.into_iter().collect::<Vec<_>>()).await
}

/// One answer as read, before it is opened.
struct Raw {
    key: PersonKey,
    person: i64,
    seq: i64,
    at: i64,
    by: String,
    source: String,
    id: String,
    blob: Vec<u8>,
}

/// Answers opened and shingled together.
const CHUNK: usize = 16_384;

fn add_chunk(answers: &mut NewAnswers, chunk: Vec<Raw>) -> u64 {
    use rayon::prelude::*;
    let prepared: Vec<Vec<u64>> = chunk
        .par_iter()
        .map(|r| {
            // An answer that does not open cannot be judged: it is left out.
            open_personal(&r.key, &r.source, &r.id, &r.blob)
                .ok()
                .and_then(|p| p.text)
                .as_deref()
                .map(scripts::prepare)
                .unwrap_or_default()
        })
        .collect();
    let n = chunk.len() as u64;
    for (r, words) in chunk.into_iter().zip(prepared) {
        answers.add(r.seq, r.person, r.at, &r.by, words);
    }
    n
}

impl PostgresStore {
    /// Indexes the answers of a ledger whose index is not complete, once.
    pub(crate) fn index_scripts_once(&self) -> Result<(), StoreError> {
        let indexed = self.run(async {
            let c = self.db.get().await?;
            crate::meta(&c, "rapport.meta", INDEXED).await
        })?;
        if indexed.is_none() {
            self.regroup_all()?;
        }
        Ok(())
    }

    /// Rebuilds the index from every answer's sealed text, in one transaction.
    pub(crate) fn regroup_all(&self) -> Result<Regrouped, StoreError> {
        // Every answerer's key first (outside any query): the key cache fetches what it lacks.
        let people: Vec<(i64, String)> = self.run(async {
            let c = self.db.get().await?;
            Ok(c.query(
                "SELECT DISTINCT p.pk, p.id FROM rapport.people p
                     JOIN rapport.events e ON e.person = p.pk WHERE e.kind = $1",
                &[&i16::from(Kind::ContactAnswered.code())],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })?;
        let mut keys: HashMap<i64, PersonKey> = HashMap::new();
        for (pk, id) in people {
            if let Ok(Some(k)) = self.keys.key(&id) {
                keys.insert(pk, k);
            }
        }
        self.run(async {
            let c = self.db.get().await?;
            c.batch_execute("BEGIN").await?;
            let done = self.regroup_in(&c, &keys).await;
            let ended = match &done {
                Ok(_) => c.batch_execute("COMMIT").await,
                Err(_) => c.batch_execute("ROLLBACK").await,
            };
            if ended.is_err() {
                // A connection in an unknown state is closed, not returned to the pool.
                drop(deadpool_postgres::Object::take(c));
            }
            ended?;
            done
        })
    }

    /// [`PostgresStore::regroup_all`] inside its transaction on `tx`.
    async fn regroup_in(
        &self,
        tx: &deadpool_postgres::Object,
        keys: &HashMap<i64, PersonKey>,
    ) -> Result<Regrouped> {
        {
            if !lock::try_take(tx, "rapport scripts --regroup").await? {
                return Err(lock::busy(&lock::holder(&self.db.get().await?).await?).into());
            }
            crate::kept::scripts_changed(tx).await?;
            tx.batch_execute(
                "DELETE FROM rapport.script_answers; DELETE FROM rapport.script_bands;
                 DELETE FROM rapport.script_variants; DELETE FROM rapport.scripts;",
            )
            .await?;
            let mut answers = NewAnswers::default();
            let mut total = 0u64;
            let code = i16::from(Kind::ContactAnswered.code());
            let stream = tx
                .query_raw(
                    "SELECT e.person, e.seq, e.at, e.body, e.source, e.id, s.blob
                     FROM rapport.events e
                     JOIN rapport.sealed s ON s.person = e.person AND s.seq = e.seq
                     WHERE e.kind = $1 ORDER BY e.person, e.seq",
                    [&code as &(dyn ToSql + Sync)],
                )
                .await?;
            pin_mut!(stream);
            let mut chunk: Vec<Raw> = Vec::with_capacity(CHUNK);
            while let Some(row) = stream.next().await {
                let row = row?;
                let person: i64 = row.get(0);
                let Some(key) = keys.get(&person) else {
                    continue;
                };
                let by = store::columns::Columns::decode(row.get(3))
                    .and_then(|c| c.into_body(Kind::ContactAnswered, false).ok())
                    .and_then(|b| match b {
                        domain::Body::ContactAnswered { by, .. } => Some(by.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default();
                chunk.push(Raw {
                    key: key.clone(),
                    person,
                    seq: row.get(1),
                    at: row.get(2),
                    by,
                    source: row.get(4),
                    id: row.get(5),
                    blob: row.get(6),
                });
                if chunk.len() == CHUNK {
                    total += add_chunk(&mut answers, std::mem::take(&mut chunk));
                }
            }
            total += add_chunk(&mut answers, chunk);
            let with_text = answers.rows.len() as u64;
            let variants = answers.wordings.iter().collect::<HashSet<_>>().len() as u64;
            index(tx, answers).await?;
            set_meta(tx, "rapport.meta", INDEXED, "yes").await?;
            let scripts: i64 = tx
                .query_one(
                    "SELECT count(*) FROM rapport.scripts WHERE people > $1",
                    &[&(scripts::OTHERS as i64)],
                )
                .await?
                .get(0);
            Ok(Regrouped {
                answers: total,
                with_text,
                variants,
                scripts: scripts as u64,
            })
        }
    }

    pub(crate) fn scripted_answers(&self) -> Result<Scripted, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let seqs = c
                .query(
                    "SELECT a.seq FROM rapport.scripts s
                     JOIN rapport.script_variants v ON v.script = s.id
                     JOIN rapport.script_answers a ON a.variant = v.id WHERE s.people > $1",
                    &[&(scripts::OTHERS as i64)],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(Scripted::new(seqs))
        })
    }

    pub(crate) fn scripts_overview(&self, limit: usize) -> Result<ScriptsOverview, StoreError> {
        let others = scripts::OTHERS as i64;
        let (answers, scripted, count, listed) = self.run(async {
            let c = self.db.get().await?;
            let r = c
                .query_one(
                    "SELECT (SELECT count(*) FROM rapport.script_answers),
                            (SELECT coalesce(sum(answers), 0)::bigint FROM rapport.scripts WHERE people > $1),
                            (SELECT count(*) FROM rapport.scripts WHERE people > $1)",
                    &[&others],
                )
                .await?;
            let listed: Vec<(i64, i64, i64, i64, i64)> = c
                .query(
                    "SELECT id, people, answers, first_at, last_at FROM rapport.scripts
                     WHERE people > $2 ORDER BY people DESC, answers DESC, id LIMIT $1",
                    &[&(limit as i64), &others],
                )
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect();
            Ok((r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2), listed))
        })?;
        let mut list = Vec::with_capacity(listed.len());
        for (id, people, answers, first, last) in listed {
            let (by, variants, picked) = self.run(async {
                let c = self.db.get().await?;
                let by: Vec<ByCount> = c
                    .query(
                        "SELECT a.by, count(*) FROM rapport.script_variants v
                         JOIN rapport.script_answers a ON a.variant = v.id
                         WHERE v.script = $1 GROUP BY a.by ORDER BY 2 DESC, 1 LIMIT 5",
                        &[&id],
                    )
                    .await?
                    .iter()
                    .map(|r| ByCount {
                        by: r.get(0),
                        answers: r.get::<_, i64>(1) as u64,
                    })
                    .collect();
                let variants: i64 = c
                    .query_one(
                        "SELECT count(DISTINCT wording) FROM rapport.script_variants WHERE script = $1",
                        &[&id],
                    )
                    .await?
                    .get(0);
                Ok((by, variants, representative_rows(&c, id).await?))
            })?;
            let (text, text_people) = match picked {
                Some((rows, n)) => match self.representative_text(rows) {
                    Some(t) => (Some(t), n),
                    None => (None, 0),
                },
                None => (None, 0),
            };
            list.push(ScriptSummary {
                id,
                people: people as u64,
                answers: answers as u64,
                variants: variants as u64,
                first: Timestamp::from_unix(first),
                last: Timestamp::from_unix(last),
                by,
                text,
                text_people,
            });
        }
        Ok(ScriptsOverview {
            answers: answers as u64,
            scripted: scripted as u64,
            scripts: count as u64,
            list,
        })
    }

    /// Opens the picked answers and masks the first by comparing it with the others (see
    /// the SQLite backend's `representative`, which this follows).
    fn representative_text(
        &self,
        rows: Vec<(i64, String, String, String, Vec<u8>)>,
    ) -> Option<String> {
        let mut texts: Vec<(i64, String)> = Vec::with_capacity(rows.len());
        for (pk, person, source, id, blob) in rows {
            let Ok(Some(key)) = self.keys.key(&person) else {
                continue;
            };
            let Ok(personal) = open_personal(&key, &source, &id, &blob) else {
                continue;
            };
            if let Some(text) = personal.text {
                texts.push((pk, text));
            }
        }
        let (shown_to, shown) = texts.first()?;
        let others: Vec<&str> = texts
            .iter()
            .filter(|(pk, _)| pk != shown_to)
            .map(|(_, t)| t.as_str())
            .collect();
        Some(scripts::masked_text(shown, &others))
    }
}

/// How many answers the representative text of a script is read from.
const READ: usize = 5;

type Picked = (Vec<(i64, String, String, String, Vec<u8>)>, u64);

/// The sealed answers a script's text is shown from: the first answer of each of its most
/// widely sent wording's variants, then more of its commonest variant; and how many people
/// received that wording.
async fn representative_rows(c: &impl GenericClient, script: i64) -> Result<Option<Picked>> {
    let Some(top) = c
        .query_opt(
            "SELECT v.wording, count(DISTINCT a.person) AS n FROM rapport.script_variants v
             JOIN rapport.script_answers a ON a.variant = v.id WHERE v.script = $1
             GROUP BY v.wording ORDER BY n DESC, min(v.id) LIMIT 1",
            &[&script],
        )
        .await?
    else {
        return Ok(None);
    };
    let (wording, people): (i64, i64) = (top.get(0), top.get(1));
    let mut picked: Vec<i64> = c
        .query(
            "SELECT min(a.seq) FROM rapport.script_variants v
             JOIN rapport.script_answers a ON a.variant = v.id
             WHERE v.script = $1 AND v.wording = $2
             GROUP BY a.variant ORDER BY count(DISTINCT a.person) DESC, a.variant LIMIT $3",
            &[&script, &wording, &(READ as i64)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if picked.len() < READ
        && let Some(first) = picked.first().copied()
    {
        let more: Vec<i64> = c
            .query(
                "SELECT a.seq FROM rapport.script_answers a WHERE a.variant =
                     (SELECT variant FROM rapport.script_answers WHERE seq = $1 LIMIT 1)
                 ORDER BY a.seq LIMIT $2",
                &[&first, &(READ as i64)],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        picked.extend(
            more.into_iter()
                .filter(|s| !picked.contains(s))
                .collect::<Vec<_>>(),
        );
    }
    let mut rows = Vec::with_capacity(picked.len());
    for seq in picked {
        if let Some(r) = c
            .query_opt(
                "SELECT a.person, p.id, e.source, e.id, s.blob FROM rapport.script_answers a
                 JOIN rapport.events e ON e.person = a.person AND e.seq = a.seq
                 JOIN rapport.people p ON p.pk = a.person
                 JOIN rapport.sealed s ON s.person = a.person AND s.seq = a.seq
                 WHERE a.seq = $1",
                &[&seq],
            )
            .await?
        {
            rows.push((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)));
        }
    }
    Ok(Some((rows, people as u64)))
}
