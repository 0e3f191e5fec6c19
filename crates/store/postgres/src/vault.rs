//! The key vault of a PostgreSQL ledger: the schema `rapport_vault` beside the data, holding
//! each person's key wrapped by the master key, the check value that proves the master key,
//! the ledger's own wrapped secrets, and the identity it shares with the ledger.
//!
//! The cryptography is the store's (`store::keys`); this module keeps the bytes, and rewrites
//! the keys table whole (`VACUUM FULL`) after a key is destroyed or every key re-wrapped, so
//! that no old wrapping is left in its relation files.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use futures_util::pin_mut;
use store::keys::{CHECK, KEY_LEN};
use store::{MasterKey, Rewrapped, StoreError};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use crate::error::{Place, Result};
use crate::{PostgresStore, exists, lock, meta, new_vault_id, set_meta};

/// Checks on open that the vault is there, that the master key opens it, and that it is this
/// ledger's own.
pub async fn check(c: &impl GenericClient, place: &Place, master: &MasterKey) -> Result<()> {
    if !exists(c, "rapport_vault.keys").await? || !exists(c, "rapport_vault.meta").await? {
        return Err(StoreError::WrongVault {
            message: format!(
                "{place}: the key vault (schema rapport_vault) is missing: it holds every \
                 person's key, so restore it from the backup taken with this ledger \
                 (rapport never makes a new one for an existing ledger)"
            ),
        }
        .into());
    }
    let check: Option<Vec<u8>> = c
        .query_opt(
            "SELECT wrapped FROM rapport_vault.keys WHERE person = $1",
            &[&CHECK],
        )
        .await?
        .map(|r| r.get(0));
    match check {
        Some(blob) => master
            .opens_check(&blob)
            .map_err(|_| StoreError::MasterKey {
                message: "the master key does not open this ledger's vault".into(),
            })?,
        None => {
            c.execute(
                "INSERT INTO rapport_vault.keys (person, wrapped) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&CHECK, &master.check_value()?],
            )
            .await?;
        }
    }
    let ledger = meta(c, "rapport.meta", "vault_id").await?;
    let vault = meta(c, "rapport_vault.meta", "vault_id").await?;
    match (ledger, vault) {
        (Some(l), Some(v)) if l == v => Ok(()),
        (None, None) => {
            let id = new_vault_id();
            set_meta(c, "rapport_vault.meta", "vault_id", &id).await?;
            set_meta(c, "rapport.meta", "vault_id", &id).await?;
            Ok(())
        }
        _ => Err(StoreError::WrongVault {
            message: format!(
                "{place}: the key vault (schema rapport_vault) belongs to another ledger: \
                 restore this ledger's own vault (the schema backed up with it)"
            ),
        }
        .into()),
    }
}

/// A random secret of the ledger's own, kept wrapped in the vault under `name` and made on
/// first use; it survives re-wrapping under a new master key.
pub async fn secret(
    c: &impl GenericClient,
    master: &MasterKey,
    name: &str,
) -> Result<[u8; KEY_LEN]> {
    let aad = format!("secret:{name}");
    let read = "SELECT wrapped FROM rapport_vault.secrets WHERE name = $1";
    if let Some(r) = c.query_opt(read, &[&name]).await? {
        return Ok(master.unwrap(&aad, r.get(0))?);
    }
    let (_, blob) = master.new_wrapped(&aad)?;
    // Two processes may make it at once: the first one stored wins, and both read it back.
    c.execute(
        "INSERT INTO rapport_vault.secrets (name, wrapped) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &blob],
    )
    .await?;
    let r = c.query_one(read, &[&name]).await?;
    Ok(master.unwrap(&aad, r.get(0))?)
}

/// Rewrites the vault's tables whole, so that deleted or replaced wrappings leave their
/// relation files: `VACUUM FULL` writes new files and removes the old ones.
///
/// It copies every old row version that some transaction might still see, and what "might"
/// means is decided by the oldest transaction still running on the whole server (in any
/// database: measured, a transaction left open in another database kept the old rows in the
/// new files) and the oldest snapshot held in this one. So it first waits, ten seconds at
/// most, until both are newer than `changed_by` (the transaction that deleted or replaced the
/// wrappings); and it needs the tables to itself for a moment. `false` when an old
/// transaction or a long import kept it waiting too long (the next forgetting, or
/// `VACUUM FULL rapport_vault.keys`, does it then).
pub async fn rewrite(c: &tokio_postgres::Client, changed_by: &str) -> bool {
    rewrite_tables(c, changed_by, "rapport_vault.keys, rapport_vault.secrets").await
}

