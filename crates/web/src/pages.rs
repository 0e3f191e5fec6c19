//! The pages: overview, people, person card, audit, tokens and signing in — rendered on the
//! server from compiled templates (askama escapes everything by default), with plain links and
//! forms and no script at all, so they work in any browser and on a phone.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::card::Side;
use domain::readings::kept::headline_fields;
use domain::readings::{Direction, HEADLINES, SORTABLE, words};
use domain::{Card, PersonId};
use serde::Deserialize;
use store::{AuditEntry, TokenRecord};

use crate::auth::{self, Role, SESSION_COOKIE, SESSION_DAYS, SIGN_IN_COOKIE, Signed};
use crate::charts;
use crate::error::PageError;
use crate::snapshot::{CHANGE_DAYS, Snapshot};
use crate::state::AppState;
use crate::view::{self, CardError};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview))
        .route("/people", get(people))
        .route("/people.csv", get(people_csv))
        .route("/people/{id}", get(card))
        .route("/people/{id}/log", post(log))
        .route("/audit", get(audit))
        .route("/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/menu", get(menu).post(put_menu))
        .route("/scripts", get(scripts))
        .route("/scripts/{id}", get(script))
        .route("/payments", get(payments))
        .route("/payments/{no}/resolve", post(resolve_payment))
        .route("/payments/{no}/dismiss", post(dismiss_payment))
        .route("/static/app.css", get(css))
}

pub async fn not_found() -> PageError {
    PageError::NotFound("There is no page here.".into())
}

/// The navigation bar of a signed-in page.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub admin: bool,
    /// Whether the figures across everyone (hidden costs) are open to this role.
    pub figures: bool,
    /// Whether this role sees personal text (the bank credits waiting for a person).
    pub personal: bool,
}

impl Nav {
    pub fn of(who: &Signed) -> Option<Nav> {
        Some(Nav {
            name: who.0.name.clone(),
            role: who.0.role.as_str(),
            csrf: who.0.csrf.clone().unwrap_or_default(),
            admin: who.0.is_admin(),
            figures: crate::costs::may_see(&who.0),
            personal: who.0.role.sees_personal_text(),
        })
    }
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn reading_title(reading: &str) -> String {
    let mut t = reading.replace('_', " ");
    if let Some(first) = t.get(0..1) {
        t.replace_range(0..1, &first.to_uppercase());
    }
    t
}

/// Pages carry personal data: never cached, never framed, never leaking a referrer.
fn html(body: String) -> Response {
    let mut r = Html(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

// --- Overview -------------------------------------------------------------------------------

pub struct ChartView {
    pub reading: &'static str,
    pub title: String,
    pub field: &'static str,
    /// The figure in words.
    pub label: &'static str,
    pub direction: &'static str,
    pub svg: String,
    pub people: String,
    pub median: Option<String>,
    pub rises: Vec<MoverView>,
    pub falls: Vec<MoverView>,
}

/// A figure beside the headlines, by its quartiles.
pub struct SpreadView {
    pub field: &'static str,
    pub label: &'static str,
    pub people: String,
    pub low: String,
    pub median: String,
    pub high: String,
}

pub struct MoverView {
    pub href: String,
    pub person: String,
    pub name: Option<String>,
    pub before: String,
    pub now: String,
    /// Whether the change is for the better *for this reading*: more disputes rising is
    /// worse, more answers rising is better. Colour and words follow this, not the arrow.
    pub better: bool,
}

impl MoverView {
    /// `better` or `worse`: the CSS class and the word a screen reader says.
    pub fn judgement(&self) -> &'static str {
        if self.better { "better" } else { "worse" }
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    nav: Option<Nav>,
    people: String,
    events: String,
    as_of: String,
    change_days: i64,
    charts: Vec<ChartView>,
    spreads: Vec<SpreadView>,
}

/// Whether a headline moving from `before` to `now` is a change for the better.
fn better(h: &domain::readings::Headline, before: f64, now: f64) -> bool {
    (now > before) == h.higher_is_better
}

fn is_share(field: &str) -> bool {
    field.ends_with("_share")
}

async fn overview(State(state): State<Arc<AppState>>, who: Signed) -> Result<Response, PageError> {
    let snap = state.snapshot();
    let spreads = {
        let (st, sn) = (state.clone(), snap.clone());
        tokio::task::spawn_blocking(move || sn.spreads(&st.app))
            .await?
            .map_err(PageError::internal)?
    };
    // The names of the people shown as movers (three each way per chart), read at once.
    let shown: Vec<PersonId> = snap
        .movers
        .iter()
        .flat_map(|m| m.rises.iter().take(3).chain(m.falls.iter().take(3)))
        .map(|m| m.person.clone())
        .collect();
    let names: HashMap<PersonId, Option<String>> = {
        let (st, w, asked) = (state.clone(), who.0.clone(), shown.clone());
        let names = tokio::task::spawn_blocking(move || view::list_names(&st, &w, &asked)).await?;
        shown.into_iter().zip(names).collect()
    };
    let mover = |h: &domain::readings::Headline, m: &crate::snapshot::Mover| MoverView {
        href: format!("/people/{}", encode(m.person.as_str())),
        person: m.person.to_string(),
        name: names.get(&m.person).cloned().flatten(),
        before: cell(Some(m.before), h.field),
        now: cell(Some(m.now), h.field),
        better: better(h, m.before, m.now),
    };
    let charts = HEADLINES
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let d = &snap.dists[i];
            ChartView {
                reading: h.reading,
                title: reading_title(h.reading),
                field: h.field,
                label: words::label(SORTABLE[headline_fields()[i]]),
                direction: match h.direction {
                    Direction::PersonToBusiness => "how they treat us",
                    Direction::BusinessToPerson => "how we treat them",
                },
                svg: charts::histogram(
                    d,
                    is_share(h.field),
                    words::describe(&format!("{}.{}", h.reading, h.field)),
                ),
                people: charts::people(d.len()),
                median: d.value_at(d.len() / 2).map(|v| cell(Some(v), h.field)),
                rises: snap.movers[i]
                    .rises
                    .iter()
                    .take(3)
                    .map(|m| mover(h, m))
                    .collect(),
                falls: snap.movers[i]
                    .falls
                    .iter()
                    .take(3)
                    .map(|m| mover(h, m))
                    .collect(),
            }
        })
        .collect();
    let page = Overview {
        nav: Nav::of(&who),
        people: domain::values::thousands(&snap.totals.people.to_string()),
        events: domain::values::thousands(&snap.totals.events.to_string()),
        as_of: snap.as_of.to_string(),
        change_days: CHANGE_DAYS,
        charts,
        spreads: spreads
            .iter()
            .map(|sp| {
                let shown = |v: f64| {
                    if words::is_share(sp.field) {
                        format!("{:.0}%", v * 100.0)
                    } else {
                        domain::values::thousands(&format!("{v:.2}"))
                    }
                };
                SpreadView {
                    field: sp.field,
                    label: words::describe(sp.field),
                    people: charts::people(sp.people as usize),
                    low: shown(sp.quartiles[0]),
                    median: shown(sp.quartiles[1]),
                    high: shown(sp.quartiles[2]),
                }
            })
            .collect(),
    };
    Ok(html(page.render()?))
}

// --- People ---------------------------------------------------------------------------------

pub struct Column {
    pub label: String,
    /// The tooltip: the figure described, and its field name as in the JSON.
    pub field: String,
    pub href: String,
    pub sorted: &'static str,
}

pub struct Row {
    pub href: String,
    pub person: String,
    pub name: Option<String>,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "people.html")]
