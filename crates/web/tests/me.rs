//! The person's own page, tested as someone trying to see another person's data would:
//! links are bound to one person, tampering and expiry are refused, GET changes nothing, and
//! what the person chooses counts at once.

mod common;

use common::{Server, client, start};
use domain::{PersonId, Timestamp};
use rapport_web::selfservice::make_link;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn link(s: &Server, person: &str, days: i64) -> String {
    make_link(
        &s.state.link_key,
        &PersonId::parse(person).unwrap(),
        Timestamp::now().plus_days(days),
    )
}

async fn get(s: &Server, path: &str) -> (StatusCode, String) {
    let r = client().get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn csrf_in(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).unwrap() + r#"name="csrf" value=""#.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

async fn post(s: &Server, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = client().post(s.url(path)).form(form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Names and texts the ledger holds about `person` (read with an admin token).
async fn secrets_of(s: &Server, person: &str) -> Vec<String> {
    let card: Value = client()
        .get(s.url(&format!("/api/people/{person}")))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = vec![card["identity"]["name"].as_str().unwrap().to_owned()];
    if let Some(e) = card["identity"]["email"].as_str() {
        out.push(e.to_owned());
    }
    out
}

fn ledger_state(s: &Server) -> (u64, usize) {
    let totals = s.state.app.ledger().totals().unwrap();
    let audit = s.state.app.ledger().audit_page(None, 100_000).unwrap();
    (totals.events, audit.len())
}

#[tokio::test]
async fn a_persons_link_shows_them_and_nothing_of_anyone_else_whatever_is_put_in_the_url_or_form() {
    let s = start().await;
    let a = link(&s, "P-000001", 7);
    let b_secrets = secrets_of(&s, "P-000002").await;
    let a_secrets = secrets_of(&s, "P-000001").await;
    let (status, html) = get(&s, &format!("/me/{a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&a_secrets[0]));
    for path in [
        format!("/me/{a}"),
        format!("/me/{a}?person=P-000002"),
        format!("/me/{a}/export?person=P-000002"),
        format!("/me/{a}/../P-000002"),
    ] {
        let (_, html) = get(&s, &path).await;
        for secret in &b_secrets {
            assert!(!html.contains(secret), "{secret} of B shown on {path}");
        }
    }
    // A form naming B still records for A.
    let csrf = csrf_in(&html);
    let (status, _) = post(
        &s,
        &format!("/me/{a}/wish"),
        &[
            ("csrf", &csrf),
            ("text", "Only mine"),
            ("person", "P-000002"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let b = s
        .state
        .app
        .ledger()
        .history(&PersonId::parse("P-000002").unwrap())
        .unwrap()
        .unwrap();
    assert!(
        b.iter()
            .all(|e| e.personal.as_ref().and_then(|p| p.text.as_deref()) != Some("Only mine"))
    );
    let a_hist = s
        .state
        .app
        .ledger()
        .history(&PersonId::parse("P-000001").unwrap())
        .unwrap()
        .unwrap();
    assert!(
        a_hist
            .iter()
            .any(|e| e.personal.as_ref().and_then(|p| p.text.as_deref()) == Some("Only mine"))
    );
    // B's id where the link goes is not a link.
    let (status, _) = get(&s, "/me/P-000002").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn a_link_with_a_changed_person_expiry_or_signature_and_an_expired_link_are_refused() {
    let s = start().await;
    let good = link(&s, "P-000001", 7);
    let parts: Vec<&str> = good.split('.').collect();
    use base64::Engine;
    let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("P-000002");
    let later = Timestamp::now().plus_days(300).unix().to_string();
    let mut sig = parts[2].to_owned();
    sig.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    let expired = make_link(
        &s.state.link_key,
        &PersonId::parse("P-000001").unwrap(),
        Timestamp::now().plus_days(-1),
    );
    for bad in [
        format!("{other}.{}.{}", parts[1], parts[2]),
        format!("{}.{later}.{}", parts[0], parts[2]),
        format!("{}.{}.{sig}", parts[0], parts[1]),
        expired.clone(),
        "garbage".to_owned(),
    ] {
        for path in [format!("/me/{bad}"), format!("/me/{bad}/export")] {
            let (status, _) = get(&s, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let (status, _) = post(&s, &format!("/me/{bad}/wish"), &[("text", "x")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (_, html) = get(&s, &format!("/me/{expired}")).await;
    assert!(html.contains("expired"));
    s.stop().await;
}

#[tokio::test]
async fn opening_any_self_service_url_with_get_changes_nothing_in_the_ledger() {
    let s = start().await;
    let a = link(&s, "P-000010", 7);
    let before = ledger_state(&s);
    for path in [
        "",
        "/export",
        "/wish",
        "/menu",
        "/propose",
        "/consent",
        "/forget",
        "/forget/confirm",
    ] {
        let _ = get(&s, &format!("/me/{a}{path}")).await;
    }
    assert_eq!(ledger_state(&s), before);
    // A POST without the form's token changes nothing either.
    let (status, _) = post(
        &s,
        &format!("/me/{a}/forget/confirm"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(ledger_state(&s), before);
    s.stop().await;
}

async fn may_contact(s: &Server, person: &str, channel: &str, topic: &str) -> Value {
    client()
        .get(s.url(&format!(
            "/api/people/{person}/may-contact?channel={channel}&topic={topic}"
        )))
        .bearer_auth(&s.agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn withdrawing_consent_on_the_page_makes_may_contact_answer_no_at_once() {
    let s = start().await;
    let person = "P-000003";
    let yes = may_contact(&s, person, "email", "beans").await;
    assert_eq!(yes["may_contact"], true, "{yes}");
    let a = link(&s, person, 7);
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    let csrf = csrf_in(&html);
    let (status, page) = post(
        &s,
        &format!("/me/{a}/consent"),
        &[
            ("csrf", &csrf),
            ("purpose", "beans"),
            ("action", "withdraw"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("withdrawn"));
    let no = may_contact(&s, person, "email", "beans").await;
    assert_eq!(no["may_contact"], false, "{no}");
    assert_eq!(no["reason"], "consent withdrawn");
    assert_eq!(no["decided_by"]["kind"], "consent.withdrawn");
    assert_eq!(no["decided_by"]["source"], "self-service");
    s.stop().await;
}

#[tokio::test]
async fn a_person_composes_a_menu_proposes_and_is_forgotten_after_confirming() {
    let s = start().await;
    let r = client()
        .put(s.url("/api/menu/roast"))
        .bearer_auth(&s.admin)
        .json(&json!({"kind": "product", "title": "Roast", "options": [{"id": "light"}, {"id": "dark"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a = link(&s, "P-000004", 7);
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    assert!(html.contains("Roast"));
    let csrf = csrf_in(&html);
    let (status, _) = post(
        &s,
        &format!("/me/{a}/menu"),
        &[("csrf", &csrf), ("item", "roast"), ("option", "dark")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &s,
        &format!("/me/{a}/menu"),
        &[("csrf", &csrf), ("item", "roast"), ("option", "purple")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an option not on the menu");
    let (status, _) = post(
        &s,
        &format!("/me/{a}/propose"),
        &[
            ("csrf", &csrf),
            ("item", "roast"),
            ("text", "A decaf house blend, please"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let export = client()
        .get(s.url(&format!("/me/{a}/export")))
        .send()
        .await
        .unwrap();
    let doc: Value = export.json().await.unwrap();
    assert_eq!(doc["person"], "P-000004");
    let texts = doc["events"].to_string();
    assert!(texts.contains("A decaf house blend, please"));

    // Forgetting asks first, then forgets.
    let (status, confirm) = post(&s, &format!("/me/{a}/forget"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("are you sure"));
    assert!(
        s.state
            .app
            .ledger()
            .events_of(&PersonId::parse("P-000004").unwrap())
            .unwrap()
            .is_some()
    );
    let (status, _) = post(
        &s,
        &format!("/me/{a}/forget/confirm"),
        &[("csrf", &csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        s.state
            .app
            .ledger()
            .events_of(&PersonId::parse("P-000004").unwrap())
            .unwrap()
            .is_none()
    );
    let (status, _) = get(&s, &format!("/me/{a}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let log = s.state.app.ledger().audit_page(None, 10).unwrap();
    let forget = log
        .iter()
        .find(|(_, e)| e.action == "person.forget")
        .unwrap();
    assert_eq!(forget.1.person, None, "the audit log does not say who");
    s.stop().await;
}

#[tokio::test]
async fn the_own_page_shows_what_is_held_and_chosen_not_the_business_s_model_of_them() {
    let s = start().await;
    for person in ["P-000001", "P-000003", "P-000010"] {
        let a = link(&s, person, 7);
        let (status, html) = get(&s, &format!("/me/{a}?lang=en")).await;
        assert_eq!(status, StatusCode::OK);
        for model in [
            "percentile",
            "p_alive",
            "among everyone",
            "Expected to spend",
            "expect about",
            "worth about",
            "rapport fit",
            "as we see it",
            "How we treat you",
        ] {
            assert!(!html.contains(model), "{person}'s page shows {model:?}");
        }
        for held in [
            "What has happened between us",
            "Your consent",
            "Everything we hold about you",
            "/export",
            "Forget me",
        ] {
            assert!(html.contains(held), "{person}'s page lacks {held:?}");
        }
    }
    // Told in their terms, from their events.
    let a = link(&s, "P-000010", 7);
    let (_, html) = get(&s, &format!("/me/{a}?lang=en")).await;
    assert!(html.contains("We wrote to you "), "{html}");
    assert!(html.contains("you said no on "), "the withdrawn newsletter");
    // Their download still carries everything held, the figures computed from it included.
    let doc: Value = client()
        .get(s.url(&format!("/me/{a}/export")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["card"]["readings"]["respects_choices"].is_object(),
        "{doc}"
    );
    s.stop().await;
}

#[tokio::test]
async fn purposes_that_need_a_yes_are_offered_on_the_page_and_a_yes_lets_us_write() {
    let s = start().await;
    // Someone new, who never said anything about the newsletter.
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(
            &json!([{"source": "t", "id": "n1", "person": "NEW-1", "kind": "person.identified",
                       "at": "2025-01-01T00:00:00Z", "name": "Nia New"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a = link(&s, "NEW-1", 7);
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    assert!(
        html.contains("<strong>newsletter</strong> <span class=\"muted\">(only with your yes)</span>: you have not said yes"),
        "{html}"
    );
    assert_eq!(
        may_contact(&s, "NEW-1", "email", "newsletter").await["may_contact"],
        false
    );
    let (status, _) = post(
        &s,
        &format!("/me/{a}/consent"),
        &[
            ("csrf", &csrf_in(&html)),
            ("purpose", "newsletter"),
            ("action", "give"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let yes = may_contact(&s, "NEW-1", "email", "newsletter").await;
    assert_eq!(yes["may_contact"], true, "{yes}");
    assert_eq!(yes["decided_by"]["source"], "self-service");
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    assert!(html.contains("you said yes on "), "{html}");
    s.stop().await;
}

/// Someone new with only a name (and a language, if given), as a business records them.
async fn newcomer(s: &Server, person: &str, language: Option<&str>) -> String {
    let mut event = json!({"source": "t", "id": format!("new-{person}"), "person": person,
        "kind": "person.identified", "at": "2025-01-01T00:00:00Z", "name": "Nia New"});
    if let Some(l) = language {
        event["language"] = l.into();
    }
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(&json!([event]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    link(s, person, 7)
}

async fn get_with(s: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = client().get(s.url(path));
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn the_own_page_speaks_french_to_a_french_speaking_person() {
    let s = start().await;
    // Camille Dubois: the ledger holds French for her.
    let a = link(&s, "P-000010", 7);
    let (status, html) = get(&s, &format!("/me/{a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<html lang="fr">"#), "{html}");
    for french in [
        "<h1>Bonjour ",
        "Ce qui s’est passé entre nous",
        "Votre consentement",
        "Tout ce que nous conservons à votre sujet",
        "Nous vous avons écrit ",
        "vous avez dit non le ",
    ] {
        assert!(html.contains(french), "{french:?} not on her page");
    }
    assert!(!html.contains("What has happened between us"));
    // The picker offers the other languages, each in itself.
    for other in [
        r#"<a href="?lang=nl" hreflang="nl" lang="nl">Nederlands</a>"#,
        r#"<a href="?lang=de" hreflang="de" lang="de">Deutsch</a>"#,
        r#"<a href="?lang=en" hreflang="en" lang="en">English</a>"#,
    ] {
        assert!(html.contains(other), "{other}");
    }
    // What she sends from it is answered in French too.
    let (status, page) = post(
        &s,
        &format!("/me/{a}/wish"),
        &[
            ("csrf", &csrf_in(&html)),
            ("lang", "fr"),
            ("text", "Moins d'emballage"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<html lang="fr">"#) && page.contains("Merci"),
        "{page}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_language_rapport_cannot_speak_falls_back_to_english_and_says_so() {
    let s = start().await;
    // Mehmet Yılmaz: the ledger holds Turkish, which the page does not speak (yet).
    let a = link(&s, "P-000001", 7);
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("We cannot show this page in your language (tr) yet."));
    assert!(html.contains("What has happened between us"));
    // Their browser's language is the next best.
    let r = get_with(
        &s,
        &format!("/me/{a}"),
        &[("accept-language", "tr-TR, de;q=0.8, en;q=0.5")],
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("Was zwischen uns geschehen ist"));
    s.stop().await;
}

#[tokio::test]
async fn a_language_chosen_on_the_page_is_remembered_over_the_ledger_s_and_the_browser_s() {
    let s = start().await;
    let a = link(&s, "P-000010", 7);
    let r = get_with(&s, &format!("/me/{a}?lang=de"), &[]).await;
    let cookie = common::cookie_from(&r, "rapport_lang").expect("the choice is remembered");
    assert_eq!(cookie, "rapport_lang=de");
    let set = r.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("Path=/me") && set.contains("HttpOnly"),
        "{set}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="de">"#));
    assert!(html.contains("Ihre Einwilligung"));
    // Next time, without asking: still German, whatever the ledger or the browser say.
    let r = get_with(
        &s,
        &format!("/me/{a}"),
        &[("cookie", &cookie), ("accept-language", "nl")],
    )
    .await;
    assert!(common::cookie_from(&r, "rapport_lang").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    // A language there is no file for changes nothing and is not remembered.
    let r = get_with(&s, &format!("/me/{a}?lang=xx"), &[]).await;
    assert!(common::cookie_from(&r, "rapport_lang").is_none());
    assert!(r.text().await.unwrap().contains(r#"<html lang="fr">"#));
    // Nor can the parameter put anything into the page.
    let (_, html) = get(&s, &format!("/me/{a}?lang=%22%3E%3Cscript%3E")).await;
    assert!(!html.contains("<script>"));
    s.stop().await;
}

/// Whether the page offers both a yes and a no for `purpose`.
fn offers_both(html: &str, purpose: &str) -> bool {
    let field = format!(r#"name="purpose" value="{purpose}">"#);
    html.find(&field).is_some_and(|at| {
        let form = &html[at..at + html[at..].find("</form>").unwrap()];
        form.contains(r#"value="give""#) && form.contains(r#"value="withdraw""#)
    })
}

#[tokio::test]
async fn every_purpose_of_the_business_is_a_consent_control_for_someone_who_recorded_none() {
    let s = start().await;
    // The purposes in anyone's outreach and consents, read from the ledger here.
    let found = std::sync::Mutex::new(std::collections::BTreeSet::new());
    s.state
        .app
        .ledger()
        .visit_events(&|_, events| {
            for e in events {
                let purpose = match &e.body {
                    domain::Body::OutreachSent { topic: Some(t), .. } => t.as_str(),
                    domain::Body::ConsentGiven { purpose, .. } => purpose.as_str(),
                    _ => continue,
                };
                found.lock().unwrap().insert(purpose.to_ascii_lowercase());
            }
        })
        .unwrap();
    let mut purposes = found.into_inner().unwrap();
    purposes.extend(["marketing".to_owned(), "newsletter".to_owned()]);
    assert!(purposes.len() >= 4, "{purposes:?}");
    let a = newcomer(&s, "NEW-7", None).await;
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    for p in &purposes {
        assert!(offers_both(&html, p), "no yes and no for {p:?}: {html}");
    }
    // Someone who said yes can still say no, and the other way round.
    let camille = link(&s, "P-000010", 7);
    let (_, html) = get(&s, &format!("/me/{camille}?lang=en")).await;
    assert!(html.contains("you said no on "));
    for p in &purposes {
        assert!(offers_both(&html, p), "{p:?} on Camille's page");
    }
    // A purpose first used after the server started is offered soon after.
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(
            &json!([{"source": "t", "id": "o-1", "person": "P-000002", "kind": "outreach.sent",
            "at": "2025-02-01T00:00:00Z", "channel": "email", "topic": "tasting-evenings"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut offered = false;
    for _ in 0..100 {
        let (_, html) = get(&s, &format!("/me/{a}")).await;
        if offers_both(&html, "tasting-evenings") {
            offered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(offered, "a new purpose was not offered");
    s.stop().await;
}

#[tokio::test]
async fn menu_choices_start_unset_and_saving_nothing_records_nothing() {
    let s = start().await;
    let r = client()
        .put(s.url("/api/menu/roast"))
        .bearer_auth(&s.admin)
        .json(&json!({"kind": "product", "title": "Roast", "options": [{"id": "light", "title": "Light"}, {"id": "dark", "title": "Dark"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a = newcomer(&s, "NEW-8", Some("nl")).await;
    let (_, html) = get(&s, &format!("/me/{a}?lang=en")).await;
    assert!(html.contains(r#"<legend>Roast</legend>"#), "{html}");
    assert!(html.contains("Not chosen yet."));
    assert!(!html.contains(" checked"), "a choice is made for them");
    assert!(!html.contains(" selected"), "a choice is made for them");
    // Saving without picking records nothing.
    let before = ledger_state(&s).0;
    let (status, page) = post(
        &s,
        &format!("/me/{a}/menu"),
        &[("csrf", &csrf_in(&html)), ("item", "roast")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Nothing saved"), "{page}");
    assert_eq!(ledger_state(&s).0, before);
    // Without its token it is refused, picked or not.
    let (status, _) = post(&s, &format!("/me/{a}/menu"), &[("item", "roast")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // What they pick is recorded, and shown as theirs (in Dutch, as their page speaks).
    let (status, page) = post(
        &s,
        &format!("/me/{a}/menu"),
        &[
            ("csrf", &csrf_in(&html)),
            ("lang", "nl"),
            ("item", "roast"),
            ("option", "dark"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Bewaard"), "{page}");
    assert_eq!(ledger_state(&s).0, before + 1);
    let (_, html) = get(&s, &format!("/me/{a}")).await;
    assert!(html.contains(r#"<html lang="nl">"#));
    assert!(html.contains(r#"value="dark" required checked"#), "{html}");
    assert_eq!(html.matches(" checked").count(), 1);
    assert!(html.contains("Je keuze: Dark (sinds "), "{html}");
    s.stop().await;
}
