//! The person's own page: everything held about them, in plain language, and what they can do
//! about it — state wishes, compose their menu, propose, give and withdraw consent, download
//! it all, and have it forgotten.
//!
//! It shows what is held and what they chose, in their own terms ("you placed 12 orders, we
//! answered 4 of your 5 questions"), never the business's model of them: no readings, ranks,
//! predictions or sentences about them in the third person. Their download is complete: it
//! carries everything held, including the figures the business computes from their events,
//! because the right of access covers that too.
//!
//! A person reaches it through a link `rapport link` prints: `/me/<person>.<expiry>.<mac>`,
//! where the MAC is HMAC-SHA-256 over the person and the expiry with a secret derived from the
//! master key. The person on the page is always the one in the verified link — never an id
//! from the URL's other parts or from a form — so one person's link can show nothing of
//! anyone else. Opening the link (GET) never changes anything (mail scanners follow links);
//! every change is a POST carrying an anti-forgery token derived from the link, and answers
//! with a confirmation.
//!
//! It speaks the person's language (see [`crate::i18n`]): their choice on the page (a link
//! per language, `?lang=nl`, remembered in a cookie), else the language the ledger holds for
//! them, else their browser's. Every form carries the language the page spoke, so the answer
//! to it speaks the same. The person has a say in every purpose the business uses (not only
//! those already on their record), and a menu item they never chose shows as not chosen: the
//! page never suggests an answer, and saving records only what they picked.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use domain::card::{Identity, Moment, OwnWords};
use domain::readings::OptIn;
use domain::{Amount, Body, Card, Currency, NewEvent, PersonId, Personal, Timestamp};
use serde::Deserialize;
use store::MenuItem;

use crate::auth;
use crate::error::PageError;
use crate::i18n::{self, Locale};
use crate::state::AppState;

/// How long a link lasts unless `rapport link --valid` says otherwise.
pub const DEFAULT_DAYS: i64 = 14;
/// Longest wish or proposal, in characters.
const MAX_TEXT: usize = 2000;

pub use app::own::{LinkError, make_link, verify_link};

/// The cookie remembering the language a person chose on their page.
const LANG_COOKIE: &str = "rapport_lang";

/// The anti-forgery token of a link's forms.
fn csrf(secret: &[u8; 32], link: &str) -> String {
    app::own::link_csrf(secret, link)
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/me/{link}", get(page))
        .route("/me/{link}/export", get(download))
        .route("/me/{link}/wish", post(wish))
        .route("/me/{link}/menu", post(choose))
        .route("/me/{link}/propose", post(propose))
        .route("/me/{link}/consent", post(consent))
        .route("/me/{link}/forget", post(forget_ask))
        .route("/me/{link}/forget/confirm", post(forget_confirm))
}

/// The verified person of a link, or a page saying why not.
fn verified(state: &AppState, link: &str) -> Result<(PersonId, Timestamp), PageError> {
    match verify_link(&state.link_key, link, Timestamp::now()) {
        Ok(ok) => Ok(ok),
        Err(LinkError::Expired) => Err(PageError::Forbidden(
            "This link has expired. Ask us for a new one.".into(),
        )),
        Err(_) => Err(PageError::Forbidden(
            "This link is not valid. Use the link exactly as you received it.".into(),
        )),
    }
}

fn person_of(state: &AppState, link: &str) -> Result<PersonId, PageError> {
    verified(state, link).map(|(p, _)| p)
}

/// The person of a form posted from their page: the link verified, then the form's token.
fn changing(state: &AppState, link: &str, csrf: Option<&str>) -> Result<PersonId, PageError> {
    let person = person_of(state, link)?;
    check_csrf(state, link, csrf)?;
    Ok(person)
}

fn check_csrf(state: &AppState, link: &str, sent: Option<&str>) -> Result<(), PageError> {
    match sent {
        Some(s) if auth::same(s, &csrf(&state.link_key, link)) => Ok(()),
        _ => Err(PageError::Forbidden(
            "This form is missing its security token. Open your link again and retry.".into(),
        )),
    }
}

