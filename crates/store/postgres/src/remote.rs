//! Reading one person's partition straight from the server that holds it.
//!
//! Through the coordinator, `postgres_fdw` reads a foreign partition with a cursor inside a
//! remote transaction (five round trips a table, and the query planned on both servers); a
//! card reads a handful of tables. So the reads that concern one person — their events and
//! sealed fields, their key — ask the coordinator only where the person's partition is (one
//! short query on a table of 64 rows), and then that server, through a pool of connections
//! kept per server. A partition moved away since is read through the coordinator instead.

use std::collections::HashMap;
use std::sync::Mutex;

use deadpool_postgres::{GenericClient, Object, Pool};
use store::StoreError;
use tokio_postgres::error::SqlState;

use crate::db::{Db, parse_url};
use crate::error::{Error, Result};

/// Connection pools to the other servers, by name, made on first use; and where each
/// partition was when last asked.
#[derive(Default)]
pub struct Pools(Mutex<HashMap<String, Pool>>, Mutex<Option<Placed>>);

/// The placement of every partition, as read at a moment.
struct Placed {
    at: std::time::Instant,
    servers: Vec<Option<String>>,
}

/// How long a placement read is used: a partition that moved since is found by its table
/// being gone there (see [`unless_moved`]), and its old copy is dropped as the move ends.
const PLACEMENT_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// A shard server's connection settings, with the password its user mapping holds.
pub(crate) async fn server_config(
    c: &impl GenericClient,
    name: &str,
) -> Result<tokio_postgres::Config> {
    let row = c
        .query_opt(
            "SELECT url FROM rapport.shard_servers WHERE name = $1",
            &[&name],
        )
        .await?
        .ok_or_else(|| {
            Error::Store(StoreError::NotALedger {
                message: format!(
                    "no server {name:?} is known to this ledger: `rapport shards list` shows them, \
                     `rapport shards add URL` adds one"
                ),
            })
        })?;
    let url: String = row.get(0);
    let (mut config, _) = parse_url(&url)?;
    let options: Option<Vec<String>> = c
        .query_opt(
            "SELECT umoptions FROM pg_user_mappings
             WHERE srvname = $1 AND usename = current_user",
            &[&format!("rapport_{name}")],
        )
        .await?
        .and_then(|r| r.get(0));
    if let Some(pw) = options
        .unwrap_or_default()
        .iter()
        .find_map(|o| o.strip_prefix("password="))
    {
        config.password(pw);
    }
    Ok(config)
}

/// The error for a server that does not answer.
pub(crate) fn down(server: &str, cause: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::Unavailable {
        message: format!(
            "the data is on server {server}, which does not answer ({cause}): the people whose \
             partitions are there are unavailable until it is back; everyone else is not \
             affected (`rapport shards list` shows which)"
        ),
    })
}

/// Whether `e` says a table is not there (a partition moved away since it was looked up).
pub(crate) fn moved(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNDEFINED_TABLE)
}

/// A failed read on another server: `Ok` when the partition has moved away since (read it
/// through the coordinator), the server's unavailability or the error otherwise.
pub(crate) fn unless_moved(server: &str, e: tokio_postgres::Error) -> Result<()> {
    if moved(&e) {
        Ok(())
    } else if crate::error::unreachable(&e) {
        Err(down(server, e))
    } else {
        Err(e.into())
    }
}

impl Db {
    /// Which server holds partition `part`: `None` for this one (read at most a second ago).
    pub(crate) async fn server_of(
        &self,
        c: &impl GenericClient,
        part: u32,
    ) -> Result<Option<String>> {
        {
            let placed = self.remote.1.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = placed.as_ref().filter(|p| p.at.elapsed() < PLACEMENT_FOR) {
                return Ok(p.servers.get(part as usize).cloned().flatten());
            }
        }
        let servers: Vec<Option<String>> = c
            .query("SELECT server FROM rapport.placement ORDER BY part", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let server = servers.get(part as usize).cloned().flatten();
        *self.remote.1.lock().unwrap_or_else(|p| p.into_inner()) = Some(Placed {
            at: std::time::Instant::now(),
            servers,
        });
        Ok(server)
    }

    /// A connection to the server `name` (the coordinator's connection `c` tells where it is).
    pub(crate) async fn remote(&self, c: &impl GenericClient, name: &str) -> Result<Object> {
        let pool = {
            let pools = self.remote.0.lock().unwrap_or_else(|p| p.into_inner());
            pools.get(name).cloned()
        };
        let pool = match pool {
            Some(p) => p,
            None => {
                let config = server_config(c, name).await?;
                let pool = crate::db::pool(config).map_err(|e| down(name, e))?;
                let mut pools = self.remote.0.lock().unwrap_or_else(|p| p.into_inner());
                pools.entry(name.to_owned()).or_insert(pool).clone()
            }
        };
        pool.get().await.map_err(|e| down(name, e))
    }
}
