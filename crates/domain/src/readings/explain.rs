//! Plain sentences for readings, naming the events behind them.
//!
//! A figure alone ("0.92") tells an agent nothing; "paid 11 of 12 invoices on time; invoice
//! 2024-17 was 9 days late" does. Sentences are built from the reading's own fields, so they
//! can never say something the figures do not.

use serde::Serialize;

use super::loyalty::{HORIZON_DAYS, ago, alive_words};
use super::{Direction, HEADLINES, Readings};

/// One reading, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    pub reading: &'static str,
    pub direction: Direction,
    /// The sentence, or a plain "no data" one.
    pub sentence: String,
    /// Where the person stands, in words ("more often on time than 72% of people").
    pub standing: Option<String>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn list(items: &[impl std::fmt::Display], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(ToString::to_string).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0} minutes", h * 60.0)
    } else if h < 48.0 {
        format!("{h:.0} hours")
    } else {
        format!("{:.0} days", h / 24.0)
    }
}

fn share(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// Explains every reading of a person, in [`HEADLINES`] order, then loyalty and value
/// (how they treat us; not ranked, so without a standing).
pub fn explain(r: &Readings) -> Vec<Explained> {
    let mut all: Vec<Explained> = HEADLINES
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (percentile, trend) = r.standing(i);
            let standing = percentile.map(|p| {
                let mut text = format!(
                    "{}: percentile {p:.0} among everyone who has it (people with the same \
                     figure share the middle rank)",
                    super::words::label(&format!("{}.{}", h.reading, h.field))
                );
                if let Some(t) = trend {
                    text.push_str(&format!("; {}", trend_words(h, t)));
                }
                text
            });
            Explained {
                reading: h.reading,
                direction: h.direction,
                sentence: sentence(r, h.reading),
                standing,
            }
        })
        .collect();
    let mut extra = vec!["loyalty", "value"];
    if r.contracts.is_some() {
        extra.push("contracts");
    }
    for reading in extra {
        all.push(Explained {
            reading,
            direction: Direction::PersonToBusiness,
            sentence: sentence(r, reading),
            standing: None,
        });
    }
    all
}

/// A headline's own trend in words: "last 180 days 0.9 against 0.8 before (better)".
pub fn trend_words(h: &super::Headline, t: &super::Trend) -> String {
    let dir = if t.change.abs() < 1e-9 {
        "unchanged"
    } else if (t.change > 0.0) == h.higher_is_better {
        "better"
    } else {
        "worse"
    };
    format!(
        "last 180 days {} against {} before ({dir})",
        fmt_num(t.recent),
        fmt_num(t.earlier)
    )
}

/// " (between 1.4 and 2.9)" for a figure's interval, or nothing when it has none.
fn between(i: Option<models::interval::Interval>, show: fn(f64) -> String) -> String {
    match i {
        Some(i) if i.low < i.high => format!(" (between {} and {})", show(i.low), show(i.high)),
        _ => String::new(),
    }
}

