//! Readings for everyone at once: each person's readings and trend, then their percentiles.
//!
//! Percentiles need every person's figure, so lists and cards both start here. The pass is
//! streaming — each person's events are seen once, by whichever thread reads them, and only
//! the readings are kept — and it stays a pure function of the events and `as_of`.

use std::sync::OnceLock;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::{HEADLINES, Models, OptIn, Others, Readings, Recorded, distributions, trends};
use crate::event::Body;
use crate::scripts::Scripted;
use crate::values::{PersonId, Timestamp};

/// Every person's readings as of `as_of`, with their trends and percentiles filled in.
/// `events[i]` belongs to `people[i]`.
pub fn assess_all(
    people: &[PersonId],
    events: &[Vec<Recorded>],
    as_of: Timestamp,
) -> Vec<Readings> {
    assess_all_with(people, events, as_of, &Models::default())
}

/// [`assess_all`] with the stored model fits, which add each person's `loyalty` and `value`.
pub fn assess_all_with(
    people: &[PersonId],
    events: &[Vec<Recorded>],
    as_of: Timestamp,
    models: &Models,
) -> Vec<Readings> {
    let none = Scripted::default();
    let assessor = Assessor::new(people.len(), as_of, models, &none);
    events
        .par_iter()
        .enumerate()
        .for_each(|(rank, evs)| assessor.person(rank, evs));
    assessor.finish(people)
}

/// What one person's pass leaves for the end: their readings, and what advocacy needs
/// from everyone else (who bought when, and whom they referred).
struct Partial {
    readings: Readings,
    last_transaction: Option<Timestamp>,
    referrals: Vec<(PersonId, Timestamp)>,
}

/// Readings for everyone in one streaming pass: [`Assessor::person`] is called once per
/// person (from any thread, in any order) while their events are at hand, and
/// [`Assessor::finish`] adds what needs everyone — referrals that became buyers, and
/// percentiles. Only the readings are kept, never the events, so memory stays small however
/// long the histories are.
pub struct Assessor<'m> {
    as_of: Timestamp,
    models: &'m Models,
    scripted: &'m Scripted,
    opt_in: &'m OptIn,
    slots: Vec<OnceLock<Partial>>,
}

/// What each person's own pass over the ledger can know: nobody's purchases (those come in
/// [`Assessor::finish`]), but which answers are scripted and which purposes need opt-in.
struct OwnPass<'a> {
    scripted: &'a Scripted,
    opt_in: &'a OptIn,
}

impl Others for OwnPass<'_> {
    fn last_transaction(&self, _: &PersonId) -> Option<Timestamp> {
        None
    }
    fn scripted(&self, answer: i64) -> bool {
        self.scripted.contains(answer)
    }
    fn opt_in(&self) -> &OptIn {
        self.opt_in
    }
}

