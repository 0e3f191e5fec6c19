//! Helpers shared by the importer's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rapport_import::mapping::ReadReport;
use rapport_import::{Collect, Format, Mapping, Preset, read_file};
use serde_json::{Map, Value};

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A preset with `--set` overrides applied.
pub fn preset(p: Preset, sets: &[(&str, &str)]) -> Mapping {
    let mut m = Mapping::preset(p);
    for (k, v) in sets {
        m.set(k, v).unwrap_or_else(|e| panic!("--set {k}={v}: {e}"));
    }
    m
}

/// Reads a file the way the command line does.
pub fn import(path: &Path, m: &Mapping) -> Collect {
    let mut sink = Collect::default();
    read_file(path, &Format::Csv(Box::new(m.clone())), &mut sink).unwrap_or_else(|e| panic!("{e}"));
    sink
}

/// Reads text given inline, as if it were the file `name`.
pub fn import_text(name: &str, text: &[u8], m: &Mapping) -> (Collect, ReadReport) {
    let mut sink = Collect::default();
    let report = m
        .read_with_report(Path::new(name), text, &mut sink)
        .unwrap_or_else(|e| panic!("{e}"));
    (sink, report)
}

pub fn report(path: &Path, m: &Mapping) -> (Collect, ReadReport) {
    let file = std::fs::File::open(path).unwrap();
    let mut sink = Collect::default();
    let report = m
        .read_with_report(path, std::io::BufReader::new(file), &mut sink)
        .unwrap_or_else(|e| panic!("{e}"));
    (sink, report)
}

/// The events in canonical JSON, for easy assertions.
pub fn json(c: &Collect) -> Vec<Map<String, Value>> {
    c.events.iter().map(|(_, e)| e.to_json()).collect()
}

pub fn s<'a>(e: &'a Map<String, Value>, key: &str) -> &'a str {
    e.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string `{key}` in {e:?}"))
}

pub fn mapping(toml: &str) -> Mapping {
    Mapping::from_toml(toml, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"))
}
