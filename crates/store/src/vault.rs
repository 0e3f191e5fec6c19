//! Sealing personal data: a master key, one data key per person, and the vault that holds
//! the person keys in a separate file.
//!
//! Every personal field of an event is encrypted with XChaCha20-Poly1305 under the key of
//! the person it belongs to, with the event's `(source, id)` as associated data so a sealed
//! blob cannot be moved to another event. Person keys are stored wrapped by the master key
//! in the vault file beside the ledger. Forgetting a person means destroying one row of the
//! vault: every copy of their sealed text, including old backups of the ledger, becomes noise.
//!
//! XChaCha20's 192-bit nonces are drawn at random for every seal; at that size random nonces
//! never collide in practice, which spares us a nonce counter that would have to survive
//! crashes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::{RngCore, SeedableRng, rngs::StdRng};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::StoreError;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// The environment variable that may hold the master key (64 hex digits).
pub const MASTER_KEY_ENV: &str = "RAPPORT_MASTER_KEY";

/// The key that wraps every person key. Never stored in the ledger or the vault.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        MasterKey(k)
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(s: &str) -> Result<MasterKey, StoreError> {
        let bytes = hex::decode(s.trim()).map_err(|_| StoreError::MasterKey {
            message: "the master key must be 64 hexadecimal digits".into(),
        })?;
        let k: [u8; KEY_LEN] = bytes.try_into().map_err(|_| StoreError::MasterKey {
            message: "the master key must be 64 hexadecimal digits (32 bytes)".into(),
        })?;
        Ok(MasterKey(k))
    }

    /// A secret for one purpose (signing links, pseudonyms), derived from the master key so
    /// that nothing stored in the ledger file can recompute it:
    /// HMAC-SHA-256(master key, "rapport/" + purpose).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(b"rapport/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Where the master key file of a ledger lives by default: beside it.
    pub fn default_path(db: &Path) -> PathBuf {
        sibling(db, "master-key")
    }

    /// The master key from `RAPPORT_MASTER_KEY`, else from the key file beside the ledger.
    pub fn locate(db: &Path) -> Result<MasterKey, StoreError> {
        if let Ok(v) = std::env::var(MASTER_KEY_ENV)
            && !v.trim().is_empty()
        {
            return MasterKey::from_hex(&v);
        }
        let path = MasterKey::default_path(db);
        match std::fs::read_to_string(&path) {
            Ok(text) => MasterKey::from_hex(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::MasterKey {
                message: format!(
                    "no master key: {} does not exist and {MASTER_KEY_ENV} is not set (run `rapport init`)",
                    path.display()
                ),
            }),
            Err(e) => Err(StoreError::MasterKey {
                message: format!("cannot read {}: {e}", path.display()),
            }),
        }
    }

    /// Writes the key to a new file readable by its owner only. Refuses to overwrite one.
    pub fn write_new(&self, path: &Path) -> Result<(), StoreError> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| StoreError::MasterKey {
            message: format!("cannot create {}: {e}", path.display()),
        })?;
        writeln!(f, "{}", self.to_hex()).map_err(|e| StoreError::MasterKey {
            message: format!("cannot write {}: {e}", path.display()),
        })?;
        f.sync_all().map_err(|e| StoreError::MasterKey {
            message: format!("cannot write {}: {e}", path.display()),
        })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// A file path beside `db`: `rapport.db` → `rapport.db.<suffix>`.
pub fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".");
    name.push(suffix);
    db.with_file_name(name)
}

/// One person's data key.
#[derive(Clone)]
pub struct PersonKey(XChaCha20Poly1305);

/// Seals and opens with random nonces from a generator seeded once from the OS.
pub struct Sealer {
    rng: StdRng,
}

impl Default for Sealer {
    fn default() -> Self {
        Sealer {
            rng: StdRng::from_os_rng(),
        }
    }
}

impl Sealer {
    /// Encrypts `plain` with `key`; the result is nonce ‖ ciphertext ‖ tag.
    pub fn seal(
        &mut self,
        key: &PersonKey,
        aad: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill_bytes(&mut nonce);
        let ct = key
            .0
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| StoreError::Vault {
                message: "sealing failed".into(),
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }
}

/// Decrypts what [`Sealer::seal`] produced. Fails if the key, the data or the AAD differ.
pub fn open(key: &PersonKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed.len() < NONCE_LEN {
        return Err(StoreError::Vault {
            message: "a sealed field is truncated".into(),
        });
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    key.0
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| StoreError::Vault {
            message: "a sealed field does not open with its person's key (wrong master key?)"
                .into(),
        })
}

/// Opens the sealed personal fields of the event `source`/`id`.
pub fn open_personal(
    key: &PersonKey,
    source: &str,
    id: &str,
    sealed: &[u8],
) -> Result<domain::Personal, StoreError> {
    let plain = open(key, &aad(source, id), sealed)?;
    serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt {
        message: format!("sealed fields of {source}/{id}: {e}"),
    })
}

