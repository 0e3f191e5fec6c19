//! The connection pool and the small runtime it runs on, behind synchronous calls.
//!
//! The store's traits are synchronous (`&self`, called from command-line threads and from
//! the web's blocking threads), and the driver is asynchronous: `tokio-postgres`, for its
//! binary `COPY` writer and reader, with `deadpool-postgres` for a pool that replaces a
//! connection the server closed (a restart, a failover) by a new one at the next call. Each
//! store owns a small runtime of its own that drives the connections; a call enters that
//! runtime and waits for its future on the calling thread with a plain executor
//! (`futures-executor`), which never panics whatever thread calls it — a command-line
//! thread, a `spawn_blocking` thread of the web's runtime, or (blocking it, which is the
//! caller's mistake) one of its workers. The alternative, the synchronous `postgres` crate
//! with `r2d2`, runs a runtime per connection and panics when its `block_on` is reached from
//! inside another runtime.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use store::StoreError;
use tokio_postgres::NoTls;

use crate::error::{Error, Place, Result};

/// How long a call waits for a connection (a new one included) before it reports the server
/// unavailable.
const WAIT: Duration = Duration::from_secs(10);
/// How long opening one connection may take.
const CONNECT: Duration = Duration::from_secs(5);
/// How long the health check waits, in all.
pub const HEALTH: Duration = Duration::from_secs(2);
/// Connections a store keeps at most: the writer, readers of the web, two scanning threads.
const CONNECTIONS: usize = 8;

thread_local! {
    /// How many [`Db::block`] calls are under way on this thread.
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

struct Depth;

impl Depth {
    fn enter() -> Depth {
        DEPTH.with(|d| d.set(d.get() + 1));
        Depth
    }
}

impl Drop for Depth {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

pub struct Db {
    /// `None` only while dropping (see `Drop`).
    rt: Option<tokio::runtime::Runtime>,
    pub pool: Pool,
    pub place: Place,
    /// Pools to the servers holding partitions (`remote`).
    pub remote: crate::remote::Pools,
}

/// The `postgres://` URL parsed, and where it points, for messages.
pub fn parse_url(url: &str) -> Result<(tokio_postgres::Config, Place), StoreError> {
    let usage = "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::NotALedger {
            message: format!("not a PostgreSQL URL: {usage}"),
        });
    }
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::NotALedger {
        // The driver's message names the part it could not read, never the password.
        message: format!("the PostgreSQL URL is not valid ({e}): {usage}"),
    })?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => {
            return Err(StoreError::NotALedger {
                message: format!("the PostgreSQL URL names no host: {usage}"),
            });
        }
    };
    let Some(user) = config.get_user().map(str::to_owned) else {
        return Err(StoreError::NotALedger {
            message: format!("the PostgreSQL URL names no user: {usage}"),
        });
    };
    let database = config.get_dbname().unwrap_or(&user).to_owned();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    if config.get_application_name().is_none() {
        config.application_name("rapport");
    }
    config.connect_timeout(CONNECT);
    if config.get_options().is_none() {
        // rapport's queries are short, or streams whose plan is plain: compiling them costs
        // more than it saves (a tenth of a second or more on a whole-ledger scan).
        config.options("-c jit=off");
    }
    Ok((
        config,
        Place {
            host,
            port,
            database,
            user,
        },
    ))
}

/// A pool of connections to the server `config` names, with this store's limits (also
/// used for the other servers of a spread ledger).
pub(crate) fn pool(
    config: tokio_postgres::Config,
) -> std::result::Result<Pool, deadpool_postgres::BuildError> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(CONNECTIONS)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT))
        .create_timeout(Some(CONNECT))
        .recycle_timeout(Some(CONNECT))
        .build()
}

