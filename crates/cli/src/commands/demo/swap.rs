//! A replay that fails midway leaves the database as it was: the demo
//! replays into a scratch copy of the database and swaps it in only when
//! the whole replay succeeded (the HTTP API commits request by request,
//! so undoing by one transaction is not possible).
//!
//! * SQLite: the file (and its write-ahead log, if any) is copied beside
//!   itself; the copy is replayed into; on success the copy is renamed
//!   over the original (a rename within one directory is atomic), on
//!   failure it is deleted. No other process should have the file open
//!   while the demo runs.
//! * PostgreSQL: `CREATE DATABASE scratch TEMPLATE original` clones it;
//!   on success the original is renamed away, the scratch renamed to the
//!   original's name and the old one dropped; on failure the scratch is
//!   dropped. PostgreSQL clones only a database nobody is connected to,
//!   and only for a role that may create databases: otherwise the demo
//!   refuses before writing anything.

use anyhow::{Context, Result, anyhow};
use gridsweep_storage::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", p.display())),
    }
}

fn remove_db(p: &Path) -> Result<()> {
    remove(p)?;
    remove(&with_suffix(p, "-wal"))?;
    remove(&with_suffix(p, "-shm"))
}

/// Runs `replay` on a scratch copy of the SQLite file `url` names and
/// swaps the copy in only when it succeeded.
pub fn sqlite<T>(url: &str, replay: impl FnOnce(Arc<dyn Store>) -> Result<T>) -> Result<T> {
    let path = gridsweep_storage_sqlite::path_from_url(url)
        .ok_or_else(|| anyhow!("not an sqlite:// url: {url}"))?;
    let scratch = with_suffix(&path, ".demo-replay");
    remove_db(&scratch)?;
    if path.exists() {
        std::fs::copy(&path, &scratch).context("copying the database for the replay")?;
        let wal = with_suffix(&path, "-wal");
        if wal.exists() {
            std::fs::copy(&wal, with_suffix(&scratch, "-wal"))
                .context("copying the database's log for the replay")?;
        }
    }
    let out = gridsweep_storage_sqlite::SqliteStore::open(&scratch)
        .map_err(anyhow::Error::from)
        .and_then(|store| {
            let store = Arc::new(store);
            let v = replay(store.clone())?;
            // The copy's file alone must hold the replay before it is
            // renamed over the original: empty its log into it.
            store.checkpoint()?;
            Ok(v)
        });
    match out {
        Ok(v) => {
            remove(&with_suffix(&path, "-wal"))?;
            remove(&with_suffix(&path, "-shm"))?;
            std::fs::rename(&scratch, &path).context("swapping the replayed database in")?;
            // The copy's (empty) log and index go with it.
            remove(&with_suffix(&scratch, "-wal"))?;
            remove(&with_suffix(&scratch, "-shm"))?;
            Ok(v)
        }
        Err(e) => {
            remove_db(&scratch)?;
            Err(e.context("the replay failed; the database is unchanged"))
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_dbname(url: &str, name: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base
        .split_once("://")
        .ok_or_else(|| anyhow!("not a postgres:// url"))?;
    let host = rest.split('/').next().unwrap_or(rest);
    Ok(format!("{scheme}://{host}/{name}{query}"))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs `replay` on a clone of the PostgreSQL database `url` names and
/// swaps the clone in only when it succeeded.
pub fn postgres<T>(url: &str, replay: impl FnOnce(Arc<dyn Store>) -> Result<T>) -> Result<T> {
    let config: postgres::Config = url.parse().context("parsing the database URL")?;
    let db = config
        .get_dbname()
        .map(str::to_string)
        .or_else(|| config.get_user().map(str::to_string))
        .ok_or_else(|| anyhow!("the database URL names no database"))?;
    let scratch = format!("{db}_demo_replay");
    let old = format!("{db}_demo_old");
    let mut admin_config = config.clone();
    admin_config.dbname("postgres");
    let mut admin = admin_config
        .connect(postgres::NoTls)
        .context("connecting to the server's maintenance database")?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote(&scratch)))?;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote(&scratch),
            quote(&db)
        ))
        .context(
            "cloning the database for an all-or-nothing replay (it needs no other session on \
             the database and a role that may create databases); nothing was written",
        )?;
    let out = match gridsweep_storage_postgres::PgStore::connect(&with_dbname(url, &scratch)?) {
        Ok(store) => {
            let store: Arc<dyn Store> = Arc::new(store);
            replay(store)
        }
        Err(e) => Err(e.into()),
    };
    // The replay's own sessions on the clone end with its store; end any
    // straggler before renaming.
    let terminate = |admin: &mut postgres::Client, name: &str| {
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
    };
    match out {
        Ok(v) => {
            terminate(&mut admin, &scratch)?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote(&old)))?;
            admin
                .batch_execute(&format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    quote(&db),
                    quote(&old)
                ))
                .context("swapping the replayed database in (is another session open on it?)")?;
            if let Err(e) = admin.batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote(&scratch),
                quote(&db)
            )) {
                // Put the original back under its name.
                admin.batch_execute(&format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    quote(&old),
                    quote(&db)
                ))?;
                return Err(anyhow!(e).context("swapping the replayed database in"));
            }
            admin.batch_execute(&format!("DROP DATABASE {}", quote(&old)))?;
            Ok(v)
        }
        Err(e) => {
            terminate(&mut admin, &scratch)?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote(&scratch)))?;
            Err(e.context("the replay failed; the database is unchanged"))
        }
    }
}
