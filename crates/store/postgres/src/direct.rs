//! The direct import path of a spread ledger: each row copied straight to the server that
//! holds its partition, in binary, and every server's part committed with the coordinator's
//! by two-phase commit.
//!
//! Through the coordinator, `postgres_fdw` turns every row for another server into text
//! parameters of a batched `INSERT`, and commits the other servers' transactions one after
//! another without two-phase commit. Here the importer opens a transaction on each server,
//! sends each chunk's events, sealed fields and keys with `COPY … FROM STDIN (FORMAT binary)`
//! to the server of their partition (each server keeps a parent of its own partitions, so
//! one `COPY` per table and server), and at the end:
//!
//! 1. `PREPARE TRANSACTION 'rapport:LEDGER:BATCH:SERVER'` on every server — after this a
//!    server has promised to commit, even across a crash;
//! 2. commits the coordinator's transaction, whose row in `rapport.imports` is the decision;
//! 3. `COMMIT PREPARED` on every server.
//!
//! A failure before 2 rolls every part back. A crash or a server lost between 2 and 3 leaves
//! prepared transactions, which [`resolve`] settles from the decision — committed when the
//! import's row is on the coordinator, rolled back when not — before the next writer starts
//! and before a partition moves. Servers need `max_prepared_transactions` above 0; a ledger
//! with a server without it imports through the coordinator instead (`batch::put_rows`).

use std::sync::Arc;

use deadpool_postgres::GenericClient;

use crate::error::Result;
use crate::{PostgresStore, meta, partition};

/// The servers of a spread ledger as one import sees them.
pub(crate) struct Route {
    /// Each server's name and a connection inside the import's transaction there.
    pub servers: Vec<(String, Arc<tokio_postgres::Client>)>,
    /// For each partition: the index of its server in `servers`, or `None` (the coordinator).
    pub place: Vec<Option<usize>>,
    pub partitions: u32,
    /// The prepared transactions' name, but for the server: `rapport:LEDGER:BATCH`.
    pub gid: String,
}

impl Route {
    /// Where the ledger key's partition is.
    pub fn of_key(&self, pk: i64) -> Option<usize> {
        self.place[partition::of_key(pk, self.partitions) as usize]
    }

    /// Where the person id's partition is.
    pub fn of_id(&self, id: &str) -> Option<usize> {
        self.place[partition::of_id(id, self.partitions) as usize]
    }

    fn gid_of(&self, server: &str) -> String {
        format!("{}:{server}", self.gid)
    }

