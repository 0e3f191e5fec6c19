//! A person's card: everything an agent needs with the person on the line, gathered from
//! their history and readings — who they are and what they said first, then the relationship
//! in both directions, each reading as a sentence with the events behind it, then the timeline.
//!
//! The card is data, not presentation: the command line prints it as text, the web as HTML,
//! the API as JSON, all from this one structure, so the three can never disagree. Whoever may
//! not see personal text gets [`Card::withhold_personal`]'s version, never a filtered view.

use std::collections::HashMap;

use serde::Serialize;

use crate::event::{Body, Personal};
use crate::readings::{Direction, HEADLINES, Readings, Trend, explain};
use crate::values::{EventId, PersonId, Source, Timestamp};

/// What the card says when some of a person's sealed fields do not open.
fn sealed_problem(history: &[FullEvent]) -> Option<String> {
    let n = history.iter().filter(|e| e.unreadable).count();
    (n > 0).then(|| {
        let which = if n == 1 {
            "One of this person's records holds sealed details that do".to_owned()
        } else {
            format!("{n} of this person's records hold sealed details that do")
        };
        format!(
            "{which} not open with their key in the vault: the vault may come from another \
             backup than the ledger (restore the vault taken with it), or the ledger is damaged. \
             What could not be opened is shown as unavailable."
        )
    })
}

/// One event with everything the ledger holds about it, personal fields opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullEvent {
    pub seq: i64,
    pub source: Source,
    pub id: EventId,
    pub at: Timestamp,
    pub body: Body,
    /// `None` when the person's key is gone (forgotten) or the event carried no personal data.
    pub personal: Option<Personal>,
    /// The event has sealed fields that its person's key does not open (a vault restored from
    /// another backup than the ledger, or damage): shown as unavailable, and said on the card.
    pub unreadable: bool,
}

impl FullEvent {
    pub fn recorded(&self) -> crate::readings::Recorded {
        crate::readings::Recorded {
            seq: self.seq,
            at: self.at,
            body: self.body.clone(),
        }
    }

    fn text(&self) -> Option<&str> {
        self.personal.as_ref()?.text.as_deref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identity {
    pub name: Option<String>,
    pub address_as: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub org: Option<String>,
}

/// Something the person said in their own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Said {
    pub at: String,
    /// `None` when the text is sealed with a key that is gone.
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MenuChoice {
    pub item: String,
    pub option: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consent {
    pub purpose: String,
    pub given: bool,
    pub at: String,
    pub how: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnWords {
    /// Newest first.
    pub wishes: Vec<Said>,
    pub proposals: Vec<Said>,
    /// The current choice per menu item (the latest wins).
    pub menu: Vec<MenuChoice>,
    /// The current consent per purpose (the latest wins).
    pub consents: Vec<Consent>,
}

/// A question still waiting for an answer, with the person's own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingQuestion {
    pub contact: String,
    pub opened: String,
    pub age_days: f64,
    pub text: Option<String>,
}

/// An event named as evidence, described by its public fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub source: String,
    pub id: String,
    pub kind: &'static str,
    pub at: String,
    pub summary: String,
}

/// One reading on the card: a sentence, where the person stands, and the events behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub reading: &'static str,
    pub sentence: String,
    pub standing: Option<String>,
    /// Percentile among everyone who has the reading (headline readings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    pub evidence: Vec<Evidence>,
}

/// One event on the relationship's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moment {
    pub seq: i64,
    pub at: String,
    pub kind: &'static str,
    pub source: String,
    pub id: String,
    /// The public fields in words ("invoice INV-7 issued: 120.00 EUR, due 2024-03-01").
    pub summary: String,
    /// Personal text the event carries (a question, an answer, a wish), if any.
    pub text: Option<String>,
    /// An answer that was a script (READINGS.md, "personal"): the same text went to at least
    /// five other people.
    pub scripted: bool,
    /// For an invoice paid late or still open past its due date, in words ("paid 9 days
    /// late", "open, 12 days overdue"), from the punctuality reading.
    pub late: Option<String>,
}

