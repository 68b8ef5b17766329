//! [`PipelineTx`] over an SQLite connection inside a write transaction.

use crate::db_err;
use chrono::Utc;
use gridsweep_domain::pipeline::{CtValues, Outcome, TubeKind, TubeStatus};
use gridsweep_domain::{AreaId, AreaPath, DocumentKind, PersonId};
use gridsweep_storage::pipeline::*;
use gridsweep_storage::stamp::{from_ms, ms, opt_ms};
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v}"))
}

/// Tube columns in the order [`tube_row`] reads them.
pub const TUBE_COLS: &str = "barcode, round_id, site_id, kind, status, capacity, samples, \
     opened_at, opened_by, sealed_at, box_barcode, received_at, received_by, resulted_at";

/// Reads a `TUBE_COLS` row.
pub fn tube_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<TubeRow>> {
    let kind: String = r.get(3)?;
    let status: String = r.get(4)?;
    let raw = (
        r.get::<_, String>(0)?,
        r.get::<_, i64>(1)?,
        r.get::<_, i64>(2)?,
        r.get::<_, u32>(5)?,
        r.get::<_, u32>(6)?,
        r.get::<_, i64>(7)?,
        r.get::<_, String>(8)?,
        r.get::<_, Option<i64>>(9)?,
        r.get::<_, Option<String>>(10)?,
        r.get::<_, Option<i64>>(11)?,
        r.get::<_, Option<String>>(12)?,
        r.get::<_, Option<i64>>(13)?,
    );
    Ok((|| {
        Ok(TubeRow {
            barcode: raw.0,
            round: raw.1,
            site: raw.2,
            kind: TubeKind::parse(&kind).ok_or_else(|| corrupt("tube kind", &kind))?,
            status: TubeStatus::parse(&status).ok_or_else(|| corrupt("tube status", &status))?,
            capacity: raw.3,
            samples: raw.4,
            opened_at: from_ms(raw.5)?,
            opened_by: raw.6,
            sealed_at: opt_ms(raw.7)?,
            box_barcode: raw.8,
            received_at: opt_ms(raw.9)?,
            received_by: raw.10,
            resulted_at: opt_ms(raw.11)?,
        })
    })())
}

/// Result columns in the order [`result_row`] reads them.
pub const RESULT_COLS: &str =
    "tube, outcome, ct_orf1ab, ct_n, grey_zone, posted_at, posted_by, correction, current";

/// Reads a `RESULT_COLS` row.
pub fn result_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<ResultRow>> {
    let outcome: String = r.get(1)?;
    let raw = (
        r.get::<_, String>(0)?,
        r.get::<_, Option<f64>>(2)?,
        r.get::<_, Option<f64>>(3)?,
        r.get::<_, bool>(4)?,
        r.get::<_, i64>(5)?,
        r.get::<_, String>(6)?,
        r.get::<_, bool>(7)?,
        r.get::<_, bool>(8)?,
    );
    Ok((|| {
        Ok(ResultRow {
            tube: raw.0,
            outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
            ct: CtValues {
                orf1ab: raw.1,
                n: raw.2,
            },
            grey_zone: raw.3,
            posted_at: from_ms(raw.4)?,
            posted_by: raw.5,
            correction: raw.6,
            current: raw.7,
        })
    })())
}

/// Reads a rounds row (id, name, pool_size, starts_at, ends_at, closed)
/// and its areas.
pub fn load_round(c: &Connection, id: i64) -> StoreResult<Option<RoundRow>> {
    let row = c
        .prepare_cached(
            "SELECT id, name, pool_size, starts_at, ends_at, closed FROM rounds WHERE id = ?1",
        )
        .map_err(db_err)?
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })
        .optional()
        .map_err(db_err)?;
    let Some((id, name, pool_size, starts_at, ends_at, closed)) = row else {
        return Ok(None);
    };
    let mut stmt = c
        .prepare_cached("SELECT area_id FROM round_areas WHERE round_id = ?1 ORDER BY area_id")
        .map_err(db_err)?;
    let areas = stmt
        .query_map([id], |r| r.get::<_, i64>(0))
        .map_err(db_err)?
        .map(|a| {
            a.map_err(db_err)
                .and_then(|a| AreaId::new(a).map_err(|e| StoreError::Corrupt(e.to_string())))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(RoundRow {
        id,
        name,
        pool_size,
        starts_at: from_ms(starts_at)?,
        ends_at: from_ms(ends_at)?,
        closed,
        areas,
    }))
}

/// The pipeline primitives on one connection (inside a transaction).
///
/// Tube rows are cached for the length of one job and written back once
/// at [`SqliteTx::flush`]: a synced tube is read and changed 22 times in a
/// row, and doing that in memory halves the writer thread's work. The
/// cache follows savepoints (a snapshot per level), so a refused command
/// leaves no trace in it either. Persons resolved before the job (on a
/// reader connection, off the writer thread) are looked up in `persons`.
pub struct SqliteTx<'c> {
    conn: &'c Connection,
    tubes: HashMap<String, (TubeRow, bool)>,
    snapshots: Vec<HashMap<String, (TubeRow, bool)>>,
    persons: HashMap<(DocumentKind, String), PersonId>,
    /// Each site's area path, once per job: the reach check asks for it on
    /// every scan, and no pipeline command moves a site.
    site_paths: HashMap<i64, Option<AreaPath>>,
}

