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
    let mut child = l
        .command()
        .args(["serve", "--bind", "127.0.0.1:0"])
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

/// Sends one HTTP/1.1 request and returns the whole answer.
fn http(addr: &str, request: &str) -> String {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_server_s_log_written_to_a_file_has_no_colour_codes() {
    let l = ledger();
    let token = stdout(&l.run(&["token", "create", "--role", "admin"]))
        .trim()
        .to_owned();
    let log = l.dir.path().join("serve.log");
    let mut child = l
        .command()
        .args(["serve", "--bind", "127.0.0.1:0", "--refresh", "0"])
        .env("RAPPORT_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    // New events make the server recompute everyone's readings, and log that it did.
    let body = r#"[{"source":"t","id":"w","person":"P-9","kind":"wish.stated","at":"2024-01-01T00:00:00Z","text":"hi"}]"#;
    let answer = http(
        &addr,
        &format!(
            "POST /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut logged = String::new();
    for _ in 0..200 {
        logged = std::fs::read_to_string(&log).unwrap();
        if logged.contains("refreshed") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert!(logged.contains("refreshed"), "{logged}");
    assert!(
        !logged.contains('\u{1b}'),
        "escape codes in the log: {logged:?}"
    );
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
fn may_contact_exits_0_for_yes_1_for_no_and_2_when_it_cannot_answer() {
    let l = ledger();
    // (arguments, exit status, what stdout or stderr says)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["P-1", "--channel", "email", "--topic", "offers"],
            0,
            "yes",
        ),
        (
            &["P-1", "--channel", "email", "--topic", "newsletter"],
            1,
            "no: consent withdrawn",
        ),
        (
            &["NOBODY", "--channel", "email"],
            2,
            "error: no person NOBODY in ",
        ),
        (&["P-1", "--channel", " "], 2, "--channel: is empty"),
        (&["P-1", "--channel", "email", "--topic", ""], 2, "--topic"),
        (&["", "--channel", "email"], 2, "person"),
        (&["P-1"], 2, "--channel"),
    ];
    for (args, code, says) in cases {
        let mut all = vec!["may-contact"];
        all.extend_from_slice(args);
        let out = l.run(&all);
        let both = stdout(&out) + &stderr(&out);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {both}");
        assert!(both.contains(says), "{args:?}: {both}");
        assert!(!both.contains("PersonId("), "{args:?}: {both}");
    }
}

const OUTREACH: &str = r#"{"source":"crm","id":"5","person":"P-2","kind":"outreach.sent","at":"2024-03-01T00:00:00Z","channel":"email","topic":"newsletter"}
{"source":"crm","id":"6","person":"P-2","kind":"outreach.sent","at":"2024-03-02T00:00:00Z","channel":"email","topic":"surveys"}
"#;

/// The outreach of P-2 that conflicts, by event number, with the reasons.
fn conflicts_of_p2(l: &Ledger) -> Vec<String> {
    let out = l.run(&["card", "P-2", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    card["readings"]["respects_choices"]["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["topic"].as_str().unwrap(), c["reason"]))
        .collect()
}

#[test]
fn newsletters_need_opt_in_and_the_business_chooses_which_purposes_do() {
    let l = ledger();
    assert!(
        l.import("outreach.jsonl", OUTREACH.as_bytes())
            .status
            .success()
    );
    let ask = |topic: &str| {
        let out = l.run(&["may-contact", "P-2", "--channel", "email", "--topic", topic]);
        (out.status.code(), stdout(&out))
    };
    // P-2 never gave consent for anything.
    let (code, said) = ask("newsletter");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("no: no consent given"), "{said}");
    assert_eq!(ask("surveys").0, Some(0));
    assert_eq!(conflicts_of_p2(&l), vec![r#"newsletter "no_consent""#]);
    assert!(
        stdout(&l.run(&["settings"])).contains("opt-in  marketing,newsletter (the standard ones)")
    );

    let out = l.run(&["settings", "opt-in", "Surveys"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "opt-in  surveys");
    assert_eq!(ask("newsletter").0, Some(0));
    assert_eq!(ask("surveys").0, Some(1));
    assert_eq!(conflicts_of_p2(&l), vec![r#"surveys "no_consent""#]);

    let out = l.run(&["settings", "opt-in", "newsletter,all"]);
    assert!(
        !out.status.success() && stderr(&out).contains("\"all\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(ask("surveys").0, Some(1), "a refused list changes nothing");
    assert!(l.run(&["settings", "opt-in", "none"]).status.success());
    assert_eq!(conflicts_of_p2(&l), Vec::<String>::new());
    assert!(l.run(&["settings", "opt-in", "default"]).status.success());
    assert_eq!(ask("newsletter").0, Some(1));
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
