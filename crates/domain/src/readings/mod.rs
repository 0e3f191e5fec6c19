//! Readings: what one person's events say about the relationship, in both directions.
//!
//! Each reading is a pure function of one person's [`Recorded`] events up to a moment `T`
//! (READINGS.md gives the exact definitions; the tests hold these functions to them). A
//! reading is `None` when there is no data for it — never a silent zero. Beside the value,
//! each reading keeps its evidence (the ledger sequence numbers of the events it used), and
//! [`assess`] adds the person's own trend and their percentile among everyone.

mod assess;
mod business;
pub mod choices;
pub mod contracts;
mod explain;
pub mod kept;
pub mod loyalty;
mod person;
pub mod words;

use serde::Serialize;

pub use assess::{Assessor, assess_all, assess_all_with, assess_one};
pub use business::{Heard, MadeRight, OpenQuestion, PersonalAnswers, PromisesKept};
pub use choices::{
    Choices, Conflict, OptIn, OptInError, Reason, RespectsChoices, Verdict, choices_at,
};
pub use contracts::{Contract, RetentionFit, RetentionParams};
pub use explain::{Explained, explain, trend_words};
pub use loyalty::{Ended, FitInfo, Fitted, Loyalty, Models, PurchaseParams, Value};
pub use person::{
    Advocacy, InvoiceFriction, LateInvoice, MoneyByCurrency, OpenOverdue, Punctuality, Resilience,
    ServiceLoad,
};

use crate::event::Body;
use crate::values::{PersonId, Timestamp};

/// A stored event as readings see it: its place in the ledger, its moment and public body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The ledger's sequence number: stable, and what evidence refers to.
    pub seq: i64,
    pub at: Timestamp,
    pub body: Body,
}

/// What a reading needs to know beyond the person's own events: about other people, whether
/// someone a person referred later became a buyer (advocacy) and whether an answer went to
/// many others too (personal); and the business's rule of which purposes need consent first
/// (respects choices).
pub trait Others {
    /// The latest moment at or before `as_of` at which `person` placed an order or was
    /// invoiced, if ever.
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp>;
    /// Whether an answer (by its ledger number) is scripted: a near-duplicate of answers sent
    /// to at least five other people (see [`crate::scripts`]).
    fn scripted(&self, answer: i64) -> bool;
    /// The purposes outreach may be about only with the person's consent (the ledger's
    /// setting); the standard ones unless said otherwise.
    fn opt_in(&self) -> &OptIn {
        OptIn::standard()
    }
}

/// For a ledger of one person, or tests: nobody else is known.
pub struct NoOthers;

impl Others for NoOthers {
    fn last_transaction(&self, _: &PersonId) -> Option<Timestamp> {
        None
    }
    fn scripted(&self, _: i64) -> bool {
        false
    }
}

/// Days in the "recent" half of a trend.
pub const TREND_DAYS: i64 = 180;

/// All readings of READINGS.md that come from a person's own events. `None` is "no data".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Readings {
    pub punctuality: Option<Punctuality>,
    pub invoice_friction: Option<InvoiceFriction>,
    pub service_load: Option<ServiceLoad>,
    pub advocacy: Option<Advocacy>,
    pub resilience: Option<Resilience>,
    pub heard: Option<Heard>,
    pub personal: Option<PersonalAnswers>,
    pub made_right: Option<MadeRight>,
    pub promises_kept: Option<PromisesKept>,
    pub respects_choices: Option<RespectsChoices>,
    /// From the stored BG/NBD fit: is the person still buying, and how much more.
    pub loyalty: Option<Loyalty>,
    /// From the stored Gamma-Gamma fit (and BG/NBD for CLV): expected spend and value.
    pub value: Option<Value>,
    /// The latest `relationship.ended`, with its reason.
    pub ended: Option<Ended>,
    /// The person's contracts, with the stored retention fit's figures for those running.
    pub contracts: Option<Vec<Contract>>,
    /// Which fits were available when these readings were computed.
    #[serde(skip)]
    pub fitted: Fitted,
}

