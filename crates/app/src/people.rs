//! Everyone's readings at once: the people list of the command line, `--json` for other
//! tools, and what a card is ranked against when no server keeps everyone's figures.

use domain::readings::{Assessor, Readings};
use domain::{PersonId, Timestamp};
use store::StoreError;

use crate::App;

/// Everyone's readings as of a moment: `readings[i]` are those of `people[i]`.
pub struct Assessed {
    pub people: Vec<PersonId>,
    pub readings: Vec<Readings>,
}

impl Assessed {
    /// The readings of `person`, if they are in the ledger.
    pub fn of(&self, person: &PersonId) -> Option<&Readings> {
        let i = self.people.iter().position(|p| p == person)?;
        self.readings.get(i)
    }
}

impl App {
    /// Computes everyone's readings, trends and percentiles as of `as_of` — which answers are
    /// scripted from the index of scripts, which purposes are opt-in from the ledger's
    /// settings, loyalty and value from the latest stored fits (if any). One pass, person by
    /// person: no person's events are kept afterwards.
    pub fn assess(&self, as_of: Timestamp) -> Result<Assessed, StoreError> {
        let models = self.models()?;
        let people = self.ledger.people()?;
        let scripted = self.ledger.scripted()?;
        let opt_in = self.opt_in()?;
        let assessor = Assessor::new(people.len(), as_of, &models, &scripted).with_opt_in(&opt_in);
        self.ledger
            .visit_events(&|rank, events| assessor.person(rank, events))?;
        let readings = assessor.finish(&people);
        Ok(Assessed { people, readings })
    }
}
