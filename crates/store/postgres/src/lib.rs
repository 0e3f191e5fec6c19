//! rapport's ledger on a PostgreSQL server: the events and everything else in a schema
//! `rapport`, the key vault in a schema `rapport_vault` of the same database.
//!
//! Why one database with two schemas: a person's key and the events it seals are written in
//! one transaction (an import that fails leaves neither), forgetting deletes the key and the
//! rows together, and still the vault can be given a role of its own and backed up apart
//! (`pg_dump -n rapport_vault`), so that a backup of the events alone holds nothing readable.
//! docs/postgres.md says what erasure guarantees here and what it cannot.
//!
//! Behaviour is the SQLite backend's (the conformance suite in `crates/store/conformance` holds
//! both to it); what differs is how: imports `COPY` their rows in binary chunks, one writer
//! at a time holds an advisory lock and names itself in `application_name`, whole-ledger
//! scans stream in person order on two connections, and nothing is cached for long, so that
//! several servers can share one database (tokens, tombstones and people are read fresh).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use deadpool_postgres::GenericClient;
use domain::readings::Recorded;
use domain::{EventId, PersonId, Source, Timestamp};
use store::keys::{self, Keyring, WrappedKeys};
use store::{AuditEntry, Batch, FullEvent, MasterKey, Store, StoreError, Totals};

mod access;
mod bank;
mod batch;
mod costs;
mod data;
mod db;
mod direct;
pub mod error;
mod fits;
mod forget;
mod kept;
pub mod layout;
mod lock;
pub mod partition;
mod remote;
mod scan;
mod scripts;
mod shards;
mod vault;

use db::Db;
use error::{Error, Place, Result};

/// A migration: statements, or the partitioning of the person-keyed tables (which renumbers
/// people's keys, and so needs code).
enum Step {
    Sql(&'static str),
    Partition,
}

/// Migrations, applied in order on open; `rapport.meta`'s `schema` says how many have run.
const MIGRATIONS: &[Step] = &[
    Step::Sql(include_str!("migrations/0001_ledger.sql")),
    Step::Sql(include_str!("migrations/0002_kept.sql")),
    Step::Partition,
    Step::Sql(include_str!("migrations/0003_bank.sql")),
    Step::Sql(include_str!("migrations/0004_fit_covariance.sql")),
];

/// The number of partitions a new ledger gets: `RAPPORT_PARTITIONS` where set (a small ledger,
/// the tests), else [`layout::DEFAULT_PARTITIONS`]. Fixed once the ledger is made.
fn partitions_wanted() -> Result<u32> {
    match std::env::var("RAPPORT_PARTITIONS") {
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if (1..=1024).contains(&n) => Ok(n),
            _ => Err(StoreError::NotALedger {
                message: format!(
                    "RAPPORT_PARTITIONS is {v:?}: give a whole number of partitions from 1 to 1024"
                ),
            }
            .into()),
        },
        Err(_) => Ok(layout::DEFAULT_PARTITIONS),
    }
}

/// Person id → ledger key, with what it was read at: the forgetting generation (forgetting
/// elsewhere makes it stale) and the largest key (people added by another writer since).
#[derive(Default)]
pub(crate) struct People {
    pub(crate) map: Option<HashMap<String, i64>>,
    pub(crate) generation: i64,
    pub(crate) max_pk: i64,
}

/// A rapport ledger in a PostgreSQL database. One store is shared by every thread of a
/// process; several processes (servers, the command line) may share one database.
pub struct PostgresStore {
    db: Arc<Db>,
    keys: Arc<Keyring>,
    people: Mutex<People>,
    tombstone_key: OnceLock<[u8; 32]>,
    /// How many partitions each person-keyed table has (fixed when the ledger was made).
    pub(crate) partitions: u32,
}

