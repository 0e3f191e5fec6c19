//! Reading on one core while the caller stores on another.
//!
//! Parsing and validating an event costs about as much as storing it, and a ledger has one
//! writer. So the file is read on a second thread, in chunks of events sent over a bounded
//! channel, while the sink (the ledger) stays on the caller's thread. The bound keeps memory
//! flat however large the file is; the order of events and rejects is kept.

use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use domain::NewEvent;

use crate::mapping::ReadReport;
use crate::{Format, ImportError, RowError, Sink};

/// Events per message: large enough that the channel costs nothing per event.
const CHUNK: usize = 2048;
/// Messages in flight: with CHUNK, at most about 16,000 parsed events wait in memory.
const DEPTH: usize = 8;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Work done on the reading thread for each valid event, before it reaches the sink: for
/// the ledger, sealing personal fields, so that the writing thread only writes.
pub trait Prepare: Send {
    type Out: Send;
    fn prepare(&mut self, event: &NewEvent) -> Result<Self::Out, BoxError>;
}

/// Nothing to prepare.
struct Nothing;

impl Prepare for Nothing {
    type Out = ();
    fn prepare(&mut self, _: &NewEvent) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Where prepared events go: like [`Sink`], with what [`Prepare`] made for each event.
pub trait PreparedSink<P> {
    fn push(&mut self, line: u64, event: NewEvent, prepared: P) -> Result<(), BoxError>;
    fn reject(&mut self, error: RowError) -> Result<(), BoxError>;
    fn progress(&mut self, _bytes: u64) {}
}

/// A plain [`Sink`] seen as a sink of events with nothing prepared.
struct Plain<'a>(&'a mut dyn Sink);

impl PreparedSink<()> for Plain<'_> {
    fn push(&mut self, line: u64, event: NewEvent, (): ()) -> Result<(), BoxError> {
        self.0.push(line, event)
    }
    fn reject(&mut self, error: RowError) -> Result<(), BoxError> {
        self.0.reject(error)
    }
    fn progress(&mut self, bytes: u64) {
        self.0.progress(bytes);
    }
}

// Nearly every item is an event, so boxing it to shrink the rare variants would only add an
// allocation per event.
#[allow(clippy::large_enum_variant)]
enum Item<P> {
    Event(u64, NewEvent, P),
    Reject(RowError),
    Progress(u64),
}

struct ChannelSink<P: Prepare> {
    tx: SyncSender<Vec<Item<P::Out>>>,
    buf: Vec<Item<P::Out>>,
    prepare: P,
}

/// The storing side hung up (it failed); the reader stops.
#[derive(Debug, thiserror::Error)]
#[error("the ledger stopped reading")]
struct Closed;

impl<P: Prepare> ChannelSink<P> {
    fn put(&mut self, item: Item<P::Out>) -> Result<(), BoxError> {
        self.buf.push(item);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BoxError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.send(chunk).map_err(|_| Box::new(Closed) as _)
    }
}

impl<P: Prepare> Sink for ChannelSink<P> {
    fn push(&mut self, line: u64, event: NewEvent) -> Result<(), BoxError> {
        let prepared = self.prepare.prepare(&event)?;
        self.put(Item::Event(line, event, prepared))
    }

    fn reject(&mut self, error: RowError) -> Result<(), BoxError> {
        self.put(Item::Reject(error))
    }

    fn progress(&mut self, bytes: u64) {
        let _ = self.put(Item::Progress(bytes));
    }
}

fn drain<O>(
    rx: &Receiver<Vec<Item<O>>>,
    sink: &mut dyn PreparedSink<O>,
) -> Result<(), ImportError> {
    for chunk in rx {
        for item in chunk {
            match item {
                Item::Event(line, e, p) => sink.push(line, e, p).map_err(ImportError::Sink)?,
                Item::Reject(r) => sink.reject(r).map_err(ImportError::Sink)?,
                Item::Progress(b) => sink.progress(b),
            }
        }
    }
    Ok(())
}

/// Reads `reader` in `format` on a second thread, feeding `sink` on this one. Returns the
/// mapping's report for CSV.
pub fn read(
    path: &Path,
    format: &Format,
    reader: impl BufRead + Send,
    sink: &mut dyn Sink,
) -> Result<Option<ReadReport>, ImportError> {
    read_prepared(path, format, reader, Nothing, &mut Plain(sink))
}

/// [`read`], running `prepare` on the reading thread for every valid event.
pub fn read_prepared<P: Prepare>(
    path: &Path,
    format: &Format,
    reader: impl BufRead + Send,
    prepare: P,
    sink: &mut dyn PreparedSink<P::Out>,
) -> Result<Option<ReadReport>, ImportError> {
    let (tx, rx) = sync_channel::<Vec<Item<P::Out>>>(DEPTH);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut ch = ChannelSink {
                tx,
                buf: Vec::with_capacity(CHUNK),
                prepare,
            };
            let result = match format {
                Format::JsonLines => crate::jsonl::read(path, reader, &mut ch).map(|()| None),
                Format::Csv(m) => m.read_with_report(path, reader, &mut ch).map(Some),
            };
            let flushed = ch.flush();
            match (result, flushed) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(ImportError::Sink(e)),
                (Ok(r), Ok(())) => Ok(r),
            }
        });
        let drained = drain(&rx, sink);
        // Hang up first, so a producer blocked on a full channel ends.
        drop(rx);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(ImportError::Sink("the reading thread failed".into())));
        match (drained, produced) {
            // The sink's own error explains a reader that stopped because of it.
            (Err(e), _) => Err(e),
            (Ok(()), r) => r,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;

    #[test]
    fn the_pipeline_delivers_every_event_and_reject_in_order() {
        let mut text = String::new();
        for i in 0..5000 {
            if i % 1000 == 7 {
                text.push_str("broken\n");
            }
            text.push_str(&domain::examples::ALL[1].replace("inv-17", &format!("inv-{i}")));
            text.push('\n');
        }
        let mut c = Collect::default();
        read(
            Path::new("x.jsonl"),
            &Format::JsonLines,
            text.as_bytes(),
            &mut c,
        )
        .unwrap();
        assert_eq!(c.events.len(), 5000);
        assert_eq!(c.rejected.len(), 5);
        let lines: Vec<u64> = c.events.iter().map(|(l, _)| *l).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
    }

    struct Failing;

    impl Sink for Failing {
        fn push(
            &mut self,
            _: u64,
            _: NewEvent,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            Err("disk full".into())
        }
        fn reject(&mut self, _: RowError) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_sink_stops_the_reader_with_the_sink_s_error() {
        let text = domain::examples::ALL.join("\n").repeat(2000);
        let err = read(
            Path::new("x.jsonl"),
            &Format::JsonLines,
            text.as_bytes(),
            &mut Failing,
        )
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
