//! `rapport card`: one person — who they are and what they said first, then the relationship
//! in both directions side by side, each reading in a sentence with the events behind it.
//!
//! The card itself is [`domain::Card`]; this module prints it for a terminal. Every view is
//! written to the audit log before anything is shown.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use domain::card::Side;
use domain::{Card, PersonId};

use crate::cli::CardArgs;
use crate::screen::{Screen, cut, wrap};
use crate::{ledger, moment};

pub fn run(db: &app::Location, args: &CardArgs) -> anyhow::Result<ExitCode> {
    let person = PersonId::parse(&args.person).map_err(|e| anyhow::anyhow!("person: {e}"))?;
    let as_of = moment::as_of(args.as_of.as_deref())?;
    let app = ledger::open(db)?;
    // Today's card is ranked against the kept readings; another day's against everyone's
    // readings computed from the events as of then.
    let ranking = if args.as_of.is_some() {
        app::Ranking::Everyone
    } else {
        ledger::keep_up(&app)?;
        app::Ranking::Kept
    };
    let audit = app::DirectAudit(app.ledger().clone());
    let card = app.card(&person, &ledger::actor(), &audit, as_of, ranking)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &card).context("writing JSON")?;
        writeln!(out).context("writing JSON")?;
    } else {
        let width = Screen::detect().width;
        write_text(&card, width, &mut out).context("writing the card")?;
    }
    out.flush().context("writing output")?;
    Ok(ExitCode::SUCCESS)
}

/// Removes control characters (terminal escapes included) from text a person wrote.
pub fn clean(s: &str) -> String {
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

const SEALED: &str = "(sealed text unavailable)";

/// The card as text; `width`: the screen's, when it is narrower than the card would be.
pub fn write_text(card: &Card, width: Option<usize>, out: &mut impl Write) -> std::io::Result<()> {
    let id = &card.identity;
    let mut title = card.person.clone();
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
    writeln!(out, "as of {}", card.as_of)?;
    if let Some(problem) = &card.sealed_problem {
        writeln!(out, "\nwarning: {problem}")?;
    }

    writeln!(out, "\nIn their own words")?;
    let words = &card.own_words;
    if words.wishes.is_empty() && words.proposals.is_empty() {
        writeln!(out, "  (no wishes or proposals yet)")?;
    }
    for w in &words.wishes {
        let text = clean(w.text.as_deref().unwrap_or(SEALED));
        writeln!(out, "  {}  wish: \"{text}\"", day(&w.at))?;
    }
    for p in &words.proposals {
        let text = clean(p.text.as_deref().unwrap_or(SEALED));
        writeln!(out, "  {}  proposal: \"{text}\"", day(&p.at))?;
    }
    let menu: Vec<String> = words
        .menu
        .iter()
        .map(|m| format!("{} = {}", m.item, m.option))
        .collect();
    if !menu.is_empty() {
        writeln!(out, "  menu: {}", clean(&menu.join("; ")))?;
    }
    let consents: Vec<String> = words
        .consents
        .iter()
        .map(|c| {
            let state = if c.given { "given" } else { "withdrawn" };
            format!("{} {state} {}", c.purpose, day(&c.at))
        })
        .collect();
    if !consents.is_empty() {
        writeln!(out, "  consent: {}", clean(&consents.join("; ")))?;
    }

    if !card.open_questions.is_empty() {
        writeln!(out, "\nOpen questions")?;
        for q in &card.open_questions {
            writeln!(
                out,
                "  {} waiting {:.0} days: \"{}\"",
                clean(&q.contact),
                q.age_days,
                clean(q.text.as_deref().unwrap_or("(no text)"))
            )?;
        }
    }

    writeln!(out)?;
    write_side_by_side(card, width, out)?;
    super::costs::write_card_section(card.hidden_costs.as_ref(), width, out)?;

    let scripted: Vec<_> = card.timeline.iter().filter(|m| m.scripted).collect();
    if !scripted.is_empty() {
        writeln!(
            out,
            "\nAnswered by script (the same text went to at least five other people)"
        )?;
        // A script is named by its words; the event only where its text is not at hand.
        let room = width.unwrap_or(100).saturating_sub(16).max(20);
        for m in scripted.iter().take(10) {
            match &m.text {
                Some(t) => writeln!(out, "  {}  \"{}\"", day(&m.at), cut(&clean(t), room))?,
                None => writeln!(out, "  {}  {}", day(&m.at), clean(&m.summary))?,
            }
        }
        if scripted.len() > 10 {
            writeln!(out, "  and {} more", scripted.len() - 10)?;
        }
    }

    writeln!(out, "\nEvidence")?;
    for side in card
        .person_to_business
        .iter()
        .chain(&card.business_to_person)
    {
        let ev = &side.evidence;
        if ev.is_empty() {
            continue;
        }
        let shown: Vec<String> = ev
            .iter()
            .take(6)
            .map(|e| format!("{}/{}", e.source, e.id))
            .collect();
        let more = if ev.len() > 6 {
            format!(" and {} more", ev.len() - 6)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {}: {}{more}",
            side.reading,
            clean(&shown.join(", "))
        )?;
    }
    writeln!(
        out,
        "\n(rapport card {} --json shows every field and event)",
        card.person
    )?;
    Ok(())
}

/// Each column's width: 54 characters, or half the screen when it is narrower (80
/// columns: 38 each).
fn column_width(width: Option<usize>) -> usize {
    width.map_or(54, |w| (w.saturating_sub(3) / 2).clamp(20, 54))
}

fn write_side_by_side(
    card: &Card,
    width: Option<usize>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let w = column_width(width);
    let column = |sides: &[Side]| -> Vec<String> {
        let mut lines = Vec::new();
        for x in sides {
            lines.push(x.reading.replace('_', " ").to_uppercase());
            lines.extend(wrap(&clean(&x.sentence), w));
            if let Some(s) = &x.standing {
                lines.extend(wrap(&format!("({s})"), w));
            }
            lines.push(String::new());
        }
        lines
    };
    let left = column(&card.person_to_business);
    let right = column(&card.business_to_person);
    writeln!(out, "{:<w$} │ HOW WE TREAT THEM", "HOW THEY TREAT US")?;
    writeln!(out, "{}─┼─{}", "─".repeat(w), "─".repeat(w))?;
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).map_or("", String::as_str);
        let r = right.get(i).map_or("", String::as_str);
        let pad = w.saturating_sub(l.chars().count());
        writeln!(out, "{l}{} │ {r}", " ".repeat(pad))?;
    }
    Ok(())
}

fn day(at: &str) -> String {
    at.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_fit_side_by_side_in_80_columns() {
        assert_eq!(column_width(None), 54);
        assert_eq!(column_width(Some(80)), 38);
        assert!(2 * column_width(Some(80)) + 3 <= 80);
        assert_eq!(column_width(Some(200)), 54);
    }

    #[test]
    fn terminal_escapes_in_personal_text_are_neutralised() {
        assert_eq!(clean("hi\u{1b}[31mred"), "hi\u{fffd}[31mred");
        assert_eq!(clean("two\nlines"), "two lines");
    }
}
