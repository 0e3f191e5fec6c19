//! Writes the CDNOW calibration/holdout chart (BG/NBD and Pareto/NBD) as SVG.
//!
//! It exists so a person can look at what `holdout::svg` draws on real data:
//! the 1/10 CDNOW sample, 39 weeks of calibration and 39 of holdout.
//!
//! Usage: cargo run --release -p rapport-models --example holdout_svg -- OUT_DIR

use std::collections::BTreeMap;

use rapport_models::summary::days_from_civil;
use rapport_models::{bgnbd, holdout, pareto_nbd};

const SAMPLE: &str = include_str!("../tests/data/CDNOW_sample.txt");

fn main() {
    let out_dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let mut people: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
    for line in SAMPLE.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(id), Some(date), Some(dollars)) = (f.get(1), f.get(2), f.get(4)) else {
            continue;
        };
        let (Ok(id), Ok(date), Ok(dollars)) = (
            id.parse::<u32>(),
            date.parse::<i64>(),
            dollars.parse::<f64>(),
        ) else {
            continue;
        };
        let day = days_from_civil(date / 10000, (date / 100 % 100) as u32, (date % 100) as u32);
        people.entry(id).or_default().push((day as f64, dollars));
    }
    let people: Vec<_> = people.into_values().collect();
    let cal = days_from_civil(1997, 9, 30) as f64;
    let data = match holdout::prepare(&people, cal, cal + 273.0, 7.0) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let (Ok(bg), Ok(pn)) = (
        bgnbd::fit(&data.calibration),
        pareto_nbd::fit(&data.calibration),
    ) else {
        eprintln!("fit failed");
        std::process::exit(1);
    };
    for (name, report) in [
        ("bgnbd", holdout::check(&bg.params, &data)),
        ("pareto_nbd", holdout::check(&pn.params, &data)),
    ] {
        let path = format!("{out_dir}/cdnow_holdout_{name}.svg");
        if let Err(e) = std::fs::write(&path, holdout::svg(&report)) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("{path}: correlation {:?}", report.correlation);
    }
}
