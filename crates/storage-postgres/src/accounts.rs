//! Accounts, sessions, API tokens and the audit trail on PostgreSQL.

use crate::rows::{all, opt};
use crate::{PgStore, db_err};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, Role};
use gridsweep_storage::codec::{self, AUDIT_COLS, SESSION_COLS, TOKEN_COLS, USER_SELECT};
use gridsweep_storage::stamp::ms;
use gridsweep_storage::*;
use postgres::GenericClient;

fn load_user(c: &mut impl GenericClient, id: i64) -> StoreResult<Option<UserRow>> {
    let row = c
        .query_opt(&format!("{USER_SELECT} WHERE u.id = $1"), &[&id])
        .map_err(db_err)?;
    opt(row, codec::user)
}

fn load_token(c: &mut impl GenericClient, id: i64) -> StoreResult<Option<ApiTokenRow>> {
    let row = c
        .query_opt(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"),
            &[&id],
        )
        .map_err(db_err)?;
    opt(row, codec::api_token)
}

impl AccountStore for PgStore {
    fn create_user(&self, u: NewUser) -> StoreResult<UserRow> {
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO users(username, display_name, role, scope_area, lab, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    &[
                        &u.username,
                        &u.display_name,
                        &u.role.as_str(),
                        &u.scope_area.map(AreaId::get),
                        &u.lab,
                        &u.password_hash,
                        &ms(u.created_at),
                    ],
                )
                .map_err(db_err)?
                .get(0);
            load_user(tx, id)?.ok_or_else(|| StoreError::Backend("user vanished".into()))
        })
    }

    fn user(&self, id: i64) -> StoreResult<Option<UserRow>> {
        self.with(|c| load_user(c, id))
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        self.with(|c| {
            let row = c
                .query_opt(
                    &format!("{USER_SELECT} WHERE u.username = $1"),
                    &[&username],
                )
                .map_err(db_err)?;
            opt(row, codec::user)
        })
    }

    fn users(&self) -> StoreResult<Vec<UserRow>> {
        self.with(|c| {
            let rows = c
                .query(&format!("{USER_SELECT} ORDER BY u.id"), &[])
                .map_err(db_err)?;
            all(&rows, codec::user)
        })
    }

    fn set_user_disabled(&self, id: i64, disabled: bool) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET disabled = $2 WHERE id = $1",
                    &[&id, &disabled],
                )
                .map_err(db_err)?;
            codec::user_updated(n, id)?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
                    .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn set_password(
        &self,
        id: i64,
        hash: String,
        must_change: bool,
        keep_session: Option<String>,
    ) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
                    &[&id, &hash, &must_change],
                )
                .map_err(db_err)?;
            codec::user_updated(n, id)?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
                &[&id, &keep_session],
            )
            .map_err(db_err)?;
            // A new password says the old one may have leaked: tokens
            // issued to the account end too.
            tx.execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                &[&id, &ms(chrono::Utc::now())],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn create_session(&self, s: SessionRow) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE expires_at < $1",
                &[&ms(s.created_at)],
            )
            .map_err(db_err)?;
            tx.execute(
                "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, expires_at, address)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &s.token_hash,
                    &s.user_id,
                    &s.csrf_token,
                    &ms(s.created_at),
                    &ms(s.expires_at),
                    &s.address,
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SessionRow>> {
        self.with(|c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1 AND expires_at > $2"
                    ),
                    &[&token_hash, &ms(now)],
                )
                .map_err(db_err)?;
            opt(row, codec::session)
        })
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn create_api_token(&self, t: NewApiToken) -> StoreResult<ApiTokenRow> {
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO api_tokens(user_id, name, token_hash, prefix, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[
                        &t.user_id,
                        &t.name,
                        &t.token_hash,
                        &t.prefix,
                        &ms(t.created_at),
                        &ms(t.expires_at),
                    ],
                )
                .map_err(db_err)?
                .get(0);
            load_token(tx, id)?.ok_or_else(|| StoreError::Backend("token vanished".into()))
        })
    }

    fn api_token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ApiTokenRow>> {
        self.with(|c| {
            let row = c
                .query_opt(
                    &format!(
                        "SELECT {TOKEN_COLS} FROM api_tokens
                         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
                    ),
                    &[&token_hash, &ms(now)],
                )
                .map_err(db_err)?;
            opt(row, codec::api_token)
        })
    }

    fn api_tokens(&self) -> StoreResult<Vec<ApiTokenRow>> {
        self.with(|c| {
            let rows = c
                .query(
                    &format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY id"),
                    &[],
                )
                .map_err(db_err)?;
            all(&rows, codec::api_token)
        })
    }

    fn revoke_api_token(&self, id: i64, at: DateTime<Utc>) -> StoreResult<ApiTokenRow> {
        self.write(|tx| {
            tx.execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &ms(at)],
            )
            .map_err(db_err)?;
            load_token(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("token {id}")))
        })
    }
}

impl AuditStore for PgStore {
    fn append_audit(&self, e: NewAudit) -> StoreResult<i64> {
        self.write(|tx| {
            Ok(tx
                .query_one(
                    "INSERT INTO audit_log(at, actor_id, actor, role, action, target, detail, address)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &ms(e.at),
                        &e.actor_id,
                        &e.actor,
                        &e.role.map(Role::as_str),
                        &e.action,
                        &e.target,
                        &e.detail,
                        &e.address,
                    ],
                )
                .map_err(db_err)?
                .get(0))
        })
    }

    fn audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
        self.with(|c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT {AUDIT_COLS} FROM audit_log
                 WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
                   AND ($3::text IS NULL OR target = $3)
                   AND ($4::bigint IS NULL OR at >= $4) AND ($5::bigint IS NULL OR at < $5)
                 ORDER BY id DESC LIMIT $6"
                    ),
                    &[
                        &f.actor,
                        &f.action,
                        &f.target,
                        &f.since.map(ms),
                        &f.until.map(ms),
                        &i64::from(f.limit),
                    ],
                )
                .map_err(db_err)?;
            all(&rows, codec::audit)
        })
    }
}
