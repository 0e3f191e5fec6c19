//! The pages in a real headless Chromium, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`): sign in, sort and search, open a card and expand its evidence, an
//! analyst sees no name, hostile text in a wish runs nothing, a form without its CSRF
//! token is refused, and a person's own page changes language with its picker.
//!
//! Without `chromedriver` on the machine these tests say so and pass, unless
//! `RAPPORT_BROWSER_TESTS=require` (as `.ci/run` sets), when its absence is a failure.
//! With `RAPPORT_SCREENSHOTS=DIR` they also save the overview, a card, the scripts and a
//! person's own page as PNG files (the ones in docs/ are made that way).

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var("RAPPORT_BROWSER_TESTS").as_deref() != Ok("require"),
        "RAPPORT_BROWSER_TESTS=require but there is no chromedriver at {path} \
         (apt-get install chromium chromium-driver)"
    );
    eprintln!("skipping the browser tests: no chromedriver at {path}");
    None
}

async fn browser() -> Option<(Driver, Client)> {
    let driver = chromedriver()?;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let driver = Driver(child);
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = json!({
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1800"]
        }
    });
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps.as_object().unwrap().clone());
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if let Ok(client) = builder.connect(&url).await {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// Clicks `css` and waits until the browser has moved to another address.
async fn click_and_wait(c: &Client, css: &str) {
    let before = c.current_url().await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_move(c, before).await;
}

async fn wait_for_move(c: &Client, before: url::Url) {
    for _ in 0..100 {
        if c.current_url().await.unwrap() != before {
            // The new document is there once it has a body.
            c.wait().for_element(Locator::Css("body")).await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser stayed on {before}");
}

async fn sign_in(c: &Client, s: &common::Server, token: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&s.url("/sign-in")).await.unwrap();
    c.find(Locator::Css("input[name=token]"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    click_and_wait(c, "main form button[type=submit]").await;
    assert_eq!(
        text(c, "h1").await,
        "Every relationship, reading by reading"
    );
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("RAPPORT_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser_and_keep_people_safe() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let s = common::start_sized(400, |_| {}).await;

    // Sign in, and the overview draws a chart per reading.
    sign_in(&c, &s, &s.admin).await;
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), domain::readings::HEADLINES.len());
    screenshot(&c, "overview.png").await;

    // Sort the people list with its form, then by a column, then search.
    c.goto(&s.url("/people")).await.unwrap();
    c.find(Locator::Css("select[name=sort]"))
        .await
        .unwrap()
        .select_by_value("service_load.contacts_per_month")
        .await
        .unwrap();
    c.find(Locator::Css("select[name=order]"))
        .await
        .unwrap()
        .select_by_value("desc")
        .await
        .unwrap();
    click_and_wait(&c, "form.filters button").await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.as_str()
            .contains("sort=service_load.contacts_per_month"),
        "{url}"
    );
    let column = 3; // person, punctuality, friction, service load
    let values: Vec<f64> = {
        let mut v = Vec::new();
        for row in c
            .find_all(Locator::Css("table.people tbody tr"))
            .await
            .unwrap()
        {
            let cells = row.find_all(Locator::Css("td")).await.unwrap();
            if let Ok(x) = cells[column].text().await.unwrap().parse::<f64>() {
                v.push(x);
            }
        }
        v
    };
    assert!(
        values.len() > 10 && values.windows(2).all(|w| w[0] >= w[1]),
        "{values:?}"
    );
    c.find(Locator::Css("input[name=q]"))
        .await
        .unwrap()
        .send_keys("P-000003")
        .await
        .unwrap();
    click_and_wait(&c, "form.filters button").await;
    assert!(text(&c, "#count").await.starts_with("1–1 of 1 person"));

    // Open the card from the list and expand a reading's evidence.
    click_and_wait(&c, "table.people tbody a").await;
    let details = c.find(Locator::Css("details")).await.unwrap();
    let items = details.find(Locator::Css("ul.evidence li")).await.unwrap();
    assert!(
        !items.is_displayed().await.unwrap(),
        "evidence starts folded"
    );
    details
        .find(Locator::Css("summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(items.is_displayed().await.unwrap(), "evidence unfolds");
    assert!(details.attr("open").await.unwrap().is_some());
    c.goto(&s.url("/people/P-000001")).await.unwrap();
    screenshot(&c, "card.png").await;
    let name = text(&c, ".person h1").await;

    // Hostile text in a wish and a proposal is shown as text and runs nothing.
    c.goto(&s.url("/people/P-000008")).await.unwrap();
    let wish = text(&c, "li.wish q").await;
    assert!(wish.contains("<script>alert(1)</script>"), "{wish}");
    assert!(wish.contains(r#""><img src=x onerror=alert(1)>"#), "{wish}");
    assert!(c.get_alert_text().await.is_err(), "an alert opened");
    let injected = c
        .execute(
            "return document.querySelectorAll('main script, img, b[onmouseover]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));

    // A form without its CSRF token is refused: sign out with the token removed.
    let before = c.current_url().await.unwrap();
    c.execute(
        "document.querySelector('form[action=\"/sign-out\"] input[name=csrf]').remove();\
         document.querySelector('form[action=\"/sign-out\"]').submit();",
        vec![],
    )
    .await
    .unwrap();
    wait_for_move(&c, before).await;
    assert_eq!(text(&c, "h1").await, "Not allowed");
    c.goto(&s.url("/")).await.unwrap();
    assert_eq!(
        text(&c, "h1").await,
        "Every relationship, reading by reading",
        "still signed in"
    );

    // An analyst sees the card's figures but not the person's name.
    sign_in(&c, &s, &s.analyst).await;
    c.goto(&s.url("/people/P-000001")).await.unwrap();
    let source = c.source().await.unwrap();
    assert!(!source.contains(&name), "{name} shown to an analyst");
    assert!(text(&c, ".person h1").await.starts_with("anon-"));
    assert!(
        !c.find_all(Locator::Css(".reading"))
            .await
            .unwrap()
            .is_empty()
    );

    // The scripts page opens from the navigation.
    c.find(Locator::Css("nav a[href='/scripts']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text(&c, "h1").await, "Answered by script");
    screenshot(&c, "scripts.png").await;

    // A showcase person's own page: what has happened between us, in their terms; with the
    // demo's menu, as `rapport demo` sets it out.
    for (item, options) in demo::menu() {
        let title = match *item {
            "channel" => "How we reach you",
            "frequency" => "How often we may contact you",
            other => other,
        };
        let options: Vec<_> = options.iter().map(|o| json!({"id": o})).collect();
        let r = common::client()
            .put(s.url(&format!("/api/menu/{item}")))
            .bearer_auth(&s.admin)
            .json(&json!({"kind": "other", "title": title, "options": options}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{item}: {}", r.status());
    }
    c.delete_all_cookies().await.unwrap();
    let camille = rapport_web::selfservice::make_link(
        &s.state.link_key,
        &domain::PersonId::parse("P-000010").unwrap(),
        domain::Timestamp::now().plus_days(7),
    );
    // Her page speaks French, the language the ledger holds for her.
    c.goto(&s.url(&format!("/me/{camille}"))).await.unwrap();
    assert_eq!(
        text(&c, "#between-us h2").await,
        "Ce qui s’est passé entre nous"
    );
    screenshot(&c, "own-page.png").await;

    // The person's own page: a wish with markup is kept as text, and withdrawing consent
    // there makes may-contact say no at once.
    let link = rapport_web::selfservice::make_link(
        &s.state.link_key,
        &domain::PersonId::parse("P-000003").unwrap(),
        domain::Timestamp::now().plus_days(1),
    );
    c.goto(&s.url(&format!("/me/{link}"))).await.unwrap();
    c.find(Locator::Css("form[action$='/wish'] textarea"))
        .await
        .unwrap()
        .send_keys("<img src=x onerror=alert(2)> call me")
        .await
        .unwrap();
    click_and_wait(&c, "form[action$='/wish'] button").await;
    assert_eq!(text(&c, "h1").await, "Thank you");
    c.goto(&s.url(&format!("/me/{link}"))).await.unwrap();
    let wish = text(&c, "li.wish q").await;
    assert!(wish.contains("<img src=x onerror=alert(2)>"), "{wish}");
    assert!(c.get_alert_text().await.is_err());
    let withdraw = c
        .find_all(Locator::Css("ul.consents button[value=withdraw]"))
        .await
        .unwrap();
    if let Some(button) = withdraw.first() {
        let before = c.current_url().await.unwrap();
        button.click().await.unwrap();
        wait_for_move(&c, before).await;
        assert_eq!(text(&c, "h1").await, "Saved");
    }

    c.close().await.unwrap();
    s.stop().await;
}

/// The `lang` attribute of the page the browser shows.
async fn page_lang(c: &Client) -> String {
    let lang = c
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    lang.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_switches_their_own_page_to_dutch_and_it_stays_dutch() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let s = common::start().await;
    // Oliver Smith: English in the ledger.
    let link = rapport_web::selfservice::make_link(
        &s.state.link_key,
        &domain::PersonId::parse("P-000003").unwrap(),
        domain::Timestamp::now().plus_days(1),
    );
    let page = s.url(&format!("/me/{link}"));
    c.goto(&page).await.unwrap();
    assert_eq!(page_lang(&c).await, "en");
    assert_eq!(
        text(&c, "#between-us h2").await,
        "What has happened between us"
    );

    click_and_wait(&c, "nav.languages a[hreflang=nl]").await;
    assert_eq!(page_lang(&c).await, "nl");
    assert_eq!(
        text(&c, "#between-us h2").await,
        "Wat er tussen ons is gebeurd"
    );
    assert_eq!(text(&c, "nav.languages strong").await, "Nederlands");
    let button = text(&c, "form[action$='/wish'] button").await;
    assert_eq!(button, "Bewaar mijn wens");

    // Opened again from the link as it was sent: still Dutch, and so is what it answers.
    c.goto(&page).await.unwrap();
    assert_eq!(page_lang(&c).await, "nl");
    c.find(Locator::Css("form[action$='/wish'] textarea"))
        .await
        .unwrap()
        .send_keys("Graag minder verpakking")
        .await
        .unwrap();
    click_and_wait(&c, "form[action$='/wish'] button").await;
    assert_eq!(page_lang(&c).await, "nl");
    assert_eq!(text(&c, "h1").await, "Dank je wel");

    c.close().await.unwrap();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_filters_the_list_downloads_it_and_writes_a_note_on_a_card() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let s = common::start_sized(200, |_| {}).await;
    sign_in(&c, &s, &s.agent).await;

    // Only people with overdue invoices, through the list's own form.
    c.goto(&s.url("/people")).await.unwrap();
    c.find(Locator::Css("select[name=filter]"))
        .await
        .unwrap()
        .select_by_value("overdue")
        .await
        .unwrap();
    click_and_wait(&c, "form.filters button").await;
    let url = c.current_url().await.unwrap();
    assert!(url.as_str().contains("filter=overdue"), "{url}");
    let count = text(&c, "#count").await;
    let (_, api) = common::get(&s, &s.agent, "/api/people?filter=overdue&per_page=1").await;
    let total = api["total"].as_u64().unwrap();
    assert!(total > 0);
    assert!(
        count.contains(&format!(" of {total} ")),
        "{count} against {total}"
    );
    screenshot(&c, "people.png").await;

    // The CSV link carries the same filter; fetched with the browser's own session.
    let href = c
        .find(Locator::Css("#csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.contains("filter=overdue"), "{href}");
    let session = c.get_named_cookie("rapport_session").await.unwrap();
    let csv = common::client()
        .get(s.url(&href))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={}", session.value()),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count() as u64,
        total + 1,
        "a heading and one line each"
    );

    // A note from the card lands in its timeline.
    click_and_wait(&c, "table.people tbody a").await;
    let note = "Asked for paper invoices from now on";
    c.find(Locator::Css("#write-note textarea[name=text]"))
        .await
        .unwrap()
        .send_keys(note)
        .await
        .unwrap();
    click_and_wait(&c, "#write-note button").await;
    assert!(
        text(&c, "p.created")
            .await
            .starts_with("Written down: the note")
    );
    let timeline = text(&c, "#timeline").await;
    assert!(timeline.contains(note), "{timeline}");
    assert!(timeline.contains("note"), "its kind in words");
}
