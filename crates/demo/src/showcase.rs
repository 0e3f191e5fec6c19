//! The showcase people: the first few people of every demo ledger, each written to make one
//! thing in the readings unmistakable.
//!
//! A demo with half a million random people proves scale but shows nothing in particular.
//! These people are the guided tour: `rapport demo` prints where to look, and each card
//! shows one story from the essays — the punctual promoter, the one who left after nobody
//! said sorry, the questions nobody answered. Their stories are fixed; only their exact
//! moments vary a little with the seed.

use crate::person::{Answer, Ctx, Gen, JPY, Kept, Pay, Traits};
use crate::time::{DAY, HOUR};
use crate::words;

/// Person id, and what their card shows.
pub const SHOWCASE: &[(&str, &str)] = &[
    (
        "P-000000",
        "Anna de Vries — the punctual promoter: every invoice paid on time, reviews of 9 and 10, referrals who became buyers, quick personal answers",
    ),
    (
        "P-000001",
        "Mehmet Yılmaz — the habitual late payer: most invoices weeks late, and several open overdue invoices right now",
    ),
    (
        "P-000002",
        "Sanne Bakker — disputes upheld: she was right about her invoices, so the errors count against the business (made right), not as her friction",
    ),
    (
        "P-000003",
        "Oliver Smith — the heavy service-desk user: several contacts a week, far above everyone else's contacts per month",
    ),
    (
        "P-000004",
        "Fatima El Amrani — stayed after an apology: a damaged delivery, a quick sorry, and she kept ordering (weathered, with apology)",
    ),
    (
        "P-000005",
        "Piotr Nowak — left after an incident nobody apologised for: relationship ended, reason service",
    ),
    (
        "P-000006",
        "Siti Wijaya — questions waiting for weeks: three open questions, the oldest about six weeks old",
    ),
    (
        "P-000007",
        "Ravi Ramdin — broken promises: call-backs and replacements promised, most kept late or never",
    ),
    (
        "P-000008",
        "Julia Müller — a wish and a proposal containing HTML-like text (<script>, \"><img onerror>): pages must show it as text",
    ),
    (
        "P-000009",
        "Emily Taylor — the referrer: five people referred, who went on to buy",
    ),
    (
        "P-000010",
        "Camille Dubois — composed her own menu and withdrew newsletter consent, yet the newsletter kept coming (respects choices: conflicts)",
    ),
    (
        "P-000011",
        "Jeroen Visser — answered only by script: the same boilerplate every time (personal: scripted answers)",
    ),
    (
        "P-000012",
        "Yuki Tanaka — pays in yen, in instalments: amounts without decimals, invoices settled by their last part",
    ),
];

/// When showcase person `idx` first appears, if `idx` is one.
pub fn start(ctx: &Ctx, idx: u64) -> Option<i64> {
    if idx >= SHOWCASE.len() as u64 {
        return None;
    }
    let first = ctx.end - ctx.span_days * DAY;
    Some(first + (3 + 2 * idx as i64) * DAY + 9 * HOUR + 17 * 60)
}

