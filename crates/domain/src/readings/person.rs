//! How this person treats the business: punctuality, invoice friction, service load,
//! advocacy and resilience (READINGS.md, first half).

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

use super::{Others, Recorded, Trend, Window};
use crate::event::{Body, Outcome};
use crate::values::{Amount, Currency, Day, PersonId, Ref, Timestamp, days};

/// An amount per currency; invoices in different currencies are never added together.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct MoneyByCurrency(pub BTreeMap<String, String>);

impl MoneyByCurrency {
    fn from_sums(sums: &BTreeMap<Currency, Amount>) -> Self {
        MoneyByCurrency(
            sums.iter()
                .map(|(c, a)| (c.as_str().to_owned(), a.format(c.decimals())))
                .collect(),
        )
    }
}

/// A due invoice that was (or still is) paid late: for the explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LateInvoice {
    pub invoice: Ref,
    pub days_late: i64,
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenOverdue {
    pub count: usize,
    pub amount: MoneyByCurrency,
}

/// punctuality — pays on time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Punctuality {
    /// Share of due invoices paid in full by their due date. `None` when nothing is due yet.
    pub on_time_share: Option<f64>,
    pub mean_days_late: Option<f64>,
    /// Days late weighted by invoice amount (amounts in any currency, taken at face value).
    pub weighted_days_late: Option<f64>,
    pub open_overdue: OpenOverdue,
    pub invoices_due: usize,
    pub invoices_on_time: usize,
    /// Payments naming an invoice this person was never issued (or in another currency).
    pub unmatched_payments: usize,
    /// The late invoices, latest due first.
    #[serde(skip)]
    pub late: Vec<LateInvoice>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

struct Invoice {
    seq: i64,
    at: Timestamp,
    amount: Amount,
    currency: Currency,
    due: Day,
    paid: Amount,
    settled: Option<Timestamp>,
}

