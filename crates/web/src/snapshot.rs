//! Everyone's figures, computed once per ledger state and kept in memory, so that lists,
//! charts and percentiles answer in milliseconds however large the ledger is.
//!
//! A snapshot holds no readings, only what lists and charts need: every sortable field as a
//! column of numbers, each headline's distribution (for percentiles), the largest changes over
//! the last 30 days, and each person's name for search. Cards are never read from here: a
//! card is always computed fresh from the person's own history, with percentiles taken
//! against the snapshot's distributions. After new events arrive the server builds the next
//! snapshot in the background and swaps it in.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use domain::readings::{
    Assessor, Distribution, HEADLINES, Models, OptIn, Others, SORTABLE, distributions,
};
use domain::scripts::Scripted;
use domain::{Body, PersonId, Timestamp};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use store::{ScriptsOverview, StoreError, Totals};

/// How far back "this month's changes" look.
pub const CHANGE_DAYS: i64 = 30;
/// How many scripts the scripts page and API list.
pub const SCRIPTS_LISTED: usize = 100;
/// How many of the largest changes each headline keeps, each way.
const MOVERS: usize = 5;

/// One person whose headline changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Mover {
    pub rank: u32,
    pub before: f64,
    pub now: f64,
}

/// The largest rises and falls of one headline over [`CHANGE_DAYS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Movers {
    pub rises: Vec<Mover>,
    pub falls: Vec<Mover>,
}

/// What people chose from the menu: how many chose each option, and the combinations they
/// compose (the 50 most common).
#[derive(Debug, Clone, Default)]
pub struct ChoiceCounts {
    /// People with at least one current choice.
    pub people: usize,
    /// (item, option) → people, most chosen first.
    pub counts: Vec<((String, String), usize)>,
    pub combinations: Vec<(Vec<(String, String)>, usize)>,
}