/// The readings in the order they are shown, with the field each is ranked and trended by.
/// `higher_is_better` decides whether a change is for the better — in words ("better",
/// "worse") and in the colour of a change on the pages — never a percentile, which says only
/// where the person falls.
pub struct Headline {
    pub reading: &'static str,
    pub field: &'static str,
    pub higher_is_better: bool,
    pub direction: Direction,
}

/// Which way a reading looks: at how the person treats the business, or the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    PersonToBusiness,
    BusinessToPerson,
}

pub const HEADLINES: [Headline; 10] = [
    Headline {
        reading: "punctuality",
        field: "on_time_share",
        higher_is_better: true,
        direction: Direction::PersonToBusiness,
    },
    Headline {
        reading: "invoice_friction",
        field: "disputed_share",
        higher_is_better: false,
        direction: Direction::PersonToBusiness,
    },
    Headline {
        reading: "service_load",
        field: "contacts_per_month",
        higher_is_better: false,
        direction: Direction::PersonToBusiness,
    },
    Headline {
        reading: "advocacy",
        field: "referrals",
        higher_is_better: true,
        direction: Direction::PersonToBusiness,
    },
    Headline {
        reading: "resilience",
        field: "weathered_share",
        higher_is_better: true,
        direction: Direction::PersonToBusiness,
    },
    Headline {
        reading: "heard",
        field: "answered_share",
        higher_is_better: true,
        direction: Direction::BusinessToPerson,
    },
    Headline {
        reading: "personal",
        field: "scripted_share",
        higher_is_better: false,
        direction: Direction::BusinessToPerson,
    },
    Headline {
        reading: "made_right",
        field: "apologised_share",
        higher_is_better: true,
        direction: Direction::BusinessToPerson,
    },
    Headline {
        reading: "promises_kept",
        field: "kept_share",
        higher_is_better: true,
        direction: Direction::BusinessToPerson,
    },
    Headline {
        reading: "respects_choices",
        field: "respected_share",
        higher_is_better: true,
        direction: Direction::BusinessToPerson,
    },
];

/// Every numeric field that lists can be sorted by, as `reading.field`.
pub const SORTABLE: &[&str] = &[
    "punctuality.on_time_share",
    "punctuality.mean_days_late",
    "punctuality.weighted_days_late",
    "punctuality.open_overdue",
    "punctuality.invoices_due",
    "punctuality.unmatched_payments",
    "punctuality.percentile",
    "invoice_friction.disputed_share",
    "invoice_friction.friction_share",
    "invoice_friction.invoices",
    "invoice_friction.percentile",
    "service_load.contacts",
    "service_load.contacts_per_month",
    "service_load.caused_by_business",
    "service_load.percentile",
    "advocacy.referrals",
    "advocacy.referrals_active",
    "advocacy.latest_review",
    "advocacy.mean_review",
    "advocacy.percentile",
    "resilience.weathered_share",
    "resilience.incidents",
    "resilience.with_apology",
    "resilience.without_apology",
    "resilience.percentile",
    "heard.answered_share",
    "heard.contacts",
    "heard.first_answer_hours",
    "heard.open_questions",
    "heard.percentile",
    "personal.scripted_share",
    "personal.answers",
    "personal.scripted",
    "personal.percentile",
    "made_right.apologised_share",
    "made_right.incidents",
    "made_right.hours_to_apology",
    "made_right.upheld_disputes",
    "made_right.percentile",
    "promises_kept.kept_share",
    "promises_kept.due",
    "promises_kept.percentile",
    "respects_choices.respected_share",
    "respects_choices.outreach",
    "respects_choices.conflicts",
    "respects_choices.percentile",
    "loyalty.p_alive",
    "loyalty.expected_purchases",
    "loyalty.purchases",
    "loyalty.frequency",
    "loyalty.days_since_last",
    "value.expected_spend",
    "value.clv",
];

