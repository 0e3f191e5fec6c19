//! Bad files and bad mappings: each error names the file, the line and the column or key.

mod common;

use std::path::Path;

use common::{import_text, mapping, preset};
use rapport_import::{Collect, ImportError, Mapping, MappingError, Preset};

const INVOICE_HEADER: &str =
    "InvoiceId,CustomerId,Amount,Currency,IssueDate,DueDate,SettledDate,Disputed\n";

fn invoices() -> Mapping {
    preset(Preset::Invoices, &[])
}

fn read_err(name: &str, text: &[u8], m: &Mapping) -> ImportError {
    let mut sink = Collect::default();
    m.read(Path::new(name), text, &mut sink)
        .expect_err("a whole-file error")
}

#[test]
fn a_row_with_too_few_columns_is_rejected_with_its_line_and_counts() {
    let text = format!("{INVOICE_HEADER}17,p1,55.94,EUR,2013-01-02,2013-02-01,,no\n18,p1,10.00\n");
    let (c, r) = import_text("ar.csv", text.as_bytes(), &invoices());
    assert_eq!(c.events.len(), 1);
    assert_eq!(r.rejected, 1);
    let e = &c.rejected[0];
    assert_eq!(e.file, Path::new("ar.csv"));
    assert_eq!(e.line, 3);
    assert_eq!(e.message, "has 3 columns, the header has 8");
    assert_eq!(e.raw.as_deref(), Some("18,p1,10.00"));
    assert!(e.to_string().starts_with("ar.csv:3: has 3 columns"), "{e}");
}

#[test]
fn a_mapping_naming_a_column_the_csv_lacks_stops_the_file_before_any_row() {
    // `person` finds `Customer`, `currency` and `disputed` are optional; `due` is not.
    let text = "InvoiceId,Customer,Amount,IssueDate,SettledDate\n17,p1,55.94,2013-01-02,\n";
    let ImportError::File(e) = read_err("ar.csv", text.as_bytes(), &invoices()) else {
        panic!("not a file error")
    };
    assert_eq!(e.line, 1);
    assert_eq!(e.field.as_deref(), Some("due"));
    assert!(e.message.contains("DueDate"), "{e}");
    assert!(
        e.message
            .contains("its columns are: InvoiceId, Customer, Amount, IssueDate, SettledDate"),
        "{e}"
    );
}

#[test]
fn a_template_naming_a_header_column_that_is_absent_stops_the_file() {
    let m = mapping(
        r#"source = "s"
[[event]]
kind = "wish.stated"
id = "w-{Id}"
person = "{Person}"
at = "{When}"
text = "{Wish}"
"#,
    );
    let ImportError::File(e) = read_err("w.csv", b"Id,Person,When\n1,p,2020-01-01\n", &m) else {
        panic!()
    };
    assert_eq!((e.line, e.field.as_deref()), (1, Some("Wish")));
    assert!(
        e.to_string()
            .starts_with("w.csv:1: field `Wish`: the mapping test.toml needs column `Wish`"),
        "{e}"
    );
}

#[test]
fn a_file_that_is_not_utf8_rejects_its_lines_with_line_and_column() {
    // Latin-1 "é" in a customer name: that row is rejected, the others are read.
    let mut text = INVOICE_HEADER.as_bytes().to_vec();
    text.extend_from_slice(b"17,Ren\xe9e,55.94,EUR,2013-01-02,2013-02-01,,no\n");
    text.extend_from_slice(b"18,p2,10.00,EUR,2013-01-02,2013-02-01,,no\n");
    let (c, _) = import_text("latin1.csv", &text, &invoices());
    assert_eq!(c.events.len(), 1);
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("CustomerId")));
    assert!(e.message.contains("not UTF-8"), "{e}");

    // A file of UTF-16 text or random bytes does not panic: a whole-file error or rejects.
    let utf16: Vec<u8> = "InvoiceId,CustomerId\n1,2\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut sink = Collect::default();
    let r = invoices().read(
        Path::new("utf16.csv"),
        &[&[0xff, 0xfe][..], &utf16].concat()[..],
        &mut sink,
    );
    assert!(matches!(r, Err(ImportError::File(_))), "{r:?}");
    let mut sink = Collect::default();
    let m = preset(
        Preset::Transactions,
        &[("header", "false"), ("columns", "customer_id,date,amount")],
    );
    m.read(
        Path::new("noise.bin"),
        &b"\xff\xfe\x00,\x80\x81,\xc3\n\x00\x01\x02,x,y\n"[..],
        &mut sink,
    )
    .unwrap();
    assert!(sink.events.is_empty());
    assert_eq!(sink.rejected.len(), 2);
    assert_eq!(sink.rejected[0].line, 1);
}

