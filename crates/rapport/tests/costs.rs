//! Hidden costs on the command line: `rapport catalogue import/list`, `rapport costs` and the
//! card's section, on a ledger of its own, with figures worked out by hand.

mod common;

use std::path::{Path, PathBuf};

use common::{Ledger, stderr, stdout};
use serde_json::Value;

/// Online Retail's shape: a sale, a cancellation, postage (not in the catalogue), a product
/// without a water figure, and a row without a customer (skipped by the import).
const ORDERS: &str = "\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1001,MUG1,MUG,4,2011-01-10 10:00:00,2.50,c1,United Kingdom
1001,BAG1,BAG,2,2011-01-10 10:00:00,1.00,c1,United Kingdom
1001,POST,POSTAGE,1,2011-01-10 10:00:00,18.00,c1,United Kingdom
C1002,MUG1,MUG,-1,2011-02-03 09:00:00,2.50,c1,United Kingdom
1003,BAG1,BAG,10,2011-02-04 12:00:00,1.00,c2,United Kingdom
1004,MUG1,MUG,3,2011-02-05 12:00:00,2.50,,United Kingdom
";

const FACTORS: &str = "factor,unit,source\nco2e_kg,kg CO2e,hand-made test figures\nwater_l,litres,hand-made test figures\n";
const PRODUCTS: &str =
    "product,name,co2e_kg,water_l\nMUG1,<script>alert(1)</script> mug,0.9,4\nBAG1,Bag,0.5,\n";

