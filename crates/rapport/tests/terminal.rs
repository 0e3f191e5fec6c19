//! The command line on an 80-column terminal, and what it tells a person to type: help and
//! tables that fit, hints that name the `--set` that fixes an import, next steps after
//! `init`, and who the audit log says used the command line.

use std::process::Command;

mod common;

use common::{Ledger, stderr, stdout};

const INVOICE: &str = r#"{"source":"ar","id":"inv-17","kind":"invoice.issued","person":"0379-NEVHP","at":"2013-01-02T00:00:00Z","invoice":"17","amount":"55.94","currency":"USD","due":"2013-02-01"}"#;

fn rapport(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(args)
        .env("COLUMNS", "80")
        .env_remove("RAPPORT_DB")
        .output()
        .unwrap()
}

/// The subcommands a `--help` lists under "Commands:", without `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

fn too_long(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > 80)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_help_text_fits_80_columns() {
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = rapport(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let help = stdout(&out);
        let long = too_long(&help);
        assert!(
            long.is_empty(),
            "rapport {args:?} has lines over 80:\n{long:#?}"
        );
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
        seen += 1;
    }
    assert!(seen > 25, "only {seen} help texts found");
}

fn with_people() -> Ledger {
    let l = Ledger::new();
    let mut lines = String::new();
    for i in 0..30 {
        lines.push_str(
            &INVOICE
                .replace("inv-17", &format!("inv-{i}"))
                .replace("0379-NEVHP", &format!("P-{i:06}")),
        );
        lines.push('\n');
    }
    let out = l.import("many.jsonl", lines.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    l
}

#[test]
fn the_people_table_fits_80_columns_and_wide_shows_every_column() {
    let l = with_people();
    let out = l
        .command()
        .args(["people"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(too_long(&text).is_empty(), "{text}");
    assert!(text.contains("more columns with --wide"), "{text}");
    assert!(text.contains("Paid on"), "{text}");
    assert!(!text.contains("on_time_share"), "{text}");
    // Piped without COLUMNS, nothing is cut: every person, every column.
    let out = l
        .command()
        .args(["people"])
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    let all = stdout(&out);
    assert!(all.contains("P-000029"), "{all}");
    assert!(!all.contains("--wide"), "{all}");
    assert!(all.contains("Stayed after"), "{all}");
    let out = l
        .command()
        .args(["people", "--wide"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("Stayed after"), "{}", stdout(&out));
    // A limit says how many more there are and how to see them.
    let out = l.run(&["people", "--limit", "5"]);
    assert!(
        stdout(&out).contains("… and 25 more: --all, or --limit N"),
        "{}",
        stdout(&out)
    );
    let out = l.run(&["people", "--all"]);
    assert!(stdout(&out).contains("(30 people"), "{}", stdout(&out));
}

#[test]
fn the_card_s_two_directions_fit_80_columns_side_by_side() {
    let l = with_people();
    let out = l
        .command()
        .args(["card", "P-000001"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let side: Vec<&str> = text.lines().filter(|l| l.contains('│')).collect();
    assert!(side.len() > 3, "{text}");
    for line in side {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
}

const INVOICES_HEADER: &str = "InvoiceId,CustomerId,Amount,IssueDate,DueDate,SettledDate\n";

#[test]
fn an_import_without_a_currency_says_to_set_one() {
    let l = Ledger::new();
    let p = l.write(
        "no-currency.csv",
        format!("{INVOICES_HEADER}17,A,55.94,2013-01-02,2013-02-01,\n").as_bytes(),
    );
    let out = l.run(&["import", p.to_str().unwrap(), "--preset", "invoices"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no-currency.csv:2:"), "{err}");
    assert!(err.contains("--set currency=EUR"), "{err}");
    // And the hint works.
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--preset",
        "invoices",
        "--set",
        "currency=EUR",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_date_in_no_known_format_gets_the_format_that_reads_it() {
    let l = Ledger::new();
    // Slashes are read month first by the preset: 31 can only be a day.
    let p = l.write(
        "day-first.csv",
        format!("{INVOICES_HEADER}17,A,55.94,31/01/2013,28/02/2013,\n").as_bytes(),
    );
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--preset",
        "invoices",
        "--set",
        "currency=EUR",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--set date_format=%d/%m/%Y (31 is no month)"),
        "{err}"
    );
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--preset",
        "invoices",
        "--set",
        "currency=EUR",
        "--set",
        "date_format=%d/%m/%Y",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Either way round: both are said.
    let p = l.write(
        "either.csv",
        format!("{INVOICES_HEADER}18,B,1.00,12/03/2026 14:05,2026-05-01,\n").as_bytes(),
    );
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--preset",
        "invoices",
        "--set",
        "currency=EUR",
        "--set",
        "date_format=%Y-%m-%d",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("'date_format=%m/%d/%Y %H:%M'"), "{err}");
    assert!(err.contains("'date_format=%d/%m/%Y %H:%M'"), "{err}");
}

#[test]
fn init_with_db_says_the_next_steps_with_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("books.db");
    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["init", "--db", db.to_str().unwrap()])
        .env_remove("RAPPORT_DB")
        .env_remove("RAPPORT_MASTER_KEY")
        .env_remove("RAPPORT_MASTER_KEY_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let next = format!("rapport --db {} import", db.display());
    assert!(text.contains(&next), "{text}");
    assert!(
        text.contains(&format!("rapport --db {} people", db.display())),
        "{text}"
    );
    // Again: refused, non-zero.
    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["init", "--db", db.to_str().unwrap()])
        .env_remove("RAPPORT_DB")
        .env_remove("RAPPORT_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

fn last_actor(l: &Ledger) -> String {
    let log = l.ledger().audit_log(1).unwrap();
    log[0].actor.clone()
}

#[test]
fn the_audit_log_names_who_used_the_command_line() {
    let l = Ledger::new();
    l.import("a.jsonl", format!("{INVOICE}\n").as_bytes());
    let card = |cmd: &mut Command| {
        let out = cmd.args(["card", "0379-NEVHP"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    card(l.command().env("USER", "alice").env_remove("RAPPORT_ACTOR"));
    assert_eq!(last_actor(&l), "cli:alice");
    card(
        l.command()
            .env_remove("USER")
            .env("LOGNAME", "bea")
            .env_remove("RAPPORT_ACTOR"),
    );
    assert_eq!(last_actor(&l), "cli:bea");
    card(l.command().env("USER", "alice").args(["--actor", "carla"]));
    assert_eq!(last_actor(&l), "cli:carla");
    card(l.command().env("RAPPORT_ACTOR", "dan"));
    assert_eq!(last_actor(&l), "cli:dan");
    // No name in the environment: the account the process runs as, never "unknown".
    card(
        l.command()
            .env_remove("USER")
            .env_remove("LOGNAME")
            .env_remove("USERNAME")
            .env_remove("RAPPORT_ACTOR"),
    );
    let actor = last_actor(&l);
    assert!(
        actor.starts_with("cli:") && actor != "cli:unknown",
        "{actor}"
    );
}
