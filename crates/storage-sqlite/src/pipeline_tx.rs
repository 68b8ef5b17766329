//! [`PipelineTx`] over an SQLite connection inside a write transaction.

use crate::db_err;
use crate::rows::{Cols, all, first};
use chrono::Utc;
use gridsweep_domain::{AreaPath, DocumentKind, PersonId};
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, ROUND_COLS, js};
pub use gridsweep_storage::codec::{RESULT_COLS, TUBE_COLS};
use gridsweep_storage::pipeline::*;
use gridsweep_storage::stamp::ms;
use rusqlite::{Connection, Row, params};
use std::collections::HashMap;

/// Reads a `TUBE_COLS` row (for `query_row`/`query_map` callers).
pub fn tube_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<TubeRow>> {
    Ok(codec::tube(&Cols(r)))
}

/// Reads a `RESULT_COLS` row (for `query_row`/`query_map` callers).
pub fn result_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<ResultRow>> {
    Ok(codec::result(&Cols(r)))
}

/// Reads a rounds row and its areas.
pub fn load_round(c: &Connection, id: i64) -> StoreResult<Option<RoundRow>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {ROUND_COLS} FROM rounds WHERE id = ?1"))
        .map_err(db_err)?;
    let mut rows = stmt.query([id]).map_err(db_err)?;
    let Some(row) = rows.next().map_err(db_err)? else {
        return Ok(None);
    };
    let mut areas_stmt = c
        .prepare_cached("SELECT area_id FROM round_areas WHERE round_id = ?1 ORDER BY area_id")
        .map_err(db_err)?;
    let areas = all(&mut areas_stmt, [id], |r| codec::area_id(r.int("area_id")?))?;
    codec::round(&Cols(row), areas).map(Some)
}

/// The pipeline primitives on one connection (inside a transaction).
///
/// Tube rows are cached for the length of one job and written back once
/// at [`SqliteTx::flush`]: a synced tube is read and changed 22 times in a
/// row, and doing that in memory halves the writer thread's work. The
/// cache follows savepoints (a snapshot per level), so a refused command
/// leaves no trace in it either. (The persons a job scans are looked up
/// before it, on a reader, by the engine.)
pub struct SqliteTx<'c> {
    conn: &'c Connection,
    tubes: HashMap<String, (TubeRow, bool)>,
    snapshots: Vec<HashMap<String, (TubeRow, bool)>>,
    /// Each site's area path, once per job: the reach check asks for it on
    /// every scan, and no pipeline command moves a site.
    site_paths: HashMap<i64, Option<AreaPath>>,
}

impl<'c> SqliteTx<'c> {
    /// Primitives on `conn`, for one unit of work.
    pub fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            tubes: HashMap::new(),
            snapshots: Vec::new(),
            site_paths: HashMap::new(),
        }
    }

    /// Writes changed tube rows back; call before the job returns.
    pub fn flush(&mut self) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE tubes SET status = ?2, samples = ?3, sealed_at = ?4, box_barcode = ?5,
                 received_at = ?6, received_by = ?7, resulted_at = ?8 WHERE barcode = ?1",
            )
            .map_err(db_err)?;
        for (t, dirty) in self.tubes.values_mut() {
            if *dirty {
                stmt.execute(params![
                    t.barcode,
                    t.status.as_str(),
                    t.samples,
                    t.sealed_at.map(ms),
                    t.box_barcode,
                    t.received_at.map(ms),
                    t.received_by,
                    t.resulted_at.map(ms),
                ])
                .map_err(db_err)?;
                *dirty = false;
            }
        }
        Ok(())
    }

    /// The connection, for the response primitives ([`crate::response_tx`]).
    pub(crate) fn conn(&self) -> &'c Connection {
        self.conn
    }

    fn exec_cached(&self, sql: &str) -> StoreResult<()> {
        self.conn
            .prepare_cached(sql)
            .map_err(db_err)?
            .execute([])
            .map_err(db_err)?;
        Ok(())
    }
}

