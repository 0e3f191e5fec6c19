//! How the business treats this person: heard, answered personally, made right, promises
//! kept (READINGS.md, second half; `respects choices` has its own module).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

use super::{Others, Recorded, Trend, Window, median};
use crate::event::{Body, Outcome};
use crate::values::{Day, Ref, Timestamp};

/// A question still waiting for an answer at `T`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenQuestion {
    pub contact: Ref,
    pub opened: Timestamp,
    pub age_days: f64,
    #[serde(skip)]
    pub seq: i64,
}

/// heard — questions taken seriously.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heard {
    pub contacts: usize,
    pub answered: usize,
    pub answered_share: f64,
    pub first_answer_hours: FirstAnswer,
    /// Unanswered contacts with their age at `T`, oldest first.
    pub open_questions: Vec<OpenQuestion>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// personal — answered as a person, not by script: how many of the answers this person
/// received were scripts (near-duplicates of answers sent to at least five other people).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonalAnswers {
    pub answers: usize,
    pub scripted: usize,
    /// `scripted / answers`.
    pub scripted_share: f64,
    /// The ledger numbers of the scripted answers, to mark them in the history.
    pub scripted_answers: Vec<i64>,
    pub percentile: Option<f64>,
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the answers received in the recent half of a trend.
pub(super) fn personal(
    events: &[Recorded],
    others: &dyn Others,
    since: Window,
) -> Option<PersonalAnswers> {
    let mut evidence = Vec::new();
    let mut scripted_answers = Vec::new();
    for e in events.iter().filter(|e| since.counts(e.at)) {
        if let Body::ContactAnswered { .. } = e.body {
            evidence.push(e.seq);
            if others.scripted(e.seq) {
                scripted_answers.push(e.seq);
            }
        }
    }
    if evidence.is_empty() {
        return None;
    }
    evidence.sort_unstable();
    scripted_answers.sort_unstable();
    Some(PersonalAnswers {
        answers: evidence.len(),
        scripted: scripted_answers.len(),
        scripted_share: scripted_answers.len() as f64 / evidence.len() as f64,
        scripted_answers,
        percentile: None,
        trend: None,
        evidence,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstAnswer {
    pub median: Option<f64>,
    pub max: Option<f64>,
}

/// `since`: count only the contacts of the recent half of a trend: those opened in it, and
/// those opened before it still unanswered when it began.
pub(super) fn heard(events: &[Recorded], as_of: Timestamp, since: Window) -> Option<Heard> {
    let mut opened: Vec<(&Ref, &Recorded)> = Vec::new();
    let mut first_answer: HashMap<&Ref, &Recorded> = HashMap::default();
    let mut seen: HashSet<&Ref> = HashSet::default();
    for e in events {
        match &e.body {
            Body::ContactOpened { contact, .. } if seen.insert(contact) => {
                opened.push((contact, e));
            }
            Body::ContactAnswered { contact, .. } => {
                let entry = first_answer.entry(contact).or_insert(e);
                if (e.at, e.seq) < (entry.at, entry.seq) {
                    *entry = e;
                }
            }
            _ => {}
        }
    }
    if let Some(s) = since.start() {
        opened
            .retain(|(contact, e)| e.at > s || first_answer.get(contact).is_none_or(|a| a.at > s));
    }
    if opened.is_empty() {
        return None;
    }
    let mut hours = Vec::new();
    let mut open_questions = Vec::new();
    let mut evidence = Vec::new();
    for (contact, e) in &opened {
        evidence.push(e.seq);
        match first_answer.get(contact) {
            Some(a) => {
                evidence.push(a.seq);
                hours.push(e.at.hours_until(a.at).max(0.0));
            }
            None => open_questions.push(OpenQuestion {
                contact: (*contact).clone(),
                opened: e.at,
                age_days: e.at.hours_until(as_of) / 24.0,
                seq: e.seq,
            }),
        }
    }
    open_questions.sort_by(|a, b| b.age_days.total_cmp(&a.age_days));
    let answered = hours.len();
    let max = hours.iter().copied().reduce(f64::max);
    evidence.sort_unstable();
    Some(Heard {
        contacts: opened.len(),
        answered,
        answered_share: answered as f64 / opened.len() as f64,
        first_answer_hours: FirstAnswer {
            median: median(&mut hours),
            max,
        },
        open_questions,
        percentile: None,
        trend: None,
        evidence,
    })
}

/// made right — sorry after a mistake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MadeRight {
    pub incidents: usize,
    pub apologised: usize,
    /// Incidents with an apology, over incidents. `None` when there were no incidents.
    pub apologised_share: Option<f64>,
    /// Median hours from incident to its first apology.
    pub hours_to_apology: Option<f64>,
    /// Disputes resolved `upheld`: invoice errors the business made.
    pub upheld_disputes: usize,
    /// Incidents without an apology, for the explanation.
    #[serde(skip)]
    pub unapologised: Vec<Ref>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the incidents of the recent half of a trend and the disputes upheld
/// in it (apologies whenever they came).
pub(super) fn made_right(events: &[Recorded], since: Window) -> Option<MadeRight> {
    let mut incidents: Vec<(&Ref, &Recorded)> = Vec::new();
    let mut seen: HashSet<&Ref> = HashSet::default();
    let mut apology: HashMap<&Ref, &Recorded> = HashMap::default();
    let mut latest_outcome: HashMap<&Ref, (Timestamp, i64, Outcome)> = HashMap::default();
    for e in events {
        match &e.body {
            Body::IncidentOccurred { incident } if seen.insert(incident) => {
                incidents.push((incident, e));
            }
            Body::ApologyMade { incident } => {
                let entry = apology.entry(incident).or_insert(e);
                if (e.at, e.seq) < (entry.at, entry.seq) {
                    *entry = e;
                }
            }
            Body::DisputeResolved { invoice, outcome } => {
                let entry = latest_outcome
                    .entry(invoice)
                    .or_insert((e.at, e.seq, *outcome));
                if (e.at, e.seq) >= (entry.0, entry.1) {
                    *entry = (e.at, e.seq, *outcome);
                }
            }
            _ => {}
        }
    }
    let upheld: Vec<i64> = latest_outcome
        .values()
        .filter(|o| o.2 == Outcome::Upheld && since.counts(o.0))
        .map(|o| o.1)
        .collect();
    incidents.retain(|(_, e)| since.counts(e.at));
    if incidents.is_empty() && upheld.is_empty() {
        return None;
    }
    let mut evidence = upheld.clone();
    let mut hours = Vec::new();
    let mut unapologised = Vec::new();
    for (incident, e) in &incidents {
        evidence.push(e.seq);
        match apology.get(incident) {
            Some(a) => {
                evidence.push(a.seq);
                hours.push(e.at.hours_until(a.at).max(0.0));
            }
            None => unapologised.push((*incident).clone()),
        }
    }
    let n = incidents.len();
    let apologised = hours.len();
    evidence.sort_unstable();
    Some(MadeRight {
        incidents: n,
        apologised,
        apologised_share: (n > 0).then(|| apologised as f64 / n as f64),
        hours_to_apology: median(&mut hours),
        upheld_disputes: upheld.len(),
        unapologised,
        percentile: None,
        trend: None,
        evidence,
    })
}

/// promises kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromisesKept {
    pub kept_share: f64,
    pub due: usize,
    pub kept: usize,
    /// Promises due by `T` and not kept on time.
    #[serde(skip)]
    pub broken: Vec<Ref>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the promises that fell due in the recent half of a trend.
pub(super) fn promises_kept(
    events: &[Recorded],
    as_of: Timestamp,
    since: Window,
) -> Option<PromisesKept> {
    let mut made: Vec<(&Ref, Day, i64)> = Vec::new();
    let mut seen: HashSet<&Ref> = HashSet::default();
    let mut kept_at: HashMap<&Ref, &Recorded> = HashMap::default();
    for e in events {
        match &e.body {
            Body::PromiseMade { promise, due } if seen.insert(promise) => {
                made.push((promise, *due, e.seq));
            }
            Body::PromiseKept { promise } => {
                let entry = kept_at.entry(promise).or_insert(e);
                if (e.at, e.seq) < (entry.at, entry.seq) {
                    *entry = e;
                }
            }
            _ => {}
        }
    }
    let today = as_of.day();
    let mut due = 0;
    let mut kept = 0;
    let mut broken = Vec::new();
    let mut evidence = Vec::new();
    for (promise, day, seq) in made {
        if day > today || since.start().is_some_and(|s| day <= s.day()) {
            continue;
        }
        due += 1;
        evidence.push(seq);
        match kept_at.get(promise) {
            Some(k) if k.at.day() <= day => {
                kept += 1;
                evidence.push(k.seq);
            }
            other => {
                if let Some(k) = other {
                    evidence.push(k.seq);
                }
                broken.push((*promise).clone());
            }
        }
    }
    if due == 0 {
        return None;
    }
    evidence.sort_unstable();
    Some(PromisesKept {
        kept_share: kept as f64 / due as f64,
        due,
        kept,
        broken,
        percentile: None,
        trend: None,
        evidence,
    })
}
