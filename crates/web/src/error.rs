//! How requests fail: the API answers JSON naming what was wrong, pages answer a readable
//! page. Neither ever shows a database message or a stack trace: those go to the server's log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Value, json};

/// An API error: a status and `{"error": message, ...details}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    /// 400 naming the field that was wrong.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": message.into(), "field": field }),
        }
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500; the cause is logged, the caller sees only that it failed.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!("{cause}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (the server's log says more)",
        )
    }

    /// A store error: 503 with `Retry-After` while another writer holds the ledger (the
    /// request may simply be sent again), 500 otherwise.
    pub fn store(e: store::StoreError) -> ApiError {
        if e.is_busy() {
            tracing::warn!("{e}");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger is busy with another writer (a long import); nothing was changed: \
                 try again shortly",
            );
        }
        ApiError::internal(e)
    }
}

impl ApiError {
    /// An application error: 404 for nobody, 400 naming the field, 409 for a refusal, and
    /// the store's mapping for the rest.
    pub fn app(e: app::AppError) -> ApiError {
        match e {
            app::AppError::NoPerson { person, .. } => {
                ApiError::not_found(format!("no person {person:?}"))
            }
            app::AppError::Invalid { field, message } => ApiError::field(&field, message),
            app::AppError::Refused(m) => ApiError::new(StatusCode::CONFLICT, m),
            app::AppError::Store(e) => ApiError::store(e),
            other => ApiError::internal(other),
        }
    }
}

/// Seconds a client is asked to wait before trying again after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        r
    }
}

/// A page that cannot be shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page.
    SignIn,
    Forbidden(String),
    NotFound(String),
    BadRequest(String),
    /// Another writer holds the ledger for now: 503, try again shortly.
    Busy,
    Internal,
}

impl PageError {
    pub fn internal(cause: impl std::fmt::Display) -> PageError {
        tracing::error!("{cause}");
        PageError::Internal
    }
}

impl From<store::StoreError> for PageError {
    fn from(e: store::StoreError) -> PageError {
        if e.is_busy() {
            tracing::warn!("{e}");
            return PageError::Busy;
        }
        PageError::internal(e)
    }
}

impl From<app::AppError> for PageError {
    fn from(e: app::AppError) -> PageError {
        match e {
            app::AppError::NoPerson { person, .. } => {
                PageError::NotFound(format!("There is nobody called {person} in the ledger."))
            }
            app::AppError::Invalid { field, message } => {
                PageError::BadRequest(format!("{field}: {message}"))
            }
            app::AppError::Refused(m) => PageError::BadRequest(m),
            app::AppError::Store(e) => PageError::from(e),
            other => PageError::internal(other),
        }
    }
}

impl From<tokio::task::JoinError> for PageError {
    fn from(e: tokio::task::JoinError) -> PageError {
        PageError::internal(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> PageError {
        PageError::internal(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::SignIn => return Redirect::to("/sign-in").into_response(),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Not understood", m),
            PageError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy for a moment",
                "The ledger is busy with another writer (a long import). Nothing was changed; \
                 try again in a few seconds."
                    .to_owned(),
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server could not show this page; its log says why.".to_owned(),
            ),
        };
        let page = crate::pages::ErrorPage {
            title,
            message: &message,
        };
        let mut r = match askama::Template::render(&page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        r
    }
}
