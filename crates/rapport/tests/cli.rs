//! The command line as a person uses it: each test gets its own ledger in a temporary folder
//! and runs the real `rapport` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

const INVOICE: &str = r#"{"source":"ar","id":"inv-17","kind":"invoice.issued","person":"0379-NEVHP","at":"2013-01-02T00:00:00Z","invoice":"17","amount":"55.94","currency":"USD","due":"2013-02-01"}"#;
const PAYMENT: &str = r#"{"source":"ar","id":"pay-17","kind":"payment.received","person":"0379-NEVHP","at":"2013-02-10T00:00:00Z","invoice":"17","amount":"55.94"}"#;

mod common;

use common::{Ledger, stderr, stdout};
use store::Totals;

#[test]
fn the_issue_s_invoice_imports_and_reimporting_adds_nothing() {
    let l = Ledger::new();
    let out = l.import("a.jsonl", format!("{INVOICE}\n{PAYMENT}\n").as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 events added, 0 already there"),
        "{}",
        stdout(&out)
    );
    let out = l.import("a.jsonl", format!("{INVOICE}\n{PAYMENT}\n").as_bytes());
    assert!(
        stdout(&out).contains("0 events added, 2 already there"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        l.totals(),
        Totals {
            people: 1,
            events: 2
        }
    );
}

/// Each bad file: the message must name the file, the line and the field; the exit is
/// non-zero; and the ledger holds exactly what it held before.
#[test]
fn bad_input_is_refused_with_file_line_and_field_and_stores_nothing() {
    let l = Ledger::new();
    assert!(
        l.import("good.jsonl", format!("{INVOICE}\n").as_bytes())
            .status
            .success()
    );
    let before = l.totals();
    let with = |k: &str, v: &str| {
        let mut m: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(PAYMENT).unwrap();
        m.insert("id".into(), "new".into());
        m.insert(k.into(), serde_json::from_str(v).unwrap());
        serde_json::to_string(&m).unwrap()
    };
    let without = |k: &str| {
        let mut m: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(PAYMENT).unwrap();
        m.insert("id".into(), "new2".into());
        m.remove(k);
        serde_json::to_string(&m).unwrap()
    };
    let neg_invoice = INVOICE
        .replace("\"55.94\"", "\"-55.94\"")
        .replace("inv-17", "inv-18");
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("not-json.jsonl", "{this is not json".into(), None),
        (
            "unknown-kind.jsonl",
            with("kind", r#""invoice.eaten""#),
            Some("kind"),
        ),
        ("no-person.jsonl", without("person"), Some("person")),
        ("no-id.jsonl", without("id"), Some("id")),
        (
            "bad-date.jsonl",
            with("at", r#""2013-02-30T00:00:00Z""#),
            Some("at"),
        ),
        (
            "decimals.jsonl",
            with("amount", r#""55.941""#),
            Some("amount"),
        ),
        ("float.jsonl", with("amount", "55.94"), Some("amount")),
        ("negative.jsonl", neg_invoice, Some("amount")),
    ];
    for (name, bad, field) in cases {
        // A good line first, so "nothing stored" means the whole file was refused.
        let good = PAYMENT.replace("pay-17", &format!("pay-{name}"));
        let out = l.import(name, format!("{good}\n{bad}\n").as_bytes());
        let err = stderr(&out);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            err.contains(&format!("{name}:2:")),
            "{name}: no file and line in {err}"
        );
        if let Some(f) = field {
            assert!(
                err.contains(&format!("field `{f}`")),
                "{name}: no field in {err}"
            );
        }
        assert_eq!(l.totals(), before, "{name} changed the ledger");
    }
}

#[test]
fn a_file_that_is_not_utf8_is_refused_with_its_line() {
    let l = Ledger::new();
    let mut bytes = format!("{INVOICE}\n").into_bytes();
    bytes.extend_from_slice(b"{\"source\":\"\xff\xfe\"}\n");
    let out = l.import("latin1.jsonl", &bytes);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("latin1.jsonl:2:"), "{}", stderr(&out));
    assert!(stderr(&out).contains("UTF-8"));
    assert_eq!(
        l.totals(),
        Totals {
            people: 0,
            events: 0
        }
    );
}

#[test]
fn an_empty_file_imports_zero_events() {
    let l = Ledger::new();
    let out = l.import("empty.jsonl", b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 events added"));
}

#[test]
fn skip_invalid_keeps_the_good_rows_and_lists_the_rest() {
    let l = Ledger::new();
    let p = l.write(
        "mixed.jsonl",
        format!("{INVOICE}\nnot json\n{PAYMENT}\n").as_bytes(),
    );
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--skip-invalid",
        "--rejects",
        "bad.jsonl",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(l.totals().events, 2);
    let rejects = std::fs::read_to_string(l.dir.path().join("bad.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(line["line"], 2);
    assert!(line["reason"].as_str().unwrap().contains("not valid JSON"));
}

#[test]
fn a_payment_for_an_invoice_never_issued_is_stored_and_shown_unmatched() {
    let l = Ledger::new();
    let out = l.import("p.jsonl", format!("{PAYMENT}\n").as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = l.run(&["card", "0379-NEVHP", "--json"]);
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card["readings"]["punctuality"]["unmatched_payments"], 1);
}

#[test]
fn people_json_has_one_line_per_person_with_readings_by_their_names() {
    let l = Ledger::new();
    let other = INVOICE
        .replace("0379-NEVHP", "P-2")
        .replace("inv-17", "inv-99");
    l.import(
        "a.jsonl",
        format!("{INVOICE}\n{PAYMENT}\n{other}\n").as_bytes(),
    );
    let out = l.run(&["people", "--json", "--as-of", "2013-06-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let anna = lines.iter().find(|v| v["person"] == "0379-NEVHP").unwrap();
    assert_eq!(anna["readings"]["punctuality"]["on_time_share"], 0.0);
    assert_eq!(anna["readings"]["punctuality"]["mean_days_late"], 9.0);
    assert_eq!(anna["readings"]["heard"], serde_json::Value::Null);
    // Two people with the reading: mid-ranks 75 (on time) and 25 (late).
    let p2 = lines.iter().find(|v| v["person"] == "P-2").unwrap();
    assert_eq!(p2["readings"]["punctuality"]["on_time_share"], 0.0);
    assert_eq!(anna["readings"]["punctuality"]["percentile"], 50.0);
}

/// Anna, who paid 9 days late, and B, who paid 37 days late.
fn two_payers() -> Ledger {
    let l = Ledger::new();
    let late = PAYMENT
        .replace("2013-02-10", "2013-03-10")
        .replace("0379-NEVHP", "B")
        .replace("pay-17", "pb");
    let inv_b = INVOICE.replace("0379-NEVHP", "B").replace("inv-17", "ib");
    l.import(
        "a.jsonl",
        format!("{INVOICE}\n{PAYMENT}\n{inv_b}\n{late}\n").as_bytes(),
    );
    l
}

#[test]
fn people_can_be_sorted_and_limited() {
    let l = two_payers();
    let out = l.run(&[
        "people",
        "--sort",
        "punctuality.mean_days_late",
        "--desc",
        "--limit",
        "1",
        "--json",
    ]);
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["person"], "B");
    assert_eq!(stdout(&out).lines().count(), 1);
    let out = l.run(&["people", "--sort", "punctuality.nonsense"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("punctuality.on_time_share"));
}

#[test]
fn people_can_be_filtered_by_name_or_by_any_figure_s_range_now_and_as_of_a_day() {
    let l = two_payers();
    let people = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["people", "--json", "--limit", "100"];
        a.extend_from_slice(extra);
        let out = l.run(&a);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|x| {
                serde_json::from_str::<serde_json::Value>(x).unwrap()["person"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        people(&["--where", "punctuality.mean_days_late=20.."]),
        ["B"]
    );
    assert_eq!(
        people(&["--where", "punctuality.mean_days_late=..10"]).len(),
        1
    );
    assert!(
        people(&["--filter", "unanswered"]).is_empty(),
        "nobody asked anything"
    );
    // As of a day, from the events: the same filter.
    assert_eq!(
        people(&[
            "--as-of",
            "2013-06-01",
            "--where",
            "punctuality.mean_days_late=20.."
        ]),
        ["B"]
    );
    let out = l.run(&["people", "--where", "punctuality.mean_days_late"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("FIELD=MIN..MAX"), "{}", stderr(&out));
    let out = l.run(&["people", "--where", "nothing=1.."]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("punctuality.on_time_share"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_card_view_is_audited_and_an_unknown_person_is_an_error() {
    let l = Ledger::new();
    l.import("a.jsonl", format!("{INVOICE}\n").as_bytes());
    let out = l.run(&["card", "0379-NEVHP"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("HOW WE TREAT THEM"));
    let s = l.ledger();
    let log = s.audit_log(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "card.view");
    assert_eq!(log[0].person.as_deref(), Some("0379-NEVHP"));
    let out = l.run(&["card", "nobody"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no person"));
}

#[test]
fn importing_without_a_ledger_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["import", "x.jsonl"])
        .env("RAPPORT_DB", dir.path().join("none.db"))
        .env_remove("RAPPORT_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("rapport init"), "{}", stderr(&out));
}

#[test]
fn init_refuses_to_overwrite_a_ledger() {
    let l = Ledger::new();
    let out = l.run(&["init"]);
    assert!(!out.status.success());
    // "… already exists" (a file), "… already holds a rapport ledger" (a database).
    assert!(stderr(&out).contains("already"), "{}", stderr(&out));
    assert!(l.ledger().totals().is_ok(), "the ledger is as it was");
}

#[test]
fn the_master_key_file_is_readable_by_its_owner_only() {
    let l = Ledger::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(l.key_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = Path::new("");
}

/// The real-data extracts the importer's own tests use (see their README for sources).
fn import_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data")
        .join(name)
}

#[test]
fn the_transactions_preset_imports_online_retail_skipping_rows_without_a_customer() {
    let l = Ledger::new();
    let file = import_data("online_retail_head.csv");
    let out = l.run(&[
        "import",
        file.to_str().unwrap(),
        "--preset",
        "transactions",
        "--set",
        "currency=GBP",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("skipped"), "{}", stdout(&out));
    let t = l.totals();
    assert!(t.people > 10 && t.events > 20, "{t:?}");
    // Readings come out for the imported people: every one has a service-load reading.
    let out = l.run(&["people", "--json"]);
    assert_eq!(stdout(&out).lines().count() as u64, t.people);
}

#[test]
fn a_log_whose_replies_carry_only_the_id_they_answer_gives_the_customers_their_answered_share() {
    let l = Ledger::new();
    let file = import_data("support_threads.csv");
    let out = l.run(&["import", file.to_str().unwrap(), "--preset", "messages"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 warning"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: ") && err.contains("answer a message that is not in this file"),
        "{err}"
    );
    assert!(err.contains("--set answers=COLUMN"), "{err}");

    let out = l.run(&["people", "--json", "--as-of", "2017-12-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shares: std::collections::BTreeMap<String, serde_json::Value> = stdout(&out)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let share = v["readings"]["heard"]["answered_share"].clone();
            (v["person"].as_str().unwrap().to_owned(), share)
        })
        .collect();
    let want: std::collections::BTreeMap<String, serde_json::Value> = [
        ("500101", 1.0),
        ("500102", 0.5),
        ("500103", 1.0),
        ("500104", 1.0),
    ]
    .into_iter()
    .map(|(p, v)| (p.to_owned(), serde_json::json!(v)))
    .collect();
    assert_eq!(shares, want, "the customers, and no brand");
}

#[test]
fn the_transactions_preset_reads_cdnow_s_whitespace_separated_log() {
    let l = Ledger::new();
    let file = import_data("cdnow_master_head.txt");
    let out = l.run(&[
        "import",
        file.to_str().unwrap(),
        "--preset",
        "transactions",
        "--set",
        "delimiter=whitespace",
        "--set",
        "currency=USD",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = std::fs::read_to_string(&file).unwrap().lines().count() as u64 - 1;
    assert_eq!(l.totals().events, lines);
}

#[test]
fn the_invoices_preset_makes_invoices_payments_and_disputes() {
    let l = Ledger::new();
    let csv = "InvoiceId,CustomerId,Amount,Currency,IssueDate,DueDate,SettledDate,Disputed\n\
               17,0379-NEVHP,55.94,USD,2013-01-02,2013-02-01,2013-02-10,no\n\
               18,0379-NEVHP,10.00,USD,2013-03-02,2013-04-01,,yes\n";
    let p = l.write("inv.csv", csv.as_bytes());
    let out = l.run(&["import", p.to_str().unwrap(), "--preset", "invoices"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(l.totals().events, 4);
    let out = l.run(&["card", "0379-NEVHP", "--json", "--as-of", "2013-06-01"]);
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &card["readings"]["punctuality"];
    assert_eq!(p["invoices_due"], 2);
    assert_eq!(p["mean_days_late"], 35.0); // 9 days late, and 61 days open
    assert_eq!(card["readings"]["invoice_friction"]["disputed_share"], 0.5);
}

#[test]
fn bad_csv_is_refused_with_file_line_and_column_and_stores_nothing() {
    let l = Ledger::new();
    let header = "InvoiceId,CustomerId,Amount,Currency,IssueDate,DueDate,SettledDate,Disputed\n";
    let good = "17,A,55.94,USD,2013-01-02,2013-02-01,2013-02-10,no\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "short.csv",
            format!("{header}{good}18,A,10.00\n"),
            "short.csv:3:",
        ),
        (
            "date.csv",
            format!("{header}{good}19,A,1.00,USD,2013-02-30,2013-03-01,,no\n"),
            "short.csv",
        ),
        (
            "decimals.csv",
            format!("{header}{good}20,A,1.001,USD,2013-02-01,2013-03-01,,no\n"),
            "decimals.csv:3:",
        ),
        (
            "missing-column.csv",
            "InvoiceId,CustomerId,Amount\n17,A,5.00\n".into(),
            "missing-column.csv:1:",
        ),
    ];
    for (name, content, needle) in cases {
        let p = l.write(name, content.as_bytes());
        let out = l.run(&["import", p.to_str().unwrap(), "--preset", "invoices"]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{name} was accepted");
        let needle = if name == "date.csv" {
            "date.csv:3:"
        } else {
            needle
        };
        assert!(err.contains(needle), "{name}: {err}");
        assert_eq!(
            l.totals(),
            Totals {
                people: 0,
                events: 0
            },
            "{name} changed the ledger"
        );
    }
    // A mapping naming a column the file lacks names that column.
    let p = l.write("m.csv", b"InvoiceId,CustomerId,Amount\n17,A,5.00\n");
    let out = l.run(&["import", p.to_str().unwrap(), "--preset", "invoices"]);
    let err = stderr(&out);
    assert!(err.contains("m.csv:1:") && err.contains("DueDate"), "{err}");
    assert!(
        !err.contains("--skip-invalid"),
        "a whole-file error is not fixed by skipping rows: {err}"
    );
}

#[test]
fn a_csv_without_a_mapping_says_how_to_give_one() {
    let l = Ledger::new();
    let out = l.import("x.csv", b"a,b\n1,2\n");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--preset"), "{}", stderr(&out));
}

#[test]
fn the_demo_builds_a_ledger_with_readings_for_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .env("RAPPORT_DB", dir.path().join("demo.db"))
            .env_remove("RAPPORT_MASTER_KEY")
            .output()
            .unwrap()
    };
    let out = run(&["demo", "--people", "300", "--no-serve"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("P-000001"));
    // Running it again replaces the demo ledger.
    assert!(
        run(&["demo", "--people", "300", "--no-serve"])
            .status
            .success()
    );
    let out = run(&["people", "--json"]);
    assert_eq!(stdout(&out).lines().count(), 300);
    let out = run(&["card", "P-000008", "--json"]);
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wishes = card["own_words"]["wishes"].to_string();
    assert!(
        wishes.contains("<script>"),
        "the showcase wish is kept verbatim: {wishes}"
    );
    // The demo comes with a catalogue of hidden costs for its products.
    assert!(card["hidden_costs"].is_object(), "{}", card["hidden_costs"]);
    let out = run(&["costs", "--json"]);
    let costs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(costs["factors"].as_array().unwrap().len(), 3);
    assert!(costs["total"]["matched_lines"].as_u64().unwrap() > 0);
    assert!(
        costs["unmatched"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["product"] == "gift-card-25" && u["in_catalogue"] == true),
        "{}",
        costs["unmatched"]
    );
}

#[test]
fn transaction_logs_without_ids_get_ids_from_their_content_so_files_never_collide() {
    let l = Ledger::new();
    // Two different logs: the same line numbers, different rows; the first has two
    // identical rows (the same customer buying the same again on one day).
    let a = "customer_id,date,amount\nA,2024-01-02,5.00\nA,2024-01-02,5.00\nB,2024-01-03,7.00\n";
    let b = "customer_id,date,amount\nC,2024-02-02,1.00\nD,2024-02-03,2.00\n";
    let pa = l.write("a.csv", a.as_bytes());
    let pb = l.write("b.csv", b.as_bytes());
    let import = |p: &PathBuf| l.run(&["import", p.to_str().unwrap(), "--preset", "transactions"]);
    assert!(stdout(&import(&pa)).contains("3 events added"));
    assert!(stdout(&import(&pb)).contains("2 events added"));
    // Reading the same file again adds nothing.
    assert!(stdout(&import(&pa)).contains("0 events added, 3 already there"));
    assert_eq!(l.totals().events, 5);
}

#[test]
fn presets_find_the_delimiter_of_the_file_themselves() {
    let l = Ledger::new();
    let files = [
        ("semi.csv", "customer_id;date;amount\nA;2024-01-02;5.00\n"),
        (
            "tab.csv",
            "customer_id\tdate\tamount\nB\t2024-01-02\t5.00\n",
        ),
        (
            "spaces.txt",
            " customer_id  date  amount\n C  20240102  5.00\n",
        ),
        (
            "quoted.csv",
            "\"customer_id\",\"date\",\"amount\"\n\"D\",\"2024-01-02\",\"5.00\"\n",
        ),
    ];
    for (name, content) in files {
        let p = l.write(name, content.as_bytes());
        let out = l.run(&["import", p.to_str().unwrap(), "--preset", "transactions"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("1 events added"),
            "{name}: {}",
            stdout(&out)
        );
    }
    assert_eq!(l.totals().people, 4);
}
