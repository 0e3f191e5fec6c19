//! `rapport token`: who may use the web and the API. A token is printed once; the ledger
//! keeps only its hash.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use store::{Access, Store};

use crate::cli::TokenCommand;
use crate::ledger;

pub fn run(db: &Path, command: &TokenCommand) -> anyhow::Result<ExitCode> {
    let mut store = ledger::open(db)?;
    match command {
        TokenCommand::Create(args) => {
            let name = args.name.clone().unwrap_or_else(|| args.role.clone());
            let token = create(&mut store, &name, &args.role)?;
            println!("{token}");
            eprintln!(
                "Token for {name:?} ({}). It is shown only this once: keep it somewhere safe.",
                args.role
            );
        }
        TokenCommand::List => {
            let tokens = store.tokens().context("reading tokens")?;
            if tokens.is_empty() {
                println!("No tokens yet: rapport token create --role admin");
            }
            for t in tokens {
                let state = match t.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "live".to_owned(),
                };
                println!(
                    "{:>4}  {:<8} {:<24} created {}  {state}",
                    t.id, t.role, t.name, t.created_at
                );
            }
        }
        TokenCommand::Revoke(args) => {
            if !store.token_revoke(args.id).context("revoking")? {
                bail!("no live token #{} (rapport token list shows them)", args.id);
            }
            store
                .audit(&ledger::actor(), &format!("token.revoke:{}", args.id), None)
                .context("writing the audit log")?;
            println!("Token #{} revoked; its sessions are ended.", args.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Makes a token with `role` and returns it; the ledger keeps its hash.
pub fn create(store: &mut store::SqliteStore, name: &str, role: &str) -> anyhow::Result<String> {
    if name.trim().is_empty() || name.chars().count() > 80 {
        bail!("--name must be 1 to 80 characters");
    }
    let token = web::auth::new_secret("rpt_");
    store
        .token_add(name.trim(), role, &web::auth::hash(&token))
        .context("storing the token")?;
    store
        .audit(
            &ledger::actor(),
            &format!("token.create:{}:{role}", name.trim()),
            None,
        )
        .context("writing the audit log")?;
    Ok(token)
}
