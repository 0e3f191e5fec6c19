//! The index of scripted answers as imports, the sealed texts and forgetting keep it.

use domain::{NewEvent, PersonId};
use rapport_store::{MasterKey, PersonData, Scripts, SqliteStore, Store};

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

fn import(store: &mut SqliteStore, events: Vec<NewEvent>) {
    let mut batch = store.batch("test").unwrap();
    for e in events {
        batch.append(e).unwrap();
    }
    batch.commit().unwrap();
}

fn seq_of(store: &SqliteStore, id: &str) -> i64 {
    store
        .connection()
        .query_row("SELECT seq FROM events WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[test]
fn answers_become_scripted_when_a_later_import_sends_the_same_text_to_a_sixth_person() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
    let names = ["Ann", "Bo", "Chen", "Dara", "Eli", "Fay"];
    import(
        &mut store,
        (0..5)
            .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), names[i]))
            .chain([answer("own", "P-0", "")])
            .collect(),
    );
    // Five people: each answer went to only four others.
    assert!(store.scripted().unwrap().is_empty());
    assert_eq!(store.scripts(10).unwrap().scripts, 0);

    import(
        &mut store,
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
    assert!(scripted.contains(seq_of(&store, "a0")));
    assert!(!scripted.contains(seq_of(&store, "mine")));
    assert!(!scripted.contains(seq_of(&store, "own")));
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
    // P-5's answers: the script is scripted, the reply written for them is not.
    assert!(scripted.contains(seq_of(&store, "a5")));
    assert!(!scripted.contains(seq_of(&store, "mine")));
}

#[test]
fn regrouping_from_the_sealed_texts_finds_what_the_imports_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
    // Three imports; P-1 receives the script twice, in different imports.
    for batch in 0..3 {
        import(
            &mut store,
            (0..4)
                .map(|i| {
                    let p = format!("P-{}", (batch * 3 + i) % 8);
                    script_to(&format!("a{batch}-{i}"), &p, "Sam")
                })
                .collect(),
        );
    }
    let before = store.scripted().unwrap();
    let figures = |o: rapport_store::ScriptsOverview| {
        o.list
            .iter()
            .map(|s| (s.people, s.answers, s.first, s.last))
            .collect::<Vec<_>>()
    };
    let counted = figures(store.scripts(10).unwrap());
    assert_eq!(counted[0].0, 8);
    assert_eq!(counted[0].1, 12);
    let regrouped = store.regroup().unwrap();
    assert_eq!((regrouped.answers, regrouped.scripts), (12, 1));
    assert_eq!(store.scripted().unwrap(), before);
    assert_eq!(figures(store.scripts(10).unwrap()), counted);
}

#[test]
fn forgetting_a_person_takes_their_answers_out_of_the_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
    import(
        &mut store,
        (0..6)
            .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
            .collect(),
    );
    assert_eq!(store.scripted().unwrap().len(), 6);
    store.forget(&PersonId::parse("P-0").unwrap()).unwrap();
    // Five people left: no longer a script.
    assert!(store.scripted().unwrap().is_empty());
    let left: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM script_answers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 5);
}

#[test]
fn a_ledger_opened_again_keeps_its_index_and_groups_new_answers_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    {
        let mut store = SqliteStore::create(&db, key.clone()).unwrap();
        import(
            &mut store,
            (0..5)
                .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
                .collect(),
        );
    }
    let mut store = SqliteStore::open(&db, key).unwrap();
    import(&mut store, vec![script_to("a5", "P-5", "Sam")]);
    assert_eq!(store.scripted().unwrap().len(), 6);
}

#[test]
fn a_ledger_made_before_the_index_existed_is_indexed_when_first_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    {
        let mut store = SqliteStore::create(&db, key.clone()).unwrap();
        import(
            &mut store,
            (0..6)
                .map(|i| script_to(&format!("a{i}"), &format!("P-{i}"), "Sam"))
                .collect(),
        );
        // As a ledger of the previous version: the tables empty, the mark absent.
        store
            .connection()
            .execute_batch(
                "DELETE FROM script_answers; DELETE FROM script_bands;
                 DELETE FROM script_variants; DELETE FROM scripts;
                 DELETE FROM meta WHERE key = 'scripts_indexed';",
            )
            .unwrap();
        assert!(store.scripted().unwrap().is_empty());
    }
    let store = SqliteStore::open(&db, key).unwrap();
    assert_eq!(store.scripted().unwrap().len(), 6);
}

const GERMAN: &str = "Hallo {name}, vielen Dank für Ihre Nachricht zu Ihrer Bestellung {n}. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen. Viele Grüße, Ihr Team";

/// The German script to six people, and six answers written for them: the same frame, their
/// own things in it (every noun capitalised).
fn german_answers() -> Vec<NewEvent> {
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
    events
}

#[test]
fn a_german_script_is_found_by_its_names_and_shown_with_its_nouns_while_personal_answers_stay_personal()
 {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::create(&dir.path().join("l.db"), MasterKey::generate()).unwrap();
    import(&mut store, german_answers());
    let scripted = store.scripted().unwrap();
    assert_eq!(scripted.len(), 6);
    for i in 0..6 {
        assert!(scripted.contains(seq_of(&store, &format!("s{i}"))));
        assert!(!scripted.contains(seq_of(&store, &format!("own{i}"))));
    }
    let overview = store.scripts(10).unwrap();
    assert_eq!(overview.scripts, 1);
    let s = &overview.list[0];
    // Six variants (six names) of one wording; that wording went to all six.
    assert_eq!((s.people, s.variants, s.text_people), (6, 1, 6));
    assert_eq!(
        s.text.as_deref(),
        Some(
            "Hallo ‹name›, vielen Dank für Ihre Nachricht zu Ihrer Bestellung ‹number›. Unser Kundenservice prüft Ihr Anliegen und meldet sich innerhalb von zwei Werktagen bei Ihnen."
        )
    );
}

#[test]
fn a_ledger_indexed_by_the_earlier_masking_is_regrouped_once_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    {
        let mut store = SqliteStore::create(&db, key.clone()).unwrap();
        import(&mut store, german_answers());
        // As a ledger of schema 6 (no tombstones yet): its index marked complete, and (standing in for what the
        // earlier masking found) saying something else than today's.
        store
            .connection()
            .execute_batch("DELETE FROM scripts; DROP TABLE tombstones; PRAGMA user_version = 6;")
            .unwrap();
        assert!(store.scripted().unwrap().is_empty());
    }
    {
        let store = SqliteStore::open(&db, key.clone()).unwrap();
        assert_eq!(store.scripted().unwrap().len(), 6);
        let words: i64 = store
            .connection()
            .query_row("SELECT COUNT(*) FROM script_variants", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            words, 12,
            "six names of the script, six answers of their own"
        );
        store
            .connection()
            .execute_batch("DELETE FROM scripts;")
            .unwrap();
    }
    // Once: opened again, the ledger keeps the index it has.
    let store = SqliteStore::open(&db, key).unwrap();
    assert!(store.scripted().unwrap().is_empty());
}
