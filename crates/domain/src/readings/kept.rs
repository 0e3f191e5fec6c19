//! Kept readings: what the ledger stores of each person so that lists, percentiles, charts
//! and movers never need everyone's events again.
//!
//! A person's kept readings are their readings as of the **end of a reading day** `D` (the
//! same moment `--as-of D` means): every sortable field, each headline as of 30 days earlier
//! (for the movers), when they last ordered or were invoiced (what the people who referred
//! them need), whom they referred, and how many of their answers are scripted. They are a
//! pure function of the person's events, the ledger-wide facts in [`Others`] and `D`.
//!
//! Time moves readings by itself: an invoice falls due, an incident turns 90 days old,
//! months of activity grow. [`next_change`] gives the first day after `D` on which the kept
//! readings may differ although no event arrived; a refresh recomputes only the people
//! whose day has come. Erring early is safe (a recomputation that finds nothing new), late
//! is not; the property tests move the clock to hold it so.

use crate::event::Body;
use crate::values::{Day, PersonId, Timestamp};

use super::loyalty::Models;
use super::{HEADLINES, Others, Punctuality, Readings, Recorded, SORTABLE, prefix_until};

/// A person's kept figures: every field of [`SORTABLE`], and each headline 30 days earlier.
pub type Figures = (
    [Option<f64>; SORTABLE.len()],
    [Option<f64>; HEADLINES.len()],
);

/// How far back the movers look (the overview's "largest changes over 30 days").
pub const MOVER_DAYS: i64 = 30;

/// What the ledger keeps of one person's readings as of the end of one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// Every field of [`SORTABLE`], in its order; the percentiles are always `None` (they
    /// come from everyone's distributions when read).
    pub fields: [Option<f64>; SORTABLE.len()],
    /// Each headline as of [`MOVER_DAYS`] earlier, in [`HEADLINES`] order.
    pub before: [Option<f64>; HEADLINES.len()],
    /// The latest order or invoice at or before the day's end.
    pub last_transaction: Option<Timestamp>,
    /// The people this person referred (for their `referrals_active`), without repeats.
    pub referred: Vec<PersonId>,
    /// How many answers of this person up to the day's end are scripted, with the sum of
    /// their ledger numbers: when the index of scripts changes, the people whose figures
    /// differ from these are recomputed.
    pub scripted: (u64, i64),
    /// The first day after the kept day on which these readings may change by themselves.
    pub next_change: Option<Day>,
    /// The person's current menu choices, (item, option), the latest per item: what the
    /// business's view of its menu counts.
    pub choices: Vec<(String, String)>,
}

/// Whether field `i` of [`SORTABLE`] is a percentile (never kept: it is read from everyone's
/// distribution of the headline).
pub fn is_percentile(i: usize) -> bool {
    SORTABLE.get(i).is_some_and(|f| f.ends_with(".percentile"))
}

/// The index in [`SORTABLE`] of each headline's field, in [`HEADLINES`] order.
pub fn headline_fields() -> [usize; HEADLINES.len()] {
    static FIELDS: std::sync::OnceLock<[usize; HEADLINES.len()]> = std::sync::OnceLock::new();
    *FIELDS.get_or_init(find_headline_fields)
}

fn find_headline_fields() -> [usize; HEADLINES.len()] {
    let mut out = [0; HEADLINES.len()];
    for (o, h) in out.iter_mut().zip(HEADLINES.iter()) {
        *o = SORTABLE
            .iter()
            .position(|p| {
                p.split_once('.')
                    .is_some_and(|(r, f)| r == h.reading && f == h.field)
            })
            .unwrap_or(usize::MAX);
    }
    out
}

/// The field of [`SORTABLE`] a sort by `i` really orders by: a percentile orders as its
/// headline does (a mid-rank grows with the value).
pub fn sort_field(i: usize) -> usize {
    if !is_percentile(i) {
        return i;
    }
    let reading = SORTABLE[i].split('.').next().unwrap_or("");
    HEADLINES
        .iter()
        .zip(headline_fields())
        .find(|(h, _)| h.reading == reading)
        .map_or(i, |(_, f)| f)
}