fn ledger_with_orders() -> Ledger {
    let l = Ledger::new();
    let p = l.write("orders.csv", ORDERS.as_bytes());
    let out = l.run(&[
        "import",
        p.to_str().unwrap(),
        "--preset",
        "transactions",
        "--set",
        "currency=GBP",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    l
}

fn import_catalogue(l: &Ledger, products: &str, factors: &str) -> std::process::Output {
    let p = l.write("products.csv", products.as_bytes());
    let f = l.write("factors.csv", factors.as_bytes());
    l.run(&[
        "catalogue",
        "import",
        p.to_str().unwrap(),
        "--factors",
        f.to_str().unwrap(),
    ])
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

#[test]
fn costs_are_netted_and_unmatched_lines_counted_as_worked_out_by_hand() {
    let l = ledger_with_orders();
    let out = import_catalogue(&l, PRODUCTS, FACTORS);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 products (2 with figures, 0 without), 2 factors"),
        "{}",
        stdout(&out)
    );
    let r = json(&l.run(&["costs", "--json"]));
    let t = &r["total"];
    // Lines: 3 + 1 + 1 (the row without a customer is not in the ledger).
    assert_eq!(t["lines"], 5);
    assert_eq!(t["unmatched_lines"], 1);
    assert_eq!(t["net_quantity"], 4 + 2 + 1 - 1 + 10);
    // 4×2.50 + 2×1 + 18 − 2.50 + 10×1
    assert_eq!(t["money"][0]["amount"], "37.50");
    assert_eq!(t["money"][0]["currency"], "GBP");
    // co2e: mugs (4 − 1) × 0.9 + bags (2 + 10) × 0.5 = 2.7 + 6 = 8.7 over 4 lines.
    assert!(close(&t["costs"][0]["total"], 8.7), "{}", t["costs"][0]);
    assert_eq!(t["costs"][0]["lines"], 4);
    // water: only mugs have a figure: 3 × 4 = 12 over 2 lines; the 2 bag lines are missing.
    assert!(close(&t["costs"][1]["total"], 12.0), "{}", t["costs"][1]);
    assert_eq!(t["costs"][1]["lines"], 2);
    assert_eq!(t["costs"][1]["missing_lines"], 2);
    assert_eq!(
        (r["orders"].as_u64(), r["returns"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(r["unmatched"][0]["product"], "POST");
    assert_eq!(r["unmatched"][0]["in_catalogue"], false);
    assert_eq!(r["unmatched"][0]["money"][0]["amount"], "18.00");

    let r = json(&l.run(&["costs", "--by", "month", "--json"]));
    let months: Vec<(&str, f64)> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap(),
                g["costs"][0]["total"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months.len(), 2);
    // January: 4 × 0.9 + 2 × 0.5; February: −0.9 + 10 × 0.5.
    assert_eq!(months[0].0, "2011-01");
    assert!((months[0].1 - 4.6).abs() < 1e-9);
    assert_eq!(months[1].0, "2011-02");
    assert!((months[1].1 - 4.1).abs() < 1e-9);

    let r = json(&l.run(&["costs", "--by", "person", "--json"]));
    assert_eq!(r["groups"][0]["key"], "c2");
    assert!(close(&r["groups"][0]["costs"][0]["total"], 5.0));
    assert!(close(&r["groups"][1]["costs"][0]["total"], 3.7));

    let r = json(&l.run(&["costs", "--by", "product", "--limit", "1", "--json"]));
    assert_eq!(r["group_count"], 3);
    assert_eq!(r["groups"].as_array().unwrap().len(), 1);
    assert_eq!(r["groups"][0]["key"], "BAG1");
}

#[test]
fn the_summary_and_tables_print_the_figures_and_the_unmatched_products() {
    let l = ledger_with_orders();
    assert!(import_catalogue(&l, PRODUCTS, FACTORS).status.success());
    let out = l.run(&["costs"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("co2e_kg"), "{text}");
    assert!(text.contains("8.7"), "{text}");
    assert!(
        text.contains("Lines matched to the catalogue: 4 of 5; unmatched: 1"),
        "{text}"
    );
    assert!(text.contains("POST"), "{text}");
    assert!(text.contains("not in the catalogue"), "{text}");
    let out = l.run(&["costs", "--by", "order"]);
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.starts_with("Order ")), "{text}");
    assert!(text.contains("C1002"), "{text}");
    let out = l.run(&["costs", "--by", "customer"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("customer"), "{}", stderr(&out));
}

#[test]
fn costs_without_a_catalogue_say_how_to_import_one() {
    let l = ledger_with_orders();
    let out = l.run(&["costs"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("rapport catalogue import products.csv --factors factors.csv"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_catalogue_names_file_line_and_field_and_keeps_the_old_one() {
    let l = ledger_with_orders();
    assert!(import_catalogue(&l, PRODUCTS, FACTORS).status.success());
    let out = import_catalogue(
        &l,
        "product,co2e_kg,xyz\nA,1,2\n",
        "factor,unit,source\nco2e_kg,kg,x\n",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "products.csv:1: field `xyz`: unknown factor column; declared factors are co2e_kg"
        ),
        "{}",
        stderr(&out)
    );
    let out = import_catalogue(
        &l,
        "product,co2e_kg\nA,1\nB,x\nA,2\n",
        "factor,unit,source\nco2e_kg,kg,x\n",
    );
    let err = stderr(&out);
    assert!(
        err.contains("products.csv:3: field `co2e_kg`: \"x\" is not a number"),
        "{err}"
    );
    assert!(
        err.contains("products.csv:4: field `product`: \"A\" is listed twice (first on line 2)"),
        "{err}"
    );
    let out = import_catalogue(
        &l,
        "product,co2e_kg\nA,1\n",
        "factor,unit,source\nco2e_kg,,x\n",
    );
    assert!(
        stderr(&out).contains("factors.csv:2: field `unit`: is empty"),
        "{}",
        stderr(&out)
    );
    let list = json(&l.run(&["catalogue", "list", "--json"]));
    assert_eq!(
        list["products"].as_array().unwrap().len(),
        2,
        "the old catalogue is intact"
    );
    assert_eq!(list["products"][1]["per_unit"]["water_l"], Value::Null);
}

#[test]
fn the_card_shows_what_the_relationship_cost_that_no_invoice_shows() {
    let l = ledger_with_orders();
    let out = l.run(&["card", "c1"]);
    assert!(
        stdout(&out).contains("no product catalogue imported"),
        "{}",
        stdout(&out)
    );
    assert!(import_catalogue(&l, PRODUCTS, FACTORS).status.success());
    let out = l.run(&["card", "c1"]);
    let text = stdout(&out);
    assert!(
        text.contains("WHAT THIS RELATIONSHIP COST THAT NO INVOICE SHOWS"),
        "{text}"
    );
    // c1: mugs 3 × 0.9 + bags 2 × 0.5 = 3.7 kg; water 3 × 4 = 12 l; postage not counted.
    assert!(
        text.contains("3.7 kg CO2e (co2e_kg), 12 litres (water_l) over 4 order lines"),
        "{text}"
    );
    assert!(
        text.contains("1 line of products without figures not counted"),
        "{text}"
    );
    let card = json(&l.run(&["card", "c1", "--json"]));
    assert!(close(&card["hidden_costs"]["costs"][0]["total"], 3.7));
    assert_eq!(card["hidden_costs"]["unmatched_lines"], 1);
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data")
        .join(name)
}

#[test]
fn the_online_retail_extract_costs_what_an_independent_computation_says() {
    let l = Ledger::new();
    let out = l.run(&[
        "import",
        data("online_retail_head.csv").to_str().unwrap(),
        "--preset",
        "transactions",
        "--set",
        "currency=GBP",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = data("online_retail_catalogue");
    let out = l.run(&[
        "catalogue",
        "import",
        dir.join("products.csv").to_str().unwrap(),
        "--factors",
        dir.join("factors.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same figures as crates/import/tests/catalogue.rs, computed there with Python.
    let r = json(&l.run(&["costs", "--json"]));
    let t = &r["total"];
    assert_eq!(
        (t["lines"].as_u64(), t["unmatched_lines"].as_u64()),
        (Some(648), Some(3))
    );
    assert_eq!(t["money"][0]["amount"], "17581.38");
    assert!((t["costs"][0]["total"].as_f64().unwrap() - 5202.36).abs() < 1e-6);
    assert!((t["costs"][2]["total"].as_f64().unwrap() - 314_025.0).abs() < 1e-6);
}
