//! Kept readings in the store: each person's figures as of the end of a reading day (see
//! [`domain::readings::kept`]), an index of every sortable field for lists, each headline's
//! distribution as counts for percentiles and charts, and the largest changes for the movers.
//!
//! Readings are kept by a **catch-up step with a durable watermark**, not inside the
//! transaction that writes events: an import marks the people it touched (in its own
//! transaction, so the mark is as durable as the events), and [`KeptReadings::kept_update`]
//! later recomputes exactly those, plus the people whose day of change has come and those
//! who depend on them. Computing readings needs the person's whole history and facts about
//! others (the index of scripts, the people they referred) that an import only settles at
//! its end; keeping that out of the import's transaction keeps imports as fast as before,
//! and the marks make a killed catch-up resume where it stood. Readers see how many people
//! wait ([`KeptStatus::pending`]) and catch up first when they may write.
//!
//! The figures, the index entries and the counts here are derived the same way by every
//! backend from these functions, so backends only store and look up.

use domain::readings::kept::{Kept, headline_fields, is_percentile};
use domain::readings::{Distribution, HEADLINES, SORTABLE};
use domain::{Day, PersonId, Timestamp};

use crate::StoreError;

/// Index entries of the movers: field `MOVERS_FIELD + h` holds the change of headline `h`
/// over the last 30 days.
pub const MOVERS_FIELD: i32 = 100;
/// The count of everyone with kept readings, kept beside each field's.
pub const EVERYONE: i32 = -1;

/// What the kept readings are as of, and with what they were computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMeta {
    /// The reading day: figures are as of its end.
    pub day: Day,
    /// What everyone's readings depend on besides the events (the stored fits, the opt-in
    /// purposes), as a fingerprint: when it changes, everyone is recomputed.
    pub inputs: String,
}

impl KeptMeta {
    /// The meta as a backend keeps it, as text: the day (days since 1970-01-01) and the
    /// fingerprint; `None` until both were written.
    pub fn from_stored(
        day: Option<String>,
        inputs: Option<String>,
    ) -> Result<Option<KeptMeta>, StoreError> {
        let (Some(day), Some(inputs)) = (day, inputs) else {
            return Ok(None);
        };
        let days = day.parse().map_err(|_| StoreError::Corrupt {
            message: format!("the kept readings' day {day:?}"),
        })?;
        Ok(Some(KeptMeta {
            day: Day::from_days(days),
            inputs,
        }))
    }
}

/// Where the kept readings stand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeptStatus {
    /// `None` until the kept readings were first made.
    pub meta: Option<KeptMeta>,
    /// People written since their readings were kept (not yet caught up).
    pub pending: u64,
    /// Whether answers were added or removed since the scripted answers were last compared.
    pub scripts_changed: bool,
    /// Counts the catch-ups finished: a face holding figures reads them again when it moves.
    pub generation: u64,
}

/// One person's kept figures as read back (the rest of [`Kept`] is for the catch-up).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptFigures {
    pub fields: [Option<f64>; SORTABLE.len()],
    pub before: [Option<f64>; HEADLINES.len()],
}

impl KeptFigures {
    pub fn decode(bytes: &[u8]) -> Result<KeptFigures, StoreError> {
        let (fields, before) = Kept::decode_figures(bytes).ok_or_else(|| StoreError::Corrupt {
            message: "a person's kept readings cannot be read".into(),
        })?;
        Ok(KeptFigures { fields, before })
    }
}

/// One person's kept readings as a backend stores them (the row of `kept`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub figures: KeptFigures,
    pub next_change: Option<i32>,
    pub last_tx: Option<i64>,
    pub scripted: i64,
    pub scripted_sum: i64,
    /// [`Kept::extras_digest`].
    pub extras: i64,
}

/// What writing a person's new kept readings over what is stored takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Nothing changed.
    Nothing,
    /// Only the day of the next change moved.
    NextChange,
    /// The row (figures and all), and with `extras` whom they referred and what they chose.
    Row { extras: bool },
    /// The person is gone: every row of theirs.
    Remove,
}

