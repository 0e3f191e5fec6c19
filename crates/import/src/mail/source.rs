//! Where messages come from: an mbox file, one `.eml` file, or a folder (or zip) of them.
//! Each is read the same way twice (see the module above), one message at a time.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::mbox::{MAX_MESSAGE, Mbox, Piece};
use crate::archive::{self, ArchiveError};
use crate::{ImportError, RowError};

/// One message of the input, as the passes see it.
pub(crate) struct Item<'a> {
    /// Its line in an mbox, 1 in a file of its own.
    pub line: u64,
    /// The file it is in, inside a folder or zip (`None` for an mbox or a lone file).
    pub name: Option<&'a Path>,
    /// Its bytes, or `None` when it is larger than [`MAX_MESSAGE`].
    pub bytes: Option<&'a [u8]>,
    /// Bytes of the input read so far, for progress.
    pub read: u64,
}

pub(crate) enum Input {
    Mbox(PathBuf),
    Eml(PathBuf),
    /// A folder or a zip, walked by [`archive::walk`].
    Folder(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        file: path.to_owned(),
        source,
    }
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Whether a file in a folder is a message: it ends in `.eml`, or it is in a Maildir's
/// `cur` or `new`. Anything else (indexes, `.mbox` files beside them, attachments saved
/// alone) is ignored.
fn is_message_name(name: &Path) -> bool {
    if has_extension(name, "eml") {
        return true;
    }
    // A zip entry's name is "mail.zip!Maildir/cur/…": its parent still ends in `cur`.
    name.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "cur" || n == "new")
}

/// Why a folder walk stopped: the walk itself, or the sink.
enum Stop {
    Archive(ArchiveError),
    Import(ImportError),
}

impl From<ArchiveError> for Stop {
    fn from(e: ArchiveError) -> Self {
        Stop::Archive(e)
    }
}

impl Input {
    pub(crate) fn of(path: &Path) -> Result<Input, ImportError> {
        let meta = std::fs::metadata(path).map_err(io(path))?;
        Ok(if meta.is_dir() || has_extension(path, "zip") {
            Input::Folder(path.to_owned())
        } else if has_extension(path, "eml") {
            Input::Eml(path.to_owned())
        } else {
            Input::Mbox(path.to_owned())
        })
    }

    /// Calls `each` with every message, in order.
    pub(crate) fn each(
        &self,
        each: &mut dyn FnMut(Item<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        match self {
            Input::Mbox(path) => {
                let file = File::open(path).map_err(io(path))?;
                let mut mbox = Mbox::new(BufReader::with_capacity(1 << 20, file));
                while let Some(piece) = mbox.next() {
                    let read = mbox.bytes_read();
                    match piece.map_err(io(path))? {
                        Piece::Message { line, bytes } => each(Item {
                            line,
                            name: None,
                            bytes: Some(&bytes),
                            read,
                        })?,
                        Piece::TooLarge { line } => each(Item {
                            line,
                            name: None,
                            bytes: None,
                            read,
                        })?,
                    }
                }
                Ok(())
            }
            Input::Eml(path) => {
                let size = std::fs::metadata(path).map_err(io(path))?.len();
                let bytes = if size > MAX_MESSAGE as u64 {
                    None
                } else {
                    Some(std::fs::read(path).map_err(io(path))?)
                };
                each(Item {
                    line: 1,
                    name: None,
                    bytes: bytes.as_deref(),
                    read: size,
                })
            }
            Input::Folder(path) => {
                let mut read = 0u64;
                let walked = archive::walk::<Stop>(path, &mut |doc| {
                    read += doc.bytes.len() as u64;
                    if !is_message_name(&doc.name) {
                        return Ok(());
                    }
                    let bytes = (doc.bytes.len() <= MAX_MESSAGE).then_some(&doc.bytes[..]);
                    each(Item {
                        line: 1,
                        name: Some(&doc.name),
                        bytes,
                        read,
                    })
                    .map_err(Stop::Import)
                });
                match walked {
                    Ok(()) => Ok(()),
                    Err(Stop::Import(e)) => Err(e),
                    Err(Stop::Archive(ArchiveError::Io { path, source })) => {
                        Err(ImportError::Io { file: path, source })
                    }
                    Err(Stop::Archive(ArchiveError::Refused { path, message })) => {
                        Err(ImportError::File(RowError {
                            file: path,
                            line: 1,
                            field: None,
                            message,
                            raw: None,
                        }))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_files_and_maildir_entries_are_messages_and_other_files_are_not() {
        assert!(is_message_name(Path::new("inbox/2024/question.EML")));
        assert!(is_message_name(Path::new(
            "Maildir/cur/1733220000.M1P2.host:2,S"
        )));
        assert!(is_message_name(Path::new(
            "mail.zip!Maildir/new/1733220000.M1P2.host"
        )));
        assert!(!is_message_name(Path::new(
            "Maildir/tmp/1733220000.M1P2.host"
        )));
        assert!(!is_message_name(Path::new("inbox/notes.txt")));
        assert!(!is_message_name(Path::new("inbox/archive.mbox")));
    }
}
