//! Schema migrations, applied in order at start-up under an advisory lock
//! (so two servers starting at once do not race). A landed migration is
//! never edited; a change to the schema is a new file. The order and the
//! bookkeeping are shared ([`codec::run_migrations`]); only the SQL is here.

use crate::db_err;
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, migration_failed};
use postgres::Client;

/// Every migration, by version.
pub const MIGRATIONS: &[(i64, &str)] = gridsweep_storage::migrations!();

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
    codec::run_migrations(MIGRATIONS, |version, sql| {
        let mut tx = client.transaction().map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
            .map_err(db_err)?;
        let done: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = $1)",
                &[&version],
            )
            .map_err(db_err)?
            .get(0);
        if !done {
            tx.batch_execute(sql)
                .map_err(|e| migration_failed(version, e))?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES ($1)",
                &[&version],
            )
            .map_err(db_err)?;
            tracing::info!(version, "applied postgres migration");
        }
        tx.commit().map_err(db_err)?;
        Ok(!done)
    })?;
    Ok(())
}
