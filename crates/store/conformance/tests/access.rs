//! Tokens, sessions, the audit log, the menu, settings, stored fits and the catalogue of
//! hidden costs, on every backend.

use domain::costs::{Catalogue, Factor, PerUnit, Product};
use domain::values::Label;
use domain::{Kind, NewEvent, PersonId, Timestamp};
use rapport_store_tests::{Backend, conformance, import};
use store::{AuditEntry, MasterKey, MenuItem, MenuOption, StoredFit};

fn a_token_is_found_by_its_hash_until_it_is_revoked_and_its_sessions_end_with_it(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let id = s.token_add("desk", "agent", &[7; 32]).unwrap();
    let other = s.token_add("boss", "admin", &[8; 32]).unwrap();
    assert_ne!(id, other);
    let t = s.token_by_hash(&[7; 32]).unwrap().expect("the token");
    assert_eq!(
        (t.id, t.name.as_str(), t.role.as_str()),
        (id, "desk", "agent")
    );
    assert_eq!(t.revoked_at, None);
    assert_eq!(s.token_by_hash(&[9; 32]).unwrap(), None);
    let later = Timestamp::from_unix(Timestamp::now().unix() + 3600);
    s.session_add(&[1; 32], id, "csrf-1", later).unwrap();
    let session = s
        .session_by_hash(&[1; 32], Timestamp::now())
        .unwrap()
        .expect("a session");
    assert_eq!((session.token.id, session.csrf.as_str()), (id, "csrf-1"));
    // Expired is gone.
    assert_eq!(
        s.session_by_hash(&[1; 32], Timestamp::from_unix(later.unix() + 1))
            .unwrap(),
        None
    );

    assert!(s.token_revoke(id).unwrap());
    assert!(!s.token_revoke(id).unwrap(), "only once");
    assert_eq!(s.token_by_hash(&[7; 32]).unwrap(), None);
    assert_eq!(s.session_by_hash(&[1; 32], Timestamp::now()).unwrap(), None);
    let all = s.tokens().unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].revoked_at.is_some() && all[1].revoked_at.is_none());
}

fn a_session_removed_is_gone(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let id = s.token_add("desk", "agent", &[7; 32]).unwrap();
    let later = Timestamp::from_unix(Timestamp::now().unix() + 3600);
    s.session_add(&[2; 32], id, "c", later).unwrap();
    s.session_remove(&[2; 32]).unwrap();
    assert_eq!(s.session_by_hash(&[2; 32], Timestamp::now()).unwrap(), None);
}

fn audit_entries_are_kept_newest_first_and_paged(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let anna = PersonId::parse("anna").unwrap();
    s.audit("cli", "card.view", Some(&anna)).unwrap();
    let group: Vec<AuditEntry> = (0..5)
        .map(|i| AuditEntry {
            at: Timestamp::from_unix(1_700_000_000 + i),
            actor: format!("token:{i}"),
            action: "card.view".into(),
            person: (i % 2 == 0).then(|| "bob".to_owned()),
        })
        .collect();
    s.audit_many(&group).unwrap();
    s.audit_many(&[]).unwrap();
    let log = s.audit_log(10).unwrap();
    assert_eq!(log.len(), 6);
    assert_eq!(log[0], group[4]);
    assert_eq!(log[5].person.as_deref(), Some("anna"));
    let first = s.audit_page(None, 4).unwrap();
    assert_eq!(first.len(), 4);
    assert!(first.windows(2).all(|w| w[0].0 > w[1].0));
    let rest = s.audit_page(Some(first[3].0), 10).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[1].1.actor, "cli");
}

