//! Kept readings, the application's side: bringing them up to date ([`App::keep_up`]) and
//! checking them against a full recomputation ([`App::check_kept`]).
//!
//! The catch-up recomputes, from their own events, only
//! - the people written since their readings were kept (imports mark them),
//! - the people whose day of change has come (time moves some readings by itself),
//! - the people whose scripted answers changed (a script reached its sixth person, or lost
//!   it to a forgetting),
//! - and, after those, the people who referred anyone whose latest order or invoice changed
//!   (their `referrals_active`), and everyone who referred anybody among those recomputed.
//!
//! Everyone is recomputed only when what all readings depend on changed: a new model fit, the
//! opt-in purposes, or a first open of a ledger that had no kept readings. The rules are
//! written down in docs/readings.md ("Kept readings").

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use domain::readings::kept::Kept;
use domain::readings::{Models, OptIn, Others, Recorded, sort_in_time};
use domain::scripts::Scripted;
use domain::{Day, PersonId, Timestamp};
use store::{KeptMeta, StoreError};

use crate::{App, AppError};

/// Why everyone is recomputed when an operator asks.
const ASKED: &str = "asked for";

/// Up to how many recomputed people a catch-up names in its report.
pub const FEW: usize = 1_000;

/// How many people are written per transaction.
const CHUNK: usize = 10_000;
/// Above this share of the ledger, the people to recompute are read in one pass over
/// everyone's events rather than one by one.
const SCAN_SHARE: f64 = 0.05;

/// The environment variable that names the day readings are kept for instead of today
/// (`YYYY-MM-DD`): for benchmarks and tests that simulate days passing. Every face reads it
/// through [`today`].
pub const TODAY_ENV: &str = "RAPPORT_TODAY";

/// The reading day: today (UTC), or the day [`TODAY_ENV`] names.
pub fn today() -> Result<Day, AppError> {
    match std::env::var(TODAY_ENV) {
        Ok(day) if !day.trim().is_empty() => {
            Day::parse(&day).map_err(|e| AppError::invalid(TODAY_ENV, e.to_string()))
        }
        _ => Ok(Timestamp::now().day()),
    }
}

/// What a catch-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReport {
    /// The reading day the kept readings are now as of.
    pub day: Day,
    /// People recomputed (dependants included).
    pub recomputed: usize,
    /// Whether everyone was recomputed, and why.
    pub everyone: Option<&'static str>,
    /// The people recomputed in their own right (written to, or moved by the day), when
    /// fewer than [`FEW`]: a face holding names for search reads theirs again (a name may be
    /// new); with more, it reads every name again.
    pub added: Vec<PersonId>,
}

/// When a referred person last ordered or was invoiced, as kept.
type LastPurchase = dyn Fn(&PersonId) -> Option<Timestamp> + Sync;

/// Takes each chunk of recomputed kept readings (`None`: the person is no longer there).
type Writer<'w> = dyn FnMut(&[(PersonId, Option<Kept>)]) -> Result<(), StoreError> + 'w;

/// What a reading of a person needs from the rest of the ledger while kept readings are made.
struct Context<'a> {
    scripted: &'a Scripted,
    opt_in: &'a OptIn,
    /// When each referred person last ordered or was invoiced; `None` looks nobody up.
    last: Option<&'a LastPurchase>,
}

impl Others for Context<'_> {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        self.last.and_then(|f| f(person))
    }
    fn scripted(&self, answer: i64) -> bool {
        self.scripted.contains(answer)
    }
    fn opt_in(&self) -> &OptIn {
        self.opt_in
    }
}

/// The fingerprint of what every reading depends on besides the events.
fn inputs(models: &Models, opt_in: &OptIn) -> String {
    let purchase = models
        .purchase
        .as_ref()
        .map(|(p, u, i)| format!("{p:?}/{u:?}/{}", i.fitted_at.unix()));
    let spend = models
        .spend
        .as_ref()
        .map(|(p, i)| format!("{p:?}/{}", i.fitted_at.unix()));
    let retention: Vec<String> = models
        .retention
        .iter()
        .map(|f| format!("{:?}/{:?}/{}", f.period, f.params, f.info.fitted_at.unix()))
        .collect();
    // Said only when there is one, so a ledger without contracts keeps its fingerprint.
    let retention = if retention.is_empty() {
        String::new()
    } else {
        format!("retention={retention:?};")
    };
    format!("purchase={purchase:?};spend={spend:?};{retention}opt-in={opt_in}")
}

