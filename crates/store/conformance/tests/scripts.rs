//! The index of scripted answers as imports, the sealed texts and forgetting keep it, on
//! every backend.

use domain::{NewEvent, PersonId};
use rapport_store_tests::{Backend, conformance, import, seq_of};
use store::MasterKey;

const SCRIPT: &str = "Dear {name}, thank you for contacting us. We have received your request {n} and will get back to you within two working days. If you have any other questions in the meantime, simply reply to this message. Kind regards, Team";

fn answer(id: &str, person: &str, text: &str) -> NewEvent {
    let line = serde_json::json!({
        "source": "desk", "id": id, "person": person, "kind": "contact.answered",
        "at": "2024-03-01T10:00:00Z", "contact": format!("c-{id}"), "by": "agent-7", "text": text,
    });
    NewEvent::from_json_line(&line.to_string()).unwrap()
}

fn script_to(id: &str, person: &str, name: &str) -> NewEvent {
    answer(
        id,
        person,
        &SCRIPT
            .replace("{name}", name)
            .replace("{n}", &id.len().to_string()),
    )
}

fn answers_become_scripted_when_a_later_import_sends_the_same_text_to_a_sixth_person(
    b: &dyn Backend,
) {
    let store = b.create(&MasterKey::generate()).unwrap();
    let names = ["Ann", "Bo", "Chen", "Dara", "Eli", "Fay"];
    import(
        &*store,
        (0..5)
            .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), names[i]))
            .chain([answer("own", "P-0", "")])
            .collect(),
    );
    assert!(store.scripted().unwrap().is_empty());
    assert_eq!(store.scripts(10).unwrap().scripts, 0);
    import(
        &*store,
        vec![
            script_to("a5", "P-5", names[5]),
            answer(
                "mine",
                "P-5",
                "The grinder you asked about fits the moka pot; I checked.",
            ),
        ],
    );
    let scripted = store.scripted().unwrap();
    assert_eq!(scripted.len(), 6);
    assert!(scripted.contains(seq_of(&*store, "P-0", "a0")));
    assert!(scripted.contains(seq_of(&*store, "P-5", "a5")));
    assert!(!scripted.contains(seq_of(&*store, "P-5", "mine")));
    assert!(!scripted.contains(seq_of(&*store, "P-0", "own")));
    let overview = store.scripts(10).unwrap();
    assert_eq!(
        (overview.answers, overview.scripted, overview.scripts),
        (7, 6, 1)
    );
    let s = &overview.list[0];
    assert_eq!((s.people, s.answers, s.variants), (6, 6, 1));
    assert_eq!(s.by[0].by, "agent-7");
    let text = s.text.as_deref().unwrap();
    assert!(text.starts_with("Dear ‹name›, thank you"), "{text}");
    assert!(names.iter().all(|n| !text.contains(n)), "{text}");
}

fn regrouping_from_the_sealed_texts_finds_what_the_imports_counted(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    // Three imports; P-1 receives the script twice, in different imports.
    for batch in 0..3 {
        import(
            &*store,
            (0..4)
                .map(|i| {
                    let p = format!("P-{}", (batch * 3 + i) % 8);
                    script_to(&format!("a{batch}-{i}"), &p, "Sam")
                })
                .collect(),
        );
    }
    let before = store.scripted().unwrap();
    let figures = |o: store::ScriptsOverview| {
        o.list
            .iter()
            .map(|s| (s.people, s.answers, s.first, s.last))
            .collect::<Vec<_>>()
    };
    let counted = figures(store.scripts(10).unwrap());
    assert_eq!((counted[0].0, counted[0].1), (8, 12));
    let regrouped = store.regroup().unwrap();
    assert_eq!((regrouped.answers, regrouped.scripts), (12, 1));
    assert_eq!(store.scripted().unwrap(), before);
    assert_eq!(figures(store.scripts(10).unwrap()), counted);
}

