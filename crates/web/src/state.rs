//! What every request shares: connections to the ledger, the current snapshot, the audit
//! writer and the token cache.
//!
//! SQLite connections are blocking, so requests use them on tokio's blocking threads: reads
//! through a small pool (WAL lets them run beside a writer), writes through the one writer.
//! Audit entries from concurrent card views are committed together by one thread, and each
//! view waits for its entry to be committed before it shows anything.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

use domain::{PersonId, Timestamp};
use rustc_hash::FxHashMap;
use store::{Access, AuditEntry, MasterKey, SqliteStore, StoreError, TokenRecord};
use tokio::sync::{Notify, oneshot};

use crate::snapshot::Snapshot;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: PathBuf,
    pub master: MasterKey,
    /// The shortest time between two rebuilds of everyone's figures after new events.
    pub refresh_after: Duration,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub body_limit: usize,
    /// Read connections to the ledger.
    pub readers: usize,
    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https` (behind a TLS proxy).
    pub secure_cookies: bool,
}

impl Config {
    pub fn new(db: PathBuf, master: MasterKey) -> Config {
        Config {
            db,
            master,
            refresh_after: Duration::from_secs(30),
            body_limit: 16 * 1024 * 1024,
            readers: 4,
            secure_cookies: false,
        }
    }
}

/// A few read connections, each used by one blocking task at a time.
pub struct Pool {
    stores: Vec<Mutex<SqliteStore>>,
    next: AtomicUsize,
}

impl Pool {
    fn open(config: &Config) -> Result<Pool, StoreError> {
        let stores = (0..config.readers.max(1))
            .map(|_| SqliteStore::open(&config.db, config.master.clone()).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Pool {
            stores,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `f` on every connection in turn (blocking).
    pub fn each(&self, mut f: impl FnMut(&mut SqliteStore)) {
        for s in &self.stores {
            match s.lock() {
                Ok(mut s) => f(&mut s),
                Err(p) => f(&mut p.into_inner()),
            }
        }
    }

    /// Runs `f` with a free connection (blocking: call from a blocking thread).
    pub fn with<R>(&self, f: impl FnOnce(&mut SqliteStore) -> R) -> R {
        let n = self.stores.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(mut s) = self.stores[(start + i) % n].try_lock() {
                return f(&mut s);
            }
        }
        let mut s = match self.stores[start % n].lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut s)
    }
}

type AuditReply = oneshot::Sender<Result<(), String>>;

/// Commits audit entries in groups on its own thread.
pub struct AuditWriter {
    tx: Mutex<mpsc::Sender<(AuditEntry, AuditReply)>>,
}

impl AuditWriter {
    fn start(config: &Config) -> Result<AuditWriter, StoreError> {
        let mut store = SqliteStore::open(&config.db, config.master.clone())?;
        let (tx, rx) = mpsc::channel::<(AuditEntry, AuditReply)>();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        group.push(more);
                        if group.len() >= 1024 {
                            break;
                        }
                    }
                    let entries: Vec<AuditEntry> = group.iter().map(|(e, _)| e.clone()).collect();
                    let result = store.audit_many(&entries).map_err(|e| e.to_string());
                    for (_, reply) in group {
                        let _ = reply.send(result.clone());
                    }
                }
            })
            .map_err(|e| StoreError::Vault {
                message: format!("starting the audit writer: {e}"),
            })?;
        Ok(AuditWriter { tx: Mutex::new(tx) })
    }

    /// Records that `actor` did `action` concerning `person`, and waits until it is committed.
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), String> {
        let (reply, done) = oneshot::channel();
        let entry = AuditEntry {
            at: Timestamp::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            person: person.map(|p| p.to_string()),
        };
        self.tx
            .lock()
            .map_err(|_| "the audit writer is gone".to_owned())?
            .send((entry, reply))
            .map_err(|_| "the audit writer is gone".to_owned())?;
        done.await
            .map_err(|_| "the audit writer is gone".to_owned())?
    }
}

/// How often a server asks whether someone was forgotten elsewhere.
pub const FORGET_POLL: Duration = Duration::from_secs(1);

/// How long a write from the web waits for another writer before answering "busy".
pub const WRITER_WAIT: Duration = Duration::from_secs(2);

/// How long a looked-up token is trusted before it is looked up again (a token revoked from
/// the command line stops working within this time; one revoked on the web at once).
const TOKEN_CACHE: Duration = Duration::from_secs(2);

/// Token look-ups by hash, with when they were made.
type TokenCache = FxHashMap<[u8; 32], (Option<TokenRecord>, Instant)>;

pub struct AppState {
    pub config: Config,
    pub readers: Pool,
    pub writer: Mutex<SqliteStore>,
    pub audit: AuditWriter,
    snapshot: RwLock<Arc<Snapshot>>,
    dirty: AtomicBool,
    wake: Notify,
    tokens: Mutex<TokenCache>,
    /// Key for analysts' pseudonyms.
    pub pseudonym_key: [u8; 32],
    /// Key for people's own links.
    pub link_key: [u8; 32],
    /// Serialises swaps of the snapshot (a rebuild and a forgetting must not undo each other).
    swapping: Mutex<()>,
}

impl AppState {
    /// Opens the ledger and computes the first snapshot (blocking).
    pub fn open(config: Config) -> Result<Arc<AppState>, StoreError> {
        let readers = Pool::open(&config)?;
        let writer = SqliteStore::open(&config.db, config.master.clone())?;
        let audit = AuditWriter::start(&config)?;
        let snapshot = readers.with(|s| Snapshot::build(s, Timestamp::now()))?;
        let pseudonym_key = writer.secret("pseudonyms");
        let link_key = writer.secret("links");
        Ok(Arc::new(AppState {
            config,
            readers,
            writer: Mutex::new(writer),
            audit,
            snapshot: RwLock::new(Arc::new(snapshot)),
            dirty: AtomicBool::new(false),
            wake: Notify::new(),
            tokens: Mutex::new(FxHashMap::default()),
            pseudonym_key,
            link_key,
            swapping: Mutex::new(()),
        }))
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// New events are in the ledger: rebuild everyone's figures soon.
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Rebuilds the snapshot after writes (no more often than `refresh_after`), and once an
    /// hour anyway, since readings move with time (an invoice becomes overdue).
    pub async fn refresh_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(3600), self.wake.notified()).await;
            tokio::time::sleep(self.config.refresh_after).await;
            self.dirty.store(false, Ordering::Release);
            let state = self.clone();
            let built = tokio::task::spawn_blocking(move || {
                state.readers.with(|s| Snapshot::build(s, Timestamp::now()))
            })
            .await;
            match built {
                Ok(Ok(s)) => {
                    let state = self.clone();
                    let _ = tokio::task::spawn_blocking(move || state.install(s)).await;
                    tracing::info!("everyone's readings refreshed");
                }
                Ok(Err(e)) => tracing::error!("refreshing readings: {e}"),
                Err(e) => tracing::error!("refreshing readings: {e}"),
            }
            if self.dirty.load(Ordering::Acquire) {
                self.wake.notify_one();
            }
        }
    }

    /// Stores events in one batch with the writer (blocking): all or nothing. While another
    /// writer (an import from the command line) holds the ledger, waits up to
    /// [`WRITER_WAIT`] and then answers [`StoreError::Busy`] (a 503: try again).
    pub fn append(&self, events: Vec<domain::NewEvent>) -> Result<store::BatchSummary, StoreError> {
        use store::Store;
        let summary = {
            let mut store = self.writer.lock().map_err(|_| StoreError::Corrupt {
                message: "the writer is poisoned".into(),
            })?;
            let started = Instant::now();
            let mut batch = store.batch_waiting("web", &mut |_| started.elapsed() < WRITER_WAIT)?;
            for e in events {
                batch.append(e)?;
            }
            batch.commit()?
        };
        if summary.added > 0 {
            self.mark_dirty();
        }
        Ok(summary)
    }

    /// The live token with this hash (cached briefly; blocking).
    pub fn token(&self, hash: [u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        if let Ok(cache) = self.tokens.lock()
            && let Some((t, at)) = cache.get(&hash)
            && at.elapsed() < TOKEN_CACHE
        {
            return Ok(t.clone());
        }
        let found = self.readers.with(|s| s.token_by_hash(&hash))?;
        if let Ok(mut cache) = self.tokens.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Puts a freshly built snapshot in place, without anyone forgotten while it was built
    /// (blocking).
    fn install(&self, built: Snapshot) {
        let _turn = self.swapping.lock();
        let built = self.without_forgotten(built);
        if let Ok(mut slot) = self.snapshot.write() {
            *slot = Arc::new(built);
        }
    }

    /// `snapshot` without the people forgotten after it was built (blocking).
    fn without_forgotten(&self, snapshot: Snapshot) -> Snapshot {
        let found = self.readers.with(|s| {
            let key = s.tombstone_key()?;
            Ok::<_, StoreError>((s.tombstones_after(snapshot.tombstones_seen)?, key))
        });
        match found {
            Ok((tombstones, key)) => snapshot
                .without_forgotten(&tombstones, |p| store::sqlite::tombstone_mac(&key, p))
                .unwrap_or(snapshot),
            Err(e) => {
                tracing::error!("reading who was forgotten: {e}");
                snapshot
            }
        }
    }

    /// Takes out of the current snapshot everyone forgotten since it was built — by this
    /// server, another one, or the command line (blocking; cheap when nobody was).
    pub fn catch_up_forgotten(&self) {
        let _turn = self.swapping.lock();
        let current = self.snapshot();
        let newer = self.readers.with(|s| {
            let key = s.tombstone_key()?;
            Ok::<_, StoreError>((s.tombstones_after(current.tombstones_seen)?, key))
        });
        let (tombstones, key) = match newer {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("reading who was forgotten: {e}");
                return;
            }
        };
        if let Some(next) =
            current.without_forgotten(&tombstones, |p| store::sqlite::tombstone_mac(&key, p))
        {
            if let Ok(mut slot) = self.snapshot.write() {
                *slot = Arc::new(next);
            }
            // Readers may hold the forgotten person's key in their caches: not any more.
            self.readers.each(|r| r.evict_all_keys());
            tracing::info!("took {} forgetting(s) into account", tombstones.len());
        }
    }

    /// Every [`FORGET_POLL`], asks the ledger whether anyone was forgotten (by another server
    /// or the command line) and takes them out of lists, search and charts at once.
    pub async fn watch_forgotten(self: Arc<Self>) {
        loop {
            tokio::time::sleep(FORGET_POLL).await;
            let state = self.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let seen = state.snapshot().tombstones_seen;
                let latest = state.readers.with(|s| s.latest_tombstone());
                match latest {
                    Ok(latest) if latest > seen => state.catch_up_forgotten(),
                    Ok(_) => {}
                    Err(e) => tracing::warn!("asking the ledger who was forgotten: {e}"),
                }
            })
            .await;
        }
    }

    /// Forgets every cached token look-up (after a revocation on the web).
    pub fn forget_tokens(&self) {
        if let Ok(mut cache) = self.tokens.lock() {
            cache.clear();
        }
    }
}
