//! The mailbox importer's tests, on real-looking messages (the samples are under
//! `tests/data/mail/`).

use std::io::Write;
use std::path::{Path, PathBuf};

use domain::{Body, NewEvent, PersonId};

use super::*;
use crate::Collect;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mail")
        .join(name)
}

fn ours() -> Ours {
    Ours::parse(&["support@example.com".to_owned(), "@example.com".to_owned()])
        .expect("valid addresses")
}

fn person_of(a: &Address) -> PersonId {
    PersonId::parse(&format!("p-{}", a.email)).expect("a short address is a valid id")
}

fn read_path(path: &Path) -> (Collect, MailReport) {
    let mut sink = Collect::default();
    let report = read(path, &ours(), &mut person_of, &mut sink).expect("the mailbox reads");
    (sink, report)
}

fn read_text(mbox: &str) -> (Collect, MailReport) {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(mbox.as_bytes()).expect("written");
    read_path(file.path())
}

fn events<'a>(c: &'a Collect, kind: &str) -> Vec<&'a NewEvent> {
    c.events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.body.kind().as_str() == kind)
        .collect()
}

fn contact_of(e: &NewEvent) -> &str {
    match &e.body {
        Body::ContactOpened { contact, .. } | Body::ContactAnswered { contact, .. } => {
            contact.as_str()
        }
        _ => "",
    }
}

fn parse_sample_message(mbox_line: u64) -> Mail {
    let text = std::fs::read(sample("mailbox.mbox")).expect("the sample mbox");
    let mut found = None;
    for piece in mbox::Mbox::new(&text[..]) {
        if let Ok(mbox::Piece::Message { line, bytes }) = piece
            && line == mbox_line
        {
            found = Some(parse(&bytes, line).expect("readable"));
        }
    }
    found.expect("a message at that line")
}

/// A message in the sample mbox, by the line of its separator.
const REPLY: u64 = 1;
const QUESTION: u64 = 20;
const HTML_ONLY: u64 = 45;
const ALTERNATIVE: u64 = 57;
const AUTO_REPLY: u64 = 79;
const BOUNCE: u64 = 90;
const NEWSLETTER: u64 = 111;
const UNKNOWN_CHARSET: u64 = 122;
const BROKEN_MIME: u64 = 132;
const NO_DATE: u64 = 147;

#[test]
fn a_plain_question_is_read_with_its_ids_sender_date_and_unescaped_text() {
    let mail = parse_sample_message(QUESTION);
    assert_eq!(mail.line, 20);
    assert_eq!(mail.message_id.as_deref(), Some("q1@mail.example.org"));
    assert_eq!(
        mail.from,
        Some(Address {
            name: Some("Ann Smith".to_owned()),
            email: "ann@example.org".to_owned()
        })
    );
    assert_eq!(mail.to[0].email, "support@example.com");
    assert_eq!(
        mail.date,
        Some(Timestamp::parse("2024-12-03T09:00:00Z").unwrap())
    );
    assert_eq!(mail.subject.as_deref(), Some("My lamp arrived broken"));
    assert!(
        mail.text
            .contains("\nFrom the photo you can see the crack.")
    );
    assert_eq!(mail.automatic, None);
}

#[test]
fn a_reply_names_what_it_replies_to() {
    let mail = parse_sample_message(REPLY);
    assert_eq!(mail.in_reply_to, vec!["q1@mail.example.org".to_owned()]);
    assert_eq!(mail.references, vec!["q1@mail.example.org".to_owned()]);
    assert_eq!(
        own_words(&mail.text),
        "Dear Ann,\n\nA new lamp leaves today."
    );
}

#[test]
fn an_html_only_mail_in_windows_1252_quoted_printable_becomes_text_without_tags() {
    let mail = parse_sample_message(HTML_ONLY);
    assert!(!mail.text.contains('<'), "{:?}", mail.text);
    assert!(
        mail.text
            .contains("Why is my invoice € 12 higher than the café's price?"),
        "{:?}",
        mail.text
    );
}

#[test]
fn a_multipart_alternative_gives_its_plain_part_decoded_from_base64_latin() {
    let mail = parse_sample_message(ALTERNATIVE);
    assert!(
        mail.text.contains("le colis est arrivé cassé"),
        "{:?}",
        mail.text
    );
    assert!(mail.text.contains("25 €"), "{:?}", mail.text);
    assert!(!mail.text.contains("html"));
    assert_eq!(mail.subject.as_deref(), Some("Colis cassé"));
    let from = mail.from.expect("a sender");
    assert_eq!(from.name.as_deref(), Some("Chloé Martin"));
    assert_eq!(from.email, "chloe@example.fr");
}