struct People {
    nav: Option<Nav>,
    q: String,
    sorts: Vec<Choice>,
    desc: bool,
    presets: Vec<Choice>,
    fields: Vec<Choice>,
    min: String,
    max: String,
    filtered: bool,
    csv: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    total: usize,
    first: usize,
    last: usize,
    prev: Option<String>,
    next: Option<String>,
    names: bool,
}

/// The figures the people table shows — each headline, then loyalty — each under a heading
/// that says what the figure is. (A reading's name is not enough: under "Personal" the
/// scripted share read as the personal one, 100 % for someone answered only by script.)
const LIST_FIELDS: &[&str] = &[
    "punctuality.on_time_share",
    "invoice_friction.disputed_share",
    "service_load.contacts_per_month",
    "advocacy.referrals",
    "resilience.weathered_share",
    "heard.answered_share",
    "personal.scripted_share",
    "made_right.apologised_share",
    "promises_kept.kept_share",
    "respects_choices.respected_share",
    "loyalty.p_alive",
];

/// The list's search and filters as URL parameters (`&q=…&filter=…`), kept by every link of
/// the page: sorting, paging and the CSV export show the same people.
fn list_params(params: &HashMap<String, String>) -> String {
    let mut h = String::new();
    for name in ["q", "filter", "field", "min", "max"] {
        if let Some(v) = params.get(name).filter(|v| !v.trim().is_empty()) {
            h.push_str(&format!("&{name}={}", encode(v)));
        }
    }
    h
}

/// `&sort=…&order=…` for a list sorted by `sort`, nothing for one in id order.
fn sort_params(sort: Option<(usize, bool)>) -> String {
    sort.map(|(f, desc)| {
        format!(
            "&sort={}&order={}",
            encode(SORTABLE[f]),
            if desc { "desc" } else { "asc" }
        )
    })
    .unwrap_or_default()
}

fn list_href(kept: &str, sort: Option<(usize, bool)>, page: usize) -> String {
    format!("/people?page={page}{kept}{}", sort_params(sort))
}

fn cell(v: Option<f64>, field: &str) -> String {
    match v {
        None => "–".to_owned(),
        Some(v) if words::is_share(field) => format!("{:.0}%", v * 100.0),
        Some(v) => domain::values::thousands(&charts::num(v)),
    }
}

/// A choice of a select box: its value, its words, whether chosen.
pub struct Choice {
    pub value: &'static str,
    pub words: &'static str,
    pub chosen: bool,
}

fn choices(all: impl Iterator<Item = (&'static str, &'static str)>, chosen: &str) -> Vec<Choice> {
    all.map(|(value, words)| Choice {
        value,
        words,
        chosen: value == chosen,
    })
    .collect()
}

/// The people a list shows, from the page's parameters: one page, or (`all`) every page up to
/// [`CSV_ROWS`], with their names as the signed-in person may see them.
async fn listing(
    state: &Arc<AppState>,
    who: &Signed,
    query: &crate::api::ListQuery,
    all: bool,
) -> Result<(Vec<app::Listed>, Vec<Option<String>>, usize), PageError> {
    let snap: Arc<Snapshot> = state.snapshot();
    let names = who.0.role.sees_personal_text();
    let q = query.clone();
    let (st, w) = (state.clone(), who.0.clone());
    let listed = tokio::task::spawn_blocking(move || {
        let (offset, limit) = if all {
            (0, CSV_ROWS)
        } else {
            ((q.page - 1).saturating_mul(q.per_page), q.per_page)
        };
        let (listed, total) = snap.page(&st.app, &q, names, offset, limit)?;
        let people: Vec<PersonId> = listed.iter().map(|l| l.person.clone()).collect();
        let shown_names = view::list_names(&st, &w, &people);
        Ok::<_, store::StoreError>((listed, shown_names, total))
    })
    .await?
    .map_err(PageError::internal)?;
    Ok(listed)
}