impl Readings {
    /// Computes every reading for one person as of `as_of`. `events` must be that person's
    /// events in ledger order; those after `as_of` are ignored.
    pub fn compute(events: &[Recorded], as_of: Timestamp, others: &dyn Others) -> Readings {
        Readings::compute_with(events, as_of, others, &Models::default())
    }

    /// [`Readings::compute`] with the stored model fits, which add `loyalty` and `value`.
    pub fn compute_with(
        events: &[Recorded],
        as_of: Timestamp,
        others: &dyn Others,
        models: &Models,
    ) -> Readings {
        let upto = prefix_until(events, as_of);
        let mut r = Readings::compute_window(&upto, as_of, others, Window::ALL);
        let (l, v) = loyalty::loyalty_and_value(&upto, as_of, models);
        r.loyalty = l;
        r.value = v;
        r.contracts = contracts::contracts(&upto, as_of, &models.retention);
        r.fitted = Fitted {
            purchase: models.purchase.is_some(),
            spend: models.spend.is_some(),
        };
        r
    }

    /// The readings as of `as_of` from `events` (all of them up to `as_of`), counting only
    /// the items that belong to `window`.
    fn compute_window(
        events: &[Recorded],
        as_of: Timestamp,
        others: &dyn Others,
        window: Window,
    ) -> Readings {
        Readings {
            punctuality: person::punctuality(events, as_of, window),
            invoice_friction: person::invoice_friction(events, window),
            service_load: person::service_load(events, as_of, window),
            advocacy: person::advocacy(events, others, window),
            resilience: person::resilience(events, as_of, window),
            heard: business::heard(events, as_of, window),
            personal: business::personal(events, others, window),
            made_right: business::made_right(events, window),
            promises_kept: business::promises_kept(events, as_of, window),
            respects_choices: choices::respects_choices(events, window, others.opt_in()),
            loyalty: None,
            value: None,
            ended: loyalty::ended(events),
            contracts: None,
            fitted: Fitted::default(),
        }
    }

    /// The headline figure of a reading by name, if the person has it.
    pub fn headline(&self, reading: &str) -> Option<f64> {
        match reading {
            "punctuality" => self.punctuality.as_ref()?.on_time_share,
            "invoice_friction" => Some(self.invoice_friction.as_ref()?.disputed_share),
            "service_load" => Some(self.service_load.as_ref()?.contacts_per_month),
            "advocacy" => Some(self.advocacy.as_ref()?.referrals as f64),
            "resilience" => Some(self.resilience.as_ref()?.weathered_share),
            "heard" => Some(self.heard.as_ref()?.answered_share),
            "personal" => Some(self.personal.as_ref()?.scripted_share),
            "made_right" => self.made_right.as_ref()?.apologised_share,
            "promises_kept" => Some(self.promises_kept.as_ref()?.kept_share),
            "respects_choices" => Some(self.respects_choices.as_ref()?.respected_share),
            _ => None,
        }
    }

    /// Any numeric field by its READINGS.md name, `reading.field` (for sorting lists).
    /// Objects sort by their count or median, lists by their length.
    pub fn field(&self, path: &str) -> Option<f64> {
        let i = SORTABLE.iter().position(|p| *p == path)?;
        self.fields()[i]
    }