fn forgetting_a_person_takes_their_answers_out_of_the_scripts(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    import(
        &*store,
        (0..6)
            .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
            .collect(),
    );
    assert_eq!(store.scripted().unwrap().len(), 6);
    store.forget(&PersonId::parse("P-0").unwrap()).unwrap();
    // Five people left: no longer a script.
    assert!(store.scripted().unwrap().is_empty());
    assert_eq!(store.scripts(10).unwrap().answers, 5);
}

fn a_script_names_who_received_it_latest_first_and_not_those_forgotten(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    let mut events: Vec<NewEvent> = (0..7)
        .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
        .collect();
    for (i, e) in events.iter_mut().enumerate() {
        e.at = domain::Timestamp::parse(&format!("2024-03-0{}T10:00:00Z", i + 1)).unwrap();
    }
    import(&*store, events);
    let id = store.scripts(10).unwrap().list[0].id;
    let got = store.script_recipients(id, 3).unwrap();
    let people: Vec<&str> = got.iter().map(|r| r.person.as_str()).collect();
    assert_eq!(
        people,
        ["P-6", "P-5", "P-4"],
        "latest first, at most the limit"
    );
    assert_eq!(got[0].at.to_rfc3339(), "2024-03-07T10:00:00Z");
    assert_eq!(got[0].by, "agent-7");
    store.forget(&PersonId::parse("P-6").unwrap()).unwrap();
    let got = store.script_recipients(id, 10).unwrap();
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|r| r.person.as_str() != "P-6"));
    assert!(store.script_recipients(id + 1_000, 10).unwrap().is_empty());
}

fn a_ledger_opened_again_keeps_its_index_and_groups_new_answers_into_it(b: &dyn Backend) {
    let key = MasterKey::generate();
    {
        let store = b.create(&key).unwrap();
        import(
            &*store,
            (0..5)
                .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
                .collect(),
        );
    }
    let store = b.open(&key).unwrap();
    import(&*store, vec![script_to("a5", "P-5", "Sam")]);
    assert_eq!(store.scripted().unwrap().len(), 6);
}

const GERMAN: &str = "Hallo {name}, vielen Dank für Ihre Nachricht zu Ihrer Bestellung {n}. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen. Viele Grüße, Ihr Team";

fn a_german_script_is_found_by_its_names_and_shown_with_its_nouns_while_personal_answers_stay_personal(
    b: &dyn Backend,
) {
    let names = [
        "Frau Schneider",
        "Herr Yilmaz",
        "Anna",
        "Herr Becker",
        "Frau Nowak",
        "Jonas",
    ];
    let things = [
        ("Kaffeemühle", "Techniker", "Köln", "Garantie"),
        ("Espressomaschine", "Händler", "Bremen", "Rechnung"),
        ("Bestellung", "Zoll", "Hamburg", "Lieferung"),
        ("Rücksendung", "Lager", "Kassel", "Gutschrift"),
        ("Milchkanne", "Hersteller", "Ulm", "Reparatur"),
        ("Thermoskanne", "Kurier", "Essen", "Erstattung"),
    ];
    let mut events = Vec::new();
    for (i, (name, (what, who, city, about))) in names.iter().zip(things).enumerate() {
        let person = format!("P-{i}");
        let script = GERMAN
            .replace("{name}", name)
            .replace("{n}", &(4400 + i).to_string());
        events.push(answer(&format!("s{i}"), &person, &script));
        events.push(answer(
            &format!("own{i}"),
            &person,
            &format!("Ihre {what} ist beim {who} in {city}, wir rufen Sie wegen der {about} an."),
        ));
    }
    let store = b.create(&MasterKey::generate()).unwrap();
    import(&*store, events);
    let scripted = store.scripted().unwrap();
    assert_eq!(scripted.len(), 6);
    for i in 0..6 {
        let p = format!("P-{i}");
        assert!(scripted.contains(seq_of(&*store, &p, &format!("s{i}"))));
        assert!(!scripted.contains(seq_of(&*store, &p, &format!("own{i}"))));
    }
    let overview = store.scripts(10).unwrap();
    assert_eq!(overview.scripts, 1);
    let s = &overview.list[0];
    assert_eq!((s.people, s.variants, s.text_people), (6, 1, 6));
    assert_eq!(
        s.text.as_deref(),
        Some(
            "Hallo ‹name›, vielen Dank für Ihre Nachricht zu Ihrer Bestellung ‹number›. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen."
        )
    );
}

