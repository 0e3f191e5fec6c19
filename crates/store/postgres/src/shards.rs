//! People spread over PostgreSQL servers: partitions placed on servers with `postgres_fdw`,
//! and moved between them online.
//!
//! The coordinating server (the database `--db` names) keeps every person-keyed table as a
//! parent partitioned by the person (`layout`); a partition is either a table of its own on
//! the coordinator, or a foreign table whose rows are in a table of the same name on another
//! server. PostgreSQL routes every read and write by itself, prunes a person's queries to
//! their partition, and so every face of rapport works unchanged on a spread ledger.
//!
//! Moving a partition copies its rows to the new server while everything goes on (one
//! consistent snapshot), then takes the writer lock, copies what arrived meanwhile (events
//! and sealed fields by ledger number, which only grow; the smaller tables whole), checks
//! that both sides hold the same rows, and swaps the partition in one transaction of the
//! coordinator. Until that commits the old place is the truth; a move that fails or is killed
//! leaves at most an unused copy, which the next move drops. docs/sharding.md has the rest.

use std::time::Instant;

use deadpool_postgres::GenericClient;
use futures_util::{SinkExt, StreamExt};
use store::{Moved, Partition, ShardServer, Shards, StoreError};
use tokio_postgres::NoTls;

use crate::db::parse_url;
use crate::error::{Error, Result};
use crate::layout::TABLES;
use crate::{PostgresStore, lock, meta};

/// Whether some partitions are on other servers.
pub(crate) async fn spread(c: &impl GenericClient) -> Result<bool> {
    Ok(c.query_one(
        "SELECT EXISTS (SELECT 1 FROM rapport.placement WHERE server IS NOT NULL)",
        &[],
    )
    .await?
    .get(0))
}

