//! [`IncidentTx`] over a PostgreSQL transaction.

use crate::db_err;
use crate::pipeline_tx::{PgTx, TUBE_COLS, tube_row};
use chrono::{DateTime, Utc};
use gridsweep_domain::{AffiliationKind, AreaId, AreaLevel, AreaPath, PersonId};
use gridsweep_response::coverage::RosterEntry;
use gridsweep_response::decide::TubeTally;
use gridsweep_response::report::{
    DecisionView, EntryView, IncidentInfo, MemberView, OrderView, SampleFact, TaskView, TubeRole,
};
use gridsweep_response::*;
use gridsweep_storage::incidents::{
    IncidentTx, PersonFact, PersonMark, PoolBlock, RoundTube, mask_doc,
};
use gridsweep_storage::pipeline::{NewRound, PipelineTx};
use gridsweep_storage::stamp::{from_ms, ms, opt_ms};
use gridsweep_storage::{StoreError, StoreResult};
use postgres::Row;
use postgres::types::ToSql;
use serde::Serialize;
use serde::de::DeserializeOwned;

type P<'a> = &'a (dyn ToSql + Sync);

fn js<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn unjs<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("json: {e}")))
}

fn opt_js<T: Serialize>(v: &Option<T>) -> StoreResult<Option<String>> {
    v.as_ref().map(js).transpose()
}

fn opt_unjs<T: DeserializeOwned>(s: Option<String>) -> StoreResult<Option<T>> {
    s.as_deref().map(unjs).transpose()
}

fn word<T>(parse: fn(&str) -> Option<T>, what: &str, s: &str) -> StoreResult<T> {
    parse(s).ok_or_else(|| StoreError::Corrupt(format!("{what}: {s}")))
}

