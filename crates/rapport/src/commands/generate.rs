//! `rapport generate`: the demo's generator, writing JSON Lines for benchmarks.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::GenerateArgs;
use crate::moment;

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let end = moment::as_of(args.end.as_deref())?;
    let opts = demo::Options {
        people: args.people,
        seed: args.seed,
        end,
        years: args.years,
    };
    let stats = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let stats = demo::generate(&opts, &mut w).context("writing events")?;
            w.flush().context("writing events")?;
            stats
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            let stats = demo::generate(&opts, &mut w).context("writing events")?;
            w.flush().context("writing events")?;
            stats
        }
    };
    eprintln!(
        "generated {} events for {} people (seed {})",
        stats.events, stats.people, args.seed
    );
    Ok(ExitCode::SUCCESS)
}