/// Everything a card shows. Field names are those of READINGS.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    pub person: String,
    pub as_of: String,
    pub identity: Identity,
    pub own_words: OwnWords,
    pub open_questions: Vec<WaitingQuestion>,
    pub person_to_business: Vec<Side>,
    pub business_to_person: Vec<Side>,
    pub readings: Readings,
    /// Newest first.
    pub timeline: Vec<Moment>,
    /// What this relationship cost that no invoice shows: the hidden costs of the person's
    /// orders, when a product catalogue has been imported (the caller fills it in; see
    /// [`crate::costs::of_person`]).
    pub hidden_costs: Option<crate::costs::Figures>,
    /// What is wrong when some of the person's sealed details cannot be opened; `None` when
    /// everything opened.
    pub sealed_problem: Option<String>,
}

impl Card {
    /// Builds the card of `person` from their history (any order) and their readings as of
    /// `as_of`. Events after `as_of` are not shown.
    pub fn build(
        person: &PersonId,
        as_of: Timestamp,
        history: &[FullEvent],
        readings: &Readings,
    ) -> Card {
        let mut visible: Vec<&FullEvent> = history.iter().filter(|e| e.at <= as_of).collect();
        visible.sort_by_key(|e| (e.at, e.seq));
        let by_seq: HashMap<i64, &FullEvent> = visible.iter().map(|e| (e.seq, *e)).collect();

        let mut identity = Identity::default();
        let mut wishes = Vec::new();
        let mut proposals = Vec::new();
        let mut menu: Vec<MenuChoice> = Vec::new();
        let mut consents: Vec<Consent> = Vec::new();
        let mut asked: HashMap<&str, Option<&str>> = HashMap::new();
        for e in &visible {
            let at = e.at.to_rfc3339();
            match &e.body {
                Body::PersonIdentified { language, org } => {
                    // The latest identification wins, field by field.
                    if let Some(p) = &e.personal {
                        identity.name = p.name.clone().or(identity.name);
                        identity.address_as = p.address_as.clone().or(identity.address_as);
                        identity.email = p.email.clone().or(identity.email);
                        identity.phone = p.phone.clone().or(identity.phone);
                    }
                    identity.language = language
                        .as_ref()
                        .map(ToString::to_string)
                        .or(identity.language);
                    identity.org = org.as_ref().map(ToString::to_string).or(identity.org);
                }
                Body::WishStated => wishes.push(Said {
                    at,
                    text: e.text().map(str::to_owned),
                    item: None,
                }),
                Body::MenuProposed { item } => proposals.push(Said {
                    at,
                    text: e.text().map(str::to_owned),
                    item: item.as_ref().map(ToString::to_string),
                }),
                Body::MenuChosen { item, option } => {
                    menu.retain(|m| m.item != item.as_str());
                    menu.push(MenuChoice {
                        item: item.to_string(),
                        option: option.to_string(),
                        at,
                    });
                }
                Body::ConsentGiven { purpose, how } | Body::ConsentWithdrawn { purpose, how } => {
                    consents.retain(|c| c.purpose != purpose.as_str());
                    consents.push(Consent {
                        purpose: purpose.to_string(),
                        given: matches!(e.body, Body::ConsentGiven { .. }),
                        at,
                        how: how.as_ref().map(ToString::to_string),
                    });
                }
                Body::ContactOpened { contact, .. } => {
                    asked.insert(contact.as_str(), e.text());
                }
                _ => {}
            }
        }
        wishes.reverse();

        let open_questions = readings
            .heard
            .as_ref()
            .map(|h| {
                h.open_questions
                    .iter()
                    .map(|q| WaitingQuestion {
                        contact: q.contact.to_string(),
                        opened: q.opened.to_rfc3339(),
                        age_days: q.age_days,
                        text: asked
                            .get(q.contact.as_str())
                            .copied()
                            .flatten()
                            .map(str::to_owned),
                    })
                    .collect()
            })
            .unwrap_or_default();

        let evidence_of = |reading: &str| -> Vec<Evidence> {
            evidence_seqs(readings, reading)
                .iter()
                .filter_map(|s| by_seq.get(s))
                .map(|e| Evidence {
                    source: e.source.to_string(),
                    id: e.id.to_string(),
                    kind: e.body.kind().as_str(),
                    at: e.at.to_rfc3339(),
                    summary: describe(&e.body),
                })
                .collect()
        };
        let mut person_to_business = Vec::new();
        let mut business_to_person = Vec::new();
        for x in explain(readings) {
            let index = HEADLINES.iter().position(|h| h.reading == x.reading);
            let (percentile, trend) = match index {
                Some(i) => {
                    let (p, t) = readings.standing(i);
                    (p, t.cloned())
                }
                None => (None, None),
            };
            let side = Side {
                reading: x.reading,
                evidence: evidence_of(x.reading),
                sentence: x.sentence,
                standing: x.standing,
                percentile,
                trend,
            };
            match x.direction {
                Direction::PersonToBusiness => person_to_business.push(side),
                Direction::BusinessToPerson => business_to_person.push(side),
            }
        }

        let scripted: &[i64] = readings
            .personal
            .as_ref()
            .map_or(&[], |p| &p.scripted_answers);
        let late: HashMap<&str, &crate::readings::LateInvoice> = readings
            .punctuality
            .as_ref()
            .map(|p| p.late.iter().map(|l| (l.invoice.as_str(), l)).collect())
            .unwrap_or_default();
        let late_words = |body: &Body| -> Option<String> {
            let Body::InvoiceIssued { invoice, .. } = body else {
                return None;
            };
            let l = late.get(invoice.as_str())?;
            let days = if l.days_late == 1 {
                "1 day".to_owned()
            } else {
                format!("{} days", l.days_late)
            };
            Some(if l.open {
                format!("open, {days} overdue")
            } else {
                format!("paid {days} late")
            })
        };
        let timeline = visible
            .iter()
            .rev()
            .map(|e| Moment {
                late: late_words(&e.body),
                seq: e.seq,
                at: e.at.to_rfc3339(),
                kind: e.body.kind().as_str(),
                source: e.source.to_string(),
                id: e.id.to_string(),
                summary: describe(&e.body),
                text: e.personal.as_ref().and_then(|p| {
                    p.text
                        .clone()
                        .or_else(|| p.what.clone())
                        .or_else(|| p.reason.clone())
                }),
                scripted: scripted.binary_search(&e.seq).is_ok(),
            })
            .collect();

        Card {
            person: person.to_string(),
            as_of: as_of.to_rfc3339(),
            identity,
            own_words: OwnWords {
                wishes,
                proposals,
                menu,
                consents,
            },
            open_questions,
            person_to_business,
            business_to_person,
            readings: readings.clone(),
            timeline,
            hidden_costs: None,
            sealed_problem: sealed_problem(history),
        }
    }

