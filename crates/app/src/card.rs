//! A person's card, and their data to take away: built once here for every face, and written
//! to the audit log (committed) before either is returned.

use domain::card::FullEvent;
use domain::readings::{Distribution, Models, Others, Readings, assess_one, sort_in_time};
use domain::{Card, PersonId, Timestamp};
use serde_json::Value;
use std::borrow::Cow;

use crate::{App, AppError, Audit};

/// What one person's readings know of others, from the kept readings (see
/// [`App::others_of`]).
pub struct KeptOthers {
    scripted: domain::scripts::Scripted,
    last: Vec<(PersonId, Option<Timestamp>)>,
    opt_in: domain::readings::OptIn,
}

impl Others for KeptOthers {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        self.last
            .iter()
            .find(|(p, _)| p == person)
            .and_then(|(_, t)| *t)
    }
    fn scripted(&self, answer: i64) -> bool {
        self.scripted.contains(answer)
    }
    fn opt_in(&self) -> &domain::readings::OptIn {
        &self.opt_in
    }
}

/// What a person's readings are ranked against.
pub enum Ranking<'a> {
    /// Everyone, computed now from the ledger's events (what `--as-of` a past day needs:
    /// kept readings are of today).
    Everyone,
    /// Everyone's kept readings: their distributions, and what is kept of the people this
    /// person referred (the command line, and any face without figures of its own).
    Kept,
    /// The kept readings, with the fits and distributions a face already holds (a server):
    /// only what this person needs of others is looked up.
    KeptWith {
        models: &'a Models,
        dists: &'a [Distribution],
    },
    /// Figures a face keeps of everyone (a server's snapshot): the fits, what other people
    /// did, and each headline's distribution.
    Against {
        models: &'a Models,
        others: &'a dyn Others,
        dists: &'a [Distribution],
    },
}

/// One person's readings as of `as_of` from their own history, ranked against `dists`.
pub fn readings_against(
    history: &[FullEvent],
    as_of: Timestamp,
    models: &Models,
    others: &dyn Others,
    dists: &[Distribution],
) -> Readings {
    let mut events: Vec<_> = history.iter().map(FullEvent::recorded).collect();
    sort_in_time(&mut events);
    assess_one(&events, as_of, models, others, dists)
}

impl App {
    pub(crate) fn no_person(&self, person: &PersonId) -> AppError {
        AppError::NoPerson {
            person: person.to_string(),
            ledger: self.describe(),
        }
    }

