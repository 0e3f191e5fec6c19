//! The key vault of a SQLite ledger: a second file beside it (`rapport.db.vault`) holding each
//! person's key wrapped by the master key, the check value that proves the master key, the
//! ledger's own wrapped secrets, and the identity it shares with its ledger.
//!
//! Kept in a file of its own so that the keys and the sealed data are never in one backup by
//! accident, and so that destroying a key (forgetting) can rewrite this small file whole
//! (`VACUUM`) without touching the ledger. The cryptography is the store's (`store::keys`);
//! this module only keeps the bytes.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use store::keys::{CHECK, KEY_LEN, WrappedKeys};
use store::{MasterKey, Rewrapped, StoreError};

use crate::conns::Conns;
use crate::error::{Result, run};

/// Migrations of the vault file, applied in order on open (`PRAGMA user_version`).
const VAULT_MIGRATIONS: &[&str] = &[
    include_str!("migrations/vault_0001.sql"),
    include_str!("migrations/vault_0002.sql"),
];

pub struct Vault {
    pub(crate) conns: Conns,
}

fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(crate::BUSY_TIMEOUT)?;
    Ok(conn)
}

impl Vault {
    /// Creates a new vault at `path` with the identity `id` it shares with its ledger.
    /// Refuses to touch a file that is already there: it may be another ledger's vault.
    pub fn create(path: &Path, master: &MasterKey, id: &str) -> Result<Vault> {
        if path.exists() {
            return Err(StoreError::WrongVault {
                message: format!(
                    "{} already exists: it is the key vault of another ledger (or of an earlier \
                     `rapport init`); move it away first",
                    path.display()
                ),
            }
            .into());
        }
        let vault = Vault::connect(path, master, OpenFlags::SQLITE_OPEN_CREATE)?;
        vault.set_id(id)?;
        Ok(vault)
    }

    /// Opens the existing vault at `path`. A missing vault is an error, never a new empty one:
    /// every sealed field of the ledger needs the keys in it.
    pub fn open(path: &Path, master: &MasterKey) -> Result<Vault> {
        if !path.exists() {
            return Err(StoreError::WrongVault {
                message: format!(
                    "the key vault {} is missing: it holds every person's key, so restore it from \
                     the backup taken with this ledger (rapport never makes a new one for an \
                     existing ledger)",
                    path.display()
                ),
            }
            .into());
        }
        Vault::connect(path, master, OpenFlags::empty())
    }