fn private(html: String) -> Response {
    let mut r = Html(html).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The language of an answer to a form: the one the page spoke (the form's `lang`), else the
/// one the person chose before, else their browser's.
fn speaks(headers: &HeaderMap, form: Option<&str>) -> &'static Locale {
    i18n::choose(
        &[form, auth::cookie(headers, LANG_COOKIE)],
        None,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A `Set-Cookie` value remembering `code` for a year on the own pages. `SameSite=Lax`, not
/// `Strict`: the person arrives from a link in their mail, and the choice should hold then.
fn lang_cookie(code: &str, secure: bool) -> String {
    let mut c = format!("{LANG_COOKIE}={code}; Path=/me; HttpOnly; SameSite=Lax; Max-Age=31536000");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Every purpose the business uses ([`app::App::purposes_in_use`]), read once and added to as
/// people are written to: reading it means reading every event, too slow for each page.
#[derive(Default)]
pub struct Purposes {
    known: RwLock<Option<Arc<BTreeSet<String>>>>,
    /// Serialises reading, so two first pages do not both read everything.
    loading: Mutex<()>,
}

impl Purposes {
    fn current(&self) -> Option<Arc<BTreeSet<String>>> {
        self.known.read().ok().and_then(|k| k.clone())
    }

    /// The purposes, read from the ledger the first time (blocking).
    pub fn get(&self, app: &app::App) -> Result<Arc<BTreeSet<String>>, app::AppError> {
        if let Some(k) = self.current() {
            return Ok(k);
        }
        let _turn = self.loading.lock();
        if let Some(k) = self.current() {
            return Ok(k);
        }
        let found = Arc::new(app.purposes_in_use()?);
        if let Ok(mut slot) = self.known.write() {
            *slot = Some(found.clone());
        }
        Ok(found)
    }

    /// Reads them ahead of the first page (a server calls this in the background).
    pub fn preload(&self, app: &app::App) {
        if let Err(e) = self.get(app) {
            tracing::warn!("reading the purposes in use: {e}");
        }
    }

    /// Adds the purposes in the events of `people` (written to since), unless not read yet.
    pub fn add(&self, app: &app::App, people: &[PersonId]) {
        let Some(known) = self.current() else {
            return;
        };
        let mut more = (*known).clone();
        for p in people {
            match app.ledger().events_of(p) {
                Ok(Some(events)) => more.extend(app::own::purposes_of(&events)),
                Ok(None) => {}
                Err(e) => tracing::warn!("reading the purposes of new events: {e}"),
            }
        }
        if more.len() > known.len()
            && let Ok(mut slot) = self.known.write()
        {
            *slot = Some(Arc::new(more));
        }
    }

    /// Forgets what was read (others wrote much): read again when next asked for.
    pub fn reset(&self) {
        if let Ok(mut slot) = self.known.write() {
            *slot = None;
        }
    }
}

/// One item of the menu, and where the person stands on it.
pub struct MenuView {
    pub item: String,
    pub title: String,
    /// (id, title, whether it is their current choice): at most one is.
    pub options: Vec<(String, String, bool)>,
    /// "Not chosen yet", or their choice and since when, in their language.
    pub status: String,
}

/// One purpose the person has a say in, and where it stands.
pub struct ConsentView {
    pub purpose: String,
    /// Their latest word on it: given (true) or withdrawn (false), and the day.
    pub given: Option<(bool, String)>,
    /// Whether the business may write about it only after they said yes.
    pub opt_in: bool,
}

impl ConsentView {
    /// Where it stands, in words.
    fn state(&self, t: &Locale) -> String {
        match &self.given {
            Some((true, day)) => t.one("consent.said_yes", "day", day),
            Some((false, day)) => t.one("consent.said_no", "day", day),
            None if self.opt_in => t.get("consent.not_said_opt_in").to_owned(),
            None => t.get("consent.not_said").to_owned(),
        }
    }
}

/// A question of theirs still waiting for an answer.
pub struct Waiting {
    pub since: String,
    pub text: Option<String>,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    nav: Option<crate::pages::Nav>,
    /// The language the page speaks.
    t: &'static Locale,
    /// Every language the page can speak, for the picker.
    languages: &'static [Locale],
    /// Said when the ledger holds a language for them the page cannot speak.
    missing: Option<String>,
    base: String,
    csrf: String,
    person: String,
    identity: Identity,
    own_words: OwnWords,
    between_us: Vec<String>,
    waiting: Vec<Waiting>,
    hidden_costs: Option<domain::costs::Figures>,
    timeline: Vec<Moment>,
    menu: Vec<MenuView>,
    consents: Vec<ConsentView>,
    expires: String,
}

impl MePage {
    fn day<'a>(&self, at: &'a str) -> &'a str {
        at.get(..10).unwrap_or(at)
    }

    fn figure(&self, v: &f64) -> String {
        domain::costs::figure(*v)
    }

    /// "(3 of 5 order lines)", in the page's language.
    fn of_lines(&self, lines: &u64, total: &u64) -> String {
        self.t.fill(
            "costs.lines",
            &[("lines", &lines.to_string()), ("total", &total.to_string())],
        )
    }
}

#[derive(Template)]
#[template(path = "me_done.html")]
struct Done<'a> {
    nav: Option<crate::pages::Nav>,
    t: &'static Locale,
    title: &'a str,
    message: &'a str,
    back: Option<String>,
    confirm: Option<(String, String)>,
}

/// What the page shows, read without changing anything (no audit entry: it is their own).
struct Held {
    history: Vec<domain::card::FullEvent>,
    menu: Vec<MenuItem>,
    catalogue: Option<domain::costs::Catalogue>,
    opt_in: OptIn,
    in_use: Arc<BTreeSet<String>>,
}

async fn load(state: &Arc<AppState>, person: &PersonId) -> Result<Held, PageError> {
    let s = state.clone();
    let p = person.clone();
    let (history, menu, catalogue, opt_in, in_use) = tokio::task::spawn_blocking(move || {
        Ok::<_, app::AppError>((
            s.app.own_history(&p)?,
            s.app.menu()?,
            s.app.catalogue()?,
            s.app.opt_in()?,
            s.purposes.get(&s.app)?,
        ))
    })
    .await??;
    let history =
        history.ok_or_else(|| PageError::NotFound("We hold nothing about you any more.".into()))?;
    Ok(Held {
        history,
        menu,
        catalogue,
        opt_in,
        in_use,
    })
}

#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

async fn page(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (person, expires) = verified(&state, &link)?;
    let held = load(&state, &person).await?;
    let now = Timestamp::now();
    // The card's parts that are theirs — who they are, their words and choices, the events —
    // built without any reading: the page shows none.
    let card = Card::build(
        &person,
        now,
        &held.history,
        &domain::readings::Readings::default(),
    );
    // A language picked on this request (one the page can speak) is remembered.
    let picked = query.lang.as_deref().and_then(i18n::find);
    let t = i18n::choose(
        &[picked.map(|l| l.code), auth::cookie(&headers, LANG_COOKIE)],
        card.identity.language.as_deref(),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let missing = card
        .identity
        .language
        .as_deref()
        .filter(|l| i18n::find(l).is_none())
        .map(|l| t.one("page.missing", "language", l));
    // Each item's current choice: the latest one, as the menu's events are in time order.
    let mut chosen: HashMap<&str, (&str, &str)> = HashMap::new();
    for m in &card.own_words.menu {
        chosen.insert(m.item.as_str(), (m.option.as_str(), m.at.as_str()));
    }
    let menu = held
        .menu
        .iter()
        .map(|m| {
            let current = chosen
                .get(m.item.as_str())
                .filter(|(o, _)| m.options.iter().any(|x| x.id == *o));
            let status = match current {
                Some((option, at)) => {
                    let title = m
                        .options
                        .iter()
                        .find(|x| x.id == *option)
                        .map_or(*option, |x| x.title.as_str());
                    t.fill(
                        "menu.chosen",
                        &[("option", title), ("day", at.get(..10).unwrap_or(at))],
                    )
                }
                None => t.get("menu.not_chosen").to_owned(),
            };
            MenuView {
                item: m.item.clone(),
                title: m.title.clone(),
                options: m
                    .options
                    .iter()
                    .map(|o| {
                        (
                            o.id.clone(),
                            o.title.clone(),
                            current.is_some_and(|(c, _)| *c == o.id),
                        )
                    })
                    .collect(),
                status,
            }
        })
        .collect();
    let consents = consents(&card.own_words, &held.history, &held.opt_in, &held.in_use);
    let page = MePage {
        nav: None,
        t,
        languages: i18n::all(),
        missing,
        base: format!("/me/{link}"),
        csrf: csrf(&state.link_key, &link),
        person: card.person,
        identity: card.identity,
        between_us: between_us(t, &held.history, now),
        waiting: waiting(&held.history, now),
        hidden_costs: held.catalogue.as_ref().map(|c| {
            domain::costs::of_person(
                c,
                held.history
                    .iter()
                    .filter(|e| e.at <= now)
                    .map(|e| (e.at, &e.body)),
            )
        }),
        timeline: card.timeline,
        own_words: card.own_words,
        menu,
        consents,
        expires: expires.to_string(),
    };
    let mut response = private(page.render()?);
    if let Some(l) = picked {
        let cookie = lang_cookie(l.code, auth::https(&state, &headers));
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(PageError::internal)?,
        );
    }
    Ok(response)
}

/// The purposes the person has a say in: every purpose the business uses (`in_use`: those in
/// anyone's events, and those that need consent first), those they gave or withdrew, and
/// those the business contacted them about; in order of purpose.
fn consents(
    own: &OwnWords,
    history: &[domain::card::FullEvent],
    opt_in: &OptIn,
    in_use: &BTreeSet<String>,
) -> Vec<ConsentView> {
    let mut purposes: Vec<String> = own
        .consents
        .iter()
        .map(|c| c.purpose.clone())
        .chain(opt_in.purposes().map(str::to_owned))
        .chain(in_use.iter().cloned())
        .collect();
    for e in history {
        if let Body::OutreachSent { topic: Some(t), .. } = &e.body {
            purposes.push(t.to_string());
        }
    }
    purposes.sort_by_key(|p| p.to_ascii_lowercase());
    purposes.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    purposes
        .into_iter()
        .map(|p| ConsentView {
            given: own
                .consents
                .iter()
                .rev()
                .find(|c| c.purpose.eq_ignore_ascii_case(&p))
                .map(|c| (c.given, c.at.get(..10).unwrap_or(&c.at).to_owned())),
            opt_in: opt_in.needs(&p),
            purpose: p,
        })
        .collect()
}

/// Money per currency, added up exactly: "540.20 EUR", "12.00 EUR and 3000 JPY".
#[derive(Default)]
struct Sums(Vec<(Option<Currency>, Amount)>);

impl Sums {
    fn add(&mut self, currency: Option<Currency>, amount: Amount) {
        match self.0.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, sum)) => *sum = sum.saturating_add(amount),
            None => self.0.push((currency, amount)),
        }
    }

    fn words(&self, t: &'static Locale) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(c, a)| match c {
                Some(c) => format!("{} {c}", a.format(c.decimals())),
                None => a.format(2),
            })
            .collect();
        parts.join(&format!(" {} ", t.get("between.and")))
    }
}

