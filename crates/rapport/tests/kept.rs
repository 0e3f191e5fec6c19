//! Kept readings from the command line: a ledger made before readings were kept gains them on
//! first open, `rapport check` finds a kept figure that differs from the events (and says
//! which), `rapport refresh --everyone` mends it, and a day passing moves what time moves.

mod common;

use common::{Ledger, stderr, stdout};

const EVENTS: &str = concat!(
    r#"{"source":"ar","id":"i1","kind":"invoice.issued","person":"A","at":"2024-01-02T00:00:00Z","invoice":"1","amount":"10.00","currency":"EUR","due":"2024-02-01"}"#,
    "\n",
    r#"{"source":"ar","id":"p1","kind":"payment.received","person":"A","at":"2024-02-10T00:00:00Z","invoice":"1","amount":"10.00","currency":"EUR"}"#,
    "\n",
    r#"{"source":"ar","id":"i2","kind":"invoice.issued","person":"B","at":"2024-01-02T00:00:00Z","invoice":"2","amount":"20.00","currency":"EUR","due":"2024-01-20"}"#,
    "\n",
    r#"{"source":"desk","id":"c1","kind":"contact.opened","person":"B","at":"2024-01-05T00:00:00Z","contact":"c1","channel":"email"}"#,
    "\n",
);

fn ledger() -> Ledger {
    let l = Ledger::new();
    let out = l.import("e.jsonl", EVENTS.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    l
}

#[test]
fn check_finds_a_kept_figure_that_differs_from_the_events_and_refresh_everyone_mends_it() {
    let l = ledger();
    let out = l.run(&["check"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("of all 2 people equal a recomputation"),
        "{}",
        stdout(&out)
    );
    if l.is_postgres() {
        return;
    }
    // Damage one kept figure: B's share of invoices paid on time (0) becomes 1.
    let c = rusqlite::Connection::open(l.db()).unwrap();
    let figures: Vec<u8> = c
        .query_row("SELECT figures FROM kept WHERE person = 'B'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // The figures: a mask of which fields are there, then each field's 8 bytes.
    let at = (1..figures.len() / 8)
        .map(|k| 8 * k)
        .find(|&i| figures[i..i + 8] == 0f64.to_le_bytes())
        .expect("a zero figure");
    let mut damaged = figures.clone();
    damaged[at..at + 8].copy_from_slice(&1f64.to_le_bytes());
    c.execute(
        "UPDATE kept SET figures = ?1 WHERE person = 'B'",
        [&damaged],
    )
    .unwrap();
    drop(c);
    let out = l.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("B: "), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("kept 1, recomputed 0"),
        "{}",
        stdout(&out)
    );
    let out = l.run(&["refresh", "--everyone"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(l.run(&["check"]).status.success());
}

#[test]
fn a_ledger_made_before_readings_were_kept_gains_them_on_first_open() {
    let l = Ledger::sqlite_new();
    let out = l.import("e.jsonl", EVENTS.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    // As a ledger of the version before: no kept tables, schema 9.
    let c = rusqlite::Connection::open(l.db()).unwrap();
    c.execute_batch(
        "DROP TABLE kept; DROP TABLE kept_order; DROP TABLE kept_counts; DROP TABLE kept_dist;
         DROP TABLE kept_refs; DROP TABLE kept_choices; DROP TABLE kept_dirty;
         DROP TABLE kept_meta; DROP TABLE bank_lines; ALTER TABLE fits DROP COLUMN covariance;
         PRAGMA user_version = 9;",
    )
    .unwrap();
    drop(c);
    let out = l.run(&[
        "people",
        "--sort",
        "punctuality.on_time_share",
        "--limit",
        "5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("kept readings made for 2 people (the ledger had no kept readings yet)"),
        "{}",
        stderr(&out)
    );
    let table = stdout(&out);
    assert!(table.contains("\nA ") && table.contains("\nB "), "{table}");
    assert!(l.run(&["check"]).status.success());
}

#[test]
fn a_day_passing_moves_the_days_an_open_invoice_is_late_and_refresh_says_so() {
    let l = ledger();
    let late = |day: &str| -> String {
        let out = l
            .command()
            .env("RAPPORT_TODAY", day)
            .args([
                "people",
                "--sort",
                "punctuality.mean_days_late",
                "--desc",
                "--limit",
                "1",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    // B's invoice was due on 2024-01-20 and is still open.
    assert!(
        late("2024-03-01").contains("41.0"),
        "{}",
        late("2024-03-01")
    );
    let out = l
        .command()
        .env("RAPPORT_TODAY", "2024-03-02")
        .args(["refresh"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("as of the end of 2024-03-02"),
        "{}",
        stdout(&out)
    );
    assert!(
        late("2024-03-02").contains("42.0"),
        "{}",
        late("2024-03-02")
    );
}
