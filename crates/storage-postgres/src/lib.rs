//! The PostgreSQL backend, for when one machine is not enough.
//!
//! Uses the synchronous `postgres` client (the storage trait is
//! synchronous; the HTTP layer calls it on blocking threads) with a small
//! pool of connections. Bulk writes go through `COPY`, which is what makes
//! loading a city's roster take minutes rather than hours.
#![forbid(unsafe_code)]

mod accounts;
mod migrate;
mod pipeline_tx;
mod response_tx;
mod rows;

use gridsweep_domain::pipeline::{CtCutoffs, PipelineError};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, DocumentKind};
use gridsweep_storage::pipeline::{
    self, Command, CommandContext, DeviceEvent, Effects, NewRound, ResultRow, RoundRow, SyncReport,
    TubeRow,
};
use gridsweep_storage::response;
use gridsweep_storage::stamp::ms;
use gridsweep_storage::*;
use pipeline_tx::PgTx;
use postgres::{Client, Config, NoTls, Transaction};
use std::io::Write;
use std::sync::Mutex;

pub use migrate::MIGRATIONS;

/// Connections kept open for reuse.
const POOL: usize = 16;

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

/// Serialises the response engine across connections for the rest of the
/// transaction: two results arriving together must not both open an
/// incident for one community, nor both propose the same decision (SQLite
/// gets this from its single writer).
fn response_lock(tx: &mut Transaction<'_>) -> StoreResult<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&0x6772_6964_7270_i64])
        .map_err(db_err)?;
    Ok(())
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

    fn allocate_ids(&self, kind: IdKind, n: u64) -> StoreResult<i64> {
        let n = i64::try_from(n).map_err(|_| StoreError::Backend("too many ids".into()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO id_counters(kind, next_id) VALUES ($1, 1) ON CONFLICT DO NOTHING",
                &[&kind.as_str()],
            )
            .map_err(db_err)?;
            let row = tx
                .query_one(
                    "UPDATE id_counters SET next_id = next_id + $2 WHERE kind = $1 RETURNING next_id - $2",
                    &[&kind.as_str(), &n],
                )
                .map_err(db_err)?;
            Ok(row.get(0))
        })
    }

    fn write_population(&self, batch: &PopulationBatch) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut buf = Vec::new();
            for a in &batch.areas {
                let id = a.id.to_string();
                let parent = a.parent.map(|p| p.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        parent.as_deref(),
                        Some(a.level.as_str()),
                        Some(&a.name),
                        Some(a.path.as_str()),
                    ],
                );
            }
            copy_in(
                tx,
                "COPY areas (id, parent_id, level, name, path) FROM STDIN",
                &buf,
            )?;
            buf.clear();
            for s in &batch.sites {
                let (id, area) = (s.id.to_string(), s.area.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(&area),
                        Some(s.area_path.as_str()),
                        Some(s.kind.as_str()),
                        Some(&s.name),
                    ],
                );
            }
            copy_in(
                tx,
                "COPY sites (id, area_id, area_path, kind, name) FROM STDIN",
                &buf,
            )?;
            buf.clear();
            let mut affs = Vec::new();
            for p in &batch.persons {
                let (id, household) = (p.id.0.to_string(), p.household.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(p.name.as_str()),
                        Some(p.document.kind().as_str()),
                        Some(p.document.number()),
                        p.gender.map(|g| g.as_str()),
                        p.birth_date.as_deref(),
                        p.phone.as_ref().map(|p| p.as_str()),
                        Some(&household),
                        Some(p.household_path.as_str()),
                    ],
                );
                for a in &p.affiliations {
                    let area = a.area.to_string();
                    copy_row(&mut affs, &[Some(&id), Some(&area), Some(a.kind.as_str())]);
                }
            }
            copy_in(
                tx,
                &format!("COPY persons ({PERSON_COLS}) FROM STDIN"),
                &buf,
            )?;
            copy_in(
                tx,
                "COPY affiliations (person_id, area_id, kind) FROM STDIN",
                &affs,
            )?;
            let deltas = batch.resident_deltas();
            if !deltas.is_empty() {
                let ids: Vec<i64> = deltas.iter().map(|(id, _)| id.get()).collect();
                let ns: Vec<i64> = deltas.iter().map(|(_, n)| *n).collect();
                let updated = tx
                    .execute(
                        "UPDATE areas a SET resident_count = a.resident_count + d.n
                         FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n) WHERE a.id = d.id",
                        &[&ids, &ns],
                    )
                    .map_err(db_err)?;
                if updated as usize != deltas.len() {
                    return Err(StoreError::NotFound("an area of a person's address".into()));
                }
            }
            Ok(())
        })
    }

    fn area(&self, id: AreaId) -> StoreResult<Option<AreaNode>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {AREA_COLS} FROM areas WHERE id = $1"),
                &[&id.get()],
            )
            .map_err(db_err)?
            .map(|r| rows::area(&r))
            .transpose()
        })
    }

    fn areas(&self, ids: &[AreaId]) -> StoreResult<Vec<AreaNode>> {
        let ids: Vec<i64> = ids.iter().map(|a| a.get()).collect();
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE id = ANY($1)"),
                &[&ids],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn children(&self, id: AreaId) -> StoreResult<Vec<AreaNode>> {
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id = $1 ORDER BY name"),
                &[&id.get()],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn roots(&self) -> StoreResult<Vec<AreaNode>> {
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id IS NULL ORDER BY id"),
                &[],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
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
        let levels: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {AREA_COLS} FROM areas
                     WHERE name = $1 AND path >= $2 AND path < $3 AND level = ANY($4) ORDER BY id"
                ),
                &[&name, &lo, &hi, &levels],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn child_by_name(&self, parent: AreaId, name: &str) -> StoreResult<Option<AreaNode>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id = $1 AND name = $2"),
                &[&parent.get(), &name],
            )
            .map_err(db_err)?
            .map(|r| rows::area(&r))
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
        let name_hi = format!("{query}\u{10FFFF}");
        let upper = query.to_ascii_uppercase();
        self.with(|c| {
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons
                         WHERE ((name >= $1 AND name < $2) OR doc_number = $3)
                           AND area_path >= $4 AND area_path < $5
                         ORDER BY name, id LIMIT $6"
                    ),
                    &[
                        &query,
                        &name_hi,
                        &upper,
                        &within.as_str(),
                        &within.range_end(),
                        &i64::from(limit),
                    ],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
            rows::with_affiliations(c, found)
        })
    }

    fn person_by_document(
        &self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonRecord>> {
        self.with(|c| {
            let found = c
                .query_opt(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons WHERE doc_number = $1 AND doc_kind = $2"
                    ),
                    &[&number, &kind.as_str()],
                )
                .map_err(db_err)?
                .map(|r| rows::person(&r))
                .transpose()?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn existing_documents(&self, docs: &[(DocumentKind, String)]) -> StoreResult<Vec<String>> {
        let numbers: Vec<&str> = docs.iter().map(|(_, n)| n.as_str()).collect();
        let kinds: Vec<&str> = docs.iter().map(|(k, _)| k.as_str()).collect();
        self.with(|c| {
            Ok(c.query(
                "SELECT p.doc_number FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(n, k, i)
                 JOIN persons p ON p.doc_number = d.n AND p.doc_kind = d.k ORDER BY d.i",
                &[&numbers, &kinds],
            )
            .map_err(db_err)?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>> {
        self.with(|c| {
            c.query(
                "SELECT id, area_id, kind, name FROM sites
                 WHERE area_path >= $1 AND area_path < $2 ORDER BY id",
                &[&within.as_str(), &within.range_end()],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::site)
            .collect()
        })
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        self.with(|c| {
            let r = c
                .query_one(
                    "SELECT (SELECT count(*) FROM areas), (SELECT count(*) FROM persons),
                            (SELECT count(*) FROM sites)",
                    &[],
                )
                .map_err(db_err)?;
            Ok(StoreStats {
                areas: r.get(0),
                persons: r.get(1),
                sites: r.get(2),
            })
        })
    }

    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE sites SET direct_results = $2 WHERE id = $1",
                    &[&site, &allowed],
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
        self.write(|tx| {
            tx.execute(
                "INSERT INTO rounds(id, name, pool_size, starts_at, ends_at) VALUES ($1,$2,$3,$4,$5)",
                &[
                    &id,
                    &round.name,
                    &i32::try_from(round.pool_size).unwrap_or(i32::MAX),
                    &ms(round.starts_at),
                    &ms(round.ends_at),
                ],
            )
            .map_err(db_err)?;
            for a in &round.areas {
                tx.execute(
                    "INSERT INTO round_areas(round_id, area_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id, &a.get()],
                )
                .map_err(db_err)?;
            }
            pipeline_tx::load_round(tx, id)?
                .ok_or_else(|| StoreError::Backend("round vanished".into()))
        })
    }

    fn round(&self, id: i64) -> StoreResult<Option<RoundRow>> {
        self.with(|c| pipeline_tx::load_round(c, id))
    }

    fn rounds(&self) -> StoreResult<Vec<RoundRow>> {
        self.with(|c| {
            let ids: Vec<i64> = c
                .query("SELECT id FROM rounds ORDER BY id DESC", &[])
                .map_err(db_err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
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
        self.write(|tx| pipeline::apply(&mut PgTx(tx), &cmd, &ctx))
    }

    fn execute_all(
        &self,
        cmds: Vec<Command>,
        ctx: CommandContext,
        all_or_nothing: bool,
    ) -> StoreResult<Vec<Result<Effects, PipelineError>>> {
        self.write(|tx| pipeline::apply_all(&mut PgTx(tx), &cmds, &ctx, all_or_nothing))
    }

    fn sync(
        &self,
        device: String,
        events: Vec<DeviceEvent>,
        cutoffs: CtCutoffs,
        reach: gridsweep_domain::Reach,
    ) -> StoreResult<SyncReport> {
        self.write(|tx| pipeline::sync_batch(&mut PgTx(tx), &device, &events, cutoffs, &reach))
    }

    fn tube(&self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT {} FROM tubes WHERE barcode = $1",
                    pipeline_tx::TUBE_COLS
                ),
                &[&barcode],
            )
            .map_err(db_err)?
            .map(|r| pipeline_tx::tube_row(&r))
            .transpose()
        })
    }

    fn results(&self, tube: &str) -> StoreResult<Vec<ResultRow>> {
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {} FROM results WHERE tube = $1 ORDER BY id",
                    pipeline_tx::RESULT_COLS
                ),
                &[&tube],
            )
            .map_err(db_err)?
            .iter()
            .map(pipeline_tx::result_row)
            .collect()
        })
    }

    fn respond_to_result(
        &self,
        tube: String,
        at: chrono::DateTime<chrono::Utc>,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Effects> {
        self.write(|tx| {
            if !response::needs_response(&mut PgTx(tx), &tube)? {
                return Ok(vec![]);
            }
            response_lock(tx)?;
            response::respond(&mut PgTx(tx), &tube, at, &playbook)
        })
    }

    fn unanswered_results(&self) -> StoreResult<Vec<String>> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT t.barcode FROM tubes t JOIN results r ON r.tube = t.barcode AND r.current
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
                     FROM incidents i WHERE i.status = 'open' AND i.expansion_round IS NOT NULL",
                &[],
            )
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect())
    }

    fn incidents(&self) -> StoreResult<Vec<gridsweep_response::report::IncidentInfo>> {
        use gridsweep_storage::response::ResponseTx;
        self.write(|tx| PgTx(tx).incidents())
    }

    fn incident_detail(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<response::IncidentDetail>> {
        self.write(|tx| response::detail(&mut PgTx(tx), id, playbook))
    }

    fn propose_decision(
        &self,
        incident: i64,
        proposal: response::ManualProposal,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(|tx| {
            response_lock(tx)?;
            response::propose(&mut PgTx(tx), incident, &proposal)
        })
    }

    fn decide(
        &self,
        incident: i64,
        verdict: response::Verdict,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(|tx| {
            response_lock(tx)?;
            response::decide(&mut PgTx(tx), incident, &verdict, &playbook)
        })
    }

    fn add_note(
        &self,
        incident: i64,
        note: response::NewNote,
    ) -> StoreResult<Result<Effects, gridsweep_response::ResponseError>> {
        self.write(|tx| response::note(&mut PgTx(tx), incident, &note))
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
        self.write(|tx| {
            response_lock(tx)?;
            response::complete_task(&mut PgTx(tx), incident, task, &by, at, &playbook)
        })
    }

    fn incident_report(
        &self,
        id: i64,
        playbook: &gridsweep_response::Playbook,
    ) -> StoreResult<Option<gridsweep_response::report::Report>> {
        self.write(|tx| response::report(&mut PgTx(tx), id, playbook))
    }

    fn coverage(
        &self,
        area: AreaId,
        round: i64,
    ) -> StoreResult<
        Result<gridsweep_response::coverage::Coverage, gridsweep_response::ResponseError>,
    > {
        self.write(|tx| response::area_coverage(&mut PgTx(tx), area, round))
    }

    fn mark_person(
        &self,
        mark: response::PersonMark,
        playbook: gridsweep_response::Playbook,
    ) -> StoreResult<Result<(), gridsweep_response::ResponseError>> {
        self.write(|tx| {
            response_lock(tx)?;
            response::mark(&mut PgTx(tx), &mark, &playbook)
        })
    }

    fn person_marks(&self, round: i64) -> StoreResult<Vec<response::PersonMark>> {
        use gridsweep_storage::response::ResponseTx;
        self.write(|tx| PgTx(tx).marks(round))
    }

    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.with(|c| {
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons
                         WHERE area_path >= $1 AND area_path < $2 ORDER BY id LIMIT $3"
                    ),
                    &[&within.as_str(), &within.range_end(), &i64::from(limit)],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
            rows::with_affiliations(c, found)
        })
    }

    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.with(|c| {
            let cols = PERSON_COLS
                .split(", ")
                .map(|col| format!("p.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {cols} FROM affiliations a JOIN persons p ON p.id = a.person_id
                         WHERE a.area_id = $1 ORDER BY p.id LIMIT $2"
                    ),
                    &[&area.get(), &i64::from(limit)],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
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
