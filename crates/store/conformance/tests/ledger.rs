//! Appending, idempotency, all-or-nothing batches, history ranges and the scans readings use,
//! on every backend.

use domain::{NewEvent, PersonId};
use rapport_store_tests::{Backend, conformance, events, found_in, import};
use store::{BatchSummary, MasterKey, Sealed, Totals};

/// How many documented examples there are (one or more per kind).
const EXAMPLES: usize = domain::examples::ALL.len();

fn examples() -> Vec<NewEvent> {
    domain::examples::ALL
        .iter()
        .map(|l| NewEvent::from_json_line(l).unwrap())
        .collect()
}

fn wish(i: usize) -> NewEvent {
    NewEvent::from_json_line(&format!(
        r#"{{"source":"s","id":"w{i}","kind":"wish.stated","person":"p{}","at":"2024-01-01T00:00:00Z","text":"wish number {i}"}}"#,
        i % 7
    ))
    .unwrap()
}

/// Each wish of [`wish`] opens in its person's history with the text it was written with.
fn every_wish_opens_with_its_own_text(s: &dyn store::Ledger) {
    for p in 0..7 {
        let h = s
            .history(&PersonId::parse(&format!("p{p}")).unwrap())
            .unwrap()
            .unwrap();
        for e in h {
            let text = e.personal.unwrap().text.unwrap();
            assert_eq!(text, format!("wish number {}", &e.id.as_str()[1..]));
        }
    }
}

fn reimporting_the_same_events_adds_nothing(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let first = import(&*s, examples());
    assert_eq!(
        first,
        BatchSummary {
            added: EXAMPLES as u64,
            ..Default::default()
        }
    );
    let again = import(&*s, examples());
    assert_eq!(
        again,
        BatchSummary {
            duplicates: EXAMPLES as u64,
            ..Default::default()
        }
    );
    assert_eq!(
        s.totals().unwrap(),
        Totals {
            people: 1,
            events: EXAMPLES as u64
        }
    );
}

fn an_event_repeated_inside_one_batch_is_added_once(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let sum = import(&*s, vec![wish(1), wish(2), wish(1)]);
    assert_eq!((sum.added, sum.duplicates), (2, 1));
    assert_eq!(s.totals().unwrap().events, 2);
}

fn duplicates_mixed_with_new_events_keep_every_sealed_text_with_its_own_event(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    // More than one group of rows (and more than one COPY chunk) of each.
    let first: Vec<NewEvent> = (0..20_000).step_by(2).map(wish).collect();
    assert_eq!(import(&*s, first).added, 10_000);
    let sum = import(&*s, (0..20_000).map(wish).collect());
    assert_eq!(
        sum,
        BatchSummary {
            added: 10_000,
            duplicates: 10_000,
            ..Default::default()
        }
    );
    assert_eq!(s.totals().unwrap().events, 20_000);
    every_wish_opens_with_its_own_text(&*s);
}

fn events_sealed_ahead_on_another_thread_open_in_the_history(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    for round in 0..2 {
        let mut batch = s.batch("ahead").unwrap();
        let mut sealer = batch.seal_ahead().unwrap();
        let sealed: Vec<(NewEvent, Option<Sealed>)> = std::thread::scope(|t| {
            t.spawn(move || {
                (0..150)
                    .map(|i| {
                        let e = wish(i + round * 75);
                        let sealed = sealer.seal(&e).unwrap();
                        (e, sealed)
                    })
                    .collect()
            })
            .join()
            .unwrap()
        });
        for (e, sealed) in sealed {
            batch.append_sealed(e, sealed).unwrap();
        }
        let sum = batch.commit().unwrap();
        assert_eq!(sum.added, if round == 0 { 150 } else { 75 });
    }
    every_wish_opens_with_its_own_text(&*s);
}

fn a_large_import_sealed_ahead_finds_the_keys_of_people_already_known(b: &dyn Backend) {
    // More people than a backend may look up one at a time before it reads every key at once.
    let s = b.create(&MasterKey::generate()).unwrap();
    let person_wish = |i: usize, round: usize| {
        NewEvent::from_json_line(&format!(
            r#"{{"source":"s","id":"{round}-{i}","kind":"wish.stated","person":"p{i}","at":"2024-01-01T00:00:00Z","text":"wish {round} of {i}"}}"#
        ))
        .unwrap()
    };
    let import_ahead = |events: Vec<NewEvent>| {
        let mut batch = s.batch("ahead").unwrap();
        let mut sealer = batch.seal_ahead().unwrap();
        for e in events {
            let sealed = sealer.seal(&e).unwrap();
            batch.append_sealed(e, sealed).unwrap();
        }
        batch.commit().unwrap()
    };
    assert_eq!(
        import_ahead((0..600).map(|i| person_wish(i, 0)).collect()).added,
        600
    );
    // The same people again, and as many new ones.
    assert_eq!(
        import_ahead((0..1200).map(|i| person_wish(i, 1)).collect()).added,
        1200
    );
    for i in [0, 299, 599, 600, 1199] {
        let h = s
            .history(&PersonId::parse(&format!("p{i}")).unwrap())
            .unwrap()
            .unwrap();
        assert!(
            h.iter().all(|e| e.personal.is_some() && !e.unreadable),
            "p{i}"
        );
        assert_eq!(h.len(), if i < 600 { 2 } else { 1 });
    }
}