#[test]
fn an_empty_file_or_only_a_header_is_zero_events_not_an_error() {
    for text in ["", INVOICE_HEADER, "\n\n"] {
        let (c, r) = import_text("empty.csv", text.as_bytes(), &invoices());
        assert!(c.events.is_empty() && c.rejected.is_empty(), "{text:?}");
        assert_eq!(r.rows, 0);
    }
    let m = preset(Preset::Transactions, &[("delimiter", "whitespace")]);
    let (c, _) = import_text("empty.txt", b"", &m);
    assert!(c.events.is_empty() && c.rejected.is_empty());
}

#[test]
fn an_unknown_kind_in_a_mapping_is_an_error_naming_the_key() {
    let e = Mapping::from_toml(
        "source = \"s\"\n[[event]]\nkind = \"invoice.eaten\"\nid = \"{a}\"\nperson = \"{b}\"\nat = \"{c}\"\n",
        Path::new("my.toml"),
    )
    .unwrap_err();
    let MappingError::Key { file, key, message } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        (file.as_path(), key.as_str()),
        (Path::new("my.toml"), "event[0].kind")
    );
    assert!(message.contains("unknown kind \"invoice.eaten\""), "{e}");
    assert!(
        e.to_string()
            .starts_with("my.toml: `event[0].kind`: unknown kind"),
        "{e}"
    );
}

#[test]
fn unknown_keys_bad_templates_and_bad_values_in_a_mapping_name_the_key() {
    let events = "[[event]]\nkind = \"order.placed\"\nid = \"{a}\"\nperson = \"{b}\"\nat = \"{c}\"\norder = \"{a}\"\n";
    let base = format!("source = \"s\"\n{events}");
    let cases = [
        (format!("{base}ammount = \"{{d}}\"\n"), "event[0].ammount"),
        (
            format!("{base}amount = \"{{d|round}}\"\n"),
            "event[0].amount",
        ),
        (format!("{base}amount = \"{{d\"\n"), "event[0].amount"),
        (format!("{base}amount = \"d}}\"\n"), "event[0].amount"),
        (
            format!("{base}when = {{ bigger = [\"a\", \"1\"] }}\n"),
            "event[0].when.bigger",
        ),
        (
            format!("{base}when = {{ equals = \"a\" }}\n"),
            "event[0].when.equals",
        ),
        (
            format!("{base}lines = [{{ product = \"{{a}}\", price = \"{{b}}\" }}]\n"),
            "event[0].lines[0].price",
        ),
        (format!("delimitor = \";\"\n{base}"), "delimitor"),
        (format!("timezone = \"CET\"\n{base}"), "timezone"),
        (
            format!("source = \"s\"\n[csv]\ndelimiter = \"ab\"\n{events}"),
            "csv.delimiter",
        ),
        (
            format!("source = \"s\"\n[csv]\nheaders = true\n{events}"),
            "csv.headers",
        ),
        (
            format!("source = \"s\"\n[columns]\nperson = 3\n{events}"),
            "columns.person",
        ),
        ("source = \"s\"\n".to_owned(), "event"),
        (
            "source = \"s\"\n[[event]]\nkind = \"wish.stated\"\nperson = \"{b}\"\nat = \"{c}\"\n"
                .to_owned(),
            "event[0].id",
        ),
    ];
    for (toml, key) in cases {
        match Mapping::from_toml(&toml, Path::new("m.toml")) {
            Err(MappingError::Key { key: k, .. }) => assert_eq!(k, key, "{toml}"),
            other => panic!("{toml}: expected an error at `{key}`, got {other:?}"),
        }
    }
    let e = Mapping::from_toml("source = ", Path::new("m.toml")).unwrap_err();
    assert!(
        matches!(e, MappingError::Toml { .. })
            && e.to_string().starts_with("m.toml: not valid TOML"),
        "{e}"
    );
    let mut m = invoices();
    let e = m.set("colour", "blue").unwrap_err();
    assert!(e.to_string().contains("`--set colour`"), "{e}");
    assert!(m.set("header", "maybe").is_err());
    assert!(m.set("delimiter", "¦").is_err());
}

