//! Who may use the web and the API, and what they looked at: tokens, browser sessions, the
//! audit log written in groups, and the names lists are searched by.
//!
//! Tokens and session cookies are random values held by their owners; the ledger keeps only
//! their SHA-256 hashes, computed by the caller.

use domain::{PersonId, Timestamp};
use rusqlite::{OptionalExtension, params};
use store::{Access, AuditEntry, Session, StoreError, TokenRecord};

use crate::SqliteStore;
use crate::error::run;

fn token(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        created_at: Timestamp::from_unix(row.get(3)?),
        revoked_at: row.get::<_, Option<i64>>(4)?.map(Timestamp::from_unix),
    })
}

impl Access for SqliteStore {
    fn token_add(&self, name: &str, role: &str, hash: &[u8]) -> Result<i64, StoreError> {
        run(|| {
            let conn = self.conns.writer();
            conn.execute(
                "INSERT INTO tokens (name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role, hash, Timestamp::now().unix()],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare(
                    "SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY id",
                )?;
                let rows = stmt.query_map([], token)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
        })
    }

    fn token_revoke(&self, id: i64) -> Result<bool, StoreError> {
        run(|| {
            let mut conn = self.conns.writer();
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, Timestamp::now().unix()],
            )?;
            tx.execute("DELETE FROM sessions WHERE token = ?1", params![id])?;
            tx.commit()?;
            Ok(n == 1)
        })
    }

    fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                Ok(c.prepare_cached(
                    "SELECT id, name, role, created_at, revoked_at FROM tokens
                     WHERE hash = ?1 AND revoked_at IS NULL",
                )?
                .query_row(params![hash], token)
                .optional()?)
            })
        })
    }

    fn session_add(
        &self,
        hash: &[u8],
        token: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        run(|| {
            let now = Timestamp::now().unix();
            let conn = self.conns.writer();
            // Expired sessions are swept whenever someone signs in.
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])?;
            conn.execute(
                "INSERT INTO sessions (hash, token, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, token, csrf, now, expires_at.unix()],
            )?;
            Ok(())
        })
    }

    fn session_by_hash(&self, hash: &[u8], now: Timestamp) -> Result<Option<Session>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                Ok(c.prepare_cached(
                    "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, s.csrf, s.expires_at
                     FROM sessions s JOIN tokens t ON t.id = s.token
                     WHERE s.hash = ?1 AND s.expires_at > ?2 AND t.revoked_at IS NULL",
                )?
                .query_row(params![hash, now.unix()], |row| {
                    Ok(Session {
                        token: token(row)?,
                        csrf: row.get(5)?,
                        expires_at: Timestamp::from_unix(row.get(6)?),
                    })
                })
                .optional()?)
            })
        })
    }

    fn session_remove(&self, hash: &[u8]) -> Result<(), StoreError> {
        run(|| {
            self.conns
                .writer()
                .execute("DELETE FROM sessions WHERE hash = ?1", params![hash])?;
            Ok(())
        })
    }

    fn audit_many(&self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        run(|| {
            let mut conn = self.conns.writer();
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO audit (at, actor, action, person) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for e in entries {
                    stmt.execute(params![e.at.unix(), e.actor, e.action, e.person])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
        run(|| {
            self.conns.read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT seq, at, actor, action, person FROM audit
                     WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
                )?;
                let rows =
                    stmt.query_map(params![before.unwrap_or(i64::MAX), limit as i64], |r| {
                        Ok((
                            r.get(0)?,
                            AuditEntry {
                                at: Timestamp::from_unix(r.get(1)?),
                                actor: r.get(2)?,
                                action: r.get(3)?,
                                person: r.get(4)?,
                            },
                        ))
                    })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
        })
    }

    fn names(&self) -> Result<Vec<(PersonId, String)>, StoreError> {
        run(|| {
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
        })
    }

    fn secret(&self, purpose: &str) -> [u8; 32] {
        self.keys.derive(purpose)
    }
}
