//! `rapport fit --covariates` as a person uses it: Pareto/NBD and BG/NBD with static
//! covariates on the CDNOW summary with a made-up file of attributes, on a ledger, and every
//! way the covariates file can be wrong, each a named error.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data")
        .join(name)
}

fn summary_path() -> String {
    data("cdnow_customers_summary.csv")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A folder for a ledger (made only by the tests that need one).
struct Dir(common::Ledger);

impl Dir {
    fn new() -> Dir {
        Dir(common::Ledger::empty())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.0.run(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rapport {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail; returns its error message.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "rapport {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("NaN"), "{err}");
        err
    }

    fn write(&self, name: &str, content: &str) -> String {
        let p = self.0.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_owned()
    }

    /// Runs `rapport fit` on the CDNOW summary with these covariates and more arguments.
    fn fit_summary(&self, model: &str, covariates: &str, more: &[&str]) -> Output {
        let summary = summary_path();
        let mut args = vec![
            "fit",
            "--model",
            model,
            "--summary",
            &summary,
            "--covariates",
            covariates,
        ];
        args.extend_from_slice(more);
        self.run(&args)
    }
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Made-up attributes for `ids`: `member` (binary) and `age` (spread out, deterministic).
fn attributes<'a>(id_column: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let mut s = format!("{id_column},member,age\n");
    for (k, id) in ids.enumerate() {
        let member = u8::from(k % 3 == 0);
        let age = 20.0 + ((k * 7919) % 500) as f64 / 10.0;
        s.push_str(&format!("{id},{member},{age}\n"));
    }
    s
}

/// Attributes for the CDNOW summary's 2,357 people (ids 1 to 2357).
fn cdnow_attributes() -> String {
    let ids: Vec<String> = (1..=2357).map(|i| i.to_string()).collect();
    attributes("ID", ids.iter().map(String::as_str))
}

fn ok_json(d: &Dir, model: &str, file: &str, more: &[&str]) -> Vec<Value> {
    let out = d.fit_summary(model, file, &[&["--json"], more].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&String::from_utf8(out.stdout).unwrap())
}

fn err(d: &Dir, model: &str, file: &str, more: &[&str]) -> String {
    let out = d.fit_summary(model, file, more);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn pareto_nbd_with_covariates_on_the_cdnow_summary_names_each_coefficient_by_column_and_process() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &cdnow_attributes());
    let all = ok_json(&d, "pareto-nbd", &file, &["--predict", "39"]);
    let fit = &all[0];
    assert_eq!(fit["model"], "pareto-nbd");
    assert_eq!(fit["convergence"]["converged"], true);
    assert_eq!(fit["people"], 2357);
    assert_eq!(fit["stored"], false);
    for process in ["life", "trans"] {
        let names: Vec<&str> = fit["coefficients"][process]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["member", "age"], "{process}");
        for c in fit["coefficients"][process].as_array().unwrap() {
            assert!(c["std_error"].as_f64().unwrap() > 0.0, "{c}");
        }
    }
    // Made-up attributes explain little: r and s stay near the plain fit's.
    let r = fit["params"]["r"].as_f64().unwrap();
    let s = fit["params"]["s"].as_f64().unwrap();
    assert!(
        (r / 0.5534 - 1.0).abs() < 0.2 && (s / 0.6061 - 1.0).abs() < 0.3,
        "{fit}"
    );
    // Each person's figures with their 90 % intervals.
    assert_eq!(all.len(), 1 + 2357);
    assert_eq!(all[1]["id"], "1");
    for row in &all[1..] {
        let p = row["p_alive"].as_f64().unwrap();
        let i = &row["p_alive_interval"];
        assert!(
            i["low"].as_f64().unwrap() <= p && p <= i["high"].as_f64().unwrap(),
            "{row}"
        );
        assert!(
            row["expected_purchases_interval"]["high"].is_number(),
            "{row}"
        );
    }
}

#[test]
fn bgnbd_with_covariates_prints_parameters_coefficients_convergence_and_that_nothing_is_stored() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &cdnow_attributes());
    let out = d.fit_summary("bgnbd", &file, &["--predict", "39"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "BG/NBD with covariates fitted on 2357 people",
        "base parameters",
        "lifetime coefficients",
        "purchase coefficients (positive: more purchases while alive)",
        "member",
        "age",
        "converged after",
        "not stored",
        "90 % intervals",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn life_and_trans_choose_which_columns_act_on_which_process() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &cdnow_attributes());
    let fit = &ok_json(&d, "bgnbd", &file, &["--life", "member", "--trans", "none"])[0];
    assert_eq!(fit["coefficients"]["life"].as_array().unwrap().len(), 1);
    assert_eq!(fit["coefficients"]["life"][0]["name"], "member");
    assert_eq!(fit["coefficients"]["trans"].as_array().unwrap().len(), 0);
    let fit = &ok_json(&d, "bgnbd", &file, &["--trans", "age , member"])[0];
    assert_eq!(fit["coefficients"]["trans"][0]["name"], "age");
    assert_eq!(fit["coefficients"]["life"].as_array().unwrap().len(), 2);
}

