//! [`IncidentTx`] over an SQLite connection (inside a write transaction,
//! or on a reader connection for the read-only calls).

use crate::db_err;
use crate::pipeline_tx::{SqliteTx, TUBE_COLS};
use crate::rows::{all, first};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentInfo, MemberView, OrderView, SampleFact, TaskView, TubeRole,
};
use gridsweep_response::*;
use gridsweep_storage::codec::{
    self, DECISION_COLS, INCIDENT_COLS, MEMBER_COLS, ORDER_COLS, PERSON_FACT_COLS, TASK_COLS, js,
    opt_js, tube_role_word,
};
use gridsweep_storage::incidents::{IncidentTx, PersonFact, PersonMark, PoolBlock, RoundTube};
use gridsweep_storage::pipeline::{NewRound, PipelineTx};
use gridsweep_storage::stamp::ms;
use gridsweep_storage::{StoreError, StoreResult};
use rusqlite::params;

impl SqliteTx<'_> {
    fn facts(&mut self, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<PersonFact>> {
        let mut facts = self.rows(sql, p, |r| codec::person_fact(r, Vec::new()))?;
        let mut aff = self
            .conn()
            .prepare_cached(
                "SELECT area_id, kind FROM affiliations WHERE person_id = ?1 ORDER BY area_id",
            )
            .map_err(db_err)?;
        for f in &mut facts {
            f.affiliations = all(&mut aff, [f.brief.id.0], codec::fact_affiliation)?;
        }
        Ok(facts)
    }

    /// Every row of `sql` for `p`, decoded by `f`.
    fn rows<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl Fn(&dyn codec::Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        all(&mut stmt, p, f)
    }

    /// The first row of `sql` for `p`, if any, decoded by `f`.
    fn row<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl Fn(&dyn codec::Columns) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        first(&mut stmt, p, f)
    }
}