impl App {
    /// Brings the kept readings to the end of `day` (today, for every face): recomputes the
    /// people who need it and no one else. Waits for another writer as `waiting` says;
    /// `progress(done, total)` follows a long catch-up. Cheap when nothing changed.
    pub fn keep_up(
        &self,
        day: Day,
        waiting: &mut dyn FnMut(&str) -> bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<KeptReport, AppError> {
        self.keep_up_with(day, false, waiting, progress)
    }

    /// [`App::keep_up`], recomputing everyone when `everyone` (an operator's choice after
    /// `rapport check` found a difference).
    pub fn keep_up_with(
        &self,
        day: Day,
        everyone: bool,
        waiting: &mut dyn FnMut(&str) -> bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<KeptReport, AppError> {
        let models = self.models()?;
        let opt_in = self.opt_in()?;
        let inputs = inputs(&models, &opt_in);
        let status = self.ledger.kept_status()?;
        let up_to_date = |s: &store::KeptStatus| {
            s.pending == 0
                && !s.scripts_changed
                && s.meta
                    .as_ref()
                    .is_some_and(|m| m.day == day && m.inputs == inputs)
        };
        if up_to_date(&status) && !everyone {
            return Ok(KeptReport {
                day,
                recomputed: 0,
                everyone: None,
                added: Vec::new(),
            });
        }
        let mut update = self.ledger.kept_update(waiting)?;
        // Another process may have caught up while this one waited.
        let status = self.ledger.kept_status()?;
        if up_to_date(&status) && !everyone {
            return Ok(KeptReport {
                day,
                recomputed: 0,
                everyone: None,
                added: Vec::new(),
            });
        }
        let everyone = match &status.meta {
            _ if everyone => Some(ASKED),
            None => Some("the ledger had no kept readings yet"),
            Some(m) if m.inputs != inputs => Some("the model fits or the opt-in purposes changed"),
            Some(m) if m.day > day => Some("the reading day went back"),
            Some(_) => None,
        };
        let mut set: BTreeSet<PersonId> = BTreeSet::new();
        if everyone.is_some() {
            set.extend(update.everyone()?);
            if everyone == Some(ASKED) {
                // A repair: whatever is kept is built anew, not compared with.
                update.clear()?;
            }
        } else {
            set.extend(update.stale(day)?);
            if status.scripts_changed {
                set.extend(update.scripted_differs(day)?);
            }
        }
        let people: Vec<PersonId> = set.into_iter().collect();
        let total = people.len() as u64;
        progress(0, total);
        // First the people themselves, knowing the people they referred as kept; then those
        // who referred anyone whose latest purchase changed in the first step.
        let ledger = self.ledger.clone();
        let cache: Mutex<HashMap<PersonId, Option<Timestamp>>> = Mutex::new(HashMap::new());
        let last = move |p: &PersonId| -> Option<Timestamp> {
            if let Ok(c) = cache.lock()
                && let Some(t) = c.get(p)
            {
                return *t;
            }
            let t = ledger
                .kept_last_transactions(std::slice::from_ref(p))
                .ok()
                .and_then(|v| v.into_iter().next().flatten());
            if let Ok(mut c) = cache.lock() {
                c.insert(p.clone(), t);
            }
            t
        };
        let mut changed: Vec<PersonId> = Vec::new();
        let mut added: Vec<PersonId> = Vec::new();
        let done = std::sync::atomic::AtomicU64::new(0);
        self.recompute(&people, day, &models, &opt_in, Some(&last), &mut |rows| {
            let ids: Vec<PersonId> = rows.iter().map(|(p, _)| p.clone()).collect();
            let before = self.ledger.kept_last_transactions(&ids)?;
            if total as usize <= FEW {
                added.extend(
                    rows.iter()
                        .filter(|(_, k)| k.is_some())
                        .map(|(p, _)| p.clone()),
                );
            }
            for ((p, k), old) in rows.iter().zip(before) {
                let now = k.as_ref().and_then(|k| k.last_transaction);
                if now != old || k.is_none() {
                    changed.push(p.clone());
                }
            }
            update.write(rows)?;
            let n = done.fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
            progress(n + rows.len() as u64, total);
            Ok(())
        })?;
        // Then those whose `referrals_active` may have moved (with lookups afresh: the cache
        // holds what was kept before the first step).
        let mut referrers: BTreeSet<PersonId> = BTreeSet::new();
        for chunk in changed.chunks(10_000) {
            referrers.extend(update.referrers(chunk)?);
        }
        let referrers: Vec<PersonId> = referrers.into_iter().collect();
        let ledger = self.ledger.clone();
        let last = move |p: &PersonId| -> Option<Timestamp> {
            ledger
                .kept_last_transactions(std::slice::from_ref(p))
                .ok()
                .and_then(|v| v.into_iter().next().flatten())
        };
        self.recompute(
            &referrers,
            day,
            &models,
            &opt_in,
            Some(&last),
            &mut |rows| {
                update.write(rows)?;
                Ok(())
            },
        )?;
        update.finish(&KeptMeta { day, inputs })?;
        Ok(KeptReport {
            day,
            recomputed: people.len() + referrers.len(),
            everyone,
            added,
        })
    }

    /// The kept readings of `people` as of the end of `day`, handed to `write` a chunk at a
    /// time (`None` for people no longer in the ledger).
    fn recompute(
        &self,
        people: &[PersonId],
        day: Day,
        models: &Models,
        opt_in: &OptIn,
        last: Option<&LastPurchase>,
        write: &mut Writer<'_>,
    ) -> Result<(), StoreError> {
        if people.is_empty() {
            return Ok(());
        }
        let totals = self.ledger.totals()?;
        if self.scan_always
            || (people.len() as f64 > totals.people as f64 * SCAN_SHARE && people.len() > CHUNK)
        {
            return self.recompute_scanning(people, day, models, opt_in, last, write);
        }
        for chunk in people.chunks(CHUNK) {
            let scripted = self.ledger.scripted_of(chunk)?;
            let others = Context {
                scripted: &scripted,
                opt_in,
                last,
            };
            let mut rows = Vec::with_capacity(chunk.len());
            for p in chunk {
                let kept = self.ledger.events_of(p)?.map(|mut events| {
                    sort_in_time(&mut events);
                    Kept::compute(&events, day, models, &others)
                });
                rows.push((p.clone(), kept));
            }
            write(&rows)?;
        }
        Ok(())
    }

    /// [`App::recompute`] in one pass over everyone's events, for many people at once (the
    /// first time, after a new fit, on a day that moves many): computed on every core while
    /// written in chunks.
    fn recompute_scanning(
        &self,
        people: &[PersonId],
        day: Day,
        models: &Models,
        opt_in: &OptIn,
        last: Option<&LastPurchase>,
        write: &mut Writer<'_>,
    ) -> Result<(), StoreError> {
        let ledger_people = self.ledger.people()?;
        let wanted: std::collections::HashSet<&str> = people.iter().map(PersonId::as_str).collect();
        let pick: Vec<bool> = ledger_people
            .iter()
            .map(|p| wanted.contains(p.as_str()))
            .collect();
        let scripted = self.ledger.scripted()?;
        let others = Context {
            scripted: &scripted,
            opt_in,
            last,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Kept)>(4 * CHUNK);
        let scanned = std::thread::scope(|scope| {
            let scan = scope.spawn(|| {
                let tx = tx;
                self.ledger.visit_events(&|rank, events: &[Recorded]| {
                    if pick.get(rank).copied().unwrap_or(false) {
                        let k = Kept::compute(events, day, models, &others);
                        let _ = tx.send((rank, k));
                    }
                })
            });
            let mut rows: Vec<(PersonId, Option<Kept>)> = Vec::with_capacity(CHUNK);
            let mut failed = None;
            for (rank, k) in rx {
                if failed.is_some() {
                    continue;
                }
                rows.push((ledger_people[rank].clone(), Some(k)));
                if rows.len() == CHUNK {
                    if let Err(e) = write(&rows) {
                        failed = Some(e);
                    }
                    rows.clear();
                }
            }
            let scanned = scan.join().unwrap_or_else(|_| {
                Err(StoreError::Corrupt {
                    message: "the scan for kept readings failed".into(),
                })
            });
            if let Some(e) = failed {
                return Err(e);
            }
            if !rows.is_empty() {
                write(&rows)?;
            }
            scanned
        });
        scanned?;
        // Kept readings of people no longer in the ledger go.
        let held: std::collections::HashSet<&str> =
            ledger_people.iter().map(PersonId::as_str).collect();
        let gone: Vec<(PersonId, Option<Kept>)> = people
            .iter()
            .filter(|p| !held.contains(p.as_str()))
            .map(|p| (p.clone(), None))
            .collect();
        for chunk in gone.chunks(CHUNK) {
            write(chunk)?;
        }
        Ok(())
    }
}

/// One way the kept readings differ from a full recomputation.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The person, or `None` for everyone's figures (a distribution).
    pub person: Option<PersonId>,
    /// What differs, in words: the field, and what was kept and recomputed.
    pub what: String,
}

/// What [`App::check_kept`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub day: Day,
    pub people: usize,
    pub differences: Vec<Difference>,
}

