//! The mapping file format: the documented example, and each feature on a small file.

mod common;

use std::path::Path;

use common::{data, import, import_text, json, mapping, s};
use rapport_import::Mapping;

#[test]
fn the_example_in_docs_mapping_md_reads_the_invoices_fixture() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mapping.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let m = Mapping::from_toml(&doc[start..end], Path::new("docs/mapping.md"))
        .unwrap_or_else(|e| panic!("{e}"));
    let c = import(&data("invoices.csv"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(c.events.len(), 10);
    // The example says timezone +01:00: midnight local is 23:00 UTC the day before.
    assert_eq!(s(&json(&c)[0], "at"), "2013-01-01T23:00:00Z");
}

#[test]
fn headers_match_without_case_spaces_or_underscores_and_candidates_are_tried_in_order() {
    let m = mapping(
        r#"source = "crm"
[columns]
person = ["client_no", "customer_id"]
[[event]]
kind = "review.given"
id = "r{_line}-{_file}"
person = "{person}"
at = "{When}"
score = "{ SCORE }"
"#,
    );
    let (c, _) = import_text(
        "reviews.csv",
        b"Customer ID,when,Score\nc-1,2024-05-01 09:30,9\n",
        &m,
    );
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let e = &json(&c)[0];
    assert_eq!(
        (s(e, "id"), s(e, "person"), s(e, "at")),
        ("r2-reviews", "c-1", "2024-05-01T09:30:00Z")
    );
}

#[test]
fn filters_escapes_and_conditions_do_what_the_documentation_says() {
    let m = mapping(
        r#"source = "desk"
yes = ["done"]
no = ["open"]
[csv]
delimiter = "\t"
quote = ""
comment = "//"
[[event]]
kind = "contact.closed"
when = [{ equals = ["Type", "ticket", "case"] }, { not_starts_with = ["Ref", "TEST"] }]
id = "{{x}}-{Ref|lower}"
person = "{Who|trim|upper}"
at = "{Day|date:%d.%m.%Y}"
contact = "{Ref}"
resolved = "{State|yesno}"

[[event]]
kind = "outreach.sent"
when = { empty = "State" }
id = "o-{Ref}"
person = "{Who}"
at = "{Day|date:%d.%m.%Y}"
channel = "{Channel|default:phone}"
"#,
    );
    let text = "// exported 2024\nType\tRef\tWho\tDay\tState\tChannel\n\
                ticket\tT-1\t anna \t01.05.2024\tdone\t\n\
                case\tT-2\tbob\t02.05.2024\topen\t\n\
                ticket\tTEST-3\tcy\t03.05.2024\tdone\t\n\
                note\tN-4\tdi\t04.05.2024\t\t\n";
    let (c, _) = import_text("t.tsv", text.as_bytes(), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let ev = json(&c);
    assert_eq!(ev.len(), 3);
    assert_eq!(
        (s(&ev[0], "id"), s(&ev[0], "person"), s(&ev[0], "at")),
        ("{x}-t-1", "ANNA", "2024-05-01T00:00:00Z")
    );
    assert_eq!(ev[0]["resolved"], true);
    assert_eq!(ev[1]["resolved"], false);
    assert_eq!(
        (s(&ev[2], "kind"), s(&ev[2], "channel")),
        ("outreach.sent", "phone")
    );
    assert_eq!(c.events[2].0, 6);
}

#[test]
fn decimal_and_sign_filters_clean_amounts_without_guessing() {
    let m = mapping(
        r#"source = "ar"
currency = "EUR"
[[event]]
kind = "payment.received"
id = "{_line}"
person = "p"
at = "2024-01-01"
invoice = "i"
amount = "{Amount|decimal|neg|neg}"
"#,
    );
    let text = "Amount\n\"€ 1,234.50\"\n$12\n(7.25)\n\"12,50\"\n";
    let (c, _) = import_text("a.csv", text.as_bytes(), &m);
    let amounts: Vec<String> = json(&c).iter().map(|e| s(e, "amount").to_owned()).collect();
    assert_eq!(amounts, vec!["1234.50", "12.00"]);
    assert_eq!(c.rejected.len(), 2);
    // (7.25) reads as -7.25, which no payment can be.
    assert_eq!(
        (c.rejected[0].line, c.rejected[0].field.as_deref()),
        (4, Some("Amount"))
    );
    assert!(
        c.rejected[0]
            .message
            .contains("is -7.25: a payment cannot be negative"),
        "{}",
        c.rejected[0]
    );
    // 12,50 is not read as 1250.
    assert_eq!(
        (c.rejected[1].line, c.rejected[1].field.as_deref()),
        (5, Some("Amount"))
    );
}

#[test]
fn set_overrides_a_logical_column_and_settings() {
    let mut m = mapping(
        r#"source = "crm"
[columns]
person = "customer"
[[event]]
kind = "wish.stated"
id = "{_line}"
person = "{person}"
at = "{date}"
text = "{wish}"
"#,
    );
    m.set("person", "Klantnummer").unwrap();
    m.set("source", "shop").unwrap();
    m.set("date_format", "%d-%m-%Y").unwrap();
    m.set("delimiter", ";").unwrap();
    let (c, _) = import_text(
        "w.csv",
        "Klantnummer;date;wish\nk9;31-12-2023;Call after five\n".as_bytes(),
        &m,
    );
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let e = &json(&c)[0];
    assert_eq!(
        (s(e, "source"), s(e, "person"), s(e, "at")),
        ("shop", "k9", "2023-12-31T00:00:00Z")
    );
}

#[test]
fn the_id_filter_undoes_what_a_spreadsheet_did_to_a_customer_number() {
    let m = rapport_import::Mapping::preset(rapport_import::Preset::Transactions);
    let csv = "CustomerID,InvoiceDate,Amount\n17850.0,2010-12-01 08:26:00,5.00\n17850,2010-12-02 08:26:00,6.00\nA.0B,2010-12-03 08:26:00,7.00\n";
    let mut c = rapport_import::Collect::default();
    m.read(std::path::Path::new("x.csv"), csv.as_bytes(), &mut c)
        .unwrap();
    let people: Vec<String> = c.events.iter().map(|(_, e)| e.person.to_string()).collect();
    assert_eq!(people, vec!["17850", "17850", "A.0B"]);
}