/// Writes showcase person `g.idx`'s life, or returns false when `g.idx` is not one.
pub fn life(g: &mut Gen<'_>) -> bool {
    let idx = g.idx;
    if idx >= SHOWCASE.len() as u64 {
        return false;
    }
    g.traits = Traits::ordinary();
    g.cur = crate::person::EUR;
    let start = g.start;
    let end = g.ctx.end;
    match idx {
        0 => {
            g.set_identity("Anna", "de Vries", true);
            g.set_language("nl", ("+31 6 ", 8));
            g.traits.care = 0.97;
            g.identified(start, true, 1);
            g.consent(start + 300, true, "newsletter", "self-service page");
            monthly(g, start, end, 28, Pay::OnTime);
            for k in 1..=3 {
                let at = start + k * g.ctx.span_days * DAY / 4;
                g.review(at, 9 + u8::from(k % 2 == 0), true);
            }
            for _ in 0..3 {
                g.refer_someone(start, end - 30 * DAY, true, 500);
            }
            for k in 0..3 {
                let at = start + (100 + 200 * k) * DAY + g.between(0, 5 * DAY);
                let delay = g.between(HOUR, 4 * HOUR);
                g.contact(at, None, Answer::After(delay, false));
            }
        }
        1 => {
            g.set_identity("Mehmet", "Yılmaz", false);
            g.set_language("tr", ("+31 6 ", 8));
            g.identified(start, true, 2);
            let mut at = start + DAY;
            while at < end - 110 * DAY {
                let late = g.between(12, 60);
                g.purchase(at, Pay::Late(late));
                at += g.between(35 * DAY, 50 * DAY);
            }
            for days_before in [105, 80, 62] {
                g.purchase(end - days_before * DAY, Pay::Never);
            }
            let at = end - 40 * DAY;
            g.contact(at, None, Answer::After(20 * HOUR, false));
        }
        2 => {
            g.set_identity("Sanne", "Bakker", true);
            g.set_language("nl", ("+31 6 ", 8));
            g.identified(start, true, 0);
            let plans = [
                Pay::OnTime,
                Pay::Dispute(Some("upheld")),
                Pay::OnTime,
                Pay::OnTime,
                Pay::Dispute(Some("upheld")),
                Pay::OnTime,
                Pay::Dispute(Some("upheld")),
                Pay::OnTime,
                Pay::Dispute(Some("settled")),
                Pay::OnTime,
            ];
            let step = (end - start - 60 * DAY) / plans.len() as i64;
            for (k, plan) in plans.iter().enumerate() {
                let at = start + DAY + k as i64 * step + g.between(0, 5 * DAY);
                g.purchase(at, *plan);
            }
        }
        3 => {
            g.set_identity("Oliver", "Smith", false);
            g.set_language("en", ("+44 7", 9));
            g.traits.desk = 10.0;
            g.identified(start, true, 1);
            monthly(g, start, end, 45, Pay::Draw);
            let mut at = start + HOUR;
            loop {
                at += g.between(HOUR, 6 * DAY);
                if at >= end - DAY {
                    break;
                }
                g.contact(at, None, Answer::Draw);
            }
        }
        4 => {
            g.set_identity("Fatima", "El Amrani", true);
            g.set_language("nl", ("+31 6 ", 8));
            g.identified(start, true, 2);
            monthly(g, start, end, 30, Pay::OnTime);
            let at = start + (end - start) / 2 + 2 * HOUR;
            let sorry = g.between(2 * HOUR, 6 * HOUR);
            g.incident(at, Some(sorry), Some(Answer::After(3 * HOUR, false)));
            g.promise(at + 5 * HOUR, 3, Kept::OnTime);
            g.review(at + 20 * DAY, 8, true);
        }
        5 => {
            g.set_identity("Piotr", "Nowak", false);
            g.set_language("pl", ("+48 ", 9));
            g.identified(start, false, 0);
            let incident_at = end - 300 * DAY;
            monthly(g, start, incident_at - 5 * DAY, 30, Pay::OnTime);
            g.incident(incident_at, None, Some(Answer::After(50 * HOUR, true)));
            g.review(incident_at + 6 * DAY, 2, true);
            let left = incident_at + 21 * DAY + g.between(0, DAY);
            g.stop = left;
            g.ended(left, "service");
        }
        6 => {
            g.set_identity("Siti", "Wijaya", true);
            g.set_language("id", ("+62 812 ", 8));
            g.traits.care = 0.3;
            g.identified(start, true, 2);
            monthly(g, start, end, 60, Pay::Draw);
            for k in 0..3 {
                let at = start + (150 + 250 * k) * DAY;
                g.contact(at, None, Answer::After(30 * HOUR, false));
            }
            for days_before in [42, 27, 16] {
                let at = end - days_before * DAY + g.between(0, 10 * HOUR);
                g.contact(at, None, Answer::Never);
            }
        }
        7 => {
            g.set_identity("Ravi", "Ramdin", false);
            g.set_language("nl", ("+31 6 ", 8));
            g.identified(start, true, 1);
            monthly(g, start, end, 40, Pay::OnTime);
            let plans = [
                Kept::Never,
                Kept::Late(6),
                Kept::OnTime,
                Kept::Never,
                Kept::Late(12),
                Kept::Never,
            ];
            let step = (end - start - 60 * DAY) / plans.len() as i64;
            for (k, kept) in plans.iter().enumerate() {
                let at = start + 10 * DAY + k as i64 * step;
                let answered = g.contact(at, None, Answer::After(5 * HOUR, false));
                g.promise(answered.unwrap_or(at + HOUR), 4, *kept);
            }
        }
        8 => {
            g.set_identity("Julia", "Müller", true);
            g.set_language("de", ("+49 151 ", 8));
            g.identified(start, true, 2);
            monthly(g, start, end, 50, Pay::Draw);
            g.wish(start + 30 * DAY, words::HOSTILE_WISH);
            g.menu_proposed(
                start + 31 * DAY,
                Some("delivery"),
                "Deliver to </textarea><b onmouseover=\"alert('x')\">my office</b> & ring twice",
            );
            g.review(start + 90 * DAY, 7, false);
            g.note(
                start + 91 * DAY,
                "Rang about the review; prefers e-mail to calls, and asked us to quote her order number.",
            );
        }
        9 => {
            g.set_identity("Emily", "Taylor", true);
            g.set_language("en", ("+44 7", 9));
            g.traits.advocacy = 0.95;
            g.identified(start, true, 1);
            monthly(g, start, end, 35, Pay::OnTime);
            for _ in 0..5 {
                g.refer_someone(start, end - 30 * DAY, true, 1000);
            }
            g.review(start + 200 * DAY, 10, true);
        }
        10 => {
            g.set_identity("Camille", "Dubois", true);
            g.set_language("fr", ("+33 6 ", 8));
            g.identified(start, true, 2);
            g.consent(start + 120, true, "newsletter", "web form");
            let choices = [
                ("channel", "email"),
                ("frequency", "quarterly"),
                ("delivery", "pickup-point"),
                ("packaging", "reusable"),
                ("roast", "light"),
            ];
            for (k, (item, option)) in choices.iter().enumerate() {
                g.menu_chosen(start + (2 + k as i64) * DAY, item, option);
            }
            g.menu_proposed(start + 9 * DAY, Some("roast"), words::PROPOSALS[5].1);
            g.wish(
                start + 9 * DAY + HOUR,
                "Merci de m'écrire en français si possible.",
            );
            monthly(g, start, end, 45, Pay::OnTime);
            let withdrawn = start + 200 * DAY;
            g.consent(withdrawn, false, "newsletter", "e-mail reply");
            let mut at = start + 20 * DAY;
            while at < end {
                g.outreach(at, "email", "newsletter");
                at += g.between(25 * DAY, 35 * DAY);
            }
            g.outreach(withdrawn + 40 * DAY, "phone", "offers");
        }
        11 => {
            g.set_identity("Jeroen", "Visser", false);
            g.set_language("nl", ("+31 6 ", 8));
            g.identified(start, false, 0);
            monthly(g, start, end, 50, Pay::Draw);
            let step = (end - start - 30 * DAY) / 8;
            for k in 0..8 {
                let at = start + 5 * DAY + k * step;
                let delay = g.between(2 * HOUR, 30 * HOUR);
                g.contact(at, None, Answer::After(delay, true));
            }
        }
        _ => {
            g.set_identity("Yuki", "Tanaka", false);
            g.set_language("en", ("+81 90 ", 8));
            g.cur = JPY;
            g.identified(start, true, 2);
            let mut at = start + DAY;
            while at < end - 20 * DAY {
                g.purchase(at, Pay::Instalments(3));
                at += g.between(50 * DAY, 80 * DAY);
            }
        }
    }
    true
}

/// Orders about every `days` days from `from` until `until`, each paid as `pay` says.
fn monthly(g: &mut Gen<'_>, from: i64, until: i64, days: i64, pay: Pay) {
    let mut at = from + g.between(HOUR, 2 * DAY);
    while at < until {
        g.purchase(at, pay);
        at += g.between((days - 5).max(1) * DAY, (days + 5) * DAY);
    }
}
