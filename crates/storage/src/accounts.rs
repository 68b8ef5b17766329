//! Row types of accounts, sessions, API tokens and the audit trail.
//!
//! Secrets never reach the store in the clear: passwords arrive as argon2
//! PHC strings, session and API tokens as SHA-256 hex digests. The HTTP
//! layer does the hashing; the store only keeps and finds rows.

use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, AreaPath, Role};
use serde::Serialize;

/// An account about to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Login name, unique.
    pub username: String,
    /// What screens show (never a resident's data).
    pub display_name: String,
    pub role: Role,
    /// The area subtree the account works in (not for labs and admins).
    pub scope_area: Option<AreaId>,
    /// The lab the account works for (labs only).
    pub lab: Option<String>,
    /// Argon2 PHC string; `None` for accounts that only use API tokens.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An account as stored, with its scope's path resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope_area: Option<AreaId>,
    /// Path of `scope_area`, for subtree checks.
    pub scope_path: Option<AreaPath>,
    pub lab: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    /// Set for a password someone else chose (the first start's one-time
    /// admin password): every call but changing it is refused until then.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

/// A login session, keyed by the digest of its cookie value.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    /// Must come back in `X-CSRF-Token` on every cookie-authenticated write.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
}

/// An API token about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiToken {
    pub user_id: i64,
    /// What the token is for ("PDA 7", "金域 LIMS").
    pub name: String,
    pub token_hash: String,
    /// The first characters of the token, so people can tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token as stored (without its digest in answers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One entry of the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    /// The acting account, when known (a failed login has none).
    pub actor_id: Option<i64>,
    /// Username (or the name tried, for a failed login).
    pub actor: String,
    pub role: Option<Role>,
    /// e.g. `login`, `login_failed`, `person.read`, `result.post`, `user.create`.
    pub action: String,
    /// What it was done to: `person:42`, `tube:S0001`, `user:7`.
    pub target: Option<String>,
    /// Further facts, never a full ID number or phone.
    pub detail: Option<String>,
    /// The client's address.
    pub address: Option<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewAudit,
}

/// Which audit entries to list; every set field must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Newest first; at most this many.
    pub limit: u32,
}
