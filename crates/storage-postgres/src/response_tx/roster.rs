//! [`RosterTx`] on PostgreSQL: the roster reads the response needs.

use crate::pipeline_tx::PgTx;
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::*;
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, PERSON_FACT_COLS};
use gridsweep_storage::incidents::{PersonFact, RosterTx};

impl RosterTx for PgTx<'_, '_> {
    fn tube_persons(&mut self, tube: &str) -> StoreResult<Vec<PersonId>> {
        self.rows(
            "SELECT person_id FROM samples WHERE tube = $1 AND person_id IS NOT NULL ORDER BY id",
            &[&tube],
            |r| Ok(PersonId(r.int("person_id")?)),
        )
    }

    fn person_facts(&mut self, ids: &[PersonId]) -> StoreResult<Vec<PersonFact>> {
        let sql = format!("SELECT {PERSON_FACT_COLS} FROM persons WHERE id = $1");
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.facts(&sql, &[&id.0])?);
        }
        Ok(out)
    }

    fn household_residents(&mut self, household: AreaId) -> StoreResult<Vec<PersonFact>> {
        self.facts(
            &format!(
                "SELECT {PERSON_FACT_COLS} FROM persons
                 WHERE area_path = (SELECT path FROM areas WHERE id = $1) ORDER BY id"
            ),
            &[&household.get()],
        )
    }

    fn residents_under(&mut self, path: &AreaPath, limit: u32) -> StoreResult<Vec<PersonFact>> {
        let hi = path.range_end();
        self.facts(
            &format!(
                "SELECT {PERSON_FACT_COLS} FROM persons
                 WHERE area_path >= $1 AND area_path < $2 ORDER BY id LIMIT $3"
            ),
            &[&path.as_str(), &hi, &i64::from(limit)],
        )
    }

    fn area_briefs(&mut self, ids: &[AreaId]) -> StoreResult<Vec<(AreaBrief, AreaPath)>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        self.rows(
            "SELECT id, level, name, path FROM areas WHERE id = ANY($1)",
            &[&raw],
            |r| {
                Ok((
                    codec::area_brief(r, None)?,
                    codec::area_path(&r.text("path")?)?,
                ))
            },
        )
    }

    fn areas_under(&mut self, path: &AreaPath, lv: AreaLevel) -> StoreResult<Vec<AreaBrief>> {
        let hi = path.range_end();
        self.rows(
            "SELECT id, name FROM areas WHERE path >= $1 AND path < $2 AND level = $3 ORDER BY id",
            &[&path.as_str(), &hi, &lv.as_str()],
            |r| codec::area_brief(r, Some(lv)),
        )
    }

    fn grid_areas_under(&mut self, path: &AreaPath) -> StoreResult<Vec<AreaBrief>> {
        let hi = path.range_end();
        self.rows(
            "SELECT id, level, name FROM areas
             WHERE path >= $1 AND path < $2 AND level != 'household' ORDER BY id",
            &[&path.as_str(), &hi],
            |r| codec::area_brief(r, None),
        )
    }

    fn site_place(&mut self, site: i64) -> StoreResult<Option<(String, AreaPath)>> {
        self.row(
            "SELECT name, area_path FROM sites WHERE id = $1",
            &[&site],
            codec::site_place,
        )
    }

    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>> {
        let hi = path.range_end();
        self.rows(
            "SELECT p.id, p.name, p.doc_kind, p.doc_number, p.area_path, h.name AS household_name,
                    EXISTS(SELECT 1 FROM samples s WHERE s.round_id = $3 AND s.person_id = p.id)
                      AS sampled,
                    m.kind AS mark
             FROM persons p JOIN areas h ON h.id = p.household_id
             LEFT JOIN person_marks m ON m.round_id = $3 AND m.person_id = p.id
             WHERE p.area_path >= $1 AND p.area_path < $2 ORDER BY p.area_path, p.id",
            &[&path.as_str(), &hi, &round],
            codec::roster_entry,
        )
    }
}