impl IncidentTx for SqliteTx<'_> {
    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        self.conn()
            .execute(
                "INSERT INTO id_counters(kind, next_id) VALUES (?1, 1) ON CONFLICT DO NOTHING",
                [kind],
            )
            .map_err(db_err)?;
        self.conn()
            .query_row(
                "UPDATE id_counters SET next_id = next_id + 1 WHERE kind = ?1 RETURNING next_id - 1",
                [kind],
                |r| r.get(0),
            )
            .map_err(db_err)
    }

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

    fn insert_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO incidents({INCIDENT_COLS}, area_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"),
                params![
                    i.id,
                    i.parent,
                    i.title,
                    js(&i.area)?,
                    i.status.as_str(),
                    ms(i.opened_at),
                    i.closed_at.map(ms),
                    i.trigger_tube,
                    opt_js(&i.case)?,
                    i.expansion_round,
                    i.retest_round,
                    i.area.id.get()
                ],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn update_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE incidents SET status = ?2, closed_at = ?3, title = ?4 WHERE id = ?1",
                params![i.id, i.status.as_str(), i.closed_at.map(ms), i.title],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn incident(&mut self, id: i64) -> StoreResult<Option<IncidentInfo>> {
        self.row(
            &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"),
            [id],
            codec::incident,
        )
    }

    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>> {
        self.rows(
            &format!("SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"),
            [],
            codec::incident,
        )
    }

    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>> {
        self.rows(
            "SELECT id FROM incidents WHERE parent_id = ?1 ORDER BY id",
            [parent],
            |r| r.int("id"),
        )
    }

    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>> {
        self.row(
            "SELECT id FROM incidents WHERE area_id = ?1 AND status = 'open'
             AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
            [area.get()],
            |r| r.int("id"),
        )
    }

    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>> {
        self.row(
            "SELECT id, expansion_round FROM incidents
             WHERE expansion_round = ?1 OR retest_round = ?1 LIMIT 1",
            [round],
            |r| codec::incident_round(round, r),
        )
    }

    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>> {
        self.row(
            "SELECT incident_id, role FROM incident_tubes WHERE tube = ?1 LIMIT 1",
            [tube],
            codec::tube_incident,
        )
    }

    fn insert_incident_tube(
        &mut self,
        incident: i64,
        tube: &str,
        role: TubeRole,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO incident_tubes(incident_id, tube, role, at) VALUES (?1,?2,?3,?4)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(db_err)?
            .execute(params![incident, tube, tube_role_word(role), ms(at)])
            .map_err(db_err)?;
        Ok(())
    }

    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>> {
        self.rows(
            "SELECT tube, role FROM incident_tubes WHERE incident_id = ?1 ORDER BY at, tube",
            [incident],
            codec::incident_tube,
        )
    }

    fn insert_member(
        &mut self,
        incident: i64,
        m: &MemberView,
        household: AreaId,
    ) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO incident_members(incident_id, person_id, person, kind, status, source,
                 household_id, address, affiliations, seq)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,
                   (SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_members WHERE incident_id = ?1))",
            )
            .map_err(db_err)?
            .execute(params![
                incident,
                m.person.id.0,
                js(&m.person)?,
                m.kind.as_str(),
                m.status.as_str(),
                m.source,
                household.get(),
                m.address,
                js(&m.affiliations)?
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn set_member_status(
        &mut self,
        incident: i64,
        person: PersonId,
        status: MemberStatus,
    ) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE incident_members SET status = ?3 WHERE incident_id = ?1 AND person_id = ?2",
            )
            .map_err(db_err)?
            .execute(params![incident, person.0, status.as_str()])
            .map_err(db_err)?;
        Ok(())
    }

    fn members(&mut self, incident: i64) -> StoreResult<Vec<(MemberView, AreaId)>> {
        self.rows(
            &format!(
                "SELECT {MEMBER_COLS} FROM incident_members WHERE incident_id = ?1 ORDER BY seq"
            ),
            [incident],
            codec::member,
        )
    }

    fn insert_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO control_orders({ORDER_COLS}, area_id, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
            ))
            .map_err(db_err)?
            .execute(params![
                o.id,
                o.incident,
                o.kind.as_str(),
                opt_js(&o.area)?,
                opt_js(&o.person)?,
                ms(o.starts_at),
                o.ends_at.map(ms),
                o.ordered_by,
                o.reason,
                o.lifted_at.map(ms),
                o.lifted_by,
                o.area.as_ref().map(|a| a.id.get()),
                o.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE control_orders SET ends_at = ?2, lifted_at = ?3, lifted_by = ?4 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![o.id, o.ends_at.map(ms), o.lifted_at.map(ms), o.lifted_by])
            .map_err(db_err)?;
        Ok(())
    }

    fn orders(&mut self, incident: i64) -> StoreResult<Vec<OrderView>> {
        self.rows(
            &format!("SELECT {ORDER_COLS} FROM control_orders WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::order,
        )
    }

    fn insert_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO tasks({TASK_COLS}, area_id, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ))
            .map_err(db_err)?
            .execute(params![
                t.id,
                t.incident,
                t.kind.as_str(),
                t.title,
                opt_js(&t.area)?,
                opt_js(&t.person)?,
                js(&t.assignee)?,
                i64::from(t.target),
                t.status.as_str(),
                ms(t.created_at),
                t.done_at.map(ms),
                t.done_by,
                t.area.as_ref().map(|a| a.id.get()),
                t.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET status = ?2, done_at = ?3, done_by = ?4 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![
                t.id,
                t.status.as_str(),
                t.done_at.map(ms),
                t.done_by
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn tasks(&mut self, incident: i64) -> StoreResult<Vec<TaskView>> {
        self.rows(
            &format!("SELECT {TASK_COLS} FROM tasks WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::task,
        )
    }

    fn insert_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO decisions({DECISION_COLS}, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ))
            .map_err(db_err)?
            .execute(params![
                d.id,
                d.incident,
                d.kind.as_str(),
                opt_js(&d.person)?,
                d.status.as_str(),
                d.reason,
                ms(d.proposed_at),
                d.proposed_by,
                d.decided_at.map(ms),
                d.decided_by,
                d.decided_role.map(|r| r.as_str()),
                d.note,
                d.override_reason,
                d.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE decisions SET status = ?2, decided_at = ?3, decided_by = ?4,
                 decided_role = ?5, note = ?6, override_reason = ?7 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![
                d.id,
                d.status.as_str(),
                d.decided_at.map(ms),
                d.decided_by,
                d.decided_role.map(|r| r.as_str()),
                d.note,
                d.override_reason
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn decisions(&mut self, incident: i64) -> StoreResult<Vec<DecisionView>> {
        self.rows(
            &format!("SELECT {DECISION_COLS} FROM decisions WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::decision,
        )
    }

    fn insert_entry(&mut self, e: &EntryView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO timeline(incident_id, at, actor, kind, text) VALUES (?1,?2,?3,?4,?5)",
            )
            .map_err(db_err)?
            .execute(params![
                e.incident,
                ms(e.at),
                e.actor,
                e.kind.as_str(),
                e.text
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn timeline(&mut self, incident: i64) -> StoreResult<Vec<EntryView>> {
        self.rows(
            "SELECT at, actor, kind, text FROM timeline WHERE incident_id = ?1 ORDER BY at, id",
            [incident],
            |r| codec::entry(incident, r),
        )
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

    fn insert_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO pool_blocks(incident_id, tube, design, members, tasks, complete, seq)
                 VALUES (?1,?2,?3,?4,?5,?6,
                   (SELECT COALESCE(MAX(seq), 0) + 1 FROM pool_blocks WHERE incident_id = ?1))",
            )
            .map_err(db_err)?
            .execute(params![
                b.incident,
                b.tube,
                js(&b.block.design)?,
                js(&b.block.members)?,
                js(&b.tasks)?,
                b.complete
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE pool_blocks SET tasks = ?3, complete = ?4 WHERE incident_id = ?1 AND tube = ?2",
            )
            .map_err(db_err)?
            .execute(params![b.incident, b.tube, js(&b.tasks)?, b.complete])
            .map_err(db_err)?;
        Ok(())
    }

    fn pool_blocks(&mut self, incident: i64) -> StoreResult<Vec<PoolBlock>> {
        self.rows(
            "SELECT tube, design, members, tasks, complete FROM pool_blocks
             WHERE incident_id = ?1 ORDER BY seq",
            [incident],
            |r| codec::pool_block(incident, r),
        )
    }
}
