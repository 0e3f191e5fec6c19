//! Every view of a card is written to the audit log before it is shown. How an entry is
//! written is the face's choice: the command line writes it at once, a busy server groups the
//! entries of concurrent views into one transaction — but every use case that shows a person
//! goes through an [`Audit`], so none can forget it.

use std::sync::Arc;

use domain::PersonId;
use store::{Ledger, StoreError};

/// Writes an audit entry and returns only once it is committed.
pub trait Audit: Send + Sync {
    fn record(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError>;
}

/// Each entry in a transaction of its own.
pub struct DirectAudit(pub Arc<dyn Ledger>);

impl Audit for DirectAudit {
    fn record(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError> {
        self.0.audit(actor, action, person)
    }
}
