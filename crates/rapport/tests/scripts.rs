//! `rapport scripts` and the personal reading over a real message log imported with the
//! `messages` preset: short chat replies and long e-mails, in more than one language.

mod common;

use common::{Ledger, stderr, stdout};
use serde_json::Value;

/// Seven customers write in; six get the same reply with their own name, ticket number and
/// agent's sign-off, one gets a reply written for her, and one reply is empty.
fn message_log() -> String {
    let mut csv =
        String::from("MessageId,CustomerId,Author,Direction,SentAt,Channel,Text,InReplyTo\n");
    let names = ["Anna", "Bram", "Chen", "Dilek", "Emre", "Fleur"];
    for (i, name) in names.iter().enumerate() {
        csv.push_str(&format!(
            "q{i},C-{i},{name},in,2024-03-0{d} 09:00,chat,Where is my parcel?,\n\
             a{i},C-{i},agent-{i},out,2024-03-0{d} 11:00,chat,\"Hoi {name}, bedankt voor je bericht over bestelling {n}. \
             We hebben je vraag ontvangen en reageren binnen twee werkdagen. Groet, agent {i}\",q{i}\n",
            d = i + 1,
            n = 4400 + i * 7
        ));
    }
    csv.push_str(
        "q6,C-6,Gwen,in,2024-03-08 09:00,email,My grinder makes a noise,\n\
         a6,C-6,agent-kim,out,2024-03-08 10:00,email,\"Dear Gwen, that rattle is the burr carrier; I have put a new one in the post myself.\",q6\n\
         q7,C-7,Hugo,in,2024-03-09 09:00,chat,?,\n\
         a7,C-7,agent-kim,out,2024-03-09 10:00,chat,,q7\n",
    );
    csv
}

#[test]
fn a_message_log_s_boilerplate_is_found_and_each_person_s_share_of_scripts_shown() {
    let l = Ledger::new();
    let path = l.write("messages.csv", message_log().as_bytes());
    let out = l.run(&["import", "--preset", "messages", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = l.run(&["scripts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let o: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(o["answers"], 7, "the empty reply is not judged: {o}");
    assert_eq!(
        (o["scripted"].as_u64(), o["scripts"].as_u64()),
        (Some(6), Some(1))
    );
    let s = &o["list"][0];
    assert_eq!(
        (s["people"].as_u64(), s["variants"].as_u64()),
        (Some(6), Some(1))
    );
    let text = s["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Hoi ‹name›, bedankt voor je bericht over bestelling ‹number›. We hebben je vraag ontvangen en reageren binnen twee werkdagen."
    );

    let card = |p: &str| -> Value {
        let out = l.run(&["card", p, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    assert_eq!(card("C-0")["readings"]["personal"]["scripted_share"], 1.0);
    assert_eq!(card("C-6")["readings"]["personal"]["scripted_share"], 0.0);
    assert_eq!(
        card("C-7")["readings"]["personal"]["scripted_share"],
        0.0,
        "an empty answer is no script"
    );

    let out = l.run(&["scripts"]);
    let text = stdout(&out);
    assert!(text.contains("6 of them (86%) scripts"), "{text}");
    assert!(text.contains("6 people, 6 answers"), "{text}");
    // A script is named by its words; its number is only a reference beside the figures.
    let out = l
        .command()
        .args(["scripts"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("#1 \"Hoi ‹name›, bedankt voor je bericht over bestelling…\""),
        "{text}"
    );
    assert!(!text.contains("script 1:"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
    let out = l.run(&["card", "C-0"]);
    let card = stdout(&out);
    assert!(card.contains("Answered by script"), "{card}");
    assert!(
        card.contains("\"Hoi Anna, bedankt voor je bericht"),
        "{card}"
    );
}

#[test]
fn regrouping_gives_the_same_scripts_as_the_imports() {
    let l = Ledger::new();
    let path = l.write("messages.csv", message_log().as_bytes());
    assert!(
        l.run(&["import", "--preset", "messages", path.to_str().unwrap()])
            .status
            .success()
    );
    let before = stdout(&l.run(&["scripts", "--json"]));
    let out = l.run(&["scripts", "--regroup", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("regrouped 7 answers (7 with words, 2 different texts): 1 scripts"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), before);
}