impl PipelineTx for SqliteTx<'_> {
    fn round(&mut self, id: i64) -> StoreResult<Option<RoundRow>> {
        load_round(self.conn, id)
    }

    fn site(&mut self, id: i64) -> StoreResult<Option<SiteRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, area_id, direct_results FROM sites WHERE id = ?1")
            .map_err(db_err)?;
        first(&mut stmt, [id], codec::site_row)
    }

    fn site_area_path(&mut self, site: i64) -> StoreResult<Option<AreaPath>> {
        if let Some(p) = self.site_paths.get(&site) {
            return Ok(p.clone());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.path FROM sites s JOIN areas a ON a.id = s.area_id WHERE s.id = ?1",
            )
            .map_err(db_err)?;
        let found = first(&mut stmt, [site], |r| codec::area_path(&r.text("path")?))?;
        self.site_paths.insert(site, found.clone());
        Ok(found)
    }

    fn tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        if let Some((t, _)) = self.tubes.get(barcode) {
            return Ok(Some(t.clone()));
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {TUBE_COLS} FROM tubes WHERE barcode = ?1"))
            .map_err(db_err)?;
        let found = first(&mut stmt, [barcode], codec::tube)?;
        if let Some(t) = &found {
            self.tubes.insert(t.barcode.clone(), (t.clone(), false));
        }
        Ok(found)
    }

    fn insert_tube(&mut self, t: &TubeRow) -> StoreResult<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO tubes({TUBE_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ))
            .map_err(db_err)?
            .execute(params![
                t.barcode,
                t.round,
                t.site,
                t.kind.as_str(),
                t.status.as_str(),
                t.capacity,
                t.samples,
                ms(t.opened_at),
                t.opened_by,
                t.sealed_at.map(ms),
                t.box_barcode,
                t.received_at.map(ms),
                t.received_by,
                t.resulted_at.map(ms),
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_tube(&mut self, t: &TubeRow) -> StoreResult<()> {
        self.tubes.insert(t.barcode.clone(), (t.clone(), true));
        Ok(())
    }

    fn person_by_document(
        &mut self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM persons WHERE doc_number = ?1 AND doc_kind = ?2")
            .map_err(db_err)?;
        first(&mut stmt, params![number, kind.as_str()], |r| {
            Ok(PersonId(r.int("id")?))
        })
    }

    fn has_sample(
        &mut self,
        tube: &str,
        person: Option<PersonId>,
        point: Option<&str>,
    ) -> StoreResult<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM samples WHERE tube = ?1 AND
                 ((?2 IS NOT NULL AND person_id = ?2) OR (?3 IS NOT NULL AND point = ?3)))",
            )
            .map_err(db_err)?
            .query_row(params![tube, person.map(|p| p.0), point], |r| r.get(0))
            .map_err(db_err)
    }

    fn has_pending(&mut self, device: &str) -> StoreResult<bool> {
        self.conn
            .prepare_cached(
                // Named: without statistics the planner would walk the
                // primary key, i.e. every event the device ever sent.
                "SELECT EXISTS(SELECT 1 FROM device_events INDEXED BY device_events_pending
                 WHERE device_id = ?1 AND state = '{\"state\":\"pending\"}')",
            )
            .map_err(db_err)?
            .query_row([device], |r| r.get(0))
            .map_err(db_err)
    }

    fn insert_sample(&mut self, s: &SampleRow) -> StoreResult<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO samples(tube, round_id, person_id, point, at, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )
            .map_err(db_err)?
            .execute(params![
                s.tube,
                s.round,
                s.person.map(|p| p.0),
                s.point,
                ms(s.at),
                s.actor
            ])
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn box_row(&mut self, barcode: &str) -> StoreResult<Option<BoxRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT barcode, status, created_at, handed_over_at FROM boxes WHERE barcode = ?1",
            )
            .map_err(db_err)?;
        first(&mut stmt, [barcode], codec::box_row)
    }

    fn upsert_box(&mut self, b: &BoxRow) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO boxes(barcode, status, created_at, handed_over_at) VALUES (?1,?2,?3,?4)
                 ON CONFLICT(barcode) DO UPDATE SET status = excluded.status,
                 handed_over_at = excluded.handed_over_at",
            )
            .map_err(db_err)?
            .execute(params![
                b.barcode,
                b.status.as_str(),
                ms(b.created_at),
                b.handed_over_at.map(ms)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn tubes_in_box(&mut self, barcode: &str) -> StoreResult<Vec<String>> {
        // Box membership is read from the table: write cached rows first.
        self.flush()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT barcode FROM tubes WHERE box_barcode = ?1 ORDER BY barcode")
            .map_err(db_err)?;
        all(&mut stmt, [barcode], |r| r.text("barcode"))
    }

    fn current_result(&mut self, tube: &str) -> StoreResult<Option<ResultRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RESULT_COLS} FROM results WHERE tube = ?1 AND current = 1"
            ))
            .map_err(db_err)?;
        first(&mut stmt, [tube], codec::result)
    }

    fn insert_result(&mut self, r: &ResultRow) -> StoreResult<()> {
        self.conn
            .prepare_cached("UPDATE results SET current = 0 WHERE tube = ?1 AND current = 1")
            .map_err(db_err)?
            .execute([&r.tube])
            .map_err(db_err)?;
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO results({RESULT_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
            ))
            .map_err(db_err)?
            .execute(params![
                r.tube,
                r.outcome.as_str(),
                r.ct.orf1ab,
                r.ct.n,
                r.grey_zone,
                ms(r.posted_at),
                r.posted_by,
                r.correction,
                r.current
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn device_cursor(&mut self, device: &str) -> StoreResult<i64> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT next_seq FROM device_cursors WHERE device_id = ?1")
            .map_err(db_err)?;
        Ok(first(&mut stmt, [device], |r| r.int("next_seq"))?.unwrap_or(1))
    }

    fn set_device_cursor(&mut self, device: &str, next_seq: i64) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO device_cursors(device_id, next_seq) VALUES (?1, ?2)
                 ON CONFLICT(device_id) DO UPDATE SET next_seq = excluded.next_seq",
            )
            .map_err(db_err)?
            .execute(params![device, next_seq])
            .map_err(db_err)?;
        Ok(())
    }

    fn device_event(&mut self, device: &str, seq: i64) -> StoreResult<Option<StoredEvent>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at, command, state FROM device_events WHERE device_id = ?1 AND seq = ?2",
            )
            .map_err(db_err)?;
        first(&mut stmt, params![device, seq], codec::event)
    }

    fn put_device_event(&mut self, device: &str, e: &StoredEvent) -> StoreResult<()> {
        let (command, state) = (js(&e.command)?, js(&e.state)?);
        self.conn
            .prepare_cached(
                "INSERT INTO device_events(device_id, seq, at, command, state, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(device_id, seq) DO UPDATE SET state = excluded.state",
            )
            .map_err(db_err)?
            .execute(params![
                device,
                e.seq,
                ms(e.at),
                command,
                state,
                Utc::now().timestamp_millis()
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn pending_from(&mut self, device: &str, from_seq: i64) -> StoreResult<Vec<StoredEvent>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at, command, state FROM device_events
                 WHERE device_id = ?1 AND seq >= ?2 ORDER BY seq",
            )
            .map_err(db_err)?;
        let mut rows = stmt.query(params![device, from_seq]).map_err(db_err)?;
        // Streamed: the run usually ends long before the device's last event.
        let events = std::iter::from_fn(|| match rows.next() {
            Ok(Some(r)) => Some(codec::event(&Cols(r))),
            Ok(None) => None,
            Err(e) => Some(Err(db_err(e))),
        });
        codec::pending_run(from_seq, events)
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.exec_cached("SAVEPOINT cmd")?;
        self.snapshots.push(self.tubes.clone());
        Ok(())
    }

    fn release(&mut self) -> StoreResult<()> {
        self.exec_cached("RELEASE cmd")?;
        self.snapshots.pop();
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.exec_cached("ROLLBACK TO cmd")?;
        if let Some(snap) = self.snapshots.last() {
            self.tubes = snap.clone();
        }
        Ok(())
    }
}
