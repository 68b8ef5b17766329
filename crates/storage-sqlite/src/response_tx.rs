//! [`IncidentTx`] over an SQLite connection (inside a write transaction,
//! or on a reader connection for the read-only calls).

use crate::db_err;
use crate::pipeline_tx::{SqliteTx, TUBE_COLS, tube_row};
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
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

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

const PERSON_FACT_COLS: &str = "id, name, doc_kind, doc_number, household_id, area_path";

fn person_fact_raw(r: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, i64, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

const INCIDENT_COLS: &str = "id, parent_id, title, area, status, opened_at, closed_at, \
     trigger_tube, case_person, expansion_round, retest_round";

type IncidentRaw = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn incident_raw(r: &Row<'_>) -> rusqlite::Result<IncidentRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn incident_of(r: IncidentRaw) -> StoreResult<IncidentInfo> {
    Ok(IncidentInfo {
        id: r.0,
        parent: r.1,
        title: r.2,
        area: unjs(&r.3)?,
        status: word(IncidentStatus::parse, "incident status", &r.4)?,
        opened_at: from_ms(r.5)?,
        closed_at: opt_ms(r.6)?,
        trigger_tube: r.7,
        case: opt_unjs(r.8)?,
        expansion_round: r.9,
        retest_round: r.10,
    })
}

const ORDER_COLS: &str = "id, incident_id, kind, area, person, starts_at, ends_at, ordered_by, \
     reason, lifted_at, lifted_by";
const TASK_COLS: &str = "id, incident_id, kind, title, area, person, assignee, target, status, \
     created_at, done_at, done_by";
const DECISION_COLS: &str = "id, incident_id, kind, person, status, reason, proposed_at, \
     proposed_by, decided_at, decided_by, decided_role, note, override_reason";

impl SqliteTx<'_> {
    fn facts(
        &mut self,
        sql: &str,
        p: impl rusqlite::Params + Copy,
    ) -> StoreResult<Vec<PersonFact>> {
        let raw: Vec<_> = self
            .conn()
            .prepare_cached(sql)
            .map_err(db_err)?
            .query_map(p, person_fact_raw)
            .map_err(db_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db_err)?;
        let mut aff = self
            .conn()
            .prepare_cached(
                "SELECT area_id, kind FROM affiliations WHERE person_id = ?1 ORDER BY area_id",
            )
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(raw.len());
        for (id, name, kind, number, household, path) in raw {
            let affiliations = aff
                .query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?
                .into_iter()
                .map(|(a, k)| {
                    Ok((
                        area_id(a)?,
                        word(AffiliationKind::parse, "affiliation", &k)?,
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            out.push(PersonFact {
                brief: PersonBrief {
                    id: PersonId(id),
                    document_masked: mask_doc(&kind, &number),
                    name,
                },
                household: area_id(household)?,
                household_path: area_path(&path)?,
                affiliations,
            });
        }
        Ok(out)
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
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT person_id FROM samples WHERE tube = ?1 AND person_id IS NOT NULL ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([tube], |r| r.get::<_, i64>(0))
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        Ok(rows.into_iter().map(PersonId).collect())
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
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, level, name, path FROM areas WHERE id = ?1")
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = stmt
                .query_row([id.get()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()
                .map_err(db_err)?;
            if let Some((id, level, name, path)) = row {
                out.push((
                    AreaBrief {
                        id: area_id(id)?,
                        level: AreaLevel::parse(&level)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        name,
                    },
                    area_path(&path)?,
                ));
            }
        }
        Ok(out)
    }

    fn areas_under(&mut self, path: &AreaPath, level: AreaLevel) -> StoreResult<Vec<AreaBrief>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, name FROM areas WHERE path >= ?1 AND path < ?2 AND level = ?3 ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(
                params![path.as_str(), path.range_end(), level.as_str()],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, name)| {
                Ok(AreaBrief {
                    id: area_id(id)?,
                    level,
                    name,
                })
            })
            .collect()
    }

    fn grid_areas_under(&mut self, path: &AreaPath) -> StoreResult<Vec<AreaBrief>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, level, name FROM areas
                 WHERE path >= ?1 AND path < ?2 AND level != 'household' ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![path.as_str(), path.range_end()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, level, name)| {
                Ok(AreaBrief {
                    id: area_id(id)?,
                    level: AreaLevel::parse(&level)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    name,
                })
            })
            .collect()
    }

    fn site_place(&mut self, site: i64) -> StoreResult<Option<(String, AreaPath)>> {
        let row = self
            .conn()
            .prepare_cached("SELECT name, area_path FROM sites WHERE id = ?1")
            .map_err(db_err)?
            .query_row([site], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
            .map_err(db_err)?;
        row.map(|(n, p)| Ok((n, area_path(&p)?))).transpose()
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
        self.conn()
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"
            ))
            .map_err(db_err)?
            .query_row([id], incident_raw)
            .optional()
            .map_err(db_err)?
            .map(incident_of)
            .transpose()
    }

    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>> {
        let raw = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"
            ))
            .map_err(db_err)?
            .query_map([], incident_raw)
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        raw.into_iter().map(incident_of).collect()
    }

    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>> {
        self.conn()
            .prepare_cached("SELECT id FROM incidents WHERE parent_id = ?1 ORDER BY id")
            .map_err(db_err)?
            .query_map([parent], |r| r.get(0))
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)
    }

    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>> {
        self.conn()
            .prepare_cached(
                "SELECT id FROM incidents WHERE area_id = ?1 AND status = 'open'
                 AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
            )
            .map_err(db_err)?
            .query_row([area.get()], |r| r.get(0))
            .optional()
            .map_err(db_err)
    }

    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>> {
        let row: Option<(i64, Option<i64>)> = self
            .conn()
            .prepare_cached(
                "SELECT id, expansion_round FROM incidents
                 WHERE expansion_round = ?1 OR retest_round = ?1 LIMIT 1",
            )
            .map_err(db_err)?
            .query_row([round], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        Ok(row.map(|(id, exp)| {
            let role = if exp == Some(round) {
                RoundRole::Expansion
            } else {
                RoundRole::Retest
            };
            (id, role)
        }))
    }

    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>> {
        let row: Option<(i64, String)> = self
            .conn()
            .prepare_cached("SELECT incident_id, role FROM incident_tubes WHERE tube = ?1 LIMIT 1")
            .map_err(db_err)?
            .query_row([tube], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        row.map(|(i, role)| Ok((i, unjs(&format!("\"{role}\""))?)))
            .transpose()
    }

    fn insert_incident_tube(
        &mut self,
        incident: i64,
        tube: &str,
        role: TubeRole,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let role = js(&role)?;
        self.conn()
            .prepare_cached(
                "INSERT INTO incident_tubes(incident_id, tube, role, at) VALUES (?1,?2,?3,?4)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(db_err)?
            .execute(params![incident, tube, role.trim_matches('"'), ms(at)])
            .map_err(db_err)?;
        Ok(())
    }

    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>> {
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT tube, role FROM incident_tubes WHERE incident_id = ?1 ORDER BY at, tube",
            )
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(t, role)| Ok((t, unjs(&format!("\"{role}\""))?)))
            .collect()
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
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT person, kind, status, source, address, affiliations, household_id
                 FROM incident_members WHERE incident_id = ?1 ORDER BY seq",
            )
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(p, k, s, source, address, aff, h)| {
                Ok((
                    MemberView {
                        person: unjs(&p)?,
                        kind: word(MemberKind::parse, "member kind", &k)?,
                        status: word(MemberStatus::parse, "member status", &s)?,
                        source,
                        address,
                        affiliations: unjs(&aff)?,
                    },
                    area_id(h)?,
                ))
            })
            .collect()
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
        type Raw = (
            i64,
            i64,
            String,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
            String,
            String,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Raw> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {ORDER_COLS} FROM control_orders WHERE incident_id = ?1 ORDER BY id"
            ))
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(OrderView {
                    id: r.0,
                    incident: r.1,
                    kind: word(OrderKind::parse, "order kind", &r.2)?,
                    area: opt_unjs(r.3)?,
                    person: opt_unjs(r.4)?,
                    starts_at: from_ms(r.5)?,
                    ends_at: opt_ms(r.6)?,
                    ordered_by: r.7,
                    reason: r.8,
                    lifted_at: opt_ms(r.9)?,
                    lifted_by: r.10,
                })
            })
            .collect()
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
        type Raw = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            i64,
            String,
            i64,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Raw> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM tasks WHERE incident_id = ?1 ORDER BY id"
            ))
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(TaskView {
                    id: r.0,
                    incident: r.1,
                    kind: word(TaskKind::parse, "task kind", &r.2)?,
                    title: r.3,
                    area: opt_unjs(r.4)?,
                    person: opt_unjs(r.5)?,
                    assignee: unjs(&r.6)?,
                    target: u32::try_from(r.7).unwrap_or(0),
                    status: word(TaskStatus::parse, "task status", &r.8)?,
                    created_at: from_ms(r.9)?,
                    done_at: opt_ms(r.10)?,
                    done_by: r.11,
                })
            })
            .collect()
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
        type Raw = (
            i64,
            i64,
            String,
            Option<String>,
            String,
            String,
            i64,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Raw> = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {DECISION_COLS} FROM decisions WHERE incident_id = ?1 ORDER BY id"
            ))
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(DecisionView {
                    id: r.0,
                    incident: r.1,
                    kind: word(DecisionKind::parse, "decision kind", &r.2)?,
                    person: opt_unjs(r.3)?,
                    status: word(DecisionStatus::parse, "decision status", &r.4)?,
                    reason: r.5,
                    proposed_at: from_ms(r.6)?,
                    proposed_by: r.7,
                    decided_at: opt_ms(r.8)?,
                    decided_by: r.9,
                    decided_role: r
                        .10
                        .as_deref()
                        .map(|s| word(Responder::parse, "role", s))
                        .transpose()?,
                    note: r.11,
                    override_reason: r.12,
                })
            })
            .collect()
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
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT at, actor, kind, text FROM timeline WHERE incident_id = ?1 ORDER BY at, id",
            )
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(at, actor, kind, text)| {
                Ok(EntryView {
                    incident,
                    at: from_ms(at)?,
                    actor,
                    kind: word(TimelineKind::parse, "timeline kind", &kind)?,
                    text,
                })
            })
            .collect()
    }

    fn round_tubes(&mut self, round: i64) -> StoreResult<Vec<RoundTube>> {
        let tubes = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {TUBE_COLS} FROM tubes WHERE round_id = ?1 ORDER BY barcode"
            ))
            .map_err(db_err)?
            .query_map([round], tube_row)
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(tubes.len());
        for t in tubes {
            let tube = t?;
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
        self.conn()
            .prepare_cached(
                "SELECT count(*), count(r.tube),
                        coalesce(sum(CASE WHEN r.outcome != 'negative' THEN 1 ELSE 0 END), 0)
                 FROM tubes t LEFT JOIN results r ON r.tube = t.barcode AND r.current = 1
                 WHERE t.round_id = ?1",
            )
            .map_err(db_err)?
            .query_row([round], |r| {
                Ok(TubeTally {
                    tubes: r.get(0)?,
                    resulted: r.get(1)?,
                    non_negative: r.get(2)?,
                })
            })
            .map_err(db_err)
    }

    fn tube_samples(&mut self, tubes: &[String]) -> StoreResult<Vec<SampleFact>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT tube, person_id, at FROM samples WHERE tube = ?1 ORDER BY id")
            .map_err(db_err)?;
        let mut out = Vec::new();
        for t in tubes {
            let rows = stmt
                .query_map([t], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            for (tube, person, at) in rows {
                out.push(SampleFact {
                    tube,
                    person: person.map(PersonId),
                    at: from_ms(at)?,
                });
            }
        }
        Ok(out)
    }

    fn round_samples(&mut self, round: i64) -> StoreResult<Vec<SampleFact>> {
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT tube, person_id, at FROM samples WHERE round_id = ?1 ORDER BY id",
            )
            .map_err(db_err)?
            .query_map([round], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(tube, person, at)| {
                Ok(SampleFact {
                    tube,
                    person: person.map(PersonId),
                    at: from_ms(at)?,
                })
            })
            .collect()
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
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT person_id, kind, note, at, marked_by FROM person_marks
                 WHERE round_id = ?1 ORDER BY person_id",
            )
            .map_err(db_err)?
            .query_map([round], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(p, k, note, at, by)| {
                Ok(PersonMark {
                    round,
                    person: PersonId(p),
                    kind: word(MarkKind::parse, "mark", &k)?,
                    note,
                    at: from_ms(at)?,
                    by,
                })
            })
            .collect()
    }

    fn roster_coverage(&mut self, path: &AreaPath, round: i64) -> StoreResult<Vec<RosterEntry>> {
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT p.id, p.name, p.doc_kind, p.doc_number, p.area_path, h.name,
                        EXISTS(SELECT 1 FROM samples s WHERE s.round_id = ?3 AND s.person_id = p.id),
                        m.kind
                 FROM persons p JOIN areas h ON h.id = p.household_id
                 LEFT JOIN person_marks m ON m.round_id = ?3 AND m.person_id = p.id
                 WHERE p.area_path >= ?1 AND p.area_path < ?2 ORDER BY p.area_path, p.id",
            )
            .map_err(db_err)?
            .query_map(params![path.as_str(), path.range_end(), round], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, name, kind, number, hpath, hname, sampled, mark)| {
                Ok(RosterEntry {
                    person: PersonBrief {
                        id: PersonId(id),
                        name,
                        document_masked: mask_doc(&kind, &number),
                    },
                    household_path: area_path(&hpath)?,
                    household_name: hname,
                    sampled,
                    mark: mark
                        .as_deref()
                        .map(|m| word(MarkKind::parse, "mark", m))
                        .transpose()?,
                })
            })
            .collect()
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
        let rows = self
            .conn()
            .prepare_cached(
                "SELECT tube, design, members, tasks, complete FROM pool_blocks
                 WHERE incident_id = ?1 ORDER BY seq",
            )
            .map_err(db_err)?
            .query_map([incident], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(tube, design, members, tasks, complete)| {
                Ok(PoolBlock {
                    incident,
                    tube,
                    block: gridsweep_response::stage2::Block {
                        design: unjs(&design)?,
                        members: unjs(&members)?,
                    },
                    tasks: unjs(&tasks)?,
                    complete,
                })
            })
            .collect()
    }
}
