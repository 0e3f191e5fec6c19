//! The canonical JSON Lines reader: one event per line, validated by the domain.

use std::io::BufRead;
use std::path::Path;

use domain::NewEvent;

use crate::{ImportError, RowError, Sink, clip};

/// Reads JSON Lines into the sink. Blank lines are skipped; a line that is not UTF-8 is a
/// rejected row (the rest of the file is still read, so every problem is reported at once).
pub fn read(path: &Path, mut reader: impl BufRead, sink: &mut dyn Sink) -> Result<(), ImportError> {
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| ImportError::Io {
                file: path.to_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        if line_no.is_multiple_of(4096) {
            sink.progress(bytes);
        }
        let raw = match std::str::from_utf8(&buf) {
            Ok(s) => s,
            Err(e) => {
                let err = RowError {
                    file: path.to_owned(),
                    line: line_no,
                    field: None,
                    message: format!(
                        "not UTF-8 (invalid byte at column {}); save the file as UTF-8",
                        e.valid_up_to() + 1
                    ),
                    raw: Some(clip(&String::from_utf8_lossy(&buf))),
                };
                sink.reject(err).map_err(ImportError::Sink)?;
                continue;
            }
        };
        let text = raw.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        match NewEvent::from_json_line(text) {
            Ok(event) => sink.push(line_no, event).map_err(ImportError::Sink)?,
            Err(e) => {
                let err = RowError {
                    file: path.to_owned(),
                    line: line_no,
                    field: e.field,
                    message: e.message,
                    raw: Some(clip(text)),
                };
                sink.reject(err).map_err(ImportError::Sink)?;
            }
        }
    }
    sink.progress(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;

    fn run(input: &[u8]) -> Collect {
        let mut sink = Collect::default();
        read(Path::new("events.jsonl"), input, &mut sink).unwrap();
        sink
    }

    #[test]
    fn every_documented_example_imports() {
        let text = domain::examples::ALL.join("\n");
        let c = run(text.as_bytes());
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.events.len(), domain::examples::ALL.len());
    }

    #[test]
    fn an_empty_file_is_zero_events_not_an_error() {
        let c = run(b"");
        assert!(c.events.is_empty() && c.rejected.is_empty());
        let c = run(b"\n\n  \n");
        assert!(c.events.is_empty() && c.rejected.is_empty());
    }

    #[test]
    fn rejected_lines_name_their_line_and_field() {
        let good = domain::examples::ALL[1];
        let bad = good.replace("\"55.94\"", "55.94");
        let input = format!("{good}\nnot json\n{bad}\n");
        let c = run(input.as_bytes());
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.rejected.len(), 2);
        assert_eq!(c.rejected[0].line, 2);
        assert_eq!(c.rejected[1].line, 3);
        assert_eq!(c.rejected[1].field.as_deref(), Some("amount"));
        assert!(
            c.rejected[1]
                .to_string()
                .starts_with("events.jsonl:3: field `amount`:")
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_rejected_with_its_line() {
        let good = domain::examples::ALL[1];
        let mut input = format!("{good}\n").into_bytes();
        input.extend_from_slice(b"{\"source\":\"\xff\"}\n");
        let c = run(&input);
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.rejected[0].line, 2);
        assert!(c.rejected[0].message.contains("UTF-8"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::run;

        proptest! {
            /// The reader never panics, and accounts for every line that is not blank: an
            /// event or a rejected row (the fuzz target `jsonl` looks further).
            #[test]
            fn any_bytes_are_read_without_panic_and_every_line_is_accounted_for(
                lines in proptest::collection::vec(
                    prop_oneof![
                        proptest::collection::vec(any::<u8>(), 0..80),
                        proptest::sample::select(domain::examples::ALL.to_vec())
                            .prop_map(|l| l.as_bytes().to_vec()),
                    ],
                    0..8,
                ),
            ) {
                let input: Vec<u8> = lines.join(&b'\n');
                let c = run(&input);
                let read = input.split(|b| *b == b'\n').filter(|l| {
                    let t = String::from_utf8_lossy(l);
                    !t.trim_start_matches('\u{feff}').trim().is_empty()
                });
                prop_assert_eq!(c.events.len() + c.rejected.len(), read.count());
            }
        }
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
        let input = format!(
            "\u{feff}{}\r\n{}\r\n",
            domain::examples::ALL[0],
            domain::examples::ALL[1]
        );
        let c = run(input.as_bytes());
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.events.len(), 2);
    }
}
