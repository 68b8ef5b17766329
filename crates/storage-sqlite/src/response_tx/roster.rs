//! [`RosterTx`] on SQLite: the roster reads the response needs.

use crate::pipeline_tx::SqliteTx;
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::*;
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, PERSON_FACT_COLS};
use gridsweep_storage::incidents::{PersonFact, RosterTx};
use rusqlite::params;

impl RosterTx for SqliteTx<'_> {
    fn tube_persons(&mut self, tube: &str) -> StoreResult<Vec<PersonId>> {
        self.rows(
            "SELECT person_id FROM samples WHERE tube = ?1 AND person_id IS NOT NULL ORDER BY id",
            [tube],
            |r| Ok(PersonId(r.int("person_id")?)),
        )
    }

    fn person_facts(&mut self, ids: &[PersonId]) -> StoreResult<Vec<PersonFact>> {
        let mut out = Vec::with_capacity(ids.len());
        let sql = format!("SELECT {PERSON_FACT_COLS} FROM persons WHERE id = ?1");
        for id in ids {
            out.extend(self.facts(&sql, [id.0])?);
        }
        Ok(out)
    }

    fn household_residents(&mut self, household: AreaId) -> StoreResult<Vec<PersonFact>> {
        self.facts(
            &format!(
                "SELECT {PERSON_FACT_COLS} FROM persons
                 WHERE area_path = (SELECT path FROM areas WHERE id = ?1) ORDER BY id"
            ),
            [household.get()],
        )
    }

    fn residents_under(&mut self, path: &AreaPath, limit: u32) -> StoreResult<Vec<PersonFact>> {
        self.facts(
            &format!(
                "SELECT {PERSON_FACT_COLS} FROM persons
                 WHERE area_path >= ?1 AND area_path < ?2 ORDER BY id LIMIT ?3"
            ),
            params![path.as_str(), path.range_end(), limit],
        )
    }

    fn area_briefs(&mut self, ids: &[AreaId]) -> StoreResult<Vec<(AreaBrief, AreaPath)>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.row(
                "SELECT id, level, name, path FROM areas WHERE id = ?1",
                [id.get()],
                |r| {
                    Ok((
                        codec::area_brief(r, None)?,
                        codec::area_path(&r.text("path")?)?,
                    ))
                },
            )?);
        }
        Ok(out)
    }

    fn areas_under(&mut self, path: &AreaPath, level: AreaLevel) -> StoreResult<Vec<AreaBrief>> {
        self.rows(
            "SELECT id, name FROM areas WHERE path >= ?1 AND path < ?2 AND level = ?3 ORDER BY id",
            params![path.as_str(), path.range_end(), level.as_str()],
            |r| codec::area_brief(r, Some(level)),
        )
    }

    fn grid_areas_under(&mut self, path: &AreaPath) -> StoreResult<Vec<AreaBrief>> {
        self.rows(
            "SELECT id, level, name FROM areas
             WHERE path >= ?1 AND path < ?2 AND level != 'household' ORDER BY id",
            params![path.as_str(), path.range_end()],
            |r| codec::area_brief(r, None),
        )
    }

    fn site_place(&mut self, site: i64) -> StoreResult<Option<(String, AreaPath)>> {
        self.row(
            "SELECT name, area_path FROM sites WHERE id = ?1",
            [site],
            codec::site_place,
        )
    }

    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>> {
        self.rows(
            "SELECT p.id, p.name, p.doc_kind, p.doc_number, p.area_path, h.name AS household_name,
                    EXISTS(SELECT 1 FROM samples s WHERE s.round_id = ?3 AND s.person_id = p.id)
                      AS sampled,
                    m.kind AS mark
             FROM persons p JOIN areas h ON h.id = p.household_id
             LEFT JOIN person_marks m ON m.round_id = ?3 AND m.person_id = p.id
             WHERE p.area_path >= ?1 AND p.area_path < ?2 ORDER BY p.area_path, p.id",
            params![path.as_str(), path.range_end(), round],
            codec::roster_entry,
        )
    }
}
