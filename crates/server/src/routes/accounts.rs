//! Login and logout, the caller's own account, and the admin's accounts,
//! API tokens and audit trail. Also the first-start admin and the demo
//! accounts.
//!
//! Who may call what is decided by the route table; these handlers audit
//! what they change themselves, because only they know which parts of a
//! request are secret (a password never reaches the audit trail).

use crate::auth::{
    self, ClientAddr, LoginLimiter, Principal, SESSION_COOKIE, Via, hash_password, issue_api_token,
    random_token, sha256_hex, verify_password,
};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use gridsweep_domain::{AreaId, AreaLevel, Role};
use gridsweep_storage::{
    ApiTokenRow, AuditFilter, AuditRow, NewAudit, NewUser, SessionRow, Store, StoreError,
    StoreResult, UserRow,
};
use serde::{Deserialize, Serialize};

/// Writes one audit entry; an action that cannot be recorded fails.
fn record(
    s: &dyn Store,
    who: Option<&UserRow>,
    actor: &str,
    action: &str,
    target: Option<String>,
    detail: Option<String>,
    addr: &ClientAddr,
) -> Result<(), ApiError> {
    s.append_audit(NewAudit {
        at: Utc::now(),
        actor_id: who.map(|u| u.id),
        actor: actor.to_string(),
        role: who.map(|u| u.role),
        action: action.to_string(),
        target,
        detail,
        address: addr.0.clone(),
    })?;
    Ok(())
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Deserialize)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

/// Answer of a login: the account, and the token every cookie write must
/// echo in `X-CSRF-Token`.
#[derive(Debug, Serialize)]
pub struct LoginAnswer {
    pub user: UserRow,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

fn too_many(wait: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed logins; try again in {wait} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `POST /api/v1/auth/login`: password login; sets the session cookie.
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let username = body.username.trim().to_string();
    let limiter: &LoginLimiter = &state.login_limiter;
    if let Some(wait) = limiter.blocked(&username, addr.0.as_deref()) {
        return Ok(too_many(wait));
    }
    let (name, pw) = (username.clone(), body.password);
    let found = state
        .blocking(move |s| {
            let user = s.user_by_name(&name)?;
            // Verify against a real hash even for unknown names, so timing
            // does not tell which usernames exist.
            let phc = user
                .as_ref()
                .and_then(|u| u.password_hash.clone())
                .unwrap_or_else(|| dummy_hash().to_string());
            let ok = verify_password(&pw, &phc);
            Ok(user.filter(|u| ok && !u.disabled && u.password_hash.is_some()))
        })
        .await?;
    let Some(user) = found else {
        limiter.failed(&username, addr.0.as_deref());
        let (a, n) = (addr.clone(), username.clone());
        state
            .blocking(move |s| record(s, None, &n, "login_failed", None, None, &a))
            .await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown user, wrong password, or account disabled",
        ));
    };
    limiter.succeeded(&username, addr.0.as_deref());
    let token = random_token();
    let csrf = random_token();
    let expires_at = auth::session_expiry(&state.auth);
    let session = SessionRow {
        token_hash: sha256_hex(&token),
        user_id: user.id,
        csrf_token: csrf.clone(),
        created_at: Utc::now(),
        expires_at,
        address: addr.0.clone(),
    };
    let u = user.clone();
    state
        .blocking(move |s| {
            s.create_session(session)?;
            record(
                s,
                Some(&u),
                &u.username,
                "login",
                Some(format!("user:{}", u.id)),
                None,
                &addr,
            )
        })
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.auth.session_ttl.num_seconds(),
        if state.auth.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut r = Json(LoginAnswer {
        user,
        csrf_token: csrf,
        expires_at,
    })
    .into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(r)
}

