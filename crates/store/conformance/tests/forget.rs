//! Forgetting a person, tested as an attacker would: read the bytes of the files the ledger
//! and its vault keep, and try to open a copy of the ledger taken before; tombstones and
//! welcoming back; what the vault's identity and the master key promise.

use domain::{NewEvent, PersonId};
use rapport_store_tests::{Backend, conformance, events, found_in, import};
use store::{Ledger, MasterKey};

const SECRETS: &[&str] = &[
    "Zebulon Quixote",
    "zebulon@example.org",
    "Unforgettable wish about blue teapots",
    "My secret question about the parcel",
];

fn forgettable() -> Vec<NewEvent> {
    events(&[
        r#"{"source":"crm","id":"1","person":"PX-FORGET","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Zebulon Quixote","email":"zebulon@example.org"}"#,
        r#"{"source":"crm","id":"2","person":"PX-FORGET","kind":"wish.stated","at":"2024-01-02T00:00:00Z","text":"Unforgettable wish about blue teapots"}"#,
        r#"{"source":"desk","id":"3","person":"PX-FORGET","kind":"contact.opened","at":"2024-01-03T00:00:00Z","contact":"C-9","channel":"email","text":"My secret question about the parcel"}"#,
        r#"{"source":"ar","id":"4","person":"PX-FORGET","kind":"invoice.issued","at":"2024-01-04T00:00:00Z","invoice":"I-9","amount":"120.50","currency":"EUR","due":"2024-02-01"}"#,
        r#"{"source":"crm","id":"5","person":"KEEP-1","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Keeper Person"}"#,
    ])
}

fn after_forget_the_key_is_gone_from_the_vault_files_and_nothing_of_the_person_can_be_read(
    b: &dyn Backend,
) {
    let key = MasterKey::generate();
    let store = b.create(&key).unwrap();
    import(&*store, forgettable());
    let person = PersonId::parse("PX-FORGET").unwrap();
    store.audit("test", "card.view", Some(&person)).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
    let wrapped = b.wrapped_key("PX-FORGET").expect("the person has a key");
    let scan = b.files_readable();
    if scan {
        b.flush();
        // The scan finds what is there: the key, before.
        assert!(
            found_in(&b.vault_files(), &wrapped).is_some(),
            "the scan sees the key"
        );
    } else {
        eprintln!(
            "the byte scan is skipped: the {} files are not readable here",
            b.name()
        );
    }

    let done = store
        .forget(&person)
        .unwrap()
        .expect("the person was there");
    assert_eq!((done.events, done.sealed), (4, 3));
    assert!(done.cleared_now || !b.servers_to_itself());
    assert!(store.history(&person).unwrap().is_none());
    assert_eq!(
        store.forget(&person).unwrap(),
        None,
        "forgetting twice finds nobody"
    );
    assert_eq!(b.wrapped_key("PX-FORGET"), None);

    if scan {
        b.flush();
        if done.cleared_now {
            assert_eq!(
                found_in(&b.vault_files(), &wrapped),
                None,
                "the wrapped key is still in a vault file"
            );
        }
        let files: Vec<_> = b.data_files().into_iter().chain(b.vault_files()).collect();
        for secret in SECRETS {
            assert_eq!(
                found_in(&files, secret.as_bytes()),
                None,
                "{secret:?} is in the files"
            );
        }
        if b.erases_ids_at_once() {
            assert_eq!(found_in(&files, b"PX-FORGET"), None);
        }
    }
    // Figures that identify nobody stay; the audit log keeps the view, not the person.
    let log = store.audit_log(10).unwrap();
    assert!(log.iter().all(|e| e.person.is_none()), "{log:?}");
    // The other person is untouched.
    assert_eq!(
        store.names().unwrap(),
        vec![(
            PersonId::parse("KEEP-1").unwrap(),
            "Keeper Person".to_owned()
        )]
    );
}

