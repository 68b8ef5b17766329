//! The single writer thread and its group commit.
//!
//! SQLite takes one writer at a time, and with `synchronous=FULL` each
//! commit waits for the disk. Callers therefore hand their write to one
//! thread as a job; the thread takes every job waiting, runs each inside
//! its own savepoint (a failing job undoes only itself), commits once, and
//! only then answers each caller. Under load one fsync carries many
//! requests; an answer still means the write is on disk.

use crate::db_err;
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

/// Most jobs folded into one commit.
const MAX_GROUP: usize = 512;

/// Handle to the writer thread.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Moves `conn` onto a new thread that owns it.
    pub fn start(mut conn: Connection) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&mut conn, rx))
            .expect("spawn sqlite writer");
        Self { jobs: tx }
    }

    /// Runs `f` in the next group transaction and waits until it is
    /// committed (or refused).
    pub fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<StoreResult<T>>(1);
        let job: Job = Box::new(move |conn: &Connection| {
            let result = match exec(conn, "SAVEPOINT job") {
                Err(e) => Err(db_err(e)),
                Ok(()) => match catch_unwind(AssertUnwindSafe(|| f(conn))) {
                    Ok(r) => r,
                    Err(_) => Err(StoreError::Backend("write job panicked".into())),
                },
            };
            let undo = if result.is_ok() {
                exec(conn, "RELEASE job")
            } else {
                exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))
            };
            let result = match (result, undo) {
                (Ok(_), Err(e)) => Err(db_err(e)),
                (r, _) => r,
            };
            Box::new(move |commit: Result<(), String>| {
                let out = match (commit, result) {
                    (Ok(()), r) => r,
                    (Err(e), Ok(_)) => Err(StoreError::Backend(format!("commit failed: {e}"))),
                    (Err(_), Err(e)) => Err(e),
                };
                let _ = tx.send(out);
            })
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend("sqlite writer stopped".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Backend("sqlite writer stopped".into()))?
    }
}

/// Runs a fixed statement through the statement cache (savepoints are run
/// twice per job; parsing them each time shows up in profiles).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn run(conn: &mut Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs closes each caller's channel: they get an
            // error and nothing was written.
            tracing::error!(error = %e, "cannot begin write transaction");
            drop(group);
            continue;
        }
        let finishers: Vec<Finish> = group.into_iter().map(|job| job(conn)).collect();
        let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for f in finishers {
            f(commit.clone());
        }
    }
}
