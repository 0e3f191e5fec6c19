//! Readings for everyone at once: each person's readings and trend, then their percentiles.
//!
//! Percentiles need every person's figure, so lists and cards both start here. The work is
//! split across cores with rayon; it stays a pure function of the events and `as_of`.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{HEADLINES, Models, Others, Readings, Recorded, distributions, trends};
use crate::event::Body;
use crate::values::{PersonId, Timestamp};

/// For advocacy: each person's latest order or invoice at or before `as_of`.
pub struct LastTransactions<'a> {
    latest: HashMap<&'a str, Timestamp>,
}

impl<'a> LastTransactions<'a> {
    pub fn new(people: &'a [PersonId], events: &[Vec<Recorded>], as_of: Timestamp) -> Self {
        let latest = people
            .iter()
            .zip(events)
            .filter_map(|(p, evs)| {
                evs.iter()
                    .filter(|e| {
                        e.at <= as_of
                            && matches!(
                                e.body,
                                Body::OrderPlaced { .. } | Body::InvoiceIssued { .. }
                            )
                    })
                    .map(|e| e.at)
                    .max()
                    .map(|t| (p.as_str(), t))
            })
            .collect();
        LastTransactions { latest }
    }
}

impl Others for LastTransactions<'_> {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        self.latest.get(person.as_str()).copied()
    }
}

/// Every person's readings as of `as_of`, with their trends and percentiles filled in.
/// `events[i]` belongs to `people[i]`.
pub fn assess_all(
    people: &[PersonId],
    events: &[Vec<Recorded>],
    as_of: Timestamp,
) -> Vec<Readings> {
    assess_all_with(people, events, as_of, &Models::default())
}

/// [`assess_all`] with the stored model fits, which add each person's `loyalty` and `value`
/// (computed per person in the same parallel pass; a prediction is a few special functions).
pub fn assess_all_with(
    people: &[PersonId],
    events: &[Vec<Recorded>],
    as_of: Timestamp,
    models: &Models,
) -> Vec<Readings> {
    let others = LastTransactions::new(people, events, as_of);
    let mut all: Vec<Readings> = events
        .par_iter()
        .map(|evs| {
            let mut r = Readings::compute_with(evs, as_of, &others, models);
            for (i, t) in trends(evs, as_of, &others).into_iter().enumerate() {
                r.set_standing(i, None, t);
            }
            r
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
