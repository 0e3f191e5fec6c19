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

/// The demo business's product catalogue of hidden costs, as CSV text in the format of
/// docs/costs.md: `(factors.csv, products.csv)`. The figures are made up for the demo; every
/// factor's source says so. The gift card, the course and the repair are listed without
/// figures (nothing physical to count), so the demo shows unmatched lines too.
pub fn catalogue_csv() -> (&'static str, &'static str) {
    (
        "factor,unit,source\n\
         co2e_kg,kg CO2e,Made-up figures for the rapport demo (not measured data)\n\
         water_l,litres of water,Made-up figures for the rapport demo (not measured data)\n\
         packaging_g,grams of packaging,Made-up figures for the rapport demo (not measured data)\n",
        "product,name,co2e_kg,water_l,packaging_g\n\
         espresso-beans-1kg,Espresso beans 1 kg,17,140,40\n\
         filter-coffee-500g,Filter coffee 500 g,8.5,70,25\n\
         green-tea-loose-250g,Green tea 250 g,1.8,30,20\n\
         oat-drink-6pack,Oat drink 6 × 1 l,2.7,290,180\n\
         ceramic-mug,Ceramic mug,0.9,4,60\n\
         travel-mug,Travel mug,2.1,,90\n\
         hand-grinder,Hand grinder,6.5,,300\n\
         moka-pot-6cup,Moka pot 6 cups,4.2,,250\n\
         paper-filters-100,Paper filters × 100,0.3,12,15\n\
         descaler,Descaler,0.4,1,35\n\
         cocoa-powder-250g,Cocoa powder 250 g,4.5,4300,30\n\
         biscotti-box,Biscotti box,1.1,160,45\n\
         milk-frother,Milk frother,3.8,,220\n\
         gift-card-25,Gift card,,,\n\
         barista-course,Barista course,,,\n\
         repair-service,Repair service,,,\n",
    )
}

/// The demo business's menu: each item with its options, as the generated people choose them.
pub fn menu() -> &'static [(&'static str, &'static [&'static str])] {
    words::MENU
}
