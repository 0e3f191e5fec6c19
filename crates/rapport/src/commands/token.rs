//! `rapport token`: who may use the web and the API. A token is printed once; the ledger
//! keeps only its hash.

use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::TokenCommand;
use crate::ledger;

pub fn run(db: &app::Location, command: &TokenCommand) -> anyhow::Result<ExitCode> {
    let app = ledger::open(db)?;
    match command {
        TokenCommand::Create(args) => {
            let name = args.name.clone().unwrap_or_else(|| args.role.clone());
            let token = app
                .token_create(&name, &args.role, &ledger::actor())
                .map_err(|e| match e {
                    app::AppError::Invalid { field, message } => {
                        anyhow::anyhow!("--{field}: {message}")
                    }
                    other => anyhow::Error::new(other).context("storing the token"),
                })?;
            println!("{token}");
            eprintln!(
                "Token for {name:?} ({}). It is shown only this once: keep it somewhere safe.",
                args.role
            );
        }
        TokenCommand::List => {
            let tokens = app.tokens().context("reading tokens")?;
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
            if !app
                .token_revoke(args.id, &ledger::actor())
                .context("revoking")?
            {
                bail!("no live token #{} (rapport token list shows them)", args.id);
            }
            println!("Token #{} revoked; its sessions are ended.", args.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
