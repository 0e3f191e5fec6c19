//! Killing an import at any moment loses nothing and half-writes nothing.
//!
//! `rapport import` stores each file in one transaction (the person's keys in the vault
//! first, then the events). This test runs the real binary on two files — a small one that
//! commits early and a large one that takes about a second — and kills it with SIGKILL at
//! moments drawn from a seeded generator. After each kill the ledger must open and hold each
//! file's events all or not at all; at the end, importing both files again must leave
//! exactly their events, none twice and none missing, and every card must still open its
//! sealed text.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Ledger, stderr};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The seed of the kill moments; a failure message repeats it with the moment.
const SEED: u64 = 0x6b11_1ed0;
const ROUNDS: usize = 8;
/// Events per file: the large one takes about a second to import in a debug build.
const SMALL: usize = 300;
const LARGE_PEOPLE: usize = 3_000;

/// Per person: who they are, a question and its answer, all with sealed text.
fn file(prefix: &str, people: usize) -> String {
    let mut out = String::new();
    for i in 0..people {
        let p = format!("{prefix}-{i:05}");
        out.push_str(&format!(
            r#"{{"source":"kill","id":"{p}-who","kind":"person.identified","person":"{p}","at":"2024-01-01T09:00:00Z","name":"Name of {p}","email":"{p}@example.org"}}"#
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"source":"kill","id":"{p}-q","kind":"contact.opened","person":"{p}","at":"2024-01-02T09:00:00Z","contact":"{p}-c","channel":"email","text":"Question {i} of {p}: where is my parcel?"}}"#
        ));
        out.push('\n');
        out.push_str(&format!(
            r#"{{"source":"kill","id":"{p}-a","kind":"contact.answered","person":"{p}","at":"2024-01-02T11:00:00Z","contact":"{p}-c","by":"agent","text":"Answer to {p}: it leaves today."}}"#
        ));
        out.push('\n');
    }
    out
}

/// Events in the ledger per file (the files' people do not overlap), or why it did not open.
fn counts(db: &Path) -> Result<(usize, usize), String> {
    let location = app::Location::Sqlite(db.to_owned());
    let key = location.master_key().map_err(|e| e.to_string())?;
    let s = app::App::open(&location, key).map_err(|e| e.to_string())?;
    let s = s.ledger();
    let population = s.population().map_err(|e| e.to_string())?;
    let mut small = 0;
    let mut large = 0;
    for (person, events) in population.people.iter().zip(&population.events) {
        if person.as_str().starts_with("S-") {
            small += events.len();
        } else {
            large += events.len();
        }
    }
    Ok((small, large))
}

#[test]
fn an_import_killed_at_any_moment_leaves_each_file_all_or_nothing_and_a_rerun_completes_it() {
    let mut l = Ledger::sqlite_new();
    let files = Ledger::sqlite_empty();
    let small = files.write("small.jsonl", file("S", SMALL / 3).as_bytes());
    let large = files.write("large.jsonl", file("L", LARGE_PEOPLE).as_bytes());
    let (n_small, n_large) = (SMALL / 3 * 3, LARGE_PEOPLE * 3);
    let import = |l: &Ledger| {
        Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["import", small.to_str().unwrap(), large.to_str().unwrap()])
            .env("RAPPORT_DB", l.db())
            .env_remove("RAPPORT_MASTER_KEY")
            .current_dir(l.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    // How long a whole import takes here, on a ledger of its own: kills fall within it.
    let scratch = Ledger::sqlite_new();
    let started = Instant::now();
    let done = import(&scratch).wait().unwrap();
    assert!(done.success());
    let whole = started.elapsed();
    assert_eq!(counts(&scratch.db()), Ok((n_small, n_large)));

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut committed = 0;
    for round in 0..ROUNDS {
        let at = Duration::from_micros(rng.random_range(0..whole.as_micros() as u64));
        let mut child = import(&l);
        std::thread::sleep(at);
        // SIGKILL: no destructor, no rollback, no flush runs.
        let _ = child.kill();
        let _ = child.wait();
        let (s, g) = counts(&l.db()).unwrap_or_else(|e| {
            panic!(
                "round {round} (seed {SEED:#x}, killed after {at:?}): the ledger does not open: {e}"
            )
        });
        assert!(
            s == 0 || s == n_small,
            "round {round} (seed {SEED:#x}, killed after {at:?}): {s} of the small file's {n_small} events"
        );
        assert!(
            g == 0 || g == n_large,
            "round {round} (seed {SEED:#x}, killed after {at:?}): {g} of the large file's {n_large} events"
        );
        if g == n_large {
            // Killed after the last commit: start again on an empty ledger, so the next
            // rounds kill imports that have something to lose.
            committed += 1;
            l = Ledger::sqlite_new();
        }
    }
    eprintln!("{committed} of {ROUNDS} imports were killed after their last commit");

    let out = l.run(&["import", small.to_str().unwrap(), large.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(counts(&l.db()), Ok((n_small, n_large)));
    let t = l.totals();
    assert_eq!(
        (t.people, t.events),
        (
            (SMALL / 3 + LARGE_PEOPLE) as u64,
            (n_small + n_large) as u64
        ),
        "(source, id) is unique, so the totals are exact: nothing twice, nothing missing"
    );

    // Sealed text opens: the keys written before each kill match the events kept.
    for p in ["S-00000", "S-00099", "L-00000", "L-01234", "L-02999"] {
        let out = l.run(&["card", p, "--json"]);
        assert!(out.status.success(), "{p}: {}", stderr(&out));
        let card = String::from_utf8_lossy(&out.stdout);
        assert!(card.contains(&format!("Name of {p}")), "{p}: {card}");
        assert!(card.contains("where is my parcel?"), "{p}: {card}");
        assert!(card.contains(&format!("Answer to {p}")), "{p}: {card}");
    }
}
