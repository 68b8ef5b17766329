//! [`RoundRowsTx`] on SQLite: the rounds the response opens
//! and their tubes, samples and marks.

use crate::db_err;
use crate::pipeline_tx::{SqliteTx, TUBE_COLS};
use crate::rows::all;
use gridsweep_domain::AreaId;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::SampleFact;
use gridsweep_storage::codec;
use gridsweep_storage::incidents::{IncidentRowsTx, PersonMark, RosterTx, RoundRowsTx, RoundTube};
use gridsweep_storage::pipeline::{NewRound, PipelineTx};
use gridsweep_storage::stamp::ms;
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::params;

impl RoundRowsTx for SqliteTx<'_> {
    fn insert_round(&mut self, r: &NewRound) -> StoreResult<i64> {
        let id = self.next_id("round")?;
        self.conn()
            .execute(
                "INSERT INTO rounds(id, name, pool_size, starts_at, ends_at) VALUES (?1,?2,?3,?4,?5)",
                params![id, r.name, r.pool_size, ms(r.starts_at), ms(r.ends_at)],
            )
            .map_err(db_err)?;
        for a in &r.areas {
            self.add_round_area(id, *a)?;
        }
        Ok(id)
    }

    fn add_round_area(&mut self, round: i64, area: AreaId) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO round_areas(round_id, area_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .map_err(db_err)?
            .execute(params![round, area.get()])
            .map_err(db_err)?;
        Ok(())
    }

    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>> {
        let tubes = self.rows(
            &format!("SELECT {TUBE_COLS} FROM tubes WHERE round_id = ?1 ORDER BY barcode"),
            [round],
            codec::tube,
        )?;
        codec::round_tubes(tubes, |t| {
            Ok((self.current_result(&t.barcode)?, self.site_place(t.site)?))
        })
    }

    fn round_tally(&mut self, round: i64) -> StoreResult<TubeTally> {
        self.row(
            "SELECT count(*) AS tubes, count(r.tube) AS resulted,
                    coalesce(sum(CASE WHEN r.outcome != 'negative' THEN 1 ELSE 0 END), 0)
                      AS non_negative
             FROM tubes t LEFT JOIN results r ON r.tube = t.barcode AND r.current = 1
             WHERE t.round_id = ?1",
            [round],
            codec::tally,
        )?
        .ok_or_else(|| StoreError::Backend("no tally row".into()))
    }

    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT tube, person_id, at FROM samples WHERE tube = ?1 ORDER BY id")
            .map_err(db_err)?;
        let mut out = Vec::new();
        for t in tubes {
            out.extend(all(&mut stmt, [t], codec::sample)?);
        }
        Ok(out)
    }

    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>> {
        self.rows(
            "SELECT tube, person_id, at FROM samples WHERE round_id = ?1 ORDER BY id",
            [round],
            codec::sample,
        )
    }

    fn set_mark(&mut self, m: &PersonMark) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO person_marks(round_id, person_id, kind, note, at, marked_by)
                 VALUES (?1,?2,?3,?4,?5,?6)
                 ON CONFLICT(round_id, person_id) DO UPDATE SET kind = excluded.kind,
                 note = excluded.note, at = excluded.at, marked_by = excluded.marked_by",
            )
            .map_err(db_err)?
            .execute(params![
                m.round,
                m.person.0,
                m.kind.as_str(),
                m.note,
                ms(m.at),
                m.by
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn marks(&mut self, round: i64) -> StoreResult<Vec<PersonMark>> {
        self.rows(
            "SELECT person_id, kind, note, at, marked_by FROM person_marks
             WHERE round_id = ?1 ORDER BY person_id",
            [round],
            |r| codec::mark(round, r),
        )
    }
}
