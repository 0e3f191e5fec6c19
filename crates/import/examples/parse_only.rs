//! Measures how fast JSON Lines are read and validated, without a ledger:
//! `cargo run --release -p rapport-import --example parse_only -- events.jsonl`.

use std::time::Instant;

struct Count(u64, u64);

impl rapport_import::Sink for Count {
    fn push(
        &mut self,
        _: u64,
        _: domain::NewEvent,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0 += 1;
        Ok(())
    }
    fn reject(
        &mut self,
        _: rapport_import::RowError,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.1 += 1;
        Ok(())
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("a JSON Lines file");
    let t = Instant::now();
    let mut c = Count(0, 0);
    rapport_import::read_file(path.as_ref(), &rapport_import::Format::JsonLines, &mut c)
        .expect("readable");
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} valid, {} rejected in {s:.2} s: {:.0} events/s",
        c.0,
        c.1,
        c.0 as f64 / s
    );
}
