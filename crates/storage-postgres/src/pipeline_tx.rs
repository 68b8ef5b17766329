//! [`PipelineTx`] over a PostgreSQL transaction.

use crate::db_err;
use crate::rows::{Cols, all, opt};
use chrono::Utc;
use gridsweep_domain::{AreaPath, DocumentKind, PersonId};
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, ROUND_COLS, js};
pub use gridsweep_storage::codec::{RESULT_COLS, TUBE_COLS};
use gridsweep_storage::pipeline::*;
use gridsweep_storage::stamp::ms;
use postgres::{GenericClient, Row};

/// A `u32` for an `INTEGER` column.
fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Reads a `TUBE_COLS` row.
pub fn tube_row(r: &Row) -> StoreResult<TubeRow> {
    codec::tube(&Cols(r))
}

/// Reads a `RESULT_COLS` row.
pub fn result_row(r: &Row) -> StoreResult<ResultRow> {
    codec::result(&Cols(r))
}

/// A round and its areas.
pub fn load_round(c: &mut impl GenericClient, id: i64) -> StoreResult<Option<RoundRow>> {
    let Some(r) = c
        .query_opt(
            &format!("SELECT {ROUND_COLS} FROM rounds WHERE id = $1"),
            &[&id],
        )
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let areas = c
        .query(
            "SELECT area_id FROM round_areas WHERE round_id = $1 ORDER BY area_id",
            &[&id],
        )
        .map_err(db_err)?;
    let areas = all(&areas, |a| codec::area_id(a.int("area_id")?))?;
    codec::round(&Cols(&r), areas).map(Some)
}

/// The pipeline primitives inside one PostgreSQL transaction, and whether
/// it locks the tubes it reads.
pub struct PgTx<'a, 'b>(pub &'a mut postgres::Transaction<'b>, pub Rows);

/// How a unit of work reads tube rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// A write locks each tube it reads, so two writers of one tube take
    /// turns.
    Locked,
    /// A read takes no lock at all: it reads its snapshot and never makes
    /// a writer (or another reader) wait.
    Snapshot,
}

impl PipelineTx for PgTx<'_, '_> {
    fn round(&mut self, id: i64) -> StoreResult<Option<RoundRow>> {
        load_round(self.0, id)
    }

    fn site(&mut self, id: i64) -> StoreResult<Option<SiteRow>> {
        let row = self
            .0
            .query_opt(
                "SELECT id, area_id, direct_results FROM sites WHERE id = $1",
                &[&id],
            )
            .map_err(db_err)?;
        opt(row, codec::site_row)
    }

    fn site_area_path(&mut self, site: i64) -> StoreResult<Option<AreaPath>> {
        let row = self
            .0
            .query_opt(
                "SELECT a.path FROM sites s JOIN areas a ON a.id = s.area_id WHERE s.id = $1",
                &[&site],
            )
            .map_err(db_err)?;
        opt(row, |r| codec::area_path(&r.text("path")?))
    }

    fn tube(&mut self, barcode: &str) -> StoreResult<Option<TubeRow>> {
        self.0
            .query_opt(
                &format!(
                    "SELECT {TUBE_COLS} FROM tubes WHERE barcode = $1{}",
                    if self.1 == Rows::Locked {
                        " FOR UPDATE"
                    } else {
                        ""
                    }
                ),
                &[&barcode],
            )
            .map_err(db_err)?
            .as_ref()
            .map(tube_row)
            .transpose()
    }