fn area_id(v: i64) -> StoreResult<AreaId> {
    AreaId::new(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn area_path(s: &str) -> StoreResult<AreaPath> {
    AreaPath::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn level(s: &str) -> StoreResult<AreaLevel> {
    AreaLevel::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn role_word(r: TubeRole) -> &'static str {
    match r {
        TubeRole::Trigger => "trigger",
        TubeRole::Expansion => "expansion",
        TubeRole::Retest => "retest",
    }
}

fn role_of(s: &str) -> StoreResult<TubeRole> {
    match s {
        "trigger" => Ok(TubeRole::Trigger),
        "expansion" => Ok(TubeRole::Expansion),
        "retest" => Ok(TubeRole::Retest),
        other => Err(StoreError::Corrupt(format!("tube role {other}"))),
    }
}

const PERSON_FACT_COLS: &str = "id, name, doc_kind, doc_number, household_id, area_path";
const INCIDENT_COLS: &str = "id, parent_id, title, area, status, opened_at, closed_at, \
     trigger_tube, case_person, expansion_round, retest_round";
const ORDER_COLS: &str = "id, incident_id, kind, area, person, starts_at, ends_at, ordered_by, \
     reason, lifted_at, lifted_by";
const TASK_COLS: &str = "id, incident_id, kind, title, area, person, assignee, target, status, \
     created_at, done_at, done_by";
const DECISION_COLS: &str = "id, incident_id, kind, person, status, reason, proposed_at, \
     proposed_by, decided_at, decided_by, decided_role, note, override_reason";

fn incident_of(r: &Row) -> StoreResult<IncidentInfo> {
    let area: String = r.get(3);
    let status: String = r.get(4);
    Ok(IncidentInfo {
        id: r.get(0),
        parent: r.get(1),
        title: r.get(2),
        area: unjs(&area)?,
        status: word(IncidentStatus::parse, "incident status", &status)?,
        opened_at: from_ms(r.get(5))?,
        closed_at: opt_ms(r.get(6))?,
        trigger_tube: r.get(7),
        case: opt_unjs(r.get(8))?,
        expansion_round: r.get(9),
        retest_round: r.get(10),
    })
}

fn sample_of(r: &Row) -> StoreResult<SampleFact> {
    Ok(SampleFact {
        tube: r.get(0),
        person: r.get::<_, Option<i64>>(1).map(PersonId),
        at: from_ms(r.get(2))?,
    })
}

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

    fn facts(&mut self, sql: &str, p: &[P<'_>]) -> StoreResult<Vec<PersonFact>> {
        let rows = self.q(sql, p)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.get(0);
            let kind: String = r.get(2);
            let number: String = r.get(3);
            let path: String = r.get(5);
            let affiliations = self
                .q(
                    "SELECT area_id, kind FROM affiliations WHERE person_id = $1 ORDER BY area_id",
                    &[&id],
                )?
                .iter()
                .map(|a| {
                    let k: String = a.get(1);
                    Ok((
                        area_id(a.get(0))?,
                        word(AffiliationKind::parse, "affiliation", &k)?,
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            out.push(PersonFact {
                brief: PersonBrief {
                    id: PersonId(id),
                    name: r.get(1),
                    document_masked: mask_doc(&kind, &number),
                },
                household: area_id(r.get(4))?,
                household_path: area_path(&path)?,
                affiliations,
            });
        }
        Ok(out)
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
            .map(|r| tube_row(&r))
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
        Ok(self
            .q(
                "SELECT person_id FROM samples WHERE tube = $1 AND person_id IS NOT NULL ORDER BY id",
                &[&tube],
            )?
            .iter()
            .map(|r| PersonId(r.get(0)))
            .collect())
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
        let rows = self.q(
            "SELECT id, level, name, path FROM areas WHERE id = ANY($1)",
            &[&raw],
        )?;
        rows.iter()
            .map(|r| {
                let l: String = r.get(1);
                let p: String = r.get(3);
                Ok((
                    AreaBrief {
                        id: area_id(r.get(0))?,
                        level: level(&l)?,
                        name: r.get(2),
                    },
                    area_path(&p)?,
                ))
            })
            .collect()
    }

    fn areas_under(&mut self, path: &AreaPath, lv: AreaLevel) -> StoreResult<Vec<AreaBrief>> {
        let hi = path.range_end();
        let rows = self.q(
            "SELECT id, name FROM areas WHERE path >= $1 AND path < $2 AND level = $3 ORDER BY id",
            &[&path.as_str(), &hi, &lv.as_str()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AreaBrief {
                    id: area_id(r.get(0))?,
                    level: lv,
                    name: r.get(1),
                })
            })
            .collect()
    }

    fn grid_areas_under(&mut self, path: &AreaPath) -> StoreResult<Vec<AreaBrief>> {
        let hi = path.range_end();
        let rows = self.q(
            "SELECT id, level, name FROM areas
             WHERE path >= $1 AND path < $2 AND level != 'household' ORDER BY id",
            &[&path.as_str(), &hi],
        )?;
        rows.iter()
            .map(|r| {
                let l: String = r.get(1);
                Ok(AreaBrief {
                    id: area_id(r.get(0))?,
                    level: level(&l)?,
                    name: r.get(2),
                })
            })
            .collect()
    }

    fn site_place(&mut self, site: i64) -> StoreResult<Option<(String, AreaPath)>> {
        self.q1("SELECT name, area_path FROM sites WHERE id = $1", &[&site])?
            .map(|r| {
                let p: String = r.get(1);
                Ok((r.get(0), area_path(&p)?))
            })
            .transpose()
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
        self.q1(
            &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1"),
            &[&id],
        )?
        .map(|r| incident_of(&r))
        .transpose()
    }

    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>> {
        self.q(
            &format!("SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"),
            &[],
        )?
        .iter()
        .map(incident_of)
        .collect()
    }

    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>> {
        Ok(self
            .q(
                "SELECT id FROM incidents WHERE parent_id = $1 ORDER BY id",
                &[&parent],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>> {
        Ok(self
            .q1(
                "SELECT id FROM incidents WHERE area_id = $1 AND status = 'open'
                 AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
                &[&area.get()],
            )?
            .map(|r| r.get(0)))
    }

    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>> {
        Ok(self
            .q1(
                "SELECT id, expansion_round FROM incidents
                 WHERE expansion_round = $1 OR retest_round = $1 LIMIT 1",
                &[&round],
            )?
            .map(|r| {
                let exp: Option<i64> = r.get(1);
                let role = if exp == Some(round) {
                    RoundRole::Expansion
                } else {
                    RoundRole::Retest
                };
                (r.get(0), role)
            }))
    }

    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>> {
        self.q1(
            "SELECT incident_id, role FROM incident_tubes WHERE tube = $1 LIMIT 1",
            &[&tube],
        )?
        .map(|r| {
            let role: String = r.get(1);
            Ok((r.get(0), role_of(&role)?))
        })
        .transpose()
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
            &[&incident, &tube, &role_word(role), &ms(at)],
        )?;
        Ok(())
    }

    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>> {
        self.q(
            "SELECT tube, role FROM incident_tubes WHERE incident_id = $1 ORDER BY at, tube",
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let role: String = r.get(1);
            Ok((r.get(0), role_of(&role)?))
        })
        .collect()
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
        self.q(
            "SELECT person, kind, status, source, address, affiliations, household_id
             FROM incident_members WHERE incident_id = $1 ORDER BY seq",
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let p: String = r.get(0);
            let k: String = r.get(1);
            let s: String = r.get(2);
            let aff: String = r.get(5);
            Ok((
                MemberView {
                    person: unjs(&p)?,
                    kind: word(MemberKind::parse, "member kind", &k)?,
                    status: word(MemberStatus::parse, "member status", &s)?,
                    source: r.get(3),
                    address: r.get(4),
                    affiliations: unjs(&aff)?,
                },
                area_id(r.get(6))?,
            ))
        })
        .collect()
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
        self.q(
            &format!("SELECT {ORDER_COLS} FROM control_orders WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let k: String = r.get(2);
            Ok(OrderView {
                id: r.get(0),
                incident: r.get(1),
                kind: word(OrderKind::parse, "order kind", &k)?,
                area: opt_unjs(r.get(3))?,
                person: opt_unjs(r.get(4))?,
                starts_at: from_ms(r.get(5))?,
                ends_at: opt_ms(r.get(6))?,
                ordered_by: r.get(7),
                reason: r.get(8),
                lifted_at: opt_ms(r.get(9))?,
                lifted_by: r.get(10),
            })
        })
        .collect()
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
        self.q(
            &format!("SELECT {TASK_COLS} FROM tasks WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let k: String = r.get(2);
            let a: String = r.get(6);
            let s: String = r.get(8);
            Ok(TaskView {
                id: r.get(0),
                incident: r.get(1),
                kind: word(TaskKind::parse, "task kind", &k)?,
                title: r.get(3),
                area: opt_unjs(r.get(4))?,
                person: opt_unjs(r.get(5))?,
                assignee: unjs(&a)?,
                target: u32::try_from(r.get::<_, i64>(7)).unwrap_or(0),
                status: word(TaskStatus::parse, "task status", &s)?,
                created_at: from_ms(r.get(9))?,
                done_at: opt_ms(r.get(10))?,
                done_by: r.get(11),
            })
        })
        .collect()
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
        self.q(
            &format!("SELECT {DECISION_COLS} FROM decisions WHERE incident_id = $1 ORDER BY id"),
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let k: String = r.get(2);
            let s: String = r.get(4);
            let role: Option<String> = r.get(10);
            Ok(DecisionView {
                id: r.get(0),
                incident: r.get(1),
                kind: word(DecisionKind::parse, "decision kind", &k)?,
                person: opt_unjs(r.get(3))?,
                status: word(DecisionStatus::parse, "decision status", &s)?,
                reason: r.get(5),
                proposed_at: from_ms(r.get(6))?,
                proposed_by: r.get(7),
                decided_at: opt_ms(r.get(8))?,
                decided_by: r.get(9),
                decided_role: role
                    .as_deref()
                    .map(|s| word(Responder::parse, "role", s))
                    .transpose()?,
                note: r.get(11),
                override_reason: r.get(12),
            })
        })
        .collect()
    }

    fn insert_entry(&mut self, e: &EntryView) -> StoreResult<()> {
        self.ex(
            "INSERT INTO timeline(incident_id, at, actor, kind, text) VALUES ($1,$2,$3,$4,$5)",
            &[&e.incident, &ms(e.at), &e.actor, &e.kind.as_str(), &e.text],
        )?;
        Ok(())
    }

    fn timeline(&mut self, incident: i64) -> StoreResult<Vec<EntryView>> {
        self.q(
            "SELECT at, actor, kind, text FROM timeline WHERE incident_id = $1 ORDER BY at, id",
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let k: String = r.get(2);
            Ok(EntryView {
                incident,
                at: from_ms(r.get(0))?,
                actor: r.get(1),
                kind: word(TimelineKind::parse, "timeline kind", &k)?,
                text: r.get(3),
            })
        })
        .collect()
    }

    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>> {
        let tubes = self
            .q(
                &format!("SELECT {TUBE_COLS} FROM tubes WHERE round_id = $1 ORDER BY barcode"),
                &[&round],
            )?
            .iter()
            .map(tube_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut out = Vec::with_capacity(tubes.len());
        for tube in tubes {
            let result = self.current_result(&tube.barcode)?;
            let (site_name, site_path) = self
                .site_place(tube.site)?
                .ok_or_else(|| StoreError::Corrupt(format!("site {}", tube.site)))?;
            out.push(RoundTube {
                tube,
                result,
                site_name,
                site_path,
            });
        }
        Ok(out)
    }

    fn round_tally(&mut self, round: i64) -> StoreResult<TubeTally> {
        let r = self
            .q1(
                "SELECT count(*), count(r.tube),
                        coalesce(sum(CASE WHEN r.outcome != 'negative' THEN 1 ELSE 0 END), 0)::BIGINT
                 FROM tubes t LEFT JOIN results r ON r.tube = t.barcode AND r.current
                 WHERE t.round_id = $1",
                &[&round],
            )?
            .ok_or_else(|| StoreError::Backend("no tally row".into()))?;
        let n = |i: usize| u32::try_from(r.get::<_, i64>(i)).unwrap_or(u32::MAX);
        Ok(TubeTally {
            tubes: n(0),
            resulted: n(1),
            non_negative: n(2),
        })
    }

    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>> {
        self.q(
            "SELECT tube, person_id, at FROM samples WHERE tube = ANY($1) ORDER BY id",
            &[&tubes],
        )?
        .iter()
        .map(sample_of)
        .collect()
    }

    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>> {
        self.q(
            "SELECT tube, person_id, at FROM samples WHERE round_id = $1 ORDER BY id",
            &[&round],
        )?
        .iter()
        .map(sample_of)
        .collect()
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
        self.q(
            "SELECT person_id, kind, note, at, marked_by FROM person_marks
             WHERE round_id = $1 ORDER BY person_id",
            &[&round],
        )?
        .iter()
        .map(|r| {
            let k: String = r.get(1);
            Ok(PersonMark {
                round,
                person: PersonId(r.get(0)),
                kind: word(MarkKind::parse, "mark", &k)?,
                note: r.get(2),
                at: from_ms(r.get(3))?,
                by: r.get(4),
            })
        })
        .collect()
    }

    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>> {
        let hi = path.range_end();
        self.q(
            "SELECT p.id, p.name, p.doc_kind, p.doc_number, p.area_path, h.name,
                    EXISTS(SELECT 1 FROM samples s WHERE s.round_id = $3 AND s.person_id = p.id),
                    m.kind
             FROM persons p JOIN areas h ON h.id = p.household_id
             LEFT JOIN person_marks m ON m.round_id = $3 AND m.person_id = p.id
             WHERE p.area_path >= $1 AND p.area_path < $2 ORDER BY p.area_path, p.id",
            &[&path.as_str(), &hi, &round],
        )?
        .iter()
        .map(|r| {
            let kind: String = r.get(2);
            let number: String = r.get(3);
            let hpath: String = r.get(4);
            let mark: Option<String> = r.get(7);
            Ok(RosterEntry {
                person: PersonBrief {
                    id: PersonId(r.get(0)),
                    name: r.get(1),
                    document_masked: mask_doc(&kind, &number),
                },
                household_path: area_path(&hpath)?,
                household_name: r.get(5),
                sampled: r.get(6),
                mark: mark
                    .as_deref()
                    .map(|m| word(MarkKind::parse, "mark", m))
                    .transpose()?,
            })
        })
        .collect()
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
        self.q(
            "SELECT tube, design, members, tasks, complete FROM pool_blocks
             WHERE incident_id = $1 ORDER BY seq",
            &[&incident],
        )?
        .iter()
        .map(|r| {
            let design: String = r.get(1);
            let members: String = r.get(2);
            let tasks: String = r.get(3);
            Ok(PoolBlock {
                incident,
                tube: r.get(0),
                block: gridsweep_response::stage2::Block {
                    design: unjs(&design)?,
                    members: unjs(&members)?,
                },
                tasks: unjs(&tasks)?,
                complete: r.get(4),
            })
        })
        .collect()
    }
}