/// What has happened between the person and the business up to `as_of`, in their own terms
/// and language: what they did and what the business did, as counts and dates from the
/// events held — never a judgement, a rank or a prediction.
pub fn between_us(
    t: &'static Locale,
    history: &[domain::card::FullEvent],
    as_of: Timestamp,
) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut events: Vec<&domain::card::FullEvent> =
        history.iter().filter(|e| e.at <= as_of).collect();
    events.sort_by_key(|e| (e.at, e.seq));
    let day = |t: Timestamp| t.day().to_string();

    let (mut orders, mut returns, mut spent, mut last_order) = (0, 0, Sums::default(), None);
    let (mut invoices, mut payments, mut last_invoice) = (0, 0, None);
    let (mut disputed, mut upheld) = (BTreeSet::new(), 0);
    let (mut asked, mut answered) = (BTreeSet::new(), BTreeSet::new());
    let (mut incidents, mut apologised) = (BTreeSet::new(), BTreeSet::new());
    let (mut promised, mut kept) = (BTreeSet::new(), BTreeSet::new());
    let (mut referred, mut reviews, mut last_score) = (0, 0, None);
    let mut topics: BTreeMap<String, usize> = BTreeMap::new();
    let mut ended = None;
    for e in &events {
        match &e.body {
            Body::OrderPlaced {
                amount, currency, ..
            } => {
                orders += 1;
                spent.add(*currency, *amount);
                last_order = Some(e.at);
            }
            Body::OrderReturned { .. } => returns += 1,
            Body::InvoiceIssued { .. } => {
                invoices += 1;
                last_invoice = Some(e.at);
            }
            Body::PaymentReceived { .. } => payments += 1,
            Body::InvoiceDisputed { invoice } => {
                disputed.insert(invoice.as_str());
            }
            Body::DisputeResolved {
                outcome: domain::event::Outcome::Upheld,
                ..
            } => upheld += 1,
            Body::ContactOpened { contact, .. } => {
                asked.insert(contact.as_str());
            }
            Body::ContactAnswered { contact, .. } => {
                answered.insert(contact.as_str());
            }
            Body::IncidentOccurred { incident } => {
                incidents.insert(incident.as_str());
            }
            Body::ApologyMade { incident } => {
                apologised.insert(incident.as_str());
            }
            Body::PromiseMade { promise, .. } => {
                promised.insert(promise.as_str());
            }
            Body::PromiseKept { promise } => {
                kept.insert(promise.as_str());
            }
            Body::ReferralMade { .. } => referred += 1,
            Body::ReviewGiven { score } => {
                reviews += 1;
                last_score = Some(*score);
            }
            Body::OutreachSent { topic, .. } => {
                let about = topic
                    .as_ref()
                    .map_or(t.get("between.other_topics"), |t| t.as_str());
                *topics.entry(about.to_owned()).or_default() += 1;
            }
            Body::RelationshipEnded { .. } => ended = Some(e.at),
            _ => {}
        }
    }

    let mut out = Vec::new();
    if let Some(last) = last_order {
        let (orders, spent, day) = (t.count("count.order", orders), spent.words(t), day(last));
        let mut values = vec![
            ("orders", orders.as_str()),
            ("spent", spent.as_str()),
            ("day", day.as_str()),
        ];
        let times = t.times(returns);
        if returns > 0 {
            values.push(("times", times.as_str()));
            out.push(t.fill("between.orders_returned", &values));
        } else {
            out.push(t.fill("between.orders", &values));
        }
    }
    if let Some(last) = last_invoice {
        out.push(t.fill(
            "between.invoices",
            &[
                ("invoices", &t.count("count.invoice", invoices)),
                ("day", &day(last)),
                ("payments", &t.count("count.payment", payments)),
            ],
        ));
    }
    if !disputed.is_empty() {
        let invoices = t.count("count.invoice", disputed.len());
        if upheld > 0 {
            out.push(t.fill(
                "between.disputed_upheld",
                &[("invoices", &invoices), ("times", &t.times(upheld))],
            ));
        } else {
            out.push(t.one("between.disputed", "invoices", &invoices));
        }
    }
    if !asked.is_empty() {
        let answered_asked = asked.iter().filter(|c| answered.contains(*c)).count();
        out.push(t.fill(
            "between.asked",
            &[
                ("times", &t.times(asked.len())),
                ("answered", &answered_asked.to_string()),
            ],
        ));
    }
    if !incidents.is_empty() {
        let sorry = incidents.iter().filter(|i| apologised.contains(*i)).count();
        out.push(t.fill(
            "between.incidents",
            &[
                ("times", &t.times(incidents.len())),
                ("apologised", &sorry.to_string()),
            ],
        ));
    }
    if !promised.is_empty() {
        let done = promised.iter().filter(|p| kept.contains(*p)).count();
        out.push(t.fill(
            "between.promises",
            &[
                ("promises", &t.count("count.promise", promised.len())),
                ("kept", &done.to_string()),
            ],
        ));
    }
    if referred > 0 {
        out.push(t.one(
            "between.referred",
            "people",
            &t.count("count.person", referred),
        ));
    }
    if let Some(score) = last_score {
        out.push(t.fill(
            "between.reviews",
            &[("times", &t.times(reviews)), ("score", &score.to_string())],
        ));
    }
    if !topics.is_empty() {
        let total: usize = topics.values().sum();
        let about: Vec<String> = topics.iter().map(|(t, n)| format!("{t} {n}")).collect();
        out.push(t.fill(
            "between.wrote",
            &[("times", &t.times(total)), ("topics", &about.join(", "))],
        ));
    }
    if let Some(at) = ended {
        out.push(t.one("between.ended", "day", &day(at)));
    }
    out
}

