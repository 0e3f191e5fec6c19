//! Everyone's readings at once: the people list of the command line, `--json` for other
//! tools, and what a card is ranked against when no server keeps everyone's figures.

use domain::readings::{Assessor, Readings};
use domain::{PersonId, Timestamp};
use store::StoreError;

use crate::App;

/// Everyone's readings as of a moment: `readings[i]` are those of `people[i]`.
pub struct Assessed {
    pub people: Vec<PersonId>,
    pub readings: Vec<Readings>,
}

impl Assessed {
    /// The readings of `person`, if they are in the ledger.
    pub fn of(&self, person: &PersonId) -> Option<&Readings> {
        let i = self.people.iter().position(|p| p == person)?;
        self.readings.get(i)
    }
}

impl App {
    /// Computes everyone's readings, trends and percentiles as of `as_of` — which answers are
    /// scripted from the index of scripts, which purposes are opt-in from the ledger's
    /// settings, loyalty and value from the latest stored fits (if any). One pass, person by
    /// person: no person's events are kept afterwards.
    pub fn assess(&self, as_of: Timestamp) -> Result<Assessed, StoreError> {
        let models = self.models()?;
        let people = self.ledger.people()?;
        let scripted = self.ledger.scripted()?;
        let opt_in = self.opt_in()?;
        let assessor = Assessor::new(people.len(), as_of, &models, &scripted).with_opt_in(&opt_in);
        self.ledger
            .visit_events(&|rank, events| assessor.person(rank, events))?;
        let readings = assessor.finish(&people);
        Ok(Assessed { people, readings })
    }
}

/// One person in a list, from their kept readings: every sortable field of
/// [`domain::readings::SORTABLE`], percentiles filled in from everyone's distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub person: PersonId,
    pub fields: [Option<f64>; domain::readings::SORTABLE.len()],
}

/// One page of a list of people, as of the end of the kept readings' day.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub people: Vec<Listed>,
    /// How many people there are in all.
    pub total: u64,
}

/// The figures of `people` from their kept figures, with percentiles against `dists`.
pub fn listed(
    people: Vec<PersonId>,
    figures: Vec<Option<store::KeptFigures>>,
    dists: &[domain::readings::Distribution],
) -> Vec<Listed> {
    use domain::readings::kept::headline_fields;
    use domain::readings::{HEADLINES, SORTABLE};
    let headlines = headline_fields();
    people
        .into_iter()
        .zip(figures)
        .map(|(person, f)| {
            let mut fields = f.map_or([None; SORTABLE.len()], |f| f.fields);
            for (h, headline) in HEADLINES.iter().enumerate() {
                let slot = format!("{}.percentile", headline.reading);
                let Some(p) = SORTABLE.iter().position(|s| *s == slot) else {
                    continue;
                };
                fields[p] = fields
                    .get(headlines[h])
                    .copied()
                    .flatten()
                    .and_then(|v| dists.get(h)?.percentile(v));
            }
            Listed { person, fields }
        })
        .collect()
}

impl App {
    /// A page of people from the kept readings: by field `sort` of
    /// [`domain::readings::SORTABLE`] (people without it last, in id order) or in id order,
    /// through the index — never reading everyone. `dists`: everyone's distributions, when
    /// the caller keeps them; otherwise read here.
    pub fn list(
        &self,
        sort: Option<(usize, bool)>,
        offset: usize,
        limit: usize,
        dists: Option<&[domain::readings::Distribution]>,
    ) -> Result<Page, StoreError> {
        let ledger = &self.ledger;
        let total = ledger.kept_count(None)?;
        let people = match sort {
            None => ledger.kept_people(None, offset, limit)?,
            Some((f, desc)) => {
                let with = ledger.kept_count(Some(f))? as usize;
                let mut people = if offset < with {
                    ledger.kept_order(f, desc, offset, limit)?
                } else {
                    Vec::new()
                };
                if people.len() < limit {
                    let from = offset.saturating_sub(with);
                    people.extend(ledger.kept_people(Some(f), from, limit - people.len())?);
                }
                people
            }
        };
        let figures = ledger.kept_figures(&people)?;
        let read;
        let dists = match dists {
            Some(d) => d,
            None => {
                read = ledger.kept_distributions()?;
                &read
            }
        };
        Ok(Page {
            people: listed(people, figures, dists),
            total,
        })
    }
}

