//! The business's settings, kept in the ledger itself (its `meta` table): the command line and
//! the server open the same file, so they always follow the same rules, whoever changed them.
//!
//! One setting so far: which purposes need the person's consent before any outreach (opt-in,
//! see `domain::readings::OptIn`). `rapport settings` reads and changes it; may-contact reads
//! it on every call, and everyone's readings when they are computed.

use domain::readings::OptIn;
use store::{SqliteStore, StoreError};

/// The `meta` key of the opt-in purposes.
const OPT_IN: &str = "opt_in";
/// What the ledger holds for "the standard opt-in purposes", so that a later release's
/// standard applies to ledgers that never chose.
pub const DEFAULT: &str = "default";

/// The purposes that need consent first: the ledger's choice, or the standard ones.
pub fn opt_in(store: &SqliteStore) -> Result<OptIn, StoreError> {
    match store.meta(OPT_IN)? {
        None => Ok(OptIn::default()),
        Some(v) if v == DEFAULT => Ok(OptIn::default()),
        Some(v) => OptIn::parse(&v).map_err(|e| StoreError::Corrupt {
            message: format!("the opt-in purposes kept in the ledger ({v:?}): {e}"),
        }),
    }
}

/// Whether the ledger names its own opt-in purposes (rather than the standard ones).
pub fn opt_in_is_default(store: &SqliteStore) -> Result<bool, StoreError> {
    Ok(store.meta(OPT_IN)?.is_none_or(|v| v == DEFAULT))
}

/// Keeps `purposes` as the ledger's opt-in purposes; `None` goes back to the standard ones.
pub fn set_opt_in(store: &SqliteStore, purposes: Option<&OptIn>) -> Result<(), StoreError> {
    let value = purposes.map_or_else(|| DEFAULT.to_owned(), ToString::to_string);
    store.set_meta(OPT_IN, &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MasterKey;

    #[test]
    fn the_opt_in_purposes_are_the_standard_ones_until_the_ledger_names_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
        assert_eq!(opt_in(&store).unwrap(), *OptIn::standard());
        assert!(opt_in_is_default(&store).unwrap());
        let surveys = OptIn::parse("surveys,newsletter").unwrap();
        set_opt_in(&store, Some(&surveys)).unwrap();
        assert_eq!(opt_in(&store).unwrap(), surveys);
        assert!(!opt_in_is_default(&store).unwrap());
        let none = OptIn::parse("none").unwrap();
        set_opt_in(&store, Some(&none)).unwrap();
        assert_eq!(opt_in(&store).unwrap(), none);
        set_opt_in(&store, None).unwrap();
        assert_eq!(opt_in(&store).unwrap(), *OptIn::standard());
        assert!(opt_in_is_default(&store).unwrap());
    }

    #[test]
    fn a_damaged_setting_is_an_error_naming_it_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
        store.set_meta(OPT_IN, "all").unwrap();
        let e = opt_in(&store).unwrap_err().to_string();
        assert!(e.contains("opt-in purposes"), "{e}");
    }
}