#[test]
fn auto_replies_bounces_and_newsletters_are_automatic() {
    assert_eq!(
        parse_sample_message(AUTO_REPLY).automatic,
        Some("auto-reply")
    );
    assert_eq!(parse_sample_message(BOUNCE).automatic, Some("bounce"));
    assert_eq!(
        parse_sample_message(NEWSLETTER).automatic,
        Some("mailing list")
    );
    let postmaster =
        b"From: postmaster@mx.example.org\nDate: Wed, 4 Dec 2024 11:00:00 +0000\n\nfailed\n";
    assert_eq!(parse(postmaster, 1).unwrap().automatic, Some("bounce"));
    let precedence =
        b"From: a@example.org\nPrecedence: bulk\nDate: Wed, 4 Dec 2024 11:00:00 +0000\n\nx\n";
    assert_eq!(
        parse(precedence, 1).unwrap().automatic,
        Some("mailing list")
    );
    let no =
        b"From: a@example.org\nAuto-Submitted: no\nDate: Wed, 4 Dec 2024 11:00:00 +0000\n\nx\n";
    assert_eq!(parse(no, 1).unwrap().automatic, None);
}

#[test]
fn an_unknown_charset_and_broken_mime_are_read_leniently() {
    let mail = parse_sample_message(UNKNOWN_CHARSET);
    assert!(mail.text.contains("Is this readable?"), "{:?}", mail.text);
    let mail = parse_sample_message(BROKEN_MIME);
    assert_eq!(mail.message_id.as_deref(), Some("broken1@example.org"));
    assert!(mail.date.is_some());
}

#[test]
fn bytes_without_any_header_are_not_a_message() {
    let err = parse(b"", 7).unwrap_err();
    assert_eq!(err.line, 7);
    assert!(err.message.contains("no header"));
}

