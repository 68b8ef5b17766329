//! Screening rounds, tubes, results and boxes, as read outside a unit of work.

use super::*;
use crate::rows::all;

impl RoundStore for SqliteStore {
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

    fn box_tubes(&self, box_barcode: &str) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT barcode FROM tubes WHERE box_barcode = ?1 ORDER BY barcode")
                .map_err(db_err)?;
            all(&mut stmt, [box_barcode], |r| r.text("barcode"))
        })
    }
}
