//! Schema migrations, applied in order at start-up. A landed migration is
//! never edited; a change to the schema is a new file.

use crate::db_err;
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::Connection;

/// Every migration, by version.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_pipeline.sql")),
    (3, include_str!("../migrations/0003_response.sql")),
    (4, include_str!("../migrations/0004_accounts.sql")),
    (5, include_str!("../migrations/0005_pool_blocks.sql")),
    (6, include_str!("../migrations/0006_pending_events.sql")),
    (7, include_str!("../migrations/0007_password_change.sql")),
    (
        8,
        include_str!("../migrations/0008_incident_round_areas.sql"),
    ),
    (9, include_str!("../migrations/0009_response_truth.sql")),
];

/// Applies the migrations this database has not seen, each in its own
/// transaction.
pub fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
         )",
    )
    .map_err(db_err)?;
    for (version, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if !done {
            tx.execute_batch(sql).map_err(|e| StoreError::Migration {
                version: *version,
                message: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES (?1)",
                [version],
            )
            .map_err(db_err)?;
            tracing::info!(version, "applied sqlite migration");
        }
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}
