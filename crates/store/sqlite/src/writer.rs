//! One writer at a time, and its name for whoever waits.
//!
//! SQLite lets one connection write at a time and makes the others wait a fixed time, then
//! fail with "database is locked" — which a second import, or an API request during a long
//! import, used to show as a failure. Instead, every long write (an import, the API's batches,
//! forgetting, regrouping) first takes an advisory lock on a small file beside the ledger
//! (`rapport.db.writer`) and writes into it who it is. Whoever finds the lock taken can say
//! who holds it, wait for it with a progress line (the command line), or answer "busy, try
//! again" at once (the web). The operating system releases the lock when its holder ends,
//! even by `kill -9`, so a crash never leaves the ledger locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use store::StoreError;

/// The writer lock, held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
}

/// Who holds the writer lock, as they described themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder(pub String);

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.trim().is_empty() {
            f.write_str("another rapport process")
        } else {
            f.write_str(self.0.trim())
        }
    }
}

impl WriterLock {
    /// The lock file of the ledger at `db`.
    pub fn path(db: &Path) -> std::path::PathBuf {
        store::keys::sibling(db, "writer")
    }

    /// Takes the lock if it is free, writing `what` (e.g. "rapport import orders.csv") into
    /// the lock file for others to read; otherwise says who holds it.
    pub fn try_acquire(db: &Path, what: &str) -> Result<Result<WriterLock, Holder>, StoreError> {
        let path = WriterLock::path(db);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Ok(Err(Holder(text)));
            }
            Err(TryLockError::Error(e)) => return Err(io_error(&path, e)),
        }
        let now = domain::Timestamp::now();
        let note = format!("{what} (process {}, since {now})", std::process::id());
        // What is written here is only a description; a failure to write it changes nothing.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = file.write_all(note.as_bytes());
        let _ = file.flush();
        Ok(Ok(WriterLock { file }))
    }

    /// Takes the lock, or fails at once with [`StoreError::Busy`] naming who holds it.
    pub fn acquire(db: &Path, what: &str) -> Result<WriterLock, StoreError> {
        WriterLock::try_acquire(db, what)?.map_err(|holder| busy(&holder))
    }
}

/// The error that says who holds the writer lock.
pub fn busy(holder: &Holder) -> StoreError {
    StoreError::Busy {
        message: format!("another writer is at work on this ledger: {holder}"),
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::PermissionDenied
        || e.kind() == std::io::ErrorKind::ReadOnlyFilesystem
    {
        StoreError::ReadOnly {
            message: format!(
                "cannot write {}: the ledger's folder is read-only here ({e})",
                path.display()
            ),
        }
    } else {
        StoreError::Corrupt {
            message: format!("the writer lock {}: {e}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_learns_who_holds_the_lock_and_gets_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("l.db");
        let first = WriterLock::acquire(&db, "rapport import big.csv").unwrap();
        let holder = WriterLock::try_acquire(&db, "rapport import small.csv")
            .unwrap()
            .unwrap_err();
        assert!(
            holder.0.starts_with("rapport import big.csv (process "),
            "{holder}"
        );
        let e = WriterLock::acquire(&db, "the web").unwrap_err();
        assert!(e.is_busy());
        assert!(e.to_string().contains("big.csv"), "{e}");
        drop(first);
        assert!(WriterLock::try_acquire(&db, "the web").unwrap().is_ok());
    }
}