/// `since`: count only the invoices of the recent half of a trend — due after it, or still
/// open at it — with every earlier invoice and payment still known (see [`super::Window`]).
pub(super) fn punctuality(
    events: &[Recorded],
    as_of: Timestamp,
    since: Window,
) -> Option<Punctuality> {
    let mut invoices: HashMap<&Ref, Invoice> = HashMap::default();
    let mut order: Vec<&Ref> = Vec::new();
    let mut payments: Vec<&Recorded> = Vec::new();
    for e in events {
        match &e.body {
            Body::InvoiceIssued {
                invoice,
                amount,
                currency,
                due,
                ..
            } if !invoices.contains_key(invoice) => {
                order.push(invoice);
                invoices.insert(
                    invoice,
                    Invoice {
                        seq: e.seq,
                        at: e.at,
                        amount: *amount,
                        currency: *currency,
                        due: *due,
                        paid: Amount::ZERO,
                        settled: None,
                    },
                );
            }
            Body::PaymentReceived { .. } | Body::InvoiceCorrected { .. } => payments.push(e),
            _ => {}
        }
    }
    if invoices.is_empty() && payments.is_empty() {
        return None;
    }
    // Settle in time order: the first payment after which the sum reaches the amount. A
    // credit note lowers the amount from its moment on (docs/readings.md): an invoice it
    // lowers to what was already paid is settled by it, and one it cancels is settled then.
    payments.sort_by_key(|e| (e.at, e.seq));
    let mut evidence = Vec::new();
    let mut unmatched = 0;
    let mut payments_counted = 0;
    for p in payments {
        if let Body::InvoiceCorrected {
            invoice,
            amount,
            currency,
        } = &p.body
        {
            if let Some(inv) = invoices.get_mut(invoice)
                && inv.currency == *currency
            {
                if since.counts(p.at) {
                    evidence.push(p.seq);
                }
                inv.amount = Amount::from_ten_thousandths(
                    (inv.amount.ten_thousandths() - amount.ten_thousandths()).max(0),
                );
                if inv.settled.is_none() && inv.paid >= inv.amount {
                    inv.settled = Some(p.at);
                }
            }
            continue;
        }
        let Body::PaymentReceived {
            invoice,
            amount,
            currency,
            ..
        } = &p.body
        else {
            continue;
        };
        // Every payment settles its invoice; only those in the window are this period's.
        let counted = since.counts(p.at);
        payments_counted += usize::from(counted);
        match invoices.get_mut(invoice) {
            Some(inv) if currency.is_none_or(|c| c == inv.currency) => {
                if counted {
                    evidence.push(p.seq);
                }
                if inv.settled.is_none() {
                    inv.paid = inv.paid.saturating_add(*amount);
                    if inv.paid >= inv.amount {
                        inv.settled = Some(p.at);
                    }
                }
            }
            _ if counted => {
                unmatched += 1;
                evidence.push(p.seq);
            }
            _ => {}
        }
    }
    // An invoice belongs to the period when it was issued or falls due in it, or was still
    // open when it began: an invoice left unpaid before the window is this period's too.
    let belongs = |inv: &Invoice| match since.start() {
        None => true,
        Some(s) => inv.at > s || inv.due > s.day() || inv.settled.is_none_or(|at| at > s),
    };
    if payments_counted == 0 && !invoices.values().any(belongs) {
        return None;
    }
    let today = as_of.day();
    let mut due = 0usize;
    let mut on_time = 0usize;
    let mut late_sum = 0i64;
    let mut weighted = 0.0;
    let mut weight = 0.0;
    let mut open_count = 0;
    let mut open_sums: BTreeMap<Currency, Amount> = BTreeMap::new();
    let mut late = Vec::new();
    for r in &order {
        let inv = &invoices[*r];
        if inv.due > today || !belongs(inv) {
            continue;
        }
        evidence.push(inv.seq);
        due += 1;
        let (days_late, open) = match inv.settled {
            Some(at) => (days(inv.due, at.day()).max(0), false),
            None => (days(inv.due, today).max(0), true),
        };
        if days_late == 0 {
            on_time += 1;
        } else {
            late.push((
                inv.due,
                LateInvoice {
                    invoice: (*r).clone(),
                    days_late,
                    open,
                },
            ));
        }
        if open && days_late > 0 {
            open_count += 1;
            let s = open_sums.entry(inv.currency).or_default();
            *s = s.saturating_add(inv.amount);
        }
        late_sum += days_late;
        let w = inv.amount.to_f64();
        weighted += w * days_late as f64;
        weight += w;
    }
    late.sort_by_key(|l| std::cmp::Reverse(l.0));
    evidence.sort_unstable();
    let (on_time_share, mean_days_late) = if due == 0 {
        (None, None)
    } else {
        (
            Some(on_time as f64 / due as f64),
            Some(late_sum as f64 / due as f64),
        )
    };
    Some(Punctuality {
        on_time_share,
        mean_days_late,
        weighted_days_late: (weight > 0.0).then(|| weighted / weight),
        open_overdue: OpenOverdue {
            count: open_count,
            amount: MoneyByCurrency::from_sums(&open_sums),
        },
        invoices_due: due,
        invoices_on_time: on_time,
        unmatched_payments: unmatched,
        late: late.into_iter().map(|(_, l)| l).collect(),
        percentile: None,
        trend: None,
        evidence,
    })
}

