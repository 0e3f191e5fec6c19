//! Kept readings on SQLite (see store's `kept` module for what they are and when they are
//! written): one row of figures per person, one index of every sortable field, counts per
//! headline value, and the marks imports leave.

use domain::readings::Distribution;
use domain::readings::kept::{Kept, sort_field};
use domain::{Day, PersonId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use store::kept::{EVERYONE, KeptMover, MOVERS_FIELD, Plan, StoredRow, changes, plan};
use store::{KeptFigures, KeptMeta, KeptStatus, KeptUpdate, StoreError};

use crate::error::{Result, run};
use crate::{SqliteStore, WriterLock, writer};

fn person(id: &str) -> Result<PersonId> {
    PersonId::parse(id).map_err(|e| {
        StoreError::Corrupt {
            message: format!("person id {id:?} in the kept readings: {e}"),
        }
        .into()
    })
}

fn ids(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<PersonId>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(person(
            r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?,
        )?);
    }
    Ok(out)
}

fn meta(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT value FROM kept_meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?,
    )
}

fn set_meta(c: &Connection, key: &str, value: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO kept_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

/// Marks that answers were added or removed, so the next catch-up compares scripted answers.
pub(crate) fn scripts_changed(c: &Connection) -> Result<()> {
    set_meta(c, "scripts_changed", "1")
}

/// Marks people (by ledger key) as written since their figures were kept.
pub(crate) fn mark(c: &Connection, pks: impl IntoIterator<Item = i64>) -> Result<()> {
    let mut stmt = c.prepare_cached("INSERT OR IGNORE INTO kept_dirty (pk) VALUES (?1)")?;
    for pk in pks {
        stmt.execute([pk])?;
    }
    Ok(())
}

/// Replaces (or with `None` removes) the kept figures of each of `rows`, with their index
/// entries, counts and referrals, inside the caller's transaction.
fn put(c: &Connection, rows: &[(PersonId, Option<Kept>)]) -> Result<()> {
    let mut get = c.prepare_cached(
        "SELECT figures, next_change, last_tx, scripted, scripted_sum, extras
         FROM kept WHERE person = ?1",
    )?;
    let old = rows
        .iter()
        .map(|(p, _)| {
            let row = get
                .query_row([p.as_str()], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .optional()?;
            row.map(
                |(b, next_change, last_tx, scripted, scripted_sum, extras)| {
                    Ok(StoredRow {
                        figures: KeptFigures::decode(&b)?,
                        next_change,
                        last_tx,
                        scripted,
                        scripted_sum,
                        extras,
                    })
                },
            )
            .transpose()
        })
        .collect::<Result<Vec<_>>>()?;
    let ch = changes(rows, &old);
    let mut del =
        c.prepare_cached("DELETE FROM kept_order WHERE field = ?1 AND value = ?2 AND person = ?3")?;
    for (f, v, p) in &ch.removed {
        del.execute(params![f, v, p])?;
    }
    let mut ins = c.prepare_cached(
        "INSERT OR REPLACE INTO kept_order (field, value, person) VALUES (?1, ?2, ?3)",
    )?;
    for (f, v, p) in &ch.added {
        ins.execute(params![f, v, p])?;
    }
    let mut up = c.prepare_cached(
        "INSERT INTO kept_dist (field, value, people) VALUES (?1, ?2, ?3)
         ON CONFLICT (field, value) DO UPDATE SET people = people + excluded.people",
    )?;
    let mut gone =
        c.prepare_cached("DELETE FROM kept_dist WHERE field = ?1 AND value = ?2 AND people <= 0")?;
    for (f, v, d) in &ch.dist {
        up.execute(params![f, v, d])?;
        gone.execute(params![f, v])?;
    }
    let mut count = c.prepare_cached(
        "INSERT INTO kept_counts (field, people) VALUES (?1, ?2)
         ON CONFLICT (field) DO UPDATE SET people = people + excluded.people",
    )?;
    for (f, d) in &ch.counts {
        count.execute(params![f, d])?;
    }
    let mut unchoose = c.prepare_cached("DELETE FROM kept_choices WHERE person = ?1")?;
    let mut choose = c.prepare_cached(
        "INSERT OR REPLACE INTO kept_choices (person, item, option) VALUES (?1, ?2, ?3)",
    )?;
    let mut unref = c.prepare_cached("DELETE FROM kept_refs WHERE referrer = ?1")?;
    let mut keep = c.prepare_cached(
        "INSERT OR REPLACE INTO kept
         (person, next_change, last_tx, scripted, scripted_sum, extras, figures)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut next = c.prepare_cached("UPDATE kept SET next_change = ?2 WHERE person = ?1")?;
    let mut refer =
        c.prepare_cached("INSERT OR IGNORE INTO kept_refs (referred, referrer) VALUES (?1, ?2)")?;
    let mut drop = c.prepare_cached("DELETE FROM kept WHERE person = ?1")?;
    for ((p, k), old) in rows.iter().zip(&old) {
        let id = p.as_str();
        let extras = match (plan(old.as_ref(), k.as_ref()), k) {
            (Plan::Nothing, _) => continue,
            (Plan::NextChange, Some(k)) => {
                next.execute(params![id, k.next_change.map(|d| d.days_since_epoch())])?;
                continue;
            }
            (Plan::Row { extras }, Some(k)) => {
                keep.execute(params![
                    id,
                    k.next_change.map(|d| d.days_since_epoch()),
                    k.last_transaction.map(Timestamp::unix),
                    k.scripted.0 as i64,
                    k.scripted.1,
                    k.extras_digest(),
                    k.encode()
                ])?;
                extras
            }
            _ => {
                drop.execute([id])?;
                true
            }
        };
        if !extras {
            continue;
        }
        unref.execute([id])?;
        unchoose.execute([id])?;
        if let Some(k) = k {
            for referred in &k.referred {
                refer.execute([referred.as_str(), id])?;
            }
            for (item, option) in &k.choices {
                choose.execute([id, item, option])?;
            }
        }
    }
    Ok(())
}

/// Removes a forgotten person's kept figures inside the forgetting's transaction: nothing
/// keyed by their id stays, and the people who referred them are marked for recomputation.
pub(crate) fn forget(c: &Connection, person: &PersonId) -> Result<()> {
    put(c, &[(person.clone(), None)])?;
    let id = person.as_str();
    c.execute(
        "INSERT OR IGNORE INTO kept_dirty (pk)
         SELECT p.pk FROM kept_refs r JOIN people p ON p.id = r.referrer WHERE r.referred = ?1",
        [id],
    )?;
    c.execute("DELETE FROM kept_refs WHERE referred = ?1", [id])?;
    scripts_changed(c)
}

impl SqliteStore {
    fn kept_status_now(&self) -> Result<KeptStatus> {
        self.conns.read(|c| {
            let day = meta(c, "day")?;
            let inputs = meta(c, "inputs")?;
            let pending: i64 = c.query_row(
                "SELECT count(*) FROM kept_dirty d JOIN people p ON p.pk = d.pk",
                [],
                |r| r.get(0),
            )?;
            let meta = KeptMeta::from_stored(day, inputs)?;
            let generation = self::meta(c, "generation")?
                .and_then(|g| g.parse().ok())
                .unwrap_or(0);
            Ok(KeptStatus {
                meta,
                pending: pending as u64,
                scripts_changed: meta_flag(c)?,
                generation,
            })
        })
    }
}

fn meta_flag(c: &Connection) -> Result<bool> {
    Ok(meta(c, "scripts_changed")?.as_deref() == Some("1"))
}

impl store::KeptReadings for SqliteStore {
    fn kept_status(&self) -> Result<KeptStatus, StoreError> {
        run(|| self.kept_status_now())
    }

    fn kept_figures(&self, people: &[PersonId]) -> Result<Vec<Option<KeptFigures>>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached("SELECT figures FROM kept WHERE person = ?1")?;
                people
                    .iter()
                    .map(|p| {
                        let b: Option<Vec<u8>> =
                            stmt.query_row([p.as_str()], |r| r.get(0)).optional()?;
                        b.map(|b| KeptFigures::decode(&b).map_err(Into::into))
                            .transpose()
                    })
                    .collect()
            })
        })
    }

    fn kept_order(
        &self,
        field: usize,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PersonId>, StoreError> {
        let f = sort_field(field) as i64;
        let sql = if descending {
            "SELECT person FROM kept_order WHERE field = ?1
             ORDER BY value DESC, person DESC LIMIT ?2 OFFSET ?3"
        } else {
            "SELECT person FROM kept_order WHERE field = ?1
             ORDER BY value, person LIMIT ?2 OFFSET ?3"
        };
        run(|| {
            self.conns
                .read(|c| ids(c, sql, params![f, limit as i64, offset as i64]))
        })
    }

    fn kept_count(&self, field: Option<usize>) -> Result<u64, StoreError> {
        let f = field.map_or(i64::from(EVERYONE), |f| sort_field(f) as i64);
        run(|| {
            self.conns.read(|c| {
                let n: Option<i64> = c
                    .prepare_cached("SELECT people FROM kept_counts WHERE field = ?1")?
                    .query_row([f], |r| r.get(0))
                    .optional()?;
                Ok(n.unwrap_or(0).max(0) as u64)
            })
        })
    }

    fn kept_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> Result<Vec<(PersonId, KeptFigures)>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT person, figures FROM kept WHERE person > ?1 ORDER BY person LIMIT ?2",
                )?;
                let mut rows =
                    stmt.query(params![after.map_or("", PersonId::as_str), limit as i64])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let p = person(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
                    let f = KeptFigures::decode(
                        r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?,
                    )?;
                    out.push((p, f));
                }
                Ok(out)
            })
        })
    }

    fn kept_distributions(&self) -> Result<Vec<Distribution>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached("SELECT field, value, people FROM kept_dist")?;
                let counts = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<(i32, f64, i64)>>>()?;
                Ok(store::kept::distributions(counts))
            })
        })
    }

    fn kept_movers(
        &self,
        headline: usize,
        rises: bool,
        limit: usize,
    ) -> Result<Vec<KeptMover>, StoreError> {
        let f = MOVERS_FIELD as i64 + headline as i64;
        let sql = if rises {
            "SELECT person, value FROM kept_order WHERE field = ?1 AND value > 0
             ORDER BY value DESC, person DESC LIMIT ?2"
        } else {
            "SELECT person, value FROM kept_order WHERE field = ?1 AND value < 0
             ORDER BY value, person LIMIT ?2"
        };
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(params![f, limit as i64])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(KeptMover {
                        person: person(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?,
                        change: r.get(1)?,
                    });
                }
                Ok(out)
            })
        })
    }

    fn kept_choices(&self) -> Result<Vec<(PersonId, String, String)>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT person, item, option FROM kept_choices ORDER BY person, item",
                )?;
                let mut rows = stmt.query([])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let p = person(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
                    out.push((p, r.get(1)?, r.get(2)?));
                }
                Ok(out)
            })
        })
    }

    fn kept_last_transactions(
        &self,
        people: &[PersonId],
    ) -> Result<Vec<Option<Timestamp>>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached("SELECT last_tx FROM kept WHERE person = ?1")?;
                people
                    .iter()
                    .map(|p| {
                        let t: Option<Option<i64>> =
                            stmt.query_row([p.as_str()], |r| r.get(0)).optional()?;
                        Ok(t.flatten().map(Timestamp::from_unix))
                    })
                    .collect()
            })
        })
    }

    fn kept_update(
        &self,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn KeptUpdate + '_>, StoreError> {
        let what = "keeping readings up to date";
        let lock = loop {
            match WriterLock::try_acquire(&self.path, what)? {
                Ok(lock) => break lock,
                Err(holder) => {
                    if !waiting(&holder.to_string()) {
                        return Err(writer::busy(&holder));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        };
        // A catch-up rewrites rows all over the kept tables: a larger page cache, and the log
        // checkpointed every 256 MiB rather than every 4 MiB (never holding it back: the
        // first catch-up of millions of people writes tens of gigabytes through it).
        run(|| {
            Ok(self.conns.writer().execute_batch(&format!(
                "PRAGMA cache_size = -{}; PRAGMA wal_autocheckpoint = 65536;",
                crate::IMPORT_CACHE_KIB
            ))?)
        })?;
        Ok(Box::new(Update {
            store: self,
            _lock: lock,
        }))
    }
}

/// A catch-up: the writer lock for its whole life, one transaction per [`KeptUpdate::write`]
/// (so a long first computation commits as it goes, and a killed one resumes from its marks).
struct Update<'a> {
    store: &'a SqliteStore,
    _lock: WriterLock,
}

impl Drop for Update<'_> {
    fn drop(&mut self) {
        // Back to the usual cache and checkpoints; the log is checkpointed now (a failure
        // here loses nothing: the next checkpoint takes it).
        let _ = self.store.conns.writer().execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(PASSIVE);",
            crate::READ_CACHE_KIB
        ));
    }
}