/// The associated data binding a sealed blob to its event.
pub fn aad(source: &str, id: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(source.len() + id.len() + 1);
    v.extend_from_slice(source.as_bytes());
    v.push(0);
    v.extend_from_slice(id.as_bytes());
    v
}

/// Migrations of the vault file, applied in order on open (`PRAGMA user_version`).
const VAULT_MIGRATIONS: &[&str] = &[
    include_str!("migrations/vault_0001.sql"),
    include_str!("migrations/vault_0002.sql"),
];

/// How many unwrapped person keys a vault keeps at most.
const KEY_CACHE: usize = 65_536;

/// The vault file: person keys, wrapped by the master key.
pub struct Vault {
    path: PathBuf,
    conn: Connection,
    master: MasterKey,
    cache: HashMap<String, PersonKey>,
    sealer: Sealer,
}

impl Vault {
    /// Creates a new vault at `path` with the identity `id` it shares with its ledger.
    /// Refuses to touch a file that is already there: it may be another ledger's vault.
    pub fn create(path: &Path, master: MasterKey, id: &str) -> Result<Vault, StoreError> {
        if path.exists() {
            return Err(StoreError::WrongVault {
                message: format!(
                    "{} already exists: it is the key vault of another ledger (or of an earlier \
                     `rapport init`); move it away first",
                    path.display()
                ),
            });
        }
        let vault = Vault::connect(path, master, OpenFlags::SQLITE_OPEN_CREATE)?;
        vault.set_id(id)?;
        Ok(vault)
    }

    /// Opens the existing vault at `path`. A missing vault is an error, never a new empty one:
    /// every sealed field of the ledger needs the keys in it.
    pub fn open(path: &Path, master: MasterKey) -> Result<Vault, StoreError> {
        if !path.exists() {
            return Err(StoreError::WrongVault {
                message: format!(
                    "the key vault {} is missing: it holds every person's key, so restore it from \
                     the backup taken with this ledger (rapport never makes a new one for an \
                     existing ledger)",
                    path.display()
                ),
            });
        }
        Vault::connect(path, master, OpenFlags::empty())
    }

    fn connect(path: &Path, master: MasterKey, create: OpenFlags) -> Result<Vault, StoreError> {
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
        conn.busy_timeout(crate::sqlite::BUSY_TIMEOUT)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > VAULT_MIGRATIONS.len() as i64 {
            return Err(StoreError::NotALedger {
                message: format!(
                    "the key vault {} was written by a newer rapport (schema {version})",
                    path.display()
                ),
            });
        }
        for (i, sql) in VAULT_MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        let vault = Vault {
            path: path.to_owned(),
            conn,
            master,
            cache: HashMap::new(),
            sealer: Sealer::default(),
        };
        vault.check_master()?;
        Ok(vault)
    }

    /// The identity this vault shares with its ledger (`None` for a vault made before
    /// identities existed).
    pub fn id(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'vault_id'", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Records the identity this vault shares with its ledger.
    pub fn set_id(&self, id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('vault_id', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![id],
        )?;
        Ok(())
    }

    /// A random secret of the ledger's own, kept wrapped in the vault under `name` and made on
    /// first use. Unlike [`Vault::derive`], it survives re-wrapping under a new master key.
    pub fn secret(&self, name: &str) -> Result<[u8; KEY_LEN], StoreError> {
        let aad = format!("secret:{name}");
        let found: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT wrapped FROM secrets WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(blob) = found {
            return self.unwrap_raw(&aad, &blob);
        }
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        let blob = self.wrap(&aad, &k)?;
        // Two processes may make it at once: the first one stored wins, and both read it back.
        self.conn.execute(
            "INSERT INTO secrets (name, wrapped) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, blob],
        )?;
        let blob: Vec<u8> = self.conn.query_row(
            "SELECT wrapped FROM secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?;
        self.unwrap_raw(&aad, &blob)
    }

    /// A secret derived from the master key for `purpose` (see [`MasterKey::derive`]).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.master.derive(purpose)
    }

    /// A sealer for another thread, over a read-only view of this vault.
    pub fn seal_ahead(&self) -> Result<SealAhead, StoreError> {
        SealAhead::open(&self.path, self.master.clone())
    }

    /// Opens the vault read-only, for sealing ahead on another thread (see [`SealAhead`]).
    fn open_read_only(path: &Path, master: MasterKey) -> Result<Vault, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(crate::sqlite::BUSY_TIMEOUT)?;
        let vault = Vault {
            path: path.to_owned(),
            conn,
            master,
            cache: HashMap::new(),
            sealer: Sealer::default(),
        };
        vault.check_master()?;
        Ok(vault)
    }