    /// Every field of [`SORTABLE`], in its order: what lists sort and show without keeping
    /// the readings themselves.
    pub fn fields(&self) -> [Option<f64>; SORTABLE.len()] {
        let n = |v: usize| Some(v as f64);
        let (p, f, s, a, r) = (
            self.punctuality.as_ref(),
            self.invoice_friction.as_ref(),
            self.service_load.as_ref(),
            self.advocacy.as_ref(),
            self.resilience.as_ref(),
        );
        let c = self.respects_choices.as_ref();
        let o = self.personal.as_ref();
        let (h, m, k, l, v) = (
            self.heard.as_ref(),
            self.made_right.as_ref(),
            self.promises_kept.as_ref(),
            self.loyalty.as_ref(),
            self.value.as_ref(),
        );
        [
            p.and_then(|p| p.on_time_share),
            p.and_then(|p| p.mean_days_late),
            p.and_then(|p| p.weighted_days_late),
            p.and_then(|p| n(p.open_overdue.count)),
            p.and_then(|p| n(p.invoices_due)),
            p.and_then(|p| n(p.unmatched_payments)),
            p.and_then(|p| p.percentile),
            f.map(|f| f.disputed_share),
            f.map(|f| f.friction_share),
            f.and_then(|f| n(f.invoices)),
            f.and_then(|f| f.percentile),
            s.and_then(|s| n(s.contacts)),
            s.map(|s| s.contacts_per_month),
            s.and_then(|s| n(s.caused_by_business)),
            s.and_then(|s| s.percentile),
            a.and_then(|a| n(a.referrals)),
            a.and_then(|a| n(a.referrals_active)),
            a.and_then(|a| a.latest_review.map(f64::from)),
            a.and_then(|a| a.mean_review),
            a.and_then(|a| a.percentile),
            r.map(|r| r.weathered_share),
            r.and_then(|r| n(r.incidents)),
            r.and_then(|r| r.with_apology),
            r.and_then(|r| r.without_apology),
            r.and_then(|r| r.percentile),
            h.map(|h| h.answered_share),
            h.and_then(|h| n(h.contacts)),
            h.and_then(|h| h.first_answer_hours.median),
            h.and_then(|h| n(h.open_questions.len())),
            h.and_then(|h| h.percentile),
            o.map(|o| o.scripted_share),
            o.and_then(|o| n(o.answers)),
            o.and_then(|o| n(o.scripted)),
            o.and_then(|o| o.percentile),
            m.and_then(|m| m.apologised_share),
            m.and_then(|m| n(m.incidents)),
            m.and_then(|m| m.hours_to_apology),
            m.and_then(|m| n(m.upheld_disputes)),
            m.and_then(|m| m.percentile),
            k.map(|k| k.kept_share),
            k.and_then(|k| n(k.due)),
            k.and_then(|k| k.percentile),
            c.map(|c| c.respected_share),
            c.and_then(|c| n(c.outreach)),
            c.and_then(|c| n(c.conflicts.len())),
            c.and_then(|c| c.percentile),
            l.map(|l| l.p_alive),
            l.map(|l| l.expected_purchases),
            l.and_then(|l| n(l.purchases)),
            l.and_then(|l| n(l.frequency)),
            l.map(|l| l.days_since_last as f64),
            v.map(|v| v.expected_spend),
            v.and_then(|v| v.clv),
        ]
    }

    /// Sets the percentile and trend of the reading at `index` in [`HEADLINES`] order.
    pub fn set_standing(&mut self, index: usize, percentile: Option<f64>, trend: Option<Trend>) {
        macro_rules! set {
            ($r:expr) => {
                if let Some(r) = $r.as_mut() {
                    r.percentile = percentile;
                    r.trend = trend;
                }
            };
        }
        match index {
            0 => set!(self.punctuality),
            1 => set!(self.invoice_friction),
            2 => set!(self.service_load),
            3 => set!(self.advocacy),
            4 => set!(self.resilience),
            5 => set!(self.heard),
            6 => set!(self.personal),
            7 => set!(self.made_right),
            8 => set!(self.promises_kept),
            9 => set!(self.respects_choices),
            _ => {}
        }
    }