fn a_forgotten_person_stays_forgotten_when_the_same_export_is_imported_again(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    import(&*store, forgettable());
    let gone = PersonId::parse("PX-FORGET").unwrap();
    store.forget(&gone).unwrap().unwrap();
    let again = import(&*store, forgettable());
    assert_eq!(again.added, 0);
    assert_eq!(
        again.duplicates, 1,
        "the other person's event is already there"
    );
    assert_eq!(again.forgotten, 4);
    assert_eq!(again.forgotten_people, vec!["PX-FORGET".to_owned()]);
    assert!(store.history(&gone).unwrap().is_none());
    assert_eq!(
        b.wrapped_key("PX-FORGET"),
        None,
        "not even a key was made for them"
    );
    // Sealed ahead, as imports do: the key made ahead is not stored either.
    let mut batch = store.batch("ahead").unwrap();
    let mut sealer = batch.seal_ahead().unwrap();
    for e in forgettable() {
        let sealed = sealer.seal(&e).unwrap();
        batch.append_sealed(e, sealed).unwrap();
    }
    assert_eq!(batch.commit().unwrap().forgotten, 4);
    assert_eq!(b.wrapped_key("PX-FORGET"), None);
}

fn a_second_store_that_knew_the_person_does_not_bring_them_back(b: &dyn Backend) {
    let key = MasterKey::generate();
    let server = b.create(&key).unwrap();
    import(&*server, forgettable());
    // The server knows everyone from its import.
    import(&*server, vec![]);
    let cli = b.open(&key).unwrap();
    let gone = PersonId::parse("PX-FORGET").unwrap();
    cli.forget(&gone).unwrap().unwrap();
    let late = events(&[
        r#"{"source":"crm","id":"9","person":"PX-FORGET","kind":"wish.stated","at":"2024-03-01T00:00:00Z","text":"still here?"}"#,
    ]);
    let s = import(&*server, late);
    assert_eq!((s.added, s.forgotten), (0, 1));
    assert!(server.history(&gone).unwrap().is_none());
    // The server's tombstone view moves too.
    assert_eq!(
        server.latest_tombstone().unwrap(),
        cli.latest_tombstone().unwrap()
    );
    let stones = server.tombstones_after(0).unwrap();
    assert_eq!(stones.len(), 1);
    assert_eq!(
        stones[0].1,
        store::tombstone_of(&server.tombstone_key().unwrap(), "PX-FORGET")
    );
}

fn a_person_welcomed_back_is_imported_as_new_and_nothing_old_returns(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    import(&*store, forgettable());
    let gone = PersonId::parse("PX-FORGET").unwrap();
    store.forget(&gone).unwrap().unwrap();
    assert!(store.welcome_back(&gone).unwrap());
    assert!(!store.welcome_back(&gone).unwrap(), "only once");
    let back = events(&[
        r#"{"source":"crm","id":"10","person":"PX-FORGET","kind":"person.identified","at":"2025-01-01T00:00:00Z","name":"Back Again"}"#,
    ]);
    let s = import(&*store, back);
    assert_eq!((s.added, s.forgotten), (1, 0));
    let h = store.history(&gone).unwrap().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0].personal.as_ref().and_then(|p| p.name.as_deref()),
        Some("Back Again")
    );
}

fn nobody_forgotten_means_no_tombstones(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    assert_eq!(store.latest_tombstone().unwrap(), 0);
    assert!(store.tombstones_after(0).unwrap().is_empty());
    assert_eq!(
        store.forget(&PersonId::parse("nobody").unwrap()).unwrap(),
        None
    );
    assert!(
        !store
            .welcome_back(&PersonId::parse("nobody").unwrap())
            .unwrap()
    );
}

