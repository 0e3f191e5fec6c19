//! Kept readings on PostgreSQL (see store's `kept` module for what they are and when they are
//! written): the same tables as on SQLite, written a chunk at a time with arrays so that a
//! chunk of thousands of people costs a handful of round trips.

use deadpool_postgres::{GenericClient, Object};
use domain::readings::Distribution;
use domain::readings::kept::{Kept, sort_field};
use domain::{Day, PersonId, Timestamp};
use store::kept::{EVERYONE, KeptMover, MOVERS_FIELD, Plan, StoredRow, changes, plan};
use store::{KeptFigures, KeptMeta, KeptStatus, KeptUpdate, StoreError};

use crate::error::Result;
use crate::{PostgresStore, lock, meta, set_meta};

fn person(id: &str) -> Result<PersonId> {
    PersonId::parse(id).map_err(|e| {
        StoreError::Corrupt {
            message: format!("person id {id:?} in the kept readings: {e}"),
        }
        .into()
    })
}

fn ids(rows: Vec<tokio_postgres::Row>) -> Result<Vec<PersonId>> {
    rows.iter().map(|r| person(r.get(0))).collect()
}

/// Marks that answers were added or removed, so the next catch-up compares scripted answers.
pub(crate) async fn scripts_changed(c: &impl GenericClient) -> Result<()> {
    set_meta(c, "rapport.meta", "kept.scripts_changed", "1").await
}

/// Marks people (by ledger key) as written since their figures were kept.
pub(crate) async fn mark(c: &impl GenericClient, pks: &[i64]) -> Result<()> {
    for chunk in pks.chunks(50_000) {
        c.execute(
            "INSERT INTO rapport.kept_dirty (pk) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING",
            &[&chunk],
        )
        .await?;
    }
    Ok(())
}

