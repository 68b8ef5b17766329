//! [`IncidentTx`] over a PostgreSQL transaction.

use crate::db_err;
use crate::pipeline_tx::{PgTx, TUBE_COLS, tube_row};
use crate::rows::{all, opt};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, AreaLevel, AreaPath, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentInfo, MemberView, OrderView, SampleFact, TaskView, TubeRole,
};
use gridsweep_response::*;
use gridsweep_storage::codec::{
    self, Columns, DECISION_COLS, INCIDENT_COLS, MEMBER_COLS, ORDER_COLS, PERSON_FACT_COLS,
    TASK_COLS, js, opt_js, tube_role_word,
};
use gridsweep_storage::incidents::{IncidentTx, PersonFact, PersonMark, PoolBlock, RoundTube};
use gridsweep_storage::pipeline::{NewRound, PipelineTx};
use gridsweep_storage::stamp::ms;
use gridsweep_storage::{StoreError, StoreResult};
use postgres::Row;
use postgres::types::ToSql;

type P<'a> = &'a (dyn ToSql + Sync);

impl PgTx<'_, '_> {
    fn q(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Vec<Row>> {
        self.0.query(sql, p).map_err(db_err)
    }

    fn q1(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Option<Row>> {
        self.0.query_opt(sql, p).map_err(db_err)
    }

    fn ex(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<u64> {
        self.0.execute(sql, p).map_err(db_err)
    }

    /// Every row of `sql` for `p`, decoded by `f`.
    fn rows<T>(
        &mut self,
        sql: &str,
        p: &[P<'_>],
        f: impl Fn(&dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        all(&self.q(sql, p)?, f)
    }

    /// The row of `sql` for `p`, if any, decoded by `f`.
    fn row<T>(
        &mut self,
        sql: &str,
        p: &[P<'_>],
        f: impl Fn(&dyn Columns) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let row = self.q1(sql, p)?;
        opt(row, f)
    }

    fn facts(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Vec<PersonFact>> {
        let mut facts = self.rows(sql, p, |r| codec::person_fact(r, Vec::new()))?;
        for f in &mut facts {
            f.affiliations = self.rows(
                "SELECT area_id, kind FROM affiliations WHERE person_id = $1 ORDER BY area_id",
                &[&f.brief.id.0],
                codec::fact_affiliation,
            )?;
        }
        Ok(facts)
    }
}

impl IncidentTx for PgTx<'_, '_> {
    fn serialize_responses(&mut self) -> StoreResult<()> {
        // A transaction-scoped advisory lock: released at commit or
        // rollback, so it cannot leak.
        self.0
            .execute("SELECT pg_advisory_xact_lock($1)", &[&0x6772_6964_7270_i64])
            .map_err(db_err)?;
        Ok(())
    }

    fn peek_tube(
        &mut self,
        barcode: &str,
    ) -> StoreResult<Option<gridsweep_storage::pipeline::TubeRow>> {
        // No FOR UPDATE: another request may be resulting this tube and
        // waiting for the response lock this transaction holds.
        self.0
            .query_opt(
                &format!("SELECT {TUBE_COLS} FROM tubes WHERE barcode = $1"),
                &[&barcode],
            )
            .map_err(db_err)?
            .as_ref()
            .map(tube_row)
            .transpose()
    }

    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        self.ex(
            "INSERT INTO id_counters(kind, next_id) VALUES ($1, 1) ON CONFLICT DO NOTHING",
            &[&kind],
        )?;
        let r = self.q1(
            "UPDATE id_counters SET next_id = next_id + 1 WHERE kind = $1 RETURNING next_id - 1",
            &[&kind],
        )?;
        r.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Backend("id counter vanished".into()))
    }

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

    fn insert_round(&mut self, r: &NewRound) -> StoreResult<i64> {
        let id = self.next_id("round")?;
        let pool = i32::try_from(r.pool_size).unwrap_or(i32::MAX);
        self.ex(
            "INSERT INTO rounds(id, name, pool_size, starts_at, ends_at) VALUES ($1,$2,$3,$4,$5)",
            &[&id, &r.name, &pool, &ms(r.starts_at), &ms(r.ends_at)],
        )?;
        for a in &r.areas {
            self.add_round_area(id, *a)?;
        }
        Ok(id)
    }

    fn add_round_area(&mut self, round: i64, area: AreaId) -> StoreResult<()> {
        self.ex(
            "INSERT INTO round_areas(round_id, area_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&round, &area.get()],
        )?;
        Ok(())
    }

    fn insert_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.ex(
            &format!(
                "INSERT INTO incidents({INCIDENT_COLS}, area_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
            ),
            &[
                &i.id,
                &i.parent,
                &i.title,
                &js(&i.area)?,
                &i.status.as_str(),
                &ms(i.opened_at),
                &i.closed_at.map(ms),
                &i.trigger_tube,
                &opt_js(&i.case)?,
                &i.expansion_round,
                &i.retest_round,
                &i.area.id.get(),
            ],
        )?;
        Ok(())
    }

    fn update_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.ex(
            "UPDATE incidents SET status = $2, closed_at = $3, title = $4 WHERE id = $1",
            &[&i.id, &i.status.as_str(), &i.closed_at.map(ms), &i.title],
        )?;
        Ok(())
    }

    fn incident(&mut self, id: i64) -> StoreResult<Option<IncidentInfo>> {
        self.row(
            &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1"),
            &[&id],
            codec::incident,
        )
    }

    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>> {
        self.rows(
            &format!("SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"),
            &[],
            codec::incident,
        )
    }

    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>> {
        self.rows(
            "SELECT id FROM incidents WHERE parent_id = $1 ORDER BY id",
            &[&parent],
            |r| r.int("id"),
        )
    }

    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>> {
        self.row(
            "SELECT id FROM incidents WHERE area_id = $1 AND status = 'open'
             AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
            &[&area.get()],
            |r| r.int("id"),
        )
    }

    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>> {
        self.row(
            "SELECT id, expansion_round FROM incidents
             WHERE expansion_round = $1 OR retest_round = $1 LIMIT 1",
            &[&round],
            |r| codec::incident_round(round, r),
        )
    }

    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>> {
        self.row(
            "SELECT incident_id, role FROM incident_tubes WHERE tube = $1 LIMIT 1",
            &[&tube],
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
        self.ex(
            "INSERT INTO incident_tubes(incident_id, tube, role, at) VALUES ($1,$2,$3,$4)
             ON CONFLICT DO NOTHING",
            &[&incident, &tube, &tube_role_word(role), &ms(at)],
        )?;
        Ok(())
    }

    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>> {
        self.rows(
            "SELECT tube, role FROM incident_tubes WHERE incident_id = $1 ORDER BY at, tube",
            &[&incident],
            codec::incident_tube,
        )
    }

    fn insert_member(
        &mut self,
        incident: i64,
        m: &MemberView,
        household: AreaId,
    ) -> StoreResult<()> {
        self.ex(
            "INSERT INTO incident_members(incident_id, person_id, person, kind, status, source,
             household_id, address, affiliations, seq)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,
               (SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_members WHERE incident_id = $1))",
            &[
                &incident,
                &m.person.id.0,
                &js(&m.person)?,
                &m.kind.as_str(),
                &m.status.as_str(),
                &m.source,
                &household.get(),
                &m.address,
                &js(&m.affiliations)?,
            ],
        )?;
        Ok(())
    }

    fn set_member_status(
        &mut self,
        incident: i64,
        person: PersonId,
        status: MemberStatus,
    ) -> StoreResult<()> {
        self.ex(
            "UPDATE incident_members SET status = $3 WHERE incident_id = $1 AND person_id = $2",
            &[&incident, &person.0, &status.as_str()],
        )?;
        Ok(())
    }

    fn members(&mut self, incident: i64) -> StoreResult<Vec<(MemberView, AreaId)>> {
        self.rows(
            &format!(
                "SELECT {MEMBER_COLS} FROM incident_members WHERE incident_id = $1 ORDER BY seq"
            ),
            &[&incident],
            codec::member,
        )
    }

    fn insert_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.ex(
            &format!(
                "INSERT INTO control_orders({ORDER_COLS}, area_id, person_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)"
            ),
            &[
                &o.id,
                &o.incident,
                &o.kind.as_str(),
                &opt_js(&o.area)?,
                &opt_js(&o.person)?,
                &ms(o.starts_at),
                &o.ends_at.map(ms),
                &o.ordered_by,
                &o.reason,
                &o.lifted_at.map(ms),
                &o.lifted_by,
                &o.area.as_ref().map(|a| a.id.get()),
                &o.person.as_ref().map(|p| p.id.0),
            ],
        )?;
        Ok(())
    }

    fn update_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.ex(
            "UPDATE control_orders SET ends_at = $2, lifted_at = $3, lifted_by = $4 WHERE id = $1",
            &[
                &o.id,
                &o.ends_at.map(ms),
                &o.lifted_at.map(ms),
                &o.lifted_by,
            ],
        )?;
        Ok(())
    }

