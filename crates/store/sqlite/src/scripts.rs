//! The index of scripted answers, kept up to date as answers are imported.
//!
//! Each import groups only its own new answers against what the tables already hold
//! ([`domain::scripts::group`] with the tables as its [`Index`]), inside the import's
//! transaction: an import of a thousand answers costs a thousand answers, whatever the size of
//! the ledger. The figures of the scripts it touched are recomputed from their answers. The
//! whole index can also be rebuilt from the sealed texts ([`SqliteStore::regroup`]), which a
//! ledger gets once, when it is first opened, if its index is missing or was made by an
//! earlier way of masking (a migration then clears it: `0007_script_words.sql`).
//!
//! A variant is kept as its words ([`scripts::prepare`]: hashes, possible names marked), not
//! as shingles: which words are names is only decided when two variants are compared.

use std::collections::{HashMap, HashSet};

use domain::scripts::{self, Index, Scripted};
use domain::{Kind, Timestamp};
use rusqlite::{Connection, OptionalExtension, Statement, params};

use store::keys::{PersonKey, open_personal};
use store::{ByCount, Regrouped, ScriptSummary, ScriptsOverview};

use crate::SqliteStore;
use crate::error::Result;

/// Above this many touched scripts, an import recomputes every script's figures in one pass
/// instead of one script at a time.
const RECOUNT_ALL: usize = 2_000;

/// The meta key that says the index holds every answer of the ledger.
const INDEXED: &str = "scripts_indexed";

/// Answers of one import waiting to be grouped: identical words kept once.
#[derive(Default)]
pub(super) struct NewAnswers {
    keys: HashMap<u64, u32>,
    sets: Vec<Vec<u64>>,
    /// Each set's wording ([`scripts::wording_key`]).
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
    /// Adds an answer by its words ([`scripts::prepare`]); one without words is never a
    /// script and is not indexed.
    pub(super) fn add(&mut self, seq: i64, person: i64, at: i64, by: &str, words: Vec<u64>) {
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

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
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

/// The tables as the grouping's [`Index`].
struct Tables<'c> {
    variant: Statement<'c>,
    band: Statement<'c>,
    words: Statement<'c>,
    wording: Statement<'c>,
}

impl Index for Tables<'_> {
    type Error = rusqlite::Error;

