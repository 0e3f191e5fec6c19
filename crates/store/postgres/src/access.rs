//! Who may use the web and the API, and what they looked at: tokens, browser sessions, the
//! audit log, and the names lists are searched by.
//!
//! Every question goes to the database: a token revoked by one server is refused by every
//! other at its next request, because none of them keeps tokens or sessions in memory.

use domain::{PersonId, Timestamp};
use store::{Access, AuditEntry, Session, StoreError, TokenRecord};

use crate::{PostgresStore, audit_entry};

fn token(r: &tokio_postgres::Row) -> TokenRecord {
    TokenRecord {
        id: r.get(0),
        name: r.get(1),
        role: r.get(2),
        created_at: Timestamp::from_unix(r.get(3)),
        revoked_at: r.get::<_, Option<i64>>(4).map(Timestamp::from_unix),
    }
}

impl Access for PostgresStore {
    fn token_add(&self, name: &str, role: &str, hash: &[u8]) -> Result<i64, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            Ok(c.query_one(
                "INSERT INTO rapport.tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING id",
                &[&name, &role, &hash, &Timestamp::now().unix()],
            )
            .await?
            .get(0))
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT id, name, role, created_at, revoked_at FROM rapport.tokens ORDER BY id",
                    &[],
                )
                .await?;
            Ok(rows.iter().map(token).collect())
        })
    }

    fn token_revoke(&self, id: i64) -> Result<bool, StoreError> {
        self.run(async {
            let mut c = self.db.get().await?;
            let tx = c.transaction().await?;
            let n = tx
                .execute(
                    "UPDATE rapport.tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    &[&id, &Timestamp::now().unix()],
                )
                .await?;
            tx.execute("DELETE FROM rapport.sessions WHERE token = $1", &[&id])
                .await?;
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT id, name, role, created_at, revoked_at FROM rapport.tokens
                     WHERE hash = $1 AND revoked_at IS NULL",
                )
                .await?;
            Ok(c.query_opt(&stmt, &[&hash]).await?.map(|r| token(&r)))
        })
    }

    fn session_add(
        &self,
        hash: &[u8],
        token: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(async {
            let now = Timestamp::now().unix();
            let c = self.db.get().await?;
            // Expired sessions are swept whenever someone signs in.
            c.execute(
                "DELETE FROM rapport.sessions WHERE expires_at <= $1",
                &[&now],
            )
            .await?;
            c.execute(
                "INSERT INTO rapport.sessions (hash, token, csrf, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&hash, &token, &csrf, &now, &expires_at.unix()],
            )
            .await?;
            Ok(())
        })
    }

    fn session_by_hash(&self, hash: &[u8], now: Timestamp) -> Result<Option<Session>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, s.csrf, s.expires_at
                     FROM rapport.sessions s JOIN rapport.tokens t ON t.id = s.token
                     WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
                )
                .await?;
            Ok(c.query_opt(&stmt, &[&hash, &now.unix()])
                .await?
                .map(|r| Session {
                    token: token(&r),
                    csrf: r.get(5),
                    expires_at: Timestamp::from_unix(r.get(6)),
                }))
        })
    }

    fn session_remove(&self, hash: &[u8]) -> Result<(), StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            c.execute("DELETE FROM rapport.sessions WHERE hash = $1", &[&hash])
                .await?;
            Ok(())
        })
    }

    fn audit_many(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // One statement for the group: every entry written once, together or not at all.
        let at: Vec<i64> = entries.iter().map(|e| e.at.unix()).collect();
        let actor: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
        let action: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        let person: Vec<Option<&str>> = entries.iter().map(|e| e.person.as_deref()).collect();
        self.run(async {
            let c = self.db.get().await?;
            let stmt = c
                .prepare_cached(
                    "INSERT INTO rapport.audit (at, actor, action, person)
                     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])",
                )
                .await?;
            c.execute(&stmt, &[&at, &actor, &action, &person]).await?;
            Ok(())
        })
    }

    fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
        self.run(async {
            let c = self.db.get().await?;
            let rows = c
                .query(
                    "SELECT seq, at, actor, action, person FROM rapport.audit
                     WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
                    &[&before.unwrap_or(i64::MAX), &(limit as i64)],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), audit_entry(r, 1))).collect())
        })
    }

    fn names(&self) -> Result<Vec<(PersonId, String)>, StoreError> {
        let mut out: Vec<(PersonId, String)> = Vec::new();
        for (person, _, personal) in self.sealed_of_kind(domain::Kind::PersonIdentified)? {
            let Some(name) = personal.name else { continue };
            // The latest identification wins.
            match out.last_mut() {
                Some(last) if last.0 == person => last.1 = name,
                _ => out.push((person, name)),
            }
        }
        Ok(out)
    }

    fn secret(&self, purpose: &str) -> [u8; 32] {
        self.keys.derive(purpose)
    }
}