fn a_dropped_batch_leaves_the_ledger_as_it_was(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    {
        let mut batch = s.batch("test").unwrap();
        for e in examples() {
            batch.append(e).unwrap();
        }
        // Part of it written already: all of it must go.
        batch.summary().unwrap();
    }
    assert_eq!(
        s.totals().unwrap(),
        Totals {
            people: 0,
            events: 0
        }
    );
    // And the people the dropped batch made are not remembered.
    import(&*s, vec![examples().remove(0)]);
    assert_eq!(
        s.totals().unwrap(),
        Totals {
            people: 1,
            events: 1
        }
    );
    let h = s
        .history(&PersonId::parse("0379-NEVHP").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(h.len(), 1);
}

fn a_batch_that_fails_to_commit_leaves_nothing_and_the_ledger_takes_the_next(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let mut first = s.batch("first").unwrap();
    for i in 0..10 {
        first.append(wish(i)).unwrap();
    }
    drop(first);
    let sum = import(&*s, (0..10).map(wish).collect());
    assert_eq!(sum.added, 10);
    every_wish_opens_with_its_own_text(&*s);
}

fn personal_text_is_sealed_in_the_files_and_opens_in_the_history(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    import(&*s, examples());
    if !b.files_readable() {
        return;
    }
    b.flush();
    let files = b.data_files();
    assert!(!files.is_empty());
    for secret in [
        "Anna de Vries",
        "anna@example.org",
        "parcel arrived broken",
        "allotment",
    ] {
        assert_eq!(
            found_in(&files, secret.as_bytes()),
            None,
            "{secret} is readable"
        );
    }
    let person = PersonId::parse("0379-NEVHP").unwrap();
    let h = s.history(&person).unwrap().unwrap();
    assert_eq!(h.len(), EXAMPLES);
    let named = h.iter().find_map(|e| e.personal.as_ref()?.name.clone());
    assert_eq!(named.as_deref(), Some("Anna de Vries"));
}

fn a_history_holds_one_person_in_time_order_and_an_unknown_person_has_none(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let line = |id: &str, person: &str, at: &str| {
        NewEvent::from_json_line(&format!(
            r#"{{"source":"s","id":"{id}","kind":"wish.stated","person":"{person}","at":"{at}","text":"t{id}"}}"#
        ))
        .unwrap()
    };
    import(
        &*s,
        vec![
            line("1", "a", "2024-03-01T00:00:00Z"),
            line("2", "b", "2024-01-01T00:00:00Z"),
            line("3", "a", "2024-01-01T00:00:00Z"),
            line("4", "a", "2024-02-01T00:00:00Z"),
        ],
    );
    let a = PersonId::parse("a").unwrap();
    let ids: Vec<String> = s
        .history(&a)
        .unwrap()
        .unwrap()
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(ids, ["3", "4", "1"]);
    let public = s.events_of(&a).unwrap().unwrap();
    assert_eq!(public.len(), 3);
    assert!(public.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(
        s.event_id(&a, public[0].seq).unwrap(),
        Some(("s".to_owned(), "3".to_owned()))
    );
    let nobody = PersonId::parse("nobody").unwrap();
    assert!(s.history(&nobody).unwrap().is_none());
    assert!(s.events_of(&nobody).unwrap().is_none());
    assert_eq!(s.event_id(&nobody, 1).unwrap(), None);
}

fn every_person_is_visited_once_with_all_their_events(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    // 7 people with wishes, and more people with examples, over two batches.
    import(&*s, (0..700).map(wish).collect());
    import(&*s, examples());
    let people = s.people().unwrap();
    assert_eq!(people.len(), 8);
    let seen = std::sync::Mutex::new(vec![0usize; people.len()]);
    let visits = std::sync::atomic::AtomicUsize::new(0);
    s.visit_events(&|rank, events| {
        visits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        seen.lock().unwrap()[rank] += events.len();
        assert!(
            events
                .windows(2)
                .all(|w| (w[0].at, w[0].seq) <= (w[1].at, w[1].seq))
        );
    })
    .unwrap();
    assert_eq!(visits.into_inner(), 8);
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.iter().sum::<usize>(), 700 + EXAMPLES);
    let p = s.population().unwrap();
    assert_eq!(p.people, people);
    for (rank, person) in people.iter().enumerate() {
        assert_eq!(p.events[rank].len(), seen[rank]);
        assert_eq!(s.events_of(person).unwrap().unwrap(), p.events[rank]);
    }
}

fn a_visitor_may_ask_the_store_while_it_is_visited(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    import(&*s, (0..70).map(wish).collect());
    import(
        &*s,
        rapport_store_tests::events(&[
            r#"{"source":"s","id":"o1","kind":"order.placed","person":"p1","at":"2024-01-01T00:00:00Z","order":"O1","amount":"10","currency":"EUR","lines":[{"product":"A","qty":1,"unit_price":"10"}]}"#,
        ]),
    );
    let people = s.people().unwrap();
    s.visit_events(&|rank, events| {
        let again = s.events_of(&people[rank]).unwrap().unwrap();
        assert_eq!(again.len(), events.len());
    })
    .unwrap();
    let mut orders = 0;
    s.visit_orders(&mut |person, _| {
        orders += 1;
        assert!(s.history(person).unwrap().is_some());
    })
    .unwrap();
    assert_eq!(orders, 1);
}

fn an_empty_ledger_has_nobody_and_visits_nobody(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    assert!(s.people().unwrap().is_empty());
    s.visit_events(&|_, _| panic!("nobody to visit")).unwrap();
    assert_eq!(s.totals().unwrap(), Totals::default());
    s.health().unwrap();
}

fn opening_a_ledger_that_was_never_made_says_how_to_make_one(b: &dyn Backend) {
    let Err(e) = b.open_missing(&MasterKey::generate()) else {
        panic!("opened a ledger that is not there")
    };
    assert!(e.to_string().contains("rapport init"), "{e}");
}

fn a_ledger_opens_again_with_its_master_key_and_not_with_another(b: &dyn Backend) {
    let key = MasterKey::generate();
    let s = b.create(&key).unwrap();
    import(&*s, examples());
    drop(s);
    let Err(e) = b.open(&MasterKey::generate()) else {
        panic!("opened with another master key")
    };
    assert!(matches!(e, store::StoreError::MasterKey { .. }), "{e}");
    let s = b.open(&key).unwrap();
    assert_eq!(s.totals().unwrap().events, EXAMPLES as u64);
    assert!(!s.describe().is_empty());
}

fn creating_a_ledger_where_one_already_is_is_refused(b: &dyn Backend) {
    let key = MasterKey::generate();
    let s = b.create(&key).unwrap();
    import(&*s, examples());
    assert!(b.create(&key).is_err());
    assert_eq!(
        s.totals().unwrap().events,
        EXAMPLES as u64,
        "nothing of the first was touched"
    );
}

/// Every unique key includes the person (docs/sharding.md): an export that sends the same
/// `(source, id)` for another person adds it there; re-sent for the same person, it is a
/// duplicate as ever.
fn the_same_source_and_id_for_another_person_is_another_event(b: &dyn Backend) {
    let s = b.create(&MasterKey::generate()).unwrap();
    let two = || {
        events(&[
            r#"{"source":"crm","id":"7","person":"P-ONE","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"One"}"#,
            r#"{"source":"crm","id":"7","person":"P-TWO","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Two"}"#,
        ])
    };
    let first = import(&*s, two());
    assert_eq!((first.added, first.duplicates), (2, 0));
    let again = import(&*s, two());
    assert_eq!((again.added, again.duplicates), (0, 2));
    assert_eq!(
        s.totals().unwrap(),
        Totals {
            people: 2,
            events: 2
        }
    );
}

conformance!(
    reimporting_the_same_events_adds_nothing,
    the_same_source_and_id_for_another_person_is_another_event,
    an_event_repeated_inside_one_batch_is_added_once,
    duplicates_mixed_with_new_events_keep_every_sealed_text_with_its_own_event,
    events_sealed_ahead_on_another_thread_open_in_the_history,
    a_large_import_sealed_ahead_finds_the_keys_of_people_already_known,
    a_dropped_batch_leaves_the_ledger_as_it_was,
    a_batch_that_fails_to_commit_leaves_nothing_and_the_ledger_takes_the_next,
    personal_text_is_sealed_in_the_files_and_opens_in_the_history,
    a_history_holds_one_person_in_time_order_and_an_unknown_person_has_none,
    every_person_is_visited_once_with_all_their_events,
    a_visitor_may_ask_the_store_while_it_is_visited,
    an_empty_ledger_has_nobody_and_visits_nobody,
    opening_a_ledger_that_was_never_made_says_how_to_make_one,
    a_ledger_opens_again_with_its_master_key_and_not_with_another,
    creating_a_ledger_where_one_already_is_is_refused,
);