    /// The percentile and trend of the reading at `index` in [`HEADLINES`] order.
    pub fn standing(&self, index: usize) -> (Option<f64>, Option<&Trend>) {
        macro_rules! get {
            ($r:expr) => {
                $r.as_ref()
                    .map_or((None, None), |r| (r.percentile, r.trend.as_ref()))
            };
        }
        match index {
            0 => get!(self.punctuality),
            1 => get!(self.invoice_friction),
            2 => get!(self.service_load),
            3 => get!(self.advocacy),
            4 => get!(self.resilience),
            5 => get!(self.heard),
            6 => get!(self.personal),
            7 => get!(self.made_right),
            8 => get!(self.promises_kept),
            9 => get!(self.respects_choices),
            _ => (None, None),
        }
    }

    /// The evidence of every reading: ledger sequence numbers, sorted, without repeats.
    pub fn evidence(&self) -> Vec<i64> {
        let mut all: Vec<i64> = Vec::new();
        let mut add = |e: &[i64]| all.extend_from_slice(e);
        if let Some(r) = &self.punctuality {
            add(&r.evidence);
        }
        if let Some(r) = &self.invoice_friction {
            add(&r.evidence);
        }
        if let Some(r) = &self.service_load {
            add(&r.evidence);
        }
        if let Some(r) = &self.advocacy {
            add(&r.evidence);
        }
        if let Some(r) = &self.resilience {
            add(&r.evidence);
        }
        if let Some(r) = &self.heard {
            add(&r.evidence);
        }
        if let Some(r) = &self.personal {
            add(&r.evidence);
        }
        if let Some(r) = &self.made_right {
            add(&r.evidence);
        }
        if let Some(r) = &self.promises_kept {
            add(&r.evidence);
        }
        if let Some(r) = &self.respects_choices {
            add(&r.evidence);
        }
        if let Some(r) = &self.loyalty {
            add(&r.evidence);
        }
        if let Some(r) = &self.value {
            add(&r.evidence);
        }
        if let Some(r) = &self.ended {
            add(&r.evidence);
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The events at or before `as_of`: a prefix when the events are in time order (as
/// [`Assessor`] receives them), otherwise a filtered copy (a late import of old invoices leaves
/// ledger order out of time order).
fn prefix_until(events: &[Recorded], as_of: Timestamp) -> std::borrow::Cow<'_, [Recorded]> {
    let n = events.partition_point(|e| e.at <= as_of);
    if events[n..].iter().all(|e| e.at > as_of) {
        std::borrow::Cow::Borrowed(&events[..n])
    } else {
        std::borrow::Cow::Owned(events.iter().filter(|e| e.at <= as_of).cloned().collect())
    }
}

/// Sorts one person's events into time order (ties in ledger order), the order in which
/// readings can cut windows without copying.
pub fn sort_in_time(events: &mut [Recorded]) {
    if !events.is_sorted_by_key(|e| (e.at, e.seq)) {
        events.sort_by_key(|e| (e.at, e.seq));
    }
}

/// Which of a person's items a reading counts: all of them, or only those that belong to the
/// recent half of a trend. Either way the reading *sees* every event up to `T`, because much
/// of what it judges by is state that stays in force until changed: a consent withdrawn
/// two years ago still forbids today's newsletter, a frequency chosen long ago still limits
/// this month's outreach, an invoice left unpaid before the window is still open in it, a
/// question asked before it may still be waiting. Reading the window's events alone would
/// forget all of that and call the period better for it. What belongs to the window is
/// written per reading in docs/readings.md ("Trend").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window(Option<Timestamp>);

impl Window {
    /// Everything counts: the reading as of `T`.
    pub(crate) const ALL: Window = Window(None);

    /// Only what belongs to `(start, T]`.
    pub(crate) fn after(start: Timestamp) -> Window {
        Window(Some(start))
    }

    /// When the window begins (exclusive), if it is not everything.
    pub(crate) fn start(self) -> Option<Timestamp> {
        self.0
    }

    /// Whether something that happened at `at` happened in the window.
    pub(crate) fn counts(self, at: Timestamp) -> bool {
        self.0.is_none_or(|s| at > s)
    }
}

/// The person's own trend in one reading: the last 180 days against all earlier history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// The headline field compared.
    pub field: &'static str,
    /// The reading over the last 180 days before `T`, evaluated at `T`: what belongs to that
    /// period counted, with every earlier event still known (see [`Window`]).
    pub recent: f64,
    /// The reading over all events up to 180 days before `T`, evaluated then.
    pub earlier: f64,
    /// `recent - earlier`.
    pub change: f64,
}

/// Computes the trend of every reading for one person (see [`Trend`]). The earlier half is
/// the reading as of `T − 180 days`; the recent half counts what belongs to the last 180 days
/// while seeing everything before them ([`Window`]).
pub fn trends(events: &[Recorded], as_of: Timestamp, others: &dyn Others) -> Vec<Option<Trend>> {
    let cut = as_of.plus_days(-TREND_DAYS);
    let upto = prefix_until(events, as_of);
    let earlier = prefix_until(&upto, cut);
    if earlier.is_empty() || earlier.len() == upto.len() {
        return HEADLINES.iter().map(|_| None).collect();
    }
    let then = Readings::compute_window(&earlier, cut, others, Window::ALL);
    let now = Readings::compute_window(&upto, as_of, others, Window::after(cut));
    HEADLINES
        .iter()
        .map(|h| {
            let recent = now.headline(h.reading)?;
            let earlier = then.headline(h.reading)?;
            Some(Trend {
                field: h.field,
                recent,
                earlier,
                change: recent - earlier,
            })
        })
        .collect()
}

/// The distribution of one headline across everyone, for percentiles and charts: each
/// distinct value with how many people have it, so that a ledger's distributions can be kept
/// as counts and read back whole (see [`kept`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    /// Distinct finite values, ascending.
    values: Vec<f64>,
    /// `below[i]`: how many people have a value below `values[i]`; one more entry, the total.
    below: Vec<u64>,
}

impl Distribution {
    pub fn new(mut values: Vec<f64>) -> Self {
        values.retain(|v| v.is_finite());
        values.sort_unstable_by(f64::total_cmp);
        let mut runs: Vec<(f64, u64)> = Vec::new();
        for v in values {
            match runs.last_mut() {
                Some((x, n)) if x.total_cmp(&v).is_eq() => *n += 1,
                _ => runs.push((v, 1)),
            }
        }
        Distribution::from_sorted_runs(runs)
    }