/// The most rows one CSV export holds (the list says so when there are more).
pub const CSV_ROWS: usize = 100_000;

async fn people(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let query = crate::api::ListQuery::parse_with(&params, true)
        .map_err(|(f, m)| PageError::BadRequest(format!("{f}: {m}")))?;
    let names = who.0.role.sees_personal_text();
    let (listed, shown_names, total) = listing(&state, &who, &query, false).await?;
    let kept = list_params(&params);
    let field_index: Vec<usize> = LIST_FIELDS
        .iter()
        .filter_map(|f| SORTABLE.iter().position(|p| p == f))
        .collect();
    let columns = field_index
        .iter()
        .map(|&f| {
            let current = query.sort.filter(|(s, _)| *s == f);
            // Clicking a column sorts high to low first; clicking again flips it.
            let desc = current.is_none_or(|(_, d)| !d);
            Column {
                label: words::label(SORTABLE[f]).to_owned(),
                field: format!("{} — {}", words::describe(SORTABLE[f]), SORTABLE[f]),
                href: list_href(&kept, Some((f, desc)), 1),
                sorted: match current {
                    Some((_, true)) => "desc",
                    Some((_, false)) => "asc",
                    None => "",
                },
            }
        })
        .collect();
    let rows = listed
        .iter()
        .zip(shown_names)
        .map(|(l, name)| Row {
            href: format!("/people/{}", encode(l.person.as_str())),
            person: l.person.to_string(),
            name,
            cells: field_index
                .iter()
                .map(|&f| cell(l.fields[f], SORTABLE[f]))
                .collect(),
        })
        .collect();
    let first = (query.page - 1) * query.per_page;
    let sort = query.sort.map(|(f, _)| SORTABLE[f]).unwrap_or("");
    let field = params.get("field").map(String::as_str).unwrap_or("");
    let every = || SORTABLE.iter().map(|f| (*f, words::describe(f)));
    let page = People {
        nav: Nav::of(&who),
        q: query.q.clone(),
        sorts: choices(every(), sort),
        desc: query.sort.is_some_and(|(_, d)| d),
        presets: choices(
            app::PRESETS.iter().map(|p| (p.name, p.words)),
            params.get("filter").map(String::as_str).unwrap_or(""),
        ),
        fields: choices(every(), field),
        min: params.get("min").cloned().unwrap_or_default(),
        max: params.get("max").cloned().unwrap_or_default(),
        filtered: !query.filters.is_empty(),
        columns,
        rows,
        total,
        first: (first + 1).min(total),
        last: (first + query.per_page).min(total),
        prev: (query.page > 1).then(|| list_href(&kept, query.sort, query.page - 1)),
        next: (first + query.per_page < total)
            .then(|| list_href(&kept, query.sort, query.page + 1)),
        csv: format!(
            "/people.csv?{}{}",
            kept.trim_start_matches('&'),
            sort_params(query.sort)
        ),
        names,
    };
    Ok(html(page.render()?))
}