    fn variant(&mut self, key: u64) -> Result<Option<(i64, i64)>, Self::Error> {
        self.variant
            .query_row(params![key as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    }

    fn band(&mut self, key: u64, limit: usize) -> Result<Vec<i64>, Self::Error> {
        self.band
            .query_map(params![key as i64], |r| r.get(0))?
            .take(limit)
            .collect()
    }

    fn words(&mut self, variant: i64) -> Result<Option<(Vec<u64>, i64)>, Self::Error> {
        self.words
            .query_row(params![variant], |r| {
                let blob = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                Ok((decode(blob), r.get(1)?))
            })
            .optional()
    }

    fn wording(&mut self, key: u64) -> Result<Option<i64>, Self::Error> {
        self.wording
            .query_row(params![key as i64], |r| r.get(0))
            .optional()
    }
}

/// Groups an import's answers into the index. Runs inside the import's transaction.
pub(super) fn index(conn: &Connection, answers: NewAnswers) -> Result<()> {
    if answers.is_empty() {
        return Ok(());
    }
    let next_id: i64 = conn.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM script_variants",
        [],
        |r| r.get(0),
    )?;
    let mut tables = Tables {
        variant: conn.prepare("SELECT id, script FROM script_variants WHERE key = ?1")?,
        // The limit is written into the statement: bound as a parameter, SQLite would prepare
        // the statement again at every step.
        band: conn.prepare(&format!(
            "SELECT variant FROM script_bands WHERE key = ?1 LIMIT {}",
            scripts::PER_BUCKET
        ))?,
        words: conn.prepare("SELECT words, script FROM script_variants WHERE id = ?1")?,
        // The oldest variant of a wording is always filed under its bands (see `forget`).
        wording: conn
            .prepare("SELECT id FROM script_variants WHERE wording = ?1 ORDER BY id LIMIT 1")?,
    };
    let grouping = scripts::group(&answers.sets, next_id, &mut tables)?;
    drop(tables);

    let mut touched: HashSet<i64> = HashSet::new();
    for (from, into) in &grouping.merges {
        conn.execute(
            "UPDATE script_variants SET script = ?2 WHERE script = ?1",
            params![from, into],
        )?;
        conn.execute("DELETE FROM scripts WHERE id = ?1", params![from])?;
        touched.insert(*into);
    }
    {
        let mut variant = conn.prepare(
            "INSERT INTO script_variants (id, key, script, wording, words)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut band =
            conn.prepare("INSERT OR IGNORE INTO script_bands (key, variant) VALUES (?1, ?2)")?;
        let mut bands: Vec<(i64, i64)> = Vec::with_capacity(grouping.new.len() * 16);
        for v in &grouping.new {
            variant.execute(params![
                v.id,
                v.key as i64,
                v.script,
                answers.wordings[v.set] as i64,
                encode(&answers.sets[v.set])
            ])?;
            bands.extend(v.bands.iter().flatten().map(|b| (*b as i64, v.id)));
        }
        // In key order, the index grows at its end instead of at random pages.
        bands.sort_unstable();
        for (key, id) in bands {
            band.execute(params![key, id])?;
        }
    }
    let script_of: HashMap<i64, i64> = grouping.new.iter().map(|v| (v.id, v.script)).collect();
    // A large import recounts every script at the end; a small one counts as it goes.
    let bulk = answers.rows.len() > RECOUNT_ALL;
    {
        let mut insert = conn.prepare(
            "INSERT OR IGNORE INTO script_answers (seq, person, variant, at, by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut script_of_known =
            conn.prepare_cached("SELECT script FROM script_variants WHERE id = ?1")?;
        let mut had = conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM script_answers a JOIN script_variants v
             ON v.id = a.variant WHERE a.person = ?1 AND v.script = ?2)",
        )?;
        let mut count = conn.prepare_cached(
            "INSERT INTO scripts (id, people, answers, first_at, last_at)
             VALUES (?1, ?2, 1, ?3, ?3)
             ON CONFLICT (id) DO UPDATE SET people = people + excluded.people,
                 answers = answers + 1, first_at = MIN(first_at, excluded.first_at),
                 last_at = MAX(last_at, excluded.last_at)",
        )?;
        let mut known: HashMap<i64, i64> = HashMap::new();
        for row in &answers.rows {
            let Some(variant) = grouping.variant_of[row.set as usize] else {
                continue;
            };
            let script = match script_of.get(&variant) {
                Some(s) => *s,
                None => match known.get(&variant) {
                    Some(s) => *s,
                    None => {
                        let s: i64 = script_of_known.query_row(params![variant], |r| r.get(0))?;
                        known.insert(variant, s);
                        s
                    }
                },
            };
            let first_time = bulk || !had.query_row(params![row.person, script], |r| r.get(0))?;
            if insert.execute(params![row.seq, row.person, variant, row.at, row.by])? == 0 || bulk {
                continue;
            }
            count.execute(params![script, i64::from(first_time), row.at])?;
        }
    }
    if bulk {
        recount_all(conn)
    } else {
        recount(conn, &touched)
    }
}

/// Recomputes every script's figures from the answers.
fn recount_all(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM scripts", [])?;
    conn.execute(&format!("INSERT INTO scripts (id, people, answers, first_at, last_at) {FIGURES} GROUP BY v.script"), [])?;
    Ok(())
}

const FIGURES: &str = "SELECT v.script, COUNT(DISTINCT a.person), COUNT(*), MIN(a.at), MAX(a.at)
     FROM script_variants v JOIN script_answers a ON a.variant = v.id";

/// Recomputes the figures of the given scripts (after merges, or forgetting).
fn recount(conn: &Connection, scripts: &HashSet<i64>) -> Result<()> {
    let mut delete = conn.prepare_cached("DELETE FROM scripts WHERE id = ?1")?;
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO scripts (id, people, answers, first_at, last_at)
         {FIGURES} WHERE v.script = ?1 GROUP BY v.script"
    ))?;
    for script in scripts {
        delete.execute(params![script])?;
        insert.execute(params![script])?;
    }
    Ok(())
}

