//! Writes a demo ledger to standard output and reports the speed on standard error:
//! `cargo run --release -p rapport-demo --example generate -- 500000 42 > /dev/null`.

use std::io::{BufWriter, Write};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let people = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(42);
    let end = domain::Timestamp::parse("2025-06-30T00:00:00Z").map_err(std::io::Error::other)?;
    let opts = rapport_demo::Options::new(people, seed, end);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let started = Instant::now();
    let stats = rapport_demo::generate(&opts, &mut out)?;
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} people, {} events ({:.1} per person) in {:.2} s: {:.0} events/s",
        stats.people,
        stats.events,
        stats.events as f64 / stats.people as f64,
        secs,
        stats.events as f64 / secs
    );
    Ok(())
}
