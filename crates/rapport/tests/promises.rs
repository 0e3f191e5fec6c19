//! The command line keeps the ledger's promises: a missing vault is a one-line error saying
//! what to restore, a forgotten person stays forgotten when the import is run again, and a
//! second import waits for the first instead of failing with "database is locked".

mod common;

use common::*;
use store_sqlite::{SqliteStore, WriterLock};

const EXPORT: &str = r#"{"source":"crm","id":"1","person":"P-000321","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Ada Forgotten","email":"ada@example.org"}
{"source":"crm","id":"2","person":"P-000321","kind":"wish.stated","at":"2024-01-02T00:00:00Z","text":"no more letters"}
{"source":"crm","id":"3","person":"P-000007","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Bo Stays"}
"#;

#[test]
fn importing_with_the_vault_moved_away_fails_in_one_line_and_makes_no_new_vault() {
    let l = Ledger::sqlite_new();
    assert!(l.import("a.jsonl", EXPORT.as_bytes()).status.success());
    let vault = SqliteStore::vault_path(&l.db());
    std::fs::rename(&vault, l.dir.path().join("elsewhere")).unwrap();
    let out = l.import("a.jsonl", EXPORT.as_bytes());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("is missing") && err.contains("restore"),
        "{err}"
    );
    assert!(!vault.exists(), "a new vault was made");
}

#[test]
fn a_forgotten_person_stays_forgotten_when_the_import_is_run_again() {
    let l = Ledger::new();
    assert!(l.import("a.jsonl", EXPORT.as_bytes()).status.success());
    let out = l.run(&["forget", "P-000321", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let again = l.import("a.jsonl", EXPORT.as_bytes());
    assert!(again.status.success(), "{}", stderr(&again));
    let said = stdout(&again);
    assert!(said.contains("0 events added"), "{said}");
    assert!(
        said.contains("skipped 2 event(s) of 1 forgotten person (P-000321)"),
        "{said}"
    );
    let card = l.run(&["card", "P-000321"]);
    assert!(!card.status.success());
    assert!(!stdout(&card).contains("Ada"));

    // Welcomed back, they are a new person: what the old export holds comes in again.
    let out = l.run(&["welcome-back", "P-000321"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let back = l.import("a.jsonl", EXPORT.as_bytes());
    assert!(
        stdout(&back).contains("2 events added"),
        "{}",
        stdout(&back)
    );
}

#[test]
fn an_unknown_person_is_named_plainly() {
    let l = Ledger::new();
    let out = l.run(&["forget", "P-404", "--yes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no person P-404"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("PersonId("), "{}", stderr(&out));
}

#[test]
fn a_second_import_waits_for_the_writer_and_says_whom_it_waits_for() {
    let l = Ledger::sqlite_new();
    let lock = WriterLock::acquire(&l.db(), "importing huge.csv").unwrap();
    let path = l.write("a.jsonl", EXPORT.as_bytes());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["import", path.to_str().unwrap()])
        .env("RAPPORT_DB", l.db())
        .env_remove("RAPPORT_MASTER_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for another writer to finish: importing huge.csv"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("3 events added"), "{}", stdout(&out));
}