/// Their questions with no answer yet, oldest first, in their own words.
fn waiting(history: &[domain::card::FullEvent], as_of: Timestamp) -> Vec<Waiting> {
    let mut events: Vec<&domain::card::FullEvent> =
        history.iter().filter(|e| e.at <= as_of).collect();
    events.sort_by_key(|e| (e.at, e.seq));
    let answered: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::ContactAnswered { contact, .. } => Some(contact.as_str()),
            _ => None,
        })
        .collect();
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::ContactOpened { contact, .. } if !answered.contains(contact.as_str()) => {
                Some(Waiting {
                    since: e.at.day().to_string(),
                    text: e.personal.as_ref().and_then(|p| p.text.clone()),
                })
            }
            _ => None,
        })
        .collect()
}

async fn download(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
) -> Result<Response, PageError> {
    let person = person_of(&state, &link)?;
    let s = state.clone();
    let snapshot = state.snapshot();
    let doc = tokio::task::spawn_blocking(move || {
        s.app.own_export(&person, crate::view::ranking(&snapshot))
    })
    .await?
    .map_err(|e| match e {
        app::AppError::NoPerson { .. } => {
            PageError::NotFound("We hold nothing about you any more.".into())
        }
        other => PageError::from(other),
    })?;
    let body = serde_json::to_vec_pretty(&doc).map_err(PageError::internal)?;
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-data.json\""),
    );
    Ok(r)
}

