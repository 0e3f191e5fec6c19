//! What the server holds of everyone's figures: nothing computed from the events. Lists,
//! charts, percentiles and the movers are read from the kept readings in the ledger (see
//! `store::kept`), so a server is ready in well under a second however large the ledger is,
//! and every server over one ledger shows the same figures.
//!
//! A snapshot keeps only what is small and asked for on every page — each headline's
//! distribution (for percentiles and charts), the movers, the totals, the fits, the scripts
//! in use — and is read again after every catch-up of the kept readings. People, their
//! figures and their order come page by page from the ledger's index. Names for search are
//! read once in the background (opening every name takes seconds on a large ledger) and kept
//! apart; a page shows each listed person's current name, read for that page.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use domain::readings::{Distribution, HEADLINES, Models, OptIn, SORTABLE};
use domain::{Day, PersonId, Timestamp};
use rustc_hash::{FxHashMap, FxHashSet};
use store::{ScriptsOverview, StoreError, Totals};

/// How far back "this month's changes" look.
pub const CHANGE_DAYS: i64 = domain::readings::kept::MOVER_DAYS;
/// How many scripts the scripts page and API list.
pub const SCRIPTS_LISTED: usize = 100;
/// How many of the largest changes each headline keeps, each way.
const MOVERS: usize = 5;