impl ChoiceCounts {
    fn count(all: impl Iterator<Item = Vec<(String, String)>>) -> ChoiceCounts {
        let mut counts: FxHashMap<(String, String), usize> = FxHashMap::default();
        let mut combos: FxHashMap<Vec<(String, String)>, usize> = FxHashMap::default();
        let mut people = 0;
        for mut choice in all {
            if choice.is_empty() {
                continue;
            }
            people += 1;
            choice.sort();
            for c in &choice {
                *counts.entry(c.clone()).or_default() += 1;
            }
            *combos.entry(choice).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut combinations: Vec<_> = combos.into_iter().collect();
        combinations.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        combinations.truncate(50);
        ChoiceCounts {
            people,
            counts,
            combinations,
        }
    }
}

/// A person's current menu choices (the latest per item).
fn current_choices(
    events: &[domain::readings::Recorded],
    as_of: Timestamp,
) -> Vec<(String, String)> {
    let mut latest: Vec<(String, String)> = Vec::new();
    for e in events.iter().filter(|e| e.at <= as_of) {
        if let Body::MenuChosen { item, option } = &e.body {
            latest.retain(|(i, _)| i != item.as_str());
            latest.push((item.to_string(), option.to_string()));
        }
    }
    latest
}

/// Everyone's order by (field, descending), computed when first asked for.
type Orders = FxHashMap<(usize, bool), Arc<[u32]>>;

pub struct Snapshot {
    pub as_of: Timestamp,
    pub totals: Totals,
    /// Everyone, in ledger order (their rank), forgotten people included (see `removed`).
    pub people: Arc<[PersonId]>,
    rank_of: Arc<FxHashMap<PersonId, u32>>,
    /// Current names by rank (for agents and admins; never shown to analysts).
    names: Arc<Vec<Option<Box<str>>>>,
    /// Lower-case id and name by rank, what search looks in.
    haystack: Arc<Vec<Box<str>>>,
    /// `columns[f][rank]`: field `SORTABLE[f]` of each person, NaN where they have none.
    columns: Arc<Vec<Vec<f64>>>,
    /// Headline distributions in [`HEADLINES`] order.
    pub dists: Vec<Distribution>,
    /// Largest changes per headline, in [`HEADLINES`] order.
    pub movers: Vec<Movers>,
    /// When each person last ordered or was invoiced (seconds; `i64::MIN` for never).
    last_transaction: Arc<Vec<i64>>,
    pub models: Models,
    pub choices: Arc<ChoiceCounts>,
    /// Which answers are scripted, for everyone's `personal` reading and the cards.
    pub scripted: Arc<Scripted>,
    /// The scripts in use, the largest [`SCRIPTS_LISTED`] with their masked text.
    pub scripts: Arc<ScriptsOverview>,
    /// The purposes that need consent first, as the ledger said when this was computed.
    pub opt_in: OptIn,
    orders: Arc<Mutex<Orders>>,
    /// People forgotten since this snapshot's figures were computed, by rank: they are in no
    /// list, search, chart, percentile or count, and have no name, until the next rebuild.
    removed: Arc<rustc_hash::FxHashSet<u32>>,
    /// The last tombstone (see `store`'s tombstones) this snapshot has taken into account.
    pub tombstones_seen: i64,
    /// Every person's tombstone, made the first time someone is forgotten while this
    /// snapshot (or one derived from it) is current.
    macs: Arc<std::sync::OnceLock<FxHashMap<[u8; 32], u32>>>,
}

impl Snapshot {
    /// Computes everyone's figures as of `as_of` (two passes over the ledger: now, and
    /// [`CHANGE_DAYS`] earlier for the changes).
    pub fn build(app: &app::App, as_of: Timestamp) -> Result<Snapshot, StoreError> {
        let store = app.ledger().as_ref();
        // Tombstones laid while this is built are applied afterwards (see `without_forgotten`).
        let tombstones_seen = store.latest_tombstone()?;
        let models = app.models()?;
        let totals = store.totals()?;
        let people = store.people()?;
        let n = people.len();
        let scripted = store.scripted()?;
        let scripts = store.scripts(SCRIPTS_LISTED)?;
        let opt_in = app.opt_in()?;

        let last: Vec<AtomicI64> = (0..n).map(|_| AtomicI64::new(i64::MIN)).collect();
        let chosen: Vec<std::sync::OnceLock<Vec<(String, String)>>> =
            (0..n).map(|_| std::sync::OnceLock::new()).collect();
        let assessor = Assessor::new(n, as_of, &models, &scripted).with_opt_in(&opt_in);
        store.visit_events(&|rank, events| {
            assessor.person(rank, events);
            let c = current_choices(events, as_of);
            if !c.is_empty()
                && let Some(slot) = chosen.get(rank)
            {
                let _ = slot.set(c);
            }
            let latest = events
                .iter()
                .filter(|e| e.at <= as_of)
                .filter(|e| {
                    matches!(
                        e.body,
                        Body::OrderPlaced { .. } | Body::InvoiceIssued { .. }
                    )
                })
                .map(|e| e.at.unix())
                .max();
            if let (Some(t), Some(slot)) = (latest, last.get(rank)) {
                slot.store(t, Ordering::Relaxed);
            }
        })?;
        let readings = assessor.finish(&people);
        let dists = distributions(readings.iter());
        let mut columns: Vec<Vec<f64>> =
            (0..SORTABLE.len()).map(|_| Vec::with_capacity(n)).collect();
        for r in &readings {
            for (column, v) in columns.iter_mut().zip(r.fields()) {
                column.push(v.unwrap_or(f64::NAN));
            }
        }
        drop(readings);

        let then = as_of.plus_days(-CHANGE_DAYS);
        let earlier = Assessor::new(n, then, &models, &scripted).with_opt_in(&opt_in);
        store.visit_events(&|rank, events| earlier.person(rank, events))?;
        let before: Vec<Vec<f64>> = {
            let readings = earlier.finish(&people);
            HEADLINES
                .iter()
                .map(|h| {
                    readings
                        .iter()
                        .map(|r| r.headline(h.reading).unwrap_or(f64::NAN))
                        .collect()
                })
                .collect()
        };
        let movers = HEADLINES
            .iter()
            .zip(&before)
            .map(|(h, before)| {
                let field = format!("{}.{}", h.reading, h.field);
                let now = SORTABLE
                    .iter()
                    .position(|p| *p == field)
                    .map(|i| &columns[i]);
                now.map(|now| movers(before, now)).unwrap_or_default()
            })
            .collect();

        let rank_of: FxHashMap<PersonId, u32> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u32))
            .collect();
        let mut names: Vec<Option<Box<str>>> = vec![None; n];
        for (person, name) in store.names()? {
            if let Some(&rank) = rank_of.get(&person) {
                names[rank as usize] = Some(name.into_boxed_str());
            }
        }
        let haystack = people
            .par_iter()
            .zip(&names)
            .map(|(p, name)| {
                let mut s = p.as_str().to_lowercase();
                if let Some(name) = name {
                    s.push('\t');
                    s.push_str(&name.to_lowercase());
                }
                s.into_boxed_str()
            })
            .collect();