/// What the people list shows, as CSV: every person the search and filters find (up to
/// [`CSV_ROWS`]), sorted as shown, each figure under its words; names as the signed-in person
/// may see them. Recorded in the audit log, like every other export.
async fn people_csv(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let query = crate::api::ListQuery::parse_with(&params, true)
        .map_err(|(f, m)| PageError::BadRequest(format!("{f}: {m}")))?;
    state
        .audit
        .record(&who.0.actor(), "people.export", None)
        .await
        .map_err(PageError::internal)?;
    let (listed, names, _) = listing(&state, &who, &query, true).await?;
    let mut out = csv_line(
        ["person", "name"]
            .into_iter()
            .chain(SORTABLE.iter().map(|f| words::describe(f))),
    );
    for (l, name) in listed.iter().zip(names) {
        out.push_str(&csv_line(
            [l.person.to_string(), name.unwrap_or_default()]
                .into_iter()
                .chain(
                    l.fields
                        .iter()
                        .map(|v| v.map(charts::num).unwrap_or_default()),
                ),
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// One CSV line (RFC 4180: a field with a comma, quote or line break is quoted). A field that
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`: a
/// name is the person's own text.
fn csv_line<S: AsRef<str>>(fields: impl Iterator<Item = S>) -> String {
    let mut line = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let f = f.as_ref();
        let f = if f.starts_with(['=', '+', '@'])
            || (f.starts_with('-') && f.parse::<f64>().is_err())
        {
            format!("'{f}")
        } else {
            f.to_owned()
        };
        if f.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&f);
        }
    }
    line.push_str("\r\n");
    line
}

// --- Card -----------------------------------------------------------------------------------

pub struct SideView {
    pub title: String,
    pub sentence: String,
    pub standing: Option<String>,
    pub strip: Option<String>,
    pub trend: Option<String>,
    pub evidence: Vec<domain::card::Evidence>,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    nav: Option<Nav>,
    card: Card,
    sides: Vec<(&'static str, Vec<SideView>)>,
    timeline_hidden: usize,
    all_href: String,
    /// The timeline's kinds, for its filter.
    kinds: Vec<Choice>,
    /// Whether the signed-in person may write on the card (agents and admins).
    writes: bool,
    /// The person's incidents without an apology, for the apology form.
    incidents: Vec<String>,
    today: String,
    /// What was just written from the card, said once after the redirect.
    logged: Option<String>,
}

impl CardPage {
    /// The day of an RFC 3339 moment.
    fn day<'a>(&self, at: &'a str) -> &'a str {
        at.get(..10).unwrap_or(at)
    }

    /// A language the ledger records (an ISO 639-1 code, usually) by its English name.
    fn language<'a>(&self, code: &'a str) -> &'a str {
        const NAMES: &[(&str, &str)] = &[
            ("ar", "Arabic"),
            ("da", "Danish"),
            ("de", "German"),
            ("en", "English"),
            ("es", "Spanish"),
            ("fr", "French"),
            ("it", "Italian"),
            ("nl", "Dutch"),
            ("pl", "Polish"),
            ("pt", "Portuguese"),
            ("ro", "Romanian"),
            ("sv", "Swedish"),
            ("tr", "Turkish"),
            ("uk", "Ukrainian"),
        ];
        let base = code
            .split(['-', '_'])
            .next()
            .unwrap_or(code)
            .to_ascii_lowercase();
        NAMES
            .iter()
            .find(|(c, _)| *c == base)
            .map_or(code, |(_, name)| name)
    }

    /// A kind of event in words.
    fn kind_words<'a>(&self, kind: &'a str) -> &'a str {
        domain::Kind::parse(kind).map_or(kind, |k| k.words())
    }

    /// A hidden-cost figure for reading.
    fn figure(&self, v: &f64) -> String {
        domain::costs::figure(*v)
    }
}

/// How many timeline entries a card shows before "show all".
const TIMELINE: usize = 100;

/// A reading as the card shows it; the strip chart is added where the person has a figure.
fn side_view(side: &Side) -> SideView {
    SideView {
        title: reading_title(side.reading),
        sentence: side.sentence.clone(),
        standing: side.standing.clone(),
        strip: None,
        trend: side.trend.as_ref().map(|t| {
            format!(
                "last 180 days {} against {} before",
                charts::num(t.recent),
                charts::num(t.earlier)
            )
        }),
        evidence: side.evidence.clone(),
    }
}

async fn card(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (card, snap) = match view::card(&state, &who.0, &id).await {
        Ok(c) => c,
        Err(CardError::NotFound) => {
            return Err(PageError::NotFound(format!(
                "Nobody with the id {id:?} is in the ledger."
            )));
        }
        Err(CardError::Failed(e)) => return Err(PageError::internal(e)),
    };
    let headline_value = |reading: &str| card.readings.headline(reading);
    let views = |sides: &[Side]| -> Vec<SideView> {
        sides
            .iter()
            .map(|s| {
                let mut v = side_view(s);
                if let Some(i) = HEADLINES.iter().position(|h| h.reading == s.reading)
                    && let Some(value) = headline_value(s.reading)
                {
                    v.strip = Some(charts::strip(
                        &snap.dists[i],
                        is_share(HEADLINES[i].field),
                        value,
                    ));
                }
                v
            })
            .collect()
    };
    let theirs = views(&card.person_to_business);
    let ours = views(&card.business_to_person);
    let timeline_all = params.get("timeline").is_some_and(|v| v == "all");
    let mut card = card;
    // The kinds this person's timeline holds, for its filter; then only the chosen one.
    let mut kinds: Vec<&'static str> = card.timeline.iter().map(|m| m.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let only = params
        .get("kind")
        .and_then(|k| kinds.iter().find(|x| **x == k.as_str()).copied());
    if let Some(k) = only {
        card.timeline.retain(|m| m.kind == k);
    }
    let timeline_hidden = if timeline_all {
        0
    } else {
        card.timeline.len().saturating_sub(TIMELINE)
    };
    if !timeline_all {
        card.timeline.truncate(TIMELINE);
    }
    let incidents: Vec<String> = {
        let mut v: Vec<String> = card
            .readings
            .made_right
            .as_ref()
            .map(|m| m.unapologised.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let page = CardPage {
        nav: Nav::of(&who),
        all_href: format!(
            "/people/{}?timeline=all{}#timeline",
            encode(&card.person),
            only.map(|k| format!("&kind={}", encode(k)))
                .unwrap_or_default()
        ),
        kinds: kinds
            .iter()
            .map(|k| Choice {
                value: k,
                words: domain::Kind::parse(k).map_or(k, |k| k.words()),
                chosen: Some(*k) == only,
            })
            .collect(),
        writes: who.0.role.sees_personal_text(),
        incidents,
        today: domain::Timestamp::now().day().to_string(),
        logged: params.get("logged").cloned(),
        card,
        sides: vec![("How they treat us", theirs), ("How we treat them", ours)],
        timeline_hidden,
    };
    Ok(html(page.render()?))
}

#[derive(Deserialize)]
struct LogForm {
    csrf: Option<String>,
    what: Option<String>,
    text: Option<String>,
    channel: Option<String>,
    answer: Option<String>,
    incident: Option<String>,
    due: Option<String>,
}

/// Writes down a note, a contact, an apology or a promise from a card (agents and admins), as
/// an event like any other; back to the card, which says it was done.
async fn log(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(id): Path<String>,
    Form(form): Form<LogForm>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    if !who.0.role.sees_personal_text() {
        return Err(PageError::Forbidden(
            "Only an agent or an admin may write on a card.".into(),
        ));
    }
    let person = PersonId::parse(&id)
        .map_err(|_| PageError::NotFound(format!("Nobody with the id {id:?} is in the ledger.")))?;
    let text = form.text.unwrap_or_default();
    let entry = match form.what.as_deref().unwrap_or("") {
        "note" => app::log::Entry::Note { text },
        "contact" => app::log::Entry::Contact {
            channel: form.channel.unwrap_or_default(),
            text,
            answer: form.answer,
        },
        "apology" => app::log::Entry::Apology {
            incident: form.incident.unwrap_or_default(),
            text,
        },
        "promise" => app::log::Entry::Promise {
            due: form.due.unwrap_or_default(),
            what: text,
        },
        other => {
            return Err(PageError::BadRequest(format!(
                "Choose what to write down: a note, a contact, an apology or a promise (not {other:?})."
            )));
        }
    };
    let what = match &entry {
        app::log::Entry::Note { .. } => "note",
        app::log::Entry::Contact { .. } => "contact",
        app::log::Entry::Apology { .. } => "apology",
        app::log::Entry::Promise { .. } => "promise",
    };
    let s = state.clone();
    let actor = who.0.actor();
    let p = person.clone();
    tokio::task::spawn_blocking(move || {
        s.app
            .log(&p, entry, &actor, &s.audit, crate::state::WRITER_WAIT)
            .map(|summary| {
                if summary.added > 0 {
                    s.mark_dirty();
                }
            })
    })
    .await?
    .map_err(|e| match e {
        app::AppError::NoPerson { .. } => {
            PageError::NotFound(format!("Nobody with the id {id:?} is in the ledger."))
        }
        app::AppError::Invalid { field, message } => {
            PageError::BadRequest(format!("{field}: {message}"))
        }
        other => PageError::from(other),
    })?;
    Ok(Redirect::to(&format!(
        "/people/{}?logged={what}#timeline",
        encode(person.as_str())
    ))
    .into_response())
}

// --- Menu -----------------------------------------------------------------------------------

/// The other wordings of a request, each once and none the same as its text (compared without
/// case, accents, spaces or punctuation): "also said" lists what was said differently.
fn other_wordings(text: Option<&str>, also: Vec<String>) -> Vec<String> {
    let key = |t: &str| -> String {
        crate::snapshot::fold(t)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect()
    };
    let mut seen: std::collections::HashSet<String> = text.map(key).into_iter().collect();
    also.into_iter().filter(|a| seen.insert(key(a))).collect()
}

pub struct Request {
    pub voices: u64,
    pub text: Option<String>,
    pub also: Vec<String>,
    pub period: String,
}

#[derive(Template)]
#[template(path = "menu.html")]
struct MenuPage {
    nav: Option<Nav>,
    admin: bool,
    as_of: String,
    kinds: &'static [&'static str],
    items: Vec<store::MenuItem>,
    people_choosing: u64,
    chosen: Vec<(String, String, u64)>,
    combinations: Vec<(String, u64)>,
    proposals: Vec<Request>,
}

async fn menu(State(state): State<Arc<AppState>>, who: Signed) -> Result<Response, PageError> {
    let report = crate::menu::report(&state, who.0.role.sees_personal_text())
        .await
        .map_err(PageError::internal)?;
    let items: Vec<store::MenuItem> =
        serde_json::from_value(report["menu"].clone()).map_err(PageError::internal)?;
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let chosen = report["chosen"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        str_of(&c["item"]),
                        str_of(&c["option"]),
                        c["people"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let combinations = report["combinations"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(20)
                .map(|c| {
                    let parts: Vec<String> = c["choices"]
                        .as_array()
                        .map(|x| x.iter().map(str_of).collect())
                        .unwrap_or_default();
                    (parts.join(" + "), c["people"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default();
    let proposals = report["proposals"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(100)
                .map(|p| {
                    let day = |v: &serde_json::Value| {
                        v.as_str()
                            .and_then(|s| s.get(..10))
                            .unwrap_or("")
                            .to_owned()
                    };
                    let (first, last) = (day(&p["first"]), day(&p["last"]));
                    let text = p["text"].as_str().map(str::to_owned);
                    Request {
                        voices: p["voices"].as_u64().unwrap_or(0),
                        also: other_wordings(
                            text.as_deref(),
                            p["also_said"]
                                .as_array()
                                .map(|x| x.iter().map(str_of).collect())
                                .unwrap_or_default(),
                        ),
                        text,
                        period: if first == last {
                            first
                        } else {
                            format!("{first} – {last}")
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let page = MenuPage {
        nav: Nav::of(&who),
        admin: who.0.is_admin(),
        as_of: str_of(&report["as_of"]),
        kinds: crate::menu::KINDS,
        items,
        people_choosing: report["people_choosing"].as_u64().unwrap_or(0),
        chosen,
        combinations,
        proposals,
    };
    Ok(html(page.render()?))
}

#[derive(Deserialize)]
struct MenuForm {
    csrf: Option<String>,
    item: Option<String>,
    kind: Option<String>,
    title: Option<String>,
    options: Option<String>,
}

async fn put_menu(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Form(form): Form<MenuForm>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    who.require_admin()?;
    let bad = |(f, m): (&str, String)| PageError::BadRequest(format!("{f}: {m}"));
    let options = crate::menu::parse_options(form.options.as_deref().unwrap_or("")).map_err(bad)?;
    let item = crate::menu::parse_item(&serde_json::json!({
        "kind": form.kind, "title": form.title, "options": options,
    }))
    .map_err(bad)?;
    let id = form.item.clone().unwrap_or_default();
    let s = state.clone();
    let actor = who.0.actor();
    tokio::task::spawn_blocking(move || {
        s.app.menu_put(&id, item, &actor).map_err(|e| match e {
            app::MenuError::Store(e) => PageError::from(e),
            refused => PageError::BadRequest(refused.to_string()),
        })
    })
    .await??;
    Ok(Redirect::to("/menu").into_response())
}

// --- Audit ----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "audit.html")]
struct Audit {
    nav: Option<Nav>,
    entries: Vec<(String, AuditEntry, Option<String>)>,
    older: Option<String>,
}

async fn audit(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    who.require_admin()?;
    let before = match params.get("before") {
        None => None,
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| PageError::BadRequest("before: not a number".into()))?,
        ),
    };
    const PAGE: usize = 100;
    let s = state.clone();
    let rows = tokio::task::spawn_blocking(move || s.app.audit_page(before, PAGE)).await??;
    let older = (rows.len() == PAGE)
        .then(|| rows.last().map(|(seq, _)| format!("/audit?before={seq}")))
        .flatten();
    let entries = rows
        .into_iter()
        .map(|(_, e)| {
            let href = e
                .person
                .as_deref()
                .map(|p| format!("/people/{}", encode(p)));
            (e.at.to_string(), e, href)
        })
        .collect();
    Ok(html(
        Audit {
            nav: Nav::of(&who),
            entries,
            older,
        }
        .render()?,
    ))
}

// --- Tokens ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "tokens.html")]
struct Tokens {
    nav: Option<Nav>,
    tokens: Vec<TokenRecord>,
    created: Option<(String, String)>,
}

async fn token_page(
    state: &Arc<AppState>,
    who: &Signed,
    created: Option<(String, String)>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let tokens = tokio::task::spawn_blocking(move || s.app.tokens()).await??;
    Ok(html(
        Tokens {
            nav: Nav::of(who),
            tokens,
            created,
        }
        .render()?,
    ))
}

async fn tokens(State(state): State<Arc<AppState>>, who: Signed) -> Result<Response, PageError> {
    who.require_admin()?;
    token_page(&state, &who, None).await
}

#[derive(Deserialize)]
struct CreateToken {
    csrf: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

async fn create_token(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Form(form): Form<CreateToken>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    who.require_admin()?;
    let role = form
        .role
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| PageError::BadRequest("role: choose admin, agent or analyst".into()))?;
    let name = form
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| role.as_str().to_owned());
    let s = state.clone();
    let n = name.clone();
    let actor = who.0.actor();
    let token = tokio::task::spawn_blocking(move || s.app.token_create(&n, role.as_str(), &actor))
        .await??;
    token_page(&state, &who, Some((name, token))).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: Option<String>,
}

async fn revoke_token(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    who.require_admin()?;
    let s = state.clone();
    let actor = who.0.actor();
    let revoked = tokio::task::spawn_blocking(move || s.app.token_revoke(id, &actor)).await??;
    state.forget_tokens();
    if !revoked {
        return Err(PageError::NotFound(format!("No live token #{id}.")));
    }
    Ok(Redirect::to("/tokens").into_response())
}

// --- Signing in and out ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    nav: Option<Nav>,
    csrf: String,
    token: String,
    problem: Option<String>,
}

/// The sign-in form. A link may carry the token (`/sign-in?token=…`, as `rapport demo`
/// prints): it only fills in the form; signing in is always a POST.
async fn sign_in_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    sign_in_form(
        &state,
        &headers,
        params.get("token").cloned().unwrap_or_default(),
        None,
        StatusCode::OK,
    )
}

fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    token: String,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    // Double-submit: the form's token must match this cookie, so no other site can sign a
    // browser in to an account of its choosing.
    let csrf = auth::new_secret("");
    let page = SignIn {
        nav: None,
        csrf: csrf.clone(),
        token,
        problem,
    };
    let mut r = (status, html(page.render()?)).into_response();
    let cookie = auth::set_cookie(SIGN_IN_COOKIE, &csrf, 3600, auth::https(state, headers));
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(PageError::internal)?,
    );
    Ok(r)
}

#[derive(Deserialize)]
struct SignInForm {
    csrf: Option<String>,
    token: Option<String>,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let expected = auth::cookie(&headers, SIGN_IN_COOKIE);
    match (expected, form.csrf.as_deref()) {
        (Some(e), Some(sent)) if auth::same(e, sent) => {}
        _ => {
            return Err(PageError::Forbidden(
                "This sign-in form is missing its security token (or it is stale). Open the sign-in page again."
                    .into(),
            ));
        }
    }
    let token = form.token.unwrap_or_default().trim().to_owned();
    let s = state.clone();
    let opened = tokio::task::spawn_blocking(move || s.app.sign_in(&token, SESSION_DAYS)).await??;
    let Some(opened) = opened else {
        return sign_in_form(
            &state,
            &headers,
            String::new(),
            Some("That token is unknown or revoked.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    let session = opened.session;
    let secure = auth::https(&state, &headers);
    let mut r = Redirect::to("/").into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::set_cookie(
            SESSION_COOKIE,
            &session,
            SESSION_DAYS * 86_400,
            secure,
        ))
        .map_err(PageError::internal)?,
    );
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::set_cookie(SIGN_IN_COOKIE, "", 0, secure))
            .map_err(PageError::internal)?,
    );
    Ok(r)
}

async fn sign_out(
    State(state): State<Arc<AppState>>,
    who: Signed,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    if let Some(session) = auth::cookie(&headers, SESSION_COOKIE) {
        let s = state.clone();
        let session = session.to_owned();
        tokio::task::spawn_blocking(move || s.app.sign_out(&session)).await??;
    }
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::set_cookie(
            SESSION_COOKIE,
            "",
            0,
            auth::https(&state, &headers),
        ))
        .map_err(PageError::internal)?,
    );
    Ok(r)
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_for_links() {
        assert_eq!(encode("P-1"), "P-1");
        assert_eq!(encode("a/b c?\"<"), "a%2Fb%20c%3F%22%3C");
    }

    fn headline(reading: &str) -> &'static domain::readings::Headline {
        HEADLINES.iter().find(|h| h.reading == reading).unwrap()
    }

    #[test]
    fn a_change_is_better_or_worse_by_what_the_reading_values() {
        for (reading, before, now, is_better) in [
            ("invoice_friction", 0.1, 0.4, false),
            ("invoice_friction", 0.4, 0.1, true),
            ("service_load", 1.0, 3.0, false),
            ("personal", 0.2, 0.9, false),
            ("heard", 0.5, 0.9, true),
            ("punctuality", 0.9, 0.5, false),
            ("respects_choices", 0.2, 1.0, true),
        ] {
            assert_eq!(
                better(headline(reading), before, now),
                is_better,
                "{reading}: {before} → {now}"
            );
        }
    }

    fn mover(before: f64, now: f64, reading: &str) -> MoverView {
        MoverView {
            href: "/people/P-1".into(),
            person: "P-1".into(),
            name: None,
            before: before.to_string(),
            now: now.to_string(),
            better: better(headline(reading), before, now),
        }
    }

    #[test]
    fn the_overview_colours_rising_disputes_as_worse_and_rising_answers_as_better() {
        let chart = |reading: &'static str, rises, falls| ChartView {
            reading,
            title: reading_title(reading),
            field: headline(reading).field,
            label: "",
            direction: "",
            svg: String::new(),
            people: "2 people".into(),
            median: None,
            rises,
            falls,
        };
        let html = Overview {
            nav: None,
            people: "2".into(),
            events: "2".into(),
            as_of: "2025-01-01".into(),
            change_days: 30,
            spreads: Vec::new(),
            charts: vec![
                chart(
                    "invoice_friction",
                    vec![mover(0.1, 0.5, "invoice_friction")],
                    vec![mover(0.5, 0.0, "invoice_friction")],
                ),
                chart("heard", vec![mover(0.5, 1.0, "heard")], vec![]),
            ],
        }
        .render()
        .unwrap();
        let section = |id: &str| {
            let start = html.find(&format!("id=\"{id}\"")).unwrap();
            html[start..].split("</section>").next().unwrap().to_owned()
        };
        let friction = section("invoice_friction");
        assert!(
            friction.contains(r#"<li class="worse"><span class="change" title="rose: worse" aria-label="rose, worse">▲</span>"#),
            "{friction}"
        );
        assert!(
            friction.contains(r#"<li class="better"><span class="change" title="fell: better" aria-label="fell, better">▼</span>"#),
            "{friction}"
        );
        assert!(
            section("heard")
                .contains(r#"<li class="better"><span class="change" title="rose: better""#)
        );
    }

    #[test]
    fn also_said_lists_only_wordings_that_differ_from_the_request_and_each_other() {
        let also = other_wordings(
            Some("Deliver on Saturdays, please."),
            vec![
                "deliver on saturdays please".into(),
                "Could you deliver on Saturday?".into(),
                "Could you deliver on Saturday!".into(),
                "Saturday deliveries".into(),
            ],
        );
        assert_eq!(
            also,
            vec!["Could you deliver on Saturday?", "Saturday deliveries"]
        );
    }

    #[test]
    fn the_people_list_heads_the_scripted_share_as_answered_by_script_not_personal() {
        for field in LIST_FIELDS {
            assert!(SORTABLE.contains(field), "{field}");
        }
        assert_eq!(
            words::label("personal.scripted_share"),
            "Answered by script"
        );
    }
}

// --- Scripts --------------------------------------------------------------------------------

pub struct ScriptRow {
    pub href: String,
    pub people: u64,
    pub answers: u64,
    pub variants: u64,
    pub period: String,
    pub by: String,
    pub text: Option<String>,
}

fn script_row(s: &store::ScriptSummary) -> ScriptRow {
    ScriptRow {
        href: format!("/scripts/{}", s.id),
        people: s.people,
        answers: s.answers,
        variants: s.variants,
        period: format!("{} – {}", s.first.day().date(), s.last.day().date()),
        by: s
            .by
            .iter()
            .map(|b| format!("{} ({})", b.by, b.answers))
            .collect::<Vec<_>>()
            .join(", "),
        text: s.text.clone(),
    }
}

#[derive(Template)]
#[template(path = "scripts.html")]
struct ScriptsPage {
    nav: Option<Nav>,
    as_of: String,
    answers: u64,
    scripted: u64,
    share: String,
    scripts: u64,
    rows: Vec<ScriptRow>,
}

async fn scripts(State(state): State<Arc<AppState>>, who: Signed) -> Result<Response, PageError> {
    let snap = state.snapshot();
    let o = view::scripts(&snap, &who.0, crate::snapshot::SCRIPTS_LISTED);
    let rows = o.list.iter().map(script_row).collect();
    let page = ScriptsPage {
        nav: Nav::of(&who),
        as_of: snap.as_of.to_string(),
        answers: o.answers,
        scripted: o.scripted,
        share: if o.answers == 0 {
            "–".into()
        } else {
            format!("{:.0}%", 100.0 * o.scripted as f64 / o.answers as f64)
        },
        scripts: o.scripts,
        rows,
    };
    Ok(html(page.render()?))
}

/// How many of a script's answers its page lists.
const RECIPIENTS: usize = 500;

pub struct Recipient {
    pub href: String,
    pub person: String,
    pub name: Option<String>,
    pub at: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "script.html")]
struct ScriptPage {
    nav: Option<Nav>,
    row: ScriptRow,
    recipients: Vec<Recipient>,
    more: u64,
}

/// One script: its text and who received it, when, from whom (latest first).
async fn script(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let missing = || PageError::NotFound(format!("There is no script {id:?}."));
    let number: i64 = id.parse().map_err(|_| missing())?;
    let snap = state.snapshot();
    let o = view::scripts(&snap, &who.0, usize::MAX);
    let s = o
        .list
        .iter()
        .find(|s| s.id == number)
        .ok_or_else(missing)?
        .clone();
    let (st, w) = (state.clone(), who.0.clone());
    let (received, names) = tokio::task::spawn_blocking(move || {
        let received = st.app.ledger().script_recipients(number, RECIPIENTS)?;
        let people: Vec<PersonId> = received.iter().map(|r| r.person.clone()).collect();
        let names = view::list_names(&st, &w, &people);
        Ok::<_, store::StoreError>((received, names))
    })
    .await?
    .map_err(PageError::internal)?;
    let recipients = received
        .iter()
        .zip(names)
        .map(|(r, name)| Recipient {
            href: format!("/people/{}", encode(r.person.as_str())),
            person: r.person.to_string(),
            name,
            at: r
                .at
                .to_rfc3339()
                .get(..16)
                .unwrap_or_default()
                .replace('T', " "),
            by: r.by.clone(),
        })
        .collect::<Vec<_>>();
    let page = ScriptPage {
        nav: Nav::of(&who),
        more: s.answers.saturating_sub(recipients.len() as u64),
        recipients,
        row: script_row(&s),
    };
    Ok(html(page.render()?))
}

// --- Payments waiting for a person ------------------------------------------------------------

/// How many waiting credits the page lists.
const WAITING_LISTED: usize = 200;

pub struct WaitingRow {
    pub no: i64,
    pub booked: String,
    pub amount: String,
    pub payer: String,
    pub said: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    nav: Option<Nav>,
    total: u64,
    rows: Vec<WaitingRow>,
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct PaymentsQuery {
    done: Option<String>,
}

fn may_see_payments(who: &Signed) -> Result<(), PageError> {
    if who.0.role.sees_personal_text() {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "The payers of bank credits are personal: only an agent or an admin sees them.".into(),
        ))
    }
}

/// The bank credits no rule placed on an invoice, oldest first, each with why and a form to
/// place it by hand or dismiss it.
async fn payments(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Query(q): Query<PaymentsQuery>,
) -> Result<Response, PageError> {
    may_see_payments(&who)?;
    let (s, actor) = (state.clone(), who.0.actor());
    let (total, lines) =
        tokio::task::spawn_blocking(move || s.app.unmatched(WAITING_LISTED, &actor, &s.audit))
            .await??;
    let rows = lines
        .iter()
        .map(|l| {
            let d = l.details.clone().unwrap_or_default();
            WaitingRow {
                no: l.no,
                booked: l.booked.to_string(),
                amount: format!("{} {}", l.amount.grouped(l.currency.decimals()), l.currency),
                payer: match (d.counterparty, d.iban) {
                    (Some(n), Some(i)) => format!("{n} ({i})"),
                    (Some(n), None) => n,
                    (None, Some(i)) => i,
                    (None, None) => "not named".into(),
                },
                said: match (d.reference, d.text) {
                    (Some(r), Some(t)) => format!("reference {r}; {t}"),
                    (Some(r), None) => format!("reference {r}"),
                    (None, Some(t)) => t,
                    (None, None) => "nothing".into(),
                },
                why: l.reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    let done = match q.done.as_deref() {
        Some("resolved") => Some("The credit was placed on its invoice, matched by hand.".into()),
        Some("dismissed") => Some("The credit was dismissed: it pays no invoice.".into()),
        _ => None,
    };
    let page = PaymentsPage {
        nav: Nav::of(&who),
        total,
        rows,
        done,
    };
    Ok(html(page.render()?))
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf: Option<String>,
    invoice: Option<String>,
    person: Option<String>,
}

fn line_number(no: &str) -> Result<i64, PageError> {
    no.parse()
        .map_err(|_| PageError::NotFound(format!("There is no bank credit {no:?}.")))
}

fn payment_error(e: app::AppError) -> PageError {
    match e {
        app::AppError::Invalid { field, message } => {
            PageError::BadRequest(format!("{field}: {message}"))
        }
        app::AppError::Refused(m) => PageError::BadRequest(m),
        other => PageError::from(other),
    }
}

async fn resolve_payment(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(no): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    may_see_payments(&who)?;
    let no = line_number(&no)?;
    let invoice = form.invoice.unwrap_or_default();
    let person = match form
        .person
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => {
            Some(PersonId::parse(p).map_err(|e| PageError::BadRequest(format!("person: {e}")))?)
        }
        None => None,
    };
    let (s, actor) = (state.clone(), who.0.actor());
    tokio::task::spawn_blocking(move || {
        s.app
            .resolve_payment(
                no,
                &invoice,
                person.as_ref(),
                &actor,
                &s.audit,
                crate::state::WRITER_WAIT,
            )
            .map(|_| s.mark_dirty())
    })
    .await?
    .map_err(payment_error)?;
    Ok(Redirect::to("/payments?done=resolved").into_response())
}

#[derive(Deserialize)]
pub struct DismissForm {
    csrf: Option<String>,
    reason: Option<String>,
}

async fn dismiss_payment(
    State(state): State<Arc<AppState>>,
    who: Signed,
    Path(no): Path<String>,
    Form(form): Form<DismissForm>,
) -> Result<Response, PageError> {
    who.check_csrf(form.csrf.as_deref())?;
    may_see_payments(&who)?;
    let no = line_number(&no)?;
    let reason = form.reason.unwrap_or_default();
    let (s, actor) = (state.clone(), who.0.actor());
    tokio::task::spawn_blocking(move || {
        s.app
            .dismiss_payment(no, &reason, &actor, &s.audit, crate::state::WRITER_WAIT)
    })
    .await?
    .map_err(payment_error)?;
    Ok(Redirect::to("/payments?done=dismissed").into_response())
}
