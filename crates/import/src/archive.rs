//! Documents from a file, a folder or a zip, within bounded memory.
//!
//! E-invoices arrive one file each, by the hundred thousand, often zipped. This walks them
//! in a stable order (by name) and refuses, before reading it, any entry larger than a
//! limit, and any zip whose entries expand far beyond their compressed size (a zip bomb):
//! the limits are checked on the bytes actually inflated, not on what the archive claims.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
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
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
}

/// Below this, an entry is never refused for its ratio: a small file of blanks compresses
/// beyond 200 to 1 honestly, and 1 MiB is harmless however it was compressed.
const RATIO_FLOOR: u64 = 1 << 20;

/// Calls `each` with every document under `path` (a file, a folder walked recursively, or a
/// `.zip`), in name order, one in memory at a time; hidden files are skipped. `each`
/// returning an error stops the walk with it.
///
/// A zip inside a folder is opened and walked too; a zip inside a zip is handed over as a
/// document (never opened), so nesting cannot multiply what is inflated. Symbolic links to
/// files are followed, links to folders are not (a link cannot make the walk loop).
/// An entry refused (too large, a zip bomb, a path leaving the archive) stops the walk:
/// the archive is not one to trust further.
pub fn walk<E: From<ArchiveError>>(
    path: &Path,
    each: &mut dyn FnMut(Document) -> Result<(), E>,
) -> Result<(), E> {
    let meta = std::fs::metadata(path).map_err(|source| io(path, source))?;
    if meta.is_dir() {
        walk_dir(path, each)
    } else if is_zip(path) {
        walk_zip(path, each)
    } else {
        let bytes = read_file(path, meta.len())?;
        each(Document {
            name: path.to_owned(),
            bytes,
        })
    }
}

fn io(path: &Path, source: std::io::Error) -> ArchiveError {
    ArchiveError::Io {
        path: path.to_owned(),
        source,
    }
}

fn refused(path: impl Into<PathBuf>, message: impl Into<String>) -> ArchiveError {
    ArchiveError::Refused {
        path: path.into(),
        message: message.into(),
    }
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn hidden(name: &str) -> bool {
    name.starts_with('.')
}

fn mib(n: u64) -> String {
    format!("{} MiB", n >> 20)
}

fn read_file(path: &Path, len: u64) -> Result<Vec<u8>, ArchiveError> {
    if len > MAX_DOCUMENT {
        return Err(refused(
            path,
            format!(
                "{len} bytes is larger than a document may be ({})",
                mib(MAX_DOCUMENT)
            ),
        ));
    }
    let file = File::open(path).map_err(|source| io(path, source))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // The file may have grown since its size was read.
    file.take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io(path, source))?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(refused(
            path,
            format!(
                "the file is larger than a document may be ({})",
                mib(MAX_DOCUMENT)
            ),
        ));
    }
    Ok(bytes)
}

fn walk_dir<E: From<ArchiveError>>(
    dir: &Path,
    each: &mut dyn FnMut(Document) -> Result<(), E>,
) -> Result<(), E> {
    let mut entries: Vec<(OsString, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|source| io(dir, source))? {
        let entry = entry.map_err(|source| io(dir, source))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push((name, entry.path()));
    }
    entries.sort();
    for (_, path) in entries {
        let link = std::fs::symlink_metadata(&path).map_err(|source| io(&path, source))?;
        let meta = if link.file_type().is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => m,
                // A link to a folder, or a dangling one: skipped.
                _ => continue,
            }
        } else {
            link
        };
        if meta.is_dir() {
            walk_dir(&path, each)?;
        } else if is_zip(&path) {
            walk_zip(&path, each)?;
        } else if meta.is_file() {
            let bytes = read_file(&path, meta.len())?;
            each(Document { name: path, bytes })?;
        }
    }
    Ok(())
}

/// `archive.zip!inner/path.xml`.
fn inner_name(zip: &Path, inner: &str) -> PathBuf {
    let mut name = zip.as_os_str().to_owned();
    name.push("!");
    name.push(inner);
    PathBuf::from(name)
}

