//! rapport on the web: the manager's overview, the people list, the person card the agent
//! reads with someone on the line, the audit log, and the JSON API — over the same ledger
//! file as the command line.
//!
//! [`serve`] takes a bound listener and a shutdown signal, so the command line runs it on
//! its port and tests on port 0. Everyone's figures are computed once at start (and again in
//! the background after new events), cards fresh from the person's own history on every view.

pub mod api;
pub mod auth;
pub mod charts;
pub mod costs;
pub mod error;
pub mod i18n;
pub mod menu;
pub mod pages;
pub mod selfservice;
pub mod snapshot;
pub mod state;
pub mod view;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

pub use auth::Role;
pub use state::{AppState, Config};

/// The port `rapport serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 7878;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
    #[error("starting: {0}")]
    Start(String),
}

/// Every route, with the ledger state behind them.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.body_limit;
    let api = api::routes().fallback(api::not_found);
    Router::new()
        .merge(pages::routes())
        .merge(selfservice::routes())
        .merge(costs::routes())
        .nest("/api", Router::new().fallback(api::not_found))
        .merge(api)
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// A handler that panicked answers a plain 500; what happened goes to the log only.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    tracing::error!("a request panicked: {what}");
    error::ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal error (the server's log says more)",
    )
    .into_response()
}

/// Headers on every answer: no scripts, frames, sniffing or referrers.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Opens the ledger, computes everyone's figures, and serves on `listener` until `shutdown`
/// completes; requests in flight are finished first.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .map_err(|e| ServeError::Start(e.to_string()))??;
    serve_state(listener, state, shutdown).await
}

/// [`serve`] with the state already open (tests use it to look inside).
pub async fn serve_state(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let refresher = tokio::spawn(state.clone().refresh_loop());
    let watcher = tokio::spawn(state.clone().watch_forgotten());
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    refresher.abort();
    watcher.abort();
    Ok(result?)
}