impl Kept {
    /// The kept readings of one person as of the end of `day`. `events` in time order.
    pub fn compute(events: &[Recorded], day: Day, models: &Models, others: &dyn Others) -> Kept {
        let end = day.end();
        let upto = prefix_until(events, end);
        let now = Readings::compute_with(&upto, end, others, models);
        let then_end = day_plus(day, -MOVER_DAYS).end();
        let then = Readings::compute_with(&prefix_until(&upto, then_end), then_end, others, models);
        let mut fields = now.fields();
        for (i, f) in fields.iter_mut().enumerate() {
            if is_percentile(i) {
                *f = None;
            }
        }
        let mut before = [None; HEADLINES.len()];
        for (b, h) in before.iter_mut().zip(HEADLINES.iter()) {
            *b = then.headline(h.reading);
        }
        let mut last_transaction = None;
        let mut referred: Vec<PersonId> = Vec::new();
        let mut scripted = (0u64, 0i64);
        let mut choices: Vec<(String, String)> = Vec::new();
        for e in upto.iter() {
            match &e.body {
                Body::MenuChosen { item, option } => {
                    choices.retain(|(i, _)| i != item.as_str());
                    choices.push((item.to_string(), option.to_string()));
                }
                Body::OrderPlaced { .. } | Body::InvoiceIssued { .. } => {
                    last_transaction = last_transaction.max(Some(e.at));
                }
                Body::ReferralMade { referred: r } => referred.push(r.clone()),
                Body::ContactAnswered { .. } if others.scripted(e.seq) => {
                    scripted.0 += 1;
                    scripted.1 += e.seq;
                }
                _ => {}
            }
        }
        referred.sort();
        referred.dedup();
        choices.sort();
        Kept {
            choices,
            fields,
            before,
            last_transaction,
            referred,
            scripted,
            next_change: next_change(
                events,
                day,
                models,
                [now.punctuality.as_ref(), then.punctuality.as_ref()],
            ),
        }
    }

    /// A fingerprint of whom the person referred and what they chose (kept in their own
    /// tables): when it is unchanged, those tables need no writing.
    pub fn extras_digest(&self) -> i64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.referred.hash(&mut h);
        self.choices.hash(&mut h);
        h.finish() as i64
    }

    /// The headline values now, in [`HEADLINES`] order.
    pub fn headlines(&self) -> [Option<f64>; HEADLINES.len()] {
        let mut out = [None; HEADLINES.len()];
        for (o, f) in out.iter_mut().zip(headline_fields()) {
            *o = self.fields.get(f).copied().flatten();
        }
        out
    }

    /// The change of each headline over [`MOVER_DAYS`], where it has both values and moved.
    pub fn changes(&self) -> [Option<f64>; HEADLINES.len()] {
        let mut out = [None; HEADLINES.len()];
        for ((o, now), before) in out.iter_mut().zip(self.headlines()).zip(self.before) {
            if let (Some(n), Some(b)) = (now, before)
                && (n - b).abs() > 1e-9
            {
                *o = Some(n - b);
            }
        }
        out
    }

    /// The figures only, as bytes (the people referred and the day of the next change are
    /// kept apart, where they can be looked up).
    pub fn encode(&self) -> Vec<u8> {
        let values: Vec<Option<f64>> = self
            .fields
            .iter()
            .chain(self.before.iter())
            .copied()
            .collect();
        let mut out = Vec::with_capacity(8 + 8 * 24);
        let mut mask = 0u64;
        for (i, v) in values.iter().enumerate() {
            if v.is_some() {
                mask |= 1 << i;
            }
        }
        out.extend_from_slice(&mask.to_le_bytes());
        for v in values.iter().flatten() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// The figures written by [`Kept::encode`]; `None` if the bytes are not such figures.
    pub fn decode_figures(bytes: &[u8]) -> Option<Figures> {
        let mask = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
        let mut rest = &bytes[8..];
        let mut fields = [None; SORTABLE.len()];
        let mut before = [None; HEADLINES.len()];
        for i in 0..SORTABLE.len() + HEADLINES.len() {
            if mask & (1 << i) == 0 {
                continue;
            }
            let v = f64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
            rest = &rest[8..];
            if i < SORTABLE.len() {
                fields[i] = Some(v);
            } else {
                before[i - SORTABLE.len()] = Some(v);
            }
        }
        rest.is_empty().then_some((fields, before))
    }
}

