//! The PostgreSQL backend, for when one machine is not enough.
//!
//! Uses the synchronous `postgres` client (the storage trait is
//! synchronous; the HTTP layer calls it on blocking threads) with a small
//! pool of connections. Bulk writes go through `COPY`, which is what makes
//! loading a city's roster take minutes rather than hours.
#![forbid(unsafe_code)]

mod accounts;
mod incident_store;
mod migrate;
mod pipeline_tx;
mod population;
mod response_tx;
mod rounds;
mod rows;

use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind};
use gridsweep_storage::pipeline::{NewRound, ResultRow, RoundRow, TubeRow};

use gridsweep_storage::stamp::ms;
use gridsweep_storage::*;
use pipeline_tx::{PgTx, Rows};
use postgres::{Client, Config, IsolationLevel, NoTls, Transaction};
use std::io::Write;
use std::sync::Mutex;

pub use migrate::MIGRATIONS;

/// Connections kept open for reuse.
const POOL: usize = 16;

/// How many times a unit of work runs again after PostgreSQL aborted it
/// for contention, before the caller hears `Contention`.
const CONTENTION_RETRIES: u32 = 8;

/// A gridsweep database on a PostgreSQL server.
pub struct PgStore {
    config: Config,
    pool: Mutex<Vec<Client>>,
}

pub(crate) fn db_err(e: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::FOREIGN_KEY_VIOLATION => {
            let msg = e
                .as_db_error()
                .map(|d| format!("{} ({})", d.message(), d.detail().unwrap_or("")))
                .unwrap_or_else(|| e.to_string());
            StoreError::Conflict(msg)
        }
        Some(c)
            if *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
        {
            StoreError::Contention(
                e.as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string()),
            )
        }
        _ => StoreError::Backend(
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string()),
        ),
    }
}

fn io_err(e: std::io::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PgStore {
    /// Connects to a `postgres://` URL and runs pending migrations.
    pub fn connect(url: &str) -> StoreResult<Self> {
        let config: Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Open(e.to_string()))?;
        let store = Self {
            config,
            pool: Mutex::new(Vec::new()),
        };
        let mut client = store.client()?;
        migrate::run(&mut client)?;
        store.give_back(client);
        tracing::info!("postgres store open");
        Ok(store)
    }

    fn client(&self) -> StoreResult<Client> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(c) = pooled
            && !c.is_closed()
        {
            return Ok(c);
        }
        self.config
            .connect(NoTls)
            .map_err(|e| StoreError::Open(e.to_string()))
    }

    fn give_back(&self, c: Client) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL && !c.is_closed() {
            pool.push(c);
        }
    }

    /// Runs `f` with a pooled connection.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Client) -> StoreResult<T>) -> StoreResult<T> {
        let mut c = self.client()?;
        let out = f(&mut c);
        self.give_back(c);
        out
    }

    /// Runs `f` in one transaction, committed only if it returns `Ok`.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(db_err)?;
            let out = f(&mut tx)?;
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
    }
}

/// The sync client blocks on a runtime of its own when it closes; dropping
/// the pool on a plain thread keeps that legal even when the last handle to
/// the store goes away inside an async task.
impl Drop for PgStore {
    fn drop(&mut self) {
        let clients = std::mem::take(&mut *self.pool.lock().unwrap_or_else(|p| p.into_inner()));
        if !clients.is_empty() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        }
    }
}

/// Creates an empty database next to the one `url` names and returns its
/// URL. Tests use it to get a clean database each.
pub fn create_scratch_database(url: &str, name: &str) -> StoreResult<String> {
    let mut config: Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::Open(e.to_string()))?;
    let mut admin = config
        .connect(NoTls)
        .map_err(|e| StoreError::Open(e.to_string()))?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .map_err(db_err)?;
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .map_err(db_err)?;
    config.dbname(name);
    let base = url.split('?').next().unwrap_or(url);
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let authority = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))
        .ok_or_else(|| StoreError::Open(format!("not a postgres:// url: {url}")))?;
    let host = authority.split('/').next().unwrap_or(authority);
    Ok(format!("postgres://{host}/{name}{query}"))
}

/// Escapes a value for COPY's text format.
fn copy_text(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

fn copy_row(out: &mut Vec<u8>, cols: &[Option<&str>]) {
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        copy_text(out, *c);
    }
    out.push(b'\n');
}

fn copy_in(tx: &mut Transaction<'_>, sql: &str, data: &[u8]) -> StoreResult<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut w = tx.copy_in(sql).map_err(db_err)?;
    w.write_all(data).map_err(io_err)?;
    w.finish().map_err(db_err)?;
    Ok(())
}

const AREA_COLS: &str = "id, parent_id, level, name, path, resident_count";
pub(crate) const PERSON_COLS: &str =
    "id, name, doc_kind, doc_number, gender, birth_date, phone, household_id, area_path";

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn write_job(&self, mut job: WriteJob) -> StoreResult<()> {
        // Transactions run truly concurrently here: one that PostgreSQL
        // aborts to break a deadlock or a serialization conflict wrote
        // nothing, and runs again, a few times, after a short pause.
        let mut attempt = 0u32;
        loop {
            match self.write(|tx| job(&mut PgTx(tx, Rows::Locked))) {
                Err(StoreError::Contention(why)) if attempt < CONTENTION_RETRIES => {
                    attempt += 1;
                    tracing::debug!(attempt, %why, "unit of work retried after contention");
                    std::thread::sleep(std::time::Duration::from_millis(
                        5 * u64::from(attempt) * u64::from(attempt),
                    ));
                }
                other => return other,
            }
        }
    }

    fn read_job(&self, job: ReadJob<'_>) -> StoreResult<()> {
        // One read-only snapshot: the whole read sees one state of the
        // database, locks no row and waits for no writer.
        self.with(|c| {
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db_err)?;
            job(&mut PgTx(&mut tx, Rows::Snapshot))?;
            tx.commit().map_err(db_err)
        })
    }
}
