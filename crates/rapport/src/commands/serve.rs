//! `rapport serve`: the web pages and the JSON API over the ledger, until Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::cli::ServeArgs;
use crate::ledger;

/// Threads that may wait on the ledger at once (see where the runtime is built).
const BLOCKING_THREADS: usize = 32;

pub fn run(db: &app::Location, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let as_of = match args.as_of.as_deref() {
        None => None,
        Some(day) => Some(domain::Day::parse(day.trim()).map_err(|_| {
            anyhow::anyhow!(
                "--as-of {day:?} is not a day: give it as YYYY-MM-DD, e.g. --as-of 2013-12-31"
            )
        })?),
    };
    let app = ledger::open(db)?;
    // Before listening: the first start on a ledger made by an earlier version (or for
    // another day) keeps everyone's readings once, with a progress bar.
    ledger::keep_up_for(&app, as_of)?;
    let mut config = config(app, args.refresh, args.body_limit, args.secure_cookies);
    config.as_of = as_of;
    serve(config, &args.bind, None)
}

pub fn config(
    app: app::App,
    refresh: u64,
    body_limit_mib: usize,
    secure_cookies: bool,
) -> web::Config {
    let mut config = web::Config::new(app);
    config.refresh_after = Duration::from_secs(refresh);
    config.body_limit = body_limit_mib.max(1) * 1024 * 1024;
    config.secure_cookies = secure_cookies;
    config
}

/// Whether the log may colour its lines: only on a terminal (a file or a pipe would keep the
/// escape codes as junk), and never when `NO_COLOR` is set to something (no-color.org).
fn log_in_colour(on_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    on_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Serves until Ctrl-C; `sign_in` is a token to print a sign-in link for.
pub fn serve(config: web::Config, bind: &str, sign_in: Option<&str>) -> anyhow::Result<ExitCode> {
    let colour = log_in_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
    // Requests read and write the ledger on blocking threads. Without a bound, a burst that
    // outran the database (the first second after start, on PostgreSQL) grew tokio's default
    // of 512 such threads, each with its own allocator heap, and the server spent its cores
    // zeroing fresh memory instead of answering: 1,000 cards a second then waited seconds.
    // A few dozen keep both cores and every database connection busy; more requests wait
    // in the queue, which costs nothing.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        eprintln!("Opening the ledger…");
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn the_log_is_in_colour_only_on_a_terminal_without_no_color() {
        let cases = [
            (true, None, true),
            (true, Some(""), true),
            (true, Some("1"), false),
            (false, None, false),
            (false, Some("1"), false),
        ];
        for (terminal, no_color, colour) in cases {
            assert_eq!(
                log_in_colour(terminal, no_color.map(OsStr::new)),
                colour,
                "{terminal} {no_color:?}"
            );
        }
    }
}
