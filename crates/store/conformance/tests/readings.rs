//! The same events give the same readings on every backend: a generated ledger imported into
//! SQLite and PostgreSQL, everyone's readings computed from each one's scan, compared whole.

use domain::readings::{Assessor, Models, Readings};
use domain::{NewEvent, Timestamp};
use rapport_store_tests::{Backend, Postgres, Sqlite};
use store::{Ledger, MasterKey};

fn generated() -> (Vec<NewEvent>, Timestamp) {
    let end = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    let mut out = Vec::new();
    demo::generate(&demo::Options::new(400, 7, end), &mut out).unwrap();
    let events = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| NewEvent::from_json_line(l).unwrap())
        .collect();
    (events, end)
}

fn import_sealed_ahead(store: &dyn Ledger, events: &[NewEvent]) {
    // In two batches, sealed ahead as the command line imports.
    for half in events.chunks(events.len() / 2 + 1) {
        let mut batch = store.batch("generated").unwrap();
        let mut sealer = batch.seal_ahead().unwrap();
        for e in half {
            let sealed = sealer.seal(e).unwrap();
            batch.append_sealed(e.clone(), sealed).unwrap();
        }
        batch.commit().unwrap();
    }
}

fn readings(store: &dyn Ledger, as_of: Timestamp) -> Vec<Readings> {
    let people = store.people().unwrap();
    let models = Models::default();
    let scripted = store.scripted().unwrap();
    let assessor = Assessor::new(people.len(), as_of, &models, &scripted);
    store
        .visit_events(&|rank, events| assessor.person(rank, events))
        .unwrap();
    assessor.finish(&people)
}

#[test]
fn readings_on_the_same_events_are_identical_on_sqlite_and_postgres() {
    let Some(pg) = Postgres::new() else { return };
    let sqlite = Sqlite::new();
    let (events, end) = generated();
    assert!(events.len() > 3_000, "{}", events.len());
    let key = MasterKey::generate();
    let a = sqlite.create(&key).unwrap();
    let b = pg.create(&key).unwrap();
    import_sealed_ahead(&*a, &events);
    import_sealed_ahead(&*b, &events);
    assert_eq!(a.totals().unwrap(), b.totals().unwrap());
    assert_eq!(a.people().unwrap(), b.people().unwrap());
    assert_eq!(a.scripted().unwrap(), b.scripted().unwrap());
    assert_eq!(a.scripts(20).unwrap(), b.scripts(20).unwrap());
    let (ra, rb) = (readings(&*a, end), readings(&*b, end));
    assert_eq!(ra.len(), 400);
    assert!(
        ra.iter().any(|r| r != &Readings::default()),
        "some readings have data"
    );
    assert_eq!(ra, rb);
    for person in a.people().unwrap().iter().take(20) {
        assert_eq!(
            format!("{:?}", a.history(person).unwrap()),
            format!("{:?}", b.history(person).unwrap())
        );
    }
    assert_eq!(a.names().unwrap(), b.names().unwrap());
}
