//! Promises about SQLite's vault file that once did not hold (each test failed before its
//! fix): `rapport init` never takes over a vault file lying where its own would go, and a
//! ledger and vault made before identities existed are given one together. (Missing and
//! foreign vaults, tombstones, unopenable fields and waiting writers are tested for every
//! backend in `crates/store/conformance`.)

use std::path::Path;

use domain::NewEvent;
use rapport_store_sqlite::SqliteStore;
use store::{Access, MasterKey, Store, StoreError};

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

fn import(store: &SqliteStore, events: Vec<NewEvent>) -> store::BatchSummary {
    let mut batch = store.batch("test").unwrap();
    for e in events {
        batch.append(e).unwrap();
    }
    batch.commit().unwrap()
}

fn ledger(dir: &Path, key: &MasterKey) -> SqliteStore {
    let store = SqliteStore::create(&dir.join("l.db"), key.clone()).unwrap();
    import(&store, events());
    store
}

fn error_of(r: Result<SqliteStore, StoreError>) -> String {
    match r {
        Ok(_) => panic!("the ledger opened"),
        Err(e) => e.to_string(),
    }
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
    let store = SqliteStore::open(&db, key).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
}
