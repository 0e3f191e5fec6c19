//! Hidden costs over HTTP: the `/costs` page and `GET /api/costs` for admins and analysts
//! (agents are refused), every grouping, a bad grouping, untrusted catalogue text escaped,
//! and the hidden-cost line of the card and of the person's own page.

mod common;

use common::{Server, check, get, openapi, page, sign_in, start};
use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::values::Label;
use reqwest::StatusCode;

const EVIL: &str = "<script>alert(1)</script>";

/// A catalogue for the demo's products: mugs with both factors (an untrusted name and unit),
/// beans listed without figures; everything else is not in it.
fn put_catalogue(s: &Server) {
    let factor = |name: &str, unit: &str| Factor {
        name: Label::parse(name).unwrap(),
        unit: Label::parse(unit).unwrap(),
        source: format!("test {EVIL}"),
    };
    let per = |v: f64| Some(PerUnit::new(v).unwrap());
    let c = Catalogue::new(
        vec![
            factor("co2e_kg", "kg <b>CO2e</b>"),
            factor("water_l", "litres"),
        ],
        vec![
            Product {
                id: Label::parse("ceramic-mug").unwrap(),
                name: Some(format!("Mug {EVIL}")),
                values: vec![per(0.9), per(4.0)],
            },
            Product {
                id: Label::parse("travel-mug").unwrap(),
                name: Some("Travel mug".into()),
                values: vec![per(1.5), None],
            },
            Product {
                id: Label::parse("espresso-beans-1kg").unwrap(),
                name: None,
                values: vec![None, None],
            },
        ],
    )
    .unwrap();
    s.state.app.ledger().catalogue_put(&c).unwrap();
}

