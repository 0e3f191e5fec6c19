//! The CSV mapping reader on any bytes. The first byte chooses the mapping: one of the three
//! presets (the rest of the input is the CSV file), or a mapping file of its own (the rest
//! is the TOML, a NUL, then the CSV). A mapping may be refused and rows rejected, but
//! nothing panics, and only a file-wide problem stops a read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rapport_import::{Collect, ImportError, Mapping, Preset};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (mapping, csv) = match choice % 4 {
        i @ 0..=2 => (Mapping::preset(Preset::ALL[usize::from(i)]), rest),
        _ => {
            let Some(nul) = rest.iter().position(|b| *b == 0) else {
                return;
            };
            let Ok(toml) = std::str::from_utf8(&rest[..nul]) else {
                return;
            };
            match Mapping::from_toml(toml, Path::new("fuzz.toml")) {
                Ok(m) => (m, &rest[nul + 1..]),
                Err(_) => return,
            }
        }
    };
    let mut sink = Collect::default();
    match mapping.read_with_report(Path::new("fuzz.csv"), csv, &mut sink) {
        Ok(report) => {
            assert_eq!(report.events, sink.events.len() as u64);
            assert_eq!(report.rejected, sink.rejected.len() as u64);
        }
        // A missing column or a CSV the parser cannot split stops the file, by name.
        Err(ImportError::File(_) | ImportError::Mapping(_)) => {}
        Err(e) => panic!("reading from memory failed: {e}"),
    }
});
