//! The shared storage suite on a fresh PostgreSQL database per test.
//! Runs when `GRIDSWEEP_TEST_DATABASE_URL` names a server; skipped otherwise.

use gridsweep_storage::Store;
use gridsweep_storage_postgres::{PgStore, create_scratch_database};
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> Option<Box<dyn Store>> {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = std::env::var("GRIDSWEEP_TEST_DATABASE_URL").ok()?;
    let name = format!(
        "gs_storage_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let url = create_scratch_database(&base, &name).unwrap();
    Some(Box::new(PgStore::connect(&url).unwrap()))
}

gridsweep_storage::storage_tests!(fresh);