fn about(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn money(v: f64, currency: Option<&str>) -> String {
    match currency {
        Some(c) => format!("{} {c}", crate::values::thousands(&format!("{v:.2}"))),
        None => crate::values::thousands(&format!("{v:.2}")),
    }
}

fn loyalty_sentence(r: &Readings) -> String {
    let mut s = String::new();
    if let Some(e) = &r.ended {
        s.push_str(&format!(
            "Ended the relationship on {} {}. ",
            e.at.day().date(),
            e.reason.because()
        ));
    }
    let horizon = if HORIZON_DAYS == 91 {
        "the next 3 months".to_owned()
    } else {
        format!("the next {HORIZON_DAYS} days")
    };
    match &r.loyalty {
        None if !r.fitted.purchase => {
            s.push_str("Run `rapport fit --model bgnbd` to see loyalty (no model fitted yet).")
        }
        None => s.push_str("No purchases yet."),
        Some(l) if l.frequency == 0 && l.note.is_some() => s.push_str(&format!(
            "Bought once, {} ago; expect about {} purchases{} in {horizon}. \
             Whether a one-time buyer is still with us cannot be told: \
             BG/NBD gives p_alive = 1 to everyone with no repeat purchase.",
            ago(l.days_since_last),
            about(l.expected_purchases),
            between(l.expected_purchases_interval, about)
        )),
        Some(l) => {
            let alive = match l.p_alive_interval {
                Some(i) => format!(
                    "{}: {:.2}, between {:.2} and {:.2}",
                    alive_words(l.p_alive),
                    l.p_alive,
                    i.low,
                    i.high
                ),
                None => format!("{} (p_alive {:.2})", alive_words(l.p_alive), l.p_alive),
            };
            s.push_str(&format!(
                "Bought {} times, last {} ago: {alive}; expect about {} purchases{} in {horizon}.",
                l.purchases,
                ago(l.days_since_last),
                about(l.expected_purchases),
                between(l.expected_purchases_interval, about)
            ))
        }
    }
    s
}

fn contracts_sentence(r: &Readings) -> String {
    let Some(contracts) = &r.contracts else {
        return "No contracts.".to_owned();
    };
    let sentences: Vec<String> = contracts
        .iter()
        .map(|c| {
            let mut what = format!("Contract {} ({}ly", c.contract, c.period);
            if let Some(p) = &c.plan {
                what.push_str(&format!(", {p}"));
            }
            what.push(')');
            let periods = plural(c.periods as usize, c.period, &format!("{}s", c.period));
            if let Some(day) = &c.cancelled {
                let reason = c
                    .cancel_reason
                    .map(|r| format!(" {}", r.because()))
                    .unwrap_or_default();
                return format!(
                    "{what} ran {periods} from {} and was cancelled on {day}{reason}.",
                    c.started
                );
            }
            let mut s = format!("{what} running since {}, {periods} paid", c.started);
            match (c.renewal_probability, c.model) {
                (Some(p), Some(model)) => {
                    let two = |v: f64| format!("{v:.2}");
                    s.push_str(&format!(
                        ": renews at the end of this {} with probability {p:.2}{}",
                        c.period,
                        between(c.renewal_probability_interval, two)
                    ));
                    if let Some(n) = c.expected_periods {
                        s.push_str(&format!(
                            "; about {} more {}s expected{} (discounted {:.0}% a year)",
                            about(n),
                            c.period,
                            between(c.expected_periods_interval, about),
                            super::contracts::YEARLY_DISCOUNT * 100.0
                        ));
                    }
                    if let Some(v) = c.expected_value {
                        s.push_str(&format!(
                            ", worth about {}",
                            money(v, c.currency.as_deref())
                        ));
                    }
                    s.push_str(&format!(
                        " ({})",
                        if model == "bdw" {
                            "beta-discrete-Weibull"
                        } else {
                            "sBG"
                        }
                    ));
                }
                _ => s.push_str(&format!(
                    "; run `rapport fit --model sbg` to see how likely it is to renew (no model \
                     fitted for {}ly contracts yet)",
                    c.period
                )),
            }
            s + "."
        })
        .collect();
    sentences.join(" ")
}

fn value_sentence(r: &Readings) -> String {
    match &r.value {
        None if !r.fitted.spend => {
            "Run `rapport fit --model gamma-gamma` to see value (no model fitted yet).".to_owned()
        }
        None => "No purchases yet.".to_owned(),
        Some(v) => {
            let cur = v.currency.as_deref();
            let mut s = format!(
                "Expected to spend about {} a purchase",
                money(v.expected_spend, cur)
            );
            match v.mean_repeat_spend {
                Some(m) => s.push_str(&format!(
                    " (their own mean over {} is {})",
                    plural(v.repeat_purchases, "repeat purchase", "repeat purchases"),
                    money(m, cur)
                )),
                None => s.push_str(" (no repeat purchase yet, so everyone's typical spend)"),
            }
            match v.clv {
                Some(c) => s.push_str(&format!(
                    "; worth about {} over the next {} months (discounted {:.0}% a month).",
                    money(c, cur),
                    v.horizon_months,
                    v.monthly_discount * 100.0
                )),
                None => {
                    s.push_str("; run `rapport fit --model bgnbd` too for their lifetime value.")
                }
            }
            s
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn sentence(r: &Readings, reading: &str) -> String {
    match reading {
        "punctuality" => match &r.punctuality {
            None => "No invoices yet.".to_owned(),
            Some(p) if p.invoices_due == 0 => {
                let mut s = "No invoice has fallen due yet".to_owned();
                if p.unmatched_payments > 0 {
                    s.push_str(&format!(
                        "; {} not matched to any invoice",
                        plural(p.unmatched_payments, "payment", "payments")
                    ));
                }
                s + "."
            }
            Some(p) => {
                let mut s = format!(
                    "Paid {} of {} on time",
                    p.invoices_on_time,
                    plural(p.invoices_due, "invoice", "invoices")
                );
                let closed_late: Vec<_> = p.late.iter().filter(|l| !l.open).collect();
                if let Some(worst) = closed_late.iter().max_by_key(|l| l.days_late) {
                    s.push_str(&format!(
                        "; invoice {} was {} late",
                        worst.invoice,
                        plural(worst.days_late as usize, "day", "days")
                    ));
                }
                if p.open_overdue.count > 0 {
                    let amounts: Vec<String> = p
                        .open_overdue
                        .amount
                        .0
                        .iter()
                        .map(|(c, a)| format!("{a} {c}"))
                        .collect();
                    let open: Vec<String> = p
                        .late
                        .iter()
                        .filter(|l| l.open)
                        .map(|l| format!("{} ({} days)", l.invoice, l.days_late))
                        .collect();
                    s.push_str(&format!(
                        "; {} still open and overdue ({}): {}",
                        plural(p.open_overdue.count, "invoice", "invoices"),
                        amounts.join(" + "),
                        list(&open, 3)
                    ));
                }
                if p.unmatched_payments > 0 {
                    s.push_str(&format!(
                        "; {} not matched to any invoice",
                        plural(p.unmatched_payments, "payment", "payments")
                    ));
                }
                s + "."
            }
        },
        "invoice_friction" => match &r.invoice_friction {
            None => "No invoices yet.".to_owned(),
            Some(f) if f.disputed == 0 => {
                format!(
                    "Disputed none of {}.",
                    plural(f.invoices, "invoice", "invoices")
                )
            }
            Some(f) => {
                let upheld = f.disputed - f.not_upheld;
                let mut s = format!(
                    "Disputed {} of {} ({})",
                    f.disputed,
                    plural(f.invoices, "invoice", "invoices"),
                    list(&f.disputed_invoices, 3)
                );
                if upheld > 0 {
                    s.push_str(&format!(
                        "; {} upheld, so the business was wrong there",
                        if upheld == 1 {
                            "one was".to_owned()
                        } else {
                            format!("{upheld} were")
                        }
                    ));
                }
                s + "."
            }
        },
        "service_load" => match &r.service_load {
            None => "No events yet.".to_owned(),
            Some(l) => {
                let mut s = format!(
                    "Opened {} in {:.1} months ({:.2} a month)",
                    plural(l.contacts, "contact", "contacts"),
                    l.active_months,
                    l.contacts_per_month
                );
                if l.caused_by_business > 0 {
                    s.push_str(&format!(
                        "; {} more caused by our own incidents, not counted against them",
                        l.caused_by_business
                    ));
                }
                s + "."
            }
        },
        "advocacy" => match &r.advocacy {
            None => "No referrals or reviews.".to_owned(),
            Some(a) => {
                let mut parts = Vec::new();
                if a.referrals > 0 {
                    // Referrals are events and the active ones are people (someone referred
                    // twice is one person), so the sentence names each by what it counts.
                    parts.push(format!(
                        "Made {}; {} went on to buy",
                        plural(a.referrals, "referral", "referrals"),
                        plural(a.referrals_active, "referred person", "referred people")
                    ));
                }
                if let (Some(latest), Some(mean)) = (a.latest_review, a.mean_review) {
                    parts.push(format!(
                        "{} averaging {mean:.1}/10, the latest {latest}/10",
                        plural(a.reviews, "review", "reviews")
                    ));
                }
                parts.join("; ") + "."
            }
        },
        "resilience" => match &r.resilience {
            None => "No incident old enough (90 days) to tell whether they stayed.".to_owned(),
            Some(x) => {
                let mut s = format!(
                    "Stayed after {} of {}",
                    x.weathered,
                    plural(x.incidents, "incident", "incidents")
                );
                if let Some(w) = x.with_apology {
                    s.push_str(&format!("; {} when we apologised", share(w)));
                }
                if let Some(w) = x.without_apology {
                    s.push_str(&format!("; {} when we did not", share(w)));
                }
                s + "."
            }
        },
        "heard" => match &r.heard {
            None => "Has not contacted us.".to_owned(),
            Some(h) => {
                let mut s = format!(
                    "{} of {} answered",
                    h.answered,
                    plural(h.contacts, "question", "questions")
                );
                if let (Some(m), Some(x)) = (h.first_answer_hours.median, h.first_answer_hours.max)
                {
                    s.push_str(&format!(
                        ", typically within {} (slowest {})",
                        hours(m),
                        hours(x)
                    ));
                }
                if let Some(q) = h.open_questions.first() {
                    s.push_str(&format!(
                        "; {} still open, the oldest ({}) for {:.0} days",
                        plural(h.open_questions.len(), "question", "questions"),
                        q.contact,
                        q.age_days
                    ));
                }
                s + "."
            }
        },
        "personal" => match &r.personal {
            None => "Has received no answer from us.".to_owned(),
            Some(p) if p.scripted == 0 => format!(
                "Every one of {} written for them, none a script.",
                plural(p.answers, "answer", "answers")
            ),
            Some(p) => format!(
                "{} of {} a script: the same text sent to at least five other people.",
                p.scripted,
                plural(p.answers, "answer was", "answers were")
            ),
        },
        "made_right" => match &r.made_right {
            None => "Nothing went wrong that we know of.".to_owned(),
            Some(m) => {
                let mut parts = Vec::new();
                if m.incidents > 0 {
                    let mut s = format!(
                        "We apologised for {} of {}",
                        m.apologised,
                        plural(m.incidents, "incident", "incidents")
                    );
                    if let Some(h) = m.hours_to_apology {
                        s.push_str(&format!(", typically after {}", hours(h)));
                    }
                    if !m.unapologised.is_empty() {
                        s.push_str(&format!("; no apology for {}", list(&m.unapologised, 3)));
                    }
                    parts.push(s);
                }
                if m.upheld_disputes > 0 {
                    parts.push(format!(
                        "{} upheld: our invoice errors",
                        plural(m.upheld_disputes, "dispute", "disputes")
                    ));
                }
                parts.join("; ") + "."
            }
        },
        "promises_kept" => match &r.promises_kept {
            None => "No promise has fallen due.".to_owned(),
            Some(p) => {
                let mut s = format!(
                    "Kept {} of {} on time",
                    p.kept,
                    plural(p.due, "promise", "promises")
                );
                if !p.broken.is_empty() {
                    s.push_str(&format!("; broke {}", list(&p.broken, 3)));
                }
                s + "."
            }
        },
        "respects_choices" => match &r.respects_choices {
            None => "No outreach sent.".to_owned(),
            Some(c) if c.conflicts.is_empty() => format!(
                "All {} kept to their choices.",
                plural(c.outreach, "outreach", "outreach")
            ),
            Some(c) => {
                let mut reasons: Vec<&str> = c.conflicts.iter().map(|x| x.reason.words()).collect();
                reasons.sort_unstable();
                reasons.dedup();
                let last = &c.conflicts[c.conflicts.len() - 1];
                format!(
                    "{} of {} went against their choices ({}); the latest on {} by {}{}.",
                    c.conflicts.len(),
                    plural(c.outreach, "outreach", "outreach"),
                    reasons.join(", "),
                    last.at.day().date(),
                    last.channel,
                    last.topic
                        .as_ref()
                        .map(|t| format!(" about {t}"))
                        .unwrap_or_default()
                )
            }
        },
        "loyalty" => loyalty_sentence(r),
        "value" => value_sentence(r),
        "contracts" => contracts_sentence(r),
        _ => String::new(),
    }
}