fn a_sealed_field_that_does_not_open_spoils_neither_the_card_nor_the_list(b: &dyn Backend) {
    let store = b.create(&MasterKey::generate()).unwrap();
    import(
        &*store,
        events(&[
            r#"{"source":"crm","id":"1","person":"P-GONE","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Gone Person"}"#,
            r#"{"source":"crm","id":"2","person":"P-GONE","kind":"wish.stated","at":"2024-01-02T00:00:00Z","text":"call me never"}"#,
            r#"{"source":"crm","id":"4","person":"P-STAY","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Staying Person"}"#,
            r#"{"source":"crm","id":"5","person":"P-STAY","kind":"wish.stated","at":"2024-01-03T00:00:00Z","text":"keep me posted"}"#,
        ]),
    );
    b.swap_sealed("5", "1");
    let gone = PersonId::parse("P-GONE").unwrap();
    let h = store.history(&gone).unwrap().unwrap();
    assert_eq!(h.iter().filter(|e| e.unreadable).count(), 1);
    let wish = h.iter().find(|e| e.id.as_str() == "2").unwrap();
    assert_eq!(
        wish.personal.as_ref().and_then(|p| p.text.as_deref()),
        Some("call me never")
    );
    let card = domain::card::Card::build(
        &gone,
        domain::Timestamp::now(),
        &h,
        &domain::readings::Readings::default(),
    );
    assert!(
        card.sealed_problem
            .expect("the card says")
            .contains("restore the vault")
    );
    let names = store.names().unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].1, "Staying Person");
}

fn a_ledger_whose_vault_is_missing_is_refused_and_opens_again_once_it_is_back(b: &dyn Backend) {
    let key = MasterKey::generate();
    let store = b.create(&key).unwrap();
    import(&*store, forgettable());
    drop(store);
    b.move_vault(true);
    let Err(e) = b.open(&key) else {
        panic!("opened without its vault")
    };
    let m = e.to_string();
    assert!(
        m.contains("vault") && m.contains("missing") && m.contains("restore"),
        "{m}"
    );
    b.move_vault(false);
    let store = b.open(&key).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
}

fn a_vault_of_another_ledger_is_refused_even_under_the_same_master_key(b: &dyn Backend) {
    let key = MasterKey::generate();
    drop(b.create(&key).unwrap());
    b.foreign_vault();
    let Err(e) = b.open(&key) else {
        panic!("opened with another ledger's vault")
    };
    assert!(e.to_string().contains("belongs to another ledger"), "{e}");
}

fn after_a_rekey_only_the_new_master_key_opens_the_ledger_and_everything_still_opens(
    b: &dyn Backend,
) {
    let old = MasterKey::generate();
    let store = b.create(&old).unwrap();
    import(&*store, forgettable());
    let tombstones = store.tombstone_key().unwrap();
    let wrapped = b.wrapped_key("KEEP-1").unwrap();
    let new = MasterKey::generate();
    let done = store.rekey(&new).unwrap();
    assert_eq!(done.keys, 2);
    assert!(
        done.cleared_now || !b.servers_to_itself(),
        "nothing else held the old wrappings back"
    );
    drop(store);
    if b.files_readable() && done.cleared_now {
        b.flush();
        assert_eq!(
            found_in(&b.vault_files(), &wrapped),
            None,
            "the old wrapping is still in the vault"
        );
    }
    assert!(b.open(&old).is_err(), "the old master key opens nothing");
    let store = b.open(&new).unwrap();
    assert_eq!(store.names().unwrap().len(), 2);
    assert_eq!(
        store.tombstone_key().unwrap(),
        tombstones,
        "secrets survive a rekey"
    );
    let h = store
        .history(&PersonId::parse("PX-FORGET").unwrap())
        .unwrap()
        .unwrap();
    assert!(h.iter().all(|e| !e.unreadable));
}

/// So that the suite also says which store it ran on when something fails.
#[allow(dead_code)]
fn describe(store: &dyn Ledger) -> String {
    store.describe()
}

conformance!(
    after_forget_the_key_is_gone_from_the_vault_files_and_nothing_of_the_person_can_be_read,
    a_forgotten_person_stays_forgotten_when_the_same_export_is_imported_again,
    a_second_store_that_knew_the_person_does_not_bring_them_back,
    a_person_welcomed_back_is_imported_as_new_and_nothing_old_returns,
    nobody_forgotten_means_no_tombstones,
    a_sealed_field_that_does_not_open_spoils_neither_the_card_nor_the_list,
    a_ledger_whose_vault_is_missing_is_refused_and_opens_again_once_it_is_back,
    a_vault_of_another_ledger_is_refused_even_under_the_same_master_key,
    after_a_rekey_only_the_new_master_key_opens_the_ledger_and_everything_still_opens,
);
