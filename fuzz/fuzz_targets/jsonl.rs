//! The JSON Lines reader on any bytes: it may reject every line, but never panic, and every
//! line it reads is either an event or a rejected row.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rapport_import::{Collect, jsonl};

fuzz_target!(|data: &[u8]| {
    let mut sink = Collect::default();
    jsonl::read(Path::new("fuzz.jsonl"), data, &mut sink).expect("reading from memory never fails");
    let lines = data.split(|b| *b == b'\n').count();
    assert!(sink.events.len() + sink.rejected.len() <= lines);
    // What was accepted is valid: its canonical form is accepted again, unchanged.
    for (_, e) in &sink.events {
        let again = rapport_domain::NewEvent::from_json(&e.to_json()).expect("round trip");
        assert_eq!(&again, e);
    }
});
