//! CSV through a TOML mapping file (stub: being written).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::{ImportError, Sink};

/// A mapping file's error, naming the mapping file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    #[error("{}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
}

/// The built-in mappings for shapes found in real exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Transactions,
    Invoices,
    Messages,
}

/// How CSV rows become events.
#[derive(Debug, Clone)]
pub struct Mapping {}

impl Mapping {
    pub fn read(&self, _path: &Path, _reader: impl BufRead, _sink: &mut dyn Sink) -> Result<(), ImportError> {
        Ok(())
    }
}
