//! The presets on extracts of real data (CDNOW, UCI Online Retail) and on the full files.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{data, import, json, preset, report, s};
use rapport_import::Preset;

#[test]
fn every_preset_parses_and_is_found_by_its_name() {
    for p in Preset::ALL {
        rapport_import::Mapping::from_toml(p.toml(), Path::new(p.name()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Preset::parse(p.name()), Some(p));
    }
    assert_eq!(Preset::parse("Transactions"), Some(Preset::Transactions));
    assert_eq!(Preset::parse("ledger"), None);
}

#[test]
fn cdnow_master_becomes_one_order_per_row_with_whitespace_delimiter() {
    let m = preset(
        Preset::Transactions,
        &[("delimiter", "whitespace"), ("currency", "USD")],
    );
    let c = import(&data("cdnow_master_head.txt"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(c.events.len(), 199);
    let ev = json(&c);
    let people: BTreeSet<&str> = ev.iter().map(|e| s(e, "person")).collect();
    assert_eq!(people.len(), 48);
    let first = &ev[0];
    assert_eq!(c.events[0].0, 2);
    assert_eq!(s(first, "kind"), "order.placed");
    assert_eq!(s(first, "source"), "shop");
    // Rows without an order number are keyed by their content: stable, and unique.
    assert_eq!(s(first, "id").len(), 32, "{}", s(first, "id"));
    let ids: BTreeSet<&str> = ev.iter().map(|e| s(e, "id")).collect();
    assert_eq!(ids.len(), ev.len());
    assert_eq!(s(first, "person"), "00001");
    assert_eq!(s(first, "at"), "1997-01-01T00:00:00Z");
    assert_eq!(s(first, "amount"), "11.77");
    assert_eq!(s(first, "currency"), "USD");
    let last = ev.last().unwrap();
    assert_eq!(
        (s(last, "person"), s(last, "at"), s(last, "amount")),
        ("00048", "1997-02-10T00:00:00Z", "37.93")
    );
}

#[test]
fn cdnow_sample_without_a_header_reads_with_named_columns() {
    let m = preset(
        Preset::Transactions,
        &[
            ("delimiter", "whitespace"),
            ("header", "false"),
            (
                "columns",
                "customer_id,sample_id,date,number_of_cds,dollar_value",
            ),
        ],
    );
    let c = import(&data("cdnow_sample_head.txt"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(c.events.len(), 200);
    let ev = json(&c);
    assert_eq!(
        ev.iter()
            .map(|e| s(e, "person"))
            .collect::<BTreeSet<_>>()
            .len(),
        76
    );
    assert_eq!(
        (s(&ev[0], "person"), s(&ev[0], "at"), s(&ev[0], "amount")),
        ("00004", "1997-01-01T00:00:00Z", "29.33")
    );
    assert_eq!(c.events[0].0, 1, "no header: the first row is line 1");
    assert!(
        ev[0].get("currency").is_none(),
        "no currency unless one is given"
    );
}

#[test]
fn the_brief_s_short_column_names_work_when_person_is_named() {
    let m = preset(
        Preset::Transactions,
        &[
            ("delimiter", "whitespace"),
            ("header", "false"),
            ("columns", "id,sample,date,cds,dollars"),
            ("person", "id"),
        ],
    );
    let c = import(&data("cdnow_sample_head.txt"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(c.events.len(), 200);
}

#[test]
fn online_retail_groups_lines_into_orders_and_cancellations_into_returns() {
    let m = preset(Preset::Transactions, &[("currency", "GBP")]);
    let (c, r) = report(&data("online_retail_head.csv"), &m);
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    assert_eq!(r.rows, 657);
    let ev = json(&c);
    let placed: Vec<_> = ev
        .iter()
        .filter(|e| s(e, "kind") == "order.placed")
        .collect();
    let returned: Vec<_> = ev
        .iter()
        .filter(|e| s(e, "kind") == "order.returned")
        .collect();
    assert_eq!((placed.len(), returned.len()), (44, 3));
    assert_eq!(
        ev.iter()
            .map(|e| s(e, "person"))
            .collect::<BTreeSet<_>>()
            .len(),
        33
    );

    let first = placed[0];
    assert_eq!(
        (s(first, "id"), s(first, "order"), s(first, "person")),
        ("536365", "536365", "17850")
    );
    assert_eq!(s(first, "at"), "2010-12-01T08:26:00Z");
    assert_eq!(s(first, "amount"), "139.12", "the sum of its 7 lines");
    assert_eq!(s(first, "currency"), "GBP");
    assert_eq!(first["lines"].as_array().map(Vec::len), Some(7));
    assert_eq!(first["lines"][0]["product"], "85123A");
    assert_eq!(first["lines"][0]["qty"], 6);
    assert_eq!(first["lines"][0]["unit_price"], "2.55");

    let ret = returned
        .iter()
        .find(|e| s(e, "order") == "C536391")
        .unwrap();
    assert_eq!(
        (s(ret, "person"), s(ret, "at"), s(ret, "amount")),
        ("17548", "2010-12-01T10:24:00Z", "141.48")
    );
    assert!(
        ret["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["qty"].as_i64().unwrap() > 0)
    );
    let ret = returned
        .iter()
        .find(|e| s(e, "order") == "C536379")
        .unwrap();
    assert_eq!(s(ret, "amount"), "27.50");

    // Rows without CustomerID are skipped and counted, not rejected.
    assert_eq!(r.skipped_total(), 9);
    assert_eq!(
        r.skipped
            .get("order.placed with an empty `person` (column `CustomerID`)"),
        Some(&7)
    );
    assert_eq!(
        r.skipped
            .get("order.returned with an empty `person` (column `CustomerID`)"),
        Some(&2)
    );
    assert_eq!(r.events, 47);
    // A grouped event is pushed with the line of its first row.
    let line_of_536366 = c
        .events
        .iter()
        .find(|(_, e)| e.id.as_str() == "536366")
        .map(|(l, _)| *l);
    assert_eq!(line_of_536366, Some(9));
}

fn shared(name: &str) -> Option<std::path::PathBuf> {
    let p = Path::new("/work/shared/data").join(name);
    p.exists().then_some(p)
}

#[test]
#[ignore = "reads the full public files in /work/shared/data (about 1 minute)"]
fn the_full_cdnow_master_file_has_69659_rows_and_23570_people() {
    let Some(path) = shared("cdnow/CDNOW_master.txt") else {
        return;
    };
    let m = preset(
        Preset::Transactions,
        &[("delimiter", "whitespace"), ("currency", "USD")],
    );
    let (c, r) = report(&path, &m);
    assert!(
        c.rejected.is_empty(),
        "{:?}",
        &c.rejected[..c.rejected.len().min(5)]
    );
    assert_eq!(r.rows, 69_659);
    assert_eq!(c.events.len(), 69_659);
    let people: BTreeSet<&str> = c.events.iter().map(|(_, e)| e.person.as_str()).collect();
    assert_eq!(people.len(), 23_570);
}

#[test]
#[ignore = "reads the full public files in /work/shared/data (about 1 minute)"]
fn the_full_cdnow_sample_file_has_6919_rows_and_2357_people() {
    let Some(path) = shared("cdnow/CDNOW_sample.txt") else {
        return;
    };
    let m = preset(
        Preset::Transactions,
        &[
            ("delimiter", "whitespace"),
            ("header", "false"),
            (
                "columns",
                "customer_id,sample_id,date,number_of_cds,dollar_value",
            ),
        ],
    );
    let (c, r) = report(&path, &m);
    assert!(
        c.rejected.is_empty(),
        "{:?}",
        &c.rejected[..c.rejected.len().min(5)]
    );
    assert_eq!(r.rows, 6_919);
    let people: BTreeSet<&str> = c.events.iter().map(|(_, e)| e.person.as_str()).collect();
    assert_eq!(people.len(), 2_357);
}

#[test]
#[ignore = "reads the full public files in /work/shared/data (about 1 minute)"]
fn the_full_online_retail_file_has_541909_rows_and_4372_customers() {
    let Some(gz) = shared("online-retail/online_retail.csv.gz") else {
        return;
    };
    // The crate has no gzip reader; gunzip to a temporary file with the system's gzip.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online_retail.csv");
    let out = std::fs::File::create(&path).unwrap();
    let ok = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .stdout(out)
        .status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("gzip not available: skipped");
        return;
    }
    let m = preset(Preset::Transactions, &[("currency", "GBP")]);
    let (c, r) = report(&path, &m);
    assert!(
        c.rejected.is_empty(),
        "{:?}",
        &c.rejected[..c.rejected.len().min(5)]
    );
    assert_eq!(r.rows, 541_909);
    assert_eq!(r.skipped_total(), 135_080, "rows without CustomerID");
    let people: BTreeSet<&str> = c.events.iter().map(|(_, e)| e.person.as_str()).collect();
    assert_eq!(people.len(), 4_372);
    assert_eq!(c.events.len(), 22_190, "invoices with a customer");
}