impl App {
    /// The current name of each of `people` (the latest identification that gives one): what
    /// one page of a list shows, without opening everyone's.
    pub fn names_of(&self, people: &[PersonId]) -> Result<Vec<Option<String>>, StoreError> {
        people
            .iter()
            .map(|p| {
                Ok(self.ledger.history(p)?.and_then(|h| {
                    h.iter()
                        .filter(|e| e.body.kind() == domain::Kind::PersonIdentified)
                        .filter_map(|e| e.personal.as_ref()?.name.clone())
                        .next_back()
                }))
            })
            .collect()
    }
}

/// A condition on one figure of a list: its field of [`domain::readings::SORTABLE`] lies
/// between `min` and `max` (both included; either may be open). Someone without the figure
/// does not meet it — a gap is not a zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub field: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Range {
    /// Reads `FIELD=MIN..MAX` (the API's `where`, the command line's `--where`): either end
    /// may be left open, and `FIELD=..` means "has the figure at all"; `FIELD=V` is exactly V.
    /// Shares and chances go from 0 to 1. The error says what is wrong, in words.
    pub fn parse(text: &str) -> Result<Range, String> {
        const HINT: &str = "give it as FIELD=MIN..MAX, e.g. punctuality.on_time_share=..0.5";
        let (field, bounds) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: {HINT}"))?;
        let index = domain::readings::SORTABLE
            .iter()
            .position(|f| *f == field)
            .ok_or_else(|| {
                format!(
                    "{field:?} is not a reading's field; fields: {}",
                    domain::readings::SORTABLE.join(", ")
                )
            })?;
        let (lo, hi) = bounds
            .split_once("..")
            .ok_or_else(|| format!("{text:?}: {HINT}"))?;
        let number = |v: &str| -> Result<Option<f64>, String> {
            if v.is_empty() {
                return Ok(None);
            }
            // A bound too large for a number is still a bound: nobody is beyond it.
            plain_number(v)
                .then(|| v.parse::<f64>().ok())
                .flatten()
                .map(Some)
                .ok_or_else(|| format!("{v:?} is not a number such as 2, 0.5 or -1e3; {HINT}"))
        };
        Ok(Range {
            field: index,
            min: number(lo)?,
            max: number(hi)?,
        })
    }

    /// Whether `fields` (a [`Listed`]'s) meet the condition.
    pub fn holds(&self, fields: &[Option<f64>]) -> bool {
        match fields.get(self.field).copied().flatten() {
            None => false,
            Some(v) => self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m),
        }
    }
}

/// Whether `v` is a number as written plainly: an optional minus, digits with an optional
/// fraction (or a fraction alone, `.5`), an optional exponent — no `+`, `inf`, `NaN` or
/// spaces (the API's schema says the same with a pattern).
fn plain_number(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    let (mantissa, exponent) = match v.find(['e', 'E']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => (int.is_empty() || digits(int)) && digits(frac),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// A filter a list offers by name: what an agent asks for every day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// Its name in URLs and on the command line (`filter=overdue`).
    pub name: &'static str,
    /// What it shows, in words.
    pub words: &'static str,
    /// The field of [`domain::readings::SORTABLE`] it bounds, and how.
    pub field: &'static str,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The filters a list offers by name.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "overdue",
        words: "With overdue invoices",
        field: "punctuality.open_overdue",
        min: Some(1.0),
        max: None,
    },
    Preset {
        name: "leaving",
        words: "Likely to leave (less than an even chance they still buy)",
        field: "loyalty.p_alive",
        min: None,
        max: Some(0.5),
    },
    Preset {
        name: "unanswered",
        words: "With unanswered questions",
        field: "heard.open_questions",
        min: Some(1.0),
        max: None,
    },
];

/// The condition of the preset named `name`, if there is one.
pub fn preset(name: &str) -> Option<Range> {
    let p = PRESETS.iter().find(|p| p.name == name)?;
    Some(Range {
        field: domain::readings::SORTABLE
            .iter()
            .position(|s| *s == p.field)?,
        min: p.min,
        max: p.max,
    })
}

