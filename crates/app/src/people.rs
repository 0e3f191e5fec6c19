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

/// One person in a list, from their kept readings: every sortable field of
/// [`domain::readings::SORTABLE`], percentiles filled in from everyone's distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub person: PersonId,
    pub fields: [Option<f64>; domain::readings::SORTABLE.len()],
}

/// One page of a list of people, as of the end of the kept readings' day.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub people: Vec<Listed>,
    /// How many people there are in all.
    pub total: u64,
}

/// The figures of `people` from their kept figures, with percentiles against `dists`.
pub fn listed(
    people: Vec<PersonId>,
    figures: Vec<Option<store::KeptFigures>>,
    dists: &[domain::readings::Distribution],
) -> Vec<Listed> {
    use domain::readings::kept::headline_fields;
    use domain::readings::{HEADLINES, SORTABLE};
    let headlines = headline_fields();
    people
        .into_iter()
        .zip(figures)
        .map(|(person, f)| {
            let mut fields = f.map_or([None; SORTABLE.len()], |f| f.fields);
            for (h, headline) in HEADLINES.iter().enumerate() {
                let slot = format!("{}.percentile", headline.reading);
                let Some(p) = SORTABLE.iter().position(|s| *s == slot) else {
                    continue;
                };
                fields[p] = fields
                    .get(headlines[h])
                    .copied()
                    .flatten()
                    .and_then(|v| dists.get(h)?.percentile(v));
            }
            Listed { person, fields }
        })
        .collect()
}

impl App {
    /// A page of people from the kept readings: by field `sort` of
    /// [`domain::readings::SORTABLE`] (people without it last, in id order) or in id order,
    /// through the index — never reading everyone. `dists`: everyone's distributions, when
    /// the caller keeps them; otherwise read here.
    pub fn list(
        &self,
        sort: Option<(usize, bool)>,
        offset: usize,
        limit: usize,
        dists: Option<&[domain::readings::Distribution]>,
    ) -> Result<Page, StoreError> {
        let ledger = &self.ledger;
        let total = ledger.kept_count(None)?;
        let people = match sort {
            None => ledger.kept_people(None, offset, limit)?,
            Some((f, desc)) => {
                let with = ledger.kept_count(Some(f))? as usize;
                let mut people = if offset < with {
                    ledger.kept_order(f, desc, offset, limit)?
                } else {
                    Vec::new()
                };
                if people.len() < limit {
                    let from = offset.saturating_sub(with);
                    people.extend(ledger.kept_people(Some(f), from, limit - people.len())?);
                }
                people
            }
        };
        let figures = ledger.kept_figures(&people)?;
        let read;
        let dists = match dists {
            Some(d) => d,
            None => {
                read = ledger.kept_distributions()?;
                &read
            }
        };
        Ok(Page {
            people: listed(people, figures, dists),
            total,
        })
    }
}

impl App {
    /// The current name of each of `people` (the latest identification that gives one): what
    /// one page of a list shows, without opening everyone's.
    pub fn names_of(&self, people: &[PersonId]) -> Result<Vec<Option<String>>, StoreError> {
        people
            .iter()
            .map(|p| {
                Ok(self.ledger.history(p)?.and_then(|h| {
                    h.iter()
                        .filter(|e| e.body.kind() == domain::Kind::PersonIdentified)
                        .filter_map(|e| e.personal.as_ref()?.name.clone())
                        .next_back()
                }))
            })
            .collect()
    }
}