/// The person-keyed partitions kept on this (the coordinating) server, as a list of tables.
pub(crate) async fn local_tables(c: &impl GenericClient) -> Result<String> {
    let here: Vec<i32> = c
        .query(
            "SELECT part FROM rapport.placement WHERE server IS NULL ORDER BY part",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(here
        .iter()
        .flat_map(|&n| TABLES.iter().map(move |t| t.qualified_part(n as u32)))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The foreign server's name on the coordinator for a shard server.
fn fdw_name(server: &str) -> String {
    format!("rapport_{server}")
}

/// A string as an SQL literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn refused(message: String) -> Error {
    Error::Store(StoreError::NotALedger { message })
}

/// The tables whose rows only ever grow by ledger number (or are deleted by forgetting):
/// caught up by `seq` after the first copy. The others are copied again whole.
fn grows_by_seq(table: &str) -> bool {
    matches!(table, "events" | "sealed")
}

/// A direct connection to a server, its connection driven on the store's runtime.
async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client> {
    let (client, conn) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// Copies the rows `select` gives on `from` into `table` on `to`, in binary; the count.
async fn copy_rows(
    from: &tokio_postgres::Client,
    select: &str,
    to: &tokio_postgres::Client,
    table: &str,
) -> Result<u64> {
    let out = from
        .copy_out(&format!("COPY ({select}) TO STDOUT (FORMAT binary)"))
        .await?;
    let sink = to
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .await?;
    futures_util::pin_mut!(out);
    futures_util::pin_mut!(sink);
    while let Some(chunk) = out.next().await {
        sink.send(chunk?).await?;
    }
    Ok(sink.as_mut().finish().await?)
}

async fn count(c: &tokio_postgres::Client, table: &str) -> Result<i64> {
    Ok(c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await?
        .get(0))
}

/// Where a partition's rows are read and written directly: on the coordinator, or on a
/// shard server.
enum Side {
    Here(deadpool_postgres::Object),
    There(tokio_postgres::Client),
}

impl Side {
    fn client(&self) -> &tokio_postgres::Client {
        match self {
            Side::Here(o) => o,
            Side::There(c) => c,
        }
    }
}

impl PostgresStore {
    /// A direct connection to a shard server (errors said in terms of that server).
    pub(crate) async fn connect_server(
        &self,
        c: &impl GenericClient,
        name: &str,
    ) -> Result<tokio_postgres::Client> {
        let config = crate::remote::server_config(c, name).await?;
        let place = parse_url(&self.server_url(c, name).await?)?.1;
        match connect(&config).await {
            Ok(client) => Ok(client),
            Err(Error::Pg(e)) => Err(Error::Store(StoreError::Unavailable {
                message: format!(
                    "the data is on server {name}, which does not answer ({}): the people \
                     whose partitions are there are unavailable until it is back",
                    place.error(Error::Pg(e))
                ),
            })),
            Err(e) => Err(e),
        }
    }

    async fn side(&self, server: Option<&str>) -> Result<Side> {
        match server {
            None => Ok(Side::Here(self.db.get().await?)),
            Some(name) => {
                let c = self.db.get().await?;
                Ok(Side::There(self.connect_server(&c, name).await?))
            }
        }
    }

    async fn server_url(&self, c: &impl GenericClient, name: &str) -> Result<String> {
        Ok(c.query_one(
            "SELECT url FROM rapport.shard_servers WHERE name = $1",
            &[&name],
        )
        .await?
        .get(0))
    }

    /// Rewrites the vault's partitions on every other server, as [`crate::vault::rewrite`]
    /// does here: after forgetting or re-keying, the old wrappings leave their files there
    /// too. `false` when a server did not answer or an old transaction there kept it waiting.
    pub(crate) async fn rewrite_remote_vaults(&self) -> bool {
        let placed = match self.db.get().await {
            Ok(c) => match self.placement(&c).await {
                Ok(p) => p,
                Err(_) => return false,
            },
            Err(_) => return false,
        };
        let mut servers: Vec<&str> = placed.iter().filter_map(|p| p.1.as_deref()).collect();
        servers.sort();
        servers.dedup();
        let mut all = true;
        for server in servers {
            let tables: Vec<String> = placed
                .iter()
                .filter(|p| p.1.as_deref() == Some(server))
                .map(|p| TABLES[TABLES.len() - 1].qualified_part(p.0))
                .collect();
            let done = match self.side(Some(server)).await {
                // A transaction begun now is newer than the one that changed the vault there
                // (it committed with the coordinator's).
                Ok(side) => match crate::vault::xid_now(side.client()).await {
                    Ok(x) => {
                        crate::vault::rewrite_tables(side.client(), &x, &tables.join(", ")).await
                    }
                    Err(_) => false,
                },
                Err(_) => false,
            };
            all &= done;
        }
        all
    }

    async fn placement(&self, c: &impl GenericClient) -> Result<Vec<(u32, Option<String>)>> {
        Ok(c.query(
            "SELECT part, server FROM rapport.placement ORDER BY part",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, i32>(0) as u32, r.get(1)))
        .collect())
    }
}

impl Shards for PostgresStore {
    fn partition_count(&self) -> Result<u32, StoreError> {
        Ok(self.partitions)
    }

    fn shard_servers(&self) -> Result<Vec<ShardServer>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            Ok(c.query(
                "SELECT name, url, added_at FROM rapport.shard_servers ORDER BY added_at, name",
                &[],
            )
            .await?
            .iter()
            .map(|r| ShardServer {
                name: r.get(0),
                url: r.get(1),
                added_at: r.get(2),
            })
            .collect())
        })
    }

    fn add_shard_server(&self, url: &str, name: Option<&str>) -> Result<ShardServer, StoreError> {
        let (config, place) = parse_url(url)?;
        let shown = format!(
            "postgres://{}@{}:{}/{}",
            place.user, place.host, place.port, place.database
        );
        if let Some(n) = name {
            let ok = !n.is_empty()
                && n.len() <= 40
                && n.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !ok {
                return Err(StoreError::NotALedger {
                    message: format!(
                        "{n:?} cannot name a server: use up to 40 lowercase letters, digits or _"
                    ),
                });
            }
        }
        let ledger = self.run(async {
            let c = self.db.get().await?;
            let me: Option<(String, i32)> = c
                .query_opt(
                    "SELECT current_database()::text, inet_server_port() WHERE inet_server_port() IS NOT NULL",
                    &[],
                )
                .await?
                .map(|r| (r.get(0), r.get(1)));
            if me.is_some_and(|(db, port)| db == place.database && port == place.port as i32)
                && (place.host == "127.0.0.1" || place.host == "localhost")
                && self.db.place.host == place.host
            {
                return Err(refused(format!(
                    "{shown} is this ledger's own database: give another server or database"
                )));
            }
            Ok(meta(&c, "rapport.meta", "vault_id").await?.unwrap_or_default())
        })?;
        // The new server: schemas of its own, and a mark of which ledger it serves.
        self.run(async {
            let mut remote = match connect(&config).await {
                Ok(r) => r,
                Err(Error::Pg(e)) => return Err(Error::Store(place.error(Error::Pg(e)))),
                Err(e) => return Err(e),
            };
            let tx = remote.transaction().await?;
            tx.batch_execute(
                "CREATE SCHEMA IF NOT EXISTS rapport;
                 CREATE SCHEMA IF NOT EXISTS rapport_vault;
                 CREATE TABLE IF NOT EXISTS rapport.member (key text PRIMARY KEY, value text NOT NULL);",
            )
            .await?;
            let serves: Option<String> = tx
                .query_opt("SELECT value FROM rapport.member WHERE key = 'ledger'", &[])
                .await?
                .map(|r| r.get(0));
            match serves {
                Some(other) if other != ledger => {
                    return Err(refused(format!(
                        "{shown} already holds partitions of another rapport ledger: give it a \
                         database of its own"
                    )))
                }
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO rapport.member (key, value) VALUES ('ledger', $1)",
                        &[&ledger],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })?;
        self.run(async {
            let mut c = self.db.get().await?;
            let tx = c.transaction().await?;
            let known: Vec<(String, String)> = tx
                .query("SELECT name, url FROM rapport.shard_servers", &[])
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            if let Some((n, _)) = known.iter().find(|(_, u)| *u == shown) {
                return Err(refused(format!(
                    "{shown} is already this ledger's server {n}"
                )));
            }
            let name = match name {
                Some(n) if known.iter().any(|(k, _)| k == n) => {
                    return Err(refused(format!(
                        "this ledger already has a server called {n}"
                    )));
                }
                Some(n) => n.to_owned(),
                None => (1..)
                    .map(|i| format!("s{i}"))
                    .find(|n| !known.iter().any(|(k, _)| k == n))
                    .expect("a free name"),
            };
            let fdw = fdw_name(&name);
            tx.batch_execute(&format!(
                "CREATE EXTENSION IF NOT EXISTS postgres_fdw;
                 CREATE SERVER {fdw} FOREIGN DATA WRAPPER postgres_fdw
                     OPTIONS (host {}, port {}, dbname {}, fetch_size '10000',
                              batch_size '1000', async_capable 'true',
                              application_name 'rapport');",
                literal(&place.host),
                literal(&place.port.to_string()),
                literal(&place.database)
            ))
            .await?;
            let mut options = format!("user {}", literal(&place.user));
            if let Some(pw) = config.get_password() {
                options.push_str(&format!(
                    ", password {}",
                    literal(&String::from_utf8_lossy(pw))
                ));
            }
            tx.batch_execute(&format!(
                "CREATE USER MAPPING FOR CURRENT_USER SERVER {fdw} OPTIONS ({options});"
            ))
            .await?;
            let now = domain::Timestamp::now().unix();
            tx.execute(
                "INSERT INTO rapport.shard_servers (name, url, added_at) VALUES ($1, $2, $3)",
                &[&name, &shown, &now],
            )
            .await?;
            tx.commit().await?;
            Ok(ShardServer {
                name,
                url: shown.clone(),
                added_at: now,
            })
        })
    }

    fn partitions(&self) -> Result<Vec<Partition>, StoreError> {
        let placed = self.run(async {
            let c = self.db.get().await?;
            self.placement(&c).await
        })?;
        let mut out = Vec::with_capacity(placed.len());
        // One server at a time: a server that does not answer costs one timeout, not one per
        // partition.
        let mut servers: Vec<Option<String>> = placed.iter().map(|p| p.1.clone()).collect();
        servers.sort();
        servers.dedup();
        for server in servers {
            let parts: Vec<u32> = placed
                .iter()
                .filter(|p| p.1 == server)
                .map(|p| p.0)
                .collect();
            let figures = self.db.block(async {
                let side = self.side(server.as_deref()).await?;
                let c = side.client();
                let mut figures = Vec::new();
                for &n in &parts {
                    let people = count(
                        c,
                        &format!(
                            "{} WHERE person <> ''",
                            TABLES[TABLES.len() - 1].qualified_part(n)
                        ),
                    )
                    .await?;
                    let events = count(c, &TABLES[0].qualified_part(n)).await?;
                    let names: Vec<String> = TABLES.iter().map(|t| t.qualified_part(n)).collect();
                    let bytes: i64 = c
                        .query_one(
                            "SELECT coalesce(sum(pg_total_relation_size(t::regclass)), 0)::bigint
                             FROM unnest($1::text[]) t",
                            &[&names],
                        )
                        .await?
                        .get(0);
                    figures.push((n, people as u64, events as u64, bytes as u64));
                }
                Ok::<_, Error>(figures)
            });
            match figures {
                Ok(f) => out.extend(f.into_iter().map(|(n, p, e, b)| Partition {
                    number: n,
                    server: server.clone(),
                    people: Some(p),
                    events: Some(e),
                    bytes: Some(b),
                })),
                Err(_) => out.extend(parts.iter().map(|&n| Partition {
                    number: n,
                    server: server.clone(),
                    people: None,
                    events: None,
                    bytes: None,
                })),
            }
        }
        out.sort_by_key(|p| p.number);
        Ok(out)
    }

    fn move_partition(
        &self,
        number: u32,
        to: Option<&str>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Moved, StoreError> {
        let started = Instant::now();
        let count_all = self.partitions;
        if number >= count_all {
            return Err(StoreError::NotALedger {
                message: format!(
                    "there is no partition {number}: this ledger's are numbered 0 to {}",
                    count_all - 1
                ),
            });
        }
        let (from, generation) = self.run(async {
            let c = self.db.get().await?;
            // An import stopped halfway through its two-phase commit holds locks there.
            crate::direct::resolve(self, &c).await?;
            let placed = self.placement(&c).await?;
            let from = placed[number as usize].1.clone();
            if let Some(t) = to {
                crate::remote::server_config(&c, t).await?;
            }
            if from.as_deref() == to {
                return Err(refused(format!(
                    "partition {number} is already on {}",
                    to.unwrap_or("the coordinating server")
                )));
            }
            Ok((from, crate::forget::people_generation(&c).await?))
        })?;
        let where_to = to.unwrap_or("the coordinating server").to_owned();
        // On the coordinator the copy is made beside the partition and renamed at the switch.
        let target_name = |t: &crate::layout::Table| match to {
            Some(_) => t.qualified_part(number),
            None => format!("{}_in", t.qualified_part(number)),
        };
        progress(&format!(
            "partition {number}: copying to {where_to} while the ledger stays in use"
        ));
        // 1. A fresh copy on the target, from one snapshot of the source.
        let (mut rows, high) = self.run(async {
            let source = self.side(from.as_deref()).await?;
            let target = self.side(to).await?;
            let (src, dst) = (source.client(), target.client());
            let mut ddl = String::new();
            for t in TABLES {
                let name = target_name(t);
                ddl.push_str(&format!("DROP TABLE IF EXISTS {name};"));
                ddl.push_str(&match to {
                    Some(_) => t.create_remote_partition(number, count_all),
                    None => t.create_standalone(number, &name),
                });
            }
            dst.batch_execute(&ddl).await?;
            src.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?;
            let mut rows = 0;
            let mut high = Vec::new();
            for t in TABLES {
                let part = t.qualified_part(number);
                if grows_by_seq(t.name) {
                    let h: i64 = src
                        .query_one(&format!("SELECT coalesce(max(seq), 0) FROM {part}"), &[])
                        .await?
                        .get(0);
                    high.push(h);
                    rows += copy_rows(
                        src,
                        &format!("SELECT * FROM {part} WHERE seq <= {h}"),
                        dst,
                        &target_name(t),
                    )
                    .await?;
                }
            }
            src.batch_execute("COMMIT").await?;
            for t in TABLES.iter().filter(|t| grows_by_seq(t.name)) {
                dst.batch_execute(&format!("ANALYZE {}", target_name(t)))
                    .await?;
            }
            Ok((rows, high))
        })?;
        progress(&format!(
            "partition {number}: {rows} rows copied; waiting for the writer lock to catch up and switch"
        ));
        // 2. Under the writer lock: catch up, check, switch.
        let what = format!("moving partition {number} to {where_to}");
        let conn = lock::begin_locked(self, &what, &mut |who| {
            progress(&format!("partition {number}: waiting for {who}"));
            true
        })?;
        let locked = Instant::now();
        let switched = self.run(async {
            let source = self.side(from.as_deref()).await?;
            let target = self.side(to).await?;
            let (src, dst) = (source.client(), target.client());
            let forgotten = crate::forget::people_generation(&conn).await? != generation;
            let mut caught_up = 0;
            let mut seq_tables = 0;
            for t in TABLES {
                let part = t.qualified_part(number);
                let name = target_name(t);
                let select = if grows_by_seq(t.name) && !forgotten {
                    let h = high[seq_tables];
                    format!("SELECT * FROM {part} WHERE seq > {h}")
                } else {
                    dst.batch_execute(&format!("TRUNCATE {name}")).await?;
                    format!("SELECT * FROM {part}")
                };
                if grows_by_seq(t.name) {
                    seq_tables += 1;
                }
                let n = copy_rows(src, &select, dst, &name).await?;
                if grows_by_seq(t.name) && !forgotten {
                    caught_up += n;
                }
                rows += n;
                // Nothing lost, nothing twice: both sides hold the same number of rows.
                let (a, b) = (count(src, &part).await?, count(dst, &name).await?);
                if a != b {
                    return Err(Error::Store(StoreError::Corrupt {
                        message: format!(
                            "moving partition {number}: {part} holds {a} rows here and {b} on \
                             {where_to} after the copy; nothing was switched"
                        ),
                    }));
                }
            }
            for t in TABLES.iter().filter(|t| !grows_by_seq(t.name)) {
                dst.batch_execute(&format!("ANALYZE {}", target_name(t)))
                    .await?;
            }
            // The switch, in the transaction that holds the writer lock. Readers of a parent
            // wait for it briefly; a long reader makes it give up rather than stall everyone.
            conn.batch_execute("SET LOCAL lock_timeout = '10s'").await?;
            let mut ddl = String::new();
            for t in TABLES {
                let (parent, part) = (t.qualified(), t.qualified_part(number));
                ddl.push_str(&format!("ALTER TABLE {parent} DETACH PARTITION {part};"));
                ddl.push_str(&match from {
                    None => format!("DROP TABLE {part};"),
                    Some(_) => format!("DROP FOREIGN TABLE {part};"),
                });
                ddl.push_str(&match to {
                    Some(server) => t.create_foreign(number, count_all, &fdw_name(server)),
                    None => format!(
                        "ALTER TABLE {}_in RENAME TO {};
                         ALTER TABLE {parent} ATTACH PARTITION {part}
                             FOR VALUES WITH (MODULUS {count_all}, REMAINDER {number});",
                        part,
                        t.part(number)
                    ),
                });
            }
            conn.batch_execute(&ddl).await?;
            conn.execute(
                "UPDATE rapport.placement SET server = $2 WHERE part = $1",
                &[&(number as i32), &to],
            )
            .await?;
            conn.batch_execute("COMMIT").await?;
            // The old copy on another server: dropped now that nothing reads it (a failure
            // here leaves an unused table, which the next move there drops).
            if from.is_some() {
                let drops: String = TABLES
                    .iter()
                    .map(|t| format!("DROP TABLE IF EXISTS {};", t.qualified_part(number)))
                    .collect();
                let _ = src.batch_execute(&drops).await;
            }
            Ok(caught_up)
        });
        let writers_waited = locked.elapsed().as_secs_f64();
        let caught_up = match switched {
            Ok(n) => n,
            Err(e) => {
                lock::end(self, conn);
                return Err(e);
            }
        };
        Ok(Moved {
            number,
            from,
            to: to.map(str::to_owned),
            rows,
            caught_up,
            writers_waited,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
