//! The model fits readings use: the purchase model stored last, Gamma-Gamma, and the
//! retention model stored last for each length of contract period.

use domain::PersonId;
use domain::readings::Models;
use store::StoreError;

use crate::App;

/// The stored fits of `ledger` that readings use (see `store::fits::stored_models`).
pub fn stored_models(ledger: &dyn store::FitStore) -> Result<Models, StoreError> {
    store::fits::stored_models(ledger)
}

/// Each person's purchase days as (day, amount), for the purchase models.
pub type Transactions = Vec<Vec<(f64, f64)>>;

/// Each person's contracts as of each of the moments asked about: `[person][moment]`.
pub type Contracts = Vec<Vec<Vec<domain::readings::contracts::Tenure>>>;

impl App {
    /// The latest stored fits, for readings.
    pub fn models(&self) -> Result<Models, StoreError> {
        stored_models(self.ledger.as_ref())
    }

    /// Every person's transactions — (day, amount) of each purchase day, as the purchase
    /// models take them (see `domain::readings::loyalty::transactions`) — in ledger order,
    /// read person by person without keeping anyone's events.
    pub fn transactions(&self) -> Result<(Vec<PersonId>, Transactions), StoreError> {
        let people = self.ledger.people()?;
        let slots: Vec<std::sync::OnceLock<Vec<(f64, f64)>>> = (0..people.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        self.ledger.visit_events(&|rank, events| {
            if let Some(slot) = slots.get(rank) {
                let _ = slot.set(domain::readings::loyalty::transactions(events));
            }
        })?;
        let tx = slots
            .into_iter()
            .map(|s| s.into_inner().unwrap_or_default())
            .collect();
        Ok((people, tx))
    }

    /// Every person's contracts with their tenure as of each of `moments` (for the retention
    /// models: fitted as of one moment, checked against a later one), in ledger order, read
    /// person by person without keeping anyone's events.
    pub fn contracts(
        &self,
        moments: &[domain::Timestamp],
    ) -> Result<(Vec<PersonId>, Contracts), StoreError> {
        let people = self.ledger.people()?;
        let slots: Vec<std::sync::OnceLock<Vec<Vec<domain::readings::contracts::Tenure>>>> = (0
            ..people.len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        self.ledger.visit_events(&|rank, events| {
            if let Some(slot) = slots.get(rank) {
                let at = moments
                    .iter()
                    .map(|m| domain::readings::contracts::tenures(events, *m))
                    .collect();
                let _ = slot.set(at);
            }
        })?;
        let contracts = slots
            .into_iter()
            .map(|s| {
                s.into_inner()
                    .unwrap_or_else(|| vec![Vec::new(); moments.len()])
            })
            .collect();
        Ok((people, contracts))
    }

    /// The static covariates of everyone the ledger knew by `as_of` (see
    /// `domain::attributes`), in ledger order: whether they buy for an organisation, were referred, their language and their
    /// first purchase day's amount, as numbers, without the columns nobody differs on.
    pub fn covariates(
        &self,
        as_of: domain::Timestamp,
    ) -> Result<(Vec<PersonId>, domain::attributes::Table), StoreError> {
        let people = self.ledger.people()?;
        let slots: Vec<std::sync::OnceLock<Option<domain::attributes::Attributes>>> = (0..people
            .len())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        let referred = std::sync::Mutex::new(std::collections::HashSet::new());
        self.ledger.visit_events(&|rank, events| {
            if let Some(slot) = slots.get(rank) {
                let _ = slot.set(domain::attributes::of(events, as_of));
            }
            let mut named = domain::attributes::referred(events, as_of).peekable();
            if named.peek().is_some() {
                let mut set = referred.lock().unwrap_or_else(|e| e.into_inner());
                set.extend(named.cloned());
            }
        })?;
        let referred = referred.into_inner().unwrap_or_else(|e| e.into_inner());
        let (known, rows): (Vec<PersonId>, Vec<(domain::attributes::Attributes, bool)>) = slots
            .into_iter()
            .zip(people)
            .filter_map(|(slot, person)| {
                let attributes = slot.into_inner().flatten()?;
                let was_referred = referred.contains(&person);
                Some((person, (attributes, was_referred)))
            })
            .unzip();
        Ok((known, domain::attributes::table(&rows)))
    }

    /// Stores a fit (`rapport fit`); readings use the latest of each model from then on.
    pub fn save_fit(&self, fit: &store::StoredFit, actor: &str) -> Result<i64, StoreError> {
        let seq = self.ledger.save_fit(fit)?;
        self.ledger
            .audit(actor, &format!("fit.save:{}", fit.model), None)?;
        Ok(seq)
    }
}
