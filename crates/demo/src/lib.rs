//! A seeded generator of realistic relationship histories, for the demo and benchmarks.
//!
//! `rapport demo` needs a ledger that looks like a real business's: people of many
//! backgrounds, each with their own history of orders, invoices, payments, questions,
//! mistakes and apologies — and every reading spread across its whole range rather than
//! clustered in segments. This crate writes such a ledger as canonical JSON Lines (see
//! `docs/events.md`), deterministically from a seed, person by person, in memory that does
//! not grow with the number of people, fast enough to write millions of events in seconds.
//!
//! The first people are the showcase ([`showcase`]): curated stories that make one reading
//! each unmistakable, so the demo can say where to look.

mod line;
mod person;
mod showcase;
mod time;
mod words;

use std::io::{self, Write};

use domain::Timestamp;

/// Years of history when nothing else is asked for.
pub const DEFAULT_YEARS: u32 = 3;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many people (ids `P-000000` up to `people - 1`).
    pub people: usize,
    /// The same seed always gives byte-identical output.
    pub seed: u64,
    /// The demo's "now": every event lies before it.
    pub end: Timestamp,
    /// Length of the history in years (at least 1 is used).
    pub years: u32,
}

impl Options {
    pub fn new(people: usize, seed: u64, end: Timestamp) -> Options {
        Options {
            people,
            seed,
            end,
            years: DEFAULT_YEARS,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub people: usize,
    pub events: u64,
}

/// Bytes collected before handing them to the writer.
const CHUNK: usize = 1 << 18;

/// Writes every event of every person, person by person, to `out`, one JSON object per line.
pub fn generate(opts: &Options, out: &mut dyn Write) -> io::Result<Stats> {
    let people = opts.people as u64;
    let digits = people.saturating_sub(1).max(1).ilog10() as usize + 1;
    let ctx = person::Ctx {
        seed: opts.seed,
        people,
        width: digits.max(6),
        end: opts.end.unix(),
        span_days: i64::from(opts.years.max(1)) * 365,
    };
    let mut g = person::Gen::new(&ctx);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 16));
    let mut events = 0;
    for idx in 0..people {
        g.person(idx);
        events += g.lines.drain_sorted(&mut buf);
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(Stats {
        people: opts.people,
        events,
    })
}

/// The showcase people: id, and a one-line description of what their card shows.
pub fn showcase() -> &'static [(&'static str, &'static str)] {
    showcase::SHOWCASE
}

/// The demo business's menu: each item with its options, as the generated people choose them.
pub fn menu() -> &'static [(&'static str, &'static [&'static str])] {
    words::MENU
}
