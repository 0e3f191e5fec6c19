//! How a use case fails, in terms a face can turn into an exit code or an HTTP status.

use store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The ledger failed (or is busy, unreachable, read-only: see [`StoreError`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such person in the ledger.
    #[error("no person {person} in {ledger}")]
    NoPerson { person: String, ledger: String },
    /// Something a person gave is wrong: which field, and why.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The request is understood but cannot be done as things stand (a full menu, welcoming
    /// back someone who is in the ledger).
    #[error("{0}")]
    Refused(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Another writer held the ledger: the same request may simply be sent again.
    pub fn is_busy(&self) -> bool {
        matches!(self, AppError::Store(e) if e.is_busy())
    }

    /// The database could not be reached (it may come back).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AppError::Store(e) if e.is_unavailable())
    }
}