        let choices = ChoiceCounts::count(chosen.into_iter().filter_map(|c| c.into_inner()));
        Ok(Snapshot {
            choices: Arc::new(choices),
            as_of,
            totals,
            people: people.into(),
            rank_of: Arc::new(rank_of),
            names: Arc::new(names),
            haystack: Arc::new(haystack),
            columns: Arc::new(columns),
            dists,
            movers,
            last_transaction: Arc::new(last.into_iter().map(AtomicI64::into_inner).collect()),
            models,
            scripted: Arc::new(scripted),
            scripts: Arc::new(scripts),
            opt_in,
            orders: Arc::new(Mutex::new(FxHashMap::default())),
            removed: Arc::new(Default::default()),
            tombstones_seen,
            macs: Arc::new(std::sync::OnceLock::new()),
        })
    }

    /// This snapshot without the people forgotten since it was built: the tombstones after
    /// [`Snapshot::tombstones_seen`] (from `store`), matched to people by `mac` (their
    /// tombstone). Shares everything large with `self`; only the distributions, the movers
    /// and the counts are made anew. `None` when no new tombstone concerns anyone here.
    pub fn without_forgotten(
        &self,
        tombstones: &[(i64, [u8; 32])],
        mac: impl Fn(&PersonId) -> [u8; 32] + Sync,
    ) -> Option<Snapshot> {
        let last = tombstones.last()?.0;
        let macs = self.macs.get_or_init(|| {
            self.people
                .par_iter()
                .enumerate()
                .map(|(rank, p)| (mac(p), rank as u32))
                .collect()
        });
        let gone: Vec<u32> = tombstones
            .iter()
            .filter_map(|(_, m)| macs.get(m).copied())
            .filter(|r| !self.removed.contains(r))
            .collect();
        let mut removed = (*self.removed).clone();
        removed.extend(gone.iter().copied());
        let dists = HEADLINES
            .iter()
            .zip(&self.dists)
            .map(|(h, d)| {
                let field = format!("{}.{}", h.reading, h.field);
                let Some(f) = SORTABLE.iter().position(|p| *p == field) else {
                    return d.clone();
                };
                let values: Vec<f64> = gone
                    .iter()
                    .map(|&r| self.columns[f][r as usize])
                    .filter(|v| v.is_finite())
                    .collect();
                d.without(&values)
            })
            .collect();
        let movers = self
            .movers
            .iter()
            .map(|m| Movers {
                rises: m
                    .rises
                    .iter()
                    .filter(|x| !removed.contains(&x.rank))
                    .cloned()
                    .collect(),
                falls: m
                    .falls
                    .iter()
                    .filter(|x| !removed.contains(&x.rank))
                    .cloned()
                    .collect(),
            })
            .collect();
        let mut totals = self.totals;
        totals.people = totals.people.saturating_sub(gone.len() as u64);
        Some(Snapshot {
            as_of: self.as_of,
            totals,
            people: self.people.clone(),
            rank_of: self.rank_of.clone(),
            names: self.names.clone(),
            haystack: self.haystack.clone(),
            columns: self.columns.clone(),
            dists,
            movers,
            last_transaction: self.last_transaction.clone(),
            models: self.models.clone(),
            choices: self.choices.clone(),
            scripted: self.scripted.clone(),
            scripts: self.scripts.clone(),
            opt_in: self.opt_in.clone(),
            orders: self.orders.clone(),
            removed: Arc::new(removed),
            tombstones_seen: last,
            macs: self.macs.clone(),
        })
    }

    /// Whether the person at `rank` was forgotten since this snapshot was built.
    pub fn is_removed(&self, rank: u32) -> bool {
        self.removed.contains(&rank)
    }

    /// How many people are listed (forgotten ones not counted).
    pub fn len(&self) -> usize {
        self.people.len() - self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn rank(&self, person: &PersonId) -> Option<u32> {
        self.rank_of
            .get(person)
            .copied()
            .filter(|r| !self.is_removed(*r))
    }

    pub fn name(&self, rank: u32) -> Option<&str> {
        if self.is_removed(rank) {
            return None;
        }
        self.names.get(rank as usize)?.as_deref()
    }

    /// Field `f` of [`SORTABLE`] for the person at `rank`.
    pub fn value(&self, f: usize, rank: u32) -> Option<f64> {
        if self.is_removed(rank) {
            return None;
        }
        let v = *self.columns.get(f)?.get(rank as usize)?;
        (!v.is_nan()).then_some(v)
    }

    /// Everyone ordered by field `f` (people without it last, in ledger order), computed
    /// once per snapshot and field.
    pub fn order(&self, f: usize, desc: bool) -> Arc<[u32]> {
        if let Some(o) = self
            .orders
            .lock()
            .ok()
            .and_then(|m| m.get(&(f, desc)).cloned())
        {
            return o;
        }
        let column = &self.columns[f];
        let (mut with, without): (Vec<u32>, Vec<u32>) =
            (0..column.len() as u32).partition(|&r| !column[r as usize].is_nan());
        with.par_sort_unstable_by(|&a, &b| {
            let (x, y) = (column[a as usize], column[b as usize]);
            let c = if desc {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            };
            c.then(a.cmp(&b))
        });
        with.extend(without);
        let order: Arc<[u32]> = with.into();
        if let Ok(mut m) = self.orders.lock() {
            m.insert((f, desc), order.clone());
        }
        order
    }

    /// One page of people: those whose id (or, with `names`, name) contains `query`, in the
    /// order of field `sort` (or ledger order). Returns the page and how many match in all.
    pub fn page(
        &self,
        sort: Option<(usize, bool)>,
        query: &str,
        names: bool,
        offset: usize,
        limit: usize,
    ) -> (Vec<u32>, usize) {
        let order = sort.map(|(f, desc)| self.order(f, desc));
        let ranks: Box<dyn Iterator<Item = u32> + '_> = match &order {
            Some(o) => Box::new(o.iter().copied()),
            None => Box::new(0..self.people.len() as u32),
        };
        let query = query.trim().to_lowercase();
        if query.is_empty() && self.removed.is_empty() {
            let total = self.people.len();
            return (ranks.skip(offset).take(limit).collect(), total);
        }
        let hits = |rank: u32| {
            if self.is_removed(rank) {
                return false;
            }
            if query.is_empty() {
                return true;
            }
            let hay = &self.haystack[rank as usize];
            if names {
                hay.contains(&query)
            } else {
                hay.split('\t').next().is_some_and(|id| id.contains(&query))
            }
        };
        let mut page = Vec::with_capacity(limit);
        let mut total = 0;
        for rank in ranks {
            if hits(rank) {
                if total >= offset && page.len() < limit {
                    page.push(rank);
                }
                total += 1;
            }
        }
        (page, total)
    }
}