impl<'c> SqliteTx<'c> {
    /// Primitives on `conn`, with persons already resolved.
    pub fn new(conn: &'c Connection, persons: HashMap<(DocumentKind, String), PersonId>) -> Self {
        Self {
            conn,
            tubes: HashMap::new(),
            snapshots: Vec::new(),
            persons,
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
        self.conn
            .prepare_cached("SELECT id, area_id, direct_results FROM sites WHERE id = ?1")
            .map_err(db_err)?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .optional()
            .map_err(db_err)?
            .map(|(id, area, direct_results)| {
                Ok(SiteRow {
                    id,
                    area: AreaId::new(area).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    direct_results,
                })
            })
            .transpose()
    }

    fn site_area_path(&mut self, site: i64) -> StoreResult<Option<AreaPath>> {
        if let Some(p) = self.site_paths.get(&site) {
            return Ok(p.clone());
        }
        let found = self
            .conn
            .prepare_cached(
                "SELECT a.path FROM sites s JOIN areas a ON a.id = s.area_id WHERE s.id = ?1",
            )
            .map_err(db_err)?
            .query_row([site], |r| r.get::<_, String>(0))
            .optional()
            .map_err(db_err)?
            .map(|p| AreaPath::parse(&p).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?;
        self.site_paths.insert(site, found.clone());
        Ok(found)
    }

    fn tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        if let Some((t, _)) = self.tubes.get(barcode) {
            return Ok(Some(t.clone()));
        }
        let found = self
            .conn
            .prepare_cached(&format!("SELECT {TUBE_COLS} FROM tubes WHERE barcode = ?1"))
            .map_err(db_err)?
            .query_row([barcode], tube_row)
            .optional()
            .map_err(db_err)?
            .transpose()?;
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
        if let Some(id) = self.persons.get(&(kind, number.to_string())) {
            return Ok(Some(*id));
        }
        self.conn
            .prepare_cached("SELECT id FROM persons WHERE doc_number = ?1 AND doc_kind = ?2")
            .map_err(db_err)?
            .query_row(params![number, kind.as_str()], |r| r.get(0))
            .optional()
            .map_err(db_err)
            .map(|o| o.map(PersonId))
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
        self.conn
            .prepare_cached(
                "SELECT barcode, status, created_at, handed_over_at FROM boxes WHERE barcode = ?1",
            )
            .map_err(db_err)?
            .query_row([barcode], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .optional()
            .map_err(db_err)?
            .map(|(barcode, status, created, handed)| {
                Ok(BoxRow {
                    barcode,
                    status: BoxStatus::parse(&status).ok_or_else(|| corrupt("box", &status))?,
                    created_at: from_ms(created)?,
                    handed_over_at: opt_ms(handed)?,
                })
            })
            .transpose()
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
        let rows = stmt
            .query_map([barcode], |r| r.get(0))
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db_err)?;
        Ok(rows)
    }

    fn current_result(&mut self, tube: &str) -> StoreResult<Option<ResultRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {RESULT_COLS} FROM results WHERE tube = ?1 AND current = 1"
            ))
            .map_err(db_err)?
            .query_row([tube], result_row)
            .optional()
            .map_err(db_err)?
            .transpose()
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
        Ok(self
            .conn
            .prepare_cached("SELECT next_seq FROM device_cursors WHERE device_id = ?1")
            .map_err(db_err)?
            .query_row([device], |r| r.get(0))
            .optional()
            .map_err(db_err)?
            .unwrap_or(1))
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
        self.conn
            .prepare_cached(
                "SELECT seq, at, command, state FROM device_events WHERE device_id = ?1 AND seq = ?2",
            )
            .map_err(db_err)?
            .query_row(params![device, seq], event_row)
            .optional()
            .map_err(db_err)?
            .transpose()
    }

    fn put_device_event(&mut self, device: &str, e: &StoredEvent) -> StoreResult<()> {
        let command = serde_json::to_string(&e.command)
            .map_err(|err| StoreError::Backend(err.to_string()))?;
        let state =
            serde_json::to_string(&e.state).map_err(|err| StoreError::Backend(err.to_string()))?;
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
        let mut out = Vec::new();
        for (expect, row) in (from_seq..).zip(
            stmt.query_map(params![device, from_seq], event_row)
                .map_err(db_err)?,
        ) {
            let e = row.map_err(db_err)??;
            if e.seq != expect || e.state != EventState::Pending {
                break;
            }
            out.push(e);
        }
        Ok(out)
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

fn event_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<StoredEvent>> {
    let seq: i64 = r.get(0)?;
    let at: i64 = r.get(1)?;
    let command: String = r.get(2)?;
    let state: String = r.get(3)?;
    Ok((|| {
        Ok(StoredEvent {
            seq,
            at: from_ms(at)?,
            command: serde_json::from_str(&command)
                .map_err(|e| corrupt("command", &e.to_string()))?,
            state: serde_json::from_str(&state).map_err(|e| corrupt("state", &e.to_string()))?,
        })
    })())
}