    /// Step 1: prepares every server's part. On failure, every part is rolled back.
    pub async fn prepare(&self) -> Result<()> {
        let mut prepared = Vec::new();
        for (name, c) in &self.servers {
            let gid = self.gid_of(name);
            match c
                .batch_execute(&format!("PREPARE TRANSACTION '{gid}'"))
                .await
            {
                Ok(()) => prepared.push((c, gid)),
                Err(e) => {
                    for (c, gid) in prepared {
                        let _ = c.batch_execute(&format!("ROLLBACK PREPARED '{gid}'")).await;
                    }
                    for (_, c) in &self.servers {
                        let _ = c.batch_execute("ROLLBACK").await;
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// Step 3 (or, when the coordinator did not commit, its opposite).
    pub async fn finish(&self, commit: bool) {
        let verb = if commit { "COMMIT" } else { "ROLLBACK" };
        for (name, c) in &self.servers {
            let gid = self.gid_of(name);
            // A server lost now keeps its part prepared; `resolve` settles it later.
            let _ = c.batch_execute(&format!("{verb} PREPARED '{gid}'")).await;
        }
    }

    /// Fresh statistics on every server after a large import (a failure loses nothing).
    pub async fn analyze(&self) {
        for (_, c) in &self.servers {
            let _ = c
                .batch_execute("ANALYZE rapport.events, rapport.sealed, rapport_vault.keys")
                .await;
        }
    }
}

/// The prepared transactions' prefix for this ledger.
async fn prefix(c: &impl GenericClient) -> Result<String> {
    Ok(format!(
        "rapport:{}:",
        meta(c, "rapport.meta", "vault_id")
            .await?
            .unwrap_or_default()
    ))
}

/// Opens the direct path for an import, when the ledger has partitions on other servers that
/// all take prepared transactions; `None` otherwise (the import goes through the coordinator).
pub(crate) async fn open(
    store: &PostgresStore,
    c: &impl GenericClient,
    batch: i64,
) -> Result<Option<Route>> {
    let placed: Vec<(i32, Option<String>)> = c
        .query(
            "SELECT part, server FROM rapport.placement ORDER BY part",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut names: Vec<String> = placed.iter().filter_map(|p| p.1.clone()).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(None);
    }
    let mut servers = Vec::new();
    for name in &names {
        let client = store.connect_server(c, name).await?;
        let max: String = client
            .query_one("SHOW max_prepared_transactions", &[])
            .await?
            .get(0);
        if max.trim() == "0" {
            return Ok(None);
        }
        client
            .batch_execute(&format!(
                "BEGIN; SET LOCAL application_name = 'rapport: importing (batch {batch})'"
            ))
            .await?;
        servers.push((name.clone(), Arc::new(client)));
    }
    let place = placed
        .iter()
        .map(|(_, s)| s.as_ref().and_then(|s| names.iter().position(|n| n == s)))
        .collect();
    Ok(Some(Route {
        servers,
        place,
        partitions: store.partitions,
        gid: format!("{}{batch}", prefix(c).await?),
    }))
}

/// Settles the prepared transactions an import left on the other servers when it stopped
/// between its coordinator's commit and theirs (or before): committed where its row in
/// `rapport.imports` is there, rolled back where it is not. Run by each writer holding the
/// writer lock, before it writes. A server that does not answer is left for the next time.
/// Waits (up to a minute) until the prepared transaction `gid` is no longer prepared on the
/// server `remote` speaks to: its own import is committing it.
async fn wait_until_gone(remote: &impl GenericClient, gid: &str) -> Result<()> {
    for _ in 0..1_200 {
        let still: bool = remote
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE gid = $1)",
                &[&gid],
            )
            .await?
            .get(0);
        if !still {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(store::StoreError::Database {
        message: format!(
            "the prepared transaction {gid} stayed busy for a minute: its import is still \
             committing it; try again"
        ),
    }
    .into())
}

pub(crate) async fn resolve(store: &PostgresStore, c: &impl GenericClient) -> Result<u64> {
    let names: Vec<String> = c
        .query(
            "SELECT DISTINCT server FROM rapport.placement WHERE server IS NOT NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let prefix = prefix(c).await?;
    let mut settled = 0;
    for name in names {
        let Ok(remote) = store.db.remote(c, &name).await else {
            continue;
        };
        let gids: Vec<String> = remote
            .query(
                "SELECT gid FROM pg_prepared_xacts
                 WHERE database = current_database() AND starts_with(gid, $1)",
                &[&prefix],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for gid in gids {
            let batch: Option<i64> = gid[prefix.len()..]
                .split(':')
                .next()
                .and_then(|b| b.parse().ok());
            let Some(batch) = batch else { continue };
            let decided: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM rapport.imports WHERE batch = $1)",
                    &[&batch],
                )
                .await?
                .get(0);
            let verb = if decided { "COMMIT" } else { "ROLLBACK" };
            match remote
                .batch_execute(&format!("{verb} PREPARED '{gid}'"))
                .await
            {
                Ok(()) => settled += 1,
                // Gone since it was listed: its import finished it.
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_OBJECT) => {}
                // The import that prepared it is committing it right now ("prepared
                // transaction … is busy", 55000, or 55006): wait until it is gone, so that
                // the writer that settles here (a move copying the partition, say) sees its
                // rows once it goes on.
                Err(e)
                    if e.code()
                        == Some(
                            &tokio_postgres::error::SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE,
                        )
                        || e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) =>
                {
                    wait_until_gone(&remote, &gid).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(settled)
}
