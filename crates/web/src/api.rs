//! The JSON API under `/api`, described by the OpenAPI 3.1 document at `/api/openapi.json`.
//!
//! Errors are JSON too: `{"error": message, "field": name}` for a request that is wrong,
//! `{"error", "errors": [{"index", "field", "message"}]}` for a batch of events with invalid
//! ones (then nothing of the batch is stored).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::NewEvent;
use domain::readings::SORTABLE;
use serde_json::{Value, json};
use store::{MenuItem, PersonData, Store};

use crate::auth::{Bearer, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::view::{self, CardError};

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 10_000;
/// Largest page of people.
pub const MAX_PER_PAGE: usize = 500;

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/events", post(post_events))
        .route("/api/people", get(people))
        .route("/api/people/{id}", get(person).delete(forget))
        .route("/api/people/{id}/may-contact", get(may_contact))
        .route("/api/people/{id}/export", get(export))
        .route("/api/menu", get(menu))
        .route("/api/menu/{item}", axum::routing::put(put_menu))
        .route("/api/menu/choices", get(choices))
        .route("/api/scripts", get(scripts))
}

/// Everything under `/api` that is not a route.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API route (see /api/openapi.json)")
}

async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    let snap = state.snapshot();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "people": snap.totals.people,
        "events": snap.totals.events,
        "readings_as_of": snap.as_of.to_rfc3339(),
    }))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Adds a batch of events in the canonical format: all of them, or none if any is invalid.
async fn post_events(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if who.role == Role::Analyst {
        return Err(ApiError::forbidden(
            "an analyst may read figures but not add events",
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the body is larger than {} bytes: send fewer events per request",
                    state.config.body_limit
                ),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, r.body_text())
        }
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::field(
            "body",
            format!(
                "malformed JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("events") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(ApiError::field("events", "`events` must be an array")),
            None => {
                return Err(ApiError::field(
                    "events",
                    "send an array of events, or {\"events\": [...]}",
                ));
            }
        },
        _ => {
            return Err(ApiError::field(
                "body",
                "send an array of events, or {\"events\": [...]}",
            ));
        }
    };
    if items.len() > MAX_EVENTS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} events in one request; at most {MAX_EVENTS}",
                items.len()
            ),
        ));
    }
    let mut events = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let parsed = match &item {
            Value::Object(map) => NewEvent::from_json(map).map_err(|e| (e.field, e.message)),
            _ => Err((None, "an event must be a JSON object".to_owned())),
        };
        match parsed {
            Ok(e) => events.push(e),
            Err((field, message)) => errors.push(json!({
                "index": index,
                "field": field,
                "message": message,
            })),
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        errors.truncate(100);
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "error": format!("{n} of {} events are invalid; nothing was stored", n + events.len()),
                "field": errors[0]["field"].clone(),
                "errors": errors,
            }),
        });
    }
    let s = state.clone();
    let summary = tokio::task::spawn_blocking(move || {
        let mut store = s
            .writer
            .lock()
            .map_err(|_| "the writer is poisoned".to_owned())?;
        let mut batch = store.batch("api").map_err(|e| e.to_string())?;
        for e in events {
            batch.append(e).map_err(|e| e.to_string())?;
        }
        batch.commit().map_err(|e| e.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    if summary.added > 0 {
        state.mark_dirty();
    }
    Ok(Json(
        json!({"added": summary.added, "duplicates": summary.duplicates}),
    ))
}

/// The list parameters shared by the API and the people page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Index into [`SORTABLE`] and whether descending.
    pub sort: Option<(usize, bool)>,
    pub q: String,
    pub page: usize,
    pub per_page: usize,
}

impl ListQuery {
    /// Reads `sort`, `order` (`asc`/`desc`), `q`, `page` (from 1) and `per_page`; the error
    /// names the parameter.
    pub fn parse(params: &HashMap<String, String>) -> Result<ListQuery, (&'static str, String)> {
        let sort = match params.get("sort").map(String::as_str) {
            None | Some("") => None,
            Some(s) => Some(SORTABLE.iter().position(|p| *p == s).ok_or((
                "sort",
                format!(
                    "unknown field {s:?}; sortable fields: {}",
                    SORTABLE.join(", ")
                ),
            ))?),
        };
        let desc = match params.get("order").map(String::as_str) {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(o) => return Err(("order", format!("{o:?} is not asc or desc"))),
        };
        let number =
            |name: &'static str, default: usize| -> Result<usize, (&'static str, String)> {
                match params.get(name).map(String::as_str) {
                    None | Some("") => Ok(default),
                    Some(v) => v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or((name, format!("{v:?} is not a whole number of at least 1"))),
                }
            };
        let per_page = number("per_page", 50)?;
        if per_page > MAX_PER_PAGE {
            return Err(("per_page", format!("at most {MAX_PER_PAGE} per page")));
        }
        Ok(ListQuery {
            sort: sort.map(|f| (f, desc)),
            q: params.get("q").cloned().unwrap_or_default(),
            page: number("page", 1)?,
            per_page,
        })
    }
}

async fn people(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = ListQuery::parse(&params).map_err(|(f, m)| ApiError::field(f, m))?;
    let snap = state.snapshot();
    let s = snap.clone();
    let q = query.clone();
    let names = who.role.sees_personal_text();
    let (ranks, total) = tokio::task::spawn_blocking(move || {
        s.page(
            q.sort,
            &q.q,
            names,
            (q.page - 1).saturating_mul(q.per_page),
            q.per_page,
        )
    })
    .await
    .map_err(ApiError::internal)?;
    let people: Vec<Value> = ranks
        .iter()
        .map(|&rank| {
            json!({
                "person": snap.people[rank as usize].as_str(),
                "name": view::list_name(&state, &snap, &who, rank),
                "readings": view::list_readings(&snap, rank),
            })
        })
        .collect();
    Ok(Json(json!({
        "as_of": snap.as_of.to_rfc3339(),
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "sort": query.sort.map(|(f, _)| SORTABLE[f]),
        "order": if query.sort.is_some_and(|(_, d)| d) { "desc" } else { "asc" },
        "people": people,
    })))
}