    /// Stores a key wrapped elsewhere (by [`SealAhead`]) in the current vault transaction.
    pub fn insert_wrapped(&mut self, person: &str, wrapped: &[u8]) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO keys (person, wrapped) VALUES (?1, ?2)")?
            .execute(params![person, wrapped])?;
        Ok(())
    }

    /// The vault remembers a sealed check value, so a wrong master key is caught at once
    /// instead of showing up as unreadable text later.
    fn check_master(&self) -> Result<(), StoreError> {
        let check: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT wrapped FROM keys WHERE person = ''", [], |r| {
                r.get(0)
            })
            .optional()?;
        match check {
            Some(blob) => {
                self.unwrap_key("", &blob)
                    .map(|_| ())
                    .map_err(|_| StoreError::MasterKey {
                        message: "the master key does not open this ledger's vault".into(),
                    })
            }
            None => {
                let mut k = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut k);
                let blob = self.wrap("", &k)?;
                self.conn.execute(
                    "INSERT INTO keys (person, wrapped) VALUES ('', ?1)",
                    params![blob],
                )?;
                Ok(())
            }
        }
    }

    fn wrap(&self, person: &str, key: &[u8; KEY_LEN]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .master
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: person.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Vault {
                message: "wrapping a key failed".into(),
            })?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    fn unwrap_key(&self, person: &str, blob: &[u8]) -> Result<PersonKey, StoreError> {
        let k = self.unwrap_raw(person, blob)?;
        Ok(PersonKey(XChaCha20Poly1305::new((&k).into())))
    }

    /// Opens a wrapped key whose associated data is `aad`.
    fn unwrap_raw(&self, aad: &str, blob: &[u8]) -> Result<[u8; KEY_LEN], StoreError> {
        if blob.len() < NONCE_LEN {
            return Err(StoreError::Vault {
                message: format!("the key of {aad} is damaged"),
            });
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let raw = self
            .master
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::MasterKey {
                message: "the master key does not open this ledger's vault".into(),
            })?;
        raw.try_into().map_err(|_| StoreError::Vault {
            message: format!("the key of {aad} is damaged"),
        })
    }

    /// The person's key, if they have one.
    pub fn get(&mut self, person: &str) -> Result<Option<PersonKey>, StoreError> {
        if let Some(k) = self.cache.get(person) {
            return Ok(Some(k.clone()));
        }
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT wrapped FROM keys WHERE person = ?1")?
            .query_row(params![person], |r| r.get(0))
            .optional()?;
        match blob {
            None => Ok(None),
            Some(b) => {
                let k = self.unwrap_key(person, &b)?;
                // A server opens cards of many people: keep the cache bounded.
                if self.cache.len() >= KEY_CACHE {
                    self.cache.clear();
                }
                self.cache.insert(person.to_owned(), k.clone());
                Ok(Some(k))
            }
        }
    }

    /// Forgets a cached key (the vault row is untouched).
    pub fn evict(&mut self, person: &str) {
        self.cache.remove(person);
    }

    /// Forgets every cached key.
    pub fn evict_all(&mut self) {
        self.cache.clear();
    }

    /// Destroys the person's key for good: the row is deleted (zeroed, with secure_delete),
    /// the vault's log checkpointed away and the file vacuumed, so no copy of the key is left.
    pub fn destroy(&mut self, person: &str) -> Result<(), StoreError> {
        self.cache.remove(person);
        self.conn
            .execute("DELETE FROM keys WHERE person = ?1", params![person])?;
        self.conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        Ok(())
    }

    /// The person's key, created (inside the current vault transaction) if they have none.
    pub fn get_or_create(&mut self, person: &str) -> Result<PersonKey, StoreError> {
        if let Some(k) = self.get(person)? {
            return Ok(k);
        }
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        let blob = self.wrap(person, &k)?;
        self.conn
            .prepare_cached("INSERT INTO keys (person, wrapped) VALUES (?1, ?2)")?
            .execute(params![person, blob])?;
        let key = PersonKey(XChaCha20Poly1305::new((&k).into()));
        self.cache.insert(person.to_owned(), key.clone());
        Ok(key)
    }

    pub fn sealer(&mut self) -> &mut Sealer {
        &mut self.sealer
    }

    pub fn begin(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    pub fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Rolls back and forgets keys created in the transaction.
    pub fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.cache.clear();
    }
}

