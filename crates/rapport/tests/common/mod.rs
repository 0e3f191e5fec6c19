//! A ledger of its own in a temporary folder, and the real `rapport` binary run on it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use store::Totals;

/// The environment variable that runs the command-line tests on PostgreSQL
/// (`RAPPORT_TEST_BACKEND=postgres`; SQLite otherwise).
pub const BACKEND_ENV: &str = "RAPPORT_TEST_BACKEND";

pub struct Ledger {
    pub dir: tempfile::TempDir,
    /// The database of this test, when the tests run on PostgreSQL (dropped with it).
    pg: Option<store_tests::Postgres>,
    /// Or the databases of a ledger spread over three servers (`RAPPORT_TEST_BACKEND=sharded`).
    sharded: Option<store_tests::Sharded>,
}

impl Ledger {
    /// A temporary folder (and, on PostgreSQL, an empty database) where the ledger will be,
    /// not made yet. On which backend: `RAPPORT_TEST_BACKEND`.
    pub fn empty() -> Ledger {
        if std::env::var(BACKEND_ENV).is_ok_and(|b| b == "sharded") {
            let sharded = store_tests::Sharded::new();
            assert!(
                sharded.is_some(),
                "{BACKEND_ENV}=sharded, but the servers are not there (run .ci/clusters and set RAPPORT_TEST_SHARDS)"
            );
            return Ledger {
                dir: tempfile::tempdir().unwrap(),
                pg: None,
                sharded,
            };
        }
        let postgres = std::env::var(BACKEND_ENV).is_ok_and(|b| b == "postgres");
        let pg = if postgres {
            let pg = store_tests::Postgres::new();
            assert!(
                pg.is_some(),
                "{BACKEND_ENV}=postgres, but no PostgreSQL server answers"
            );
            pg
        } else {
            None
        };
        Ledger {
            dir: tempfile::tempdir().unwrap(),
            pg,
            sharded: None,
        }
    }

    /// A ledger spread over three servers whatever the backend under test, or `None` (said)
    /// where the other servers are not given (`RAPPORT_TEST_SHARDS`; `.ci/clusters`).
    pub fn sharded_new() -> Option<Ledger> {
        let sharded = store_tests::Sharded::new()?;
        Some(Ledger::made(Ledger {
            dir: tempfile::tempdir().unwrap(),
            pg: None,
            sharded: Some(sharded),
        }))
    }

    /// A SQLite ledger's folder whatever the backend under test: for what only a file has
    /// (its vault file, its key file beside it, its writer lock file).
    pub fn sqlite_empty() -> Ledger {
        Ledger {
            dir: tempfile::tempdir().unwrap(),
            pg: None,
            sharded: None,
        }
    }

    pub fn new() -> Ledger {
        Ledger::made(Ledger::empty())
    }

    pub fn sqlite_new() -> Ledger {
        Ledger::made(Ledger::sqlite_empty())
    }

    fn made(l: Ledger) -> Ledger {
        let out = l.run(&["init"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(s) = &l.sharded {
            let key = std::fs::read_to_string(l.key_file()).unwrap();
            let store = store_postgres::PostgresStore::open(
                s.coordinator.url(),
                store::MasterKey::from_hex(&key).unwrap(),
            )
            .unwrap();
            s.spread(&store).unwrap();
        }
        l
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some() || self.sharded.is_some()
    }

    /// The ledger spread over three servers, when the tests run so.
    pub fn sharded(&self) -> Option<&store_tests::Sharded> {
        self.sharded.as_ref()
    }

    /// The PostgreSQL URL of the ledger (its coordinating server's, when spread).
    fn pg_url(&self) -> Option<&str> {
        match (&self.pg, &self.sharded) {
            (Some(pg), _) => Some(pg.url()),
            (_, Some(s)) => Some(s.coordinator.url()),
            _ => None,
        }
    }

    /// The SQLite file (meaningful only when not on PostgreSQL).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("rapport.db")
    }

    /// What `--db` / `RAPPORT_DB` is for this ledger.
    pub fn db_arg(&self) -> String {
        match self.pg_url() {
            Some(url) => url.to_owned(),
            None => self.db().display().to_string(),
        }
    }

    /// The file the master key is kept in.
    pub fn key_file(&self) -> PathBuf {
        match self.pg_url() {
            Some(_) => self.dir.path().join("master-key"),
            None => store::MasterKey::default_path(&self.db()),
        }
    }

    /// The binary, set up to run on this ledger (arguments still to add).
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rapport"));
        c.env("RAPPORT_DB", self.db_arg())
            .env_remove("RAPPORT_MASTER_KEY")
            .current_dir(self.dir.path());
        let partitions = if self.sharded.is_some() {
            store_tests::SHARDED_PARTITIONS.to_string()
        } else {
            "4".to_owned()
        };
        match self.pg_url() {
            // A few partitions: the layout of a real ledger, quicker to make and drop.
            Some(_) => c
                .env(app::MASTER_KEY_FILE_ENV, self.key_file())
                .env("RAPPORT_PARTITIONS", partitions),
            None => c.env_remove(app::MASTER_KEY_FILE_ENV),
        };
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// The ledger, opened as the command line opens it.
    pub fn ledger(&self) -> std::sync::Arc<dyn store::Ledger> {
        self.try_ledger().unwrap()
    }

    pub fn try_ledger(&self) -> Result<std::sync::Arc<dyn store::Ledger>, String> {
        let location = app::Location::parse(&self.db_arg());
        let key = match self.pg_url() {
            Some(_) => std::fs::read_to_string(self.key_file())
                .map_err(|e| e.to_string())
                .and_then(|t| store::MasterKey::from_hex(&t).map_err(|e| e.to_string()))?,
            None => location.master_key().map_err(|e| e.to_string())?,
        };
        let app = app::App::open(&location, key).map_err(|e| e.to_string())?;
        Ok(app.ledger().clone())
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn import(&self, name: &str, content: &[u8]) -> Output {
        let p = self.write(name, content);
        self.run(&["import", p.to_str().unwrap()])
    }

    pub fn totals(&self) -> Totals {
        self.ledger().totals().unwrap()
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The ledger at `db`, opened as the command line opens it (its master key beside it).
pub fn open_ledger(db: &std::path::Path) -> std::sync::Arc<dyn store::Ledger> {
    try_open_ledger(db).unwrap()
}

/// [`open_ledger`], or why it did not open.
pub fn try_open_ledger(db: &std::path::Path) -> Result<std::sync::Arc<dyn store::Ledger>, String> {
    let location = app::Location::Sqlite(db.to_owned());
    let key = location.master_key().map_err(|e| e.to_string())?;
    let app = app::App::open(&location, key).map_err(|e| e.to_string())?;
    Ok(app.ledger().clone())
}
