//! The conformance suite's harness: every store behaviour test is written once, against
//! `&dyn store::Ledger`, and run against each backend, as atuin runs one database test suite
//! against its SQLite and PostgreSQL servers.
//!
//! A test is a function taking a [`Backend`]; [`conformance!`] makes one `#[test]` per
//! backend from it (`the_test_name::sqlite`, `the_test_name::postgres`). A backend gives each
//! test a ledger of its own — a temporary folder, or a database `rapport_test_<random>`
//! created on the server `RAPPORT_TEST_POSTGRES` names (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and dropped afterwards, also when the test
//! fails. Without a server that answers, the PostgreSQL half says it is skipped and passes,
//! unless `RAPPORT_POSTGRES_TESTS=require` (CI), where it fails.
//!
//! What no trait can do — read the bytes of the database's files, damage a sealed field, move
//! the vault away — each backend does its own way behind the same methods.

use std::path::{Path, PathBuf};

use store::{Ledger, MasterKey, StoreError};
use store_postgres::PostgresStore;
use store_sqlite::SqliteStore;

/// The server the PostgreSQL half creates its databases on.
pub const POSTGRES_ENV: &str = "RAPPORT_TEST_POSTGRES";
/// `require`: fail instead of skipping when no PostgreSQL server answers.
pub const REQUIRE_ENV: &str = "RAPPORT_POSTGRES_TESTS";
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A backend holding one test's ledger.
pub trait Backend {
    fn name(&self) -> &'static str;
    /// Makes the ledger (once).
    fn create(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError>;
    /// Opens the same ledger again, as a second process would.
    fn open(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError>;
    /// Opens a ledger that was never made, here.
    fn open_missing(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError>;
    /// Makes everything committed reach the files (a checkpoint).
    fn flush(&self);
    /// Every file that holds the ledger's data (not its vault).
    fn data_files(&self) -> Vec<PathBuf>;
    /// Every file that holds the vault.
    fn vault_files(&self) -> Vec<PathBuf>;
    /// Whether this process can read the database's files (a PostgreSQL server on another
    /// machine, or one whose data directory is not readable here, cannot be scanned).
    fn files_readable(&self) -> bool {
        true
    }
    /// Whether forgetting removes the person's id from the data files at once (SQLite zeroes
    /// deleted rows; PostgreSQL leaves old row versions until its vacuum).
    fn erases_ids_at_once(&self) -> bool;
    /// Whether nothing but this test runs long transactions on the servers, so that the
    /// vault's rewrite after forgetting is never held back (`Forgotten::cleared_now`). Not so
    /// for the servers a sharded test spreads over: every sharded test running beside it
    /// uses the same two, and a rewrite there waits for every older transaction on the server.
    /// When the rewrite was held back, the files are not scanned for the key.
    fn servers_to_itself(&self) -> bool {
        true
    }
    /// The person's wrapped key as the vault holds it.
    fn wrapped_key(&self, person: &str) -> Option<Vec<u8>>;
    /// Gives the event `to_id` the sealed blob of event `from_id` (damage).
    fn swap_sealed(&self, from_id: &str, to_id: &str);
    /// Moves the vault away, or back.
    fn move_vault(&self, away: bool);
    /// Gives the vault another ledger's identity.
    fn foreign_vault(&self);
}

/// Runs each listed test against every backend: one `#[test]` per backend.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&$crate::Sqlite::new());
            }
            #[test]
            fn postgres() {
                if let Some(b) = $crate::Postgres::new() {
                    super::$name(&b);
                }
            }
            #[test]
            fn sharded() {
                if let Some(b) = $crate::Sharded::new() {
                    super::$name(&b);
                }
            }
        }
    )*};
}

/// A SQLite ledger in a temporary folder.
pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Default for Sqlite {
    fn default() -> Self {
        Sqlite::new()
    }
}

