//! The JSON API under `/api`, described by the OpenAPI 3.1 document at `/api/openapi.json`.
//!
//! The document is a contract both ways: what it allows, the server takes, and what it does
//! not, the server refuses with a 400 naming the field (an unknown field in a body, a
//! parameter given empty, a value too long). CI holds the two together with schemathesis
//! (`.ci/run`; docs/web.md says how to run it by hand).
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

use crate::auth::{Bearer, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::view::{self, CardError};

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 10_000;
/// Largest page of people.
pub const MAX_PER_PAGE: usize = 500;
/// Highest page number asked for (far beyond any ledger: it only keeps numbers sane).
pub const MAX_PAGE: usize = 1_000_000;
/// Longest search text, in characters.
pub const MAX_QUERY: usize = 200;

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

/// Whether the server can reach its ledger now, and how big it is: 200 when it can, 503 with
/// what is wrong when it cannot (a database restarting: the server reconnects by itself).
async fn health(State(state): State<Arc<AppState>>) -> Response {
    let snap = state.snapshot();
    let s = state.clone();
    let reached = tokio::task::spawn_blocking(move || s.app.ledger().health()).await;
    // Only the "cannot reach it" kind is said as it is; anything else is in the log.
    let problem = match reached {
        Ok(Ok(())) => None,
        Ok(Err(e)) if e.is_unavailable() => {
            tracing::warn!("health: {e}");
            Some(e.to_string())
        }
        Ok(Err(e)) => {
            tracing::error!("health: {e}");
            Some("the ledger does not answer (the server's log says why)".to_owned())
        }
        Err(e) => {
            tracing::error!("health: {e}");
            Some("the ledger does not answer (the server's log says why)".to_owned())
        }
    };
    let (status, word) = match problem {
        None => (StatusCode::OK, "ok"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let mut body = json!({
        "status": word,
        "version": env!("CARGO_PKG_VERSION"),
        "people": snap.totals.people,
        "events": snap.totals.events,
        "readings_as_of": snap.as_of.to_rfc3339(),
    });
    if let Some(p) = problem {
        body["problem"] = json!(p);
    }
    (status, Json(body)).into_response()
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
            Some(_) if !o.is_empty() => {
                let other = o.keys().next().cloned().unwrap_or_default();
                return Err(ApiError::field(
                    "body",
                    format!("unknown field {other:?}: send {{\"events\": [...]}} and nothing else"),
                ));
            }
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
        return Err(ApiError::field(
            "events",
            format!(
                "{} events in one request; at most {MAX_EVENTS}: send them in several",
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
    let summary = tokio::task::spawn_blocking(move || s.append(events, "api"))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::app)?;
    Ok(Json(json!({
        "added": summary.added,
        "duplicates": summary.duplicates,
        "forgotten": summary.forgotten,
    })))
}

/// In the API a parameter given empty (`?limit=`) is a mistake, not "the default": the
/// answer is a 400 naming it. (The pages' forms send empty fields for "not chosen", so the
/// parsers they share with the API take empty as absent; the API checks first.)
pub fn no_empty(params: &HashMap<String, String>, names: &[&'static str]) -> Result<(), ApiError> {
    match names
        .iter()
        .find(|n| params.get(**n).is_some_and(String::is_empty))
    {
        Some(name) => Err(ApiError::field(
            name,
            format!("{name} is empty: give a value, or leave the parameter out"),
        )),
        None => Ok(()),
    }
}

/// The people page's range: `field` with `min` and/or `max`, shares and chances in per cent
/// (the form's three boxes); `None` without bounds.
fn page_range(
    params: &HashMap<String, String>,
) -> Result<Option<app::Range>, (&'static str, String)> {
    let bound = |name: &'static str| -> Result<Option<f64>, (&'static str, String)> {
        match params.get(name).map(|v| v.trim()) {
            None | Some("") => Ok(None),
            Some(v) => v
                .replace(',', "")
                .trim_end_matches('%')
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| !x.is_nan())
                .map(Some)
                .ok_or((name, format!("{v:?} is not a number"))),
        }
    };
    let (min, max) = (bound("min")?, bound("max")?);
    if min.is_none() && max.is_none() {
        return Ok(None);
    }
    let Some(f) = params.get("field").filter(|f| !f.is_empty()) else {
        return Err(("field", "choose the figure the bounds apply to".to_owned()));
    };
    let field = SORTABLE.iter().position(|p| p == f).ok_or((
        "field",
        format!("unknown field {f:?}; fields: {}", SORTABLE.join(", ")),
    ))?;
    let scale = if domain::readings::words::is_share(f) {
        0.01
    } else {
        1.0
    };
    Ok(Some(app::Range {
        field,
        min: min.map(|v| v * scale),
        max: max.map(|v| v * scale),
    }))
}

/// The list parameters shared by the API and the people page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Index into [`SORTABLE`] and whether descending.
    pub sort: Option<(usize, bool)>,
    pub q: String,
    /// Everyone listed meets every one of these.
    pub filters: Vec<app::Range>,
    pub page: usize,
    pub per_page: usize,
}

impl ListQuery {
    /// Reads `sort`, `order` (`asc`/`desc`), `q`, `filter` (named filters, comma-separated),
    /// `where` (`FIELD=MIN..MAX`, a range of any sortable field), `page` (from 1) and
    /// `per_page`; the error names the parameter.
    pub fn parse(params: &HashMap<String, String>) -> Result<ListQuery, (&'static str, String)> {
        ListQuery::parse_with(params, false)
    }

    /// [`ListQuery::parse`]; with `percent` (the people page's form), the range is `field`
    /// with `min` and/or `max`, a share's bounds in per cent, instead of `where`.
    pub fn parse_with(
        params: &HashMap<String, String>,
        percent: bool,
    ) -> Result<ListQuery, (&'static str, String)> {
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
        let page = number("page", 1)?;
        if page > MAX_PAGE {
            return Err(("page", format!("at most page {MAX_PAGE}")));
        }
        let q = params.get("q").cloned().unwrap_or_default();
        if q.chars().count() > MAX_QUERY {
            return Err(("q", format!("search for at most {MAX_QUERY} characters")));
        }
        let mut filters = Vec::new();
        for name in params
            .get("filter")
            .filter(|f| !f.is_empty())
            .map(|f| f.split(',').collect::<Vec<_>>())
            .unwrap_or_default()
        {
            filters.push(app::preset(name).ok_or((
                "filter",
                format!(
                    "unknown filter {name:?}; filters: {}",
                    app::PRESETS
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))?);
        }
        if percent {
            if let Some(range) = page_range(params)? {
                filters.push(range);
            }
        } else if let Some(w) = params.get("where").filter(|w| !w.trim().is_empty()) {
            filters.push(app::Range::parse(w).map_err(|e| ("where", e))?);
        }
        Ok(ListQuery {
            sort: sort.map(|f| (f, desc)),
            q,
            filters,
            page,
            per_page,
        })
    }
}

async fn people(
    State(state): State<Arc<AppState>>,
    Bearer(who): Bearer,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    no_empty(
        &params,
        &["sort", "order", "page", "per_page", "filter", "where"],
    )?;
    let query = ListQuery::parse(&params).map_err(|(f, m)| ApiError::field(f, m))?;
    let snap = state.snapshot();
    let s = snap.clone();
    let q = query.clone();
    let names = who.role.sees_personal_text();
    let st = state.clone();
    let w = who.clone();
    let (listed, total, shown_names) = tokio::task::spawn_blocking(move || {
        let (listed, total) = s.page(
            &st.app,
            &q,
            names,
            (q.page - 1).saturating_mul(q.per_page),
            q.per_page,
        )?;
        let people: Vec<domain::PersonId> = listed.iter().map(|l| l.person.clone()).collect();
        let shown_names = view::list_names(&st, &w, &people);
        Ok::<_, store::StoreError>((listed, total, shown_names))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let people: Vec<Value> = listed
        .iter()
        .zip(shown_names)
        .map(|(l, name)| {
            json!({
                "person": l.person.as_str(),
                "name": name,
                "readings": view::list_readings(&l.fields),
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
                app::own::contact_word(v)
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
        s.app.may_contact(
            &person,
            &channel,
            topic.as_deref(),
            domain::Timestamp::now(),
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::app)?;
    Ok(Json(answer.json))
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
    let doc = view::export(&state, &person, &who.actor())
        .await
        .map_err(ApiError::app)?;
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
        .map_err(ApiError::app)?;
    Ok(Json(json!({"forgotten": true, "events": done.events})))
}

async fn menu(
    State(state): State<Arc<AppState>>,
    Bearer(_who): Bearer,
) -> Result<Json<Value>, ApiError> {
    let s = state.clone();
    let items = tokio::task::spawn_blocking(move || s.app.menu())
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
    let parsed = crate::menu::parse_item(&value).map_err(|(f, m)| ApiError::field(f, m))?;
    let s = state.clone();
    let actor = who.actor();
    let stored = tokio::task::spawn_blocking(move || s.app.menu_put(&item, parsed, &actor))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            app::MenuError::Wrong((f, m)) => ApiError::field(f, m),
            app::MenuError::Full => ApiError {
                status: StatusCode::CONFLICT,
                body: json!({"error": e.to_string(), "field": "item"}),
            },
            app::MenuError::Store(e) => ApiError::store(e),
            other => ApiError::internal(other),
        })?;
    Ok(Json(json!(stored)))
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
    no_empty(&params, &["limit"])?;
    let limit = match params.get("limit").map(String::as_str) {
        None => 20,
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
    use proptest::prelude::*;

    fn doc() -> Value {
        serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON")
    }

    /// The schema of a parameter of an operation.
    fn param(doc: &Value, path: &str, method: &str, name: &str) -> Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))["schema"]
            .clone()
    }

    /// Whether `value` is valid by `schema` (which may refer to the document's components),
    /// formats included. Each schema is compiled once per thread.
    fn valid(doc: &Value, schema: &Value, value: &Value) -> bool {
        thread_local! {
            static COMPILED: std::cell::RefCell<HashMap<String, std::rc::Rc<jsonschema::Validator>>> =
                std::cell::RefCell::default();
        }
        let validator = COMPILED.with(|c| {
            c.borrow_mut()
                .entry(schema.to_string())
                .or_insert_with(|| {
                    let mut root = doc.clone();
                    root["$ref"] = json!("#/$defs/under_test");
                    root["$defs"] = json!({ "under_test": schema });
                    let v = jsonschema::draft202012::options()
                        .should_validate_formats(true)
                        .build(&root)
                        .expect("the schema compiles");
                    std::rc::Rc::new(v)
                })
                .clone()
        });
        validator.is_valid(value)
    }

    #[test]
    fn the_document_names_every_sortable_field_every_kind_and_the_server_s_bounds() {
        let d = doc();
        let sort = param(&d, "/api/people", "get", "sort");
        let listed: Vec<&str> = sort["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, SORTABLE, "the sort parameter's enum is SORTABLE");
        let kinds: Vec<&str> = d["components"]["schemas"]["Event"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["properties"]["kind"]["const"].as_str().unwrap())
            .collect();
        let all: Vec<&str> = domain::Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, all, "one schema per kind of event");
        let menu = &d["components"]["schemas"]["MenuItemInput"]["properties"];
        let kind: Vec<&str> = menu["kind"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(kind, crate::menu::KINDS);
        let bounds = [
            (
                &param(&d, "/api/people", "get", "per_page")["maximum"],
                MAX_PER_PAGE,
            ),
            (
                &param(&d, "/api/people", "get", "page")["maximum"],
                MAX_PAGE,
            ),
            (
                &param(&d, "/api/people", "get", "q")["maxLength"],
                MAX_QUERY,
            ),
            (
                &param(&d, "/api/people/{id}/may-contact", "get", "channel")["maxLength"],
                app::own::MAX_CONTACT_WORD,
            ),
            (
                &param(&d, "/api/scripts", "get", "limit")["maximum"],
                crate::snapshot::SCRIPTS_LISTED,
            ),
            (
                &param(&d, "/api/costs", "get", "limit")["maximum"],
                crate::costs::MAX_LIMIT,
            ),
            (
                &param(&d, "/api/menu/{item}", "put", "item")["maxLength"],
                crate::menu::MAX_ID,
            ),
            (&menu["options"]["maxItems"], crate::menu::MAX_OPTIONS),
            (&menu["title"]["maxLength"], crate::menu::MAX_TITLE),
            (
                &menu["options"]["items"]["properties"]["title"]["maxLength"],
                crate::menu::MAX_TITLE,
            ),
            (
                &d["components"]["schemas"]["EventBatch"]["oneOf"][0]["maxItems"],
                MAX_EVENTS,
            ),
        ];
        for (documented, bound) in bounds {
            assert_eq!(documented.as_u64(), Some(bound as u64));
        }
    }

    /// Text with what trips checks up: spaces of every kind, control characters, letters of
    /// one to four bytes, and lengths on both sides of the bounds.
    fn tricky_text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => prop::sample::select(vec!['a', 'Z', '0', '.', '-', 'é', '語', '𝄞']),
            2 => prop::sample::select(vec![
                ' ', '\t', '\n', '\u{b}', '\u{85}', '\u{a0}', '\u{1680}', '\u{2003}',
                '\u{2028}', '\u{202f}', '\u{3000}', '\u{feff}', '\u{180e}', '\u{200b}'
            ]),
            1 => prop::sample::select(vec!['\u{0}', '\u{7}', '\u{1f}', '\u{7f}', '\u{9f}']),
        ];
        prop_oneof![
            prop::collection::vec(ch.clone(), 0..8),
            prop::collection::vec(ch, 45..210),
        ]
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn a_channel_or_topic_is_valid_by_the_document_exactly_when_the_server_takes_it(
            text in tricky_text()
        ) {
            let d = doc();
            let schema = param(&d, "/api/people/{id}/may-contact", "get", "channel");
            prop_assert_eq!(
                valid(&d, &schema, &json!(text)),
                app::own::contact_word(&text).is_ok()
            );
        }

        #[test]
        fn a_menu_id_is_valid_by_the_document_exactly_when_the_server_takes_it(
            text in tricky_text()
        ) {
            let d = doc();
            let schema = param(&d, "/api/menu/{item}", "put", "item");
            prop_assert_eq!(
                valid(&d, &schema, &json!(text)),
                crate::menu::check_id("item", &text).is_ok()
            );
        }

        #[test]
        fn a_menu_item_s_title_is_valid_by_the_document_exactly_when_the_server_takes_it(
            text in tricky_text()
        ) {
            let d = doc();
            let input = &d["components"]["schemas"]["MenuItemInput"];
            let item = json!({"kind": "topic", "title": text, "options": [{"id": "a", "title": text}]});
            prop_assert_eq!(
                valid(&d, input, &item),
                crate::menu::parse_item(&item).is_ok()
            );
        }

        #[test]
        fn an_event_s_ids_are_valid_by_the_document_exactly_when_the_server_takes_them(
            text in tricky_text()
        ) {
            let d = doc();
            let event = json!({"source": text, "id": "1", "person": "P-1",
                "kind": "consent.given", "at": "2025-01-01T00:00:00Z", "purpose": "news",
                "how": text});
            let schema = json!({"$ref": "#/components/schemas/Event"});
            // The server counts at most 200 bytes, the document 200 characters: the same
            // for text of one-byte characters only.
            prop_assume!(text.len() <= 200 || text.chars().count() > 200);
            prop_assert_eq!(
                valid(&d, &schema, &event),
                domain::NewEvent::from_json(event.as_object().unwrap()).is_ok()
            );
        }
    }

    #[test]
    fn events_the_document_allows_are_the_events_the_server_takes() {
        let d = doc();
        let schema = json!({"$ref": "#/components/schemas/Event"});
        let base = |kind: &str, extra: Value| {
            let mut e = json!({"source": "s", "id": "1", "person": "P-1", "kind": kind,
                               "at": "2025-01-01T10:00:00Z"});
            e.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            e
        };
        let invoice = |amount: &str| {
            base(
                "invoice.issued",
                json!({"invoice": "i", "amount": amount, "currency": "eur", "due": "2025-02-01"}),
            )
        };
        let order = |extra: Value| base("order.placed", json!({"order": "o"}).merge(extra));
        let cases: Vec<(Value, bool)> = vec![
            (invoice("12.5"), true),
            (invoice(" 12.50 "), true),
            (invoice(".5"), true),
            (invoice("5."), true),
            (invoice("1.230"), true),
            (invoice("1.234"), false),
            (invoice("-1"), false),
            (invoice("1e3"), false),
            (invoice(""), false),
            (
                base(
                    "invoice.issued",
                    json!({"invoice": "i", "amount": 12, "currency": "EUR", "due": "2025-02-01"}),
                ),
                false,
            ),
            (
                base(
                    "invoice.issued",
                    json!({"invoice": "i", "amount": "1", "currency": "EURO", "due": "2025-02-01"}),
                ),
                false,
            ),
            (
                base(
                    "invoice.issued",
                    json!({"invoice": "i", "amount": "1", "currency": "EUR", "due": "2025-02-30"}),
                ),
                false,
            ),
            (order(json!({"amount": "3"})), true),
            (
                order(json!({"lines": [{"product": "p", "qty": 2, "unit_price": "1.2345"}]})),
                true,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": "2", "unit_price": "1"}]})),
                true,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": 2.5, "unit_price": "1"}]})),
                false,
            ),
            (order(json!({"lines": []})), false),
            // 2.0 is the number 2 in JSON, and so in the document.
            (
                order(json!({"lines": [{"product": "p", "qty": 2.0, "unit_price": "1"}]})),
                true,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": 1e300, "unit_price": "1"}]})),
                false,
            ),
            (
                order(
                    json!({"lines": [{"product": "p", "qty": -9223372036854775808i64, "unit_price": "1"}]}),
                ),
                false,
            ),
            // Nothing in an order is negative; a return is its own kind.
            (
                order(json!({"lines": [{"product": "p", "qty": -3, "unit_price": "1"}]})),
                false,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": 0, "unit_price": "1"}]})),
                false,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": "0007", "unit_price": "1"}]})),
                true,
            ),
            (
                order(json!({"lines": [{"product": "p", "qty": 2, "unit_price": "-1"}]})),
                false,
            ),
            (order(json!({"amount": "-5.00"})), false),
            (order(json!({"amount": "999999999999.99"})), true),
            (order(json!({"amount": "1000000000000"})), false),
            (
                order(
                    json!({"lines": [{"product": "p", "qty": 999999999999i64, "unit_price": "0.5"}]}),
                ),
                true,
            ),
            (
                order(
                    json!({"lines": [{"product": "p", "qty": 1000000000000i64, "unit_price": "1"}]}),
                ),
                false,
            ),
            (
                base(
                    "order.returned",
                    json!({"order": "o", "lines": [{"product": "p", "qty": -2, "unit_price": "3.25"}]}),
                ),
                true,
            ),
            (
                base(
                    "order.returned",
                    json!({"order": "o", "lines": [{"product": "p", "qty": 0, "unit_price": "3.25"}]}),
                ),
                false,
            ),
            (
                base(
                    "payment.received",
                    json!({"invoice": "i", "amount": "-7.25"}),
                ),
                false,
            ),
            (
                base(
                    "payment.received",
                    json!({"invoice": "i", "amount": "7.25"}),
                ),
                true,
            ),
            (order(json!({"amount": null, "lines": null})), false),
            (order(json!({})), false),
            (
                base("contact.closed", json!({"contact": "c", "resolved": "Yes"})),
                true,
            ),
            (
                base(
                    "contact.closed",
                    json!({"contact": "c", "resolved": "maybe"}),
                ),
                false,
            ),
            (base("review.given", json!({"score": 10})), true),
            (base("review.given", json!({"score": "7"})), true),
            (base("review.given", json!({"score": 7.0})), true),
            (base("review.given", json!({"score": 11})), false),
            (base("review.given", json!({"score": "eleven"})), false),
            (
                base(
                    "dispute.resolved",
                    json!({"invoice": "i", "outcome": "upheld"}),
                ),
                true,
            ),
            (
                base(
                    "dispute.resolved",
                    json!({"invoice": "i", "outcome": "won"}),
                ),
                false,
            ),
            (base("wish.stated", json!({"text": ""})), true),
            (base("wish.stated", json!({"text": null})), false),
            (
                base("outreach.sent", json!({"channel": "email", "topic": "  "})),
                true,
            ),
            (base("outreach.sent", json!({"channel": "  "})), false),
            (
                base(
                    "person.identified",
                    json!({"name": "Ann", "language": null, "unknown": [1]}),
                ),
                true,
            ),
            (
                base("wish.stated", json!({"text": "x", "at": "yesterday"})),
                false,
            ),
            (
                base("wish.stated", json!({"text": "x", "kind": "wish"})),
                false,
            ),
        ];
        for (event, ok) in cases {
            let server = domain::NewEvent::from_json(event.as_object().unwrap());
            assert_eq!(server.is_ok(), ok, "the server on {event}: {server:?}");
            assert_eq!(valid(&d, &schema, &event), ok, "the document on {event}");
        }
        // Just past i64's range, which the document's minimum excludes: parsed as a float it
        // rounds to the very edge, and the server must not take it for the edge.
        let past = order(
            serde_json::from_str(
                r#"{"lines": [{"product": "p", "qty": -9223372036854775809, "unit_price": "1"}]}"#,
            )
            .unwrap(),
        );
        assert!(domain::NewEvent::from_json(past.as_object().unwrap()).is_err());
    }

    /// Merging two JSON objects, for the table above.
    trait Merge {
        fn merge(self, other: Value) -> Value;
    }

    impl Merge for Value {
        fn merge(mut self, other: Value) -> Value {
            if let (Some(a), Value::Object(b)) = (self.as_object_mut(), other) {
                a.extend(b);
            }
            self
        }
    }

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
