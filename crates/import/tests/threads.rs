//! Conversation logs whose replies carry only the id they answer (the layout of the public
//! Twitter customer-support corpus), read with the `messages` preset: people are the
//! customers, answers are filed under them, and a reading that went wrong says so.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{data, import_text, json, mapping, preset, report, s};
use proptest::prelude::*;
use rapport_import::{Preset, WarningKind};

#[test]
fn replies_are_filed_under_the_customer_found_up_the_chain_and_brands_are_not_people() {
    let (c, r) = report(&data("support_threads.csv"), &preset(Preset::Messages, &[]));
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let ev = json(&c);
    let people: BTreeSet<&str> = ev.iter().map(|e| s(e, "person")).collect();
    assert_eq!(
        people,
        BTreeSet::from(["500101", "500102", "500103", "500104"]),
        "the customers, and no brand"
    );

    // contact → the person who opened it; every answer is for one of them, under them.
    let mut opened: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut answered: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for e in &ev {
        let key = (s(e, "person"), s(e, "contact"));
        match s(e, "kind") {
            "contact.opened" => *opened.entry(key).or_default() += 1,
            "contact.answered" => answered.entry(key).or_default().push(s(e, "id")),
            other => panic!("{other}"),
        }
    }
    assert_eq!(
        answered,
        BTreeMap::from([
            // A reply, and a reply to that reply, both answer the customer's tweet 1.
            (("500101", "1"), vec!["2", "3"]),
            (("500102", "6"), vec!["7"]),
            // Tweet 9 came before the question it answers.
            (("500103", "8"), vec!["9"]),
            (("500104", "12"), vec!["13"]),
        ])
    );
    assert!(answered.keys().all(|k| opened.contains_key(k)));
    // The follow-up (tweet 4) continues contact 1; tweet 5 was never answered.
    assert_eq!(opened.get(&("500101", "1")), Some(&2));
    assert_eq!(opened.get(&("500102", "5")), Some(&1));
    assert_eq!(opened.len(), 5);

    // The broadcast (10) answers nobody; 11 answers a tweet that is not in the file.
    assert_eq!(r.skipped_total(), 2);
    assert_eq!(r.rows, 13);
    let unmatched: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.kind == WarningKind::UnmatchedAnswers)
        .collect();
    assert_eq!(unmatched.len(), 1, "{:?}", r.warnings);
    assert_eq!(unmatched[0].count, 1);
    let text = unmatched[0].to_string();
    assert!(
        text.contains("1 of the business's 7 messages answer a message that is not in this file (the first at line 12, answering `404`)"),
        "{text}"
    );
    assert!(
        text.contains("--set answers=COLUMN") && text.contains("`in_response_to_tweet_id`"),
        "{text}"
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
}

#[test]
fn ids_a_spreadsheet_wrote_as_floats_are_read_as_the_integers_they_were_in_every_id_column() {
    let (c, _) = report(&data("support_threads.csv"), &preset(Preset::Messages, &[]));
    let answer = json(&c).into_iter().find(|e| s(e, "id") == "2").unwrap();
    assert_eq!(s(&answer, "contact"), "1", "1.0 is 1");

    let m = mapping(
        r#"source = "shop"
[[event]]
kind = "order.placed"
id = "{Order}"
person = "{Customer}"
at = "2024-01-01"
order = "{Order}"
lines = [{ product = "{Sku}", qty = "1", unit_price = "2.50" }]
"#,
    );
    let text = "Order,Customer,Sku\n536365.0,17850.00,85123.0\n536366.5,A-3.0,0.0\n";
    let (c, _) = import_text("orders.csv", text.as_bytes(), &m);
    let ev = json(&c);
    let fields = |e: &serde_json::Map<String, serde_json::Value>| {
        (
            s(e, "id").to_owned(),
            s(e, "person").to_owned(),
            e["lines"][0]["product"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        fields(&ev[0]),
        ("536365".into(), "17850".into(), "85123".into())
    );
    // Not a whole number, or not a number: left as written.
    assert_eq!(
        fields(&ev[1]),
        ("536366.5".into(), "A-3.0".into(), "0".into())
    );
}

#[test]
fn the_old_unthreaded_reading_of_such_a_log_warns_that_brands_became_people() {
    // How the review read the corpus: the author as the person of every row, and the id a
    // reply answers as its contact. Every row is valid; the result is nonsense.
    let m = mapping(
        r#"source = "tw"
date_format = "%a %b %d %H:%M:%S %z %Y"
[[event]]
kind = "contact.opened"
when = { yes = "inbound" }
id = "{tweet_id}"
person = "{author_id}"
at = "{created_at}"
contact = "{tweet_id}"
channel = "twitter"
[[event]]
kind = "contact.answered"
when = { no = "inbound" }
skip_when_empty = ["contact"]
id = "{tweet_id}"
person = "{author_id}"
at = "{created_at}"
contact = "{in_response_to_tweet_id}"
by = "{author_id}"
"#,
    );
    let text = std::fs::read(data("support_threads.csv")).unwrap();
    let (_, r) = import_text("support_threads.csv", &text, &m);
    let only = r
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::OnlyAnswer)
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert_eq!(only.count, 2);
    let text = only.to_string();
    assert!(
        text.starts_with("2 people receive answers in this file but ask nothing (`AcmeHelp` with 4 answers, `ZetaCare` with 2 answers)"),
        "{text}"
    );
    assert!(text.contains("--set author_id=COLUMN"), "{text}");
    assert!(text.contains("[thread]"), "{text}");
    let unmatched = r
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::UnmatchedAnswers)
        .unwrap();
    assert_eq!(unmatched.count, 6, "{unmatched}");
}