#[test]
fn the_sample_mbox_becomes_contacts_answers_and_a_report() {
    let (c, report) = read_path(&sample("mailbox.mbox"));
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(report.messages, 11);
    assert_eq!(
        report.automatic,
        vec![("auto-reply", 1), ("bounce", 1), ("mailing list", 1)]
    );
    assert_eq!(report.follow_ups, 1);
    assert_eq!((report.internal, report.unprompted), (0, 0));
    assert_eq!(report.unreadable.len(), 1);
    assert_eq!(report.unreadable[0].line, NO_DATE);
    assert!(report.unreadable[0].message.contains("no Date"));

    let opened = events(&c, "contact.opened");
    let contacts: Vec<&str> = opened.iter().map(|e| contact_of(e)).collect();
    assert_eq!(
        contacts,
        vec![
            "q1@mail.example.org",
            "h1@example.net",
            "m1@example.fr",
            "u1@example.org",
            "broken1@example.org"
        ]
    );
    let ann = opened[0];
    assert_eq!(ann.person.as_str(), "p-ann@example.org");
    assert_eq!(ann.source.as_str(), "mail");
    assert_eq!(ann.id.as_str(), "q1@mail.example.org");
    assert_eq!(
        ann.personal.text.as_deref(),
        Some(
            "My lamp arrived broken\n\nMy lamp arrived broken. What now?\nFrom the photo you can see the crack."
        )
    );
    match &ann.body {
        Body::ContactOpened { channel, .. } => assert_eq!(channel.as_str(), "email"),
        other => panic!("{other:?}"),
    }

    // The reply is the first message of the file, yet answers the question after it.
    let answered = events(&c, "contact.answered");
    assert_eq!(answered.len(), 1);
    let a = answered[0];
    assert_eq!(contact_of(a), "q1@mail.example.org");
    assert_eq!(a.person.as_str(), "p-ann@example.org");
    assert_eq!(a.id.as_str(), "r1@example.com");
    assert_eq!(a.at, Timestamp::parse("2024-12-03T11:00:00Z").unwrap());
    assert_eq!(
        a.personal.text.as_deref(),
        Some("Dear Ann,\n\nA new lamp leaves today.")
    );
    match &a.body {
        Body::ContactAnswered { by, .. } => assert_eq!(by.as_str(), "support@example.com"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_person_is_identified_once_by_a_hashed_id_with_name_and_address() {
    let (c, _) = read_path(&sample("mailbox.mbox"));
    let identified = events(&c, "person.identified");
    assert_eq!(identified.len(), 5);
    for e in &identified {
        assert!(e.id.as_str().starts_with("identified:"));
        assert!(!e.id.as_str().contains('@'), "{}", e.id);
    }
    let chloe = identified
        .iter()
        .find(|e| e.personal.email.as_deref() == Some("chloe@example.fr"))
        .expect("Chloé is identified");
    assert_eq!(chloe.personal.name.as_deref(), Some("Chloé Martin"));
}

#[test]
fn reading_the_same_mailbox_twice_gives_the_same_events() {
    let (first, r1) = read_path(&sample("mailbox.mbox"));
    let (second, r2) = read_path(&sample("mailbox.mbox"));
    assert_eq!(first.events, second.events);
    assert_eq!(r1, r2);
}

#[test]
fn eml_files_are_read_one_by_one_and_outlook_quotes_are_cut() {
    let (q, report) = read_path(&sample("eml/2024-12-06-question.eml"));
    assert_eq!(report.messages, 1);
    let opened = events(&q, "contact.opened");
    assert_eq!(opened.len(), 1);
    let text = opened[0].personal.text.as_deref().unwrap_or_default();
    assert!(
        text.starts_with("Te veel betaald\n\nGoedendag,"),
        "{text:?}"
    );
    assert!(
        text.contains("€ 30 te veel betaald voor mijn cafétafel"),
        "{text:?}"
    );
    assert_eq!(q.events[0].0, 1);

    // Alone, the reply answers nothing in its input: the business wrote first.
    let (a, report) = read_path(&sample("eml/2024-12-06-reply.eml"));
    assert!(a.events.is_empty());
    assert_eq!(report.unprompted, 1);
    let bytes = std::fs::read(sample("eml/2024-12-06-reply.eml")).unwrap();
    let reply = parse(&bytes, 1).unwrap();
    assert_eq!(
        own_words(&reply.text),
        "Beste Fay,\n\nHet bedrag is vandaag teruggestort."
    );
}

fn mail(from: &str, to: &str, id: &str, hour: u32, reply_to: Option<&str>) -> String {
    let replies = reply_to
        .map(|r| format!("In-Reply-To: <{r}>\nReferences: <{r}>\n"))
        .unwrap_or_default();
    format!(
        "From {from} Tue Dec  3 {hour:02}:00:00 2024\nFrom: {from}\nTo: {to}\nSubject: s {id}\nDate: Tue, 3 Dec 2024 {hour:02}:00:00 +0000\nMessage-ID: <{id}>\n{replies}\nwords of {id}\n\n"
    )
}

#[test]
fn a_question_after_an_answer_in_the_same_thread_opens_a_new_contact() {
    let mbox = [
        mail("ann@example.org", "support@example.com", "q1", 9, None),
        mail(
            "support@example.com",
            "ann@example.org",
            "a1",
            10,
            Some("q1"),
        ),
        mail(
            "ann@example.org",
            "support@example.com",
            "q2",
            11,
            Some("a1"),
        ),
        mail("bob@example.com", "ann@example.org", "a2", 12, Some("q2")),
        mail(
            "support@example.com",
            "ann@example.org",
            "a3",
            13,
            Some("a2"),
        ),
    ]
    .concat();
    let (c, report) = read_text(&mbox);
    let opened: Vec<&str> = events(&c, "contact.opened")
        .iter()
        .map(|e| contact_of(e))
        .collect();
    assert_eq!(opened, vec!["q1", "q2"]);
    let answered: Vec<(&str, &str)> = events(&c, "contact.answered")
        .iter()
        .map(|e| (e.id.as_str(), contact_of(e)))
        .collect();
    assert_eq!(answered, vec![("a1", "q1"), ("a2", "q2")]);
    assert_eq!(report.follow_ups, 0);
    // a3: the business writing again in an answered contact adds nothing.
    assert_eq!((report.unprompted, report.internal), (0, 0));
}

#[test]
fn the_business_writing_first_is_unprompted_and_among_itself_internal() {
    let mbox = [
        mail("support@example.com", "ann@example.org", "o1", 9, None),
        mail("sales@example.com", "support@example.com", "i1", 10, None),
        mail(
            "ann@example.org",
            "support@example.com",
            "q1",
            11,
            Some("o1"),
        ),
    ]
    .concat();
    let (c, report) = read_text(&mbox);
    assert_eq!((report.unprompted, report.internal), (1, 1));
    // Ann answering the business's mail is her contact.
    let opened: Vec<&str> = events(&c, "contact.opened")
        .iter()
        .map(|e| contact_of(e))
        .collect();
    assert_eq!(opened, vec!["q1"]);
}

#[test]
fn a_message_without_id_gets_a_stable_hashed_one_and_long_ids_are_hashed() {
    let no_id =
        "From: ann@example.org\nDate: Tue, 3 Dec 2024 09:00:00 +0000\nSubject: hi\n\nquestion\n";
    let long = format!(
        "From: bo@example.org\nDate: Tue, 3 Dec 2024 09:00:00 +0000\nMessage-ID: <{}@example.org>\n\nquestion\n",
        "x".repeat(300)
    );
    let (first, _) = read_text(&format!("{no_id}\nFrom x\n{long}"));
    let (second, _) = read_text(&format!("{no_id}\nFrom x\n{long}"));
    let ids: Vec<&str> = events(&first, "contact.opened")
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids[0].starts_with("mail:") && ids[1].starts_with("mid:"),
        "{ids:?}"
    );
    assert!(ids.iter().all(|id| id.len() <= 200));
    assert_eq!(first.events, second.events);
}

#[test]
fn the_same_message_saved_twice_is_read_once() {
    let q = mail("ann@example.org", "support@example.com", "q1", 9, None);
    let (c, report) = read_text(&format!("{q}{q}"));
    assert_eq!(report.messages, 2);
    assert_eq!(events(&c, "contact.opened").len(), 1);
    assert_eq!(report.follow_ups, 0);
}

#[test]
fn ours_takes_addresses_and_domains_without_case() {
    let ours = Ours::parse(&["Support@Example.com, @Shop.Example".to_owned()]).unwrap();
    assert!(ours.is_ours("support@example.com"));
    assert!(ours.is_ours("SALES@shop.example"));
    assert!(!ours.is_ours("sales@example.com"));
    assert!(!ours.is_ours("ann@mail.shop.example"));
    assert!(Ours::parse(&["not an address".to_owned()]).is_err());
    assert!(Ours::parse(&["@".to_owned()]).is_err());
    assert!(Ours::parse(&[]).is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::super::mbox::Mbox;
    use super::super::{own_words, parse};

    proptest! {
        /// Arbitrary bytes never make the parser panic.
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&bytes, 1);
        }

        /// Message-like bytes (headers, boundaries, encodings) never make it panic either.
        #[test]
        fn parse_never_panics_on_mime_like_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("Content-Type: multipart/mixed; boundary=b\n".to_owned()),
                    Just("Content-Type: text/html; charset=x-nope\n".to_owned()),
                    Just("Content-Transfer-Encoding: base64\n".to_owned()),
                    Just("Content-Transfer-Encoding: quoted-printable\n".to_owned()),
                    Just("--b\n".to_owned()),
                    Just("--b--\n".to_owned()),
                    Just("\n".to_owned()),
                    Just("From: =?utf-8?B?//79?= <a@b>\n".to_owned()),
                    "[ -~]{0,30}\n",
                ],
                0..20,
            ),
        ) {
            let _ = parse(parts.concat().as_bytes(), 1);
        }

        /// The splitter never panics and never loses a byte that is not a separator line,
        /// a blank line before one, or a `>` it un-escaped.
        #[test]
        fn the_mbox_splitter_never_panics(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just(b"From a@b x\n".to_vec()),
                    Just(b">From x\n".to_vec()),
                    Just(b"\n".to_vec()),
                    Just(b"\r\n".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..40),
                ],
                0..30,
            ),
        ) {
            let input = lines.concat();
            let mut total = 0usize;
            for piece in Mbox::new(&input[..]) {
                if let Ok(super::super::mbox::Piece::Message { bytes, .. }) = piece {
                    total += bytes.len();
                }
            }
            prop_assert!(total <= input.len());
        }

        #[test]
        fn own_words_never_panics(text in "(\\PC{0,20}\n?){0,10}") {
            let words = own_words(&text);
            prop_assert!(words.len() <= text.len());
        }
    }
}