impl<'m> Assessor<'m> {
    /// `scripted`: which answers in the ledger are scripted (for the `personal` reading).
    pub fn new(
        people: usize,
        as_of: Timestamp,
        models: &'m Models,
        scripted: &'m Scripted,
    ) -> Self {
        Assessor {
            as_of,
            models,
            scripted,
            opt_in: OptIn::standard(),
            slots: (0..people).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The purposes that need consent first, when the ledger names others than the standard
    /// ones (see [`OptIn`]).
    pub fn with_opt_in(mut self, opt_in: &'m OptIn) -> Self {
        self.opt_in = opt_in;
        self
    }

    /// One person's readings and trends; `events` in time order (see [`super::sort_in_time`]).
    pub fn person(&self, rank: usize, events: &[Recorded]) {
        let Some(slot) = self.slots.get(rank) else {
            return;
        };
        let as_of = self.as_of;
        let others = OwnPass {
            scripted: self.scripted,
            opt_in: self.opt_in,
        };
        let mut readings = Readings::compute_with(events, as_of, &others, self.models);
        for (i, t) in trends(events, as_of, &others).into_iter().enumerate() {
            readings.set_standing(i, None, t);
        }
        let mut last_transaction = None;
        let mut referrals = Vec::new();
        for e in events.iter().filter(|e| e.at <= as_of) {
            match &e.body {
                Body::OrderPlaced { .. } | Body::InvoiceIssued { .. } => {
                    last_transaction = last_transaction.max(Some(e.at));
                }
                Body::ReferralMade { referred } => referrals.push((referred.clone(), e.at)),
                _ => {}
            }
        }
        let _ = slot.set(Partial {
            readings,
            last_transaction,
            referrals,
        });
    }

    /// Everyone's readings in rank order, with referrals resolved and percentiles filled in.
    /// People never visited get empty readings.
    pub fn finish(self, people: &[PersonId]) -> Vec<Readings> {
        let partials: Vec<Option<Partial>> =
            self.slots.into_iter().map(OnceLock::into_inner).collect();
        // Only people someone referred matter for "became a buyer": a small map.
        let referred: HashSet<&str> = partials
            .iter()
            .flatten()
            .flat_map(|p| p.referrals.iter().map(|(r, _)| r.as_str()))
            .collect();
        let latest: HashMap<&str, Timestamp> = people
            .iter()
            .zip(&partials)
            .filter(|(p, _)| referred.contains(p.as_str()))
            .filter_map(|(p, part)| Some((p.as_str(), part.as_ref()?.last_transaction?)))
            .collect();
        // Serial on purpose: these collects reuse their input's allocation in place, where a
        // parallel collect would hold both (some hundreds of MB) at once.
        let mut all: Vec<Readings> = partials
            .into_iter()
            .map(|part| {
                let Some(mut part) = part else {
                    return Readings::default();
                };
                if let Some(a) = part.readings.advocacy.as_mut() {
                    a.referrals_active = super::person::referrals_active(
                        part.referrals.iter().map(|(p, at)| (p, *at)).collect(),
                        |p| latest.get(p.as_str()).copied(),
                    );
                }
                part.readings
            })
            .collect();
        let dists = distributions(all.iter());
        all.par_iter_mut().for_each(|r| {
            for (i, h) in HEADLINES.iter().enumerate() {
                if let Some(v) = r.headline(h.reading) {
                    let trend = r.standing(i).1.cloned();
                    r.set_standing(i, dists[i].percentile(v), trend);
                }
            }
        });
        all
    }
}

/// One person's readings as of `as_of`, with their trends, and percentiles taken from
/// everyone's distributions computed earlier ([`distributions`], in [`HEADLINES`] order).
/// What a card needs when everyone's figures are already known: one history, not the ledger.
/// `others` answers whether the people this person referred became buyers, and which answers
/// are scripted.
pub fn assess_one(
    events: &[Recorded],
    as_of: Timestamp,
    models: &Models,
    others: &dyn super::Others,
    dists: &[super::Distribution],
) -> Readings {
    let mut readings = Readings::compute_with(events, as_of, others, models);
    for (i, trend) in trends(events, as_of, others).into_iter().enumerate() {
        let percentile = HEADLINES
            .get(i)
            .and_then(|h| readings.headline(h.reading))
            .and_then(|v| dists.get(i)?.percentile(v));
        readings.set_standing(i, percentile, trend);
    }
    readings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

    fn outreach(i: usize, topic: &str) -> Recorded {
        let e = NewEvent::from_json(
            serde_json::json!({"source": "t", "id": format!("o{i}"), "person": "p",
                "kind": "outreach.sent", "at": "2024-01-01T00:00:00Z",
                "channel": "email", "topic": topic})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        Recorded {
            seq: i as i64,
            at: e.at,
            body: e.body,
        }
    }

    #[test]
    fn everyone_s_respects_choices_follows_the_ledger_s_opt_in_purposes() {
        let people = [PersonId::parse("p").unwrap()];
        let events = [outreach(1, "newsletter"), outreach(2, "surveys")];
        let as_of = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let (models, scripted) = (Models::default(), Scripted::default());
        let conflicts = |opt_in: Option<&OptIn>| -> Vec<i64> {
            let mut a = Assessor::new(1, as_of, &models, &scripted);
            if let Some(o) = opt_in {
                a = a.with_opt_in(o);
            }
            a.person(0, &events);
            let r = a.finish(&people).remove(0).respects_choices.unwrap();
            r.conflicts.iter().map(|c| c.outreach).collect()
        };
        assert_eq!(
            conflicts(None),
            vec![1],
            "newsletters are opt-in by default"
        );
        let surveys = OptIn::parse("surveys").unwrap();
        assert_eq!(conflicts(Some(&surveys)), vec![2]);
    }
}