/// Personal fields sealed ahead of storing, and the person's key if it was made for them.
#[derive(Debug)]
pub struct Sealed {
    pub(crate) blob: Vec<u8>,
    /// The new person key, wrapped, to be stored in the vault with the event.
    pub(crate) new_key: Option<Vec<u8>>,
    /// An answer's shingles, computed here too so the writing thread only writes.
    pub(crate) shingles: Option<Vec<u64>>,
}

/// Seals events on another thread than the one writing them: a read-only view of the vault,
/// its own key cache, and keys it makes itself for people the vault does not know yet (the
/// writer stores those in the vault in the same transaction as the events).
pub struct SealAhead {
    vault: Vault,
    plain: Vec<u8>,
}

impl SealAhead {
    pub(crate) fn open(path: &Path, master: MasterKey) -> Result<SealAhead, StoreError> {
        Ok(SealAhead {
            vault: Vault::open_read_only(path, master)?,
            plain: Vec::with_capacity(512),
        })
    }

    /// Seals the event's personal fields with its person's key; `None` when it has none.
    pub fn seal(&mut self, e: &domain::NewEvent) -> Result<Option<Sealed>, StoreError> {
        if e.personal.is_empty() {
            return Ok(None);
        }
        let person = e.person.as_str();
        let (key, new_key) = match self.vault.get(person)? {
            Some(k) => (k, None),
            None => {
                let mut raw = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut raw);
                let wrapped = self.vault.wrap(person, &raw)?;
                let key = PersonKey(XChaCha20Poly1305::new((&raw).into()));
                self.vault.cache.insert(person.to_owned(), key.clone());
                (key, Some(wrapped))
            }
        };
        self.plain.clear();
        serde_json::to_writer(&mut self.plain, &e.personal).map_err(|err| StoreError::Vault {
            message: format!("encoding personal fields: {err}"),
        })?;
        let aad = aad(e.source.as_str(), e.id.as_str());
        let blob = self.vault.sealer.seal(&key, &aad, &self.plain)?;
        Ok(Some(Sealed {
            blob,
            new_key,
            shingles: crate::sqlite::answer_shingles(e),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_the_same_key_and_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Vault::create(&dir.path().join("v"), MasterKey::generate(), "t").unwrap();
        let a = v.get_or_create("a").unwrap();
        let b = v.get_or_create("b").unwrap();
        let mut s = Sealer::default();
        let blob = s.seal(&a, b"src\0id", b"hello Anna").unwrap();
        assert!(!blob.windows(4).any(|w| w == b"Anna"));
        assert_eq!(open(&a, b"src\0id", &blob).unwrap(), b"hello Anna");
        assert!(open(&b, b"src\0id", &blob).is_err());
        assert!(open(&a, b"src\0other", &blob).is_err());
    }

    #[test]
    fn a_wrong_master_key_is_refused_when_the_vault_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let good = MasterKey::generate();
        drop(Vault::create(&path, good.clone(), "t").unwrap());
        assert!(Vault::open(&path, MasterKey::generate()).is_err());
        assert!(Vault::open(&path, good).is_ok());
    }

    #[test]
    fn a_missing_vault_is_never_made_anew_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let Err(e) = Vault::open(&path, MasterKey::generate()) else {
            panic!("opened a vault that is not there")
        };
        assert!(e.to_string().contains("restore it"), "{e}");
        assert!(!path.exists(), "opening made a file");
    }

    #[test]
    fn creating_a_vault_refuses_a_file_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        drop(Vault::create(&path, MasterKey::generate(), "a").unwrap());
        assert!(Vault::create(&path, MasterKey::generate(), "b").is_err());
        assert_eq!(
            Vault::open(&path, MasterKey::generate())
                .err()
                .map(|e| e.to_string()),
            Some("the master key does not open this ledger's vault".into())
        );
    }

    #[test]
    fn a_named_secret_is_made_once_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let key = MasterKey::generate();
        let first = Vault::create(&path, key.clone(), "a")
            .unwrap()
            .secret("x")
            .unwrap();
        let again = Vault::open(&path, key).unwrap();
        assert_eq!(again.secret("x").unwrap(), first);
        assert_ne!(again.secret("y").unwrap(), first);
        assert_eq!(again.id().unwrap().as_deref(), Some("a"));
    }

    #[test]
    fn the_master_key_round_trips_through_hex() {
        let k = MasterKey::generate();
        assert_eq!(MasterKey::from_hex(&k.to_hex()).unwrap().0, k.0);
        assert!(MasterKey::from_hex("abc").is_err());
    }
}
