//! The business's settings, kept in the ledger itself: the command line and every server open
//! the same ledger, so they always follow the same rules, whoever changed them.
//!
//! One setting so far: which purposes need the person's consent before any outreach (opt-in,
//! see `domain::readings::OptIn`). `rapport settings` reads and changes it; may-contact reads
//! it on every call, and everyone's readings when they are computed.

use domain::readings::OptIn;
use store::StoreError;

use crate::App;

/// The setting's key.
const OPT_IN: &str = "opt_in";
/// What the ledger holds for "the standard opt-in purposes", so that a later release's
/// standard applies to ledgers that never chose.
pub const DEFAULT: &str = "default";

impl App {
    /// The purposes that need consent first: the ledger's choice, or the standard ones.
    pub fn opt_in(&self) -> Result<OptIn, StoreError> {
        match self.ledger.setting(OPT_IN)? {
            None => Ok(OptIn::default()),
            Some(v) if v == DEFAULT => Ok(OptIn::default()),
            Some(v) => OptIn::parse(&v).map_err(|e| StoreError::Corrupt {
                message: format!("the opt-in purposes kept in the ledger ({v:?}): {e}"),
            }),
        }
    }

    /// Whether the ledger names its own opt-in purposes (rather than the standard ones).
    pub fn opt_in_is_default(&self) -> Result<bool, StoreError> {
        Ok(self.ledger.setting(OPT_IN)?.is_none_or(|v| v == DEFAULT))
    }

    /// Keeps `purposes` as the ledger's opt-in purposes; `None` goes back to the standard ones.
    pub fn set_opt_in(&self, purposes: Option<&OptIn>, actor: &str) -> Result<(), StoreError> {
        let value = purposes.map_or_else(|| DEFAULT.to_owned(), ToString::to_string);
        self.ledger.set_setting(OPT_IN, &value)?;
        self.ledger.audit(actor, "settings.opt-in", None)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::app;
    use domain::readings::OptIn;

    #[test]
    fn the_opt_in_purposes_are_the_standard_ones_until_the_ledger_names_others() {
        let (_dir, app) = app();
        assert_eq!(app.opt_in().unwrap(), *OptIn::standard());
        assert!(app.opt_in_is_default().unwrap());
        let surveys = OptIn::parse("surveys,newsletter").unwrap();
        app.set_opt_in(Some(&surveys), "test").unwrap();
        assert_eq!(app.opt_in().unwrap(), surveys);
        assert!(!app.opt_in_is_default().unwrap());
        let none = OptIn::parse("none").unwrap();
        app.set_opt_in(Some(&none), "test").unwrap();
        assert_eq!(app.opt_in().unwrap(), none);
        app.set_opt_in(None, "test").unwrap();
        assert_eq!(app.opt_in().unwrap(), *OptIn::standard());
        assert!(app.opt_in_is_default().unwrap());
    }

    #[test]
    fn a_damaged_setting_is_an_error_naming_it_not_a_silent_default() {
        let (_dir, app) = app();
        app.ledger().set_setting(super::OPT_IN, "all").unwrap();
        let e = app.opt_in().unwrap_err().to_string();
        assert!(e.contains("opt-in purposes"), "{e}");
    }
}
