//! Who is asking, and may they: authentication (session cookie or API
//! token), the one authorisation middleware that enforces the route
//! table's [`Access`] for every route, and the audit of what the table
//! marks as audited.
//!
//! Handlers never check roles or scopes themselves; they read the
//! [`Principal`] the middleware put in the request (for the actor name,
//! and for how much of a person a role may see).

mod crypto;
mod limiter;
pub(crate) mod openapi;
mod scope;

/// Re-exported so the access rules can still be named from here, where
/// they are enforced.
pub use crate::route_table::{Access, Audit, Scope};
pub use crypto::{hash_password, random_token, sha256_hex, verify_password};
pub use limiter::LoginLimiter;

use crate::route_table::{API_ROUTES, ApiRoute, Endpoint};
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use gridsweep_domain::{Reach, Role};
use gridsweep_storage::{NewApiToken, NewAudit, Store, StoreResult, UserRow};
use std::net::SocketAddr;
use tracing::Instrument;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gs_session";

/// Header carrying the per-session CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Largest JSON body the middleware reads to check a scope (a full sync
/// batch of 5000 events fits with room to spare).
const MAX_SCOPED_BODY: usize = 16 * 1024 * 1024;

/// Session and cookie settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Adds `Secure` to the session cookie (on behind TLS).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::hours(12),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    /// The session cookie; writes need the session's CSRF token.
    Session { token_hash: String, csrf: String },
    /// `Authorization: Bearer …` (devices, lab systems).
    Token { id: i64, token_hash: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserRow,
    pub via: Via,
}

impl Principal {
    /// The name written on rows and audit entries.
    pub fn actor(&self) -> String {
        self.user.username.clone()
    }

    /// The account's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Where the engine lets this account act on tubes. The admin manages
    /// accounts and samples nothing; a lab account without a lab, or an
    /// area account without a scope, reaches nothing.
    pub fn reach(&self) -> Reach {
        match (self.user.role, &self.user.lab, &self.user.scope_path) {
            (Role::Lab, Some(_), _) => Reach::Lab,
            (Role::Lab, None, _) | (Role::Admin, _, _) => Reach::Nowhere,
            (_, _, Some(path)) => Reach::Area(path.clone()),
            (_, _, None) => Reach::Nowhere,
        }
    }
}

/// Handlers take the caller with this extractor; the middleware has
/// already put it there (a route without one answers 401).
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(unauthenticated)
    }
}

/// The client's address, as the socket saw it (no proxy headers trusted).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client_addr(&parts.extensions))
    }
}

fn client_addr(ext: &axum::http::Extensions) -> ClientAddr {
    ClientAddr(
        ext.get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
    )
}

pub(crate) fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign in (POST /api/v1/auth/login) or send Authorization: Bearer <token>",
    )
}

pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Finds the account behind a request's credentials: a bearer token
/// first, else the session cookie. `Ok(None)`: no credentials at all.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| sha256_hex(t.trim()));
    let session = cookie_value(headers, SESSION_COOKIE).map(sha256_hex);
    if bearer.is_none() && session.is_none() {
        return Err(unauthenticated());
    }
    let now = Utc::now();
    state
        .blocking(move |s| {
            let (user_id, via) = if let Some(hash) = bearer {
                let t = s
                    .api_token_by_hash(&hash, now)?
                    .ok_or_else(unauthenticated)?;
                (
                    t.user_id,
                    Via::Token {
                        id: t.id,
                        token_hash: hash,
                    },
                )
            } else {
                let hash = session.expect("checked above");
                let sess = s.session(&hash, now)?.ok_or_else(unauthenticated)?;
                let via = Via::Session {
                    token_hash: hash,
                    csrf: sess.csrf_token,
                };
                (sess.user_id, via)
            };
            let user = s
                .user(user_id)?
                .filter(|u| !u.disabled)
                .ok_or_else(unauthenticated)?;
            Ok(Principal { user, via })
        })
        .await
}

/// Whether the credentials a request came with still stand: the session
/// or token not ended, expired or revoked, the account not disabled. A
/// long-lived answer (the event stream) asks this again as it goes, so it
/// ends with the session rather than outliving it.
pub(crate) fn still_valid(store: &dyn Store, p: &Principal) -> StoreResult<bool> {
    let now = Utc::now();
    let user_id = match &p.via {
        Via::Token { token_hash, .. } => {
            store.api_token_by_hash(token_hash, now)?.map(|t| t.user_id)
        }
        Via::Session { token_hash, .. } => store.session(token_hash, now)?.map(|s| s.user_id),
    };
    Ok(match user_id {
        Some(id) if id == p.user.id => store.user(id)?.is_some_and(|u| !u.disabled),
        _ => false,
    })
}

