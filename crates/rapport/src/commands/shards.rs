//! `rapport shards add|list|move`: people spread over PostgreSQL servers.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{ShardsAddArgs, ShardsCommand, ShardsListArgs, ShardsMoveArgs};
use crate::commands::import::thousands;
use crate::ledger;
use crate::screen::{Screen, wrap};

pub fn run(db: &app::Location, command: &ShardsCommand) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    match command {
        ShardsCommand::Add(a) => add(&app, a),
        ShardsCommand::List(a) => list(&app, a),
        ShardsCommand::Move(a) => move_one(&app, a),
    }
}

fn add(app: &app::App, args: &ShardsAddArgs) -> anyhow::Result<ExitCode> {
    let s = app
        .add_shard_server(&args.url, args.name.as_deref(), &ledger::actor())
        .context("adding the server")?;
    println!(
        "Added {} as server {}. Move partitions to it with `rapport shards move PARTITION {}`.",
        s.url, s.name, s.name
    );
    Ok(ExitCode::SUCCESS)
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn list(app: &app::App, args: &ShardsListArgs) -> anyhow::Result<ExitCode> {
    let servers = app.shard_servers().context("reading the servers")?;
    let parts = app.partitions().context("reading the partitions")?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "servers": servers,
                "partitions": parts,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let head = format!(
        "{} partitions. Servers: the coordinating server (this ledger's database){}",
        parts.len(),
        servers
            .iter()
            .map(|s| format!(", {} ({})", s.name, s.url))
            .collect::<String>()
    );
    // The table below is 61 columns wide; the sentence above it wraps to the screen.
    match Screen::detect().width {
        Some(w) => wrap(&head, w).iter().for_each(|l| println!("{l}")),
        None => println!("{head}"),
    }
    println!();
    println!(
        "{:>9}  {:<12}  {:>10}  {:>12}  {:>10}",
        "partition", "server", "people", "events", "on disk"
    );
    let unknown = "unavailable";
    let mut down = 0;
    for p in &parts {
        let server = p.server.as_deref().unwrap_or("coordinator");
        if p.people.is_none() {
            down += 1;
        }
        println!(
            "{:>9}  {:<12}  {:>10}  {:>12}  {:>10}",
            p.number,
            server,
            p.people.map_or(unknown.into(), thousands),
            p.events.map_or(unknown.into(), thousands),
            p.bytes.map_or(unknown.into(), size),
        );
    }
    // Totals per server.
    println!();
    let mut names: Vec<Option<&str>> = parts.iter().map(|p| p.server.as_deref()).collect();
    names.sort();
    names.dedup();
    for n in names {
        let mine: Vec<_> = parts.iter().filter(|p| p.server.as_deref() == n).collect();
        let known = mine.iter().all(|p| p.people.is_some());
        let people: u64 = mine.iter().filter_map(|p| p.people).sum();
        let events: u64 = mine.iter().filter_map(|p| p.events).sum();
        let bytes: u64 = mine.iter().filter_map(|p| p.bytes).sum();
        let name = n.unwrap_or("coordinator");
        if known {
            println!(
                "{name}: {} partitions, {} people, {} events, {}",
                mine.len(),
                thousands(people),
                thousands(events),
                size(bytes)
            );
        } else {
            println!(
                "{name}: {} partitions — the server does not answer, its figures are unavailable",
                mine.len()
            );
        }
    }
    Ok(if down > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn move_one(app: &app::App, args: &ShardsMoveArgs) -> anyhow::Result<ExitCode> {
    let to = match args.server.as_str() {
        "coordinator" => None,
        s => Some(s),
    };
    let moved = app
        .move_partition(args.partition, to, &ledger::actor(), &mut |what| {
            eprintln!("{what}")
        })
        .with_context(|| format!("moving partition {}", args.partition))?;
    println!(
        "Moved partition {} from {} to {} in {:.1} s: {} rows copied, {} of them written while it was copied; writers waited {:.2} s.",
        moved.number,
        moved.from.as_deref().unwrap_or("the coordinating server"),
        moved.to.as_deref().unwrap_or("the coordinating server"),
        moved.seconds,
        thousands(moved.rows),
        thousands(moved.caught_up),
        moved.writers_waited
    );
    Ok(ExitCode::SUCCESS)
}