#[tokio::test]
async fn the_api_gives_every_grouping_to_analysts_and_admins_and_refuses_agents() {
    let s = start().await;
    let (status, body) = get(&s, &s.analyst, "/api/costs").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no catalogue yet: {body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("rapport catalogue import")
    );
    put_catalogue(&s);
    let (status, total) = get(&s, &s.analyst, "/api/costs").await;
    assert_eq!(status, StatusCode::OK, "{total}");
    check(&openapi(&s).await, "CostReport", &total);
    let t = &total["total"];
    assert!(t["lines"].as_u64().unwrap() > 0);
    assert!(
        t["unmatched_lines"].as_u64().unwrap() > 0,
        "most demo products are not in it"
    );
    assert!(
        t["costs"][0]["lines"].as_u64().unwrap() > 0,
        "demo orders have mugs"
    );
    assert_eq!(
        t["lines"].as_u64().unwrap(),
        t["matched_lines"].as_u64().unwrap() + t["unmatched_lines"].as_u64().unwrap()
    );
    // Travel mugs have no water figure: missing for water, covered for CO2e.
    assert!(t["costs"][1]["missing_lines"].as_u64().unwrap() > 0);
    let beans = total["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["product"] == "espresso-beans-1kg")
        .expect("beans are listed as unmatched");
    assert_eq!(beans["in_catalogue"], true);
    for by in ["person", "product", "month", "order"] {
        let (status, r) = get(&s, &s.admin, &format!("/api/costs?by={by}&limit=5")).await;
        assert_eq!(status, StatusCode::OK, "{by}: {r}");
        check(&openapi(&s).await, "CostReport", &r);
        assert_eq!(r["by"], by);
        let groups = r["groups"].as_array().unwrap();
        assert!(!groups.is_empty() && groups.len() <= 5, "{by}");
        assert!(r["group_count"].as_u64().unwrap() >= groups.len() as u64);
        // Whatever the grouping, the total is the same.
        assert_eq!(r["total"], total["total"], "{by}");
    }
    let (_, months) = get(&s, &s.admin, "/api/costs?by=month&limit=100000").await;
    let keys: Vec<&str> = months["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted, "months in order");
    let sum: f64 = months["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["costs"][0]["total"].as_f64().unwrap())
        .sum();
    assert!((sum - t["costs"][0]["total"].as_f64().unwrap()).abs() < 1e-6);
    let (status, _) = get(&s, &s.agent, "/api/costs").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn a_bad_grouping_or_limit_is_a_400_naming_the_parameter() {
    let s = start().await;
    put_catalogue(&s);
    let (status, body) = get(&s, &s.analyst, "/api/costs?by=customer").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "by");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("person, product, month or order")
    );
    let (status, body) = get(&s, &s.analyst, "/api/costs?by=month&limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "limit");
    s.stop().await;
}

#[tokio::test]
async fn the_costs_page_shows_totals_a_chart_products_and_unmatched_with_catalogue_text_escaped() {
    let s = start().await;
    let analyst = sign_in(&s, &s.analyst).await;
    let (status, html) = page(&s, &analyst, "/costs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No product catalogue has been imported yet"));
    put_catalogue(&s);
    let (status, html) = page(&s, &analyst, "/costs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<a href="/costs">Costs</a>"#),
        "in the navigation"
    );
    assert!(html.contains("co2e_kg"));
    assert!(
        html.contains("<svg class=\"chart wide\""),
        "a monthly chart"
    );
    assert!(html.contains("Products that carry the most"));
    assert!(html.contains("ceramic-mug"));
    assert!(
        html.contains("espresso-beans-1kg"),
        "unmatched products are listed"
    );
    assert!(html.contains("listed without figures"));
    assert!(!html.contains(EVIL), "catalogue text is escaped");
    assert!(
        !html.contains("<b>CO2e</b>"),
        "units are escaped, in charts too"
    );
    assert!(
        html.contains("Mug &#60;script&#62;"),
        "the product name is shown as text"
    );
    assert!(
        html.contains("co2e_kg (kg &lt;b&gt;CO2e&lt;/b&gt;) per month"),
        "the unit in the chart is escaped"
    );
    let admin = sign_in(&s, &s.admin).await;
    assert_eq!(page(&s, &admin, "/costs").await.0, StatusCode::OK);
    let agent = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &agent, "/costs").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains(r#"<a href="/costs">"#));
    let (_, overview) = page(&s, &agent, "/").await;
    assert!(
        !overview.contains(r#"<a href="/costs">"#),
        "agents have no link to it"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_card_shows_what_the_relationship_cost_that_no_invoice_shows() {
    let s = start().await;
    // Someone with at least one mug among their orders.
    put_catalogue(&s);
    let (_, by_person) = get(&s, &s.admin, "/api/costs?by=person&limit=1").await;
    let person = by_person["groups"][0]["key"].as_str().unwrap().to_owned();
    let expected = by_person["groups"][0]["costs"][0]["total"]
        .as_f64()
        .unwrap();
    assert!(expected > 0.0);
    let (status, card) = get(&s, &s.agent, &format!("/api/people/{person}")).await;
    assert_eq!(status, StatusCode::OK);
    check(&openapi(&s).await, "Card", &card);
    let got = card["hidden_costs"]["costs"][0]["total"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    let agent = sign_in(&s, &s.agent).await;
    let (status, html) = page(&s, &agent, &format!("/people/{person}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("What this relationship cost that no invoice shows"));
    assert!(html.contains("co2e_kg: "), "{html}");
    assert!(!html.contains("<b>CO2e</b>"));

    // The person sees the same on their own page.
    let link = rapport_web::selfservice::make_link(
        &s.state.link_key,
        &domain::PersonId::parse(&person).unwrap(),
        domain::Timestamp::now().plus_days(1),
    );
    let own = common::client()
        .get(s.url(&format!("/me/{link}?lang=en")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        own.contains("What your orders cost that no invoice shows"),
        "{own}"
    );
    assert!(own.contains(&format!("co2e_kg: {}", domain::costs::figure(expected))));
    assert!(!own.contains("<b>CO2e</b>"));
    s.stop().await;
}
