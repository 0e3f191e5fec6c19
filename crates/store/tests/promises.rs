//! Promises about keys, forgetting and writers that once did not hold (each test failed
//! before its fix): a ledger never opens with a missing or foreign vault, a forgotten person
//! stays forgotten when the same export is imported again, one unopenable field never stops a
//! list, and a second writer learns who holds the ledger instead of "database is locked".

use std::path::Path;

use domain::{NewEvent, PersonId};
use rapport_store::sqlite::WriterLock;
use rapport_store::{Access, MasterKey, PersonData, SqliteStore, Store, StoreError};

fn events() -> Vec<NewEvent> {
    [
        r#"{"source":"crm","id":"1","person":"P-GONE","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Gone Person","email":"gone@example.org"}"#,
        r#"{"source":"crm","id":"2","person":"P-GONE","kind":"wish.stated","at":"2024-01-02T00:00:00Z","text":"call me never"}"#,
        r#"{"source":"ar","id":"3","person":"P-GONE","kind":"invoice.issued","at":"2024-01-04T00:00:00Z","invoice":"I-9","amount":"120.50","currency":"EUR","due":"2024-02-01"}"#,
        r#"{"source":"crm","id":"4","person":"P-STAY","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Staying Person"}"#,
        r#"{"source":"crm","id":"5","person":"P-STAY","kind":"wish.stated","at":"2024-01-03T00:00:00Z","text":"keep me posted"}"#,
    ]
    .iter()
    .map(|l| NewEvent::from_json_line(l).unwrap())
    .collect()
}

fn import(store: &mut SqliteStore, events: Vec<NewEvent>) -> rapport_store::BatchSummary {
    let mut batch = store.batch("test").unwrap();
    for e in events {
        batch.append(e).unwrap();
    }
    batch.commit().unwrap()
}

fn ledger(dir: &Path, key: &MasterKey) -> SqliteStore {
    let mut store = SqliteStore::create(&dir.join("l.db"), key.clone()).unwrap();
    import(&mut store, events());
    store
}

fn error_of(r: Result<SqliteStore, StoreError>) -> String {
    match r {
        Ok(_) => panic!("the ledger opened"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_ledger_whose_vault_is_missing_is_refused_and_no_new_vault_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    drop(ledger(dir.path(), &key));
    let db = dir.path().join("l.db");
    let vault = SqliteStore::vault_path(&db);
    std::fs::rename(&vault, dir.path().join("moved-away")).unwrap();
    let e = error_of(SqliteStore::open(&db, key.clone()));
    assert!(
        e.contains("vault") && e.contains("missing") && e.contains("restore"),
        "{e}"
    );
    assert!(!vault.exists(), "a new vault was made");
    // Once it is back, everything opens as before.
    std::fs::rename(dir.path().join("moved-away"), &vault).unwrap();
    let mut store = SqliteStore::open(&db, key).unwrap();
    let h = store
        .history(&PersonId::parse("P-GONE").unwrap())
        .unwrap()
        .unwrap();
    assert!(h.iter().all(|e| !e.unreadable));
    assert_eq!(store.names().unwrap().len(), 2);
}

#[test]
fn a_vault_of_another_ledger_is_refused_even_under_the_same_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    drop(ledger(&a, &key));
    drop(ledger(&b, &key));
    std::fs::copy(
        SqliteStore::vault_path(&b.join("l.db")),
        SqliteStore::vault_path(&a.join("l.db")),
    )
    .unwrap();
    let e = error_of(SqliteStore::open(&a.join("l.db"), key));
    assert!(e.contains("belongs to another ledger"), "{e}");
}

#[test]
fn init_refuses_a_vault_already_lying_where_its_own_would_go() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    drop(ledger(dir.path(), &key));
    std::fs::remove_file(dir.path().join("l.db")).unwrap();
    let e = error_of(SqliteStore::create(&dir.path().join("l.db"), key));
    assert!(e.contains("already exists"), "{e}");
    assert!(!dir.path().join("l.db").exists());
}

#[test]
fn a_ledger_and_vault_made_before_identities_are_given_one_together() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let db = dir.path().join("l.db");
    drop(ledger(dir.path(), &key));
    // As an older rapport left them: no identity on either side.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute("DELETE FROM meta WHERE key = 'vault_id'", [])
        .unwrap();
    drop(c);
    let v = rusqlite::Connection::open(SqliteStore::vault_path(&db)).unwrap();
    v.execute_batch("DROP TABLE meta; DROP TABLE secrets; PRAGMA user_version = 1;")
        .unwrap();
    drop(v);
    drop(SqliteStore::open(&db, key.clone()).unwrap());
    let mut store = SqliteStore::open(&db, key).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
}

#[test]
fn a_forgotten_person_stays_forgotten_when_the_same_export_is_imported_again() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let mut store = ledger(dir.path(), &key);
    let gone = PersonId::parse("P-GONE").unwrap();
    store.forget(&gone).unwrap().unwrap();

    let again = import(&mut store, events());
    assert_eq!(again.added, 0);
    assert_eq!(
        again.duplicates, 2,
        "the other person's events are already there"
    );
    assert_eq!(again.forgotten, 3);
    assert_eq!(again.forgotten_people, vec!["P-GONE".to_owned()]);
    assert!(store.history(&gone).unwrap().is_none());
    assert_eq!(store.names().unwrap().len(), 1);
    // Not even a key was made for them.
    let vault =
        rusqlite::Connection::open(SqliteStore::vault_path(&dir.path().join("l.db"))).unwrap();
    let keys: i64 = vault
        .query_row(
            "SELECT count(*) FROM keys WHERE person = 'P-GONE'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 0);

    // The ledger keeps no id: only a keyed hash.
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = std::fs::read(dir.path().join("l.db")).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"P-GONE"));
}