    /// Replaces every piece of personal text — name, address, e-mail, phone, wishes,
    /// proposals, questions, message texts — for someone who may see figures but not people.
    /// `pseudonym(key)` must be stable for the same key: the person's name becomes
    /// `pseudonym(person id)`, each text `pseudonym("<person>/<what>/<when>")`.
    /// Says where the person stands on each headline in words, from everyone's distributions
    /// (`dists`, in [`HEADLINES`] order): a tie as a tie ("as good as it gets, like 55% of
    /// people"), not the mid-rank percentile alone; then the person's own trend.
    pub fn say_standings(&mut self, dists: &[crate::readings::Distribution]) {
        let readings = &self.readings;
        for side in self
            .person_to_business
            .iter_mut()
            .chain(self.business_to_person.iter_mut())
        {
            let Some(i) = HEADLINES.iter().position(|h| h.reading == side.reading) else {
                continue;
            };
            let h = &HEADLINES[i];
            let (Some(value), Some(d)) = (readings.headline(side.reading), dists.get(i)) else {
                continue;
            };
            let Some(words) = d.standing_words(value, h.higher_is_better) else {
                continue;
            };
            let mut text = format!(
                "{}: {words}",
                crate::readings::words::label(&format!("{}.{}", h.reading, h.field))
            );
            if let Some(t) = &side.trend {
                text.push_str(&format!("; {}", crate::readings::trend_words(h, t)));
            }
            side.standing = Some(text);
        }
    }

