//! The pages for an agent's daily work: the people list's filters and its CSV export, a
//! search that ignores accents, the card's timeline by kind with late invoices marked, and
//! notes, contacts, apologies and promises written from the card — events like any other,
//! audited, refused to analysts and to forged forms.

mod common;

use common::{client, csrf_in, get, page, sign_in, start};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

fn total_in(html: &str) -> usize {
    if html.contains("Nobody matches.") {
        return 0;
    }
    let count = &html[html.find("id=\"count\"").expect("a count")..];
    let at = count.find(" of ").expect("a count");
    count[at + 4..]
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_named_filters_list_exactly_the_people_the_api_finds_with_the_same_filter() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    for (filter, field, check) in [
        (
            "overdue",
            ("punctuality", "open_overdue"),
            (|v: f64| v >= 1.0) as fn(f64) -> bool,
        ),
        ("unanswered", ("heard", "open_questions"), |v| v >= 1.0),
    ] {
        let (status, body) = get(
            &s,
            &s.agent,
            &format!("/api/people?filter={filter}&per_page=500"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let people = body["people"].as_array().unwrap();
        assert!(!people.is_empty(), "the demo has people {filter}");
        for p in people {
            let v = p["readings"][field.0][field.1].as_f64().unwrap();
            assert!(check(v), "{filter}: {p}");
        }
        let (status, html) = page(&s, &session, &format!("/people?filter={filter}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(total_in(&html), body["total"].as_u64().unwrap() as usize);
        // Sorting and paging keep the filter.
        assert!(
            html.contains(&format!("&amp;filter={filter}"))
                || html.contains(&format!("&#38;filter={filter}")),
            "{html}"
        );
    }
    let (status, body) = get(&s, &s.agent, "/api/people?filter=rich").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "filter", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_range_on_the_page_is_in_percent_and_in_the_api_s_where_from_zero_to_one() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (_, html) = page(
        &s,
        &session,
        "/people?field=punctuality.on_time_share&min=50&max=90",
    )
    .await;
    let (status, body) = get(
        &s,
        &s.agent,
        "/api/people?where=punctuality.on_time_share%3D0.5..0.9&per_page=500",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let total = body["total"].as_u64().unwrap() as usize;
    assert!(total > 0, "{body}");
    assert_eq!(total_in(&html), total);
    for p in body["people"].as_array().unwrap() {
        let v = p["readings"]["punctuality"]["on_time_share"]
            .as_f64()
            .unwrap();
        assert!((0.5..=0.9).contains(&v), "{p}");
    }
    for bad in [
        "punctuality.on_time_share",
        "nothing%3D1..",
        "heard.contacts%3Dlots..",
    ] {
        let (status, body) = get(&s, &s.agent, &format!("/api/people?where={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["field"], "where", "{body}");
    }
    // On the page, bounds without the figure they bound are refused with words.
    let (status, html) = page(&s, &session, "/people?min=3").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("choose the figure"), "{html}");
    s.stop().await;
}

#[tokio::test]
async fn the_csv_export_holds_what_the_list_shows_under_words_and_is_audited() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (_, html) = page(
        &s,
        &session,
        "/people?filter=overdue&sort=punctuality.open_overdue&order=desc",
    )
    .await;
    let total = total_in(&html);
    let href = html
        .split("id=\"csv\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .map(|h| h[..h.find('"').unwrap()].replace("&amp;", "&"))
        .unwrap();
    assert!(
        href.starts_with("/people.csv?") && href.contains("filter=overdue"),
        "{href}"
    );
    let r = client()
        .get(s.url(&href))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "person");
    assert!(
        headers.iter().any(|h| h == "Invoices paid on time (share)"),
        "{headers:?}"
    );
    assert!(!headers.iter().any(|h| h.contains('_')), "{headers:?}");
    let overdue = headers
        .iter()
        .position(|h| h == "Overdue invoices still open")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), total);
    let figures: Vec<f64> = rows.iter().map(|r| r[overdue].parse().unwrap()).collect();
    assert!(figures.iter().all(|v| *v >= 1.0), "{figures:?}");
    assert!(
        figures.windows(2).all(|w| w[0] >= w[1]),
        "sorted as shown: {figures:?}"
    );
    let admin = sign_in(&s, &s.admin).await;
    let (_, audit) = page(&s, &admin, "/audit").await;
    assert!(audit.contains("people.export"), "{audit}");
    s.stop().await;
}

#[tokio::test]
async fn a_search_finds_a_name_typed_with_or_without_its_accents() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    // Find someone whose name has an accent, through the API (agents see names).
    let (_, body) = get(&s, &s.agent, "/api/people?per_page=500").await;
    let (id, name) = body["people"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| {
            let n = p["name"].as_str()?;
            n.chars()
                .any(|c| "üöéçşÖÜ".contains(c))
                .then(|| (p["person"].as_str().unwrap().to_owned(), n.to_owned()))
        })
        .expect("the demo has a name with an accent");
    let plain = deunicode::deunicode(&name).to_lowercase();
    assert_ne!(plain, name.to_lowercase());
    for typed in [name.as_str(), plain.as_str(), &name.to_uppercase()] {
        let (_, html) = page(&s, &session, &format!("/people?q={}", urlencode(typed))).await;
        assert!(
            html.contains(&format!("/people/{id}\"")),
            "{typed:?} should find {name}"
        );
    }
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn an_agent_writes_a_note_from_the_card_and_it_is_an_audited_event_in_the_timeline() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (_, card) = page(&s, &session, "/people/P-000002").await;
    assert!(card.contains("id=\"write-note\""), "agents may write");
    let csrf = csrf_in(&card);
    let note = "Rang about <b>the invoice</b>; call back after five";
    let r = client()
        .post(s.url("/people/P-000002/log"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str()), ("what", "note"), ("text", note)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, card) = page(&s, &session, &to).await;
    assert!(card.contains("Written down: the note"), "{card}");
    assert!(
        card.contains("Rang about &lt;b&gt;the invoice&lt;/b&gt;; call back after five")
            || card.contains("Rang about &#60;b&#62;the invoice&#60;/b&#62;; call back after five"),
        "the note is in the timeline, escaped"
    );
    // It is an event of its own kind: the timeline's filter shows it alone.
    let (_, notes) = page(&s, &session, "/people/P-000002?kind=note.added").await;
    assert_eq!(notes.matches("<span class=\"kind\"").count(), 1, "{notes}");
    assert!(notes.contains("title=\"note.added\""), "{notes}");
    // A promise and a contact, too; a promise without a day is refused with words.
    let r = client()
        .post(s.url("/people/P-000002/log"))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("what", "promise"),
            ("text", "A refund"),
            ("due", "soon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("is not a day like"));
    let r = client()
        .post(s.url("/people/P-000002/log"))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("what", "contact"),
            ("channel", "phone"),
            ("text", "Where is my parcel?"),
            ("answer", "It leaves today."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, answered) = page(&s, &session, "/people/P-000002?kind=contact.answered").await;
    assert!(answered.contains("It leaves today."), "{answered}");
    // The audit log names who wrote what about whom.
    let admin = sign_in(&s, &s.admin).await;
    let (_, audit) = page(&s, &admin, "/audit").await;
    assert!(
        audit.contains("card.note") && audit.contains("card.contact"),
        "{audit}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_analyst_or_a_forged_form_cannot_write_on_a_card() {
    let s = start().await;
    let analyst = sign_in(&s, &s.analyst).await;
    let (_, card) = page(&s, &analyst, "/people/P-000002").await;
    assert!(!card.contains("id=\"write-note\""));
    let csrf = csrf_in(&card);
    let r = client()
        .post(s.url("/people/P-000002/log"))
        .header(COOKIE, &analyst)
        .form(&[("csrf", csrf.as_str()), ("what", "note"), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let agent = sign_in(&s, &s.agent).await;
    let r = client()
        .post(s.url("/people/P-000002/log"))
        .header(COOKIE, &agent)
        .form(&[("csrf", "forged"), ("what", "note"), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, notes) = page(&s, &agent, "/people/P-000002?kind=note.added").await;
    assert!(
        !notes.contains("title=\"note.added\""),
        "nothing was written"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_late_invoice_says_how_late_in_the_timeline() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (_, body) = get(
        &s,
        &s.agent,
        "/api/people?sort=punctuality.mean_days_late&order=desc&per_page=1",
    )
    .await;
    let id = body["people"][0]["person"].as_str().unwrap().to_owned();
    let (_, html) = page(
        &s,
        &session,
        &format!("/people/{id}?kind=invoice.issued&timeline=all"),
    )
    .await;
    assert!(
        html.contains("days late</span>")
            || html.contains("days overdue</span>")
            || html.contains("1 day late</span>"),
        "{html}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_server_as_of_a_past_day_shows_lists_and_cards_as_they_stood_then() {
    // The demo ledger runs up to now; served as of a day a year ago, later events are not
    // counted and every face says which day it shows.
    let today = domain::Timestamp::now().day();
    let day = domain::Day::from_days(today.days_since_epoch() - 365);
    let s = common::start_with(|c| c.as_of = Some(day)).await;
    let session = sign_in(&s, &s.agent).await;
    let (_, overview) = page(&s, &session, "/").await;
    assert!(
        overview.contains(&format!("figures as of {day}")),
        "{overview}"
    );
    let (_, card) = page(&s, &session, "/people/P-000002").await;
    assert!(card.contains(&format!("As of {day}T23:59:59")), "{card}");
    let (_, all) = page(&s, &session, "/people/P-000002?timeline=all").await;
    let last = all
        .split("<span class=\"when\">")
        .skip(1)
        .filter_map(|x| x.get(..10))
        .max()
        .unwrap()
        .to_owned();
    assert!(last <= day.to_string(), "{last} is after {day}");
    s.stop().await;
}

#[tokio::test]
async fn a_script_opens_to_show_who_received_it_and_when() {
    // Enough people for scripts to reach more than five of them.
    let s = common::start_sized(400, |_| {}).await;
    let session = sign_in(&s, &s.agent).await;
    let (_, list) = page(&s, &session, "/scripts").await;
    let href = list
        .split("href=\"/scripts/")
        .nth(1)
        .map(|h| format!("/scripts/{}", &h[..h.find('"').unwrap()]))
        .expect("the demo has a script");
    let (status, one) = page(&s, &session, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(one.contains("Who received it, and when"));
    let rows = one.matches("<td class=\"who\"><a href=\"/people/").count();
    assert!(rows >= 6, "a script reached more than five people: {rows}");
    let whens: Vec<&str> = one
        .split("<td class=\"when\">")
        .skip(1)
        .map(|x| &x[..16])
        .collect();
    assert!(
        whens.windows(2).all(|w| w[0] >= w[1]),
        "latest first: {whens:?}"
    );
    let (status, _) = page(&s, &session, "/scripts/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(&s, &session, "/scripts/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}
