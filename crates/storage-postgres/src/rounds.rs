//! Screening rounds, tubes, results and boxes, as read outside a unit of work.

use super::*;
use crate::rows::all;

impl RoundStore for PgStore {
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

    fn box_tubes(&self, box_barcode: &str) -> StoreResult<Vec<String>> {
        self.with(|c| {
            let rows = c
                .query(
                    "SELECT barcode FROM tubes WHERE box_barcode = $1 ORDER BY barcode",
                    &[&box_barcode],
                )
                .map_err(db_err)?;
            all(&rows, |r| r.text("barcode"))
        })
    }
}
