//! The pages over HTTP: signing in, roles, anti-forgery tokens, escaping, and the audit log.

mod common;

use common::{client, cookie_from, csrf_in, page, sign_in, start};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};

#[tokio::test]
async fn pages_send_strangers_to_sign_in_and_signed_in_people_to_the_overview() {
    let s = start().await;
    let r = client().get(s.url("/people")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/sign-in");
    let session = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &session, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Every relationship"));
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        domain::readings::HEADLINES.len(),
        "one chart per reading"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_on_the_sign_in_page() {
    let s = start().await;
    let c = client();
    let p = c.get(s.url("/sign-in")).send().await.unwrap();
    let pre = cookie_from(&p, "rapport_sign_in").unwrap();
    let csrf = csrf_in(&p.text().await.unwrap());
    let r = c
        .post(s.url("/sign-in"))
        .header(COOKIE, pre)
        .form(&[("csrf", csrf.as_str()), ("token", "rpt_wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_from(&r, "rapport_session").is_none());
    s.stop().await;
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let s = start().await;
    // Signing in without the form's token (a cross-site login attempt).
    let r = client()
        .post(s.url("/sign-in"))
        .form(&[("token", s.admin.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Creating a token and signing out without the session's token.
    let session = sign_in(&s, &s.admin).await;
    for (path, form) in [
        ("/tokens", vec![("role", "admin"), ("name", "evil")]),
        ("/sign-out", vec![]),
        ("/tokens", vec![("role", "admin"), ("csrf", "forged")]),
    ] {
        let r = client()
            .post(s.url(path))
            .header(COOKIE, &session)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) = page(&s, &session, "/").await;
    assert_eq!(status, StatusCode::OK, "still signed in");
    s.stop().await;
}

#[tokio::test]
async fn personal_text_is_escaped_on_the_card() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &session, "/people/P-000008").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "the wish is shown as text"
    );
    for markup in ["<script", "<img", "<b onmouseover"] {
        assert!(
            !html.contains(markup),
            "{markup} reached the page as markup"
        );
    }
    // The card's own forms close their text areas; the wish closes none.
    assert_eq!(
        html.matches("</textarea>").count(),
        html.matches("<textarea").count(),
        "a </textarea> reached the page as markup"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_analyst_sees_charts_and_figures_but_no_names() {
    let s = start().await;
    let admin = sign_in(&s, &s.admin).await;
    let (_, full) = page(&s, &admin, "/people/P-000001").await;
    let name_at = full.find("<h1>").unwrap() + 4;
    let shown = full[name_at..full[name_at..].find("</h1>").unwrap() + name_at].to_owned();
    assert!(!shown.is_empty());
    let analyst = sign_in(&s, &s.analyst).await;
    for path in ["/people/P-000001", "/people?q=P-00000", "/"] {
        let (status, html) = page(&s, &analyst, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains(&shown),
            "{shown} shown to an analyst on {path}"
        );
    }
    let (_, html) = page(&s, &analyst, "/people/P-000001").await;
    assert!(html.contains("anon-"));
    s.stop().await;
}

#[tokio::test]
async fn the_people_page_sorts_searches_and_pages() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (status, html) = page(
        &s,
        &session,
        "/people?sort=service_load.contacts_per_month&order=desc&per_page=10",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("<td class=\"who\"><a href=\"/people/").count(),
        10
    );
    assert!(html.contains("rel=\"next\""));
    let (_, html) = page(&s, &session, "/people?q=P-000012").await;
    assert!(html.contains("1–1 of 1 person"), "{html}");
    let (status, _) = page(&s, &session, "/people?sort=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn the_people_page_heads_the_scripted_share_as_what_it_is() {
    let s = start().await;
    let session = sign_in(&s, &s.agent).await;
    let (_, html) = page(&s, &session, "/people").await;
    // The column shows the share of answers that were scripts: headed "Personal", 100 %
    // read as wholly personal for someone answered only by script.
    assert!(
        html.contains(
            r#"title="Our answers to them that were scripts (share) — personal.scripted_share">Answered by script</a>"#
        ),
        "{html}"
    );
    assert!(!html.contains(">Personal</a></th>"), "{html}");
    s.stop().await;
}

#[tokio::test]
async fn only_admins_see_the_audit_log_and_every_card_view_is_in_it() {
    let s = start().await;
    let agent = sign_in(&s, &s.agent).await;
    let (status, _) = page(&s, &agent, "/people/P-000003").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = page(&s, &agent, "/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&s, &agent, "/tokens").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = sign_in(&s, &s.admin).await;
    let (status, html) = page(&s, &admin, "/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("agent:agent#2") && html.contains("P-000003"),
        "{html}"
    );
    let (status, _) = page(&s, &admin, "/people/NOBODY").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn an_admin_creates_a_token_on_the_page_sees_it_once_and_can_revoke_it() {
    let s = start().await;
    let admin = sign_in(&s, &s.admin).await;
    let (_, html) = page(&s, &admin, "/tokens").await;
    let csrf = csrf_in(&html);
    let r = client()
        .post(s.url("/tokens"))
        .header(COOKIE, &admin)
        .form(&[("csrf", csrf.as_str()), ("role", "agent"), ("name", "Sam")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let at = html.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
    let token = html[at..at + html[at..].find('<').unwrap()].to_owned();
    assert!(token.starts_with("rpt_"));
    let sam = sign_in(&s, &token).await;
    let (status, _) = page(&s, &sam, "/").await;
    assert_eq!(status, StatusCode::OK);
    // The list never shows the token again.
    let (_, html) = page(&s, &admin, "/tokens").await;
    assert!(html.contains("Sam") && !html.contains(&token));
    let row = &html[html.find("<td>Sam</td>").unwrap()..];
    let id = row[row.find("/tokens/").unwrap() + "/tokens/".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let r = client()
        .post(s.url(&format!("/tokens/{id}/revoke")))
        .header(COOKIE, &admin)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&s, &sam, "/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "Sam's session ended with the token"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_scripts_page_lists_the_scripts_with_their_masked_text() {
    // Enough people for scripts to reach more than five of them.
    let s = common::start_sized(400, |_| {}).await;
    let session = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &session, "/scripts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Answered by script"));
    assert!(html.contains("of answers were scripts"));
    assert!(
        html.contains("<table class=\"scripts\">"),
        "at least one script"
    );
    assert!(html.contains("<q>"), "an agent sees the texts");
    let (_, card) = page(&s, &session, "/people/P-000011").await;
    assert!(
        card.contains("class=\"tag scripted\""),
        "scripted answers are marked"
    );
    s.stop().await;
}
