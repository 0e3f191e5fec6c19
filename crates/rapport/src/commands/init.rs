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
        other => format!(" --db {}", shell_word(&other.to_string())),
    };
    println!("Next steps:");
    println!("  rapport{flag} import events.jsonl   # canonical events, docs/events.md");
    println!("  rapport{flag} import orders.csv --preset transactions --set currency=EUR");
    println!("  rapport{flag} people");
    Ok(ExitCode::SUCCESS)
}

/// `s` as one word for a shell: quoted when it holds anything a shell would split or expand.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_path_a_shell_would_split_is_quoted() {
        assert_eq!(shell_word("/tmp/ledger.db"), "/tmp/ledger.db");
        assert_eq!(shell_word("my ledger.db"), "'my ledger.db'");
        assert_eq!(shell_word("it's.db"), r"'it'\''s.db'");
    }
}