#[test]
fn a_date_that_does_not_exist_rejects_its_row_naming_the_column() {
    let text = format!("{INVOICE_HEADER}17,p1,55.94,EUR,2013-02-30,2013-03-01,,no\n");
    let (c, _) = import_text("ar.csv", text.as_bytes(), &invoices());
    assert!(c.events.is_empty());
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("IssueDate")));
    assert!(e.message.contains("\"2013-02-30\" is not a date"), "{e}");
    assert!(e.message.contains("(read as the event's `at`)"), "{e}");
    // A due date that does not exist is caught the same way.
    let text = format!("{INVOICE_HEADER}17,p1,55.94,EUR,2013-01-02,2013-02-29,,no\n");
    let (c, _) = import_text("ar.csv", text.as_bytes(), &invoices());
    assert_eq!(c.rejected[0].field.as_deref(), Some("DueDate"));
}

#[test]
fn an_amount_with_too_many_decimals_is_rejected_by_the_domain_naming_the_column() {
    let text = format!(
        "{INVOICE_HEADER}17,p1,55.941,EUR,2013-01-02,2013-02-01,2013-01-20,no\n18,p1,100.5,JPY,2013-01-02,2013-02-01,,no\n"
    );
    let (c, r) = import_text("ar.csv", text.as_bytes(), &invoices());
    assert!(c.events.is_empty());
    assert_eq!(
        r.rejected, 3,
        "the issue and the payment of 17, the issue of 18"
    );
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("Amount")));
    assert!(e.message.contains("has 3 decimals"), "{e}");
    assert!(e.message.ends_with("(read as the event's `amount`)"), "{e}");
    assert_eq!(
        (c.rejected[2].line, c.rejected[2].field.as_deref()),
        (3, Some("Amount"))
    );
}

#[test]
fn a_grouped_line_that_is_wrong_is_blamed_on_its_own_row() {
    let text = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n\
                1,A,2,2011-01-01 10:00:00,1.50,c1\n\
                1,B,two,2011-01-01 10:00:00,1.50,c1\n";
    let (c, _) = import_text(
        "retail.csv",
        text.as_bytes(),
        &preset(Preset::Transactions, &[]),
    );
    assert!(c.events.is_empty());
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (3, Some("Quantity")));
    assert!(
        e.message.contains("(read as the event's `lines[1].qty`)"),
        "{e}"
    );
}

#[test]
fn an_empty_person_is_rejected_unless_the_mapping_skips_it() {
    let text = format!("{INVOICE_HEADER}17,,55.94,EUR,2013-01-02,2013-02-01,,no\n");
    let (c, _) = import_text("ar.csv", text.as_bytes(), &invoices());
    let e = &c.rejected[0];
    assert_eq!((e.line, e.field.as_deref()), (2, Some("CustomerId")));
    assert!(e.message.contains("person id is empty"), "{e}");
    let mut m = invoices();
    m.set("skip_when_empty", "person").unwrap();
    let (c, r) = import_text("ar.csv", text.as_bytes(), &m);
    assert!(c.rejected.is_empty() && c.events.is_empty());
    assert_eq!(r.skipped_total(), 1);
}

#[test]
fn a_mapping_without_a_source_says_how_to_give_one() {
    let m = mapping(
        "[[event]]\nkind = \"wish.stated\"\nid = \"{a}\"\nperson = \"{a}\"\nat = \"{a}\"\n",
    );
    let e = read_err("x.csv", b"a\n1\n", &m);
    assert!(e.to_string().contains("`source`: is not set"), "{e}");
}
