//! Signs that a mapping read a file wrong although every row was valid.
//!
//! A mapping can fit a file well enough that nothing is rejected and still make nonsense of
//! it: the business's replies filed as people, answers that match no question, most rows
//! skipped. Such an import "succeeds", and the readings are wrong for everyone. These checks
//! watch the events as they are made and the rows that made none, so the reader can end with
//! a [`Warning`](super::Warning) that says what looks wrong and which `--set` would change it.
//!
//! Memory: a 64-bit hash per contact opened and per answer (pairs are only compared, never
//! shown), and two counts per person who opened or answered a contact.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use domain::{Body, NewEvent};

/// What the events of one read looked like.
#[derive(Debug, Default)]
pub(super) struct Checks {
    /// `(person, contact)` of every contact opened.
    opened: HashSet<u64>,
    /// `(person, contact)` of every answer, with its line.
    answered: Vec<(u64, u64)>,
    /// Per person: contacts opened, answers received.
    people: HashMap<String, (u32, u32)>,
    /// Identifiers written in scientific notation: how many, and the first one.
    pub(super) scientific: u64,
    pub(super) first_scientific: Option<(u64, Option<String>, String)>,
}

fn pair(person: &str, contact: &str) -> u64 {
    // DefaultHasher::new() has fixed keys: the same pair hashes the same within a read.
    let mut h = DefaultHasher::new();
    (person, contact).hash(&mut h);
    h.finish()
}

impl Checks {
    /// Notes one valid event.
    pub(super) fn event(&mut self, line: u64, e: &NewEvent) {
        match &e.body {
            Body::ContactOpened { contact, .. } => {
                self.opened
                    .insert(pair(e.person.as_str(), contact.as_str()));
                self.person(e.person.as_str()).0 += 1;
            }
            Body::ContactAnswered { contact, .. } => {
                self.answered
                    .push((pair(e.person.as_str(), contact.as_str()), line));
                self.person(e.person.as_str()).1 += 1;
            }
            _ => {}
        }
    }

    fn person(&mut self, person: &str) -> &mut (u32, u32) {
        self.people.entry(person.to_owned()).or_default()
    }

    /// Notes an identifier that looks like a number in scientific notation.
    pub(super) fn scientific(&mut self, line: u64, column: Option<String>, value: &str) {
        self.scientific += 1;
        if self.first_scientific.is_none() {
            self.first_scientific = Some((line, column, value.to_owned()));
        }
    }

    /// Answers whose contact was never opened by the same person in this file: how many, and
    /// the line of the first.
    pub(super) fn unmatched_answers(&self) -> (u64, Option<u64>) {
        let mut n = 0;
        let mut first = None;
        for (p, line) in &self.answered {
            if !self.opened.contains(p) {
                n += 1;
                first = first.or(Some(*line));
            }
        }
        (n, first)
    }

    /// Everyone who received answers and asked nothing in this file, most answers first.
    pub(super) fn only_answered(&self) -> Vec<(&str, u32)> {
        let mut out: Vec<(&str, u32)> = self
            .people
            .iter()
            .filter(|(_, (asked, answered))| *asked == 0 && *answered > 0)
            .map(|(p, (_, answered))| (p.as_str(), *answered))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }

    /// How many answers there were.
    pub(super) fn answers(&self) -> u64 {
        self.answered.len() as u64
    }
}

/// `1234567` → `1,234,567`: counts in warnings are read by people.
pub(super) fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "people" or "person" for `n`.
pub(super) fn people(n: usize) -> &'static str {
    if n == 1 { "person" } else { "people" }
}

/// The first few of a list of `(who, how many)`, for a warning: "`a` with 12 answers, `b`
/// with 1 answer, …"; `what` is the thing counted, singular and plural.
pub(super) fn examples(list: &[(&str, u32)], what: (&str, &str)) -> String {
    const SHOWN: usize = 3;
    let mut s = list
        .iter()
        .take(SHOWN)
        .map(|(who, n)| {
            let noun = if *n == 1 { what.0 } else { what.1 };
            format!("`{who}` with {} {noun}", count(u64::from(*n)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(", …");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(count(n), text);
        }
    }
}