    fn connect(path: &Path, master: &MasterKey, create: OpenFlags) -> Result<Vault> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | create,
        )?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| StoreError::WrongVault {
            message: format!("{} is not a key vault ({e})", path.display()),
        })?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;",
        )?;
        conn.busy_timeout(crate::BUSY_TIMEOUT)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > VAULT_MIGRATIONS.len() as i64 {
            return Err(StoreError::NotALedger {
                message: format!(
                    "the key vault {} was written by a newer rapport (schema {version})",
                    path.display()
                ),
            }
            .into());
        }
        for (i, sql) in VAULT_MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        check_master(&conn, master)?;
        Ok(Vault {
            conns: Conns::new(path, conn, open_reader),
        })
    }

    /// The identity this vault shares with its ledger (`None` for a vault made before
    /// identities existed).
    pub fn id(&self) -> Result<Option<String>> {
        Ok(self
            .conns
            .writer()
            .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Records the identity this vault shares with its ledger.
    pub fn set_id(&self, id: &str) -> Result<()> {
        self.conns.writer().execute(
            "INSERT INTO meta (key, value) VALUES ('vault_id', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![id],
        )?;
        Ok(())
    }

    /// A random secret of the ledger's own, kept wrapped in the vault under `name` and made on
    /// first use. Unlike a secret derived from the master key, it survives re-wrapping under
    /// a new master key (`rapport rekey`).
    pub fn secret(&self, master: &MasterKey, name: &str) -> Result<[u8; KEY_LEN]> {
        let aad = format!("secret:{name}");
        let conn = self.conns.writer();
        let found: Option<Vec<u8>> = conn
            .query_row(
                "SELECT wrapped FROM secrets WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(blob) = found {
            return Ok(master.unwrap(&aad, &blob)?);
        }
        let (_, blob) = master.new_wrapped(&aad)?;
        // Two processes may make it at once: the first one stored wins, and both read it back.
        conn.execute(
            "INSERT INTO secrets (name, wrapped) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, blob],
        )?;
        let blob: Vec<u8> = conn.query_row(
            "SELECT wrapped FROM secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?;
        Ok(master.unwrap(&aad, &blob)?)
    }

    /// Destroys the person's key for good: the row is deleted (zeroed, with secure_delete),
    /// the vault's log checkpointed away and the file vacuumed, so no copy of the key is left.
    pub fn destroy(&self, person: &str) -> Result<()> {
        let conn = self.conns.writer();
        conn.execute("DELETE FROM keys WHERE person = ?1", params![person])?;
        conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        Ok(())
    }

    /// Re-wraps every key and secret under `new` in one transaction; how many person keys,
    /// and whether the old wrappings left the file at once.
    pub fn rekey(&self, old: &MasterKey, new: &MasterKey) -> Result<Rewrapped> {
        let mut conn = self.conns.writer();
        let tx = conn.transaction()?;
        let mut n = 0u64;
        {
            let keys: Vec<(String, Vec<u8>)> = tx
                .prepare("SELECT person, wrapped FROM keys")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut update = tx.prepare("UPDATE keys SET wrapped = ?2 WHERE person = ?1")?;
            for (person, blob) in keys {
                let raw = old.unwrap(&person, &blob)?;
                update.execute(params![person, new.wrap(&person, &raw)?])?;
                if person != CHECK {
                    n += 1;
                }
            }
            let secrets: Vec<(String, Vec<u8>)> = tx
                .prepare("SELECT name, wrapped FROM secrets")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut update = tx.prepare("UPDATE secrets SET wrapped = ?2 WHERE name = ?1")?;
            for (name, blob) in secrets {
                let aad = format!("secret:{name}");
                let raw = old.unwrap(&aad, &blob)?;
                update.execute(params![name, new.wrap(&aad, &raw)?])?;
            }
        }
        tx.commit()?;
        // The old wrappings are overwritten in place (secure_delete); the log and free pages
        // go too, so that only the new master key opens anything in this file.
        // A reader holding the log back makes this fail; the keys are re-wrapped all the same.
        let cleared_now = conn
            .execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .is_ok();
        Ok(Rewrapped {
            keys: n,
            cleared_now,
        })
    }
}

/// The vault remembers a check value wrapped by the master key, so a wrong master key is
/// caught at once instead of showing up as unreadable text later.
fn check_master(conn: &Connection, master: &MasterKey) -> Result<()> {
    let check: Option<Vec<u8>> = conn
        .query_row(
            "SELECT wrapped FROM keys WHERE person = ?1",
            params![CHECK],
            |r| r.get(0),
        )
        .optional()?;
    match check {
        Some(blob) => master.opens_check(&blob).map_err(|_| {
            StoreError::MasterKey {
                message: "the master key does not open this ledger's vault".into(),
            }
            .into()
        }),
        None => {
            conn.execute(
                "INSERT INTO keys (person, wrapped) VALUES (?1, ?2)",
                params![CHECK, master.check_value()?],
            )?;
            Ok(())
        }
    }
}

/// Wrapped keys as the shared key cache fetches them: through a read connection, so that a
/// key is found while an import holds the vault's writer.
pub struct Fetch(pub std::sync::Arc<Vault>);

impl WrappedKeys for Fetch {
    fn wrapped(&self, person: &str) -> Result<Option<Vec<u8>>, StoreError> {
        run(|| {
            self.0.conns.read(|c| {
                Ok(
                    c.prepare_cached("SELECT wrapped FROM keys WHERE person = ?1")?
                        .query_row(params![person], |r| r.get(0))
                        .optional()?,
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_master_key_is_refused_when_the_vault_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let good = MasterKey::generate();
        drop(Vault::create(&path, &good, "t").unwrap());
        assert!(Vault::open(&path, &MasterKey::generate()).is_err());
        assert!(Vault::open(&path, &good).is_ok());
    }

    #[test]
    fn a_missing_vault_is_never_made_anew_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let Err(e) = Vault::open(&path, &MasterKey::generate()) else {
            panic!("opened a vault that is not there")
        };
        assert!(e.to_string().contains("restore it"), "{e}");
        assert!(!path.exists(), "opening made a file");
    }

    #[test]
    fn creating_a_vault_refuses_a_file_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        drop(Vault::create(&path, &MasterKey::generate(), "a").unwrap());
        assert!(Vault::create(&path, &MasterKey::generate(), "b").is_err());
        assert_eq!(
            Vault::open(&path, &MasterKey::generate())
                .err()
                .map(|e| e.to_string()),
            Some("the master key does not open this ledger's vault".into())
        );
    }

    #[test]
    fn a_named_secret_is_made_once_and_read_back_the_same_even_after_a_rekey() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let key = MasterKey::generate();
        let first = Vault::create(&path, &key, "a")
            .unwrap()
            .secret(&key, "x")
            .unwrap();
        let again = Vault::open(&path, &key).unwrap();
        assert_eq!(again.secret(&key, "x").unwrap(), first);
        assert_ne!(again.secret(&key, "y").unwrap(), first);
        assert_eq!(again.id().unwrap().as_deref(), Some("a"));
        let new = MasterKey::generate();
        again.rekey(&key, &new).unwrap();
        drop(again);
        assert!(
            Vault::open(&path, &key).is_err(),
            "the old key opens nothing"
        );
        let after = Vault::open(&path, &new).unwrap();
        assert_eq!(after.secret(&new, "x").unwrap(), first);
    }
}
