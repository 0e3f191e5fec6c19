//! The person's own side and the server on the command line: tokens, serving and stopping,
//! the menu, links, may-contact, export and forget.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::{Ledger, stderr, stdout};

const PEOPLE: &str = r#"{"source":"crm","id":"1","person":"P-1","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Ada Byron","email":"ada@example.org"}
{"source":"crm","id":"2","person":"P-1","kind":"consent.withdrawn","at":"2024-02-01T00:00:00Z","purpose":"newsletter"}
{"source":"crm","id":"3","person":"P-1","kind":"wish.stated","at":"2024-02-02T00:00:00Z","text":"Write to me in French"}
{"source":"crm","id":"4","person":"P-2","kind":"person.identified","at":"2024-01-01T00:00:00Z","name":"Bo Berg"}
"#;

fn ledger() -> Ledger {
    let l = Ledger::new();
    let out = l.import("people.jsonl", PEOPLE.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    l
}

#[test]
fn tokens_are_printed_once_listed_without_the_secret_and_revoked() {
    let l = ledger();
    let out = l.run(&["token", "create", "--role", "agent", "--name", "Sam"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("rpt_") && token.len() > 40);
    let list = stdout(&l.run(&["token", "list"]));
    assert!(list.contains("Sam") && list.contains("agent") && !list.contains(&token));
    let out = l.run(&["token", "create", "--role", "boss"]);
    assert!(!out.status.success());
    assert!(l.run(&["token", "revoke", "1"]).status.success());
    assert!(stdout(&l.run(&["token", "list"])).contains("revoked"));
    let out = l.run(&["token", "revoke", "1"]);
    assert!(!out.status.success(), "revoking twice is an error");
}

#[test]
fn the_server_starts_answers_and_stops_gracefully_on_ctrl_c() {
    let l = ledger();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RAPPORT_DB", l.db())
        .env_remove("RAPPORT_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("\"people\":2"),
        "{answer}"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "a clean exit after Ctrl-C");
}

#[test]
fn the_menu_is_added_edited_and_listed_and_mistakes_are_named() {
    let l = ledger();
    let out = l.run(&[
        "menu",
        "add",
        "roast",
        "--kind",
        "product",
        "--title",
        "Roast",
        "--option",
        "light=Light",
        "--option",
        "dark",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = l.run(&[
        "menu", "add", "roast", "--kind", "product", "--title", "Again", "--option", "x",
    ]);
    assert!(!out.status.success() && stderr(&out).contains("menu edit"));
    let out = l.run(&[
        "menu", "add", "bad", "--kind", "weird", "--title", "T", "--option", "x",
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("kind"),
        "{}",
        stderr(&out)
    );
    let out = l.run(&["menu", "edit", "roast", "--title", "Your roast"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&l.run(&["menu", "list"]));
    assert!(
        list.contains("Your roast") && list.contains("light=Light") && list.contains("dark=dark"),
        "{list}"
    );
}

#[test]
fn may_contact_says_no_with_the_reason_and_exits_non_zero() {
    let l = ledger();
    let out = l.run(&[
        "may-contact",
        "P-1",
        "--channel",
        "email",
        "--topic",
        "newsletter",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("no: consent withdrawn (consent.withdrawn crm/2"),
        "{}",
        stdout(&out)
    );
    let out = l.run(&[
        "may-contact",
        "P-1",
        "--channel",
        "email",
        "--topic",
        "offers",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["may_contact"], true);
    let out = l.run(&["may-contact", "NOBODY", "--channel", "email"]);
    assert!(!out.status.success() && stderr(&out).contains("no person"));
}

#[test]
fn export_gives_everything_unsealed_and_forget_needs_yes_then_removes_the_person() {
    let l = ledger();
    let out = l.run(&["export", "P-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["events"].as_array().unwrap().len(), 3);
    assert!(doc.to_string().contains("Write to me in French"));
    assert!(doc["card"]["readings"].is_object());

    let out = l.run(&["forget", "P-1"]);
    assert!(!out.status.success() && stderr(&out).contains("--yes"));
    let out = l.run(&["forget", "P-1", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 events"));
    let out = l.run(&["card", "P-1"]);
    assert!(!out.status.success());
    assert_eq!(l.totals().people, 1);
    // The link command refuses someone who is gone, and works for who is there.
    assert!(!l.run(&["link", "P-1"]).status.success());
    let out = l.run(&[
        "link",
        "P-2",
        "--valid",
        "3",
        "--base",
        "https://example.org/",
    ]);
    assert!(
        stdout(&out).starts_with("https://example.org/me/"),
        "{}",
        stdout(&out)
    );
}
