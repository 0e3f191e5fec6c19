//! The generated ledger held to its promises: every line a valid event, the same seed the
//! same bytes, readings spread over their whole range, and each showcase person showing
//! exactly what `showcase()` says their card shows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use domain::event::{Body, EndReason, Kind};
use domain::readings::{Others, Readings, Recorded};
use domain::{NewEvent, PersonId, Timestamp};
use rapport_demo::{Options, generate, showcase};

const END: &str = "2025-06-30T00:00:00Z";

fn end() -> Timestamp {
    Timestamp::parse(END).unwrap()
}

fn bytes(people: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let stats = generate(&Options::new(people, seed, end()), &mut out).unwrap();
    assert_eq!(stats.people, people);
    let lines = out.iter().filter(|b| **b == b'\n').count() as u64;
    assert_eq!(stats.events, lines, "stats count the lines written");
    out
}

/// Every line, validated.
fn events(people: usize, seed: u64) -> Vec<NewEvent> {
    let out = bytes(people, seed);
    let text = std::str::from_utf8(&out).expect("output is UTF-8");
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            NewEvent::from_json_line(line).unwrap_or_else(|e| panic!("line {}: {e}\n{line}", i + 1))
        })
        .collect()
}

/// The ledger as readings see it: per person, in file order, `seq` the line number.
struct Ledger {
    people: BTreeMap<String, Vec<Recorded>>,
    all: Vec<NewEvent>,
    last_buy: HashMap<PersonId, Timestamp>,
    /// Scripted answers, by `seq`, as `scripts::detect` finds them over every answer.
    scripted: HashSet<i64>,
}

impl Others for Ledger {
    fn last_transaction(&self, person: &PersonId) -> Option<Timestamp> {
        self.last_buy.get(person).copied()
    }
    fn scripted(&self, answer: i64) -> bool {
        self.scripted.contains(&answer)
    }
}

fn ledger(people: usize, seed: u64) -> Ledger {
    let all = events(people, seed);
    let mut by: BTreeMap<String, Vec<Recorded>> = BTreeMap::new();
    let mut last_buy: HashMap<PersonId, Timestamp> = HashMap::new();
    for (i, e) in all.iter().enumerate() {
        if matches!(
            e.body,
            Body::OrderPlaced { .. } | Body::InvoiceIssued { .. }
        ) {
            let t = last_buy.entry(e.person.clone()).or_insert(e.at);
            *t = (*t).max(e.at);
        }
        by.entry(e.person.as_str().to_owned())
            .or_default()
            .push(Recorded {
                seq: i as i64,
                at: e.at,
                body: e.body.clone(),
            });
    }
    let mut answers: Vec<(i64, (u32, Vec<u64>))> = Vec::new();
    let mut person_no: HashMap<&str, u32> = HashMap::new();
    for (i, e) in all.iter().enumerate() {
        if let Body::ContactAnswered { .. } = e.body {
            let next = person_no.len() as u32;
            let p = *person_no.entry(e.person.as_str()).or_insert(next);
            let text = e.personal.text.as_deref().unwrap_or("");
            answers.push((i as i64, (p, domain::scripts::prepare(text))));
        }
    }
    let found =
        domain::scripts::detect(&answers.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>());
    let scripted = answers
        .iter()
        .zip(&found.scripted)
        .filter(|(_, s)| **s)
        .map(|((seq, _), _)| *seq)
        .collect();
    Ledger {
        people: by,
        all,
        last_buy,
        scripted,
    }
}

impl Ledger {
    fn readings(&self, person: &str) -> Readings {
        let events = self
            .people
            .get(person)
            .unwrap_or_else(|| panic!("{person} is missing"));
        Readings::compute(events, end(), self)
    }

    fn of<'a>(&'a self, person: &'a str) -> impl Iterator<Item = &'a NewEvent> + 'a {
        self.all.iter().filter(move |e| e.person.as_str() == person)
    }
}