#[test]
fn a_person_missing_from_the_covariates_is_named_with_their_summary_line() {
    let d = Dir::new();
    let text: String = cdnow_attributes()
        .lines()
        .filter(|l| !l.starts_with("17,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = d.write("attributes.csv", &text);
    let e = err(&d, "bgnbd", &file, &[]);
    assert!(e.contains("attributes.csv has no row for person 17"), "{e}");
    assert!(e.contains("cdnow_customers_summary.csv line 18"), "{e}");
}

#[test]
fn a_duplicate_id_names_both_lines() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &format!("{}5,1,30\n", cdnow_attributes()));
    let e = err(&d, "bgnbd", &file, &[]);
    assert!(
        e.contains("attributes.csv line 2359, column ID: person 5 appears twice (first on line 6)"),
        "{e}"
    );
}

#[test]
fn a_non_number_and_an_empty_cell_name_the_line_and_column() {
    let d = Dir::new();
    let text = cdnow_attributes()
        .replacen("\n3,0,", "\n3,0,x", 1)
        .replacen("3,0,x", "3,0,old", 1);
    let file = d.write("attributes.csv", &text);
    let e = err(&d, "pareto-nbd", &file, &[]);
    assert!(
        e.contains("attributes.csv line 4, column age: \"old"),
        "{e}"
    );
    assert!(e.contains("is not a number"), "{e}");

    let text = cdnow_attributes().replacen("\n3,0,", "\n3,,", 1);
    let file = d.write("empty.csv", &text);
    let e = err(&d, "pareto-nbd", &file, &[]);
    assert!(
        e.contains("empty.csv line 4, column member: the cell is empty"),
        "{e}"
    );
}

#[test]
fn a_constant_column_is_named_as_one_that_cannot_be_estimated() {
    let d = Dir::new();
    let mut text = String::from("ID,member,country\n");
    for i in 1..=2357 {
        text.push_str(&format!("{i},{},7\n", i % 2));
    }
    let file = d.write("attributes.csv", &text);
    let e = err(&d, "bgnbd", &file, &[]);
    assert!(
        e.contains("attributes.csv, column country: every person fitted has the value 7, so its effect cannot be estimated"),
        "{e}"
    );
    // Left out of both processes, the rest fits.
    let fit = &ok_json(
        &d,
        "bgnbd",
        &file,
        &["--life", "member", "--trans", "member"],
    )[0];
    assert_eq!(fit["convergence"]["converged"], true);
}

#[test]
fn columns_that_say_the_same_thing_are_named_as_ones_that_cannot_be_told_apart() {
    let d = Dir::new();
    let mut text = String::from("ID,age,months\n");
    for i in 1..=2357 {
        let age = 20 + i % 50;
        text.push_str(&format!("{i},{age},{}\n", 12 * age + 6));
    }
    let file = d.write("attributes.csv", &text);
    let e = err(&d, "pareto-nbd", &file, &["--life", "none"]);
    assert!(
        e.contains("attributes.csv: covariate months of the purchase process is (nearly) a combination of age and a constant"),
        "{e}"
    );
}

#[test]
fn unknown_columns_in_life_or_trans_are_named_with_the_files_columns() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &cdnow_attributes());
    let e = err(&d, "bgnbd", &file, &["--life", "income"]);
    assert!(
        e.contains("--life income: ")
            && e.contains("has no covariate column income; its covariate columns are: member, age"),
        "{e}"
    );
    let e = err(&d, "bgnbd", &file, &["--trans", "member,ID"]);
    assert!(e.contains("--trans ID: "), "{e}");
    let e = err(&d, "bgnbd", &file, &["--life", "none", "--trans", "none"]);
    assert!(e.contains("leave no covariates"), "{e}");
}

