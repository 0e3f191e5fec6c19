//! A ledger spread over three PostgreSQL servers (`.ci/clusters` makes the other two): moving
//! partitions keeps every reading, loses and duplicates nothing under load, and a server that
//! does not answer makes only its own people unavailable.

mod common;

use common::{Ledger, stderr, stdout};
use store_postgres::partition;
use store_tests::SHARDED_PARTITIONS;

/// Where `Sharded::spread` puts each partition: 0 and 1 on the coordinator, then s1, s2, …
fn server_of(id: &str) -> &'static str {
    match partition::of_id(id, SHARDED_PARTITIONS) {
        0 | 1 => "coordinator",
        n if (n - 2) % 2 == 0 => "s1",
        _ => "s2",
    }
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
    stdout(o)
}

/// A generated history of `people` people.
fn history(l: &Ledger, people: usize, seed: u64) -> std::path::PathBuf {
    let out = l.dir.path().join(format!("gen-{seed}.jsonl"));
    ok(&l.run(&[
        "generate",
        "--people",
        &people.to_string(),
        "--seed",
        &seed.to_string(),
        "--end",
        "2026-06-30",
        "--out",
        out.to_str().unwrap(),
    ]));
    out
}

/// A JSON document without what moves with the clock (when it was made, how old an open
/// question is now).
fn timeless(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for k in ["as_of", "exported_at", "age_days"] {
                m.remove(k);
            }
            m.values_mut().for_each(timeless);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(timeless),
        _ => {}
    }
}

/// Everything a person sees of the ledger: every reading of everyone, and some people's
/// whole export.
fn everything(l: &Ledger, ids: &[String]) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = ok(&l.run(&["people", "--json"]))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for id in ids {
        all.push(serde_json::from_str(&ok(&l.run(&["export", id]))).unwrap());
    }
    all.iter_mut().for_each(timeless);
    all
}

