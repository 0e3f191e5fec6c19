//! The product catalogue's CSV files: the Online Retail fixture, hidden costs of real order
//! lines checked against figures computed independently (Python, see the comments), and every
//! kind of bad input with its file, line and field.

mod common;

use std::path::Path;

use common::{data, import, preset};
use domain::costs::{By, Catalogue, Figures, Tally};
use rapport_import::Preset;
use rapport_import::catalogue::{CatalogueError, parse_factors, parse_products, read};

fn fixture() -> Catalogue {
    let dir = data("online_retail_catalogue");
    read(&dir.join("products.csv"), &dir.join("factors.csv")).unwrap_or_else(|e| panic!("{e}"))
}

const FACTORS: &str = "factor,unit,source\nco2e_kg,kg CO2e,test\nwater_l,litres,test\n";

/// The error lines of reading `products` against [`FACTORS`].
fn product_errors(products: &str) -> Vec<String> {
    let factors = parse_factors(Path::new("factors.csv"), FACTORS.as_bytes()).unwrap();
    match parse_products(Path::new("products.csv"), products.as_bytes(), &factors) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn factor_errors(factors: &str) -> Vec<String> {
    match parse_factors(Path::new("factors.csv"), factors.as_bytes()) {
        Ok(f) => panic!("accepted: {f:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn cost(f: &Figures, factor: &str) -> f64 {
    f.costs.iter().find(|c| c.factor == factor).unwrap().total
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn the_online_retail_catalogue_lists_every_stock_code_and_leaves_non_products_without_figures() {
    let c = fixture();
    assert_eq!(c.factors().len(), 3);
    assert_eq!(c.products().len(), 4070);
    assert!(c.factors()[0].source.contains("not measured data"));
    for code in [
        "POST",
        "DOT",
        "M",
        "D",
        "C2",
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",
    ] {
        assert!(c.product(code).unwrap().has_no_factors(), "{code}");
    }
    let heart = c.product("85123A").unwrap();
    assert_eq!(
        heart.name.as_deref(),
        Some("WHITE HANGING HEART T-LIGHT HOLDER")
    );
    assert!(!heart.has_no_factors());
}

#[test]
fn the_hidden_costs_of_the_online_retail_extract_match_an_independent_computation() {
    // Expected figures from a short Python script over the same two files (rows with a
    // customer, quantities of C-invoices subtracted, empty figures skipped):
    // 648 lines, 3 unmatched (POST twice, D once), 8,735 units, 17,581.38 GBP,
    // co2e 5,202.36 kg over 645 lines, water 24,988.2 l over 328 lines (317 missing),
    // packaging 314,025 g.
    let c = fixture();
    let m = preset(Preset::Transactions, &[("currency", "GBP")]);
    let events = import(&data("online_retail_head.csv"), &m);
    let mut t = Tally::new(&c, Some(By::Month));
    for (_, e) in &events.events {
        t.event(Some(&e.person), e.at, &e.body);
    }
    let r = t.finish(None);
    let f = &r.total;
    assert_eq!(r.orders, 47);
    assert_eq!((f.lines, f.unmatched_lines), (648, 3));
    assert_eq!(f.net_quantity, 8735);
    assert_eq!(f.money[0].to_string(), "17581.38 GBP");
    assert!(close(cost(f, "co2e_kg"), 5202.36), "{}", cost(f, "co2e_kg"));
    assert!(close(cost(f, "water_l"), 24988.2), "{}", cost(f, "water_l"));
    assert!(close(cost(f, "packaging_g"), 314025.0));
    assert_eq!(f.costs[1].lines, 328);
    assert_eq!(f.costs[1].missing_lines, 317);
    let unmatched: Vec<(&str, u64)> = r
        .unmatched
        .iter()
        .map(|u| (u.product.as_str(), u.lines))
        .collect();
    assert_eq!(unmatched, [("POST", 2), ("D", 1)]);
    assert_eq!(
        r.groups.len(),
        1,
        "the extract's customer rows are all December 2010"
    );
    assert_eq!(r.groups[0].key, "2010-12");
}

#[test]
fn a_semicolon_file_with_a_byte_order_mark_and_decimal_commas_is_read() {
    let factors = parse_factors(
        Path::new("factors.csv"),
        "\u{feff}Factor;Unit;Source\nco2e_kg;kg CO2e;\"study; 2024\"\n".as_bytes(),
    )
    .unwrap();
    assert_eq!(factors[0].source, "study; 2024");
    let products = parse_products(
        Path::new("products.csv"),
        "\u{feff}SKU;Description;CO2e_kg\nA1;\"Mug, blue\";0,25\nA2;Plate;\n".as_bytes(),
        &factors,
    )
    .unwrap();
    assert_eq!(products[0].name.as_deref(), Some("Mug, blue"));
    assert_eq!(products[0].values[0].unwrap().get(), 0.25);
    assert_eq!(
        products[1].values[0], None,
        "an empty cell is unknown, not zero"
    );
}

#[test]
fn an_empty_column_without_a_name_is_ignored_but_a_value_in_it_is_an_error() {
    let factors = parse_factors(Path::new("factors.csv"), FACTORS.as_bytes()).unwrap();
    let products = parse_products(
        Path::new("products.csv"),
        b"product,co2e_kg,\r\nA,1,\r\nB,2,\r\n",
        &factors,
    )
    .unwrap();
    assert_eq!(products.len(), 2);
    assert_eq!(products[1].values[0].unwrap().get(), 2.0);
    let e = product_errors("product,co2e_kg,\nA,1,\nB,2,7\n");
    assert_eq!(
        e,
        ["products.csv:3: \"7\" is in column 3, which has no name in the header"]
    );
}

#[test]
fn a_factor_without_a_unit_is_an_error_naming_line_and_field() {
    let e = factor_errors("factor,unit,source\nco2e_kg,kg,x\nwater_l,,x\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("factors.csv:3: field `unit`: is empty"),
        "{e:?}"
    );
}

#[test]
fn a_factor_declared_twice_is_an_error() {
    let e = factor_errors("factor,unit,source\nco2e_kg,kg,x\nCO2e_kg,kg,x\n");
    assert_eq!(
        e,
        ["factors.csv:3: field `factor`: \"CO2e_kg\" is declared twice (first on line 2)"]
    );
}

#[test]
fn a_factor_without_a_source_and_a_factors_file_without_a_unit_column_are_errors() {
    let e = factor_errors("factor,unit,source\nco2e_kg,kg,\n");
    assert!(
        e[0].starts_with("factors.csv:2: field `source`: is empty"),
        "{e:?}"
    );
    let e = factor_errors("factor,source\nco2e_kg,x\n");
    assert!(
        e[0].starts_with("factors.csv:1: field `unit`: column is missing"),
        "{e:?}"
    );
}

#[test]
fn a_non_numeric_factor_is_an_error_naming_line_and_field() {
    let e = product_errors("product,name,co2e_kg,water_l\nA,a,1,2\nB,b,abc,2\nC,c,1,1e9\n");
    assert_eq!(
        e,
        [
            "products.csv:3: field `co2e_kg`: \"abc\" is not a number",
            "products.csv:4: field `water_l`: \"1e9\" is not a number",
        ]
    );
}

#[test]
fn a_negative_factor_is_an_error() {
    let e = product_errors("product,co2e_kg\nA,-1.5\n");
    assert_eq!(
        e,
        [
            "products.csv:2: field `co2e_kg`: -1.5 is negative; a hidden cost per unit is zero or more"
        ]
    );
}

#[test]
fn a_duplicate_product_id_is_an_error_naming_both_lines() {
    let e = product_errors("product,co2e_kg\n85123A,1\nX,1\n85123A,2\n");
    assert_eq!(
        e,
        ["products.csv:4: field `product`: \"85123A\" is listed twice (first on line 2)"]
    );
}

#[test]
fn a_column_that_is_no_declared_factor_is_an_error_listing_the_factors() {
    let e = product_errors("product,name,co2e_kg,xyz\nA,a,1,2\n");
    assert_eq!(
        e,
        [
            "products.csv:1: field `xyz`: unknown factor column; declared factors are co2e_kg, water_l"
        ]
    );
}

#[test]
fn a_products_file_without_an_id_column_says_which_names_are_accepted() {
    let e = product_errors("name,co2e_kg\na,1\n");
    assert!(
        e[0].starts_with("products.csv:1: no product id column; name one of product, product_id"),
        "{e:?}"
    );
}

#[test]
fn every_bad_row_is_reported_at_once_and_nothing_is_read() {
    let e = product_errors("product,co2e_kg\n,1\nA,x\nB,1,2\nA,1\nA,2\n");
    assert_eq!(
        e,
        [
            "products.csv:2: field `product`: is empty; every product needs its id",
            "products.csv:3: field `co2e_kg`: \"x\" is not a number",
            "products.csv:4: has 3 cells; the header has 2",
            "products.csv:5: field `product`: \"A\" is listed twice (first on line 3)",
            "products.csv:6: field `product`: \"A\" is listed twice (first on line 3)",
        ]
    );
}

#[test]
fn reading_both_files_stops_at_the_first_file_with_errors_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let (p, f) = (
        dir.path().join("products.csv"),
        dir.path().join("factors.csv"),
    );
    std::fs::write(&f, "factor,unit,source\nco2e_kg,,x\n").unwrap();
    std::fs::write(&p, "product,co2e_kg\nA,1\n").unwrap();
    let Err(e @ CatalogueError::Invalid(_)) = read(&p, &f) else {
        panic!("accepted a factor without a unit")
    };
    let text = e.to_string();
    assert!(
        text.starts_with("the catalogue has 1 error; nothing was imported"),
        "{text}"
    );
    assert!(text.contains("factors.csv:2: field `unit`"), "{text}");
    let Err(CatalogueError::Io { .. }) = read(&dir.path().join("none.csv"), &f) else {
        panic!("read a missing file")
    };
}

#[test]
#[ignore = "reads the full public file in /work/shared/data (about 30 seconds)"]
fn the_hidden_costs_of_every_online_retail_customer_line_match_an_independent_computation() {
    let gz = Path::new("/work/shared/data/online-retail/online_retail.csv.gz");
    if !gz.exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("online_retail.csv");
    let out = std::fs::File::create(&path).unwrap();
    let ok = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(gz)
        .stdout(out)
        .status();
    if !ok.is_ok_and(|s| s.success()) {
        eprintln!("gzip not available: skipped");
        return;
    }
    let c = fixture();
    let m = preset(Preset::Transactions, &[("currency", "GBP")]);
    let events = import(&path, &m);
    let mut t = Tally::new(&c, None);
    for (_, e) in &events.events {
        t.event(Some(&e.person), e.at, &e.body);
    }
    let r = t.finish(None);
    // From the same Python script as above, over the 406,829 rows with a customer.
    let f = &r.total;
    assert_eq!(r.orders, 22_190);
    assert_eq!((f.lines, f.unmatched_lines), (406_829, 1_920));
    assert_eq!(f.net_quantity, 4_906_888);
    assert_eq!(f.money[0].to_string(), "8300065.814 GBP");
    assert!(close(cost(f, "co2e_kg"), 2_345_582.99));
    assert!(close(cost(f, "water_l"), 16_259_257.4));
    assert!(close(cost(f, "packaging_g"), 121_779_759.0));
    assert_eq!(r.unmatched.len(), 8);
    assert_eq!(r.unmatched[0].product, "POST");
    assert_eq!(r.unmatched[0].lines, 1_196);
}

mod properties {
    use std::path::Path;

    use proptest::prelude::*;
    use rapport_import::catalogue::{parse_factors, parse_products};

    proptest! {
        #[test]
        fn reading_any_bytes_never_panics(factors in proptest::collection::vec(any::<u8>(), 0..200),
                                          products in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(f) = parse_factors(Path::new("factors.csv"), &factors) {
                let _ = parse_products(Path::new("products.csv"), &products, &f);
            }
        }

        #[test]
        fn any_row_of_figures_is_read_back_exactly_or_refused_with_its_line(
            cells in proptest::collection::vec("[0-9a-z.,+-]{0,6}", 1..6)
        ) {
            let factors = parse_factors(Path::new("f.csv"), b"factor,unit,source\nk,kg,x\n").unwrap();
            let mut text = String::from("product,k\n");
            for (i, c) in cells.iter().enumerate() {
                text.push_str(&format!("P{i},\"{c}\"\n"));
            }
            match parse_products(Path::new("p.csv"), text.as_bytes(), &factors) {
                Ok(products) => {
                    prop_assert_eq!(products.len(), cells.len());
                    for (p, c) in products.iter().zip(&cells) {
                        match p.values[0] {
                            None => prop_assert!(c.is_empty()),
                            Some(v) => prop_assert_eq!(Some(v.get()), c.parse::<f64>().ok()),
                        }
                    }
                }
                Err(errors) => {
                    for e in errors {
                        prop_assert!(e.line >= 2 && e.field.as_deref() == Some("k"), "{e}");
                    }
                }
            }
        }
    }
}