/// One person whose headline changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Mover {
    pub person: PersonId,
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
    /// From everyone's kept choices, (person, item, option) ordered by person.
    fn count(rows: Vec<(PersonId, String, String)>) -> ChoiceCounts {
        let mut counts: FxHashMap<(String, String), usize> = FxHashMap::default();
        let mut combos: FxHashMap<Vec<(String, String)>, usize> = FxHashMap::default();
        let mut people = 0;
        let mut current: Option<(PersonId, Vec<(String, String)>)> = None;
        let mut close = |choice: Vec<(String, String)>,
                         counts: &mut FxHashMap<(String, String), usize>| {
            if choice.is_empty() {
                return;
            }
            people += 1;
            let mut choice = choice;
            choice.sort();
            for c in &choice {
                *counts.entry(c.clone()).or_default() += 1;
            }
            *combos.entry(choice).or_default() += 1;
        };
        for (p, item, option) in rows {
            match &mut current {
                Some((q, choice)) if *q == p => choice.push((item, option)),
                _ => {
                    if let Some((_, choice)) = current.take() {
                        close(choice, &mut counts);
                    }
                    current = Some((p, vec![(item, option)]));
                }
            }
        }
        if let Some((_, choice)) = current.take() {
            close(choice, &mut counts);
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

/// A person read again for search: their id, what search looks in, and their name.
type Named = (PersonId, Box<str>, Option<Box<str>>);

/// Everyone's id and name, lower-cased, for search: read once in the background and shared by
/// every snapshot; people new since are added as their readings are kept, people forgotten
/// since are left out.
#[derive(Default)]
pub struct Names {
    index: RwLock<Option<Arc<NameIndex>>>,
    /// People added since the index was read, (id, "id\tname" lower-case, name).
    added: RwLock<Vec<Named>>,
    /// People forgotten since the index was read.
    removed: RwLock<FxHashSet<PersonId>>,
    /// Serialises loading.
    loading: Mutex<()>,
}

struct NameIndex {
    /// People in id order, with what search looks in ("id\tname", lower-case).
    people: Vec<(PersonId, Box<str>)>,
    /// Each person's name as written, in the same order.
    names: Vec<Option<Box<str>>>,
    /// Every person's tombstone, made the first time someone is forgotten.
    macs: OnceLock<FxHashMap<[u8; 32], usize>>,
}

/// Text as search compares it: lower case, accents and other marks folded away
/// (`Müller` → `muller`, `Łódź` → `lodz`), so a search finds a name typed either way.
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

fn haystack(p: &PersonId, name: Option<&str>) -> Box<str> {
    let mut s = fold(p.as_str());
    if let Some(name) = name {
        s.push('\t');
        s.push_str(&fold(name));
    }
    s.into_boxed_str()
}

impl Names {
    fn current(&self) -> Option<Arc<NameIndex>> {
        self.index.read().ok()?.clone()
    }

    /// The index, read now if nobody has yet.
    fn index(&self, app: &app::App) -> Result<Arc<NameIndex>, StoreError> {
        if let Some(i) = self.current() {
            return Ok(i);
        }
        let _turn = self.loading.lock();
        if let Some(i) = self.current() {
            return Ok(i);
        }
        let ledger = app.ledger();
        let mut names: FxHashMap<PersonId, String> = ledger.names()?.into_iter().collect();
        let mut people: Vec<PersonId> = ledger.people()?;
        people.sort();
        let names: Vec<Option<Box<str>>> = people
            .iter()
            .map(|p| names.remove(p).map(String::into_boxed_str))
            .collect();
        let people = people
            .into_iter()
            .zip(&names)
            .map(|(p, n)| {
                let hay = haystack(&p, n.as_deref());
                (p, hay)
            })
            .collect();
        let index = Arc::new(NameIndex {
            people,
            names,
            macs: OnceLock::new(),
        });
        if let Ok(mut slot) = self.index.write() {
            *slot = Some(index.clone());
        }
        Ok(index)
    }

    /// Reads the index ahead of the first search (a server calls this in the background).
    pub fn preload(&self, app: &app::App) {
        let started = std::time::Instant::now();
        match self.index(app) {
            Ok(i) => tracing::info!(
                "names for search read: {} people in {:.1} s",
                i.people.len(),
                started.elapsed().as_secs_f64()
            ),
            Err(e) => tracing::warn!("reading names for search: {e}"),
        }
    }

    /// Reads the names of `people` again (new in the ledger, or written to: a name may have
    /// changed), for search and lists (blocking).
    pub fn add(&self, app: &app::App, people: &[PersonId]) {
        if people.is_empty() || self.current().is_none() {
            // Not read yet: reading it will find them.
            return;
        }
        let names = match app.names_of(people) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("reading the names of new people: {e}");
                vec![None; people.len()]
            }
        };
        if let Ok(mut added) = self.added.write() {
            for (p, n) in people.iter().zip(names) {
                let hay = haystack(p, n.as_deref());
                added.push((p.clone(), hay, n.map(String::into_boxed_str)));
            }
        }
    }

    /// Reads the index again (after others added people this server did not see arrive).
    pub fn reload(&self, app: &app::App) {
        if self.current().is_none() {
            return;
        }
        if let Ok(mut slot) = self.index.write() {
            *slot = None;
        }
        if let Ok(mut added) = self.added.write() {
            added.clear();
        }
        self.preload(app);
    }

    /// Leaves out the people whose tombstones are among `tombstones` (laid under `key`).
    pub fn forget(&self, tombstones: &[(i64, [u8; 32])], key: &[u8; 32]) {
        let mut gone: Vec<PersonId> = Vec::new();
        if let Some(index) = self.current() {
            let macs = index.macs.get_or_init(|| {
                index
                    .people
                    .iter()
                    .enumerate()
                    .map(|(i, (p, _))| (store::tombstone_of(key, p.as_str()), i))
                    .collect()
            });
            gone.extend(
                tombstones
                    .iter()
                    .filter_map(|(_, m)| macs.get(m))
                    .map(|&i| index.people[i].0.clone()),
            );
        }
        if let Ok(added) = self.added.read() {
            for (p, _, _) in added.iter() {
                let mac = store::tombstone_of(key, p.as_str());
                if tombstones.iter().any(|(_, m)| *m == mac) {
                    gone.push(p.clone());
                }
            }
        }
        if let Ok(mut removed) = self.removed.write() {
            removed.extend(gone);
        }
    }

    /// The current names of `people` from the index, once it has been read (`None` before:
    /// the caller reads them from the ledger); forgotten people have none.
    pub fn names_of(&self, people: &[PersonId]) -> Option<Vec<Option<String>>> {
        let index = self.current()?;
        let removed = self.removed.read().ok()?;
        let added = self.added.read().ok()?;
        Some(
            people
                .iter()
                .map(|p| {
                    if removed.contains(p) {
                        return None;
                    }
                    // Read again since the index was: newer.
                    if let Some((_, _, n)) = added.iter().rev().find(|(q, _, _)| q == p) {
                        return n.as_deref().map(str::to_owned);
                    }
                    let i = index.people.binary_search_by(|(q, _)| q.cmp(p)).ok()?;
                    index.names[i].as_deref().map(str::to_owned)
                })
                .collect(),
        )
    }

    /// The people whose id (or, with `names`, name) contains `query`, in id order.
    fn search(
        &self,
        app: &app::App,
        query: &str,
        names: bool,
    ) -> Result<Vec<PersonId>, StoreError> {
        let index = self.index(app)?;
        let removed = self.removed.read().map(|r| r.clone()).unwrap_or_default();
        let added = self.added.read().map(|a| a.clone()).unwrap_or_default();
        let hits = |(p, hay): &(PersonId, Box<str>)| {
            !removed.contains(p)
                && if names {
                    hay.contains(query)
                } else {
                    hay.split('\t').next().is_some_and(|id| id.contains(query))
                }
        };
        let again: FxHashSet<&PersonId> = added.iter().map(|(p, _, _)| p).collect();
        let mut found: Vec<PersonId> = index
            .people
            .iter()
            .filter(|e| !again.contains(&e.0) && hits(e))
            .map(|(p, _)| p.clone())
            .chain(
                added
                    .iter()
                    .filter(|(p, h, _)| hits(&(p.clone(), h.clone())))
                    .map(|(p, _, _)| p.clone()),
            )
            .collect();
        found.sort();
        found.dedup();
        Ok(found)
    }
}

