//! Events into the ledger: a file (JSON Lines, or CSV through a mapping), each file all or
//! nothing, or a batch from the API or a person's own page.
//!
//! A file is read on a second thread (`import::pipeline`) while the ledger writes on this
//! one; personal fields are sealed on the reading thread with the ledger's shared keys, so
//! the writing thread only writes. Without `skip_invalid`, one invalid row means the file is
//! rolled back: the reader still reads to the end, so the person fixing the export sees every
//! problem at once, not one per attempt.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

use domain::NewEvent;
use import::{Format, ImportError, PreparedSink, RowError};
use store::{Batch, BatchSummary};

use crate::{App, AppError};

/// How many rejected rows an outcome keeps to show; the rest are counted.
pub const SHOWN_ERRORS: usize = 20;

/// What a face does while a file is imported: say whom it waits for, show progress, write
/// rejected rows somewhere. Every method has a silent default.
pub trait Imported {
    /// Another writer holds the ledger (`holder` says who); `false` gives up.
    fn waiting(&mut self, _holder: &str) -> bool {
        true
    }
    /// Bytes of the file read so far.
    fn progress(&mut self, _bytes: u64) {}
}

/// Where rows rejected under `skip_invalid` go (the rejects file of the command line).
pub trait Rejected {
    fn write(&mut self, error: &RowError) -> std::io::Result<()>;
}

/// What importing one file did.
#[derive(Debug)]
pub struct ImportOutcome {
    pub summary: BatchSummary,
    pub rejected: u64,
    /// The first [`SHOWN_ERRORS`] rejected rows.
    pub shown: Vec<RowError>,
    pub committed: bool,
    /// The whole file was refused before any row (a mapped column is missing…).
    pub file_error: bool,
    /// Rows the mapping skipped on purpose, by reason (e.g. no person).
    pub skipped: BTreeMap<String, u64>,
    /// What looks wrong with the result although every row was valid.
    pub warnings: Vec<import::Warning>,
}

impl ImportOutcome {
    pub fn failed(&self) -> bool {
        !self.committed
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Seals each event's personal fields on the reading thread.
struct SealOnReader(store::SealAhead);

impl import::Prepare for SealOnReader {
    type Out = Option<store::Sealed>;

    fn prepare(&mut self, event: &NewEvent) -> Result<Self::Out, BoxError> {
        Ok(self.0.seal(event)?)
    }
}

struct LedgerSink<'a, 'f> {
    batch: Box<dyn Batch + 'a>,
    rejects: Option<&'f mut dyn Rejected>,
    face: &'f mut dyn Imported,
    rejected: u64,
    shown: Vec<RowError>,
    skip: bool,
}

impl PreparedSink<Option<store::Sealed>> for LedgerSink<'_, '_> {
    fn push(
        &mut self,
        _line: u64,
        event: NewEvent,
        sealed: Option<store::Sealed>,
    ) -> Result<(), BoxError> {
        // Once a file is known to be rejected whole, storing more of it is wasted work.
        if self.rejected > 0 && !self.skip {
            return Ok(());
        }
        self.batch.append_sealed(event, sealed)?;
        Ok(())
    }

    fn reject(&mut self, error: RowError) -> Result<(), BoxError> {
        self.rejected += 1;
        if let Some(r) = self.rejects.as_deref_mut() {
            r.write(&error)?;
        }
        if self.shown.len() < SHOWN_ERRORS {
            self.shown.push(error);
        }
        Ok(())
    }

    fn progress(&mut self, bytes: u64) {
        self.face.progress(bytes);
    }
}

impl App {
    /// Imports one file as one transaction: all of it, or (a row invalid) nothing. With
    /// `rejects` (`--skip-invalid`), valid rows are kept and each rejected row goes there.
    /// Waits for another writer first, telling `face` whom it waits for.
    pub fn import<'f>(
        &self,
        origin: &Path,
        format: &Format,
        reader: impl BufRead + Send,
        rejects: Option<&'f mut dyn Rejected>,
        face: &'f mut dyn Imported,
    ) -> Result<ImportOutcome, AppError> {
        let origin_text = origin.display().to_string();
        let batch = self
            .ledger
            .batch_waiting(&origin_text, &mut |holder| face.waiting(holder))?;
        let face: &'f mut dyn Imported = face;
        // Personal fields are sealed on the reading thread, so the writing thread only writes.
        let sealer = SealOnReader(batch.seal_ahead()?);
        let skip = rejects.is_some();
        let mut sink = LedgerSink {
            batch,
            rejects,
            face,
            rejected: 0,
            shown: Vec::new(),
            skip,
        };
        let read = import::pipeline::read_prepared(origin, format, reader, sealer, &mut sink);
        let LedgerSink {
            mut batch,
            rejected,
            mut shown,
            ..
        } = sink;
        let report = match read {
            Ok(report) => report,
            Err(ImportError::File(e)) => {
                // A whole-file problem (a mapped column missing…): nothing is stored.
                shown.insert(0, e);
                return Ok(ImportOutcome {
                    summary: batch.summary()?,
                    rejected: rejected + 1,
                    shown,
                    committed: false,
                    file_error: true,
                    skipped: BTreeMap::new(),
                    warnings: Vec::new(),
                });
            }
            Err(e) => return Err(AppError::Refused(format!("importing {origin_text}: {e}"))),
        };
        let (skipped, warnings) = report.map(|r| (r.skipped, r.warnings)).unwrap_or_default();
        if rejected > 0 && !skip {
            let summary = batch.summary()?;
            drop(batch); // rolls back
            return Ok(ImportOutcome {
                summary,
                rejected,
                shown,
                committed: false,
                file_error: false,
                skipped,
                warnings,
            });
        }
        let summary = batch.commit()?;
        Ok(ImportOutcome {
            summary,
            rejected,
            shown,
            committed: true,
            file_error: false,
            skipped,
            warnings,
        })
    }

    /// Stores a batch of events (the API, a person's own page, an agent's note): all or
    /// nothing, idempotent by `(person, source, id)`, events of forgotten people skipped and counted.
    /// While another writer holds the ledger, waits up to `wait` and then fails busy (the
    /// caller may simply try again).
    pub fn append(
        &self,
        events: Vec<NewEvent>,
        origin: &str,
        wait: Duration,
    ) -> Result<BatchSummary, AppError> {
        let started = Instant::now();
        let mut batch = self
            .ledger
            .batch_waiting(origin, &mut |_| started.elapsed() < wait)?;
        for e in events {
            batch.append(e)?;
        }
        Ok(batch.commit()?)
    }
}