#[test]
fn every_line_is_a_valid_event_for_several_seeds() {
    for seed in [1, 7, 2024] {
        let all = events(3000, seed);
        assert!(all.len() > 3000 * 5, "about ten events a person");
        let mut ids = HashSet::new();
        for e in &all {
            assert!(
                ids.insert((e.source.clone(), e.id.clone())),
                "event id {} repeats in source {}",
                e.id,
                e.source
            );
            let p = e.person.as_str();
            assert!(p.len() == 8 && p.starts_with("P-"), "person id {p}");
            assert!(e.at < end(), "{} at {} is not before the end", e.id, e.at);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let a = bytes(2000, 99);
    let b = bytes(2000, 99);
    let c = bytes(2000, 100);
    assert!(a == b, "same seed, different output");
    assert!(a != c, "different seeds, same output");
}

#[test]
fn each_person_starts_by_being_identified_and_their_lines_are_in_time_order() {
    let all = events(1500, 5);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut previous: Option<&NewEvent> = None;
    for e in &all {
        let p = e.person.as_str();
        if seen.insert(p) {
            assert_eq!(
                e.body.kind(),
                Kind::PersonIdentified,
                "{p} starts with {}",
                e.id
            );
            if let Some(prev) = previous {
                assert!(prev.person.as_str() < p, "people come in id order");
            }
        } else {
            let prev = previous.expect("a previous line");
            assert_eq!(prev.person.as_str(), p, "a person's lines are together");
            assert!(prev.at <= e.at, "{} comes before {}", prev.id, e.id);
        }
        previous = Some(e);
    }
    assert_eq!(seen.len(), 1500);
}

#[test]
fn ledgers_of_a_handful_of_people_or_none_are_still_valid() {
    for people in [0, 1, 5, 13, 14] {
        let all = events(people, 3);
        let persons: BTreeSet<&str> = all.iter().map(|e| e.person.as_str()).collect();
        assert_eq!(persons.len(), people);
    }
}

#[test]
fn a_failing_writer_is_reported_as_an_error() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = generate(&Options::new(50, 1, end()), &mut Broken).unwrap_err();
    assert!(err.to_string().contains("disk full"));
}

#[test]
fn punctuality_spreads_over_the_whole_range_and_every_kind_appears() {
    let l = ledger(2000, 11);
    let shares: Vec<f64> = l
        .people
        .keys()
        .filter_map(|p| l.readings(p).punctuality.and_then(|p| p.on_time_share))
        .collect();
    assert!(shares.len() > 1000, "most people have invoices due");
    let min = shares.iter().copied().fold(f64::MAX, f64::min);
    let max = shares.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!((min, max), (0.0, 1.0));
    let distinct: BTreeSet<u64> = shares.iter().map(|v| v.to_bits()).collect();
    assert!(
        distinct.len() >= 25,
        "only {} distinct values",
        distinct.len()
    );
    let strictly_between = shares.iter().filter(|v| **v > 0.0 && **v < 1.0).count();
    assert!(
        strictly_between > shares.len() / 10,
        "no segments of 0 and 1"
    );
    for (lo, hi) in [(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)] {
        assert!(
            shares.iter().any(|v| *v > lo && *v < hi),
            "nobody between {lo} and {hi}"
        );
    }

    let kinds: BTreeSet<Kind> = l.all.iter().map(|e| e.body.kind()).collect();
    for k in Kind::ALL {
        assert!(kinds.contains(&k), "no {k} event");
    }
    let currencies: BTreeSet<&str> = l
        .all
        .iter()
        .filter_map(|e| match &e.body {
            Body::InvoiceIssued { currency, .. } => Some(currency.as_str()),
            _ => None,
        })
        .collect();
    for c in ["EUR", "USD", "GBP", "JPY"] {
        assert!(currencies.contains(c), "no invoices in {c}");
    }
    let languages: BTreeSet<&str> = l
        .all
        .iter()
        .filter_map(|e| match &e.body {
            Body::PersonIdentified { language, .. } => language.as_ref().map(|l| l.as_str()),
            _ => None,
        })
        .collect();
    assert!(languages.len() >= 6, "languages: {languages:?}");
}

#[test]
fn the_other_readings_vary_from_person_to_person_too() {
    let l = ledger(2000, 12);
    let all: Vec<Readings> = l.people.keys().map(|p| l.readings(p)).collect();
    for reading in [
        "service_load",
        "heard",
        "made_right",
        "promises_kept",
        "advocacy",
    ] {
        let values: BTreeSet<u64> = all
            .iter()
            .filter_map(|r| r.headline(reading))
            .map(f64::to_bits)
            .collect();
        assert!(
            values.len() >= 3,
            "{reading} has only {} values",
            values.len()
        );
    }
    let open = all
        .iter()
        .filter(|r| {
            r.heard
                .as_ref()
                .is_some_and(|h| !h.open_questions.is_empty())
        })
        .count();
    assert!(open > 5, "some questions are still open");
    let overdue = all
        .iter()
        .filter(|r| {
            r.punctuality
                .as_ref()
                .is_some_and(|p| p.open_overdue.count > 0)
        })
        .count();
    assert!(overdue > 5, "some invoices are open and overdue");
    let unmatched = all
        .iter()
        .filter(|r| {
            r.punctuality
                .as_ref()
                .is_some_and(|p| p.unmatched_payments > 0)
        })
        .count();
    assert!(unmatched > 0, "some payments name unknown invoices");
}

#[test]
fn the_showcase_people_show_what_their_descriptions_promise() {
    let l = ledger(3000, 42);
    let ids: Vec<&str> = showcase().iter().map(|(id, _)| *id).collect();
    assert!(ids.len() >= 12);
    for id in &ids {
        assert!(l.people.contains_key(*id), "{id} exists");
    }

    // The punctual promoter.
    let r = l.readings("P-000000");
    let p = r.punctuality.unwrap();
    assert_eq!(p.on_time_share, Some(1.0));
    assert!(p.invoices_due >= 20);
    let a = r.advocacy.unwrap();
    assert!(
        a.latest_review.unwrap() >= 9 && a.referrals_active >= 2,
        "{a:?}"
    );

    // The habitual late payer, with open overdue invoices as of the end.
    let p = l.readings("P-000001").punctuality.unwrap();
    assert!(p.on_time_share.unwrap() < 0.1, "{p:?}");
    assert!(p.open_overdue.count >= 3, "{p:?}");
    assert!(p.mean_days_late.unwrap() > 10.0);

    // Disputes upheld: the business's errors, not friction.
    let r = l.readings("P-000002");
    assert!(r.made_right.unwrap().upheld_disputes >= 3);
    let f = r.invoice_friction.unwrap();
    assert!(f.disputed >= 4 && f.not_upheld <= 1, "{f:?}");

    // The heavy service-desk user.
    let mut per_month: Vec<f64> = l
        .people
        .keys()
        .filter_map(|p| l.readings(p).service_load.map(|s| s.contacts_per_month))
        .collect();
    per_month.sort_by(f64::total_cmp);
    let median = per_month[per_month.len() / 2];
    let heavy = l
        .readings("P-000003")
        .service_load
        .unwrap()
        .contacts_per_month;
    assert!(
        heavy >= 3.0 && heavy > 10.0 * median.max(0.1),
        "{heavy} vs {median}"
    );

    // Stayed after an apology.
    let res = l.readings("P-000004").resilience.unwrap();
    assert_eq!(res.with_apology, Some(1.0));

    // Left after an incident nobody apologised for.
    let r = l.readings("P-000005");
    assert_eq!(r.resilience.unwrap().without_apology, Some(0.0));
    assert!(!r.made_right.unwrap().unapologised.is_empty());
    let ended: Vec<&NewEvent> = l
        .of("P-000005")
        .filter(|e| matches!(e.body, Body::RelationshipEnded { .. }))
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        ended[0].body,
        Body::RelationshipEnded {
            reason: EndReason::Service
        }
    );
    assert!(l.of("P-000005").all(|e| e.at <= ended[0].at));

    // Questions waiting for weeks.
    let h = l.readings("P-000006").heard.unwrap();
    assert!(h.open_questions.len() >= 3, "{h:?}");
    assert!(h.open_questions[0].age_days >= 35.0);

    // Broken promises.
    let pk = l.readings("P-000007").promises_kept.unwrap();
    assert!(pk.kept_share <= 0.2 && pk.broken.len() >= 5, "{pk:?}");

    // Hostile text, kept as written.
    let texts: Vec<&str> = l
        .of("P-000008")
        .filter_map(|e| e.personal.text.as_deref())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("<script>alert(1)</script>"))
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("\"><img src=x onerror=alert(1)>"))
    );

    // The referrer whose referrals bought.
    let a = l.readings("P-000009").advocacy.unwrap();
    assert_eq!(a.referrals, 5);
    assert!(a.referrals_active >= 4, "{a:?}");

    // Own menu, consent withdrawn, newsletter still sent.
    let camille: Vec<&NewEvent> = l.of("P-000010").collect();
    let withdrawn = camille
        .iter()
        .find(|e| matches!(e.body, Body::ConsentWithdrawn { .. }))
        .expect("a withdrawal")
        .at;
    assert!(camille.iter().any(|e| e.at > withdrawn
        && matches!(&e.body, Body::OutreachSent { topic: Some(t), .. } if t.as_str() == "newsletter")));
    let chosen = camille
        .iter()
        .filter(|e| matches!(e.body, Body::MenuChosen { .. }))
        .count();
    assert!(chosen >= 4);

    // Answered only by script: the very same words other people got.
    let answers: Vec<&str> = l
        .of("P-000011")
        .filter(|e| matches!(e.body, Body::ContactAnswered { .. }))
        .filter_map(|e| e.personal.text.as_deref())
        .collect();
    assert!(answers.len() >= 6);
    for text in answers {
        let people: BTreeSet<&str> = l
            .all
            .iter()
            .filter(|e| e.personal.text.as_deref() == Some(text))
            .map(|e| e.person.as_str())
            .collect();
        assert!(people.len() > 5, "the script goes to many people: {text}");
    }
    let personal = l.readings("P-000011").personal.unwrap();
    assert_eq!(personal.scripted_share, 1.0, "{personal:?}");
    assert!(l.readings("P-000000").personal.unwrap().scripted_share < 0.5);

    // Yen, in instalments.
    let mut parts: HashMap<String, usize> = HashMap::new();
    for e in l.of("P-000012") {
        match &e.body {
            Body::InvoiceIssued { currency, .. } => assert_eq!(currency.as_str(), "JPY"),
            Body::PaymentReceived { invoice, .. } => {
                *parts.entry(invoice.to_string()).or_default() += 1;
            }
            _ => {}
        }
    }
    assert!(parts.values().filter(|n| **n >= 2).count() >= 3);
}

#[test]
fn the_showcase_descriptions_name_their_people() {
    for (id, what) in showcase() {
        assert!(id.starts_with("P-0000"));
        assert!(what.len() > 30, "{id}: {what}");
    }
    let ids: BTreeSet<&str> = showcase().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), showcase().len(), "ids are distinct");
}