#[test]
fn covariates_with_another_model_or_with_a_holdout_or_compare_are_refused() {
    let d = Dir::new();
    let file = d.write("attributes.csv", &cdnow_attributes());
    let e = err(&d, "mbgnbd", &file, &[]);
    assert!(
        e.contains("--covariates works with --model pareto-nbd or bgnbd") && e.contains("mbgnbd"),
        "{e}"
    );
    let e = d.fails(&[
        "fit",
        "--model",
        "bgnbd",
        "--covariates",
        &file,
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
    ]);
    assert!(
        e.contains("--holdout-end cannot be used with --covariates"),
        "{e}"
    );
    let e = d.fails(&[
        "fit",
        "--compare",
        "--covariates",
        &file,
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
    ]);
    assert!(e.contains("--covariates") && e.contains("--compare"), "{e}");
    let e = d.fails(&["fit", "--model", "bgnbd", "--life", "member"]);
    assert!(e.contains("--covariates"), "{e}");
}

#[test]
fn a_covariates_file_without_an_id_column_says_which_names_it_looks_for() {
    let d = Dir::new();
    let file = d.write("attributes.csv", "who,member\n1,0\n2,1\n");
    let e = err(&d, "bgnbd", &file, &[]);
    assert!(
        e.contains(
            "attributes.csv has no id column (ID, customer_id, cust, customer, person, person_id)"
        ),
        "{e}"
    );
}

#[test]
fn on_the_ledger_people_are_matched_by_their_ids_and_nothing_is_stored() {
    let d = Dir::new();
    d.ok(&["init"]);
    let sample = data("CDNOW_sample.txt");
    d.ok(&[
        "import",
        sample.to_str().unwrap(),
        "--preset",
        "transactions",
        "--set",
        "delimiter=whitespace",
        "--set",
        "header=false",
        "--set",
        "columns=customer_id,sample_id,date,number_of_cds,dollar_value",
        "--set",
        "currency=USD",
    ]);
    let raw = std::fs::read_to_string(&sample).unwrap();
    let mut ids: Vec<&str> = raw
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    ids.dedup();
    let file = d.write("people.csv", &attributes("person", ids.iter().copied()));
    let out = d.ok(&[
        "fit",
        "--model",
        "bgnbd",
        "--calibration-end",
        "1997-09-30",
        "--covariates",
        &file,
        "--json",
    ]);
    let fit = &lines(&out)[0];
    assert_eq!(fit["convergence"]["converged"], true, "{fit}");
    assert_eq!(fit["people"], 2357);
    assert_eq!(fit["stored"], false);
    assert!(fit["source"]["ledger"].is_string());

    // A person of the ledger missing from the file is named.
    let short: Vec<&str> = ids.iter().copied().filter(|id| *id != "00004").collect();
    let file = d.write("short.csv", &attributes("person", short.into_iter()));
    let e = d.fails(&[
        "fit",
        "--model",
        "pareto-nbd",
        "--calibration-end",
        "1997-09-30",
        "--covariates",
        &file,
    ]);
    assert!(e.contains("short.csv has no row for person 00004"), "{e}");

    // `--covariates ledger` takes what the ledger holds: every third person buys for an
    // organisation, and everyone's first purchase day has its amount.
    let identified: String = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let org = if k % 3 == 0 { r#","org":"acme""# } else { "" };
            format!(
                "{{\"source\":\"crm\",\"id\":\"p{id}\",\"kind\":\"person.identified\",\"person\":\"{id}\",\"at\":\"1997-01-01T00:00:00Z\",\"name\":\"n{id}\"{org}}}\n"
            )
        })
        .collect();
    let file = d.write("people.jsonl", &identified);
    d.ok(&["import", &file]);
    let out = d.ok(&[
        "fit",
        "--model",
        "bgnbd",
        "--calibration-end",
        "1997-09-30",
        "--covariates",
        "ledger",
        "--life",
        "business",
        "--trans",
        "business,log_first_amount",
        "--json",
    ]);
    let fit = &lines(&out)[0];
    assert_eq!(fit["convergence"]["converged"], true, "{fit}");
    assert_eq!(fit["people"], 2357);
    assert_eq!(fit["covariates"]["life"], serde_json::json!(["business"]));
    assert!(
        fit["covariates"]["file"]
            .as_str()
            .unwrap()
            .starts_with("the ledger's covariates as of 1997-09-30"),
        "{fit}"
    );
    // A column the ledger does not hold is named with those it does.
    let e = d.fails(&[
        "fit",
        "--model",
        "bgnbd",
        "--calibration-end",
        "1997-09-30",
        "--covariates",
        "ledger",
        "--life",
        "age",
    ]);
    assert!(e.contains("has no covariate column age"), "{e}");
    assert!(e.contains("business"), "{e}");
}