    /// Says a gap in the whole ledger as a gap: where nobody has a reading of a kind (no
    /// service-desk data, no invoices, … imported at all), the person's sentence says that
    /// instead of "opened 0 contacts" or "has not contacted us", which would read as facts.
    /// `present[i]`: whether anyone in the ledger has headline `i` of [`HEADLINES`].
    pub fn say_ledger_gaps(&mut self, present: &[bool]) {
        // Nothing known of anyone (readings not kept yet): no claim about the ledger either.
        if !present.iter().any(|p| *p) {
            return;
        }
        let has = |reading: &str| {
            HEADLINES
                .iter()
                .position(|h| h.reading == reading)
                .and_then(|i| present.get(i).copied())
                .unwrap_or(true)
        };
        let gap = |reading: &str| -> Option<&'static str> {
            Some(match reading {
                "service_load" | "heard" | "personal" if !has("heard") => {
                    "No service-desk data has been imported for anyone, so this is not known."
                }
                "punctuality" | "invoice_friction" if !has(reading) => {
                    "No invoices have been imported for anyone, so this is not known."
                }
                "advocacy" if !has(reading) => {
                    "No referrals or reviews have been imported for anyone, so this is not known."
                }
                "resilience" | "made_right" if !has(reading) => {
                    "No incidents have been recorded for anyone, so this is not known."
                }
                "promises_kept" if !has(reading) => {
                    "No promises have been recorded for anyone, so this is not known."
                }
                "respects_choices" if !has(reading) => {
                    "No outreach has been imported for anyone, so this is not known."
                }
                _ => return None,
            })
        };
        for side in self
            .person_to_business
            .iter_mut()
            .chain(self.business_to_person.iter_mut())
        {
            if let Some(words) = gap(side.reading) {
                side.sentence = words.to_owned();
                side.standing = None;
                side.percentile = None;
                side.trend = None;
            }
        }
    }

    pub fn withhold_personal(&mut self, pseudonym: &dyn Fn(&str) -> String) {
        let person = self.person.clone();
        let name = pseudonym(&person);
        let id = &mut self.identity;
        id.name = Some(name.clone());
        id.address_as = id.address_as.as_ref().map(|_| name.clone());
        id.email = id.email.as_ref().map(|_| "(withheld)".to_owned());
        id.phone = id.phone.as_ref().map(|_| "(withheld)".to_owned());
        let text = |what: &str, at: &str, t: &mut Option<String>| {
            if t.is_some() {
                *t = Some(format!(
                    "(text withheld: {})",
                    pseudonym(&format!("{person}/{what}/{at}"))
                ));
            }
        };
        for w in &mut self.own_words.wishes {
            text("wish", &w.at, &mut w.text);
        }
        for p in &mut self.own_words.proposals {
            text("proposal", &p.at, &mut p.text);
        }
        for q in &mut self.open_questions {
            text("question", &q.contact, &mut q.text);
        }
        for m in &mut self.timeline {
            text("event", &m.seq.to_string(), &mut m.text);
        }
    }
}

/// Everything held about a person, for them to take away: every event in the canonical format
/// with its personal fields opened, the card (their words, both directions in sentences, the
/// timeline) and every reading.
pub fn export(
    person: &PersonId,
    as_of: Timestamp,
    history: &[FullEvent],
    readings: &Readings,
) -> serde_json::Value {
    let card = Card::build(person, as_of, history, readings);
    let events: Vec<serde_json::Value> = history
        .iter()
        .map(|e| {
            serde_json::Value::Object(
                crate::NewEvent {
                    source: e.source.clone(),
                    id: e.id.clone(),
                    person: person.clone(),
                    at: e.at,
                    body: e.body.clone(),
                    personal: e.personal.clone().unwrap_or_default(),
                }
                .to_json(),
            )
        })
        .collect();
    serde_json::json!({
        "person": person.as_str(),
        "exported_at": as_of.to_rfc3339(),
        "about": "Everything this business's rapport ledger holds about you: every event in the \
                  canonical format (docs/events.md) with your personal fields opened, and what \
                  the readings say about the relationship in both directions.",
        "events": events,
        "card": card,
    })
}

