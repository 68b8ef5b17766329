//! The embedded default backend: one SQLite file in WAL mode.
//!
//! One writer thread owns the only writing connection and commits in
//! groups (see [`writer`]); a small pool of reader connections runs beside
//! it, which WAL allows. `synchronous=FULL`: an acknowledged write is on
//! disk, not only in the OS cache.
#![forbid(unsafe_code)]

mod accounts;
pub mod bench;
mod migrate;
mod pipeline_tx;
mod response_tx;
mod rows;
mod writer;

use gridsweep_domain::pipeline::{CtCutoffs, PipelineError};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind};
use gridsweep_storage::pipeline::{
    self, Command, CommandContext, DeviceEvent, Effects, NewRound, ResultRow, RoundRow, SyncReport,
    TubeRow,
};
use gridsweep_storage::response;
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

    /// Looks up, on a reader connection, the persons these commands scan,
    /// so the writer thread does not have to. Unknown or malformed
    /// documents are simply left out: the rules report them in order.
    fn resolve_persons(
        &self,
        cmds: &[Command],
    ) -> StoreResult<std::collections::HashMap<(DocumentKind, String), gridsweep_domain::PersonId>>
    {
        let docs: Vec<gridsweep_domain::PersonDocument> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::AddPerson {
                    document: Some(d),
                    document_kind,
                    ..
                } => gridsweep_domain::PersonDocument::parse(
                    document_kind.unwrap_or(DocumentKind::ResidentId),
                    d,
                )
                .ok(),
                Command::AddPerson { qr: Some(q), .. } => pipeline::parse_health_code(q).ok(),
                _ => None,
            })
            .collect();
        let mut out = std::collections::HashMap::with_capacity(docs.len());
        if docs.is_empty() {
            return Ok(out);
        }
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT id FROM persons WHERE doc_number = ?1 AND doc_kind = ?2")
                .map_err(db_err)?;
            for d in docs {
                let id: Option<i64> = stmt
                    .query_row(params![d.number(), d.kind().as_str()], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if let Some(id) = id {
                    out.insert(
                        (d.kind(), d.number().to_string()),
                        gridsweep_domain::PersonId(id),
                    );
                }
            }
            Ok(out)
        })
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

    fn allocate_ids(&self, kind: IdKind, n: u64) -> StoreResult<i64> {
        let n = i64::try_from(n).map_err(|_| StoreError::Backend("too many ids".into()))?;
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO id_counters(kind, next_id) VALUES (?1, 1) ON CONFLICT DO NOTHING",
                [kind.as_str()],
            )
            .map_err(db_err)?;
            tx.query_row(
                "UPDATE id_counters SET next_id = next_id + ?2 WHERE kind = ?1 RETURNING next_id - ?2",
                params![kind.as_str(), n],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
    }

    fn write_population(&self, batch: &PopulationBatch) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch = batch.clone();
        self.write(move |tx| {
            let mut area = tx
                .prepare_cached(
                    "INSERT INTO areas(id, parent_id, level, name, path) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_err)?;
            for a in &batch.areas {
                area.execute(params![
                    a.id.get(),
                    a.parent.map(AreaId::get),
                    a.level.as_str(),
                    a.name,
                    a.path.as_str()
                ])
                .map_err(db_err)?;
            }
            let mut site = tx
                .prepare_cached(
                    "INSERT INTO sites(id, area_id, area_path, kind, name) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_err)?;
            for s in &batch.sites {
                site.execute(params![
                    s.id,
                    s.area.get(),
                    s.area_path.as_str(),
                    s.kind.as_str(),
                    s.name
                ])
                .map_err(db_err)?;
            }
            let mut person = tx
                .prepare_cached(&format!(
                    "INSERT INTO persons({PERSON_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .map_err(db_err)?;
            let mut aff = tx
                .prepare_cached(
                    "INSERT INTO affiliations(person_id, area_id, kind) VALUES (?1, ?2, ?3)",
                )
                .map_err(db_err)?;
            for p in &batch.persons {
                person
                    .execute(params![
                        p.id.0,
                        p.name.as_str(),
                        p.document.kind().as_str(),
                        p.document.number(),
                        p.gender.map(|g| g.as_str()),
                        p.birth_date,
                        p.phone.as_ref().map(|p| p.as_str()),
                        p.household.get(),
                        p.household_path.as_str()
                    ])
                    .map_err(db_err)?;
                for a in &p.affiliations {
                    aff.execute(params![p.id.0, a.area.get(), a.kind.as_str()])
                        .map_err(db_err)?;
                }
            }
            let mut count = tx
                .prepare_cached("UPDATE areas SET resident_count = resident_count + ?2 WHERE id = ?1")
                .map_err(db_err)?;
            for (id, delta) in batch.resident_deltas() {
                let n = count.execute(params![id.get(), delta]).map_err(db_err)?;
                if n != 1 {
                    return Err(StoreError::NotFound(format!("area {id}")));
                }
            }
            Ok(())
        })
    }

    fn area(&self, id: AreaId) -> StoreResult<Option<AreaNode>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {AREA_COLS} FROM areas WHERE id = ?1"))
                .map_err(db_err)?
                .query_row([id.get()], rows::area)
                .optional()
                .map_err(db_err)?
                .transpose()
        })
    }

    fn areas(&self, ids: &[AreaId]) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!("SELECT {AREA_COLS} FROM areas WHERE id = ?1"))
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(a) = stmt
                    .query_row([id.get()], rows::area)
                    .optional()
                    .map_err(db_err)?
                {
                    out.push(a?);
                }
            }
            Ok(out)
        })
    }

    fn children(&self, id: AreaId) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE parent_id = ?1 ORDER BY name"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map([id.get()], rows::area))
        })
    }

    fn roots(&self) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE parent_id IS NULL ORDER BY id"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map([], rows::area))
        })
    }

    fn find_areas(
        &self,
        within: Option<&AreaPath>,
        name: &str,
        levels: &[AreaLevel],
    ) -> StoreResult<Vec<AreaNode>> {
        let (lo, hi) = match within {
            Some(p) => (p.as_str().to_string(), p.range_end()),
            None => ("/".to_string(), "0".to_string()),
        };
        let all = self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE name = ?1 AND path >= ?2 AND path < ?3 ORDER BY id"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map(params![name, lo, hi], rows::area))
        })?;
        Ok(all
            .into_iter()
            .filter(|a| levels.contains(&a.level))
            .collect())
    }

    fn child_by_name(&self, parent: AreaId, name: &str) -> StoreResult<Option<AreaNode>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {AREA_COLS} FROM areas WHERE parent_id = ?1 AND name = ?2"
            ))
            .map_err(db_err)?
            .query_row(params![parent.get(), name], rows::area)
            .optional()
            .map_err(db_err)?
            .transpose()
        })
    }

    fn search_persons(
        &self,
        within: &AreaPath,
        query: &str,
        limit: u32,
    ) -> StoreResult<Vec<PersonRecord>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let lo = within.as_str();
        let hi = within.range_end();
        let name_hi = format!("{query}\u{10FFFF}");
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons
                     WHERE ((name >= ?1 AND name < ?2) OR doc_number = ?3)
                       AND area_path >= ?4 AND area_path < ?5
                     ORDER BY name, id LIMIT ?6"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(
                params![query, name_hi, query.to_ascii_uppercase(), lo, hi, limit],
                rows::person,
            ))?;
            rows::with_affiliations(c, found)
        })
    }

    fn person_by_document(
        &self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonRecord>> {
        self.read(|c| {
            let found = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons WHERE doc_number = ?1 AND doc_kind = ?2"
                ))
                .map_err(db_err)?
                .query_row(params![number, kind.as_str()], rows::person)
                .optional()
                .map_err(db_err)?
                .transpose()?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn existing_documents(&self, docs: &[(DocumentKind, String)]) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT 1 FROM persons WHERE doc_number = ?1 AND doc_kind = ?2")
                .map_err(db_err)?;
            let mut out = Vec::new();
            for (kind, number) in docs {
                if stmt
                    .exists(params![number, kind.as_str()])
                    .map_err(db_err)?
                {
                    out.push(number.clone());
                }
            }
            Ok(out)
        })
    }

    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, area_id, kind, name FROM sites
                     WHERE area_path >= ?1 AND area_path < ?2 ORDER BY id",
                )
                .map_err(db_err)?;
            rows::collect(stmt.query_map(params![within.as_str(), within.range_end()], rows::site))
        })
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        self.read(|c| {
            let count = |t: &str| -> StoreResult<i64> {
                c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                    .map_err(db_err)
            };
            Ok(StoreStats {
                areas: count("areas")?,
                persons: count("persons")?,
                sites: count("sites")?,
            })
        })
    }

    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE sites SET direct_results = ?2 WHERE id = ?1",
                    params![site, allowed],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
            Ok(())
        })
    }

    fn create_round(&self, round: NewRound) -> StoreResult<RoundRow> {
        let id = self.allocate_ids(IdKind::Round, 1)?;
        self.write(move |c| {
            c.execute(
                "INSERT INTO rounds(id, name, pool_size, starts_at, ends_at) VALUES (?1,?2,?3,?4,?5)",
                params![id, round.name, round.pool_size, ms(round.starts_at), ms(round.ends_at)],
            )
            .map_err(db_err)?;
            for a in &round.areas {
                c.execute(
                    "INSERT INTO round_areas(round_id, area_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![id, a.get()],
                )
                .map_err(db_err)?;
            }
            pipeline_tx::load_round(c, id)?
                .ok_or_else(|| StoreError::Backend("round vanished".into()))
        })
    }

    fn round(&self, id: i64) -> StoreResult<Option<RoundRow>> {
        self.read(|c| pipeline_tx::load_round(c, id))
    }

    fn rounds(&self) -> StoreResult<Vec<RoundRow>> {
        self.read(|c| {
            let ids: Vec<i64> = c
                .prepare_cached("SELECT id FROM rounds ORDER BY id DESC")
                .map_err(db_err)?
                .query_map([], |r| r.get(0))
                .map_err(db_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db_err)?;
            ids.into_iter()
                .filter_map(|id| pipeline_tx::load_round(c, id).transpose())
                .collect()
        })
    }

    fn execute(
        &self,
        cmd: Command,
        ctx: CommandContext,
    ) -> StoreResult<Result<Effects, PipelineError>> {
        let persons = self.resolve_persons(std::slice::from_ref(&cmd))?;
        self.write(move |c| {
            let mut tx = SqliteTx::new(c, persons);
            let out = pipeline::apply(&mut tx, &cmd, &ctx)?;
            tx.flush()?;
            Ok(out)
        })
    }

    fn execute_all(
        &self,
        cmds: Vec<Command>,
        ctx: CommandContext,
        all_or_nothing: bool,
    ) -> StoreResult<Vec<Result<Effects, PipelineError>>> {
        let persons = self.resolve_persons(&cmds)?;
        self.write(move |c| {
            let mut tx = SqliteTx::new(c, persons);
            let out = pipeline::apply_all(&mut tx, &cmds, &ctx, all_or_nothing)?;
            tx.flush()?;
            Ok(out)
        })
    }

    fn sync(
        &self,
        device: String,
        events: Vec<DeviceEvent>,
        cutoffs: CtCutoffs,
        reach: gridsweep_domain::Reach,
    ) -> StoreResult<SyncReport> {
        let cmds: Vec<Command> = events.iter().map(|e| e.command.clone()).collect();
        let persons = self.resolve_persons(&cmds)?;
        self.write(move |c| {
            let mut tx = SqliteTx::new(c, persons);
            let out = pipeline::sync_batch(&mut tx, &device, &events, cutoffs, &reach)?;
            tx.flush()?;
            Ok(out)
        })
    }

    fn tube(&self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {} FROM tubes WHERE barcode = ?1",
                pipeline_tx::TUBE_COLS
            ))
            .map_err(db_err)?
            .query_row([barcode], pipeline_tx::tube_row)
            .optional()
            .map_err(db_err)?
            .transpose()
        })
    }

    fn results(&self, tube: &str) -> StoreResult<Vec<ResultRow>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {} FROM results WHERE tube = ?1 ORDER BY id",
                    pipeline_tx::RESULT_COLS
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map([tube], pipeline_tx::result_row))
        })
    }

    fn respond_to_result(
        &self,
        tube: String,
        at: chrono::DateTime<chrono::Utc>,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Effects> {
        let needed = self
            .read(|c| response::needs_response(&mut SqliteTx::new(c, Default::default()), &tube))?;
        if !needed {
            return Ok(vec![]);
        }
        self.write(move |c| {
            response::respond(
                &mut SqliteTx::new(c, Default::default()),
                &tube,
                at,
                &playbook,
            )
        })
    }

    fn unanswered_results(&self) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c
                .prepare("SELECT t.barcode FROM tubes t JOIN results r ON r.tube = t.barcode AND r.current = 1
                     WHERE r.outcome <> 'negative'
                       AND NOT EXISTS (SELECT 1 FROM incident_tubes it WHERE it.tube = t.barcode)
                 UNION
                 SELECT t.barcode FROM incidents i JOIN tubes t ON t.round_id = i.retest_round
                     WHERE i.status = 'open' AND t.resulted_at IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM incident_tubes it WHERE it.tube = t.barcode)
                 UNION
                 SELECT (SELECT t.barcode FROM tubes t
                         WHERE t.round_id = i.expansion_round AND t.resulted_at IS NOT NULL
                         ORDER BY t.resulted_at DESC LIMIT 1)
                     FROM incidents i WHERE i.status = 'open' AND i.expansion_round IS NOT NULL")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, Option<String>>(0))
                .map_err(db_err)?;
            let mut out = Vec::new();
            for r in rows {
                out.extend(r.map_err(db_err)?);
            }
            Ok(out)
        })
    }

    fn incidents(&self) -> StoreResult<Vec<gridsweep_response::report::IncidentInfo>> {
        use gridsweep_storage::response::ResponseTx;
        self.read(|c| SqliteTx::new(c, Default::default()).incidents())
    }

    fn incident_detail(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<response::IncidentDetail>> {
        self.read(|c| response::detail(&mut SqliteTx::new(c, Default::default()), id, playbook))
    }

    fn propose_decision(
        &self,
        incident: i64,
        proposal: response::ManualProposal,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(move |c| {
            response::propose(
                &mut SqliteTx::new(c, Default::default()),
                incident,
                &proposal,
            )
        })
    }

    fn decide(
        &self,
        incident: i64,
        verdict: response::Verdict,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(move |c| {
            response::decide(
                &mut SqliteTx::new(c, Default::default()),
                incident,
                &verdict,
                &playbook,
            )
        })
    }

    fn add_note(
        &self,
        incident: i64,
        note: response::NewNote,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(move |c| {
            response::note(&mut SqliteTx::new(c, Default::default()), incident, &note)
        })
    }

    fn complete_task(
        &self,
        incident: i64,
        task: i64,
        by: String,
        at: chrono::DateTime<chrono::Utc>,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<gridsweep_response::report::TaskView, gridsweep_response::ResponseError>>
    {
        self.write(move |c| {
            response::complete_task(
                &mut SqliteTx::new(c, Default::default()),
                incident,
                task,
                &by,
                at,
                &playbook,
            )
        })
    }

    fn incident_report(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<gridsweep_response::report::Report>> {
        self.read(|c| response::report(&mut SqliteTx::new(c, Default::default()), id, playbook))
    }

    fn coverage(
        &self,
        area: AreaId,
        round: i64,
    ) -> StoreResult<
        Result<gridsweep_response::coverage::Coverage, gridsweep_response::ResponseError>,
    > {
        self.read(|c| {
            response::area_coverage(&mut SqliteTx::new(c, Default::default()), area, round)
        })
    }

    fn mark_person(
        &self,
        mark: response::PersonMark,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<(), gridsweep_response::ResponseError>> {
        self.write(move |c| {
            response::mark(&mut SqliteTx::new(c, Default::default()), &mark, &playbook)
        })
    }

    fn person_marks(&self, round: i64) -> StoreResult<Vec<response::PersonMark>> {
        use gridsweep_storage::response::ResponseTx;
        self.read(|c| SqliteTx::new(c, Default::default()).marks(round))
    }

    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons
                     WHERE area_path >= ?1 AND area_path < ?2 ORDER BY id LIMIT ?3"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(
                params![within.as_str(), within.range_end(), limit],
                rows::person,
            ))?;
            rows::with_affiliations(c, found)
        })
    }

    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.read(|c| {
            let cols = PERSON_COLS
                .split(", ")
                .map(|col| format!("p.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {cols} FROM affiliations a JOIN persons p ON p.id = a.person_id
                     WHERE a.area_id = ?1 ORDER BY p.id LIMIT ?2"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(params![area.get(), limit], rows::person))?;
            rows::with_affiliations(c, found)
        })
    }

    fn person(&self, id: gridsweep_domain::PersonId) -> StoreResult<Option<PersonRecord>> {
        self.person_by_id(id)
    }

    fn site(&self, id: i64) -> StoreResult<Option<SiteRecord>> {
        self.site_by_id(id)
    }

    fn box_tubes(&self, box_barcode: &str) -> StoreResult<Vec<String>> {
        self.tubes_of_box(box_barcode)
    }

    fn create_user(&self, user: NewUser) -> StoreResult<UserRow> {
        self.insert_user(user)
    }

    fn user(&self, id: i64) -> StoreResult<Option<UserRow>> {
        self.user_by_id(id)
    }

    fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        self.user_named(username)
    }

    fn users(&self) -> StoreResult<Vec<UserRow>> {
        self.all_users()
    }

    fn set_user_disabled(&self, id: i64, disabled: bool) -> StoreResult<()> {
        self.disable_user(id, disabled)
    }

    fn set_password(
        &self,
        id: i64,
        password_hash: String,
        must_change: bool,
        keep_session: Option<String>,
    ) -> StoreResult<()> {
        self.change_password(id, password_hash, must_change, keep_session)
    }

    fn create_session(&self, session: SessionRow) -> StoreResult<()> {
        self.insert_session(session)
    }

    fn session(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<SessionRow>> {
        self.find_session(token_hash, now)
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.remove_session(token_hash)
    }

    fn create_api_token(&self, token: NewApiToken) -> StoreResult<ApiTokenRow> {
        self.insert_token(token)
    }

    fn api_token_by_hash(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<ApiTokenRow>> {
        self.live_token(token_hash, now)
    }

    fn api_tokens(&self) -> StoreResult<Vec<ApiTokenRow>> {
        self.all_tokens()
    }

    fn revoke_api_token(
        &self,
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<ApiTokenRow> {
        self.revoke_token(id, at)
    }

    fn append_audit(&self, entry: NewAudit) -> StoreResult<i64> {
        self.insert_audit(entry)
    }

    fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
        self.query_audit(filter)
    }
}