#[test]
fn a_second_connection_that_knew_the_person_does_not_bring_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let mut server = ledger(dir.path(), &key);
    // The server's writer has everyone in memory from its first import.
    import(&mut server, vec![]);
    let mut cli = SqliteStore::open(&dir.path().join("l.db"), key).unwrap();
    let gone = PersonId::parse("P-GONE").unwrap();
    cli.forget(&gone).unwrap().unwrap();
    let late = NewEvent::from_json_line(
        r#"{"source":"crm","id":"9","person":"P-GONE","kind":"wish.stated","at":"2024-03-01T00:00:00Z","text":"still here?"}"#,
    )
    .unwrap();
    let s = import(&mut server, vec![late]);
    assert_eq!((s.added, s.forgotten), (0, 1));
    assert!(server.history(&gone).unwrap().is_none());
}

#[test]
fn a_person_welcomed_back_is_imported_as_new_and_nothing_old_returns() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let mut store = ledger(dir.path(), &key);
    let gone = PersonId::parse("P-GONE").unwrap();
    store.forget(&gone).unwrap().unwrap();
    assert!(store.welcome_back(&gone).unwrap());
    assert!(!store.welcome_back(&gone).unwrap(), "only once");
    let back = NewEvent::from_json_line(
        r#"{"source":"crm","id":"10","person":"P-GONE","kind":"person.identified","at":"2025-01-01T00:00:00Z","name":"Back Again"}"#,
    )
    .unwrap();
    let s = import(&mut store, vec![back]);
    assert_eq!((s.added, s.forgotten), (1, 0));
    let h = store.history(&gone).unwrap().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0].personal.as_ref().and_then(|p| p.name.as_deref()),
        Some("Back Again")
    );
}

#[test]
fn a_sealed_field_that_does_not_open_spoils_neither_the_card_nor_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let mut store = ledger(dir.path(), &key);
    // The wish of P-GONE gets the sealed blob of P-STAY's wish: it cannot open with P-GONE's
    // key (nor with the wrong event's associated data).
    store
        .connection()
        .execute_batch(
            "UPDATE sealed SET blob = (SELECT s.blob FROM sealed s JOIN events e ON e.seq = s.seq
                                       WHERE e.id = '5')
             WHERE seq = (SELECT seq FROM events WHERE id = '1')",
        )
        .unwrap();
    let gone = PersonId::parse("P-GONE").unwrap();
    let h = store.history(&gone).unwrap().unwrap();
    assert_eq!(h.iter().filter(|e| e.unreadable).count(), 1);
    let wish = h.iter().find(|e| e.id.as_str() == "2").unwrap();
    assert_eq!(
        wish.personal.as_ref().and_then(|p| p.text.as_deref()),
        Some("call me never"),
        "the other fields still open"
    );
    let card = domain::card::Card::build(
        &gone,
        domain::Timestamp::now(),
        &h,
        &domain::readings::Readings::default(),
    );
    let problem = card.sealed_problem.expect("the card says what is wrong");
    assert!(problem.contains("restore the vault"), "{problem}");
    // The list of names simply lacks the name that does not open.
    let names = store.names().unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].1, "Staying Person");
}

#[test]
fn a_second_writer_is_told_who_holds_the_ledger_and_may_wait_or_give_up() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::generate();
    let mut first = ledger(dir.path(), &key);
    let db = dir.path().join("l.db");
    let mut second = SqliteStore::open(&db, key).unwrap();
    let batch = first.batch("big-export.csv").unwrap();

    let Err(e) = second.batch("small.csv") else {
        panic!("two writers at once")
    };
    assert!(e.is_busy(), "{e}");
    assert!(e.to_string().contains("importing big-export.csv"), "{e}");

    let mut told = Vec::new();
    let Err(e) = second.batch_waiting("small.csv", &mut |holder| {
        told.push(holder.to_owned());
        told.len() < 3
    }) else {
        panic!("two writers at once")
    };
    assert!(e.is_busy());
    assert_eq!(told.len(), 3);
    assert!(told[0].contains("big-export.csv"), "{told:?}");

    // The waiting writer gets the ledger as soon as the first one is done.
    drop(batch);
    let holder = std::thread::spawn(move || {
        let b = first.batch("another.csv").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        b.commit().unwrap();
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut waited = 0;
    let b = second
        .batch_waiting("small.csv", &mut |_| {
            waited += 1;
            true
        })
        .unwrap();
    b.commit().unwrap();
    holder.join().unwrap();
    assert!(waited > 0, "it did wait");
    assert!(WriterLock::try_acquire(&db, "check").unwrap().is_ok());
    // Short writes (a token) are not held back by the writer lock at all.
    second.token_add("t", "admin", &[1; 32]).unwrap();
}

#[test]
fn a_read_only_ledger_is_called_read_only() {
    let e = StoreError::from(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
        Some("attempt to write a readonly database".into()),
    ));
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e:?}");
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(!e.to_string().contains("not a rapport ledger"), "{e}");
}
