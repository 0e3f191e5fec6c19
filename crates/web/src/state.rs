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
use domain::{Day, PersonId, Timestamp};
use rustc_hash::FxHashMap;
use store::{AuditEntry, StoreError, TokenRecord};
use tokio::sync::{Notify, oneshot};

use crate::snapshot::{Names, Snapshot};

/// How the server runs.
#[derive(Clone)]
pub struct Config {
    /// The ledger, opened.
    pub app: App,
    /// How soon lists and charts follow new events, and how often the server looks for
    /// writes by others (other servers, the command line) and a new day.
    pub refresh_after: Duration,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub body_limit: usize,
    /// Mark cookies `Secure` even without `X-Forwarded-Proto: https` (behind a TLS proxy).
    pub secure_cookies: bool,
    /// Serve the ledger as of the end of this day (a ledger that ended in the past): kept
    /// readings are kept for it, cards are read as of it. `None`: today, and now.
    pub as_of: Option<Day>,
}

impl Config {
    pub fn new(app: App) -> Config {
        Config {
            app,
            refresh_after: Duration::from_secs(2),
            body_limit: 16 * 1024 * 1024,
            secure_cookies: false,
            as_of: None,
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

/// Brings the kept readings up to date without waiting for another writer (one that holds
/// the ledger is importing, and will have them caught up itself); `first`: at start, when a
/// long first computation is announced in the log.
fn keep_up(app: &App, first: bool, as_of: Option<Day>) -> Option<app::KeptReport> {
    let announced = AtomicBool::new(false);
    let progress = |done: u64, total: u64| {
        if first && total >= 10_000 && !announced.swap(true, Ordering::Relaxed) {
            tracing::info!("keeping readings for {total} people (the first time takes a while)");
        }
        let _ = done;
    };
    let today = as_of.unwrap_or_else(|| app::today().unwrap_or_else(|_| Timestamp::now().day()));
    match app.keep_up(today, &mut |_| false, &progress) {
        Ok(r) => {
            if r.recomputed > 0 {
                tracing::info!("readings refreshed for {} people", r.recomputed);
            }
            Some(r)
        }
        Err(e) if e.is_busy() => {
            tracing::debug!("kept readings: {e}; later");
            None
        }
        Err(e) => {
            tracing::warn!("keeping readings up to date: {e}");
            None
        }
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
    /// Every purpose the business uses, for people's own pages.
    pub purposes: crate::selfservice::Purposes,
}

impl AppState {
    /// Opens the ledger: brings its kept readings up to date (everyone's, the first time a
    /// ledger is opened by this version) and reads the first snapshot (blocking).
    pub fn open(config: Config) -> Result<Arc<AppState>, StoreError> {
        let app = config.app.clone();
        let audit = AuditWriter::start(&app)?;
        let _ = keep_up(&app, true, config.as_of);
        let names = Arc::new(Names::default());
        let snapshot = Snapshot::build(&app, names.clone())?;
        {
            // Names for search are read in the background: opening every name takes seconds
            // on a large ledger, and nothing else waits for it.
            let app = app.clone();
            let _ = std::thread::Builder::new()
                .name("names".into())
                .spawn(move || names.preload(&app));
        }
        let pseudonym_key = app.secret("pseudonyms");
        let link_key = app.secret("links");
        let state = Arc::new(AppState {
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
            purposes: Default::default(),
        });
        {
            // Read ahead of the first own page, as the names are (it reads every event).
            let state = state.clone();
            let _ = std::thread::Builder::new()
                .name("purposes".into())
                .spawn(move || state.purposes.preload(&state.app));
        }
        Ok(state)
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// New events are in the ledger: bring the kept readings up to date soon.
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Keeps the readings up to date: after this server's writes (at most every
    /// `refresh_after`), and every `refresh_after` anyway, since other servers and the
    /// command line write too and a new day moves some readings by itself. A catch-up costs
    /// what changed; the snapshot is read again when the kept readings moved.
    pub async fn refresh_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(self.config.refresh_after, self.wake.notified()).await;
            tokio::time::sleep(self.config.refresh_after.min(Duration::from_millis(200))).await;
            self.dirty.store(false, Ordering::Release);
            let state = self.clone();
            let _ = tokio::task::spawn_blocking(move || state.refresh()).await;
            if self.dirty.load(Ordering::Acquire) {
                self.wake.notify_one();
            }
        }
    }

    /// One round of [`AppState::refresh_loop`] (blocking).
    pub fn refresh(&self) {
        let before = self.app.ledger().kept_status().map(|s| s.generation).ok();
        let report = keep_up(&self.app, false, self.config.as_of);
        let current = self.snapshot();
        let many = report.as_ref().is_some_and(|r| r.recomputed > app::FEW);
        if let Some(r) = &report {
            current.names.add(&self.app, &r.added);
            self.purposes.add(&self.app, &r.added);
        }
        let moved = match self.app.ledger().kept_status() {
            Ok(status) => {
                // Kept readings caught up by another process (an import on the command line,
                // another server), or many people at once: people may have arrived, or
                // changed their names, whom this server's search does not know yet.
                let by_us = before.is_some_and(|g| status.generation == g + 1)
                    || before == Some(status.generation);
                if !by_us || many {
                    // The same goes for the purposes in their events: read again when asked.
                    self.purposes.reset();
                    let (names, app) = (current.names.clone(), self.app.clone());
                    let _ = std::thread::Builder::new()
                        .name("names".into())
                        .spawn(move || names.reload(&app));
                }
                status.generation != current.generation
                    || status.pending != current.pending
                    || status.meta.map(|m| m.day) != current.day
            }
            Err(e) => {
                tracing::warn!("reading the kept readings' state: {e}");
                false
            }
        };
        if moved {
            match Snapshot::build(&self.app, current.names.clone()) {
                Ok(s) => {
                    self.install(s);
                    tracing::debug!("everyone's figures read again");
                }
                Err(e) => tracing::error!("reading everyone's figures: {e}"),
            }
        }
    }

    /// Stores events in one batch (blocking): all or nothing. While another writer (an import
    /// from the command line) holds the ledger, waits up to [`WRITER_WAIT`] and then fails
    /// busy (a 503: try again).
    /// The moment cards are read as of: the end of the served day (`--as-of`), or now.
    pub fn as_of(&self) -> Timestamp {
        self.config.as_of.map_or_else(Timestamp::now, Day::end)
    }

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

    /// Puts a freshly read snapshot in place, with anyone forgotten while it was read left
    /// out of search (blocking).
    fn install(&self, built: Snapshot) {
        let _turn = self.swapping.lock();
        self.forget_in_search(built.tombstones_seen);
        if let Ok(mut slot) = self.snapshot.write() {
            *slot = Arc::new(built);
        }
    }

    /// Leaves out of search everyone forgotten after tombstone `seen`.
    fn forget_in_search(&self, seen: i64) -> usize {
        let ledger = self.app.ledger();
        let found = ledger
            .tombstone_key()
            .and_then(|key| Ok::<_, StoreError>((ledger.tombstones_after(seen)?, key)));
        match found {
            Ok((tombstones, key)) => {
                self.snapshot().names.forget(&tombstones, &key);
                tombstones.len()
            }
            Err(e) => {
                tracing::error!("reading who was forgotten: {e}");
                0
            }
        }
    }

    /// Takes everyone forgotten since the current snapshot was read — by this server,
    /// another one, or the command line — out of lists, search, charts and counts (blocking;
    /// cheap when nobody was). Forgetting removed their kept readings with them, so the
    /// snapshot is simply read again.
    pub fn catch_up_forgotten(&self) {
        let current = self.snapshot();
        if self.forget_in_search(current.tombstones_seen) == 0 {
            return;
        }
        match Snapshot::build(&self.app, current.names.clone()) {
            Ok(next) => {
                let _turn = self.swapping.lock();
                if let Ok(mut slot) = self.snapshot.write() {
                    *slot = Arc::new(next);
                }
            }
            Err(e) => tracing::error!("reading everyone's figures: {e}"),
        }
        // The key cache may hold the forgotten person's key: not any more.
        self.app.ledger().keys().evict(None);
        tracing::info!("took a forgetting into account");
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
