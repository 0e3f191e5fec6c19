//! Validation and aggregation of summaries before a fit.
//!
//! Likelihood evaluation dominates fitting time, and real data repeats itself:
//! everyone with no repeat purchase who joined on the same day has the same
//! `(x, t_x, T)`. Grouping identical rows with a count, and indexing the
//! distinct x and time values so per-parameter work (log-gamma of r + x,
//! ln(alpha + t)) is done once per distinct value instead of once per person,
//! is what lets a million people fit in about a second.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::{FitError, Prediction, PurchaseModel, Summary};

/// One group of identical `(x, t_x, T)` rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub xi: u32,
    pub txi: u32,
    pub ti: u32,
    pub count: f64,
}

/// Summaries grouped for fast likelihood evaluation.
#[derive(Debug, Clone)]
pub(crate) struct Grouped {
    /// Distinct frequencies.
    pub xs: Vec<f64>,
    /// Distinct time values, recencies and ages together.
    pub times: Vec<f64>,
    pub rows: Vec<Row>,
}

/// Checks every row and the conditions a count model needs to be estimable. The spend
/// (`monetary`) is not checked: a count model never reads it, so a row cannot be refused
/// for it.
pub(crate) fn validate_counts(data: &[Summary], required_repeaters: usize) -> Result<(), FitError> {
    if data.is_empty() {
        return Err(FitError::Empty);
    }
    let mut repeaters = 0usize;
    for (i, s) in data.iter().enumerate() {
        Summary {
            monetary: None,
            ..*s
        }
        .validate(i)?;
        if s.frequency > 0.0 {
            repeaters += 1;
        }
    }
    if repeaters == 0 {
        return Err(FitError::AllZeroFrequency);
    }
    if repeaters < required_repeaters {
        return Err(FitError::TooFewRepeatBuyers {
            found: repeaters,
            required: required_repeaters,
        });
    }
    Ok(())
}

/// A small, fast hasher (FxHash's multiply-rotate) for keys that are already
/// well-mixed f64 bit patterns; std's SipHash would dominate grouping time.
#[derive(Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.hash
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.hash = (self.hash.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// Maps each distinct value to an index, in order of first appearance.
#[derive(Default)]
pub(crate) struct Interner {
    pub values: Vec<f64>,
    map: HashMap<u64, u32, FxBuild>,
}

impl Interner {
    pub fn index(&mut self, v: f64) -> u32 {
        // +0.0 and -0.0 must be the same key.
        let key = if v == 0.0 { 0 } else { v.to_bits() };
        let next = self.values.len() as u32;
        *self.map.entry(key).or_insert_with(|| {
            self.values.push(v);
            next
        })
    }
}

/// Groups `(x, t_x, T)` with counts; rows must already be validated.
pub(crate) fn group(data: &[Summary]) -> Grouped {
    let mut xs = Interner::default();
    let mut times = Interner::default();
    let mut rows: Vec<Row> = Vec::new();
    let mut map: HashMap<(u32, u32, u32), usize, FxBuild> = HashMap::default();
    for s in data {
        let xi = xs.index(s.frequency);
        let txi = times.index(s.recency);
        let ti = times.index(s.t);
        match map.get(&(xi, txi, ti)) {
            Some(&k) => rows[k].count += 1.0,
            None => {
                map.insert((xi, txi, ti), rows.len());
                rows.push(Row {
                    xi,
                    txi,
                    ti,
                    count: 1.0,
                });
            }
        }
    }
    Grouped {
        xs: xs.values,
        times: times.values,
        rows,
    }
}

/// Sums `f(i)` for `i in 0..len`, a fixed-size vector at a time (value and
/// gradient), on all cores when there are enough terms to pay for spawning
/// threads (the likelihood of a million people).
pub(crate) fn par_sum_n<const K: usize, F: Fn(usize) -> [f64; K] + Sync>(
    len: usize,
    f: F,
) -> [f64; K] {
    const PARALLEL_FROM: usize = 20_000;
    let add = |mut a: [f64; K], b: [f64; K]| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        a
    };
    let threads = if len >= PARALLEL_FROM {
        std::thread::available_parallelism()
            .map(|n| n.get().min(8))
            .unwrap_or(1)
    } else {
        1
    };
    if threads <= 1 {
        return (0..len).map(&f).fold([0.0; K], add);
    }
    // Thread k takes every threads-th term from k: grouped rows are sorted by frequency,
    // and a heavy buyer's terms cost more, so contiguous halves would leave one core idle.
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let f = &f;
                scope.spawn(move || (k..len).step_by(threads).map(f).fold([0.0; K], add))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or([f64::NAN; K]))
            .fold([0.0; K], add)
    })
}