/// The confirmation of a change, in the language the page spoke: `title` and `message` are
/// keys of the language files.
fn done(t: &'static Locale, title: &str, message: &str, link: &str) -> Result<Response, PageError> {
    Ok(private(
        Done {
            nav: None,
            t,
            title: t.get(title),
            message: t.get(message),
            back: Some(format!("/me/{link}")),
            confirm: None,
        }
        .render()?,
    ))
}

/// Records one event the person made on their page.
async fn record(
    state: &Arc<AppState>,
    person: PersonId,
    body: Body,
    personal: Personal,
) -> Result<(), PageError> {
    let mut id = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
    let event = NewEvent {
        source: domain::Source::parse("self-service").map_err(PageError::internal)?,
        id: domain::EventId::parse(&hex::encode(id)).map_err(PageError::internal)?,
        person,
        at: Timestamp::now(),
        body,
        personal,
    };
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.append(vec![event], "self")).await??;
    Ok(())
}

fn text(field: &str, value: Option<String>) -> Result<String, PageError> {
    let t = value.unwrap_or_default().trim().to_owned();
    if t.is_empty() {
        return Err(PageError::BadRequest(format!(
            "Please write your {field} first."
        )));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(PageError::BadRequest(format!(
            "Your {field} is longer than {MAX_TEXT} characters; please shorten it."
        )));
    }
    Ok(t)
}