impl KeptUpdate for Update<'_> {
    fn stale(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError> {
        run(|| {
            self.store.conns.read(|c| {
                ids(
                    c,
                    "SELECT p.id FROM kept_dirty d JOIN people p ON p.pk = d.pk
                     UNION SELECT person FROM kept WHERE next_change <= ?1",
                    [day.days_since_epoch()],
                )
            })
        })
    }

    fn everyone(&mut self) -> Result<Vec<PersonId>, StoreError> {
        run(|| {
            self.store
                .conns
                .read(|c| ids(c, "SELECT id FROM people UNION SELECT person FROM kept", []))
        })
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        run(|| {
            let conn = self.store.conns.writer();
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(
                "DELETE FROM kept; DELETE FROM kept_order; DELETE FROM kept_counts;
                 DELETE FROM kept_dist; DELETE FROM kept_refs; DELETE FROM kept_choices;",
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn referrers(&mut self, people: &[PersonId]) -> Result<Vec<PersonId>, StoreError> {
        run(|| {
            self.store.conns.read(|c| {
                let mut out = Vec::new();
                for p in people {
                    out.extend(ids(
                        c,
                        "SELECT referrer FROM kept_refs WHERE referred = ?1",
                        [p.as_str()],
                    )?);
                }
                out.sort();
                out.dedup();
                Ok(out)
            })
        })
    }

    fn scripted_differs(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError> {
        let sql = format!(
            "WITH cur AS (
                SELECT p.id AS person, count(*) AS n, sum(a.seq) AS s
                FROM scripts s JOIN script_variants v ON v.script = s.id
                JOIN script_answers a ON a.variant = v.id JOIN people p ON p.pk = a.person
                WHERE s.people > {} AND a.at <= ?1 GROUP BY p.id)
             SELECT cur.person FROM cur LEFT JOIN kept k ON k.person = cur.person
             WHERE k.person IS NULL OR k.scripted <> cur.n OR k.scripted_sum <> cur.s
             UNION
             SELECT k.person FROM kept k LEFT JOIN cur ON cur.person = k.person
             WHERE k.scripted > 0 AND cur.person IS NULL",
            domain::scripts::OTHERS
        );
        run(|| self.store.conns.read(|c| ids(c, &sql, [day.end().unix()])))
    }

    fn write(&mut self, rows: &[(PersonId, Option<Kept>)]) -> Result<(), StoreError> {
        run(|| {
            let conn = self.store.conns.writer();
            let tx = conn.unchecked_transaction()?;
            put(&tx, rows)?;
            let mut clear = tx.prepare_cached(
                "DELETE FROM kept_dirty WHERE pk = (SELECT pk FROM people WHERE id = ?1)",
            )?;
            for (p, _) in rows {
                clear.execute([p.as_str()])?;
            }
            drop(clear);
            tx.commit()?;
            Ok(())
        })
    }

    fn finish(self: Box<Self>, meta: &KeptMeta) -> Result<(), StoreError> {
        run(|| {
            let conn = self.store.conns.writer();
            let tx = conn.unchecked_transaction()?;
            set_meta(&tx, "day", &meta.day.days_since_epoch().to_string())?;
            set_meta(&tx, "inputs", &meta.inputs)?;
            set_meta(&tx, "scripts_changed", "0")?;
            tx.execute(
                "INSERT INTO kept_meta (key, value) VALUES ('generation', '1')
                 ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                [],
            )?;
            tx.execute(
                "DELETE FROM kept_dirty WHERE pk NOT IN (SELECT pk FROM people)",
                [],
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}