fn events_in_all(l: &Ledger) -> u64 {
    let out = ok(&l.run(&["shards", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["events"].as_u64().unwrap())
        .sum()
}

fn ids(l: &Ledger) -> Vec<String> {
    ok(&l.run(&["people", "--json"]))
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["person"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn moving_partitions_between_servers_changes_no_reading_and_no_event() {
    let Some(l) = Ledger::sharded_new() else {
        return;
    };
    let file = history(&l, 120, 7);
    ok(&l.run(&["import", file.to_str().unwrap()]));
    let people = ids(&l);
    // A person from each server.
    let mut picked: Vec<String> = Vec::new();
    for server in ["coordinator", "s1", "s2"] {
        picked.extend(
            people
                .iter()
                .filter(|p| server_of(p) == server)
                .take(2)
                .cloned(),
        );
    }
    assert_eq!(picked.len(), 6, "people on every server");
    let before = everything(&l, &picked);
    let events = events_in_all(&l);
    assert!(events > 500, "{events}");

    // Off the coordinator, between the two others, and back.
    ok(&l.run(&["shards", "move", "0", "s1"]));
    ok(&l.run(&["shards", "move", "2", "s2"]));
    let moved = ok(&l.run(&["shards", "move", "3", "coordinator"]));
    assert!(
        moved.contains("Moved partition 3 from s2 to the coordinating server"),
        "{moved}"
    );

    let list = ok(&l.run(&["shards", "list"]));
    assert!(list.contains("coordinator: 2 partitions"), "{list}");
    assert!(list.contains("s1: 2 partitions"), "{list}");
    assert!(list.contains("s2: 2 partitions"), "{list}");
    assert_eq!(events_in_all(&l), events);
    // Not assert_eq!: the two are long.
    assert!(
        everything(&l, &picked) == before,
        "a reading or an event changed in the move"
    );
    let check = ok(&l.run(&["check"]));
    assert!(check.contains("equal a recomputation"), "{check}");

    // Moving a partition where it is already is refused, and so is an unknown server.
    let again = l.run(&["shards", "move", "0", "s1"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already on s1"),
        "{}",
        stderr(&again)
    );
    let unknown = l.run(&["shards", "move", "1", "s9"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no server \"s9\""),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn a_partition_moved_while_imports_keep_arriving_loses_and_duplicates_nothing() {
    let Some(l) = Ledger::sharded_new() else {
        return;
    };
    let first = history(&l, 80, 11);
    ok(&l.run(&["import", first.to_str().unwrap()]));
    // Twenty more files, imported one after another while partitions move.
    let files: Vec<_> = (0..20u64).map(|i| history(&l, 15, 100 + i)).collect();
    // The generator reuses event ids across seeds: the ledger must hold each distinct
    // (person, source, id) once.
    let expected = {
        let mut seen = std::collections::HashSet::new();
        for f in std::iter::once(&first).chain(files.iter()) {
            for line in std::fs::read_to_string(f).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                seen.insert((
                    v["person"].to_string(),
                    v["source"].to_string(),
                    v["id"].to_string(),
                ));
            }
        }
        seen.len() as u64
    };
    let writer = {
        let cmds: Vec<_> = files
            .iter()
            .map(|f| {
                let mut c = l.command();
                c.args(["import", f.to_str().unwrap()]);
                c
            })
            .collect();
        std::thread::spawn(move || {
            for mut c in cmds {
                let o = c.output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            }
        })
    };
    for (part, to) in [
        (2, "s2"),
        (0, "s1"),
        (3, "s1"),
        (2, "coordinator"),
        (5, "s1"),
    ] {
        ok(&l.run(&["shards", "move", &part.to_string(), to]));
    }
    writer.join().unwrap();
    let held = events_in_all(&l);
    assert_eq!(held, expected, "every distinct event once");
    for f in std::iter::once(&first).chain(files.iter()) {
        let o = ok(&l.run(&["import", f.to_str().unwrap()]));
        assert!(o.contains(": 0 events added"), "{o}");
    }
    assert_eq!(events_in_all(&l), held);
    let check = ok(&l.run(&["check"]));
    assert!(check.contains("equal a recomputation"), "{check}");
}

#[test]
fn a_server_that_does_not_answer_makes_only_its_people_unavailable_and_an_import_stops_whole() {
    let Some(l) = Ledger::sharded_new() else {
        return;
    };
    let file = history(&l, 100, 21);
    ok(&l.run(&["import", file.to_str().unwrap()]));
    let people = ids(&l);
    let there = people
        .iter()
        .find(|p| server_of(p) == "s2")
        .unwrap()
        .clone();
    let here = people
        .iter()
        .find(|p| server_of(p) == "coordinator")
        .unwrap()
        .clone();
    let elsewhere = people
        .iter()
        .find(|p| server_of(p) == "s1")
        .unwrap()
        .clone();
    let events = events_in_all(&l);

    // s2 goes away: its database refuses connections and drops the ones it has.
    let s2 = &l.sharded().unwrap().shards[1];
    let name = s2.url().rsplit('/').next().unwrap().to_owned();
    let admin = store_tests::with_database(s2.url(), "postgres");
    let down = |allow: bool| {
        let sql = format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allow};
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid();"
        );
        let o = std::process::Command::new("psql")
            .args([admin.as_str(), "-qAtc", &sql])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    down(false);

    let card = l.run(&["card", &there]);
    assert!(!card.status.success());
    assert!(
        stderr(&card).contains("server s2, which does not answer"),
        "{}",
        stderr(&card)
    );
    ok(&l.run(&["card", &here]));
    ok(&l.run(&["card", &elsewhere]));

    // An import touching all three servers stops, and nothing of it is anywhere.
    let more = l.write(
        "more.jsonl",
        format!(
            "{}\n{}\n{}\n",
            format_args!(r#"{{"source":"t","id":"x1","kind":"person.identified","person":"{here}","at":"2026-06-01T00:00:00Z","name":"One"}}"#),
            format_args!(r#"{{"source":"t","id":"x2","kind":"person.identified","person":"{elsewhere}","at":"2026-06-01T00:00:00Z","name":"Two"}}"#),
            format_args!(r#"{{"source":"t","id":"x3","kind":"person.identified","person":"{there}","at":"2026-06-01T00:00:00Z","name":"Three"}}"#),
        )
        .as_bytes(),
    );
    let failed = l.run(&["import", more.to_str().unwrap()]);
    assert!(!failed.status.success(), "{}", stdout(&failed));
    assert!(stderr(&failed).contains("s2"), "{}", stderr(&failed));

    down(true);
    assert_eq!(
        events_in_all(&l),
        events,
        "nothing of the failed import was kept"
    );
    let again = ok(&l.run(&["import", more.to_str().unwrap()]));
    assert!(again.contains(": 3 events added"), "{again}");
    assert_eq!(events_in_all(&l), events + 3);
    ok(&l.run(&["card", &there]));
}

#[test]
fn an_import_stopped_between_its_commits_is_settled_by_the_next_writer() {
    let Some(l) = Ledger::sharded_new() else {
        return;
    };
    let file = history(&l, 20, 31);
    ok(&l.run(&["import", file.to_str().unwrap()]));
    let sharded = l.sharded().unwrap();
    let coordinator = sharded.coordinator.rows(
        "SELECT (SELECT value FROM rapport.meta WHERE key = 'vault_id'),
                (SELECT max(batch) FROM rapport.imports)",
    );
    let (ledger, done) = (
        coordinator[0][0].clone().unwrap(),
        coordinator[0][1].clone().unwrap(),
    );
    // Two parts prepared on s1 as an import leaves them when it stops after PREPARE: one of
    // an import the coordinator committed, one of an import it never did.
    let key_in = |part: u32| {
        (1_000_000i64..)
            .find(|k| partition::of_key(*k, SHARDED_PARTITIONS) == part)
            .unwrap()
    };
    let (kept, lost) = (key_in(2), key_in(4));
    let s1 = &sharded.shards[0];
    s1.sql(&format!(
        "BEGIN; INSERT INTO rapport.kept_dirty VALUES ({kept});
         PREPARE TRANSACTION 'rapport:{ledger}:{done}:s1';
         BEGIN; INSERT INTO rapport.kept_dirty VALUES ({lost});
         PREPARE TRANSACTION 'rapport:{ledger}:999999:s1';"
    ));
    assert_eq!(
        s1.rows("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()")[0][0]
            .as_deref(),
        Some("2")
    );

    // The next writer settles both before it writes (and keeps no readings after, which
    // would clear the marks).
    let more = history(&l, 3, 32);
    ok(&l.run(&["import", "--no-refresh", more.to_str().unwrap()]));
    assert_eq!(
        s1.rows("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()")[0][0]
            .as_deref(),
        Some("0")
    );
    let held = s1.rows(&format!(
        "SELECT pk FROM rapport.kept_dirty WHERE pk IN ({kept}, {lost})"
    ));
    assert_eq!(held, vec![vec![Some(kept.to_string())]]);
}