/// Measures `read` on a synthetic mbox: `MAIL_BENCH_THREADS` threads (default 100,000,
/// about 110 MB). Run in release with `--ignored` under `/usr/bin/time -v`. Measured on a
/// shared 2-core machine: 108 MB in 3.1 s with 17 MiB peak; 1.09 GB (1.8 million messages)
/// in 44 s with 137 MiB peak (the first pass's per-message numbers and id table).
#[test]
#[ignore]
fn benchmark_a_large_synthetic_mbox() {
    struct Count(u64);
    impl Sink for Count {
        fn push(
            &mut self,
            _: u64,
            _: NewEvent,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            self.0 += 1;
            Ok(())
        }
        fn reject(
            &mut self,
            e: crate::RowError,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            Err(e.to_string().into())
        }
    }
    let threads = std::env::var("MAIL_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mbox");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        synthetic_mbox(threads, &mut out).unwrap();
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let started = std::time::Instant::now();
    let mut sink = Count(0);
    let report = read(&path, &ours(), &mut person_of, &mut sink).unwrap();
    let took = started.elapsed();
    eprintln!(
        "{} MB, {} messages, {} events in {:.1} s ({:.0} MB/s)",
        size / 1_000_000,
        report.messages,
        sink.0,
        took.as_secs_f64(),
        size as f64 / 1e6 / took.as_secs_f64()
    );
    assert_eq!(report.messages, 2 * threads as u64);
    assert!(report.unreadable.is_empty());
}