impl Sqlite {
    pub fn new() -> Sqlite {
        Sqlite {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("l.db")
    }

    fn conn(&self, path: &Path) -> rusqlite::Connection {
        rusqlite::Connection::open(path).expect("the test opens the file")
    }
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn create(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        Ok(Box::new(SqliteStore::create(&self.path(), key.clone())?))
    }
    fn open(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        Ok(Box::new(SqliteStore::open(&self.path(), key.clone())?))
    }
    fn open_missing(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        Ok(Box::new(SqliteStore::open(
            &self.dir.path().join("none.db"),
            key.clone(),
        )?))
    }
    fn flush(&self) {
        for p in [self.path(), SqliteStore::vault_path(&self.path())] {
            self.conn(&p)
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .expect("checkpoint");
        }
    }
    fn data_files(&self) -> Vec<PathBuf> {
        self.files()
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains(".vault"))
            .collect()
    }
    fn vault_files(&self) -> Vec<PathBuf> {
        self.files()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".vault"))
            .collect()
    }
    fn erases_ids_at_once(&self) -> bool {
        true
    }
    fn wrapped_key(&self, person: &str) -> Option<Vec<u8>> {
        use rusqlite::OptionalExtension;
        self.conn(&SqliteStore::vault_path(&self.path()))
            .query_row(
                "SELECT wrapped FROM keys WHERE person = ?1",
                [person],
                |r| r.get(0),
            )
            .optional()
            .expect("the vault answers")
    }
    fn swap_sealed(&self, from_id: &str, to_id: &str) {
        self.conn(&self.path())
            .execute(
                "UPDATE sealed SET blob = (SELECT s.blob FROM sealed s JOIN events e ON e.seq = s.seq
                                           WHERE e.id = ?1)
                 WHERE seq = (SELECT seq FROM events WHERE id = ?2)",
                [from_id, to_id],
            )
            .expect("the sealed field is swapped");
    }
    fn move_vault(&self, away: bool) {
        let vault = SqliteStore::vault_path(&self.path());
        let moved = self.dir.path().join("moved-away");
        let (from, to) = if away {
            (&vault, &moved)
        } else {
            (&moved, &vault)
        };
        std::fs::rename(from, to).expect("the vault moves");
    }
    fn foreign_vault(&self) {
        self.conn(&SqliteStore::vault_path(&self.path()))
            .execute(
                "UPDATE meta SET value = 'another' WHERE key = 'vault_id'",
                [],
            )
            .expect("the vault's identity changes");
    }
}

impl Sqlite {
    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .expect("the folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.is_file())
            .collect()
    }
}

/// A database of its own on the test server, dropped when the test ends.
pub struct Postgres {
    admin: String,
    name: String,
    url: String,
    rt: tokio::runtime::Runtime,
}

/// The URL without its password, for messages.
pub fn without_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    match (url[start..].find(':'), url[start..].find('@')) {
        (Some(colon), Some(at)) if colon < at => {
            format!("{}{}", &url[..start + colon], &url[start + at..])
        }
        _ => url.to_owned(),
    }
}

/// The URL `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    format!("{}/{db}{query}", &base[..authority_end])
}