fn the_menu_is_put_replaced_and_listed_by_kind(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    assert!(s.menu().unwrap().is_empty());
    let item = |id: &str, kind: &str, title: &str| MenuItem {
        item: id.into(),
        kind: kind.into(),
        title: title.into(),
        options: vec![MenuOption {
            id: "a".into(),
            title: "Option <a>".into(),
        }],
    };
    s.menu_put(&item("roast", "product", "Roast")).unwrap();
    s.menu_put(&item("channel.email", "channel", "E-mail"))
        .unwrap();
    s.menu_put(&item("roast", "product", "Roast, darker"))
        .unwrap();
    let menu = s.menu().unwrap();
    assert_eq!(menu.len(), 2);
    assert_eq!(menu[0].item, "channel.email");
    assert_eq!(menu[1].title, "Roast, darker");
    assert_eq!(menu[1].options[0].title, "Option <a>");
}

fn proposals_come_back_opened_with_their_person_and_moment(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    import(
        &*s,
        rapport_store_tests::events(&[
            r#"{"source":"s","id":"1","kind":"menu.proposed","person":"a","at":"2024-01-01T00:00:00Z","text":"oat milk please"}"#,
            r#"{"source":"s","id":"2","kind":"wish.stated","person":"a","at":"2024-01-02T00:00:00Z","text":"not a proposal"}"#,
            r#"{"source":"s","id":"3","kind":"menu.proposed","person":"b","at":"2024-01-03T00:00:00Z","text":"Hafermilch bitte"}"#,
        ]),
    );
    let texts = s.texts(Kind::MenuProposed).unwrap();
    let got: Vec<(&str, &str)> = texts
        .iter()
        .map(|(p, _, t)| (p.as_str(), t.as_str()))
        .collect();
    assert_eq!(got, [("a", "oat milk please"), ("b", "Hafermilch bitte")]);
}

fn settings_are_kept_and_replaced(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    assert_eq!(s.setting("opt_in").unwrap(), None);
    s.set_setting("opt_in", "marketing").unwrap();
    s.set_setting("opt_in", "marketing,newsletter").unwrap();
    assert_eq!(
        s.setting("opt_in").unwrap().as_deref(),
        Some("marketing,newsletter")
    );
    // Secrets are derived, the same on every call and different per purpose.
    assert_eq!(s.secret("links"), s.secret("links"));
    assert_ne!(s.secret("links"), s.secret("pseudonyms"));
}

fn a_saved_fit_comes_back_as_the_latest_of_its_model(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    assert_eq!(s.latest_fit("bgnbd").unwrap(), None);
    let mut fit = StoredFit {
        seq: 0,
        model: "bgnbd".into(),
        params: serde_json::json!({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}),
        std_errors: serde_json::json!({"r": 0.01, "alpha": 0.3, "a": 0.1, "b": 0.5}),
        log_likelihood: -9582.43,
        iterations: 12,
        gradient_norm: 1e-7,
        converged: true,
        fitted_at: Timestamp::from_unix(1_700_000_000),
        calibration_end: Timestamp::from_unix(875_663_999),
        unit: "weeks".into(),
        events: 3000,
        people: 2357,
        covariance: Some(vec![
            0.01, 0.0, 0.0, 0.0, 0.0, 0.02, 0.0, 0.0, 0.0, 0.0, 0.03, 0.0, 0.0, 0.0, 0.0, 0.04,
        ]),
    };
    let first = s.save_fit(&fit).unwrap();
    fit.log_likelihood = -1.0;
    let second = s.save_fit(&fit).unwrap();
    assert!(second > first);
    let got = s.latest_fit("bgnbd").unwrap().unwrap();
    fit.seq = second;
    assert_eq!(got, fit);
    assert_eq!(s.latest_fit("gamma-gamma").unwrap(), None);
    let mut spend = fit.clone();
    spend.model = "gamma-gamma".into();
    spend.params = serde_json::json!({"p": 6.25, "q": 3.74, "v": 15.44});
    spend.covariance = None;
    spend.seq = s.save_fit(&spend).unwrap();
    let mut all = s.latest_fits().unwrap();
    all.sort_by_key(|f| f.seq);
    assert_eq!(
        all,
        vec![fit.clone(), spend],
        "one row per model, the latest"
    );
    let models = store::fits::stored_models(&*s).unwrap();
    assert!(models.purchase.is_some() && models.spend.is_some());
    assert!(
        models.purchase_uncertainty.is_some(),
        "a stored covariance gives the readings their intervals"
    );
    // A fit stored without a covariance (as before rapport kept it) still reads, without
    // intervals.
    fit.covariance = None;
    let third = s.save_fit(&fit).unwrap();
    fit.seq = third;
    assert_eq!(s.latest_fit("bgnbd").unwrap().unwrap(), fit);
    let models = store::fits::stored_models(&*s).unwrap();
    assert!(models.purchase.is_some() && models.purchase_uncertainty.is_none());
}

