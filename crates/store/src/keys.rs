//! Sealing personal data: a master key, one data key per person, and the seam every key
//! vault fits behind.
//!
//! Every personal field of an event is encrypted with XChaCha20-Poly1305 under the key of
//! the person it belongs to, with the event's `(source, id)` as associated data so a sealed
//! blob cannot be moved to another event. Person keys are stored wrapped by the master key in
//! a vault kept apart from the events (a file beside a SQLite ledger, a schema of its own in
//! PostgreSQL: each backend says where). Forgetting a person means destroying one row of the
//! vault: every copy of their sealed text, including old backups of the ledger, becomes noise.
//!
//! This module is the cryptography and the caching, the same for every backend; a backend
//! stores and fetches wrapped keys and implements [`KeyVault`].
//!
//! XChaCha20's 192-bit nonces are drawn at random for every seal; at that size random nonces
//! never collide in practice, which spares us a nonce counter that would have to survive
//! crashes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::{RngCore, SeedableRng, rngs::StdRng};

use crate::StoreError;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
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

    /// Wraps (encrypts) a key under the master key, bound to `aad` (the person's id, or
    /// `secret:NAME` for the ledger's own secrets) so a wrapped key cannot be moved.
    pub fn wrap(&self, aad: &str, key: &[u8; KEY_LEN]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Vault {
                message: "wrapping a key failed".into(),
            })?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    /// Opens what [`MasterKey::wrap`] made with the same `aad`.
    pub fn unwrap(&self, aad: &str, blob: &[u8]) -> Result<[u8; KEY_LEN], StoreError> {
        if blob.len() < NONCE_LEN {
            return Err(StoreError::Vault {
                message: format!("the key of {aad} is damaged"),
            });
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let raw = self
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

    /// A fresh random key, and it wrapped for `aad`.
    pub fn new_wrapped(&self, aad: &str) -> Result<(PersonKey, Vec<u8>), StoreError> {
        let mut raw = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut raw);
        let wrapped = self.wrap(aad, &raw)?;
        Ok((PersonKey::from_raw(&raw), wrapped))
    }

    /// A random value wrapped for the vault's check row: opened on every start, so a wrong
    /// master key is refused at once rather than found as unreadable text later.
    pub fn check_value(&self) -> Result<Vec<u8>, StoreError> {
        Ok(self.new_wrapped(CHECK)?.1)
    }

    /// Whether `blob` is a check value made by this master key.
    pub fn opens_check(&self, blob: &[u8]) -> Result<(), StoreError> {
        self.unwrap(CHECK, blob).map(|_| ())
    }
}

/// The person id under which a vault keeps its check value (no person has an empty id).
pub const CHECK: &str = "";

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

impl PersonKey {
    pub fn from_raw(raw: &[u8; KEY_LEN]) -> PersonKey {
        PersonKey(XChaCha20Poly1305::new(raw.into()))
    }
}

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

/// How many unwrapped person keys a [`Keyring`] keeps at most.
const KEY_CACHE: usize = 65_536;

