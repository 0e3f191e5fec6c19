//! The JSON API against a real server: answers match the OpenAPI document, roles are
//! enforced, bad input gets the right 4xx with the field named, and nothing is half-stored.

mod common;

use common::{check, client, get, openapi, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(
    s: &common::Server,
    token: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn totals(s: &common::Server) -> store::Totals {
    s.state.app.ledger().totals().unwrap()
}

#[tokio::test]
async fn health_and_the_openapi_document_are_served_without_a_token() {
    let s = start().await;
    let doc = openapi(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/events",
        "/api/people",
        "/api/people/{id}",
        "/api/health",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let health: Value = client()
        .get(s.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(&doc, "Health", &health);
    assert_eq!(health["people"], common::PEOPLE);
    s.stop().await;
}

#[tokio::test]
async fn the_people_list_is_paged_sorted_and_matches_the_document() {
    let s = start().await;
    let doc = openapi(&s).await;
    let (status, page) = get(
        &s,
        &s.agent,
        "/api/people?sort=punctuality.on_time_share&order=desc&per_page=7&page=2",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    check(&doc, "PeoplePage", &page);
    assert_eq!(page["total"], common::PEOPLE);
    let people = page["people"].as_array().unwrap();
    assert_eq!(people.len(), 7);
    // High to low, and those without the figure after everyone who has it.
    let values: Vec<Option<f64>> = people
        .iter()
        .map(|p| p["readings"]["punctuality"]["on_time_share"].as_f64())
        .collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    assert!(present.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let first_missing = values
        .iter()
        .position(Option::is_none)
        .unwrap_or(values.len());
    assert!(values[first_missing..].iter().all(Option::is_none));
    s.stop().await;
}

#[tokio::test]
async fn search_finds_people_by_name_for_agents_but_analysts_see_only_pseudonyms() {
    let s = start().await;
    // P-000001 is a showcase person with a known name.
    let (_, card) = get(&s, &s.agent, "/api/people/P-000001").await;
    let name = card["identity"]["name"].as_str().unwrap().to_owned();
    let surname = name.split_whitespace().last().unwrap().to_lowercase();
    let (_, page) = get(&s, &s.agent, &format!("/api/people?q={surname}")).await;
    let found: Vec<&str> = page["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["person"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"P-000001"), "{found:?}");

    let (_, page) = get(&s, &s.analyst, &format!("/api/people?q={surname}")).await;
    assert_eq!(page["total"], 0, "analysts cannot search by name: {page}");
    let (_, page) = get(&s, &s.analyst, "/api/people?q=P-000001").await;
    let row = &page["people"][0];
    assert_eq!(row["person"], "P-000001");
    assert!(row["name"].as_str().unwrap().starts_with("anon-"));
    assert!(!page.to_string().contains(&name));
    s.stop().await;
}

#[tokio::test]
async fn a_card_matches_the_document_and_every_view_is_audited() {
    let s = start().await;
    let doc = openapi(&s).await;
    for person in ["P-000001", "P-000003", "P-000008", "P-000012"] {
        let (status, card) = get(&s, &s.agent, &format!("/api/people/{person}")).await;
        assert_eq!(status, StatusCode::OK, "{card}");
        check(&doc, "Card", &card);
        assert_eq!(card["person"], person);
    }
    let log = s.state.app.ledger().audit_page(None, 10).unwrap();
    let views: Vec<_> = log
        .iter()
        .filter(|(_, e)| e.action == "card.view")
        .map(|(_, e)| (e.actor.as_str(), e.person.as_deref()))
        .collect();
    assert_eq!(views.len(), 4);
    assert!(
        views.contains(&("agent:agent#2", Some("P-000008"))),
        "{views:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_analyst_sees_every_figure_but_no_personal_text() {
    let s = start().await;
    let (_, full) = get(&s, &s.admin, "/api/people/P-000008").await;
    let (status, anon) = get(&s, &s.analyst, "/api/people/P-000008").await;
    assert_eq!(status, StatusCode::OK);
    let text = anon.to_string();
    let name = full["identity"]["name"].as_str().unwrap();
    let email = full["identity"]["email"].as_str().unwrap();
    let wish = full["own_words"]["wishes"][0]["text"].as_str().unwrap();
    for secret in [name, email, wish] {
        assert!(!text.contains(secret), "{secret:?} leaked to an analyst");
    }
    assert_eq!(
        anon["readings"], full["readings"],
        "the figures are the same"
    );
    // The pseudonym is stable across views.
    let (_, again) = get(&s, &s.analyst, "/api/people/P-000008").await;
    assert_eq!(again["identity"]["name"], anon["identity"]["name"]);
    s.stop().await;
}

fn wish(id: &str, person: &str, text: &str) -> Value {
    json!({"source": "web-test", "id": id, "person": person, "kind": "wish.stated",
           "at": "2025-01-02T10:00:00Z", "text": text})
}

#[tokio::test]
async fn a_batch_of_events_is_stored_once_and_again_only_counts_duplicates() {
    let s = start().await;
    let before = totals(&s);
    let batch = json!([
        wish("w1", "P-000001", "Call me after six"),
        wish("w2", "NEW-PERSON", "Hello"),
    ]);
    let (status, body) = post(&s, &s.agent, batch.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"added": 2, "duplicates": 0, "forgotten": 0}));
    let (_, body) = post(&s, &s.agent, json!({"events": batch}).to_string()).await;
    assert_eq!(body, json!({"added": 0, "duplicates": 2, "forgotten": 0}));
    assert_eq!(totals(&s).events, before.events + 2);
    assert_eq!(totals(&s).people, before.people + 1);
    let (_, card) = get(&s, &s.agent, "/api/people/NEW-PERSON").await;
    assert_eq!(card["own_words"]["wishes"][0]["text"], "Hello");
    s.stop().await;
}

#[tokio::test]
async fn a_batch_with_one_bad_event_stores_nothing_and_names_index_and_field() {
    let s = start().await;
    let doc = openapi(&s).await;
    let before = totals(&s);
    let batch = json!([
        wish("ok1", "P-000001", "fine"),
        {"source": "web-test", "id": "bad", "person": "P-000001", "kind": "invoice.issued",
         "at": "2025-01-02T10:00:00Z", "invoice": "I-1", "amount": "12.345", "currency": "EUR",
         "due": "2025-02-01"},
        {"source": "web-test", "id": "bad2", "person": "P-000001", "kind": "wish.stated"},
        "not an object",
    ]);
    let (status, body) = post(&s, &s.admin, batch.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    check(&doc, "Error", &body);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{body}");
    assert_eq!(errors[0]["index"], 1);
    assert_eq!(errors[0]["field"], "amount");
    assert_eq!(errors[1]["index"], 2);
    assert_eq!(errors[1]["field"], "at");
    assert_eq!(errors[2]["index"], 3);
    assert_eq!(totals(&s), before, "nothing of a rejected batch is stored");
    s.stop().await;
}

#[tokio::test]
async fn malformed_json_a_wrong_type_and_a_missing_field_are_400s_naming_the_field() {
    let s = start().await;
    let (status, body) = post(&s, &s.admin, "[{\"source\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "body");
    assert!(body["error"].as_str().unwrap().contains("malformed JSON"));

    let (status, body) = post(&s, &s.admin, json!({"events": 5}).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "events");

    let wrong_type = json!([{"source": "t", "id": "1", "person": "P-1", "kind": "review.given",
                             "at": "2025-01-01T00:00:00Z", "score": "five"}]);
    let (status, body) = post(&s, &s.admin, wrong_type.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "score", "{body}");

    let missing = json!([{"source": "t", "id": "1", "kind": "wish.stated",
                          "at": "2025-01-01T00:00:00Z"}]);
    let (status, body) = post(&s, &s.admin, missing.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "person", "{body}");

    let (status, body) = get(&s, &s.admin, "/api/people?sort=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "sort");
    s.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_stores_nothing() {
    let s = start().await;
    let before = totals(&s);
    let big: Vec<Value> = (0..3000)
        .map(|i| wish(&format!("big{i}"), "P-000001", &"x".repeat(100)))
        .collect();
    let (status, body) = post(&s, &s.admin, json!(big).to_string()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].is_string());
    assert_eq!(totals(&s), before);
    s.stop().await;
}

#[tokio::test]
async fn no_token_a_wrong_one_or_a_revoked_one_is_401_and_a_wrong_role_403() {
    let s = start().await;
    let r = client().get(s.url("/api/people")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let (status, body) = get(&s, "rpt_not-a-token", "/api/people/P-000001").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = post(&s, &s.analyst, "[]").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoking a token shuts it out (the server re-checks cached tokens within seconds).
    let id = s
        .state
        .app
        .ledger()
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.role == "agent")
        .unwrap()
        .id;
    s.state.app.ledger().token_revoke(id).unwrap();
    s.state.forget_tokens();
    let (status, _) = get(&s, &s.agent, "/api/people").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn an_unknown_person_or_route_is_404_in_json_without_internals() {
    let s = start().await;
    for path in [
        "/api/people/NOBODY",
        "/api/people/%00%27%22",
        "/api/nothing-here",
    ] {
        let (status, body) = get(&s, &s.agent, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let text = body.to_string().to_lowercase();
        assert!(body["error"].is_string(), "{path}: {body}");
        assert!(
            !text.contains("sqlite") && !text.contains("panic"),
            "{text}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn new_events_reach_the_list_after_the_background_refresh() {
    let s = start().await;
    let (_, page) = get(&s, &s.agent, "/api/people?q=LATE-COMER").await;
    assert_eq!(page["total"], 0);
    let (status, _) = post(
        &s,
        &s.agent,
        json!([wish("lc", "LATE-COMER", "hi")]).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut total = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, page) = get(&s, &s.agent, "/api/people?q=late-comer").await;
        total = page["total"].clone();
        if total == 1 {
            break;
        }
    }
    assert_eq!(total, 1);
    s.stop().await;
}

#[tokio::test]
async fn may_contact_answers_with_the_reason_and_the_deciding_event() {
    let s = start().await;
    let doc = openapi(&s).await;
    // P-000010 withdrew consent for the newsletter (a showcase person).
    let (status, no) = get(
        &s,
        &s.analyst,
        "/api/people/P-000010/may-contact?channel=email&topic=newsletter",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{no}");
    check(&doc, "MayContact", &no);
    assert_eq!(no["may_contact"], false);
    assert_eq!(no["reason"], "consent withdrawn");
    assert_eq!(no["decided_by"]["kind"], "consent.withdrawn");
    let (status, body) = get(&s, &s.agent, "/api/people/P-000010/may-contact").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "channel");
    let (status, _) = get(&s, &s.agent, "/api/people/NOBODY/may-contact?channel=email").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (query, field) in [
        ("channel=", "channel"),
        ("channel=%20%20", "channel"),
        ("channel=email&topic=", "topic"),
        ("channel=e%07mail", "channel"),
    ] {
        let path = format!("/api/people/P-000010/may-contact?{query}");
        let (status, body) = get(&s, &s.agent, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_newsletter_needs_consent_first_and_may_contact_says_so_until_it_is_given() {
    let s = start().await;
    let doc = openapi(&s).await;
    let event = |id: &str, kind: &str, extra: Value| {
        let mut e = json!({"source": "web-test", "id": id, "person": "OPT-IN-1", "kind": kind,
                           "at": "2025-01-02T10:00:00Z"});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let first = json!([event("p", "person.identified", json!({"name": "Oona Pik"}))]);
    assert_eq!(
        post(&s, &s.agent, first.to_string()).await.0,
        StatusCode::OK
    );
    let ask = "/api/people/OPT-IN-1/may-contact?channel=email&topic=newsletter";
    let (status, no) = get(&s, &s.agent, ask).await;
    assert_eq!(status, StatusCode::OK, "{no}");
    check(&doc, "MayContact", &no);
    assert_eq!(no["may_contact"], false);
    assert_eq!(no["reason"], "no consent given");
    assert_eq!(no["decided_by"], Value::Null);
    // Anything else is opt-out: allowed until they say no.
    let (_, offers) = get(&s, &s.agent, &ask.replace("newsletter", "offers")).await;
    assert_eq!(offers["may_contact"], true, "{offers}");

    let consent = json!([event(
        "c",
        "consent.given",
        json!({"purpose": "newsletter"})
    )]);
    assert_eq!(
        post(&s, &s.agent, consent.to_string()).await.0,
        StatusCode::OK
    );
    let (_, yes) = get(&s, &s.agent, ask).await;
    check(&doc, "MayContact", &yes);
    assert_eq!(yes["may_contact"], true, "{yes}");
    assert_eq!(yes["decided_by"]["kind"], "consent.given");
    s.stop().await;
}

#[tokio::test]
async fn only_an_admin_exports_or_forgets_a_person_and_both_are_audited() {
    let s = start().await;
    let doc = openapi(&s).await;
    let (status, _) = get(&s, &s.agent, "/api/people/P-000005/export").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, export) = get(&s, &s.admin, "/api/people/P-000005/export").await;
    assert_eq!(status, StatusCode::OK);
    check(&doc, "Export", &export);
    assert!(export["events"].as_array().unwrap().len() > 3);
    assert!(export["card"]["identity"]["name"].is_string());
    let delete = |token: String| {
        let url = s.url("/api/people/P-000005");
        async move {
            client()
                .delete(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        delete(s.agent.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = delete(s.admin.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        delete(s.admin.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = get(&s, &s.admin, "/api/people/P-000005").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let log = s.state.app.ledger().audit_page(None, 50).unwrap();
    assert!(
        log.iter()
            .any(|(_, e)| e.action == "person.forget" && e.person.is_none())
    );
    assert!(
        log.iter()
            .all(|(_, e)| e.person.as_deref() != Some("P-000005")),
        "the audit log no longer names them"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_menu_is_kept_by_admins_and_proposals_come_back_grouped_with_their_voices() {
    let s = start().await;
    let doc = openapi(&s).await;
    let put = |token: String, body: Value| {
        let url = s.url("/api/menu/channel.email");
        async move {
            client()
                .put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let item =
        json!({"kind": "channel", "title": "E-mail", "options": [{"id": "yes"}, {"id": "no"}]});
    assert_eq!(
        put(s.agent.clone(), item.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    let bad = put(
        s.admin.clone(),
        json!({"kind": "channel", "title": "E-mail", "options": []}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "options");
    assert_eq!(put(s.admin.clone(), item).await.status(), StatusCode::OK);
    let (_, menu) = get(&s, &s.analyst, "/api/menu").await;
    assert_eq!(menu["items"][0]["item"], "channel.email");

    let decaf_voices = |report: &Value| {
        report["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["text"].as_str().is_some_and(|t| t.contains("decaf")))
            .map_or(0, |g| g["voices"].as_u64().unwrap())
    };
    let (_, before) = get(&s, &s.agent, "/api/menu/choices").await;
    // Three people ask for the same thing in other words; one asks for something else.
    let proposals: Vec<Value> = [
        ("Q-1", "Please sell a decaf version of the house blend"),
        ("Q-2", "please sell a decaf version of your house blend!"),
        ("Q-3", "Sell a decaf version of the house blend please"),
        ("Q-4", "Deliver on Saturday mornings"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (p, t))| {
        json!({"source": "t", "id": format!("pr{i}"), "person": p,
        "kind": "menu.proposed", "at": "2025-03-01T00:00:00Z", "text": t})
    })
    .collect();
    let (status, _) = post(&s, &s.admin, json!(proposals).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, report) = get(&s, &s.agent, "/api/menu/choices").await;
    check(&doc, "Choices", &report);
    assert_eq!(decaf_voices(&report), decaf_voices(&before) + 3, "{report}");
    let (_, hidden) = get(&s, &s.analyst, "/api/menu/choices").await;
    assert!(
        !hidden.to_string().contains("decaf"),
        "analysts see voices, not words"
    );
    s.stop().await;
}

#[tokio::test]
async fn scripts_are_listed_marked_on_the_card_and_posted_answers_join_them() {
    // Enough people for scripts to reach more than five of them.
    let s = common::start_sized(400, |_| {}).await;
    let doc = openapi(&s).await;
    let (status, body) = get(&s, &s.agent, "/api/scripts").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    check(&doc, "Scripts", &body);
    assert!(body["scripts"].as_u64().unwrap() >= 1, "{body}");
    let first = &body["list"][0];
    assert!(first["people"].as_u64().unwrap() > 5);
    assert!(first["text"].is_string());

    // The showcase person answered only by script: every answer marked, and counted.
    let (_, card) = get(&s, &s.agent, "/api/people/P-000011").await;
    let personal = &card["readings"]["personal"];
    assert_eq!(personal["scripted_share"], 1.0, "{personal}");
    let marked = card["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["scripted"] == true)
        .count();
    assert_eq!(marked as u64, personal["scripted"].as_u64().unwrap());

    // Six new people get the same new text through the API: after the refresh, a script.
    let text = "Your zebra-striped teapot request reached our porcelain workshop; the glaze takes a fortnight to settle before anything ships.";
    let answers: Vec<Value> = (0..6)
        .map(|i| {
            json!({"source": "web-test", "id": format!("zebra-{i}"), "person": format!("ZEBRA-{i}"),
                   "kind": "contact.answered", "at": "2025-01-02T10:00:00Z",
                   "contact": format!("z-{i}"), "by": "agent-zed", "text": text})
        })
        .collect();
    let (status, _) = post(&s, &s.agent, json!(answers).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let mut found = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, body) = get(&s, &s.agent, "/api/scripts?limit=100").await;
        found = body["list"].as_array().unwrap().iter().any(|x| {
            x["text"]
                .as_str()
                .is_some_and(|t| t.contains("zebra-striped"))
                && x["people"] == 6
        });
        if found {
            break;
        }
    }
    assert!(found, "the posted answers became a script");
    s.stop().await;
}

#[tokio::test]
async fn analysts_see_a_script_s_text_only_when_that_text_went_to_more_than_five_people() {
    // Enough people for scripts to reach more than five of them.
    let s = common::start_sized(400, |_| {}).await;
    let (status, body) = get(&s, &s.analyst, "/api/scripts?limit=100").await;
    assert_eq!(status, StatusCode::OK);
    for x in body["list"].as_array().unwrap() {
        assert_eq!(
            x["text"].is_string(),
            x["text_people"].as_u64().unwrap() > 5,
            "{x}"
        );
    }
    for bad in ["0", "101", "many"] {
        let (status, body) = get(&s, &s.analyst, &format!("/api/scripts?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["field"], "limit", "{body}");
    }
    let (status, _) = get(&s, "not-a-token", "/api/scripts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

/// What schemathesis found where the document and the server disagreed: each is now refused
/// with a 400 naming the field, as the document says.
#[tokio::test]
async fn empty_parameters_and_unknown_fields_are_400s_naming_them() {
    let s = start().await;
    let doc = openapi(&s).await;
    let before = totals(&s);
    for (path, field) in [
        ("/api/scripts?limit=", "limit"),
        ("/api/people?sort=", "sort"),
        ("/api/people?order=", "order"),
        ("/api/people?page=", "page"),
        ("/api/people?per_page=", "per_page"),
        ("/api/people?sort=COM1", "sort"),
        ("/api/people?page=1000001", "page"),
        ("/api/costs?by=", "by"),
        ("/api/costs?limit=", "limit"),
    ] {
        let (status, body) = get(&s, &s.admin, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        check(&doc, "Error", &body);
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    let q = "q".repeat(201);
    let (status, body) = get(&s, &s.admin, &format!("/api/people?q={q}")).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("q"))
    );

    let extra = json!({"events": [wish("x1", "P-000001", "hi")], "x-unknown": 42});
    let (status, body) = post(&s, &s.admin, extra.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "body");
    assert!(
        body["error"].as_str().unwrap().contains("x-unknown"),
        "{body}"
    );
    assert_eq!(totals(&s), before, "nothing stored");
    s.stop().await;
}

#[tokio::test]
async fn a_menu_item_is_bounded_and_refuses_fields_it_does_not_have() {
    let s = start().await;
    let put = |item: String, body: Value| {
        let url = s.url(&format!("/api/menu/{item}"));
        let token = s.admin.clone();
        async move {
            let r = client()
                .put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let options =
        |n: usize| -> Vec<Value> { (0..n).map(|i| json!({"id": format!("o{i}")})).collect() };
    let cases = [
        (
            json!({"kind": "topic", "title": "T", "options": options(10_000)}),
            "options",
        ),
        (
            json!({"kind": "topic", "title": "T", "options": options(51)}),
            "options",
        ),
        (
            json!({"kind": "topic", "title": "", "options": options(1)}),
            "title",
        ),
        (
            json!({"kind": "topic", "title": "T".repeat(201), "options": options(1)}),
            "title",
        ),
        (
            json!({"kind": "topic", "title": "T", "options": options(1), "price": 3}),
            "body",
        ),
        (
            json!({"kind": "topic", "title": "T", "options": [{"id": "a", "colour": "red"}]}),
            "options",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = put("roast".into(), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (status, answer) = put(
        "x".repeat(51),
        json!({"kind": "topic", "title": "T", "options": options(1)}),
    )
    .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("item"))
    );
    // A full menu takes changes to its items, but no new one.
    let item = json!({"kind": "other", "title": "T", "options": options(2)});
    for i in 0..rapport_web::menu::MAX_ITEMS {
        let (status, answer) = put(format!("i{i}"), item.clone()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (status, answer) = put("one-more".into(), item.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["field"], "item");
    assert_eq!(put("i7".into(), item).await.0, StatusCode::OK);
    s.stop().await;
}
