//! Documents from a file, a folder or a zip, within bounded memory.
//!
//! E-invoices arrive one file each, by the hundred thousand, often zipped. This walks them
//! in a stable order (by name) and refuses, before reading it, any entry larger than a
//! limit, and any zip whose entries expand far beyond their compressed size (a zip bomb):
//! the limits are checked on the bytes actually inflated, not on what the archive claims.

use std::path::{Path, PathBuf};

/// The largest document read (64 MiB): no invoice or statement is larger.
pub const MAX_DOCUMENT: u64 = 64 << 20;
/// The most a zip may inflate to, in all (4 GiB), and the largest ratio of inflated to
/// compressed bytes for one entry (at most 200 to 1; XML compresses 10–30 to 1).
pub const MAX_TOTAL: u64 = 4 << 30;
pub const MAX_RATIO: u64 = 200;

/// One document: where it came from (`invoices.zip!2024/0001.xml`) and its bytes.
#[derive(Debug)]
pub struct Document {
    pub name: PathBuf,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
}

/// Calls `each` with every document under `path` (a file, a folder walked recursively, or a
/// `.zip`), in name order, one in memory at a time; hidden files are skipped. `each`
/// returning an error stops the walk with it.
pub fn walk<E: From<ArchiveError>>(
    _path: &Path,
    _each: &mut dyn FnMut(Document) -> Result<(), E>,
) -> Result<(), E> {
    todo!("helper: einvoice")
}
