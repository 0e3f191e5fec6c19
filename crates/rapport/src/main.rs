//! The `rapport` command: a thin layer over the domain, store and import crates.
//!
//! `main` parses the flags, `run` dispatches with one `match`, and each command lives in its
//! own module. Errors carry context at each step and are printed once, cause chain included,
//! with a non-zero exit.

mod cli;
mod commands;
mod ledger;
mod moment;
mod screen;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

// Imports, readings and the server allocate many small short-lived values (parsed JSON,
// events, readings) on several threads at once; mimalloc handles that pattern markedly
// better than the system allocator (measured in docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let failure = cli.command.failure_code();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`rapport people | head`) is not an error worth a message.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(failure)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let db = app::Location::parse(&cli.db);
    if let Some(name) = &cli.actor {
        ledger::set_actor(name);
    }
    match cli.command {
        Command::Init(args) => commands::init::run(&db, &args),
        Command::Import(args) => commands::import::run(&db, &args),
        Command::People(args) => commands::people::run(&db, &args),
        Command::Card(args) => commands::card::run(&db, &args),
        Command::Refresh(args) => commands::kept::refresh(&db, &args),
        Command::Check(args) => commands::kept::check(&db, &args),
        Command::Fit(args) => commands::fit::run(&db, &args),
        Command::Covariates(args) => commands::covariates::run(&db, &args),
        Command::Demo(args) => commands::demo::run(&db, &args),
        Command::Generate(args) => commands::generate::run(&args),
        Command::Serve(args) => commands::serve::run(&db, &args),
        Command::Token(command) => commands::token::run(&db, &command),
        Command::Menu(command) => commands::own::menu(&db, &command),
        Command::Link(args) => commands::own::link(&db, &args),
        Command::MayContact(args) => commands::own::may_contact(&db, &args),
        Command::Settings(args) => commands::own::settings(&db, &args),
        Command::Export(args) => commands::own::export(&db, &args),
        Command::Forget(args) => commands::own::forget(&db, &args),
        Command::WelcomeBack(args) => commands::own::welcome_back(&db, &args),
        Command::Rekey(args) => commands::own::rekey(&db, &args),
        Command::Scripts(args) => commands::scripts::run(&db, &args),
        Command::Catalogue(command) => commands::costs::catalogue(&db, &command),
        Command::Costs(args) => commands::costs::costs(&db, &args),
        Command::Payments(command) => commands::payments::run(&db, &command),
        Command::Shards(command) => commands::shards::run(&db, &command),
    }
}
