//! What every request shares: the application (and through it the ledger, whatever its
//! backend), the current snapshot, the audit writer and the token cache.
//!
//! The application layer is blocking, so requests call it on tokio's blocking threads; the
//! ledger pools its own connections. Audit entries from concurrent card views are committed
//! together by one thread, and each view waits for its entry to be committed before it shows
//! anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

use app::App;
use domain::{PersonId, Timestamp};
use rustc_hash::FxHashMap;
use store::{AuditEntry, StoreError, TokenRecord};
use tokio::sync::{Notify, oneshot};

use crate::snapshot::Snapshot;

/// How the server runs.
#[derive(Clone)]
pub struct Config {
    /// The ledger, opened.
    pub app: App,
    /// The shortest time between two rebuilds of everyone's figures after new events.
    pub refresh_after: Duration,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub body_limit: usize,
    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https` (behind a TLS proxy).
    pub secure_cookies: bool,
}

impl Config {
    pub fn new(app: App) -> Config {
        Config {
            app,
            refresh_after: Duration::from_secs(30),
            body_limit: 16 * 1024 * 1024,
            secure_cookies: false,
        }
    }
}

type AuditReply = oneshot::Sender<Result<(), String>>;

/// Commits audit entries in groups on its own thread.
pub struct AuditWriter {
    tx: Mutex<mpsc::Sender<(AuditEntry, AuditReply)>>,
}

impl AuditWriter {
    fn start(app: &App) -> Result<AuditWriter, StoreError> {
        let ledger = app.ledger().clone();
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
                    let result = ledger.audit_many(&entries).map_err(|e| e.to_string());
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

    fn send(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
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
        Ok(done)
    }

    /// Records that `actor` did `action` concerning `person`, and waits until it is committed.
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), String> {
        self.send(actor, action, person)?
            .await
            .map_err(|_| "the audit writer is gone".to_owned())?
    }
}

/// The application layer records card views through the same grouped writer (from a blocking
/// thread: it waits for the commit there).
impl app::Audit for AuditWriter {
    fn record(
        &self,
        actor: &str,
        action: &str,
        person: Option<&PersonId>,
    ) -> Result<(), StoreError> {
        let gone = |m: String| StoreError::Database { message: m };
        self.send(actor, action, person)
            .map_err(gone)?
            .blocking_recv()
            .map_err(|_| gone("the audit writer is gone".to_owned()))?
            .map_err(gone)
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
    /// The application layer over the ledger: every use case goes through it.
    pub app: App,
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
        let app = config.app.clone();
        let audit = AuditWriter::start(&app)?;
        let snapshot = Snapshot::build(&app, Timestamp::now())?;
        let pseudonym_key = app.secret("pseudonyms");
        let link_key = app.secret("links");
        Ok(Arc::new(AppState {
            config,
            app,
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
            let built =
                tokio::task::spawn_blocking(move || Snapshot::build(&state.app, Timestamp::now()))
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

    /// Stores events in one batch (blocking): all or nothing. While another writer (an import
    /// from the command line) holds the ledger, waits up to [`WRITER_WAIT`] and then fails
    /// busy (a 503: try again).
    pub fn append(
        &self,
        events: Vec<domain::NewEvent>,
        origin: &str,
    ) -> Result<store::BatchSummary, app::AppError> {
        let summary = self.app.append(events, origin, WRITER_WAIT)?;
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
        let found = self.app.ledger().token_by_hash(&hash)?;
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
        let ledger = self.app.ledger();
        let found = ledger.tombstone_key().and_then(|key| {
            Ok::<_, StoreError>((ledger.tombstones_after(snapshot.tombstones_seen)?, key))
        });
        match found {
            Ok((tombstones, key)) => snapshot
                .without_forgotten(&tombstones, |p| store::tombstone_of(&key, p.as_str()))
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
        let ledger = self.app.ledger();
        let newer = ledger.tombstone_key().and_then(|key| {
            Ok::<_, StoreError>((ledger.tombstones_after(current.tombstones_seen)?, key))
        });
        let (tombstones, key) = match newer {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("reading who was forgotten: {e}");
                return;
            }
        };
        if let Some(next) =
            current.without_forgotten(&tombstones, |p| store::tombstone_of(&key, p.as_str()))
        {
            if let Ok(mut slot) = self.snapshot.write() {
                *slot = Arc::new(next);
            }
            // The key cache may hold the forgotten person's key: not any more.
            self.app.ledger().keys().evict(None);
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
                let latest = state.app.ledger().latest_tombstone();
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
