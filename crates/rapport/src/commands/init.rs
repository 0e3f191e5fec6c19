//! `rapport init`: a new ledger, its key vault and its master key.

use std::process::ExitCode;

use anyhow::{Context, bail};
use app::{App, Location};
use store::MasterKey;
use store::keys::MASTER_KEY_ENV;

use crate::cli::InitArgs;

pub fn run(db: &Location, args: &InitArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = db.path()
        && path.exists()
    {
        bail!(
            "{} already exists; rapport init never overwrites a ledger",
            path.display()
        );
    }
    let from_env = std::env::var(MASTER_KEY_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let key = match &from_env {
        Some(hex) => MasterKey::from_hex(hex)?,
        None => MasterKey::generate(),
    };
    let key_path = db.default_key_file();
    let write_key = from_env.is_none() && !args.print_key;
    if write_key && key_path.is_none() {
        bail!(
            "a PostgreSQL ledger keeps its master key away from the database: set {MASTER_KEY_ENV} \
             (64 hex digits), or {} to a file to write it to, or give --print-key",
            app::MASTER_KEY_FILE_ENV
        );
    }
    if write_key && let Some(path) = &key_path {
        if path.exists() {
            bail!(
                "{} already exists: rapport init never overwrites a master key (it may open an \
                 existing ledger)",
                path.display()
            );
        }
        key.write_new(path)?;
    }
    let created = App::create(db, key.clone()).with_context(|| format!("creating {db}"));
    if let Err(e) = created {
        // Nothing was made: the key written for it would only confuse the next attempt.
        if write_key && let Some(path) = &key_path {
            let _ = std::fs::remove_file(path);
        }
        return Err(e);
    }
    println!("Created the ledger {db}");
    println!("  key vault:  {}", db.vault());
    if from_env.is_some() {
        println!("  master key: from {MASTER_KEY_ENV}");
    } else if args.print_key {
        println!("  master key: {}", key.to_hex());
        println!("  (not written anywhere: keep it safe and pass it as {MASTER_KEY_ENV})");
    } else if let Some(path) = &key_path {
        println!("  master key: {} (readable by you only)", path.display());
    }
    let flag = match db {
        Location::Sqlite(p) if p.as_os_str() == "rapport.db" => String::new(),
        other => format!(" --db {other}"),
    };
    println!("Next: rapport{flag} import events.jsonl   (or: rapport demo)");
    Ok(ExitCode::SUCCESS)
}
