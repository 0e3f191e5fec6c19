//! The menu, people's own texts read back in bulk, forgetting and tombstones, and the
//! scripts index, as the traits ask for them.

use domain::{Kind, PersonId, Timestamp};
use store::keys::open_personal;
use store::{MenuItem, StoreError};

use crate::PostgresStore;
use crate::forget;

impl PostgresStore {
    /// Every event of `kind` with sealed fields, opened: person, moment and the fields, in
    /// ledger order of people and time order within each. Forgotten people have none; a key
    /// or field that does not open is left out (that person's card says what is wrong).
    pub(crate) fn sealed_of_kind(
        &self,
        kind: Kind,
    ) -> Result<Vec<(PersonId, Timestamp, domain::Personal)>, StoreError> {
        let rows = self.run(async {
            let c = self.db.get().await?;
            Ok(c.query(
                "SELECT p.id, e.source, e.id, e.at, s.blob
                 FROM rapport.events e JOIN rapport.people p ON p.pk = e.person
                 JOIN rapport.sealed s ON s.person = e.person AND s.seq = e.seq
                 WHERE e.kind = $1 ORDER BY e.person, e.at, e.seq",
                &[&i16::from(kind.code())],
            )
            .await?)
        })?;
        let mut out = Vec::new();
        for row in rows {
            let person: &str = row.get(0);
            let Ok(Some(key)) = self.keys.key(person) else {
                continue;
            };
            let Ok(personal) = open_personal(&key, row.get(1), row.get(2), row.get(4)) else {
                continue;
            };
            let person = PersonId::parse(person).map_err(|e| StoreError::Corrupt {
                message: e.to_string(),
            })?;
            out.push((person, Timestamp::from_unix(row.get(3)), personal));
        }
        Ok(out)
    }
}

impl store::PersonData for PostgresStore {
    fn menu(&self) -> Result<Vec<MenuItem>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT item, kind, title, options FROM rapport.menu ORDER BY kind, item",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(MenuItem {
                        item: r.get(0),
                        kind: r.get(1),
                        title: r.get(2),
                        options: serde_json::from_str(r.get(3)).map_err(|e| {
                            StoreError::Corrupt {
                                message: format!("menu options: {e}"),
                            }
                        })?,
                    })
                })
                .collect()
        })
    }

    fn menu_put(&self, item: &MenuItem) -> Result<(), StoreError> {
        let options = serde_json::to_string(&item.options).map_err(|e| StoreError::Corrupt {
            message: format!("menu options: {e}"),
        })?;
        self.run(async {
            let c = self.db.get().await?;
            c.execute(
                "INSERT INTO rapport.menu (item, kind, title, options, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (item) DO UPDATE SET kind = excluded.kind, title = excluded.title,
                     options = excluded.options, updated_at = excluded.updated_at",
                &[
                    &item.item,
                    &item.kind,
                    &item.title,
                    &options,
                    &Timestamp::now().unix(),
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn personal_of_kind(
        &self,
        kind: Kind,
    ) -> Result<Vec<(PersonId, Timestamp, domain::Personal)>, StoreError> {
        self.sealed_of_kind(kind)
    }

    fn forget(&self, person: &PersonId) -> Result<Option<store::Forgotten>, StoreError> {
        self.run(forget::forget(self, person))
    }

    fn welcome_back(&self, person: &PersonId) -> Result<bool, StoreError> {
        self.run(forget::welcome_back(self, person))
    }

    fn tombstones_after(&self, seq: i64) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT seq, mac FROM rapport.tombstones WHERE seq > $1 ORDER BY seq",
                    &[&seq],
                )
                .await?;
            Ok(rows
                .iter()
                .filter_map(|r| Some((r.get(0), <[u8; 32]>::try_from(r.get::<_, &[u8]>(1)).ok()?)))
                .collect())
        })
    }

    fn latest_tombstone(&self) -> Result<i64, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            Ok(
                c.query_one("SELECT coalesce(max(seq), 0) FROM rapport.tombstones", &[])
                    .await?
                    .get(0),
            )
        })
    }

    fn tombstone_key(&self) -> Result<[u8; 32], StoreError> {
        self.run(self.tombstone_secret())
    }
}

impl store::Scripts for PostgresStore {
    fn scripted(&self) -> Result<domain::scripts::Scripted, StoreError> {
        self.scripted_answers()
    }

    fn scripted_of(&self, people: &[PersonId]) -> Result<domain::scripts::Scripted, StoreError> {
        let ids: Vec<&str> = people.iter().map(PersonId::as_str).collect();
        // By the people's ledger keys, given as a value: PostgreSQL then reads only their
        // partitions (through a join it would open every one, on every server).
        let sql = format!(
            "SELECT a.seq FROM rapport.script_answers a
             JOIN rapport.script_variants v ON v.id = a.variant
             JOIN rapport.scripts s ON s.id = v.script
             WHERE a.person = ANY($1) AND s.people > {}",
            domain::scripts::OTHERS
        );
        self.run(async {
            let c = self.db.get().await?;
            let pks: Vec<i64> = c
                .query("SELECT pk FROM rapport.people WHERE id = ANY($1)", &[&ids])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let rows = c.query(&sql, &[&pks]).await?;
            Ok(domain::scripts::Scripted::new(
                rows.iter().map(|r| r.get::<_, i64>(0)).collect(),
            ))
        })
    }

    fn scripts(&self, limit: usize) -> Result<store::ScriptsOverview, StoreError> {
        self.scripts_overview(limit)
    }

    fn script_recipients(
        &self,
        script: i64,
        limit: usize,
    ) -> Result<Vec<store::Received>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT p.id, a.at, a.by FROM rapport.script_variants v
                     JOIN rapport.script_answers a ON a.variant = v.id
                     JOIN rapport.people p ON p.pk = a.person
                     WHERE v.script = $1 ORDER BY a.at DESC, a.seq DESC LIMIT $2",
                    &[&script, &(limit as i64)],
                )
                .await?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    Some(store::Received {
                        person: PersonId::parse(r.get::<_, &str>(0)).ok()?,
                        at: Timestamp::from_unix(r.get(1)),
                        by: r.get(2),
                    })
                })
                .collect())
        })
    }

    fn regroup(&self) -> Result<store::Regrouped, StoreError> {
        self.regroup_all()
    }
}
