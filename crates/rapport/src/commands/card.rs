//! `rapport card`: one person — who they are and what they said first, then the relationship
//! in both directions side by side, each reading in a sentence with the events behind it.
//!
//! Every view is written to the audit log before anything is shown.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use domain::readings::{Direction, Explained, HEADLINES, Readings, explain};
use domain::{Body, PersonId, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use store::{FullEvent, Store};

use crate::cli::CardArgs;
use crate::{ledger, moment};

pub fn run(db: &Path, args: &CardArgs) -> anyhow::Result<ExitCode> {
    let person = PersonId::parse(&args.person).map_err(|e| anyhow::anyhow!("person: {e}"))?;
    let as_of = moment::as_of(args.as_of.as_deref())?;
    let mut store = ledger::open(db)?;
    let Some(history) = store.history(&person)? else {
        bail!("no person {person:?} in {}", db.display());
    };
    store
        .audit(&ledger::actor(), "card.view", Some(&person))
        .context("writing the audit log")?;
    let assessed = ledger::assess(&store, as_of)?;
    let index = assessed
        .people
        .iter()
        .position(|p| *p == person)
        .context("the person vanished while reading")?;
    let card = Card::build(&person, as_of, &history, &assessed.readings[index]);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &card.to_json()).context("writing JSON")?;
        writeln!(out).context("writing JSON")?;
    } else {
        card.write_text(&mut out).context("writing the card")?;
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Everything a card shows, gathered from one person's history and readings.
pub struct Card<'a> {
    person: &'a PersonId,
    as_of: Timestamp,
    history: &'a [FullEvent],
    readings: &'a Readings,
    explained: Vec<Explained>,
    identity: Identity,
}

#[derive(Default, Serialize)]
struct Identity {
    name: Option<String>,
    address_as: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    org: Option<String>,
}

/// Removes control characters (terminal escapes included) from text a person wrote.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect::<String>()
        .replace('\n', " ")
}

impl<'a> Card<'a> {
    pub fn build(
        person: &'a PersonId,
        as_of: Timestamp,
        history: &'a [FullEvent],
        readings: &'a Readings,
    ) -> Self {
        let mut identity = Identity::default();
        // The latest identification wins, field by field.
        for e in history.iter().filter(|e| e.at <= as_of) {
            if let Body::PersonIdentified { language, org } = &e.body {
                if let Some(p) = &e.personal {
                    identity.name = p.name.clone().or(identity.name);
                    identity.address_as = p.address_as.clone().or(identity.address_as);
                    identity.email = p.email.clone().or(identity.email);
                    identity.phone = p.phone.clone().or(identity.phone);
                }
                identity.language = language
                    .as_ref()
                    .map(|l| l.to_string())
                    .or(identity.language);
                identity.org = org.as_ref().map(|o| o.to_string()).or(identity.org);
            }
        }
        Card {
            person,
            as_of,
            history,
            readings,
            explained: explain(readings),
            identity,
        }
    }

    fn visible(&self) -> impl Iterator<Item = &FullEvent> {
        self.history.iter().filter(|e| e.at <= self.as_of)
    }

    fn text_of(e: &FullEvent) -> Option<&str> {
        e.personal.as_ref()?.text.as_deref()
    }

    fn wishes(&self) -> Vec<Value> {
        let mut v: Vec<Value> = self
            .visible()
            .filter(|e| matches!(e.body, Body::WishStated))
            .map(|e| json!({"at": e.at.to_rfc3339(), "text": Card::text_of(e)}))
            .collect();
        v.reverse();
        v
    }

    fn proposals(&self) -> Vec<Value> {
        self.visible()
            .filter_map(|e| match &e.body {
                Body::MenuProposed { item } => Some(json!({
                    "at": e.at.to_rfc3339(),
                    "item": item.as_ref().map(|i| i.to_string()),
                    "text": Card::text_of(e),
                })),
                _ => None,
            })
            .collect()
    }

    /// The current choice per menu item (the latest wins).
    fn menu(&self) -> Vec<Value> {
        let mut latest: Vec<(String, String, Timestamp)> = Vec::new();
        for e in self.visible() {
            if let Body::MenuChosen { item, option } = &e.body {
                latest.retain(|(i, _, _)| i != item.as_str());
                latest.push((item.to_string(), option.to_string(), e.at));
            }
        }
        latest
            .into_iter()
            .map(
                |(item, option, at)| json!({"item": item, "option": option, "at": at.to_rfc3339()}),
            )
            .collect()
    }

