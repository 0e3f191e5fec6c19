//! What only the PostgreSQL backend has to promise: a one-line error that says what to do
//! for every way of pointing it at the wrong place, a store that survives its connections
//! being cut (a server restart) and never panics on the web's threads, and short writes that
//! never wait for an import.

use std::time::{Duration, Instant};

use rapport_store_tests::{Postgres, import, with_database};
use store::{MasterKey, StoreError};
use store_postgres::PostgresStore;

fn error_of(r: Result<PostgresStore, StoreError>) -> StoreError {
    match r {
        Ok(_) => panic!("the ledger opened"),
        Err(e) => e,
    }
}

fn one_line(e: &StoreError) -> String {
    let m = e.to_string();
    assert!(!m.contains('\n'), "{m}");
    m
}

#[test]
fn an_unreachable_server_is_said_to_be_unavailable_within_seconds() {
    let started = Instant::now();
    let e = error_of(PostgresStore::open(
        "postgres://postgres:s3cret@127.0.0.1:1/rapport",
        MasterKey::generate(),
    ));
    assert!(e.is_unavailable(), "{e:?}");
    let m = one_line(&e);
    assert!(
        m.contains("127.0.0.1:1") && m.contains("is the server running"),
        "{m}"
    );
    assert!(!m.contains("s3cret"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_missing_database_a_refused_login_and_a_wrong_url_each_say_what_to_do() {
    let Some(pg) = Postgres::new() else { return };
    let missing = with_database(pg.url(), "rapport_no_such_database");
    let m = one_line(&error_of(PostgresStore::open(
        &missing,
        MasterKey::generate(),
    )));
    assert!(
        m.contains("does not exist") && m.contains("createdb"),
        "{m}"
    );

    let stranger = pg.url().replacen("://", "://nobody_here_at_all:pw@", 1);
    let stranger = match stranger.find("@") {
        // Drop the URL's own user, keep ours.
        Some(_) => {
            let after = &pg.url()[pg.url().find('@').map(|i| i + 1).unwrap_or(0)..];
            format!("postgres://nobody_here_at_all:pw@{after}")
        }
        None => stranger,
    };
    let e = error_of(PostgresStore::open(&stranger, MasterKey::generate()));
    let m = one_line(&e);
    assert!(
        m.contains("refused the login") && m.contains("check the user"),
        "{m}"
    );
    assert!(!m.contains(":pw"), "{m}");

    for url in ["postgres://", "sqlite:///tmp/x.db", "postgres://u@h:port/x"] {
        let m = one_line(&error_of(PostgresStore::open(url, MasterKey::generate())));
        assert!(m.contains("postgres://USER"), "{url}: {m}");
    }
}

#[test]
fn a_database_made_by_a_newer_rapport_is_refused_and_left_as_it_is() {
    let Some(pg) = Postgres::new() else { return };
    let key = MasterKey::generate();
    drop(PostgresStore::create(pg.url(), key.clone()).unwrap());
    pg.sql("UPDATE rapport.meta SET value = '99' WHERE key = 'schema'");
    let m = one_line(&error_of(PostgresStore::open(pg.url(), key)));
    assert!(
        m.contains("newer rapport") && m.contains("schema 99"),
        "{m}"
    );
    assert_eq!(
        pg.rows("SELECT value FROM rapport.meta WHERE key = 'schema'")[0][0].as_deref(),
        Some("99")
    );
}

#[test]
fn making_a_ledger_in_a_database_with_a_schema_of_that_name_is_refused() {
    let Some(pg) = Postgres::new() else { return };
    pg.sql("CREATE SCHEMA rapport; CREATE TABLE rapport.theirs (x int)");
    let m = one_line(&error_of(PostgresStore::create(
        pg.url(),
        MasterKey::generate(),
    )));
    assert!(m.contains("already has a schema rapport"), "{m}");
    assert_eq!(
        pg.rows("SELECT count(*) FROM rapport.theirs")[0][0].as_deref(),
        Some("0")
    );
    assert!(
        pg.rows("SELECT 1 FROM pg_namespace WHERE nspname = 'rapport_vault'")
            .is_empty()
    );
    // A database with no ledger: opening says how to make one.
    let m = one_line(&error_of(PostgresStore::open(
        pg.url(),
        MasterKey::generate(),
    )));
    assert!(
        m.contains("holds no rapport ledger") && m.contains("rapport init"),
        "{m}"
    );
}

#[test]
fn describe_names_host_port_database_and_user_and_never_the_password() {
    let Some(pg) = Postgres::new() else { return };
    // Trust authentication ignores the password, so one can be given and must not show.
    let at = pg.url().find('@').expect("a user in the URL");
    let with_password = format!("{}:hunter2{}", &pg.url()[..at], &pg.url()[at..]);
    let store = PostgresStore::create(&with_password, MasterKey::generate()).unwrap();
    let d = store::Admin::describe(&store);
    assert!(
        d.contains("rapport_test_") && d.contains("127.0.0.1") && d.contains("postgres"),
        "{d}"
    );
    assert!(!d.contains("hunter2"), "{d}");
}

#[test]
fn the_store_answers_again_after_the_server_cut_its_connections() {
    let Some(pg) = Postgres::new() else { return };
    let store = PostgresStore::create(pg.url(), MasterKey::generate()).unwrap();
    import(
        &store,
        rapport_store_tests::events(&[
            r#"{"source":"s","id":"1","kind":"wish.stated","person":"a","at":"2024-01-01T00:00:00Z","text":"hello"}"#,
        ]),
    );
    use store::{Admin, Store};
    store.health().unwrap();
    // What a restart does to every open connection.
    pg.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    std::thread::sleep(Duration::from_millis(200));
    // Calls may fail while the pool finds its connections closed, but never panic; within a
    // few calls the store answers again, with nothing lost.
    let mut answered = false;
    for _ in 0..10 {
        match store.totals() {
            Ok(t) => {
                assert_eq!(t.events, 1);
                answered = true;
                break;
            }
            Err(e) => assert!(
                e.is_unavailable() || matches!(e, StoreError::Database { .. }),
                "{e:?}"
            ),
        }
    }
    assert!(answered, "the store reconnected");
    let started = Instant::now();
    store.health().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    let h = store
        .history(&domain::PersonId::parse("a").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        h[0].personal.as_ref().and_then(|p| p.text.as_deref()),
        Some("hello")
    );
}

#[test]
fn the_store_works_from_the_blocking_threads_of_a_web_runtime_and_drops_inside_one() {
    let Some(pg) = Postgres::new() else { return };
    let store =
        std::sync::Arc::new(PostgresStore::create(pg.url(), MasterKey::generate()).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = store.clone();
    let totals = rt.block_on(async move {
        let mut handles = Vec::new();
        for i in 0..8 {
            let s = s.clone();
            handles.push(tokio::task::spawn_blocking(move || {
                use store::{Access, Store};
                s.audit(&format!("web:{i}"), "card.view", None)?;
                s.token_by_hash(&[i; 32])?;
                s.totals()
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("no panic"));
        }
        out
    });
    assert!(totals.iter().all(|t| t.is_ok()), "{totals:?}");
    // The last reference dropped on a runtime thread: no panic.
    rt.block_on(async move { drop(store) });
}

#[test]
fn short_writes_do_not_wait_for_an_import_in_progress() {
    let Some(pg) = Postgres::new() else { return };
    let key = MasterKey::generate();
    let importer = PostgresStore::create(pg.url(), key.clone()).unwrap();
    let server = PostgresStore::open(pg.url(), key).unwrap();
    use store::{Access, Store};
    let batch = importer.batch("big-export.csv").unwrap();
    let started = Instant::now();
    server.token_add("t", "admin", &[1; 32]).unwrap();
    server.audit("t", "card.view", None).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(batch);
}
