//! The import and readings benchmark behind `bench/postgres.sh`: the same generated events
//! into a SQLite and a PostgreSQL ledger, as `rapport import` imports them (the JSON Lines
//! reader on a second thread, personal fields sealed there, the ledger writing on this one),
//! and every reading for everyone computed from each.
//!
//! ```sh
//! import_bench generate PEOPLE events.jsonl          # demo generator, seed 1
//! import_bench import LEDGER events.jsonl            # LEDGER: a file path or postgres://…
//! import_bench append LEDGER more.jsonl              # into the ledger made by `import`
//! import_bench readings LEDGER 2026-11-01            # visit_events + every reading
//! ```
//!
//! A new ledger's master key is written to `ledger-bench.key` in the working folder and read
//! from there by `readings`.

use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use domain::readings::{Assessor, Models};
use rapport_store_postgres::PostgresStore;
use store::{Ledger, MasterKey, SealAhead, Sealed};
use store_sqlite::SqliteStore;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const KEY_FILE: &str = "ledger-bench.key";

fn create(ledger: &str, key: MasterKey) -> Result<Box<dyn Ledger>, BoxError> {
    Ok(if ledger.starts_with("postgres") {
        Box::new(PostgresStore::create(ledger, key)?)
    } else {
        Box::new(SqliteStore::create(Path::new(ledger), key)?)
    })
}

fn open(ledger: &str, key: MasterKey) -> Result<Box<dyn Ledger>, BoxError> {
    Ok(if ledger.starts_with("postgres") {
        Box::new(PostgresStore::open(ledger, key)?)
    } else {
        Box::new(SqliteStore::open(Path::new(ledger), key)?)
    })
}

struct SealOnReader(SealAhead);

impl import::Prepare for SealOnReader {
    type Out = Option<Sealed>;
    fn prepare(&mut self, event: &domain::NewEvent) -> Result<Self::Out, BoxError> {
        Ok(self.0.seal(event)?)
    }
}

struct Sink<'a>(Box<dyn store::Batch + 'a>, u64);

impl import::PreparedSink<Option<Sealed>> for Sink<'_> {
    fn push(
        &mut self,
        _line: u64,
        event: domain::NewEvent,
        sealed: Option<Sealed>,
    ) -> Result<(), BoxError> {
        self.0.append_sealed(event, sealed)?;
        Ok(())
    }
    fn reject(&mut self, _error: import::RowError) -> Result<(), BoxError> {
        self.1 += 1;
        Ok(())
    }
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", people, out] => {
            let end = domain::Timestamp::parse("2026-11-01T00:00:00Z")?;
            let mut w = BufWriter::new(std::fs::File::create(out)?);
            let stats = demo::generate(&demo::Options::new(people.parse()?, 1, end), &mut w)?;
            println!("generated {stats:?}");
        }
        [command @ ("import" | "append"), ledger, file] => {
            let store = if *command == "import" {
                let key = MasterKey::generate();
                std::fs::write(KEY_FILE, key.to_hex())?;
                create(ledger, key)?
            } else {
                open(ledger, MasterKey::from_hex(&std::fs::read_to_string(KEY_FILE)?)?)?
            };
            let started = Instant::now();
            let batch = store.batch(file)?;
            let ahead = SealOnReader(batch.seal_ahead()?);
            let mut sink = Sink(batch, 0);
            let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
            import::pipeline::read_prepared(
                Path::new(file),
                &import::Format::JsonLines,
                reader,
                ahead,
                &mut sink,
            )?;
            let Sink(batch, rejected) = sink;
            let summary = batch.commit()?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{}: {} events added ({} duplicates, {rejected} rejected) in {secs:.1} s = {:.0} events/s",
                store.describe(),
                summary.added,
                summary.duplicates,
                summary.added as f64 / secs
            );
        }
        ["readings", ledger, day] => {
            let key = MasterKey::from_hex(&std::fs::read_to_string(KEY_FILE)?)?;
            let store = open(ledger, key)?;
            let as_of = domain::Day::parse(day)?.end();
            let started = Instant::now();
            let people = store.people()?;
            let models = Models::default();
            let scripted = store.scripted()?;
            let assessor = Assessor::new(people.len(), as_of, &models, &scripted);
            store.visit_events(&|rank, events| assessor.person(rank, events))?;
            let readings = assessor.finish(&people);
            println!(
                "{}: every reading of {} people in {:.2} s",
                store.describe(),
                readings.len(),
                started.elapsed().as_secs_f64()
            );
        }
        _ => return Err(
            "usage: import_bench generate PEOPLE OUT | import LEDGER FILE | append LEDGER FILE | readings LEDGER DAY"
                .into(),
        ),
    }
    Ok(())
}