/// The events a reading names as its evidence (loyalty includes the relationship's end).
fn evidence_seqs(r: &Readings, reading: &str) -> Vec<i64> {
    let ev = |e: Option<&Vec<i64>>| e.cloned().unwrap_or_default();
    match reading {
        "punctuality" => ev(r.punctuality.as_ref().map(|x| &x.evidence)),
        "invoice_friction" => ev(r.invoice_friction.as_ref().map(|x| &x.evidence)),
        "service_load" => ev(r.service_load.as_ref().map(|x| &x.evidence)),
        "advocacy" => ev(r.advocacy.as_ref().map(|x| &x.evidence)),
        "resilience" => ev(r.resilience.as_ref().map(|x| &x.evidence)),
        "heard" => ev(r.heard.as_ref().map(|x| &x.evidence)),
        "personal" => ev(r.personal.as_ref().map(|x| &x.evidence)),
        "made_right" => ev(r.made_right.as_ref().map(|x| &x.evidence)),
        "promises_kept" => ev(r.promises_kept.as_ref().map(|x| &x.evidence)),
        "respects_choices" => ev(r.respects_choices.as_ref().map(|x| &x.evidence)),
        "loyalty" => {
            let mut e = ev(r.loyalty.as_ref().map(|x| &x.evidence));
            e.extend(ev(r.ended.as_ref().map(|x| &x.evidence)));
            e
        }
        "value" => ev(r.value.as_ref().map(|x| &x.evidence)),
        "contracts" => r
            .contracts
            .iter()
            .flatten()
            .flat_map(|c| c.evidence.iter().copied())
            .collect(),
        _ => Vec::new(),
    }
}

fn money(amount: crate::values::Amount, currency: Option<&crate::values::Currency>) -> String {
    match currency {
        Some(c) => format!("{} {c}", amount.grouped(c.decimals())),
        None => amount.grouped(2),
    }
}

/// An event's public fields in a few words. Never includes personal text.
pub fn describe(body: &Body) -> String {
    match body {
        Body::PersonIdentified { language, org } => {
            let mut s = "identified".to_owned();
            if let Some(l) = language {
                s.push_str(&format!("; language {l}"));
            }
            if let Some(o) = org {
                s.push_str(&format!("; organisation {o}"));
            }
            s
        }
        Body::InvoiceIssued {
            invoice,
            amount,
            currency,
            due,
            lines,
            ..
        } => format!(
            "invoice {invoice} issued: {}, due {due}{}",
            money(*amount, Some(currency)),
            lines_words(lines.len())
        ),
        Body::PaymentReceived {
            invoice,
            amount,
            currency,
            matched,
        } => {
            let mut s = format!(
                "payment of {} for invoice {invoice}",
                money(*amount, currency.as_ref())
            );
            if let Some(m) = matched {
                s.push_str(", matched ");
                s.push_str(crate::event::matched_words(m.as_str()).unwrap_or(m.as_str()));
            }
            s
        }
        Body::InvoiceCorrected {
            invoice,
            amount,
            currency,
        } => format!(
            "invoice {invoice} corrected: lowered by {}",
            money(*amount, Some(currency))
        ),
        Body::InvoiceDisputed { invoice } => format!("invoice {invoice} disputed"),
        Body::DisputeResolved { invoice, outcome } => {
            let outcome = match outcome {
                crate::event::Outcome::Upheld => "upheld",
                crate::event::Outcome::Rejected => "rejected",
                crate::event::Outcome::Settled => "settled",
            };
            format!("dispute over invoice {invoice} resolved: {outcome}")
        }
        Body::OrderPlaced {
            order,
            amount,
            currency,
            lines,
        } => format!(
            "order {order}: {}{}",
            money(*amount, currency.as_ref()),
            lines_words(lines.len())
        ),
        Body::OrderReturned {
            order,
            amount,
            currency,
            lines,
        } => format!(
            "return on order {order}: {}{}",
            money(*amount, currency.as_ref()),
            lines_words(lines.len())
        ),
        Body::ContactOpened {
            contact,
            channel,
            topic,
            caused_by,
        } => {
            let mut s = format!("asked ({contact}) by {channel}");
            if let Some(t) = topic {
                s.push_str(&format!(" about {t}"));
            }
            if let Some(c) = caused_by {
                s.push_str(&format!(", caused by {c}"));
            }
            s
        }
        Body::ContactAnswered { contact, by } => format!("{contact} answered by {by}"),
        Body::ContactClosed { contact, resolved } => format!(
            "{contact} closed, {}",
            if *resolved { "resolved" } else { "unresolved" }
        ),
        Body::IncidentOccurred { incident } => format!("incident {incident}"),
        Body::ApologyMade { incident } => format!("apology for incident {incident}"),
        Body::PromiseMade { promise, due } => format!("promise {promise}, due {due}"),
        Body::PromiseKept { promise } => format!("promise {promise} kept"),
        Body::ReferralMade { referred } => format!("referred {referred}"),
        // Scores are 0–10 (docs/events.md); the scale is named so that 9 never reads as 9 of 5.
        Body::ReviewGiven { score } => format!("review: {score} of 10"),
        Body::OutreachSent { channel, topic } => match topic {
            Some(t) => format!("outreach by {channel} about {t}"),
            None => format!("outreach by {channel}"),
        },
        Body::WishStated => "stated a wish".to_owned(),
        Body::NoteAdded => "note".to_owned(),
        Body::MenuChosen { item, option } => format!("chose {option} for {item}"),
        Body::MenuProposed { item } => match item {
            Some(i) => format!("proposed something for {i}"),
            None => "proposed something new".to_owned(),
        },
        Body::ConsentGiven { purpose, how } => match how {
            Some(h) => format!("gave consent for {purpose} ({h})"),
            None => format!("gave consent for {purpose}"),
        },
        Body::ConsentWithdrawn { purpose, how } => match how {
            Some(h) => format!("withdrew consent for {purpose} ({h})"),
            None => format!("withdrew consent for {purpose}"),
        },
        Body::RelationshipEnded { reason } => {
            format!("ended the relationship {}", reason.because())
        }
        Body::ContractStarted {
            contract,
            period,
            plan,
            price,
        } => {
            let mut s = format!(
                "contract {contract} started, renewing every {}",
                period.as_str()
            );
            if let Some(p) = plan {
                s.push_str(&format!("; plan {p}"));
            }
            if let Some((amount, currency)) = price {
                s.push_str(&format!(
                    "; {} a {}",
                    money(*amount, currency.as_ref()),
                    period.as_str()
                ));
            }
            s
        }
        Body::ContractRenewed { contract } => format!("contract {contract} renewed"),
        Body::ContractCancelled { contract, reason } => match reason {
            Some(r) => format!("contract {contract} cancelled {}", r.because()),
            None => format!("contract {contract} cancelled"),
        },
    }
}

