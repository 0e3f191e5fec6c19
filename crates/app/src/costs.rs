//! Hidden costs: the product catalogue, and what the ledger's orders cost that no invoice
//! shows — grouped by person, product, month or order, returns netted, unmatched lines listed.

use domain::costs::{By, Catalogue, Report, Tally};
use store::StoreError;

use crate::App;

impl App {
    /// The catalogue, or `None` if none has been imported.
    pub fn catalogue(&self) -> Result<Option<Catalogue>, StoreError> {
        self.ledger.catalogue()
    }

    /// Replaces the whole catalogue (factors, products, figures) in one transaction.
    pub fn catalogue_put(&self, catalogue: &Catalogue, actor: &str) -> Result<(), StoreError> {
        self.ledger.catalogue_put(catalogue)?;
        self.ledger.audit(actor, "catalogue.import", None)
    }

    /// The hidden costs of every order grouped `by` (see [`Tally::finish`] for `limit`);
    /// `None` if no catalogue was imported.
    pub fn costs(
        &self,
        by: Option<By>,
        limit: Option<usize>,
    ) -> Result<Option<Report>, StoreError> {
        self.ledger.costs_report(by, limit)
    }

    /// Several groupings from one pass over the orders (the costs page shows months and the
    /// `top` products); `None` if no catalogue was imported.
    pub fn costs_by(
        &self,
        groupings: &[(Option<By>, Option<usize>)],
    ) -> Result<Option<Vec<Report>>, StoreError> {
        let Some(catalogue) = self.ledger.catalogue()? else {
            return Ok(None);
        };
        let mut tallies: Vec<Tally<'_>> = groupings
            .iter()
            .map(|(by, _)| Tally::new(&catalogue, *by))
            .collect();
        self.ledger.visit_orders(&mut |person, e| {
            for t in &mut tallies {
                t.event(Some(person), e.at, &e.body);
            }
        })?;
        Ok(Some(
            tallies
                .into_iter()
                .zip(groupings)
                .map(|(t, (_, limit))| t.finish(*limit))
                .collect(),
        ))
    }
}