fn shown(v: Option<f64>) -> String {
    v.map_or_else(|| "nothing".to_owned(), |v| v.to_string())
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x == 0.0 && y == 0.0),
        _ => false,
    }
}

impl App {
    /// Recomputes everyone's readings from the events, the way `--as-of` does (not the way
    /// kept readings are made), and compares them with what is kept, to the last digit:
    /// every person's fields and 30-day-old headlines, and every headline's distribution.
    /// What an operator runs after an upgrade; the property tests run it after every step.
    pub fn check_kept(&self) -> Result<CheckReport, AppError> {
        use domain::readings::kept::{MOVER_DAYS, is_percentile};
        use domain::readings::{HEADLINES, SORTABLE, distributions};
        let status = self.ledger.kept_status()?;
        let Some(meta) = status.meta else {
            return Ok(CheckReport {
                day: Timestamp::now().day(),
                people: 0,
                differences: vec![Difference {
                    person: None,
                    what: "the ledger has no kept readings yet".into(),
                }],
            });
        };
        let day = meta.day;
        let mut differences = Vec::new();
        if status.pending > 0 {
            differences.push(Difference {
                person: None,
                what: format!(
                    "{} people were written since their readings were kept",
                    status.pending
                ),
            });
        }
        let now = self.assess(day.end())?;
        let then_day = Day::from_days(day.days_since_epoch() - MOVER_DAYS as i32);
        let then = self.assess(then_day.end())?;
        for (i, chunk) in now.people.chunks(CHUNK).enumerate() {
            let kept = self.ledger.kept_figures(chunk)?;
            for (j, (person, kept)) in chunk.iter().zip(kept).enumerate() {
                let at = i * CHUNK + j;
                let fields = now.readings[at].fields();
                let Some(kept) = kept else {
                    differences.push(Difference {
                        person: Some(person.clone()),
                        what: "has no kept readings".into(),
                    });
                    continue;
                };
                for (f, name) in SORTABLE.iter().enumerate() {
                    if is_percentile(f) || same(kept.fields[f], fields[f]) {
                        continue;
                    }
                    differences.push(Difference {
                        person: Some(person.clone()),
                        what: format!(
                            "{name}: kept {}, recomputed {}",
                            shown(kept.fields[f]),
                            shown(fields[f])
                        ),
                    });
                }
                for (h, headline) in HEADLINES.iter().enumerate() {
                    let recomputed = then.readings[at].headline(headline.reading);
                    if !same(kept.before[h], recomputed) {
                        differences.push(Difference {
                            person: Some(person.clone()),
                            what: format!(
                                "{}.{} {MOVER_DAYS} days earlier: kept {}, recomputed {}",
                                headline.reading,
                                headline.field,
                                shown(kept.before[h]),
                                shown(recomputed)
                            ),
                        });
                    }
                }
            }
        }
        let kept = self.ledger.kept_distributions()?;
        let full = distributions(now.readings.iter());
        for ((h, k), f) in HEADLINES.iter().zip(&kept).zip(&full) {
            if k != f {
                differences.push(Difference {
                    person: None,
                    what: format!(
                        "everyone's {}.{}: kept for {} people, recomputed for {}",
                        h.reading,
                        h.field,
                        k.len(),
                        f.len()
                    ),
                });
            }
        }
        Ok(CheckReport {
            day,
            people: now.people.len(),
            differences,
        })
    }
}
