//! Times the two halves of `rapport people` on an existing ledger: the streaming pass that
//! reads every event and computes each person's readings, and the finish that fills in
//! percentiles. `cargo run --release -p rapport-store-sqlite --example readings_timing --
//! rapport.db 2026-11-01`
//!
//! The whole command is timed by `bench/ledger.sh`; this splits the figure when tuning.

use std::time::Instant;

use domain::readings::{Assessor, Models};
use rapport_store_sqlite::SqliteStore;
use store::{MasterKey, Scripts, Store};

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
    let people = store.people()?;
    let models = Models::default();
    let scripted = store.scripted()?;
    let assessor = Assessor::new(people.len(), as_of, &models, &scripted);
    store.visit_events(&|rank, events| assessor.person(rank, events))?;
    let pass = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let readings = assessor.finish(&people);
    let finish = t.elapsed().as_secs_f64();
    println!(
        "{} people: read and assessed in {pass:.2} s, percentiles in {finish:.2} s",
        readings.len()
    );
    Ok(())
}