/// Applies `f` to every element on two threads when the slice is large.
pub(crate) fn par_map<T: Sync, U: Send + Default + Clone, F: Fn(&T) -> U + Sync>(
    items: &[T],
    f: F,
) -> Vec<U> {
    const PARALLEL_FROM: usize = 20_000;
    let threads = if items.len() >= PARALLEL_FROM {
        std::thread::available_parallelism()
            .map(|n| n.get().min(8))
            .unwrap_or(1)
    } else {
        1
    };
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    // Threads take blocks of items as they come free, so one holding the costly items (a
    // heavy buyer's integrals) does not leave the others idle; each result goes to its item's
    // place, so the output does not depend on who computed what.
    const BLOCK: usize = 64;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out = vec![U::default(); items.len()];
    let done: Vec<Vec<(usize, Vec<U>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (f, next) = (&f, &next);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let start = next.fetch_add(BLOCK, std::sync::atomic::Ordering::Relaxed);
                        if start >= items.len() {
                            break mine;
                        }
                        let end = (start + BLOCK).min(items.len());
                        mine.push((start, items[start..end].iter().map(f).collect()));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a prediction thread panicked"))
            .collect()
    });
    for (start, values) in done.into_iter().flatten() {
        for (k, v) in values.into_iter().enumerate() {
            out[start + k] = v;
        }
    }
    out
}

/// Predictions for every row, computed once per distinct `(x, t_x, T)`.
pub(crate) fn predict_grouped<M: PurchaseModel + Sync>(
    model: &M,
    data: &[Summary],
    horizon: f64,
) -> Vec<Prediction> {
    map_grouped(data, |s| Prediction {
        p_alive: model.p_alive(s),
        expected_purchases: model.expected_purchases(s, horizon),
    })
}

/// `f` of every row, computed once per distinct `(x, t_x, T)` and on all cores: a million
/// people are a few thousand distinct histories.
pub(crate) fn map_grouped<U: Send + Default + Clone, F: Fn(&Summary) -> U + Sync>(
    data: &[Summary],
    f: F,
) -> Vec<U> {
    let each = map_distinct(data, f);
    each.index
        .iter()
        .map(|&k| each.distinct[k as usize].clone())
        .collect()
}

/// A value per person kept once per distinct history: 4 bytes a person and the values of
/// the few thousand distinct histories, where a copy per person would be a million values.
#[derive(Debug, Clone)]
pub struct PerHistory<U> {
    index: Vec<u32>,
    distinct: Vec<U>,
}

impl<U> PerHistory<U> {
    /// Row `i`'s value.
    pub fn get(&self, i: usize) -> &U {
        &self.distinct[self.index[i] as usize]
    }

    /// How many rows (people).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// `f` of every distinct `(x, t_x, T)` among `data`, on all cores, and each row's index.
pub(crate) fn map_distinct<U: Send + Default + Clone, F: Fn(&Summary) -> U + Sync>(
    data: &[Summary],
    f: F,
) -> PerHistory<U> {
    let key = |s: &Summary| {
        let bits = |v: f64| if v == 0.0 { 0 } else { v.to_bits() };
        (bits(s.frequency), bits(s.recency), bits(s.t))
    };
    let mut map: HashMap<(u64, u64, u64), u32, FxBuild> = HashMap::default();
    let mut distinct: Vec<Summary> = Vec::new();
    let index: Vec<u32> = data
        .iter()
        .map(|s| {
            *map.entry(key(s)).or_insert_with(|| {
                distinct.push(*s);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    PerHistory {
        index,
        distinct: par_map(&distinct, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_model_does_not_refuse_a_row_for_a_spend_it_never_reads() {
        let row = |x: f64, m: f64| Summary {
            frequency: x,
            recency: x,
            t: 10.0,
            monetary: Some(m),
        };
        let data = [row(1.0, -15.0), row(2.0, 5.0), row(0.0, 0.0)];
        assert_eq!(validate_counts(&data, 1), Ok(()));
        let bad = [
            row(1.0, 5.0),
            Summary {
                recency: 11.0,
                ..row(1.0, 5.0)
            },
        ];
        assert!(matches!(
            validate_counts(&bad, 1),
            Err(FitError::RecencyExceedsT { index: 1, .. })
        ));
    }
}