/// invoice friction — does not fight over invoices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceFriction {
    /// Invoices with any dispute, over invoices issued.
    pub disputed_share: f64,
    /// Invoices with a dispute that was not upheld (rejected, settled or still open), over
    /// invoices issued. Upheld disputes were the business's error: see made_right.
    pub friction_share: f64,
    pub invoices: usize,
    pub disputed: usize,
    pub not_upheld: usize,
    /// Disputed invoices, by reference, for the explanation.
    #[serde(skip)]
    pub disputed_invoices: Vec<Ref>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the invoices issued in the recent half of a trend (their disputes
/// whenever they came).
pub(super) fn invoice_friction(events: &[Recorded], since: Window) -> Option<InvoiceFriction> {
    let mut seen: HashSet<&Ref> = HashSet::default();
    let mut issued: HashSet<&Ref> = HashSet::default();
    let mut evidence = Vec::new();
    for e in events {
        // The first issue of a reference decides, even when it lies before the window.
        if let Body::InvoiceIssued { invoice, .. } = &e.body
            && seen.insert(invoice)
            && since.counts(e.at)
        {
            issued.insert(invoice);
            evidence.push(e.seq);
        }
    }
    if issued.is_empty() {
        return None;
    }
    let mut disputed: Vec<&Ref> = Vec::new();
    let mut outcome: HashMap<&Ref, (Timestamp, i64, Outcome)> = HashMap::default();
    for e in events {
        match &e.body {
            Body::InvoiceDisputed { invoice } if issued.contains(invoice) => {
                if !disputed.contains(&invoice) {
                    disputed.push(invoice);
                }
                evidence.push(e.seq);
            }
            Body::DisputeResolved {
                invoice,
                outcome: o,
            } if issued.contains(invoice) => {
                // The latest resolution counts (a re-opened dispute can end differently).
                let key = (e.at, e.seq);
                let entry = outcome.entry(invoice).or_insert((e.at, e.seq, *o));
                if key >= (entry.0, entry.1) {
                    *entry = (e.at, e.seq, *o);
                }
                evidence.push(e.seq);
            }
            _ => {}
        }
    }
    let not_upheld = disputed
        .iter()
        .filter(|r| outcome.get(*r).is_none_or(|o| o.2 != Outcome::Upheld))
        .count();
    let n = issued.len() as f64;
    evidence.sort_unstable();
    Some(InvoiceFriction {
        disputed_share: disputed.len() as f64 / n,
        friction_share: not_upheld as f64 / n,
        invoices: issued.len(),
        disputed: disputed.len(),
        not_upheld,
        disputed_invoices: disputed.iter().map(|r| (*r).clone()).collect(),
        percentile: None,
        trend: None,
        evidence,
    })
}

/// Days in an average month, as READINGS.md defines a month for service load.
const DAYS_PER_MONTH: f64 = 30.4375;

/// service load — does not swamp the service desk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceLoad {
    /// Contacts the person opened, excluding those caused by an incident of the business.
    pub contacts: usize,
    pub contacts_per_month: f64,
    pub active_months: f64,
    /// Contacts caused by an incident: load the business caused, not the person.
    pub caused_by_business: usize,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the contacts opened in the recent half of a trend, over the months of
/// it the person was with us.
pub(super) fn service_load(
    events: &[Recorded],
    as_of: Timestamp,
    since: Window,
) -> Option<ServiceLoad> {
    let first = events.iter().map(|e| e.at).min()?;
    if !events.iter().any(|e| since.counts(e.at)) {
        return None;
    }
    let first = since.start().map_or(first, |s| first.max(s));
    let mut contacts = 0;
    let mut caused = 0;
    let mut evidence = Vec::new();
    // The first contact.opened with a reference counts; a repeat of it (a re-sent export, a
    // second system logging the same conversation) is ignored, as heard ignores it.
    let mut seen: HashSet<&Ref> = HashSet::default();
    for e in events {
        if let Body::ContactOpened {
            contact, caused_by, ..
        } = &e.body
            && seen.insert(contact)
            && since.counts(e.at)
        {
            if caused_by.is_some() {
                caused += 1;
            } else {
                contacts += 1;
                evidence.push(e.seq);
            }
        }
    }
    let active_months = (days(first.day(), as_of.day()) as f64 / DAYS_PER_MONTH).max(1.0);
    Some(ServiceLoad {
        contacts,
        contacts_per_month: contacts as f64 / active_months,
        active_months,
        caused_by_business: caused,
        percentile: None,
        trend: None,
        evidence,
    })
}

/// advocacy — recommends the business.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advocacy {
    pub referrals: usize,
    /// Referred people who later placed an order or were invoiced.
    pub referrals_active: usize,
    pub latest_review: Option<u8>,
    pub mean_review: Option<f64>,
    pub reviews: usize,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the referrals and reviews made in the recent half of a trend.
pub(super) fn advocacy(
    events: &[Recorded],
    others: &dyn Others,
    since: Window,
) -> Option<Advocacy> {
    let mut referrals = 0;
    let mut referred_at: Vec<(&PersonId, Timestamp)> = Vec::new();
    let mut latest: Option<(Timestamp, i64, u8)> = None;
    let mut sum = 0u32;
    let mut reviews = 0;
    let mut evidence = Vec::new();
    for e in events.iter().filter(|e| since.counts(e.at)) {
        match &e.body {
            Body::ReferralMade { referred } => {
                referrals += 1;
                evidence.push(e.seq);
                referred_at.push((referred, e.at));
            }
            Body::ReviewGiven { score } => {
                reviews += 1;
                sum += u32::from(*score);
                evidence.push(e.seq);
                if latest.is_none_or(|(at, seq, _)| (e.at, e.seq) >= (at, seq)) {
                    latest = Some((e.at, e.seq, *score));
                }
            }
            _ => {}
        }
    }
    if referrals == 0 && reviews == 0 {
        return None;
    }
    let active = referrals_active(referred_at, |p| others.last_transaction(p));
    Some(Advocacy {
        referrals,
        referrals_active: active,
        latest_review: latest.map(|l| l.2),
        mean_review: (reviews > 0).then(|| f64::from(sum) / reviews as f64),
        reviews,
        percentile: None,
        trend: None,
        evidence,
    })
}

/// `referrals_active`: the referred *people* (not referral events) whose latest order or
/// invoice came after they were first referred. Someone referred twice who then buys is one
/// active referral.
pub(super) fn referrals_active(
    mut referred_at: Vec<(&PersonId, Timestamp)>,
    last_transaction: impl Fn(&PersonId) -> Option<Timestamp>,
) -> usize {
    referred_at.sort_unstable();
    referred_at.dedup_by(|later, first| later.0 == first.0);
    referred_at
        .iter()
        .filter(|(p, at)| last_transaction(p).is_some_and(|t| t > *at))
        .count()
}

/// Days after an incident in which staying counts, and before `T` it must lie.
pub(super) const WEATHER_DAYS: i64 = 90;

/// resilience — stays after something went wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resilience {
    pub weathered_share: f64,
    pub incidents: usize,
    pub weathered: usize,
    /// Among incidents the business apologised for (at or before `T`).
    pub with_apology: Option<f64>,
    pub without_apology: Option<f64>,
    /// Where the headline figure falls among everyone who has this reading (0–100).
    pub percentile: Option<f64>,
    /// The person's own trend: the last 180 days against all earlier history.
    pub trend: Option<Trend>,
    #[serde(skip)]
    pub evidence: Vec<i64>,
}