const _: () = assert!(SORTABLE.len() + HEADLINES.len() <= 64);

fn day_plus(day: Day, n: i64) -> Day {
    Day::from_days((i64::from(day.days_since_epoch()) + n) as i32)
}

/// The first day after `day` on which a person's kept readings (as of a day's end, and as of
/// [`MOVER_DAYS`] before it) may differ with no new event; `None` when they never will.
/// `punctuality`: the person's punctuality as of both moments (which invoices are open).
fn next_change(
    events: &[Recorded],
    day: Day,
    models: &Models,
    punctuality: [Option<&Punctuality>; 2],
) -> Option<Day> {
    let now = next_change_of(events, day, models, punctuality[0]);
    let then = next_change_of(events, day_plus(day, -MOVER_DAYS), models, punctuality[1])
        .map(|d| day_plus(d, MOVER_DAYS));
    match (now, then) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// [`next_change`] for the readings as of the end of `day` alone: what each reading's
/// definition makes move with time (READINGS.md), reading by reading.
fn next_change_of(
    events: &[Recorded],
    day: Day,
    models: &Models,
    punctuality: Option<&Punctuality>,
) -> Option<Day> {
    let end = day.end();
    let tomorrow = day_plus(day, 1);
    let mut next: Option<Day> = None;
    let mut at = |d: Day| {
        let d = d.max(tomorrow);
        next = Some(next.map_or(d, |n: Day| n.min(d)));
    };
    let mut first: Option<Timestamp> = None;
    let mut contacts = false;
    let mut transactions = false;
    let mut invoices: Vec<(&crate::values::Ref, Day)> = Vec::new();
    for e in events {
        if e.at > end {
            // An event dated later comes into view on its day.
            at(e.at.day());
            continue;
        }
        first = Some(first.map_or(e.at, |f| f.min(e.at)));
        match &e.body {
            Body::ContactOpened {
                caused_by: None, ..
            } => contacts = true,
            Body::InvoiceIssued { invoice, due, .. } => {
                transactions = true;
                invoices.push((invoice, *due));
            }
            Body::OrderPlaced { .. } => transactions = true,
            // An incident counts for resilience once 90 days old.
            Body::IncidentOccurred { .. } => at(day_plus(e.at.day(), super::person::WEATHER_DAYS)),
            // A promise counts once due.
            Body::PromiseMade { due, .. } => at(*due),
            _ => {}
        }
    }
    // Contacts per month: the months of activity grow every day after the first month.
    if contacts && let Some(f) = first {
        at(day_plus(f.day(), 31));
    }
    // Loyalty and value: the customer's age grows every day.
    if transactions && models.purchase.is_some() {
        at(tomorrow);
    }
    // Contracts: a running contract begins its next period (and its tenure grows) on its
    // renewal date.
    for t in super::contracts::tenures(events, end) {
        if t.cancelled.is_none()
            && let Some(d) = t.period.after(t.started, t.periods)
        {
            at(d);
        }
    }
    // Punctuality: an invoice counts once due (as of the end of its due day, on time); from
    // the next day an open one is late, and later every day.
    let open: Vec<&crate::values::Ref> = punctuality
        .map(|p| {
            p.late
                .iter()
                .filter(|l| l.open)
                .map(|l| &l.invoice)
                .collect()
        })
        .unwrap_or_default();
    for (invoice, due) in invoices {
        if due >= day || open.contains(&invoice) {
            at(due);
        }
    }
    next
}
