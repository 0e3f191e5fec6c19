//! This backend's errors, and how they become the store's neutral [`StoreError`].
//!
//! Inside the backend every fallible step returns [`Error`], which takes both SQLite's errors
//! and the store's own with `?`; at the edge (the trait methods) it becomes a [`StoreError`],
//! where SQLite's "busy", "locked" and "read-only" are named as what they mean for a person
//! and no driver type is left.

use store::StoreError;

#[derive(Debug)]
pub enum Error {
    Sql(rusqlite::Error),
    Store(StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Sql(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Sql(e) => sql(e),
        }
    }
}

/// SQLite's error as the store's.
pub fn sql(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            message: "the ledger is busy: another program is writing to it; try again when it \
                      has finished"
                .into(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            message: "the ledger is read-only here: rapport must be able to write to the \
                      ledger, its vault and their folder (the audit log, imports and \
                      migrations write); check their permissions"
                .into(),
        },
        _ => StoreError::Database {
            message: e.to_string(),
        },
    }
}

/// Runs `f`, turning this backend's error into the store's (the trait methods' edge).
pub fn run<T>(f: impl FnOnce() -> Result<T>) -> Result<T, StoreError> {
    f().map_err(StoreError::from)
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Sql(e) => e.fmt(f),
            Error::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_database_is_called_read_only() {
        let e = StoreError::from(Error::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some("attempt to write a readonly database".into()),
        )));
        assert!(matches!(e, StoreError::ReadOnly { .. }), "{e:?}");
        assert!(e.to_string().contains("read-only"), "{e}");
    }
}
