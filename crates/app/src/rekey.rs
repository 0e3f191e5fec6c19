//! A new master key for the whole ledger: every person key (and the ledger's own secrets)
//! re-wrapped under it in one transaction, so that destroying the old master key makes every
//! earlier backup of the vault unreadable.
//!
//! The new key must never be lost between the database's commit and its file: it is written
//! first, beside the old one (`….new`), then the vault is re-wrapped, then the new file takes
//! the old one's place. A crash in between leaves both files; opening the ledger then finds
//! that the old key no longer opens the vault, tries the new one, and finishes the swap.

use std::path::{Path, PathBuf};

use store::{MasterKey, StoreError};

use crate::{App, AppError, Location};

/// Where a re-keying keeps the new key until the vault is re-wrapped.
pub fn pending_key_file(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// What re-keying did.
pub struct Rekeyed {
    /// Person keys re-wrapped.
    pub keys: u64,
    /// Whether the old wrappings left the database's files at once (otherwise its next
    /// maintenance clears them; see [`store::Rewrapped`]).
    pub cleared_now: bool,
    /// The file the new key is in; `None` when it is only printed (the key came from the
    /// environment, or `--print-key`).
    pub file: Option<PathBuf>,
    pub key: MasterKey,
}

impl App {
    /// Opens the ledger at `location` with its master key as every command finds it; a
    /// re-keying interrupted after the vault was re-wrapped is finished here.
    pub fn open_located(location: &Location) -> Result<App, AppError> {
        let key = location.master_key()?;
        match App::open(location, key) {
            Err(AppError::Store(StoreError::MasterKey { message })) => {
                let Some(file) = location.key_file_in_use() else {
                    return Err(StoreError::MasterKey { message }.into());
                };
                let pending = pending_key_file(&file);
                let Ok(text) = std::fs::read_to_string(&pending) else {
                    return Err(StoreError::MasterKey { message }.into());
                };
                let new = MasterKey::from_hex(&text)?;
                let app = App::open(location, new)?;
                std::fs::rename(&pending, &file).map_err(|e| StoreError::MasterKey {
                    message: format!(
                        "the vault opens with {} (a re-keying was interrupted), but it cannot \
                         replace {}: {e}",
                        pending.display(),
                        file.display()
                    ),
                })?;
                Ok(app)
            }
            other => other,
        }
    }

    /// Re-wraps every key under a new master key. With `print`, or when the key came from
    /// `RAPPORT_MASTER_KEY`, the new key is only returned (the caller prints it once);
    /// otherwise it replaces the key file, crash-safely (see the module header).
    pub fn rekey(&self, print: bool, actor: &str) -> Result<Rekeyed, AppError> {
        let new = MasterKey::generate();
        let file = if print {
            None
        } else {
            self.location.key_file_in_use()
        };
        let pending = file.as_deref().map(pending_key_file);
        if let Some(p) = &pending {
            if p.exists() {
                return Err(AppError::Refused(format!(
                    "{} exists: an earlier re-keying did not finish; open the ledger once (any \
                     command) to finish it, or remove the file if it belongs to nothing",
                    p.display()
                )));
            }
            new.write_new(p)?;
        }
        // The new key stays in its file whatever happens: if the vault was re-wrapped before
        // the error, it is the only key that opens the ledger (the next open finishes the swap).
        let done = self.ledger.rekey(&new).map_err(|e| match &pending {
            Some(p) => AppError::Refused(format!(
                "re-keying failed ({e}); the new key is kept in {} — if the old key still opens \
                 the ledger nothing changed and that file can be removed",
                p.display()
            )),
            None => AppError::Refused(format!(
                "re-keying failed ({e}); if the old key no longer opens the ledger, the new one \
                 does: {}",
                new.to_hex()
            )),
        })?;
        if let (Some(p), Some(f)) = (&pending, &file) {
            std::fs::rename(p, f).map_err(|e| StoreError::MasterKey {
                message: format!(
                    "the vault now opens only with the key in {}; move it to {} ({e})",
                    p.display(),
                    f.display()
                ),
            })?;
        }
        self.ledger.audit(actor, "ledger.rekey", None)?;
        Ok(Rekeyed {
            keys: done.keys,
            cleared_now: done.cleared_now,
            file,
            key: new,
        })
    }
}
