//! `rapport init`: a new ledger, its key vault and its master key.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use store::{MasterKey, SqliteStore, vault::MASTER_KEY_ENV};

use crate::cli::InitArgs;

pub fn run(db: &Path, args: &InitArgs) -> anyhow::Result<ExitCode> {
    if db.exists() {
        bail!(
            "{} already exists; rapport init never overwrites a ledger",
            db.display()
        );
    }
    let key_path = MasterKey::default_path(db);
    let from_env = std::env::var(MASTER_KEY_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let key = match &from_env {
        Some(hex) => MasterKey::from_hex(hex)?,
        None => MasterKey::generate(),
    };
    if from_env.is_none() && !args.print_key {
        key.write_new(&key_path)?;
    }
    SqliteStore::create(db, key.clone()).with_context(|| format!("creating {}", db.display()))?;
    println!("Created the ledger {}", db.display());
    println!("  key vault:  {}", SqliteStore::vault_path(db).display());
    if from_env.is_some() {
        println!("  master key: from {MASTER_KEY_ENV}");
    } else if args.print_key {
        println!("  master key: {}", key.to_hex());
        println!("  (not written anywhere: keep it safe and pass it as {MASTER_KEY_ENV})");
    } else {
        println!(
            "  master key: {} (readable by you only)",
            key_path.display()
        );
    }
    println!("Next: rapport import events.jsonl   (or: rapport demo)");
    Ok(ExitCode::SUCCESS)
}