#[test]
fn a_direction_read_wrongly_makes_the_brand_a_person_and_the_warning_names_the_set() {
    // Every value read as "the person wrote it": the brands' replies become people's
    // messages answering other people.
    let m = preset(Preset::Messages, &[("yes", "true,false"), ("no", "never")]);
    let (c, r) = report(&data("support_threads.csv"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let only = r
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::OnlyAnswer)
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    let text = only.to_string();
    assert!(
        text.starts_with("3 people answer other people's messages more often than they start a conversation (`AcmeHelp` with 5 messages, `ZetaCare` with 2 messages, `500104` with 1 message)"),
        "{text}"
    );
    assert!(
        text.contains("--set inbound=COLUMN (now `inbound`)"),
        "{text}"
    );
}

#[test]
fn most_rows_making_no_event_is_a_warning_naming_the_reason_and_the_set() {
    let m = preset(Preset::Transactions, &[]);
    let text =
        "customer_id,date,amount\n,2024-01-01,5\n,2024-01-02,6\n,2024-01-03,7\nc1,2024-01-04,8\n";
    let (c, r) = import_text("orders.csv", text.as_bytes(), &m);
    assert_eq!(c.events.len(), 1);
    let w = r
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::MostRowsIdle)
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert_eq!(w.count, 3);
    let text = w.to_string();
    assert!(
        text.starts_with("3 of 4 rows (75 %) made no event: 3 because order.placed with an empty `person` (column `customer_id`)"),
        "{text}"
    );
    assert!(
        text.contains("If the person is in another column than `customer_id`, --set person=COLUMN"),
        "{text}"
    );
}

#[test]
fn ids_in_scientific_notation_are_a_warning_because_their_digits_are_lost() {
    let text = "tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n\
                1.19237E+17,500101,True,2017-10-31 22:10:47,hello,\n\
                1.19238E+17,AcmeHelp,False,2017-10-31 22:12:00,hi,1.19237E+17\n";
    let (c, r) = import_text("t.csv", text.as_bytes(), &preset(Preset::Messages, &[]));
    assert_eq!(c.events.len(), 2);
    let w = r
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::ScientificIds)
        .unwrap_or_else(|| panic!("{:?}", r.warnings));
    assert!(
        w.to_string()
            .contains("(the first at column `tweet_id`, line 2: `1.19237E+17`)"),
        "{w}"
    );
}

#[test]
fn a_thread_row_without_a_message_id_or_person_is_rejected_naming_the_column() {
    let text = "tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id\n\
                ,500101,True,2017-10-31 22:10:47,hello,\n\
                2,,True,2017-10-31 22:10:47,hello,\n";
    let (c, _) = import_text("t.csv", text.as_bytes(), &preset(Preset::Messages, &[]));
    let found: Vec<(u64, Option<&str>)> = c
        .rejected
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(found, vec![(2, Some("tweet_id")), (3, Some("author_id"))]);
    assert!(
        c.rejected[0]
            .message
            .contains("every message needs its own id")
    );
}

#[test]
fn a_person_or_contact_from_reply_chains_needs_a_thread_table() {
    let err = rapport_import::Mapping::from_toml(
        "source = \"s\"\n[[event]]\nkind = \"wish.stated\"\nid = \"1\"\nperson = \"{_person}\"\nat = \"2024-01-01\"\ntext = \"x\"\n",
        std::path::Path::new("m.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "`event[0]`: `{_person}` is found through reply chains: it needs a [thread] table"
        ),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any log of messages answering each other in any order (loops and missing messages
    /// included): nothing panics, every row makes its event or is counted, and every answer
    /// is filed under the person who opened its contact, in this file.
    #[test]
    fn every_answer_of_a_threaded_log_answers_a_contact_its_person_opened(
        rows in proptest::collection::vec(
            (0..12u8, proptest::option::of(0..14u8), any::<bool>(), 0..4u8),
            0..30,
        ),
    ) {
        let mut text = String::from("MessageId,CustomerId,Direction,SentAt,InReplyTo,Author\n");
        for (id, answers, from_person, person) in &rows {
            let answers = answers.map(|a| format!("{a}.0")).unwrap_or_default();
            let dir = if *from_person { "in" } else { "out" };
            text.push_str(&format!("{id},p{person},{dir},2024-01-01 10:00,{answers},agent\n"));
        }
        let (c, r) = import_text("log.csv", text.as_bytes(), &preset(Preset::Messages, &[]));
        prop_assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        prop_assert_eq!(c.events.len() as u64 + r.skipped_total(), rows.len() as u64);
        let ev = json(&c);
        let opened: BTreeSet<(&str, &str)> = ev
            .iter()
            .filter(|e| s(e, "kind") == "contact.opened")
            .map(|e| (s(e, "person"), s(e, "contact")))
            .collect();
        for e in ev.iter().filter(|e| s(e, "kind") == "contact.answered") {
            prop_assert!(opened.contains(&(s(e, "person"), s(e, "contact"))), "{:?}", e);
        }
    }

    #[test]
    fn the_threaded_reader_never_panics_on_arbitrary_cells(
        cells in proptest::collection::vec(r"\PC{0,8}|[0-9.eE+]{0,6}", 0..40),
    ) {
        let mut text = String::from("MessageId,CustomerId,Direction,SentAt,InReplyTo,Author\n");
        for row in cells.chunks(6) {
            let quoted: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            text.push_str(&quoted.join(","));
            text.push('\n');
        }
        let _ = import_text("log.csv", text.as_bytes(), &preset(Preset::Messages, &[]));
    }
}
