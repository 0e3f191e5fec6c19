//! The person's own page: everything held about them, in plain language, and what they can do
//! about it — state wishes, compose their menu, propose, give and withdraw consent, download
//! it all, and have it forgotten.
//!
//! A person reaches it through a link `rapport link` prints: `/me/<person>.<expiry>.<mac>`,
//! where the MAC is HMAC-SHA-256 over the person and the expiry with a secret derived from the
//! master key. The person on the page is always the one in the verified link — never an id
//! from the URL's other parts or from a form — so one person's link can show nothing of
//! anyone else. Opening the link (GET) never changes anything (mail scanners follow links);
//! every change is a POST carrying an anti-forgery token derived from the link, and answers
//! with a confirmation.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{Body, Card, NewEvent, PersonId, Personal, Timestamp};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use store::{MenuItem, PersonData, Store};

use crate::auth;
use crate::error::PageError;
use crate::state::AppState;

/// How long a link lasts unless `rapport link --valid` says otherwise.
pub const DEFAULT_DAYS: i64 = 14;
/// Longest wish or proposal, in characters.
const MAX_TEXT: usize = 2000;

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Malformed,
    Forged,
    Expired,
}

fn mac(secret: &[u8; 32], parts: &[&str]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\n");
    }
    m
}

/// A link for `person`, valid until `expires`.
pub fn make_link(secret: &[u8; 32], person: &PersonId, expires: Timestamp) -> String {
    let p = URL_SAFE_NO_PAD.encode(person.as_str());
    let e = expires.unix().to_string();
    let sig = mac(secret, &["link", person.as_str(), &e])
        .finalize()
        .into_bytes();
    format!("{p}.{e}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The person a link is for, if its signature holds and it has not expired at `now`.
pub fn verify_link(
    secret: &[u8; 32],
    link: &str,
    now: Timestamp,
) -> Result<(PersonId, Timestamp), LinkError> {
    let mut parts = link.split('.');
    let (Some(p), Some(e), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Malformed);
    };
    let person = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| PersonId::parse(&s).ok())
        .ok_or(LinkError::Malformed)?;
    let expires = e.parse::<i64>().map_err(|_| LinkError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| LinkError::Malformed)?;
    mac(secret, &["link", person.as_str(), e])
        .verify_slice(&sig)
        .map_err(|_| LinkError::Forged)?;
    let expires = Timestamp::from_unix(expires);
    if expires <= now {
        return Err(LinkError::Expired);
    }
    Ok((person, expires))
}

/// The anti-forgery token of a link's forms.
fn csrf(secret: &[u8; 32], link: &str) -> String {
    let out = mac(secret, &["csrf", link]).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&out[..16])
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

pub struct MenuView {
    pub item: String,
    pub title: String,
    pub options: Vec<(String, String, bool)>,
}

pub struct ConsentView {
    pub purpose: String,
    pub given: Option<bool>,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    nav: Option<crate::pages::Nav>,
    base: String,
    csrf: String,
    card: Card,
    menu: Vec<MenuView>,
    consents: Vec<ConsentView>,
    expires: String,
}

impl MePage {
    fn day<'a>(&self, at: &'a str) -> &'a str {
        at.get(..10).unwrap_or(at)
    }

    /// A reading's name as words: `promises_kept` → "Promises kept".
    fn title(&self, reading: &str) -> String {
        crate::pages::reading_title(reading)
    }

    fn figure(&self, v: &f64) -> String {
        domain::costs::figure(*v)
    }
}

#[derive(Template)]
#[template(path = "me_done.html")]
struct Done<'a> {
    nav: Option<crate::pages::Nav>,
    title: &'a str,
    message: &'a str,
    back: Option<String>,
    confirm: Option<(String, String)>,
}

/// The person's card and what they can choose, read without changing anything.
async fn load(
    state: &Arc<AppState>,
    person: &PersonId,
) -> Result<(Card, Vec<MenuItem>, Vec<domain::card::FullEvent>), PageError> {
    let s = state.clone();
    let p = person.clone();
    let (history, menu, catalogue) = tokio::task::spawn_blocking(move || {
        s.readers.with(|st| {
            Ok::<_, store::StoreError>((st.history(&p)?, st.menu()?, store::Costs::catalogue(st)?))
        })
    })
    .await??;
    let history =
        history.ok_or_else(|| PageError::NotFound("We hold nothing about you any more.".into()))?;
    let now = Timestamp::now();
    let readings = crate::view::readings_now(&state.snapshot(), &history, now);
    let mut card = Card::build(person, now, &history, &readings);
    card.hidden_costs = crate::view::hidden_costs(catalogue.as_ref(), &history, now);
    Ok((card, menu, history))
}

async fn page(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
) -> Result<Response, PageError> {
    let (person, expires) = verified(&state, &link)?;
    let (card, menu, history) = load(&state, &person).await?;
    let chosen: HashMap<&str, &str> = card
        .own_words
        .menu
        .iter()
        .map(|m| (m.item.as_str(), m.option.as_str()))
        .collect();
    let menu = menu
        .iter()
        .map(|m| MenuView {
            item: m.item.clone(),
            title: m.title.clone(),
            options: m
                .options
                .iter()
                .map(|o| {
                    (
                        o.id.clone(),
                        o.title.clone(),
                        chosen.get(m.item.as_str()) == Some(&o.id.as_str()),
                    )
                })
                .collect(),
        })
        .collect();
    // Purposes the person has a say in: those they gave or withdrew, those the business
    // contacted them about, and the menu's topics.
    let mut purposes: Vec<String> = card
        .own_words
        .consents
        .iter()
        .map(|c| c.purpose.clone())
        .collect();
    for e in &history {
        if let Body::OutreachSent { topic: Some(t), .. } = &e.body {
            purposes.push(t.to_string());
        }
    }
    purposes.sort();
    purposes.dedup();
    let consents = purposes
        .into_iter()
        .map(|p| ConsentView {
            given: card
                .own_words
                .consents
                .iter()
                .find(|c| c.purpose == p)
                .map(|c| c.given),
            purpose: p,
        })
        .collect();
    let expires = expires.to_string();
    let page = MePage {
        nav: None,
        base: format!("/me/{link}"),
        csrf: csrf(&state.link_key, &link),
        card,
        menu,
        consents,
        expires,
    };
    Ok(private(page.render()?))
}