impl Postgres {
    /// A fresh database, or `None` (said on stderr) when no server answers and PostgreSQL
    /// tests are not required.
    pub fn new() -> Option<Postgres> {
        let admin = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "require");
        Postgres::on(admin, required)
    }

    /// A fresh database on the server `admin` names (see [`Postgres::new`]).
    pub fn on(admin: String, required: bool) -> Option<Postgres> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let name = format!("rapport_test_{:016x}", rand::random::<u64>());
        let shown = without_password(&admin);
        let made = rt.block_on(async {
            let (client, conn) = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                tokio_postgres::connect(&admin, tokio_postgres::NoTls),
            )
            .await
            .map_err(|_| "no answer within 3 s".to_string())?
            .map_err(|e| e.to_string())?;
            let task = tokio::spawn(conn);
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .map_err(|e| e.to_string())?;
            drop(client);
            let _ = task.await;
            Ok::<_, String>(())
        });
        match made {
            Ok(()) => Some(Postgres {
                url: with_database(&admin, &name),
                admin,
                name,
                rt,
            }),
            Err(e) if required => panic!(
                "PostgreSQL is required ({REQUIRE_ENV}=require) but {shown} does not answer: {e}"
            ),
            Err(e) => {
                eprintln!(
                    "skipped: the PostgreSQL half of this test needs a server at {POSTGRES_ENV} \
                     ({shown}): {e}"
                );
                None
            }
        }
    }

    /// The ledger's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs statements on the test's database (as its owner).
    pub fn sql(&self, statements: &str) {
        self.query(statements, |_| ());
    }

    /// Rows of a query on the test's database, each as its columns' text.
    pub fn rows(&self, query: &str) -> Vec<Vec<Option<String>>> {
        let mut out = Vec::new();
        self.query(query, |msgs| {
            for m in msgs {
                if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                    out.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect());
                }
            }
        });
        out
    }

    fn query(&self, sql: &str, f: impl FnOnce(Vec<tokio_postgres::SimpleQueryMessage>)) {
        let url = self.url.clone();
        let msgs = self.rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("the test database answers");
            let task = tokio::spawn(conn);
            let msgs = client.simple_query(sql).await.expect("the statements run");
            drop(client);
            let _ = task.await;
            msgs
        });
        f(msgs)
    }

    /// The files of the relations of `schema` (tables, their indexes and TOAST), under the
    /// server's data directory.
    pub fn relation_files(&self, schema: &str) -> Vec<PathBuf> {
        let dir = self.rows("SHOW data_directory")[0][0]
            .clone()
            .expect("data_directory");
        self.rows(&format!(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('{schema}', 'pg_toast') AND c.relkind IN ('r', 'i', 't')
               AND (n.nspname = '{schema}' OR c.oid IN (
                   SELECT reltoastrelid FROM pg_class k JOIN pg_namespace m ON m.oid = k.relnamespace
                   WHERE m.nspname = '{schema}'))"
        ))
        .into_iter()
        .filter_map(|r| r[0].clone())
        .flat_map(|rel| {
            // A relation may span segments (.1, .2, …) and forks (_fsm, _vm).
            let base = Path::new(&dir).join(rel);
            let parent = base.parent().map(Path::to_path_buf).unwrap_or_default();
            let stem = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            std::fs::read_dir(&parent)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(move |p| {
                    let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    n == stem || n.starts_with(&format!("{stem}.")) || n.starts_with(&format!("{stem}_"))
                })
                .collect::<Vec<_>>()
        })
        .collect()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = self.rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
            let task = tokio::spawn(conn);
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            drop(client);
            let _ = task.await;
            Ok::<_, tokio_postgres::Error>(())
        });
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn create(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        // A few partitions: the same layout as a real ledger, quicker to make and drop.
        Ok(Box::new(PostgresStore::create_with(
            &self.url,
            key.clone(),
            4,
        )?))
    }
    fn open(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        Ok(Box::new(PostgresStore::open(&self.url, key.clone())?))
    }
    fn open_missing(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        // The database is there, empty: no ledger in it.
        Ok(Box::new(PostgresStore::open(&self.url, key.clone())?))
    }
    fn flush(&self) {
        self.sql("CHECKPOINT");
    }
    fn files_readable(&self) -> bool {
        let dir = self.rows("SHOW data_directory")[0][0]
            .clone()
            .unwrap_or_default();
        let readable = std::fs::read_dir(Path::new(&dir).join("base")).is_ok();
        if !readable && std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "require") {
            panic!(
                "the PostgreSQL server's data directory {dir} is not readable here, and {REQUIRE_ENV}=require"
            );
        }
        readable
    }
    fn data_files(&self) -> Vec<PathBuf> {
        self.relation_files("rapport")
    }
    fn vault_files(&self) -> Vec<PathBuf> {
        self.relation_files("rapport_vault")
    }
    fn erases_ids_at_once(&self) -> bool {
        false
    }
    fn wrapped_key(&self, person: &str) -> Option<Vec<u8>> {
        let rows = self.rows(&format!(
            "SELECT encode(wrapped, 'hex') FROM rapport_vault.keys WHERE person = '{}'",
            person.replace('\'', "''")
        ));
        rows.first().and_then(|r| r[0].clone()).map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
                .collect()
        })
    }
    fn swap_sealed(&self, from_id: &str, to_id: &str) {
        self.sql(&format!(
            "UPDATE rapport.sealed SET blob = (SELECT s.blob FROM rapport.sealed s
                 JOIN rapport.events e ON e.person = s.person AND e.seq = s.seq WHERE e.id = '{from_id}')
             WHERE (person, seq) = (SELECT person, seq FROM rapport.events WHERE id = '{to_id}')"
        ));
    }
    fn move_vault(&self, away: bool) {
        self.sql(if away {
            "ALTER SCHEMA rapport_vault RENAME TO moved_away"
        } else {
            "ALTER SCHEMA moved_away RENAME TO rapport_vault"
        });
    }
    fn foreign_vault(&self) {
        self.sql("UPDATE rapport_vault.meta SET value = 'another' WHERE key = 'vault_id'");
    }
}

/// The other servers a sharded test ledger spreads over (comma-separated URLs, as
/// `.ci/clusters` prints them).
pub const SHARDS_ENV: &str = "RAPPORT_TEST_SHARDS";
/// `require`: fail instead of skipping when the other servers are not given or do not answer.
pub const SHARDS_REQUIRE_ENV: &str = "RAPPORT_SHARD_TESTS";
/// How many partitions a sharded test ledger has, and which go where: partitions 0 and 1
/// stay on the coordinator, the rest go round the other servers.
pub const SHARDED_PARTITIONS: u32 = 6;

/// A ledger spread over three servers: a database of its own on the PostgreSQL test server
/// (the coordinator) and one on each server `RAPPORT_TEST_SHARDS` names, all dropped when the
/// test ends. Partitions are placed before anything is written, so every test's people are
/// spread over all three.
pub struct Sharded {
    pub coordinator: Postgres,
    pub shards: Vec<Postgres>,
}