fn catalogue(products: &[(&str, Option<f64>)]) -> Catalogue {
    Catalogue::new(
        vec![Factor {
            name: Label::parse("co2e_kg").unwrap(),
            unit: Label::parse("kg CO2e").unwrap(),
            source: "test".into(),
        }],
        products
            .iter()
            .map(|(id, v)| Product {
                id: Label::parse(id).unwrap(),
                name: Some(format!("<b>{id}</b>")),
                values: vec![v.map(|v| PerUnit::new(v).unwrap())],
            })
            .collect(),
    )
    .unwrap()
}

fn a_catalogue_comes_back_as_it_was_put_and_a_new_one_replaces_it_whole(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    assert_eq!(s.catalogue().unwrap(), None);
    assert_eq!(s.costs_report(None, None).unwrap(), None);
    let first = catalogue(&[("A", Some(1.5)), ("B", None)]);
    s.catalogue_put(&first).unwrap();
    assert_eq!(s.catalogue().unwrap(), Some(first));
    let second = catalogue(&[("C", Some(0.0))]);
    s.catalogue_put(&second).unwrap();
    let back = s.catalogue().unwrap().unwrap();
    assert_eq!(back, second);
    assert!(back.product("A").is_none());
}

fn the_order_scan_gives_every_order_with_its_lines_and_nothing_else(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let mut events: Vec<NewEvent> = domain::examples::ALL
        .iter()
        .map(|l| NewEvent::from_json_line(l).unwrap())
        .collect();
    events.push(NewEvent::from_json_line(r#"{"source":"s","id":"o9","kind":"order.returned","person":"q","at":"2020-01-01T00:00:00Z","order":"C9","lines":[{"product":"A","qty":2,"unit_price":"1.25"}]}"#).unwrap());
    import(&*s, events);
    let mut seen = Vec::new();
    s.visit_orders(&mut |person, r| {
        let lines = match &r.body {
            domain::Body::OrderPlaced { lines, .. } | domain::Body::OrderReturned { lines, .. } => {
                lines.len()
            }
            _ => usize::MAX,
        };
        seen.push((person.to_string(), r.body.kind(), lines));
    })
    .unwrap();
    assert!(
        seen.iter()
            .all(|(_, k, _)| matches!(k, Kind::OrderPlaced | Kind::OrderReturned))
    );
    assert!(seen.contains(&("q".to_owned(), Kind::OrderReturned, 1)));
    let examples = seen.iter().filter(|(p, _, _)| p != "q").count();
    let expected = domain::examples::ALL
        .iter()
        .filter(|l| l.contains("\"order.placed\"") || l.contains("\"order.returned\""))
        .count();
    assert_eq!(examples, expected);
    s.catalogue_put(&catalogue(&[("A", Some(2.0))])).unwrap();
    let report = s.costs_report(None, None).unwrap().expect("a report");
    assert!(format!("{report:?}").contains("co2e_kg"));
}

conformance!(
    a_token_is_found_by_its_hash_until_it_is_revoked_and_its_sessions_end_with_it,
    a_session_removed_is_gone,
    audit_entries_are_kept_newest_first_and_paged,
    the_menu_is_put_replaced_and_listed_by_kind,
    proposals_come_back_opened_with_their_person_and_moment,
    settings_are_kept_and_replaced,
    a_saved_fit_comes_back_as_the_latest_of_its_model,
    a_catalogue_comes_back_as_it_was_put_and_a_new_one_replaces_it_whole,
    the_order_scan_gives_every_order_with_its_lines_and_nothing_else,
);
