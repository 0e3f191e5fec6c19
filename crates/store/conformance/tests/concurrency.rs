//! Two stores on one ledger, as two servers (or a server and the command line) share one:
//! writers wait for each other and name who holds the ledger, nothing is lost or duplicated,
//! a token revoked by one is refused by the other, and every audit entry is written once.

use domain::NewEvent;
use rapport_store_tests::{Backend, conformance, import};
use store::MasterKey;

fn wish(prefix: &str, i: usize) -> NewEvent {
    NewEvent::from_json_line(&format!(
        r#"{{"source":"s","id":"{prefix}{i}","kind":"wish.stated","person":"p{}","at":"2024-01-01T00:00:00Z","text":"wish {prefix}{i}"}}"#,
        i % 50
    ))
    .unwrap()
}

fn a_second_writer_is_told_who_holds_the_ledger_and_may_wait_or_give_up(b: &dyn Backend) {
    let key = MasterKey::generate();
    let first = b.create(&key).unwrap();
    let second = b.open(&key).unwrap();
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
    drop(batch);
    second.batch("small.csv").unwrap().commit().unwrap();
    second.token_add("t", "admin", &[1; 32]).unwrap();
}

fn two_stores_importing_at_once_wait_for_each_other_and_nothing_is_lost_or_duplicated(
    b: &dyn Backend,
) {
    let key = MasterKey::generate();
    let one = b.create(&key).unwrap();
    let two = b.open(&key).unwrap();
    let work = |store: &dyn store::Ledger, own: &str| {
        let mut added = 0;
        for round in 0..4 {
            let mut batch = store
                .batch_waiting(own, &mut |_| true)
                .expect("the writer waits its turn");
            for i in 0..500 {
                batch.append(wish(own, round * 500 + i)).unwrap();
                // Both import these: whoever comes second finds them there.
                batch.append(wish("shared", round * 500 + i)).unwrap();
            }
            added += batch.commit().unwrap().added;
        }
        added
    };
    let (a, b2) = std::thread::scope(|s| {
        let a = s.spawn(|| work(&*one, "one"));
        let b2 = s.spawn(|| work(&*two, "two"));
        (a.join().unwrap(), b2.join().unwrap())
    });
    assert_eq!(a + b2, 6_000, "each event added exactly once");
    assert_eq!(one.totals().unwrap().events, 6_000);
    assert_eq!(two.totals().unwrap().people, 50);
    // Every sealed text opens, whichever store wrote it and made the person's key.
    for p in 0..50 {
        let h = one
            .history(&domain::PersonId::parse(&format!("p{p}")).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(h.len(), 120);
        assert!(h.iter().all(|e| e.personal.is_some()), "p{p}");
    }
}

fn a_token_revoked_by_one_store_is_refused_by_the_other_at_once(b: &dyn Backend) {
    let key = MasterKey::generate();
    let one = b.create(&key).unwrap();
    let two = b.open(&key).unwrap();
    let id = one.token_add("desk", "agent", &[3; 32]).unwrap();
    let later = domain::Timestamp::from_unix(domain::Timestamp::now().unix() + 3600);
    one.session_add(&[4; 32], id, "c", later).unwrap();
    assert!(two.token_by_hash(&[3; 32]).unwrap().is_some());
    assert!(
        two.session_by_hash(&[4; 32], domain::Timestamp::now())
            .unwrap()
            .is_some()
    );
    assert!(two.token_revoke(id).unwrap());
    assert_eq!(one.token_by_hash(&[3; 32]).unwrap(), None);
    assert_eq!(
        one.session_by_hash(&[4; 32], domain::Timestamp::now())
            .unwrap(),
        None
    );
}

fn audit_entries_from_two_stores_are_each_written_once(b: &dyn Backend) {
    let key = MasterKey::generate();
    let one = b.create(&key).unwrap();
    let two = b.open(&key).unwrap();
    std::thread::scope(|s| {
        for (store, who) in [(&one, "one"), (&two, "two")] {
            s.spawn(move || {
                for i in 0..100 {
                    store
                        .audit(&format!("{who}:{i}"), "card.view", None)
                        .unwrap();
                }
            });
        }
    });
    let log = one.audit_log(1_000).unwrap();
    assert_eq!(log.len(), 200);
    let mut actors: Vec<&str> = log.iter().map(|e| e.actor.as_str()).collect();
    actors.sort_unstable();
    actors.dedup();
    assert_eq!(actors.len(), 200);
}

fn people_added_by_another_store_are_the_same_people_here(b: &dyn Backend) {
    let key = MasterKey::generate();
    let one = b.create(&key).unwrap();
    let two = b.open(&key).unwrap();
    import(&*one, (0..100).map(|i| wish("a", i)).collect());
    // `two` read its people before `one` added more.
    import(&*two, (0..10).map(|i| wish("b", i)).collect());
    import(&*one, (100..200).map(|i| wish("a", i)).collect());
    import(&*two, (10..200).map(|i| wish("b", i)).collect());
    assert_eq!(one.totals().unwrap().people, 50);
    assert_eq!(two.people().unwrap(), one.people().unwrap());
    let p = domain::PersonId::parse("p7").unwrap();
    assert_eq!(one.history(&p).unwrap().unwrap().len(), 8);
}

conformance!(
    a_second_writer_is_told_who_holds_the_ledger_and_may_wait_or_give_up,
    two_stores_importing_at_once_wait_for_each_other_and_nothing_is_lost_or_duplicated,
    a_token_revoked_by_one_store_is_refused_by_the_other_at_once,
    audit_entries_from_two_stores_are_each_written_once,
    people_added_by_another_store_are_the_same_people_here,
);
