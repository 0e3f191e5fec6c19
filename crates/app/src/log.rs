//! What someone at the business writes down from a person's card: a note, a contact (a call,
//! a visit), an apology, a promise. Each is an event like any other — appended to the ledger,
//! its text sealed, read by the readings where its kind counts — and who wrote it is in the
//! audit log. The card page writes through here; other systems send the same kinds of event
//! as any batch (`POST /api/events`, `rapport import`).

use std::time::Duration;

use domain::values::{Day, Label, Ref};
use domain::{Body, EventId, Kind, NewEvent, PersonId, Personal, Source, Timestamp};
use store::BatchSummary;

use crate::{App, AppError, Audit};

/// The longest text an entry may carry, in characters.
pub const MAX_TEXT: usize = 4_000;

/// One thing written down from a card.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A note about the person (only the business reads it; no reading uses it).
    Note { text: String },
    /// The person contacted us (`channel`: phone, visit, …) about `text`; with `answer`, it
    /// was answered there and then by `actor`.
    Contact {
        channel: String,
        text: String,
        answer: Option<String>,
    },
    /// An apology for one of the person's incidents.
    Apology { incident: String, text: String },
    /// A promise to the person, due on `due`.
    Promise { due: String, what: String },
}

impl Entry {
    /// What the audit log calls it.
    fn action(&self) -> &'static str {
        match self {
            Entry::Note { .. } => "card.note",
            Entry::Contact { .. } => "card.contact",
            Entry::Apology { .. } => "card.apology",
            Entry::Promise { .. } => "card.promise",
        }
    }
}

fn text(field: &str, value: &str) -> Result<String, AppError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(AppError::invalid(field, "write something first"));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    Ok(t.to_owned())
}

fn fresh_id() -> String {
    let mut id = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
    hex::encode(id)
}

impl App {
    /// Appends what `actor` wrote down about `person` (all or nothing; waits up to `wait` for
    /// another writer) and records it in `audit`. The person must be in the ledger; an apology
    /// must name one of their incidents.
    pub fn log(
        &self,
        person: &PersonId,
        entry: Entry,
        actor: &str,
        audit: &dyn Audit,
        wait: Duration,
    ) -> Result<BatchSummary, AppError> {
        let history = self
            .ledger
            .history(person)?
            .ok_or_else(|| self.no_person(person))?;
        let source =
            Source::parse("card").map_err(|e| AppError::invalid("source", e.to_string()))?;
        let now = Timestamp::now();
        let event = |id: String, body: Body, personal: Personal| -> Result<NewEvent, AppError> {
            Ok(NewEvent {
                source: source.clone(),
                id: EventId::parse(&id).map_err(|e| AppError::invalid("id", e.to_string()))?,
                person: person.clone(),
                at: now,
                body,
                personal,
            })
        };
        let refer = |r: &str| Ref::parse(r).map_err(|e| AppError::invalid("ref", e.to_string()));
        let action = entry.action();
        let mut events = Vec::new();
        match entry {
            Entry::Note { text: t } => events.push(event(
                fresh_id(),
                Body::NoteAdded,
                Personal {
                    text: Some(text("note", &t)?),
                    ..Personal::default()
                },
            )?),
            Entry::Contact {
                channel,
                text: t,
                answer,
            } => {
                let channel = Label::parse(channel.trim())
                    .map_err(|_| AppError::invalid("channel", "choose how they got in touch"))?;
                let contact = format!("card-{}", fresh_id());
                let asked = text("what they asked", &t)?;
                let answer = answer
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| text("our answer", &a))
                    .transpose()?;
                events.push(event(
                    contact.clone(),
                    Body::ContactOpened {
                        contact: refer(&contact)?,
                        channel,
                        topic: None,
                        caused_by: None,
                    },
                    Personal {
                        text: Some(asked),
                        ..Personal::default()
                    },
                )?);
                if let Some(answer) = answer {
                    let by = Label::parse(actor.chars().take(100).collect::<String>().trim())
                        .or_else(|_| Label::parse("agent"))
                        .map_err(|e| AppError::invalid("by", e.to_string()))?;
                    events.push(event(
                        format!("{contact}-answer"),
                        Body::ContactAnswered {
                            contact: refer(&contact)?,
                            by,
                        },
                        Personal {
                            text: Some(answer),
                            ..Personal::default()
                        },
                    )?);
                }
            }
            Entry::Apology { incident, text: t } => {
                let incident = incident.trim();
                let known = history.iter().any(|e| {
                    e.body.kind() == Kind::IncidentOccurred
                        && matches!(&e.body, Body::IncidentOccurred { incident: i } if i.as_str() == incident)
                });
                if !known {
                    return Err(AppError::invalid(
                        "incident",
                        format!("{person} has no incident {incident:?}"),
                    ));
                }
                events.push(event(
                    fresh_id(),
                    Body::ApologyMade {
                        incident: refer(incident)?,
                    },
                    Personal {
                        text: Some(text("apology", &t)?),
                        ..Personal::default()
                    },
                )?);
            }
            Entry::Promise { due, what } => {
                let due = Day::parse(due.trim()).map_err(|_| {
                    AppError::invalid(
                        "due",
                        format!("{:?} is not a day like 2026-12-31", due.trim()),
                    )
                })?;
                let promise = format!("card-{}", fresh_id());
                events.push(event(
                    promise.clone(),
                    Body::PromiseMade {
                        promise: refer(&promise)?,
                        due,
                    },
                    Personal {
                        what: Some(text("promise", &what)?),
                        ..Personal::default()
                    },
                )?);
            }
        }
        // Recorded first: nothing is written about a person without it being known who wrote it.
        audit.record(actor, action, Some(person))?;
        self.append(events, "card", wait)
    }
}