/// What replacing `old` by `new` takes (see [`Plan`]).
pub fn plan(old: Option<&StoredRow>, new: Option<&Kept>) -> Plan {
    let Some(new) = new else {
        return if old.is_some() {
            Plan::Remove
        } else {
            Plan::Nothing
        };
    };
    let Some(old) = old else {
        return Plan::Row { extras: true };
    };
    let extras = old.extras != new.extras_digest();
    let same_figures = old
        .figures
        .fields
        .iter()
        .zip(&new.fields)
        .all(|(a, b)| same(*a, *b))
        && old
            .figures
            .before
            .iter()
            .zip(&new.before)
            .all(|(a, b)| same(*a, *b));
    if extras
        || !same_figures
        || old.last_tx != new.last_transaction.map(Timestamp::unix)
        || old.scripted != new.scripted.0 as i64
        || old.scripted_sum != new.scripted.1
    {
        return Plan::Row { extras };
    }
    if old.next_change != new.next_change.map(|d| d.days_since_epoch()) {
        Plan::NextChange
    } else {
        Plan::Nothing
    }
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.to_bits() == y.to_bits(),
        _ => false,
    }
}

/// The index entries of one person's figures: every sortable field they have (percentiles
/// sort as their headline, so they need none) and every headline that moved.
pub fn entries(fields: &[Option<f64>], before: &[Option<f64>]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(24);
    for (i, v) in fields.iter().enumerate() {
        if let Some(v) = v
            && v.is_finite()
            && !is_percentile(i)
        {
            out.push((i as i32, *v));
        }
    }
    for (h, f) in headline_fields().into_iter().enumerate() {
        if let (Some(Some(n)), Some(Some(b))) = (fields.get(f), before.get(h))
            && n.is_finite()
            && b.is_finite()
            && (n - b).abs() > 1e-9
        {
            out.push((MOVERS_FIELD + h as i32, n - b));
        }
    }
    out
}

/// What writing new kept figures for some people changes in the index and the counts: the
/// same for every backend, which only carries it out.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes<'a> {
    /// Index entries to delete: (field, value, person).
    pub removed: Vec<(i32, f64, &'a str)>,
    /// Index entries to add.
    pub added: Vec<(i32, f64, &'a str)>,
    /// Changes of the distributions' counts: (headline's field, value, change), without zeros.
    pub dist: Vec<(i32, f64, i64)>,
    /// Changes of how many people have each field: (field, change), without zeros.
    pub counts: Vec<(i32, i64)>,
}

/// The [`Changes`] of replacing `old[i]` (what is stored now) by `rows[i]`'s figures.
pub fn changes<'a>(rows: &'a [(PersonId, Option<Kept>)], old: &[Option<StoredRow>]) -> Changes<'a> {
    let headlines = headline_fields();
    let mut out = Changes::default();
    let mut dist: std::collections::HashMap<(i32, u64), i64> = std::collections::HashMap::new();
    let mut counts: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
    let same = |a: &(i32, f64), b: &(i32, f64)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits();
    for ((person, new), old) in rows.iter().zip(old) {
        match (old.is_some(), new.is_some()) {
            (false, true) => *counts.entry(EVERYONE).or_default() += 1,
            (true, false) => *counts.entry(EVERYONE).or_default() -= 1,
            _ => {}
        }
        let old = old
            .as_ref()
            .map_or_else(Vec::new, |r| entries(&r.figures.fields, &r.figures.before));
        let new = new
            .as_ref()
            .map_or_else(Vec::new, |k| entries(&k.fields, &k.before));
        let id = person.as_str();
        for (e, sign, list) in [(&old, -1, &new), (&new, 1, &old)] {
            for x in e.iter().filter(|x| !list.iter().any(|y| same(x, y))) {
                if sign < 0 {
                    out.removed.push((x.0, x.1, id));
                } else {
                    out.added.push((x.0, x.1, id));
                }
                *counts.entry(x.0).or_default() += sign;
                if headlines.iter().any(|f| *f as i32 == x.0) {
                    *dist.entry((x.0, x.1.to_bits())).or_default() += sign;
                }
            }
        }
    }
    out.dist = dist
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((f, bits), d)| (f, f64::from_bits(bits), d))
        .collect();
    out.dist
        .sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    out.counts = counts.into_iter().filter(|(_, d)| *d != 0).collect();
    out
}

/// Builds the distributions in [`HEADLINES`] order from counts as (field, value, people).
pub fn distributions(counts: Vec<(i32, f64, i64)>) -> Vec<Distribution> {
    let fields = headline_fields();
    let mut runs: Vec<Vec<(f64, u64)>> = vec![Vec::new(); HEADLINES.len()];
    for (f, v, n) in counts {
        if let Some(h) = fields.iter().position(|x| *x as i32 == f)
            && n > 0
        {
            runs[h].push((v, n as u64));
        }
    }
    runs.into_iter().map(Distribution::from_counts).collect()
}

