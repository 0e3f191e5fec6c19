//! Loaders for the CDNOW test files, shared by the unit tests of every module.
//!
//! The files are compiled in with `include_str!` so the tests need nothing at
//! run time and the library itself stays free of I/O.

use crate::Summary;

pub const CDNOW_SUMMARY: &str = include_str!("../tests/data/cdnow_customers_summary.csv");
pub const CDNOW_WITH_TRANSACTIONS: &str =
    include_str!("../tests/data/cdnow_customers_summary_with_transactions.csv");
pub const CDNOW_SAMPLE: &str = include_str!("../tests/data/CDNOW_sample.txt");

/// `cdnow_customers_summary.csv` as summaries (weeks).
pub fn cdnow_summary() -> Vec<Summary> {
    let mut rdr = csv::Reader::from_reader(CDNOW_SUMMARY.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            let f = |i: usize| r[i].trim().parse::<f64>().expect("number");
            Summary::new(f(1), f(2), f(3)).expect("valid row")
        })
        .collect()
}

/// `cdnow_customers_summary_with_transactions.csv` with monetary values.
pub fn cdnow_with_monetary() -> Vec<Summary> {
    let mut rdr = csv::Reader::from_reader(CDNOW_WITH_TRANSACTIONS.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            let f = |i: usize| r[i].trim().parse::<f64>().expect("number");
            Summary::with_monetary(f(1), f(2), f(3), f(4)).expect("valid row")
        })
        .collect()
}

/// One raw CDNOW transaction: sample id (the ID of the summary files), day number since 1970-01-01, dollars.
pub struct RawTransaction {
    pub customer: u32,
    pub day: f64,
    pub dollars: f64,
}

/// `CDNOW_sample.txt` parsed (dates turned into days since the Unix epoch).
pub fn cdnow_sample() -> Vec<RawTransaction> {
    CDNOW_SAMPLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let date: i64 = f[2].parse().expect("date");
            let (y, m, d) = (date / 10000, (date / 100) % 100, date % 100);
            RawTransaction {
                customer: f[1].parse().expect("sample id"),
                day: crate::summary::days_from_civil(y, m as u32, d as u32) as f64,
                dollars: f[4].parse().expect("dollars"),
            }
        })
        .collect()
}

pub const DONATIONS: &str = include_str!("../tests/data/donations.csv");
pub const RETENTION: &str = include_str!("../tests/data/fader_hardie_2007.csv");

/// `donations.csv` as `(x, t_x, n, count)` patterns.
pub fn donations() -> Vec<(u32, u32, u32, f64)> {
    let mut rdr = csv::Reader::from_reader(DONATIONS.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            let f = |i: usize| r[i].trim().parse::<u32>().expect("whole number");
            (f(0), f(1), f(2), f64::from(f(3)))
        })
        .collect()
}

/// `fader_hardie_2007.csv`: survivors of 1,000 at the start of years 0..=12,
/// (regular, high end).
pub fn retention() -> (Vec<f64>, Vec<f64>) {
    let mut rdr = csv::Reader::from_reader(RETENTION.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            let f = |i: usize| r[i].trim().parse::<f64>().expect("number");
            (f(1), f(2))
        })
        .unzip()
}

/// About a million people for timing the fits at scale: the CDNOW summaries
/// in days (weeks × 7, rounded), repeated 425 times, the k-th copy observed
/// k mod 30 days longer (a later calibration end), so grouping meets tens of
/// thousands of distinct (x, t_x, T) rows as real data would, not 2,357.
pub fn cdnow_million() -> Vec<Summary> {
    let base = cdnow_summary();
    let mut out = Vec::with_capacity(base.len() * 425);
    for k in 0..425 {
        let extra = f64::from(k % 30);
        for s in &base {
            let recency = (s.recency * 7.0).round();
            let t = (s.t * 7.0).round().max(recency) + extra;
            out.push(Summary::new(s.frequency, recency, t).expect("valid row"));
        }
    }
    out
}

/// Times `f` and prints the elapsed time under `label` (for the `--ignored`
/// scale tests, run with `--release -- --ignored --nocapture`).
pub fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    eprintln!("{label}: {:?}", started.elapsed());
    out
}

/// People whose purchase rates vary (Gamma(r, alpha) with CDNOW's r and alpha) but who all
/// drop out at one rate `mu`, observed 39 to 50 weeks.
pub fn one_dropout_rate(n: usize, mu: f64, seed: u64) -> Vec<Summary> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp, Gamma};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rates = Gamma::new(0.5533, 1.0 / 10.5775).unwrap();
    let life = Exp::new(mu).unwrap();
    (0..n)
        .map(|i| {
            let lambda: f64 = rates.sample(&mut rng);
            let t = 39.0 + (i % 12) as f64;
            let end = life.sample(&mut rng).min(t);
            let (mut at, mut x, mut tx) = (0.0, 0.0, 0.0);
            let gap = Exp::new(lambda).unwrap();
            loop {
                at += gap.sample(&mut rng);
                if at > end {
                    break;
                }
                x += 1.0;
                tx = at;
            }
            Summary::new(x, tx, t).unwrap()
        })
        .collect()
}
