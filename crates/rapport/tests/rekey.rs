//! `rapport rekey`: every person key re-wrapped under a new master key, so that the old key
//! (and every backup of the vault it opened) can be destroyed; a crash between the vault's
//! commit and the key file's swap loses nothing.

mod common;

use common::{Ledger, stderr, stdout};
use store::MasterKey;

const PERSON: &str = r#"{"source":"crm","id":"1","person":"P-1","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Ada Rekeyed"}
"#;

#[test]
fn after_a_rekey_the_new_key_opens_everything_and_the_old_key_nothing() {
    let l = Ledger::new();
    assert!(l.import("p.jsonl", PERSON.as_bytes()).status.success());
    let key_file = l.key_file();
    let old = std::fs::read_to_string(&key_file).unwrap();

    let refused = l.run(&["rekey"]);
    assert!(!refused.status.success(), "it asks for --yes");
    let out = l.run(&["rekey", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Re-wrapped 1 person keys"),
        "{}",
        stdout(&out)
    );
    let new = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old, new);

    let card = l.run(&["card", "P-1"]);
    assert!(stdout(&card).contains("Ada Rekeyed"), "{}", stderr(&card));

    // The old key opens nothing any more.
    std::fs::write(&key_file, &old).unwrap();
    let card = l.run(&["card", "P-1"]);
    assert!(!card.status.success());
    assert!(stderr(&card).contains("master key"), "{}", stderr(&card));
    std::fs::write(&key_file, &new).unwrap();
}

#[test]
fn a_rekey_interrupted_before_the_key_file_was_swapped_is_finished_at_the_next_open() {
    let l = Ledger::new();
    assert!(l.import("p.jsonl", PERSON.as_bytes()).status.success());
    let key_file = l.key_file();
    let old = std::fs::read_to_string(&key_file).unwrap();
    assert!(l.run(&["rekey", "--yes"]).status.success());
    let new = std::fs::read_to_string(&key_file).unwrap();
    // As a crash after the vault's commit leaves it: the old key in place, the new one beside.
    std::fs::write(&key_file, &old).unwrap();
    std::fs::write(app::pending_key_file(&key_file), &new).unwrap();

    let card = l.run(&["card", "P-1"]);
    assert!(card.status.success(), "{}", stderr(&card));
    assert!(stdout(&card).contains("Ada Rekeyed"));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new);
    assert!(!app::pending_key_file(&key_file).exists());
}

#[test]
fn a_key_from_the_environment_is_replaced_by_one_printed_once() {
    let l = Ledger::sqlite_empty();
    let key = MasterKey::generate().to_hex();
    let run = |key: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .env("RAPPORT_DB", l.db())
            .env("RAPPORT_MASTER_KEY", key)
            .current_dir(l.dir.path())
            .output()
            .unwrap()
    };
    assert!(run(&key, &["init"]).status.success());
    let p = l.write("p.jsonl", PERSON.as_bytes());
    assert!(run(&key, &["import", p.to_str().unwrap()]).status.success());
    let out = run(&key, &["rekey", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let new = stdout(&out).trim().to_owned();
    assert_eq!(new.len(), 64, "{new}");
    assert!(!run(&key, &["card", "P-1"]).status.success());
    assert!(stdout(&run(&new, &["card", "P-1"])).contains("Ada Rekeyed"));
}