/// Whether a referred person became a buyer, whether an answer is scripted, and which
/// purposes need consent first, as of the snapshot.
impl Others for Snapshot {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        let rank = self.rank(person)?;
        let t = *self.last_transaction.get(rank as usize)?;
        (t != i64::MIN).then(|| Timestamp::from_unix(t))
    }

    fn scripted(&self, answer: i64) -> bool {
        self.scripted.contains(answer)
    }

    fn opt_in(&self) -> &OptIn {
        &self.opt_in
    }
}

/// The largest rises and falls between two columns of one headline.
fn movers(before: &[f64], now: &[f64]) -> Movers {
    let mut changes: Vec<(f64, u32)> = before
        .iter()
        .zip(now)
        .enumerate()
        .filter(|(_, (b, n))| !b.is_nan() && !n.is_nan() && (*n - *b).abs() > 1e-9)
        .map(|(rank, (b, n))| (n - b, rank as u32))
        .collect();
    let mover = |&(_, rank): &(f64, u32)| Mover {
        rank,
        before: before[rank as usize],
        now: now[rank as usize],
    };
    changes.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let rises = changes
        .iter()
        .take_while(|c| c.0 > 0.0)
        .take(MOVERS)
        .map(mover)
        .collect();
    let falls = changes
        .iter()
        .rev()
        .take_while(|c| c.0 < 0.0)
        .take(MOVERS)
        .map(mover)
        .collect();
    Movers { rises, falls }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_rises_and_falls_are_kept_and_no_change_is_neither() {
        let before = [0.5, 0.5, f64::NAN, 0.2, 0.9];
        let now = [0.9, 0.5, 0.7, 0.1, 0.3];
        let m = movers(&before, &now);
        assert_eq!(m.rises.len(), 1);
        assert_eq!(m.rises[0].rank, 0);
        assert_eq!(
            m.falls.iter().map(|x| x.rank).collect::<Vec<_>>(),
            vec![4, 3]
        );
    }
}