/// A fixed argon2 hash, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// `POST /api/v1/auth/logout`: ends the session and clears the cookie.
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    me: Principal,
    addr: ClientAddr,
) -> Result<Response, ApiError> {
    state
        .blocking(move |s| {
            if let Via::Session { token_hash, .. } = &me.via {
                s.delete_session(token_hash)?;
            }
            record(s, Some(&me.user), &me.actor(), "logout", None, None, &addr)
        })
        .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("gs_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(r)
}

/// Body of `POST /api/v1/auth/password`.
#[derive(Deserialize)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/auth/password`: the signed-in person replaces their
/// password (the first start's one-time admin password must be replaced
/// before anything else). Every other session of the account ends.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    State(state): State<AppState>,
    me: Principal,
    addr: ClientAddr,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    let Via::Session { token_hash, .. } = me.via.clone() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "session_required",
            "a password is changed by its owner, signed in with it, not with an API token",
        ));
    };
    if b.new_password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "new_password",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    if b.new_password == b.current_password {
        return Err(ApiError::invalid(
            "new_password",
            "the new password must differ from the current one",
        ));
    }
    let limiter: &LoginLimiter = &state.login_limiter;
    let name = me.user.username.clone();
    // Wrong current passwords count as failed logins of the account.
    if let Some(wait) = limiter.blocked(&name, addr.0.as_deref()) {
        return Ok(too_many(wait));
    }
    let phc = me.user.password_hash.clone().unwrap_or_default();
    let current = b.current_password;
    let ok =
        tokio::task::spawn_blocking(move || !phc.is_empty() && verify_password(&current, &phc))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
    if !ok {
        limiter.failed(&name, addr.0.as_deref());
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_credentials",
            "the current password is wrong",
        )
        .with_field("current_password"));
    }
    limiter.succeeded(&name, addr.0.as_deref());
    let hash = hash_password(&b.new_password).map_err(ApiError::internal)?;
    state
        .blocking(move |s| {
            s.set_password(me.user.id, hash, false, Some(token_hash))?;
            record(
                s,
                Some(&me.user),
                &me.actor(),
                "password.change",
                Some(format!("user:{}", me.user.id)),
                None,
                &addr,
            )
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/auth/me`: the caller's account.
#[tracing::instrument(skip_all)]
pub async fn me(me: Principal) -> Json<UserRow> {
    Json(me.user)
}

/// `GET /api/v1/users`.
#[tracing::instrument(skip_all)]
pub async fn list_users(State(state): State<AppState>) -> Result<Json<Vec<UserRow>>, ApiError> {
    Ok(Json(state.blocking(|s| Ok(s.users()?)).await?))
}

/// Body of `POST /api/v1/users`.
#[derive(Deserialize)]
pub struct NewUserBody {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub role: String,
    #[serde(default)]
    pub scope_area: Option<i64>,
    #[serde(default)]
    pub lab: Option<String>,
    /// Omitted: the account can only use API tokens.
    #[serde(default)]
    pub password: Option<String>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Checks an account's shape: the username, the password length, and
/// that the scope fits the role (an area for people on the ground, a lab
/// name for labs, nothing for the admin).
fn new_user(b: NewUserBody, store: &dyn Store) -> Result<NewUser, ApiError> {
    let username = b.username.trim().to_string();
    if !valid_username(&username) {
        return Err(ApiError::invalid(
            "username",
            "3 to 64 of letters, digits, '.', '_' or '-'",
        ));
    }
    let role = Role::parse(&b.role).map_err(|e| ApiError::invalid("role", e.to_string()))?;
    let password_hash = match b.password {
        Some(p) if p.chars().count() < MIN_PASSWORD => {
            return Err(ApiError::invalid(
                "password",
                format!("at least {MIN_PASSWORD} characters"),
            ));
        }
        Some(p) => Some(hash_password(&p).map_err(ApiError::internal)?),
        None => None,
    };
    let scope_area = match (role.needs_area(), b.scope_area) {
        (true, None) => {
            return Err(ApiError::invalid(
                "scope_area",
                format!("a {role} account needs an area scope"),
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "scope_area",
                format!("a {role} account has no area scope"),
            ));
        }
        (_, Some(id)) => {
            let id = AreaId::new(id).map_err(|e| ApiError::invalid("scope_area", e.to_string()))?;
            if store.area(id)?.is_none() {
                return Err(ApiError::not_found(format!("area {id}")).with_field("scope_area"));
            }
            Some(id)
        }
        (false, None) => None,
    };
    let lab = b
        .lab
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty());
    match (role.is_lab(), &lab) {
        (true, None) => return Err(ApiError::invalid("lab", "a lab account names its lab")),
        (false, Some(_)) => return Err(ApiError::invalid("lab", "only lab accounts name a lab")),
        _ => {}
    }
    Ok(NewUser {
        display_name: b
            .display_name
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| username.clone()),
        username,
        role,
        scope_area,
        lab,
        password_hash,
        created_at: Utc::now(),
    })
}

fn conflict_as_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "username_taken",
            "that username is taken",
        )
        .with_field("username"),
        other => other.into(),
    }
}

/// `POST /api/v1/users`: creates an account.
#[tracing::instrument(skip_all)]
pub async fn create_user(
    State(state): State<AppState>,
    admin: Principal,
    addr: ClientAddr,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<UserRow>), ApiError> {
    let user = state
        .blocking(move |s| {
            let new = new_user(body, s)?;
            let u = s.create_user(new).map_err(conflict_as_taken)?;
            let detail = serde_json::json!({ "username": u.username, "role": u.role,
                "scope_area": u.scope_area, "lab": u.lab });
            record(
                s,
                Some(&admin.user),
                &admin.actor(),
                "user.create",
                Some(format!("user:{}", u.id)),
                Some(detail.to_string()),
                &addr,
            )?;
            Ok(u)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn set_disabled(
    state: AppState,
    admin: Principal,
    addr: ClientAddr,
    id: i64,
    disabled: bool,
) -> Result<Json<UserRow>, ApiError> {
    if disabled && id == admin.user.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_disable_self",
            "an admin cannot disable their own account",
        ));
    }
    let user = state
        .blocking(move |s| {
            s.set_user_disabled(id, disabled)?;
            let action = if disabled {
                "user.disable"
            } else {
                "user.enable"
            };
            record(
                s,
                Some(&admin.user),
                &admin.actor(),
                action,
                Some(format!("user:{id}")),
                None,
                &addr,
            )?;
            s.user(id)?
                .ok_or_else(|| ApiError::not_found(format!("user {id}")))
        })
        .await?;
    Ok(Json(user))
}

/// `POST /api/v1/users/{id}/disable`: the account's sessions and tokens
/// stop working at once.
#[tracing::instrument(skip(state, admin, addr))]
pub async fn disable_user(
    State(state): State<AppState>,
    admin: Principal,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserRow>, ApiError> {
    set_disabled(state, admin, addr, id, true).await
}

/// `POST /api/v1/users/{id}/enable`.
#[tracing::instrument(skip(state, admin, addr))]
pub async fn enable_user(
    State(state): State<AppState>,
    admin: Principal,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserRow>, ApiError> {
    set_disabled(state, admin, addr, id, false).await
}

/// `GET /api/v1/tokens`: every token, without its secret.
#[tracing::instrument(skip_all)]
pub async fn list_tokens(
    State(state): State<AppState>,
) -> Result<Json<Vec<ApiTokenRow>>, ApiError> {
    Ok(Json(state.blocking(|s| Ok(s.api_tokens()?)).await?))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
pub struct NewTokenBody {
    /// The account the token acts as.
    pub user: i64,
    pub name: String,
    /// 1 to 365; default 90.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// A new token: the secret appears here once and is never stored.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub row: ApiTokenRow,
}

/// Whom the admin may issue a token for: itself, and the service accounts
/// tokens exist for — samplers' devices and labs' systems. A token for a
/// command, CDC, office or grid account would let the admin act as that
/// person and read what that person may read (CDC: every ID number in
/// full); those accounts sign in with their own passwords.
fn token_allowed(admin: &Principal, user: &UserRow) -> Result<(), ApiError> {
    if user.id == admin.user.id || matches!(user.role, Role::Sampler | Role::Lab) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "token_not_allowed",
        format!(
            "API tokens are issued for sampler devices, lab systems and the admin itself, not for a {} account",
            user.role
        ),
    )
    .with_field("user"))
}

/// `POST /api/v1/tokens`: a device or lab-system token.
#[tracing::instrument(skip_all)]
pub async fn create_token(
    State(state): State<AppState>,
    admin: Principal,
    addr: ClientAddr,
    ApiJson(b): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let days = b.expires_in_days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(ApiError::invalid("expires_in_days", "1 to 365"));
    }
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "1 to 100 characters"));
    }
    let issued = state
        .blocking(move |s| {
            let user = s.user(b.user)?.ok_or_else(|| {
                ApiError::not_found(format!("user {}", b.user)).with_field("user")
            })?;
            token_allowed(&admin, &user)?;
            let (token, row) = issue_api_token(s, user.id, &name, Duration::days(days))?;
            record(
                s,
                Some(&admin.user),
                &admin.actor(),
                "token.create",
                Some(format!("token:{}", row.id)),
                Some(
                    serde_json::json!({ "user": user.id, "name": row.name, "prefix": row.prefix })
                        .to_string(),
                ),
                &addr,
            )?;
            Ok(IssuedToken { token, row })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// `POST /api/v1/tokens/{id}/revoke`.
#[tracing::instrument(skip(state, admin, addr))]
pub async fn revoke_token(
    State(state): State<AppState>,
    admin: Principal,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiTokenRow>, ApiError> {
    let row = state
        .blocking(move |s| {
            let row = s.revoke_api_token(id, Utc::now())?;
            record(
                s,
                Some(&admin.user),
                &admin.actor(),
                "token.revoke",
                Some(format!("token:{id}")),
                None,
                &addr,
            )?;
            Ok(row)
        })
        .await?;
    Ok(Json(row))
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// 1 to 1000; default 100.
    pub limit: Option<u32>,
}

/// `GET /api/v1/audit`: the trail, newest first. There is no way to
/// change it through the API.
#[tracing::instrument(skip_all)]
pub async fn audit(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 1000"));
    }
    let f = AuditFilter {
        actor: q.actor,
        action: q.action,
        target: q.target,
        since: q.since,
        until: q.until,
        limit,
    };
    Ok(Json(state.blocking(move |s| Ok(s.audit(&f)?)).await?))
}

/// On a database without accounts, creates `admin` with `password`, or
/// with a random one that is returned (to print once). `Ok(None)`: there
/// were accounts already, or the given password was used.
pub fn ensure_admin(store: &dyn Store, password: Option<&str>) -> StoreResult<Option<String>> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let (pw, generated) = match password {
        Some(p) => (p.to_string(), false),
        None => (random_token()[..20].to_string(), true),
    };
    let hash = hash_password(&pw).map_err(StoreError::Backend)?;
    let u = store.create_user(NewUser {
        username: "admin".into(),
        display_name: "Administrator".into(),
        role: Role::Admin,
        scope_area: None,
        lab: None,
        password_hash: Some(hash.clone()),
        created_at: Utc::now(),
    })?;
    store.append_audit(NewAudit {
        at: Utc::now(),
        actor_id: None,
        actor: "gridsweep".into(),
        role: None,
        action: "user.create".into(),
        target: Some(format!("user:{}", u.id)),
        detail: Some("first start".into()),
        address: None,
    })?;
    if generated {
        // Printed once on the console: good for the first sign-in only.
        store.set_password(u.id, hash, true, None)?;
    }
    Ok(generated.then_some(pw))
}

/// The password of every demo account (documented in the README).
pub const DEMO_PASSWORD: &str = "gridsweep-demo";

/// The demo accounts: username, role, and the demo district's area
/// (name, level) each is scoped to, or the lab's name.
pub const DEMO_USERS: &[(&str, Role, &str, Option<AreaLevel>)] = {
    use gridsweep_population::names;
    &[
        ("admin", Role::Admin, "", None),
        (
            "command",
            Role::Command,
            names::DISTRICT,
            Some(AreaLevel::District),
        ),
        ("cdc", Role::Cdc, names::DISTRICT, Some(AreaLevel::District)),
        (
            "wutong",
            Role::Subdistrict,
            names::WUTONG_SUBDISTRICT,
            Some(AreaLevel::SubDistrict),
        ),
        (
            "wawuli",
            Role::Community,
            names::WAWULI_COMMUNITY,
            Some(AreaLevel::Community),
        ),
        (
            "feicui",
            Role::Community,
            names::FEICUI_COMMUNITY,
            Some(AreaLevel::Community),
        ),
        (
            "grid1",
            Role::GridWorker,
            names::WAWULI_GRID_1,
            Some(AreaLevel::Grid),
        ),
        (
            "sampler",
            Role::Sampler,
            names::WAWULI_COMMUNITY,
            Some(AreaLevel::Community),
        ),
        ("lab", Role::Lab, "高新区核酸检测实验室", None),
    ]
};

/// Creates the demo accounts (password [`DEMO_PASSWORD`]) that do not
/// exist yet, scoped to the demo district's areas; returns how many were
/// created.
pub fn create_demo_users(store: &dyn Store) -> StoreResult<usize> {
    let hash = hash_password(DEMO_PASSWORD).map_err(StoreError::Backend)?;
    let mut created = 0;
    for (username, role, place, level) in DEMO_USERS {
        if store.user_by_name(username)?.is_some() {
            continue;
        }
        let scope_area = match level {
            Some(level) => Some(
                store
                    .find_areas(None, place, &[*level])?
                    .first()
                    .map(|a| a.id)
                    .ok_or_else(|| StoreError::NotFound(format!("demo area {place}")))?,
            ),
            None => None,
        };
        store.create_user(NewUser {
            username: username.to_string(),
            display_name: format!("demo {role}"),
            role: *role,
            scope_area,
            lab: role.is_lab().then(|| place.to_string()),
            password_hash: Some(hash.clone()),
            created_at: Utc::now(),
        })?;
        created += 1;
    }
    Ok(created)
}