/// Replaces (or with `None` removes) the kept figures of each of `rows`, with their index
/// entries, counts and referrals, inside the caller's transaction.
async fn put(c: &impl GenericClient, rows: &[(PersonId, Option<Kept>)]) -> Result<()> {
    let people: Vec<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    let found = c
        .query(
            "SELECT person, figures, next_change, last_tx, scripted, scripted_sum, extras
             FROM rapport.kept WHERE person = ANY($1)",
            &[&people],
        )
        .await?;
    let mut by: std::collections::HashMap<String, StoredRow> = std::collections::HashMap::new();
    for r in found {
        by.insert(
            r.get(0),
            StoredRow {
                figures: KeptFigures::decode(r.get(1))?,
                next_change: r.get(2),
                last_tx: r.get(3),
                scripted: r.get(4),
                scripted_sum: r.get(5),
                extras: r.get(6),
            },
        );
    }
    let old: Vec<Option<StoredRow>> = people.iter().map(|p| by.remove(*p)).collect();
    let ch = changes(rows, &old);
    let cols = |v: &[(i32, f64, &str)]| {
        let f: Vec<i32> = v.iter().map(|x| x.0).collect();
        let x: Vec<f64> = v.iter().map(|x| x.1).collect();
        let p: Vec<String> = v.iter().map(|x| x.2.to_owned()).collect();
        (f, x, p)
    };
    if !ch.removed.is_empty() {
        let (f, x, p) = cols(&ch.removed);
        c.execute(
            "DELETE FROM rapport.kept_order o USING unnest($1::int[], $2::float8[], $3::text[])
                 AS d(field, value, person)
             WHERE o.field = d.field AND o.value = d.value AND o.person = d.person",
            &[&f, &x, &p],
        )
        .await?;
    }
    if !ch.added.is_empty() {
        let (f, x, p) = cols(&ch.added);
        c.execute(
            "INSERT INTO rapport.kept_order (field, value, person)
             SELECT * FROM unnest($1::int[], $2::float8[], $3::text[]) ON CONFLICT DO NOTHING",
            &[&f, &x, &p],
        )
        .await?;
    }
    if !ch.dist.is_empty() {
        let f: Vec<i32> = ch.dist.iter().map(|x| x.0).collect();
        let x: Vec<f64> = ch.dist.iter().map(|x| x.1).collect();
        let d: Vec<i64> = ch.dist.iter().map(|x| x.2).collect();
        c.execute(
            "INSERT INTO rapport.kept_dist (field, value, people)
             SELECT * FROM unnest($1::int[], $2::float8[], $3::bigint[])
             ON CONFLICT (field, value) DO UPDATE SET people = kept_dist.people + excluded.people",
            &[&f, &x, &d],
        )
        .await?;
        c.execute(
            "DELETE FROM rapport.kept_dist k USING unnest($1::int[], $2::float8[]) AS d(field, value)
             WHERE k.field = d.field AND k.value = d.value AND k.people <= 0",
            &[&f, &x],
        )
        .await?;
    }
    if !ch.counts.is_empty() {
        let f: Vec<i32> = ch.counts.iter().map(|x| x.0).collect();
        let d: Vec<i64> = ch.counts.iter().map(|x| x.1).collect();
        c.execute(
            "INSERT INTO rapport.kept_counts (field, people)
             SELECT * FROM unnest($1::int[], $2::bigint[])
             ON CONFLICT (field) DO UPDATE SET people = kept_counts.people + excluded.people",
            &[&f, &d],
        )
        .await?;
    }
    // What each person's row takes (see `store::kept::Plan`).
    let mut gone: Vec<&str> = Vec::new();
    let mut moved: (Vec<&str>, Vec<Option<i32>>) = (Vec::new(), Vec::new());
    let mut kept: Vec<(&str, &Kept)> = Vec::new();
    let mut extras: Vec<&str> = Vec::new();
    for ((p, k), old) in rows.iter().zip(&old) {
        match (plan(old.as_ref(), k.as_ref()), k) {
            (Plan::NextChange, Some(k)) => {
                moved.0.push(p.as_str());
                moved.1.push(k.next_change.map(|d| d.days_since_epoch()));
            }
            (Plan::Row { extras: e }, Some(k)) => {
                kept.push((p.as_str(), k));
                if e {
                    extras.push(p.as_str());
                }
            }
            (Plan::Remove, _) => {
                gone.push(p.as_str());
                extras.push(p.as_str());
            }
            _ => {}
        }
    }
    if !extras.is_empty() {
        c.execute(
            "DELETE FROM rapport.kept_refs WHERE referrer = ANY($1)",
            &[&extras],
        )
        .await?;
        c.execute(
            "DELETE FROM rapport.kept_choices WHERE person = ANY($1)",
            &[&extras],
        )
        .await?;
    }
    if !gone.is_empty() {
        c.execute("DELETE FROM rapport.kept WHERE person = ANY($1)", &[&gone])
            .await?;
    }
    if !moved.0.is_empty() {
        c.execute(
            "UPDATE rapport.kept k SET next_change = d.next_change
             FROM unnest($1::text[], $2::int[]) AS d(person, next_change)
             WHERE k.person = d.person",
            &[&moved.0, &moved.1],
        )
        .await?;
    }
    if !kept.is_empty() {
        let p: Vec<&str> = kept.iter().map(|x| x.0).collect();
        let next: Vec<Option<i32>> = kept
            .iter()
            .map(|x| x.1.next_change.map(|d| d.days_since_epoch()))
            .collect();
        let last: Vec<Option<i64>> = kept
            .iter()
            .map(|x| x.1.last_transaction.map(Timestamp::unix))
            .collect();
        let n: Vec<i64> = kept.iter().map(|x| x.1.scripted.0 as i64).collect();
        let s: Vec<i64> = kept.iter().map(|x| x.1.scripted.1).collect();
        let e: Vec<i64> = kept.iter().map(|x| x.1.extras_digest()).collect();
        let fig: Vec<Vec<u8>> = kept.iter().map(|x| x.1.encode()).collect();
        // Replaced rather than upserted: a partition on another server takes no ON CONFLICT
        // … DO UPDATE.
        c.execute("DELETE FROM rapport.kept WHERE person = ANY($1)", &[&p])
            .await?;
        c.execute(
            "INSERT INTO rapport.kept
                 (person, next_change, last_tx, scripted, scripted_sum, extras, figures)
             SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[],
                                  $6::bigint[], $7::bytea[])",
            &[&p, &next, &last, &n, &s, &e, &fig],
        )
        .await?;
        let (mut referred, mut referrer): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        let (mut who, mut items, mut options): (Vec<&str>, Vec<&str>, Vec<&str>) =
            (Vec::new(), Vec::new(), Vec::new());
        let extras: std::collections::HashSet<&str> = extras.into_iter().collect();
        for (id, k) in kept.iter().filter(|(id, _)| extras.contains(id)) {
            for r in &k.referred {
                referred.push(r.as_str());
                referrer.push(id);
            }
            for (item, option) in &k.choices {
                who.push(id);
                items.push(item);
                options.push(option);
            }
        }
        if !referred.is_empty() {
            c.execute(
                "INSERT INTO rapport.kept_refs (referred, referrer)
                 SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                &[&referred, &referrer],
            )
            .await?;
        }
        if !who.is_empty() {
            c.execute(
                "INSERT INTO rapport.kept_choices (person, item, option)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
                &[&who, &items, &options],
            )
            .await?;
        }
    }
    Ok(())
}