impl Db {
    pub fn new(url: &str) -> Result<Db, StoreError> {
        let (config, place) = parse_url(url)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rapport-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Database {
                message: format!("cannot start the PostgreSQL client's threads: {e}"),
            })?;
        let pool = pool(config).map_err(|e| StoreError::Database {
            message: format!("cannot set up connections to {place}: {e}"),
        })?;
        Ok(Db {
            rt: Some(rt),
            pool,
            place,
            remote: Default::default(),
        })
    }

    /// Runs `f` to completion on this thread, inside the store's runtime.
    pub fn block<F: Future>(&self, f: F) -> F::Output {
        let rt = self
            .rt
            .as_ref()
            .expect("the runtime lives as long as the store");
        let _entered = rt.enter();
        let _depth = Depth::enter();
        futures_executor::block_on(f)
    }

    /// [`Db::block`] from anywhere, also from inside another `block` on this thread (the
    /// shared key cache fetching a key while a read is under way), where an executor may not
    /// be started again: then `f` runs on a thread of its own.
    pub fn block_anywhere<F>(&self, f: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        if DEPTH.with(|d| d.get()) == 0 {
            return self.block(f);
        }
        std::thread::scope(|s| {
            s.spawn(|| self.block(f))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// Runs `f` and turns its error into the store's.
    pub fn run<T, F: Future<Output = Result<T>>>(&self, f: F) -> Result<T, StoreError> {
        self.block(f).map_err(|e| self.place.error(e))
    }

    /// Runs `f` on the client's runtime, without waiting for it.
    pub fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt
            .as_ref()
            .expect("the runtime lives as long as the store")
            .spawn(f)
    }

    /// A connection from the pool.
    pub async fn get(&self) -> Result<Object> {
        Ok(self.pool.get().await?)
    }

    /// Whether the server answers, within [`HEALTH`].
    pub fn health(&self) -> Result<(), StoreError> {
        let answered = self.block(async {
            tokio::time::timeout(HEALTH, async {
                let c = self.get().await?;
                c.simple_query("SELECT 1").await?;
                Ok::<_, Error>(())
            })
            .await
        });
        match answered {
            Ok(r) => r.map_err(|e| self.place.error(e)),
            Err(_) => Err(StoreError::Unavailable {
                message: format!(
                    "{} did not answer within {} s: is the server running?",
                    self.place,
                    HEALTH.as_secs()
                ),
            }),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which a runtime's own worker may not do:
        // let them end in the background instead, whatever thread drops the store.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_for_their_place_and_never_echo_a_password() {
        let cases = [
            (
                "postgres://anna:s3cret@db.example:6543/books",
                Some(("db.example", 6543, "books", "anna")),
            ),
            (
                "postgresql://postgres@127.0.0.1/postgres",
                Some(("127.0.0.1", 5432, "postgres", "postgres")),
            ),
            (
                "postgres://bob@localhost",
                Some(("localhost", 5432, "bob", "bob")),
            ),
            ("mysql://bob:s3cret@localhost/x", None),
            ("postgres://bob:s3cret@localhost:notaport/x", None),
            ("/var/lib/rapport.db", None),
        ];
        for (url, want) in cases {
            match (parse_url(url), want) {
                (Ok((_, place)), Some((host, port, db, user))) => {
                    assert_eq!(
                        place,
                        Place {
                            host: host.into(),
                            port,
                            database: db.into(),
                            user: user.into()
                        },
                        "{url}"
                    );
                    assert!(!place.to_string().contains("s3cret"));
                }
                (Err(e), None) => {
                    let m = e.to_string();
                    assert!(!m.contains("s3cret"), "{m}");
                    assert!(m.contains("postgres://USER"), "{m}");
                }
                (got, _) => panic!("{url}: {:?}", got.map(|(_, p)| p)),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_location_is_read_or_refused_without_a_panic_or_its_password(
            user in "[a-z]{1,8}",
            rest in "\\PC{0,40}",
        ) {
            let url = format!("postgres://{user}:pw-s3cret@{rest}");
            if let Err(e) = parse_url(&url) {
                proptest::prop_assert!(!e.to_string().contains("pw-s3cret"), "{}", e);
            }
            let _ = parse_url(&rest);
        }
    }
}
