//! Schema migrations, applied in order at start-up under an advisory lock
//! (so two servers starting at once do not race). A landed migration is
//! never edited; a change to the schema is a new file.

use crate::db_err;
use gridsweep_storage::{StoreError, StoreResult};
use postgres::Client;

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

/// Key of the advisory lock held while migrating.
const LOCK: i64 = 0x6772_6964_7377;

/// Applies the migrations this database has not seen, each in its own
/// transaction.
pub fn run(client: &mut Client) -> StoreResult<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .map_err(db_err)?;
    for (version, sql) in MIGRATIONS {
        let mut tx = client.transaction().map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .map_err(db_err)?;
        let done: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = $1)",
                &[version],
            )
            .map_err(db_err)?
            .get(0);
        if !done {
            tx.batch_execute(sql).map_err(|e| StoreError::Migration {
                version: *version,
                message: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES ($1)",
                &[version],
            )
            .map_err(db_err)?;
            tracing::info!(version, "applied postgres migration");
        }
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}
