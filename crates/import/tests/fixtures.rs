//! The invoices and messages presets on hand-written files with real-world quirks.

mod common;

use common::{data, import, json, preset, report, s};
use rapport_import::Preset;

fn invoices() -> rapport_import::Mapping {
    preset(
        Preset::Invoices,
        &[
            ("delimiter", ";"),
            ("date_format", "%d/%m/%Y"),
            ("decimal_comma", "true"),
        ],
    )
}

#[test]
fn invoices_with_a_bom_crlf_semicolons_and_day_first_dates_make_issue_payment_and_dispute_events() {
    let c = import(&data("invoices.csv"), &invoices());
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let ev = json(&c);
    let kinds: Vec<(&str, &str)> = ev.iter().map(|e| (s(e, "kind"), s(e, "id"))).collect();
    assert_eq!(
        kinds,
        vec![
            ("invoice.issued", "inv-17"),
            ("payment.received", "pay-17"),
            ("invoice.issued", "inv-18"),
            ("invoice.disputed", "dis-18"),
            ("invoice.issued", "inv-19"),
            ("payment.received", "pay-19"),
            ("invoice.issued", "inv-20"),
            ("invoice.issued", "inv-21"),
            ("payment.received", "pay-21"),
            ("invoice.disputed", "dis-21"),
        ]
    );
    let inv17 = &ev[0];
    assert_eq!(s(inv17, "source"), "ar");
    assert_eq!(s(inv17, "person"), "0379-NEVHP");
    assert_eq!(s(inv17, "at"), "2013-01-02T00:00:00Z");
    assert_eq!(s(inv17, "due"), "2013-02-01");
    assert_eq!((s(inv17, "amount"), s(inv17, "currency")), ("55.94", "EUR"));
    assert_eq!(s(&ev[1], "at"), "2013-01-28T00:00:00Z");
    assert_eq!(s(&ev[1], "amount"), "55.94");
    assert_eq!(
        s(&ev[2], "amount"),
        "1234.50",
        "decimal comma and thousands separator"
    );
    assert_eq!(
        s(&ev[3], "at"),
        "2013-01-15T00:00:00Z",
        "disputed at the issue date when no dispute date"
    );
    assert_eq!(
        s(&ev[3], "reason"),
        "Charged twice; see the \"March\" delivery, again"
    );
    assert_eq!(
        s(&ev[4], "currency"),
        "EUR",
        "lower-case currency upper-cased"
    );
    assert_eq!(
        s(&ev[7], "amount"),
        "1000000.00",
        "euro sign and dots stripped"
    );
    assert_eq!(c.events[0].0, 2);
    assert_eq!(c.events[9].0, 6);
}

#[test]
fn messages_from_the_person_open_contacts_and_answers_from_the_business_answer_them() {
    let (c, r) = report(&data("messages.csv"), &preset(Preset::Messages, &[]));
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let ev = json(&c);
    assert_eq!(ev.len(), 4);
    assert_eq!(
        (
            s(&ev[0], "kind"),
            s(&ev[0], "contact"),
            s(&ev[0], "channel")
        ),
        ("contact.opened", "m1", "email")
    );
    assert_eq!(s(&ev[0], "text"), "My parcel arrived broken, what now?");
    assert_eq!(s(&ev[0], "at"), "2013-03-09T08:15:00Z");
    assert_eq!(
        (s(&ev[1], "kind"), s(&ev[1], "contact"), s(&ev[1], "by")),
        ("contact.answered", "m1", "agent-ruben")
    );
    assert_eq!(
        s(&ev[1], "text"),
        "Dear Anna, I am sorry.\r\nA new one leaves today."
    );
    assert_eq!(
        (s(&ev[2], "kind"), s(&ev[2], "channel"), s(&ev[2], "person")),
        ("contact.opened", "email", "0412-KQXRT")
    );
    assert_eq!(
        (s(&ev[3], "kind"), s(&ev[3], "contact"), s(&ev[3], "by")),
        ("contact.answered", "m3", "agent-sofie")
    );
    // Lines: m3 starts on line 5 because m2's text spans lines 3 and 4.
    let lines: Vec<u64> = c.events.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 3, 5, 7]);
    assert_eq!(r.skipped_total(), 1);
    assert_eq!(
        r.skipped.get(
            "contact.answered with an empty `contact` (the business's message answers no message of a person)"
        ),
        Some(&1)
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn a_timezone_setting_places_local_times_at_their_offset() {
    let m = preset(Preset::Messages, &[("timezone", "+01:00")]);
    let c = import(&data("messages.csv"), &m);
    assert_eq!(s(&json(&c)[0], "at"), "2013-03-09T07:15:00Z");
}

#[test]
fn a_direction_that_is_neither_yes_nor_no_rejects_its_row_naming_the_column() {
    let text = "MessageId,CustomerId,Author,Direction,SentAt,Text\nm1,p1,Anna,sideways,2013-03-09 08:15,hi\n";
    let (c, _) = common::import_text("log.csv", text.as_bytes(), &preset(Preset::Messages, &[]));
    assert_eq!(c.rejected.len(), 1);
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("Direction")));
    assert!(e.message.contains("\"sideways\" is neither a yes"), "{e}");
}