/// Removes a forgotten person's kept figures inside the forgetting's transaction: nothing
/// keyed by their id stays, and the people who referred them are marked for recomputation.
pub(crate) async fn forget(c: &impl GenericClient, person: &PersonId) -> Result<()> {
    put(c, &[(person.clone(), None)]).await?;
    let id = person.as_str();
    c.execute(
        "INSERT INTO rapport.kept_dirty (pk)
         SELECT p.pk FROM rapport.kept_refs r JOIN rapport.people p ON p.id = r.referrer
         WHERE r.referred = $1 ON CONFLICT DO NOTHING",
        &[&id],
    )
    .await?;
    c.execute("DELETE FROM rapport.kept_refs WHERE referred = $1", &[&id])
        .await?;
    scripts_changed(c).await
}

impl store::KeptReadings for PostgresStore {
    fn kept_status(&self) -> Result<KeptStatus, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let day = meta(&c, "rapport.meta", "kept.day").await?;
            let inputs = meta(&c, "rapport.meta", "kept.inputs").await?;
            let flag = meta(&c, "rapport.meta", "kept.scripts_changed").await?;
            let generation = meta(&c, "rapport.meta", "kept.generation")
                .await?
                .and_then(|g| g.parse().ok())
                .unwrap_or(0);
            let all = c
                .query_one(
                    "SELECT count(*) FROM rapport.kept_dirty d JOIN rapport.people p ON p.pk = d.pk",
                    &[],
                )
                .await;
            let pending: i64 = match all {
                Ok(r) => r.get(0),
                // A server holding some partitions does not answer: the others' count.
                Err(e) if crate::error::unreachable(&e) => {
                    let mut n = 0;
                    for part in 0..self.partitions {
                        let table = crate::layout::TABLES
                            .iter()
                            .find(|t| t.name == "kept_dirty")
                            .expect("kept_dirty is partitioned")
                            .qualified_part(part);
                        if let Ok(r) = c
                            .query_one(
                                &format!(
                                    "SELECT count(*) FROM {table} d
                                     JOIN rapport.people p ON p.pk = d.pk"
                                ),
                                &[],
                            )
                            .await
                        {
                            n += r.get::<_, i64>(0);
                        }
                    }
                    n
                }
                Err(e) => return Err(e.into()),
            };
            let meta = KeptMeta::from_stored(day, inputs)?;
            Ok(KeptStatus {
                meta,
                pending: pending as u64,
                scripts_changed: flag.as_deref() == Some("1"),
                generation,
            })
        })
    }

    fn kept_figures(&self, people: &[PersonId]) -> Result<Vec<Option<KeptFigures>>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let ids: Vec<&str> = people.iter().map(PersonId::as_str).collect();
            // Planned with the ids as values: only their partitions are read.
            let sql = "SELECT person, figures FROM rapport.kept WHERE person = ANY($1)";
            let rows = match c.query(sql, &[&ids]).await {
                Ok(rows) => rows,
                // Some of them are on a server that does not answer: the others' figures,
                // one by one (theirs are missing, as for someone not yet read).
                Err(e) if crate::error::unreachable(&e) => {
                    let mut rows = Vec::new();
                    for id in &ids {
                        if let Ok(r) = c.query(sql, &[&vec![*id]]).await {
                            rows.extend(r);
                        }
                    }
                    rows
                }
                Err(e) => return Err(e.into()),
            };
            let mut by: std::collections::HashMap<String, Vec<u8>> = rows
                .into_iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, Vec<u8>>(1)))
                .collect();
            Ok(ids
                .iter()
                .map(|p| by.remove(*p).map(|b| KeptFigures::decode(&b)).transpose())
                .collect::<Result<Vec<_>, StoreError>>()?)
        })
    }

    fn kept_order(
        &self,
        field: usize,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PersonId>, StoreError> {
        let f = sort_field(field) as i32;
        let sql = if descending {
            "SELECT person FROM rapport.kept_order WHERE field = $1
             ORDER BY value DESC, person DESC LIMIT $2 OFFSET $3"
        } else {
            "SELECT person FROM rapport.kept_order WHERE field = $1
             ORDER BY value, person LIMIT $2 OFFSET $3"
        };
        self.run(async {
            let c = self.db.get().await?;
            ids(c
                .query(sql, &[&f, &(limit as i64), &(offset as i64)])
                .await?)
        })
    }

    fn kept_count(&self, field: Option<usize>) -> Result<u64, StoreError> {
        let f = field.map_or(EVERYONE, |f| sort_field(f) as i32);
        self.run(async {
            let c = self.db.get().await?;
            let n: Option<i64> = c
                .query_opt(
                    "SELECT people FROM rapport.kept_counts WHERE field = $1",
                    &[&f],
                )
                .await?
                .map(|r| r.get(0));
            Ok(n.unwrap_or(0).max(0) as u64)
        })
    }

    fn kept_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> Result<Vec<(PersonId, KeptFigures)>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let from = after.map_or("", PersonId::as_str);
            let rows = match c
                .query(
                    "SELECT person, figures FROM rapport.kept WHERE person > $1
                     ORDER BY person LIMIT $2",
                    &[&from, &(limit as i64)],
                )
                .await
            {
                Ok(rows) => rows,
                // A server holding some partitions does not answer: the people of the others,
                // partition by partition, merged in order.
                Err(e) if crate::error::unreachable(&e) => {
                    let kept = crate::layout::TABLES
                        .iter()
                        .find(|t| t.name == "kept")
                        .expect("kept is partitioned");
                    let mut rows = Vec::new();
                    for part in 0..self.partitions {
                        let sql = format!(
                            "SELECT person, figures FROM {} WHERE person > $1
                             ORDER BY person LIMIT $2",
                            kept.qualified_part(part)
                        );
                        if let Ok(r) = c.query(&sql, &[&from, &(limit as i64)]).await {
                            rows.extend(r);
                        }
                    }
                    rows.sort_by(|a, b| a.get::<_, &str>(0).cmp(b.get::<_, &str>(0)));
                    rows.truncate(limit);
                    rows
                }
                Err(e) => return Err(e.into()),
            };
            rows.iter()
                .map(|r| Ok((person(r.get(0))?, KeptFigures::decode(r.get(1))?)))
                .collect()
        })
    }

    fn kept_distributions(&self) -> Result<Vec<Distribution>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query("SELECT field, value, people FROM rapport.kept_dist", &[])
                .await?;
            Ok(store::kept::distributions(
                rows.iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect(),
            ))
        })
    }

    fn kept_movers(
        &self,
        headline: usize,
        rises: bool,
        limit: usize,
    ) -> Result<Vec<KeptMover>, StoreError> {
        let f = MOVERS_FIELD + headline as i32;
        let sql = if rises {
            "SELECT person, value FROM rapport.kept_order WHERE field = $1 AND value > 0
             ORDER BY value DESC, person DESC LIMIT $2"
        } else {
            "SELECT person, value FROM rapport.kept_order WHERE field = $1 AND value < 0
             ORDER BY value, person LIMIT $2"
        };
        self.run(async {
            let c = self.db.get().await?;
            let rows = c.query(sql, &[&f, &(limit as i64)]).await?;
            rows.iter()
                .map(|r| {
                    Ok(KeptMover {
                        person: person(r.get(0))?,
                        change: r.get(1),
                    })
                })
                .collect()
        })
    }

    fn kept_choices(&self) -> Result<Vec<(PersonId, String, String)>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT person, item, option FROM rapport.kept_choices ORDER BY person, item",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((person(r.get(0))?, r.get(1), r.get(2))))
                .collect()
        })
    }

    fn kept_last_transactions(
        &self,
        people: &[PersonId],
    ) -> Result<Vec<Option<Timestamp>>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let ids: Vec<&str> = people.iter().map(PersonId::as_str).collect();
            let rows = c
                .query(
                    "SELECT person, last_tx FROM rapport.kept WHERE person = ANY($1)",
                    &[&ids],
                )
                .await?;
            let by: std::collections::HashMap<String, Option<i64>> = rows
                .into_iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, Option<i64>>(1)))
                .collect();
            Ok(ids
                .iter()
                .map(|p| by.get(*p).copied().flatten().map(Timestamp::from_unix))
                .collect())
        })
    }

    fn kept_update(
        &self,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn KeptUpdate + '_>, StoreError> {
        // The writer lock is a transaction's: one connection keeps a transaction open that
        // holds it for the whole catch-up, while the writes go through others.
        let what = "keeping readings up to date";
        let holder = lock::begin_locked(self, what, waiting)?;
        Ok(Box::new(Update {
            store: self,
            holder: Some(holder),
        }))
    }
}