async fn person(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match view::card(&state, &who, &id).await {
        Ok((card, _)) => {
            let body = serde_json::to_vec(&card).map_err(ApiError::internal)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response())
        }
        Err(CardError::NotFound) => Err(ApiError::not_found(format!("no person {id:?}"))),
        Err(CardError::Failed(e)) => Err(ApiError::internal(e)),
    }
}

/// Answers whether a person may be contacted now on a channel about a topic, with the reason
/// and the event that decided it. Nothing personal is opened or returned.
async fn may_contact(
    State(state): State<Arc<AppState>>,
    Bearer(_who): Bearer,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let word = |name: &'static str| -> Result<Option<String>, ApiError> {
        params
            .get(name)
            .map(|v| {
                view::contact_word(v)
                    .map(str::to_owned)
                    .map_err(|m| ApiError::field(name, format!("{name} {m}")))
            })
            .transpose()
    };
    let channel = word("channel")?
        .ok_or_else(|| ApiError::field("channel", "give the channel, e.g. ?channel=email"))?;
    let topic = word("topic")?;
    let person = domain::PersonId::parse(&id)
        .map_err(|_| ApiError::not_found(format!("no person {id:?}")))?;
    let s = state.clone();
    let answer = tokio::task::spawn_blocking(move || {
        s.readers.with(|st| {
            view::may_contact(
                st,
                &person,
                &channel,
                topic.as_deref(),
                domain::Timestamp::now(),
            )
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::store)?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no person {id:?}")))
}

/// Everything held about a person, unsealed, with the readings (admin; audited).
async fn export(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !who.is_admin() {
        return Err(ApiError::forbidden(
            "only an admin may export a person's data",
        ));
    }
    let person = domain::PersonId::parse(&id)
        .map_err(|_| ApiError::not_found(format!("no person {id:?}")))?;
    let doc = view::export(&state, &person)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no person {id:?}")))?;
    state
        .audit
        .record(&who.actor(), "person.export", Some(&person))
        .await
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::to_vec(&doc).map_err(ApiError::internal)?,
    )
        .into_response())
}

/// Forgets a person (admin).
async fn forget(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !who.is_admin() {
        return Err(ApiError::forbidden("only an admin may forget a person"));
    }
    let person = domain::PersonId::parse(&id)
        .map_err(|_| ApiError::not_found(format!("no person {id:?}")))?;
    let done = view::forget(&state, &person, &who.actor())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no person {id:?}")))?;
    Ok(Json(json!({"forgotten": true, "events": done.events})))
}

async fn menu(
    State(state): State<Arc<AppState>>,
    Bearer(_who): Bearer,
) -> Result<Json<Value>, ApiError> {
    let s = state.clone();
    let items = tokio::task::spawn_blocking(move || s.readers.with(|st| st.menu()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::store)?;
    Ok(Json(json!({"items": items})))
}

/// Adds or replaces a menu item (admin).
async fn put_menu(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Path(item): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if !who.is_admin() {
        return Err(ApiError::forbidden("only an admin may change the menu"));
    }
    let body = body.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("body", format!("malformed JSON: {e}")))?;
    let mut parsed = crate::menu::parse_item(&value).map_err(|(f, m)| ApiError::field(f, m))?;
    parsed.item = crate::menu::check_id("item", &item).map_err(|(f, m)| ApiError::field(f, m))?;
    let s = state.clone();
    let stored: MenuItem = parsed.clone();
    tokio::task::spawn_blocking(move || {
        s.writer
            .lock()
            .map_err(|_| store::StoreError::Corrupt {
                message: "writer poisoned".into(),
            })?
            .menu_put(&stored)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::store)?;
    state
        .audit
        .record(&who.actor(), &format!("menu.put:{}", parsed.item), None)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!(parsed)))
}

/// What people choose: counts per item and option, the combinations they compose, and
/// proposals grouped by similarity (texts withheld from analysts).
async fn choices(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
) -> Result<Json<Value>, ApiError> {
    let report = crate::menu::report(&state, who.role.sees_personal_text())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(report))
}

/// The scripts the business answers people with (any role; see [`view::scripts`]).
async fn scripts(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let max = crate::snapshot::SCRIPTS_LISTED;
    let limit = match params.get("limit").map(String::as_str) {
        None | Some("") => 20,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("{v:?} is not a whole number from 1 to {max}"),
                )
            })?,
    };
    let snap = state.snapshot();
    let o = view::scripts(&snap, &who, limit);
    Ok(Json(json!({
        "as_of": snap.as_of.to_rfc3339(),
        "answers": o.answers,
        "scripted": o.scripted,
        "scripts": o.scripts,
        "list": o.list,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_parameters_are_read_and_bad_ones_named() {
        let q = ListQuery::parse(&params(&[
            ("sort", "heard.answered_share"),
            ("order", "desc"),
            ("page", "3"),
        ]))
        .unwrap();
        assert_eq!(q.page, 3);
        assert!(q.sort.unwrap().1);
        assert_eq!(
            ListQuery::parse(&params(&[("sort", "nonsense")]))
                .unwrap_err()
                .0,
            "sort"
        );
        assert_eq!(
            ListQuery::parse(&params(&[("page", "0")])).unwrap_err().0,
            "page"
        );
        assert_eq!(
            ListQuery::parse(&params(&[("per_page", "100000")]))
                .unwrap_err()
                .0,
            "per_page"
        );
    }
}