/// Takes a forgotten person's answers out of the index (inside the forgetting's transaction):
/// their rows, the variants nobody else received, and the figures of the scripts concerned.
/// Variants stay in the script they were joined to.
pub(super) fn forget(conn: &Connection, person: i64) -> Result<()> {
    let mut affected: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT DISTINCT a.variant, v.script FROM script_answers a
             JOIN script_variants v ON v.id = a.variant WHERE a.person = ?1",
        )?
        .query_map(params![person], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    affected.sort_unstable();
    conn.execute(
        "DELETE FROM script_answers WHERE person = ?1",
        params![person],
    )?;
    let mut touched = HashSet::new();
    for (variant, script) in affected {
        touched.insert(script);
        let still: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM script_answers WHERE variant = ?1)",
            params![variant],
            |r| r.get(0),
        )?;
        if still {
            continue;
        }
        let gone: Option<(Vec<u8>, i64)> = conn
            .query_row(
                "DELETE FROM script_variants WHERE id = ?1 RETURNING words, wording",
                params![variant],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((set, wording)) = gone else {
            continue;
        };
        for b in scripts::band_keys(&decode(&set)) {
            conn.execute(
                "DELETE FROM script_bands WHERE key = ?1 AND variant = ?2",
                params![b as i64, variant],
            )?;
        }
        // A variant joined to an older one of its wording was not filed under its bands (they
        // are the older one's): the oldest that is left of the wording takes them now, so
        // that near-duplicates of other wordings still find it.
        let oldest: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT id, words FROM script_variants WHERE wording = ?1 ORDER BY id LIMIT 1",
                params![wording],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, words)) = oldest {
            for b in scripts::band_keys(&decode(&words)) {
                conn.execute(
                    "INSERT OR IGNORE INTO script_bands (key, variant) VALUES (?1, ?2)",
                    params![b as i64, id],
                )?;
            }
        }
    }
    recount(conn, &touched)
}

/// Answers opened and shingled together by [`SqliteStore::regroup`].
const CHUNK: usize = 16_384;

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

/// Opens and shingles a chunk of answers in parallel and adds them in order; how many.
fn add_chunk(answers: &mut NewAnswers, chunk: Vec<Raw>) -> Result<u64> {
    use rayon::prelude::*;
    let prepared: Vec<Vec<u64>> = chunk
        .par_iter()
        .map(|r| {
            // An answer that does not open cannot be judged: it is left out, as one without
            // text would be (its person's card says what is wrong).
            let personal = open_personal(&r.key, &r.source, &r.id, &r.blob).ok();
            Ok(personal
                .and_then(|p| p.text)
                .as_deref()
                .map(scripts::prepare)
                .unwrap_or_default())
        })
        .collect::<Result<_>>()?;
    let n = chunk.len() as u64;
    for (r, shingles) in chunk.into_iter().zip(prepared) {
        answers.add(r.seq, r.person, r.at, &r.by, shingles);
    }
    Ok(n)
}

