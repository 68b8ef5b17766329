//! Opening the store a database URL names.

use anyhow::{Result, bail};
use gridsweep_storage::Store;
use gridsweep_storage_postgres::PgStore;
use gridsweep_storage_sqlite::SqliteStore;
use std::sync::Arc;

/// `sqlite://PATH` (or `sqlite:PATH`) opens an embedded file; `postgres://`
/// or `postgresql://` connects to a server. Migrations run either way.
pub fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open_url(url)?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url)?))
    } else {
        bail!("database URL must start with sqlite:// or postgres://, got {url:?}")
    }
}
