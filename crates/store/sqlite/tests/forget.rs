//! Forgetting a person, tested as an attacker would: read every byte of every file the ledger
//! keeps, and try to open a copy of the ledger taken before.

use std::path::Path;

use domain::{NewEvent, PersonId};
use rapport_store_sqlite::SqliteStore;
use store::{Access, MasterKey, PersonData, Store};

const SECRETS: &[&str] = &[
    "Zebulon Quixote",
    "zebulon@example.org",
    "Unforgettable wish about blue teapots",
    "My secret question about the parcel",
    "PX-FORGET",
];

fn events() -> Vec<NewEvent> {
    [
        r#"{"source":"crm","id":"1","person":"PX-FORGET","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Zebulon Quixote","email":"zebulon@example.org"}"#,
        r#"{"source":"crm","id":"2","person":"PX-FORGET","kind":"wish.stated","at":"2024-01-02T00:00:00Z","text":"Unforgettable wish about blue teapots"}"#,
        r#"{"source":"desk","id":"3","person":"PX-FORGET","kind":"contact.opened","at":"2024-01-03T00:00:00Z","contact":"C-9","channel":"email","text":"My secret question about the parcel"}"#,
        r#"{"source":"ar","id":"4","person":"PX-FORGET","kind":"invoice.issued","at":"2024-01-04T00:00:00Z","invoice":"I-9","amount":"120.50","currency":"EUR","due":"2024-02-01"}"#,
        r#"{"source":"crm","id":"5","person":"KEEP-1","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Keeper Person"}"#,
    ]
    .iter()
    .map(|l| NewEvent::from_json_line(l).unwrap())
    .collect()
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("before"))
        .collect()
}

#[test]
fn after_forget_no_byte_of_the_ledger_log_or_vault_holds_the_person_and_an_old_copy_cannot_be_read()
{
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let key = MasterKey::generate();
    let store = SqliteStore::create(&db, key.clone()).unwrap();
    let mut batch = store.batch("test").unwrap();
    for e in events() {
        batch.append(e).unwrap();
    }
    batch.commit().unwrap();
    let person = PersonId::parse("PX-FORGET").unwrap();
    store.audit("test", "card.view", Some(&person)).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
    // An attacker's copy of the ledger file, taken before (a backup: the log checkpointed in).
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    std::fs::copy(&db, dir.path().join("before.db")).unwrap();

    let done = store
        .forget(&person)
        .unwrap()
        .expect("the person was there");
    assert_eq!(done.events, 4);
    assert!(done.cleared_now);
    assert!(store.history(&person).unwrap().is_none());
    assert_eq!(
        store.forget(&person).unwrap(),
        None,
        "forgetting twice finds nobody"
    );

    // Every byte of every file: the ledger, its log and shared memory, the vault and its log.
    for path in files(dir.path()) {
        let bytes = std::fs::read(&path).unwrap();
        for secret in SECRETS {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret:?} is still in {}",
                path.display()
            );
        }
    }
    // Figures that identify nobody stay, detached.
    let amounts: String = store
        .connection()
        .query_row("SELECT amounts FROM forgotten", [], |r| r.get(0))
        .unwrap();
    assert!(amounts.contains("120.5"), "{amounts}");
    // The other person is untouched.
    let keep = PersonId::parse("KEEP-1").unwrap();
    assert_eq!(
        store.names().unwrap(),
        vec![(keep, "Keeper Person".to_owned())]
    );
    drop(store);

    // The old copy still has the sealed rows, but the key that opens them is gone.
    std::fs::copy(
        SqliteStore::vault_path(&db),
        SqliteStore::vault_path(&dir.path().join("before.db")),
    )
    .unwrap();
    let old = SqliteStore::open(&dir.path().join("before.db"), key).unwrap();
    let history = old
        .history(&person)
        .unwrap()
        .expect("the old copy has the events");
    assert_eq!(history.len(), 4);
    assert!(
        history.iter().all(|e| e.personal.is_none()),
        "nothing can be unsealed"
    );
    assert!(old.names().unwrap().iter().all(|(p, _)| p != &person));
}