fn label(field: &str, value: &str) -> Result<domain::values::Label, PageError> {
    domain::values::Label::parse(value)
        .map_err(|_| PageError::BadRequest(format!("{field}: not a valid choice")))
}

#[derive(Deserialize)]
struct WishForm {
    csrf: Option<String>,
    /// The language the page spoke.
    lang: Option<String>,
    text: Option<String>,
}

async fn wish(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<WishForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let words = text("wish", form.text)?;
    let personal = Personal {
        text: Some(words),
        ..Personal::default()
    };
    record(&state, person, Body::WishStated, personal).await?;
    done(t, "done.thanks", "done.wish", &link)
}

#[derive(Deserialize)]
struct ChooseForm {
    csrf: Option<String>,
    /// The language the page spoke.
    lang: Option<String>,
    item: Option<String>,
    option: Option<String>,
}

async fn choose(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ChooseForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    let person = changing(&state, &link, form.csrf.as_deref())?;
    // Nothing picked (the page pre-selects nothing): nothing is recorded.
    let Some(option) = form.option.filter(|o| !o.trim().is_empty()) else {
        return done(t, "done.nothing_title", "done.nothing_chosen", &link);
    };
    let item = form.item.unwrap_or_default();
    let s = state.clone();
    let menu = tokio::task::spawn_blocking(move || s.app.menu()).await??;
    let known = menu
        .iter()
        .find(|m| m.item == item)
        .is_some_and(|m| m.options.iter().any(|o| o.id == option));
    if !known {
        return Err(PageError::BadRequest(
            "That is not one of the menu's choices.".into(),
        ));
    }
    let body = Body::MenuChosen {
        item: label("item", &item)?,
        option: label("option", &option)?,
    };
    record(&state, person, body, Personal::default()).await?;
    done(t, "done.saved", "done.choice", &link)
}

#[derive(Deserialize)]
struct ProposeForm {
    csrf: Option<String>,
    /// The language the page spoke.
    lang: Option<String>,
    item: Option<String>,
    text: Option<String>,
}

async fn propose(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ProposeForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let words = text("proposal", form.text)?;
    let item = match form.item.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(i) => Some(label("item", i)?),
    };
    let personal = Personal {
        text: Some(words),
        ..Personal::default()
    };
    record(&state, person, Body::MenuProposed { item }, personal).await?;
    done(t, "done.thanks", "done.proposal", &link)
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: Option<String>,
    /// The language the page spoke.
    lang: Option<String>,
    purpose: Option<String>,
    action: Option<String>,
}