    /// From each distinct value and how many have it, in any order (zero counts and
    /// values that are not finite are left out).
    pub fn from_counts(mut runs: Vec<(f64, u64)>) -> Self {
        runs.retain(|(v, n)| v.is_finite() && *n > 0);
        runs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, u64)> = Vec::with_capacity(runs.len());
        for (v, n) in runs {
            match merged.last_mut() {
                Some((x, m)) if x.total_cmp(&v).is_eq() => *m += n,
                _ => merged.push((v, n)),
            }
        }
        Distribution::from_sorted_runs(merged)
    }

    fn from_sorted_runs(runs: Vec<(f64, u64)>) -> Self {
        let mut values = Vec::with_capacity(runs.len());
        let mut below = Vec::with_capacity(runs.len() + 1);
        let mut total = 0;
        for (v, n) in runs {
            values.push(v);
            below.push(total);
            total += n;
        }
        below.push(total);
        Distribution { values, below }
    }

    /// How many people have the reading.
    pub fn len(&self) -> usize {
        self.below.last().copied().unwrap_or(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each distinct value with how many people have it, ascending.
    pub fn runs(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.values
            .iter()
            .zip(self.below.windows(2))
            .map(|(v, w)| (*v, w[1] - w[0]))
    }

    /// The value at place `i` (from 0) of everyone's values in ascending order.
    pub fn value_at(&self, i: usize) -> Option<f64> {
        if i >= self.len() {
            return None;
        }
        let k = self.below.partition_point(|b| *b <= i as u64);
        self.values.get(k.checked_sub(1)?).copied()
    }

    pub fn min(&self) -> Option<f64> {
        self.values.first().copied()
    }

    pub fn max(&self) -> Option<f64> {
        self.values.last().copied()
    }

    /// The distribution without one occurrence of each of `values` (people who left it).
    pub fn without(&self, values: &[f64]) -> Distribution {
        let mut runs: Vec<(f64, u64)> = self.runs().collect();
        for v in values {
            let i = runs.partition_point(|(x, _)| x.total_cmp(v).is_lt());
            if let Some((x, n)) = runs.get_mut(i)
                && x.total_cmp(v).is_eq()
            {
                *n = n.saturating_sub(1);
            }
        }
        Distribution::from_counts(runs)
    }

    /// How many people have a value below `v`, how many exactly `v`, and how many in all.
    pub fn tally(&self, v: f64) -> (u64, u64, u64) {
        let lo = self.values.partition_point(|x| *x < v);
        let hi = self.values.partition_point(|x| *x <= v);
        let below = self.below[lo];
        (below, self.below[hi] - below, self.len() as u64)
    }

    /// Where `v` stands among everyone, in words a person reads without knowing what a
    /// mid-rank percentile is: "better than 45% of people; 52% have the same figure". A tie is
    /// said as a tie — a perfect record shared by many reads "as good as it gets, like 55% of
    /// people", not as "percentile 72". `None` when nobody has the reading.
    pub fn standing_words(&self, v: f64, higher_is_better: bool) -> Option<String> {
        let (below, equal, n) = self.tally(v);
        if n == 0 || !v.is_finite() {
            return None;
        }
        let above = n - below - equal;
        let (better, worse) = if higher_is_better {
            (below, above)
        } else {
            (above, below)
        };
        let pct = |k: u64| {
            let p = 100.0 * k as f64 / n as f64;
            if k > 0 && p < 1.0 {
                "less than 1%".to_owned()
            } else {
                format!("{p:.0}%")
            }
        };
        let others = equal.saturating_sub(1);
        Some(if worse == 0 && better == 0 {
            "the same as everyone else".to_owned()
        } else if worse == 0 {
            if others == 0 {
                "the best of everyone".to_owned()
            } else {
                format!("as good as it gets, like {} of people", pct(equal))
            }
        } else if better == 0 {
            if others == 0 {
                "the lowest of everyone".to_owned()
            } else {
                format!("at the bottom, with {} of people", pct(equal))
            }
        } else if others == 0 {
            format!(
                "better than {} of people, worse than {}",
                pct(better),
                pct(worse)
            )
        } else {
            format!(
                "better than {} of people, worse than {}; {} have the same figure",
                pct(better),
                pct(worse),
                pct(equal)
            )
        })
    }

    /// Mid-rank percentile of `v`: `100 × (#below + #equal / 2) / n`.
    pub fn percentile(&self, v: f64) -> Option<f64> {
        let n = self.len();
        if n == 0 || !v.is_finite() {
            return None;
        }
        let lo = self.values.partition_point(|x| *x < v);
        let hi = self.values.partition_point(|x| *x <= v);
        let below = self.below[lo];
        let equal = self.below[hi] - below;
        let p = 100.0 * (below as f64 + equal as f64 / 2.0) / n as f64;
        Some((p * 10.0).round() / 10.0)
    }
}

/// Distributions of every headline over a set of people's readings, in [`HEADLINES`] order.
pub fn distributions<'a>(
    all: impl Iterator<Item = &'a Readings> + Clone + Send + Sync,
) -> Vec<Distribution> {
    use rayon::prelude::*;
    HEADLINES
        .par_iter()
        .map(|h| Distribution::new(all.clone().filter_map(|r| r.headline(h.reading)).collect()))
        .collect()
}

/// Median of a list (average of the middle two for an even count); `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests;
