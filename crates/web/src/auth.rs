//! Who is asking, and what they may see.
//!
//! Three roles: `agent` sees cards; `analyst` sees every figure and chart but no personal
//! text (names, e-mail, wishes and message texts become stable pseudonyms); `admin` sees
//! everything and also manages tokens and reads the audit log. The API takes
//! `Authorization: Bearer <token>`; browsers sign in once with a token and then carry a
//! session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS), and every form they send
//! must carry the session's anti-forgery token.
//!
//! Tokens and session ids are 256-bit random values; the ledger keeps only their SHA-256.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use store::TokenRecord;

use crate::error::{ApiError, PageError};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "rapport_session";
pub const SIGN_IN_COOKIE: &str = "rapport_sign_in";
/// How long a browser session lasts.
pub const SESSION_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
    Analyst,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Analyst => "analyst",
        }
    }

    /// Whether this role may read personal text (names, e-mail, wishes, messages).
    pub fn sees_personal_text(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

/// Someone signed in (a browser session) or presenting a token (the API).
#[derive(Debug, Clone)]
pub struct Principal {
    pub token: i64,
    pub name: String,
    pub role: Role,
    /// The session's anti-forgery token; `None` for API calls.
    pub csrf: Option<String>,
}

impl Principal {
    fn from_token(t: &TokenRecord, csrf: Option<String>) -> Option<Principal> {
        Some(Principal {
            token: t.id,
            name: t.name.clone(),
            role: Role::parse(&t.role)?,
            csrf,
        })
    }

    /// How the audit log names this principal.
    pub fn actor(&self) -> String {
        format!("{}:{}#{}", self.role.as_str(), self.name, self.token)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

pub use app::{hash_secret as hash, new_secret};

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (hash(a), hash(b));
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A stable pseudonym for `key` (a person id, or a text's place), keyed with a secret derived
/// from the master key: the same person always gets the same pseudonym, and nobody without
/// the key can tell who it is.
pub fn pseudonym(secret: &[u8; 32], key: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(key.as_bytes());
    let out = mac.finalize().into_bytes();
    format!("anon-{}", hex::encode(&out[..4]))
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when served over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Whether the browser reached us over HTTPS (directly configured, or said by a proxy).
pub fn https(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The API's caller, from `Authorization: Bearer`.
pub struct Bearer(pub Principal);

impl FromRequestParts<Arc<AppState>> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("no token: send Authorization: Bearer <token>")
            })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not Bearer <token>")
            })?;
        let h = hash(token);
        let state = state.clone();
        let found = tokio::task::spawn_blocking(move || state.token(h))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(ApiError::store)?;
        found
            .as_ref()
            .and_then(|t| Principal::from_token(t, None))
            .map(Bearer)
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
    }
}

/// A signed-in browser; pages without one redirect to the sign-in page.
pub struct Signed(pub Principal);

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::SignIn);
        };
        let state = state.clone();
        let session = session.to_owned();
        let found = tokio::task::spawn_blocking(move || state.app.session(&session))
            .await
            .map_err(|e| PageError::internal(e.to_string()))??;
        found
            .and_then(|s| Principal::from_token(&s.token, Some(s.csrf)))
            .map(Signed)
            .ok_or(PageError::SignIn)
    }
}

impl Signed {
    /// Refuses a form whose anti-forgery token is missing or wrong.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), PageError> {
        match (&self.0.csrf, sent) {
            (Some(expected), Some(sent)) if same(expected, sent) => Ok(()),
            _ => Err(PageError::Forbidden(
                "This form is missing its security token (or it is stale). Go back, reload the page and try again."
                    .into(),
            )),
        }
    }

    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.0.is_admin() {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "Only an admin may see this page.".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_between_people() {
        let k = [7u8; 32];
        assert_eq!(pseudonym(&k, "P-1"), pseudonym(&k, "P-1"));
        assert_ne!(pseudonym(&k, "P-1"), pseudonym(&k, "P-2"));
        assert_ne!(pseudonym(&k, "P-1"), pseudonym(&[8u8; 32], "P-1"));
        assert!(pseudonym(&k, "P-1").starts_with("anon-"));
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; rapport_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", ""));
    }
}
