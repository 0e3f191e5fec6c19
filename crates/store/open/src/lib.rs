//! Where a ledger is: a SQLite file (the embedded default) or a PostgreSQL database, told
//! apart once, from `--db` / `RAPPORT_DB`, and its master key found the same way for every
//! command. Opening a location gives the storage traits (`store::Ledger`): this is the one
//! place that chooses a backend, so the application layer and the faces above it never name
//! one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use store::keys::MASTER_KEY_ENV;
use store::{Ledger, MasterKey, StoreError};
use store_postgres::PostgresStore;
use store_sqlite::SqliteStore;

/// The environment variable that may name a file holding the master key (64 hex digits).
pub const MASTER_KEY_FILE_ENV: &str = "RAPPORT_MASTER_KEY_FILE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite ledger file; its vault and master key file lie beside it.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its `postgres://` URL.
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is a PostgreSQL database; anything else a file path.
    pub fn parse(s: &str) -> Location {
        let lower = s.trim().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(s.trim().to_owned())
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    }

    /// The file of a SQLite ledger.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Where the key vault of this ledger is, in words.
    pub fn vault(&self) -> String {
        match self {
            Location::Sqlite(p) => SqliteStore::vault_path(p).display().to_string(),
            Location::Postgres(_) => "the schema rapport_vault of the same database".into(),
        }
    }

    /// Where a new master key is written by default: beside a SQLite ledger; for PostgreSQL,
    /// the file `RAPPORT_MASTER_KEY_FILE` names, if any (keep it away from the database).
    pub fn default_key_file(&self) -> Option<PathBuf> {
        if let Ok(f) = std::env::var(MASTER_KEY_FILE_ENV)
            && !f.trim().is_empty()
        {
            return Some(PathBuf::from(f));
        }
        match self {
            Location::Sqlite(p) => Some(MasterKey::default_path(p)),
            Location::Postgres(_) => None,
        }
    }

    /// The file the master key is read from, when it is not given by `RAPPORT_MASTER_KEY`.
    pub fn key_file_in_use(&self) -> Option<PathBuf> {
        if std::env::var(MASTER_KEY_ENV).is_ok_and(|v| !v.trim().is_empty()) {
            return None;
        }
        self.default_key_file()
    }

    /// The master key: `RAPPORT_MASTER_KEY`, else the file `RAPPORT_MASTER_KEY_FILE` names,
    /// else (SQLite) the key file beside the ledger.
    pub fn master_key(&self) -> Result<MasterKey, StoreError> {
        if let Ok(v) = std::env::var(MASTER_KEY_ENV)
            && !v.trim().is_empty()
        {
            return MasterKey::from_hex(&v);
        }
        let Some(path) = self.default_key_file() else {
            return Err(StoreError::MasterKey {
                message: format!(
                    "no master key: set {MASTER_KEY_ENV} (64 hex digits) or {MASTER_KEY_FILE_ENV} \
                     (a file holding them) for a PostgreSQL ledger"
                ),
            });
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => MasterKey::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::MasterKey {
                message: format!(
                    "no master key: {} does not exist and {MASTER_KEY_ENV} is not set (run \
                     `rapport init`, or restore the key file)",
                    path.display()
                ),
            }),
            Err(e) => Err(StoreError::MasterKey {
                message: format!("cannot read {}: {e}", path.display()),
            }),
        }
    }

    /// Removes a SQLite ledger's files — the ledger, its vault, their logs, its master key
    /// file and writer lock — to build it anew (the demo does). A PostgreSQL database is
    /// never removed by rapport: drop it yourself.
    pub fn remove_files(&self) -> Result<(), StoreError> {
        let Location::Sqlite(db) = self else {
            return Err(StoreError::NotALedger {
                message: format!(
                    "{self} is a PostgreSQL database: rapport does not drop databases (drop and \
                     create it again yourself)"
                ),
            });
        };
        let vault = SqliteStore::vault_path(db);
        let mut paths = vec![
            db.clone(),
            vault.clone(),
            MasterKey::default_path(db),
            store::keys::sibling(db, "writer"),
        ];
        for base in [db, &vault] {
            for suffix in ["-wal", "-shm"] {
                let mut p = base.as_os_str().to_owned();
                p.push(suffix);
                paths.push(PathBuf::from(p));
            }
        }
        for p in paths {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(StoreError::ReadOnly {
                        message: format!("cannot remove {}: {e}", p.display()),
                    });
                }
            }
        }
        Ok(())
    }

    /// Opens the existing ledger here (with its own vault).
    pub fn open(&self, master: MasterKey) -> Result<Arc<dyn Ledger>, StoreError> {
        match self {
            Location::Sqlite(p) => Ok(Arc::new(SqliteStore::open(p, master)?)),
            Location::Postgres(url) => Ok(Arc::new(PostgresStore::open(url, master)?)),
        }
    }

    /// Makes a new ledger here, refusing one that is already there.
    pub fn create(&self, master: MasterKey) -> Result<Arc<dyn Ledger>, StoreError> {
        match self {
            Location::Sqlite(p) => Ok(Arc::new(SqliteStore::create(p, master)?)),
            Location::Postgres(url) => Ok(Arc::new(PostgresStore::create(url, master)?)),
        }
    }
}

impl std::fmt::Display for Location {
    /// The place, never with a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// A URL with any password replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    match auth {
        Some(a) => match a.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{a}@{host}"),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_a_database_and_anything_else_a_file() {
        assert_eq!(
            Location::parse("postgres://u@h/db"),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(
            Location::parse("PostgreSQL://h/db"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("rapport.db"),
            Location::Sqlite("rapport.db".into())
        );
        assert_eq!(
            Location::parse("./postgres/ledger.db"),
            Location::Sqlite("./postgres/ledger.db".into())
        );
    }

    #[test]
    fn a_location_is_shown_without_its_password() {
        assert_eq!(
            Location::parse("postgres://ada:s3cret@db.example:5432/rapport").to_string(),
            "postgres://ada:***@db.example:5432/rapport"
        );
        assert_eq!(
            without_password("postgres://ada@db/r"),
            "postgres://ada@db/r"
        );
        assert_eq!(without_password("postgres://db/r"), "postgres://db/r");
    }
}