/// Compares without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn find_route(method: &Method, path: &str) -> Option<&'static ApiRoute> {
    // HEAD is answered by the GET handler, so it is checked as GET.
    let m = if method == Method::HEAD {
        "get".to_string()
    } else {
        method.as_str().to_ascii_lowercase()
    };
    API_ROUTES.iter().find(|r| r.method == m && r.path == path)
}

/// The one authorisation check, layered on every route by the router:
/// looks the route up in [`API_ROUTES`], authenticates, checks CSRF for
/// cookie writes, the role and the scope, then runs the handler and
/// writes the audit entry the route asks for.
pub(crate) async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        return next.run(req).await;
    };
    let Some(route) = find_route(req.method(), &path) else {
        // Not a method of this path: the router answers 405.
        return next.run(req).await;
    };
    if matches!(route.access, Access::Public) {
        return next.run(req).await;
    }
    let span = tracing::info_span!("authz", method = %req.method(), route = %path, user = tracing::field::Empty, role = tracing::field::Empty);
    async move {
        match check(&state, route, req).await {
            Ok((principal, req, target)) => {
                let span = tracing::Span::current();
                span.record("user", principal.user.username.as_str());
                span.record("role", principal.role().as_str());
                tracing::debug!("authorized");
                let addr = client_addr(req.extensions());
                let detail = route
                    .audit
                    .as_ref()
                    .map(|a| audit_detail(a, &principal, &target));
                let response = next.run(req).await;
                match (route.audit, detail) {
                    (Some(a), Some(detail)) if response.status().is_success() => {
                        let entry = NewAudit {
                            at: Utc::now(),
                            actor_id: Some(principal.user.id),
                            actor: principal.actor(),
                            role: Some(principal.role()),
                            action: a.action.to_string(),
                            target: target.label.clone(),
                            detail,
                            address: addr.0,
                        };
                        // An audited answer that cannot be recorded is not given.
                        match state.blocking(move |s| Ok(s.append_audit(entry)?)).await {
                            Ok(_) => response,
                            Err(e) => e.into_response(),
                        }
                    }
                    _ => response,
                }
            }
            Err(e) => {
                tracing::debug!(code = e.code, status = %e.status, "refused");
                e.into_response()
            }
        }
    }
    .instrument(span)
    .await
}

fn audit_detail(a: &Audit, p: &Principal, target: &scope::Target) -> Option<String> {
    let mut d = serde_json::Map::new();
    if a.identifiers {
        let full = p.role().sees_full_identifiers();
        d.insert(
            "identifiers".into(),
            (if full { "full" } else { "masked" }).into(),
        );
    }
    if let Some(b) = &target.body_summary {
        d.insert("request".into(), b.clone());
    }
    Some(serde_json::Value::Object(d).to_string())
}

async fn check(
    state: &AppState,
    route: &ApiRoute,
    req: Request,
) -> Result<(Principal, Request, scope::Target), ApiError> {
    let principal = authenticate(state, req.headers()).await?;
    if let Via::Session { csrf, .. } = &principal.via {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, csrf) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "a write with the session cookie needs the session's X-CSRF-Token header",
                ));
            }
        }
    }
    // A one-time password opens nothing but the way to replace it.
    if principal.user.must_change_password
        && !matches!(
            route.endpoint,
            Endpoint::ChangePassword | Endpoint::Me | Endpoint::Logout
        )
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "this account signed in with a one-time password: change it first (POST /api/v1/auth/password)",
        ));
    }
    let (roles, scope) = match route.access {
        Access::Public => unreachable!("public routes skip the check"),
        Access::Signed => (None, Scope::None),
        Access::Roles(roles, scope) => (Some(roles), scope),
    };
    if let Some(roles) = roles
        && !roles.contains(&principal.role())
    {
        return Err(forbidden(format!(
            "role {} may not call {} {}",
            principal.role(),
            route.method.to_ascii_uppercase(),
            route.path
        )));
    }
    let (req, target) = scope::check(
        state,
        &principal,
        scope,
        route.audit.is_some_and(|a| a.body),
        req,
    )
    .await?;
    let mut req = req;
    req.extensions_mut().insert(principal.clone());
    Ok((principal, req, target))
}

/// A new API token for `user_id`: the plain token (to show once) and the
/// stored row (which keeps only its digest).
pub fn issue_api_token(
    store: &dyn Store,
    user_id: i64,
    name: &str,
    valid_for: Duration,
) -> StoreResult<(String, gridsweep_storage::ApiTokenRow)> {
    let plain = format!("gs_{}", random_token());
    let now = Utc::now();
    let row = store.create_api_token(NewApiToken {
        user_id,
        name: name.to_string(),
        token_hash: sha256_hex(&plain),
        prefix: plain.chars().take(10).collect(),
        created_at: now,
        expires_at: now + valid_for,
    })?;
    Ok((plain, row))
}

/// When a session made now ends.
pub(crate) fn session_expiry(cfg: &AuthConfig) -> DateTime<Utc> {
    Utc::now() + cfg.session_ttl
}
