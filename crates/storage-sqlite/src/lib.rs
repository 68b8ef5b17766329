//! The embedded default backend: one SQLite file in WAL mode.
//!
//! One writer thread owns the only writing connection and commits in
//! groups (see `writer.rs`); a small pool of reader connections runs beside
//! it, which WAL allows. `synchronous=FULL`: an acknowledged write is on
//! disk, not only in the OS cache.
#![forbid(unsafe_code)]

mod accounts;
pub mod bench;
mod incident_store;
mod migrate;
mod pipeline_tx;
mod population;
mod response_tx;
mod rounds;
mod rows;
mod writer;

use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind};
use gridsweep_storage::pipeline::{NewRound, ResultRow, RoundRow, TubeRow};

use gridsweep_storage::stamp::ms;
use gridsweep_storage::*;
use pipeline_tx::SqliteTx;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use writer::Writer;

pub use migrate::MIGRATIONS;

/// Most reader connections open at once (WAL lets them all read beside
/// the writer; more than the cores only adds contention).
const READERS: usize = 8;

/// A gridsweep database in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Readers>,
    /// Signalled when a reader connection goes back to the pool.
    reader_free: Condvar,
}

/// Turns `sqlite://PATH`, `sqlite:PATH` or a bare path into a file path.
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    if rest.is_empty() {
        return None;
    }
    Some(PathBuf::from(rest))
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, msg) if f.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()))
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the file and runs pending migrations.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open(e.to_string()))?;
        }
        let mut writer = Connection::open(&path).map_err(|e| StoreError::Open(e.to_string()))?;
        configure(&writer).map_err(|e| StoreError::Open(e.to_string()))?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| StoreError::Open(e.to_string()))?;
        migrate::run(&mut writer)?;
        tracing::info!(path = %path.display(), "sqlite store open");
        Ok(Self {
            path,
            writer: Writer::start(writer),
            readers: Mutex::new(Readers::default()),
            reader_free: Condvar::new(),
        })
    }

    /// Opens a `sqlite://` URL.
    pub fn open_url(url: &str) -> StoreResult<Self> {
        let path = path_from_url(url)
            .ok_or_else(|| StoreError::Open(format!("not an sqlite:// url: {url}")))?;
        Self::open(path)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves everything committed into the database file itself and
    /// empties the write-ahead log, so the file alone holds the database
    /// (the demo swaps a replayed copy in by renaming it).
    pub fn checkpoint(&self) -> StoreResult<()> {
        // The writer thread holds no transaction between jobs, and the
        // readers none between reads: a connection of its own can move
        // every frame of the log into the file and truncate the log.
        let own = Connection::open(&self.path).map_err(db_err)?;
        own.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        let busy: i64 = own
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(db_err)?;
        if busy != 0 {
            return Err(StoreError::Backend(
                "the database is busy; checkpoint not complete".into(),
            ));
        }
        Ok(())
    }

    /// Runs `f` atomically on the writer thread; returns once committed.
    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writer.write(f)
    }

    /// Runs `f` on a reader connection from the pool. At most [`READERS`]
    /// connections exist; a caller beyond that waits for one to come back.
    /// (Opening one per request instead — schema parse, map, unmap — cost
    /// a third of the server's time when 64 devices synced at once.)
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let lock = || self.readers.lock().unwrap_or_else(|p| p.into_inner());
        let idle = {
            let mut pool = lock();
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < READERS {
                    pool.open += 1;
                    break None;
                }
                pool = self
                    .reader_free
                    .wait(pool)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        let conn = match idle {
            Some(c) => c,
            None => match self.open_reader() {
                Ok(c) => c,
                Err(e) => {
                    lock().open -= 1;
                    self.reader_free.notify_one();
                    return Err(e);
                }
            },
        };
        let out = f(&conn);
        lock().idle.push(conn);
        self.reader_free.notify_one();
        out
    }

    fn open_reader(&self) -> StoreResult<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        configure_reader(&c).map_err(db_err)?;
        Ok(c)
    }
}

/// The reader connections: those idle, and how many exist in all.
#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "cache_size", -65536)?;
    c.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Readers map the file instead of copying pages: WAL makes a reader drop
/// its page cache whenever the writer has committed, and with a map that
/// costs nothing. (The writer keeps its own cache and maps nothing, so a
/// bulk load's resident memory stays small.)
fn configure_reader(c: &Connection) -> rusqlite::Result<()> {
    configure(c)?;
    c.pragma_update(None, "mmap_size", 1i64 << 31)
}

const AREA_COLS: &str = "id, parent_id, level, name, path, resident_count";
pub(crate) const PERSON_COLS: &str =
    "id, name, doc_kind, doc_number, gender, birth_date, phone, household_id, area_path";

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn write_job(&self, mut job: WriteJob) -> StoreResult<()> {
        self.write(move |c| {
            let mut tx = SqliteTx::new(c);
            job(&mut tx)?;
            // The transaction keeps tubes in memory while the job runs
            // (see `SqliteTx`); they go to the database before the commit.
            tx.flush()
        })
    }

    fn read_job(&self, job: ReadJob<'_>) -> StoreResult<()> {
        self.read(|c| job(&mut SqliteTx::new(c)))
    }
}