    fn orders(&mut self, incident: i64) -> StoreResult<Vec<OrderView>> {
        self.rows(
            &format!("SELECT {ORDER_COLS} FROM control_orders WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
            codec::order,
        )
    }

    fn insert_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.ex(
            &format!(
                "INSERT INTO tasks({TASK_COLS}, area_id, person_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
            ),
            &[
                &t.id,
                &t.incident,
                &t.kind.as_str(),
                &t.title,
                &opt_js(&t.area)?,
                &opt_js(&t.person)?,
                &js(&t.assignee)?,
                &i64::from(t.target),
                &t.status.as_str(),
                &ms(t.created_at),
                &t.done_at.map(ms),
                &t.done_by,
                &t.area.as_ref().map(|a| a.id.get()),
                &t.person.as_ref().map(|p| p.id.0),
            ],
        )?;
        Ok(())
    }

    fn update_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.ex(
            "UPDATE tasks SET status = $2, done_at = $3, done_by = $4 WHERE id = $1",
            &[&t.id, &t.status.as_str(), &t.done_at.map(ms), &t.done_by],
        )?;
        Ok(())
    }

    fn tasks(&mut self, incident: i64) -> StoreResult<Vec<TaskView>> {
        self.rows(
            &format!("SELECT {TASK_COLS} FROM tasks WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
            codec::task,
        )
    }

    fn insert_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.ex(
            &format!(
                "INSERT INTO decisions({DECISION_COLS}, person_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
            ),
            &[
                &d.id,
                &d.incident,
                &d.kind.as_str(),
                &opt_js(&d.person)?,
                &d.status.as_str(),
                &d.reason,
                &ms(d.proposed_at),
                &d.proposed_by,
                &d.decided_at.map(ms),
                &d.decided_by,
                &d.decided_role.map(|r| r.as_str()),
                &d.note,
                &d.override_reason,
                &d.person.as_ref().map(|p| p.id.0),
            ],
        )?;
        Ok(())
    }

    fn update_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.ex(
            "UPDATE decisions SET status = $2, decided_at = $3, decided_by = $4,
             decided_role = $5, note = $6, override_reason = $7 WHERE id = $1",
            &[
                &d.id,
                &d.status.as_str(),
                &d.decided_at.map(ms),
                &d.decided_by,
                &d.decided_role.map(|r| r.as_str()),
                &d.note,
                &d.override_reason,
            ],
        )?;
        Ok(())
    }

    fn decisions(&mut self, incident: i64) -> StoreResult<Vec<DecisionView>> {
        self.rows(
            &format!("SELECT {DECISION_COLS} FROM decisions WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
            codec::decision,
        )
    }

    fn insert_entry(&mut self, e: &EntryView) -> StoreResult<()> {
        self.ex(
            "INSERT INTO timeline(incident_id, at, actor, kind, text) VALUES ($1,$2,$3,$4,$5)",
            &[&e.incident, &ms(e.at), &e.actor, &e.kind.as_str(), &e.text],
        )?;
        Ok(())
    }

    fn timeline(&mut self, incident: i64) -> StoreResult<Vec<EntryView>> {
        self.rows(
            "SELECT at, actor, kind, text FROM timeline WHERE incident_id = $1 ORDER BY at, id",
            &[&incident],
            |r| codec::entry(incident, r),
        )
    }

    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>> {
        let tubes = self.rows(
            &format!("SELECT {TUBE_COLS} FROM tubes WHERE round_id = $1 ORDER BY barcode"),
            &[&round],
            codec::tube,
        )?;
        codec::round_tubes(tubes, |t| {
            Ok((self.current_result(&t.barcode)?, self.site_place(t.site)?))
        })
    }

    fn round_tally(&mut self, round: i64) -> StoreResult<TubeTally> {
        self.row(
            "SELECT count(*) AS tubes, count(r.tube) AS resulted,
                    coalesce(sum(CASE WHEN r.outcome != 'negative' THEN 1 ELSE 0 END), 0)::BIGINT
                      AS non_negative
             FROM tubes t LEFT JOIN results r ON r.tube = t.barcode AND r.current
             WHERE t.round_id = $1",
            &[&round],
            codec::tally,
        )?
        .ok_or_else(|| StoreError::Backend("no tally row".into()))
    }

    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>> {
        self.rows(
            "SELECT tube, person_id, at FROM samples WHERE tube = ANY($1) ORDER BY id",
            &[&tubes],
            codec::sample,
        )
    }

    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>> {
        self.rows(
            "SELECT tube, person_id, at FROM samples WHERE round_id = $1 ORDER BY id",
            &[&round],
            codec::sample,
        )
    }

    fn set_mark(&mut self, m: &PersonMark) -> StoreResult<()> {
        self.ex(
            "INSERT INTO person_marks(round_id, person_id, kind, note, at, marked_by)
             VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT(round_id, person_id) DO UPDATE SET kind = excluded.kind,
             note = excluded.note, at = excluded.at, marked_by = excluded.marked_by",
            &[
                &m.round,
                &m.person.0,
                &m.kind.as_str(),
                &m.note,
                &ms(m.at),
                &m.by,
            ],
        )?;
        Ok(())
    }

    fn marks(&mut self, round: i64) -> StoreResult<Vec<PersonMark>> {
        self.rows(
            "SELECT person_id, kind, note, at, marked_by FROM person_marks
             WHERE round_id = $1 ORDER BY person_id",
            &[&round],
            |r| codec::mark(round, r),
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

    fn insert_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.ex(
            "INSERT INTO pool_blocks(incident_id, tube, design, members, tasks, complete, seq)
             VALUES ($1,$2,$3,$4,$5,$6,
               (SELECT COALESCE(MAX(seq), 0) + 1 FROM pool_blocks WHERE incident_id = $1))",
            &[
                &b.incident,
                &b.tube,
                &js(&b.block.design)?,
                &js(&b.block.members)?,
                &js(&b.tasks)?,
                &b.complete,
            ],
        )?;
        Ok(())
    }

    fn update_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.ex(
            "UPDATE pool_blocks SET tasks = $3, complete = $4 WHERE incident_id = $1 AND tube = $2",
            &[&b.incident, &b.tube, &js(&b.tasks)?, &b.complete],
        )?;
        Ok(())
    }

    fn pool_blocks(&mut self, incident: i64) -> StoreResult<Vec<PoolBlock>> {
        self.rows(
            "SELECT tube, design, members, tasks, complete FROM pool_blocks
             WHERE incident_id = $1 ORDER BY seq",
            &[&incident],
            |r| codec::pool_block(incident, r),
        )
    }
}
