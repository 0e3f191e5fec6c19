//! Forgetting a person on PostgreSQL.
//!
//! In one transaction, holding the writer lock: the person's key row is deleted from the
//! vault, and their events, sealed fields, rows of the scripts index and id are removed, their
//! name in the audit log cleared, a tombstone laid and the totals of forgotten people kept —
//! all or nothing, so a failure leaves the person as they were (SQLite needs two steps, its
//! vault being another file). Then the vault's keys table is rewritten (`VACUUM FULL`, a small
//! table), so the wrapped key is gone from its relation files; `Forgotten::cleared_now` says
//! whether that succeeded. The events' and sealed fields' old row versions stay in their
//! tables' files until PostgreSQL's vacuum reuses the space: sealed, and unreadable now that
//! the key is gone (docs/postgres.md, "Erasure").

use domain::{PersonId, Timestamp};
use store::Forgotten;

use crate::error::Result;
use crate::{PostgresStore, lock, person_key, scan, scripts, vault};

pub async fn forget(store: &PostgresStore, person: &PersonId) -> Result<Option<Forgotten>> {
    let tombstone = store::tombstone_of(&store.tombstone_secret().await?, person.as_str());
    let mut c = store.db.get().await?;
    let tx = c.transaction().await?;
    if !lock::try_take(&tx, "rapport forget").await? {
        return Err(lock::busy(&lock::holder(&store.db.get().await?).await?).into());
    }
    // An import's parts still being committed on other servers are settled first: none of the
    // person's rows may arrive after they are forgotten.
    crate::direct::resolve(store, &tx).await?;
    let Some(pk) = person_key(&tx, person).await? else {
        // Ended here, not on drop: a dropped transaction is rolled back later, and until
        // then the writer lock would refuse the next writer on another connection.
        tx.rollback().await?;
        return Ok(None);
    };
    let events = scan::person_events(&tx, pk).await?;
    let amounts = store::amounts_by_currency(&events);

    tx.execute(
        "DELETE FROM rapport_vault.keys WHERE person = $1",
        &[&person.as_str()],
    )
    .await?;
    let sealed = tx
        .execute("DELETE FROM rapport.sealed WHERE person = $1", &[&pk])
        .await?;
    let removed = tx
        .execute("DELETE FROM rapport.events WHERE person = $1", &[&pk])
        .await?;
    scripts::forget(&tx, pk).await?;
    tx.execute("DELETE FROM rapport.people WHERE pk = $1", &[&pk])
        .await?;
    crate::kept::forget(&tx, person).await?;
    tx.execute(
        "UPDATE rapport.audit SET person = NULL WHERE person = $1",
        &[&person.as_str()],
    )
    .await?;
    lay_tombstone(&tx, &tombstone).await?;
    tx.execute(
        "INSERT INTO rapport.forgotten (at, events, amounts) VALUES ($1, $2, $3)",
        &[
            &Timestamp::now().unix(),
            &(removed as i64),
            &serde_json::to_string(&amounts).unwrap_or_else(|_| "{}".into()),
        ],
    )
    .await?;
    let changed_by = vault::xid(&tx).await?;
    tx.commit().await?;
    store.keys.evict(Some(person.as_str()));
    store.people_guard().map = None;
    let cleared_now = vault::rewrite(&c, &changed_by).await && store.rewrite_remote_vaults().await;
    Ok(Some(Forgotten {
        events: removed,
        sealed,
        cleared_now,
    }))
}

pub const GENERATION: &str = "people_generation";

/// Lays a tombstone (inside the caller's transaction) and moves the people generation.
async fn lay_tombstone(c: &impl deadpool_postgres::GenericClient, mac: &[u8; 32]) -> Result<()> {
    c.execute(
        "INSERT INTO rapport.tombstones (mac, at) VALUES ($1, $2) ON CONFLICT (mac) DO NOTHING",
        &[&mac.as_slice(), &Timestamp::now().unix()],
    )
    .await?;
    bump_generation(c).await
}

pub async fn bump_generation(c: &impl deadpool_postgres::GenericClient) -> Result<()> {
    c.execute(
        "INSERT INTO rapport.meta (key, value) VALUES ($1, '1')
         ON CONFLICT (key) DO UPDATE SET value = (rapport.meta.value::bigint + 1)::text",
        &[&GENERATION],
    )
    .await?;
    Ok(())
}

/// Lifts a tombstone; `false` when there was none for this id.
pub async fn welcome_back(store: &PostgresStore, person: &PersonId) -> Result<bool> {
    let tombstone = store::tombstone_of(&store.tombstone_secret().await?, person.as_str());
    let mut c = store.db.get().await?;
    let tx = c.transaction().await?;
    if !lock::try_take(&tx, "rapport welcome-back").await? {
        return Err(lock::busy(&lock::holder(&store.db.get().await?).await?).into());
    }
    let n = tx
        .execute(
            "DELETE FROM rapport.tombstones WHERE mac = $1",
            &[&tombstone.as_slice()],
        )
        .await?;
    if n > 0 {
        bump_generation(&tx).await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// How many times people were forgotten or welcomed back, ever.
pub async fn people_generation(c: &impl deadpool_postgres::GenericClient) -> Result<i64> {
    Ok(crate::meta(c, "rapport.meta", GENERATION)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