pub struct Snapshot {
    /// The moment lists and charts are as of: the end of the kept readings' day.
    pub as_of: Timestamp,
    /// The kept readings' day (`None` before they were first made).
    pub day: Option<Day>,
    /// People written to since their readings were kept (the server is catching up).
    pub pending: u64,
    /// The kept readings' generation this was read at.
    pub generation: u64,
    pub totals: Totals,
    /// Headline distributions in [`HEADLINES`] order.
    pub dists: Vec<Distribution>,
    /// Largest changes per headline, in [`HEADLINES`] order.
    pub movers: Vec<Movers>,
    pub models: Models,
    /// The scripts in use, the largest [`SCRIPTS_LISTED`] with their masked text.
    pub scripts: Arc<ScriptsOverview>,
    /// The purposes that need consent first, as the ledger said when this was read.
    pub opt_in: OptIn,
    /// The last tombstone (see `store`'s tombstones) this snapshot has taken into account.
    pub tombstones_seen: i64,
    choices: OnceLock<Arc<ChoiceCounts>>,
    spreads: OnceLock<Arc<Vec<Spread>>>,
    pub names: Arc<Names>,
}

/// How a figure that is not a headline (likely still with us, expected value) is spread over
/// everyone who has it: its quartiles, read from the sorted index at three ranks.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub field: &'static str,
    pub people: u64,
    /// The first quartile, the median and the third quartile.
    pub quartiles: [f64; 3],
}

/// The figures the overview shows beside the headlines.
pub const SPREAD_FIELDS: &[&str] = &["loyalty.p_alive", "value.clv"];

impl Snapshot {
    /// The spread of each of [`SPREAD_FIELDS`] that someone has, read the first time it is
    /// asked for (three look-ups in the sorted index per figure) and kept with this snapshot.
    pub fn spreads(&self, app: &app::App) -> Result<Arc<Vec<Spread>>, StoreError> {
        if let Some(s) = self.spreads.get() {
            return Ok(s.clone());
        }
        let store = app.ledger().as_ref();
        let mut out = Vec::new();
        for field in SPREAD_FIELDS {
            let Some(f) = SORTABLE.iter().position(|p| p == field) else {
                continue;
            };
            let n = store.kept_count(Some(f))?;
            if n == 0 {
                continue;
            }
            let mut quartiles = [0.0; 3];
            let mut complete = true;
            for (q, rank) in quartiles.iter_mut().zip([n / 4, n / 2, (3 * n) / 4]) {
                let at = store.kept_order(f, false, rank.min(n - 1) as usize, 1)?;
                let value = store
                    .kept_figures(&at)?
                    .into_iter()
                    .next()
                    .flatten()
                    .and_then(|k| k.fields[f]);
                match value {
                    Some(v) => *q = v,
                    None => complete = false,
                }
            }
            if complete {
                out.push(Spread {
                    field,
                    people: n,
                    quartiles,
                });
            }
        }
        let out = Arc::new(out);
        let _ = self.spreads.set(out.clone());
        Ok(out)
    }

