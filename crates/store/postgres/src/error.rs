//! This backend's errors, and how they become the store's neutral [`StoreError`].
//!
//! Inside the backend every fallible step returns [`Error`], which takes the driver's, the
//! pool's and the store's own errors with `?`; at the edge (the trait methods) it becomes a
//! [`StoreError`] that says in one line what happened and what to do — a server that does not
//! answer, a database that does not exist, a login refused — with the server's place (host,
//! port, database, user) and never a password.

use deadpool_postgres::PoolError;
use store::StoreError;
use tokio_postgres::error::SqlState;

/// A failure inside the backend, before it is said as a [`StoreError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server or the driver said no.
    #[error(transparent)]
    Pg(tokio_postgres::Error),
    /// No connection could be had.
    #[error(transparent)]
    Pool(PoolError),
    /// The store's own (a key that does not open, a damaged row, a busy ledger).
    #[error(transparent)]
    Store(StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Error {
        Error::Pg(e)
    }
}

impl From<PoolError> for Error {
    fn from(e: PoolError) -> Error {
        Error::Pool(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl Error {
    /// Whether this is the database saying a unique key already holds the value.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Pg(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
    }
}

/// Where the ledger is, for messages: never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the PostgreSQL ledger {} on {}:{} (user {})",
            self.database, self.host, self.port, self.user
        )
    }
}

/// Whether `e` says a server could not be reached (this one, or one holding partitions).
pub fn unreachable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(c) => c.code().starts_with("08") || c.code().starts_with("57P"),
    }
}

/// The shard server a `postgres_fdw` message names (`server "rapport_s2"` → `s2`).
fn shard_server(detail: &str) -> Option<String> {
    let start = detail.find("server \"rapport_")? + "server \"rapport_".len();
    let end = detail[start..].find('"')?;
    Some(detail[start..start + end].to_owned())
}

impl Place {
    /// The store's error for `e`, said in terms of this place.
    pub fn error(&self, e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Pool(PoolError::Backend(e)) | Error::Pg(e) => self.pg(e),
            Error::Pool(PoolError::Timeout(_)) => StoreError::Unavailable {
                message: format!(
                    "{self} did not answer in time: is the server running and reachable? \
                     (rapport tries again by itself)"
                ),
            },
            Error::Pool(e) => StoreError::Unavailable {
                message: format!("{self} cannot be reached now ({e}); try again"),
            },
        }
    }

    fn pg(&self, e: tokio_postgres::Error) -> StoreError {
        let Some(code) = e.code() else {
            // No answer from the server at all: refused, reset, timed out or closed.
            let cause = std::error::Error::source(&e)
                .map(|c| c.to_string())
                .unwrap_or_else(|| e.to_string());
            return StoreError::Unavailable {
                message: format!(
                    "cannot reach {self}: {cause} — is the server running, and are host and port \
                     right? (rapport reconnects by itself when it is back)"
                ),
            };
        };
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string());
        let c = code.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            StoreError::Unavailable {
                message: format!(
                    "{self}: the server refused the login ({detail}); check the user and password \
                     in the URL (or in PGPASSWORD / ~/.pgpass)"
                ),
            }
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            StoreError::NotALedger {
                message: format!(
                    "{self}: the database {} does not exist; create it first (`createdb {}`), \
                     then run `rapport init` with this URL",
                    self.database, self.database
                ),
            }
        } else if let Some(server) = (c.starts_with("08") || c.starts_with("57P"))
            .then(|| shard_server(&detail))
            .flatten()
        {
            // postgres_fdw could not reach a server holding some of the partitions.
            StoreError::Unavailable {
                message: format!(
                    "the data is on server {server}, which does not answer ({detail}): the \
                     people whose partitions are there are unavailable until it is back; \
                     everyone else is not affected (`rapport shards list` shows which)"
                ),
            }
        } else if c.starts_with("08")
            || c.starts_with("57P")
            || *code == SqlState::TOO_MANY_CONNECTIONS
        {
            StoreError::Unavailable {
                message: format!("{self} is not available now ({detail}); try again shortly"),
            }
        } else if *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::LOCK_NOT_AVAILABLE
        {
            StoreError::Busy {
                message: format!("{self} is busy ({detail}); try again"),
            }
        } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION
            || *code == SqlState::INSUFFICIENT_PRIVILEGE
        {
            StoreError::ReadOnly {
                message: format!(
                    "{self} cannot be written by this user ({detail}): rapport writes to the \
                     schemas rapport and rapport_vault (the audit log, imports, migrations); \
                     grant the user those rights, or connect to the primary server"
                ),
            }
        } else {
            StoreError::Database {
                message: format!("{detail} ({c})"),
            }
        }
    }
}