/// Orders `keyed` by figure (people without it last, ties and gaps by id), high to low with
/// `desc`; in id order without a sort.
pub fn order(keyed: &mut [(Option<f64>, PersonId)], sorted: bool, desc: bool) {
    if !sorted {
        keyed.sort_by(|a, b| a.1.cmp(&b.1));
        return;
    }
    keyed.sort_by(|(a, p), (b, q)| match (a, b) {
        (Some(x), Some(y)) => {
            let o = x.total_cmp(y).then(p.cmp(q));
            if desc { o.reverse() } else { o }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => p.cmp(q),
    });
}

impl App {
    /// A page of the people who meet every one of `filters`, sorted as [`App::list`] sorts.
    /// `among`: only these people (a search's hits); otherwise everyone with kept readings.
    /// Unlike an unfiltered list this reads every candidate's kept figures (in batches, keeping
    /// only the sort key of those who match), so its cost grows with the ledger.
    pub fn list_where(
        &self,
        sort: Option<(usize, bool)>,
        filters: &[Range],
        among: Option<&[PersonId]>,
        offset: usize,
        limit: usize,
        dists: &[domain::readings::Distribution],
    ) -> Result<Page, StoreError> {
        const BATCH: usize = 5_000;
        let ledger = &self.ledger;
        let mut keyed: Vec<(Option<f64>, PersonId)> = Vec::new();
        let mut keep = |people: Vec<PersonId>, figures: Vec<Option<store::KeptFigures>>| {
            let had: Vec<bool> = figures.iter().map(Option::is_some).collect();
            for (l, had) in listed(people, figures, dists).into_iter().zip(had) {
                if had && filters.iter().all(|f| f.holds(&l.fields)) {
                    keyed.push((sort.and_then(|(f, _)| l.fields[f]), l.person));
                }
            }
        };
        match among {
            Some(people) => {
                for chunk in people.chunks(BATCH) {
                    keep(chunk.to_vec(), ledger.kept_figures(chunk)?);
                }
            }
            None => {
                let mut after: Option<PersonId> = None;
                loop {
                    let rows = ledger.kept_after(after.as_ref(), BATCH)?;
                    let Some(last) = rows.last() else { break };
                    after = Some(last.0.clone());
                    let (people, figures): (Vec<_>, Vec<_>) =
                        rows.into_iter().map(|(p, f)| (p, Some(f))).unzip();
                    keep(people, figures);
                }
            }
        }
        let total = keyed.len() as u64;
        order(&mut keyed, sort.is_some(), sort.is_some_and(|(_, d)| d));
        let shown: Vec<PersonId> = keyed
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, p)| p)
            .collect();
        let figures = ledger.kept_figures(&shown)?;
        Ok(Page {
            people: listed(shown, figures, dists),
            total,
        })
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    #[test]
    fn a_range_holds_within_its_bounds_and_never_for_a_gap() {
        let r = Range {
            field: 1,
            min: Some(0.5),
            max: None,
        };
        assert!(r.holds(&[None, Some(0.5)]));
        assert!(!r.holds(&[None, Some(0.49)]));
        assert!(!r.holds(&[Some(1.0), None]), "a gap is not a match");
    }

    #[test]
    fn a_range_is_read_from_field_min_max_with_open_ends() {
        let f = |s: &str| Range::parse(s);
        let on_time = domain::readings::SORTABLE
            .iter()
            .position(|x| *x == "punctuality.on_time_share")
            .unwrap();
        assert_eq!(
            f("punctuality.on_time_share=..0.5").unwrap(),
            Range {
                field: on_time,
                min: None,
                max: Some(0.5)
            }
        );
        assert_eq!(f("punctuality.on_time_share=0.2..").unwrap().min, Some(0.2));
        assert!(
            f("punctuality.on_time_share=1").is_err(),
            "a range has its .."
        );
        assert!(f("punctuality.on_time_share=+1..").is_err());
        assert!(f("punctuality.on_time_share=inf..").is_err());
        assert!(f(" punctuality.on_time_share=1..").is_err());
        assert_eq!(
            f("punctuality.on_time_share=-.5..1e-3").unwrap().max,
            Some(0.001)
        );
        let any = f("punctuality.on_time_share=..").unwrap();
        assert!(any.holds(&{
            let mut v = [None; domain::readings::SORTABLE.len()];
            v[on_time] = Some(0.0);
            v
        }));
        assert!(f("punctuality.on_time_share=1e999..").is_ok());
        assert!(
            f("punctuality.on_time_share")
                .unwrap_err()
                .contains("FIELD=MIN..MAX")
        );
        assert!(
            f("nothing=1..")
                .unwrap_err()
                .contains("punctuality.on_time_share")
        );
        assert!(
            f("punctuality.on_time_share=lots..")
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn every_preset_names_a_sortable_field() {
        for p in PRESETS {
            assert!(preset(p.name).is_some(), "{}", p.name);
        }
        assert!(preset("rich").is_none());
    }
}
