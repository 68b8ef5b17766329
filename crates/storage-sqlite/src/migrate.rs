//! Schema migrations, applied in order at start-up. A landed migration is
//! never edited; a change to the schema is a new file. The order and the
//! bookkeeping are shared ([`codec::run_migrations`]); only the SQL is here.

use crate::db_err;
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, migration_failed};
use rusqlite::Connection;

/// Every migration, by version.
pub const MIGRATIONS: &[(i64, &str)] = gridsweep_storage::migrations!();

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
    codec::run_migrations(MIGRATIONS, |version, sql| {
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
            tx.execute_batch(sql)
                .map_err(|e| migration_failed(version, e))?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES (?1)",
                [version],
            )
            .map_err(db_err)?;
            tracing::info!(version, "applied sqlite migration");
        }
        tx.commit().map_err(db_err)?;
        Ok(!done)
    })?;
    Ok(())
}