/// Where wrapped person keys are fetched from: a backend's vault.
pub trait WrappedKeys: Send + Sync {
    /// The person's wrapped key, if they have one.
    fn wrapped(&self, person: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Unwrapped person keys, cached and shared by every thread of a process: the master key, a
/// bounded cache, and the backend's [`WrappedKeys`] to fetch what the cache lacks.
pub struct Keyring {
    master: MasterKey,
    cache: Mutex<HashMap<String, PersonKey>>,
    source: Box<dyn WrappedKeys>,
}

impl Keyring {
    pub fn new(master: MasterKey, source: Box<dyn WrappedKeys>) -> Keyring {
        Keyring {
            master,
            cache: Mutex::new(HashMap::new()),
            source,
        }
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// A secret for one purpose derived from the master key (see [`MasterKey::derive`]).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.master.derive(purpose)
    }

    /// The person's key, if they have one.
    pub fn key(&self, person: &str) -> Result<Option<PersonKey>, StoreError> {
        if let Some(k) = self.cache.lock().ok().and_then(|c| c.get(person).cloned()) {
            return Ok(Some(k));
        }
        let Some(blob) = self.source.wrapped(person)? else {
            return Ok(None);
        };
        let key = PersonKey::from_raw(&self.master.unwrap(person, &blob)?);
        self.remember(person, &key);
        Ok(Some(key))
    }

    /// Puts a key in the cache (one just made and committed).
    pub fn remember(&self, person: &str, key: &PersonKey) {
        if let Ok(mut cache) = self.cache.lock() {
            // A server opens cards of many people: keep the cache bounded.
            if cache.len() >= KEY_CACHE {
                cache.clear();
            }
            cache.insert(person.to_owned(), key.clone());
        }
    }

    /// Forgets the cached key of `person`, or every cached key (`None`): the person was
    /// forgotten, here or elsewhere.
    pub fn evict(&self, person: Option<&str>) {
        if let Ok(mut cache) = self.cache.lock() {
            match person {
                Some(p) => {
                    cache.remove(p);
                }
                None => cache.clear(),
            }
        }
    }
}

/// The personal fields of an event as a backend stores them: encoded for sealing.
pub fn encode_personal(personal: &domain::Personal, out: &mut Vec<u8>) -> Result<(), StoreError> {
    out.clear();
    serde_json::to_writer(&mut *out, personal).map_err(|err| StoreError::Vault {
        message: format!("encoding personal fields: {err}"),
    })
}

/// Personal fields sealed ahead of storing, and the person's key if it was made for them.
#[derive(Debug)]
pub struct Sealed {
    pub blob: Vec<u8>,
    /// The new person key, wrapped, to be stored in the vault with the event.
    pub new_key: Option<Vec<u8>>,
    /// An answer's words, computed here too so the writing thread only writes.
    pub shingles: Option<Vec<u64>>,
}

/// Seals events on another thread than the one writing them: the shared [`Keyring`] for people
/// the vault knows, and keys it makes itself for people it does not know yet (the writer
/// stores those in the vault with the events, in the same batch).
pub struct SealAhead {
    keys: Arc<Keyring>,
    made: HashMap<String, PersonKey>,
    sealer: Sealer,
    plain: Vec<u8>,
}

impl SealAhead {
    pub fn new(keys: Arc<Keyring>) -> SealAhead {
        SealAhead {
            keys,
            made: HashMap::new(),
            sealer: Sealer::default(),
            plain: Vec::with_capacity(512),
        }
    }

    /// Seals the event's personal fields with its person's key; `None` when it has none.
    pub fn seal(&mut self, e: &domain::NewEvent) -> Result<Option<Sealed>, StoreError> {
        if e.personal.is_empty() {
            return Ok(None);
        }
        let person = e.person.as_str();
        let (key, new_key) = match self.made.get(person) {
            Some(k) => (k.clone(), None),
            None => match self.keys.key(person)? {
                Some(k) => (k, None),
                None => {
                    let (key, wrapped) = self.keys.master().new_wrapped(person)?;
                    self.made.insert(person.to_owned(), key.clone());
                    (key, Some(wrapped))
                }
            },
        };
        encode_personal(&e.personal, &mut self.plain)?;
        let aad = aad(e.source.as_str(), e.id.as_str());
        let blob = self.sealer.seal(&key, &aad, &self.plain)?;
        Ok(Some(Sealed {
            blob,
            new_key,
            shingles: answer_shingles(e),
        }))
    }
}

/// The words a `contact.answered` event's text gives, for the index of scripts; `None` for
/// other events.
pub fn answer_shingles(e: &domain::NewEvent) -> Option<Vec<u64>> {
    match &e.body {
        domain::Body::ContactAnswered { .. } => Some(
            e.personal
                .text
                .as_deref()
                .map(domain::scripts::prepare)
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;
    impl WrappedKeys for Nothing {
        fn wrapped(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
    }

    #[test]
    fn sealed_text_opens_only_with_the_same_key_and_event() {
        let master = MasterKey::generate();
        let (a, _) = master.new_wrapped("a").unwrap();
        let (b, _) = master.new_wrapped("b").unwrap();
        let mut s = Sealer::default();
        let blob = s.seal(&a, b"src\0id", b"hello Anna").unwrap();
        assert!(!blob.windows(4).any(|w| w == b"Anna"));
        assert_eq!(open(&a, b"src\0id", &blob).unwrap(), b"hello Anna");
        assert!(open(&b, b"src\0id", &blob).is_err());
        assert!(open(&a, b"src\0other", &blob).is_err());
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_master_key_and_its_own_name() {
        let master = MasterKey::generate();
        let blob = master.wrap("anna", &[7; KEY_LEN]).unwrap();
        assert_eq!(master.unwrap("anna", &blob).unwrap(), [7; KEY_LEN]);
        assert!(master.unwrap("bob", &blob).is_err());
        assert!(MasterKey::generate().unwrap("anna", &blob).is_err());
        let check = master.check_value().unwrap();
        assert!(master.opens_check(&check).is_ok());
        assert!(MasterKey::generate().opens_check(&check).is_err());
    }

    #[test]
    fn sealing_ahead_makes_one_key_per_new_person_and_reuses_it() {
        let keys = Arc::new(Keyring::new(MasterKey::generate(), Box::new(Nothing)));
        let mut ahead = SealAhead::new(keys);
        let e = |id: &str| {
            domain::NewEvent::from_json_line(&format!(
                r#"{{"source":"s","id":"{id}","kind":"wish.stated","person":"p","at":"2024-01-01T00:00:00Z","text":"hi"}}"#
            ))
            .unwrap()
        };
        let first = ahead.seal(&e("1")).unwrap().unwrap();
        let second = ahead.seal(&e("2")).unwrap().unwrap();
        assert!(first.new_key.is_some());
        assert!(second.new_key.is_none());
    }

    #[test]
    fn the_master_key_round_trips_through_hex() {
        let k = MasterKey::generate();
        assert_eq!(MasterKey::from_hex(&k.to_hex()).unwrap().0, k.0);
        assert!(MasterKey::from_hex("abc").is_err());
    }
}