async fn consent(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let purpose = label("purpose", form.purpose.as_deref().unwrap_or("").trim())?;
    let how = Some(label("how", "self-service")?);
    let (body, message) = match form.action.as_deref() {
        Some("give") => (Body::ConsentGiven { purpose, how }, "done.consent_given"),
        Some("withdraw") => (
            Body::ConsentWithdrawn { purpose, how },
            "done.consent_withdrawn",
        ),
        _ => {
            return Err(PageError::BadRequest(
                "Choose to give or to withdraw.".into(),
            ));
        }
    };
    record(&state, person, body, Personal::default()).await?;
    done(t, "done.saved", message, &link)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
    /// The language the page spoke.
    lang: Option<String>,
    confirm: Option<String>,
}

async fn forget_ask(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    changing(&state, &link, form.csrf.as_deref())?;
    Ok(private(
        Done {
            nav: None,
            t,
            title: t.get("done.forget_title"),
            message: t.get("done.forget_ask"),
            back: Some(format!("/me/{link}")),
            confirm: Some((
                format!("/me/{link}/forget/confirm"),
                csrf(&state.link_key, &link),
            )),
        }
        .render()?,
    ))
}

async fn forget_confirm(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let t = speaks(&headers, form.lang.as_deref());
    let person = changing(&state, &link, form.csrf.as_deref())?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(PageError::BadRequest(
            "Nothing was forgotten: the confirmation was missing.".into(),
        ));
    }
    crate::view::forget(&state, &person, "self")
        .await
        .map_err(PageError::internal)?;
    Ok(private(
        Done {
            nav: None,
            t,
            title: t.get("done.forgotten_title"),
            message: t.get("done.forgotten"),
            back: None,
            confirm: None,
        }
        .render()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::card::FullEvent;

    /// A history from canonical events (source, id and person filled in).
    fn history(list: &[serde_json::Value]) -> Vec<FullEvent> {
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                let mut v = v.clone();
                v["source"] = "t".into();
                v["id"] = format!("e{i}").into();
                v["person"] = "P-1".into();
                let e = NewEvent::from_json(v.as_object().unwrap()).unwrap();
                FullEvent {
                    seq: i as i64 + 1,
                    source: e.source,
                    id: e.id,
                    at: e.at,
                    body: e.body,
                    personal: Some(e.personal),
                    unreadable: false,
                }
            })
            .collect()
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn what_happened_between_us_is_told_in_the_person_s_own_terms() {
        let h = history(&[
            serde_json::json!({"kind": "order.placed", "at": "2024-01-05T10:00:00Z", "order": "o1", "amount": "20.50", "currency": "EUR"}),
            serde_json::json!({"kind": "order.placed", "at": "2024-02-05T10:00:00Z", "order": "o2", "amount": "10", "currency": "EUR"}),
            serde_json::json!({"kind": "order.placed", "at": "2024-02-06T10:00:00Z", "order": "o3", "amount": "300", "currency": "JPY"}),
            serde_json::json!({"kind": "order.returned", "at": "2024-02-07T10:00:00Z", "order": "o3", "amount": "300", "currency": "JPY"}),
            serde_json::json!({"kind": "invoice.issued", "at": "2024-01-05T10:00:00Z", "invoice": "i1", "amount": "20.50", "currency": "EUR", "due": "2024-02-01"}),
            serde_json::json!({"kind": "payment.received", "at": "2024-01-20T10:00:00Z", "invoice": "i1", "amount": "20.50"}),
            serde_json::json!({"kind": "invoice.disputed", "at": "2024-01-06T10:00:00Z", "invoice": "i1"}),
            serde_json::json!({"kind": "dispute.resolved", "at": "2024-01-08T10:00:00Z", "invoice": "i1", "outcome": "upheld"}),
            serde_json::json!({"kind": "contact.opened", "at": "2024-03-01T10:00:00Z", "contact": "c1", "channel": "email", "text": "Where is my order?"}),
            serde_json::json!({"kind": "contact.answered", "at": "2024-03-02T10:00:00Z", "contact": "c1", "by": "ann"}),
            serde_json::json!({"kind": "contact.opened", "at": "2024-03-03T10:00:00Z", "contact": "c2", "channel": "phone", "text": "Can I pay later?"}),
            serde_json::json!({"kind": "incident.occurred", "at": "2024-03-04T10:00:00Z", "incident": "x1"}),
            serde_json::json!({"kind": "incident.occurred", "at": "2024-03-05T10:00:00Z", "incident": "x2"}),
            serde_json::json!({"kind": "apology.made", "at": "2024-03-06T10:00:00Z", "incident": "x1"}),
            serde_json::json!({"kind": "promise.made", "at": "2024-03-06T10:00:00Z", "promise": "p1", "due": "2024-03-10"}),
            serde_json::json!({"kind": "referral.made", "at": "2024-03-07T10:00:00Z", "referred": "P-2"}),
            serde_json::json!({"kind": "review.given", "at": "2024-03-08T10:00:00Z", "score": 6}),
            serde_json::json!({"kind": "review.given", "at": "2024-03-09T10:00:00Z", "score": 8}),
            serde_json::json!({"kind": "outreach.sent", "at": "2024-03-10T10:00:00Z", "channel": "email", "topic": "newsletter"}),
            serde_json::json!({"kind": "outreach.sent", "at": "2024-03-11T10:00:00Z", "channel": "email", "topic": "newsletter"}),
            serde_json::json!({"kind": "outreach.sent", "at": "2024-03-12T10:00:00Z", "channel": "post"}),
            serde_json::json!({"kind": "relationship.ended", "at": "2024-04-01T10:00:00Z", "reason": "moved"}),
            // After the moment asked about: not told.
            serde_json::json!({"kind": "order.placed", "at": "2025-01-01T10:00:00Z", "order": "o9", "amount": "99", "currency": "EUR"}),
        ]);
        assert_eq!(
            between_us(i18n::english(), &h, at("2024-06-01T00:00:00Z")),
            vec![
                "You placed 3 orders with us (30.50 EUR and 300 JPY in all), the latest on 2024-02-06; you sent something back once.",
                "We sent you 1 invoice, the latest on 2024-01-05, and recorded 1 payment from you.",
                "You questioned 1 invoice; we found we were wrong once.",
                "You asked us something twice; we answered 1 of those questions.",
                "Something went wrong on our side twice; we apologised for 1 of those.",
                "We promised you 1 thing; we recorded keeping 0 of them.",
                "You recommended us to 1 person.",
                "You reviewed us twice; your latest score was 8 of 10.",
                "We wrote to you 3 times (newsletter 2, other things 1).",
                "You ended our relationship on 2024-04-01.",
            ]
        );
        assert_eq!(
            between_us(i18n::find("fr").unwrap(), &h, at("2024-06-01T00:00:00Z"))[..2],
            [
                "Vous avez passé 3 commandes chez nous (30.50 EUR et 300 JPY au total), la dernière le 2024-02-06 ; vous nous avez renvoyé quelque chose une fois.",
                "Nous vous avons envoyé 1 facture, la dernière le 2024-01-05, et enregistré 1 paiement de votre part.",
            ]
        );
        let w = waiting(&h, at("2024-06-01T00:00:00Z"));
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].since.as_str(), w[0].text.as_deref()),
            ("2024-03-03", Some("Can I pay later?"))
        );
    }

    #[test]
    fn someone_we_only_know_by_name_has_nothing_between_us_yet() {
        let h = history(&[
            serde_json::json!({"kind": "person.identified", "at": "2024-01-01T00:00:00Z", "name": "Ada"}),
        ]);
        assert!(between_us(i18n::english(), &h, at("2024-06-01T00:00:00Z")).is_empty());
        assert!(waiting(&h, at("2024-06-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn the_purposes_on_the_page_are_every_one_the_business_uses_and_those_on_record() {
        let h = history(&[
            serde_json::json!({"kind": "consent.given", "at": "2024-01-01T00:00:00Z", "purpose": "surveys"}),
            serde_json::json!({"kind": "consent.withdrawn", "at": "2024-02-01T00:00:00Z", "purpose": "Surveys"}),
            serde_json::json!({"kind": "outreach.sent", "at": "2024-03-01T00:00:00Z", "channel": "email", "topic": "offers"}),
        ]);
        let card = Card::build(
            &PersonId::parse("P-1").unwrap(),
            at("2024-06-01T00:00:00Z"),
            &h,
            &domain::readings::Readings::default(),
        );
        // Purposes the business uses with others, this person never heard of.
        let in_use: BTreeSet<String> = ["offers", "events"].map(String::from).into();
        let list = consents(&card.own_words, &h, OptIn::standard(), &in_use);
        let seen: Vec<(&str, Option<bool>, bool)> = list
            .iter()
            .map(|c| (c.purpose.as_str(), c.given.as_ref().map(|g| g.0), c.opt_in))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("events", None, false),
                ("marketing", None, true),
                ("newsletter", None, true),
                ("offers", None, false),
                ("surveys", Some(false), false),
            ]
        );
    }
}
