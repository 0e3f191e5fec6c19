//! `rapport serve`: the web pages and the JSON API over the ledger, until Ctrl-C.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::cli::ServeArgs;
use crate::ledger;

pub fn run(db: &Path, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = config(db, args.refresh, args.body_limit, args.secure_cookies)?;
    serve(config, &args.bind, None)
}

pub fn config(
    db: &Path,
    refresh: u64,
    body_limit_mib: usize,
    secure_cookies: bool,
) -> anyhow::Result<web::Config> {
    // Opening once here gives the usual clear errors (no ledger, wrong key) before starting.
    drop(ledger::open(db)?);
    let mut config = web::Config::new(db.to_owned(), store::MasterKey::locate(db)?);
    config.refresh_after = Duration::from_secs(refresh);
    config.body_limit = body_limit_mib.max(1) * 1024 * 1024;
    config.secure_cookies = secure_cookies;
    Ok(config)
}

/// Serves until Ctrl-C; `sign_in` is a token to print a sign-in link for.
pub fn serve(config: web::Config, bind: &str, sign_in: Option<&str>) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        eprintln!("Computing everyone's readings…");
        let state = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || web::AppState::open(config))
                .await
                .context("starting")?
                .context("opening the ledger")?
        };
        match sign_in {
            Some(token) => println!("\nServing on http://{addr}/ — sign in with this link:\n  http://{addr}/sign-in?token={token}\n(Ctrl-C stops.)"),
            None => println!("Serving on http://{addr}/ (Ctrl-C stops). Sign in with a token from `rapport token create`."),
        }
        web::serve_state(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("Stopping…");
        })
        .await
        .context("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}