struct Update<'a> {
    store: &'a PostgresStore,
    /// The connection whose open transaction holds the writer lock.
    holder: Option<Object>,
}

impl Drop for Update<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.holder.take() {
            lock::end(self.store, h);
        }
    }
}

impl KeptUpdate for Update<'_> {
    fn stale(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError> {
        self.store.run(async {
            let c = self.store.db.get().await?;
            ids(c
                .query(
                    "SELECT p.id FROM rapport.kept_dirty d JOIN rapport.people p ON p.pk = d.pk
                     UNION SELECT person FROM rapport.kept WHERE next_change <= $1",
                    &[&day.days_since_epoch()],
                )
                .await?)
        })
    }

    fn everyone(&mut self) -> Result<Vec<PersonId>, StoreError> {
        self.store.run(async {
            let c = self.store.db.get().await?;
            ids(c
                .query(
                    "SELECT id FROM rapport.people UNION SELECT person FROM rapport.kept",
                    &[],
                )
                .await?)
        })
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        self.store.run(async {
            let c = self.store.db.get().await?;
            c.batch_execute(
                "BEGIN; DELETE FROM rapport.kept; DELETE FROM rapport.kept_order;
                 DELETE FROM rapport.kept_counts; DELETE FROM rapport.kept_dist;
                 DELETE FROM rapport.kept_refs; DELETE FROM rapport.kept_choices; COMMIT;",
            )
            .await?;
            Ok(())
        })
    }

    fn referrers(&mut self, people: &[PersonId]) -> Result<Vec<PersonId>, StoreError> {
        let p: Vec<&str> = people.iter().map(PersonId::as_str).collect();
        self.store.run(async {
            let c = self.store.db.get().await?;
            ids(c
                .query(
                    "SELECT DISTINCT referrer FROM rapport.kept_refs WHERE referred = ANY($1)
                     ORDER BY 1",
                    &[&p],
                )
                .await?)
        })
    }

    fn scripted_differs(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError> {
        let sql = format!(
            "WITH cur AS (
                SELECT p.id AS person, count(*) AS n, sum(a.seq)::bigint AS s
                FROM rapport.scripts s JOIN rapport.script_variants v ON v.script = s.id
                JOIN rapport.script_answers a ON a.variant = v.id
                JOIN rapport.people p ON p.pk = a.person
                WHERE s.people > {} AND a.at <= $1 GROUP BY p.id)
             SELECT cur.person FROM cur LEFT JOIN rapport.kept k ON k.person = cur.person
             WHERE k.person IS NULL OR k.scripted <> cur.n OR k.scripted_sum <> cur.s
             UNION
             SELECT k.person FROM rapport.kept k LEFT JOIN cur ON cur.person = k.person
             WHERE k.scripted > 0 AND cur.person IS NULL",
            domain::scripts::OTHERS
        );
        self.store.run(async {
            let c = self.store.db.get().await?;
            ids(c.query(&sql, &[&day.end().unix()]).await?)
        })
    }

    fn write(&mut self, rows: &[(PersonId, Option<Kept>)]) -> Result<(), StoreError> {
        self.store.run(async {
            let mut c = self.store.db.get().await?;
            let tx = c.transaction().await?;
            put(&tx, rows).await?;
            let p: Vec<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
            tx.execute(
                "DELETE FROM rapport.kept_dirty d USING rapport.people p
                 WHERE p.pk = d.pk AND p.id = ANY($1)",
                &[&p],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn finish(mut self: Box<Self>, meta: &KeptMeta) -> Result<(), StoreError> {
        let Some(h) = self.holder.take() else {
            return Ok(());
        };
        let done = self.store.run(async {
            set_meta(
                &h,
                "rapport.meta",
                "kept.day",
                &meta.day.days_since_epoch().to_string(),
            )
            .await?;
            set_meta(&h, "rapport.meta", "kept.inputs", &meta.inputs).await?;
            set_meta(&h, "rapport.meta", "kept.scripts_changed", "0").await?;
            h.execute(
                "INSERT INTO rapport.meta (key, value) VALUES ('kept.generation', '1')
                 ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
                &[],
            )
            .await?;
            h.execute(
                "DELETE FROM rapport.kept_dirty WHERE pk NOT IN (SELECT pk FROM rapport.people)",
                &[],
            )
            .await?;
            h.batch_execute("COMMIT").await?;
            Ok(())
        });
        if done.is_err() {
            lock::end(self.store, h);
        }
        done
    }
}