fn two_scripts_joined_by_a_later_answer_become_one(b: &dyn Backend) {
    // Two wordings far enough apart to be two scripts, then answers between them that join
    // both: the index merges them into the older.
    let store = b.create(&MasterKey::generate()).unwrap();
    let base: Vec<&str> = SCRIPT.split(' ').collect();
    let variant = |cut: usize| -> String {
        let mut words = base.clone();
        words.truncate(base.len() - cut);
        words.join(" ")
    };
    import(
        &*store,
        (0..6)
            .map(|i| answer(&format!("x{i}"), &format!("P-{i}"), &variant(0)))
            .collect(),
    );
    import(
        &*store,
        (0..6)
            .map(|i| answer(&format!("y{i}"), &format!("Q-{i}"), &variant(8)))
            .collect(),
    );
    let before = store.scripts(10).unwrap();
    let after_import = |s: &dyn store::Ledger| s.scripts(10).unwrap();
    import(
        &*store,
        (0..6)
            .map(|i| answer(&format!("z{i}"), &format!("R-{i}"), &variant(4)))
            .collect(),
    );
    let after = after_import(&*store);
    assert!(after.scripts <= before.scripts + 1, "{before:?} {after:?}");
    let regrouped_figures = {
        let o = after
            .list
            .iter()
            .map(|s| (s.people, s.answers))
            .collect::<Vec<_>>();
        store.regroup().unwrap();
        let r = store
            .scripts(10)
            .unwrap()
            .list
            .iter()
            .map(|s| (s.people, s.answers))
            .collect::<Vec<_>>();
        (o, r)
    };
    assert_eq!(
        regrouped_figures.0, regrouped_figures.1,
        "imports and a regroup agree"
    );
}

fn near_duplicates_still_find_a_script_whose_first_answer_was_forgotten(b: &dyn Backend) {
    // The same script sent with other names joins its wording's first variant without being
    // filed under the bands itself; once that first variant is forgotten, the next of its
    // wording must take its place there, or a near-duplicate (one word changed) would start a
    // script of its own.
    let store = b.create(&MasterKey::generate()).unwrap();
    import(&*store, vec![script_to("a0", "P-0", "Ann")]);
    import(
        &*store,
        ["Bo", "Chen", "Dara"]
            .iter()
            .enumerate()
            .map(|(i, name)| script_to(&format!("a{}", i + 1), &format!("P-{}", i + 1), name))
            .collect(),
    );
    store.forget(&PersonId::parse("P-0").unwrap()).unwrap();
    import(
        &*store,
        ["Eli", "Fay", "Gus"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let id = format!("b{}", i + 4);
                let text = SCRIPT
                    .replace("{name}", name)
                    .replace("{n}", "7")
                    .replace("simply reply", "just reply");
                answer(&id, &format!("P-{}", i + 4), &text)
            })
            .collect(),
    );
    let overview = store.scripts(10).unwrap();
    assert_eq!(overview.scripts, 1, "{overview:?}");
    assert_eq!(overview.list[0].people, 6, "{overview:?}");
    assert_eq!(store.scripted().unwrap().len(), 6);
}

conformance!(
    near_duplicates_still_find_a_script_whose_first_answer_was_forgotten,
    answers_become_scripted_when_a_later_import_sends_the_same_text_to_a_sixth_person,
    regrouping_from_the_sealed_texts_finds_what_the_imports_counted,
    forgetting_a_person_takes_their_answers_out_of_the_scripts,
    a_script_names_who_received_it_latest_first_and_not_those_forgotten,
    a_ledger_opened_again_keeps_its_index_and_groups_new_answers_into_it,
    a_german_script_is_found_by_its_names_and_shown_with_its_nouns_while_personal_answers_stay_personal,
    two_scripts_joined_by_a_later_answer_become_one,
);
