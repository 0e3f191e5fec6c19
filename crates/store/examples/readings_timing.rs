//! Times the two halves of `rapport people` on an existing ledger: loading every event, and
//! computing everyone's readings. `cargo run --release -p rapport-store --example
//! readings_timing -- rapport.db 2026-11-01`
//!
//! The whole command is timed by `bench/ledger.sh`; this splits the figure when tuning.

use std::time::Instant;

use rapport_store::{MasterKey, SqliteStore, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .ok_or("usage: readings_timing LEDGER [AS-OF-DAY]")?;
    let as_of = match args.next() {
        Some(d) => domain::Day::parse(&d)?.end(),
        None => domain::Timestamp::now(),
    };
    let store = SqliteStore::open(db.as_ref(), MasterKey::locate(db.as_ref())?)?;
    let t = Instant::now();
    let pop = store.population()?;
    let load = t.elapsed().as_secs_f64();
    let events: usize = pop.events.iter().map(Vec::len).sum();
    let t = Instant::now();
    let readings = domain::readings::assess_all(&pop.people, &pop.events, as_of);
    let compute = t.elapsed().as_secs_f64();
    println!(
        "{} people, {events} events: load {load:.2} s, readings {compute:.2} s ({} readings)",
        pop.people.len(),
        readings.len()
    );
    Ok(())
}