/// `since`: count only the incidents of the recent half of a trend (staying after them is
/// looked for up to `T`, as always).
pub(super) fn resilience(
    events: &[Recorded],
    as_of: Timestamp,
    since: Window,
) -> Option<Resilience> {
    let limit = as_of.plus_days(-WEATHER_DAYS);
    let apologised: HashSet<&Ref> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::ApologyMade { incident } => Some(incident),
            _ => None,
        })
        .collect();
    let business: Vec<&Recorded> = events
        .iter()
        .filter(|e| {
            matches!(
                e.body,
                Body::OrderPlaced { .. }
                    | Body::InvoiceIssued { .. }
                    | Body::PaymentReceived { .. }
            )
        })
        .collect();
    let mut seen: HashSet<&Ref> = HashSet::default();
    let (mut n, mut w) = (0, 0);
    let (mut na, mut wa, mut nn, mut wn) = (0, 0, 0, 0);
    let mut evidence = Vec::new();
    for e in events {
        let Body::IncidentOccurred { incident } = &e.body else {
            continue;
        };
        if e.at > limit || !seen.insert(incident) || !since.counts(e.at) {
            continue;
        }
        n += 1;
        evidence.push(e.seq);
        let end = e.at.plus_days(WEATHER_DAYS);
        let stayed = business.iter().find(|b| b.at > e.at && b.at <= end);
        if let Some(b) = stayed {
            w += 1;
            evidence.push(b.seq);
        }
        if apologised.contains(incident) {
            na += 1;
            wa += usize::from(stayed.is_some());
        } else {
            nn += 1;
            wn += usize::from(stayed.is_some());
        }
    }
    if n == 0 {
        return None;
    }
    let share = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    evidence.sort_unstable();
    evidence.dedup();
    Some(Resilience {
        weathered_share: w as f64 / n as f64,
        incidents: n,
        weathered: w,
        with_apology: share(wa, na),
        without_apology: share(wn, nn),
        percentile: None,
        trend: None,
        evidence,
    })
}
