//! A running server and promises made elsewhere: someone forgotten from the command line (or
//! by another server) disappears from every list, search and chart within seconds, and a write
//! that meets a long import answers 503 with Retry-After, never 500.

mod common;

use app::{App, Location};
use common::*;
use domain::PersonId;
use reqwest::StatusCode;
use serde_json::json;

/// A person of the demo ledger with a name, and that name.
fn someone_named(s: &Server) -> (PersonId, String) {
    s.state
        .app
        .ledger()
        .names()
        .unwrap()
        .into_iter()
        .next()
        .expect("someone has a name")
}

async fn search(s: &Server, q: &str) -> (u64, serde_json::Value) {
    let (status, body) = get(s, &s.admin, &format!("/api/people?q={q}")).await;
    assert_eq!(status, StatusCode::OK);
    (body["total"].as_u64().unwrap(), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn forgetting_on_the_command_line_reaches_a_running_server_within_seconds() {
    let s = start().await;
    let (person, name) = someone_named(&s);
    let first_word = name.split_whitespace().next().unwrap().to_lowercase();
    assert_eq!(search(&s, person.as_str()).await.0, 1);
    let before_total = s.state.snapshot().totals.people;
    let (_, health) = get(&s, &s.admin, "/api/health").await;
    let charted: usize = s.state.snapshot().dists.iter().map(|d| d.len()).sum();

    // As `rapport forget` does, in its own process with its own connection.
    let db = s.db();
    let key = s.key.clone();
    let p = person.clone();
    tokio::task::spawn_blocking(move || {
        let cli = App::open(&Location::Sqlite(db), key).unwrap();
        cli.ledger().forget(&p).unwrap().unwrap();
    })
    .await
    .unwrap();

    let started = std::time::Instant::now();
    loop {
        let charted_now: usize = s.state.snapshot().dists.iter().map(|d| d.len()).sum();
        if search(&s, person.as_str()).await.0 == 0
            && s.state.snapshot().totals.people == before_total - 1
            && charted_now < charted
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "still listed after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Nowhere else either: not by name, not in the count, not in the charts, no card.
    let (_, by_name) = search(&s, &first_word).await;
    assert!(
        !by_name.to_string().contains(person.as_str()),
        "found by name: {by_name}"
    );
    assert_eq!(s.state.snapshot().totals.people, before_total - 1);
    let (_, health_after) = get(&s, &s.admin, "/api/health").await;
    assert_ne!(health["people"], health_after["people"]);
    let charted_after: usize = s.state.snapshot().dists.iter().map(|d| d.len()).sum();
    assert!(charted_after < charted, "the charts still count them");
    let (status, _) = get(&s, &s.agent, &format!("/api/people/{person}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forgetting_through_the_api_takes_them_out_of_lists_before_it_answers() {
    let s = start().await;
    let (person, _) = someone_named(&s);
    let r = client()
        .delete(s.url(&format!("/api/people/{person}")))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(search(&s, person.as_str()).await.0, 0);
    // And posting their events again adds nothing.
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(
            &json!([{"source": "again", "id": "1", "kind": "wish.stated",
                       "person": person.as_str(), "at": "2024-01-01T00:00:00Z",
                       "text": "I am back"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["added"], 0);
    assert_eq!(body["forgotten"], 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_during_a_long_import_answers_503_with_retry_after() {
    let s = start().await;
    let db = s.db();
    // A long import elsewhere holds the writer lock.
    let lock = store_sqlite::WriterLock::acquire(&db, "importing huge.csv").unwrap();
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(&json!([{"source": "t", "id": "1", "kind": "wish.stated",
                       "person": "P-NEW", "at": "2024-01-01T00:00:00Z", "text": "hello"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("busy"), "{body}");
    drop(lock);
    let r = client()
        .post(s.url("/api/events"))
        .bearer_auth(&s.admin)
        .json(&json!([{"source": "t", "id": "1", "kind": "wish.stated",
                       "person": "P-NEW", "at": "2024-01-01T00:00:00Z", "text": "hello"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}