/// [`rewrite`] of the tables named (a shard server's partitions of the vault).
pub async fn rewrite_tables(c: &tokio_postgres::Client, changed_by: &str, tables: &str) -> bool {
    let mut clear = false;
    for _ in 0..100 {
        let older: Result<bool, _> = c
            .query_one(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8
                    AND NOT EXISTS (SELECT 1 FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                          AND (age(backend_xmin) >= age(($1::text::bigint % 4294967296)::text::xid)
                            OR age(backend_xid) >= age(($1::text::bigint % 4294967296)::text::xid)))",
                &[&changed_by],
            )
            .await
            .map(|r| r.get(0));
        match older {
            Ok(true) => {
                clear = true;
                break;
            }
            Ok(false) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => return false,
        }
    }
    if !clear {
        return false;
    }
    // One statement at a time: several in one message would be one transaction, where
    // VACUUM may not run.
    if c.batch_execute("SET lock_timeout = '5s'").await.is_err() {
        return false;
    }
    let mut done = false;
    for _ in 0..3 {
        if c.batch_execute(&format!("VACUUM (FULL) {tables}"))
            .await
            .is_ok()
        {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = c.batch_execute("RESET lock_timeout").await;
    done
}

/// The id of the caller's transaction (as `xid8`), as `rewrite` takes it.
pub async fn xid(c: &impl GenericClient) -> Result<String> {
    Ok(c.query_one("SELECT pg_current_xact_id()::text", &[])
        .await?
        .get(0))
}

/// A new transaction id on `c`'s server (in a transaction of its own, committed at once).
pub async fn xid_now(c: &tokio_postgres::Client) -> Result<String> {
    Ok(c.query_one("SELECT pg_current_xact_id()::text", &[])
        .await?
        .get(0))
}

/// Re-wraps every key and secret under `new` in one transaction, then rewrites the vault's
/// tables; how many person keys.
pub async fn rekey(store: &PostgresStore, new: &MasterKey) -> Result<Rewrapped> {
    let old = store.keys.master();
    let mut c = store.db.get().await?;
    let n = {
        let tx = c.transaction().await?;
        if !lock::try_take(&tx, "rapport rekey").await? {
            return Err(lock::busy(&lock::holder(&store.db.get().await?).await?).into());
        }
        let rows = tx
            .query("SELECT person, wrapped FROM rapport_vault.keys", &[])
            .await?;
        let mut rewrapped = Vec::with_capacity(rows.len());
        let mut n = 0u64;
        for r in &rows {
            let person: &str = r.get(0);
            let raw = old.unwrap(person, r.get(1))?;
            rewrapped.push((person.to_owned(), new.wrap(person, &raw)?));
            if person != CHECK {
                n += 1;
            }
        }
        tx.batch_execute(
            "CREATE TEMP TABLE rapport_rekeyed (person text, wrapped bytea) ON COMMIT DROP",
        )
        .await?;
        {
            let sink = tx
                .copy_in("COPY rapport_rekeyed (person, wrapped) FROM STDIN (FORMAT binary)")
                .await?;
            let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::BYTEA]);
            pin_mut!(writer);
            for (person, wrapped) in &rewrapped {
                writer.as_mut().write(&[person, wrapped]).await?;
            }
            writer.finish().await?;
        }
        tx.execute(
            "UPDATE rapport_vault.keys k SET wrapped = r.wrapped FROM rapport_rekeyed r
             WHERE k.person = r.person",
            &[],
        )
        .await?;
        let secrets = tx
            .query("SELECT name, wrapped FROM rapport_vault.secrets", &[])
            .await?;
        for r in &secrets {
            let name: &str = r.get(0);
            let aad = format!("secret:{name}");
            let raw = old.unwrap(&aad, r.get(1))?;
            tx.execute(
                "UPDATE rapport_vault.secrets SET wrapped = $2 WHERE name = $1",
                &[&name, &new.wrap(&aad, &raw)?],
            )
            .await?;
        }
        let changed_by = xid(&tx).await?;
        tx.commit().await?;
        (n, changed_by)
    };
    let (n, changed_by) = n;
    Ok(Rewrapped {
        keys: n,
        cleared_now: rewrite(&c, &changed_by).await && store.rewrite_remote_vaults().await,
    })
}
