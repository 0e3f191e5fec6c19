//! Connections to one SQLite file, shared by every thread of a process: one writer, and read
//! connections opened as they are needed.
//!
//! SQLite's connections are not shareable between threads, and WAL lets readers read beside
//! the one writer. So a store keeps its writer behind a mutex and a few readers, each used by
//! one thread at a time; a reader is opened the first time all the others are busy, up to a
//! limit, so that a command line that reads once opens one connection and a server under load
//! has several.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::error::Result;

/// How many read connections a process opens at most per file.
pub const READERS: usize = 4;

type Open = fn(&Path) -> Result<Connection>;

pub struct Conns {
    path: PathBuf,
    /// Dropped before the writer: the last connection to close checkpoints the log and
    /// removes it, which a read-only connection cannot do.
    readers: Vec<Mutex<Option<Connection>>>,
    writer: Mutex<Connection>,
    next: AtomicUsize,
    open_reader: Open,
}

impl Conns {
    pub fn new(path: &Path, writer: Connection, open_reader: Open) -> Conns {
        Conns {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: (0..READERS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            open_reader,
        }
    }

    /// The writer (every change goes through it; one at a time in this process).
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        match self.writer.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `f` with a read connection: a free one if any, a new one if fewer than
    /// [`READERS`] are open, otherwise the next one as soon as it is free.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let n = self.readers.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(mut slot) = self.readers[(start + i) % n].try_lock() {
                return self.with(&mut slot, f);
            }
        }
        let mut slot = match self.readers[start % n].lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.with(&mut slot, f)
    }

    fn with<T>(
        &self,
        slot: &mut Option<Connection>,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let conn = match slot {
            Some(c) => c,
            None => slot.insert((self.open_reader)(&self.path)?),
        };
        f(conn)
    }
}
