//! Who may use the web and the API: tokens (random secrets whose SHA-256 alone is kept) with
//! a role each.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use store::TokenRecord;

use crate::{App, AppError};

/// The roles a token may have.
pub const ROLES: &[&str] = &["admin", "agent", "analyst"];

/// A new random secret: 32 bytes, URL-safe base64, with a prefix saying what it is.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the ledger keeps of a secret.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl App {
    /// Makes a token with `role` named `name` and returns it (once: the ledger keeps its hash).
    pub fn token_create(&self, name: &str, role: &str, actor: &str) -> Result<String, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "name",
                "give a name of 1 to 80 characters, without control characters",
            ));
        }
        if !ROLES.contains(&role) {
            return Err(AppError::invalid(
                "role",
                format!("{role:?}: choose {}", ROLES.join(", ")),
            ));
        }
        let token = new_secret("rpt_");
        self.ledger.token_add(name, role, &hash_secret(&token))?;
        self.ledger
            .audit(actor, &format!("token.create:{name}:{role}"), None)?;
        Ok(token)
    }

    /// Every token ever made, revoked ones included.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, AppError> {
        Ok(self.ledger.tokens()?)
    }

    /// Revokes a token and ends its sessions; `false` if there was no such live token.
    pub fn token_revoke(&self, id: i64, actor: &str) -> Result<bool, AppError> {
        let done = self.ledger.token_revoke(id)?;
        if done {
            self.ledger
                .audit(actor, &format!("token.revoke:{id}"), None)?;
        }
        Ok(done)
    }
}

/// A browser session just opened: the cookie's secret, its anti-forgery token, and when it
/// ends.
pub struct SignedIn {
    pub session: String,
    pub csrf: String,
    pub expires: domain::Timestamp,
    pub token: TokenRecord,
}

impl App {
    /// The live token whose secret this is.
    pub fn token_of(&self, secret: &str) -> Result<Option<TokenRecord>, AppError> {
        Ok(self.ledger.token_by_hash(&hash_secret(secret))?)
    }

    /// Opens a browser session for a live token, valid `days` days; `None` for an unknown or
    /// revoked token.
    pub fn sign_in(&self, secret: &str, days: i64) -> Result<Option<SignedIn>, AppError> {
        let Some(token) = self.token_of(secret)? else {
            return Ok(None);
        };
        let session = new_secret("");
        let csrf = new_secret("");
        let expires = domain::Timestamp::now().plus_days(days);
        self.ledger
            .session_add(&hash_secret(&session), token.id, &csrf, expires)?;
        Ok(Some(SignedIn {
            session,
            csrf,
            expires,
            token,
        }))
    }

    /// The unexpired session whose cookie this is, if its token is still live.
    pub fn session(&self, session: &str) -> Result<Option<store::Session>, AppError> {
        Ok(self
            .ledger
            .session_by_hash(&hash_secret(session), domain::Timestamp::now())?)
    }

    pub fn sign_out(&self, session: &str) -> Result<(), AppError> {
        Ok(self.ledger.session_remove(&hash_secret(session))?)
    }

    /// The audit log newest first, `limit` entries older than `before`.
    pub fn audit_page(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, store::AuditEntry)>, AppError> {
        Ok(self.ledger.audit_page(before, limit)?)
    }
}