    fn insert_tube(&mut self, t: &TubeRow) -> StoreResult<()> {
        self.0
            .execute(
                &format!(
                    "INSERT INTO tubes({TUBE_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
                ),
                &[
                    &t.barcode,
                    &t.round,
                    &t.site,
                    &t.kind.as_str(),
                    &t.status.as_str(),
                    &to_i32(t.capacity),
                    &to_i32(t.samples),
                    &ms(t.opened_at),
                    &t.opened_by,
                    &t.sealed_at.map(ms),
                    &t.box_barcode,
                    &t.received_at.map(ms),
                    &t.received_by,
                    &t.resulted_at.map(ms),
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn update_tube(&mut self, t: &TubeRow) -> StoreResult<()> {
        self.0
            .execute(
                "UPDATE tubes SET status = $2, samples = $3, sealed_at = $4, box_barcode = $5,
                 received_at = $6, received_by = $7, resulted_at = $8 WHERE barcode = $1",
                &[
                    &t.barcode,
                    &t.status.as_str(),
                    &to_i32(t.samples),
                    &t.sealed_at.map(ms),
                    &t.box_barcode,
                    &t.received_at.map(ms),
                    &t.received_by,
                    &t.resulted_at.map(ms),
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn person_by_document(
        &mut self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonId>> {
        let row = self
            .0
            .query_opt(
                "SELECT id FROM persons WHERE doc_number = $1 AND doc_kind = $2",
                &[&number, &kind.as_str()],
            )
            .map_err(db_err)?;
        opt(row, |r| Ok(PersonId(r.int("id")?)))
    }

    fn has_sample(
        &mut self,
        tube: &str,
        person: Option<PersonId>,
        point: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(self
            .0
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM samples WHERE tube = $1 AND
                 (($2::bigint IS NOT NULL AND person_id = $2) OR ($3::text IS NOT NULL AND point = $3)))",
                &[&tube, &person.map(|p| p.0), &point],
            )
            .map_err(db_err)?
            .get(0))
    }

    fn has_pending(&mut self, device: &str) -> StoreResult<bool> {
        Ok(self
            .0
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM device_events
                 WHERE device_id = $1 AND state = '{\"state\":\"pending\"}')",
                &[&device],
            )
            .map_err(db_err)?
            .get(0))
    }

    fn insert_sample(&mut self, s: &SampleRow) -> StoreResult<bool> {
        let n = self
            .0
            .execute(
                "INSERT INTO samples(tube, round_id, person_id, point, at, actor)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &s.tube,
                    &s.round,
                    &s.person.map(|p| p.0),
                    &s.point,
                    &ms(s.at),
                    &s.actor,
                ],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn box_row(&mut self, barcode: &str) -> StoreResult<Option<BoxRow>> {
        let row = self
            .0
            .query_opt(
                "SELECT barcode, status, created_at, handed_over_at FROM boxes WHERE barcode = $1",
                &[&barcode],
            )
            .map_err(db_err)?;
        opt(row, codec::box_row)
    }

    fn upsert_box(&mut self, b: &BoxRow) -> StoreResult<()> {
        self.0
            .execute(
                "INSERT INTO boxes(barcode, status, created_at, handed_over_at) VALUES ($1,$2,$3,$4)
                 ON CONFLICT(barcode) DO UPDATE SET status = excluded.status,
                 handed_over_at = excluded.handed_over_at",
                &[
                    &b.barcode,
                    &b.status.as_str(),
                    &ms(b.created_at),
                    &b.handed_over_at.map(ms),
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn tubes_in_box(&mut self, barcode: &str) -> StoreResult<Vec<String>> {
        let rows = self
            .0
            .query(
                "SELECT barcode FROM tubes WHERE box_barcode = $1 ORDER BY barcode",
                &[&barcode],
            )
            .map_err(db_err)?;
        all(&rows, |r| r.text("barcode"))
    }

    fn current_result(&mut self, tube: &str) -> StoreResult<Option<ResultRow>> {
        self.0
            .query_opt(
                &format!("SELECT {RESULT_COLS} FROM results WHERE tube = $1 AND current"),
                &[&tube],
            )
            .map_err(db_err)?
            .as_ref()
            .map(result_row)
            .transpose()
    }

    fn insert_result(&mut self, r: &ResultRow) -> StoreResult<()> {
        self.0
            .execute(
                "UPDATE results SET current = false WHERE tube = $1 AND current",
                &[&r.tube],
            )
            .map_err(db_err)?;
        self.0
            .execute(
                &format!("INSERT INTO results({RESULT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"),
                &[
                    &r.tube,
                    &r.outcome.as_str(),
                    &r.ct.orf1ab,
                    &r.ct.n,
                    &r.grey_zone,
                    &ms(r.posted_at),
                    &r.posted_by,
                    &r.correction,
                    &r.current,
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn device_cursor(&mut self, device: &str) -> StoreResult<i64> {
        // The cursor row exists before it is locked, so a device's first
        // batches are serialised like any other: a second transaction
        // waits here on the first one's insert until it commits.
        self.0
            .execute(
                "INSERT INTO device_cursors(device_id, next_seq) VALUES ($1, 1)
                 ON CONFLICT(device_id) DO NOTHING",
                &[&device],
            )
            .map_err(db_err)?;
        let row = self
            .0
            .query_opt(
                "SELECT next_seq FROM device_cursors WHERE device_id = $1 FOR UPDATE",
                &[&device],
            )
            .map_err(db_err)?;
        Ok(opt(row, |r| r.int("next_seq"))?.unwrap_or(1))
    }

    fn set_device_cursor(&mut self, device: &str, next_seq: i64) -> StoreResult<()> {
        self.0
            .execute(
                "INSERT INTO device_cursors(device_id, next_seq) VALUES ($1, $2)
                 ON CONFLICT(device_id) DO UPDATE
                 SET next_seq = GREATEST(device_cursors.next_seq, excluded.next_seq)",
                &[&device, &next_seq],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn device_event(&mut self, device: &str, seq: i64) -> StoreResult<Option<StoredEvent>> {
        let row = self
            .0
            .query_opt(
                "SELECT seq, at, command, state FROM device_events WHERE device_id = $1 AND seq = $2",
                &[&device, &seq],
            )
            .map_err(db_err)?;
        opt(row, codec::event)
    }

    fn put_device_event(&mut self, device: &str, e: &StoredEvent) -> StoreResult<()> {
        let (command, state) = (js(&e.command)?, js(&e.state)?);
        self.0
            .execute(
                "INSERT INTO device_events(device_id, seq, at, command, state, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT(device_id, seq) DO UPDATE SET state = excluded.state",
                &[
                    &device,
                    &e.seq,
                    &ms(e.at),
                    &command,
                    &state,
                    &Utc::now().timestamp_millis(),
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn pending_from(&mut self, device: &str, from_seq: i64) -> StoreResult<Vec<StoredEvent>> {
        let rows = self
            .0
            .query(
                "SELECT seq, at, command, state FROM device_events
                 WHERE device_id = $1 AND seq >= $2 ORDER BY seq",
                &[&device, &from_seq],
            )
            .map_err(db_err)?;
        codec::pending_run(from_seq, rows.iter().map(|r| codec::event(&Cols(r))))
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.0.batch_execute("SAVEPOINT cmd").map_err(db_err)
    }

    fn release(&mut self) -> StoreResult<()> {
        self.0
            .batch_execute("RELEASE SAVEPOINT cmd")
            .map_err(db_err)
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.0
            .batch_execute("ROLLBACK TO SAVEPOINT cmd")
            .map_err(db_err)
    }
}