impl Sharded {
    pub fn new() -> Option<Sharded> {
        let required = std::env::var(SHARDS_REQUIRE_ENV).is_ok_and(|v| v == "require");
        let urls = std::env::var(SHARDS_ENV).unwrap_or_default();
        let urls: Vec<String> = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            if required {
                panic!(
                    "{SHARDS_REQUIRE_ENV}=require but {SHARDS_ENV} names no servers (run .ci/clusters)"
                );
            }
            eprintln!(
                "skipped: the sharded half of this test needs other PostgreSQL servers in \
                 {SHARDS_ENV} (`.ci/clusters` makes two and prints the value)"
            );
            return None;
        }
        let coordinator = Postgres::new()?;
        let mut shards = Vec::new();
        for u in urls {
            shards.push(Postgres::on(u, required)?);
        }
        Some(Sharded {
            coordinator,
            shards,
        })
    }

    /// Spreads a new ledger's partitions over the servers.
    pub fn spread(&self, store: &PostgresStore) -> Result<(), StoreError> {
        use store::Shards;
        let mut names = Vec::new();
        for s in &self.shards {
            names.push(store.add_shard_server(s.url(), None)?.name);
        }
        for n in 2..SHARDED_PARTITIONS {
            let to = &names[(n as usize - 2) % names.len()];
            store.move_partition(n, Some(to), &mut |_| ())?;
        }
        Ok(())
    }

    fn each(&self) -> impl Iterator<Item = &Postgres> {
        std::iter::once(&self.coordinator).chain(self.shards.iter())
    }
}

impl Backend for Sharded {
    fn name(&self) -> &'static str {
        "sharded"
    }
    fn servers_to_itself(&self) -> bool {
        false
    }
    fn create(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        let store =
            PostgresStore::create_with(self.coordinator.url(), key.clone(), SHARDED_PARTITIONS)?;
        self.spread(&store)?;
        Ok(Box::new(store))
    }
    fn open(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        self.coordinator.open(key)
    }
    fn open_missing(&self, key: &MasterKey) -> Result<Box<dyn Ledger>, StoreError> {
        self.coordinator.open_missing(key)
    }
    fn flush(&self) {
        self.each().for_each(|p| p.flush());
    }
    fn files_readable(&self) -> bool {
        self.each().all(|p| p.files_readable())
    }
    fn data_files(&self) -> Vec<PathBuf> {
        self.each().flat_map(|p| p.data_files()).collect()
    }
    fn vault_files(&self) -> Vec<PathBuf> {
        self.each().flat_map(|p| p.vault_files()).collect()
    }
    fn erases_ids_at_once(&self) -> bool {
        false
    }
    fn wrapped_key(&self, person: &str) -> Option<Vec<u8>> {
        self.coordinator.wrapped_key(person)
    }
    fn swap_sealed(&self, from_id: &str, to_id: &str) {
        self.coordinator.swap_sealed(from_id, to_id)
    }
    fn move_vault(&self, away: bool) {
        self.coordinator.move_vault(away)
    }
    fn foreign_vault(&self) {
        self.coordinator.foreign_vault()
    }
}

/// Whether any of `files` holds `needle`; the first that does.
pub fn found_in(files: &[PathBuf], needle: &[u8]) -> Option<PathBuf> {
    files.iter().find_map(|p| {
        let bytes = std::fs::read(p).ok()?;
        bytes
            .windows(needle.len())
            .any(|w| w == needle)
            .then(|| p.clone())
    })
}

/// The events of the JSON lines given.
pub fn events(lines: &[&str]) -> Vec<domain::NewEvent> {
    lines
        .iter()
        .map(|l| domain::NewEvent::from_json_line(l).expect("a valid event"))
        .collect()
}

/// Imports `events` in one batch and commits.
pub fn import(store: &dyn Ledger, events: Vec<domain::NewEvent>) -> store::BatchSummary {
    let mut batch = store.batch("test").expect("the ledger takes a batch");
    for e in events {
        batch.append(e).expect("the event is appended");
    }
    batch.commit().expect("the batch commits")
}

/// The ledger number of the event with this id, found through the traits.
pub fn seq_of(store: &dyn Ledger, person: &str, id: &str) -> i64 {
    let p = domain::PersonId::parse(person).expect("a person id");
    let events = store.events_of(&p).expect("events").expect("the person");
    events
        .iter()
        .find(|e| {
            store
                .event_id(&p, e.seq)
                .expect("event id")
                .is_some_and(|(_, i)| i == id)
        })
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("no event {id} of {person}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_server_url_is_shown_without_its_password_and_names_each_test_database() {
        let cases = [
            (
                "postgres://postgres:pw@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            (
                "postgres://postgres@127.0.0.1/postgres",
                "postgres://postgres@127.0.0.1/postgres",
            ),
            ("postgres://h:5432/x", "postgres://h:5432/x"),
        ];
        for (url, shown) in cases {
            assert_eq!(without_password(url), shown);
        }
        assert_eq!(
            with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t"),
            "postgres://u:p@h:1/t?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "t"), "postgres://u@h/t");
    }
}