/// One person whose headline moved, as the movers list them.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptMover {
    pub person: PersonId,
    pub change: f64,
}

/// Kept readings: read by every face, kept up to date by [`KeptReadings::kept_update`].
pub trait KeptReadings {
    fn kept_status(&self) -> Result<KeptStatus, StoreError>;
    /// The kept figures of each of `people` (`None` for people without).
    fn kept_figures(&self, people: &[PersonId]) -> Result<Vec<Option<KeptFigures>>, StoreError>;
    /// People ordered by field `field` of [`SORTABLE`] (ties by id), `offset` and `limit`
    /// applied; only people who have the field. A percentile orders as its headline.
    fn kept_order(
        &self,
        field: usize,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PersonId>, StoreError>;
    /// How many people have field `field` (a percentile: its headline); `None`: how many
    /// people have kept readings at all.
    fn kept_count(&self, field: Option<usize>) -> Result<u64, StoreError>;
    /// Up to `limit` people with kept readings after `after` in id order, with their figures.
    fn kept_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> Result<Vec<(PersonId, KeptFigures)>, StoreError>;
    /// People with kept readings in id order, `offset` and `limit` applied; with `without`,
    /// only those who do not have that field (a list sorted by it shows them last). Reads
    /// through everyone up to the page: lists reach these pages rarely.
    fn kept_people(
        &self,
        without: Option<usize>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PersonId>, StoreError> {
        let field = without.map(domain::readings::kept::sort_field);
        let mut out = Vec::new();
        let mut skipped = 0;
        let mut after: Option<PersonId> = None;
        let mut batch = (offset + limit).clamp(64, 10_000);
        loop {
            let rows = self.kept_after(after.as_ref(), batch)?;
            batch = (batch * 4).min(10_000);
            let Some(last) = rows.last() else { break };
            after = Some(last.0.clone());
            for (p, f) in rows {
                if field.is_some_and(|i| f.fields.get(i).copied().flatten().is_some()) {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                out.push(p);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }
    /// Every headline's distribution, in [`HEADLINES`] order.
    fn kept_distributions(&self) -> Result<Vec<Distribution>, StoreError>;
    /// The `limit` largest rises (or falls) of headline `headline` over 30 days.
    fn kept_movers(
        &self,
        headline: usize,
        rises: bool,
        limit: usize,
    ) -> Result<Vec<KeptMover>, StoreError>;
    /// Everyone's current menu choices as kept: (person, item, option), by person.
    fn kept_choices(&self) -> Result<Vec<(PersonId, String, String)>, StoreError>;
    /// When each of `people` last ordered or was invoiced, as kept.
    fn kept_last_transactions(
        &self,
        people: &[PersonId],
    ) -> Result<Vec<Option<Timestamp>>, StoreError>;
    /// Starts a catch-up: holds the writer lock (waiting as [`crate::Store::batch_waiting`]
    /// does) until it is finished or dropped; everything it writes becomes visible at
    /// [`KeptUpdate::finish`], or not at all.
    fn kept_update(
        &self,
        waiting: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Box<dyn KeptUpdate + '_>, StoreError>;
}

/// A catch-up of the kept readings in progress (see [`KeptReadings::kept_update`]).
pub trait KeptUpdate {
    /// People written since their readings were kept, and people whose day of change is at
    /// or before `day`.
    fn stale(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError>;
    /// Everyone in the ledger, and everyone with kept readings (for a full recomputation).
    fn everyone(&mut self) -> Result<Vec<PersonId>, StoreError>;
    /// Removes every kept reading, index entry and count, so that a recomputation of
    /// everyone builds them anew (a repair: nothing kept is trusted).
    fn clear(&mut self) -> Result<(), StoreError>;
    /// The people who referred any of `people`, as kept.
    fn referrers(&mut self, people: &[PersonId]) -> Result<Vec<PersonId>, StoreError>;
    /// People whose scripted answers up to the end of `day` are not those their kept readings
    /// counted (after answers were added or forgotten, a script may have reached its sixth
    /// person, or fallen below it).
    fn scripted_differs(&mut self, day: Day) -> Result<Vec<PersonId>, StoreError>;
    /// Replaces the kept readings of each person (`None`: the person is no longer in the
    /// ledger), with their index entries and counts, and clears their marks.
    fn write(&mut self, rows: &[(PersonId, Option<Kept>)]) -> Result<(), StoreError>;
    /// Records what the kept readings are now as of, and makes everything visible.
    fn finish(self: Box<Self>, meta: &KeptMeta) -> Result<(), StoreError>;
}