    /// Reads everyone's small figures from the kept readings: distributions, movers, totals,
    /// fits and scripts. `names`: the search index to share (a new one the first time).
    pub fn build(app: &app::App, names: Arc<Names>) -> Result<Snapshot, StoreError> {
        let store = app.ledger().as_ref();
        // Tombstones laid while this is read are applied afterwards (see `AppState`).
        let tombstones_seen = store.latest_tombstone()?;
        let status = store.kept_status()?;
        let day = status.meta.as_ref().map(|m| m.day);
        let dists = store.kept_distributions()?;
        let mut movers = Vec::with_capacity(HEADLINES.len());
        for (h, headline) in HEADLINES.iter().enumerate() {
            let rises = store.kept_movers(h, true, MOVERS)?;
            let falls = store.kept_movers(h, false, MOVERS)?;
            let people: Vec<PersonId> = rises
                .iter()
                .chain(&falls)
                .map(|m| m.person.clone())
                .collect();
            let figures = store.kept_figures(&people)?;
            let field = format!("{}.{}", headline.reading, headline.field);
            let f = SORTABLE.iter().position(|p| *p == field);
            let mover = |(m, fig): (&store::KeptMover, &Option<store::KeptFigures>)| {
                let now = fig.as_ref()?.fields.get(f?).copied().flatten()?;
                Some(Mover {
                    person: m.person.clone(),
                    before: now - m.change,
                    now,
                })
            };
            let (r, fl) = figures.split_at(rises.len());
            movers.push(Movers {
                rises: rises.iter().zip(r).filter_map(mover).collect(),
                falls: falls.iter().zip(fl).filter_map(mover).collect(),
            });
        }
        Ok(Snapshot {
            as_of: day.map_or_else(|| Timestamp::now().day().end(), Day::end),
            day,
            pending: status.pending,
            generation: status.generation,
            totals: store.totals()?,
            dists,
            movers,
            models: app.models()?,
            scripts: Arc::new(store.scripts(SCRIPTS_LISTED)?),
            opt_in: app.opt_in()?,
            tombstones_seen,
            choices: OnceLock::new(),
            spreads: OnceLock::new(),
            names,
        })
    }

    /// What people chose from the menu, counted from the kept choices when first asked for.
    pub fn choices(&self, app: &app::App) -> Result<Arc<ChoiceCounts>, StoreError> {
        if let Some(c) = self.choices.get() {
            return Ok(c.clone());
        }
        let counted = Arc::new(ChoiceCounts::count(app.ledger().kept_choices()?));
        Ok(self.choices.get_or_init(|| counted).clone())
    }

    /// One page of people: those whose id (or, with `names`, name) contains `query`, in the
    /// order of field `sort` (people without it last) or in id order, with their figures.
    /// Returns the page and how many match in all. Without a query the ledger's index gives
    /// the page directly; a search sorts only the people it found.
    pub fn page(
        &self,
        app: &app::App,
        list: &crate::api::ListQuery,
        names: bool,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<app::Listed>, usize), StoreError> {
        let (sort, filters) = (list.sort, &list.filters[..]);
        let query = fold(list.q.trim());
        if query.is_empty() && filters.is_empty() {
            let page = app.list(sort, offset, limit, Some(&self.dists))?;
            return Ok((page.people, page.total as usize));
        }
        // Only people with kept readings: someone forgotten while the names were being read
        // has none any more, and is not found.
        let found = if query.is_empty() {
            None
        } else {
            Some(self.names.search(app, &query, names)?)
        };
        let page = app.list_where(sort, filters, found.as_deref(), offset, limit, &self.dists)?;
        Ok((page.people, page.total as usize))
    }
}
