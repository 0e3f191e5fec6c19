//! The index of scripted answers across SQLite's own migrations: a ledger made before the index,
//! or indexed by an earlier masking, is indexed once when opened. (How imports, regrouping and
//! forgetting keep the index is tested for every backend in `crates/store/conformance`.)

use domain::NewEvent;
use rapport_store_sqlite::SqliteStore;
use store::{MasterKey, Scripts, Store};

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

fn import(store: &SqliteStore, events: Vec<NewEvent>) {
    let mut batch = store.batch("test").unwrap();
    for e in events {
        batch.append(e).unwrap();
    }
    batch.commit().unwrap();
}

#[test]
fn a_ledger_made_before_the_index_existed_is_indexed_when_first_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    {
        let store = SqliteStore::create(&db, key.clone()).unwrap();
        import(
            &store,
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
fn a_ledger_indexed_by_the_earlier_masking_is_regrouped_once_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    {
        let store = SqliteStore::create(&db, key.clone()).unwrap();
        import(&store, german_answers());
        // As a ledger of schema 6 (no tombstones, no kept readings yet): its index marked complete, and (standing in for what the
        // earlier masking found) saying something else than today's.
        store
            .connection()
            .execute_batch(
                "DELETE FROM scripts; DROP TABLE tombstones; DROP TABLE kept; DROP TABLE kept_order;
                 DROP TABLE kept_counts; DROP TABLE kept_dist; DROP TABLE kept_refs;
                 DROP TABLE kept_choices; DROP TABLE kept_dirty; DROP TABLE kept_meta;
                 DROP TABLE bank_lines; ALTER TABLE fits DROP COLUMN covariance;
                 PRAGMA user_version = 6;",
            )
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