impl SqliteStore {
    /// Indexes the answers of a ledger made before the index existed, once.
    pub(crate) fn index_scripts_once(&self) -> Result<()> {
        let indexed: Option<String> = self
            .conns
            .writer()
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![INDEXED],
                |r| r.get(0),
            )
            .optional()?;
        if indexed.is_some() {
            return Ok(());
        }
        self.regroup_unlocked()?;
        Ok(())
    }

    /// Rebuilds the index of scripts from every answer's sealed text, in one transaction.
    pub(crate) fn regroup_all(&self) -> Result<Regrouped> {
        let _lock = crate::WriterLock::acquire(&self.path, "rapport scripts --regroup")?;
        self.regroup_unlocked()
    }

    fn regroup_unlocked(&self) -> Result<Regrouped> {
        let conn = self.conns.writer();
        let tx = conn.unchecked_transaction()?;
        crate::kept::scripts_changed(&tx)?;
        tx.execute_batch(
            "DELETE FROM script_answers; DELETE FROM script_bands;
             DELETE FROM script_variants; DELETE FROM scripts;",
        )?;
        let mut answers = NewAnswers::default();
        let mut total = 0u64;
        {
            let mut stmt = tx.prepare(
                "SELECT p.id, e.person, e.seq, e.at, e.body, e.source, e.id, s.blob
                 FROM events e JOIN people p ON p.pk = e.person JOIN sealed s ON s.seq = e.seq
                 WHERE e.kind = ?1",
            )?;
            let mut rows = stmt.query(params![Kind::ContactAnswered.code()])?;
            // Opening and shingling run on every core, a chunk at a time; the rows are read
            // and added in ledger order on this thread.
            let mut chunk: Vec<Raw> = Vec::with_capacity(CHUNK);
            while let Some(row) = rows.next()? {
                {
                    let person: String = row.get(0)?;
                    let Ok(Some(key)) = self.keys.key(&person) else {
                        continue;
                    };
                    let body = row.get_ref(4)?.as_blob().map_err(rusqlite::Error::from)?;
                    let by = store::columns::Columns::decode(body)
                        .and_then(|c| c.into_body(Kind::ContactAnswered, false).ok())
                        .and_then(|b| match b {
                            domain::Body::ContactAnswered { by, .. } => Some(by.to_string()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    chunk.push(Raw {
                        key,
                        person: row.get(1)?,
                        seq: row.get(2)?,
                        at: row.get(3)?,
                        by,
                        source: row.get(5)?,
                        id: row.get(6)?,
                        blob: row.get(7)?,
                    });
                }
                if chunk.len() == CHUNK {
                    total += add_chunk(&mut answers, std::mem::take(&mut chunk))?;
                }
            }
            total += add_chunk(&mut answers, chunk)?;
        }
        let indexed = answers.rows.len() as u64;
        // Different texts once names are masked too: what a script's variants count.
        let variants = answers.wordings.iter().collect::<HashSet<_>>().len() as u64;
        index(&tx, answers)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, 'yes')
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![INDEXED],
        )?;
        tx.commit()?;
        let scripts: i64 = conn.query_row(
            "SELECT COUNT(*) FROM scripts WHERE people > ?1",
            params![scripts::OTHERS as i64],
            |r| r.get(0),
        )?;
        Ok(Regrouped {
            answers: total,
            with_text: indexed,
            variants,
            scripts: scripts as u64,
        })
    }

    pub(crate) fn scripted_answers(&self) -> Result<Scripted> {
        self.conns.read(|conn| {
            let seqs = conn
                .prepare(
                    "SELECT a.seq FROM scripts s JOIN script_variants v ON v.script = s.id
                 JOIN script_answers a ON a.variant = v.id WHERE s.people > ?1",
                )?
                .query_map(params![scripts::OTHERS as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(Scripted::new(seqs))
        })
    }

    pub(crate) fn scripts_overview(&self, limit: usize) -> Result<ScriptsOverview> {
        self.conns.read(|conn| self.overview_in(conn, limit))
    }

    fn overview_in(&self, conn: &Connection, limit: usize) -> Result<ScriptsOverview> {
        let (answers, scripted, count): (i64, i64, i64) = conn.query_row(
            "SELECT (SELECT COUNT(*) FROM script_answers),
                    (SELECT COALESCE(SUM(answers), 0) FROM scripts WHERE people > ?1),
                    (SELECT COUNT(*) FROM scripts WHERE people > ?1)",
            params![scripts::OTHERS as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let listed: Vec<(i64, i64, i64, i64, i64)> = conn
            .prepare(
                "SELECT id, people, answers, first_at, last_at FROM scripts WHERE people > ?2
                 ORDER BY people DESC, answers DESC, id LIMIT ?1",
            )?
            .query_map(params![limit as i64, scripts::OTHERS as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut list = Vec::with_capacity(listed.len());
        for (id, people, answers, first, last) in listed {
            let by: Vec<ByCount> = conn
                .prepare_cached(
                    "SELECT a.by, COUNT(*) FROM script_variants v
                     JOIN script_answers a ON a.variant = v.id
                     WHERE v.script = ?1 GROUP BY a.by ORDER BY 2 DESC, 1 LIMIT 5",
                )?
                .query_map(params![id], |r| {
                    Ok(ByCount {
                        by: r.get(0)?,
                        answers: r.get::<_, i64>(1)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let variants: i64 = conn.query_row(
                "SELECT COUNT(DISTINCT wording) FROM script_variants WHERE script = ?1",
                params![id],
                |r| r.get(0),
            )?;
            let (text, text_people) = match self.representative(conn, id)? {
                Some((t, n)) => (Some(t), n),
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

    /// A script's text as one answer of its most widely sent wording says it, masked, with
    /// how many people received that wording; `None` if no answer of it can be opened (their
    /// people forgotten). Which capitalised words are names is told by comparing it with
    /// answers of the same wording to other people (other variants first: the names differ
    /// there), as [`scripts::masked_text`] does.
    fn representative(&self, conn: &Connection, script: i64) -> Result<Option<(String, u64)>> {
        let top: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT v.wording, COUNT(DISTINCT a.person) AS n FROM script_variants v
                 JOIN script_answers a ON a.variant = v.id WHERE v.script = ?1
                 GROUP BY v.wording ORDER BY n DESC, MIN(v.id) LIMIT 1",
            )?
            .query_row(params![script], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((wording, people)) = top else {
            return Ok(None);
        };
        // The first answer of each of the wording's most widely sent variants, then more
        // answers of its commonest variant (a script sent as one text has only that one).
        let mut picked: Vec<i64> = conn
            .prepare_cached(
                "SELECT MIN(a.seq) FROM script_variants v JOIN script_answers a ON a.variant = v.id
                 WHERE v.script = ?1 AND v.wording = ?2
                 GROUP BY a.variant ORDER BY COUNT(DISTINCT a.person) DESC, a.variant LIMIT ?3",
            )?
            .query_map(params![script, wording, READ as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if picked.len() < READ {
            let more: Vec<i64> = conn
                .prepare_cached(
                    "SELECT a.seq FROM script_answers a WHERE a.variant =
                         (SELECT variant FROM script_answers WHERE seq = ?1)
                     ORDER BY a.seq LIMIT ?2",
                )?
                .query_map(params![picked.first(), READ as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let more: Vec<i64> = more.into_iter().filter(|s| !picked.contains(s)).collect();
            picked.extend(more);
        }
        let mut texts: Vec<(i64, String)> = Vec::with_capacity(picked.len());
        for seq in picked {
            let row: Option<(i64, String, String, String, Vec<u8>)> = conn
                .prepare_cached(
                    "SELECT a.person, p.id, e.source, e.id, s.blob FROM script_answers a
                     JOIN events e ON e.person = a.person AND e.seq = a.seq
                     JOIN people p ON p.pk = a.person
                     JOIN sealed s ON s.seq = a.seq WHERE a.seq = ?1",
                )?
                .query_row(params![seq], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let Some((pk, person, source, id, blob)) = row else {
                continue;
            };
            // A field that does not open is that person's problem (their card says so).
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
        let Some((shown_to, shown)) = texts.first() else {
            return Ok(None);
        };
        let others: Vec<&str> = texts
            .iter()
            .filter(|(pk, _)| pk != shown_to)
            .map(|(_, t)| t.as_str())
            .collect();
        Ok(Some((scripts::masked_text(shown, &others), people as u64)))
    }
}

/// How many answers the representative text of a script is read from.
const READ: usize = 5;