    /// The current consent per purpose (the latest wins).
    fn consents(&self) -> Vec<Value> {
        let mut latest: Vec<(String, bool, Timestamp, Option<String>)> = Vec::new();
        for e in self.visible() {
            let (purpose, given, how) = match &e.body {
                Body::ConsentGiven { purpose, how } => (purpose, true, how),
                Body::ConsentWithdrawn { purpose, how } => (purpose, false, how),
                _ => continue,
            };
            latest.retain(|(p, ..)| p != purpose.as_str());
            latest.push((
                purpose.to_string(),
                given,
                e.at,
                how.as_ref().map(|h| h.to_string()),
            ));
        }
        latest
            .into_iter()
            .map(|(purpose, given, at, how)| {
                json!({"purpose": purpose, "given": given, "at": at.to_rfc3339(), "how": how})
            })
            .collect()
    }

    fn open_questions(&self) -> Vec<Value> {
        let texts: HashMap<String, Option<&str>> = self
            .visible()
            .filter_map(|e| match &e.body {
                Body::ContactOpened { contact, .. } => {
                    Some((contact.to_string(), Card::text_of(e)))
                }
                _ => None,
            })
            .collect();
        self.readings
            .heard
            .as_ref()
            .map(|h| {
                h.open_questions
                    .iter()
                    .map(|q| {
                        json!({
                            "contact": q.contact,
                            "opened": q.opened,
                            "age_days": q.age_days,
                            "text": texts.get(q.contact.as_str()).copied().flatten(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn evidence(&self, reading: &str) -> Vec<Value> {
        let seqs: Vec<i64> = match reading {
            "punctuality" => self
                .readings
                .punctuality
                .as_ref()
                .map(|r| r.evidence.clone()),
            "invoice_friction" => self
                .readings
                .invoice_friction
                .as_ref()
                .map(|r| r.evidence.clone()),
            "service_load" => self
                .readings
                .service_load
                .as_ref()
                .map(|r| r.evidence.clone()),
            "advocacy" => self.readings.advocacy.as_ref().map(|r| r.evidence.clone()),
            "resilience" => self
                .readings
                .resilience
                .as_ref()
                .map(|r| r.evidence.clone()),
            "heard" => self.readings.heard.as_ref().map(|r| r.evidence.clone()),
            "made_right" => self
                .readings
                .made_right
                .as_ref()
                .map(|r| r.evidence.clone()),
            "promises_kept" => self
                .readings
                .promises_kept
                .as_ref()
                .map(|r| r.evidence.clone()),
            "loyalty" => self.readings.loyalty.as_ref().map(|r| {
                let mut e = r.evidence.clone();
                if let Some(x) = &self.readings.ended {
                    e.extend_from_slice(&x.evidence);
                }
                e
            }),
            "value" => self.readings.value.as_ref().map(|r| r.evidence.clone()),
            _ => None,
        }
        .unwrap_or_default();
        let by_seq: HashMap<i64, &FullEvent> = self.history.iter().map(|e| (e.seq, e)).collect();
        seqs.iter()
            .filter_map(|s| by_seq.get(s))
            .map(|e| {
                json!({
                    "source": e.source.as_str(),
                    "id": e.id.as_str(),
                    "kind": e.body.kind().as_str(),
                    "at": e.at.to_rfc3339(),
                })
            })
            .collect()
    }

    fn direction(&self, d: Direction) -> Vec<Value> {
        self.explained
            .iter()
            .filter(|x| x.direction == d)
            .map(|x| {
                json!({
                    "reading": x.reading,
                    "sentence": x.sentence,
                    "standing": x.standing,
                    "evidence": self.evidence(x.reading),
                })
            })
            .collect()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "person": self.person.as_str(),
            "as_of": self.as_of.to_rfc3339(),
            "identity": self.identity,
            "own_words": {
                "wishes": self.wishes(),
                "proposals": self.proposals(),
                "menu": self.menu(),
                "consents": self.consents(),
            },
            "open_questions": self.open_questions(),
            "person_to_business": self.direction(Direction::PersonToBusiness),
            "business_to_person": self.direction(Direction::BusinessToPerson),
            "readings": self.readings,
        })
    }

    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let id = &self.identity;
        let mut title = self.person.to_string();
        if let Some(name) = &id.name {
            title.push_str(&format!("  {}", clean(name)));
        }
        if let Some(a) = &id.address_as {
            title.push_str(&format!(" (address as \"{}\")", clean(a)));
        }
        writeln!(out, "{title}")?;
        let contact: Vec<String> = [&id.email, &id.phone, &id.language, &id.org]
            .iter()
            .filter_map(|v| v.as_deref().map(clean))
            .collect();
        if !contact.is_empty() {
            writeln!(out, "{}", contact.join(" · "))?;
        }
        writeln!(out, "as of {}", self.as_of)?;

        writeln!(out, "\nIn their own words")?;
        let wishes = self.wishes();
        let proposals = self.proposals();
        if wishes.is_empty() && proposals.is_empty() {
            writeln!(out, "  (no wishes or proposals yet)")?;
        }
        for w in &wishes {
            writeln!(
                out,
                "  {}  wish: \"{}\"",
                day(&w["at"]),
                clean(w["text"].as_str().unwrap_or("(sealed text unavailable)"))
            )?;
        }
        for p in &proposals {
            writeln!(
                out,
                "  {}  proposal: \"{}\"",
                day(&p["at"]),
                clean(p["text"].as_str().unwrap_or("(sealed text unavailable)"))
            )?;
        }
        let menu: Vec<String> = self
            .menu()
            .iter()
            .map(|m| {
                format!(
                    "{} = {}",
                    m["item"].as_str().unwrap_or(""),
                    m["option"].as_str().unwrap_or("")
                )
            })
            .collect();
        if !menu.is_empty() {
            writeln!(out, "  menu: {}", clean(&menu.join("; ")))?;
        }
        let consents: Vec<String> = self
            .consents()
            .iter()
            .map(|c| {
                let state = if c["given"].as_bool() == Some(true) {
                    "given"
                } else {
                    "withdrawn"
                };
                format!(
                    "{} {state} {}",
                    c["purpose"].as_str().unwrap_or(""),
                    day(&c["at"])
                )
            })
            .collect();
        if !consents.is_empty() {
            writeln!(out, "  consent: {}", clean(&consents.join("; ")))?;
        }

        let open = self.open_questions();
        if !open.is_empty() {
            writeln!(out, "\nOpen questions")?;
            for q in &open {
                writeln!(
                    out,
                    "  {} waiting {:.0} days: \"{}\"",
                    clean(q["contact"].as_str().unwrap_or("")),
                    q["age_days"].as_f64().unwrap_or(0.0),
                    clean(q["text"].as_str().unwrap_or("(no text)"))
                )?;
            }
        }

        writeln!(out)?;
        self.write_side_by_side(out)?;

        writeln!(out, "\nEvidence")?;
        let readings = HEADLINES
            .iter()
            .map(|h| h.reading)
            .chain(["loyalty", "value"]);
        for reading in readings {
            let ev = self.evidence(reading);
            if ev.is_empty() {
                continue;
            }
            let shown: Vec<String> = ev
                .iter()
                .take(6)
                .map(|e| {
                    format!(
                        "{}/{}",
                        e["source"].as_str().unwrap_or(""),
                        e["id"].as_str().unwrap_or("")
                    )
                })
                .collect();
            let more = if ev.len() > 6 {
                format!(" and {} more", ev.len() - 6)
            } else {
                String::new()
            };
            writeln!(out, "  {}: {}{more}", reading, clean(&shown.join(", ")))?;
        }
        writeln!(
            out,
            "\n(rapport card {} --json shows every field and event)",
            self.person
        )?;
        Ok(())
    }

    fn write_side_by_side(&self, out: &mut impl Write) -> std::io::Result<()> {
        const W: usize = 54;
        let column = |d: Direction| -> Vec<String> {
            let mut lines = Vec::new();
            for x in self.explained.iter().filter(|x| x.direction == d) {
                lines.push(x.reading.replace('_', " ").to_uppercase());
                lines.extend(wrap(&clean(&x.sentence), W));
                if let Some(s) = &x.standing {
                    lines.extend(wrap(&format!("({s})"), W));
                }
                lines.push(String::new());
            }
            lines
        };
        let left = column(Direction::PersonToBusiness);
        let right = column(Direction::BusinessToPerson);
        writeln!(out, "{:<W$} │ HOW WE TREAT THEM", "HOW THEY TREAT US")?;
        writeln!(out, "{}─┼─{}", "─".repeat(W), "─".repeat(W))?;
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).map_or("", String::as_str);
            let r = right.get(i).map_or("", String::as_str);
            let pad = W.saturating_sub(l.chars().count());
            writeln!(out, "{l}{} │ {r}", " ".repeat(pad))?;
        }
        Ok(())
    }
}

fn day(v: &Value) -> String {
    v.as_str()
        .map(|s| s.chars().take(10).collect())
        .unwrap_or_default()
}

/// Greedy word wrap at `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_wrapped_at_word_boundaries() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }

    #[test]
    fn terminal_escapes_in_personal_text_are_neutralised() {
        assert_eq!(clean("hi\u{1b}[31mred"), "hi\u{fffd}[31mred");
        assert_eq!(clean("two\nlines"), "two lines");
    }
}