fn walk_zip<E: From<ArchiveError>>(
    path: &Path,
    each: &mut dyn FnMut(Document) -> Result<(), E>,
) -> Result<(), E> {
    let file = File::open(path).map_err(|source| io(path, source))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        refused(
            path,
            format!("this is not a zip archive that can be read: {e}"),
        )
    })?;
    let mut names: Vec<(String, usize)> = (0..zip.len())
        .filter_map(|i| zip.name_for_index(i).map(|n| (n.to_owned(), i)))
        .collect();
    names.sort();
    let mut total: u64 = 0;
    for (name, index) in names {
        let doc = inner_name(path, &name);
        let parts = || name.split(['/', '\\']);
        // Before skipping anything hidden: `..` starts with a dot too.
        if name.starts_with(['/', '\\']) || parts().any(|part| part == ".." || part.contains(':')) {
            return Err(refused(
                &doc,
                "the entry's path leaves the archive (absolute, or through `..`)",
            )
            .into());
        }
        if name.ends_with('/') || parts().any(|part| hidden(part) || part == "__MACOSX") {
            continue;
        }
        let mut entry = zip
            .by_index(index)
            .map_err(|e| refused(&doc, format!("the entry cannot be read: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        if entry.enclosed_name().is_none() {
            return Err(refused(
                &doc,
                "the entry's path leaves the archive (absolute, or through `..`)",
            )
            .into());
        }
        // What the archive claims is checked first, so an honest bomb is refused unread;
        // what it inflates to is checked as it is read, so a lying one is refused too.
        let declared = entry.size();
        let compressed = entry.compressed_size();
        let by_ratio = compressed.saturating_mul(MAX_RATIO).max(RATIO_FLOOR);
        let left = MAX_TOTAL.saturating_sub(total);
        let limit = MAX_DOCUMENT.min(by_ratio).min(left);
        let too_much = |size: u64| -> String {
            if size > MAX_DOCUMENT {
                format!(
                    "the entry inflates to more than a document may be ({})",
                    mib(MAX_DOCUMENT)
                )
            } else if size > left {
                format!(
                    "the archive inflates to more than {} in all",
                    mib(MAX_TOTAL)
                )
            } else {
                format!(
                    "the entry inflates to more than {MAX_RATIO} times its compressed size \
                     ({compressed} bytes): refused as a zip bomb"
                )
            }
        };
        if declared > limit {
            return Err(refused(&doc, too_much(declared)).into());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| refused(&doc, format!("the entry cannot be inflated: {e}")))?;
        let inflated = bytes.len() as u64;
        if inflated > limit {
            return Err(refused(&doc, too_much(inflated)).into());
        }
        total += inflated;
        drop(entry);
        each(Document { name: doc, bytes })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn names(path: &Path) -> Result<Vec<String>, ArchiveError> {
        let mut seen = Vec::new();
        walk::<ArchiveError>(path, &mut |doc| {
            seen.push(doc.name.to_string_lossy().into_owned());
            Ok(())
        })?;
        Ok(seen)
    }

    fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
        let file = File::create(path).expect("a zip file");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, options).expect("an entry");
            zip.write_all(bytes).expect("entry bytes");
        }
        zip.finish().expect("a finished zip");
    }

    #[test]
    fn a_folder_is_walked_in_name_order_into_subfolders_skipping_hidden_files() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = dir.path();
        std::fs::create_dir(root.join("b")).expect("b");
        std::fs::create_dir(root.join(".git")).expect(".git");
        for name in [
            "c.xml",
            "a.xml",
            "b/2.xml",
            "b/1.xml",
            ".DS_Store",
            ".git/x",
            "b/.hidden",
        ] {
            std::fs::write(root.join(name), name).expect("a file");
        }
        let seen = names(root).expect("a walk");
        let want: Vec<String> = ["a.xml", "b/1.xml", "b/2.xml", "c.xml"]
            .iter()
            .map(|n| root.join(n).to_string_lossy().into_owned())
            .collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn a_single_file_is_one_document_with_its_bytes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = dir.path().join("one.xml");
        std::fs::write(&file, b"<Invoice/>").expect("a file");
        let mut docs = Vec::new();
        walk::<ArchiveError>(&file, &mut |d| {
            docs.push(d);
            Ok(())
        })
        .expect("a walk");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].name, file);
        assert_eq!(docs[0].bytes, b"<Invoice/>");
    }

    #[test]
    fn a_zip_is_read_entry_by_entry_in_name_order_named_inside_the_archive() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("invoices.zip");
        zip_of(
            &path,
            &[
                ("2024/0002.xml", b"two"),
                ("2024/0001.xml", b"one"),
                ("__MACOSX/2024/._0001.xml", b"junk"),
                (".hidden.xml", b"hidden"),
            ],
        );
        let mut docs = Vec::new();
        walk::<ArchiveError>(&path, &mut |d| {
            docs.push((d.name.to_string_lossy().into_owned(), d.bytes));
            Ok(())
        })
        .expect("a walk");
        let p = path.to_string_lossy();
        assert_eq!(
            docs,
            vec![
                (format!("{p}!2024/0001.xml"), b"one".to_vec()),
                (format!("{p}!2024/0002.xml"), b"two".to_vec()),
            ]
        );
    }

    #[test]
    fn a_zip_bomb_is_refused_naming_its_entry() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("bomb.zip");
        let file = File::create(&path).expect("a zip file");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        zip.start_file("ok.xml", options).expect("an entry");
        zip.write_all(b"<a/>").expect("bytes");
        zip.start_file("zeros.xml", options).expect("an entry");
        let mib = vec![0u8; 1 << 20];
        for _ in 0..300 {
            zip.write_all(&mib).expect("zeros");
        }
        zip.finish().expect("a finished zip");
        drop(mib);

        let mut read = Vec::new();
        let err = walk::<ArchiveError>(&path, &mut |d| {
            read.push(d.bytes.len());
            Ok(())
        })
        .expect_err("a refusal");
        assert_eq!(read, vec![4], "the entry before the bomb was read");
        let text = err.to_string();
        assert!(text.contains("bomb.zip!zeros.xml"), "{text}");
        assert!(text.contains("64 MiB"), "{text}");
    }

    #[test]
    fn an_entry_inflating_far_beyond_its_compressed_size_is_refused_as_a_bomb() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("ratio.zip");
        // 8 MiB of blanks: under the size limit, but over 200 to 1.
        zip_of(&path, &[("blank.xml", &vec![b' '; 8 << 20])]);
        let err = names(&path).expect_err("a refusal");
        let text = err.to_string();
        assert!(text.contains("ratio.zip!blank.xml"), "{text}");
        assert!(text.contains("zip bomb"), "{text}");
    }

    #[test]
    fn a_small_blank_entry_is_read_however_well_it_compresses() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("small.zip");
        zip_of(&path, &[("blank.xml", &vec![b' '; 100 << 10])]);
        assert_eq!(names(&path).expect("a walk").len(), 1);
    }

    #[test]
    fn a_zip_entry_whose_path_leaves_the_archive_is_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("evil.zip");
        zip_of(&path, &[("../../etc/passwd.xml", b"x")]);
        let text = names(&path).expect_err("a refusal").to_string();
        assert!(text.contains("leaves the archive"), "{text}");
    }

    #[test]
    fn a_file_that_is_not_a_zip_but_named_so_is_refused_not_a_panic() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("fake.zip");
        std::fs::write(&path, b"not a zip").expect("a file");
        let text = names(&path).expect_err("a refusal").to_string();
        assert!(text.contains("fake.zip"), "{text}");
    }

    #[test]
    fn an_error_from_the_caller_stops_the_walk() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for n in ["a", "b", "c"] {
            std::fs::write(dir.path().join(n), n).expect("a file");
        }
        let mut count = 0;
        let r = walk::<ArchiveError>(dir.path(), &mut |d| {
            count += 1;
            Err(refused(d.name, "stop"))
        });
        assert!(r.is_err());
        assert_eq!(count, 1);
    }
}