    /// The readings of `person`, with everyone's distributions they were ranked against
    /// (borrowed when the caller holds them: a server does not copy them for every card).
    fn readings<'a>(
        &self,
        person: &PersonId,
        history: &[FullEvent],
        as_of: Timestamp,
        ranking: Ranking<'a>,
    ) -> Result<(Readings, Cow<'a, [Distribution]>), AppError> {
        match ranking {
            Ranking::Everyone => {
                let all = self.assess(as_of)?;
                let dists = domain::readings::distributions(all.readings.iter());
                let r = all
                    .of(person)
                    .cloned()
                    .ok_or_else(|| self.no_person(person))?;
                Ok((r, Cow::Owned(dists)))
            }
            Ranking::Kept => {
                let dists = self.ledger.kept_distributions()?;
                let models = self.models()?;
                let others = self.others_of(person, history)?;
                Ok((
                    readings_against(history, as_of, &models, &others, &dists),
                    Cow::Owned(dists),
                ))
            }
            Ranking::KeptWith { models, dists } => {
                let others = self.others_of(person, history)?;
                Ok((
                    readings_against(history, as_of, models, &others, dists),
                    Cow::Borrowed(dists),
                ))
            }
            Ranking::Against {
                models,
                others,
                dists,
            } => Ok((
                readings_against(history, as_of, models, others, dists),
                Cow::Borrowed(dists),
            )),
        }
    }

    /// What one person's readings need to know of others, from the kept readings: which of
    /// their answers are scripted, when the people they referred last bought, and which
    /// purposes need consent first.
    pub fn others_of(
        &self,
        person: &PersonId,
        history: &[FullEvent],
    ) -> Result<KeptOthers, AppError> {
        self.others_given(person, history.iter().map(|e| &e.body))
    }

    fn others_given<'b>(
        &self,
        person: &PersonId,
        bodies: impl Iterator<Item = &'b domain::Body>,
    ) -> Result<KeptOthers, AppError> {
        let mut referred: Vec<PersonId> = bodies
            .filter_map(|b| match b {
                domain::Body::ReferralMade { referred } => Some(referred.clone()),
                _ => None,
            })
            .collect();
        referred.sort();
        referred.dedup();
        let last = self.ledger.kept_last_transactions(&referred)?;
        Ok(KeptOthers {
            scripted: self.ledger.scripted_of(std::slice::from_ref(person))?,
            last: referred.into_iter().zip(last).collect(),
            opt_in: self.opt_in()?,
        })
    }

    /// One person's readings as of `as_of` from their public events (nothing unsealed),
    /// ranked against `dists` and knowing others from the kept readings; `None` if unknown.
    pub fn person_readings(
        &self,
        person: &PersonId,
        as_of: Timestamp,
        dists: &[Distribution],
    ) -> Result<Option<Readings>, AppError> {
        let Some(mut events) = self.ledger.events_of(person)? else {
            return Ok(None);
        };
        sort_in_time(&mut events);
        let others = self.others_given(person, events.iter().map(|e| &e.body))?;
        let models = self.models()?;
        Ok(Some(assess_one(&events, as_of, &models, &others, dists)))
    }

    /// The card of `person` as of `as_of`, its view recorded by `actor` in `audit` (and
    /// committed) before it is returned. Personal text is in it: a face that shows it to
    /// someone who may not read it withholds it (`Card::withhold_personal`).
    pub fn card(
        &self,
        person: &PersonId,
        actor: &str,
        audit: &dyn Audit,
        as_of: Timestamp,
        ranking: Ranking<'_>,
    ) -> Result<Card, AppError> {
        let history = self
            .ledger
            .history(person)?
            .ok_or_else(|| self.no_person(person))?;
        audit.record(actor, "card.view", Some(person))?;
        let (readings, dists) = self.readings(person, &history, as_of, ranking)?;
        let mut card = Card::build(person, as_of, &history, &readings);
        card.say_standings(&dists);
        let present: Vec<bool> = dists.iter().map(|d| !d.is_empty()).collect();
        card.say_ledger_gaps(&present);
        card.hidden_costs = self.hidden_costs(&history, as_of)?;
        Ok(card)
    }

    /// Everything held about `person` as one JSON document (right of access: every event with
    /// its personal fields opened, and the card), recorded as an export by `actor`.
    pub fn export(
        &self,
        person: &PersonId,
        actor: &str,
        audit: &dyn Audit,
        ranking: Ranking<'_>,
    ) -> Result<Value, AppError> {
        let history = self
            .ledger
            .history(person)?
            .ok_or_else(|| self.no_person(person))?;
        audit.record(actor, "person.export", Some(person))?;
        let now = Timestamp::now();
        let (readings, _) = self.readings(person, &history, now, ranking)?;
        Ok(domain::card::export(person, now, &history, &readings))
    }

    /// Everything held about `person` for the person themselves (their own page's download):
    /// the same document as [`App::export`], not recorded as a staff export.
    pub fn own_export(&self, person: &PersonId, ranking: Ranking<'_>) -> Result<Value, AppError> {
        let history = self
            .ledger
            .history(person)?
            .ok_or_else(|| self.no_person(person))?;
        let now = Timestamp::now();
        let (readings, _) = self.readings(person, &history, now, ranking)?;
        Ok(domain::card::export(person, now, &history, &readings))
    }

    /// One person's events with their personal fields opened, for the person's own page (the
    /// person is the data subject: their own view is not a card view). `None` if unknown.
    pub fn own_history(&self, person: &PersonId) -> Result<Option<Vec<FullEvent>>, AppError> {
        Ok(self.ledger.history(person)?)
    }

    /// What a person's orders up to `as_of` cost that no invoice shows; `None` without a
    /// product catalogue. The card and the person's own page both show it.
    pub fn hidden_costs(
        &self,
        history: &[FullEvent],
        as_of: Timestamp,
    ) -> Result<Option<domain::costs::Figures>, AppError> {
        let catalogue = self.ledger.catalogue()?;
        Ok(catalogue.map(|c| {
            domain::costs::of_person(
                &c,
                history
                    .iter()
                    .filter(|e| e.at <= as_of)
                    .map(|e| (e.at, &e.body)),
            )
        }))
    }
}