async fn download(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
) -> Result<Response, PageError> {
    let person = person_of(&state, &link)?;
    let doc = crate::view::export(&state, &person)
        .await
        .map_err(PageError::internal)?
        .ok_or_else(|| PageError::NotFound("We hold nothing about you any more.".into()))?;
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

fn done(title: &str, message: &str, link: &str) -> Result<Response, PageError> {
    Ok(private(
        Done {
            nav: None,
            title,
            message,
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
    tokio::task::spawn_blocking(move || s.append(vec![event])).await??;
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
    text: Option<String>,
}

async fn wish(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<WishForm>,
) -> Result<Response, PageError> {
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let t = text("wish", form.text)?;
    let personal = Personal {
        text: Some(t),
        ..Personal::default()
    };
    record(&state, person, Body::WishStated, personal).await?;
    done(
        "Thank you",
        "Your wish is recorded, in your own words, for everyone who helps you here.",
        &link,
    )
}

#[derive(Deserialize)]
struct ChooseForm {
    csrf: Option<String>,
    item: Option<String>,
    option: Option<String>,
}

async fn choose(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<ChooseForm>,
) -> Result<Response, PageError> {
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let (item, option) = (
        form.item.unwrap_or_default(),
        form.option.unwrap_or_default(),
    );
    let s = state.clone();
    let menu = tokio::task::spawn_blocking(move || s.readers.with(|st| st.menu())).await??;
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
    done(
        "Saved",
        "Your choice is saved; it counts from now on.",
        &link,
    )
}

#[derive(Deserialize)]
struct ProposeForm {
    csrf: Option<String>,
    item: Option<String>,
    text: Option<String>,
}

async fn propose(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<ProposeForm>,
) -> Result<Response, PageError> {
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let t = text("proposal", form.text)?;
    let item = match form.item.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(i) => Some(label("item", i)?),
    };
    let personal = Personal {
        text: Some(t),
        ..Personal::default()
    };
    record(&state, person, Body::MenuProposed { item }, personal).await?;
    done(
        "Thank you",
        "Your proposal is recorded. When others ask for the same, we see them together.",
        &link,
    )
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: Option<String>,
    purpose: Option<String>,
    action: Option<String>,
}

async fn consent(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, PageError> {
    let person = changing(&state, &link, form.csrf.as_deref())?;
    let purpose = label("purpose", form.purpose.as_deref().unwrap_or("").trim())?;
    let how = Some(label("how", "self-service")?);
    let (body, message) = match form.action.as_deref() {
        Some("give") => (
            Body::ConsentGiven { purpose, how },
            "Your consent is recorded.",
        ),
        Some("withdraw") => (
            Body::ConsentWithdrawn { purpose, how },
            "Your consent is withdrawn, from this moment on.",
        ),
        _ => {
            return Err(PageError::BadRequest(
                "Choose to give or to withdraw.".into(),
            ));
        }
    };
    record(&state, person, body, Personal::default()).await?;
    done("Saved", message, &link)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
    confirm: Option<String>,
}

async fn forget_ask(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    changing(&state, &link, form.csrf.as_deref())?;
    Ok(private(
        Done {
            nav: None,
            title: "Forget me — are you sure?",
            message: "Everything we hold about you — your name, contact details, words and history — will be destroyed for good, and this link will stop working. Amounts and dates that identify nobody may stay in our totals. This cannot be undone; download your data first if you want a copy.",
            back: Some(format!("/me/{link}")),
            confirm: Some((format!("/me/{link}/forget/confirm"), csrf(&state.link_key, &link))),
        }
        .render()?,
    ))
}

async fn forget_confirm(
    State(state): State<Arc<AppState>>,
    Path(link): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
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
            title: "Forgotten",
            message: "Everything we held about you is destroyed. Thank you for the time we had.",
            back: None,
            confirm: None,
        }
        .render()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_for_its_person_until_it_expires_and_not_when_altered() {
        let k = [3u8; 32];
        let p = PersonId::parse("P-1").unwrap();
        let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
        let link = make_link(&k, &p, now.plus_days(1));
        assert_eq!(verify_link(&k, &link, now).unwrap().0, p);
        assert_eq!(
            verify_link(&k, &link, now.plus_days(2)),
            Err(LinkError::Expired)
        );
        let other = URL_SAFE_NO_PAD.encode("P-2");
        let parts: Vec<&str> = link.split('.').collect();
        let swapped = format!("{other}.{}.{}", parts[1], parts[2]);
        assert_eq!(verify_link(&k, &swapped, now), Err(LinkError::Forged));
        let later = format!("{}.{}.{}", parts[0], now.plus_days(99).unix(), parts[2]);
        assert_eq!(verify_link(&k, &later, now), Err(LinkError::Forged));
        assert_eq!(verify_link(&[4u8; 32], &link, now), Err(LinkError::Forged));
        assert_eq!(verify_link(&k, "nonsense", now), Err(LinkError::Malformed));
    }
}