/// A fresh identity for a ledger and its vault: 128 random bits in hex.
fn new_vault_id() -> String {
    use rand::RngCore;
    let mut id = [0u8; 16];
    rand::rng().fill_bytes(&mut id);
    hex::encode(id)
}

async fn exists(c: &impl GenericClient, table: &str) -> Result<bool> {
    let row = c
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await?;
    Ok(row.get(0))
}

async fn meta(c: &impl GenericClient, table: &str, key: &str) -> Result<Option<String>> {
    let row = c
        .query_opt(
            &format!("SELECT value FROM {table} WHERE key = $1"),
            &[&key],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

async fn set_meta(c: &impl GenericClient, table: &str, key: &str, value: &str) -> Result<()> {
    c.execute(
        &format!(
            "INSERT INTO {table} (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        &[&key, &value],
    )
    .await?;
    Ok(())
}

/// The schema version a ledger is at (0: none).
async fn version(c: &impl GenericClient) -> Result<i64> {
    Ok(meta(c, "rapport.meta", "schema")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Applies the migrations `c` lacks, inside the caller's transaction.
async fn migrate(c: &impl GenericClient, place: &Place, partitions: u32) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let at = if exists(c, "rapport.meta").await? {
        version(c).await?
    } else {
        0
    };
    if at > known {
        return Err(StoreError::NotALedger {
            message: format!(
                "{place} was written by a newer rapport (schema {at}, this one knows {known}): \
                 use that version of rapport"
            ),
        }
        .into());
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(at as usize) {
        match step {
            Step::Sql(sql) => c.batch_execute(sql).await?,
            Step::Partition => layout::partition(c, partitions).await?,
        }
        set_meta(c, "rapport.meta", "schema", &(i + 1).to_string()).await?;
    }
    Ok(())
}

impl PostgresStore {
    /// Makes a new ledger in the existing, empty database the URL names (its schemas
    /// `rapport` and `rapport_vault`). Refuses a database that already holds a ledger or
    /// anything else in those schemas.
    pub fn create(url: &str, master: MasterKey) -> Result<PostgresStore, StoreError> {
        PostgresStore::create_with(url, master, partitions_wanted()?)
    }

    /// [`PostgresStore::create`] with each person-keyed table in `partitions` partitions.
    pub fn create_with(
        url: &str,
        master: MasterKey,
        partitions: u32,
    ) -> Result<PostgresStore, StoreError> {
        if !(1..=1024).contains(&partitions) {
            return Err(StoreError::NotALedger {
                message: format!("{partitions} partitions: choose from 1 to 1024"),
            });
        }
        let db = Db::new(url)?;
        let place = db.place.clone();
        db.run(async {
            let mut c = db.get().await?;
            let taken: Vec<String> = c
                .query(
                    "SELECT nspname::text FROM pg_namespace
                     WHERE nspname IN ('rapport', 'rapport_vault') ORDER BY 1",
                    &[],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if !taken.is_empty() {
                let message = if exists(&c, "rapport.meta").await? {
                    format!("{place} already holds a rapport ledger: open it instead of making one")
                } else {
                    format!(
                        "{place} already has a schema {}: rapport keeps its ledger in schemas of \
                         its own (rapport, rapport_vault); use another database or drop it",
                        taken.join(" and ")
                    )
                };
                return Err(StoreError::NotALedger { message }.into());
            }
            let tx = c.transaction().await?;
            migrate(&tx, &place, partitions).await?;
            let id = new_vault_id();
            set_meta(&tx, "rapport.meta", "vault_id", &id).await?;
            set_meta(&tx, "rapport_vault.meta", "vault_id", &id).await?;
            // A new ledger's index of scripts is complete: it holds no answers yet.
            set_meta(&tx, "rapport.meta", scripts::INDEXED, "yes").await?;
            tx.execute(
                "INSERT INTO rapport_vault.keys (person, wrapped) VALUES ($1, $2)",
                &[&keys::CHECK, &master.check_value()?],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })?;
        PostgresStore::finish_open(db, master)
    }

    /// Opens the ledger in the database the URL names, running any migrations it lacks.
    pub fn open(url: &str, master: MasterKey) -> Result<PostgresStore, StoreError> {
        let db = Db::new(url)?;
        let place = db.place.clone();
        db.run(async {
            let mut c = db.get().await?;
            if !exists(&c, "rapport.meta").await? {
                return Err(StoreError::NotALedger {
                    message: format!(
                        "{place} holds no rapport ledger: run `rapport init` with this URL to \
                         make one (or check the database name)"
                    ),
                }
                .into());
            }
            if version(&c).await? < MIGRATIONS.len() as i64 {
                let tx = c.transaction().await?;
                // Two servers starting at once: one migrates, the other waits and finds it done.
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock::MIGRATE])
                    .await?;
                migrate(&tx, &place, partitions_wanted()?).await?;
                tx.commit().await?;
            } else {
                migrate(&c, &place, layout::DEFAULT_PARTITIONS).await?;
            }
            vault::check(&c, &place, &master).await?;
            Ok(())
        })?;
        let store = PostgresStore::finish_open(db, master)?;
        store.index_scripts_once()?;
        Ok(store)
    }

    fn finish_open(db: Db, master: MasterKey) -> Result<PostgresStore, StoreError> {
        let partitions = db.run(async {
            let c = db.get().await?;
            Ok(meta(&c, "rapport.meta", "partitions")
                .await?
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(layout::DEFAULT_PARTITIONS))
        })?;
        let db = Arc::new(db);
        let keys = Arc::new(Keyring::new(
            master,
            Box::new(Fetch(db.clone(), partitions)),
        ));
        Ok(PostgresStore {
            db,
            keys,
            people: Mutex::new(People::default()),
            tombstone_key: OnceLock::new(),
            partitions,
        })
    }

    /// Where the ledger is (host, port, database, user).
    pub fn place(&self) -> &Place {
        &self.db.place
    }

    pub(crate) fn run<T>(
        &self,
        f: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T, StoreError> {
        self.db.run(f)
    }

    pub(crate) fn people_guard(&self) -> MutexGuard<'_, People> {
        match self.people.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The secret tombstones are keyed with (made in the vault on first use).
    pub(crate) async fn tombstone_secret(&self) -> Result<[u8; 32]> {
        if let Some(k) = self.tombstone_key.get() {
            return Ok(*k);
        }
        let c = self.db.get().await?;
        let k = vault::secret(&c, self.keys.master(), "tombstones").await?;
        Ok(*self.tombstone_key.get_or_init(|| k))
    }

    /// One person's events with their personal fields opened. The key is fetched first,
    /// outside any query, so that the key cache's own query never waits inside this one.
    fn history_of(&self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        // A damaged key is reported on the card, like a field that does not open.
        let key = self.keys.key(person.as_str());
        if let Err(e) = &key
            && e.is_unavailable()
        {
            return Err(key.err().expect("an error"));
        }
        let key_broken = key.is_err();
        let key = key.ok().flatten();
        let Some(rows) = self.run(async {
            let c = self.db.get().await?;
            // The person's ledger key first, then their events by it: a partition is chosen
            // before the query starts only when the key is given (through a join, every
            // partition would be opened, and a server that does not answer would fail
            // everyone's card). Prepared once per connection: a card is a handful of
            // statements, and planning each anew cost as much as running it.
            let part = partition::of_id(person.as_str(), self.partitions);
            let Some(pk) = person_key(&c, person).await? else {
                return Ok(None);
            };
            let server = self.db.server_of(&c, part).await?;
            let events = "SELECT e.source, e.seq, e.at, e.kind, e.body, e.lines, e.id, s.blob
                 FROM rapport.events{p} e
                 LEFT JOIN rapport.sealed{p} s ON s.person = $1 AND s.seq = e.seq
                 WHERE e.person = $1 ORDER BY e.at, e.seq";
            if let Some(server) = server {
                // Straight from the server holding the partition (see `remote`).
                let r = self.db.remote(&c, &server).await?;
                let sql = events.replace("{p}", &format!("_p{part:02}"));
                let stmt = r.prepare_cached(&sql).await;
                match stmt {
                    Ok(stmt) => match r.query(&stmt, &[&pk]).await {
                        Ok(rows) => return Ok(Some(rows)),
                        Err(e) => remote::unless_moved(&server, e)?,
                    },
                    Err(e) => remote::unless_moved(&server, e)?,
                }
            }
            let stmt = c.prepare_cached(&events.replace("{p}", "")).await?;
            Ok(Some(c.query(&stmt, &[&pk]).await?))
        })?
        else {
            return Ok(None);
        };
        self.open_rows(rows, key.as_ref(), key_broken)
            .map_err(StoreError::from)
            .map(Some)
    }

    fn open_rows(
        &self,
        rows: Vec<tokio_postgres::Row>,
        key: Option<&keys::PersonKey>,
        key_broken: bool,
    ) -> Result<Vec<FullEvent>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let source: &str = row.get(0);
            let recorded = scan::decode(
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
                true,
            )?;
            let id: &str = row.get(6);
            let sealed: Option<&[u8]> = row.get(7);
            // One field that does not open must not hide the rest of the card.
            let (personal, unreadable) = match (sealed, key) {
                (Some(blob), Some(k)) => match keys::open_personal(k, source, id, blob) {
                    Ok(p) => (Some(p), false),
                    Err(_) => (None, true),
                },
                (Some(_), None) => (None, key_broken),
                (None, _) => (None, false),
            };
            out.push(FullEvent {
                seq: recorded.seq,
                source: Source::parse(source).map_err(|e| StoreError::Corrupt {
                    message: e.to_string(),
                })?,
                id: EventId::parse(id).map_err(|e| StoreError::Corrupt {
                    message: e.to_string(),
                })?,
                at: recorded.at,
                body: recorded.body,
                personal,
                unreadable,
            });
        }
        Ok(out)
    }
}

/// The ledger key of a person, if the ledger holds them.
pub(crate) async fn person_key(c: &impl GenericClient, person: &PersonId) -> Result<Option<i64>> {
    let stmt = c
        .prepare_cached("SELECT pk FROM rapport.people WHERE id = $1")
        .await?;
    Ok(c.query_opt(&stmt, &[&person.as_str()])
        .await?
        .map(|r| r.get(0)))
}

/// Wrapped keys as the shared key cache fetches them: from the vault schema, committed; from
/// the server holding the person's partition when it is another (see `remote`).
struct Fetch(Arc<Db>, u32);

impl WrappedKeys for Fetch {
    fn wrapped(&self, person: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let db = &self.0;
        db.block_anywhere(async {
            let c = db.get().await?;
            let part = partition::of_id(person, self.1);
            if let Some(server) = db.server_of(&c, part).await? {
                let r = db.remote(&c, &server).await?;
                let sql =
                    format!("SELECT wrapped FROM rapport_vault.keys_p{part:02} WHERE person = $1");
                match r.query_opt(&sql, &[&person]).await {
                    Ok(row) => return Ok(row.map(|r| r.get(0))),
                    Err(e) => remote::unless_moved(&server, e)?,
                }
            }
            let stmt = c
                .prepare_cached("SELECT wrapped FROM rapport_vault.keys WHERE person = $1")
                .await?;
            Ok(c.query_opt(&stmt, &[&person]).await?.map(|r| r.get(0)))
        })
        .map_err(|e| db.place.error(e))
    }
}

fn audit_entry(r: &tokio_postgres::Row, first: usize) -> AuditEntry {
    AuditEntry {
        at: Timestamp::from_unix(r.get(first)),
        actor: r.get(first + 1),
        action: r.get(first + 2),
        person: r.get(first + 3),
    }
}

impl Store for PostgresStore {
    fn batch(&self, origin: &str) -> Result<Box<dyn Batch + '_>, StoreError> {
        batch::begin(self, origin, &mut |_| false)
    }

    fn batch_waiting(
        &self,
        origin: &str,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn Batch + '_>, StoreError> {
        batch::begin(self, origin, waiting)
    }

    fn totals(&self) -> Result<Totals, StoreError> {
        // Events: what every import added, less what forgetting removed (counting the events
        // themselves reads the whole table).
        self.run(async {
            let c = self.db.get().await?;
            let r = c
                .query_one(
                    "SELECT (SELECT count(*) FROM rapport.people),
                            (SELECT coalesce(sum(added), 0) FROM rapport.imports)::bigint
                            - (SELECT coalesce(sum(events), 0) FROM rapport.forgotten)::bigint",
                    &[],
                )
                .await?;
            Ok(Totals {
                people: r.get::<_, i64>(0) as u64,
                events: r.get::<_, i64>(1) as u64,
            })
        })
    }

    fn people(&self) -> Result<Vec<PersonId>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query("SELECT id FROM rapport.people ORDER BY pk", &[])
                .await?;
            rows.iter()
                .map(|r| {
                    let id: &str = r.get(0);
                    PersonId::parse(id).map_err(|e| {
                        StoreError::Corrupt {
                            message: format!("person id {id:?}: {e}"),
                        }
                        .into()
                    })
                })
                .collect()
        })
    }

    fn visit_events(&self, visit: &(dyn Fn(usize, &[Recorded]) + Sync)) -> Result<(), StoreError> {
        scan::visit_everyone(self, visit)
    }

    fn events_of(&self, person: &PersonId) -> Result<Option<Vec<Recorded>>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let Some(pk) = person_key(&c, person).await? else {
                return Ok(None);
            };
            scan::person_events(&c, pk).await.map(Some)
        })
    }

    fn event_id(
        &self,
        person: &PersonId,
        seq: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let Some(pk) = person_key(&c, person).await? else {
                return Ok(None);
            };
            Ok(c.query_opt(
                "SELECT source, id FROM rapport.events WHERE person = $1 AND seq = $2",
                &[&pk, &seq],
            )
            .await?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    fn history(&self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, StoreError> {
        self.history_of(person)
    }

    fn audit(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let stmt = c
                .prepare_cached(
                    "INSERT INTO rapport.audit (at, actor, action, person) VALUES ($1, $2, $3, $4)",
                )
                .await?;
            c.execute(
                &stmt,
                &[
                    &Timestamp::now().unix(),
                    &actor,
                    &action,
                    &person.map(PersonId::as_str),
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT at, actor, action, person FROM rapport.audit ORDER BY seq DESC LIMIT $1",
                    &[&(limit as i64)],
                )
                .await?;
            Ok(rows.iter().map(|r| audit_entry(r, 0)).collect())
        })
    }
}

impl store::Admin for PostgresStore {
    fn describe(&self) -> String {
        self.db.place.to_string()
    }

    fn health(&self) -> Result<(), StoreError> {
        self.db.health()
    }

    fn keys(&self) -> &Arc<Keyring> {
        &self.keys
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            meta(&c, "rapport.meta", key).await
        })
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            set_meta(&c, "rapport.meta", key, value).await
        })
    }

    fn rekey(&self, new: &MasterKey) -> Result<store::Rewrapped, StoreError> {
        let n = self.run(vault::rekey(self, new))?;
        self.keys.evict(None);
        Ok(n)
    }
}

impl From<Error> for StoreError {
    /// Without a place to name; inside the backend, [`Place::error`] says more.
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            other => StoreError::Database {
                message: other.to_string(),
            },
        }
    }
}