fn lines_words(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 line".to_owned(),
        n => format!(", {n} lines"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewEvent;
    use crate::readings::{NoOthers, Readings};

    fn history(lines: &[&str]) -> (PersonId, Vec<FullEvent>) {
        let events: Vec<FullEvent> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let e = NewEvent::from_json_line(l).unwrap();
                FullEvent {
                    seq: i as i64 + 1,
                    source: e.source,
                    id: e.id,
                    at: e.at,
                    body: e.body,
                    personal: Some(e.personal),
                    unreadable: false,
                }
            })
            .collect();
        (PersonId::parse("P-1").unwrap(), events)
    }

    fn card(lines: &[&str]) -> Card {
        let (p, h) = history(lines);
        let as_of = Timestamp::parse("2024-06-01T00:00:00Z").unwrap();
        let recorded: Vec<_> = h.iter().map(FullEvent::recorded).collect();
        let r = Readings::compute(&recorded, as_of, &NoOthers);
        Card::build(&p, as_of, &h, &r)
    }

    const IDENTIFIED: &str = r#"{"source":"crm","id":"1","person":"P-1","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Ada Lovelace","email":"ada@example.org","address_as":"Ada"}"#;
    const WISH: &str = r#"{"source":"crm","id":"2","person":"P-1","kind":"wish.stated","at":"2024-02-01T00:00:00Z","text":"Call me after six"}"#;
    const ASKED: &str = r#"{"source":"desk","id":"3","person":"P-1","kind":"contact.opened","at":"2024-05-01T00:00:00Z","contact":"C-1","channel":"email","text":"Where is my parcel?"}"#;

    #[test]
    fn a_standing_is_said_in_words_from_everyone_s_distribution() {
        const ANSWERED: &str = r#"{"source":"desk","id":"4","person":"P-1","kind":"contact.answered","at":"2024-05-01T02:00:00Z","contact":"C-1","by":"agent-1","text":"It left today."}"#;
        let mut c = card(&[IDENTIFIED, ASKED, ANSWERED]);
        let heard = HEADLINES.iter().position(|h| h.reading == "heard").unwrap();
        let mut dists = vec![crate::readings::Distribution::new(vec![]); HEADLINES.len()];
        dists[heard] = crate::readings::Distribution::new(vec![1.0, 1.0, 0.5, 0.0]);
        c.say_standings(&dists);
        let side = c
            .business_to_person
            .iter()
            .find(|s| s.reading == "heard")
            .unwrap();
        assert_eq!(
            side.standing.as_deref(),
            Some("Questions answered: as good as it gets, like 50% of people")
        );
    }

    #[test]
    fn a_kind_of_data_nobody_in_the_ledger_has_is_said_as_a_gap_not_as_zero_contacts() {
        let mut c = card(&[IDENTIFIED, WISH]);
        let load = |c: &Card| {
            c.person_to_business
                .iter()
                .find(|s| s.reading == "service_load")
                .unwrap()
                .sentence
                .clone()
        };
        assert!(load(&c).starts_with("Opened 0 contacts"), "{}", load(&c));
        let mut present = vec![true; HEADLINES.len()];
        let heard = HEADLINES.iter().position(|h| h.reading == "heard").unwrap();
        present[heard] = false;
        c.say_ledger_gaps(&present);
        assert_eq!(
            load(&c),
            "No service-desk data has been imported for anyone, so this is not known."
        );
        // Nothing known of anyone at all: no claim about the ledger.
        let mut c = card(&[IDENTIFIED, WISH]);
        c.say_ledger_gaps(&vec![false; HEADLINES.len()]);
        assert!(load(&c).starts_with("Opened 0 contacts"));
    }

    #[test]
    fn the_card_puts_the_persons_own_words_and_open_questions_first() {
        let c = card(&[IDENTIFIED, WISH, ASKED]);
        assert_eq!(c.identity.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(
            c.own_words.wishes[0].text.as_deref(),
            Some("Call me after six")
        );
        assert_eq!(c.open_questions.len(), 1);
        assert_eq!(
            c.open_questions[0].text.as_deref(),
            Some("Where is my parcel?")
        );
        assert_eq!(c.timeline[0].kind, "contact.opened");
        assert_eq!(c.timeline.len(), 3);
    }

    #[test]
    fn withholding_personal_text_leaves_no_name_email_or_words() {
        let mut c = card(&[IDENTIFIED, WISH, ASKED]);
        c.withhold_personal(&|k| format!("pseudo-{}", k.len()));
        let json = serde_json::to_string(&c).unwrap();
        for secret in ["Ada", "ada@example.org", "after six", "parcel"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        assert_eq!(c.identity.name.as_deref(), Some("pseudo-3"));
    }

    #[test]
    fn evidence_is_described_by_public_fields_only() {
        let s = describe(&Body::ContactAnswered {
            contact: crate::Ref::parse("C-1").unwrap(),
            by: crate::values::Label::parse("agent").unwrap(),
        });
        assert_eq!(s, "C-1 answered by agent");
    }

    #[test]
    fn a_review_of_9_on_a_0_to_10_scale_reads_9_of_10() {
        for (score, words) in [
            (0, "review: 0 of 10"),
            (9, "review: 9 of 10"),
            (10, "review: 10 of 10"),
        ] {
            assert_eq!(describe(&Body::ReviewGiven { score }), words);
        }
        let c = card(&[
            r#"{"source":"web","id":"r","person":"P-1","kind":"review.given","at":"2024-03-01T00:00:00Z","score":9}"#,
        ]);
        assert_eq!(c.timeline[0].summary, "review: 9 of 10");
        let advocacy = c
            .person_to_business
            .iter()
            .find(|s| s.reading == "advocacy")
            .unwrap();
        assert_eq!(advocacy.evidence[0].summary, "review: 9 of 10");
        assert!(
            advocacy.sentence.contains("the latest 9/10"),
            "{}",
            advocacy.sentence
        );
    }
}
